// SPDX-License-Identifier: MIT
/*
 * Software GSO for packets the host hands the TUN: the semantics of the kernel's
 * tcp_gso_segment / __udp_gso_segment (and of wireguard-go's tun/offload_linux.go) on a
 * super-packet read with its virtio-net header, producing the ≤ MTU inner packets the
 * tunnel carries. No state: the worker that read the packet calls it with its own
 * output buffers.
 */
#include "gso.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

enum {
	IPV4_MIN_HL = 20,
	IPV6_HL = 40,
	TCP_MIN_HL = 20,
	UDP_HL = 8,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	TCP_OFF_SEQ = 4,
	TCP_OFF_FLAGS = 13,
	TCP_OFF_CSUM = 16,
	UDP_OFF_LEN = 4,
	UDP_OFF_CSUM = 6,
	TCP_FIN = 0x01,
	TCP_PSH = 0x08,
	TCP_CWR = 0x80,
	IPV4_MF_OFFSET = 0x3fff,
	KNOWN_FLAGS = FG_VNET_F_NEEDS_CSUM | FG_VNET_F_DATA_VALID,
};

/* The parsed super-packet. */
struct super {
	const uint8_t *ip;
	uint32_t iplen;
	unsigned iphl;   /* IP header length */
	unsigned hl;     /* IP + L4 header length */
	uint8_t proto;
	bool v6;
};

static bool ipv6_ext_header(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 44: case 50: case 51: case 60: case 135: case 139: case 140:
	case 253: case 254:
		return true;
	default:
		return false;
	}
}

/* IP header; -EINVAL when short or when the length field does not match iplen. */
static int parse_ip(struct super *s)
{
	const uint8_t *ip = s->ip;

	if (s->iplen < IPV4_MIN_HL)
		return -EINVAL;
	if ((ip[0] >> 4) == 4) {
		s->v6 = false;
		s->iphl = (unsigned)(ip[0] & 0x0f) * 4;
		if (s->iphl < IPV4_MIN_HL || s->iphl > s->iplen || fg_vnet_get16(ip + 2) != s->iplen)
			return -EINVAL;
		s->proto = ip[9];
		return 0;
	}
	if ((ip[0] >> 4) == 6) {
		s->v6 = true;
		s->iphl = IPV6_HL;
		if (s->iplen < IPV6_HL || (uint32_t)fg_vnet_get16(ip + 4) + IPV6_HL != s->iplen)
			return -EINVAL;
		s->proto = ip[6];
		return 0;
	}
	return -EINVAL;
}

/*
 * Checks a non-GSO packet's csum_start / csum_offset against its own headers: the kernel
 * only ever asks for the checksum of the TCP or UDP header that follows the IP header
 * (IPv6 hop-by-hop, routing and destination options skipped), at offset 16 or 6. Anything
 * else would make the sum and the store below land in the IP header (its addresses).
 */
static int check_partial_csum(const struct super *s, uint32_t start, uint32_t offset)
{
	uint32_t l4 = s->iphl, want, min;
	uint8_t proto = s->proto;

	if (!s->v6 && (fg_vnet_get16(s->ip + 6) & IPV4_MF_OFFSET))
		return -EINVAL;
	while (s->v6 && (proto == 0 || proto == 43 || proto == 60)) {
		if (s->iplen - l4 < 8)
			return -EINVAL;
		proto = s->ip[l4];
		l4 += 8 + s->ip[l4 + 1] * 8u;
		if (l4 > s->iplen)
			return -EINVAL;
	}
	if (proto == PROTO_TCP) {
		want = TCP_OFF_CSUM;
		min = TCP_MIN_HL;
	} else if (proto == PROTO_UDP) {
		want = UDP_OFF_CSUM;
		min = UDP_HL;
	} else {
		return -EINVAL;
	}
	if (start != l4 || offset != want || s->iplen - l4 < min)
		return -EINVAL;
	return 0;
}

static int copy_plain(const struct fg_vnet_hdr *h, const struct super *s, unsigned limit,
		      uint8_t *const out[], uint16_t out_len[], unsigned max_out)
{
	if (s->iplen > limit)
		return -EMSGSIZE;
	if (max_out < 1)
		return -ENOSPC;
	memcpy(out[0], s->ip, s->iplen);
	out_len[0] = (uint16_t)s->iplen;
	if (h->flags & FG_VNET_F_NEEDS_CSUM) {
		uint32_t start = le16toh(h->csum_start), field = start + le16toh(h->csum_offset);

		if (check_partial_csum(s, start, le16toh(h->csum_offset)) < 0)
			return -EINVAL;
		uint16_t c = (uint16_t)~fg_csum_fold(fg_csum_add(0, out[0] + start, s->iplen - start));
		fg_vnet_put16(out[0] + field, c ? c : 0xffff);
	}
	return 1;
}

/* Checks the gso type against the packet and finds the L4 header length. */
static int parse_l4(struct super *s, unsigned type)
{
	const uint8_t *l4 = s->ip + s->iphl;
	uint32_t l4len = s->iplen - s->iphl;

	if (!s->v6 && (fg_vnet_get16(s->ip + 6) & IPV4_MF_OFFSET))
		return -EINVAL;
	if (s->v6 && ipv6_ext_header(s->proto))
		return -EPROTONOSUPPORT;
	switch (type) {
	case FG_VNET_GSO_TCPV4:
	case FG_VNET_GSO_TCPV6:
		if (s->v6 != (type == FG_VNET_GSO_TCPV6) || s->proto != PROTO_TCP ||
		    l4len < TCP_MIN_HL)
			return -EINVAL;
		s->hl = s->iphl + (unsigned)(l4[12] >> 4) * 4;
		if ((l4[12] >> 4) < 5 || s->hl > s->iplen)
			return -EINVAL;
		return 0;
	case FG_VNET_GSO_UDP_L4:
		if (s->proto != PROTO_UDP || l4len < UDP_HL || fg_vnet_get16(l4 + UDP_OFF_LEN) != l4len)
			return -EINVAL;
		s->hl = s->iphl + UDP_HL;
		return 0;
	default:
		return -EPROTONOSUPPORT;
	}
}

/* Writes segment k (payload [off, off + plen)) of the super-packet into o. */
static void build_segment(const struct super *s, uint8_t *o, unsigned k, unsigned nseg,
			  uint32_t off, uint32_t plen)
{
	uint32_t seglen = s->hl + plen, l4len = seglen - s->iphl;
	uint8_t *l4 = o + s->iphl;

	memcpy(o, s->ip, s->hl);
	memcpy(o + s->hl, s->ip + s->hl + off, plen);
	if (s->v6) {
		fg_vnet_put16(o + 4, (uint16_t)(seglen - IPV6_HL));
	} else {
		fg_vnet_put16(o + 2, (uint16_t)seglen);
		fg_vnet_put16(o + 4, (uint16_t)(fg_vnet_get16(s->ip + 4) + k));
		fg_csum_ipv4(o, s->iphl);
	}
	if (s->proto == PROTO_TCP) {
		fg_vnet_put32(l4 + TCP_OFF_SEQ, fg_vnet_get32(l4 + TCP_OFF_SEQ) + off);
		if (k > 0)
			l4[TCP_OFF_FLAGS] &= (uint8_t)~TCP_CWR;
		if (k + 1 < nseg)
			l4[TCP_OFF_FLAGS] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		l4[TCP_OFF_CSUM] = 0;
		l4[TCP_OFF_CSUM + 1] = 0;
		uint32_t sum = fg_csum_pseudo(o, s->v6, PROTO_TCP, l4len);
		fg_vnet_put16(l4 + TCP_OFF_CSUM, (uint16_t)~fg_csum_fold(fg_csum_add(sum, l4, l4len)));
	} else {
		fg_vnet_put16(l4 + UDP_OFF_LEN, (uint16_t)l4len);
		l4[UDP_OFF_CSUM] = 0;
		l4[UDP_OFF_CSUM + 1] = 0;
		uint32_t sum = fg_csum_pseudo(o, s->v6, PROTO_UDP, l4len);
		uint16_t c = (uint16_t)~fg_csum_fold(fg_csum_add(sum, l4, l4len));
		fg_vnet_put16(l4 + UDP_OFF_CSUM, c ? c : 0xffff);
	}
}

int fg_gso_split(const uint8_t *pkt, uint32_t len, uint16_t mtu, uint8_t *const out[],
		 uint16_t out_len[], unsigned max_out, unsigned out_cap)
{
	struct fg_vnet_hdr h;
	struct super s;
	unsigned limit = out_cap < mtu ? out_cap : mtu;
	int ret;

	if (!pkt || len < FG_VNET_HDR_LEN || len - FG_VNET_HDR_LEN > FG_VNET_IP_MAX)
		return -EINVAL;
	memcpy(&h, pkt, sizeof(h));
	if (h.flags & ~KNOWN_FLAGS)
		return -EINVAL;
	s.ip = pkt + FG_VNET_HDR_LEN;
	s.iplen = len - FG_VNET_HDR_LEN;
	ret = parse_ip(&s);
	if (ret < 0)
		return ret;
	if (h.gso_type == FG_VNET_GSO_NONE)
		return copy_plain(&h, &s, limit, out, out_len, max_out);

	unsigned type = h.gso_type & (unsigned)~FG_VNET_GSO_ECN;
	if ((h.gso_type & FG_VNET_GSO_ECN) && type == FG_VNET_GSO_UDP_L4)
		return -EINVAL;
	ret = parse_l4(&s, type);
	if (ret < 0)
		return ret;
	uint32_t gso_size = le16toh(h.gso_size);
	if (gso_size == 0)
		return -EINVAL;
	if (s.hl + gso_size > limit)
		return -EMSGSIZE;
	uint32_t payload = s.iplen - s.hl;
	uint32_t nseg = payload ? (payload + gso_size - 1) / gso_size : 1;
	if (nseg > max_out)
		return -ENOSPC;
	for (uint32_t k = 0, off = 0; k < nseg; k++, off += gso_size) {
		uint32_t plen = payload - off < gso_size ? payload - off : gso_size;

		build_segment(&s, out[k], k, nseg, off, plen);
		out_len[k] = (uint16_t)(s.hl + plen);
	}
	return (int)nseg;
}
