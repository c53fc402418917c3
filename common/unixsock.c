// SPDX-License-Identifier: MIT
/*
 * Listening Unix sockets (see unixsock.h). No state; any thread.
 */
#include "unixsock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int fg_unixsock_listen(const char *path, int type, mode_t mode, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd, e, r;
	mode_t old;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* The directory (/var/run/fastgate, /var/run/wireguard) may not exist on a fresh host. */
	memcpy(dir, sa.sun_path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	/* Someone answering there is a live process: refuse rather than steal its path. */
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (r == 0)
			return -EADDRINUSE;
	}
	unlink(path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask((mode_t)(~mode & 0777));
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		return -e;
	}
	return fd;
}
