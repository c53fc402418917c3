// SPDX-License-Identifier: MIT
/*
 * The service lcore's watch over the host interfaces under the data plane (see service.h):
 * the kernel interface behind the uplink port (a net_af_packet vdev's iface) and the TUN,
 * followed by their ifindex through an RTMGRP_LINK netlink subscription (kni/linkmon.h),
 * read at the service's scan tick (every 100 ms). A port without a kernel interface (a PCI
 * NIC) has its PMD's link status read instead, every FG_SVC_LINK_POLL_MS.
 *
 *   - an interface deleted (or moved out of the namespace): ERROR naming it, dp->quit, and
 *     fg_svc_run returns FG_SVC_EXIT_UPLINK_GONE (3) or FG_SVC_EXIT_TUN_GONE (4): the
 *     process shuts down in order and exits with that code. Nothing would ever come back.
 *   - the uplink's link down: counted (port0.link_downs in the stats), dp->port_down makes
 *     the workers drop what they would send (port_link_down) instead of queueing it on a
 *     dead link, and a WARN naming it once it has been down FG_SVC_LINK_DOWN_GRACE_MS
 *     without being deleted (a deletion takes the link down first: one ERROR, no WARN);
 *     up again: INFO, and traffic flows on, nothing restarted. The TUN down (an operator):
 *     WARN and INFO likewise, nothing dropped by us.
 *
 * The workers never block or log for any of it: they read one flag per transmit burst.
 * Everything here belongs to the service lcore.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "clock.h"
#include "linkmon.h"
#include "log.h"
#include "service.h"
#include "svc_state.h"

static const char *const TAG = "fastgate.link";

static void add_link(struct fg_svc_linkwatch *lw, bool is_port, uint16_t port, int ifindex, const char *name)
{
	struct fg_svc_link *l = &lw->links[lw->n++];

	memset(l, 0, sizeof(*l));
	l->is_port = is_port;
	l->port = port;
	l->ifindex = ifindex;
	l->up = true;
	if (is_port)
		snprintf(l->what, sizeof(l->what), "port %u", port);
	else
		snprintf(l->what, sizeof(l->what), "TUN");
	snprintf(l->name, sizeof(l->name), "%s", name);
}

static void stop_process(struct fg_svc *s, int code)
{
	if (s->exit_code == 0)
		s->exit_code = code;
	__atomic_store_n(&s->dp->quit, 1, __ATOMIC_RELAXED);
}

static void link_gone(struct fg_svc *s, struct fg_svc_link *l)
{
	int code = l->is_port ? FG_SVC_EXIT_UPLINK_GONE : FG_SVC_EXIT_TUN_GONE;

	if (l->is_port)
		fg_err(TAG, "port %u (iface %s): interface deleted; stopping (exit code %d)", l->port, l->name,
		       code);
	else
		fg_err(TAG, "TUN %s: interface deleted; stopping (exit code %d)", l->name, code);
	l->gone = true;     /* nothing more to watch: its index may be reused */
	l->up = false;
	l->warn_pending = false;   /* the ERROR says it all */
	stop_process(s, code);
}

/* "port 0 (iface gx)", "port 0 (0000:01:00.0)" (no kernel interface), "TUN fg0". */
static const char *label(const struct fg_svc_link *l, char *buf, size_t len)
{
	if (!l->is_port)
		snprintf(buf, len, "TUN %s", l->name);
	else
		snprintf(buf, len, "%s (%s%s)", l->what, l->ifindex ? "iface " : "", l->name);
	return buf;
}

static void log_down(struct fg_svc_link *l)
{
	char who[FG_SVC_LINK_WHAT_LEN + IFNAMSIZ + 16];

	l->warn_pending = false;
	label(l, who, sizeof(who));
	if (l->is_port)
		fg_warn(TAG, "%s: link down; waiting for it to come back (packets to send are dropped as "
			"port_link_down meanwhile)", who);
	else
		fg_warn(TAG, "%s: link down (set down on the host?); the kernel removed its routes, and they "
			"are not restored when it is up again", who);
}

static void link_state(struct fg_svc *s, struct fg_svc_link *l, bool up, uint64_t now)
{
	char who[FG_SVC_LINK_WHAT_LEN + IFNAMSIZ + 16];

	if (up == l->up)
		return;
	l->up = up;
	if (!up) {
		/* Counted and acted on now, logged after FG_SVC_LINK_DOWN_GRACE_MS (down_warn). */
		l->downs++;
		l->down_since_ns = now;
		l->warn_pending = true;
		if (l->is_port)
			__atomic_store_n(&s->dp->port_down, 1, __ATOMIC_RELAXED);
		return;
	}
	if (l->is_port)
		__atomic_store_n(&s->dp->port_down, 0, __ATOMIC_RELAXED);
	if (l->warn_pending)
		log_down(l);   /* a short flap is still a flap */
	fg_info(TAG, "%s: link up again after %.1f s", label(l, who, sizeof(who)),
		(double)(now - l->down_since_ns) / (double)FG_NS_PER_S);
}

/* The WARN of the links down for FG_SVC_LINK_DOWN_GRACE_MS and not deleted meanwhile. */
static void down_warn(struct fg_svc_linkwatch *lw, uint64_t now)
{
	for (unsigned i = 0; i < lw->n; i++) {
		struct fg_svc_link *l = &lw->links[i];

		if (l->warn_pending && !l->gone && now - l->down_since_ns >= FG_SVC_LINK_DOWN_GRACE_MS * (uint64_t)FG_NS_PER_MS)
			log_down(l);
	}
}

static void on_event(const struct fg_linkmon_event *ev, void *arg)
{
	struct fg_svc_linkwatch *lw = arg;

	for (unsigned i = 0; i < lw->n; i++) {
		struct fg_svc_link *l = &lw->links[i];

		if (l->gone || l->ifindex <= 0 || l->ifindex != ev->ifindex)
			continue;
		/* The newest message wins, but a deletion stays (the index is never live again). */
		l->seen = true;
		l->seen_deleted |= ev->deleted;
		l->seen_flags = ev->flags;
		if (!ev->deleted && ev->name[0] && strcmp(ev->name, l->name) != 0) {
			char who[FG_SVC_LINK_WHAT_LEN + IFNAMSIZ + 16];

			fg_info(TAG, "%s: renamed %s (followed by its index %d)", label(l, who, sizeof(who)),
				ev->name, l->ifindex);
			snprintf(l->name, sizeof(l->name), "%s", ev->name);
		}
	}
}

/* Reads each watched interface's state now (start, and after lost events). */
static void query_all(struct fg_svc_linkwatch *lw)
{
	for (unsigned i = 0; i < lw->n; i++) {
		struct fg_svc_link *l = &lw->links[i];
		unsigned flags = 0;
		int r;

		if (l->gone || l->ifindex <= 0)
			continue;
		r = fg_linkmon_query(l->ifindex, &flags, NULL);
		if (r == -ENODEV) {
			l->seen = l->seen_deleted = true;
		} else if (r == 0) {
			l->seen = true;
			l->seen_flags = flags;
		}
		/* Another error (out of fds): nothing learned, the next tick asks again. */
	}
}

static void apply_seen(struct fg_svc *s, uint64_t now)
{
	struct fg_svc_linkwatch *lw = &s->link;

	for (unsigned i = 0; i < lw->n; i++) {
		struct fg_svc_link *l = &lw->links[i];

		if (!l->seen)
			continue;
		if (l->seen_deleted)
			link_gone(s, l);
		else
			link_state(s, l, fg_linkmon_is_up(l->seen_flags), now);
		l->seen = l->seen_deleted = false;
	}
}

/* Ports without a kernel interface: their PMD's link status. */
static void poll_pmd_links(struct fg_svc *s, uint64_t now)
{
	struct fg_svc_linkwatch *lw = &s->link;

	for (unsigned i = 0; i < lw->n; i++) {
		struct fg_svc_link *l = &lw->links[i];
		struct rte_eth_link link;

		if (!l->is_port || l->gone || l->ifindex != 0)
			continue;
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(l->port, &link) == 0)
			link_state(s, l, link.link_status == RTE_ETH_LINK_UP, now);
	}
}

int fg_svc_linkwatch_start(struct fg_svc *s, int port_ifindex)
{
	struct fg_svc_linkwatch *lw = &s->link;
	struct fg_dp *dp = s->dp;
	char name[IFNAMSIZ] = "";
	uint64_t now = fg_clock_ns();

	memset(lw, 0, sizeof(*lw));
	lw->fd = -1;
	if (port_ifindex > 0 && if_indextoname((unsigned)port_ifindex, name)) {
		add_link(lw, true, dp->port_id, port_ifindex, name);
	} else {
		char dev[RTE_ETH_NAME_MAX_LEN] = "?";

		rte_eth_dev_get_name_by_port(dp->port_id, dev);
		add_link(lw, true, dp->port_id, 0, dev);
	}
	if (dp->tun.nqueues && dp->tun.ifindex > 0)
		add_link(lw, false, 0, dp->tun.ifindex, dp->tun.name);
	lw->fd = fg_linkmon_open();
	if (lw->fd < 0)
		fg_warn(TAG, "netlink link events: %s; reading the interfaces' flags every %u ms instead",
			strerror(-lw->fd), (unsigned)FG_SVC_LINK_POLL_MS);
	lw->started = true;
	/* Subscribed first, then read: a change in between is seen twice, never missed. */
	query_all(lw);
	apply_seen(s, now);
	poll_pmd_links(s, now);
	lw->next_poll_ns = now + FG_SVC_LINK_POLL_MS * (uint64_t)FG_NS_PER_MS;
	for (unsigned i = 0; i < lw->n; i++) {
		char who[FG_SVC_LINK_WHAT_LEN + IFNAMSIZ + 16];

		fg_info(TAG, "watching %s: ifindex %d, link %s", label(&lw->links[i], who, sizeof(who)),
			lw->links[i].ifindex, lw->links[i].up ? "up" : "down");
	}
	return 0;
}

void fg_svc_linkwatch_poll(struct fg_svc *s, uint64_t now)
{
	struct fg_svc_linkwatch *lw = &s->link;

	if (!lw->started)
		return;
	if (lw->fd >= 0) {
		uint8_t buf[FG_LINKMON_BUF];
		int r = fg_linkmon_read(lw->fd, buf, sizeof(buf), on_event, lw);

		if (r == -ENOBUFS || r == -EBADMSG) {
			lw->resyncs++;
			fg_info(TAG, "link events lost (%s): reading the interfaces' state again", strerror(-r));
			query_all(lw);
		}
		apply_seen(s, now);
	}
	down_warn(lw, now);
	if (now < lw->next_poll_ns)
		return;
	lw->next_poll_ns = now + FG_SVC_LINK_POLL_MS * (uint64_t)FG_NS_PER_MS;
	if (lw->fd < 0) {
		query_all(lw);
		apply_seen(s, now);
	}
	poll_pmd_links(s, now);
}

void fg_svc_linkwatch_stop(struct fg_svc *s)
{
	struct fg_svc_linkwatch *lw = &s->link;

	if (lw->started && lw->fd >= 0)
		close(lw->fd);
	memset(lw, 0, sizeof(*lw));
	lw->fd = -1;
}

void fg_svc_linkwatch_write_stats(const struct fg_svc *s, FILE *f)
{
	const struct fg_svc_linkwatch *lw = &s->link;

	for (unsigned i = 0; i < lw->n; i++) {
		const struct fg_svc_link *l = &lw->links[i];
		char who[FG_SVC_LINK_WHAT_LEN];

		if (l->is_port)
			snprintf(who, sizeof(who), "port%u", l->port);
		else
			snprintf(who, sizeof(who), "tun");
		fprintf(f, "%s.link_up %d\n%s.link_downs %lu\n", who, l->up ? 1 : 0, who, l->downs);
	}
	if (lw->started)
		fprintf(f, "link_event_resyncs %lu\n", lw->resyncs);
}
