// SPDX-License-Identifier: MIT
/*
 * Route tables under concurrency: EAL on lcores 0 and 1, a reader on lcore 1 looks up probe
 * addresses in "stable" prefixes that are never removed (and in prefixes whose value flips
 * between two known values, in deeper prefixes that come and go inside stable ones, and in
 * ranges nothing ever covers) and reports a quiescent state after each pass, while the main
 * lcore, the only writer, adds, replaces and removes thousands of other prefixes around them.
 * Every answer the reader gets must be right, also while the writer replaces a trie's group
 * array by a larger copy (checked to happen during the race). Both sides are bounded by
 * iteration counts. A
 * second test holds a looked-up value and checks that removing or replacing it waits for the
 * reader's next quiescent state. The reader owns its result fields until it is joined.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "addr.h"
#include "route.h"
#include "../cunit_run.h"

enum {
	STABLE_PER_FAMILY = 48,
	FLIPPERS = 8,
	TOGGLERS = 16,
	NEGATIVES = 8,
	MAX_PROBES = 2 * STABLE_PER_FAMILY + FLIPPERS + TOGGLERS + NEGATIVES,
	MAX_CHURN = 3000,
	CHURN_VALUES = 500,
	STABLE_VALUE = 100000,
	FLIP_VALUE_A = 200000,
	FLIP_VALUE_B = 300000,
	TOGGLE_VALUE = 400000,
	WRITER_OPS = 20000,
	READER_MAX_PASSES = 50000000,
	READER_THREAD = 0,
	GEN_ATTEMPTS = 1000,
	HOLD_SPINS = 1000000,      /* pauses a reader keeps a value: far longer than a write */
	HOLD_MISS = 0x7fffffff,    /* struct hold: the lookup must miss afterwards */
};

struct probe {
	struct fg_ip ip;
	int cover_len;      /* longest stable/flipper prefix holding it, -1 if none */
	uint32_t want_a;    /* acceptable answers; want_a == want_b for stable ones */
	uint32_t want_b;
	bool miss;          /* must be -ENOENT */
};

struct held {
	struct fg_prefix p;
	uint32_t value;
	bool absent;        /* togglers only: currently removed */
};

static struct fg_route_table *tbl;
static struct rte_rcu_qsbr *qsbr;
static struct probe probes[MAX_PROBES];
static int nprobes;
static struct held stable[2 * STABLE_PER_FAMILY + FLIPPERS];
static int nstable;
static struct held toggle[TOGGLERS];
static struct held churn[MAX_CHURN];
static int nchurn;

static int reader_ready;
static int writer_done;
static uint32_t writer_ops;   /* ops completed, read by the reader for overlap */

static struct {
	uint64_t passes;
	uint64_t lookups;
	uint64_t wrong;
	uint32_t ops_at_first;
	uint32_t ops_at_last;
	char first_wrong[128];
} res;

static uint64_t rng = 0x100640000b0b0ull;

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

static bool contains(const struct fg_prefix *p, const struct fg_ip *ip)
{
	if (p->ip.family != ip->family)
		return false;
	for (unsigned int bit = 0; bit < p->len; bit++) {
		unsigned int m = 0x80u >> (bit % 8);

		if ((p->ip.addr[bit / 8] & m) != (ip->addr[bit / 8] & m))
			return false;
	}
	return true;
}

static void mask(struct fg_prefix *p)
{
	for (unsigned int bit = p->len; bit < 128; bit++)
		p->ip.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

static void random_host(struct fg_ip *ip, const struct fg_prefix *p)
{
	*ip = p->ip;
	for (unsigned int bit = p->len; bit < (ip->family == AF_INET ? 32u : 128u); bit++)
		if (rnd() & 1)
			ip->addr[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
}

/* Churn and stable prefixes share these neighbourhoods so their trie groups interleave. */
static void gen_prefix(struct fg_prefix *p, int v6, bool for_stable)
{
	uint32_t kind = below(10);

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 16; i++)
		p->ip.addr[i] = (uint8_t)rnd();
	if (!v6) {
		p->ip.family = AF_INET;
		if (kind < 3 && !for_stable) {
			p->len = (uint8_t)(1 + below(16));
		} else if (kind < 8) {
			p->ip.addr[0] = 100;
			p->ip.addr[1] = (uint8_t)(64 | (p->ip.addr[1] & 0x1f));
			p->ip.addr[2] &= 0x3;
			p->len = (uint8_t)(below(2) ? 32 : 11 + below(22));
		} else {
			p->ip.addr[0] = 10;
			p->ip.addr[1] = (uint8_t)below(4);
			p->len = (uint8_t)(8 + below(25));
		}
	} else {
		static const uint8_t tun6[13] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };

		p->ip.family = AF_INET6;
		if (kind < 3 && !for_stable) {
			p->ip.addr[0] = 0xfd;
			p->len = (uint8_t)(1 + below(48));
		} else if (kind < 8) {
			memcpy(p->ip.addr, tun6, sizeof(tun6));
			p->ip.addr[13] &= 0x1f;
			p->ip.addr[14] &= 0x3;
			p->len = (uint8_t)(below(2) ? 128 : 96 + below(33));
		} else {
			memcpy(p->ip.addr, tun6, 6);
			p->ip.addr[6] = 0;
			p->ip.addr[7] &= 0x3;
			p->len = (uint8_t)(48 + below(81));
		}
	}
	mask(p);
}

/* A churn prefix may not hide a probe: it must not hold any probe at the probe's covering
 * length or longer, nor hold a probe that must miss, nor equal a stable or toggled prefix. */
static bool churn_allowed(const struct fg_prefix *p)
{
	for (int i = 0; i < nprobes; i++)
		if (contains(p, &probes[i].ip) && (probes[i].miss || p->len >= probes[i].cover_len))
			return false;
	for (int i = 0; i < nstable; i++)
		if (memcmp(&stable[i].p, p, sizeof(*p)) == 0)
			return false;
	for (int i = 0; i < TOGGLERS; i++)
		if (memcmp(&toggle[i].p, p, sizeof(*p)) == 0)
			return false;
	return true;
}

/* Togglers are disjoint so that one coming and going never changes another's answer. */
static bool overlaps_toggler(const struct fg_prefix *p, int n)
{
	for (int i = 0; i < n; i++)
		if (contains(p, &toggle[i].p.ip) || contains(&toggle[i].p, &p->ip))
			return true;
	return false;
}

/* Deeper prefixes inside stable ones that the writer removes and adds back: their probe sees
 * either the toggler's value or the stable cover's, and the trie groups under them are freed
 * and reused all the time. */
static void setup_togglers(void)
{
	memset(toggle, 0, sizeof(toggle));
	for (int k = 0; k < TOGGLERS; k++) {
		struct held *h = &toggle[k];
		struct probe *q = &probes[nprobes];
		struct fg_prefix p;

		for (int n = 0;; n++) {
			const struct held *s = &stable[2 * below(STABLE_PER_FAMILY) + (uint32_t)k % 2];
			unsigned int max = s->p.ip.family == AF_INET ? 32 : 128;
			/* deep enough to sit in second-level groups, always longer than s */
			unsigned int min = RTE_MAX(s->p.len + 1u, s->p.ip.family == AF_INET ? 25u : 40u);

			CU_ASSERT_FATAL(n < GEN_ATTEMPTS);
			if (min > max)
				continue;
			memset(&p, 0, sizeof(p));
			random_host(&p.ip, &s->p);
			p.len = (uint8_t)(min + below(max - min + 1));
			mask(&p);
			if (churn_allowed(&p) && !overlaps_toggler(&p, k))
				break;
		}
		h->p = p;
		h->value = TOGGLE_VALUE + (uint32_t)k;
		random_host(&q->ip, &h->p);
		q->cover_len = -1;
		for (int i = 0; i < nstable; i++)
			if (contains(&stable[i].p, &q->ip) && stable[i].p.len > q->cover_len) {
				q->cover_len = stable[i].p.len;
				q->want_b = stable[i].value;
			}
		/* churn must stay shorter than the stable cover, toggler present or not */
		CU_ASSERT_FATAL(q->cover_len >= 0 && q->want_b != FLIP_VALUE_A);
		q->want_a = h->value;
		nprobes++;
	}
}

static void setup_probes(void)
{
	static const char *const negatives[NEGATIVES] = {
		"198.18.0.1", "198.19.255.254", "203.0.113.9", "192.0.2.77",
		"2001:db8::1", "2001:db8:ffff::2", "3fff::1", "fc00::dead",
	};

	nstable = nprobes = 0;
	for (int k = 0; k < 2 * STABLE_PER_FAMILY + FLIPPERS; k++) {
		struct held *h = &stable[nstable];
		bool dup;

		do {
			gen_prefix(&h->p, k % 2, true);
			dup = false;
			for (int i = 0; i < nstable; i++)
				dup |= memcmp(&stable[i].p, &h->p, sizeof(h->p)) == 0;
		} while (dup);
		h->value = k < 2 * STABLE_PER_FAMILY ? STABLE_VALUE + (uint32_t)k : FLIP_VALUE_A;
		nstable++;
	}
	/* One probe per stable prefix; what it must see is the longest stable match. */
	for (int k = 0; k < nstable; k++) {
		struct probe *q = &probes[nprobes++];

		random_host(&q->ip, &stable[k].p);
		q->cover_len = -1;
		for (int i = 0; i < nstable; i++)
			if (contains(&stable[i].p, &q->ip) && stable[i].p.len > q->cover_len) {
				q->cover_len = stable[i].p.len;
				q->want_a = q->want_b = stable[i].value;
				if (stable[i].value == FLIP_VALUE_A)
					q->want_b = FLIP_VALUE_B;
			}
	}
	for (int k = 0; k < NEGATIVES; k++) {
		struct probe *q = &probes[nprobes++];

		CU_ASSERT_FATAL(fg_ip_parse(negatives[k], &q->ip) == 0);
		q->miss = true;
		q->cover_len = -1;
		for (int i = 0; i < nstable; i++)
			CU_ASSERT_FATAL(!contains(&stable[i].p, &q->ip));
	}
}

static int reader(void *arg)
{
	(void)arg;
	rte_rcu_qsbr_thread_register(qsbr, READER_THREAD);
	rte_rcu_qsbr_thread_online(qsbr, READER_THREAD);
	__atomic_store_n(&reader_ready, 1, __ATOMIC_RELEASE);
	res.ops_at_first = __atomic_load_n(&writer_ops, __ATOMIC_RELAXED);

	while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE) && res.passes < READER_MAX_PASSES) {
		for (int i = 0; i < nprobes; i++) {
			const struct probe *q = &probes[i];
			uint32_t v = UINT32_MAX;
			int rc;
			bool ok;

			if (q->ip.family == AF_INET) {
				uint32_t be;

				memcpy(&be, q->ip.addr, 4);
				rc = fg_route_lookup4(tbl, be, &v);
			} else {
				rc = fg_route_lookup6(tbl, q->ip.addr, &v);
			}
			ok = q->miss ? rc == -ENOENT : rc == 0 && (v == q->want_a || v == q->want_b);
			if (!ok && res.wrong++ == 0) {
				char buf[FG_ADDR_STRLEN];

				snprintf(res.first_wrong, sizeof(res.first_wrong),
					 "%s: rc %d value %u, want %u/%u%s",
					 fg_ip_format(&q->ip, buf, sizeof(buf)), rc, v, q->want_a,
					 q->want_b, q->miss ? " (miss)" : "");
			}
		}
		res.lookups += (uint64_t)nprobes;
		res.passes++;
		rte_rcu_qsbr_quiescent(qsbr, READER_THREAD);
	}
	res.ops_at_last = __atomic_load_n(&writer_ops, __ATOMIC_RELAXED);
	rte_rcu_qsbr_thread_offline(qsbr, READER_THREAD);
	rte_rcu_qsbr_thread_unregister(qsbr, READER_THREAD);
	return 0;
}

static int find_churn(const struct fg_prefix *p)
{
	for (int i = 0; i < nchurn; i++)
		if (memcmp(&churn[i].p, p, sizeof(*p)) == 0)
			return i;
	return -1;
}

/* One writer step; returns the number of unexpected return codes. */
static int writer_step(int *flip)
{
	uint32_t op = below(100);
	int bad = 0;

	if (op < 45 && nchurn < MAX_CHURN) {
		struct fg_prefix p;
		uint32_t value = below(CHURN_VALUES);
		int n = 0, i;

		do
			gen_prefix(&p, (int)below(2), false);
		while (!churn_allowed(&p) && ++n < GEN_ATTEMPTS);
		if (n == GEN_ATTEMPTS)
			return 0;
		bad += fg_route_add(tbl, &p, value) != 0;
		i = find_churn(&p);
		if (i < 0)
			i = nchurn++;
		churn[i] = (struct held){ .p = p, .value = value };
	} else if (op < 70 && nchurn > 0) {
		int i = (int)below((uint32_t)nchurn);

		bad += fg_route_del(tbl, &churn[i].p) != 0;
		churn[i] = churn[--nchurn];
	} else if (op < 80) {
		struct held *h = &toggle[below(TOGGLERS)];

		if (h->absent)
			bad += fg_route_add(tbl, &h->p, h->value) != 0;
		else
			bad += fg_route_del(tbl, &h->p) != 0;
		h->absent = !h->absent;
	} else if (op < 93) {
		uint32_t value = below(CHURN_VALUES);
		int want = 0;

		for (int i = nchurn; i-- > 0;)
			if (churn[i].value == value) {
				churn[i] = churn[--nchurn];
				want++;
			}
		bad += fg_route_del_value(tbl, value) != want;
	} else {
		struct held *h = &stable[2 * STABLE_PER_FAMILY + (*flip)++ % FLIPPERS];

		h->value = h->value == FLIP_VALUE_A ? FLIP_VALUE_B : FLIP_VALUE_A;
		bad += fg_route_add(tbl, &h->p, h->value) != 0;
	}
	return bad;
}

static const struct held *held_at(int k)
{
	if (k < nstable)
		return &stable[k];
	if (k < nstable + TOGGLERS)
		return &toggle[k - nstable];
	return &churn[k - nstable - TOGGLERS];
}

/* After the race, on one thread: every held prefix's own address gets the naive answer. */
static int final_check(void)
{
	int wrong = 0;

	int n = nstable + TOGGLERS + nchurn;

	for (int k = 0; k < n; k++) {
		const struct held *h = held_at(k);
		uint32_t v = 0;
		long want = -1;
		int best = -1, rc;

		if (h->absent)
			continue;
		for (int i = 0; i < n; i++) {
			const struct held *o = held_at(i);

			if (!o->absent && o->p.len > best && contains(&o->p, &h->p.ip)) {
				best = o->p.len;
				want = o->value;
			}
		}
		if (h->p.ip.family == AF_INET) {
			uint32_t be;

			memcpy(&be, h->p.ip.addr, 4);
			rc = fg_route_lookup4(tbl, be, &v);
		} else {
			rc = fg_route_lookup6(tbl, h->p.ip.addr, &v);
		}
		wrong += rc != 0 || (long)v != want;
	}
	return wrong;
}

static void test_reader_vs_writer(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	int bad = 0, flip = 0, ntoggled = 0;
	size_t bytes_before;

	CU_ASSERT_FATAL(lcore < RTE_MAX_LCORE);
	qsbr = rte_zmalloc("route_qsbr", sz, RTE_CACHE_LINE_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qsbr);
	CU_ASSERT_FATAL(rte_rcu_qsbr_init(qsbr, 1) == 0);
	tbl = fg_route_create("mt", 8192, 8192, qsbr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tbl);

	setup_probes();
	setup_togglers();
	for (int i = 0; i < nstable; i++)
		CU_ASSERT_FATAL(fg_route_add(tbl, &stable[i].p, stable[i].value) == 0);
	for (int i = 0; i < TOGGLERS; i++)
		CU_ASSERT_FATAL(fg_route_add(tbl, &toggle[i].p, toggle[i].value) == 0);

	bytes_before = fg_route_heap_bytes(tbl);
	CU_ASSERT_FATAL(rte_eal_remote_launch(reader, NULL, lcore) == 0);
	while (!__atomic_load_n(&reader_ready, __ATOMIC_ACQUIRE))
		rte_pause();
	for (int op = 0; op < WRITER_OPS; op++) {
		bad += writer_step(&flip);
		__atomic_store_n(&writer_ops, (uint32_t)op + 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(rte_eal_wait_lcore(lcore), 0);

	printf("\n  %d writer ops (%d churn prefixes left), reader %" PRIu64 " passes, %" PRIu64
	       " lookups during ops %u..%u: %" PRIu64 " wrong %s; tries %zu -> %zu KiB",
	       WRITER_OPS, nchurn, res.passes, res.lookups, res.ops_at_first, res.ops_at_last,
	       res.wrong, res.first_wrong, bytes_before >> 10, fg_route_heap_bytes(tbl) >> 10);
	CU_ASSERT_EQUAL(res.wrong, 0);
	/* The group arrays were replaced by larger copies while the reader walked them. */
	CU_ASSERT(fg_route_heap_bytes(tbl) > bytes_before);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(res.passes > 0);
	/* The reader was online through the churn: every op waited for one of its passes. */
	CU_ASSERT(res.ops_at_last - res.ops_at_first >= WRITER_OPS - 1);
	CU_ASSERT(res.passes >= WRITER_OPS / 2);
	for (int i = 0; i < TOGGLERS; i++)
		ntoggled += !toggle[i].absent;
	CU_ASSERT_EQUAL(fg_route_count(tbl), (uint32_t)(nstable + ntoggled + nchurn));
	CU_ASSERT_EQUAL(final_check(), 0);

	fg_route_free(tbl);
	rte_free(qsbr);
}

/* --- a writer call that removes a mapping waits for a reader still holding it ---------- */

enum hold_op {
	HOLD_DEL,
	HOLD_DEL_VALUE,
	HOLD_REPLACE,
	HOLD_DEL_DEFAULT,
};

struct hold {
	enum hold_op op;
	const char *prefix;
	const char *addr;
	uint32_t old_value;
	uint32_t new_value;   /* HOLD_REPLACE: the replacement; else what remains (or MISS) */
	/* written by the reader lcore, read after it is joined */
	int rc_before;
	uint32_t before;
	int returned_early;
	int rc_after;
	uint32_t after;
};

static int holding;
static int writer_returned;

static int lookup_str(const char *addr, uint32_t *v)
{
	struct fg_ip ip;

	if (fg_ip_parse(addr, &ip) != 0)
		return -EINVAL;
	if (ip.family == AF_INET) {
		uint32_t be;

		memcpy(&be, ip.addr, 4);
		return fg_route_lookup4(tbl, be, v);
	}
	return fg_route_lookup6(tbl, ip.addr, v);
}

static int hold_reader(void *arg)
{
	struct hold *h = arg;

	rte_rcu_qsbr_thread_register(qsbr, READER_THREAD);
	rte_rcu_qsbr_thread_online(qsbr, READER_THREAD);
	h->rc_before = lookup_str(h->addr, &h->before);
	__atomic_store_n(&holding, 1, __ATOMIC_RELEASE);
	/* Still "using" the value: the writer must not have returned. */
	for (int i = 0; i < HOLD_SPINS; i++)
		rte_pause();
	h->returned_early = __atomic_load_n(&writer_returned, __ATOMIC_ACQUIRE);
	rte_rcu_qsbr_quiescent(qsbr, READER_THREAD);
	for (int i = 0; i < HOLD_SPINS && !__atomic_load_n(&writer_returned, __ATOMIC_ACQUIRE); i++) {
		rte_rcu_qsbr_quiescent(qsbr, READER_THREAD);
		rte_pause();
	}
	h->rc_after = lookup_str(h->addr, &h->after);
	rte_rcu_qsbr_thread_offline(qsbr, READER_THREAD);
	rte_rcu_qsbr_thread_unregister(qsbr, READER_THREAD);
	return 0;
}

static void test_writer_waits_for_holder(void)
{
	struct hold cases[] = {
		{ .op = HOLD_DEL, .prefix = "100.64.0.7/32", .addr = "100.64.0.7",
		  .old_value = 7, .new_value = HOLD_MISS },
		{ .op = HOLD_DEL_VALUE, .prefix = "fd00:2021:1111::7/128",
		  .addr = "fd00:2021:1111::7", .old_value = 7, .new_value = 70 },
		{ .op = HOLD_REPLACE, .prefix = "10.9.0.0/16", .addr = "10.9.1.1",
		  .old_value = 9, .new_value = 90 },
		{ .op = HOLD_DEL_DEFAULT, .prefix = "::/0", .addr = "2001:db8::1",
		  .old_value = 11, .new_value = HOLD_MISS },
	};
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct fg_prefix p;

	CU_ASSERT_FATAL(lcore < RTE_MAX_LCORE);
	qsbr = rte_zmalloc("route_qsbr_hold", sz, RTE_CACHE_LINE_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qsbr);
	CU_ASSERT_FATAL(rte_rcu_qsbr_init(qsbr, 1) == 0);
	tbl = fg_route_create("hold", 64, 64, qsbr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tbl);
	CU_ASSERT_FATAL(fg_prefix_parse("fd00:2021:1111::/107", &p) == 0);
	CU_ASSERT_FATAL(fg_route_add(tbl, &p, 70) == 0);

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct hold *h = &cases[k];
		int rc;

		CU_ASSERT_FATAL(fg_prefix_parse(h->prefix, &p) == 0);
		CU_ASSERT_FATAL(fg_route_add(tbl, &p, h->old_value) == 0);
		__atomic_store_n(&holding, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&writer_returned, 0, __ATOMIC_RELAXED);
		CU_ASSERT_FATAL(rte_eal_remote_launch(hold_reader, h, lcore) == 0);
		while (!__atomic_load_n(&holding, __ATOMIC_ACQUIRE))
			rte_pause();
		if (h->op == HOLD_DEL_VALUE)
			rc = fg_route_del_value(tbl, h->old_value) == 1 ? 0 : -1;
		else if (h->op == HOLD_REPLACE)
			rc = fg_route_add(tbl, &p, h->new_value);
		else
			rc = fg_route_del(tbl, &p);
		__atomic_store_n(&writer_returned, 1, __ATOMIC_RELEASE);
		CU_ASSERT_EQUAL(rte_eal_wait_lcore(lcore), 0);

		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(h->rc_before, 0);
		CU_ASSERT_EQUAL(h->before, h->old_value);
		CU_ASSERT_EQUAL(h->returned_early, 0);
		if (h->new_value == HOLD_MISS) {
			CU_ASSERT_EQUAL(h->rc_after, -ENOENT);
		} else {
			CU_ASSERT_EQUAL(h->rc_after, 0);
			CU_ASSERT_EQUAL(h->after, h->new_value);
		}
	}
	fg_route_free(tbl);
	rte_free(qsbr);
}

int main(int argc, char **argv)
{
	static char *defaults[] = {
		"test_route_mt", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
		"--iova-mode=va", "-l", "0,1", "-m", "128", NULL,
	};
	static const struct fg_cunit_test tests[] = {
		{ "reader lcore vs writer churn", test_reader_vs_writer },
		{ "writer waits for a reader holding a value", test_writer_waits_for_holder },
	};
	int ret;

	if (argc < 2) {
		argc = (int)(sizeof(defaults) / sizeof(defaults[0])) - 1;
		argv = defaults;
	}
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "test_route_mt: rte_eal_init failed\n");
		return 1;
	}
	ret = fg_cunit_run("route_mt", tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
