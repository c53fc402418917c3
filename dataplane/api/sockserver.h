/* SPDX-License-Identifier: MIT */
/*
 * The skeleton both socket servers of the data plane stand on (uapi_server.c, the WireGuard
 * UAPI over SOCK_STREAM; ctl_server.c, the control socket over SOCK_SEQPACKET): a listener
 * from common/unixsock.h, one epoll set with the listener and the connections, a fixed
 * table of connections, the accept loop, closing, the idle clock, and attaching the whole
 * to the service lcore (fg_svc_attach). What a connection says is the protocol's business,
 * reached through struct fg_sockserver_ops. Service lcore only, like the servers.
 *
 * Who owns what: the skeleton owns the listener, the epoll fd and every connection's fd
 * (it closes them; a protocol never does). The protocol owns its per-connection state, an
 * array it indexes with the connection's index (0 .. max_conns - 1), which the skeleton
 * hands to every callback. Bounds: at most max_conns connections (at most
 * FG_SOCKSERVER_MAX_CONNS); one more is closed at once and reported as refused.
 * Unlink rule: the socket's path is unlinked before the listener is closed, on close and
 * when open fails half-way, since fg_unixsock_unlink asks the listener whether the path
 * is still ours.
 */
#ifndef FG_SOCKSERVER_H
#define FG_SOCKSERVER_H

#include <stdint.h>

#include "unixsock.h"

struct fg_svc;
struct fg_svc_attach_ops;
struct fg_sockserver;

enum {
	FG_SOCKSERVER_MAX_CONNS = 16,
};

struct fg_sockserver_ops {
	/* Connection i was accepted (or adopted) on fd: set up its state. Nonzero refuses it
	 * (the skeleton closes it without calling closing). */
	int (*accepted)(void *ctx, unsigned i, int fd, uint64_t now_ns);
	/* Connection i has epoll events: serve it without blocking; close it with
	 * fg_sockserver_drop when it is done. */
	void (*ready)(void *ctx, unsigned i, uint32_t events, uint64_t now_ns);
	/* Connection i is being closed (its fd still open): release its state. */
	void (*closing)(void *ctx, unsigned i);
	/* Optional: an accepted connection was closed because every slot was taken. */
	void (*refused)(void *ctx);
};

struct fg_sockserver_params {
	const char *path;
	struct fg_unixsock_opts sock;
	unsigned max_conns;                     /* 1 .. FG_SOCKSERVER_MAX_CONNS */
	const struct fg_sockserver_ops *ops;
	const struct fg_svc_attach_ops *attach; /* how the service lcore drives the protocol */
	void *ctx;                              /* the protocol's server, for both tables */
};

/* Listens at p->path and attaches ctx to the service. NULL + errno (-EINVAL for a bad
 * max_conns, the errors of fg_unixsock_listen, epoll, fg_svc_attach). */
struct fg_sockserver *fg_sockserver_open(struct fg_svc *s, const struct fg_sockserver_params *p);
/* Detaches, closes every connection (closing is called for each), unlinks the path, then
 * closes the listener and the epoll set. NULL is a no-op. */
void fg_sockserver_close(struct fg_sockserver *ss);
/* Waits at most timeout_ms, accepts what waits, hands each connection its events. Returns
 * the events handled. */
int fg_sockserver_poll(struct fg_sockserver *ss, int timeout_ms);
/* Serves an already connected, nonblocking fd as if accepted. Its index, -EMFILE when
 * every slot is taken (refused is not called: the caller counts), or -errno of epoll; the
 * fd is closed on failure. */
int fg_sockserver_add(struct fg_sockserver *ss, int fd, uint64_t now_ns);
/* Closes connection i (closing first); a no-op when it is not open. */
void fg_sockserver_drop(struct fg_sockserver *ss, unsigned i);
/* Sets what wakes connection i (EPOLLIN, EPOLLOUT or both, or 0). */
void fg_sockserver_want(struct fg_sockserver *ss, unsigned i, uint32_t events);
/* Connection i made progress (read or wrote something): its idle clock restarts. */
void fg_sockserver_touch(struct fg_sockserver *ss, unsigned i, uint64_t now_ns);
/* Closes the connections without progress for idle_ns or more; returns how many. */
unsigned fg_sockserver_expire(struct fg_sockserver *ss, uint64_t now_ns, uint64_t idle_ns);
/* Connection i's fd, -1 when it is not open. */
int fg_sockserver_conn_fd(const struct fg_sockserver *ss, unsigned i);
unsigned fg_sockserver_nconns(const struct fg_sockserver *ss);
unsigned fg_sockserver_max_conns(const struct fg_sockserver *ss);
const char *fg_sockserver_path(const struct fg_sockserver *ss);
/* The epoll fd to sleep on (readable when something is ready). */
int fg_sockserver_fd(const struct fg_sockserver *ss);

#endif
