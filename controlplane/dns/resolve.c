// SPDX-License-Identifier: MIT
/*
 * DNS resource lookups with c-ares (see resolve.h). Each lookup asks A and AAAA with
 * ares_getaddrinfo and is reported once both answered, or at its deadline, whichever comes
 * first; its record lives on until c-ares has called back for both families (a late answer
 * is then dropped). Reports leave from a reap step after every entry point, never from
 * inside fg_dns_resolver_lookup().
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <ares.h>

struct lookup {
	struct lookup *next;
	struct fg_dns_resolver *r;
	void (*done)(void *arg, const struct fg_resolve_result *res);
	void *arg;
	uint64_t deadline_ns;
	unsigned pending;                 /* c-ares callbacks still to come (2, 1, 0) */
	bool timed_out;                   /* a family gave up (c-ares) */
	bool cancelled;
	bool reported;
	struct fg_resolve_result res;
};

struct fg_dns_resolver {
	struct fg_resolve_ops ops;
	void *ctx;
	ares_channel channel;
	uint64_t timeout_ns;
	struct lookup *lookups;           /* reported or not, until c-ares is done with them */
	unsigned inflight;                /* not reported yet */
	bool in_lookup;
	bool freeing;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct fg_dns_resolver *r = data;

	r->ops.watch(r->ctx, fd, readable != 0, writable != 0);
}

static void report(struct fg_dns_resolver *r, struct lookup *l, enum fg_resolve_status st)
{
	l->reported = true;
	l->res.status = st;
	r->inflight--;
	l->done(l->arg, &l->res);
}

/* Reports what is complete or past its deadline, frees what c-ares is done with. */
static void reap(struct fg_dns_resolver *r)
{
	uint64_t now = now_ns();
	struct lookup **pp = &r->lookups;

	while (*pp) {
		struct lookup *l = *pp;

		if (!l->reported) {
			if (l->cancelled)
				report(r, l, FG_RESOLVE_CANCELLED);
			else if (!l->pending)
				report(r, l, l->timed_out ? FG_RESOLVE_TIMEOUT : FG_RESOLVE_OK);
			else if (now >= l->deadline_ns)
				report(r, l, FG_RESOLVE_TIMEOUT);
		}
		if (l->reported && !l->pending) {
			*pp = l->next;
			free(l);
		} else {
			pp = &l->next;
		}
	}
}

static void rearm(struct fg_dns_resolver *r)
{
	struct timeval tv, *t;
	uint64_t now = now_ns(), next = UINT64_MAX;

	if (r->freeing)
		return;
	for (struct lookup *l = r->lookups; l; l = l->next) {
		if (l->reported)
			continue;
		if (!l->pending || l->cancelled)
			next = now;   /* to report at once (completed inside fg_dns_resolver_lookup) */
		else if (l->deadline_ns < next)
			next = l->deadline_ns;
	}
	t = ares_timeout(r->channel, NULL, &tv);
	if (t) {
		uint64_t at = now + (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_usec * 1000ull;

		if (at < next)
			next = at;
	}
	if (next == UINT64_MAX)
		r->ops.arm(r->ctx, 0);
	else
		r->ops.arm(r->ctx, next > now ? (next - now + 999) / 1000 : 1);
}

static void add_addrs(struct lookup *l, const struct ares_addrinfo *ai)
{
	for (const struct ares_addrinfo_node *n = ai ? ai->nodes : NULL; n; n = n->ai_next) {
		struct fg_ip *slot = NULL;

		if (n->ai_family == AF_INET && l->res.n4 < FG_RESOLVE_MAX_ADDRS) {
			slot = &l->res.v4[l->res.n4++];
			slot->family = AF_INET;
			memcpy(slot->addr, &((const struct sockaddr_in *)(const void *)n->ai_addr)->sin_addr, 4);
		} else if (n->ai_family == AF_INET6 && l->res.n6 < FG_RESOLVE_MAX_ADDRS) {
			slot = &l->res.v6[l->res.n6++];
			slot->family = AF_INET6;
			memcpy(slot->addr, &((const struct sockaddr_in6 *)(const void *)n->ai_addr)->sin6_addr, 16);
		}
	}
}

static void answered(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct lookup *l = arg;

	(void)timeouts;
	if (status == ARES_SUCCESS && !l->reported)
		add_addrs(l, ai);
	else if (status == ARES_ETIMEOUT)
		l->timed_out = true;
	else if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		l->cancelled = true;
	/* anything else (NXDOMAIN, no data, SERVFAIL, refused): no records of that family */
	if (ai)
		ares_freeaddrinfo(ai);
	l->pending--;
}

static bool name_ok(const char *s)
{
	size_t n = s ? strnlen(s, 256) : 0;

	if (n && s[n - 1] == '.')
		n--;
	if (!n || n > 253 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || (s[i] == '.' && s[i + 1] == '.'))
			return false;
	return true;
}

int fg_dns_resolver_lookup(struct fg_dns_resolver *r, const char *name,
		       void (*done)(void *arg, const struct fg_resolve_result *res), void *arg)
{
	struct ares_addrinfo_hints hints;
	struct lookup *l;

	if (!done || !name_ok(name))
		return -EINVAL;
	if (r->inflight >= FG_RESOLVE_MAX_INFLIGHT)
		return -EBUSY;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->r = r;
	l->done = done;
	l->arg = arg;
	l->deadline_ns = now_ns() + r->timeout_ns;
	l->pending = 2;
	l->next = r->lookups;
	r->lookups = l;
	r->inflight++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = ARES_AI_NOSORT;
	r->in_lookup = true;
	hints.ai_family = AF_INET;
	ares_getaddrinfo(r->channel, name, NULL, &hints, answered, l);
	hints.ai_family = AF_INET6;
	ares_getaddrinfo(r->channel, name, NULL, &hints, answered, l);
	r->in_lookup = false;
	rearm(r);   /* a lookup answered from /etc/hosts is reported at the next timer */
	return 0;
}

unsigned fg_dns_resolver_inflight(const struct fg_dns_resolver *r)
{
	return r->inflight;
}

void fg_dns_resolver_io(struct fg_dns_resolver *r, int fd, bool readable, bool writable)
{
	ares_process_fd(r->channel, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
	reap(r);
	rearm(r);
}

void fg_dns_resolver_timer(struct fg_dns_resolver *r)
{
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	reap(r);
	rearm(r);
}

struct fg_dns_resolver *fg_dns_resolver_new(const struct fg_resolve_ops *ops, void *ctx, const struct fg_resolve_config *cfg)
{
	struct ares_options o;
	struct fg_dns_resolver *r;
	unsigned timeout_ms = cfg && cfg->timeout_ms ? cfg->timeout_ms : FG_RESOLVE_TIMEOUT_MS;

	if (!ops || !ops->watch || !ops->arm) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ops = *ops;
	r->ctx = ctx;
	r->timeout_ns = (uint64_t)timeout_ms * 1000000ull;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(r);
		errno = EIO;
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = r;
	/* c-ares' own tries (a quarter of the timeout, doubling) outlast our deadline, which
	 * decides: the Rust gateway's one timeout over both families. */
	o.timeout = (int)(timeout_ms / 4 ? timeout_ms / 4 : 1);
	o.tries = 3;
	if (cfg && cfg->resolv_conf)
		o.resolvconf_path = (char *)(uintptr_t)cfg->resolv_conf;   /* c-ares copies it */
	if (ares_init_options(&r->channel, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
					       (cfg && cfg->resolv_conf ? ARES_OPT_RESOLVCONF : 0)) !=
	    ARES_SUCCESS) {
		ares_library_cleanup();
		free(r);
		errno = EIO;
		return NULL;
	}
	if (cfg && cfg->servers && ares_set_servers_ports_csv(r->channel, cfg->servers) != ARES_SUCCESS) {
		ares_destroy(r->channel);
		ares_library_cleanup();
		free(r);
		errno = EINVAL;
		return NULL;
	}
	return r;
}

void fg_dns_resolver_free(struct fg_dns_resolver *r)
{
	if (!r)
		return;
	r->freeing = true;
	ares_destroy(r->channel);   /* every pending callback runs: cancelled */
	reap(r);
	while (r->lookups) {
		struct lookup *l = r->lookups;

		r->lookups = l->next;
		free(l);
	}
	ares_library_cleanup();
	free(r);
}
