// SPDX-License-Identifier: MIT
/*
 * Watched descriptors and timers on the libwebsockets loop (see loop.h). Control plane
 * thread only.
 */
#include "loop.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <libwebsockets.h>

struct fg_watch {
	struct lws *wsi;
	struct fg_watch_ops ops;
	void *ctx;
	bool closing;
};

_Static_assert(sizeof(((struct fg_timer *)0)->storage) >= sizeof(lws_sorted_usec_list_t),
	       "fg_timer storage too small for lws_sorted_usec_list_t");

static int raw_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct fg_watch *w = lws_get_opaque_user_data(wsi);

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (w && !w->closing && w->ops.readable)
			w->ops.readable(w->ctx);
		break;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (w && !w->closing && w->ops.writable)
			w->ops.writable(w->ctx);
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (w) {
			lws_set_opaque_user_data(wsi, NULL);
			if (!w->closing && w->ops.closed)
				w->ops.closed(w->ctx);
			free(w);
		}
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols fg_loop_protocol = {
	.name = "fg-raw",
	.callback = raw_cb,
};

int fg_loop_init(struct fg_loop *l, struct lws_context *ctx, struct lws_vhost *vh)
{
	l->lws = ctx;
	l->vh = vh;
	return 0;
}

struct fg_watch *fg_loop_watch(struct fg_loop *l, int fd, const struct fg_watch_ops *ops, void *ctx)
{
	struct fg_watch *w = calloc(1, sizeof(*w));
	lws_sock_file_fd_type d;

	if (!w)
		return NULL;
	w->ops = *ops;
	w->ctx = ctx;
	/* lws closes what it adopted: give it a duplicate, the owner keeps and closes its fd */
	d.filefd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d.filefd < 0) {
		free(w);
		return NULL;
	}
	w->wsi = lws_adopt_descriptor_vhost(l->vh, LWS_ADOPT_RAW_FILE_DESC, d, fg_loop_protocol.name, NULL);
	if (!w->wsi) {
		close(d.filefd);
		free(w);
		errno = EIO;
		return NULL;
	}
	lws_set_opaque_user_data(w->wsi, w);
	return w;
}

void fg_loop_want_write(struct fg_watch *w)
{
	if (w && !w->closing)
		lws_callback_on_writable(w->wsi);
}

void fg_loop_unwatch(struct fg_watch *w)
{
	if (!w || w->closing)
		return;
	w->closing = true;
	lws_set_timeout(w->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

static void timer_cb(lws_sorted_usec_list_t *sul)
{
	struct fg_timer *t = (struct fg_timer *)(void *)((char *)sul - offsetof(struct fg_timer, storage));

	t->fn(t);
}

void fg_timer_init(struct fg_timer *t, struct fg_loop *l, void (*fn)(struct fg_timer *t), void *ctx)
{
	t->fn = fn;
	t->ctx = ctx;
	t->loop = l;
}

void fg_loop_timer(struct fg_timer *t, uint64_t us)
{
	lws_sorted_usec_list_t *sul = (lws_sorted_usec_list_t *)(void *)t->storage;

	lws_sul_schedule(t->loop->lws, 0, sul, timer_cb, us ? (lws_usec_t)us : LWS_SET_TIMER_USEC_CANCEL);
}
