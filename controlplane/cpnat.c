// SPDX-License-Identifier: MIT
/*
 * DNS resources on the control plane's loop: the NAT module (nat/nat.h) gets the data
 * plane's AssignedIps (P2P_IN) and events, follows every sync with the data plane, and its
 * resolver's sockets and timer are watched here (c-ares names the sockets it wants).
 * The resolver reads FASTGATE_DNS_RESOLV_CONF (default /etc/resolv.conf), as the DNS
 * forwarder does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"
#include "log.h"
#include "nat.h"

static const char *const TAG = "fastgate.cp";

static void natw_readable(void *ctx)
{
	struct fg_cp_natw *x = ctx;

	fg_cp_nat_resolver_io(x->cp->nat, x->fd, true, false);
}

static void natw_writable(void *ctx)
{
	struct fg_cp_natw *x = ctx;

	fg_cp_nat_resolver_io(x->cp->nat, x->fd, false, true);
}

static void natw_closed(void *ctx)
{
	struct fg_cp_natw *x = ctx;

	x->w = NULL;
	x->fd = -1;
}

static const struct fg_watch_ops natw_ops = {
	.readable = natw_readable,
	.writable = natw_writable,
	.closed = natw_closed,
};

static void nat_watch(void *ctx, int fd, bool readable, bool writable)
{
	struct fg_cp *cp = ctx;
	struct fg_cp_natw *x = NULL, *free_slot = NULL;

	for (unsigned i = 0; i < FG_CP_NAT_WATCHES; i++) {
		if (cp->natw[i].fd == fd)
			x = &cp->natw[i];
		else if (cp->natw[i].fd < 0 && !free_slot)
			free_slot = &cp->natw[i];
	}
	if (!readable && !writable) {
		if (x) {
			if (x->w)
				fg_loop_unwatch(x->w);
			x->w = NULL;
			x->fd = -1;
		}
		return;
	}
	if (!x) {
		if (!free_slot) {
			fg_warn(TAG, "DNS resolver: more than %u sockets, one is not watched", FG_CP_NAT_WATCHES);
			return;
		}
		x = free_slot;
		x->cp = cp;
		x->fd = fd;
		x->w = fg_loop_watch(&cp->loop, fd, &natw_ops, x);
		if (!x->w) {
			x->fd = -1;
			return;
		}
	}
	if (writable && x->w)
		fg_loop_want_write(x->w);
}

static void nat_arm(void *ctx, uint64_t us)
{
	struct fg_cp *cp = ctx;

	fg_loop_timer(&cp->nat_timer, us);
}

static void nat_fired(struct fg_timer *t)
{
	struct fg_cp *cp = t->ctx;

	fg_cp_nat_resolver_timer(cp->nat);
}

static void nat_p2p(void *arg, const struct fg_ctl_p2p *msg)
{
	fg_cp_nat_on_p2p(arg, msg);
}

static void nat_synced(void *arg)
{
	fg_cp_nat_resync(arg);
}

int fg_cp_nat_start(struct fg_cp *cp)
{
	static const struct fg_resolve_ops ops = { .watch = nat_watch, .arm = nat_arm };
	const char *rc = getenv("FASTGATE_DNS_RESOLV_CONF");
	struct fg_resolve_config cfg = { .resolv_conf = rc && rc[0] ? rc : NULL };

	for (unsigned i = 0; i < FG_CP_NAT_WATCHES; i++)
		cp->natw[i].fd = -1;
	fg_timer_init(&cp->nat_timer, &cp->loop, nat_fired, cp);
	cp->nat = fg_cp_nat_new(&cp->dpc, &cp->state, &ops, cp, &cfg);
	if (!cp->nat)
		return -errno;
	cp->dpc.on_p2p = nat_p2p;
	cp->dpc.unsolicited_arg = cp->nat;
	cp->state.on_synced = nat_synced;
	cp->state.synced_arg = cp->nat;
	return 0;
}

void fg_cp_nat_stop(struct fg_cp *cp)
{
	fg_loop_timer(&cp->nat_timer, 0);
	fg_cp_nat_free(cp->nat);   /* its resolver stops watching its sockets first */
	cp->nat = NULL;
	for (unsigned i = 0; i < FG_CP_NAT_WATCHES; i++)
		if (cp->natw[i].fd >= 0 && cp->natw[i].w)
			fg_loop_unwatch(cp->natw[i].w);
}
