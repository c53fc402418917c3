// SPDX-License-Identifier: MIT
/*
 * The data plane's part of ICE and relays, on the service lcore. The control plane runs the
 * STUN/TURN and ICE state machines (controlplane/relay/, controlplane/ice/), but every
 * datagram they exchange uses the WireGuard port, so that one 5-tuple carries checks,
 * allocations and tunnel traffic: STUN the workers punt comes here, is rate-limited per
 * source and handed to the attached socket servers (the control socket's PACKET_IN); what
 * the control plane sends (PACKET_OUT) leaves in the workers' envelope. It also keeps the
 * relay channel table the workers read (chantable.h) and sets the paths ICE nominates. All
 * state belongs to the service lcore.
 */
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "ratelimiter.h"
#include "service.h"
#include "svc_state.h"

/* The source a punted datagram is charged to: the peer behind a relay channel (each client
 * reached through one relay gets its own budget), else the datagram's source. */
static const struct fg_ip *charged_source(const struct fg_svc_packet *pkt)
{
	return pkt->peer.ip.family ? &pkt->peer.ip : &pkt->src.ip;
}

/* Hands pkt to every attached server that takes packets; the loss, if any, is counted. */
static void emit_packet(struct fg_svc *s, const struct fg_svc_packet *pkt)
{
	int reached = 0, backlogged = 0;

	for (unsigned i = 0; i < s->natt; i++) {
		int r;

		if (!s->att[i].ops->packet)
			continue;
		r = s->att[i].ops->packet(s->att[i].ctx, pkt);
		if (r > 0)
			reached += r;
		else if (r < 0)
			backlogged++;
	}
	if (reached)
		s->stats.stun_delivered++;
	else
		s->dp->svc_cnt.drops[backlogged ? FG_DROP_STUN_BACKLOG : FG_DROP_STUN]++;
}

void fg_svc_stun_in(struct fg_svc *s, struct rte_mbuf *m, uint64_t now)
{
	struct fg_dp *dp = s->dp;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct fg_outer_info info;
	enum fg_drop reason = FG_DROP_NONE;
	enum fg_demux kind;
	struct fg_svc_packet pkt;
	const struct fg_ip *who;

	/* Re-parsed, as handshakes are: workers pass bare mbufs. */
	if (fg_netpkt_parse_outer(frame, rte_pktmbuf_data_len(m), &dp->local, &info, &reason) != FG_OUTER_UDP) {
		dp->svc_cnt.drops[reason != FG_DROP_NONE ? reason : FG_DROP_WG_TYPE]++;
		goto out;
	}
	kind = fg_netpkt_demux(frame + info.payload_off, info.payload_len, info.src.port, &reason);
	if (kind == FG_DEMUX_CHANNEL_DATA) {
		fg_netpkt_enter_channel(frame, &info);
		kind = fg_netpkt_demux_channel(frame + info.payload_off, info.payload_len, &reason);
	}
	if (kind != FG_DEMUX_STUN) {
		dp->svc_cnt.drops[reason != FG_DROP_NONE ? reason : FG_DROP_WG_TYPE]++;
		goto out;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.src = info.src;
	pkt.channel = info.channel;
	pkt.len = info.payload_len;
	pkt.payload = frame + info.payload_off;
	if (info.channel) {
		/* Unbound since the worker let it through: the peer is unknown (family 0). */
		const struct fg_chan *c = fg_chantable_find(&dp->chans, &info.src, info.channel);

		if (c)
			pkt.peer = c->peer;
	}
	who = charged_source(&pkt);
	if (!fg_wg_ratelimiter_allow(s->stun_rl, who->addr, fg_ip_len(who->family), now)) {
		dp->svc_cnt.drops[FG_DROP_STUN_RATELIMIT]++;
		goto out;
	}
	emit_packet(s, &pkt);
out:
	rte_pktmbuf_free(m);
}

static bool channel_ok(uint16_t channel)
{
	return channel >= FG_CTL_CHANNEL_MIN && channel <= FG_CTL_CHANNEL_MAX;
}

/* A unicast destination we can reach from an uplink address of its family. */
static int check_destination(const struct fg_dp *dp, const struct fg_endpoint *ep)
{
	static const uint8_t zero[16];
	size_t alen = fg_ip_len(ep->ip.family);

	if (alen == 0 || ep->port == 0 || memcmp(ep->ip.addr, zero, alen) == 0)
		return -EINVAL;
	if (ep->ip.family == AF_INET ? dp->local.ip4 == 0 : !dp->local.has_ip6)
		return -EAFNOSUPPORT;
	return 0;
}

int fg_svc_send_packet(struct fg_svc *s, const struct fg_endpoint *ep, uint16_t channel, const void *payload,
		       uint16_t len)
{
	struct fg_peer_path path = { .ep = *ep, .channel = channel };
	struct fg_ip hop;
	int r = check_destination(s->dp, ep);

	if (r < 0)
		return r;
	if ((channel && !channel_ok(channel)) || len == 0)
		return -EINVAL;
	/* As for a peer's path: the next hop's MAC, or the frame waits for ARP/ND. */
	fg_neigh_next_hop(&s->neigh, &ep->ip, &hop);
	if (fg_neigh_lookup(&s->neigh, &hop, &path.mac) == 0)
		path.mac_ok = 1;
	r = fg_svc_send_udp(s, &path, payload, len);
	if (r == 0)
		s->stats.packets_sent++;
	return r;
}

int fg_svc_channel_bind(struct fg_svc *s, const struct fg_endpoint *relay, uint16_t number,
			const struct fg_endpoint *peer)
{
	if (fg_ip_len(relay->ip.family) == 0 || relay->port == 0 || fg_ip_len(peer->ip.family) == 0 ||
	    !channel_ok(number))
		return -EINVAL;
	return fg_chantable_bind(&s->dp->chans, relay, number, peer);
}

int fg_svc_channel_unbind(struct fg_svc *s, const struct fg_endpoint *relay, uint16_t number)
{
	if (fg_ip_len(relay->ip.family) == 0 || relay->port == 0 || (number && !channel_ok(number)))
		return -EINVAL;
	return fg_chantable_unbind(&s->dp->chans, relay, number);
}

int fg_svc_peer_set_path(struct fg_svc *s, uint32_t slot, const struct fg_endpoint *ep, uint16_t channel)
{
	struct fg_svc_peer *sp;
	int r;

	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	if (ep->ip.family == 0 && channel)
		return -EINVAL;
	if (ep->ip.family && (r = check_destination(s->dp, ep)) < 0)
		return r;
	if (channel && !channel_ok(channel))
		return -EINVAL;
	sp = &s->peers[slot];
	sp->endpoint = ep->ip.family ? *ep : (struct fg_endpoint){ 0 };
	sp->channel = channel;
	s->stats.paths_set++;
	fg_svc_peer_update_path(s, slot, NULL);
	return 0;
}
