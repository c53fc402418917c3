/* SPDX-License-Identifier: MIT */
/*
 * Resolving the domains of DNS resources for the NAT (reference §4.3), with c-ares from
 * Debian, on the control plane's loop without blocking it: A and AAAA are asked separately
 * and reported together; a lookup that has not completed within the timeout (10 s, as the
 * Rust gateway) reports FG_RESOLVE_TIMEOUT, which alone makes the gateway answer Inactive;
 * a failed lookup (NXDOMAIN, SERVFAIL, refused) is "no records of that family". At most
 * FG_RESOLVE_MAX_INFLIGHT lookups run at once (the Rust gateway's 1000).
 *
 * No event loop in here: the owner watches the sockets ops.watch() names and calls
 * fg_dns_resolver_io() when one is ready, and keeps one timer that ops.arm() sets and calls
 * fg_dns_resolver_timer() when it fires. Control plane thread only.
 */
#ifndef FG_RESOLVE_H
#define FG_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum {
	FG_RESOLVE_TIMEOUT_MS = 10000,
	FG_RESOLVE_MAX_INFLIGHT = 1000,
	FG_RESOLVE_MAX_ADDRS = 16,         /* of each family, kept per lookup */
};

enum fg_resolve_status {
	FG_RESOLVE_OK = 0,                 /* both families answered (records or none) */
	FG_RESOLVE_TIMEOUT,                /* not complete within the timeout */
	FG_RESOLVE_CANCELLED,              /* the resolver was freed first */
};

struct fg_resolve_result {
	enum fg_resolve_status status;
	struct fg_ip v4[FG_RESOLVE_MAX_ADDRS], v6[FG_RESOLVE_MAX_ADDRS];
	unsigned n4, n6;
};

struct fg_resolve_ops {
	/* Socket fd wants watching for reading (and writing); both false: stop watching. */
	void (*watch)(void *ctx, int fd, bool readable, bool writable);
	/* (Re)arm the owner's timer this many microseconds from now (at least 1); 0: none due. */
	void (*arm)(void *ctx, uint64_t us);
};

struct fg_resolve_config {
	const char *servers;               /* NULL: the resolv.conf's; else "ip:port,ip:port" */
	const char *resolv_conf;           /* NULL: /etc/resolv.conf */
	unsigned timeout_ms;               /* 0: FG_RESOLVE_TIMEOUT_MS */
};

struct fg_dns_resolver;

/* NULL with errno (EINVAL: ops incomplete or servers malformed; EIO: c-ares failed). */
struct fg_dns_resolver *fg_dns_resolver_new(const struct fg_resolve_ops *ops, void *ctx, const struct fg_resolve_config *cfg);
/* Every lookup in flight completes with FG_RESOLVE_CANCELLED first. NULL is fine. */
void fg_dns_resolver_free(struct fg_dns_resolver *r);

/* Starts A and AAAA for name; done runs exactly once, never from inside this call. 0,
 * -EINVAL (not a domain name), -EBUSY (FG_RESOLVE_MAX_INFLIGHT in flight), -ENOMEM. */
int fg_dns_resolver_lookup(struct fg_dns_resolver *r, const char *name,
		       void (*done)(void *arg, const struct fg_resolve_result *res), void *arg);
unsigned fg_dns_resolver_inflight(const struct fg_dns_resolver *r);

/* fd (one ops.watch() named) is ready. */
void fg_dns_resolver_io(struct fg_dns_resolver *r, int fd, bool readable, bool writable);
/* The owner's timer fired: retransmissions and lookup timeouts. */
void fg_dns_resolver_timer(struct fg_dns_resolver *r);

#endif
