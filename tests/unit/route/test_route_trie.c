// SPDX-License-Identifier: MIT
/*
 * Route tables on their stride tries (dataplane/worker/route_trie.c), one thread, qsbr NULL:
 * hostile arguments; every prefix length on one address, taken away in random order; -ENOSPC
 * from the rule limit and from the group limit, each leaving the table as it was; groups
 * reused rather than grown; the DPDK heap a table takes at 10 and 10,000 peers; and a
 * differential run against a deliberately naive reference (an array scanned for the longest
 * match) concentrated in a few small ranges, so that groups are made, shared, collapsed and
 * reused all the time, with every IPv4 address of its range checked after each change.
 * EAL in-process with --no-huge -m 128; everything here is owned by the main lcore.
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_eal.h>

#include "addr.h"
#include "route.h"
#include "../cunit_run.h"
#include "route_util.h"

enum {
	DEEP_RULES = 160,      /* per family: small, so the rule limit is reached */
	DEEP_STEPS = 6000,
	DEEP_VALUES = 24,
	V4_RANGE_BITS = 10,    /* the differential's IPv4 range: 10.0.0.0/22, checked whole */
	SCATTER_RULES = 16,    /* IPv6 limit of the group test: 2 * 16 + 64 = 96 groups */
	DEFAULT_RULES = 4096 * 4 + 1024, /* what dp.c gives each family at MaxPeers 4096 */
};

static uint64_t rng = 0x64400000fd002021ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* --- the naive reference -------------------------------------------------------- */

struct ref {
	struct fg_prefix p[2 * DEEP_RULES + 8];
	uint32_t value[2 * DEEP_RULES + 8];
	int n;
};

static bool covers(const struct fg_prefix *p, const struct fg_ip *ip)
{
	unsigned whole = p->len / 8u, rest = p->len % 8u;

	if (p->ip.family != ip->family || memcmp(p->ip.addr, ip->addr, whole) != 0)
		return false;
	return rest == 0 || ((p->ip.addr[whole] ^ ip->addr[whole]) & (0xff00u >> rest) & 0xff) == 0;
}

static void clear_host_bits(struct fg_prefix *p)
{
	for (unsigned bit = p->len; bit < 128; bit++)
		p->ip.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

static long ref_lookup(const struct ref *r, const struct fg_ip *ip)
{
	long best = MISS;
	int best_len = -1;

	for (int i = 0; i < r->n; i++)
		if (r->p[i].len > best_len && covers(&r->p[i], ip)) {
			best_len = r->p[i].len;
			best = r->value[i];
		}
	return best;
}

static int ref_find(const struct ref *r, const struct fg_prefix *p)
{
	for (int i = 0; i < r->n; i++)
		if (r->p[i].ip.family == p->ip.family && r->p[i].len == p->len &&
		    memcmp(r->p[i].ip.addr, p->ip.addr, 16) == 0)
			return i;
	return -1;
}

static int ref_rules(const struct ref *r, int family)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->p[i].ip.family == family && r->p[i].len > 0;
	return n;
}

/* --- hostile arguments ------------------------------------------------------------ */

static void test_hostile(void)
{
	struct fg_route_table *t = fg_route_create("hostile", 64, 64, NULL);
	static const uint8_t families[] = { 0, AF_UNIX, AF_INET6 + 1, 255 };
	struct fg_prefix p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t i = 0; i < sizeof(families); i++) {
		memset(&p, 0, sizeof(p));
		p.ip.family = families[i];
		p.len = 8;
		CU_ASSERT_EQUAL(fg_route_add(t, &p, 1), -EINVAL);
		CU_ASSERT_EQUAL(fg_route_del(t, &p), -EINVAL);
	}
	p = pfx("10.0.0.0/8");
	for (unsigned len = 33; len <= 255; len += 37) {
		p.len = (uint8_t)len;
		CU_ASSERT_EQUAL(fg_route_add(t, &p, 1), -EINVAL);
	}
	p = pfx("fd00::/8");
	p.len = 129;
	CU_ASSERT_EQUAL(fg_route_add(t, &p, 1), -EINVAL);
	p.len = 255;
	CU_ASSERT_EQUAL(fg_route_del(t, &p), -EINVAL);
	CU_ASSERT_EQUAL(add(t, "10.0.0.0/8", FG_ROUTE_VALUE_MAX + 1), -EINVAL);
	CU_ASSERT_EQUAL(add(t, "10.0.0.0/8", UINT32_MAX), -EINVAL);
	CU_ASSERT_EQUAL(fg_route_del_value(t, UINT32_MAX), -EINVAL);
	CU_ASSERT_EQUAL(fg_route_count(t), 0);

	/* Host bits and the unused bytes of an IPv4 address are ignored. */
	CU_ASSERT_EQUAL(add(t, "10.1.2.3/8", 5), 0);
	CU_ASSERT_EQUAL(lv(t, "10.200.0.1"), 5);
	p = pfx("10.0.0.0/16");
	memset(p.ip.addr + 4, 0xff, 12);
	p.ip.addr[3] = 0x77;
	CU_ASSERT_EQUAL(fg_route_add(t, &p, 6), 0);
	CU_ASSERT_EQUAL(lv(t, "10.0.9.9"), 6);
	CU_ASSERT_EQUAL(del(t, "10.0.0.0/16"), 0);
	CU_ASSERT_EQUAL(lv(t, "10.0.9.9"), 5);
	CU_ASSERT_EQUAL(del(t, "10.9.9.9/8"), 0);
	CU_ASSERT_EQUAL(del(t, "10.9.9.9/8"), -ENOENT);
	CU_ASSERT_EQUAL(lv(t, "10.0.9.9"), MISS);

	/* A v4-mapped IPv6 prefix is IPv6 only. */
	CU_ASSERT_EQUAL(add(t, "::ffff:10.0.0.1/128", 7), 0);
	CU_ASSERT_EQUAL(lv(t, "10.0.0.1"), MISS);
	CU_ASSERT_EQUAL(lv(t, "::ffff:10.0.0.1"), 7);

	/* The extremes of both families. */
	CU_ASSERT_EQUAL(add(t, "0.0.0.0/1", 11), 0);
	CU_ASSERT_EQUAL(add(t, "128.0.0.0/1", 12), 0);
	CU_ASSERT_EQUAL(add(t, "0.0.0.0/32", 13), 0);
	CU_ASSERT_EQUAL(add(t, "255.255.255.255/32", 14), 0);
	CU_ASSERT_EQUAL(lv(t, "0.0.0.0"), 13);
	CU_ASSERT_EQUAL(lv(t, "0.0.0.1"), 11);
	CU_ASSERT_EQUAL(lv(t, "127.255.255.255"), 11);
	CU_ASSERT_EQUAL(lv(t, "255.255.255.255"), 14);
	CU_ASSERT_EQUAL(lv(t, "255.255.255.254"), 12);
	CU_ASSERT_EQUAL(add(t, "::/1", 21), 0);
	CU_ASSERT_EQUAL(add(t, "8000::/1", 22), 0);
	CU_ASSERT_EQUAL(add(t, "::/128", 23), 0);
	CU_ASSERT_EQUAL(add(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", FG_ROUTE_VALUE_MAX), 0);
	CU_ASSERT_EQUAL(lv(t, "::"), 23);
	CU_ASSERT_EQUAL(lv(t, "::1"), 21);
	CU_ASSERT_EQUAL(lv(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), FG_ROUTE_VALUE_MAX);
	CU_ASSERT_EQUAL(lv(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 22);
	CU_ASSERT_EQUAL(lv(t, "::ffff:10.0.0.1"), 7);
	CU_ASSERT_EQUAL(fg_route_count(t), 9);
	CU_ASSERT_EQUAL(fg_route_del_value(t, FG_ROUTE_VALUE_MAX), 1);
	CU_ASSERT_EQUAL(lv(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 22);
	fg_route_free(t);
}

/* Every length from 1 to the family's width on one address, removed in random order: after
 * each removal, the address and its neighbour at every bit see the longest that remains. */
static void nested_family(const char *addr, unsigned width)
{
	struct fg_route_table *t = fg_route_create("nested", 160, 160, NULL);
	struct ref *r = calloc(1, sizeof(*r));
	unsigned order[128];
	struct fg_ip base;
	long wrong = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FATAL(fg_ip_parse(addr, &base) == 0);
	for (unsigned len = 1; len <= width; len++) {
		struct fg_prefix p = { .ip = base, .len = (uint8_t)len };

		clear_host_bits(&p);
		CU_ASSERT_EQUAL(fg_route_add(t, &p, len * 3), 0);
		r->p[r->n] = p;
		r->value[r->n++] = len * 3;
		order[len - 1] = len;
	}
	for (unsigned i = width; i-- > 1;) {
		unsigned j = below(i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (unsigned k = 0; k <= width; k++) {
		for (unsigned bit = 0; bit <= width; bit++) {
			struct fg_ip ip = base;

			if (bit < width)
				ip.addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
			wrong += look(t, &ip) != ref_lookup(r, &ip);
		}
		if (k == width)
			break;
		for (int i = 0; i < r->n; i++)
			if (r->p[i].len == order[k]) {
				CU_ASSERT_EQUAL(fg_route_del(t, &r->p[i]), 0);
				r->p[i] = r->p[--r->n];
				r->value[i] = r->value[r->n];
				break;
			}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(fg_route_count(t), 0);
	free(r);
	fg_route_free(t);
}

static void test_nested_lengths(void)
{
	for (int round = 0; round < 4; round++) {
		nested_family("100.64.3.77", 32);
		nested_family("fd00:2021:1111::1:2e7f", 128);
	}
}

/* --- -ENOSPC ---------------------------------------------------------------------- */

/* IPv6 /128s far apart (distinct first 16 bits): each needs 14 groups of its own. */
static struct fg_prefix scattered(unsigned k)
{
	struct fg_prefix p = pfx("2001:db8::1/128");

	p.ip.addr[0] = (uint8_t)(0x20 + k);
	p.ip.addr[15] = (uint8_t)k;
	return p;
}

static void test_enospc(void)
{
	struct fg_route_table *t = fg_route_create("enospc", 8, SCATTER_RULES, NULL);
	struct fg_prefix p, q;
	size_t bytes;
	unsigned fit = 0;
	int rc = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* IPv4: scattered /32s need 2 groups each, within the limit of 2 per rule. */
	for (unsigned k = 0; k < 8; k++) {
		p = pfx("1.0.0.1/32");
		p.ip.addr[0] = (uint8_t)(1 + 29 * k);
		CU_ASSERT_EQUAL(fg_route_add(t, &p, 100 + k), 0);
	}
	CU_ASSERT_EQUAL(add(t, "9.9.9.9/32", 1), -ENOSPC);        /* the rule limit */
	CU_ASSERT_EQUAL(lv(t, "9.9.9.9"), MISS);
	CU_ASSERT_EQUAL(add(t, "1.0.0.1/32", 7), 0);              /* a replacement needs no room */
	CU_ASSERT_EQUAL(lv(t, "1.0.0.1"), 7);

	/* IPv6: 96 groups hold 6 such chains, not 7, although 16 rules are allowed. */
	while (fit < SCATTER_RULES) {
		p = scattered(fit);
		rc = fg_route_add(t, &p, 200 + fit);
		if (rc != 0)
			break;
		fit++;
	}
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_EQUAL(fit, 6);
	CU_ASSERT_EQUAL(fg_route_count(t), 8 + fit);
	bytes = fg_route_heap_bytes(t);
	for (unsigned k = 0; k < fit; k++) {
		q = scattered(k);
		CU_ASSERT_EQUAL(look(t, &q.ip), 200 + k);
	}
	CU_ASSERT_EQUAL(look(t, &p.ip), MISS);                    /* the refused one */
	/* A neighbour of a held chain needs no group, and is accepted. */
	q = scattered(0);
	q.ip.addr[15] ^= 0x80;
	CU_ASSERT_EQUAL(fg_route_add(t, &q, 300), 0);
	CU_ASSERT_EQUAL(look(t, &q.ip), 300);
	/* One chain away: its groups come back after the grace period and the refused fits. */
	q = scattered(1);
	CU_ASSERT_EQUAL(fg_route_del(t, &q), 0);
	CU_ASSERT_EQUAL(fg_route_add(t, &p, 200 + fit), 0);
	CU_ASSERT_EQUAL(look(t, &p.ip), 200 + fit);
	CU_ASSERT_EQUAL(look(t, &q.ip), MISS);
	CU_ASSERT_EQUAL(fg_route_heap_bytes(t), bytes);

	/* Churn: 200 rounds of removing and adding chains take no more memory. */
	for (int round = 0; round < 200; round++) {
		unsigned k = below(fit + 1);

		q = scattered(k == 1 ? fit : k);
		if (fg_route_del(t, &q) == 0)
			CU_ASSERT_EQUAL(fg_route_add(t, &q, 5), 0);
	}
	CU_ASSERT_EQUAL(fg_route_heap_bytes(t), bytes);
	fg_route_free(t);
}

/* --- memory ----------------------------------------------------------------------- */

static void add_peers(struct fg_route_table *t, uint32_t from, uint32_t n, bool random)
{
	for (uint32_t i = from; i < from + n; i++) {
		/* 100.64.0.0/11 and fd00:2021:1111::/107: 21 bits of host. */
		uint32_t host = random ? below(1u << 21) : i + 1;
		struct fg_prefix p = pfx("100.64.0.0/32");

		p.ip.addr[1] = (uint8_t)(64 | host >> 16);
		p.ip.addr[2] = (uint8_t)(host >> 8);
		p.ip.addr[3] = (uint8_t)host;
		CU_ASSERT_EQUAL(fg_route_add(t, &p, i), 0);
		p = pfx("fd00:2021:1111::/128");
		p.ip.addr[13] = (uint8_t)(host >> 16);
		p.ip.addr[14] = (uint8_t)(host >> 8);
		p.ip.addr[15] = (uint8_t)host;
		CU_ASSERT_EQUAL(fg_route_add(t, &p, i), 0);
	}
}

static void test_memory(void)
{
	struct fg_route_table *t = fg_route_create("mem", DEFAULT_RULES, DEFAULT_RULES, NULL);
	size_t empty, b10, b10k, brand;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	empty = fg_route_heap_bytes(t);
	add_peers(t, 0, 10, false);
	b10 = fg_route_heap_bytes(t);
	add_peers(t, 10, 9990, false);
	b10k = fg_route_heap_bytes(t);
	CU_ASSERT_EQUAL(fg_route_count(t), 20000);
	printf("\n  %u rules per family: empty %zu KiB, 10 peers %zu KiB, 10,000 consecutive "
	       "peers %zu KiB", DEFAULT_RULES, empty >> 10, b10 >> 10, b10k >> 10);
	/* Two 256 KiB first levels, their chunk tables and a 64 KiB chunk or two each. */
	CU_ASSERT(empty < 600 * 1024);
	CU_ASSERT(b10 < 1024 * 1024);
	CU_ASSERT(b10k < 1024 * 1024);
	for (uint32_t i = 0; i < 10000; i++)
		CU_ASSERT_EQUAL(fg_route_del_value(t, i), 2);
	CU_ASSERT_EQUAL(fg_route_count(t), 0);
	CU_ASSERT_EQUAL(fg_route_heap_bytes(t), b10k);   /* chunks are kept for reuse */

	/* 4096 peers anywhere in the tunnel ranges: about one group per rule, within the cap. */
	add_peers(t, 0, 4096, true);
	brand = fg_route_heap_bytes(t);
	printf(", 4096 random peers %zu KiB ", brand >> 10);
	CU_ASSERT(brand < 12 * 1024 * 1024);
	fg_route_free(t);
}

/* --- differential, concentrated ----------------------------------------------------- */

/* A prefix in 10.0.0.0/22 (any length, mostly long), in fd00:2021:1111::/107, or anywhere. */
static void gen_prefix(struct fg_prefix *p, int v6)
{
	uint32_t kind = below(16);

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 16; i++)
		p->ip.addr[i] = (uint8_t)rnd();
	if (!v6) {
		p->ip.family = AF_INET;
		memset(p->ip.addr + 4, 0, 12);
		if (kind < 14) {
			p->ip.addr[0] = 10;
			p->ip.addr[1] = 0;
			p->ip.addr[2] &= 0x3;
			p->len = (uint8_t)(below(4) ? 22 + below(11) : 1 + below(32));
		} else {
			p->len = (uint8_t)(1 + below(32));
		}
	} else {
		static const uint8_t tun6[13] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };

		p->ip.family = AF_INET6;
		if (kind < 14) {
			memcpy(p->ip.addr, tun6, sizeof(tun6));
			p->ip.addr[13] &= 0x1f;
			p->ip.addr[14] &= 0x3;
			p->len = (uint8_t)(below(4) ? 104 + below(25) : 1 + below(128));
		} else {
			p->len = (uint8_t)(1 + below(128));
		}
	}
	clear_host_bits(p);
}

static void gen_addr6(const struct ref *r, struct fg_ip *ip)
{
	struct fg_prefix p;

	if (r->n > 0 && below(2)) {
		const struct fg_prefix *h = &r->p[below((uint32_t)r->n)];

		if (h->ip.family == AF_INET6) {
			*ip = h->ip;
			for (unsigned bit = h->len; bit < 128; bit++)
				if (below(4) == 0)
					ip->addr[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
			return;
		}
	}
	gen_prefix(&p, 1);
	*ip = p.ip;
	ip->addr[15] ^= (uint8_t)rnd();
}

/* Every address of 10.0.0.0/22 (the reference painted rule by rule, shortest first), or
 * 48 of them; and 32 IPv6 addresses, mostly near held prefixes. */
static long compare_all(const struct fg_route_table *t, const struct ref *r, bool full)
{
	static long want[1u << V4_RANGE_BITS];
	static int want_len[1u << V4_RANGE_BITS];
	long wrong = 0;

	if (full) {
		for (uint32_t h = 0; h < 1u << V4_RANGE_BITS; h++) {
			want[h] = MISS;
			want_len[h] = -1;
		}
		for (int i = 0; i < r->n; i++) {
			const struct fg_prefix *p = &r->p[i];
			uint32_t a, lo, n;

			if (p->ip.family != AF_INET)
				continue;
			a = (uint32_t)p->ip.addr[0] << 24 | (uint32_t)p->ip.addr[1] << 16 |
			    (uint32_t)p->ip.addr[2] << 8 | p->ip.addr[3];
			if (p->len <= 32 - V4_RANGE_BITS) {
				uint32_t m = p->len ? ~0u << (32 - p->len) : 0;

				if ((a & m) != (0x0a000000u & m))
					continue;
				lo = 0;
				n = 1u << V4_RANGE_BITS;
			} else {
				if ((a >> V4_RANGE_BITS) != 0x0a000000u >> V4_RANGE_BITS)
					continue;
				lo = a & ((1u << V4_RANGE_BITS) - 1);
				n = 1u << (32 - p->len);
			}
			for (uint32_t h = lo; h < lo + n; h++)
				if (p->len > want_len[h]) {
					want_len[h] = p->len;
					want[h] = r->value[i];
				}
		}
	}
	for (uint32_t k = 0; k < (full ? 1u << V4_RANGE_BITS : 48u); k++) {
		struct fg_ip ip = { .family = AF_INET };
		uint32_t h = full ? k : below(1u << V4_RANGE_BITS);

		ip.addr[0] = 10;
		ip.addr[2] = (uint8_t)(h >> 8);
		ip.addr[3] = (uint8_t)h;
		wrong += look(t, &ip) != (full ? want[h] : ref_lookup(r, &ip));
	}
	for (int k = 0; k < 32; k++) {
		struct fg_ip ip;

		gen_addr6(r, &ip);
		if (look(t, &ip) != ref_lookup(r, &ip) && wrong++ < 3) {
			char buf[FG_ADDR_STRLEN];

			printf("\n  %s: got %ld, want %ld", fg_ip_format(&ip, buf, sizeof(buf)),
			       look(t, &ip), ref_lookup(r, &ip));
		}
	}
	return wrong;
}

static int count_cb(void *ctx, const struct fg_prefix *p)
{
	(void)p;
	(*(int *)ctx)++;
	return 0;
}

static void test_differential_deep(void)
{
	struct fg_route_table *t = fg_route_create("deep", DEEP_RULES, DEEP_RULES, NULL);
	struct ref *r = calloc(1, sizeof(*r));
	long wrong = 0, bad = 0, refused = 0;
	size_t peak = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (int step = 0; step < DEEP_STEPS; step++) {
		uint32_t op = below(100);
		struct fg_prefix p;
		int i, rc;

		if (op < 55) {
			uint32_t value = below(DEEP_VALUES);
			int fam;

			gen_prefix(&p, (int)below(2));
			fam = p.ip.family;
			i = ref_find(r, &p);
			rc = fg_route_add(t, &p, value);
			if (i >= 0) {
				bad += rc != 0;
				r->value[i] = value;
			} else if (ref_rules(r, fam) >= DEEP_RULES) {
				bad += rc != -ENOSPC;
			} else if (rc == -ENOSPC) {
				refused++;   /* the IPv6 group limit: the table must be unchanged */
				bad += fam != AF_INET6;
			} else {
				bad += rc != 0;
				r->p[r->n] = p;
				r->value[r->n++] = value;
			}
		} else if (op < 90 && r->n > 0) {
			i = (int)below((uint32_t)r->n);
			bad += fg_route_del(t, &r->p[i]) != 0;
			r->p[i] = r->p[--r->n];
			r->value[i] = r->value[r->n];
		} else if (op < 96) {
			uint32_t value = below(DEEP_VALUES);
			int want = 0, seen = 0;

			for (i = r->n; i-- > 0;)
				want += r->value[i] == value;
			bad += fg_route_foreach_value(t, value, count_cb, &seen) != want || seen != want;
			for (i = r->n; i-- > 0;)
				if (r->value[i] == value) {
					r->p[i] = r->p[--r->n];
					r->value[i] = r->value[r->n];
				}
			bad += fg_route_del_value(t, value) != want;
		} else {
			gen_prefix(&p, (int)below(2));
			bad += fg_route_del(t, &p) != (ref_find(r, &p) >= 0 ? 0 : -ENOENT);
			i = ref_find(r, &p);
			if (i >= 0) {
				r->p[i] = r->p[--r->n];
				r->value[i] = r->value[r->n];
			}
		}
		bad += fg_route_count(t) != (uint32_t)r->n;
		wrong += compare_all(t, r, step % 16 == 0);
		if (fg_route_heap_bytes(t) > peak)
			peak = fg_route_heap_bytes(t);
	}
	while (r->n > 0) {
		bad += fg_route_del(t, &r->p[r->n - 1]) != 0;
		r->n--;
		wrong += compare_all(t, r, r->n % 16 == 0);
	}
	printf("\n  %d steps: %ld wrong lookups, %ld bad returns, %ld refused for groups, "
	       "peak %zu KiB ", DEEP_STEPS, wrong, bad, refused, peak >> 10);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(fg_route_count(t), 0);
	CU_ASSERT_EQUAL(fg_route_heap_bytes(t), peak);
	free(r);
	fg_route_free(t);
}

int main(int argc, char **argv)
{
	static char *defaults[] = {
		"test_route_trie", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
		"--iova-mode=va", "-l", "0", "-m", "128", NULL,
	};
	static const struct fg_cunit_test tests[] = {
		{ "hostile arguments", test_hostile },
		{ "every length on one address", test_nested_lengths },
		{ "ENOSPC: rules and groups", test_enospc },
		{ "DPDK heap at 10 and 10,000 peers", test_memory },
		{ "differential, concentrated", test_differential_deep },
	};
	int ret;

	if (argc < 2) {
		argc = (int)(sizeof(defaults) / sizeof(defaults[0])) - 1;
		argv = defaults;
	}
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "test_route_trie: rte_eal_init failed\n");
		return 1;
	}
	ret = fg_cunit_run("route_trie", tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
