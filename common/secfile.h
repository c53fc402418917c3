/* SPDX-License-Identifier: MIT */
/*
 * The owner and mode check for files that hold a secret (the control plane's token file,
 * a data plane configuration with a PrivateKey or PresharedKey), as wg(8) warns "`%s' is
 * world accessible". It looks at the descriptor the secret is read from (fstat, never the
 * path again) and only warns: the file is already being read, and refusing would break
 * set-ups that work. No state; any thread, at start-up.
 */
#ifndef FG_SECFILE_H
#define FG_SECFILE_H

enum fg_secfile_problem {
	FG_SECFILE_OK = 0,
	FG_SECFILE_GROUP_OTHERS = 1 << 0,  /* readable or writable by its group or others */
	FG_SECFILE_FOREIGN_OWNER = 1 << 1, /* owned by a user other than root and ours */
	FG_SECFILE_UNKNOWN = 1 << 2,       /* fstat failed: nothing could be checked */
};

/*
 * Checks the file open on fd, known to the operator as path, which holds a secret that
 * what names ("token file"). Logs one warning (target fastgate.secfile) per problem, with
 * the path and what to do; never the contents. Returns the problems found as a mask of
 * enum fg_secfile_problem, FG_SECFILE_OK when the file is private to root or to us.
 */
unsigned fg_secfile_check(int fd, const char *path, const char *what);

#endif
