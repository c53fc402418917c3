// SPDX-License-Identifier: MIT
/*
 * The DNS forwarder (dns/forward.h) on the control plane's loop: its one epoll descriptor
 * watched and its one timer. It listens on <tun IPv4>:53535 and [<tun IPv6>]:53535, UDP and
 * TCP, from the portal's init on (the addresses IFACE_SET puts on the TUN, which lives in
 * this process's network namespace), moves when init brings other addresses, and stops at
 * exit. Listeners that cannot be bound after the forwarder's 3 attempts are fatal, as in
 * the Firezone gateway: the forwarder logs the ERROR (address and errno), the process
 * exits 1.
 *
 * For the README: FASTGATE_DNS_RESOLV_CONF (default /etc/resolv.conf) names the file whose
 * "nameserver" lines are the forwarder's upstreams (port 53), read once at start-up; the
 * DNS resource lookups (cpnat.c) read the same variable. The control plane does not start
 * when the file cannot be read (nor does the Firezone gateway); a file without nameservers
 * makes every forwarded query SERVFAIL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "cp.h"
#include "forward.h"
static void dnsfwd_readable(void *ctx)
{
	struct fg_cp *cp = ctx;

	if (cp->dnsfwd)
		fg_dnsfwd_io(cp->dnsfwd);
}

static const struct fg_watch_ops dnsfwd_watch_ops = {
	.readable = dnsfwd_readable,
};

static void dnsfwd_watch(void *ctx, int fd, bool readable, bool writable)
{
	struct fg_cp *cp = ctx;

	(void)writable;   /* never asked: the forwarder waits for writes in its own set */
	if (readable && !cp->dnsw) {
		cp->dnsw = fg_loop_watch(&cp->loop, fd, &dnsfwd_watch_ops, cp);
	} else if (!readable && cp->dnsw) {
		fg_loop_unwatch(cp->dnsw);
		cp->dnsw = NULL;
	}
}

static void dnsfwd_arm(void *ctx, uint64_t us)
{
	struct fg_cp *cp = ctx;

	fg_loop_timer(&cp->dns_timer, us);
}

static void dnsfwd_fired(struct fg_timer *t)
{
	struct fg_cp *cp = t->ctx;

	if (cp->dnsfwd)
		fg_dnsfwd_timer(cp->dnsfwd);
}

/* The listeners could not be bound (logged): the gateway cannot serve, exit non-zero. */
static void dnsfwd_failed(void *ctx, int err)
{
	struct fg_cp *cp = ctx;

	(void)err;
	cp->exit_code = 1;
	cp->stopping = true;
	lws_cancel_service(cp->lws);
}

int fg_cp_dns_start(struct fg_cp *cp)
{
	static const struct fg_dnsfwd_ops ops = { .watch = dnsfwd_watch, .arm = dnsfwd_arm, .failed = dnsfwd_failed };
	const char *rc = getenv("FASTGATE_DNS_RESOLV_CONF");
	struct fg_dnsfwd_config cfg = { .resolv_conf = rc && rc[0] ? rc : "/etc/resolv.conf" };
	int err;

	fg_timer_init(&cp->dns_timer, &cp->loop, dnsfwd_fired, cp);
	cp->dnsfwd = fg_dnsfwd_new(&ops, cp, &cfg);
	if (!cp->dnsfwd)
		return -errno;   /* the file's errno, as Rust that does not start without it */
	if (!cp->dnsw) {
		err = errno ? errno : EIO;
		fg_cp_dns_stop(cp);
		errno = err;
		return -err;
	}
	return 0;
}

void fg_cp_dns_follow(struct fg_cp *cp)
{
	if (cp->dnsfwd && (cp->state.if4.family || cp->state.if6.family))
		fg_dnsfwd_listen(cp->dnsfwd, &cp->state.if4, &cp->state.if6);   /* same addresses: nothing */
}

void fg_cp_dns_stop(struct fg_cp *cp)
{
	if (!cp->dnsfwd)
		return;
	fg_loop_timer(&cp->dns_timer, 0);
	fg_dnsfwd_free(cp->dnsfwd);   /* stops watching its descriptor first */
	cp->dnsfwd = NULL;
}
