// SPDX-License-Identifier: MIT
/*
 * Tests for the data plane's wall clock on workers (dataplane/worker/clock.h): the base that
 * turns monotonic TSC time into Unix time is re-read once a second by the service lcore, so
 * that a wall-clock step (+1 h, -1 h) moves expiry with it. A table for the pure arithmetic
 * (fg_clock_rebase: steps either way, the jitter left alone, the threshold, readings that
 * wrap modulo 2^64), then fg_clock_wall_resync() against the real clocks with a base set an
 * hour off each way. Single-threaded, no EAL (the TSC is calibrated here against
 * CLOCK_MONOTONIC).
 */
#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

#define HOUR_NS (3600ULL * FG_NS_PER_S)

static void test_rebase_table(void)
{
	static const uint64_t wall0 = 1767225600ULL * FG_NS_PER_S; /* 2026-01-01 */
	static const struct {
		const char *what;
		uint64_t old_base, wall, mono;
		int64_t step;          /* 0: not published */
	} rows[] = {
		{ "same reading", wall0 - 5 * FG_NS_PER_S, wall0, 5 * FG_NS_PER_S, 0 },
		{ "+0.5 ms jitter", wall0, wall0 + 500000, 0, 0 },
		{ "-0.5 ms jitter", wall0, wall0 - 500000, 0, 0 },
		{ "just under the threshold", wall0, wall0 + FG_CLOCK_RESYNC_MIN_NS - 1, 0, 0 },
		{ "the threshold, ahead", wall0, wall0 + FG_CLOCK_RESYNC_MIN_NS, 0, FG_CLOCK_RESYNC_MIN_NS },
		{ "the threshold, behind", wall0, wall0 - FG_CLOCK_RESYNC_MIN_NS, 0, -(int64_t)FG_CLOCK_RESYNC_MIN_NS },
		{ "+1 h", wall0 - 7 * FG_NS_PER_S, wall0 + HOUR_NS + 3 * FG_NS_PER_S, 10 * FG_NS_PER_S,
		  (int64_t)HOUR_NS },
		{ "-1 h", wall0 - 7 * FG_NS_PER_S, wall0 - HOUR_NS + 3 * FG_NS_PER_S, 10 * FG_NS_PER_S,
		  -(int64_t)HOUR_NS },
		{ "TSC drift of 2 ms", wall0, wall0 + 1000 * FG_NS_PER_S, 1000 * FG_NS_PER_S - 2000000, 2000000 },
		/* A monotonic time larger than the wall time (a TSC counting from far away): the
		 * base wraps, and base + mono still reads the wall time back. */
		{ "base wraps modulo 2^64", 1000, 5 * FG_NS_PER_S + 2000, 5 * FG_NS_PER_S + 10 * HOUR_NS,
		  -(int64_t)(10 * HOUR_NS) + 1000 },
	};

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t base = 0xdeadbeef;
		int64_t step = fg_clock_rebase(rows[i].old_base, rows[i].wall, rows[i].mono, &base);

		if (step != rows[i].step)
			fprintf(stderr, "  %s: step %lld, want %lld\n", rows[i].what, (long long)step,
				(long long)rows[i].step);
		CU_ASSERT_EQUAL(step, rows[i].step);
		if (rows[i].step == 0) {
			CU_ASSERT_EQUAL(base, 0xdeadbeef); /* untouched */
			continue;
		}
		CU_ASSERT_EQUAL(base + rows[i].mono, rows[i].wall); /* reads the wall clock back */
		CU_ASSERT_EQUAL(base - rows[i].old_base, (uint64_t)step);
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * FG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* fg_clock_init() without an EAL: the TSC's rate measured over 50 ms. */
static void calibrate(void)
{
	uint64_t t0 = mono_ns(), c0 = rte_rdtsc(), t1, c1;

	do {
		t1 = mono_ns();
	} while (t1 - t0 < 50 * (uint64_t)FG_NS_PER_MS);
	c1 = rte_rdtsc();
	fg_clock_tsc_hz = (uint64_t)((fg_u128)(c1 - c0) * FG_NS_PER_S / (t1 - t0));
	fg_clock_mult = (uint64_t)(((fg_u128)1000000000ULL << 32) / fg_clock_tsc_hz);
	__atomic_store_n(&fg_clock_wall_base, fg_clock_wall_ns() - fg_clock_ns(), __ATOMIC_RELAXED);
}

/* The published base an hour off either way: one resync brings the Unix seconds of the TSC
 * back to the wall clock's, and the next one finds nothing to do. */
static void test_resync_real_clocks(void)
{
	static const int64_t offsets[] = { -(int64_t)HOUR_NS, (int64_t)HOUR_NS };

	calibrate();
	CU_ASSERT_EQUAL(fg_clock_wall_resync(), 0);
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		int64_t step;
		uint64_t unix_s, now_s;

		__atomic_store_n(&fg_clock_wall_base, fg_clock_wall_base_ns() + (uint64_t)offsets[i],
				 __ATOMIC_RELAXED);
		now_s = (uint64_t)time(NULL);
		unix_s = fg_clock_unix_s(fg_clock_ns());
		/* The worker's view is an hour off before the resync. */
		CU_ASSERT(offsets[i] > 0 ? unix_s > now_s + 3590 : unix_s + 3590 < now_s);
		step = fg_clock_wall_resync();
		/* The step undoes the offset, to within the few µs between the two readings. */
		CU_ASSERT(step < -offsets[i] + 50 * (int64_t)FG_NS_PER_MS);
		CU_ASSERT(step > -offsets[i] - 50 * (int64_t)FG_NS_PER_MS);
		now_s = (uint64_t)time(NULL);
		unix_s = fg_clock_unix_s(fg_clock_ns());
		CU_ASSERT(unix_s + 1 >= now_s && unix_s <= now_s + 1);
		CU_ASSERT_EQUAL(fg_clock_wall_resync(), 0);
	}
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "rebase: steps, jitter, threshold, wrap", test_rebase_table },
		{ "resync against the real clocks, +1 h and -1 h", test_resync_real_clocks },
	};

	return fg_cunit_run("dataplane_clock", tests, sizeof(tests) / sizeof(tests[0]));
}
