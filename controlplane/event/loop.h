/* SPDX-License-Identifier: MIT */
/*
 * The control plane's event loop: libwebsockets owns the one poll() (the portal WebSocket,
 * the health-check HTTP server), and this module lets the other modules watch their own
 * file descriptors (signalfd, the data plane's control socket, fastgatectl connections)
 * and arm timers on the same loop. Single-threaded: every callback runs on the loop.
 */
#ifndef FG_LOOP_H
#define FG_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct lws_context;
struct lws_vhost;
struct fg_watch;

/* The loop's libwebsockets context and the vhost that adopts watched descriptors; owned by
 * the caller (struct fg_cp), set by fg_loop_init(). */
struct fg_loop {
	struct lws_context *lws;
	struct lws_vhost *vh;
};

struct fg_watch_ops {
	void (*readable)(void *ctx);
	void (*writable)(void *ctx);   /* may be NULL */
	void (*closed)(void *ctx);     /* the loop dropped the fd (error or hang-up); may be NULL */
};

struct fg_timer {
	/* lws_sorted_usec_list_t lives inside; opaque storage sized generously */
	uint64_t storage[8];
	void (*fn)(struct fg_timer *t);
	void *ctx;
	struct fg_loop *loop;   /* the loop it runs on (fg_timer_init) */
};

int fg_loop_init(struct fg_loop *l, struct lws_context *ctx, struct lws_vhost *vh);
/* Watches fd on l (not closed by the loop). NULL + errno. */
struct fg_watch *fg_loop_watch(struct fg_loop *l, int fd, const struct fg_watch_ops *ops, void *ctx);
void fg_loop_want_write(struct fg_watch *w);
void fg_loop_unwatch(struct fg_watch *w);
/* Sets t up to call fn(t) on l (t->ctx = ctx); not armed. */
void fg_timer_init(struct fg_timer *t, struct fg_loop *l, void (*fn)(struct fg_timer *t), void *ctx);
/* Arms (or re-arms) t to call fn after us microseconds; 0 cancels. */
void fg_loop_timer(struct fg_timer *t, uint64_t us);
/* The protocol entry the vhost must list for watched descriptors. */
extern const struct lws_protocols fg_loop_protocol;

#endif
