// SPDX-License-Identifier: MIT
/*
 * The worker fast path (see worker.h). All state touched here is either the worker's own
 * (struct fg_worker), read-only after start-up, or published by the service lcore under
 * the rules of peers.h and route.h.
 */
#include "worker.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include "clock.h"
#include "messages.h"
#include "gro.h"
#include "gso.h"
#include "icmpgen.h"
#include "policy.h"
#include "timers.h"

enum {
	/* Empty polls in a row before an IdleSleepUs sleep: a short lull (a few µs) does
	 * not make the worker give up its lcore. */
	IDLE_POLLS_BEFORE_SLEEP = 256,
};

static inline void drop(struct fg_worker *w, struct rte_mbuf *m, enum fg_drop reason)
{
	w->cnt.drops[reason]++;
	rte_pktmbuf_free(m);
}

void fg_worker_tx(struct fg_worker *w, struct rte_mbuf *m)
{
	if (w->ntx == FG_TXBUF) {
		drop(w, m, FG_DROP_NIC_TX_FULL);
		return;
	}
	w->tx[w->ntx++] = m;
}

void fg_worker_flush(struct fg_dp *dp, struct fg_worker *w)
{
	unsigned sent = 0;

	(void)dp;
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

/* Posts a WANT_HANDSHAKE once until the service lcore clears event_pending. */
static void want_handshake(struct fg_dp *dp, uint32_t slot)
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

static void post_event(struct fg_dp *dp, const struct fg_event *ev)
{
	/* A full event ring loses a hint (roam / confirm), never a packet: it is re-posted by
	 * the next packet that needs it. */
	(void)rte_ring_mp_enqueue_elem(dp->ev_ring, (void *)(uintptr_t)ev, sizeof(*ev));
}

/* A p2p control packet (reference §4.2): IPv6 from :: to :: with the p2p next header. It is
 * checked before the inner source, which is :: and never an allowed IP. */
static inline bool p2p_control(const struct fg_inner_info *ii)
{
	static const uint8_t zero[16];

	return ii->family == AF_INET6 && ii->proto == FG_PROTO_P2P &&
	       memcmp(ii->src.addr, zero, 16) == 0 && memcmp(ii->dst.addr, zero, 16) == 0;
}

/* A Goodbye from an authorized client (one with a policy) asks the service lcore to remove
 * its peer, which counts it; anything else is a P2P_CONTROL drop until the DNS issue. */
static void consume_p2p_control(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m,
				const struct fg_keypair *kp, const uint8_t *plain, uint32_t len)
{
	const struct fg_peer *p = &dp->tables.peers[kp->peer];

	if (__atomic_load_n(&p->policy, __ATOMIC_ACQUIRE) &&
	    fg_policy_p2p_event(plain, len) == FG_P2P_EV_GOODBYE) {
		struct fg_event ev = { .type = FG_EV_GOODBYE, .peer = kp->peer, .gen = kp->peer_gen };

		/* A full event ring loses it: counted as a P2P_CONTROL drop, and the client's
		 * next Goodbye or the peer's expiry removes it. */
		if (rte_ring_mp_enqueue_elem(dp->ev_ring, &ev, sizeof(ev)) == 0) {
			rte_pktmbuf_free(m);
			return;
		}
	}
	drop(w, m, FG_DROP_P2P_CONTROL);
}

/* A plaintext IP packet at mtod(m) (len bytes) to be encrypted for peer slot. */
struct tx_item {
	struct rte_mbuf *m;
	uint32_t slot;
	uint16_t len;
	uint8_t ecn;
};

static void seal_and_send(struct fg_dp *dp, struct fg_worker *w, struct tx_item *it, unsigned n, uint64_t now);

/* Builds the ICMP error the policy answers a denied packet with, in a fresh mbuf. */
static bool icmp_reply(struct fg_dp *dp, struct fg_worker *w, struct tx_item *out, uint32_t slot,
		       const uint8_t *orig, uint32_t len, enum fg_policy_verdict v)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	uint32_t n, cap;

	if (!m) {
		w->cnt.drops[FG_DROP_MBUF_ALLOC]++;
		return false;
	}
	cap = rte_pktmbuf_tailroom(m) - FG_WG_PADDING - FG_WG_AEAD_TAG_LEN;
	if (cap > dp->mtu)
		cap = dp->mtu;
	n = v == FG_POLICY_PROHIBITED ? fg_icmpgen_prohibited(rte_pktmbuf_mtod(m, uint8_t *), cap, orig, len)
				      : fg_icmpgen_net_unreachable(rte_pktmbuf_mtod(m, uint8_t *), cap, orig, len);
	if (n == 0) {
		rte_pktmbuf_free(m);
		return false;
	}
	*out = (struct tx_item){ .m = m, .slot = slot, .len = (uint16_t)n };
	return true;
}

struct rx_data {
	struct rte_mbuf *m;
	struct fg_keypair *kp;
	uint32_t kp_slot;
	struct fg_outer_info info;
};

static int route_lookup(const struct fg_route_table *rt, const struct fg_ip *ip, uint32_t *v)
{
	if (ip->family == AF_INET) {
		uint32_t a;

		memcpy(&a, ip->addr, 4);
		return fg_route_lookup4(rt, a, v);
	}
	return fg_route_lookup6(rt, ip->addr, v);
}

/* Writes decrypted packets to a virtio-net-header TUN, coalescing TCP flows into
 * super-packets (GRO): one writev(2) per item instead of one write(2) per packet. The
 * payloads are not copied; the mbufs go back after the write. */
static void tun_write_gro(const struct fg_dp *dp, struct fg_worker *w, uint8_t *const bufs[],
			  const uint16_t lens[], struct rte_mbuf *const done[], unsigned n)
{
	/* UDP is coalesced only where the kernel took USO for that family. */
	unsigned udp = ((dp->tun.offloads & FG_TUN_OFFLOAD_USO4) ? FG_GRO_UDP4 : 0) |
		       ((dp->tun.offloads & FG_TUN_OFFLOAD_USO6) ? FG_GRO_UDP6 : 0);
	struct fg_gro_item items[FG_BURST_MAX];
	uint16_t next[FG_BURST_MAX];
	struct iovec iov[3 * FG_BURST_MAX];
	unsigned cnt[FG_BURST_MAX], off = 0, m, wrote, i;
	uint64_t errors = 0;

	m = fg_gro_coalesce_ex((const uint8_t *const *)bufs, lens, n, items, next, udp);
	for (i = 0; i < m; i++) {
		cnt[i] = fg_gro_iov(&items[i], (const uint8_t *const *)bufs, lens, next, iov + off);
		off += cnt[i];
	}
	wrote = fg_tun_writev_burst(w->tun_fd, iov, cnt, m, &errors);
	for (i = 0; i < m; i++) {
		if (i < wrote) {
			w->cnt.tun_tx_packets += items[i].count;
			w->cnt.tun_tx_bytes += items[i].len;
			w->cnt.tun_gro_writes++;
		} else {
			w->cnt.drops[FG_DROP_TUN_WRITE] += items[i].count;
		}
	}
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(done[i]);
}

/* Decrypts a batch of data messages whose keypair this worker owns and sends the inner
 * packets to the TUN. */
static void rx_data_batch(struct fg_dp *dp, struct fg_worker *w, struct rx_data *d, unsigned n,
			  uint64_t now)
{
	struct fg_aead_op ops[FG_BURST_MAX];
	uint8_t *bufs[FG_BURST_MAX];
	uint16_t lens[FG_BURST_MAX];
	struct rte_mbuf *done[FG_BURST_MAX];
	struct tx_item rep[FG_BURST_MAX];
	unsigned nout = 0, nrep = 0;
	uint64_t now_unix = fg_clock_unix_s(now);

	for (unsigned i = 0; i < n; i++) {
		uint8_t *payload = rte_pktmbuf_mtod_offset(d[i].m, uint8_t *, d[i].info.payload_off);

		ops[i] = (struct fg_aead_op){
			.data = payload,
			.key = d[i].kp->recv_key,
			.len = d[i].info.payload_len,
		};
	}
	fg_aead_open_burst(ops, n);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = d[i].m;
		struct fg_keypair *kp = d[i].kp;
		const struct fg_wg_msg_data *hdr = (const void *)ops[i].data;
		uint64_t counter = rte_le_to_cpu_64(hdr->counter);
		struct fg_peer *p;
		struct fg_inner_info ii;
		enum fg_drop r;

		if (ops[i].status != 0) {
			drop(w, m, FG_DROP_WG_DECRYPT);
			continue;
		}
		if (!fg_wg_replay_update(&kp->replay, counter)) {
			drop(w, m, FG_DROP_WG_REPLAY);
			continue;
		}
		w->cnt.decrypted++;
		p = &dp->tables.peers[kp->peer];
		fg_stamp(&p->last_rx_auth_ns, now);

		if (!__atomic_load_n(&kp->confirm_sent, __ATOMIC_RELAXED) &&
		    __atomic_load_n(&p->kp[FG_KP_NEXT], __ATOMIC_ACQUIRE) == d[i].kp_slot) {
			struct fg_event ev = { .type = FG_EV_CONFIRM, .peer = kp->peer, .gen = kp->peer_gen,
					       .keypair = d[i].kp_slot };
			__atomic_store_n(&kp->confirm_sent, 1, __ATOMIC_RELEASE);
			post_event(dp, &ev);
		}
		if (!__atomic_load_n(&kp->rekey_requested, __ATOMIC_RELAXED) &&
		    fg_wg_timers_should_rekey_on_receive(kp->initiator, kp->birth_ns, now)) {
			__atomic_store_n(&kp->rekey_requested, 1, __ATOMIC_RELAXED);
			want_handshake(dp, kp->peer);
		}
		/* Roaming: the endpoint follows the last authenticated packet. */
		struct fg_peer_path path;
		fg_peer_read_path(p, &path);
		if (!fg_endpoint_equal(&path.ep, &d[i].info.src) &&
		    now - __atomic_load_n(&p->last_roam_event_ns, __ATOMIC_RELAXED) > FG_NS_PER_MS) {
			const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
			struct fg_event ev = { .type = FG_EV_ROAM, .peer = kp->peer, .gen = kp->peer_gen,
					       .keypair = d[i].kp_slot, .ep = d[i].info.src,
					       .mac = eh->src_addr };

			__atomic_store_n(&p->last_roam_event_ns, now, __ATOMIC_RELAXED);
			post_event(dp, &ev);
		}
		if (ops[i].plain_len == 0) {
			w->cnt.keepalives_rx++;
			rte_pktmbuf_free(m);
			continue;
		}
		uint8_t *plain = ops[i].data + FG_WG_DATA_HDR_LEN;
		r = fg_netpkt_parse_inner(plain, ops[i].plain_len, &ii);
		if (r != FG_DROP_NONE) {
			drop(w, m, r);
			continue;
		}
		if (unlikely(p2p_control(&ii))) {
			consume_p2p_control(dp, w, m, kp, plain, ii.total_len);
			continue;
		}
		uint32_t src_peer;
		if (route_lookup(dp->allowed, &ii.src, &src_peer) != 0 || src_peer != kp->peer) {
			drop(w, m, FG_DROP_INNER_SOURCE);
			continue;
		}
		fg_stamp(&p->last_rx_data_ns, now);
		__atomic_fetch_add(&p->rx_bytes, d[i].info.payload_len, __ATOMIC_RELAXED);
		const struct fg_policy *pol = __atomic_load_n(&p->policy, __ATOMIC_ACQUIRE);
		if (pol) {
			enum fg_drop why = FG_DROP_NONE;
			enum fg_policy_verdict v = fg_policy_outbound(pol, plain, ii.total_len, now_unix, &why, NULL);

			if (v != FG_POLICY_ALLOW) {
				if ((v == FG_POLICY_PROHIBITED || v == FG_POLICY_NET_UNREACHABLE) && nrep < FG_BURST_MAX &&
				    icmp_reply(dp, w, &rep[nrep], kp->peer, plain, ii.total_len, v))
					nrep++;
				if (v == FG_POLICY_CONTROL)
					why = FG_DROP_P2P_CONTROL;
				drop(w, m, why != FG_DROP_NONE ? why : FG_DROP_POLICY_PROHIBITED);
				continue;
			}
		}
		bufs[nout] = plain;
		lens[nout] = ii.total_len;
		done[nout++] = m;
	}
	if (nout && (dp->tun.flags & FG_TUN_VNET_HDR)) {
		tun_write_gro(dp, w, bufs, lens, done, nout);
	} else if (nout) {
		uint64_t errors = 0;
		unsigned wrote = fg_tun_write_burst(w->tun_fd, bufs, lens, nout, &errors);

		for (unsigned i = 0; i < nout; i++) {
			if (i < wrote) {
				w->cnt.tun_tx_packets++;
				w->cnt.tun_tx_bytes += lens[i];
				rte_pktmbuf_free(done[i]);
			} else {
				drop(w, done[i], FG_DROP_TUN_WRITE);
			}
		}
	}
	if (nrep)
		seal_and_send(dp, w, rep, nrep, now);
}

/* Classifies NIC frames (or frames handed off by another worker) and runs each class as
 * one batch. */
static void rx_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **pkts, unsigned n,
		     uint64_t now, bool handed_off)
{
	struct rx_data data[FG_BURST_MAX];
	unsigned ndata = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct fg_outer_info info;
		enum fg_drop reason = FG_DROP_NONE;
		enum fg_outer_kind kind;

		if (!handed_off) {
			w->cnt.nic_rx_packets++;
			w->cnt.nic_rx_bytes += rte_pktmbuf_pkt_len(m);
		}
		if (m->nb_segs != 1) {
			drop(w, m, FG_DROP_IP_MALFORMED);
			continue;
		}
		kind = fg_netpkt_parse_outer(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
					     &dp->local, &info, &reason);
		switch (kind) {
		case FG_OUTER_ARP:
		case FG_OUTER_ND:
			if (rte_ring_mp_enqueue(dp->punt_ring, m) != 0)
				drop(w, m, FG_DROP_PUNT_FULL);
			continue;
		case FG_OUTER_ECHO:
			fg_netpkt_echo_reply(rte_pktmbuf_mtod(m, uint8_t *), &info);
			w->cnt.echo_replies++;
			fg_worker_tx(w, m);
			continue;
		case FG_OUTER_UDP:
			break;
		case FG_OUTER_DROP:
		default:
			drop(w, m, reason != FG_DROP_NONE ? reason : FG_DROP_ETHERTYPE);
			continue;
		}

		const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, info.payload_off);
		switch (fg_netpkt_demux(payload, info.payload_len, info.src.port, &reason)) {
		case FG_DEMUX_WG_INITIATION:
		case FG_DEMUX_WG_RESPONSE:
		case FG_DEMUX_WG_COOKIE:
			if (rte_ring_mp_enqueue(dp->hs_ring, m) != 0) {
				drop(w, m, FG_DROP_HANDSHAKE_QUEUE_FULL);
			} else {
				w->cnt.handshakes_punted++;
			}
			continue;
		case FG_DEMUX_STUN:
			drop(w, m, FG_DROP_STUN);
			continue;
		case FG_DEMUX_CHANNEL_DATA:
			drop(w, m, FG_DROP_CHANNEL_DATA);
			continue;
		case FG_DEMUX_WG_DATA:
			break;
		case FG_DEMUX_DROP:
		default:
			drop(w, m, reason != FG_DROP_NONE ? reason : FG_DROP_WG_TYPE);
			continue;
		}

		const struct fg_wg_msg_data *hdr = (const void *)payload;
		uint32_t index = rte_le_to_cpu_32(hdr->receiver_index);
		uint64_t counter = rte_le_to_cpu_64(hdr->counter);
		void *slotp;

		if (rte_hash_lookup_data(dp->tables.index, &index, &slotp) < 0) {
			drop(w, m, FG_DROP_WG_UNKNOWN_INDEX);
			continue;
		}
		uint32_t slot = (uint32_t)(uintptr_t)slotp;
		struct fg_keypair *kp = fg_keypair_get(&dp->tables, slot);

		if (!kp || !__atomic_load_n(&kp->live, __ATOMIC_ACQUIRE)) {
			drop(w, m, FG_DROP_WG_UNKNOWN_INDEX);
			continue;
		}
		/* The replay window has one owner: the first worker to see the keypair. */
		uint32_t owner = __atomic_load_n(&kp->rx_owner, __ATOMIC_ACQUIRE);
		if (owner == FG_OWNER_NONE) {
			uint32_t none = FG_OWNER_NONE;

			if (__atomic_compare_exchange_n(&kp->rx_owner, &none, w->idx, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				owner = w->idx;
			else
				owner = none;
		}
		if (owner != w->idx) {
			if (owner >= dp->nworkers ||
			    rte_ring_mp_enqueue(dp->workers[owner].handoff, m) != 0)
				drop(w, m, FG_DROP_HANDOFF_FULL);
			else
				w->cnt.handoffs++;
			continue;
		}
		if (fg_wg_timers_keypair_expired(kp->birth_ns, counter, now)) {
			drop(w, m, FG_DROP_WG_KEYPAIR_EXPIRED);
			continue;
		}
		if (!fg_wg_replay_check(&kp->replay, counter)) {
			drop(w, m, FG_DROP_WG_REPLAY);
			continue;
		}
		data[ndata++] = (struct rx_data){ .m = m, .kp = kp, .kp_slot = slot, .info = info };
	}
	if (ndata)
		rx_data_batch(dp, w, data, ndata, now);
}

/* The keypair to encrypt with: NEXT as soon as data arrived on it (the responder's
 * confirmation, which the service lcore turns into CURRENT a moment later), else CURRENT. */
static inline struct fg_keypair *send_keypair(struct fg_dp *dp, struct fg_peer *p)
{
	struct fg_keypair *next = fg_keypair_get(&dp->tables, fg_peer_kp(p, FG_KP_NEXT));

	if (next && __atomic_load_n(&next->confirm_sent, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&next->live, __ATOMIC_ACQUIRE))
		return next;
	return fg_keypair_get(&dp->tables, fg_peer_kp(p, FG_KP_CURRENT));
}

/* Encrypts a batch of packets for their peers and queues the datagrams on the NIC. Used
 * for the TUN's packets and for the ICMP errors the policy sends back to a client. */
static void seal_and_send(struct fg_dp *dp, struct fg_worker *w, struct tx_item *it, unsigned n, uint64_t now)
{
	struct fg_aead_op ops[FG_BURST_MAX];
	struct fg_peer_path paths[FG_BURST_MAX];
	struct tx_item keep[FG_BURST_MAX];
	unsigned nops = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = it[i].m;
		uint8_t *pkt = rte_pktmbuf_mtod(m, uint8_t *);
		uint32_t slot = it[i].slot;
		struct fg_peer *p = &dp->tables.peers[slot];
		struct fg_keypair *kp = send_keypair(dp, p);

		if (!kp || !__atomic_load_n(&kp->live, __ATOMIC_ACQUIRE) ||
		    fg_wg_timers_keypair_expired(kp->birth_ns, 0, now)) {
			want_handshake(dp, slot);
			drop(w, m, FG_DROP_TUN_NO_SESSION);
			continue;
		}
		uint64_t counter = __atomic_fetch_add(&kp->send_counter, 1, __ATOMIC_RELAXED);
		if (counter >= FG_WG_REJECT_AFTER_MESSAGES) {
			want_handshake(dp, slot);
			drop(w, m, FG_DROP_TUN_NO_SESSION);
			continue;
		}
		if (!__atomic_load_n(&kp->rekey_requested, __ATOMIC_RELAXED) &&
		    fg_wg_timers_should_rekey_on_send(kp->initiator, kp->birth_ns, counter, now)) {
			__atomic_store_n(&kp->rekey_requested, 1, __ATOMIC_RELAXED);
			want_handshake(dp, slot);
		}
		fg_peer_read_path(p, &paths[nops]);
		if (paths[nops].ep.ip.family == 0) {
			drop(w, m, FG_DROP_PEER_NO_ENDPOINT);
			continue;
		}
		if (!paths[nops].mac_ok) {
			drop(w, m, FG_DROP_NEIGH_UNRESOLVED);
			continue;
		}
		uint32_t padded = fg_wg_padded_len(it[i].len, dp->mtu);
		memset(pkt + it[i].len, 0, padded - it[i].len);
		keep[nops] = it[i];
		ops[nops] = (struct fg_aead_op){
			.data = pkt - FG_WG_DATA_HDR_LEN,
			.key = kp->send_key,
			.counter = counter,
			.len = padded,
			.receiver_index = kp->remote_index,
		};
		nops++;
	}
	if (nops == 0)
		return;
	fg_aead_seal_burst(ops, nops);
	for (unsigned i = 0; i < nops; i++) {
		struct rte_mbuf *m = keep[i].m;
		const struct fg_peer_path *path = &paths[i];
		struct fg_peer *p = &dp->tables.peers[keep[i].slot];
		bool v6 = path->ep.ip.family == AF_INET6;
		uint16_t hl = v6 ? FG_NETPKT_UDP6_HDR_LEN : FG_NETPKT_UDP4_HDR_LEN;
		uint16_t wlen = (uint16_t)(FG_WG_DATA_HDR_LEN + ops[i].len + FG_WG_AEAD_TAG_LEN);
		uint8_t *hdr = rte_pktmbuf_mtod(m, uint8_t *) - FG_WG_DATA_HDR_LEN - hl;
		uint16_t sport = __atomic_load_n(&dp->local.listen_port, __ATOMIC_RELAXED);

		m->data_off = (uint16_t)(m->data_off - FG_WG_DATA_HDR_LEN - hl);
		m->data_len = m->pkt_len = (uint32_t)(hl + wlen);
		if (v6) {
			fg_netpkt_write_udp6(hdr, &dp->local.mac, &path->mac, dp->local.ip6, path->ep.ip.addr,
					     sport, path->ep.port, wlen, keep[i].ecn);
		} else {
			uint32_t dst;

			memcpy(&dst, path->ep.ip.addr, 4);
			fg_netpkt_write_udp4(hdr, &dp->local.mac, &path->mac, dp->local.ip4, dst,
					     sport, path->ep.port, wlen, keep[i].ecn);
		}
		fg_stamp(&p->last_tx_data_ns, now);
		fg_stamp(&p->last_tx_auth_ns, now);
		__atomic_fetch_add(&p->tx_bytes, wlen, __ATOMIC_RELAXED);
		w->cnt.encrypted++;
		fg_worker_tx(w, m);
	}
}

/* Classifies a burst read from the TUN (peer by destination, the client's policy for
 * return traffic) and encrypts what may go. */
static void tun_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **ms, const uint16_t *lens,
		      unsigned n, uint64_t now)
{
	struct tx_item it[FG_BURST_MAX];
	unsigned nit = 0;
	uint64_t now_unix = fg_clock_unix_s(now);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = ms[i];
		uint8_t *pkt = rte_pktmbuf_mtod(m, uint8_t *);
		struct fg_inner_info ii;
		enum fg_drop reason = FG_DROP_NONE;
		uint32_t slot;

		w->cnt.tun_rx_packets++;
		w->cnt.tun_rx_bytes += lens[i];
		if (lens[i] > dp->mtu) {
			drop(w, m, FG_DROP_TUN_TOO_BIG);
			continue;
		}
		if (fg_netpkt_parse_inner(pkt, lens[i], &ii) != FG_DROP_NONE || ii.total_len != lens[i]) {
			drop(w, m, FG_DROP_TUN_MALFORMED);
			continue;
		}
		if (route_lookup(dp->allowed, &ii.dst, &slot) != 0 || slot >= dp->tables.max_peers) {
			drop(w, m, FG_DROP_TUN_NO_PEER);
			continue;
		}
		const struct fg_policy *pol = __atomic_load_n(&dp->tables.peers[slot].policy, __ATOMIC_ACQUIRE);
		if (pol && fg_policy_inbound(pol, pkt, lens[i], now_unix, &reason) != FG_POLICY_ALLOW) {
			drop(w, m, reason != FG_DROP_NONE ? reason : FG_DROP_POLICY_INBOUND);
			continue;
		}
		it[nit++] = (struct tx_item){ .m = m, .slot = slot, .len = lens[i], .ecn = ii.ecn };
	}
	if (nit)
		seal_and_send(dp, w, it, nit, now);
}

/* Takes k mbufs from the worker's stash (refilled in bulk); false if the pool is dry. */
static bool stash_take(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **out, unsigned k)
{
	if (w->nstash < k) {
		unsigned want = FG_STASH - w->nstash;

		if (rte_pktmbuf_alloc_bulk(dp->pool, w->stash + w->nstash, want) == 0)
			w->nstash += want;
		if (w->nstash < k) {
			w->cnt.drops[FG_DROP_MBUF_ALLOC]++;
			return false;
		}
	}
	w->nstash -= k;
	memcpy(out, w->stash + w->nstash, k * sizeof(*out));
	return true;
}

/* The virtio-net-header TUN: each read may be a TSO/USO super-packet of up to 64 KiB, split
 * (GSO) into <= MTU packets straight into mbufs, in order, then encrypted in bursts. */
static unsigned poll_tun_vnet(struct fg_dp *dp, struct fg_worker *w, uint64_t now)
{
	struct rte_mbuf *ms[FG_BURST_MAX], *seg[FG_GSO_SEGS];
	uint8_t *ptr[FG_GSO_SEGS];
	uint16_t lens[FG_BURST_MAX], slen[FG_GSO_SEGS];
	uint32_t rlen[FG_TUN_READS];
	unsigned n, nm = 0, total = 0;
	uint64_t errors = 0;

	n = fg_tun_read_vnet_burst(w->tun_fd, w->rdbuf, rlen, FG_TUN_READS, FG_TUN_VNET_READ_MAX, &errors);
	w->cnt.drops[FG_DROP_TUN_MALFORMED] += errors;
	for (unsigned i = 0; i < n; i++) {
		if (!stash_take(dp, w, seg, FG_GSO_SEGS))
			break;
		unsigned cap = rte_pktmbuf_tailroom(seg[0]) - FG_WG_PADDING - FG_WG_AEAD_TAG_LEN;
		for (unsigned j = 0; j < FG_GSO_SEGS; j++)
			ptr[j] = rte_pktmbuf_mtod(seg[j], uint8_t *);
		int k = fg_gso_split(w->rdbuf[i], rlen[i], (uint16_t)dp->mtu, ptr, slen, FG_GSO_SEGS, cap);
		if (k <= 0) {
			w->cnt.drops[FG_DROP_TUN_MALFORMED]++;
			k = 0;
		} else if (k > 1) {
			w->cnt.tun_gso_splits++;
		}
		/* Segments keep their order: bursts are flushed in write order. */
		for (int j = 0; j < k; j++) {
			if (nm == FG_BURST_MAX) {
				tun_burst(dp, w, ms, lens, nm, now);
				nm = 0;
			}
			ms[nm] = seg[j];
			lens[nm++] = slen[j];
		}
		total += (unsigned)k;
		/* Unused mbufs go back to the stash. */
		memcpy(w->stash + w->nstash, seg + k, (FG_GSO_SEGS - (unsigned)k) * sizeof(seg[0]));
		w->nstash += FG_GSO_SEGS - (unsigned)k;
	}
	if (nm)
		tun_burst(dp, w, ms, lens, nm, now);
	return total;
}

static unsigned poll_tun(struct fg_dp *dp, struct fg_worker *w, uint64_t now)
{
	struct rte_mbuf *ms[FG_BURST_MAX];
	uint8_t *bufs[FG_BURST_MAX];
	uint16_t lens[FG_BURST_MAX];
	unsigned n = dp->burst, got;
	uint64_t errors = 0;

	if (w->tun_fd < 0)
		return 0;
	if (dp->tun.flags & FG_TUN_VNET_HDR)
		return poll_tun_vnet(dp, w, now);
	if (rte_pktmbuf_alloc_bulk(dp->pool, ms, n) != 0) {
		w->cnt.drops[FG_DROP_MBUF_ALLOC]++;
		return 0;
	}
	/* Room left for the WireGuard header and outer headers in front (headroom), and for
	 * padding and the tag behind. */
	unsigned cap = rte_pktmbuf_tailroom(ms[0]) - FG_WG_PADDING - FG_WG_AEAD_TAG_LEN;
	for (unsigned i = 0; i < n; i++)
		bufs[i] = rte_pktmbuf_mtod(ms[i], uint8_t *);
	got = fg_tun_read_burst(w->tun_fd, bufs, lens, n, cap, &errors);
	w->cnt.drops[FG_DROP_TUN_MALFORMED] += errors;
	for (unsigned i = got; i < n; i++)
		rte_pktmbuf_free(ms[i]);
	if (got)
		tun_burst(dp, w, ms, lens, got, now);
	return got;
}

unsigned fg_worker_poll(struct fg_dp *dp, struct fg_worker *w)
{
	struct rte_mbuf *pkts[FG_BURST_MAX];
	uint64_t now = fg_clock_ns();
	unsigned n, total = 0;

	n = rte_eth_rx_burst(w->port, w->queue, pkts, (uint16_t)dp->burst);
	if (n)
		rx_burst(dp, w, pkts, n, now, false);
	total += n;

	n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, dp->burst, NULL);
	if (n)
		rx_burst(dp, w, pkts, n, now, true);
	total += n;

	total += poll_tun(dp, w, now);

	n = rte_ring_sc_dequeue_burst(w->svc_tx, (void **)pkts, dp->burst, NULL);
	for (unsigned i = 0; i < n; i++)
		fg_worker_tx(w, pkts[i]);
	total += n;

	if (w->ntx)
		fg_worker_flush(dp, w);
	return total;
}

int fg_worker_main(void *arg)
{
	struct fg_worker *w = arg;
	struct fg_dp *dp = w->dp;
	unsigned idle = 0;

	/* This lcore's own AEAD context (an ipsec-mb manager). Should it fail (ENOMEM), the
	 * bursts fall back to libsodium on this lcore: slower, same results. */
	(void)fg_aead_lcore_init();
	rte_rcu_qsbr_thread_register(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp->tables.qsbr, w->idx);
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		unsigned n = fg_worker_poll(dp, w);

		rte_rcu_qsbr_quiescent(dp->tables.qsbr, w->idx);
		if (n) {
			w->cnt.busy_loops++;
			idle = 0;
			continue;
		}
		w->cnt.idle_loops++;
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
		}
	}
	rte_rcu_qsbr_thread_offline(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->tables.qsbr, w->idx);
	fg_aead_lcore_fini();
	return 0;
}
