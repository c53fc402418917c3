// SPDX-License-Identifier: MIT
/*
 * The control plane's connection to the data plane on the loop (see cp.h): requests'
 * deadlines and POLLOUT, events into the authorization state, and reconnects every second
 * when the control socket is lost. Control plane thread only.
 */
#include <errno.h>

#include "cp.h"
#include "log.h"

static const char *const TAG = "fastgate.cp";

static void dp_watch(struct fg_cp *cp);

static void dp_lost(struct fg_cp *cp, const char *why)
{
	if (cp->dpw) {
		fg_loop_unwatch(cp->dpw);
		cp->dpw = NULL;
	}
	fg_dpc_close(&cp->dpc);
	cp->state.dp_synced = false;
	fg_cp_metrics_dp_lost(cp);
	fg_warn(TAG, "data plane control socket lost (%s); retrying every second", why);
	fg_loop_timer(&cp->dp_timer, 1000000);
}

/* After anything that queued or completed requests: the timer at the next deadline, and
 * POLLOUT while requests wait for room in the socket. */
static void dp_wake(void *arg)
{
	struct fg_cp *cp = arg;
	int64_t d = fg_dpc_next_deadline(&cp->dpc);

	if (d) {
		int64_t left = d - fg_dpc_now_ms();

		fg_loop_timer(&cp->dpreq_timer, left > 0 ? (uint64_t)left * 1000 : 1);
	}
	if (cp->dpw && fg_dpc_wants_write(&cp->dpc))
		fg_loop_want_write(cp->dpw);
}

static void dp_expire(struct fg_timer *t)
{
	struct fg_cp *cp = t->ctx;

	fg_dpc_expire(&cp->dpc, fg_dpc_now_ms());
	dp_wake(cp);
}

static void dp_events(struct fg_cp *cp)
{
	struct fg_ctl_event ev;

	while (fg_dpc_next_event(&cp->dpc, &ev)) {
		fg_cp_on_event(&cp->state, &ev);
		fg_conn_dp_event(cp->conn, &ev);
		fg_cp_nat_dp_event(cp->nat, &ev);
	}
	if (cp->dpc.events_lost) {
		cp->dpc.events_lost = false;
		fg_warn(TAG, "data plane events were lost: resynchronising");
		fg_cp_sync(&cp->state);
	}
}

static void dp_readable(void *ctx)
{
	struct fg_cp *cp = ctx;

	if (fg_dpc_on_readable(&cp->dpc) < 0) {
		dp_lost(cp, cp->dpc.last_error);
		return;
	}
	dp_events(cp);
	dp_wake(cp);
}

static void dp_writable(void *ctx)
{
	struct fg_cp *cp = ctx;

	if (fg_dpc_on_writable(&cp->dpc) < 0)
		dp_lost(cp, cp->dpc.last_error);
	else
		dp_wake(cp);
}

static void dp_closed(void *ctx)
{
	struct fg_cp *cp = ctx;

	cp->dpw = NULL;
	if (!cp->stopping)
		dp_lost(cp, "closed");
}

static const struct fg_watch_ops dp_ops = {
	.readable = dp_readable,
	.writable = dp_writable,
	.closed = dp_closed,
};

static void dp_watch(struct fg_cp *cp)
{
	cp->dpw = fg_loop_watch(&cp->loop, cp->dpc.fd, &dp_ops, cp);
}

static void dp_hello_done(void *ctx, int status, const void *msg)
{
	struct fg_cp *cp = ctx;

	(void)msg;
	if (status < 0) {
		fg_debug(TAG, "data plane did not say HELLO: %s", cp->dpc.last_error);
		if (cp->dpw) {
			fg_loop_unwatch(cp->dpw);
			cp->dpw = NULL;
		}
		fg_dpc_close(&cp->dpc);
		if (!cp->stopping)
			fg_loop_timer(&cp->dp_timer, 1000000);
		return;
	}
	fg_info(TAG, "connected to the data plane %s (tun %s)", cp->dpc.hello.version, cp->dpc.hello.tun_name);
	fg_cp_sync(&cp->state);
	fg_conn_dp_up(cp->conn);
	fg_cp_flows_dp_up(cp);
	dp_events(cp);
}

/* A reconnect on the loop: connect() on a Unix socket does not wait, the HELLO's answer
 * comes through dp_readable like any other. */
static void dp_try(struct fg_timer *t)
{
	struct fg_cp *cp = t->ctx;
	const struct fg_dpc_cb cb = { .done = dp_hello_done, .ctx = cp };

	if (cp->stopping || fg_dpc_connected(&cp->dpc))
		return;
	if (fg_dpc_open(&cp->dpc) < 0) {
		fg_debug(TAG, "data plane not reachable yet: %s", cp->dpc.last_error);
		fg_loop_timer(&cp->dp_timer, 1000000);
		return;
	}
	dp_watch(cp);
	if (fg_dpc_hello(&cp->dpc, &cb) < 0)
		dp_hello_done(cp, -ENOTCONN, NULL);
}

void fg_cp_dp_attach(struct fg_cp *cp)
{
	fg_timer_init(&cp->dpreq_timer, &cp->loop, dp_expire, cp);
	fg_timer_init(&cp->dp_timer, &cp->loop, dp_try, cp);
	cp->dpc.wake = dp_wake;
	cp->dpc.wake_arg = cp;
	dp_watch(cp);
	fg_cp_sync(&cp->state);
}
