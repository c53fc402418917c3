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
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "policy_priv.h"

/* Header sizes. */
enum wire_len {
	IP4_LEN = 20,
	IP6_LEN = 40,
	TCP_MIN_LEN = 20,
	UDP_LEN = 8,
	ICMP_MIN_LEN = 8,
	EXT_MIN_LEN = 8,
	EXT_MAX = 8,       /* IPv6 extension headers walked before giving up */
};

/* Protocol numbers and ICMP types. */
enum wire_value {
	PROTO_HOPOPTS = 0,
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_AH = 51,
	PROTO_ICMP6 = 58,
	PROTO_DSTOPTS = 60,
	PROTO_P2P = 0xFF,   /* reference §4.2 */
	ICMP6_INFO_MIN = 128,
};


/* What the filter engine distinguishes in a packet. */
enum pkt_class { CLS_TCP, CLS_UDP, CLS_ICMP, CLS_OTHER };

/* A parsed packet: what the policy needs from it. */
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

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}
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

static inline bool icmp4_is_error(uint8_t type)
{
	/* Destination unreachable, source quench, redirect, time exceeded, parameter problem. */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* Walks the IPv6 extension headers from off: false if the chain is cut short or too long. */
static bool walk_ext6(const uint8_t *b, uint32_t tlen, uint32_t *off, uint8_t *nh, bool *frag)
{
	for (unsigned n = 0;; n++) {
		uint32_t hl;

		switch (*nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_FRAGMENT:
		case PROTO_AH:
			break;
		default:
			return true;
		}
		if (n == EXT_MAX || tlen - *off < EXT_MIN_LEN)
			return false;
		if (*nh == PROTO_FRAGMENT)
			hl = EXT_MIN_LEN;
		else if (*nh == PROTO_AH)
			hl = ((uint32_t)b[*off + 1] + 2) * 4;
		else
			hl = ((uint32_t)b[*off + 1] + 1) * 8;
		if (hl > tlen - *off)
			return false;
		if (*nh == PROTO_FRAGMENT && (rd16(b + *off + 2) & 0xfff8) != 0)
			*frag = true;
		*nh = b[*off];
		*off += hl;
		if (*frag)
			return true;
	}
}

/* Parses an IP packet; false if it is malformed (see policy.h). */
static bool parse(const uint8_t *b, uint32_t len, struct pkt *k)
{
	uint32_t tlen, off;
	uint8_t icmp_proto;

	if (len < IP4_LEN)
		return false;
	k->frag = false;
	k->icmp_error = false;
	k->sport = k->dport = 0;
	if (b[0] >> 4 == 4) {
		off = (b[0] & 0x0fu) * 4;
		tlen = rd16(b + 2);
		if (off < IP4_LEN || tlen < off || tlen > len)
			return false;
		k->fi = FAM4;
		k->first_nh = k->proto = b[9];
		k->frag = (rd16(b + 6) & 0x1fff) != 0;
		k->src = b + 12;
		k->dst = b + 16;
		icmp_proto = PROTO_ICMP;
	} else if (b[0] >> 4 == 6) {
		if (len < IP6_LEN)
			return false;
		tlen = IP6_LEN + (uint32_t)rd16(b + 4);
		if (tlen > len)
			return false;
		k->fi = FAM6;
		k->first_nh = k->proto = b[6];
		k->src = b + 8;
		k->dst = b + 24;
		off = IP6_LEN;
		if (!walk_ext6(b, tlen, &off, &k->proto, &k->frag))
			return false;
		icmp_proto = PROTO_ICMP6;
	} else {
		return false;
	}
	if (k->proto == PROTO_TCP || k->proto == PROTO_UDP) {
		k->cls = k->proto == PROTO_TCP ? CLS_TCP : CLS_UDP;
		if (k->frag)
			return true;
		if (tlen - off < (k->proto == PROTO_TCP ? TCP_MIN_LEN : UDP_LEN))
			return false;
		k->sport = rd16(b + off);
		k->dport = rd16(b + off + 2);
	} else if (k->proto == icmp_proto) {
		k->cls = CLS_ICMP;
		if (k->frag)
			return true;
		if (tlen - off < ICMP_MIN_LEN)
			return false;
		k->icmp_error = k->fi == FAM4 ? icmp4_is_error(b[off]) : b[off] < ICMP6_INFO_MIN;
	} else {
		k->cls = CLS_OTHER;
	}
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

enum fg_policy_verdict fg_policy_outbound(const struct fg_policy *p, const uint8_t *pkt,
					  uint32_t len, uint64_t now_unix, enum fg_drop *reason,
					  const char **resource_id)
{
	enum fg_policy_verdict v = FG_POLICY_DROP;
	enum fg_drop why = FG_DROP_NONE;
	const char *rid = NULL;
	const struct ent *e;
	struct pkt k;
	bool covered, excluded;
	unsigned alen;

	if (!parse(pkt, len, &k)) {
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

enum fg_policy_verdict fg_policy_inbound(const struct fg_policy *p, const uint8_t *pkt,
					 uint32_t len, uint64_t now_unix, enum fg_drop *reason)
{
	enum fg_policy_verdict v = FG_POLICY_DROP;
	enum fg_drop why = FG_DROP_NONE;
	struct pkt k;
	bool covered;
	unsigned alen;

	if (!parse(pkt, len, &k)) {
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
