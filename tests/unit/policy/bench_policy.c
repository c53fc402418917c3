/* SPDX-License-Identifier: MIT */
/*
 * The cost of fg_policy_outbound() / fg_policy_inbound() for clients with 10 to 3000
 * resources, printed (never asserted: shared CI cores make timings noise), next to the naive
 * reference's. Built without sanitizers so the numbers mean something; the verdicts of
 * every packet used are still checked against the naive reference. Test thread only.
 *
 *   bench_policy           every size, millions of lookups (`meson test --benchmark`)
 *   bench_policy --smoke   10 and 100 resources, a few thousand lookups, to check that it runs
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "pkts.h"
#include "../cunit_run.h"

enum { PKTS = 1024, MAX_RES = 3000 };

/* Iterations of the timed loops: full run, and --smoke (a few ms in all). */
enum {
	ITERS = 2000000,
	NAIVE_ITERS_SMALL = 200000,
	NAIVE_ITERS_BIG = 20000,
	SMOKE_ITERS = 20000,
	SMOKE_NAIVE_ITERS = 2000,
};

static bool smoke;

static uint64_t state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 16);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void make_resource(struct fg_policy_resource *r, unsigned i)
{
	memset(r, 0, sizeof(*r));
	r->filters = tp_filters(2);
	snprintf(r->id, sizeof(r->id), "%08x-0000-4000-8000-%012u", rnd(), i);
	r->type = FG_CTL_RES_CIDR;
	if (i % 3 == 2) {
		r->prefix.ip = tp_ip("2001:db8::");
		for (unsigned b = 4; b < 16; b++)
			r->prefix.ip.addr[b] = (uint8_t)rnd();
		r->prefix.len = (uint8_t)(64 + rnd() % 65);
	} else {
		r->prefix.ip = tp_ip("10.0.0.0");
		r->prefix.ip.addr[1] = (uint8_t)(rnd() % 16);
		r->prefix.ip.addr[2] = (uint8_t)rnd();
		r->prefix.ip.addr[3] = (uint8_t)rnd();
		r->prefix.len = (uint8_t)(i % 50 == 0 ? 16 : 24 + rnd() % 9);
	}
	switch (i % 4) {
	case 0:
		break;
	case 1:
		r->filters[0] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_TCP, .port_lo = 80, .port_hi = 80 };
		r->filters[1] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_TCP, .port_lo = 8000, .port_hi = 8080 };
		r->n_filters = 2;
		break;
	case 2:
		r->filters[0] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_UDP, .port_lo = 53, .port_hi = 53 };
		r->filters[1] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_ICMP };
		r->n_filters = 2;
		break;
	default:
		r->filters[0] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_TCP, .port_lo = 443, .port_hi = 443 };
		r->n_filters = 1;
		break;
	}
}

static struct fg_policy_resource res[MAX_RES];
static uint8_t pkts[PKTS][128];
static uint32_t lens[PKTS];

/* Packets toward (outbound) or from (inbound) the resources, a fifth of them misses. */
static void make_packets(size_t n, bool inbound)
{
	static const uint16_t ports[] = { 80, 443, 53, 8080, 22 };
	static const uint16_t protos[] = { 6, 17, TP_ICMP, 6 };
	char far[FG_ADDR_STRLEN];

	for (unsigned i = 0; i < PKTS; i++) {
		const struct fg_policy_resource *r = &res[rnd() % n];
		struct fg_ip ip = r->prefix.ip;
		bool v4 = ip.family == AF_INET;
		struct tp_spec s = { .proto = protos[rnd() % 4], .sport = 40000,
				     .dport = ports[rnd() % 5] };
		uint8_t b[TP_MAX];

		unsigned host_bits = (v4 ? 32u : 128u) - r->prefix.len;

		if (host_bits > 7)
			host_bits = 7;
		if (rnd() % 5 == 0)
			ip.addr[v4 ? 0 : 2] ^= 0x40;         /* a miss */
		else
			ip.addr[v4 ? 3 : 15] ^= (uint8_t)(rnd() & ((1u << host_bits) - 1));
		fg_ip_format(&ip, far, sizeof(far));
		if (inbound) {
			s.src = far;
			s.dst = v4 ? "100.64.0.2" : "fd00:2021:1111::2";
			s.sport = s.dport;
			s.dport = 40000;
		} else {
			s.src = v4 ? "100.64.0.2" : "fd00:2021:1111::2";
			s.dst = far;
		}
		lens[i] = tp_build(b, &s);
		memcpy(pkts[i], b, lens[i]);
	}
}

static void bench(size_t n)
{
	struct fg_ip c4 = tp_ip("100.64.0.2"), c6 = tp_ip("fd00:2021:1111::2");
	struct fg_ip g4 = tp_ip("100.64.0.1"), g6 = tp_ip("fd00:2021:1111::1");
	struct naive_policy np = { .res = res, .n = n, .client4 = c4, .client6 = c6, .gw4 = g4, .gw6 = g6 };
	uint64_t t0, t_build, t_out, t_in, t_naive, sink = 0;
	unsigned iters = smoke ? SMOKE_ITERS : ITERS, bad = 0;
	unsigned naive_iters = smoke ? SMOKE_NAIVE_ITERS
				     : n >= 1000 ? NAIVE_ITERS_BIG : NAIVE_ITERS_SMALL;
	struct fg_policy *p;

	for (size_t i = 0; i < n; i++)
		make_resource(&res[i], (unsigned)i);
	t0 = now_ns();
	p = fg_policy_build(res, n, &c4, &c6, &g4, &g6);
	t_build = now_ns() - t0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);

	make_packets(n, false);
	for (unsigned i = 0; i < PKTS; i++) {
		enum fg_drop a, b;
		const char *ra, *rb;

		bad += fg_policy_outbound(p, pkts[i], lens[i], 0, &a, &ra) !=
		       naive_outbound(&np, pkts[i], lens[i], 0, &b, &rb) || a != b ||
		       (ra != rb && (!ra || !rb || strcmp(ra, rb) != 0));
		sink += a == FG_DROP_NONE;
	}
	t0 = now_ns();
	for (unsigned i = 0; i < iters; i++)
		sink += fg_policy_outbound(p, pkts[i % PKTS], lens[i % PKTS], 0, NULL, NULL);
	t_out = now_ns() - t0;
	t0 = now_ns();
	for (unsigned i = 0; i < naive_iters; i++) {
		enum fg_drop why;
		const char *rid;

		sink += naive_outbound(&np, pkts[i % PKTS], lens[i % PKTS], 0, &why, &rid);
	}
	t_naive = now_ns() - t0;

	make_packets(n, true);
	for (unsigned i = 0; i < PKTS; i++) {
		enum fg_drop a, b;

		bad += fg_policy_inbound(p, pkts[i], lens[i], 0, &a) !=
		       naive_inbound(&np, pkts[i], lens[i], 0, &b) || a != b;
	}
	t0 = now_ns();
	for (unsigned i = 0; i < iters; i++)
		sink += fg_policy_inbound(p, pkts[i % PKTS], lens[i % PKTS], 0, NULL);
	t_in = now_ns() - t0;

	printf("\n  %4zu resources: build %8.1f us, per packet: outbound %6.1f ns, inbound %6.1f ns,"
	       " naive outbound %9.1f ns [%llu]",
	       n, (double)t_build / 1e3, (double)t_out / iters, (double)t_in / iters,
	       (double)t_naive / naive_iters, (unsigned long long)(sink & 0xff));
	CU_ASSERT_EQUAL(bad, 0);
	fg_policy_free(p);
}

static void test_bench(void)
{
	static const size_t sizes[] = { 10, 100, 1000, 3000 };
	size_t n_sizes = smoke ? 2 : sizeof(sizes) / sizeof(sizes[0]);

	for (size_t i = 0; i < n_sizes; i++)
		bench(sizes[i]);
}

int main(int argc, char **argv)
{
	static const struct fg_cunit_test tests[] = {
		{ "lookup cost", test_bench },
	};

	if (argc == 2 && strcmp(argv[1], "--smoke") == 0) {
		smoke = true;
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--smoke]\n", argv[0]);
		return 1;
	}
	return fg_cunit_run("policy_bench", tests, sizeof(tests) / sizeof(tests[0]));
}
