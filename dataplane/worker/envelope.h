/* SPDX-License-Identifier: MIT */
/*
 * The UDP envelope of every WireGuard message the data plane sends: Ethernet + IPv4 or IPv6
 * + UDP from our MAC, address and listen port to a peer's path, and the 4-byte ChannelData
 * header behind the UDP header when the path is relayed (the datagram then goes to the
 * relay). One writer for the workers (data messages they seal, keepalives and Goodbyes
 * included) and for the service lcore (initiations, responses, cookie replies, and the
 * control plane's STUN), so both put the same headers on the wire. No
 * state: the caller owns the mbuf; struct fg_netpkt_local is read-only but for listen_port
 * (the service lcore may change it at run time, hence the atomic load).
 */
#ifndef FG_ENVELOPE_H
#define FG_ENVELOPE_H

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "messages.h"
#include "netpkt.h"
#include "peers.h"

enum {
	/* Most headers the envelope puts in front of a WireGuard message. */
	FG_ENVELOPE_MAX_LEN = FG_NETPKT_UDP6_HDR_LEN + FG_NETPKT_CHANNEL_HDR_LEN,
};

/* A sealed data message grows by its 16-byte header and the envelope into the headroom
 * every pool mbuf has: no caller ever needs to check it. */
_Static_assert(RTE_PKTMBUF_HEADROOM >= FG_WG_DATA_HDR_LEN + FG_ENVELOPE_MAX_LEN, "mbuf headroom too small for the envelope");

/* Bytes of headers in front of a WireGuard message sent on path. */
static inline uint16_t fg_envelope_len(const struct fg_peer_path *path)
{
	return (uint16_t)((path->ep.ip.family == AF_INET6 ? FG_NETPKT_UDP6_HDR_LEN : FG_NETPKT_UDP4_HDR_LEN) +
			  (path->channel ? FG_NETPKT_CHANNEL_HDR_LEN : 0));
}

/*
 * Puts the envelope in front of the WireGuard message that fills m (one segment, data_len
 * bytes at mtod) and returns the frame length. m must have fg_envelope_len(path) bytes of
 * headroom (a pool mbuf always has, see above) and path an endpoint (ep.ip.family set):
 * what an unresolved MAC means is the caller's decision. ecn: the outer ECN bits (RFC 6040).
 */
static inline uint32_t fg_envelope_push(struct rte_mbuf *m, const struct fg_netpkt_local *local,
					const struct fg_peer_path *path, uint8_t ecn)
{
	uint16_t wlen = rte_pktmbuf_data_len(m);
	uint16_t hl = fg_envelope_len(path);
	uint16_t sport = __atomic_load_n(&local->listen_port, __ATOMIC_RELAXED);
	uint16_t ulen = wlen;
	uint8_t *hdr;

	RTE_ASSERT(rte_pktmbuf_headroom(m) >= hl && m->nb_segs == 1);
	m->data_off = (uint16_t)(m->data_off - hl);
	m->data_len = (uint16_t)(hl + wlen);
	m->pkt_len = m->data_len;
	hdr = rte_pktmbuf_mtod(m, uint8_t *);
	if (path->channel) {
		/* RFC 8656 §12.4: channel number, data length; no padding over UDP (§12.5).
		 * Written first: the IPv6 UDP checksum covers it. */
		uint8_t *ch = hdr + hl - FG_NETPKT_CHANNEL_HDR_LEN;

		ch[0] = (uint8_t)(path->channel >> 8);
		ch[1] = (uint8_t)path->channel;
		ch[2] = (uint8_t)(wlen >> 8);
		ch[3] = (uint8_t)wlen;
		ulen = (uint16_t)(wlen + FG_NETPKT_CHANNEL_HDR_LEN);
	}
	if (path->ep.ip.family == AF_INET6) {
		fg_netpkt_write_udp6(hdr, &local->mac, &path->mac, local->ip6, path->ep.ip.addr, sport,
				     path->ep.port, ulen, ecn);
	} else {
		uint32_t dst;

		memcpy(&dst, path->ep.ip.addr, 4);
		fg_netpkt_write_udp4(hdr, &local->mac, &path->mac, local->ip4, dst, sport, path->ep.port,
				     ulen, ecn);
	}
	return m->pkt_len;
}

#endif
