/* SPDX-License-Identifier: MIT */
/*
 * Monotonic nanoseconds from the TSC, cheap enough for every packet on a worker, and the
 * wall clock for handshake timestamps and `wg show`. fg_clock_init() runs once on the main
 * lcore before any worker starts; afterwards the scale is read-only.
 */
#ifndef FG_CLOCK_H
#define FG_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <rte_cycles.h>

__extension__ typedef unsigned __int128 fg_u128;

extern uint64_t fg_clock_tsc_hz;
extern uint64_t fg_clock_mult;   /* ns per cycle in 32.32 fixed point */
extern uint64_t fg_clock_wall_base; /* unix ns at monotonic 0: wall time without a syscall */

static inline void fg_clock_init(void)
{
	fg_clock_tsc_hz = rte_get_tsc_hz();
	fg_clock_mult = (uint64_t)(((fg_u128)1000000000ULL << 32) / fg_clock_tsc_hz);
	{
		struct timespec ts;
		uint64_t mono = (uint64_t)(((fg_u128)rte_get_tsc_cycles() * fg_clock_mult) >> 32);

		clock_gettime(CLOCK_REALTIME, &ts);
		fg_clock_wall_base = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec - mono;
	}
}

static inline uint64_t fg_clock_ns(void)
{
	return (uint64_t)(((fg_u128)rte_get_tsc_cycles() * fg_clock_mult) >> 32);
}

/* Unix seconds from the TSC (per packet on workers: policy expiry). */
static inline uint64_t fg_clock_unix_s(uint64_t now_ns)
{
	return (fg_clock_wall_base + now_ns) / 1000000000ULL;
}

static inline uint64_t fg_clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

enum {
	FG_NS_PER_MS = 1000000,
};
#define FG_NS_PER_S 1000000000ULL

#endif
