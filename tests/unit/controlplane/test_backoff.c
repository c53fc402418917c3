// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/portal/backoff.c: the reconnect schedule of reference §2.3 with an
 * injected clock and an injected random source (lowest, highest and middle draws), checked
 * against the closed form 0.5 s x 1.5^n capped at 60 s; the 15 s first-join deadline; the
 * max_partition_time give-up; Retry-After; the reset after a join; and tables for the
 * FIREZONE_MAX_PARTITION_TIME and Retry-After parsers. Single-threaded.
 */
#include "backoff.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint64_t ms = 1000000ull;
static const uint64_t sec = 1000000000ull;

static uint64_t fixed_rnd(void *ctx)
{
	return *(const uint64_t *)ctx;
}

/* The interval's centre after n failures: 0.5 s x 1.5^n, capped at 60 s (computed in
 * doubles, independently of the integer code under test). */
static double centre_ns(unsigned n)
{
	double v = 0.5e9;

	for (unsigned i = 0; i < n; i++) {
		v *= 1.5;
		if (v > 60e9)
			return 60e9;
	}
	return v;
}

static void check_near(uint64_t got, double want)
{
	double diff = (double)got - want;

	if (diff < -1000.0 || diff > 1000.0)
		fprintf(stderr, "\ngot %llu ns, want %.0f ns\n", (unsigned long long)got, want);
	CU_ASSERT(diff >= -1000.0 && diff <= 1000.0);
}

static void joined(struct fg_backoff *b, uint64_t *rnd, uint64_t value)
{
	*rnd = value;
	fg_backoff_init(b, 24 * 3600 * sec, fixed_rnd, rnd);
	fg_backoff_connected(b, 0);
}

static void test_schedule(void)
{
	/* lowest draw: 0.5 x interval; middle: the interval; highest: just under 1.5 x. */
	static const struct {
		uint64_t rnd;
		double factor;
	} draws[] = {
		{ 0, 0.5 },
		{ 1ull << 63, 1.0 },
		{ UINT64_MAX, 1.5 },
	};

	for (size_t d = 0; d < ARRAY_LEN(draws); d++) {
		struct fg_backoff b;
		uint64_t rnd, now = 1000 * sec, delay;

		joined(&b, &rnd, draws[d].rnd);
		for (unsigned n = 0; n < 20; n++) {
			CU_ASSERT_EQUAL_FATAL(fg_backoff_next(&b, now, 0, &delay), 0);
			check_near(delay, centre_ns(n) * draws[d].factor);
			now += delay + 3 * sec;  /* the attempt itself took 3 s */
		}
		/* The cap: 60 s x 1.5 at most. */
		CU_ASSERT(delay <= 90 * sec);
	}

	/* Exact first values with the middle draw. */
	struct fg_backoff b;
	uint64_t rnd, delay;
	static const uint64_t exact[] = {
		500000000, 750000000, 1125000000, 1687500000, 2531250000, 3796875000,
		5695312500, 8542968750, 12814453125, 19221679687, 28832519530, 43248779295,
		60 * sec, 60 * sec,
	};

	joined(&b, &rnd, 1ull << 63);
	for (size_t i = 0; i < ARRAY_LEN(exact); i++) {
		CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);
		CU_ASSERT_EQUAL(delay, exact[i]);
	}
}

static void test_first_join(void)
{
	struct fg_backoff b;
	uint64_t rnd = UINT64_MAX, now = 5 * sec, delay = 0, deadline = 0;
	unsigned attempts = 0;

	fg_backoff_init(&b, 24 * 3600 * sec, fixed_rnd, &rnd);
	CU_ASSERT_FALSE(fg_backoff_deadline(&b, &deadline));
	/* Failures that take no time: a retry every second, 15 of them, then give up. */
	while (fg_backoff_next(&b, now, 0, &delay) == 0) {
		CU_ASSERT_EQUAL(delay, 1 * sec);  /* no jitter, no growth */
		now += delay;
		attempts++;
		CU_ASSERT_FATAL(attempts < 100);
	}
	CU_ASSERT_EQUAL(attempts, 15);
	CU_ASSERT_EQUAL(now, 20 * sec);
	CU_ASSERT_TRUE(fg_backoff_deadline(&b, &deadline));
	CU_ASSERT_EQUAL(deadline, 20 * sec);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, now + 1, 0, &delay), -ETIMEDOUT);

	/* Slow failures (connect timeouts): the clock counts from the first one. */
	fg_backoff_init(&b, 24 * 3600 * sec, fixed_rnd, &rnd);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 14 * sec, 0, &delay), 0);     /* ends at 15 s */
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 14 * sec + 1, 0, &delay), -ETIMEDOUT);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 16 * sec, 0, &delay), -ETIMEDOUT);

	/* The partition time does not apply before the first join. */
	fg_backoff_init(&b, 3600 * sec, fixed_rnd, &rnd);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 16 * sec, 0, &delay), -ETIMEDOUT);
}

static void test_partition(void)
{
	struct fg_backoff b;
	uint64_t rnd, now = 7 * sec, delay = 0, last_end = 0, deadline;
	unsigned attempts = 0;

	joined(&b, &rnd, UINT64_MAX / 3);
	while (fg_backoff_next(&b, now, 0, &delay) == 0) {
		now += delay;
		last_end = now;
		attempts++;
		CU_ASSERT_FATAL(attempts < 10000);
	}
	/* Every retry ended within 24 h of the first failure; the next would not have. */
	CU_ASSERT(last_end <= 7 * sec + 24 * 3600 * sec);
	CU_ASSERT(last_end > 7 * sec + 24 * 3600 * sec - 90 * sec);
	CU_ASSERT(attempts > 24 * 3600 / 90);
	CU_ASSERT_TRUE(fg_backoff_deadline(&b, &deadline));
	CU_ASSERT_EQUAL(deadline, 7 * sec + 24 * 3600 * sec);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, now, 0, &delay), -ETIMEDOUT);

	/* A short partition time. */
	fg_backoff_init(&b, 2 * sec, fixed_rnd, &rnd);
	fg_backoff_connected(&b, 0);
	rnd = 1ull << 63;
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);     /* 0.5 s, ends 0.5 */
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 500 * ms, 0, &delay), 0);  /* 0.75 s, ends 1.25 */
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 1250 * ms, 0, &delay), -ETIMEDOUT);  /* 1.125 s */

	/* Zero: give up at once. */
	fg_backoff_init(&b, 0, fixed_rnd, &rnd);
	fg_backoff_connected(&b, 0);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), -ETIMEDOUT);

	/* The default random source works and stays in range. */
	fg_backoff_init(&b, 24 * 3600 * sec, NULL, NULL);
	fg_backoff_connected(&b, 0);
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);
		CU_ASSERT(delay <= 90 * sec);
	}
	CU_ASSERT(delay >= 30 * sec);
}

static void test_retry_after(void)
{
	struct fg_backoff b;
	uint64_t rnd, delay;

	joined(&b, &rnd, 1ull << 63);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);
	CU_ASSERT_EQUAL(delay, 500 * ms);
	/* 503 + Retry-After: 30 replaces the delay and does not advance the schedule. */
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 1 * sec, 30 * sec, &delay), 0);
	CU_ASSERT_EQUAL(delay, 30 * sec);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 31 * sec, 0, &delay), 0);
	CU_ASSERT_EQUAL(delay, 750 * ms);
	/* Clamped. */
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 32 * sec, 86400 * sec, &delay), 0);
	CU_ASSERT_EQUAL(delay, (uint64_t)FG_BACKOFF_RETRY_AFTER_MAX_S * sec);
	/* Before the first join it is honoured too, but the 15 s deadline still holds. */
	fg_backoff_init(&b, 24 * 3600 * sec, fixed_rnd, &rnd);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 30 * sec, &delay), 0);
	CU_ASSERT_EQUAL(delay, 30 * sec);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 30 * sec, 30 * sec, &delay), -ETIMEDOUT);
	/* Past the partition time after a join: give up even with Retry-After. */
	fg_backoff_init(&b, 60 * sec, fixed_rnd, &rnd);
	fg_backoff_connected(&b, 0);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 61 * sec, 5 * sec, &delay), -ETIMEDOUT);
}

static void test_reset(void)
{
	struct fg_backoff b;
	uint64_t rnd, delay;

	joined(&b, &rnd, 1ull << 63);
	for (int i = 0; i < 10; i++)
		fg_backoff_next(&b, (uint64_t)i * sec, 0, &delay);
	CU_ASSERT(delay > 10 * sec);
	/* The join succeeded: the next outage starts over, with a fresh deadline. */
	fg_backoff_connected(&b, 100000 * sec);
	uint64_t deadline;

	CU_ASSERT_FALSE(fg_backoff_deadline(&b, &deadline));
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 200000 * sec, 0, &delay), 0);
	CU_ASSERT_EQUAL(delay, 500 * ms);
	CU_ASSERT_TRUE(fg_backoff_deadline(&b, &deadline));
	CU_ASSERT_EQUAL(deadline, 200000 * sec + 24 * 3600 * sec);

	/* A first-join outage that recovers switches to the reconnect schedule. */
	fg_backoff_init(&b, 24 * 3600 * sec, fixed_rnd, &rnd);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 0, 0, &delay), 0);
	CU_ASSERT_EQUAL(delay, 1 * sec);
	fg_backoff_connected(&b, 1 * sec);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 50 * sec, 0, &delay), 0);
	CU_ASSERT_EQUAL(delay, 500 * ms);
	CU_ASSERT_EQUAL(fg_backoff_next(&b, 100 * sec, 0, &delay), 0);  /* 35 s later: fine */
	CU_ASSERT_EQUAL(delay, 750 * ms);
}

static void test_parse_duration(void)
{
	static const struct {
		const char *in;
		uint64_t ns;
	} good[] = {
		{ "30d", 30ull * 86400 * 1000000000 },
		{ "24h", 24ull * 3600 * 1000000000 },
		{ "90m", 90ull * 60 * 1000000000 },
		{ "45s", 45ull * 1000000000 },
		{ "1h 30m", 5400ull * 1000000000 },
		{ "1h30m", 5400ull * 1000000000 },
		{ " 5m ", 300ull * 1000000000 },
		{ "500ms", 500000000 },
		{ "2weeks 1day", 15ull * 86400 * 1000000000 },
		{ "10min", 600ull * 1000000000 },
		{ "2hrs", 7200ull * 1000000000 },
		{ "1M", 2630016ull * 1000000000 },
		{ "1y", 31557600ull * 1000000000 },
		{ "0s", 0 },
		{ "007s", 7ull * 1000000000 },
		{ "1ns", 1 },
		{ "584y", 584ull * 31557600 * 1000000000 },
	};
	static const struct {
		const char *in;
		int rc;
	} bad[] = {
		{ "", -EINVAL }, { " ", -EINVAL }, { "30", -EINVAL }, { "d", -EINVAL },
		{ "30x", -EINVAL }, { "-5m", -EINVAL }, { "+5m", -EINVAL }, { "1.5h", -EINVAL },
		{ "5 m", -EINVAL }, { "30d!", -EINVAL }, { "h30", -EINVAL }, { "5S", -EINVAL },
		{ "5H", -EINVAL }, { "1h,30m", -EINVAL }, { "3 hours", -EINVAL },
		{ "5m\n", -EINVAL }, { "infinity", -EINVAL }, { "0x10s", -EINVAL },
		{ "585y", -ERANGE }, { "18446744073709551616ns", -ERANGE },
		{ "99999999999999999999999", -ERANGE }, { "18446744073709551615ns 1ns", -ERANGE },
	};
	uint64_t ns;

	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		ns = 12345;
		CU_ASSERT_EQUAL(fg_backoff_parse_duration(good[i].in, &ns), 0);
		if (ns != good[i].ns)
			fprintf(stderr, "\n%s: got %llu\n", good[i].in, (unsigned long long)ns);
		CU_ASSERT_EQUAL(ns, good[i].ns);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		ns = 12345;
		int rc = fg_backoff_parse_duration(bad[i].in, &ns);

		if (rc != bad[i].rc)
			fprintf(stderr, "\n\"%s\": rc %d\n", bad[i].in, rc);
		CU_ASSERT_EQUAL(rc, bad[i].rc);
		CU_ASSERT_EQUAL(ns, 12345);
	}
	CU_ASSERT_EQUAL(fg_backoff_parse_duration(NULL, &ns), -EINVAL);
}

static void test_parse_retry_after(void)
{
	const uint64_t date = 1445412480;  /* Wed, 21 Oct 2015 07:28:00 GMT */
	uint64_t ns;

	CU_ASSERT_EQUAL(fg_backoff_parse_retry_after("120", 0, &ns), 0);
	CU_ASSERT_EQUAL(ns, 120 * sec);
	CU_ASSERT_EQUAL(fg_backoff_parse_retry_after("3600", 0, &ns), 0);
	CU_ASSERT_EQUAL(ns, 3600 * sec);
	CU_ASSERT_EQUAL(fg_backoff_parse_retry_after("0", 0, &ns), 0);
	CU_ASSERT_EQUAL(ns, 1);
	CU_ASSERT_EQUAL(fg_backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date - 60, &ns), 0);
	CU_ASSERT_EQUAL(ns, 60 * sec);
	CU_ASSERT_EQUAL(fg_backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date + 60, &ns), 0);
	CU_ASSERT_EQUAL(ns, 1);

	static const char *const bad[] = {
		"", "invalid", "-1", "12.5", " 5", "5 ", "0x10", "99999999999999999999",
		"Wed, 21 Oct 2015 07:28:00", "Wed, 21 Oct 2015 07:28:00 GMT junk",
		"Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Foo 2015 07:28:00 GMT",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		CU_ASSERT_EQUAL(fg_backoff_parse_retry_after(bad[i], date, &ns), -EINVAL);
	CU_ASSERT_EQUAL(fg_backoff_parse_retry_after(NULL, date, &ns), -EINVAL);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "schedule", test_schedule },
		{ "first join", test_first_join },
		{ "partition", test_partition },
		{ "retry after", test_retry_after },
		{ "reset", test_reset },
		{ "parse duration", test_parse_duration },
		{ "parse retry-after", test_parse_retry_after },
	};

	return fg_cunit_run("backoff", tests, ARRAY_LEN(tests));
}
