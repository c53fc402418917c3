// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the client policy: its compiler (dataplane/worker/policy_build.c)
 * and its lookups (dataplane/worker/policy.c). The input describes a client (tunnel IPs,
 * the gateway's), up to 12 resources as the control socket's RESOURCE_UPSERT gives them
 * (CIDR v4/v6, Internet, DNS; an id, an expiry, up to 5 filters), up to 4 proxy IPs of the
 * DNS resources (NAT_SET: a real IP, the DNS resources sharing it, their ranks), then up
 * to 24 packets, each built from fields (family, addresses picked from the client, the
 * gateway, the resources, the proxy IPs or interesting ranges, protocol, ports, fragments,
 * IPv6 extension headers, cut or padded) or taken raw, each looked up outbound and inbound
 * at a given time. Format: the comments of read_model() and read_packet().
 *
 * Checks, against a reference written here from policy.h alone (the resources kept as
 * given, a flat list of entries scanned linearly, prefixes compared bit by bit, packets
 * parsed by a parser of its own): fg_policy_build_nat() fails (EINVAL) exactly for the
 * inputs policy.h calls invalid; the verdict, the drop reason and the winning resource's id
 * of every lookup are the reference's; count, next expiry and the proxy IP table are the
 * input's. Packets are copied into buffers of exactly their length (ASan catches
 * over-reads).
 *
 *   scripts/fuzz.sh 60 policy     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/policy/ (tests/fuzz/corpus/gen_policy_seeds.py).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	MAX_RES = 12,
	MAX_FILTERS = 5,
	MAX_XLAT = 4,
	MAX_XLAT_RES = 4,
	MAX_PKTS = 24,
	MAX_ENTRIES = 2 * MAX_RES + MAX_XLAT * MAX_XLAT_RES,
	PKT_MAX = 400,
	TIME_BASE = 1000,
};

/* ---- reading the input ---- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct rd *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t get16(struct rd *r)
{
	uint16_t hi = get8(r);

	return (uint16_t)(hi << 8 | get8(r));
}

/* ---- the model: what was given to the compiler ---- */

struct model {
	struct fg_ip client4, client6, gw4, gw6;
	bool bad_family;                 /* a client or gateway IP of the wrong family */
	size_t n;
	struct fg_policy_resource res[MAX_RES];
	struct fg_ctl_filter filters[MAX_RES][MAX_FILTERS];
	size_t nx;
	struct fg_policy_xlat x[MAX_XLAT];
	uint32_t x_res[MAX_XLAT][MAX_XLAT_RES], x_rank[MAX_XLAT][MAX_XLAT_RES];
	bool valid;                      /* what policy.h says fg_policy_build_nat() accepts */
};

static const char *const ids[] = {
	"a", "b", "c", "ab", "ba", "r1", "r10", "r2",
	"f47ac10b-58cc-4372-a567-0e02b2c3d479", "",
};

static const uint8_t bases4[][4] = {
	{ 10, 0, 0, 0 }, { 100, 64, 0, 1 }, { 100, 96, 0, 1 }, { 172, 16, 0, 0 },
	{ 192, 168, 1, 1 }, { 127, 0, 0, 1 }, { 169, 254, 0, 1 }, { 224, 0, 0, 1 },
	{ 240, 0, 0, 1 }, { 198, 18, 0, 1 }, { 8, 8, 8, 8 }, { 0, 0, 0, 0 },
};

static const uint8_t bases6[][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8 },
	{ 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, [15] = 1 },
	{ 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, [13] = 0x20 },
	{ 0xfc },
	{ 0xfe, 0x80, [15] = 1 },
	{ [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 },
	{ [15] = 1 },
	{ 0xff, 0x02, [15] = 1 },
	{ 0x26, 0x00 },
	{ 0 },
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/*
 * An address of a family: one selector byte s, s % 8 =
 *   0 the client's, 1 the gateway's (zero if unset), 2 a resource's prefix (index byte),
 *   3 a proxy IP (index byte), 4 raw (4 or 16 bytes), 5 a base (index byte) with its last
 *   byte XORed with the next, 6 a base with bytes 8..11 (v6) or 2..3 (v4) raw, 7 all zero;
 * s >> 3 is XORed into the last byte (0: the address as picked).
 */
static struct fg_ip read_ip(struct rd *r, int family, const struct model *m)
{
	struct fg_ip ip = { .family = (uint8_t)family };
	const struct fg_ip *from = NULL;
	size_t alen = addr_len(family);
	uint8_t s = get8(r), k;

	switch (s % 8) {
	case 0:
		from = family == AF_INET ? &m->client4 : &m->client6;
		break;
	case 1:
		from = family == AF_INET ? &m->gw4 : &m->gw6;
		break;
	case 2:
		k = get8(r);
		if (m->n && m->res[k % m->n].prefix.ip.family == family)
			from = &m->res[k % m->n].prefix.ip;
		break;
	case 3:
		k = get8(r);
		if (m->nx && m->x[k % m->nx].proxy.family == family)
			from = &m->x[k % m->nx].proxy;
		break;
	case 4:
		for (size_t i = 0; i < alen; i++)
			ip.addr[i] = get8(r);
		break;
	case 5:
	case 6:
		k = get8(r);
		if (family == AF_INET)
			memcpy(ip.addr, bases4[k % N(bases4)], 4);
		else
			memcpy(ip.addr, bases6[k % N(bases6)], 16);
		if (s % 8 == 5) {
			ip.addr[alen - 1] ^= get8(r);
		} else {
			for (size_t i = alen == 4 ? 2 : 8; i < (alen == 4 ? 4 : 12); i++)
				ip.addr[i] = get8(r);
		}
		break;
	default:
		break;
	}
	if (from && from->family == family)
		memcpy(ip.addr, from->addr, 16);
	ip.addr[alen - 1] ^= (uint8_t)(s >> 3);
	return ip;
}

/* A client, gateway IP: its family, or unset, or (rarely) the wrong family. */
static void read_host(struct rd *r, struct model *m, struct fg_ip *ip, int family, uint8_t how)
{
	memset(ip, 0, sizeof(*ip));
	if (how == 0)
		return;
	*ip = read_ip(r, family, m);
	if (how == 3) {
		ip->family = family == AF_INET ? AF_INET6 : AF_INET;
		m->bad_family = true;
	}
}

static bool ip_same(const struct fg_ip *a, const struct fg_ip *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

/*
 * Model: a flags byte (2 bits each: client4, client6, gw4, gw6: 0 unset, 1-2 set, 3 the
 * wrong family) and their addresses; a count byte (% 13 resources), each: a type byte
 * (% 5: CIDR v4, CIDR v6, Internet, DNS, an unknown type), an id byte (% 10, the last id
 * empty), an expiry byte (0 never, else TIME_BASE - 40 + byte % 80), for CIDR a length byte
 * (% 34 or % 130: one over the maximum is invalid) and an address, a filter byte (% 6
 * filters), each a protocol byte (% 4: TCP, UDP, ICMP, the byte itself) and two 16-bit
 * ports; a count byte (% 5 proxy IPs), each: a family byte (bit 0; bits 1-2: real IP
 * unset, of the same family, of the other one), the proxy and real addresses, a byte
 * (% 5 resources), each an index byte (bit 7 clear: among the DNS resources, else any) and
 * a rank byte.
 */
static void read_model(struct rd *r, struct model *m)
{
	uint8_t flags = get8(r);
	uint32_t dns[MAX_RES], n_dns = 0;

	memset(m, 0, sizeof(*m));
	m->valid = true;
	read_host(r, m, &m->client4, AF_INET, flags & 3);
	read_host(r, m, &m->client6, AF_INET6, (flags >> 2) & 3);
	read_host(r, m, &m->gw4, AF_INET, (flags >> 4) & 3);
	read_host(r, m, &m->gw6, AF_INET6, (flags >> 6) & 3);
	m->valid = !m->bad_family;

	m->n = get8(r) % (MAX_RES + 1);
	for (size_t i = 0; i < m->n; i++) {
		struct fg_policy_resource *res = &m->res[i];
		uint8_t type = get8(r) % 5, e;

		snprintf(res->id, sizeof(res->id), "%s", ids[get8(r) % N(ids)]);
		m->valid = m->valid && res->id[0] != '\0';
		e = get8(r);
		res->expires_at = e ? TIME_BASE - 40 + e % 80 : 0;
		if (type <= 1) {
			int family = type == 0 ? AF_INET : AF_INET6;

			res->type = FG_CTL_RES_CIDR;
			res->prefix.len = (uint8_t)(get8(r) % (family == AF_INET ? 34 : 130));
			res->prefix.ip = read_ip(r, family, m);
			m->valid = m->valid && res->prefix.len <= addr_len(family) * 8;
		} else if (type == 2) {
			res->type = FG_CTL_RES_INTERNET;
		} else if (type == 3) {
			res->type = FG_CTL_RES_DNS;
			dns[n_dns++] = (uint32_t)i;
		} else {
			res->type = 7;
			m->valid = false;
		}
		res->n_filters = get8(r) % (MAX_FILTERS + 1);
		res->filters = res->n_filters ? m->filters[i] : NULL;
		for (uint32_t f = 0; f < res->n_filters; f++) {
			static const uint8_t protos[] = { FG_CTL_FILTER_TCP, FG_CTL_FILTER_UDP, FG_CTL_FILTER_ICMP };
			uint8_t p = get8(r);

			m->filters[i][f].proto = p % 4 < 3 ? protos[p % 4] : p;
			m->filters[i][f].port_lo = get16(r);
			m->filters[i][f].port_hi = get16(r);
		}
	}

	m->nx = get8(r) % (MAX_XLAT + 1);
	for (size_t i = 0; i < m->nx; i++) {
		struct fg_policy_xlat *x = &m->x[i];
		uint8_t f = get8(r);
		int family = f & 1 ? AF_INET6 : AF_INET;

		x->proxy = read_ip(r, family, m);
		x->real = read_ip(r, (f >> 1) % 4 == 2 ? (family == AF_INET ? AF_INET6 : AF_INET) : family, m);
		if ((f >> 1) % 4 == 0 || (f >> 1) % 4 == 3)
			memset(&x->real, 0, sizeof(x->real));
		x->n_res = get8(r) % (MAX_XLAT_RES + 1);
		x->res = m->x_res[i];
		x->rank = m->x_rank[i];
		for (uint32_t j = 0; j < x->n_res; j++) {
			uint8_t k = get8(r);

			if (!(k & 0x80) && n_dns)
				m->x_res[i][j] = dns[k % n_dns];
			else
				m->x_res[i][j] = k % (MAX_RES + 1);
			m->x_rank[i][j] = get8(r);
			m->valid = m->valid && m->x_res[i][j] < m->n &&
				   m->res[m->x_res[i][j]].type == FG_CTL_RES_DNS;
		}
		for (size_t j = 0; j < i; j++)
			m->valid = m->valid && !ip_same(&m->x[j].proxy, &x->proxy);
	}
}

/* ---- the reference ---- */

/* One (prefix, resource) pair: a CIDR resource, an Internet resource per family (/0), or a
 * DNS resource at one of its proxy IPs (a host route with a rank). */
struct entry {
	int family;
	uint8_t addr[16];
	unsigned len;
	uint32_t res, rank;
	bool internet;
};

struct ref {
	const struct model *m;
	size_t n;
	struct entry e[MAX_ENTRIES];
};

static void ref_add(struct ref *f, int family, const uint8_t *addr, unsigned len, uint32_t res,
		    uint32_t rank, bool internet)
{
	struct entry *e = &f->e[f->n++];

	memset(e, 0, sizeof(*e));
	e->family = family;
	if (addr)
		memcpy(e->addr, addr, addr_len(family));
	e->len = len;
	e->res = res;
	e->rank = rank;
	e->internet = internet;
}

static void ref_build(struct ref *f, const struct model *m)
{
	f->m = m;
	f->n = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		const struct fg_policy_resource *r = &m->res[i];

		if (r->type == FG_CTL_RES_CIDR) {
			ref_add(f, r->prefix.ip.family, r->prefix.ip.addr, r->prefix.len, i, 0, false);
		} else if (r->type == FG_CTL_RES_INTERNET) {
			ref_add(f, AF_INET, NULL, 0, i, 0, true);
			ref_add(f, AF_INET6, NULL, 0, i, 0, true);
		}
	}
	for (size_t i = 0; i < m->nx; i++)
		for (uint32_t j = 0; j < m->x[i].n_res; j++)
			ref_add(f, m->x[i].proxy.family, m->x[i].proxy.addr,
				(unsigned)addr_len(m->x[i].proxy.family) * 8, m->x[i].res[j],
				m->x[i].rank[j], false);
}

/* Bit i of an address, counted from the most significant bit of the first byte. */
static int bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static bool prefix_has(const uint8_t *net, unsigned len, const uint8_t *a)
{
	for (unsigned i = 0; i < len; i++)
		if (bit(net, i) != bit(a, i))
			return false;
	return true;
}

/* Whether an address lies in one of the ranges, given as (bytes, length) rows. */
struct range {
	uint8_t a[16];
	unsigned len;
};

static bool in_ranges(const struct range *r, size_t n, const uint8_t *a)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_has(r[i].a, r[i].len, a))
			return true;
	return false;
}

static const struct range multicast4[] = { { { 224 }, 4 } };
static const struct range multicast6[] = { { { 0xff }, 8 } };
static const struct range tunnel4[] = { { { 100, 64 }, 11 } };
static const struct range tunnel6[] = { { { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 }, 107 } };
static const struct range excluded4[] = {
	{ { 10 }, 8 }, { { 172, 16 }, 12 }, { { 192, 168 }, 16 }, { { 127 }, 8 },
	{ { 169, 254 }, 16 }, { { 100, 64 }, 10 }, { { 224 }, 4 }, { { 240 }, 4 },
};
static const struct range excluded6[] = {
	{ { [15] = 1 }, 128 }, { { [10] = 0xff, [11] = 0xff }, 96 }, { { 0xfc }, 7 },
	{ { 0xfe, 0x80 }, 10 }, { { 0xff }, 8 },
};

#define IN(list4, list6, fam, a) \
	((fam) == AF_INET ? in_ranges(list4, N(list4), a) : in_ranges(list6, N(list6), a))

/* What the reference reads from a packet. */
struct rp {
	int family;
	uint8_t src[16], dst[16];
	int first_nh, proto;
	bool later;             /* a non-first fragment */
	bool icmp;              /* ICMP of the packet's own family */
	bool icmp_error;
	unsigned sport, dport;
};

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static bool ref_parse(const uint8_t *b, uint32_t len, struct rp *v)
{
	unsigned hl, end, l4;

	memset(v, 0, sizeof(*v));
	if (len < 1)
		return false;
	if (b[0] >> 4 == 4) {
		if (len < 20)
			return false;
		hl = 4u * (b[0] & 15);
		end = be16(b + 2);
		if (hl < 20 || end < hl || end > len)
			return false;
		v->family = AF_INET;
		memcpy(v->src, b + 12, 4);
		memcpy(v->dst, b + 16, 4);
		v->first_nh = v->proto = b[9];
		v->later = (be16(b + 6) & 0x1fff) != 0;
		l4 = hl;
	} else if (b[0] >> 4 == 6) {
		if (len < 40)
			return false;
		end = 40 + be16(b + 4);
		if (end > len)
			return false;
		v->family = AF_INET6;
		memcpy(v->src, b + 8, 16);
		memcpy(v->dst, b + 24, 16);
		v->first_nh = v->proto = b[6];
		l4 = 40;
		/* Hop-by-hop, routing, fragment, destination options, AH: at most 8. */
		for (int count = 0;; count++) {
			int nh = v->proto;
			unsigned size;

			if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
				break;
			if (count == 8 || end < l4 + 8)
				return false;
			size = nh == 44 ? 8 : nh == 51 ? 4u * (b[l4 + 1] + 2u) : 8u * (b[l4 + 1] + 1u);
			if (end < l4 + size)
				return false;
			v->proto = b[l4];
			if (nh == 44 && be16(b + l4 + 2) >> 3)
				v->later = true;
			l4 += size;
			if (v->later)
				break;
		}
	} else {
		return false;
	}
	v->icmp = v->proto == (v->family == AF_INET ? 1 : 58);
	if (v->later)
		return true;
	if (v->proto == 6 || v->proto == 17) {
		if (end - l4 < (v->proto == 6 ? 20u : 8u))
			return false;
		v->sport = be16(b + l4);
		v->dport = be16(b + l4 + 2);
	} else if (v->icmp) {
		uint8_t t;

		if (end - l4 < 8)
			return false;
		t = b[l4];
		v->icmp_error = v->family == AF_INET ? (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
						     : t < 128;
	}
	return true;
}

static bool in_force(const struct fg_policy_resource *r, uint64_t now)
{
	return r->expires_at == 0 || now < r->expires_at;
}

static bool permits(const struct fg_policy_resource *r, const struct rp *v, unsigned port)
{
	if (r->n_filters == 0)
		return true;
	for (uint32_t i = 0; i < r->n_filters; i++) {
		const struct fg_ctl_filter *f = &r->filters[i];

		if (f->proto == FG_CTL_FILTER_ICMP) {
			if (v->icmp)
				return true;
		} else if ((f->proto == FG_CTL_FILTER_TCP && v->proto == 6) ||
			   (f->proto == FG_CTL_FILTER_UDP && v->proto == 17)) {
			if (f->port_lo <= f->port_hi &&
			    (v->later || (port >= f->port_lo && port <= f->port_hi)))
				return true;
		}
	}
	return false;
}

/* The winning entry for address a (its resource index), or -1: permits > longest prefix >
 * rank > highest id. *covered: whether any entry in force covers a. */
static int ref_classify(const struct ref *f, const struct rp *v, const uint8_t *a, unsigned port,
			uint64_t now, bool skip_internet, bool *covered)
{
	const struct entry *best = NULL;

	*covered = false;
	for (size_t i = 0; i < f->n; i++) {
		const struct entry *e = &f->e[i];
		const struct fg_policy_resource *r = &f->m->res[e->res];

		if (e->family != v->family || !prefix_has(e->addr, e->len, a) || !in_force(r, now))
			continue;
		if (e->internet && skip_internet)
			continue;
		*covered = true;
		if (!permits(r, v, port))
			continue;
		if (!best || e->len > best->len || (e->len == best->len && e->rank > best->rank) ||
		    (e->len == best->len && e->rank == best->rank &&
		     strcmp(r->id, f->m->res[best->res].id) > 0))
			best = e;
	}
	return best ? (int)best->res : -1;
}

static const struct fg_ip *host(const struct model *m, bool gw, int family)
{
	const struct fg_ip *ip = gw ? (family == AF_INET ? &m->gw4 : &m->gw6)
				    : (family == AF_INET ? &m->client4 : &m->client6);

	return ip->family == family ? ip : NULL;
}

static bool is_host(const struct model *m, bool gw, int family, const uint8_t *a)
{
	const struct fg_ip *ip = host(m, gw, family);

	return ip && memcmp(ip->addr, a, addr_len(family)) == 0;
}

static const struct fg_policy_xlat *proxy_of(const struct model *m, int family, const uint8_t *a)
{
	for (size_t i = 0; i < m->nx; i++)
		if (m->x[i].proxy.family == family && memcmp(m->x[i].proxy.addr, a, addr_len(family)) == 0)
			return &m->x[i];
	return NULL;
}

static bool internet_in_force(const struct model *m, uint64_t now)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->res[i].type == FG_CTL_RES_INTERNET && in_force(&m->res[i], now))
			return true;
	return false;
}

static bool all_zero(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/* policy.h, fg_policy_outbound(), steps 0-6 and the proxy IPs of DNS resources. */
static enum fg_policy_verdict ref_outbound(const struct ref *f, const uint8_t *b, uint32_t len,
					   uint64_t now, enum fg_drop *why, int *winner)
{
	const struct fg_policy_xlat *x;
	struct rp v;
	bool covered, excluded;
	enum fg_policy_verdict denied;

	*winner = -1;
	*why = FG_DROP_NONE;
	if (!ref_parse(b, len, &v))
		return *why = FG_DROP_INNER_MALFORMED, FG_POLICY_DROP;
	if (IN(multicast4, multicast6, v.family, v.dst))
		return *why = FG_DROP_POLICY_MULTICAST, FG_POLICY_DROP;
	if (v.family == AF_INET6 && v.first_nh == 0xff && all_zero(v.src) && all_zero(v.dst))
		return *why = FG_DROP_P2P_EVENT, FG_POLICY_CONTROL;
	if (v.icmp_error)
		return *why = FG_DROP_POLICY_ICMP_ERROR, FG_POLICY_DROP;
	if (!is_host(f->m, false, v.family, v.src))
		return *why = FG_DROP_POLICY_SOURCE, FG_POLICY_DROP;
	if (is_host(f->m, true, v.family, v.dst))
		return FG_POLICY_ALLOW;
	/* A non-first fragment is dropped with the reason its answer would have had. */
	denied = v.later ? FG_POLICY_DROP : FG_POLICY_PROHIBITED;
	if ((x = proxy_of(f->m, v.family, v.dst))) {
		*winner = ref_classify(f, &v, v.dst, v.dport, now, true, &covered);
		if (*winner < 0)
			return *why = FG_DROP_POLICY_PROHIBITED, denied;
		if (x->real.family != x->proxy.family) {
			*winner = -1;
			*why = FG_DROP_POLICY_NET_UNREACHABLE;
			return v.later ? FG_POLICY_DROP : FG_POLICY_NET_UNREACHABLE;
		}
		return FG_POLICY_ALLOW;
	}
	if (IN(tunnel4, tunnel6, v.family, v.dst))
		return *why = FG_DROP_POLICY_HAIRPIN, FG_POLICY_PROHIBITED;
	excluded = IN(excluded4, excluded6, v.family, v.dst);
	*winner = ref_classify(f, &v, v.dst, v.dport, now, excluded, &covered);
	if (*winner >= 0)
		return FG_POLICY_ALLOW;
	if (!covered && excluded && internet_in_force(f->m, now)) {
		*why = FG_DROP_POLICY_NET_UNREACHABLE;
		return v.later ? FG_POLICY_DROP : FG_POLICY_NET_UNREACHABLE;
	}
	return *why = FG_DROP_POLICY_PROHIBITED, denied;
}

/* policy.h, fg_policy_inbound(). */
static enum fg_policy_verdict ref_inbound(const struct ref *f, const uint8_t *b, uint32_t len,
					  uint64_t now, enum fg_drop *why)
{
	struct rp v;
	bool covered, proxy;

	*why = FG_DROP_NONE;
	if (!ref_parse(b, len, &v))
		return *why = FG_DROP_TUN_MALFORMED, FG_POLICY_DROP;
	if (!is_host(f->m, false, v.family, v.dst))
		return *why = FG_DROP_POLICY_INBOUND, FG_POLICY_DROP;
	if (is_host(f->m, true, v.family, v.src))
		return FG_POLICY_ALLOW;
	proxy = proxy_of(f->m, v.family, v.src) != NULL;
	if (!proxy && IN(tunnel4, tunnel6, v.family, v.src))
		return *why = FG_DROP_POLICY_HAIRPIN, FG_POLICY_DROP;
	if (v.icmp_error ||
	    ref_classify(f, &v, v.src, v.sport, now,
			 proxy || IN(excluded4, excluded6, v.family, v.src), &covered) >= 0)
		return FG_POLICY_ALLOW;
	return *why = FG_DROP_POLICY_INBOUND, FG_POLICY_DROP;
}

/* ---- packets ---- */

static uint32_t put_ip_hdr4(uint8_t *b, uint8_t proto, const struct fg_ip *src,
			    const struct fg_ip *dst, uint8_t frag, uint8_t opts)
{
	uint32_t hl = 20 + 4u * ((opts & 15) % 11);

	memset(b, 0, hl);
	b[0] = (uint8_t)(0x40 | hl / 4);
	if (frag & 1)
		b[6] = 0x20;                       /* more fragments */
	if (frag & 2)
		b[7] = (uint8_t)(1 + (frag >> 5)); /* offset in 8-byte units */
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, src->addr, 4);
	memcpy(b + 16, dst->addr, 4);
	return hl;
}

/* IPv6 header and extension headers: (ext & 15) % 10 destination options, then a fragment
 * header (frag bit 0; bit 1: a non-first one), then an AH (ext bit 4). */
static uint32_t put_ip_hdr6(uint8_t *b, uint8_t proto, const struct fg_ip *src,
			    const struct fg_ip *dst, uint8_t frag, uint8_t ext)
{
	uint8_t *nh = b + 6;
	uint32_t off = 40;

	memset(b, 0, 40);
	b[0] = 0x60;
	b[7] = 64;
	memcpy(b + 8, src->addr, 16);
	memcpy(b + 24, dst->addr, 16);
	for (unsigned i = 0; i < (ext & 15u) % 10; i++) {
		*nh = 60;
		memset(b + off, 0, 8);
		b[off + 2] = 1;                    /* PadN */
		b[off + 3] = 4;
		nh = b + off;
		off += 8;
	}
	if (frag & 1) {
		*nh = 44;
		memset(b + off, 0, 8);
		b[off + 3] = frag & 2 ? (uint8_t)(8 * (1 + (frag >> 5))) : 1;
		nh = b + off;
		off += 8;
	}
	if (ext & 16) {
		*nh = 51;
		memset(b + off, 0, 24);
		b[off + 1] = 4;                    /* (4 + 2) x 4 = 24 bytes */
		nh = b + off;
		off += 24;
	}
	*nh = proto;
	return off;
}

/*
 * A packet: a kind byte; bit 7 set: raw, a length byte and that many bytes. Otherwise bit
 * 0 is the family; then the source and destination addresses (read_ip), a protocol byte
 * (% 6: TCP, UDP, ICMP of the family, ICMP of the other family, the next byte, 0xff), two
 * 16-bit ports or an ICMP type byte, a fragment byte (bit 0 fragmented, bit 1 non-first,
 * bits 5-7 the offset), an options byte (IPv4: (byte & 15) % 11 option words; IPv6: the
 * extension headers, put_ip_hdr6()), and a byte of damage: bits 0-2 cut off the L4 header,
 * bits 3-5 padding after the packet, bits 6-7 the IP length field off by 0 (twice), -1 or
 * +1.
 */
static uint32_t read_packet(struct rd *r, const struct model *m, uint8_t *b)
{
	uint8_t kind = get8(r), sel, proto, frag, opts, dmg;
	int family = kind & 1 ? AF_INET6 : AF_INET;
	struct fg_ip src, dst;
	uint16_t sport = 0, dport = 0;
	uint8_t icmp_type = 0;
	uint32_t off, l4len, len, pad, cut;
	int skew;

	if (kind & 0x80) {
		len = get8(r);
		for (uint32_t i = 0; i < len; i++)
			b[i] = get8(r);
		return len;
	}
	src = read_ip(r, family, m);
	dst = read_ip(r, family, m);
	sel = get8(r) % 6;
	proto = sel == 0 ? 6 : sel == 1 ? 17 : sel == 2 ? (family == AF_INET ? 1 : 58)
	      : sel == 3 ? (family == AF_INET ? 58 : 1) : sel == 4 ? get8(r) : 0xff;
	if (proto == 6 || proto == 17) {
		sport = get16(r);
		dport = get16(r);
	} else if (proto == 1 || proto == 58) {
		icmp_type = get8(r);
	}
	frag = get8(r);
	opts = get8(r);
	dmg = get8(r);

	off = family == AF_INET ? put_ip_hdr4(b, proto, &src, &dst, frag, opts)
				: put_ip_hdr6(b, proto, &src, &dst, frag, opts);
	l4len = proto == 6 ? 20 : 8;
	memset(b + off, 0, l4len);
	if (proto == 6 || proto == 17) {
		b[off] = (uint8_t)(sport >> 8);
		b[off + 1] = (uint8_t)sport;
		b[off + 2] = (uint8_t)(dport >> 8);
		b[off + 3] = (uint8_t)dport;
		if (proto == 6)
			b[off + 12] = 0x50;
	} else {
		b[off] = icmp_type;
	}
	cut = dmg & 7;
	len = off + l4len - (cut < l4len ? cut : l4len);
	skew = (const int[]){ 0, 0, -1, 1 }[dmg >> 6];
	if (family == AF_INET) {
		b[2] = (uint8_t)((len + (uint32_t)skew) >> 8);
		b[3] = (uint8_t)(len + (uint32_t)skew);
	} else {
		b[4] = (uint8_t)((len - 40 + (uint32_t)skew) >> 8);
		b[5] = (uint8_t)(len - 40 + (uint32_t)skew);
	}
	pad = (dmg >> 3) & 7;
	memset(b + len, 0xa5, pad);
	return len + pad;
}

/* ---- the harness ---- */

static void check_tables(const struct fg_policy *p, const struct model *m)
{
	uint64_t next = 0;

	CHECK(fg_policy_count(p) == m->n);
	for (size_t i = 0; i < m->n; i++)
		if (m->res[i].expires_at && (next == 0 || m->res[i].expires_at < next))
			next = m->res[i].expires_at;
	CHECK(fg_policy_next_expiry(p) == next);
	CHECK(fg_policy_has_nat(p) == (m->nx > 0));
	CHECK(fg_policy_nat_count(p) == m->nx);
	CHECK(fg_policy_nat_at(p, m->nx) == NULL);
	for (size_t i = 0; i < m->nx; i++) {
		const struct fg_policy_nat *a = fg_policy_nat_at(p, i);
		const struct fg_policy_nat *b = fg_policy_nat_lookup(p, &m->x[i].proxy);
		const struct fg_ip *real = &m->x[i].real;

		CHECK(a && a->index == i);
		/* Sorted: IPv4 first, then by address. */
		if (i > 0) {
			const struct fg_policy_nat *prev = fg_policy_nat_at(p, i - 1);

			CHECK(prev->proxy.family == AF_INET || a->proxy.family == AF_INET6);
			CHECK(prev->proxy.family != a->proxy.family ||
			      memcmp(prev->proxy.addr, a->proxy.addr, addr_len(a->proxy.family)) < 0);
		}
		CHECK(b && ip_same(&b->proxy, &m->x[i].proxy));
		if (real->family == m->x[i].proxy.family)
			CHECK(ip_same(&b->real, real));
		else
			CHECK(b->real.family == 0);
	}
}

static void check_packet(const struct fg_policy *p, const struct ref *f, const uint8_t *b,
			 uint32_t len, uint64_t now)
{
	uint8_t *pkt = malloc(len ? len : 1);
	enum fg_drop why = FG_DROP_NONE, ref_why;
	const char *id = (const char *)1;
	enum fg_policy_verdict v, ref_v;
	int winner;

	CHECK(pkt);
	memcpy(pkt, b, len);
	v = fg_policy_outbound(p, pkt, len, now, &why, &id);
	ref_v = ref_outbound(f, b, len, now, &ref_why, &winner);
	if (v != ref_v || why != ref_why || (winner < 0) != (id == NULL) ||
	    (id && strcmp(id, f->m->res[winner].id) != 0)) {
		fprintf(stderr, "outbound: verdict %d reason %d id %s; reference %d %d %s\n", v, why,
			id ? id : "-", ref_v, ref_why, winner >= 0 ? f->m->res[winner].id : "-");
		abort();
	}
	CHECK(fg_policy_outbound(p, pkt, len, now, NULL, NULL) == v);

	v = fg_policy_inbound(p, pkt, len, now, &why);
	ref_v = ref_inbound(f, b, len, now, &ref_why);
	if (v != ref_v || why != ref_why) {
		fprintf(stderr, "inbound: verdict %d reason %d; reference %d %d\n", v, why, ref_v, ref_why);
		abort();
	}
	CHECK(fg_policy_inbound(p, pkt, len, now, NULL) == v);
	free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	static struct ref f;
	struct rd r = { data, size };
	uint8_t pkt[PKT_MAX];
	struct fg_policy *p;

	read_model(&r, &m);
	errno = 0;
	p = fg_policy_build_nat(m.res, m.n, m.x, m.nx, &m.client4, &m.client6, &m.gw4, &m.gw6);
	if (!m.valid) {
		CHECK(!p && errno == EINVAL);
		return 0;
	}
	CHECK(p);
	check_tables(p, &m);
	ref_build(&f, &m);
	for (unsigned i = 0; i < MAX_PKTS && r.n > 0; i++) {
		uint64_t now = TIME_BASE - 50 + get8(&r) % 100;
		uint32_t len = read_packet(&r, &m, pkt);

		check_packet(p, &f, pkt, len, now);
	}
	fg_policy_free(p);
	return 0;
}
