// SPDX-License-Identifier: MIT
/*
 * Tests for the receive replay window (dataplane/wg/replay.c): a table of (counter,
 * expected) steps in the style of the kernel's counter selftest, covering the window
 * edges, wrap of the 128-word ring, big jumps and the REJECT_AFTER_MESSAGES limit, then a
 * randomized differential run against a deliberately naive reference (a flat "seen" array
 * plus the greatest counter). Single-threaded; no clock.
 */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "replay.h"
#include "../cunit_run.h"

enum {
	W = FG_WG_REPLAY_WINDOW,         /* 8128 */
	RING = FG_WG_REPLAY_BITS_TOTAL,  /* 8192 */
};

#define R FG_WG_REJECT_AFTER_MESSAGES

struct step {
	uint64_t counter;
	bool expected;
};

/*
 * One step: the pre-check must agree with the update that follows (the window is exact,
 * so check() is never more lenient or stricter than update()), must not modify the state,
 * and an accepted counter must be refused by check() afterwards.
 */
static void run_step(struct fg_wg_replay *r, const struct step *s, size_t idx)
{
	static struct fg_wg_replay before;
	bool checked;
	bool updated;

	before = *r;
	checked = fg_wg_replay_check(r, s->counter);
	CU_ASSERT_EQUAL(memcmp(&before, r, sizeof(before)), 0);
	updated = fg_wg_replay_update(r, s->counter);
	if (checked != s->expected || updated != s->expected)
		fprintf(stderr, "step %zu: counter %" PRIu64 " expected %d, check %d, update %d\n",
			idx, s->counter, s->expected, checked, updated);
	CU_ASSERT_EQUAL(checked, s->expected);
	CU_ASSERT_EQUAL(updated, s->expected);
	CU_ASSERT_FALSE(fg_wg_replay_check(r, s->counter));
	if (!updated)
		CU_ASSERT_EQUAL(memcmp(&before, r, sizeof(before)), 0);
}

static void run_table(const struct step *steps, size_t n)
{
	static struct fg_wg_replay r;

	fg_wg_replay_init(&r);
	for (size_t i = 0; i < n; i++)
		run_step(&r, &steps[i], i);
}

static void test_table_basic(void)
{
	static const struct step steps[] = {
		{ 0, true },
		{ 0, false },
		{ 1, true },
		{ 1, false },
		{ 9, true },          /* gap: 2..8 stay acceptable */
		{ 8, true },
		{ 7, true },
		{ 7, false },
		{ 2, true },
		{ W, true },          /* greatest W: 0 is exactly at the old edge */
		{ 3, true },
		{ 0, false },         /* in the window, but seen */
		{ W - 1, true },
		{ W - 1, false },
		{ W + 1, true },      /* now 0 has fallen out, 1 is the edge */
		{ 0, false },
		{ 4, true },
		{ W + 1, false },
		{ W + 65, true },     /* oldest acceptable is now 65 */
		{ 64, false },        /* one below the edge */
		{ 65, true },         /* exactly the edge */
		{ 65, false },
		{ W + 64, true },     /* below the greatest, never seen */
		{ W + 66, true },
	};

	run_table(steps, sizeof(steps) / sizeof(steps[0]));
}

static void test_table_jumps_and_ring_wrap(void)
{
	static const struct step steps[] = {
		{ 5, true },
		{ 5 + RING, true },             /* same ring bit as 5: the word was recycled */
		{ 5, false },                   /* and 5 is far too old */
		{ 5 + RING - 64, true },        /* the word before it, also recycled */
		{ 5 + RING - W, true },         /* exactly the edge */
		{ 5 + RING - W - 1, false },
		{ 5 + 3 * RING, true },         /* two rings on, same bit: every word recycled */
		{ 4 * RING + 7, true },         /* a jump of several rings */
		{ 4 * RING + 6, true },
		{ 4 * RING + 7 - W, true },
		{ 4 * RING + 7 - W - 1, false },
		{ 5 + RING, false },
		{ 4 * RING + 7 + 63, true },    /* end of the same word */
		{ 4 * RING + 7 + 64, true },    /* next word */
		{ 4 * RING + 7 + 64, false },
		{ 4 * RING + 6, false },
		{ 4 * RING + 7 + 64 + RING - 1, true }, /* one counter short of a full ring */
		{ 4 * RING + 7 + 64, false },           /* 8191 behind: too old */
		{ 4 * RING + 7 + 64 + RING - 1 - W, true },
		{ 1ULL << 40, true },           /* a huge jump */
		{ (1ULL << 40) - W, true },
		{ (1ULL << 40) - W - 1, false },
		{ 0, false },
	};

	run_table(steps, sizeof(steps) / sizeof(steps[0]));
}

static void test_table_reject_after_messages(void)
{
	static const struct step steps[] = {
		{ R, false },
		{ R + 1, false },
		{ UINT64_MAX, false },
		{ R - 1, true },      /* the last counter anyone may use */
		{ R, false },
		{ R - 1, false },
		{ R - 2, true },
		{ R + 1, false },
		{ UINT64_MAX, false },
		{ R - 2, false },
		{ R - 3, true },
		{ R - 1 - W, true },
		{ R - 2 - W, false },
		{ 0, false },
	};

	run_table(steps, sizeof(steps) / sizeof(steps[0]));
}

/* Every bit of the window, in ascending and descending order, as the kernel's loops do. */
static void test_whole_window(void)
{
	static struct fg_wg_replay r;
	uint64_t i;

	fg_wg_replay_init(&r);
	for (i = 1; i <= W; i++)
		CU_ASSERT_TRUE(fg_wg_replay_update(&r, i));
	CU_ASSERT_TRUE(fg_wg_replay_update(&r, 0));
	CU_ASSERT_FALSE(fg_wg_replay_update(&r, 0));

	fg_wg_replay_init(&r);
	for (i = 2; i <= W + 1; i++)
		CU_ASSERT_TRUE(fg_wg_replay_update(&r, i));
	CU_ASSERT_TRUE(fg_wg_replay_update(&r, 1));
	CU_ASSERT_FALSE(fg_wg_replay_update(&r, 0));

	fg_wg_replay_init(&r);
	for (i = W + 1; i >= 1; i--)
		CU_ASSERT_TRUE(fg_wg_replay_update(&r, i));
	CU_ASSERT_FALSE(fg_wg_replay_update(&r, 0));

	fg_wg_replay_init(&r);
	for (i = W + 2; i >= 2; i--)
		CU_ASSERT_TRUE(fg_wg_replay_update(&r, i));
	CU_ASSERT_FALSE(fg_wg_replay_update(&r, 1));
	CU_ASSERT_FALSE(fg_wg_replay_update(&r, 0));

	/* Descending fill, then every one of them is a replay. */
	fg_wg_replay_init(&r);
	for (i = W + 1; i-- > 0;)
		CU_ASSERT_TRUE(fg_wg_replay_update(&r, i));
	for (i = 0; i <= W; i++)
		CU_ASSERT_FALSE(fg_wg_replay_check(&r, i));

	/* Sequential traffic across several ring wraps: everything arrives exactly once. */
	fg_wg_replay_init(&r);
	for (i = 0; i < 5 * RING; i++) {
		CU_ASSERT_TRUE(fg_wg_replay_update(&r, i));
		if (i >= 64)
			CU_ASSERT_FALSE(fg_wg_replay_check(&r, i - 64));
	}
	for (i = 5 * RING - 1 - W; i < 5 * RING; i++)
		CU_ASSERT_FALSE(fg_wg_replay_update(&r, i));
	CU_ASSERT_TRUE(fg_wg_replay_update(&r, 5 * RING));
}

/* ---- differential test against a naive reference ---- */

enum {
	REF_SPAN = 1 << 25,   /* counters base .. base + span - 1, at most */
	REF_OPS = 200000,
};

struct ref {
	uint8_t *seen;        /* seen[c - base] */
	uint64_t base;
	uint64_t span;
	uint64_t greatest;
	bool any;
};

static bool ref_update(struct ref *ref, uint64_t c)
{
	if (c >= R)
		return false;
	if (ref->any && c + W < ref->greatest)
		return false;
	if (ref->seen[c - ref->base])
		return false;
	ref->seen[c - ref->base] = 1;
	if (!ref->any || c > ref->greatest)
		ref->greatest = c;
	ref->any = true;
	return true;
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

/*
 * Counters cluster around the greatest one so far (reordering, duplicates, stragglers just
 * past the edge), with occasional forward jumps of up to two rings and rare big jumps.
 */
static uint64_t pick(uint64_t *rng, const struct ref *ref)
{
	uint64_t g = ref->any ? ref->greatest - ref->base : 0;
	uint64_t roll = rng_next(rng) % 1000;
	int64_t off;
	uint64_t x;

	if (roll < 5)
		off = (int64_t)(rng_next(rng) % (2 * RING));
	else if (roll < 6)
		off = (int64_t)(rng_next(rng) % (8 * RING));
	else if (roll < 60)
		off = -(int64_t)(W - 40) - (int64_t)(rng_next(rng) % 80);  /* around the edge */
	else
		off = (int64_t)(rng_next(rng) % 400) - 300;
	if (off < 0 && (uint64_t)-off > g)
		x = rng_next(rng) % (g + 1);
	else
		x = g + (uint64_t)off;
	if (x >= ref->span)
		x = ref->span - 1 - rng_next(rng) % 64;
	return ref->base + x;
}

static void differential(uint64_t base, uint64_t span, uint64_t seed)
{
	static struct fg_wg_replay r;
	struct ref ref = { .base = base, .span = span };
	uint64_t rng = seed;
	unsigned mismatches = 0;
	unsigned accepted = 0;

	ref.seen = calloc(span, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ref.seen);
	fg_wg_replay_init(&r);
	for (int i = 0; i < REF_OPS; i++) {
		uint64_t c = pick(&rng, &ref);
		bool checked = fg_wg_replay_check(&r, c);
		bool want = ref_update(&ref, c);
		bool got = fg_wg_replay_update(&r, c);

		accepted += got;

		if ((got != want || checked != want) && mismatches++ < 5)
			fprintf(stderr, "seed %" PRIu64 " op %d: counter %" PRIu64
				" ref %d check %d update %d\n", seed, i, c, want, checked, got);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	/* The mix must exercise both outcomes, or the comparison proves little. */
	CU_ASSERT(accepted > REF_OPS / 100);
	CU_ASSERT(accepted < REF_OPS - REF_OPS / 100);
	free(ref.seen);
}

static void test_differential_low(void)
{
	differential(0, REF_SPAN, 0x9e3779b97f4a7c15ULL);
	differential(0, REF_SPAN, 12345);
}

/* The same traffic just below the limit: the greatest counter runs into
 * REJECT_AFTER_MESSAGES and the picks keep probing past it. */
static void test_differential_near_limit(void)
{
	enum { BELOW = 1 << 20, ABOVE = 4096 };

	differential(R - BELOW, BELOW + ABOVE, 777);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "table: basic and window edges", test_table_basic },
		{ "table: jumps and ring wrap", test_table_jumps_and_ring_wrap },
		{ "table: REJECT_AFTER_MESSAGES", test_table_reject_after_messages },
		{ "whole window both ways", test_whole_window },
		{ "differential vs naive (low)", test_differential_low },
		{ "differential vs naive (near limit)", test_differential_near_limit },
	};

	return fg_cunit_run("wg_replay", tests, sizeof(tests) / sizeof(tests[0]));
}
