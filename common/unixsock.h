/* SPDX-License-Identifier: MIT */
/*
 * Listening Unix sockets for the daemons' local interfaces (the WireGuard UAPI socket, the
 * data plane's control socket, fastgatectl's socket): one listener with one rule for all.
 * The parent directory is created (0755) when missing; a stale socket is replaced; a live
 * one (another process answers) is refused; anything that is not a socket is never
 * removed; the socket gets its mode and group before it appears at its path;
 * nonblocking and close-on-exec. No state.
 */
#ifndef FG_UNIXSOCK_H
#define FG_UNIXSOCK_H

#include <sys/stat.h>
#include <sys/types.h>

struct fg_unixsock_opts {
	int type;      /* SOCK_STREAM or SOCK_SEQPACKET */
	mode_t mode;   /* e.g. 0660 */
	gid_t gid;     /* the socket's group, (gid_t)-1 = the process's */
	int backlog;
};

/*
 * Returns the listening fd, or -errno: -EADDRINUSE when a live server answers at path,
 * -EEXIST when path is something other than a socket, -ENAMETOOLONG.
 */
int fg_unixsock_listen(const char *path, const struct fg_unixsock_opts *o);

/* Unlinks path if the socket there is still this process's listener: call it before
 * closing the listening fd. -ESTALE, leaving it, if something else is there now (a
 * successor's socket, a file); 0 if nothing is. */
int fg_unixsock_unlink(const char *path, int type);

#endif
