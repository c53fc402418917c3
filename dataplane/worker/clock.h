/* SPDX-License-Identifier: MIT */
/*
 * Monotonic nanoseconds from the TSC, cheap enough for every packet on a worker, and the
 * wall clock for handshake timestamps and `wg show`. fg_clock_init() runs once on the main
 * lcore before any worker starts; afterwards the scale is read-only. Wall time on a worker
 * (policy expiry, the flow records' times) is a published base plus monotonic time, without
 * a syscall: the service lcore re-reads CLOCK_REALTIME about once a second
 * (fg_clock_wall_resync) and stores a new base when the wall clock moved against the TSC
 * (a step by NTP, an operator or a resumed VM; the TSC's own calibration error), with one
 * atomic 64-bit store that the workers load relaxed. Timers (WireGuard, NAT tuples) use
 * the monotonic time only, so a step moves expiry and nothing else.
 */
#ifndef FG_CLOCK_H
#define FG_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <rte_cycles.h>

__extension__ typedef unsigned __int128 fg_u128;

extern uint64_t fg_clock_tsc_hz;
extern uint64_t fg_clock_mult;   /* ns per cycle in 32.32 fixed point */
extern uint64_t fg_clock_wall_base; /* unix ns at monotonic 0: wall time without a syscall;
				     * written by fg_clock_init and fg_clock_wall_resync (service
				     * lcore), read through fg_clock_wall_base_ns() */

enum {
	/* A re-read wall clock that moved less than this against the published base leaves it
	 * alone: no jitter of a few microseconds every second. */
	FG_CLOCK_RESYNC_MIN_NS = 1000000,
};

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

/* The published base (any lcore). */
static inline uint64_t fg_clock_wall_base_ns(void)
{
	return __atomic_load_n(&fg_clock_wall_base, __ATOMIC_RELAXED);
}

/* Unix seconds from the TSC (per packet on workers: policy expiry). */
static inline uint64_t fg_clock_unix_s(uint64_t now_ns)
{
	return (fg_clock_wall_base_ns() + now_ns) / 1000000000ULL;
}

static inline uint64_t fg_clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The base for a wall clock that read wall_ns at monotonic mono_ns, against the published
 * old_base (pure: the resync's arithmetic, for its tests). Returns the step (new base minus
 * old, ns; the wall clock's jump when the TSC did not jump) and sets *base when the step
 * is at least FG_CLOCK_RESYNC_MIN_NS either way; returns 0 and leaves *base alone otherwise.
 */
static inline int64_t fg_clock_rebase(uint64_t old_base, uint64_t wall_ns, uint64_t mono_ns, uint64_t *base)
{
	uint64_t nb = wall_ns - mono_ns; /* modulo 2^64, as the sum that reads it back */
	int64_t step = (int64_t)(nb - old_base);

	if (step > -(int64_t)FG_CLOCK_RESYNC_MIN_NS && step < (int64_t)FG_CLOCK_RESYNC_MIN_NS)
		return 0;
	*base = nb;
	return step;
}

/* Service lcore only (one writer), about once a second: re-reads CLOCK_REALTIME and
 * publishes a new base when it moved (fg_clock_rebase). Returns the step in ns, 0 if none. */
static inline int64_t fg_clock_wall_resync(void)
{
	uint64_t mono = fg_clock_ns(), wall = fg_clock_wall_ns(), base = 0;
	int64_t step = fg_clock_rebase(fg_clock_wall_base_ns(), wall, mono, &base);

	if (step)
		__atomic_store_n(&fg_clock_wall_base, base, __ATOMIC_RELAXED);
	return step;
}

enum {
	FG_NS_PER_MS = 1000000,
};
#define FG_NS_PER_S 1000000000ULL

#endif
