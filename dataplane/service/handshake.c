// SPDX-License-Identifier: MIT
/*
 * Handshake processing on the service lcore: responder and initiator sides of Noise IKpsk2,
 * MAC1/MAC2 and cookie replies under load, per-source rate limiting, keypair installation,
 * and what the service itself sends: initiations, responses and cookie replies in the
 * envelope the workers use (envelope.h, ChannelData included: a handshake that came through
 * a relay channel is answered through it, and that relayed path is what the peer learns),
 * and keepalives and Goodbyes as plaintext that
 * worker 0 seals on its data path (worker.h), the slot of a peer removed after its Goodbye
 * waiting until that is done. All state here belongs to the service lcore.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_random.h>
#include <sodium.h>

#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "messages.h"
#include "service.h"
#include "svc_state.h"
#include "worker.h"

static const char *const TAG = "fastgate.handshake";

int fg_svc_send_udp(struct fg_svc *s, const struct fg_peer_path *path, const void *payload, uint16_t len)
{
	struct fg_dp *dp = s->dp;
	struct rte_mbuf *m;
	uint8_t *msg;
	uint32_t frame;

	if (path->ep.ip.family == 0) {
		dp->svc_cnt.drops[FG_DROP_PEER_NO_ENDPOINT]++;
		return -EDESTADDRREQ;
	}
	m = rte_pktmbuf_alloc(dp->pool);
	if (!m) {
		dp->svc_cnt.drops[FG_DROP_MBUF_ALLOC]++;
		return -ENOMEM;
	}
	msg = (uint8_t *)rte_pktmbuf_append(m, len);
	if (!msg) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(msg, payload, len);
	frame = fg_envelope_push(m, &dp->local, path, 0);
	if (!path->mac_ok) {
		/* Held until the neighbour answers (or dropped after a second). */
		fg_neigh_hold(&s->neigh, &path->ep.ip, m, fg_clock_ns());
		return 0;
	}
	if (rte_ring_sp_enqueue(dp->workers[0].svc_tx, m) != 0) {
		dp->svc_cnt.drops[FG_DROP_NIC_TX_FULL]++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	dp->svc_cnt.nic_tx_packets++;
	dp->svc_cnt.nic_tx_bytes += frame;
	if (path->channel) {
		dp->svc_cnt.relay_tx_packets++;
		dp->svc_cnt.relay_tx_bytes += frame;
	}
	return 0;
}

/* A fresh local index unused by any published keypair or handshake in flight. */
static uint32_t new_index(struct fg_svc *s)
{
	for (;;) {
		uint32_t idx = (uint32_t)rte_rand();

		if (idx == 0 || fg_index_in_use(&s->dp->tables, idx))
			continue;
		if (rte_hash_lookup(s->pending, &idx) >= 0)
			continue;
		return idx;
	}
}

static void forget_pending(struct fg_svc *s, struct fg_svc_peer *sp)
{
	if (sp->hs_index) {
		rte_hash_del_key(s->pending, &sp->hs_index);
		sp->hs_index = 0;
	}
}

static int register_pending(struct fg_svc *s, uint32_t slot, uint32_t idx)
{
	struct fg_svc_peer *sp = &s->peers[slot];
	int r;

	forget_pending(s, sp);
	r = rte_hash_add_key_data(s->pending, &idx, (void *)(uintptr_t)slot);
	if (r < 0)
		return r;
	sp->hs_index = idx;
	return 0;
}

/* Turns a finished handshake into a published keypair. */
static int install_keypair(struct fg_svc *s, uint32_t slot, enum fg_kp_role role, uint64_t now)
{
	struct fg_dp *dp = s->dp;
	struct fg_svc_peer *sp = &s->peers[slot];
	struct fg_noise_keypair_keys keys;
	uint32_t kslot;
	int r;

	kslot = fg_keypair_alloc(&dp->tables);
	if (kslot == FG_SLOT_NONE) {
		fg_warn(TAG, "no free keypair slot (MaxPeers too small?)");
		fg_noise_handshake_clear(&sp->hs);
		return -ENOSPC;
	}
	r = fg_noise_derive_keys(&sp->hs, &keys);
	if (r < 0)
		goto out;
	struct fg_keypair *kp = &dp->tables.kps[kslot];
	memcpy(kp->send_key, keys.send, 32);
	memcpy(kp->recv_key, keys.recv, 32);
	kp->local_index = keys.local_index;
	kp->remote_index = keys.remote_index;
	kp->initiator = keys.initiator;
	kp->birth_ns = now;
	kp->peer = slot;
	kp->peer_gen = dp->tables.peers[slot].gen;
	/* The handshake's index now names the keypair. */
	forget_pending(s, sp);
	r = fg_keypair_install(&dp->tables, kslot, role);
out:
	sodium_memzero(&keys, sizeof(keys));
	return r;
}

int fg_svc_send_initiation(struct fg_svc *s, uint32_t slot, uint64_t now, bool retry)
{
	struct fg_svc_peer *sp = &s->peers[slot];
	struct fg_wg_msg_initiation msg;
	struct fg_peer_path path;
	uint32_t idx;
	int r;

	if (!s->has_key || !sp->used)
		return -ENOKEY;
	if (!retry)
		fg_wg_timers_handshake_requested(&sp->timers);
	/* At most one initiation per REKEY_TIMEOUT unless the retransmit timer asks. */
	if (!retry && sp->last_init_sent_ns &&
	    now - sp->last_init_sent_ns < FG_WG_REKEY_TIMEOUT_S * FG_NS_PER_S)
		return -EALREADY;
	fg_peer_read_path(&s->dp->tables.peers[slot], &path);
	if (path.ep.ip.family == 0)
		return -EDESTADDRREQ;
	idx = new_index(s);
	r = fg_noise_create_initiation(&msg, &sp->hs, &s->local, &sp->noise, idx, fg_clock_wall_ns());
	if (r < 0)
		goto out;
	r = register_pending(s, slot, idx);
	if (r < 0)
		goto out;
	fg_wg_cookie_add_macs(&sp->cookie, &msg, sizeof(msg), now);
	sp->last_init_sent_ns = now;
	fg_wg_timers_handshake_initiated(&sp->timers, now, (uint32_t)(rte_rand() % FG_WG_REKEY_TIMEOUT_JITTER_MS));
	fg_wg_timers_any_authenticated_packet_traversal(&sp->timers, now);
	fg_wg_timers_any_authenticated_packet_sent(&sp->timers, now);
	s->stats.handshakes_initiated++;
	r = fg_svc_send_udp(s, &path, &msg, sizeof(msg));
out:
	sodium_memzero(&msg, sizeof(msg));
	return r;
}

int fg_svc_send_data(struct fg_svc *s, uint32_t slot, const void *pkt, uint16_t len)
{
	struct fg_dp *dp = s->dp;
	struct rte_mbuf *m;

	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	m = fg_worker_seal_request(dp, slot, dp->tables.peers[slot].gen, pkt, len);
	if (!m) {
		if (errno == ENOMEM)
			dp->svc_cnt.drops[FG_DROP_MBUF_ALLOC]++;
		return -errno;
	}
	if (rte_ring_sp_enqueue(dp->workers[0].svc_tx, m) != 0) {
		dp->svc_cnt.drops[FG_DROP_NIC_TX_FULL]++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	s->seals_posted++;
	return 0;
}

int fg_svc_send_keepalive(struct fg_svc *s, uint32_t slot)
{
	int r = fg_svc_send_data(s, slot, NULL, 0);

	if (r == 0)
		s->stats.keepalives_sent++;
	return r;
}

void fg_svc_retire_slot(struct fg_svc *s, uint32_t slot)
{
	struct fg_dp *dp = s->dp;
	uint64_t ticket = s->peers[slot].seal_ticket;

	if (ticket <= __atomic_load_n(&dp->workers[0].seal_done, __ATOMIC_ACQUIRE) ||
	    s->nleaving == FG_SVC_LEAVING_MAX) {
		/* Full (a burst of Goodbyes faster than worker 0): a request still queued for
		 * this slot finds another generation and is counted as svc_no_session. */
		fg_peer_retire(&dp->tables, slot);
		return;
	}
	s->leaving[s->nleaving++] = (struct fg_svc_leaving){
		.slot = slot,
		.ticket = ticket,
		.deadline = fg_clock_ns() + FG_SVC_LEAVING_TIMEOUT_MS * (uint64_t)FG_NS_PER_MS,
	};
}

void fg_svc_retire_sealed(struct fg_svc *s, uint64_t now)
{
	uint64_t done = __atomic_load_n(&s->dp->workers[0].seal_done, __ATOMIC_ACQUIRE);
	unsigned j = 0;

	for (unsigned i = 0; i < s->nleaving; i++) {
		/* Past the deadline worker 0 is stopped or stuck: what it finds later is a
		 * retired slot, which it counts and does not seal for. */
		if (s->leaving[i].ticket <= done || now >= s->leaving[i].deadline)
			fg_peer_retire(&s->dp->tables, s->leaving[i].slot);
		else
			s->leaving[j++] = s->leaving[i];
	}
	s->nleaving = j;
}

static void learn_path(struct fg_svc *s, uint32_t slot, const struct fg_outer_info *info,
		       const struct rte_ether_addr *mac)
{
	struct fg_svc_peer *sp = &s->peers[slot];

	if (!fg_endpoint_equal(&sp->endpoint, &info->src) || sp->channel != info->channel) {
		char a[FG_ENDPOINT_STRLEN];

		sp->endpoint = info->src;
		sp->channel = info->channel;
		fg_debug(TAG, "peer %u endpoint now %s channel 0x%04x", slot,
			 fg_endpoint_format(&info->src, a, sizeof(a)), info->channel);
	}
	fg_svc_peer_update_path(s, slot, mac);
}

static void send_cookie(struct fg_svc *s, const struct fg_outer_info *info, const struct rte_ether_addr *mac,
			const void *msg, size_t len, uint32_t sender_index, uint64_t now)
{
	struct fg_wg_msg_cookie reply;
	struct fg_peer_path path = { .ep = info->src, .channel = info->channel, .mac = *mac, .mac_ok = 1 };

	if (fg_wg_cookie_reply_create(&reply, &s->checker, msg, len, sender_index, info->src.ip.addr,
				      fg_ip_len(info->src.ip.family), info->src.port, now) == 0) {
		s->stats.cookies_sent++;
		fg_svc_send_udp(s, &path, &reply, sizeof(reply));
	}
}

/* Common MAC1 / load policy for initiations and responses; true to go on. */
static bool admit(struct fg_svc *s, const struct fg_outer_info *info, const struct rte_ether_addr *mac,
		  const void *msg, size_t len, uint32_t sender_index, uint64_t now, bool under_load)
{
	struct fg_dp *dp = s->dp;
	enum fg_wg_cookie_mac v = fg_wg_cookie_validate(&s->checker, msg, len, info->src.ip.addr,
						       fg_ip_len(info->src.ip.family), info->src.port, now);

	if (v == FG_WG_COOKIE_MAC_INVALID) {
		dp->svc_cnt.drops[FG_DROP_HANDSHAKE_MAC1]++;
		return false;
	}
	if (!under_load)
		return true;
	if (v != FG_WG_COOKIE_MAC2_VALID) {
		send_cookie(s, info, mac, msg, len, sender_index, now);
		return false;
	}
	if (!fg_wg_ratelimiter_allow(s->rl, info->src.ip.addr, fg_ip_len(info->src.ip.family), now)) {
		dp->svc_cnt.drops[FG_DROP_HANDSHAKE_RATELIMIT]++;
		return false;
	}
	return true;
}

static void on_initiation(struct fg_svc *s, const struct fg_wg_msg_initiation *msg,
			  const struct fg_outer_info *info, const struct rte_ether_addr *mac,
			  uint64_t now, bool under_load)
{
	struct fg_dp *dp = s->dp;
	struct fg_noise_handshake tmp;
	struct fg_wg_msg_response resp;
	uint8_t initiator[32];
	uint32_t slot = FG_SLOT_NONE;
	void *v;

	memset(&tmp, 0, sizeof(tmp));
	if (!s->has_key || !admit(s, info, mac, msg, sizeof(*msg), msg->sender_index, now, under_load))
		goto out;
	if (fg_noise_consume_initiation_begin(msg, &s->local, &tmp, initiator) < 0 ||
	    rte_hash_lookup_data(s->by_pubkey, initiator, &v) < 0) {
		dp->svc_cnt.drops[FG_DROP_HANDSHAKE_INVALID]++;
		goto out;
	}
	slot = (uint32_t)(uintptr_t)v;
	struct fg_svc_peer *sp = &s->peers[slot];
	if (fg_noise_consume_initiation_finish(msg, &tmp, &sp->noise, now) < 0) {
		dp->svc_cnt.drops[FG_DROP_HANDSHAKE_INVALID]++;
		goto out;
	}
	forget_pending(s, sp);
	sp->hs = tmp;
	learn_path(s, slot, info, mac);
	uint32_t idx = new_index(s);
	if (fg_noise_create_response(&resp, &sp->hs, &s->local, &sp->noise, idx) < 0 ||
	    register_pending(s, slot, idx) < 0) {
		dp->svc_cnt.drops[FG_DROP_HANDSHAKE_INVALID]++;
		fg_noise_handshake_clear(&sp->hs);
		goto out;
	}
	fg_wg_cookie_add_macs(&sp->cookie, &resp, sizeof(resp), now);
	if (install_keypair(s, slot, FG_KP_NEXT, now) < 0)
		goto out;
	fg_wg_timers_any_authenticated_packet_received(&sp->timers, now);
	fg_wg_timers_any_authenticated_packet_traversal(&sp->timers, now);
	fg_wg_timers_any_authenticated_packet_sent(&sp->timers, now);
	fg_wg_timers_session_derived(&sp->timers, now);
	s->stats.handshakes_responded++;
	struct fg_peer_path path = { .ep = info->src, .channel = info->channel, .mac = *mac, .mac_ok = 1 };
	fg_svc_send_udp(s, &path, &resp, sizeof(resp));
out:
	sodium_memzero(&tmp, sizeof(tmp));
	sodium_memzero(&resp, sizeof(resp));
	sodium_memzero(initiator, sizeof(initiator));
}

static void on_response(struct fg_svc *s, const struct fg_wg_msg_response *msg,
			const struct fg_outer_info *info, const struct rte_ether_addr *mac,
			uint64_t now, bool under_load)
{
	struct fg_dp *dp = s->dp;
	uint32_t rx = rte_le_to_cpu_32(msg->receiver_index);
	void *v;

	if (!s->has_key || !admit(s, info, mac, msg, sizeof(*msg), msg->sender_index, now, under_load))
		return;
	if (rte_hash_lookup_data(s->pending, &rx, &v) < 0) {
		dp->svc_cnt.drops[FG_DROP_HANDSHAKE_INVALID]++;
		return;
	}
	uint32_t slot = (uint32_t)(uintptr_t)v;
	struct fg_svc_peer *sp = &s->peers[slot];
	if (fg_noise_consume_response(msg, &sp->hs, &s->local, &sp->noise) < 0) {
		dp->svc_cnt.drops[FG_DROP_HANDSHAKE_INVALID]++;
		return;
	}
	learn_path(s, slot, info, mac);
	if (install_keypair(s, slot, FG_KP_CURRENT, now) < 0)
		return;
	fg_wg_timers_any_authenticated_packet_received(&sp->timers, now);
	fg_wg_timers_any_authenticated_packet_traversal(&sp->timers, now);
	fg_wg_timers_session_derived(&sp->timers, now);
	fg_wg_timers_handshake_complete(&sp->timers, now);
	sp->last_handshake_wall_ns = fg_clock_wall_ns();
	s->stats.handshakes_completed++;
	/* Confirms the session to the responder at once. */
	fg_svc_send_keepalive(s, slot);
}

static void on_cookie(struct fg_svc *s, const struct fg_wg_msg_cookie *msg, uint64_t now)
{
	uint32_t rx = rte_le_to_cpu_32(msg->receiver_index);
	void *v;

	if (rte_hash_lookup_data(s->pending, &rx, &v) < 0 ||
	    fg_wg_cookie_consume_reply(&s->peers[(uint32_t)(uintptr_t)v].cookie, msg, now) < 0) {
		s->dp->svc_cnt.drops[FG_DROP_COOKIE_INVALID]++;
		return;
	}
	s->stats.cookies_received++;
}

void fg_svc_handle_handshake(struct fg_svc *s, struct rte_mbuf *m, uint64_t now, bool under_load)
{
	struct fg_dp *dp = s->dp;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eh = (const void *)frame;
	struct fg_outer_info info;
	enum fg_drop reason = FG_DROP_NONE;

	/* Re-parsed here: workers pass bare mbufs, and the copy is cheap next to an X25519. */
	if (fg_netpkt_parse_outer(frame, rte_pktmbuf_data_len(m), &dp->local, &info, &reason) != FG_OUTER_UDP) {
		dp->svc_cnt.drops[reason != FG_DROP_NONE ? reason : FG_DROP_WG_TYPE]++;
		goto out;
	}
	const uint8_t *payload = frame + info.payload_off;
	enum fg_demux kind = fg_netpkt_demux(payload, info.payload_len, info.src.port, &reason);
	if (kind == FG_DEMUX_CHANNEL_DATA) {
		/* Through a relay channel (the worker checked it is bound): info->channel is
		 * the path the peer learns and the response takes. */
		fg_netpkt_enter_channel(frame, &info);
		payload = frame + info.payload_off;
		kind = fg_netpkt_demux_channel(payload, info.payload_len, &reason);
	}
	switch (kind) {
	case FG_DEMUX_WG_INITIATION:
		on_initiation(s, (const void *)payload, &info, &eh->src_addr, now, under_load);
		break;
	case FG_DEMUX_WG_RESPONSE:
		on_response(s, (const void *)payload, &info, &eh->src_addr, now, under_load);
		break;
	case FG_DEMUX_WG_COOKIE:
		on_cookie(s, (const void *)payload, now);
		break;
	default:
		dp->svc_cnt.drops[reason != FG_DROP_NONE ? reason : FG_DROP_WG_TYPE]++;
		break;
	}
out:
	rte_pktmbuf_free(m);
}
