/* SPDX-License-Identifier: MIT */
/*
 * Laps of a looped pcap, for the fixed test sessions of a bench build (meson option
 * bench_sessions, FG_BENCH_SESSIONS; dataplane/service/svc_bench.h installs them). A
 * generator that replays a pcap in a loop (Pktgen, tcpreplay --loop, net_pcap infinite_rx)
 * sends every data message's counter again on every lap, so from the second lap on the
 * replay window would drop them all. fg_benchlap_admit(), called on the worker just before
 * the replay check (receive.c, admit_counter), lets a bench keypair's window start over
 * when a counter arrives that the window would refuse although it may still be used: one
 * already seen, or more than the window below the highest seen. In a looped pcap both mean
 * a new lap (the counters of one lap are all different, and arrive in file order), and the
 * window the lap then fills is the real one: every message still passes the real check
 * and update. Exact as long as one lap holds more messages per peer than one burst (or two
 * of them could share a burst) and fewer than the window minus one burst (the burst that
 * straddles the lap's end would otherwise see the new lap's first counters as too old
 * after the old lap's last ones).
 *
 * Only the worker that owns the keypair's replay window (rx_owner, peers.h) gets here, so
 * the reset follows the window's ownership rule. It runs before the AEAD: a forged message
 * with a bench keypair's index can reset its window, which is why this exists only in bench
 * builds. Elsewhere the function is empty and the keypair's bench flag is always 0.
 */
#ifndef FG_BENCHLAP_H
#define FG_BENCHLAP_H

#include <stdint.h>

#include "messages.h"
#include "peers.h"
#include "replay.h"

#ifdef FG_BENCH_SESSIONS
/* kp is const in the receive stages, which only read it; its replay window belongs to the
 * calling worker (it owns rx_owner), which alone may reset it. */
static inline void fg_benchlap_admit(const struct fg_keypair *kp, uint64_t counter)
{
	struct fg_wg_replay *r = (struct fg_wg_replay *)(uintptr_t)&kp->replay;

	if (__builtin_expect(!kp->bench, 1) || counter >= FG_WG_REJECT_AFTER_MESSAGES ||
	    fg_wg_replay_check(r, counter))
		return;
	fg_wg_replay_init(r);
}
#else
static inline void fg_benchlap_admit(const struct fg_keypair *kp, uint64_t counter)
{
	(void)kp;
	(void)counter;
}
#endif

#endif
