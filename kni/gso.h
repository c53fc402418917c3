/* SPDX-License-Identifier: MIT */
/*
 * Segmentation of what the host writes into the TUN (IFF_VNET_HDR with TSO/USO offloads):
 * one packet as read, virtio-net header first, becomes one or more inner IP packets no
 * larger than the tunnel MTU, each complete with its own lengths and checksums, ready to
 * be encrypted. Stateless and pure: it runs on the worker that read the packet, writes
 * only into the caller's buffers, never allocates, logs or calls the kernel.
 */
#ifndef FG_GSO_H
#define FG_GSO_H

#include <stdint.h>

#include "vnet.h"

/*
 * Splits pkt (len bytes: the 10-byte virtio-net header, then one IP packet whose length
 * field matches exactly) into segments of at most min(mtu, out_cap) bytes written to
 * out[0..ret), out_len[i] set. Segments come out in sequence order: N of full size
 * (headers + gso_size) and at most one shorter one, last.
 *
 * GSO TCPV4 / TCPV6 (ECN flag allowed): the IP and TCP headers (options included) are
 * copied to every segment; IPv4 total length and id (+1 per segment) and header checksum,
 * IPv6 payload length, TCP sequence number advanced by the payload before it, CWR kept on
 * the first segment only, FIN and PSH on the last only, TCP checksum computed in full.
 * GSO UDP_L4 (USO, either family): UDP length and checksum per datagram (0 sent as
 * 0xffff), IPv4 id +1 per datagram. The kernel's hdr_len, csum_start and csum_offset are
 * not trusted for GSO packets: headers are parsed and checksums computed from scratch.
 * GSO NONE: the packet is copied to out[0]; with NEEDS_CSUM the one's-complement sum
 * from csum_start to the end (the field holding the kernel's seed) is stored, complemented,
 * at csum_start + csum_offset, as the kernel's skb_checksum_help does. Those two are
 * checked against the packet: csum_start must be where its TCP or UDP header starts
 * (after any IPv6 hop-by-hop, routing or destination options) and csum_offset 16 or 6.
 *
 * Returns the number of segments (>= 1) or:
 *   -EINVAL           malformed: short, IP length field != len - 10, unknown vnet flags,
 *                     gso_size 0, gso type not matching the IP version / protocol,
 *                     IPv4 fragment, bad TCP data offset or UDP length, NEEDS_CSUM
 *                     with csum_start / csum_offset not at the TCP or UDP checksum
 *   -EPROTONOSUPPORT  unknown gso type, UFO, an IPv6 extension header before TCP/UDP
 *   -EMSGSIZE         headers + gso_size (or a non-GSO packet) over min(mtu, out_cap)
 *   -ENOSPC           more segments than max_out
 * On error the contents of out[] are unspecified.
 */
int fg_gso_split(const uint8_t *pkt, uint32_t len, uint16_t mtu, uint8_t *const out[],
		 uint16_t out_len[], unsigned max_out, unsigned out_cap);

#endif
