/* SPDX-License-Identifier: MIT */
/*
 * A portal client's authorization policy, compiled for the fast path (reference §3.3-§3.5).
 * The service lcore builds one immutable struct fg_policy per client from its resources on
 * every change, publishes the pointer and frees the old one after an RCU grace period; the
 * workers only read it, with no locks, no allocation, no logging and no syscalls. A policy
 * is a single allocation that holds nothing but its own copy of the input.
 *
 * Behaviour that the reference leaves open, as decided here:
 * - Packets are parsed from their own IP length (WireGuard padding past it is ignored). A
 *   bad IP header, or a TCP / UDP / ICMP header that is cut short (TCP < 20, UDP < 8, ICMP
 *   < 8 bytes) in a packet that carries it, is a silent DROP (INNER_MALFORMED outbound,
 *   TUN_MALFORMED inbound), as the Firezone gateway drops what it cannot parse. IPv6
 *   hop-by-hop, routing, fragment, destination-options and AH headers are walked (at most
 *   8); a longer or truncated chain is malformed.
 * - Non-first fragments (IPv4 offset > 0, IPv6 fragment header offset > 0) carry no ports.
 *   They are matched on the address and protocol alone: a resource permits one if its
 *   filter list is empty, lists any TCP (resp. UDP) range for a TCP (resp. UDP) fragment,
 *   or lists icmp for an ICMP fragment; ACLs on routers treat non-initial fragments the
 *   same way. The port check on the first fragment stops anything from getting through:
 *   a first fragment too short to hold its ports is malformed, and a later fragment cannot
 *   overwrite a port without offset 0. A denied non-first fragment is a DROP with the
 *   reason its PROHIBITED / NET_UNREACHABLE verdict would have had: no ICMP error answers a
 *   non-initial fragment (RFC 1812 §4.3.2.7).
 * - A destination in the tunnel ranges (step 5) gets PROHIBITED with reason POLICY_HAIRPIN:
 *   the Firezone gateway answers every denial but the Internet resource's with ICMP
 *   prohibited (`NotAllowedResource`). Inbound, a source in the tunnel ranges is a DROP with
 *   reason POLICY_HAIRPIN.
 * - "icmp" filters permit ICMP in IPv4 and ICMPv6 in IPv6; ICMPv6 inside IPv4 and ICMPv4
 *   inside IPv6 are "other protocols" (denied whenever filters exist).
 * - Filters with an unknown protocol or an inverted port range are ignored but still count
 *   as filters, so a list made only of them denies everything (as Firezone's FilterEngine).
 * - A resource is in force while expires_at == 0 or now_unix < expires_at.
 * - CIDR resources stay reachable in the Internet resource's excluded ranges, and an
 *   Internet resource ranks as a /0 prefix: the §3.3 ranking (filter permits > longest
 *   prefix > highest id) decides between it and CIDR resources. (The Rust gateway lets an
 *   authorized Internet resource decide alone; the portal gives a gateway of the Internet
 *   site no other resources, so both agree in practice.)
 */
#ifndef FG_POLICY_H
#define FG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "counters.h"
#include "ctlproto.h"
#include "policy_nat.h"

struct fg_inner_info;

/* Input to fg_policy_build(), one per authorized resource. */
struct fg_policy_resource {
	char id[FG_CTL_ID_LEN];     /* portal resource id, NUL-terminated */
	uint32_t type;              /* FG_CTL_RES_CIDR, _INTERNET or _DNS */
	struct fg_prefix prefix;    /* CIDR resources; host bits are ignored */
	uint64_t expires_at;        /* unix seconds, 0 = never */
	uint32_t n_filters;         /* 0 = everything; any number up to FG_CTL_MAX_FILTERS */
	struct fg_ctl_filter *filters; /* n_filters; owned by the holder of the resource */
};

struct fg_policy;

enum fg_policy_verdict {
	FG_POLICY_ALLOW,
	FG_POLICY_DROP,              /* silently */
	FG_POLICY_PROHIBITED,        /* answer with fg_icmpgen_prohibited() */
	FG_POLICY_NET_UNREACHABLE,   /* answer with fg_icmpgen_net_unreachable() */
	FG_POLICY_CONTROL,           /* a p2p control packet (reference §4.2) */
};

/* Input to fg_policy_build_nat(): one proxy IP and the resources (indices into the res
 * array, of type FG_CTL_RES_DNS) that share it, each with its rank. */
struct fg_policy_xlat {
	struct fg_ip proxy;
	struct fg_ip real;          /* family 0 or the proxy's family; another is taken as 0 */
	uint32_t n_res;
	const uint32_t *res;
	const uint32_t *rank;       /* n_res ranks; higher = a more specific pattern */
};

/*
 * Compiles a client's policy. client_ip4 / client_ip6 are the client's tunnel IPs and
 * gw_ip4 / gw_ip6 the gateway's (NULL or family 0 = none). res may be NULL when n is 0.
 * Service lcore only. Returns NULL with errno EINVAL (an id without its NUL or empty, an
 * unknown type, a CIDR prefix of no family or too long, n_filters > FG_CTL_MAX_FILTERS, an
 * address of the wrong family) or ENOMEM.
 */
struct fg_policy *fg_policy_build(const struct fg_policy_resource *res, size_t n,
				  const struct fg_ip *client_ip4, const struct fg_ip *client_ip6,
				  const struct fg_ip *gw_ip4, const struct fg_ip *gw_ip6);
/* fg_policy_build() with the proxy IPs of the client's DNS resources (x may be NULL when nx
 * is 0). EINVAL also for a proxy IP of no family, a duplicate proxy IP, or a resource index
 * out of range or not of type FG_CTL_RES_DNS. */
struct fg_policy *fg_policy_build_nat(const struct fg_policy_resource *res, size_t n,
				      const struct fg_policy_xlat *x, size_t nx,
				      const struct fg_ip *client_ip4, const struct fg_ip *client_ip6,
				      const struct fg_ip *gw_ip4, const struct fg_ip *gw_ip6);
/* Frees a policy (NULL is fine). Only once no worker can still hold it. */
void fg_policy_free(struct fg_policy *p);
/* The number of resources the policy was built from. */
size_t fg_policy_count(const struct fg_policy *p);
/* The earliest expires_at > 0 among the resources, 0 if none: when to rebuild. */
uint64_t fg_policy_next_expiry(const struct fg_policy *p);

/*
 * Client -> resource: a decrypted IP packet (pkt, len bytes; the IP length may be shorter).
 * In order (reference §3.3):
 *  0. malformed (see above) -> DROP, INNER_MALFORMED;
 *  1. multicast destination -> DROP, POLICY_MULTICAST; IPv6, next header 0xFF, source and
 *     destination :: -> CONTROL, P2P_EVENT (the caller handles the event, p2pctl.h);
 *  2. an ICMP error (ICMPv4 types 3, 4, 5, 11, 12; ICMPv6 types < 128) -> DROP,
 *     POLICY_ICMP_ERROR;
 *  3. source not one of the client's tunnel IPs -> DROP, POLICY_SOURCE;
 *  4. destination = the gateway's tunnel IP -> ALLOW, no filters (*resource_id = NULL);
 *  5. destination in 100.64.0.0/11 or fd00:2021:1111::/107 -> PROHIBITED, POLICY_HAIRPIN;
 *  6. the covering entries are the CIDR resources in force that contain the destination,
 *     plus each Internet resource in force when the destination is outside its excluded
 *     ranges (§3.5). ALLOW if one of them permits the packet (TCP/UDP: destination port);
 *     *resource_id then names the winner: longest prefix, then the highest id (strcmp).
 *     Otherwise, with no covering entry, an Internet resource in force and the destination
 *     in its excluded ranges: NET_UNREACHABLE, POLICY_NET_UNREACHABLE; else PROHIBITED,
 *     POLICY_PROHIBITED (a non-first fragment: DROP with that reason).
 * *reason is always set (FG_DROP_NONE for ALLOW); reason and resource_id may be NULL, p
 * may not. The id stays valid as long as the policy.
 */
enum {
	FG_PROTO_P2P = 0xff,         /* the IPv6 next header of p2p control packets */
};

enum fg_policy_verdict fg_policy_outbound(const struct fg_policy *p, const uint8_t *pkt,
					  uint32_t len, uint64_t now_unix, enum fg_drop *reason,
					  const char **resource_id);
/* The same on a packet the caller parsed already (fg_netpkt_parse_inner over the same
 * bytes, as the worker does once per packet): ii's addresses, ports and flags decide. */
enum fg_policy_verdict fg_policy_outbound_parsed(const struct fg_policy *p, const struct fg_inner_info *ii,
						 uint64_t now_unix, enum fg_drop *reason, const char **resource_id);

/* DNS resources (version 4 of ctlproto): the proxy IPs the client assigned to the domains
 * of its DNS resources (struct fg_policy_nat, policy_nat.h). A proxy IP is classified like
 * a host route carrying the filters of the DNS resources that share it (ranked: filter
 * permits > rank, i.e. pattern specificity > highest id; Internet resources never cover a
 * proxy IP), before the tunnel-range check, both ways. fg_policy_outbound() answers a packet
 * that the filters permit to a proxy IP without a real IP of its family with
 * NET_UNREACHABLE (one they refuse is PROHIBITED, as for any host route); the NAT
 * (conntrack.h) rewrites what it allowed. */
/* Whether the client has any proxy IP (the TUN side skips reverse NAT lookups if not). */
bool fg_policy_has_nat(const struct fg_policy *p);
/* The translation of dst when it is one of the client's proxy IPs, else NULL. */
const struct fg_policy_nat *fg_policy_nat_lookup(const struct fg_policy *p, const struct fg_ip *dst);
size_t fg_policy_nat_count(const struct fg_policy *p);
const struct fg_policy_nat *fg_policy_nat_at(const struct fg_policy *p, size_t i);

/*
 * Resource -> client: a packet read from the TUN for this client (reference §3.4). ALLOW
 * or DROP only, in order: malformed -> TUN_MALFORMED; destination not one of the client's
 * tunnel IPs -> POLICY_INBOUND; source = the gateway's tunnel IP -> ALLOW; source in the
 * tunnel ranges -> POLICY_HAIRPIN; an ICMP error -> ALLOW; the source classified as in
 * step 6 above, with TCP/UDP filters checked on the source port -> ALLOW, else
 * POLICY_INBOUND. reason may be NULL.
 */
enum fg_policy_verdict fg_policy_inbound(const struct fg_policy *p, const uint8_t *pkt,
					 uint32_t len, uint64_t now_unix, enum fg_drop *reason);
enum fg_policy_verdict fg_policy_inbound_parsed(const struct fg_policy *p, const struct fg_inner_info *ii,
						uint64_t now_unix, enum fg_drop *reason);

#endif
