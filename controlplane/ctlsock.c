// SPDX-License-Identifier: MIT
/*
 * fastgatectl connections on the loop (see ctlsock.h). Control plane thread only.
 */
#include "ctlsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "unixsock.h"
#include "loop.h"

static const char *const TAG = "fastgate.ctl";

struct conn {
	struct fg_ctlsock *s;
	struct fg_cpctl_conn *c;
	struct fg_watch *w;
};

static void conn_drop(struct conn *k)
{
	fg_loop_unwatch(k->w);
	fg_cpctl_conn_free(k->c);
	free(k);
}

static void conn_writable(void *ctx)
{
	struct conn *k = ctx;
	int r = fg_cpctl_conn_on_writable(k->c);

	if (r < 0)
		conn_drop(k);
	else if (r > 0)
		fg_loop_want_write(k->w);
}

static void conn_readable(void *ctx)
{
	struct conn *k = ctx;

	if (fg_cpctl_conn_on_readable(k->c, k->s->provider, k->s->ctx) < 0) {
		conn_drop(k);
		return;
	}
	if (fg_cpctl_conn_wants_write(k->c))
		conn_writable(k);
}

static void conn_closed(void *ctx)
{
	struct conn *k = ctx;

	k->w = NULL;
	fg_cpctl_conn_free(k->c);
	free(k);
}

static const struct fg_watch_ops conn_ops = {
	.readable = conn_readable,
	.writable = conn_writable,
	.closed = conn_closed,
};

static void listen_readable(void *ctx)
{
	struct fg_ctlsock *s = ctx;

	for (;;) {
		struct fg_cpctl_conn *c = NULL;
		int r = fg_cpctl_server_accept(&s->srv, &c);

		if (r == -EBUSY)
			continue; /* that client was told "too many connections" */
		if (r < 0 || !c)
			return;   /* -EAGAIN, or accept failing (EMFILE): try again when readable */
		struct conn *k = calloc(1, sizeof(*k));
		if (!k) {
			fg_cpctl_conn_free(c);
			continue;
		}
		k->s = s;
		k->c = c;
		fg_cpctl_conn_set_wake(c, conn_writable, k);
		k->w = fg_loop_watch(s->loop, fg_cpctl_conn_fd(c), &conn_ops, k);
		if (!k->w) {
			fg_cpctl_conn_free(c);
			free(k);
		}
	}
}

static const struct fg_watch_ops listen_ops = {
	.readable = listen_readable,
};

void fg_ctlsock_init(struct fg_ctlsock *s)
{
	memset(s, 0, sizeof(*s));
	s->srv.listen_fd = -1;
}

int fg_ctlsock_start(struct fg_ctlsock *s, struct fg_loop *loop, const char *path, const struct fg_cpctl_provider *p, void *ctx)
{
	int fd;

	s->loop = loop;
	s->provider = p;
	s->ctx = ctx;
	fd = fg_cpctl_server_listen(path);
	if (fd < 0)
		return fd;
	s->srv.listen_fd = fd;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->lw = fg_loop_watch(s->loop, s->srv.listen_fd, &listen_ops, s);
	if (!s->lw) {
		fg_unixsock_unlink(s->path, SOCK_STREAM);
		close(s->srv.listen_fd);
		s->srv.listen_fd = -1;
		return -EIO;
	}
	fg_info(TAG, "fastgatectl socket %s", path);
	return 0;
}

void fg_ctlsock_stop(struct fg_ctlsock *s)
{
	if (s->srv.listen_fd < 0)
		return;
	fg_loop_unwatch(s->lw);
	/* only our own socket, asked before the listener closes (common/unixsock.h) */
	fg_unixsock_unlink(s->path, SOCK_STREAM);
	close(s->srv.listen_fd);
	s->srv.listen_fd = -1;
}
