/* SPDX-License-Identifier: MIT */
/*
 * DNS resources in the control plane (reference §4.2-§4.3; the Rust gateway's
 * handle_assigned_ips_event, handle_domain_resolved and setup_nat): a client's AssignedIps
 * (its proxy IPs for a domain of a DNS resource), handed over by the data plane as P2P_IN,
 *   - is answered DomainStatus Inactive at once when the resource is not one of the
 *     client's DNS resources or the domain does not match its pattern (the Rust gateway
 *     checks the pattern only after resolving; refusing first spares the resolver);
 *   - else the domain is resolved (A and AAAA, dns/resolve.h: 10 s, at most 1,000 in
 *     flight, a failed lookup is no records, only a timeout gives Inactive), and setup_nat
 *     runs: when one of the proxy IPs was given to another domain, the client renumbered
 *     and its whole NAT is reset; the proxy IPs take the resolved addresses round-robin
 *     within their family (none of that family: the data plane answers net unreachable);
 *     the data plane gets them with NAT_SET, ranked by the pattern's specificity among the
 *     client's DNS resources; then DomainStatus Active goes back to the client (P2P_OUT).
 * The translations are kept here as well, per client: to detect renumbering, to push them
 * again after a data plane restart (fg_cp_nat_resync, once the state's sync is done), and
 * to name the domain of a proxy IP (flow logs, fastgatectl nat). A client whose peer the
 * data plane removed (expiry, Goodbye) loses them, as in the Rust gateway; an expired
 * resource loses its own; a NAT_SET the data plane refused is not kept.
 * No event loop in here: the owner watches the resolver's sockets and keeps its timer
 * (struct fg_resolve_ops). Control plane thread only.
 */
#ifndef FG_CP_NAT_H
#define FG_CP_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "ctlproto.h"
#include "resolve.h"

struct fg_dpc;
struct fg_cp_state;
struct fg_cp_nat;

struct fg_cp_nat_stats {
	uint64_t assigned_ips;       /* AssignedIps received */
	uint64_t malformed;          /* AssignedIps that did not parse (dropped) */
	uint64_t refused;            /* answered Inactive at once (not authorized, no match) */
	uint64_t resolved;           /* lookups completed (Active unless setup failed) */
	uint64_t timeouts;           /* lookups timed out (Inactive) */
	uint64_t busy;               /* dropped: 1,000 lookups in flight */
	uint64_t resets;             /* a client renumbered its proxy IPs */
	uint64_t active, inactive;   /* DomainStatus sent */
};

/* NULL with errno (the resolver could not start: resolve.h). */
struct fg_cp_nat *fg_cp_nat_new(struct fg_dpc *dpc, struct fg_cp_state *state, const struct fg_resolve_ops *ops,
				void *ops_ctx, const struct fg_resolve_config *cfg);
/* Lookups in flight are cancelled (no DomainStatus); a NAT_SET in flight still completes
 * in the dpclient, and no DomainStatus follows it. NULL is fine. */
void fg_cp_nat_free(struct fg_cp_nat *n);

/* The data plane's P2P_IN (dpclient's on_p2p). */
void fg_cp_nat_on_p2p(struct fg_cp_nat *n, const struct fg_ctl_p2p *msg);
/* A data plane event: a removed peer loses its translations, an expired resource its own. */
void fg_cp_nat_dp_event(struct fg_cp_nat *n, const struct fg_ctl_event *ev);
/* After the state's sync with a (re)started data plane: every translation again. */
void fg_cp_nat_resync(struct fg_cp_nat *n);

/* The resolver's sockets and timer (resolve.h). */
void fg_cp_nat_resolver_io(struct fg_cp_nat *n, int fd, bool readable, bool writable);
void fg_cp_nat_resolver_timer(struct fg_cp_nat *n);

/* The domain a client's proxy IP stands for, or NULL. */
const char *fg_cp_nat_domain_of(const struct fg_cp_nat *n, const uint8_t public_key[32], const struct fg_ip *proxy);
const struct fg_cp_nat_stats *fg_cp_nat_stats(const struct fg_cp_nat *n);
/* fastgatectl nat: per client, each domain's resource and proxy IP -> real IP. */
cJSON *fg_cp_nat_json(const struct fg_cp_nat *n);

/*
 * nat_view.c, fastgatectl's answers (schemas in ctl/cpctl_server.h). nat: the records per
 * client with the data plane's live tuples (NAT_DUMP's NAT_INFO, ntuples of them), each
 * named by its proxy IP's domain; status 0 when they are its whole answer (message, when
 * not empty, says why the data plane cut the list), else why there are none (-ENOTCONN,
 * -EPROTO: a data plane that does not know NAT_DUMP, -ETIMEDOUT, ...; message: its reason).
 * stats: the counters above. NULL when out of memory.
 */
cJSON *fg_cp_nat_view_json(const struct fg_cp_nat *n, struct fg_cp_state *state, const struct fg_ctl_nat_info *tuples,
			   size_t ntuples, int status, const char *message);
cJSON *fg_cp_nat_stats_json(const struct fg_cp_nat *n);

#endif
