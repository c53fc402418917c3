// SPDX-License-Identifier: MIT
/*
 * Software GRO toward the host TUN: the merge rules of the kernel's tcp_gro_receive
 * (and of wireguard-go's tun/offload_linux.go) applied to one burst of decrypted inner
 * packets, and the rules of udp_gro_receive_segment to UDP datagrams when the TUN takes
 * USO. A small open-addressed table on the stack maps each TCP or UDP flow to its latest
 * item, which is the only one a packet of that flow may extend; that is what keeps every
 * flow in order. Nothing survives the call: the worker owns all the arrays.
 */
#include "gro.h"

#include <string.h>

enum {
	IPV4_HL = 20,
	IPV6_HL = 40,
	TCP_MIN_HL = 20,
	UDP_HL = 8,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	UDP_OFF_LEN = 4,
	UDP_OFF_CSUM = 6,
	TCP_OFF_SEQ = 4,
	TCP_OFF_ACK = 8,
	TCP_OFF_DOFF = 12,
	TCP_OFF_FLAGS = 13,
	TCP_OFF_WIN = 14,
	TCP_OFF_CSUM = 16,
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_URG = 0x20,
	TCP_CWR = 0x80,
	NO_MERGE = TCP_SYN | TCP_FIN | TCP_RST | TCP_URG,
	IPV4_DF = 0x40,
	IPV4_MF_OFFSET = 0x3fff,
	TABLE_SIZE = 2 * FG_GRO_FLOWS_MAX,  /* load factor <= 1/2 */
};

enum kind {
	OTHER,    /* neither TCP nor enabled UDP: passes through, no flow */
	FLOW,     /* TCP or enabled UDP with its header located */
	BARRIER,  /* possibly TCP or enabled UDP, header not located: closes every open item */
};

/* A classified packet. */
struct pinfo {
	const uint8_t *ip;
	const uint8_t *tcp;  /* the TCP or UDP header */
	uint32_t iplen;     /* from the IP header (<= lens[i]: WireGuard padding may follow) */
	uint32_t payload;
	unsigned iphl;
	unsigned hl;
	bool v6;
	bool udp;
	bool mergeable;     /* IPv4 without options, payload; TCP: no SYN/FIN/RST/URG; UDP:
			       length field right, checksum not zero */
};

static bool ipv6_ext_header(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 44: case 51: case 60: case 135: case 139: case 140: case 253:
	case 254:
		return true;
	default:
		return false;
	}
}

/* Whether proto is coalesced: TCP always, UDP when its family is in flags. */
static bool wanted(uint8_t proto, bool v6, unsigned flags)
{
	if (proto == PROTO_TCP)
		return true;
	return proto == PROTO_UDP && (flags & (v6 ? FG_GRO_UDP6 : FG_GRO_UDP4));
}

static enum kind classify_udp(struct pinfo *pi)
{
	if (pi->iplen < pi->iphl + UDP_HL)
		return BARRIER;
	pi->udp = true;
	pi->hl = pi->iphl + UDP_HL;
	pi->payload = pi->iplen - pi->hl;
	pi->mergeable = (pi->v6 || pi->iphl == IPV4_HL) && pi->payload > 0 &&
			fg_vnet_get16(pi->tcp + UDP_OFF_LEN) == pi->iplen - pi->iphl &&
			fg_vnet_get16(pi->tcp + UDP_OFF_CSUM) != 0;
	return FLOW;
}

static enum kind classify(const uint8_t *p, uint16_t len, unsigned flags, struct pinfo *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->ip = p;
	if (len >= IPV4_HL && (p[0] >> 4) == 4) {
		if (!wanted(p[9], false, flags))
			return OTHER;
		pi->iphl = (unsigned)(p[0] & 0x0f) * 4;
		pi->iplen = fg_vnet_get16(p + 2);
		if (fg_vnet_get16(p + 6) & IPV4_MF_OFFSET)
			return BARRIER;
	} else if (len >= IPV6_HL && (p[0] >> 4) == 6) {
		if (ipv6_ext_header(p[6]))
			return BARRIER;
		if (!wanted(p[6], true, flags))
			return OTHER;
		pi->v6 = true;
		pi->iphl = IPV6_HL;
		pi->iplen = fg_vnet_get16(p + 4) + (uint32_t)IPV6_HL;
	} else {
		return OTHER;
	}
	if (pi->iphl < IPV4_HL || pi->iplen > len)
		return BARRIER;
	pi->tcp = p + pi->iphl;
	if ((pi->v6 ? p[6] : p[9]) == PROTO_UDP)
		return classify_udp(pi);
	if (pi->iplen < pi->iphl + TCP_MIN_HL)
		return BARRIER;
	pi->hl = pi->iphl + (unsigned)(pi->tcp[TCP_OFF_DOFF] >> 4) * 4;
	if (pi->hl < pi->iphl + TCP_MIN_HL || pi->hl > pi->iplen)
		return BARRIER;
	pi->payload = pi->iplen - pi->hl;
	pi->mergeable = (pi->v6 || pi->iphl == IPV4_HL) && pi->payload > 0 &&
			pi->hl <= FG_GRO_HEAD_MAX && !(pi->tcp[TCP_OFF_FLAGS] & NO_MERGE);
	return FLOW;
}

static uint32_t flow_hash(const struct pinfo *pi)
{
	const uint8_t *addr = pi->v6 ? pi->ip + 8 : pi->ip + 12;
	unsigned alen = pi->v6 ? 32 : 8;
	uint32_t h = (2166136261u ^ (uint32_t)pi->udp) * 16777619u;  /* FNV-1a */

	for (unsigned i = 0; i < alen; i++)
		h = (h ^ addr[i]) * 16777619u;
	for (unsigned i = 0; i < 4; i++)
		h = (h ^ pi->tcp[i]) * 16777619u;
	return h;
}

/* Same addresses, protocol and ports; the version is implied by equal header offsets. */
static bool same_flow(const struct pinfo *a, const uint8_t *b)
{
	if (a->v6 != ((b[0] >> 4) == 6) || a->ip[a->v6 ? 6 : 9] != b[a->v6 ? 6 : 9])
		return false;
	if (a->v6)
		return memcmp(a->ip + 8, b + 8, 32) == 0 &&
		       memcmp(a->tcp, b + IPV6_HL, 4) == 0;
	unsigned bhl = (unsigned)(b[0] & 0x0f) * 4;
	return memcmp(a->ip + 12, b + 12, 8) == 0 && memcmp(a->tcp, b + bhl, 4) == 0;
}

static bool can_merge(const struct fg_gro_item *it, const uint8_t *f, const struct pinfo *p)
{
	const uint8_t *ft = f + p->iphl, *t = p->tcp;

	if (!p->mergeable || (!p->udp && (t[TCP_OFF_FLAGS] & TCP_CWR)) ||
	    it->count >= FG_GRO_MAX_SEGS || p->payload > it->seg_size ||
	    it->len + p->payload > FG_VNET_IP_MAX)
		return false;
	if (p->v6) {
		if (memcmp(p->ip, f, 4) != 0 || p->ip[7] != f[7])
			return false;
	} else {
		if ((f[0] & 0x0f) != 5 || p->ip[1] != f[1] || p->ip[8] != f[8] ||
		    ((p->ip[6] ^ f[6]) & IPV4_DF))
			return false;
		if (!(f[6] & IPV4_DF) &&
		    fg_vnet_get16(p->ip + 4) != (uint16_t)(fg_vnet_get16(f + 4) + it->count))
			return false;
	}
	if (p->udp)
		return true;
	if (fg_vnet_get32(t + TCP_OFF_SEQ) != it->next_seq ||
	    memcmp(t + TCP_OFF_ACK, ft + TCP_OFF_ACK, 4) != 0 ||
	    t[TCP_OFF_DOFF] != ft[TCP_OFF_DOFF] ||
	    (t[TCP_OFF_FLAGS] & ~TCP_PSH) != (ft[TCP_OFF_FLAGS] & ~(TCP_PSH | TCP_CWR)) ||
	    memcmp(t + TCP_OFF_WIN, ft + TCP_OFF_WIN, 2) != 0)
		return false;
	return memcmp(t + TCP_MIN_HL, ft + TCP_MIN_HL, p->hl - p->iphl - TCP_MIN_HL) == 0;
}

static void start_item(struct fg_gro_item *it, unsigned i, uint16_t len, const struct pinfo *p,
		       bool tracked)
{
	memset(it, 0, offsetof(struct fg_gro_item, head));
	it->first = (uint16_t)i;
	it->last = (uint16_t)i;
	it->count = 1;
	it->len = len;
	if (!p || !p->mergeable || !tracked)
		return;
	it->len = p->iplen;
	it->seg_size = (uint16_t)p->payload;
	it->udp = p->udp;
	if (p->udp) {
		it->open = true;
		return;
	}
	it->next_seq = fg_vnet_get32(p->tcp + TCP_OFF_SEQ) + p->payload;
	it->psh = p->tcp[TCP_OFF_FLAGS] & TCP_PSH;
	it->open = !it->psh;
}

static void merge(struct fg_gro_item *it, unsigned i, uint16_t next[], const struct pinfo *p)
{
	next[it->last] = (uint16_t)i;
	it->last = (uint16_t)i;
	it->count++;
	it->len += p->payload;
	if (p->payload < it->seg_size)
		it->open = false;
	if (p->udp)
		return;
	it->next_seq += p->payload;
	it->psh = p->tcp[TCP_OFF_FLAGS] & TCP_PSH;
	if (it->psh)
		it->open = false;
}

/* Turns a multi-segment item into its super-packet headers and virtio-net header. */
static void finish(struct fg_gro_item *it, const uint8_t *f)
{
	bool v6 = (f[0] >> 4) == 6;
	unsigned iphl = v6 ? IPV6_HL : IPV4_HL;
	unsigned hl = it->udp ? iphl + UDP_HL : iphl + (unsigned)(f[iphl + TCP_OFF_DOFF] >> 4) * 4;
	uint8_t *h = it->head, *t = h + iphl;

	memcpy(h, f, hl);
	if (v6) {
		fg_vnet_put16(h + 4, (uint16_t)(it->len - IPV6_HL));
	} else {
		fg_vnet_put16(h + 2, (uint16_t)it->len);
		fg_csum_ipv4(h, IPV4_HL);
	}
	it->head_len = (uint16_t)hl;
	it->vnet.flags = FG_VNET_F_NEEDS_CSUM;
	it->vnet.hdr_len = htole16((uint16_t)hl);
	it->vnet.gso_size = htole16(it->seg_size);
	it->vnet.csum_start = htole16((uint16_t)iphl);
	if (it->udp) {
		fg_vnet_put16(t + UDP_OFF_LEN, (uint16_t)(it->len - iphl));
		uint16_t useed = fg_csum_fold(fg_csum_pseudo(h, v6, PROTO_UDP, it->len - iphl));
		fg_vnet_put16(t + UDP_OFF_CSUM, useed);
		it->vnet.gso_type = FG_VNET_GSO_UDP_L4;
		it->vnet.csum_offset = htole16(UDP_OFF_CSUM);
		return;
	}
	if (it->psh)
		t[TCP_OFF_FLAGS] |= TCP_PSH;
	uint16_t seed = fg_csum_fold(fg_csum_pseudo(h, v6, PROTO_TCP, it->len - iphl));
	fg_vnet_put16(t + TCP_OFF_CSUM, seed);
	it->vnet.gso_type = v6 ? FG_VNET_GSO_TCPV6 : FG_VNET_GSO_TCPV4;
	if (t[TCP_OFF_FLAGS] & TCP_CWR)
		it->vnet.gso_type |= FG_VNET_GSO_ECN;
	it->vnet.csum_offset = htole16(TCP_OFF_CSUM);
}

unsigned fg_gro_coalesce(const uint8_t *const pkts[], const uint16_t lens[], unsigned n,
			 struct fg_gro_item items[], uint16_t next[])
{
	return fg_gro_coalesce_ex(pkts, lens, n, items, next, 0);
}

unsigned fg_gro_coalesce_ex(const uint8_t *const pkts[], const uint16_t lens[], unsigned n,
			    struct fg_gro_item items[], uint16_t next[], unsigned flags)
{
	uint16_t table[TABLE_SIZE];  /* item index + 1 of each flow's latest item; 0: free */
	unsigned nitems = 0, barrier = 0, flows = 0;

	if (n > FG_GRO_END)
		n = FG_GRO_END;
	memset(table, 0, sizeof(table));
	for (unsigned i = 0; i < n; i++) {
		struct pinfo p;
		enum kind k = classify(pkts[i], lens[i], flags, &p);

		next[i] = FG_GRO_END;
		if (k != FLOW) {
			if (k == BARRIER)
				barrier = nitems + 1;
			start_item(&items[nitems++], i, lens[i], NULL, false);
			continue;
		}
		unsigned slot = flow_hash(&p) & (TABLE_SIZE - 1);
		while (table[slot] && !same_flow(&p, pkts[items[table[slot] - 1].first]))
			slot = (slot + 1) & (TABLE_SIZE - 1);
		if (table[slot]) {
			struct fg_gro_item *it = &items[table[slot] - 1];
			if (table[slot] - 1u >= barrier && it->open &&
			    can_merge(it, pkts[it->first], &p)) {
				merge(it, i, next, &p);
				continue;
			}
		} else if (flows < FG_GRO_FLOWS_MAX) {
			flows++;
		} else {
			start_item(&items[nitems++], i, lens[i], &p, false);
			continue;
		}
		table[slot] = (uint16_t)(nitems + 1);
		start_item(&items[nitems++], i, lens[i], &p, true);
	}
	for (unsigned j = 0; j < nitems; j++) {
		struct fg_gro_item *it = &items[j];
		if (it->count > 1)
			finish(it, pkts[it->first]);
		else
			it->len = lens[it->first];
	}
	return nitems;
}

unsigned fg_gro_iov(const struct fg_gro_item *it, const uint8_t *const pkts[],
		    const uint16_t lens[], const uint16_t next[], struct iovec iov[])
{
	unsigned k = 0;

	iov[k++] = (struct iovec){ .iov_base = (void *)(uintptr_t)&it->vnet, .iov_len = FG_VNET_HDR_LEN };
	if (it->count <= 1) {
		iov[k++] = (struct iovec){ .iov_base = (void *)(uintptr_t)pkts[it->first],
					   .iov_len = lens[it->first] };
		return k;
	}
	iov[k++] = (struct iovec){ .iov_base = (void *)(uintptr_t)it->head, .iov_len = it->head_len };
	for (unsigned i = it->first; i != FG_GRO_END && k < FG_GRO_IOV_MAX; i = next[i]) {
		const uint8_t *p = pkts[i];
		uint32_t iplen = (p[0] >> 4) == 6 ? fg_vnet_get16(p + 4) + (uint32_t)IPV6_HL
						  : fg_vnet_get16(p + 2);
		iov[k++] = (struct iovec){ .iov_base = (void *)(uintptr_t)(p + it->head_len),
					   .iov_len = iplen - it->head_len };
	}
	return k;
}
