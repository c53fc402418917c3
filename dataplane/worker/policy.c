/* SPDX-License-Identifier: MIT */
/*
 * Per-client authorization policy (reference §3.3-§3.5): fg_policy_build() compiles a
 * client's resources on the service lcore into one immutable allocation, and the workers
 * answer fg_policy_outbound() / fg_policy_inbound() from it per packet, lock-free, with no
 * allocation, logging or syscalls. A policy owns no other memory; whoever publishes it
 * frees it after the workers' grace period.
 *
 * Layout. Per address family, the distinct prefixes of the CIDR resources (plus a /0 for
 * each Internet resource) become groups. Each group lists its entries, one per resource,
 * sorted by id from the highest down, and points to its parent: the next shorter prefix
 * that contains it. The address space is cut into intervals, each owned by the deepest
 * group that covers it. A lookup binary-searches the interval of the address (at most
 * log2(2 x prefixes + 1) steps), then walks the group chain from the longest prefix to the
 * shortest; within a group the first entry in force whose filter permits the packet is the
 * winner. That order is exactly the §3.3 ranking: filter permits > longest prefix > highest
 * resource id. The chain is at most 33 (IPv4) or 129 (IPv6) groups long.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netpkt.h"
#include "policy.h"
#include "policy_priv.h"

/* Protocol numbers. */
enum wire_value {
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ICMP6 = 58,
	PROTO_P2P = 0xFF,   /* reference §4.2 */
};

/* What the filter engine distinguishes in a packet. */
enum pkt_class { CLS_TCP, CLS_UDP, CLS_ICMP, CLS_OTHER };

/* A parsed packet: what the policy needs from it (from_inner). */
struct pkt {
	unsigned fi;            /* enum fam_index */
	uint8_t first_nh;       /* IPv6 next header of the fixed header */
	uint8_t proto;          /* upper-layer protocol */
	uint8_t cls;            /* enum pkt_class */
	bool frag;              /* non-first fragment: no L4 header */
	bool icmp_error;
	uint16_t sport, dport;
	const uint8_t *src, *dst;
};

static inline bool is_zero(const uint8_t *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

static inline unsigned addr_len(unsigned fi)
{
	return fi == FAM4 ? 4 : 16;
}

static inline bool is_multicast(unsigned fi, const uint8_t *a)
{
	return fi == FAM4 ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

/* 100.64.0.0/11 and fd00:2021:1111::/107 (reference §1.4). */
static bool in_tunnel_range(unsigned fi, const uint8_t *a)
{
	static const uint8_t t6[13] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };

	if (fi == FAM4)
		return a[0] == 100 && (a[1] & 0xe0) == 64;
	return memcmp(a, t6, sizeof(t6)) == 0 && (a[13] & 0xe0) == 0;
}

/* The Internet resource's rejected ranges (reference §3.5). */
static bool internet_excluded(unsigned fi, const uint8_t *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (fi == FAM4)
		return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) || a[0] == 127 ||
		       (a[0] == 169 && a[1] == 254) || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
		       a[0] >= 224;
	return (is_zero(a, 15) && a[15] == 1) || memcmp(a, mapped, sizeof(mapped)) == 0 ||
	       (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
}

/* The policy's view of a parsed inner packet (inner.c); false when its upper layer is cut
 * short (malformed for a policy). */
static inline bool from_inner(const struct fg_inner_info *ii, struct pkt *k)
{
	if (!ii->l4_ok)
		return false;
	k->fi = ii->family == AF_INET ? FAM4 : FAM6;
	k->first_nh = ii->proto;
	k->proto = ii->l4_proto;
	k->frag = ii->frag;
	k->icmp_error = ii->icmp_error;
	k->sport = ii->sport;
	k->dport = ii->dport;
	k->src = ii->src.addr;
	k->dst = ii->dst.addr;
	if (k->proto == PROTO_TCP)
		k->cls = CLS_TCP;
	else if (k->proto == PROTO_UDP)
		k->cls = CLS_UDP;
	else if (k->proto == (k->fi == FAM4 ? PROTO_ICMP : PROTO_ICMP6))
		k->cls = CLS_ICMP;
	else
		k->cls = CLS_OTHER;
	return true;
}

/* r holds n sorted, disjoint ranges (merge_ranges): a binary search, as a resource may
 * carry any number of filters. */
static bool in_ranges(const struct rng *r, unsigned n, uint16_t port)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (port < r[mid].lo)
			hi = mid;
		else if (port > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Whether an entry's filter permits the packet; port is the resource's side. */
static bool permits(const struct fg_policy *p, const struct ent *e, const struct pkt *k,
		    uint16_t port)
{
	if (e->flags & ENT_ALL)
		return true;
	switch (k->cls) {
	case CLS_TCP:
		return k->frag ? e->n_tcp > 0 : in_ranges(p->rngs + e->rng, e->n_tcp, port);
	case CLS_UDP:
		return k->frag ? e->n_udp > 0 : in_ranges(p->rngs + e->rng + e->n_tcp, e->n_udp, port);
	case CLS_ICMP:
		return (e->flags & ENT_ICMP) != 0;
	default:
		return false;
	}
}

/* The interval holding key: the last one that starts at or below it. */
static uint32_t find_interval(const struct fam *f, struct key key)
{
	uint32_t lo = 0, hi = f->n_iv;   /* iv_start[lo] <= key < iv_start[hi] */

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (key_le(f->iv_start[mid], key))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The winning entry for the resource-side address a, or NULL; *covered tells whether any
 * entry in force covers a at all.
 */
static const struct ent *classify(const struct fg_policy *p, const struct pkt *k,
				  const uint8_t *a, uint16_t port, uint64_t now, bool excluded,
				  bool *covered)
{
	const struct fam *f = &p->fam[k->fi];
	uint32_t g = f->iv_grp[find_interval(f, key_of(k->fi, a))];

	*covered = false;
	while (g != NONE) {
		const struct grp *gr = &f->grps[g];

		for (uint32_t i = gr->first; i < gr->first + gr->n; i++) {
			const struct ent *e = &p->ents[i];

			if (e->expires_at != 0 && now >= e->expires_at)
				continue;
			if ((e->flags & ENT_INTERNET) && excluded)
				continue;
			*covered = true;
			if (permits(p, e, k, port))
				return e;
		}
		g = gr->parent;
	}
	return NULL;
}

/* The proxy IP a (family fi), or NULL: a binary search of the family's part of p->nat. */
static const struct fg_policy_nat *nat_find(const struct fg_policy *p, unsigned fi, const uint8_t *a)
{
	const struct fg_policy_nat *v = fi == FAM4 ? p->nat : p->nat + p->n_nat4;
	uint32_t lo = 0, hi = fi == FAM4 ? p->n_nat4 : p->n_nat - p->n_nat4;
	unsigned alen = addr_len(fi);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(a, v[mid].proxy.addr, alen);

		if (c == 0)
			return &v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* A packet to one of the client's proxy IPs (x): only its DNS resources' host routes and
 * the CIDR resources covering it classify it, never an Internet resource (reference §3.5).
 * A proxy IP without a real IP of its family is unreachable (§4.3: no NAT64). */
static enum fg_policy_verdict outbound_proxy(const struct fg_policy *p, const struct pkt *k,
					     const struct fg_policy_nat *x, uint64_t now, enum fg_drop *why,
					     const char **rid)
{
	bool covered;
	const struct ent *e = classify(p, k, k->dst, k->dport, now, true, &covered);

	if (!e) {
		*why = FG_DROP_POLICY_PROHIBITED;
		return k->frag ? FG_POLICY_DROP : FG_POLICY_PROHIBITED;
	}
	if (x->real.family == 0) {
		*why = FG_DROP_POLICY_NET_UNREACHABLE;
		return k->frag ? FG_POLICY_DROP : FG_POLICY_NET_UNREACHABLE;
	}
	*rid = p->ids[e->res];
	return FG_POLICY_ALLOW;
}

enum fg_policy_verdict fg_policy_outbound_parsed(const struct fg_policy *p, const struct fg_inner_info *ii,
						 uint64_t now_unix, enum fg_drop *reason, const char **resource_id)
{
	enum fg_policy_verdict v = FG_POLICY_DROP;
	enum fg_drop why = FG_DROP_NONE;
	const char *rid = NULL;
	const struct ent *e;
	struct pkt k;
	bool covered, excluded;
	unsigned alen;

	if (!from_inner(ii, &k)) {
		why = FG_DROP_INNER_MALFORMED;
		goto out;
	}
	alen = addr_len(k.fi);
	if (is_multicast(k.fi, k.dst)) {
		why = FG_DROP_POLICY_MULTICAST;
		goto out;
	}
	if (k.fi == FAM6 && k.first_nh == PROTO_P2P && is_zero(k.src, 16) && is_zero(k.dst, 16)) {
		v = FG_POLICY_CONTROL;
		why = FG_DROP_P2P_EVENT;
		goto out;
	}
	if (k.icmp_error) {
		why = FG_DROP_POLICY_ICMP_ERROR;
		goto out;
	}
	if (!p->has_client[k.fi] || memcmp(k.src, p->client[k.fi], alen) != 0) {
		why = FG_DROP_POLICY_SOURCE;
		goto out;
	}
	if (p->has_gw[k.fi] && memcmp(k.dst, p->gw[k.fi], alen) == 0) {
		v = FG_POLICY_ALLOW;
		goto out;
	}
	if (p->n_nat) {
		const struct fg_policy_nat *x = nat_find(p, k.fi, k.dst);

		if (x) {
			v = outbound_proxy(p, &k, x, now_unix, &why, &rid);
			goto out;
		}
	}
	if (in_tunnel_range(k.fi, k.dst)) {
		v = FG_POLICY_PROHIBITED;
		why = FG_DROP_POLICY_HAIRPIN;
		goto out;
	}
	excluded = internet_excluded(k.fi, k.dst);
	e = classify(p, &k, k.dst, k.dport, now_unix, excluded, &covered);
	if (e) {
		v = FG_POLICY_ALLOW;
		rid = p->ids[e->res];
	} else if (!covered && excluded && now_unix < p->inet_until) {
		v = k.frag ? FG_POLICY_DROP : FG_POLICY_NET_UNREACHABLE;
		why = FG_DROP_POLICY_NET_UNREACHABLE;
	} else {
		v = k.frag ? FG_POLICY_DROP : FG_POLICY_PROHIBITED;
		why = FG_DROP_POLICY_PROHIBITED;
	}
out:
	if (reason)
		*reason = why;
	if (resource_id)
		*resource_id = rid;
	return v;
}

enum fg_policy_verdict fg_policy_inbound_parsed(const struct fg_policy *p, const struct fg_inner_info *ii,
						uint64_t now_unix, enum fg_drop *reason)
{
	enum fg_policy_verdict v = FG_POLICY_DROP;
	enum fg_drop why = FG_DROP_NONE;
	struct pkt k;
	bool covered;
	unsigned alen;

	if (!from_inner(ii, &k)) {
		why = FG_DROP_TUN_MALFORMED;
		goto out;
	}
	alen = addr_len(k.fi);
	if (!p->has_client[k.fi] || memcmp(k.dst, p->client[k.fi], alen) != 0) {
		why = FG_DROP_POLICY_INBOUND;
		goto out;
	}
	if (p->has_gw[k.fi] && memcmp(k.src, p->gw[k.fi], alen) == 0) {
		v = FG_POLICY_ALLOW;
		goto out;
	}
	if (p->n_nat && nat_find(p, k.fi, k.src)) {
		/* Translated back by the NAT: the proxy IP's own routes classify it. */
		if (k.icmp_error || classify(p, &k, k.src, k.sport, now_unix, true, &covered))
			v = FG_POLICY_ALLOW;
		else
			why = FG_DROP_POLICY_INBOUND;
		goto out;
	}
	if (in_tunnel_range(k.fi, k.src)) {
		why = FG_DROP_POLICY_HAIRPIN;
		goto out;
	}
	if (k.icmp_error ||
	    classify(p, &k, k.src, k.sport, now_unix, internet_excluded(k.fi, k.src), &covered)) {
		v = FG_POLICY_ALLOW;
		goto out;
	}
	why = FG_DROP_POLICY_INBOUND;
out:
	if (reason)
		*reason = why;
	return v;
}

enum fg_policy_verdict fg_policy_outbound(const struct fg_policy *p, const uint8_t *pkt, uint32_t len,
					  uint64_t now_unix, enum fg_drop *reason, const char **resource_id)
{
	struct fg_inner_info ii;

	if (fg_netpkt_parse_inner(pkt, len, &ii) != FG_DROP_NONE) {
		if (reason)
			*reason = FG_DROP_INNER_MALFORMED;
		if (resource_id)
			*resource_id = NULL;
		return FG_POLICY_DROP;
	}
	return fg_policy_outbound_parsed(p, &ii, now_unix, reason, resource_id);
}

enum fg_policy_verdict fg_policy_inbound(const struct fg_policy *p, const uint8_t *pkt, uint32_t len,
					 uint64_t now_unix, enum fg_drop *reason)
{
	struct fg_inner_info ii;

	if (fg_netpkt_parse_inner(pkt, len, &ii) != FG_DROP_NONE) {
		if (reason)
			*reason = FG_DROP_TUN_MALFORMED;
		return FG_POLICY_DROP;
	}
	return fg_policy_inbound_parsed(p, &ii, now_unix, reason);
}

/* ---- DNS resources: the proxy IPs (workers). ---- */

bool fg_policy_has_nat(const struct fg_policy *p)
{
	return p->n_nat != 0;
}

const struct fg_policy_nat *fg_policy_nat_lookup(const struct fg_policy *p, const struct fg_ip *dst)
{
	if (p->n_nat == 0 || (dst->family != AF_INET && dst->family != AF_INET6))
		return NULL;
	return nat_find(p, dst->family == AF_INET ? FAM4 : FAM6, dst->addr);
}
