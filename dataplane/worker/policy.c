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

enum fam_index { FAM4 = 0, FAM6 = 1, FAMS = 2 };

/* What the filter engine distinguishes in a packet. */
enum pkt_class { CLS_TCP, CLS_UDP, CLS_ICMP, CLS_OTHER };

enum ent_flag {
	ENT_ALL = 1 << 0,       /* empty filter list */
	ENT_ICMP = 1 << 1,
	ENT_INTERNET = 1 << 2,  /* skipped for the Internet resource's excluded ranges */
};

enum { NONE = UINT32_MAX };

/* An address as a 128-bit number; IPv4 lives in the low 32 bits of lo. */
struct key {
	uint64_t hi, lo;
};

struct rng {
	uint16_t lo, hi;
};

/* One resource inside one group. */
struct ent {
	uint64_t expires_at;    /* 0 = never */
	uint32_t res;           /* index of its id */
	uint32_t rng;           /* first TCP range; its UDP ranges follow */
	uint16_t n_tcp, n_udp;  /* merged: at most 32768 each */
	uint8_t flags;          /* enum ent_flag */
};

struct grp {
	uint32_t first, n;      /* entries, highest id first */
	uint32_t parent;        /* the next shorter covering group, or NONE */
};

struct fam {
	uint32_t n_iv;
	const struct key *iv_start;   /* ascending; iv_start[0] is 0 */
	const uint32_t *iv_grp;       /* deepest covering group, or NONE */
	const struct grp *grps;
};

struct fg_policy {
	size_t n_res;
	uint64_t next_expiry;
	uint64_t inet_until;          /* an Internet resource is in force while now < this */
	uint8_t client[FAMS][16], gw[FAMS][16];
	bool has_client[FAMS], has_gw[FAMS];
	struct fam fam[FAMS];
	const struct ent *ents;
	const struct rng *rngs;
	const char (*ids)[FG_CTL_ID_LEN];
};

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

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline struct key key_of(unsigned fi, const uint8_t *a)
{
	if (fi == FAM4)
		return (struct key){ 0, rd32(a) };
	return (struct key){ rd64(a), rd64(a + 8) };
}

static inline bool key_le(struct key a, struct key b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo);
}

static inline bool key_eq(struct key a, struct key b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

/* The host bits of a prefix of len in a family. */
static struct key host_mask(unsigned fi, unsigned len)
{
	if (fi == FAM4)
		return (struct key){ 0, len >= 32 ? 0 : 0xffffffffu >> len };
	if (len >= 64)
		return (struct key){ 0, len >= 128 ? 0 : ~0ull >> (len - 64) };
	return (struct key){ ~0ull >> len, ~0ull };
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
		why = FG_DROP_P2P_CONTROL;
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

/* ---- Building (service lcore). ---- */

/* One (prefix, resource) pair before grouping. */
struct item {
	struct key start;
	uint8_t len;
	uint32_t res;
	const char *id;
};

/* Per resource: its filter compiled once, copied into each of its entries. */
struct rule {
	uint32_t rng;
	uint16_t n_tcp, n_udp;
	uint8_t flags;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (!key_eq(x->start, y->start))
		return key_le(x->start, y->start) ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return -strcmp(x->id, y->id);   /* highest id first */
}

static int rng_cmp(const void *a, const void *b)
{
	const struct rng *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sorts and merges n ranges in place; returns how many remain. */
static unsigned merge_ranges(struct rng *r, unsigned n)
{
	unsigned m = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), rng_cmp);
	for (unsigned i = 1; i < n; i++) {
		if ((uint32_t)r[i].lo <= (uint32_t)r[m].hi + 1) {
			if (r[i].hi > r[m].hi)
				r[m].hi = r[i].hi;
		} else {
			r[++m] = r[i];
		}
	}
	return m + 1;
}

/* Compiles a resource's filters into out_rngs (room for n_filters); tcp and udp are
 * scratch with room for n_filters each. */
static struct rule compile_rule(const struct fg_policy_resource *r, struct rng *out_rngs,
				uint32_t at, struct rng *tcp, struct rng *udp)
{
	struct rule ru = { .rng = at };
	unsigned nt = 0, nu = 0;

	if (r->n_filters == 0)
		ru.flags |= ENT_ALL;
	for (uint32_t i = 0; i < r->n_filters; i++) {
		const struct fg_ctl_filter *f = &r->filters[i];

		if (f->proto == FG_CTL_FILTER_ICMP)
			ru.flags |= ENT_ICMP;
		else if (f->port_lo > f->port_hi)
			continue;   /* ignored, as Firezone's FilterEngine */
		else if (f->proto == FG_CTL_FILTER_TCP)
			tcp[nt++] = (struct rng){ f->port_lo, f->port_hi };
		else if (f->proto == FG_CTL_FILTER_UDP)
			udp[nu++] = (struct rng){ f->port_lo, f->port_hi };
	}
	nt = merge_ranges(tcp, nt);
	nu = merge_ranges(udp, nu);
	memcpy(out_rngs + at, tcp, nt * sizeof(tcp[0]));
	memcpy(out_rngs + at + nt, udp, nu * sizeof(udp[0]));
	ru.n_tcp = (uint16_t)nt;
	ru.n_udp = (uint16_t)nu;
	return ru;
}

static bool ip_ok(const struct fg_ip *ip, uint8_t family)
{
	return !ip || ip->family == 0 || ip->family == family;
}

static bool resource_ok(const struct fg_policy_resource *r)
{
	if (memchr(r->id, '\0', sizeof(r->id)) == NULL || r->id[0] == '\0' ||
	    r->n_filters > FG_CTL_MAX_FILTERS || (r->n_filters && !r->filters))
		return false;
	if (r->type == FG_CTL_RES_INTERNET)
		return true;
	if (r->type != FG_CTL_RES_CIDR)
		return false;
	return (r->prefix.ip.family == AF_INET && r->prefix.len <= 32) ||
	       (r->prefix.ip.family == AF_INET6 && r->prefix.len <= 128);
}

static void set_addr(uint8_t out[16], bool *has, const struct fg_ip *ip)
{
	*has = ip && ip->family != 0;
	if (*has)
		memcpy(out, ip->addr, 16);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Appends the interval [start, ...) owned by g, replacing one that starts at the same place. */
static void emit(struct key *iv_start, uint32_t *iv_grp, uint32_t *n, struct key start, uint32_t g)
{
	if (*n > 0 && key_eq(iv_start[*n - 1], start)) {
		iv_grp[*n - 1] = g;
		return;
	}
	iv_start[*n] = start;
	iv_grp[(*n)++] = g;
}

/* The first address after the group's prefix; false if it ends at the top of the space. */
static bool after(unsigned fi, struct key start, uint8_t len, struct key *next)
{
	struct key h = host_mask(fi, len), top = host_mask(fi, 0);
	struct key end = { start.hi | h.hi, start.lo | h.lo };

	if (key_eq(end, top))
		return false;
	next->lo = end.lo + 1;
	next->hi = end.hi + (next->lo == 0);
	return true;
}

/* Where each array of a policy lies, in bytes from its start. */
struct layout {
	size_t iv[FAMS], iv_grp[FAMS], grp[FAMS], ent, rng, ids, size;
};

/* Room for n_items[fi] entries and groups and 2 x n_items[fi] + 1 intervals per family. */
static void plan(struct layout *l, const uint32_t n_items[FAMS], size_t n_rng, size_t n)
{
	size_t size = align8(sizeof(struct fg_policy));

	for (unsigned fi = 0; fi < FAMS; fi++) {
		l->iv[fi] = size;
		size = align8(size + (2 * (size_t)n_items[fi] + 1) * sizeof(struct key));
		l->iv_grp[fi] = size;
		size = align8(size + (2 * (size_t)n_items[fi] + 1) * sizeof(uint32_t));
		l->grp[fi] = size;
		size = align8(size + n_items[fi] * sizeof(struct grp));
	}
	l->ent = size;
	size = align8(size + ((size_t)n_items[FAM4] + n_items[FAM6]) * sizeof(struct ent));
	l->rng = size;
	size = align8(size + n_rng * sizeof(struct rng));
	l->ids = size;
	l->size = size + n * FG_CTL_ID_LEN;
}

static inline void *at(struct fg_policy *p, size_t off)
{
	return (uint8_t *)p + off;
}

/*
 * Builds one family's groups, entries (from index ent_base on) and intervals from its items
 * sorted by item_cmp(); stack has room for n_items. Returns the number of entries written.
 */
static uint32_t build_family(struct fg_policy *p, const struct layout *l, unsigned fi,
			     const struct item *it, uint32_t n_items, const struct rule *rules,
			     const struct fg_policy_resource *res, uint32_t ent_base,
			     uint32_t *stack)
{
	struct ent *ents = (struct ent *)at(p, l->ent) + ent_base;
	struct grp *grps = at(p, l->grp[fi]);
	struct key *iv_start = at(p, l->iv[fi]), next;
	uint32_t *iv_grp = at(p, l->iv_grp[fi]);
	uint32_t n_grp = 0, n_iv = 0, depth = 0;

	emit(iv_start, iv_grp, &n_iv, (struct key){ 0, 0 }, NONE);
	for (uint32_t i = 0; i < n_items; i++) {
		const struct item *x = &it[i];
		const struct rule *ru = &rules[x->res];

		ents[i] = (struct ent){ .expires_at = res[x->res].expires_at, .res = x->res,
					.rng = ru->rng, .n_tcp = ru->n_tcp, .n_udp = ru->n_udp,
					.flags = ru->flags };
		if (res[x->res].type == FG_CTL_RES_INTERNET)
			ents[i].flags |= ENT_INTERNET;
		if (i > 0 && key_eq(x->start, it[i - 1].start) && x->len == it[i - 1].len) {
			grps[n_grp - 1].n++;
			continue;
		}
		/* A new group: close the ones that end before it, then open it. */
		while (depth > 0) {
			const struct item *t = &it[grps[stack[depth - 1]].first - ent_base];
			struct key h = host_mask(fi, t->len);

			if (key_le(x->start, (struct key){ t->start.hi | h.hi, t->start.lo | h.lo }))
				break;
			depth--;
			if (after(fi, t->start, t->len, &next))
				emit(iv_start, iv_grp, &n_iv, next, depth ? stack[depth - 1] : NONE);
		}
		grps[n_grp] = (struct grp){ .first = ent_base + i, .n = 1,
					    .parent = depth ? stack[depth - 1] : NONE };
		stack[depth++] = n_grp;
		emit(iv_start, iv_grp, &n_iv, x->start, n_grp);
		n_grp++;
	}
	while (depth > 0) {
		const struct item *t = &it[grps[stack[--depth]].first - ent_base];

		if (after(fi, t->start, t->len, &next))
			emit(iv_start, iv_grp, &n_iv, next, depth ? stack[depth - 1] : NONE);
	}
	p->fam[fi] = (struct fam){ .n_iv = n_iv, .iv_start = iv_start, .iv_grp = iv_grp,
				   .grps = grps };
	return n_items;
}

struct fg_policy *fg_policy_build(const struct fg_policy_resource *res, size_t n,
				  const struct fg_ip *client_ip4, const struct fg_ip *client_ip6,
				  const struct fg_ip *gw_ip4, const struct fg_ip *gw_ip6)
{
	struct item *items[FAMS] = { NULL, NULL };
	uint32_t n_items[FAMS] = { 0, 0 }, n_rng = 0, n_ent = 0, max_items = 0, *stack = NULL;
	uint32_t max_filters = 0;
	struct rng *scratch = NULL;
	struct rule *rules = NULL;
	struct fg_policy *p = NULL;
	struct layout l;
	int err = EINVAL;

	if ((n > 0 && !res) || n > UINT32_MAX / 4 || !ip_ok(client_ip4, AF_INET) ||
	    !ip_ok(client_ip6, AF_INET6) || !ip_ok(gw_ip4, AF_INET) || !ip_ok(gw_ip6, AF_INET6))
		goto err;
	for (size_t i = 0; i < n; i++) {
		if (!resource_ok(&res[i]))
			goto err;
		if (res[i].type == FG_CTL_RES_INTERNET) {
			n_items[FAM4]++;
			n_items[FAM6]++;
		} else {
			n_items[res[i].prefix.ip.family == AF_INET ? FAM4 : FAM6]++;
		}
		n_rng += res[i].n_filters;
		if (res[i].n_filters > max_filters)
			max_filters = res[i].n_filters;
	}
	err = ENOMEM;
	/* Scratch: the items of each family, compiled filters, the group stack. */
	for (unsigned fi = 0; fi < FAMS; fi++) {
		items[fi] = malloc((n_items[fi] + 1) * sizeof(struct item));
		if (!items[fi])
			goto err_free;
		if (n_items[fi] > max_items)
			max_items = n_items[fi];
	}
	rules = malloc((n + 1) * sizeof(*rules));
	stack = malloc((max_items + 1) * sizeof(*stack));
	scratch = malloc((2 * (size_t)max_filters + 1) * sizeof(*scratch));
	if (!rules || !stack || !scratch)
		goto err_free;
	plan(&l, n_items, n_rng, n);
	p = calloc(1, l.size);
	if (!p)
		goto err_free;

	p->n_res = n;
	p->rngs = at(p, l.rng);
	p->ents = at(p, l.ent);
	p->ids = at(p, l.ids);
	set_addr(p->client[FAM4], &p->has_client[FAM4], client_ip4);
	set_addr(p->client[FAM6], &p->has_client[FAM6], client_ip6);
	set_addr(p->gw[FAM4], &p->has_gw[FAM4], gw_ip4);
	set_addr(p->gw[FAM6], &p->has_gw[FAM6], gw_ip6);

	n_rng = 0;
	n_items[FAM4] = n_items[FAM6] = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fg_policy_resource *r = &res[i];
		uint64_t until = r->expires_at ? r->expires_at : UINT64_MAX;

		memcpy(at(p, l.ids + i * FG_CTL_ID_LEN), r->id, FG_CTL_ID_LEN);
		rules[i] = compile_rule(r, at(p, l.rng), n_rng, scratch, scratch + max_filters);
		n_rng += rules[i].n_tcp + rules[i].n_udp;
		if (r->expires_at && (p->next_expiry == 0 || r->expires_at < p->next_expiry))
			p->next_expiry = r->expires_at;
		if (r->type == FG_CTL_RES_INTERNET) {
			if (until > p->inet_until)
				p->inet_until = until;
			for (unsigned fi = 0; fi < FAMS; fi++)
				items[fi][n_items[fi]++] = (struct item){ .res = (uint32_t)i, .id = r->id };
		} else {
			unsigned fi = r->prefix.ip.family == AF_INET ? FAM4 : FAM6;
			struct key k = key_of(fi, r->prefix.ip.addr), h = host_mask(fi, r->prefix.len);

			items[fi][n_items[fi]++] = (struct item){
				.start = { k.hi & ~h.hi, k.lo & ~h.lo },
				.len = r->prefix.len, .res = (uint32_t)i, .id = r->id };
		}
	}
	for (unsigned fi = 0; fi < FAMS; fi++) {
		qsort(items[fi], n_items[fi], sizeof(struct item), item_cmp);
		n_ent += build_family(p, &l, fi, items[fi], n_items[fi], rules, res, n_ent, stack);
	}
	err = 0;
err_free:
	free(scratch);
	free(stack);
	free(rules);
	free(items[FAM6]);
	free(items[FAM4]);
	if (err == 0)
		return p;
	free(p);
err:
	errno = err;
	return NULL;
}

void fg_policy_free(struct fg_policy *p)
{
	free(p);
}

size_t fg_policy_count(const struct fg_policy *p)
{
	return p ? p->n_res : 0;
}

uint64_t fg_policy_next_expiry(const struct fg_policy *p)
{
	return p ? p->next_expiry : 0;
}

/* DNS resources: filled in with NAT_SET (the proxy IPs of the client's domains). */
bool fg_policy_has_nat(const struct fg_policy *p)
{
	(void)p;
	return false;
}

const struct fg_policy_nat *fg_policy_nat_lookup(const struct fg_policy *p, const struct fg_ip *dst)
{
	(void)p;
	(void)dst;
	return NULL;
}

size_t fg_policy_nat_count(const struct fg_policy *p)
{
	(void)p;
	return 0;
}

const struct fg_policy_nat *fg_policy_nat_at(const struct fg_policy *p, size_t i)
{
	(void)p;
	(void)i;
	return NULL;
}
