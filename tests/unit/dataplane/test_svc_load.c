// SPDX-License-Identifier: MIT
/*
 * In-process tests of the lcores' load figures (service/stats.c, svc_env.h): the window
 * sampled about once a second holds the differences between two samples, a figure read
 * while a worker changes it never has more busy polls or cycles than polls or cycles, an
 * lcore that has not started reads 0 cycles, the service loop (fg_svc_run) counts its own
 * passes and fills the window, and the stats file and the telemetry attachment carry them.
 * The worker counters are set by hand here, as a worker lcore writes them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "cunit_run.h"
#include "svc_env.h"
#include "telemetry.h"

static struct fg_svc_env g_env;

static void set_counters(struct fg_lcore_counters *c, uint64_t polls, uint64_t busy_polls, uint64_t busy_cycles,
			 uint64_t start_tsc)
{
	c->polls = polls;
	c->busy_polls = busy_polls;
	c->busy_cycles = busy_cycles;
	c->start_tsc = start_tsc;
}

static bool figures_are(const struct fg_svc_load_figures *f, uint64_t polls, uint64_t busy_polls,
			uint64_t busy_cycles, uint64_t cycles)
{
	return f->polls == polls && f->busy_polls == busy_polls && f->busy_cycles == busy_cycles &&
	       f->cycles == cycles;
}

/* Samples at chosen TSC values: nothing in the window until the second sample, then the
 * differences; a tick before the window is complete changes nothing. */
static void test_window_is_the_difference(void)
{
	struct fg_svc *s = &g_env.svc;
	struct fg_lcore_counters *w = &g_env.dp.workers[0].cnt;
	struct fg_svc_load_figures since, win;
	uint64_t hz = rte_get_tsc_hz(), t0 = 10 * hz;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 8), 0);
	set_counters(w, 1000, 100, 5000, t0 - hz);
	set_counters(&g_env.dp.svc_cnt, 50, 5, 700, t0 - 2 * hz);
	fg_svc_load_tick(s, t0);
	fg_svc_load_read(s, 1, t0, &since, &win);
	CU_ASSERT_TRUE(figures_are(&since, 1000, 100, 5000, hz));
	CU_ASSERT_TRUE(figures_are(&win, 0, 0, 0, 0));

	set_counters(w, 3000, 400, 9000, t0 - hz);
	fg_svc_load_tick(s, t0 + hz / 2);
	fg_svc_load_read(s, 1, t0 + hz / 2, &since, &win);
	CU_ASSERT_TRUE(figures_are(&since, 3000, 400, 9000, hz + hz / 2));
	CU_ASSERT_TRUE(figures_are(&win, 0, 0, 0, 0));

	fg_svc_load_tick(s, t0 + hz + 7);
	fg_svc_load_read(s, 1, t0 + hz + 7, &since, &win);
	CU_ASSERT_TRUE(figures_are(&win, 2000, 300, 4000, hz + 7));
	/* The service lcore is index 0: unchanged counters, a window of no work. */
	fg_svc_load_read(s, 0, t0 + hz + 7, &since, &win);
	CU_ASSERT_TRUE(figures_are(&since, 50, 5, 700, 3 * hz + 7));
	CU_ASSERT_TRUE(figures_are(&win, 0, 0, 0, hz + 7));
	/* Past the workers: zeros, not another lcore's. */
	fg_svc_load_read(s, 2, t0 + hz + 7, &since, &win);
	CU_ASSERT_TRUE(figures_are(&since, 0, 0, 0, 0));
	CU_ASSERT_TRUE(figures_are(&win, 0, 0, 0, 0));
	fg_svc_env_fini(&g_env);
}

/* A read racing the worker's increments (busy counted before the total), an lcore not
 * started, and a clock read before the start: busy never exceeds all, cycles never wrap. */
static void test_torn_reads_clamped(void)
{
	struct fg_svc *s = &g_env.svc;
	struct fg_lcore_counters *w = &g_env.dp.workers[0].cnt;
	struct fg_svc_load_figures since, win;
	uint64_t hz = rte_get_tsc_hz(), t0 = 20 * hz;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 8), 0);
	set_counters(w, 10, 11, 500, t0 - 100);
	fg_svc_load_read(s, 1, t0, &since, &win);
	CU_ASSERT_TRUE(figures_are(&since, 10, 10, 100, 100));
	set_counters(w, 10, 5, 50, 0);
	fg_svc_load_read(s, 1, t0, &since, &win);
	CU_ASSERT_TRUE(figures_are(&since, 10, 5, 0, 0));
	set_counters(w, 10, 5, 50, t0 + 1);
	fg_svc_load_read(s, 1, t0, &since, &win);
	CU_ASSERT_EQUAL(since.cycles, 0);
	CU_ASSERT_EQUAL(since.busy_cycles, 0);

	/* A window whose second sample saw more busy polls than polls. */
	set_counters(w, 100, 10, 10, t0 - hz);
	fg_svc_load_tick(s, t0);
	set_counters(w, 110, 30, 20, t0 - hz);
	fg_svc_load_tick(s, t0 + hz);
	fg_svc_load_read(s, 1, t0 + hz, &since, &win);
	CU_ASSERT_TRUE(figures_are(&win, 10, 10, 10, hz));
	fg_svc_env_fini(&g_env);
}

struct stopper {
	struct fg_dp *dp;
	unsigned ms;
};

static void *stop_later(void *arg)
{
	struct stopper *st = arg;
	struct timespec ts = { .tv_sec = st->ms / 1000, .tv_nsec = (long)(st->ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	__atomic_store_n(&st->dp->quit, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* The real loop for 2.5 s: its own passes counted from its start, windows sampled, and the
 * stats file has the figures and tsc_hz. The service idles (nothing to do), so its busy
 * figures may be 0, never above the totals. */
static void test_service_loop_counts_itself(void)
{
	struct fg_svc *s = &g_env.svc;
	struct fg_svc_load_figures since, win;
	struct stopper st = { .ms = 2500 };
	struct fg_telemetry *tel;
	pthread_t th;
	char *text = NULL, line[64];
	size_t len = 0;
	uint64_t hz = rte_get_tsc_hz();
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 8), 0);
	st.dp = &g_env.dp;
	/* One telemetry attachment at a time; it is polled by the loop like a socket server. */
	tel = fg_telemetry_open(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tel);
	CU_ASSERT_PTR_NULL(fg_telemetry_open(s));
	CU_ASSERT_EQUAL(errno, EBUSY);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, stop_later, &st), 0);
	CU_ASSERT_EQUAL(fg_svc_run(s), FG_SVC_EXIT_OK);
	pthread_join(th, NULL);
	CU_ASSERT_NOT_EQUAL(g_env.dp.svc_cnt.start_tsc, 0);
	fg_svc_load_read(s, 0, rte_rdtsc(), &since, &win);
	CU_ASSERT(since.polls > 0);
	CU_ASSERT(since.busy_polls <= since.polls);
	CU_ASSERT(since.cycles >= 2 * hz);
	CU_ASSERT(since.busy_cycles <= since.cycles);
	CU_ASSERT(win.polls > 0 && win.polls < since.polls);
	CU_ASSERT(win.cycles >= hz && win.cycles < since.cycles);
	CU_ASSERT(win.busy_polls <= win.polls && win.busy_cycles <= win.cycles);
	fg_telemetry_close(tel);
	/* Closed, another may open. */
	tel = fg_telemetry_open(s);
	CU_ASSERT_PTR_NOT_NULL(tel);
	fg_telemetry_close(tel);

	f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fg_svc_stats_write(s, f);
	fclose(f);
	snprintf(line, sizeof(line), "\ntsc_hz %lu\n", hz);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
	snprintf(line, sizeof(line), "\nservice.polls_1s %lu\n", win.polls);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nservice.cycles "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nworker0.busy_polls 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nworker0.busy_cycles_1s 0\n"));
	/* The DPDK heap: the EAL's -m 128 (svc_env.c) in all, what the data plane took of it. */
	{
		unsigned long total = 0, alloc = 0, freeb = 0, largest = 0;
		const char *h = strstr(text, "\nheap_total_bytes ");

		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		CU_ASSERT_EQUAL(sscanf(h, "\nheap_total_bytes %lu\nheap_allocated_bytes %lu\nheap_free_bytes %lu\n"
				       "heap_largest_free_bytes %lu", &total, &alloc, &freeb, &largest), 4);
		CU_ASSERT_EQUAL(total, 128ul << 20);
		CU_ASSERT(alloc > 0 && alloc + freeb == total && largest > 0 && largest <= freeb);
	}
	free(text);
	fg_svc_env_fini(&g_env);
}

static const struct fg_cunit_test tests[] = {
	{ "the window is the difference of two samples a second apart", test_window_is_the_difference },
	{ "torn reads clamped: busy never above all", test_torn_reads_clamped },
	{ "the service loop counts its passes; stats file and telemetry", test_service_loop_counts_itself },
};

int main(int argc, char **argv)
{
	(void)argc;
	if (fg_svc_env_eal(argv[0]) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return fg_cunit_run("svc-load", tests, sizeof(tests) / sizeof(tests[0]));
}
