/* SPDX-License-Identifier: MIT */
/*
 * Replacing a small text file (the stats dump) so that readers see the old or the new
 * contents, never a mix, and so that nobody who can write to its directory can redirect
 * the write: the temporary file is created by mkstemp() beside the target (O_EXCL: never
 * through a planted symlink or into someone else's file) and renamed over it. Also the
 * creation of the default run directory. No DPDK, no state: called on the main lcore at
 * start-up and by the service lcore (SIGUSR1, exit).
 */
#ifndef FG_STATSFILE_H
#define FG_STATSFILE_H

#include <stdio.h>

enum {
	FG_STATSFILE_MODE = 0644,   /* the file: world-readable counters, no secrets */
	FG_STATSFILE_DIR_MODE = 0755,
};

/* Writes the contents to f; returns 0 or -errno (the file is then not replaced). */
typedef int (*fg_statsfile_writer)(FILE *f, void *ctx);

/*
 * Writes path.XXXXXX (mode FG_STATSFILE_MODE, whatever the umask) with writer(f, ctx) and
 * renames it to path, which is replaced even when it is a symlink (the link, not its
 * target). No fsync: the file is rewritten on demand and need not survive a crash.
 * Returns 0 or -errno; on error path is untouched and the temporary file removed.
 */
int fg_statsfile_replace(const char *path, fg_statsfile_writer writer, void *ctx);

/*
 * Creates dir (mode FG_STATSFILE_DIR_MODE) unless it exists. An existing one must be a
 * real directory (not a symlink) owned by our effective uid; its mode is then set to
 * FG_STATSFILE_DIR_MODE. Returns 0, -ENOTDIR (not a directory), -EPERM (another owner)
 * or the -errno of mkdir / lstat / chmod.
 */
int fg_statsfile_make_dir(const char *dir);

#endif
