// SPDX-License-Identifier: MIT
/*
 * Warnings for secret files that others may read or replace. Group or other read or write
 * permission leaks the secret (or lets someone swap it); an owner that is neither root nor
 * the user we run as can change the mode back at any time. Execute bits alone are harmless
 * and ignored. Called once per file at start-up by whichever thread reads it; no state.
 */
#include "secfile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static const char *const TAG = "fastgate.secfile";

unsigned fg_secfile_check(int fd, const char *path, const char *what)
{
	const mode_t leaky = S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH;
	unsigned problems = FG_SECFILE_OK;
	uid_t me = geteuid();
	struct stat st;

	if (fstat(fd, &st) < 0) {
		fg_warn(TAG, "cannot check who may read the %s %s: %s", what, path, strerror(errno));
		return FG_SECFILE_UNKNOWN;
	}
	if (st.st_mode & leaky) {
		fg_warn(TAG, "the %s %s is accessible by group or others (mode %04o): chmod 600 it",
			what, path, (unsigned)(st.st_mode & 07777));
		problems |= FG_SECFILE_GROUP_OTHERS;
	}
	if (st.st_uid != 0 && st.st_uid != me) {
		fg_warn(TAG, "the %s %s is owned by uid %u, neither root nor this process's uid %u: "
			"chown it", what, path, (unsigned)st.st_uid, (unsigned)me);
		problems |= FG_SECFILE_FOREIGN_OWNER;
	}
	return problems;
}
