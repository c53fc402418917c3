/* SPDX-License-Identifier: MIT */
/*
 * Outer (Ethernet/IPv4/IPv6/UDP, ARP, ND, ICMP echo) and inner (decrypted IP) packet parsing
 * and building on plain byte buffers. Called per packet by the worker lcores and by the
 * service lcore for ARP/ND: no allocation, no logging, no syscalls, no EAL. The module holds
 * no state; struct fg_netpkt_local is written by the service lcore at start-up and only read
 * afterwards. Frames must start at an even address (mbuf data always does), because
 * Ethernet and ARP headers are read through DPDK's 2-byte-aligned structs.
 */
#ifndef FG_NETPKT_H
#define FG_NETPKT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "addr.h"
#include "counters.h"

enum fg_netpkt_len {
	FG_NETPKT_UDP4_HDR_LEN = 42,  /* Ethernet + IPv4 + UDP */
	FG_NETPKT_UDP6_HDR_LEN = 62,  /* Ethernet + IPv6 + UDP */
	FG_NETPKT_ARP_FRAME_LEN = 60, /* padded to the Ethernet minimum */
	FG_NETPKT_ND_FRAME_LEN = 86,  /* Ethernet + IPv6 + NS/NA + one link-layer option */
	FG_NETPKT_STUN_PORT = 3478,
	FG_NETPKT_CHANNEL_HDR_LEN = 4, /* ChannelData: channel number, length (RFC 8656 §12.4) */
};

/* The data plane's own outer identity; read-only on the workers. */
struct fg_netpkt_local {
	struct rte_ether_addr mac;
	uint32_t ip4;        /* network order; 0 = no IPv4 on the outer side */
	uint8_t ip6[16];
	bool has_ip6;
	uint16_t listen_port; /* host order */
	/* IPv4 only: do not verify the UDP checksum of WireGuard data messages (type 4), bare
	 * or inside ChannelData from port 3478. The Poly1305 tag authenticates the payload, the
	 * nonce and (through the keypair) the receiver index, so a corrupted datagram fails
	 * decryption and is counted there; the IPv4 header checksum, always verified, covers
	 * the addresses the UDP pseudo-header would. The ChannelData length must still agree
	 * with the UDP length; a corrupted channel number either names no bound channel (a
	 * drop) or another channel of the same relay, which the peer's next packet corrects
	 * (roaming follows the last authenticated packet). IPv6 has no header checksum: its
	 * UDP checksum is always verified. Saves a pass over every packet (about 580 cycles at
	 * 1420 bytes). */
	bool aead_covers_udp4;
};

enum fg_outer_kind {
	FG_OUTER_DROP,
	FG_OUTER_ARP,  /* Ethernet/IPv4 ARP whose target is our IPv4 address: punt */
	FG_OUTER_ND,   /* ICMPv6 RA, NS for our address, NA (hop limit 255): punt */
	FG_OUTER_ECHO, /* ICMP or ICMPv6 echo request to our unicast address */
	FG_OUTER_UDP,  /* UDP to our address and listen port, checksum verified */
};

/*
 * What fg_netpkt_parse_outer() found. For FG_OUTER_UDP the payload is the UDP payload; for
 * ECHO and ND it is the whole ICMP message (l4_off == payload_off); for ARP it is the 28-byte
 * ARP message (l3_off == l4_off == payload_off). src.port is 0 except for UDP. Undefined
 * after FG_OUTER_DROP.
 */
struct fg_outer_info {
	uint8_t family;       /* AF_INET or AF_INET6 */
	uint8_t ecn;          /* outer ECN bits (0..3) */
	uint16_t l3_off, l4_off, payload_off, payload_len;
	struct fg_endpoint src;
	struct fg_ip dst;
	uint16_t channel;     /* 0; the ChannelData channel once fg_netpkt_enter_channel() ran */
};

/*
 * Classifies one received frame. Untagged Ethernet only (VLAN/QinQ give ETHERTYPE). The
 * destination MAC must be ours, except broadcast for ARP and multicast for ND. IPv4: version,
 * IHL >= 5, header <= total length <= frame (trailing Ethernet padding allowed), header
 * checksum, destination ours, no fragment, source not class D/E. IPv6: payload length within
 * the frame, destination ours (or solicited-node / all-nodes multicast for ND), source not
 * multicast, next header UDP or ICMPv6 only (no extension headers). UDP: length equal to the
 * IP payload, source port nonzero, destination port = listen_port, checksum verified when
 * nonzero on IPv4 and always on IPv6 (zero is a UDP_CHECKSUM drop there). ICMP checksums are
 * verified. Always sets *reason: FG_DROP_NONE unless the result is FG_OUTER_DROP.
 */
enum fg_outer_kind fg_netpkt_parse_outer(const uint8_t *frame, uint32_t len,
					 const struct fg_netpkt_local *local,
					 struct fg_outer_info *out, enum fg_drop *reason);
/* What the NIC verified already (its RX checksum flags, which the port asks for where the
 * PMD offers them): the IPv4 header checksum, the UDP checksum. */
enum fg_netpkt_hw {
	FG_NETPKT_HW_IP_CSUM_GOOD = 1u << 0,
	FG_NETPKT_HW_L4_CSUM_GOOD = 1u << 1,
};
/* The same, skipping each software checksum the NIC vouched for in hw (a zero UDP checksum
 * over IPv6 is refused all the same). */
enum fg_outer_kind fg_netpkt_parse_outer_hw(const uint8_t *frame, uint32_t len,
					    const struct fg_netpkt_local *local, unsigned hw,
					    struct fg_outer_info *out, enum fg_drop *reason);

enum fg_demux {
	FG_DEMUX_DROP,
	FG_DEMUX_WG_INITIATION,
	FG_DEMUX_WG_RESPONSE,
	FG_DEMUX_WG_COOKIE,
	FG_DEMUX_WG_DATA,
	FG_DEMUX_STUN,
	FG_DEMUX_CHANNEL_DATA,
};

/*
 * Demultiplexes a UDP payload that arrived on the listen port (reference §5.1), in order:
 *  1. from source port 3478: a well-formed STUN message (first byte 0..0x3f: the top
 *     two bits zero, RFC 8489; magic cookie,
 *     length field == len - 20, multiple of 4) -> STUN; first byte 0x40..0x4F with
 *     len == 4 + length field, or that rounded up to 4 -> CHANNEL_DATA, any other length
 *     of at least 4 bytes -> CHANNEL_MALFORMED (no WireGuard message starts so);
 *  2. from any port: a well-formed STUN message of method Binding -> STUN;
 *  3. otherwise WireGuard: len >= 4, type byte 1..4 with three zero reserved bytes, else
 *     WG_TYPE; exact lengths 148 / 92 / 64, data >= 32, else WG_LENGTH (len < 4 is WG_LENGTH).
 * A malformed STUN message falls through to step 3 (so a WireGuard peer whose port happens
 * to be 3478 still works). Data messages are NOT required to be a multiple of 16 past the
 * header: the whitepaper's padding is capped at the sender's MTU and boringtun (the
 * Firezone clients) does not pad at all. Sets *reason only for FG_DEMUX_DROP.
 */
enum fg_demux fg_netpkt_demux(const uint8_t *payload, uint32_t len, uint16_t src_port,
			      enum fg_drop *reason);

/* The application data of a ChannelData message (fg_netpkt_demux() said CHANNEL_DATA for
 * the payload at info->payload_off): info->channel becomes its channel number and the
 * payload its data, the length from its header (padding dropped). info->src stays the relay. */
static inline void fg_netpkt_enter_channel(const uint8_t *frame, struct fg_outer_info *info)
{
	const uint8_t *p = frame + info->payload_off;

	info->channel = (uint16_t)(p[0] << 8 | p[1]);
	info->payload_off = (uint16_t)(info->payload_off + FG_NETPKT_CHANNEL_HDR_LEN);
	info->payload_len = (uint16_t)(p[2] << 8 | p[3]);
}

/* Demultiplexes the data of a ChannelData message: as a datagram from a peer (steps 2 and
 * 3 above; source port 0 is never 3478), so a channel carries STUN Binding (ICE through
 * the relay) and WireGuard, never ChannelData or the relay's own STUN. */
static inline enum fg_demux fg_netpkt_demux_channel(const uint8_t *payload, uint32_t len, enum fg_drop *reason)
{
	return fg_netpkt_demux(payload, len, 0, reason);
}

/*
 * Turns an FG_OUTER_ECHO frame into its echo reply in place: MACs and IPs swapped, type
 * 0 / 129, TTL / hop limit 64, checksums recomputed. The frame keeps its length.
 */
void fg_netpkt_echo_reply(uint8_t *frame, const struct fg_outer_info *in);

/* Ethernet/IPv4 ARP. op is host order; addresses are network order. */
struct fg_arp {
	uint16_t op;
	struct rte_ether_addr sha, tha;
	uint32_t sip, tip;
};

/* 0, or -EINVAL unless an Ethernet/IPv4 ARP request or reply fits in len. */
int fg_netpkt_arp_parse(const uint8_t *frame, uint32_t len, struct fg_arp *out);
/* Writes a complete zero-padded ARP frame (frame >= 60 bytes). Returns 60. */
uint32_t fg_netpkt_arp_build(uint8_t *frame, uint16_t op, const struct rte_ether_addr *eth_dst,
			     const struct rte_ether_addr *sha, uint32_t sip,
			     const struct rte_ether_addr *tha, uint32_t tip);

enum fg_nd_type {
	FG_ND_ROUTER_ADVERT = 134,
	FG_ND_NEIGH_SOLICIT = 135,
	FG_ND_NEIGH_ADVERT = 136,
};

enum fg_nd_flag {
	FG_ND_FLAG_ROUTER = 0x80,
	FG_ND_FLAG_SOLICITED = 0x40,
	FG_ND_FLAG_OVERRIDE = 0x20,
};

/* A neighbour solicitation or advertisement. */
struct fg_nd {
	uint8_t type;                 /* FG_ND_NEIGH_SOLICIT or FG_ND_NEIGH_ADVERT */
	uint8_t flags;                /* enum fg_nd_flag, NA only */
	uint8_t target[16];
	uint8_t src_ip[16];           /* :: for a duplicate address detection probe */
	bool has_lladdr;              /* source (NS) or target (NA) link-layer option */
	struct rte_ether_addr lladdr;
};

/*
 * Parses an NS or NA frame: untagged IPv6, no extension headers, hop limit 255, code 0,
 * ICMPv6 checksum, target not multicast, well-formed options (none of length 0). Returns 0
 * or -EINVAL.
 */
int fg_netpkt_nd_parse(const uint8_t *frame, uint32_t len, struct fg_nd *out);
/*
 * Writes an NA (solicited, override) for local->ip6 with our link-layer address, to dst_ip /
 * dst_mac; an unspecified dst_ip (a DAD probe) answers all-nodes, unsolicited. frame >= 86
 * bytes. Returns 86.
 */
uint32_t fg_netpkt_nd_build_na(uint8_t *frame, const struct fg_netpkt_local *local,
			       const uint8_t dst_ip[16], const struct rte_ether_addr *dst_mac);
/* Writes an NS for target to its solicited-node multicast group. frame >= 86. Returns 86. */
uint32_t fg_netpkt_nd_build_ns(uint8_t *frame, const struct fg_netpkt_local *local,
			       const uint8_t target[16]);

/*
 * Write Ethernet + IPv4 + UDP (42 bytes) or Ethernet + IPv6 + UDP (62 bytes) at hdr, in
 * front of a payload_len-byte payload that already lies at hdr + 42 / hdr + 62. IPv4: DF,
 * ID 0, TTL 64, header checksum, UDP checksum 0. IPv6: hop limit 64, UDP checksum over the
 * payload. ecn goes to the low two bits of the traffic class (DSCP 0). Addresses are network
 * order, ports host order; payload_len must leave the IP length within 16 bits.
 */
void fg_netpkt_write_udp4(uint8_t *hdr, const struct rte_ether_addr *src_mac,
			  const struct rte_ether_addr *dst_mac, uint32_t src_ip, uint32_t dst_ip,
			  uint16_t sport, uint16_t dport, uint16_t payload_len, uint8_t ecn);
void fg_netpkt_write_udp6(uint8_t *hdr, const struct rte_ether_addr *src_mac,
			  const struct rte_ether_addr *dst_mac, const uint8_t src_ip[16],
			  const uint8_t dst_ip[16], uint16_t sport, uint16_t dport,
			  uint16_t payload_len, uint8_t ecn);

/* A decrypted IP packet (inner.c). */
struct fg_inner_info {
	uint8_t family;     /* AF_INET or AF_INET6 */
	uint8_t proto;      /* IPv4 protocol / first IPv6 next header */
	uint8_t ecn;
	uint16_t total_len; /* from the IP header: strips WireGuard padding */
	struct fg_ip src, dst;
	/* The upper layer, for the policy and the connection table. l4_ok: the IPv6 extension
	 * chain and the TCP (20), UDP (8) or ICMP (8) header fit in total_len (a non-first
	 * fragment has none to fit); the fields below it are valid only then. */
	bool l4_ok;
	uint8_t l4_proto;   /* after the IPv6 extension headers */
	bool frag;          /* a non-first fragment: no upper-layer header */
	bool icmp_error;    /* ICMP(v6) error message */
	uint16_t l4_off;    /* where the upper-layer header starts */
	uint16_t sport, dport; /* TCP/UDP ports (host order); 0 otherwise */
};

/*
 * FG_DROP_NONE or FG_DROP_INNER_MALFORMED. IPv4: len >= 20, IHL >= 5, IHL * 4 <=
 * total_length <= len. IPv6: len >= 40, 40 + payload_length <= len. Any other version is
 * malformed. A zero-length plaintext (a keepalive) is the caller's to recognise first; here it
 * is malformed. A packet whose upper layer is cut short is not malformed here (cryptokey
 * routing does not look at it) but has l4_ok false, which a policy refuses.
 */
enum fg_drop fg_netpkt_parse_inner(const uint8_t *pkt, uint32_t len, struct fg_inner_info *out);

#endif
