// SPDX-License-Identifier: MIT
/*
 * Route table tests on one thread (qsbr NULL): behaviour of add/del/replace, /0, host routes,
 * longest match, del_value and foreach_value; a differential run against a deliberately naive
 * reference (an array scanned for the longest matching prefix) over thousands of random
 * prefixes with interleaved changes and lookups; and a lookup benchmark that only prints.
 * EAL runs in-process with --no-huge; everything here is owned by the main lcore.
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>

#include "addr.h"
#include "route.h"
#include "../cunit_run.h"
#include "route_util.h"

enum {
	DIFF_RULES = 4096,     /* per family */
	DIFF_STEPS = 20000,
	DIFF_LOOKUPS = 4,      /* per step */
	DIFF_VALUES = 64,      /* small value space so del_value hits several prefixes */
	BENCH_PEERS = 10000,
	BENCH_ADDRS = 1 << 16,
	BENCH_ROUNDS = 64,
};

/* --- functional ------------------------------------------------------------------- */

static void test_v4_longest_match(void)
{
	struct fg_route_table *t = fg_route_create("fn4", 64, 64, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.3"), MISS);
	CU_ASSERT_EQUAL(add(t, "10.0.0.0/8", 1), 0);
	CU_ASSERT_EQUAL(add(t, "10.1.0.0/16", 2), 0);
	CU_ASSERT_EQUAL(add(t, "10.1.2.0/24", 3), 0);
	CU_ASSERT_EQUAL(add(t, "10.1.2.128/25", 4), 0);
	CU_ASSERT_EQUAL(add(t, "10.1.2.3/32", 5), 0);
	CU_ASSERT_EQUAL(add(t, "100.64.0.0/11", 6), 0);
	CU_ASSERT_EQUAL(fg_route_count(t), 6);

	CU_ASSERT_EQUAL(lv(t, "10.200.0.1"), 1);
	CU_ASSERT_EQUAL(lv(t, "10.1.200.1"), 2);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.4"), 3);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.129"), 4);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.255"), 4);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.3"), 5);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.2"), 3);
	CU_ASSERT_EQUAL(lv(t, "100.95.255.255"), 6);
	CU_ASSERT_EQUAL(lv(t, "100.96.0.0"), MISS);
	CU_ASSERT_EQUAL(lv(t, "11.0.0.1"), MISS);
	CU_ASSERT_EQUAL(lv(t, "::ffff:10.1.2.3"), MISS);

	/* Removing a middle level exposes the next shorter prefix only where it ruled. */
	CU_ASSERT_EQUAL(del(t, "10.1.2.0/24"), 0);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.4"), 2);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.129"), 4);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.3"), 5);
	CU_ASSERT_EQUAL(del(t, "10.1.2.0/24"), -ENOENT);
	CU_ASSERT_EQUAL(del(t, "10.1.2.0/23"), -ENOENT);
	CU_ASSERT_EQUAL(fg_route_count(t), 5);

	/* Replace, and host bits ignored: 10.1.77.77/16 is 10.1.0.0/16. */
	CU_ASSERT_EQUAL(add(t, "10.1.77.77/16", 9), 0);
	CU_ASSERT_EQUAL(fg_route_count(t), 5);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.4"), 9);
	CU_ASSERT_EQUAL(add(t, "10.1.0.0/16", 9), 0);
	CU_ASSERT_EQUAL(del(t, "10.1.9.9/16"), 0);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.4"), 1);

	/* Host route removal falls back to the covering /25. */
	CU_ASSERT_EQUAL(del(t, "10.1.2.3/32"), 0);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.3"), 1);
	CU_ASSERT_EQUAL(del(t, "10.1.2.128/25"), 0);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.129"), 1);
	CU_ASSERT_EQUAL(del(t, "10.0.0.0/8"), 0);
	CU_ASSERT_EQUAL(lv(t, "10.1.2.129"), MISS);
	CU_ASSERT_EQUAL(fg_route_count(t), 1);
	fg_route_free(t);
}

static void test_v6_longest_match(void)
{
	struct fg_route_table *t = fg_route_create("fn6", 64, 64, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(add(t, "fd00::/8", 1), 0);
	CU_ASSERT_EQUAL(add(t, "fd00:2021:1111::/48", 2), 0);
	CU_ASSERT_EQUAL(add(t, "fd00:2021:1111::/107", 3), 0);
	CU_ASSERT_EQUAL(add(t, "fd00:2021:1111::2/128", 4), 0);
	CU_ASSERT_EQUAL(add(t, "fd00:2021:1111:0:8000::/65", 5), 0);
	CU_ASSERT_EQUAL(add(t, "fd00:2021:1111::1f:0/123", 6), 0);
	CU_ASSERT_EQUAL(add(t, "2001:db8::/33", 7), 0);

	CU_ASSERT_EQUAL(lv(t, "fd12::1"), 1);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111:1::1"), 2);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::1"), 3);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::1f:ffff"), 3);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::20:0"), 2);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::2"), 4);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::3"), 3);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111:0:8000::1"), 5);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111:0:7fff::1"), 2);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::1f:1f"), 6);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::1f:20"), 3);
	CU_ASSERT_EQUAL(lv(t, "2001:db8:7fff::1"), 7);
	CU_ASSERT_EQUAL(lv(t, "2001:db8:8000::1"), MISS);
	CU_ASSERT_EQUAL(lv(t, "fe80::1"), MISS);
	CU_ASSERT_EQUAL(lv(t, "10.0.0.1"), MISS);

	CU_ASSERT_EQUAL(del(t, "fd00:2021:1111::/107"), 0);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::1"), 2);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::2"), 4);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::1f:1f"), 6);
	CU_ASSERT_EQUAL(add(t, "fd00:2021:1111::2/128", 40), 0);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::2"), 40);
	CU_ASSERT_EQUAL(del(t, "fd00:2021:1111::2/128"), 0);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::2"), 2);
	CU_ASSERT_EQUAL(del(t, "fd00:2021:1111::2/128"), -ENOENT);
	CU_ASSERT_EQUAL(del(t, "fd00::/8"), 0);
	CU_ASSERT_EQUAL(lv(t, "fd12::1"), MISS);
	CU_ASSERT_EQUAL(fg_route_count(t), 4);
	fg_route_free(t);
}

static void test_default_routes(void)
{
	struct fg_route_table *t = fg_route_create("dflt", 16, 16, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(add(t, "0.0.0.0/0", 7), 0);
	CU_ASSERT_EQUAL(lv(t, "1.2.3.4"), 7);
	CU_ASSERT_EQUAL(lv(t, "255.255.255.255"), 7);
	CU_ASSERT_EQUAL(lv(t, "2001:db8::1"), MISS);
	CU_ASSERT_EQUAL(add(t, "1.2.3.4/32", 8), 0);
	CU_ASSERT_EQUAL(lv(t, "1.2.3.4"), 8);
	CU_ASSERT_EQUAL(lv(t, "1.2.3.5"), 7);
	CU_ASSERT_EQUAL(add(t, "9.9.9.9/0", 17), 0); /* host bits: still 0.0.0.0/0 */
	CU_ASSERT_EQUAL(lv(t, "1.2.3.5"), 17);
	CU_ASSERT_EQUAL(add(t, "::/0", 27), 0);
	CU_ASSERT_EQUAL(add(t, "::1/128", 28), 0);
	CU_ASSERT_EQUAL(lv(t, "2001:db8::1"), 27);
	CU_ASSERT_EQUAL(lv(t, "::1"), 28);
	CU_ASSERT_EQUAL(fg_route_count(t), 4);
	CU_ASSERT_EQUAL(del(t, "0.0.0.0/0"), 0);
	CU_ASSERT_EQUAL(del(t, "0.0.0.0/0"), -ENOENT);
	CU_ASSERT_EQUAL(lv(t, "1.2.3.5"), MISS);
	CU_ASSERT_EQUAL(lv(t, "1.2.3.4"), 8);
	CU_ASSERT_EQUAL(lv(t, "2001:db8::1"), 27);
	CU_ASSERT_EQUAL(del(t, "::/0"), 0);
	CU_ASSERT_EQUAL(lv(t, "2001:db8::1"), MISS);
	CU_ASSERT_EQUAL(lv(t, "::1"), 28);
	CU_ASSERT_EQUAL(fg_route_count(t), 2);
	fg_route_free(t);
}

struct collect {
	struct fg_prefix seen[16];
	int n;
	int stop_after;  /* return -ECANCELED once this many were seen; 0 = never */
};

static int collect_cb(void *ctx, const struct fg_prefix *p)
{
	struct collect *c = ctx;

	if (c->n < 16)
		c->seen[c->n] = *p;
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? -ECANCELED : 0;
}

static bool collected(const struct collect *c, const char *prefix)
{
	struct fg_prefix p = pfx(prefix);

	for (int i = 0; i < c->n && i < 16; i++)
		if (memcmp(&c->seen[i], &p, sizeof(p)) == 0)
			return true;
	return false;
}

static void test_del_value_foreach(void)
{
	struct fg_route_table *t = fg_route_create("peers", 64, 64, NULL);
	struct collect c = { .n = 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint32_t peer = 1; peer <= 20; peer++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "100.64.0.%u/32", peer);
		CU_ASSERT_EQUAL(add(t, buf, peer), 0);
		snprintf(buf, sizeof(buf), "fd00:2021:1111::%x/128", peer);
		CU_ASSERT_EQUAL(add(t, buf, peer), 0);
	}
	CU_ASSERT_EQUAL(add(t, "192.168.7.0/24", 2), 0);
	CU_ASSERT_EQUAL(add(t, "192.168.0.0/16", 3), 0);
	CU_ASSERT_EQUAL(add(t, "0.0.0.0/0", 2), 0);
	CU_ASSERT_EQUAL(add(t, "fd99::/64", 2), 0);
	CU_ASSERT_EQUAL(fg_route_count(t), 44);

	/* Host bits of the stored prefixes come back cleared. */
	CU_ASSERT_EQUAL(fg_route_foreach_value(t, 2, collect_cb, &c), 5);
	CU_ASSERT_EQUAL(c.n, 5);
	CU_ASSERT(collected(&c, "100.64.0.2/32"));
	CU_ASSERT(collected(&c, "fd00:2021:1111::2/128"));
	CU_ASSERT(collected(&c, "192.168.7.0/24"));
	CU_ASSERT(collected(&c, "0.0.0.0/0"));
	CU_ASSERT(collected(&c, "fd99::/64"));
	c = (struct collect){ .n = 0, .stop_after = 2 };
	CU_ASSERT_EQUAL(fg_route_foreach_value(t, 2, collect_cb, &c), -ECANCELED);
	CU_ASSERT_EQUAL(c.n, 2);
	c = (struct collect){ .n = 0 };
	CU_ASSERT_EQUAL(fg_route_foreach_value(t, 77, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 0);

	CU_ASSERT_EQUAL(fg_route_del_value(t, 2), 5);
	CU_ASSERT_EQUAL(fg_route_count(t), 39);
	CU_ASSERT_EQUAL(lv(t, "100.64.0.2"), MISS);
	CU_ASSERT_EQUAL(lv(t, "192.168.7.1"), 3);
	CU_ASSERT_EQUAL(lv(t, "8.8.8.8"), MISS);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::2"), MISS);
	CU_ASSERT_EQUAL(lv(t, "fd99::1"), MISS);
	CU_ASSERT_EQUAL(lv(t, "100.64.0.3"), 3);
	CU_ASSERT_EQUAL(lv(t, "fd00:2021:1111::14"), 20);
	c = (struct collect){ .n = 0 };
	CU_ASSERT_EQUAL(fg_route_foreach_value(t, 2, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(fg_route_del_value(t, 2), 0);
	CU_ASSERT_EQUAL(fg_route_del_value(t, FG_ROUTE_VALUE_MAX + 1), -EINVAL);

	/* Values moved by replace follow into the right del_value. */
	CU_ASSERT_EQUAL(add(t, "100.64.0.5/32", 6), 0);
	CU_ASSERT_EQUAL(fg_route_del_value(t, 5), 1);
	CU_ASSERT_EQUAL(lv(t, "100.64.0.5"), 6);
	CU_ASSERT_EQUAL(fg_route_del_value(t, 6), 3);
	CU_ASSERT_EQUAL(lv(t, "100.64.0.5"), MISS);
	CU_ASSERT_EQUAL(lv(t, "100.64.0.6"), MISS);
	CU_ASSERT_EQUAL(fg_route_count(t), 35);
	fg_route_free(t);
}

static void test_limits_and_errors(void)
{
	struct fg_route_table *t, *u;
	struct fg_prefix p;

	errno = 0;
	CU_ASSERT_PTR_NULL(fg_route_create(NULL, 4, 4, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(fg_route_create("zero", 0, 0, NULL));
	CU_ASSERT_PTR_NULL(fg_route_create("huge", FG_ROUTE_RULES_MAX + 1, 1, NULL));

	/* IPv4 only, 4 rules; the same label twice still gets distinct DPDK names. */
	t = fg_route_create("a-rather-long-table-label", 4, 0, NULL);
	u = fg_route_create("a-rather-long-table-label", 4, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	CU_ASSERT_EQUAL(add(u, "10.0.0.0/8", 1), 0);
	CU_ASSERT_EQUAL(lv(t, "10.0.0.1"), MISS);
	fg_route_free(u);

	CU_ASSERT_EQUAL(add(t, "10.0.0.1/32", FG_ROUTE_VALUE_MAX), 0);
	CU_ASSERT_EQUAL(lv(t, "10.0.0.1"), FG_ROUTE_VALUE_MAX);
	CU_ASSERT_EQUAL(add(t, "10.0.0.2/32", FG_ROUTE_VALUE_MAX + 1), -EINVAL);
	CU_ASSERT_EQUAL(add(t, "10.0.0.2/32", 2), 0);
	CU_ASSERT_EQUAL(add(t, "10.0.0.3/32", 3), 0);
	CU_ASSERT_EQUAL(add(t, "10.0.0.4/32", 4), 0);
	CU_ASSERT_EQUAL(add(t, "10.0.0.5/32", 5), -ENOSPC);
	CU_ASSERT_EQUAL(add(t, "10.0.0.4/32", 44), 0);   /* replacing needs no room */
	CU_ASSERT_EQUAL(add(t, "0.0.0.0/0", 9), 0);      /* the /0 is held aside */
	CU_ASSERT_EQUAL(lv(t, "10.0.0.5"), 9);
	CU_ASSERT_EQUAL(lv(t, "10.0.0.4"), 44);
	CU_ASSERT_EQUAL(add(t, "2001:db8::/32", 1), -ENOSPC);
	CU_ASSERT_EQUAL(add(t, "::/0", 1), 0);
	CU_ASSERT_EQUAL(lv(t, "2001:db8::1"), 1);
	CU_ASSERT_EQUAL(fg_route_count(t), 6);
	CU_ASSERT_EQUAL(del(t, "10.0.0.3/32"), 0);
	CU_ASSERT_EQUAL(add(t, "10.0.0.5/32", 5), 0);

	memset(&p, 0, sizeof(p));
	CU_ASSERT_EQUAL(fg_route_add(t, &p, 1), -EINVAL);         /* family unset */
	p.ip.family = AF_INET;
	p.len = 33;
	CU_ASSERT_EQUAL(fg_route_add(t, &p, 1), -EINVAL);
	CU_ASSERT_EQUAL(fg_route_del(t, &p), -EINVAL);
	p.ip.family = AF_INET6;
	p.len = 129;
	CU_ASSERT_EQUAL(fg_route_add(t, &p, 1), -EINVAL);
	CU_ASSERT_EQUAL(fg_route_add(t, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(fg_route_count(t), 6);
	fg_route_free(t);
	fg_route_free(NULL);
}

/* --- differential against a naive reference -------------------------------------- */

struct ref_rule {
	struct fg_prefix p;
	uint32_t value;
};

struct ref {
	struct ref_rule *r;
	size_t n;
};

static uint64_t rng;

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

/* Clears host bits one bit at a time: slow and obvious on purpose. */
static void ref_mask(struct fg_prefix *p)
{
	for (unsigned int bit = p->len; bit < 128; bit++)
		p->ip.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

static bool ref_contains(const struct fg_prefix *p, const struct fg_ip *ip)
{
	unsigned int whole = p->len / 8u;

	if (p->ip.family != ip->family || memcmp(p->ip.addr, ip->addr, whole) != 0)
		return false;
	for (unsigned int bit = whole * 8; bit < p->len; bit++) {
		unsigned int m = 0x80u >> (bit % 8);

		if ((p->ip.addr[bit / 8] & m) != (ip->addr[bit / 8] & m))
			return false;
	}
	return true;
}

static long ref_find(const struct ref *ref, const struct fg_prefix *p)
{
	for (size_t i = 0; i < ref->n; i++)
		if (ref->r[i].p.ip.family == p->ip.family && ref->r[i].p.len == p->len &&
		    memcmp(ref->r[i].p.ip.addr, p->ip.addr, 16) == 0)
			return (long)i;
	return -1;
}

static long ref_lookup(const struct ref *ref, const struct fg_ip *ip)
{
	long best = -1;
	int best_len = -1;

	for (size_t i = 0; i < ref->n; i++)
		if (ref->r[i].p.len > best_len && ref_contains(&ref->r[i].p, ip)) {
			best = (long)ref->r[i].value;
			best_len = ref->r[i].p.len;
		}
	return best;
}

static void ref_remove(struct ref *ref, size_t i)
{
	ref->r[i] = ref->r[--ref->n];
}

/* Random prefix (host bits left set) biased to overlapping short prefixes and the tunnel
 * ranges 100.64.0.0/11 and fd00:2021:1111::/107. */
static void gen_prefix(struct fg_prefix *p, int v6)
{
	static const uint8_t tun6[13] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 }; /* /104 */
	uint32_t kind = below(20);

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 16; i++)
		p->ip.addr[i] = (uint8_t)rnd();
	if (!v6) {
		p->ip.family = AF_INET;
		memset(p->ip.addr + 4, 0, 12);
		if (kind < 7) {
			p->len = (uint8_t)below(17);               /* short, mostly overlapping */
			p->ip.addr[0] &= 0x0f;
		} else if (kind < 15) {
			p->ip.addr[0] = 100;                       /* 100.64.0.0/11 */
			p->ip.addr[1] = (uint8_t)(64 | (p->ip.addr[1] & 0x1f));
			p->len = (uint8_t)(below(2) ? 32 : 11 + below(22));
		} else if (kind < 18) {
			p->ip.addr[0] = 10;
			p->ip.addr[1] = (uint8_t)below(4);
			p->len = (uint8_t)(16 + below(17));
		} else {
			p->len = (uint8_t)below(33);
		}
	} else {
		p->ip.family = AF_INET6;
		if (kind < 6) {
			p->ip.addr[0] = 0xfd;
			p->ip.addr[1] &= 0x03;
			p->len = (uint8_t)below(49);
		} else if (kind < 14) {
			memcpy(p->ip.addr, tun6, sizeof(tun6));
			p->ip.addr[13] &= 0x1f;                    /* /107 */
			p->len = (uint8_t)(below(2) ? 128 : 96 + below(33));
		} else if (kind < 17) {
			memcpy(p->ip.addr, tun6, 6);
			p->ip.addr[6] = 0;
			p->ip.addr[7] &= 0x07;
			p->len = (uint8_t)(48 + below(33));
		} else {
			p->len = (uint8_t)below(129);
		}
	}
}

/* An address to look up: inside the tunnel ranges, inside a held prefix, or anywhere. */
static void gen_addr(const struct ref *ref, struct fg_ip *ip, int v6)
{
	struct fg_prefix p;
	uint32_t kind = below(10);

	if (kind < 5 && ref->n > 0) {
		const struct ref_rule *r = &ref->r[below((uint32_t)ref->n)];

		*ip = r->p.ip;
		for (unsigned int bit = r->p.len; bit < (ip->family == AF_INET ? 32u : 128u); bit++)
			if (rnd() & 1)
				ip->addr[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
		return;
	}
	gen_prefix(&p, v6);
	*ip = p.ip;
}

struct value_check {
	const struct ref *ref;
	uint32_t value;
	int bad;
};

static int check_cb(void *ctx, const struct fg_prefix *p)
{
	struct value_check *vc = ctx;
	long i = ref_find(vc->ref, p);

	if (i < 0 || vc->ref->r[i].value != vc->value)
		vc->bad++;
	return 0;
}

static int compare_lookups(const struct fg_route_table *t, const struct ref *ref, int n)
{
	int wrong = 0;

	for (int k = 0; k < n; k++) {
		struct fg_ip ip;
		uint32_t v = 0;
		long want, got;
		int rc;

		gen_addr(ref, &ip, (int)below(2));
		rc = lookup_ip(t, &ip, &v);
		got = rc == 0 ? (long)v : -1;
		want = ref_lookup(ref, &ip);
		if (got != want || (rc != 0 && rc != -ENOENT)) {
			char buf[FG_ADDR_STRLEN];

			if (wrong++ < 5)
				printf("\n  lookup %s: got %ld (rc %d), want %ld",
				       fg_ip_format(&ip, buf, sizeof(buf)), got, rc, want);
		}
	}
	return wrong;
}

static void test_differential(void)
{
	struct fg_route_table *t = fg_route_create("diff", DIFF_RULES, DIFF_RULES, NULL);
	struct ref ref = { .r = calloc(2 * DIFF_RULES, sizeof(struct ref_rule)), .n = 0 };
	const char *seed = getenv("FG_ROUTE_SEED");
	long wrong = 0, bad_rc = 0, lookups = 0, maxn = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ref.r);
	rng = seed ? strtoull(seed, NULL, 0) : 0x2021111100640000ull;
	if (rng == 0)
		rng = 1;  /* xorshift never leaves 0 */
	printf("\n  seed 0x%" PRIx64, rng);

	for (int step = 0; step < DIFF_STEPS; step++) {
		uint32_t op = below(1000);
		struct fg_prefix p, m;
		long i;
		int rc;

		if (op < 500) {                                  /* add or replace */
			uint32_t value = below(20) ? below(DIFF_VALUES) : below(FG_ROUTE_VALUE_MAX + 1);

			gen_prefix(&p, (int)below(2));
			m = p;
			ref_mask(&m);
			rc = fg_route_add(t, &p, value);
			bad_rc += rc != 0;
			i = ref_find(&ref, &m);
			if (rc == 0 && i >= 0)
				ref.r[i].value = value;
			else if (rc == 0)
				ref.r[ref.n++] = (struct ref_rule){ .p = m, .value = value };
		} else if (op < 580 && ref.n > 0) {              /* replace a held one */
			i = below((uint32_t)ref.n);
			ref.r[i].value = below(DIFF_VALUES);
			bad_rc += fg_route_add(t, &ref.r[i].p, ref.r[i].value) != 0;
		} else if (op < 800 && ref.n > 0) {              /* delete a held one */
			i = below((uint32_t)ref.n);
			bad_rc += fg_route_del(t, &ref.r[i].p) != 0;
			ref_remove(&ref, (size_t)i);
		} else if (op < 870) {                           /* delete maybe-absent */
			gen_prefix(&p, (int)below(2));
			m = p;
			ref_mask(&m);
			i = ref_find(&ref, &m);
			rc = fg_route_del(t, &p);
			bad_rc += rc != (i >= 0 ? 0 : -ENOENT);
			if (i >= 0)
				ref_remove(&ref, (size_t)i);
		} else if (op < 875) {                           /* a peer goes away */
			uint32_t value = below(DIFF_VALUES);
			int want = 0;

			for (size_t k = ref.n; k-- > 0;)
				if (ref.r[k].value == value) {
					ref_remove(&ref, k);
					want++;
				}
			bad_rc += fg_route_del_value(t, value) != want;
		} else {                                         /* enumerate a value */
			struct value_check vc = { .ref = &ref, .value = below(DIFF_VALUES) };
			int want = 0;

			for (size_t k = 0; k < ref.n; k++)
				want += ref.r[k].value == vc.value;
			bad_rc += fg_route_foreach_value(t, vc.value, check_cb, &vc) != want;
			bad_rc += vc.bad;
		}
		bad_rc += fg_route_count(t) != ref.n;
		wrong += compare_lookups(t, &ref, DIFF_LOOKUPS);
		lookups += DIFF_LOOKUPS;
		if ((long)ref.n > maxn)
			maxn = (long)ref.n;
	}
	/* Drain in random order, checking as the table empties. */
	while (ref.n > 0) {
		size_t i = below((uint32_t)ref.n);

		bad_rc += fg_route_del(t, &ref.r[i].p) != 0;
		ref_remove(&ref, i);
		wrong += compare_lookups(t, &ref, 2);
		lookups += 2;
	}
	CU_ASSERT_EQUAL(fg_route_count(t), 0);
	wrong += compare_lookups(t, &ref, 1000);
	lookups += 1000;
	printf("\n  %d steps, %ld lookups, up to %ld prefixes: %ld wrong, %ld bad returns ",
	       DIFF_STEPS, lookups, maxn, wrong, bad_rc);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(bad_rc, 0);
	CU_ASSERT(maxn > 1000);
	free(ref.r);
	fg_route_free(t);
}

/* --- benchmark (prints, never asserts timing) ------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void test_bench(void)
{
	struct fg_route_table *t = fg_route_create("bench", 16384, 16384, NULL);
	uint32_t *a4 = calloc(BENCH_ADDRS, sizeof(*a4));
	uint8_t (*a6)[16] = calloc(BENCH_ADDRS, 16);
	uint64_t sum = 0, hits = 0;
	double t0, add_ns, ns4, ns6;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a6);
	rng = 0x5eed;
	t0 = now_ns();
	for (uint32_t peer = 0; peer < BENCH_PEERS; peer++) {
		struct fg_prefix p = { .ip = { .family = AF_INET }, .len = 32 };
		uint32_t host = 0x64400000u + peer * 7;

		p.ip.addr[0] = (uint8_t)(host >> 24);
		p.ip.addr[1] = (uint8_t)(host >> 16);
		p.ip.addr[2] = (uint8_t)(host >> 8);
		p.ip.addr[3] = (uint8_t)host;
		CU_ASSERT_EQUAL(fg_route_add(t, &p, peer), 0);
		p = pfx("fd00:2021:1111::/128");
		p.ip.addr[13] = (uint8_t)((host >> 16) & 0x1f);
		p.ip.addr[14] = (uint8_t)(host >> 8);
		p.ip.addr[15] = (uint8_t)host;
		CU_ASSERT_EQUAL(fg_route_add(t, &p, peer), 0);
	}
	add_ns = (now_ns() - t0) / (2.0 * BENCH_PEERS);
	for (int k = 0; k < 500; k++) {
		struct fg_prefix p;

		gen_prefix(&p, k & 1);
		if (p.len > 0 && p.len < 24)
			CU_ASSERT_EQUAL(fg_route_add(t, &p, BENCH_PEERS + (uint32_t)k), 0);
	}
	for (int i = 0; i < BENCH_ADDRS; i++) {
		uint32_t host = 0x64400000u + (below(8) ? below(BENCH_PEERS) * 7 : below(70000));

		a4[i] = htonl(host);
		memcpy(a6[i], pfx("fd00:2021:1111::").ip.addr, 16);
		a6[i][13] = (uint8_t)((host >> 16) & 0x1f);
		a6[i][14] = (uint8_t)(host >> 8);
		a6[i][15] = (uint8_t)host;
	}

	t0 = now_ns();
	for (int r = 0; r < BENCH_ROUNDS; r++)
		for (int i = 0; i < BENCH_ADDRS; i++) {
			uint32_t v;

			if (fg_route_lookup4(t, a4[i], &v) == 0) {
				sum += v;
				hits++;
			}
		}
	ns4 = (now_ns() - t0) / ((double)BENCH_ROUNDS * BENCH_ADDRS);
	t0 = now_ns();
	for (int r = 0; r < BENCH_ROUNDS; r++)
		for (int i = 0; i < BENCH_ADDRS; i++) {
			uint32_t v;

			if (fg_route_lookup6(t, a6[i], &v) == 0) {
				sum += v;
				hits++;
			}
		}
	ns6 = (now_ns() - t0) / ((double)BENCH_ROUNDS * BENCH_ADDRS);
	printf("\n  %u prefixes: add %.0f ns (no qsbr), lookup4 %.1f ns, lookup6 %.1f ns "
	       "(%" PRIu64 " hits, sum %" PRIu64 ") ", fg_route_count(t), add_ns, ns4, ns6, hits,
	       sum);
	CU_ASSERT(hits > 0);
	free(a4);
	free(a6);
	fg_route_free(t);
}

int main(int argc, char **argv)
{
	static char *defaults[] = {
		"test_route", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
		"--iova-mode=va", "-l", "0,1", "-m", "128", NULL,
	};
	static const struct fg_cunit_test tests[] = {
		{ "v4 longest match, del, replace", test_v4_longest_match },
		{ "v6 longest match, del, replace", test_v6_longest_match },
		{ "default routes /0", test_default_routes },
		{ "del_value and foreach_value", test_del_value_foreach },
		{ "limits and errors", test_limits_and_errors },
		{ "differential vs naive reference", test_differential },
		{ "lookup benchmark", test_bench },
	};
	int ret;

	if (argc < 2) {
		argc = (int)(sizeof(defaults) / sizeof(defaults[0])) - 1;
		argv = defaults;
	}
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "test_route: rte_eal_init failed\n");
		return 1;
	}
	ret = fg_cunit_run("route", tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
