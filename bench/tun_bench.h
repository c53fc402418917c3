/* SPDX-License-Identifier: MIT */
/*
 * fastgate-tun-bench's two halves: tun_bench.c (the TCP stream, packet at a time against
 * GRO, and main) and tun_bench_udp.c (many-flow UDP, a writev per item against io_uring and
 * SQPOLL). What they share: the namespace's addresses, the clocks, the TUN set-up.
 */
#ifndef FG_TUN_BENCH_H
#define FG_TUN_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "tun.h"

#define TUN_ADDR "100.64.0.1"   /* the TUN's address in the private namespace */
#define PEER_ADDR "100.64.0.2"  /* the far end the bench plays */

enum {
	IP_HDR = 20,            /* IPv4 without options, as every packet here */
	UDP_BURST = 32,         /* the data plane's default [Dataplane] Burst: the UDP rows' batch */
};

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline uint64_t cycles_now(void)
{
#ifdef HAVE_TSC
	return __rdtsc();
#else
	return (uint64_t)(now_s() * 1e9);
#endif
}

/* tun_bench.c: a one-queue TUN (virtio-net header when vnet) with TUN_ADDR/32, up, and a
 * route to 100.64.0.0/10; 0 or -errno (printed). */
int fg_tb_setup_tun(struct fg_tun *t, const char *name, bool vnet);
/* tun_bench_udp.c: the many-flow UDP rows, each of the three paths repeat times (best kept),
 * npkts datagrams a row, the SQPOLL thread on sq_cpu (-1: unpinned); 0, or 1 when a row
 * failed. */
int fg_tb_bench_udp(uint64_t npkts, unsigned repeat, int sq_cpu);

#endif
