// SPDX-License-Identifier: MIT
/*
 * The receive stages of the worker fast path, in the order they run (as the kernel's
 * receive.c): a burst from the NIC queue is classified (outer headers, UDP demux, and the
 * ChannelData of a bound relay channel unwrapped and demultiplexed again, its relay and
 * channel the packet's path; STUN goes to the service lcore for the control plane); each data
 * message finds its keypair, its owner and a fresh counter; the batch is opened in one AEAD
 * burst; each packet is confirmed, keeps the key fresh, follows roaming, is admitted
 * (cryptokey routing, policy), goes through the connection table (DNS-resource NAT, flows:
 * conntrack.h, one burst per batch) and is delivered to the TUN, GRO-coalesced where the
 * TUN takes it (hostio.c). State: the worker's own (struct fg_worker), the connection tables under the
 * rules of conntrack.h, and what the service lcore publishes under the rules of peers.h and
 * route.h.
 */
#include "worker_priv.h"

#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "clock.h"
#include "icmpgen.h"
#include "messages.h"
#include "p2pctl.h"
#include "policy.h"
#include "timers.h"

enum {
	/* Frames ahead of the one being parsed whose first bytes are prefetched: far enough to
	 * hide a miss to memory behind the parse of the frames between. */
	FG_PREFETCH_AHEAD = 4,
};

/* A p2p control packet (reference §4.2): IPv6 from :: to :: with the p2p next header. It is
 * checked before the inner source, which is :: and never an allowed IP. */
static inline bool p2p_control(const struct fg_inner_info *ii)
{
	static const uint8_t zero[16];

	return ii->family == AF_INET6 && ii->proto == FG_PROTO_P2P &&
	       memcmp(ii->src.addr, zero, 16) == 0 && memcmp(ii->dst.addr, zero, 16) == 0;
}

/* From an authorized client (one with a policy; p2pctl.h classifies and names the rest): a
 * Goodbye asks the service lcore to remove its peer, which counts it; an AssignedIps, within
 * the client's budget, goes to the service lcore in its mbuf, for the control plane (P2P_IN).
 * Neither waits: a full ring is a counted drop, and the client's next Goodbye (or the peer's
 * expiry) or its next AssignedIps (it resends them until answered) makes up for it. */
static void consume_p2p_control(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m,
				const struct fg_keypair *kp, const uint8_t *plain, uint32_t len, uint64_t now)
{
	struct fg_peer *p = &dp->tables.peers[kp->peer];
	bool authorized = __atomic_load_n(&p->policy, __ATOMIC_ACQUIRE) != NULL;
	struct fg_p2pctl_msg msg;
	enum fg_drop why = fg_p2pctl_classify(plain, len, authorized, &msg);

	if (why != FG_DROP_NONE) {
		drop(w, m, why);
		return;
	}
	if (msg.event == FG_P2P_GOODBYE) {
		struct fg_event ev = { .type = FG_EV_GOODBYE, .peer = kp->peer, .gen = kp->peer_gen };

		if (rte_ring_mp_enqueue_elem(dp->ev_ring, &ev, sizeof(ev)) != 0)
			drop(w, m, FG_DROP_P2P_QUEUE_FULL);
		else
			rte_pktmbuf_free(m);
		return;
	}
	if (!fg_p2pctl_admit(&p->p2p_tat_ns, now)) {
		drop(w, m, FG_DROP_P2P_RATELIMIT);
		return;
	}
	struct fg_p2pctl_item it = { .m = m, .peer = kp->peer, .gen = kp->peer_gen,
				     .off = (uint16_t)(plain + msg.off - rte_pktmbuf_mtod(m, const uint8_t *)),
				     .len = msg.len };

	if (rte_ring_mp_enqueue_elem(dp->p2p_ring, &it, sizeof(it)) != 0)
		drop(w, m, FG_DROP_P2P_QUEUE_FULL);
	else
		w->cnt.p2p_punted++;
}

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

/* A data message this worker may open: its keypair (slot kp_slot) and outer headers. */
struct rx_data {
	struct rte_mbuf *m;
	struct fg_keypair *kp;
	uint32_t kp_slot;
	struct fg_outer_info info;
};

/* What one decrypted batch hands on: inner packets for the TUN (bufs/lens, their mbufs in
 * done) and the ICMP errors the policy answers with (rep). Not zero-initialised: only the
 * counts are set before use. */
struct rx_out {
	uint8_t *bufs[FG_BURST_MAX];
	uint16_t lens[FG_BURST_MAX];
	struct rte_mbuf *done[FG_BURST_MAX];
	struct tx_item rep[FG_BURST_MAX];
	unsigned nout, nrep;
	uint64_t now_unix;
	/* the packets for the connection table (conntrack_note): what it is told of each, and
	 * its place in bufs / lens / done */
	struct fg_conntrack_out ct[FG_BURST_MAX];
	uint8_t *ct_pkt[FG_BURST_MAX];
	uint32_t ct_len[FG_BURST_MAX];
	uint8_t ct_at[FG_BURST_MAX];
	unsigned nct;
};

/* ---- receive: the stages of a data message, in the order they run ----------------------- */

/* Outer Ethernet / IP / UDP. ARP and ND go to the service lcore, echo requests are answered
 * in place, the rest is counted; true only for UDP to our port, with *info filled. */
static inline bool classify_outer(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m,
				  struct fg_outer_info *info, unsigned hw)
{
	enum fg_drop reason = FG_DROP_NONE;

	if (unlikely(m->nb_segs != 1)) {
		drop(w, m, FG_DROP_IP_MALFORMED);
		return false;
	}
	switch (fg_netpkt_parse_outer_hw(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
					 &dp->local, hw, info, &reason)) {
	case FG_OUTER_UDP:
		return true;
	case FG_OUTER_ARP:
	case FG_OUTER_ND:
		if (rte_ring_mp_enqueue(dp->punt_ring, m) != 0)
			drop(w, m, FG_DROP_PUNT_FULL);
		return false;
	case FG_OUTER_ECHO:
		fg_netpkt_echo_reply(rte_pktmbuf_mtod(m, uint8_t *), info);
		w->cnt.echo_replies++;
		fg_worker_tx(w, m);
		return false;
	case FG_OUTER_DROP:
	default:
		drop(w, m, reason != FG_DROP_NONE ? reason : FG_DROP_ETHERTYPE);
		return false;
	}
}

/* ChannelData from a relay: accepted only on a channel the control plane bound, then its
 * data is the packet (info->channel set, the payload narrowed to it). False: dropped. */
static inline bool enter_channel(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m,
				 struct fg_outer_info *info, bool handed_off)
{
	fg_netpkt_enter_channel(rte_pktmbuf_mtod(m, const uint8_t *), info);
	if (unlikely(!fg_chantable_bound(&dp->chans, &info->src, info->channel))) {
		drop(w, m, FG_DROP_CHANNEL_UNKNOWN);
		return false;
	}
	if (!handed_off) {
		w->cnt.relay_rx_packets++;
		w->cnt.relay_rx_bytes += rte_pktmbuf_pkt_len(m);
	}
	return true;
}

/* The UDP payload (reference §5.1): ChannelData of a bound channel is unwrapped and its data
 * demultiplexed in turn, handshake messages go to the service lcore, and STUN too, for the
 * control plane (the service re-reads relay and channel from the frame); true only for a
 * WireGuard data message, with info describing it. */
static inline bool demux_udp(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m,
			     struct fg_outer_info *info, bool handed_off)
{
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->payload_off);
	enum fg_drop reason = FG_DROP_NONE;
	enum fg_demux kind = fg_netpkt_demux(payload, info->payload_len, info->src.port, &reason);

	if (unlikely(kind == FG_DEMUX_CHANNEL_DATA)) {
		if (!enter_channel(dp, w, m, info, handed_off))
			return false;
		payload += FG_NETPKT_CHANNEL_HDR_LEN;
		kind = fg_netpkt_demux_channel(payload, info->payload_len, &reason);
	}
	switch (kind) {
	case FG_DEMUX_WG_DATA:
		return true;
	case FG_DEMUX_WG_INITIATION:
	case FG_DEMUX_WG_RESPONSE:
	case FG_DEMUX_WG_COOKIE:
		if (rte_ring_mp_enqueue(dp->hs_ring, m) != 0)
			drop(w, m, FG_DROP_HANDSHAKE_QUEUE_FULL);
		else
			w->cnt.handshakes_punted++;
		return false;
	case FG_DEMUX_STUN:
		if (rte_ring_mp_enqueue(dp->stun_ring, m) != 0)
			drop(w, m, FG_DROP_STUN_QUEUE_FULL);
		else
			w->cnt.stun_punted++;
		return false;
	case FG_DEMUX_DROP:
	default:
		drop(w, m, reason != FG_DROP_NONE ? reason : FG_DROP_WG_TYPE);
		return false;
	}
}

/* The keypair slots the receiver indexes of the candidates name (FG_SLOT_NONE: none): one bulk
 * lookup for the burst, or one lookup per packet with FG_FP_NO_BULK_LOOKUP (the bench's
 * "before" row). */
static inline void lookup_indexes(const struct fg_dp *dp, const uint32_t *index, unsigned n, uint32_t *slot)
{
	const void *keys[FG_BURST_MAX];
	void *vals[FG_BURST_MAX];
	uint64_t hits = 0;

	if (unlikely(dp->fastpath & FG_FP_NO_BULK_LOOKUP)) {
		for (unsigned i = 0; i < n; i++) {
			void *v;

			slot[i] = rte_hash_lookup_data(dp->tables.index, &index[i], &v) < 0 ? FG_SLOT_NONE
											     : (uint32_t)(uintptr_t)v;
		}
		return;
	}
	for (unsigned i = 0; i < n; i++)
		keys[i] = &index[i];
	(void)rte_hash_lookup_bulk_data(dp->tables.index, keys, n, &hits, vals);
	for (unsigned i = 0; i < n; i++)
		slot[i] = (hits >> i) & 1 ? (uint32_t)(uintptr_t)vals[i] : FG_SLOT_NONE;
}

/* The live keypair in slot, or NULL (counted as an unknown index). */
static inline struct fg_keypair *live_keypair(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m,
					      uint32_t slot)
{
	struct fg_keypair *kp = slot == FG_SLOT_NONE ? NULL : fg_keypair_get(&dp->tables, slot);

	if (!kp || !__atomic_load_n(&kp->live, __ATOMIC_ACQUIRE)) {
		drop(w, m, FG_DROP_WG_UNKNOWN_INDEX);
		return NULL;
	}
	return kp;
}

/* The replay window has one owner: the first worker to see the keypair. True when it is
 * this worker; otherwise m went to the owner's handoff ring (or was counted). */
static inline bool claim_owner(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m, struct fg_keypair *kp)
{
	uint32_t owner = __atomic_load_n(&kp->rx_owner, __ATOMIC_ACQUIRE);

	if (likely(owner == w->idx))
		return true;
	if (owner == FG_OWNER_NONE) {
		uint32_t none = FG_OWNER_NONE;

		if (__atomic_compare_exchange_n(&kp->rx_owner, &none, w->idx, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
		owner = none;
	}
	if (owner >= dp->nworkers || rte_ring_mp_enqueue(dp->workers[owner].handoff, m) != 0)
		drop(w, m, FG_DROP_HANDOFF_FULL);
	else
		w->cnt.handoffs++;
	return false;
}

/* Before the AEAD: the keypair is within its lifetime and the counter no replay. */
static inline bool admit_counter(struct fg_worker *w, struct rte_mbuf *m, const struct fg_keypair *kp,
				 uint64_t counter, uint64_t now)
{
	if (fg_wg_timers_keypair_expired(kp->birth_ns, counter, now)) {
		drop(w, m, FG_DROP_WG_KEYPAIR_EXPIRED);
		return false;
	}
	fg_benchlap_admit(kp, counter);
	if (!fg_wg_replay_check(&kp->replay, counter)) {
		drop(w, m, FG_DROP_WG_REPLAY);
		return false;
	}
	return true;
}

/* Opens the whole batch in place with one AEAD burst. */
static inline void open_burst(const struct rx_data *d, struct fg_aead_op *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ops[i] = (struct fg_aead_op){
			.data = rte_pktmbuf_mtod_offset(d[i].m, uint8_t *, d[i].info.payload_off),
			.key = d[i].kp->recv_key,
			.len = d[i].info.payload_len,
		};
	}
	fg_aead_open_burst(ops, n);
}

/* After the AEAD: the tag verified and the counter still new, the replay window moves
 * (this worker owns it) and the peer saw an authenticated packet. */
static inline bool authenticated(struct fg_dp *dp, struct fg_worker *w, const struct rx_data *d,
				 const struct fg_aead_op *op, uint64_t now)
{
	const struct fg_wg_msg_data *hdr = (const void *)op->data;

	if (op->status != 0) {
		drop(w, d->m, FG_DROP_WG_DECRYPT);
		return false;
	}
	if (!fg_wg_replay_update(&d->kp->replay, rte_le_to_cpu_64(hdr->counter))) {
		drop(w, d->m, FG_DROP_WG_REPLAY);
		return false;
	}
	w->cnt.decrypted++;
	fg_stamp(&dp->tables.peers[d->kp->peer].last_rx_auth_ns, now);
	return true;
}

/* The first data on a NEXT keypair confirms the responder's session: the service lcore
 * makes it CURRENT (one event per keypair). */
static inline void confirm_next_keypair(struct fg_dp *dp, const struct fg_peer *p, const struct rx_data *d)
{
	struct fg_keypair *kp = d->kp;

	if (__atomic_load_n(&kp->confirm_sent, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&p->kp[FG_KP_NEXT], __ATOMIC_ACQUIRE) != d->kp_slot)
		return;
	struct fg_event ev = { .type = FG_EV_CONFIRM, .peer = kp->peer, .gen = kp->peer_gen,
			       .keypair = d->kp_slot };

	__atomic_store_n(&kp->confirm_sent, 1, __ATOMIC_RELEASE);
	post_event(dp, &ev);
}

/* The kernel's keep_key_fresh on receive: an initiator whose session nears its end asks
 * for a new handshake, once per keypair. */
static inline void keep_key_fresh_rx(struct fg_dp *dp, struct fg_keypair *kp, uint64_t now)
{
	if (!__atomic_load_n(&kp->rekey_requested, __ATOMIC_RELAXED) &&
	    fg_wg_timers_should_rekey_on_receive(kp->initiator, kp->birth_ns, now)) {
		__atomic_store_n(&kp->rekey_requested, 1, __ATOMIC_RELAXED);
		want_handshake(dp, kp->peer);
	}
}

/* Roaming: the path follows the last authenticated packet (one hint per ms at most), as in
 * WireGuard: direct, or through the relay channel it came in on. Only an authenticated
 * packet moves it, so a path the control plane nominated stays until one arrives over
 * another. */
static inline void follow_endpoint(struct fg_dp *dp, struct fg_peer *p, const struct rx_data *d, uint64_t now)
{
	struct fg_peer_path path;

	fg_peer_read_path(p, &path);
	if (fg_peer_path_same(&path, &d->info.src, d->info.channel) ||
	    now - __atomic_load_n(&p->last_roam_event_ns, __ATOMIC_RELAXED) <= FG_NS_PER_MS)
		return;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(d->m, const struct rte_ether_hdr *);
	struct fg_event ev = { .type = FG_EV_ROAM, .peer = d->kp->peer, .gen = d->kp->peer_gen,
			       .keypair = d->kp_slot, .ep = d->info.src, .mac = eh->src_addr,
			       .channel = d->info.channel };

	__atomic_store_n(&p->last_roam_event_ns, now, __ATOMIC_RELAXED);
	post_event(dp, &ev);
}

/* The decrypted packet: a keepalive ends here, a p2p control packet goes its own way, and
 * an IP packet must come from one of the peer's allowed IPs (cryptokey routing). True,
 * with *ii filled, for a packet to go on. */
static inline bool admit_inner(struct fg_dp *dp, struct fg_worker *w, const struct rx_data *d,
			       const struct fg_aead_op *op, struct fg_inner_info *ii, uint64_t now)
{
	uint8_t *plain = op->data + FG_WG_DATA_HDR_LEN;
	struct fg_peer *p = &dp->tables.peers[d->kp->peer];
	uint32_t src_peer;
	enum fg_drop r;

	if (op->plain_len == 0) {
		w->cnt.keepalives_rx++;
		rte_pktmbuf_free(d->m);
		return false;
	}
	r = fg_netpkt_parse_inner(plain, op->plain_len, ii);
	if (r != FG_DROP_NONE) {
		drop(w, d->m, r);
		return false;
	}
	if (unlikely(p2p_control(ii))) {
		consume_p2p_control(dp, w, d->m, d->kp, plain, op->plain_len, now);
		return false;
	}
	if (route_lookup(dp->allowed, &ii->src, &src_peer) != 0 || src_peer != d->kp->peer) {
		drop(w, d->m, FG_DROP_INNER_SOURCE);
		return false;
	}
	fg_stamp(&p->last_rx_data_ns, now);
	__atomic_fetch_add(&p->rx_bytes, d->info.payload_len, __ATOMIC_RELAXED);
	return true;
}

/* A client's policy on what it sends (reference §3; a static peer has none). A denied
 * packet is counted and may be answered with an ICMP error, queued on out->rep. */
static inline bool apply_policy(struct fg_dp *dp, struct fg_worker *w, struct rx_out *out,
				const struct rx_data *d, const uint8_t *plain, const struct fg_inner_info *ii,
				const char **rid)
{
	const struct fg_policy *pol = __atomic_load_n(&dp->tables.peers[d->kp->peer].policy, __ATOMIC_ACQUIRE);
	enum fg_drop why = FG_DROP_NONE;
	enum fg_policy_verdict v;

	if (!pol)
		return true;
	/* The parse admit_inner made; FG_FP_POLICY_REPARSE: the bench's "before" row. */
	if (unlikely(dp->fastpath & FG_FP_POLICY_REPARSE))
		v = fg_policy_outbound(pol, plain, ii->total_len, out->now_unix, &why, rid);
	else
		v = fg_policy_outbound_parsed(pol, ii, out->now_unix, &why, rid);
	if (v == FG_POLICY_ALLOW)
		return true;
	if ((v == FG_POLICY_PROHIBITED || v == FG_POLICY_NET_UNREACHABLE) && out->nrep < FG_BURST_MAX &&
	    icmp_reply(dp, w, &out->rep[out->nrep], d->kp->peer, plain, ii->total_len, v))
		out->nrep++;
	if (v == FG_POLICY_CONTROL)   /* admit_inner took every p2p control packet */
		why = FG_DROP_P2P_EVENT;
	drop(w, d->m, why != FG_DROP_NONE ? why : FG_DROP_POLICY_PROHIBITED);
	return false;
}

/* The connection table (conntrack.h) on what the policy let through: a packet to one of the
 * client's proxy IPs is to be translated to the real IP (DNS-resource NAT), and while flow
 * logs are on the client's other flows are tracked for flow records; a static peer has
 * neither. Noted here, for conntrack_burst, as the packet's place out->nout in the batch. */
static inline void conntrack_note(struct fg_dp *dp, struct rx_out *out, const struct rx_data *d, uint8_t *plain,
				  const struct fg_inner_info *ii, const char *rid)
{
	const struct fg_policy *pol = __atomic_load_n(&dp->tables.peers[d->kp->peer].policy, __ATOMIC_ACQUIRE);
	struct fg_conntrack_out *o = &out->ct[out->nct];

	if (!pol)
		return;
	o->nat = fg_policy_nat_lookup(pol, &ii->dst);
	o->track = __atomic_load_n(&dp->ct.flows_enabled, __ATOMIC_RELAXED) != 0;
	if (!o->nat && !o->track)
		return;
	o->slot = d->kp->peer;
	o->resource_id = rid;
	o->outer = &d->info.src;
	o->channel = d->info.channel;
	out->ct_pkt[out->nct] = plain;
	out->ct_len[out->nct] = ii->total_len;
	out->ct_at[out->nct++] = (uint8_t)out->nout;
}

/* The noted packets through the connection table in one burst (translated in place); the
 * ones it refuses (a named drop) leave the batch, the others keep their order. */
static void conntrack_burst(struct fg_dp *dp, struct fg_worker *w, struct rx_out *out, uint64_t now)
{
	enum fg_drop r[FG_BURST_MAX];
	unsigned k = 0, kept = 0;

	fg_conntrack_outbound_burst(&dp->ct, dp->ct.tables[w->idx], out->ct_pkt, out->ct_len, out->ct, out->nct, now,
				    r);
	for (unsigned i = 0; i < out->nout; i++) {
		if (k < out->nct && out->ct_at[k] == i && r[k++] != FG_DROP_NONE) {
			drop(w, out->done[i], r[k - 1]);
			continue;
		}
		out->bufs[kept] = out->bufs[i];
		out->lens[kept] = out->lens[i];
		out->done[kept++] = out->done[i];
	}
	out->nout = kept;
}

/* Decrypts a batch of data messages whose keypair this worker owns and sends the inner
 * packets to the TUN (the kernel's wg_packet_consume_data_done, one stage per step). t is
 * the TSC at the AEAD stage's start (FG_FP_PROFILE). */
static void rx_data_batch(struct fg_dp *dp, struct fg_worker *w, struct rx_data *d, unsigned n,
			  uint64_t now, bool prof, uint64_t t)
{
	struct fg_aead_op ops[FG_BURST_MAX];
	struct rx_out out;

	out.nout = out.nrep = out.nct = 0;
	out.now_unix = fg_clock_unix_s(now);
	open_burst(d, ops, n);
	t = fg_stage_end(&w->cnt.prof_rx, prof, FG_STAGE_AEAD, t);
	for (unsigned i = 0; i < n; i++) {
		struct fg_peer *p = &dp->tables.peers[d[i].kp->peer];
		uint8_t *plain = ops[i].data + FG_WG_DATA_HDR_LEN;
		struct fg_inner_info ii;
		const char *rid = NULL;

		if (!authenticated(dp, w, &d[i], &ops[i], now))
			continue;
		confirm_next_keypair(dp, p, &d[i]);
		keep_key_fresh_rx(dp, d[i].kp, now);
		follow_endpoint(dp, p, &d[i], now);
		if (!admit_inner(dp, w, &d[i], &ops[i], &ii, now) ||
		    !apply_policy(dp, w, &out, &d[i], plain, &ii, &rid))
			continue;
		conntrack_note(dp, &out, &d[i], plain, &ii, rid);
		out.bufs[out.nout] = plain;
		out.lens[out.nout] = ii.total_len;
		out.done[out.nout++] = d[i].m;
	}
	if (out.nct)
		conntrack_burst(dp, w, &out, now);
	t = fg_stage_end(&w->cnt.prof_rx, prof, FG_STAGE_POLICY, t);
	if (out.nout)
		fg_worker_deliver_tun(dp, w, out.bufs, out.lens, out.done, out.nout);
	t = fg_stage_end(&w->cnt.prof_rx, prof, FG_STAGE_IO, t);
	if (out.nrep)
		fg_worker_seal_and_send(dp, w, out.rep, out.nrep, now, FG_DROP_TUN_NO_SESSION);
	(void)fg_stage_end(&w->cnt.prof_rx, prof, FG_STAGE_POLICY, t);
}

/* The NIC's verdict on a frame's checksums (the port turns RX checksum offload on where the
 * PMD has it); 0 with FG_FP_NO_RX_CSUM_FLAGS, the bench's "before" row. */
static inline unsigned hw_csum(const struct rte_mbuf *m, unsigned fastpath)
{
	unsigned hw = 0;

	if (unlikely(fastpath & FG_FP_NO_RX_CSUM_FLAGS))
		return 0;
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		hw |= FG_NETPKT_HW_IP_CSUM_GOOD;
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		hw |= FG_NETPKT_HW_L4_CSUM_GOOD;
	return hw;
}

/* Classifies NIC frames (or frames handed off by another worker) and runs the data
 * messages this worker owns as one batch, a stage at a time over the burst: outer headers
 * and demux (each frame's successor prefetched while one is parsed), the receiver indexes
 * in one bulk lookup, owner and counter checks (the keypairs prefetched first), then
 * rx_data_batch. */
void fg_worker_rx_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **pkts, unsigned n,
			uint64_t now, bool handed_off)
{
	struct rx_data data[FG_BURST_MAX];
	uint32_t index[FG_BURST_MAX], slot[FG_BURST_MAX];
	unsigned fp = dp->fastpath, ncand = 0, ndata = 0;
	bool prof = fp & FG_FP_PROFILE, prefetch = !(fp & FG_FP_NO_PREFETCH);
	uint64_t t = prof ? rte_rdtsc() : 0;

	if (prefetch)
		for (unsigned i = 0; i < n && i < FG_PREFETCH_AHEAD; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rx_data *d = &data[ncand];
		const struct fg_wg_msg_data *hdr;

		if (prefetch && i + FG_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FG_PREFETCH_AHEAD], void *));
		if (!handed_off) {
			w->cnt.nic_rx_packets++;
			w->cnt.nic_rx_bytes += rte_pktmbuf_pkt_len(m);
		}
		if (!classify_outer(dp, w, m, &d->info, hw_csum(m, fp)) || !demux_udp(dp, w, m, &d->info, handed_off))
			continue;
		hdr = rte_pktmbuf_mtod_offset(m, const struct fg_wg_msg_data *, d->info.payload_off);
		index[ncand] = rte_le_to_cpu_32(hdr->receiver_index);
		d->m = m;
		ncand++;
	}
	t = fg_stage_end(&w->cnt.prof_rx, prof, FG_STAGE_PARSE, t);
	if (ncand) {
		lookup_indexes(dp, index, ncand, slot);
		if (prefetch)
			for (unsigned i = 0; i < ncand; i++)
				if (slot[i] != FG_SLOT_NONE)
					rte_prefetch0(fg_keypair_get(&dp->tables, slot[i]));
	}
	for (unsigned i = 0; i < ncand; i++) {
		struct rx_data *d = &data[i];
		const struct fg_wg_msg_data *hdr =
			rte_pktmbuf_mtod_offset(d->m, const struct fg_wg_msg_data *, d->info.payload_off);

		d->kp = live_keypair(dp, w, d->m, slot[i]);
		if (!d->kp || !claim_owner(dp, w, d->m, d->kp) ||
		    !admit_counter(w, d->m, d->kp, rte_le_to_cpu_64(hdr->counter), now))
			continue;
		d->kp_slot = slot[i];
		if (ndata != i)
			data[ndata] = *d;
		ndata++;
	}
	t = fg_stage_end(&w->cnt.prof_rx, prof, FG_STAGE_LOOKUP, t);
	if (ndata)
		rx_data_batch(dp, w, data, ndata, now, prof, t);
	if (prof) {
		w->cnt.prof_rx.packets += n;
		w->cnt.prof_rx.bursts++;
	}
}
