// SPDX-License-Identifier: MIT
/*
 * The send stages of the worker fast path (as the kernel's send.c): a packet from the TUN,
 * an ICMP error of the policy, or a keepalive or Goodbye the service lcore asked for, takes a
 * keypair and a nonce (keeping the key fresh), reads its peer's path, is padded, sealed in one
 * AEAD burst with the others and put in its UDP envelope (envelope.h) for the NIC queue.
 */
#include "worker_priv.h"

#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "clock.h"
#include "envelope.h"
#include "gso.h"
#include "messages.h"
#include "policy.h"
#include "timers.h"
#include "worker.h"

/* ---- transmit: the stages of sealing a packet for a peer -------------------------------- */

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

/* The kernel's keep_key_fresh on send: a keypair past REKEY_AFTER_MESSAGES, or an
 * initiator's past REKEY_AFTER_TIME, asks for a new handshake, once per keypair. */
static inline void keep_key_fresh(struct fg_dp *dp, struct fg_keypair *kp, uint32_t slot, uint64_t counter,
				  uint64_t now)
{
	if (!__atomic_load_n(&kp->rekey_requested, __ATOMIC_RELAXED) &&
	    fg_wg_timers_should_rekey_on_send(kp->initiator, kp->birth_ns, counter, now)) {
		__atomic_store_n(&kp->rekey_requested, 1, __ATOMIC_RELAXED);
		want_handshake(dp, slot);
	}
}

/* The keypair and nonce to seal it with. Without a usable session the packet is counted as
 * no_session and a handshake is asked for (the kernel queues it instead; we drop it). */
static inline struct fg_keypair *take_nonce(struct fg_dp *dp, struct fg_worker *w, const struct tx_item *it,
					    uint64_t now, enum fg_drop no_session, uint64_t *counter)
{
	struct fg_keypair *kp = send_keypair(dp, &dp->tables.peers[it->slot]);

	if (!kp || !__atomic_load_n(&kp->live, __ATOMIC_ACQUIRE) ||
	    fg_wg_timers_keypair_expired(kp->birth_ns, 0, now))
		goto no_session;
	*counter = __atomic_fetch_add(&kp->send_counter, 1, __ATOMIC_RELAXED);
	if (*counter >= FG_WG_REJECT_AFTER_MESSAGES)
		goto no_session;
	keep_key_fresh(dp, kp, it->slot, *counter, now);
	return kp;
no_session:
	want_handshake(dp, it->slot);
	drop(w, it->m, no_session);
	return NULL;
}

/* Where the peer's packets go; false (counted) without an endpoint or a resolved MAC. */
static inline bool read_path(struct fg_dp *dp, struct fg_worker *w, const struct tx_item *it,
			     struct fg_peer_path *path)
{
	fg_peer_read_path(&dp->tables.peers[it->slot], path);
	if (path->ep.ip.family == 0) {
		drop(w, it->m, FG_DROP_PEER_NO_ENDPOINT);
		return false;
	}
	if (!path->mac_ok) {
		drop(w, it->m, FG_DROP_NEIGH_UNRESOLVED);
		return false;
	}
	return true;
}

/* Pads the plaintext (whitepaper §5.4.6) and describes its sealing in place, the 16-byte
 * header in front of it. */
static inline void prepare_seal(const struct fg_dp *dp, const struct tx_item *it, const struct fg_keypair *kp,
				uint64_t counter, struct fg_aead_op *op)
{
	uint8_t *pkt = rte_pktmbuf_mtod(it->m, uint8_t *);
	uint32_t padded = fg_wg_padded_len(it->len, dp->mtu);

	memset(pkt + it->len, 0, padded - it->len);
	*op = (struct fg_aead_op){
		.data = pkt - FG_WG_DATA_HDR_LEN,
		.key = kp->send_key,
		.counter = counter,
		.len = padded,
		.receiver_index = kp->remote_index,
	};
}

/* A sealed message: its envelope (ChannelData too on a relayed path), the peer's activity
 * stamps (a keepalive is authenticated traffic but not data, for the timers) and the NIC
 * queue. */
static inline void send_sealed(struct fg_dp *dp, struct fg_worker *w, const struct tx_item *it,
			       const struct fg_peer_path *path, const struct fg_aead_op *op, uint64_t now)
{
	struct rte_mbuf *m = it->m;
	struct fg_peer *p = &dp->tables.peers[it->slot];
	uint16_t wlen = (uint16_t)(FG_WG_DATA_HDR_LEN + op->len + FG_WG_AEAD_TAG_LEN);

	uint32_t frame;

	m->data_off = (uint16_t)(m->data_off - FG_WG_DATA_HDR_LEN);
	m->data_len = wlen;
	frame = fg_envelope_push(m, &dp->local, path, it->ecn);
	if (path->channel) {
		w->cnt.relay_tx_packets++;
		w->cnt.relay_tx_bytes += frame;
	}
	if (it->len)
		fg_stamp(&p->last_tx_data_ns, now);
	fg_stamp(&p->last_tx_auth_ns, now);
	__atomic_fetch_add(&p->tx_bytes, wlen, __ATOMIC_RELAXED);
	w->cnt.encrypted++;
	fg_worker_tx(w, m);
}

/* Encrypts a batch of packets for their peers and queues the datagrams on the NIC: the
 * TUN's packets, the ICMP errors the policy sends back, and the service lcore's keepalives
 * and Goodbyes. no_session names the drop of a packet that finds no session. */
void fg_worker_seal_and_send(struct fg_dp *dp, struct fg_worker *w, struct tx_item *it, unsigned n,
			     uint64_t now, enum fg_drop no_session)
{
	struct fg_aead_op ops[FG_BURST_MAX];
	struct fg_peer_path paths[FG_BURST_MAX];
	struct tx_item keep[FG_BURST_MAX];
	unsigned nops = 0;
	bool prof = dp->fastpath & FG_FP_PROFILE;
	uint64_t t = prof ? rte_rdtsc() : 0;

	/* One pass may seal several bursts (the segments of up to FG_TUN_READS super-packets):
	 * the transmit buffer goes to the NIC before these could overflow it. */
	if (w->ntx + n > FG_TXBUF)
		fg_worker_flush(dp, w);
	for (unsigned i = 0; i < n; i++) {
		struct fg_keypair *kp;
		uint64_t counter;

		kp = take_nonce(dp, w, &it[i], now, no_session, &counter);
		if (!kp || !read_path(dp, w, &it[i], &paths[nops]))
			continue;
		prepare_seal(dp, &it[i], kp, counter, &ops[nops]);
		keep[nops++] = it[i];
	}
	t = fg_stage_end(&w->cnt.prof_tx, prof, FG_STAGE_LOOKUP, t);
	if (nops == 0)
		return;
	fg_aead_seal_burst(ops, nops);
	for (unsigned i = 0; i < nops; i++)
		send_sealed(dp, w, &keep[i], &paths[i], &ops[i], now);
	(void)fg_stage_end(&w->cnt.prof_tx, prof, FG_STAGE_AEAD, t);
}

/* The connection table (conntrack.h) on a packet for a policy client, before its policy:
 * a reply on a NAT tuple gets the proxy IP back, an ICMP error about a NATed packet is
 * rebuilt from the proxy IP in place (shorter: *len follows), a tracked flow counts it.
 * False when it was dropped (an expired NAT session). Only a client with proxy IPs has its
 * packets rewritten. */
static inline bool conntrack_in(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m, uint16_t *len,
				const struct fg_policy *pol, uint32_t slot, uint64_t now)
{
	bool has_nat = fg_policy_has_nat(pol);
	uint32_t l = *len;
	enum fg_drop r;

	if (!has_nat && !__atomic_load_n(&dp->ct.flows_enabled, __ATOMIC_RELAXED))
		return true;
	r = fg_conntrack_inbound(&dp->ct, dp->ct.tables[w->idx], rte_pktmbuf_mtod(m, uint8_t *), &l, slot, has_nat,
				 now);
	if (unlikely(r != FG_DROP_NONE)) {
		drop(w, m, r);
		return false;
	}
	*len = (uint16_t)l;
	return true;
}

/* A packet read from the TUN, parsed once for cryptokey routing and the policy: false
 * (counted) when it is too big or malformed. */
static inline bool parse_tun_packet(const struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m, uint16_t len,
				    struct fg_inner_info *ii)
{
	w->cnt.tun_rx_packets++;
	w->cnt.tun_rx_bytes += len;
	if (len > dp->mtu) {
		drop(w, m, FG_DROP_TUN_TOO_BIG);
		return false;
	}
	if (fg_netpkt_parse_inner(rte_pktmbuf_mtod(m, const uint8_t *), len, ii) != FG_DROP_NONE ||
	    ii->total_len != len) {
		drop(w, m, FG_DROP_TUN_MALFORMED);
		return false;
	}
	return true;
}

/* For a client, the connection table and the policy on return traffic (the parse ii, made
 * again only where the connection table rewrote the packet); true when it may be sealed. */
static inline bool admit_tun_packet(struct fg_dp *dp, struct fg_worker *w, struct tx_item *it,
				    struct fg_inner_info *ii, uint64_t now, uint64_t now_unix)
{
	const struct fg_policy *pol = __atomic_load_n(&dp->tables.peers[it->slot].policy, __ATOMIC_ACQUIRE);
	const uint8_t *pkt = rte_pktmbuf_mtod(it->m, const uint8_t *);
	enum fg_drop reason = FG_DROP_NONE;
	enum fg_policy_verdict v;

	if (!pol)
		return true;
	if (!conntrack_in(dp, w, it->m, &it->len, pol, it->slot, now))
		return false;
	/* A reply may have got its proxy IP back: the policy must see the translated packet. */
	if (fg_policy_has_nat(pol) && fg_netpkt_parse_inner(pkt, it->len, ii) != FG_DROP_NONE) {
		drop(w, it->m, FG_DROP_TUN_MALFORMED);
		return false;
	}
	if (unlikely(dp->fastpath & FG_FP_POLICY_REPARSE))
		v = fg_policy_inbound(pol, pkt, it->len, now_unix, &reason);
	else
		v = fg_policy_inbound_parsed(pol, ii, now_unix, &reason);
	if (v != FG_POLICY_ALLOW) {
		drop(w, it->m, reason != FG_DROP_NONE ? reason : FG_DROP_POLICY_INBOUND);
		return false;
	}
	return true;
}

/* Routes a burst read from the TUN and seals what may go, a stage at a time: parse, the
 * peer by destination (cryptokey routing), the client's connection table and policy. */
void fg_worker_tun_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **ms, const uint16_t *lens,
			 unsigned n, uint64_t now)
{
	struct tx_item it[FG_BURST_MAX];
	struct fg_inner_info ii[FG_BURST_MAX];
	unsigned np = 0, nit = 0;
	uint64_t now_unix = fg_clock_unix_s(now);
	bool prof = dp->fastpath & FG_FP_PROFILE;
	uint64_t t = prof ? rte_rdtsc() : 0;

	for (unsigned i = 0; i < n; i++) {
		if (!parse_tun_packet(dp, w, ms[i], lens[i], &ii[np]))
			continue;
		it[np] = (struct tx_item){ .m = ms[i], .len = lens[i], .ecn = ii[np].ecn };
		np++;
	}
	t = fg_stage_end(&w->cnt.prof_tx, prof, FG_STAGE_PARSE, t);
	for (unsigned i = 0; i < np; i++) {
		uint32_t slot;

		if (route_lookup(dp->allowed, &ii[i].dst, &slot) != 0 || slot >= dp->tables.max_peers) {
			drop(w, it[i].m, FG_DROP_TUN_NO_PEER);
			continue;
		}
		it[i].slot = slot;
		if (nit != i) {
			it[nit] = it[i];
			ii[nit] = ii[i];
		}
		nit++;
	}
	t = fg_stage_end(&w->cnt.prof_tx, prof, FG_STAGE_LOOKUP, t);
	np = nit;
	nit = 0;
	for (unsigned i = 0; i < np; i++) {
		if (!admit_tun_packet(dp, w, &it[i], &ii[i], now, now_unix))
			continue;
		if (nit != i)
			it[nit] = it[i];
		nit++;
	}
	t = fg_stage_end(&w->cnt.prof_tx, prof, FG_STAGE_POLICY, t);
	if (nit)
		fg_worker_seal_and_send(dp, w, it, nit, now, FG_DROP_TUN_NO_SESSION);
}

/* ---- the service lcore's ring ------------------------------------------------------------ */

struct rte_mbuf *fg_worker_seal_request(struct fg_dp *dp, uint32_t slot, uint32_t gen, const void *plain,
					uint16_t len)
{
	static const struct rte_mbuf_dynflag desc = { .name = "fastgate_seal_request" };
	struct fg_seal_req *rq;
	struct rte_mbuf *m;

	if (!dp->seal_flag) {
		int bit = rte_mbuf_dynflag_register(&desc);

		if (bit < 0) {
			errno = rte_errno ? rte_errno : ENOMEM;
			return NULL;
		}
		/* Before the first request is enqueued: the ring orders it for the workers. */
		__atomic_store_n(&dp->seal_flag, UINT64_C(1) << bit, __ATOMIC_RELAXED);
	}
	if (len > dp->mtu) {
		errno = EMSGSIZE;
		return NULL;
	}
	m = rte_pktmbuf_alloc(dp->pool);
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	/* Room behind the plaintext for its padding and the tag, as a TUN read leaves. */
	if (rte_pktmbuf_tailroom(m) < sizeof(*rq) + len + FG_WG_PADDING + FG_WG_AEAD_TAG_LEN) {
		rte_pktmbuf_free(m);
		errno = EMSGSIZE;
		return NULL;
	}
	rq = (struct fg_seal_req *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*rq) + len));
	rq->slot = slot;
	rq->gen = gen;
	if (len)
		memcpy(rq + 1, plain, len);
	m->ol_flags |= dp->seal_flag;
	return m;
}

/* A seal request's plaintext as a tx_item, if its peer is still the one the service meant
 * (a slot retired and reused since has another generation). */
static inline bool seal_request_item(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf *m, uint64_t flag,
				     struct tx_item *it)
{
	const struct fg_seal_req *rq = rte_pktmbuf_mtod(m, const struct fg_seal_req *);
	uint32_t slot = rq->slot, gen = rq->gen;
	const struct fg_peer *p;

	m->ol_flags &= ~flag;
	rte_pktmbuf_adj(m, sizeof(*rq));
	p = slot < dp->tables.max_peers ? &dp->tables.peers[slot] : NULL;
	if (!p || !__atomic_load_n(&p->live, __ATOMIC_ACQUIRE) || __atomic_load_n(&p->gen, __ATOMIC_RELAXED) != gen) {
		drop(w, m, FG_DROP_SVC_NO_SESSION);
		return false;
	}
	*it = (struct tx_item){ .m = m, .slot = slot, .len = rte_pktmbuf_data_len(m) };
	return true;
}

/* What the service lcore queued: built frames go out as they are, seal requests are sealed
 * by the stage the TUN's packets take. seal_done then tells the service lcore that the
 * requests are finished (it retires a removed peer's slot only after its Goodbye). */
void fg_worker_svc_burst(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **ms, unsigned n, uint64_t now)
{
	uint64_t flag = __atomic_load_n(&dp->seal_flag, __ATOMIC_RELAXED);
	struct tx_item it[FG_BURST_MAX];
	unsigned nit = 0, nreq = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!(ms[i]->ol_flags & flag)) {
			fg_worker_tx(w, ms[i]);
			continue;
		}
		nreq++;
		if (seal_request_item(dp, w, ms[i], flag, &it[nit]))
			nit++;
	}
	if (nit)
		fg_worker_seal_and_send(dp, w, it, nit, now, FG_DROP_SVC_NO_SESSION);
	if (nreq)
		__atomic_store_n(&w->seal_done, w->seal_done + nreq, __ATOMIC_RELEASE);
}
