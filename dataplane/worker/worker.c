// SPDX-License-Identifier: MIT
/*
 * The worker's poll loop (see worker.h): each pass takes a bounded burst from every source
 * the worker owns (its NIC queue, its handoff ring, its TUN queue, the service lcore's ring),
 * hands each to its stages (receive.c, send.c, hostio.c), flushes the transmit buffer and reports a
 * quiescent state. All state touched here is either the worker's own (struct fg_worker),
 * read-only after start-up, or published by the service lcore under the rules of peers.h
 * and route.h.
 */
#include "worker.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "clock.h"
#include "messages.h"
#include "worker_priv.h"

enum {
	/* Empty polls in a row before an IdleSleepUs sleep: a short lull (a few µs) does
	 * not make the worker give up its lcore. */
	IDLE_POLLS_BEFORE_SLEEP = 256,
};

void fg_worker_flush(struct fg_dp *dp, struct fg_worker *w)
{
	unsigned sent = 0;

	/* A dead link would only queue them in the PMD (and send them stale when it is back). */
	if (unlikely(__atomic_load_n(&dp->port_down, __ATOMIC_RELAXED))) {
		for (unsigned i = 0; i < w->ntx; i++)
			drop(w, w->tx[i], FG_DROP_PORT_DOWN);
		w->ntx = 0;
		return;
	}
	while (sent < w->ntx) {
		uint16_t n = rte_eth_tx_burst(w->port, w->queue, w->tx + sent,
					      (uint16_t)RTE_MIN(w->ntx - sent, (unsigned)UINT16_MAX));
		if (n == 0)
			break;
		for (unsigned i = sent; i < sent + n; i++)
			w->cnt.nic_tx_bytes += rte_pktmbuf_pkt_len(w->tx[i]);
		w->cnt.nic_tx_packets += n;
		sent += n;
	}
	for (unsigned i = sent; i < w->ntx; i++)
		drop(w, w->tx[i], FG_DROP_NIC_TX_FULL);
	w->ntx = 0;
}

/* What fg_worker_poll_tun timed as other stages: the encrypt direction's (send.c) and the
 * io_uring submission, the decrypt direction's IO (hostio.c). */
static inline uint64_t timed_inside(const struct fg_lcore_counters *c)
{
	uint64_t t = c->prof_rx.cycles[FG_STAGE_IO];

	for (unsigned s = 0; s < FG_STAGE_MAX; s++)
		if (s != FG_STAGE_IO)
			t += c->prof_tx.cycles[s];
	return t;
}

/* The TUN queue; with FG_FP_PROFILE, a read that found packets adds its time, less the
 * stages timed inside it, to the encrypt direction's IO stage. */
static inline unsigned poll_tun(struct fg_dp *dp, struct fg_worker *w, uint64_t now)
{
	struct fg_stage_prof *prof = &w->cnt.prof_tx;
	uint64_t t0, inner;
	unsigned n;

	if (likely(!(dp->fastpath & FG_FP_PROFILE)))
		return fg_worker_poll_tun(dp, w, now);
	inner = timed_inside(&w->cnt);
	t0 = rte_rdtsc();
	n = fg_worker_poll_tun(dp, w, now);
	if (n) {
		prof->cycles[FG_STAGE_IO] += rte_rdtsc() - t0 - (timed_inside(&w->cnt) - inner);
		prof->packets += n;
		prof->bursts++;
	}
	return n;
}

unsigned fg_worker_poll(struct fg_dp *dp, struct fg_worker *w)
{
	struct rte_mbuf *pkts[FG_BURST_MAX];
	uint64_t now = fg_clock_ns();
	unsigned n, total = 0;

	/* Backpressure: while the host has not taken the TUN writes already in flight, the
	 * NIC queue and the handoff ring keep their packets (the NIC counts what overflows)
	 * instead of this pass dropping them as tun_ring_full. */
	if (likely(!fg_worker_tun_backlogged(w))) {
		n = rte_eth_rx_burst(w->port, w->queue, pkts, (uint16_t)dp->burst);
		if (n)
			fg_worker_rx_burst(dp, w, pkts, n, now, false);
		total += n;

		n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, dp->burst, NULL);
		if (n)
			fg_worker_rx_burst(dp, w, pkts, n, now, true);
		total += n;
	} else {
		w->cnt.tun_backpressure++;
	}

	total += poll_tun(dp, w, now);

	n = rte_ring_sc_dequeue_burst(w->svc_tx, (void **)pkts, dp->burst, NULL);
	if (n)
		fg_worker_svc_burst(dp, w, pkts, n, now);
	total += n;

	if (w->ntx)
		fg_worker_flush(dp, w);
	/* The connection table's sweep: at most once a millisecond, a bounded batch. */
	fg_conntrack_tick(&dp->ct, dp->ct.tables[w->idx], now);
	return total;
}

int fg_worker_main(void *arg)
{
	struct fg_worker *w = arg;
	struct fg_dp *dp = w->dp;
	unsigned idle = 0;
	uint64_t t0;

	/* This lcore's own AEAD context (an ipsec-mb manager). Should it fail (ENOMEM), the
	 * bursts fall back to libsodium on this lcore: slower, same results. */
	(void)fg_aead_lcore_init();
	rte_rcu_qsbr_thread_register(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp->tables.qsbr, w->idx);
	t0 = rte_rdtsc();
	w->cnt.start_tsc = t0;
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		unsigned n = fg_worker_poll(dp, w);

		/* The load figures: each pass's end is the next one's start (dp.h). */
		t0 = fg_lcore_count_pass(&w->cnt, t0, n != 0);
		rte_rcu_qsbr_quiescent(dp->tables.qsbr, w->idx);
		if (n) {
			idle = 0;
			continue;
		}
		/* Optional back-off for shared machines (IdleSleepUs); 0 = pure polling. */
		if (dp->idle_sleep_us && ++idle > IDLE_POLLS_BEFORE_SLEEP) {
			/* tv_nsec must stay below 1e9 (main.c bounds the option to 1 s). */
			struct timespec ts = {
				.tv_sec = dp->idle_sleep_us / 1000000,
				.tv_nsec = (long)(dp->idle_sleep_us % 1000000) * 1000,
			};

			rte_rcu_qsbr_thread_offline(dp->tables.qsbr, w->idx);
			nanosleep(&ts, NULL);
			rte_rcu_qsbr_thread_online(dp->tables.qsbr, w->idx);
			/* The sleep is idle time, not part of the next pass. */
			t0 = rte_rdtsc();
		}
	}
	fg_worker_tun_stop(dp, w);
	rte_rcu_qsbr_thread_offline(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->tables.qsbr, w->idx);
	fg_aead_lcore_fini();
	return 0;
}
