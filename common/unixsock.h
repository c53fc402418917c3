/* SPDX-License-Identifier: MIT */
/*
 * Listening Unix sockets for the daemons' local interfaces (the WireGuard UAPI socket, the
 * data plane's control socket): the parent directory created, a stale socket replaced, a
 * live one (another process answers) refused, mode set at bind time, nonblocking and
 * close-on-exec. No state.
 */
#ifndef FG_UNIXSOCK_H
#define FG_UNIXSOCK_H

#include <sys/types.h>

/* type: SOCK_STREAM or SOCK_SEQPACKET. Returns the listening fd, or -errno (-EADDRINUSE
 * when a live server answers at path, -ENAMETOOLONG). */
int fg_unixsock_listen(const char *path, int type, mode_t mode, int backlog);

#endif
