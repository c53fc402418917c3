// SPDX-License-Identifier: MIT
/*
 * Tests for the handshake rate limiter (dataplane/wg/ratelimiter.c) on a fake nanosecond
 * clock: burst then refusal, refill, IPv6 /64 grouping, many sources, a full table, gc,
 * and a randomized differential run against a deliberately naive reference (a flat array
 * searched linearly, with the token arithmetic written out again). Single-threaded.
 */
#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ratelimiter.h"

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)
#define MS(x) ((uint64_t)(x) * 1000000ULL)

static const uint64_t T0 = SEC(1000);

/* Kernel defaults: 20 per second (one per 50 ms), bursts of 5. */
enum { PPS = 20, BURST = 5 };

static void v4(uint8_t out[4], uint32_t host_order)
{
	out[0] = (uint8_t)(host_order >> 24);
	out[1] = (uint8_t)(host_order >> 16);
	out[2] = (uint8_t)(host_order >> 8);
	out[3] = (uint8_t)host_order;
}

/* 2001:db8:<net>::<host> */
static void v6(uint8_t out[16], uint32_t net, uint64_t host)
{
	memset(out, 0, 16);
	out[0] = 0x20;
	out[1] = 0x01;
	out[2] = 0x0d;
	out[3] = 0xb8;
	out[4] = (uint8_t)(net >> 24);
	out[5] = (uint8_t)(net >> 16);
	out[6] = (uint8_t)(net >> 8);
	out[7] = (uint8_t)net;
	for (int i = 0; i < 8; i++)
		out[15 - i] = (uint8_t)(host >> (8 * i));
}

static bool allow4(struct fg_wg_ratelimiter *rl, uint32_t a, uint64_t now)
{
	uint8_t addr[4];

	v4(addr, a);
	return fg_wg_ratelimiter_allow(rl, addr, sizeof(addr), now);
}

static bool allow6(struct fg_wg_ratelimiter *rl, uint32_t net, uint64_t host, uint64_t now)
{
	uint8_t addr[16];

	v6(addr, net, host);
	return fg_wg_ratelimiter_allow(rl, addr, sizeof(addr), now);
}

static void test_create_rejects_bad_args(void)
{
	struct fg_wg_ratelimiter *rl;
	struct fg_wg_ratelimiter_stats st;
	uint8_t odd[5] = { 0 };

	errno = 0;
	CU_ASSERT_PTR_NULL(fg_wg_ratelimiter_create(0, PPS, BURST));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_wg_ratelimiter_create(16, 0, BURST));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_wg_ratelimiter_create(16, PPS, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_wg_ratelimiter_create(FG_WG_RATELIMITER_MAX_ENTRIES + 1u, PPS, BURST));
	CU_ASSERT_EQUAL(errno, EINVAL);
	fg_wg_ratelimiter_free(NULL);

	rl = fg_wg_ratelimiter_create(16, PPS, BURST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 0);
	CU_ASSERT_FALSE(fg_wg_ratelimiter_allow(rl, odd, sizeof(odd), T0));
	CU_ASSERT_FALSE(fg_wg_ratelimiter_allow(rl, odd, 0, T0));
	fg_wg_ratelimiter_stats(rl, &st);
	CU_ASSERT_EQUAL(st.bad_addr, 2);
	CU_ASSERT_EQUAL(st.allowed, 0);
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 0);
	fg_wg_ratelimiter_free(rl);
}

static void test_burst_then_refusal(void)
{
	struct fg_wg_ratelimiter *rl = fg_wg_ratelimiter_create(64, PPS, BURST);
	struct fg_wg_ratelimiter_stats st;
	const uint32_t a = 0xc0000201;  /* 192.0.2.1 */

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (int i = 0; i < BURST; i++)
		CU_ASSERT_TRUE(allow4(rl, a, T0));
	CU_ASSERT_FALSE(allow4(rl, a, T0));
	CU_ASSERT_FALSE(allow4(rl, a, T0));
	/* Another source is untouched. */
	CU_ASSERT_TRUE(allow4(rl, a + 1, T0));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 2);
	fg_wg_ratelimiter_stats(rl, &st);
	CU_ASSERT_EQUAL(st.allowed, BURST + 1);
	CU_ASSERT_EQUAL(st.limited, 2);
	CU_ASSERT_EQUAL(st.table_full, 0);
	fg_wg_ratelimiter_free(rl);
}

static void test_refill_over_time(void)
{
	struct fg_wg_ratelimiter *rl = fg_wg_ratelimiter_create(64, PPS, BURST);
	const uint32_t a = 0xc0000202;
	uint64_t now = T0;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (int i = 0; i < BURST; i++)
		CU_ASSERT_TRUE(allow4(rl, a, now));
	CU_ASSERT_FALSE(allow4(rl, a, now));
	/* One packet's worth arrives every 50 ms, not a nanosecond earlier. */
	CU_ASSERT_FALSE(allow4(rl, a, now + MS(50) - 1));
	CU_ASSERT_TRUE(allow4(rl, a, now + MS(50)));
	CU_ASSERT_FALSE(allow4(rl, a, now + MS(50)));
	/* A steady 20/s passes in full, 40/s is halved. */
	now += MS(50);
	for (int i = 0; i < 100; i++) {
		now += MS(50);
		CU_ASSERT_TRUE(allow4(rl, a, now));
	}
	n = 0;
	for (int i = 0; i < 100; i++) {
		now += MS(25);
		n += allow4(rl, a, now);
	}
	CU_ASSERT_EQUAL(n, 50);
	/* A long pause refills only up to the burst. */
	now += SEC(3600);
	n = 0;
	for (int i = 0; i < 20; i++)
		n += allow4(rl, a, now);
	CU_ASSERT_EQUAL(n, BURST);
	/* A clock that steps back refills nothing and breaks nothing. */
	CU_ASSERT_FALSE(allow4(rl, a, now - SEC(10)));
	CU_ASSERT_TRUE(allow4(rl, a, now + MS(50)));
	fg_wg_ratelimiter_free(rl);
}

static void test_ipv6_grouped_by_64(void)
{
	struct fg_wg_ratelimiter *rl = fg_wg_ratelimiter_create(64, PPS, BURST);
	uint8_t a4[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	/* Rotating the interface identifier does not buy a fresh bucket. */
	for (int i = 0; i < BURST; i++)
		CU_ASSERT_TRUE(allow6(rl, 7, 0x1000 + (uint64_t)i * 0x0101010101ULL, T0));
	CU_ASSERT_FALSE(allow6(rl, 7, 0xffffffffffffffffULL, T0));
	CU_ASSERT_FALSE(allow6(rl, 7, 0, T0));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 1);
	/* The neighbouring /64s are other sources. */
	CU_ASSERT_TRUE(allow6(rl, 6, 1, T0));
	CU_ASSERT_TRUE(allow6(rl, 8, 1, T0));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 3);
	/* An IPv4 address equal to the first bytes of an IPv6 prefix is its own source. */
	CU_ASSERT_TRUE(fg_wg_ratelimiter_allow(rl, a4, sizeof(a4), T0));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 4);
	fg_wg_ratelimiter_free(rl);
}

static void test_many_sources(void)
{
	enum { N = 20000 };
	struct fg_wg_ratelimiter *rl = fg_wg_ratelimiter_create(N, PPS, BURST);
	struct fg_wg_ratelimiter_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (uint32_t i = 0; i < N / 2; i++)
		CU_ASSERT_TRUE(allow4(rl, 0x0a000000 + i, T0));
	for (uint32_t i = 0; i < N / 2; i++)
		CU_ASSERT_TRUE(allow6(rl, i, 1, T0));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), N);
	/* Each still holds the rest of its own burst, and only that. */
	for (int k = 1; k < BURST; k++) {
		for (uint32_t i = 0; i < N / 2; i++) {
			CU_ASSERT_TRUE(allow4(rl, 0x0a000000 + i, T0));
			CU_ASSERT_TRUE(allow6(rl, i, 2, T0));
		}
	}
	for (uint32_t i = 0; i < N / 2; i++) {
		CU_ASSERT_FALSE(allow4(rl, 0x0a000000 + i, T0));
		CU_ASSERT_FALSE(allow6(rl, i, 3, T0));
	}
	fg_wg_ratelimiter_stats(rl, &st);
	CU_ASSERT_EQUAL(st.allowed, (uint64_t)N * BURST);
	CU_ASSERT_EQUAL(st.limited, N);
	CU_ASSERT_EQUAL(st.table_full, 0);
	fg_wg_ratelimiter_free(rl);
}

static void test_table_full(void)
{
	enum { MAX = 8 };
	struct fg_wg_ratelimiter *rl = fg_wg_ratelimiter_create(MAX, PPS, BURST);
	struct fg_wg_ratelimiter_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (uint32_t i = 0; i < MAX; i++)
		CU_ASSERT_TRUE(allow4(rl, 0x0a000000 + i, T0));
	/* New sources are refused and counted ... */
	CU_ASSERT_FALSE(allow4(rl, 0x0a0000ff, T0));
	CU_ASSERT_FALSE(allow6(rl, 1, 1, T0));
	fg_wg_ratelimiter_stats(rl, &st);
	CU_ASSERT_EQUAL(st.table_full, 2);
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), MAX);
	/* ... while known ones keep their buckets. */
	CU_ASSERT_TRUE(allow4(rl, 0x0a000003, T0));
	/* gc before the idle time frees nothing; after it, the room is back. */
	fg_wg_ratelimiter_gc(rl, T0 + SEC(1));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), MAX);
	CU_ASSERT_FALSE(allow4(rl, 0x0a0000ff, T0 + SEC(1)));
	fg_wg_ratelimiter_gc(rl, T0 + SEC(1) + 1);
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 0);
	CU_ASSERT_TRUE(allow4(rl, 0x0a0000ff, T0 + SEC(2)));
	CU_ASSERT_TRUE(allow6(rl, 1, 1, T0 + SEC(2)));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 2);
	fg_wg_ratelimiter_free(rl);
}

/*
 * A slow limiter (1/s, burst 5) makes surviving state visible: a drained source that
 * survives gc is still refused, while a source that gc dropped comes back with a full
 * bucket. With thousands of entries, deletion must keep every probe chain intact.
 */
static void test_gc(void)
{
	enum { N = 3000 };
	struct fg_wg_ratelimiter *rl = fg_wg_ratelimiter_create(2 * N, 1, BURST);
	const uint64_t gc_at = T0 + MS(1500);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	/* Even sources: one packet at T0, idle 1.5 s at gc time. */
	for (uint32_t i = 0; i < 2 * N; i += 2)
		CU_ASSERT_TRUE(allow4(rl, 0x0a000000 + i * 7919, T0));
	/* Odd sources: drained at T0 + 0.9 s, idle 0.6 s at gc time. */
	for (uint32_t i = 1; i < 2 * N; i += 2)
		for (int k = 0; k < BURST; k++)
			CU_ASSERT_TRUE(allow4(rl, 0x0a000000 + i * 7919, T0 + MS(900)));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 2 * N);

	fg_wg_ratelimiter_gc(rl, gc_at);
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), N);
	for (uint32_t i = 1; i < 2 * N; i += 2)
		CU_ASSERT_FALSE(allow4(rl, 0x0a000000 + i * 7919, gc_at));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), N);
	for (uint32_t i = 0; i < 2 * N; i += 2)
		for (int k = 0; k < BURST; k++)
			CU_ASSERT_TRUE(allow4(rl, 0x0a000000 + i * 7919, gc_at));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 2 * N);

	/* Exactly one second idle is kept; a gc much later empties the table. */
	fg_wg_ratelimiter_gc(rl, gc_at + SEC(1));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 2 * N);
	fg_wg_ratelimiter_gc(rl, gc_at + SEC(60));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 0);
	fg_wg_ratelimiter_gc(rl, gc_at + SEC(61));
	CU_ASSERT_EQUAL(fg_wg_ratelimiter_count(rl), 0);
	fg_wg_ratelimiter_free(rl);
}

/* ---- differential test against a naive reference ---- */

enum {
	REF_MAX = 96,        /* small, so the table fills up and gc matters */
	REF_SOURCES = 300,
	REF_OPS = 300000,
};

struct ref_entry {
	uint8_t key[9];      /* length byte + significant address bytes */
	uint64_t tokens;
	uint64_t last;
};

struct ref {
	struct ref_entry e[REF_MAX];
	unsigned n;
	uint64_t cost;
	uint64_t max;
};

static void ref_key(const uint8_t *addr, size_t len, uint8_t key[9])
{
	memset(key, 0, 9);
	key[0] = (uint8_t)len;
	memcpy(key + 1, addr, len == 16 ? 8 : len);
}

static bool ref_allow(struct ref *r, const uint8_t *addr, size_t len, uint64_t now)
{
	uint8_t key[9];

	ref_key(addr, len, key);
	for (unsigned i = 0; i < r->n; i++) {
		struct ref_entry *e = &r->e[i];

		if (memcmp(e->key, key, 9) != 0)
			continue;
		if (now > e->last) {
			e->tokens += now - e->last;
			e->last = now;
		}
		if (e->tokens > r->max)
			e->tokens = r->max;
		if (e->tokens < r->cost)
			return false;
		e->tokens -= r->cost;
		return true;
	}
	if (r->n == REF_MAX)
		return false;
	memcpy(r->e[r->n].key, key, 9);
	r->e[r->n].tokens = r->max - r->cost;
	r->e[r->n].last = now;
	r->n++;
	return true;
}

static void ref_gc(struct ref *r, uint64_t now)
{
	unsigned j = 0;

	for (unsigned i = 0; i < r->n; i++)
		if (!(now > r->e[i].last && now - r->e[i].last > SEC(1)))
			r->e[j++] = r->e[i];
	r->n = j;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void test_differential(void)
{
	static struct ref ref;
	struct fg_wg_ratelimiter *rl = fg_wg_ratelimiter_create(REF_MAX, PPS, BURST);
	uint64_t rng = 0x5eed;
	uint64_t now = T0;
	uint64_t next_gc = T0 + SEC(1);
	unsigned mismatches = 0;
	unsigned allowed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	memset(&ref, 0, sizeof(ref));
	ref.cost = 1000000000 / PPS;
	ref.max = ref.cost * BURST;
	for (int op = 0; op < REF_OPS; op++) {
		uint32_t src = (uint32_t)(rng_next(&rng) % REF_SOURCES);
		uint8_t addr[16];
		size_t len;
		bool want;
		bool got;

		/* Bursty arrivals: mostly sub-millisecond gaps, sometimes long pauses. */
		if (rng_next(&rng) % 1000 == 0)
			now += rng_next(&rng) % SEC(3);
		else
			now += rng_next(&rng) % MS(2);
		if (src < REF_SOURCES / 2) {
			len = 4;
			v4(addr, 0x0a000000 + src);
		} else {
			/* Several IPv6 sources share each /64. */
			len = 16;
			v6(addr, src / 3, rng_next(&rng));
		}
		want = ref_allow(&ref, addr, len, now);
		got = fg_wg_ratelimiter_allow(rl, addr, len, now);
		allowed += got;
		if (want != got && mismatches++ < 5)
			fprintf(stderr, "op %d: source %u ref %d got %d\n", op, src, want, got);
		if (ref.n != fg_wg_ratelimiter_count(rl) && mismatches++ < 5)
			fprintf(stderr, "op %d: ref count %u got %u\n", op, ref.n,
				fg_wg_ratelimiter_count(rl));
		if (now >= next_gc) {
			ref_gc(&ref, now);
			fg_wg_ratelimiter_gc(rl, now);
			next_gc = now + SEC(1);
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT(allowed > REF_OPS / 100);
	CU_ASSERT(allowed < REF_OPS - REF_OPS / 100);
	fg_wg_ratelimiter_free(rl);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "create rejects bad arguments", test_create_rejects_bad_args },
		{ "burst then refusal", test_burst_then_refusal },
		{ "refill over time", test_refill_over_time },
		{ "IPv6 grouped by /64", test_ipv6_grouped_by_64 },
		{ "many sources", test_many_sources },
		{ "table full", test_table_full },
		{ "gc", test_gc },
		{ "differential vs naive", test_differential },
	};

	return fg_cunit_run("wg_ratelimiter", tests, sizeof(tests) / sizeof(tests[0]));
}
