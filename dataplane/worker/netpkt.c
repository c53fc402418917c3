/* SPDX-License-Identifier: MIT */
/*
 * Outer and inner packet parsing and building on plain byte buffers: the first thing a worker
 * lcore does with every received frame (classify, validate, find the UDP payload and
 * demultiplex it), the last thing it does before transmit (outer Ethernet/IP/UDP headers),
 * and the ARP / ND / echo frames the service lcore answers. Stateless: every function works
 * only on its arguments, so any thread may call it. Nothing here allocates, logs or blocks;
 * every read is bounded by the length the caller gave, checked before the read.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_arp.h>

#include "messages.h"
#include "netpkt.h"

/* Header and field sizes on the wire. */
enum wire_len {
	ETH_LEN = 14,
	IP4_MIN_LEN = 20,
	IP6_LEN = 40,
	UDP_LEN = 8,
	ICMP_ECHO_LEN = 8,           /* type, code, checksum, identifier, sequence */
	ICMP6_MIN_LEN = 4,
	ARP_LEN = 28,
	ND_NS_NA_LEN = 24,           /* type .. target */
	ND_RA_LEN = 16,
	ND_OPT_UNIT = 8,
	STUN_HDR_LEN = 20,
	CHANNEL_HDR_LEN = 4,
	WG_HDR_LEN = 4,              /* type byte + three reserved zero bytes */
};

/* Protocol numbers, message types and magic values. */
enum wire_value {
	ND_OPT_SRC_LLADDR = 1,
	ND_OPT_TGT_LLADDR = 2,
	ND_HOP_LIMIT = 255,
	ICMP4_ECHO_REQUEST = 8,
	ICMP4_ECHO_REPLY = 0,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
	PROTO_ICMP = 1,
	PROTO_UDP = 17,
	PROTO_ICMP6 = 58,
	REPLY_TTL = 64,
	STUN_MAGIC = 0x2112A442,
	STUN_METHOD_MASK = 0x3EEF,   /* the message type without its two class bits */
	STUN_METHOD_BINDING = 0x0001,
	CHANNEL_FIRST = 0x40,
	CHANNEL_LAST = 0x4F,
	WG_TYPE_MAX = 4,
};

/* The wire length of each WireGuard message type; 0 = "at least FG_WG_DATA_MIN_LEN". */
static const uint16_t wg_exact_len[WG_TYPE_MAX + 1] = {
	[FG_WG_MSG_INITIATION] = FG_WG_MSG_INITIATION_LEN,
	[FG_WG_MSG_RESPONSE] = FG_WG_MSG_RESPONSE_LEN,
	[FG_WG_MSG_COOKIE] = FG_WG_MSG_COOKIE_LEN,
};

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

/*
 * One's-complement sums in native word order (RFC 1071: the result is byte-order
 * independent, so a big-endian field is added as its big-endian representation).
 */
static inline uint32_t sum_add(uint32_t sum, const void *buf, uint32_t len)
{
	/* Only the last buffer of a sum may have an odd length. */
	return sum + rte_raw_cksum(buf, len);
}

static inline uint16_t sum_fold(uint32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return (uint16_t)sum;
}

/* Pseudo-header sums (src, dst, protocol, upper-layer length) for UDP, ICMPv6. */
static inline uint32_t pseudo4(const struct rte_ipv4_hdr *ip, uint8_t proto, uint32_t l4len)
{
	uint32_t sum = sum_add(0, (const uint8_t *)ip + 12, 8); /* src, dst */

	return sum + rte_cpu_to_be_16(proto) + rte_cpu_to_be_16((uint16_t)l4len);
}

static inline uint32_t pseudo6(const struct rte_ipv6_hdr *ip, uint8_t proto, uint32_t l4len)
{
	uint32_t sum = sum_add(0, (const uint8_t *)ip + 8, 32); /* src, dst */

	return sum + rte_cpu_to_be_16(proto) + rte_cpu_to_be_16((uint16_t)l4len);
}

/* A checksum to store: the complement of the folded sum. */
static inline uint16_t sum_final(uint32_t sum)
{
	return (uint16_t)~sum_fold(sum);
}

static inline void ip_set4(struct fg_ip *ip, const void *a)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET;
	memcpy(ip->addr, a, 4);
}

static inline void ip_set6(struct fg_ip *ip, const void *a)
{
	ip->family = AF_INET6;
	memcpy(ip->addr, a, 16);
}

/* ff02::1:ffXX:XXXX for the low 24 bits of addr. */
static void solicited_node(uint8_t group[16], const uint8_t addr[16])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memcpy(group, prefix, sizeof(prefix));
	memcpy(group + 13, addr + 13, 3);
}

static bool is_solicited_node_of(const uint8_t dst[16], const uint8_t addr[16])
{
	uint8_t group[16];

	solicited_node(group, addr);
	return memcmp(dst, group, 16) == 0;
}

/*
 * The UDP header at l4 (l4len bytes of IP payload, psum its pseudo-header sum). The UDP
 * length must cover the IP payload exactly: a shorter one would leave bytes we would neither
 * checksum nor account for.
 */
/* A WireGuard data message header (type 4, reserved zero) heads the len bytes at p. */
static inline bool wg_data_at(const uint8_t *p, uint32_t len)
{
	return len >= 32 && p[0] == 4 && p[1] == 0 && p[2] == 0 && p[3] == 0;
}

/* ChannelData from port 3478 whose length agrees with the datagram's and whose data is a
 * WireGuard data message (netpkt.h: aead_covers_udp4). */
static inline bool relayed_wg_data(const uint8_t *l4, uint32_t l4len)
{
	uint32_t len = l4len - UDP_LEN, exact;
	const uint8_t *p = l4 + UDP_LEN;

	if (rd16(l4) != FG_NETPKT_STUN_PORT || len < CHANNEL_HDR_LEN || p[0] < CHANNEL_FIRST ||
	    p[0] > CHANNEL_LAST)
		return false;
	exact = CHANNEL_HDR_LEN + (uint32_t)rd16(p + 2);
	return (len == exact || len == ((exact + 3) & ~3u)) && wg_data_at(p + CHANNEL_HDR_LEN, exact - CHANNEL_HDR_LEN);
}

static enum fg_drop check_udp(const uint8_t *l4, uint32_t l4len, uint16_t listen_port,
			      uint32_t psum, bool csum_required, bool aead_covers, bool hw_good)
{
	const struct rte_udp_hdr *udp = (const void *)l4;

	if (unlikely(l4len < UDP_LEN || rd16(l4 + 4) != l4len || udp->src_port == 0))
		return FG_DROP_UDP_MALFORMED;
	if (unlikely(udp->dst_port != rte_cpu_to_be_16(listen_port)))
		return FG_DROP_UDP_PORT;
	/* A WireGuard data message: its AEAD tag is the stronger check (see netpkt.h). */
	if (aead_covers && (wg_data_at(l4 + UDP_LEN, l4len - UDP_LEN) || relayed_wg_data(l4, l4len)))
		return FG_DROP_NONE;
	if (udp->dgram_cksum == 0)
		return csum_required ? FG_DROP_UDP_CHECKSUM : FG_DROP_NONE;
	if (hw_good)
		return FG_DROP_NONE;
	if (unlikely(sum_fold(sum_add(psum, l4, l4len)) != 0xffff))
		return FG_DROP_UDP_CHECKSUM;
	return FG_DROP_NONE;
}

static void set_udp_payload(struct fg_outer_info *out, const uint8_t *l4, uint32_t l4len)
{
	out->src.port = rd16(l4);
	out->payload_off = (uint16_t)(out->l4_off + UDP_LEN);
	out->payload_len = (uint16_t)(l4len - UDP_LEN);
}

static enum fg_outer_kind parse_arp(const uint8_t *frame, uint32_t len,
				    const struct fg_netpkt_local *local,
				    struct fg_outer_info *out, enum fg_drop *why)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	struct fg_arp arp;

	if (len < ETH_LEN + ARP_LEN) {
		*why = FG_DROP_ETH_SHORT;
		return FG_OUTER_DROP;
	}
	if (fg_netpkt_arp_parse(frame, len, &arp) != 0) {
		*why = FG_DROP_ETHERTYPE;
		return FG_OUTER_DROP;
	}
	if ((rte_is_multicast_ether_addr(&eth->dst_addr) &&
	     !rte_is_broadcast_ether_addr(&eth->dst_addr)) ||
	    local->ip4 == 0 || arp.tip != local->ip4) {
		*why = FG_DROP_NOT_FOR_US;
		return FG_OUTER_DROP;
	}
	out->family = AF_INET;
	out->ecn = 0;
	out->l3_off = out->l4_off = out->payload_off = ETH_LEN;
	out->payload_len = ARP_LEN;
	ip_set4(&out->src.ip, &arp.sip);
	out->src.port = 0;
	ip_set4(&out->dst, &arp.tip);
	return FG_OUTER_ARP;
}

static enum fg_outer_kind parse_ip4(const uint8_t *frame, uint32_t len,
				    const struct fg_netpkt_local *local, bool l2_mcast, unsigned hw,
				    struct fg_outer_info *out, enum fg_drop *why)
{
	const struct rte_ipv4_hdr *ip = (const void *)(frame + ETH_LEN);
	const uint8_t *l4;
	uint32_t hlen, tlen, l4len;

	if (unlikely(len < ETH_LEN + IP4_MIN_LEN)) {
		*why = FG_DROP_ETH_SHORT;
		return FG_OUTER_DROP;
	}
	hlen = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4u;
	tlen = rte_be_to_cpu_16(ip->total_length);
	if (unlikely((ip->version_ihl >> 4) != 4 || hlen < IP4_MIN_LEN || tlen < hlen ||
		     tlen > len - ETH_LEN)) {
		*why = FG_DROP_IP_MALFORMED;
		return FG_OUTER_DROP;
	}
	if (!(hw & FG_NETPKT_HW_IP_CSUM_GOOD) && unlikely(sum_fold(sum_add(0, ip, hlen)) != 0xffff)) {
		*why = FG_DROP_IP_CHECKSUM;
		return FG_OUTER_DROP;
	}
	if (unlikely(l2_mcast || local->ip4 == 0 || ip->dst_addr != local->ip4)) {
		*why = FG_DROP_NOT_FOR_US;
		return FG_OUTER_DROP;
	}
	if (unlikely(ip->fragment_offset &
		     RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		*why = FG_DROP_IP_FRAGMENT;
		return FG_OUTER_DROP;
	}
	/* 224.0.0.0/3: multicast, reserved, limited broadcast: never a peer, never answered. */
	if (unlikely((((const uint8_t *)&ip->src_addr)[0] & 0xe0) == 0xe0)) {
		*why = FG_DROP_IP_MALFORMED;
		return FG_OUTER_DROP;
	}

	l4 = frame + ETH_LEN + hlen;
	l4len = tlen - hlen;
	out->family = AF_INET;
	out->ecn = ip->type_of_service & RTE_IPV4_HDR_ECN_MASK;
	out->l3_off = ETH_LEN;
	out->l4_off = (uint16_t)(ETH_LEN + hlen);
	ip_set4(&out->src.ip, &ip->src_addr);
	ip_set4(&out->dst, &ip->dst_addr);

	if (likely(ip->next_proto_id == PROTO_UDP)) {
		*why = check_udp(l4, l4len, local->listen_port, pseudo4(ip, PROTO_UDP, l4len),
				 false, local->aead_covers_udp4, hw & FG_NETPKT_HW_L4_CSUM_GOOD);
		if (unlikely(*why != FG_DROP_NONE))
			return FG_OUTER_DROP;
		set_udp_payload(out, l4, l4len);
		return FG_OUTER_UDP;
	}
	if (ip->next_proto_id != PROTO_ICMP) {
		*why = FG_DROP_IP_PROTO;
		return FG_OUTER_DROP;
	}
	if (l4len < ICMP_ECHO_LEN || l4[0] != ICMP4_ECHO_REQUEST || l4[1] != 0 ||
	    sum_fold(sum_add(0, l4, l4len)) != 0xffff) {
		*why = FG_DROP_ICMP_UNHANDLED;
		return FG_OUTER_DROP;
	}
	out->src.port = 0;
	out->payload_off = out->l4_off;
	out->payload_len = (uint16_t)l4len;
	return FG_OUTER_ECHO;
}

/* ICMPv6 after the IPv6 checks; unicast = addressed to our own address. */
static enum fg_outer_kind parse_icmp6(const struct rte_ipv6_hdr *ip, const uint8_t *l4,
				      uint32_t l4len, const struct fg_netpkt_local *local,
				      bool unicast, enum fg_drop *why)
{
	uint8_t type;

	if (l4len < ICMP6_MIN_LEN ||
	    sum_fold(sum_add(pseudo6(ip, PROTO_ICMP6, l4len), l4, l4len)) != 0xffff)
		goto unhandled;
	type = l4[0];
	if (type == ICMP6_ECHO_REQUEST) {
		if (!unicast)
			goto not_for_us;
		if (l4len < ICMP_ECHO_LEN || l4[1] != 0)
			goto unhandled;
		return FG_OUTER_ECHO;
	}
	if (type != FG_ND_ROUTER_ADVERT && type != FG_ND_NEIGH_SOLICIT &&
	    type != FG_ND_NEIGH_ADVERT) {
		if (!unicast)
			goto not_for_us;
		goto unhandled;
	}
	/* RFC 4861 §6.1, §7.1: only on-link senders (hop limit untouched by a router). */
	if (ip->hop_limits != ND_HOP_LIMIT || l4[1] != 0 ||
	    l4len < (type == FG_ND_ROUTER_ADVERT ? ND_RA_LEN : ND_NS_NA_LEN))
		goto unhandled;
	/* Another host sharing our solicited-node group: not ours to answer. */
	if (type == FG_ND_NEIGH_SOLICIT && memcmp(l4 + 8, local->ip6, 16) != 0)
		goto not_for_us;
	return FG_OUTER_ND;

unhandled:
	*why = FG_DROP_ICMP_UNHANDLED;
	return FG_OUTER_DROP;
not_for_us:
	*why = FG_DROP_NOT_FOR_US;
	return FG_OUTER_DROP;
}

static enum fg_outer_kind parse_ip6(const uint8_t *frame, uint32_t len,
				    const struct fg_netpkt_local *local, bool l2_mcast, unsigned hw,
				    struct fg_outer_info *out, enum fg_drop *why)
{
	const struct rte_ipv6_hdr *ip = (const void *)(frame + ETH_LEN);
	const uint8_t *l4 = frame + ETH_LEN + IP6_LEN;
	enum fg_outer_kind kind;
	uint32_t plen;
	bool unicast, nd_group;

	if (unlikely(len < ETH_LEN + IP6_LEN)) {
		*why = FG_DROP_ETH_SHORT;
		return FG_OUTER_DROP;
	}
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (unlikely((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 ||
		     plen > len - ETH_LEN - IP6_LEN)) {
		*why = FG_DROP_IP_MALFORMED;
		return FG_OUTER_DROP;
	}
	unicast = local->has_ip6 && !l2_mcast && memcmp(ip->dst_addr, local->ip6, 16) == 0;
	nd_group = local->has_ip6 && !unicast &&
		   (is_solicited_node_of(ip->dst_addr, local->ip6) ||
		    memcmp(ip->dst_addr, all_nodes, 16) == 0);
	if (unlikely(!unicast && !nd_group)) {
		*why = FG_DROP_NOT_FOR_US;
		return FG_OUTER_DROP;
	}
	if (unlikely(ip->src_addr[0] == 0xff)) {
		*why = FG_DROP_IP_MALFORMED;
		return FG_OUTER_DROP;
	}

	out->family = AF_INET6;
	out->ecn = (uint8_t)((rte_be_to_cpu_32(ip->vtc_flow) >> RTE_IPV6_HDR_TC_SHIFT) & 3);
	out->l3_off = ETH_LEN;
	out->l4_off = ETH_LEN + IP6_LEN;
	ip_set6(&out->src.ip, ip->src_addr);
	ip_set6(&out->dst, ip->dst_addr);

	if (likely(ip->proto == PROTO_UDP)) {
		if (unlikely(!unicast)) {
			*why = FG_DROP_NOT_FOR_US;
			return FG_OUTER_DROP;
		}
		/* RFC 8200 §8.1: a zero UDP checksum over IPv6 is discarded. */
		*why = check_udp(l4, plen, local->listen_port, pseudo6(ip, PROTO_UDP, plen), true, false,
				 hw & FG_NETPKT_HW_L4_CSUM_GOOD);
		if (unlikely(*why != FG_DROP_NONE))
			return FG_OUTER_DROP;
		set_udp_payload(out, l4, plen);
		return FG_OUTER_UDP;
	}
	if (ip->proto != PROTO_ICMP6) {
		/* Extension headers included: nothing we accept needs one. */
		*why = FG_DROP_IP_PROTO;
		return FG_OUTER_DROP;
	}
	kind = parse_icmp6(ip, l4, plen, local, unicast, why);
	if (kind == FG_OUTER_DROP)
		return FG_OUTER_DROP;
	out->src.port = 0;
	out->payload_off = out->l4_off;
	out->payload_len = (uint16_t)plen;
	return kind;
}

enum fg_outer_kind fg_netpkt_parse_outer(const uint8_t *frame, uint32_t len,
					 const struct fg_netpkt_local *local,
					 struct fg_outer_info *out, enum fg_drop *reason)
{
	return fg_netpkt_parse_outer_hw(frame, len, local, 0, out, reason);
}

enum fg_outer_kind fg_netpkt_parse_outer_hw(const uint8_t *frame, uint32_t len,
					    const struct fg_netpkt_local *local, unsigned hw,
					    struct fg_outer_info *out, enum fg_drop *reason)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	enum fg_outer_kind kind;
	bool l2_mcast;

	*reason = FG_DROP_NONE;
	out->channel = 0;
	if (unlikely(len < ETH_LEN)) {
		*reason = FG_DROP_ETH_SHORT;
		return FG_OUTER_DROP;
	}
	l2_mcast = rte_is_multicast_ether_addr(&eth->dst_addr);
	if (unlikely(!l2_mcast && !rte_is_same_ether_addr(&eth->dst_addr, &local->mac))) {
		*reason = FG_DROP_NOT_FOR_US;
		return FG_OUTER_DROP;
	}
	switch (eth->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		kind = parse_ip4(frame, len, local, l2_mcast, hw, out, reason);
		break;
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		kind = parse_ip6(frame, len, local, l2_mcast, hw, out, reason);
		break;
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		kind = parse_arp(frame, len, local, out, reason);
		break;
	default:
		/* VLAN and QinQ included: the port is configured to strip or not see them. */
		*reason = FG_DROP_ETHERTYPE;
		return FG_OUTER_DROP;
	}
	return kind;
}

/* A complete STUN header whose length field accounts for exactly the rest of the datagram. */
static inline bool stun_ok(const uint8_t *p, uint32_t len)
{
	return len >= STUN_HDR_LEN && (p[0] & 0xc0) == 0 && rd32(p + 4) == STUN_MAGIC &&
	       rd16(p + 2) == len - STUN_HDR_LEN && (rd16(p + 2) & 3) == 0;
}

/* ChannelData: 4-byte header, then length bytes, optionally padded to a multiple of 4. */
static inline bool channel_data_ok(const uint8_t *p, uint32_t len)
{
	uint32_t exact;

	if (len < CHANNEL_HDR_LEN || p[0] < CHANNEL_FIRST || p[0] > CHANNEL_LAST)
		return false;
	exact = CHANNEL_HDR_LEN + (uint32_t)rd16(p + 2);
	return len == exact || len == ((exact + 3) & ~3u);
}

enum fg_demux fg_netpkt_demux(const uint8_t *payload, uint32_t len, uint16_t src_port,
			      enum fg_drop *reason)
{
	uint32_t type, want;

	if (unlikely(src_port == FG_NETPKT_STUN_PORT)) {
		if (stun_ok(payload, len))
			return FG_DEMUX_STUN;
		if (channel_data_ok(payload, len))
			return FG_DEMUX_CHANNEL_DATA;
		if (len >= CHANNEL_HDR_LEN && payload[0] >= CHANNEL_FIRST && payload[0] <= CHANNEL_LAST) {
			*reason = FG_DROP_CHANNEL_MALFORMED;
			return FG_DEMUX_DROP;
		}
	}
	if (unlikely(stun_ok(payload, len) &&
		     (rd16(payload) & STUN_METHOD_MASK) == STUN_METHOD_BINDING))
		return FG_DEMUX_STUN;

	if (unlikely(len < WG_HDR_LEN)) {
		*reason = FG_DROP_WG_LENGTH;
		return FG_DEMUX_DROP;
	}
	/* Little-endian: a type in 1..4 with three zero reserved bytes is exactly 1..4. */
	type = (uint32_t)payload[0] | (uint32_t)payload[1] << 8 | (uint32_t)payload[2] << 16 |
	       (uint32_t)payload[3] << 24;
	if (unlikely(type - 1 >= WG_TYPE_MAX)) {
		*reason = FG_DROP_WG_TYPE;
		return FG_DEMUX_DROP;
	}
	want = wg_exact_len[type];
	if (unlikely(want ? len != want : len < FG_WG_DATA_MIN_LEN)) {
		*reason = FG_DROP_WG_LENGTH;
		return FG_DEMUX_DROP;
	}
	/* enum fg_demux lists the four WireGuard kinds in wire-type order. */
	return (enum fg_demux)(FG_DEMUX_WG_INITIATION + (type - 1));
}

void fg_netpkt_echo_reply(uint8_t *frame, const struct fg_outer_info *in)
{
	struct rte_ether_hdr *eth = (void *)frame;
	struct rte_ether_addr mac = eth->src_addr;
	uint8_t *l4 = frame + in->l4_off;
	uint16_t c;

	eth->src_addr = eth->dst_addr;
	eth->dst_addr = mac;
	if (in->family == AF_INET) {
		struct rte_ipv4_hdr *ip = (void *)(frame + in->l3_off);
		rte_be32_t a = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->time_to_live = REPLY_TTL;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		l4[0] = ICMP4_ECHO_REPLY;
		memset(l4 + 2, 0, 2);
		c = sum_final(sum_add(0, l4, in->payload_len));
		memcpy(l4 + 2, &c, 2);
	} else {
		struct rte_ipv6_hdr *ip = (void *)(frame + in->l3_off);
		uint8_t a[16];

		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->hop_limits = REPLY_TTL;
		l4[0] = ICMP6_ECHO_REPLY;
		memset(l4 + 2, 0, 2);
		c = sum_final(sum_add(pseudo6(ip, PROTO_ICMP6, in->payload_len), l4,
				      in->payload_len));
		memcpy(l4 + 2, &c, 2);
	}
}

int fg_netpkt_arp_parse(const uint8_t *frame, uint32_t len, struct fg_arp *out)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	const struct rte_arp_hdr *arp = (const void *)(frame + ETH_LEN);
	uint16_t op;

	if (len < ETH_LEN + ARP_LEN || eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_ARP) ||
	    arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		return -EINVAL;
	op = rte_be_to_cpu_16(arp->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return -EINVAL;
	/* A multicast or zero sender address would poison the neighbour table. */
	if (!rte_is_valid_assigned_ether_addr(&arp->arp_data.arp_sha))
		return -EINVAL;
	out->op = op;
	out->sha = arp->arp_data.arp_sha;
	out->tha = arp->arp_data.arp_tha;
	out->sip = arp->arp_data.arp_sip;
	out->tip = arp->arp_data.arp_tip;
	return 0;
}

uint32_t fg_netpkt_arp_build(uint8_t *frame, uint16_t op, const struct rte_ether_addr *eth_dst,
			     const struct rte_ether_addr *sha, uint32_t sip,
			     const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_ether_hdr *eth = (void *)frame;
	struct rte_arp_hdr *arp = (void *)(frame + ETH_LEN);

	memset(frame, 0, FG_NETPKT_ARP_FRAME_LEN);
	eth->dst_addr = *eth_dst;
	eth->src_addr = *sha;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	arp->arp_data.arp_sha = *sha;
	arp->arp_data.arp_sip = sip;
	arp->arp_data.arp_tha = *tha;
	arp->arp_data.arp_tip = tip;
	return FG_NETPKT_ARP_FRAME_LEN;
}

int fg_netpkt_nd_parse(const uint8_t *frame, uint32_t len, struct fg_nd *out)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	const struct rte_ipv6_hdr *ip = (const void *)(frame + ETH_LEN);
	const uint8_t *icmp = frame + ETH_LEN + IP6_LEN;
	uint8_t want_opt, type;
	uint32_t plen, off;
	bool unspecified, dst_mcast;

	if (len < ETH_LEN + IP6_LEN + ND_NS_NA_LEN ||
	    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV6) ||
	    (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return -EINVAL;
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (plen < ND_NS_NA_LEN || plen > len - ETH_LEN - IP6_LEN || ip->proto != PROTO_ICMP6 ||
	    ip->hop_limits != ND_HOP_LIMIT || icmp[1] != 0)
		return -EINVAL;
	type = icmp[0];
	if (type != FG_ND_NEIGH_SOLICIT && type != FG_ND_NEIGH_ADVERT)
		return -EINVAL;
	if (sum_fold(sum_add(pseudo6(ip, PROTO_ICMP6, plen), icmp, plen)) != 0xffff)
		return -EINVAL;
	if (icmp[8] == 0xff) /* RFC 4861 §7.1: the target is never multicast */
		return -EINVAL;

	out->type = type;
	out->flags = type == FG_ND_NEIGH_ADVERT ? icmp[4] & 0xe0 : 0;
	memcpy(out->target, icmp + 8, 16);
	memcpy(out->src_ip, ip->src_addr, 16);
	out->has_lladdr = false;
	want_opt = type == FG_ND_NEIGH_SOLICIT ? ND_OPT_SRC_LLADDR : ND_OPT_TGT_LLADDR;
	for (off = ND_NS_NA_LEN; off < plen;) {
		uint32_t olen;

		if (plen - off < 2)
			return -EINVAL;
		olen = icmp[off + 1] * (uint32_t)ND_OPT_UNIT;
		if (olen == 0 || olen > plen - off)
			return -EINVAL;
		if (icmp[off] == want_opt) {
			out->has_lladdr = true;
			memcpy(&out->lladdr, icmp + off + 2, RTE_ETHER_ADDR_LEN);
		}
		off += olen;
	}

	unspecified = true;
	for (off = 0; off < 16; off++)
		unspecified &= ip->src_addr[off] == 0;
	dst_mcast = ip->dst_addr[0] == 0xff;
	/* RFC 4861 §7.1.1, §7.1.2: a DAD probe carries no source link-layer address, and an
	 * advertisement to a multicast group is never "solicited". */
	if (type == FG_ND_NEIGH_SOLICIT && unspecified && out->has_lladdr)
		return -EINVAL;
	if (type == FG_ND_NEIGH_ADVERT && (unspecified ||
					   (dst_mcast && (out->flags & FG_ND_FLAG_SOLICITED))))
		return -EINVAL;
	if (out->has_lladdr && !rte_is_valid_assigned_ether_addr(&out->lladdr))
		return -EINVAL;
	return 0;
}

/* An NS or NA with one link-layer option: the two differ only in these arguments. */
static uint32_t write_nd(uint8_t *frame, const struct fg_netpkt_local *local,
			 const struct rte_ether_addr *eth_dst, const uint8_t ip_dst[16],
			 uint8_t type, uint8_t flags, const uint8_t target[16], uint8_t opt)
{
	struct rte_ether_hdr *eth = (void *)frame;
	struct rte_ipv6_hdr *ip = (void *)(frame + ETH_LEN);
	uint8_t *icmp = frame + ETH_LEN + IP6_LEN;
	const uint32_t plen = ND_NS_NA_LEN + ND_OPT_UNIT;
	uint16_t c;

	eth->dst_addr = *eth_dst;
	eth->src_addr = local->mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)plen);
	ip->proto = PROTO_ICMP6;
	ip->hop_limits = ND_HOP_LIMIT;
	memcpy(ip->src_addr, local->ip6, 16);
	memcpy(ip->dst_addr, ip_dst, 16);
	memset(icmp, 0, plen);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[ND_NS_NA_LEN] = opt;
	icmp[ND_NS_NA_LEN + 1] = 1;
	memcpy(icmp + ND_NS_NA_LEN + 2, &local->mac, RTE_ETHER_ADDR_LEN);
	c = sum_final(sum_add(pseudo6(ip, PROTO_ICMP6, plen), icmp, plen));
	memcpy(icmp + 2, &c, 2);
	return FG_NETPKT_ND_FRAME_LEN;
}

uint32_t fg_netpkt_nd_build_na(uint8_t *frame, const struct fg_netpkt_local *local,
			       const uint8_t dst_ip[16], const struct rte_ether_addr *dst_mac)
{
	static const struct rte_ether_addr all_nodes_mac = {
		.addr_bytes = { 0x33, 0x33, 0, 0, 0, 1 },
	};
	static const uint8_t zero[16];

	/* RFC 4861 §7.2.4: a DAD probe from :: is answered to all-nodes, not solicited. */
	if (memcmp(dst_ip, zero, 16) == 0)
		return write_nd(frame, local, &all_nodes_mac, all_nodes, FG_ND_NEIGH_ADVERT,
				FG_ND_FLAG_OVERRIDE, local->ip6, ND_OPT_TGT_LLADDR);
	return write_nd(frame, local, dst_mac, dst_ip, FG_ND_NEIGH_ADVERT,
			FG_ND_FLAG_SOLICITED | FG_ND_FLAG_OVERRIDE, local->ip6, ND_OPT_TGT_LLADDR);
}

uint32_t fg_netpkt_nd_build_ns(uint8_t *frame, const struct fg_netpkt_local *local,
			       const uint8_t target[16])
{
	struct rte_ether_addr mac = { .addr_bytes = { 0x33, 0x33, 0xff } };
	uint8_t group[16];

	solicited_node(group, target);
	memcpy(&mac.addr_bytes[2], group + 12, 4);
	return write_nd(frame, local, &mac, group, FG_ND_NEIGH_SOLICIT, 0, target,
			ND_OPT_SRC_LLADDR);
}

static inline void write_eth(uint8_t *hdr, const struct rte_ether_addr *src_mac,
			     const struct rte_ether_addr *dst_mac, uint16_t type)
{
	struct rte_ether_hdr *eth = (void *)hdr;

	eth->dst_addr = *dst_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = rte_cpu_to_be_16(type);
}

void fg_netpkt_write_udp4(uint8_t *hdr, const struct rte_ether_addr *src_mac,
			  const struct rte_ether_addr *dst_mac, uint32_t src_ip, uint32_t dst_ip,
			  uint16_t sport, uint16_t dport, uint16_t payload_len, uint8_t ecn)
{
	struct rte_ipv4_hdr *ip = (void *)(hdr + ETH_LEN);
	struct rte_udp_hdr *udp = (void *)(hdr + ETH_LEN + IP4_MIN_LEN);

	write_eth(hdr, src_mac, dst_mac, RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->type_of_service = ecn & RTE_IPV4_HDR_ECN_MASK;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(IP4_MIN_LEN + UDP_LEN + payload_len));
	ip->packet_id = 0; /* RFC 6864: an atomic datagram (DF, never fragmented) needs no ID */
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = REPLY_TTL;
	ip->next_proto_id = PROTO_UDP;
	ip->hdr_checksum = 0;
	ip->src_addr = src_ip;
	ip->dst_addr = dst_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(UDP_LEN + payload_len));
	udp->dgram_cksum = 0;
}

void fg_netpkt_write_udp6(uint8_t *hdr, const struct rte_ether_addr *src_mac,
			  const struct rte_ether_addr *dst_mac, const uint8_t src_ip[16],
			  const uint8_t dst_ip[16], uint16_t sport, uint16_t dport,
			  uint16_t payload_len, uint8_t ecn)
{
	struct rte_ipv6_hdr *ip = (void *)(hdr + ETH_LEN);
	struct rte_udp_hdr *udp = (void *)(hdr + ETH_LEN + IP6_LEN);
	uint32_t l4len = UDP_LEN + (uint32_t)payload_len;
	uint16_t c;

	write_eth(hdr, src_mac, dst_mac, RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)(ecn & 3) << RTE_IPV6_HDR_TC_SHIFT);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)l4len);
	ip->proto = PROTO_UDP;
	ip->hop_limits = REPLY_TTL;
	memcpy(ip->src_addr, src_ip, 16);
	memcpy(ip->dst_addr, dst_ip, 16);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)l4len);
	udp->dgram_cksum = 0;
	c = sum_final(sum_add(pseudo6(ip, PROTO_UDP, l4len), udp, l4len));
	/* RFC 768 / 8200: a computed zero is sent as all ones; zero means "none". */
	udp->dgram_cksum = c ? c : 0xffff;
}
