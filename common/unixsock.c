// SPDX-License-Identifier: MIT
/*
 * Listening Unix sockets (see unixsock.h). No state; any thread, but the umask is the
 * process's: call it at start-up, before other threads create files.
 *
 * The socket is bound inside a fresh private directory (mkdtemp, 0700) beside its final
 * path, its group and mode are set there, and only then is it renamed into place. So it
 * never exists at its public path with a wider mode or another group than asked for, and
 * nothing is ever changed by path at a place someone else could swap (no chmod/chown
 * after bind on the public name).
 */
#include "unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* 0: a live server answers at sa; -ECONNREFUSED: a stale socket; other -errno: unknown. */
static int probe(const struct sockaddr_un *sa, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	close(fd);
	/* A full backlog (EAGAIN) still means someone listens there. */
	return r == -EAGAIN ? 0 : r;
}

/* What is at path now: 0 (nothing, or a stale socket that was removed), or -errno:
 * -EEXIST for something that is not a socket (never removed: a typo in an option must not
 * delete a file), -EADDRINUSE for a live server. */
static int clear_path(const struct sockaddr_un *sa, int type)
{
	struct stat st;
	int r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	r = probe(sa, type);
	if (r == 0)
		return -EADDRINUSE;
	if (r != -ECONNREFUSED && r != -ENOENT)
		return r;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int fg_unixsock_listen(const char *path, const struct fg_unixsock_opts *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, tmp = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], tdir[sizeof(sa.sun_path)];
	size_t n = path ? strlen(path) : 0;
	const char *slash;
	int fd = -1, r, e;
	mode_t old;

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	/* The directory (/var/run/fastgate, /var/run/wireguard) may not exist on a fresh host. */
	if (strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0)
		mkdir(dir, 0755);
	r = clear_path(&sa, o->type);
	if (r < 0)
		return r;
	n = (size_t)snprintf(tdir, sizeof(tdir), "%s/.fg-XXXXXX", dir);
	if (n + sizeof("/s") > sizeof(tmp.sun_path))
		return -ENAMETOOLONG;
	if (!mkdtemp(tdir))
		return -errno;
	memcpy(tmp.sun_path, tdir, n);
	memcpy(tmp.sun_path + n, "/s", sizeof("/s"));
	fd = socket(AF_UNIX, o->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	/* The umask keeps the socket from ever having a wider mode, even in the private dir. */
	old = umask((mode_t)(~o->mode & 0777));
	r = bind(fd, (struct sockaddr *)&tmp, sizeof(tmp));
	umask(old);
	if (r < 0)
		goto err;
	if (o->gid != (gid_t)-1 && lchown(tmp.sun_path, (uid_t)-1, o->gid) < 0)
		goto err_unlink;
	/* chmod: the umask may have been narrower than asked (a shared umask is not ours). */
	if (chmod(tmp.sun_path, o->mode) < 0 || listen(fd, o->backlog) < 0)
		goto err_unlink;
	/* The last check and the rename: a non-socket that appeared meanwhile is not replaced. */
	r = clear_path(&sa, o->type);
	if (r < 0) {
		errno = -r;
		goto err_unlink;
	}
	if (rename(tmp.sun_path, sa.sun_path) < 0)
		goto err_unlink;
	rmdir(tdir);
	return fd;
err_unlink:
	e = errno;
	unlink(tmp.sun_path);
	errno = e;
err:
	e = errno;
	if (fd >= 0)
		close(fd);
	rmdir(tdir);
	return -e;
}

int fg_unixsock_unlink(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ESTALE;
	/* Ours if the listener answering there is this process: a successor that replaced a
	 * stale path is another pid (an inode number alone is reused at once on tmpfs). The
	 * probe connection waits in our backlog and goes with our listening socket. */
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r == 0)
		r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	close(fd);
	if (r < 0 || cred.pid != getpid())
		return -ESTALE;
	return unlink(path) < 0 ? -errno : 0;
}
