/* SPDX-License-Identifier: MIT */
/*
 * What the worker's files share (worker.c: the poll loop; receive.c: the stages of a
 * data message from the NIC; send.c: the stages of sealing a packet for a peer; hostio.c:
 * the TUN queue). Private to dataplane/worker/: the inline helpers every stage uses and the
 * stage entry points.
 */
#ifndef FG_WORKER_PRIV_H
#define FG_WORKER_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "benchlap.h"   /* receive.c's admit_counter: laps of a looped pcap (bench builds) */
#include "dp.h"

static inline void drop(struct fg_worker *w, struct rte_mbuf *m, enum fg_drop reason)
{
	w->cnt.drops[reason]++;
	rte_pktmbuf_free(m);
}

/* Ends stage st of a burst that began at TSC t0 (only when on: FG_FP_PROFILE) and returns
 * the next stage's start. */
static inline uint64_t fg_stage_end(struct fg_stage_prof *prof, bool on, enum fg_stage st, uint64_t t0)
{
	uint64_t t1;

	if (likely(!on))
		return 0;
	t1 = rte_rdtsc();
	prof->cycles[st] += t1 - t0;
	return t1;
}

/* Queues one frame on the worker's transmit buffer (a full buffer is a counted drop). */
static inline void fg_worker_tx(struct fg_worker *w, struct rte_mbuf *m)
{
	if (w->ntx == FG_TXBUF) {
		drop(w, m, FG_DROP_NIC_TX_FULL);
		return;
	}
	w->tx[w->ntx++] = m;
}

/* Posts a WANT_HANDSHAKE once until the service lcore clears event_pending. */
static inline void want_handshake(struct fg_dp *dp, uint32_t slot)
{
	struct fg_peer *p = &dp->tables.peers[slot];
	uint8_t expected = 0;

	if (!__atomic_compare_exchange_n(&p->event_pending, &expected, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	struct fg_event ev = { .type = FG_EV_WANT_HANDSHAKE, .peer = slot, .gen = p->gen };
	if (rte_ring_mp_enqueue_elem(dp->ev_ring, &ev, sizeof(ev)) != 0)
		__atomic_store_n(&p->event_pending, 0, __ATOMIC_RELEASE);
}

static inline void post_event(struct fg_dp *dp, const struct fg_event *ev)
{
	/* A full event ring loses a hint (roam / confirm), never a packet: it is re-posted by
	 * the next packet that needs it. */
	(void)rte_ring_mp_enqueue_elem(dp->ev_ring, (void *)(uintptr_t)ev, sizeof(*ev));
}

static inline int route_lookup(const struct fg_route_table *rt, const struct fg_ip *ip, uint32_t *v)
{
	if (ip->family == AF_INET) {
		uint32_t a;

		memcpy(&a, ip->addr, 4);
		return fg_route_lookup4(rt, a, v);
	}
	return fg_route_lookup6(rt, ip->addr, v);
}

/* A plaintext IP packet at mtod(m) (len bytes, 0 for a keepalive) to be sealed for peer slot. */
struct tx_item {
	struct rte_mbuf *m;
	uint32_t slot;
	uint16_t len;
	uint8_t ecn;
};

/* receive.c: one burst from the NIC queue or the handoff ring (handoff: already owned). */
void fg_worker_rx_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **pkts, unsigned n,
			uint64_t now, bool handoff);
/* send.c: seals n plaintext packets for their peers and queues them for the NIC; a packet
 * without a session is dropped as no_session. */
void fg_worker_seal_and_send(struct fg_dp *dp, struct fg_worker *w, struct tx_item *it, unsigned n,
			     uint64_t now, enum fg_drop no_session);
/* send.c: packets read from the TUN (mbufs with lens), routed to their peers and sealed. */
void fg_worker_tun_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **ms, const uint16_t *lens,
			 unsigned n, uint64_t now);
/* hostio.c: n admitted inner packets (bufs/lens, their mbufs in done, all freed or counted)
 * to the worker's TUN queue. */
void fg_worker_deliver_tun(struct fg_dp *dp, struct fg_worker *w, uint8_t *const bufs[], const uint16_t lens[],
			   struct rte_mbuf *const done[], unsigned n);
/* hostio.c: one burst read from the worker's TUN queue, sealed and queued (send.c); returns
 * the packets read. */
unsigned fg_worker_poll_tun(struct fg_dp *dp, struct fg_worker *w, uint64_t now);
/* hostio.c: the worker leaving its loop cancels its ring's requests and harvests their
 * completions (polling, at most a second), so none holds a buffer afterwards. */
void fg_worker_tun_stop(struct fg_dp *dp, struct fg_worker *w);
/* hostio.c: true while every batch of TUN writes the worker's ring can hold is still in
 * flight (never without a ring): the host is behind, and what the NIC queue holds should
 * wait there rather than be dropped as tun_ring_full. */
bool fg_worker_tun_backlogged(const struct fg_worker *w);
/* send.c: the service lcore's ring: built frames to send, and seal requests. */
void fg_worker_svc_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **ms, unsigned n, uint64_t now);

#endif
