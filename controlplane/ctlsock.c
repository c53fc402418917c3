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
	struct fg_cpctl_conn *c;
	struct fg_watch *w;
};

static int g_listen = -1;
static char g_path[108];
static struct fg_watch *g_lw;
static const struct fg_cpctl_provider *g_provider;
static void *g_ctx;

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

	if (fg_cpctl_conn_on_readable(k->c, g_provider, g_ctx) < 0) {
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
	(void)ctx;
	for (;;) {
		struct fg_cpctl_conn *c = NULL;
		int r = fg_cpctl_server_accept(g_listen, &c);

		if (r == -EBUSY)
			continue; /* that client was told "too many connections" */
		if (r < 0 || !c)
			return;   /* -EAGAIN, or accept failing (EMFILE): try again when readable */
		struct conn *k = calloc(1, sizeof(*k));
		if (!k) {
			fg_cpctl_conn_free(c);
			continue;
		}
		k->c = c;
		fg_cpctl_conn_set_wake(c, conn_writable, k);
		k->w = fg_loop_watch(fg_cpctl_conn_fd(c), &conn_ops, k);
		if (!k->w) {
			fg_cpctl_conn_free(c);
			free(k);
		}
	}
}

static const struct fg_watch_ops listen_ops = {
	.readable = listen_readable,
};

int fg_ctlsock_start(const char *path, const struct fg_cpctl_provider *p, void *ctx)
{
	g_provider = p;
	g_ctx = ctx;
	g_listen = fg_cpctl_server_listen(path);
	if (g_listen < 0)
		return g_listen;
	snprintf(g_path, sizeof(g_path), "%s", path);
	g_lw = fg_loop_watch(g_listen, &listen_ops, NULL);
	if (!g_lw) {
		fg_unixsock_unlink(g_path, SOCK_STREAM);
		close(g_listen);
		g_listen = -1;
		return -EIO;
	}
	fg_info(TAG, "fastgatectl socket %s", path);
	return 0;
}

void fg_ctlsock_stop(void)
{
	if (g_listen < 0)
		return;
	fg_loop_unwatch(g_lw);
	/* only our own socket, asked before the listener closes (common/unixsock.h) */
	fg_unixsock_unlink(g_path, SOCK_STREAM);
	close(g_listen);
	g_listen = -1;
}
