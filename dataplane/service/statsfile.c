// SPDX-License-Identifier: MIT
/*
 * The stats file's atomic replacement and its directory (see statsfile.h). Stateless; the
 * caller's thread owns everything it touches. The old code wrote through "<path>.tmp",
 * a fixed name that a local user able to write the directory could plant as a symlink
 * to any file root can write.
 */
#include "statsfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	/* The whole file in one buffer (about 2 KiB per lcore), so that it is written by
	 * fclose, whose errno says why a write failed (ENOSPC, EROFS); a flush in the middle
	 * (stdio's own buffer is st_blksize, 4 KiB on tmpfs) would leave only ferror(),
	 * reported as EIO. */
	WRITE_BUF = 64 * 1024,
};

int fg_statsfile_replace(const char *path, fg_statsfile_writer writer, void *ctx)
{
	char tmp[PATH_MAX];
	char *buf;
	FILE *f;
	int fd, n, e;

	n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, FG_STATSFILE_MODE) < 0) {
		e = -errno;
		close(fd);
		goto err_unlink;
	}
	f = fdopen(fd, "w");
	if (!f) {
		e = -errno;
		close(fd);
		goto err_unlink;
	}
	/* glibc ignores the size of a buffer it is to allocate itself: pass one. */
	buf = malloc(WRITE_BUF);
	if (buf)
		setvbuf(f, buf, _IOFBF, WRITE_BUF);
	e = writer(f, ctx);
	if (e == 0 && ferror(f))
		e = -EIO;
	if (fclose(f) != 0 && e == 0)
		e = -errno;
	free(buf);
	if (e < 0)
		goto err_unlink;
	if (rename(tmp, path) < 0) {
		e = -errno;
		goto err_unlink;
	}
	return 0;

err_unlink:
	unlink(tmp);
	return e;
}

int fg_statsfile_make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, FG_STATSFILE_DIR_MODE) < 0 && errno != EEXIST)
		return -errno;
	/* Created now or earlier, by us or not: check what is there, not what we asked for. */
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid())
		return -EPERM;
	/* mkdir's mode went through the umask; an older directory may have any mode. */
	if ((st.st_mode & 07777) != FG_STATSFILE_DIR_MODE && chmod(dir, FG_STATSFILE_DIR_MODE) < 0)
		return -errno;
	return 0;
}
