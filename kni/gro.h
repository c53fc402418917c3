/* SPDX-License-Identifier: MIT */
/*
 * Coalescing of decrypted inner packets before they are written to the host TUN
 * (IFF_VNET_HDR, TSO offloads on): consecutive segments of one TCP flow in a burst become
 * one super-packet with a virtio-net header, so the host pays one TUN write per ~64 KiB
 * instead of one per packet; with USO on, consecutive equal-size datagrams of one UDP
 * flow likewise. Nothing is copied: an item is the virtio-net header, rebuilt
 * headers in the item, and the payloads still in the caller's packets, handed to writev().
 * Stateless between calls; the caller (a worker) provides every array.
 */
#ifndef FG_GRO_H
#define FG_GRO_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/uio.h>

#include "vnet.h"

enum {
	FG_GRO_MAX_SEGS = 64,            /* segments in one super-packet */
	FG_GRO_IOV_MAX = FG_GRO_MAX_SEGS + 2,
	FG_GRO_HEAD_MAX = 104,           /* IPv6 + TCP with 60 bytes of header (IPv4: no options) */
	FG_GRO_FLOWS_MAX = 256,          /* TCP and UDP flows tracked per call; more pass through */
	FG_GRO_END = UINT16_MAX,         /* end of a next[] chain */
};

/* fg_gro_coalesce_ex() flags: which UDP families may be coalesced (TUN_F_USO4 / USO6). */
enum {
	FG_GRO_UDP4 = 0x1,
	FG_GRO_UDP6 = 0x2,
};

/*
 * One TUN write. Pass-through (count == 1): vnet is all zero and the data is the original
 * packet, lens[first] bytes. Super-packet (count > 1): vnet says GSO TCPV4/TCPV6 (+ECN when
 * the first segment has CWR), gso_size = the first segment's payload, hdr_len = head_len,
 * NEEDS_CSUM with csum_start = the IP header length and csum_offset = 16; the data is
 * head[0..head_len) (the first segment's IP and TCP headers with the total length, a fresh
 * IPv4 header checksum, PSH from the last segment and the pseudo-header sum seeded in the
 * TCP checksum field, as a TUN write with NEEDS_CSUM expects) followed by the payload of
 * each segment along the next[] chain from first. fg_gro_iov() lays it out.
 */
struct fg_gro_item {
	struct fg_vnet_hdr vnet;
	uint16_t first;      /* index in pkts[] of the item's first packet */
	uint16_t count;      /* packets in the item */
	uint32_t len;        /* bytes after the virtio-net header */
	uint16_t head_len;   /* super-packet: bytes of head[] */
	/* Merge state, private to gro.c. */
	uint16_t last;
	uint16_t seg_size;
	bool open;
	bool psh;
	bool udp;
	uint32_t next_seq;
	uint8_t head[FG_GRO_HEAD_MAX];
};

/*
 * Coalesces pkts[0..n) (inner IP packets in arrival order, lens[i] bytes each; n at most
 * FG_GRO_END) into items[0..ret), ret <= n, in the order of each item's first packet.
 * next[] (n entries) receives the chains. A packet joins the latest item of its flow (same
 * addresses and ports) only when: both are IPv4 without options or fragmentation, or IPv6
 * with TCP as next header; TOS / traffic class and flow label, TTL / hop limit and DF are
 * equal; its sequence number follows the item's last byte; ACK number, flags (SYN, FIN,
 * RST, URG, CWR never merge; PSH merges and closes the item), window and TCP options are
 * byte-equal to the first segment's; its payload is non-empty and no larger than the first
 * segment's (a shorter one closes the item); an IPv4 id follows the previous one when DF
 * is clear; and the item stays within FG_GRO_MAX_SEGS segments and FG_VNET_IP_MAX bytes.
 * Any other packet of the flow starts a new item, so a flow is never reordered; packets of
 * different flows keep their arrival order except that a super-packet sits at its first
 * segment's place. A packet whose transport header cannot be located (IPv6 extension
 * headers, IPv4 fragments of TCP) closes every open item before it. Inner checksums are
 * not verified: the AEAD already authenticated the packets (the kernel's WireGuard marks
 * them CHECKSUM_UNNECESSARY likewise).
 */
unsigned fg_gro_coalesce(const uint8_t *const pkts[], const uint16_t lens[], unsigned n,
			 struct fg_gro_item items[], uint16_t next[]);

/*
 * fg_gro_coalesce() with UDP as well, for the families in flags (FG_GRO_UDP4 and / or
 * FG_GRO_UDP6; pass only those whose TUN_F_USO* the TUN accepted; 0 is fg_gro_coalesce).
 * A datagram of such a family joins the latest item of its flow (same addresses, ports
 * and protocol) only when: the IP rules above hold (IPv4 without options or fragmentation,
 * IPv6 with UDP as next header, equal TOS / traffic class and flow label, TTL / hop limit,
 * DF, IPv4 id following when DF is clear); its UDP length matches the IP length, its
 * checksum is not zero, its payload is non-empty and no larger than the first datagram's
 * (a shorter one closes the item); and the item stays within FG_GRO_MAX_SEGS datagrams and
 * FG_VNET_IP_MAX bytes. Its super-packet has gso_type UDP_L4, gso_size = the first payload,
 * hdr_len = head_len = IP header + 8, NEEDS_CSUM with csum_start = the IP header length and
 * csum_offset = 6; head[] holds the first datagram's headers with the IP and UDP lengths
 * of the whole, a fresh IPv4 header checksum and the pseudo-header sum in the UDP checksum
 * field. An IPv4 UDP fragment of an enabled family closes every open item before it.
 */
unsigned fg_gro_coalesce_ex(const uint8_t *const pkts[], const uint16_t lens[], unsigned n,
			    struct fg_gro_item items[], uint16_t next[], unsigned flags);

/*
 * Fills iov[] (FG_GRO_IOV_MAX entries at most) for one item and returns the count: the
 * virtio-net header, then the packet (pass-through) or head[] and the payloads.
 */
unsigned fg_gro_iov(const struct fg_gro_item *it, const uint8_t *const pkts[],
		    const uint16_t lens[], const uint16_t next[], struct iovec iov[]);

#endif
