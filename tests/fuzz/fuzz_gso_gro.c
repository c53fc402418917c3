// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the TUN offloads: segmentation (kni/gso.c) and coalescing
 * (kni/gro.c). Input: a flags byte, then a virtio-net header and one IP packet. Flags: bit 0
 * "fix the IP length field" to the packet's length (so the fuzzer gets past it); bits 2..7
 * choose the MTU (200 + 32 * value). Checks, against a naive reading in this file: every
 * segment fg_gso_split() writes fits the MTU, is an IP packet of the original's version
 * whose length field is its length, with a valid IPv4 header checksum and a transport
 * checksum that verifies; all but the last carry gso_size payload bytes; the segments'
 * payloads concatenate to the original payload. A GSO NONE packet comes back byte-equal
 * except the checksum it completes, which with the seed it replaced sums to 0xffff from
 * csum_start. The segments then
 * go through fg_gro_coalesce_ex(): every segment lies in exactly one item's chain, items in
 * order of their first segment, a pass-through item is its packet, a super-packet's payload
 * is its chain's payloads in order, and the items' payloads concatenate to the original
 * payload again.
 *
 *   scripts/fuzz.sh 60 gso_gro     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/gso_gro/ (tests/fuzz/corpus/gen_dp_seeds.py).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "fuzz_check.h"
#include "gro.h"
#include "gso.h"
#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { OUT_MAX = 2 * FG_GRO_MAX_SEGS, OUT_CAP = 9216, PAY_MAX = 70000 };

static uint8_t seg_buf[OUT_MAX][OUT_CAP];
static uint8_t pay_a[PAY_MAX], pay_b[PAY_MAX], item_buf[PAY_MAX + 128];

static uint64_t pseudo(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4len)
{
	uint64_t s = proto + (uint64_t)l4len;

	for (int i = v6 ? 8 : 12; i < (v6 ? 40 : 20); i += 2)
		s += g16(ip + i);
	return s;
}

/* Where the payload of a plain IPv4 / IPv6 (no extension header) TCP or UDP packet starts;
 * 0 if it is none such. */
static uint32_t payload_off(const uint8_t *p, uint32_t len, uint8_t *proto)
{
	uint32_t ip, l4;

	if (len < 20)
		return 0;
	if (p[0] >> 4 == 4) {
		ip = (p[0] & 15) * 4u;
		*proto = p[9];
	} else if (p[0] >> 4 == 6 && len >= 40) {
		ip = 40;
		*proto = p[6];
	} else {
		return 0;
	}
	if (*proto == 6 && len >= ip + 20)
		l4 = (p[ip + 12] >> 4) * 4u;
	else if (*proto == 17)
		l4 = 8;
	else
		return 0;
	return ip + l4 <= len ? ip + l4 : 0;
}

static void check_segment(const uint8_t *s, uint32_t n, uint8_t version, uint16_t mtu)
{
	bool v6 = version == 6;
	uint32_t ip = v6 ? 40 : (s[0] & 15) * 4u;
	uint8_t proto;

	CHECK(n <= mtu && n >= ip && s[0] >> 4 == version);
	if (v6) {
		CHECK(g16(s + 4) == n - 40u);
		proto = s[6];
	} else {
		CHECK(g16(s + 2) == n && nsum(s, ip, 0) == 0xffff);
		proto = s[9];
	}
	CHECK(proto == 6 || proto == 17);
	CHECK(nsum(s + ip, n - ip, pseudo(s, v6, proto, n - ip)) == 0xffff);
	if (proto == 17)
		CHECK(g16(s + ip + 4) == n - ip && g16(s + ip + 6) != 0);
}

/* Coalesces the segments back and checks the items against them and the payload. */
static void check_gro(uint8_t *const segs[], const uint16_t lens[], unsigned n, const uint8_t *pay, uint32_t plen)
{
	static struct fg_gro_item items[OUT_MAX];
	uint16_t next[OUT_MAX];
	struct iovec iov[FG_GRO_IOV_MAX];
	bool seen[OUT_MAX] = { false };
	unsigned ni = fg_gro_coalesce_ex((const uint8_t *const *)segs, lens, n, items, next,
					 FG_GRO_UDP4 | FG_GRO_UDP6);
	uint32_t total = 0;
	int last_first = -1;

	CHECK(ni >= 1 && ni <= n);
	for (unsigned i = 0; i < ni; i++) {
		const struct fg_gro_item *it = &items[i];
		unsigned cnt = 0, niov;
		uint32_t blen = 0, off;
		uint8_t proto;

		CHECK((int)it->first > last_first && it->first < n && it->count >= 1);
		last_first = it->first;
		for (uint16_t j = it->first; cnt < it->count; j = next[j], cnt++) {
			CHECK(j < n && !seen[j]);
			seen[j] = true;
		}
		niov = fg_gro_iov(it, (const uint8_t *const *)segs, lens, next, iov);
		CHECK(niov >= 2 && niov <= FG_GRO_IOV_MAX && iov[0].iov_len == FG_VNET_HDR_LEN);
		for (unsigned k = 1; k < niov; k++) {
			CHECK(blen + iov[k].iov_len <= sizeof(item_buf));
			memcpy(item_buf + blen, iov[k].iov_base, iov[k].iov_len);
			blen += (uint32_t)iov[k].iov_len;
		}
		CHECK(blen == it->len);
		if (it->count == 1) {
			CHECK(blen == lens[it->first] && memcmp(item_buf, segs[it->first], blen) == 0);
			off = payload_off(item_buf, blen, &proto);
		} else {
			uint32_t at = it->head_len;

			off = it->head_len;
			for (uint16_t j = it->first, c = 0; c < it->count; j = next[j], c++) {
				uint32_t po = payload_off(segs[j], lens[j], &proto);

				CHECK(po > 0 && at + lens[j] - po <= blen);
				CHECK(memcmp(item_buf + at, segs[j] + po, lens[j] - po) == 0);
				at += lens[j] - po;
			}
			CHECK(at == blen);
		}
		CHECK(off > 0 && total + blen - off <= plen);
		CHECK(memcmp(pay + total, item_buf + off, blen - off) == 0);
		total += blen - off;
	}
	for (unsigned j = 0; j < n; j++)
		CHECK(seen[j]);
	CHECK(total == plen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *segs[OUT_MAX];
	uint16_t lens[OUT_MAX];
	uint16_t mtu, gso_size;
	uint8_t *pkt, proto = 0;
	uint32_t len, off, total = 0, plen;
	int n;

	if (size < 1 + FG_VNET_HDR_LEN + 20 || size > 1 + FG_VNET_HDR_LEN + 65535)
		return 0;
	mtu = (uint16_t)(200 + 32 * (data[0] >> 2));
	len = (uint32_t)size - 1;
	pkt = malloc(len);
	CHECK(pkt != NULL);
	memcpy(pkt, data + 1, len);
	if ((data[0] & 1) && pkt[10] >> 4 == 4) {
		pkt[12] = (uint8_t)((len - 10) >> 8);
		pkt[13] = (uint8_t)(len - 10);
	} else if ((data[0] & 1) && pkt[10] >> 4 == 6 && len >= 50) {
		pkt[14] = (uint8_t)((len - 50) >> 8);
		pkt[15] = (uint8_t)(len - 50);
	}
	for (unsigned i = 0; i < OUT_MAX; i++)
		segs[i] = seg_buf[i];
	n = fg_gso_split(pkt, len, mtu, segs, lens, OUT_MAX, OUT_CAP);
	if (n <= 0)
		goto out;
	CHECK(n <= OUT_MAX);
	gso_size = (uint16_t)(pkt[4] | pkt[5] << 8);
	if ((pkt[1] & ~FG_VNET_GSO_ECN) == FG_VNET_GSO_NONE) {
		uint16_t start = (uint16_t)(pkt[6] | pkt[7] << 8), at = (uint16_t)(start + (pkt[8] | pkt[9] << 8));

		CHECK(n == 1 && lens[0] == len - 10 && lens[0] <= mtu);
		if (!(pkt[0] & FG_VNET_F_NEEDS_CSUM)) {
			CHECK(memcmp(segs[0], pkt + 10, lens[0]) == 0);
			goto out;
		}
		CHECK(at + 2u <= lens[0]);
		CHECK(memcmp(segs[0], pkt + 10, at) == 0 && memcmp(segs[0] + at + 2, pkt + 12 + at, lens[0] - at - 2u) == 0);
		/* The field held the pseudo-header seed (kernel: skb_checksum_help): the stored
		 * checksum and that seed complete the region's sum. */
		CHECK(nsum(segs[0] + start, lens[0] - start, g16(pkt + 10 + at)) == 0xffff);
		goto out;
	}
	off = payload_off(pkt + 10, len - 10, &proto);
	CHECK(off > 0);
	plen = len - 10 - off;
	memcpy(pay_a, pkt + 10 + off, plen);
	for (int i = 0; i < n; i++) {
		uint8_t p2;
		uint32_t po;

		check_segment(segs[i], lens[i], pkt[10] >> 4, mtu);
		po = payload_off(segs[i], lens[i], &p2);
		CHECK(po > 0 && p2 == proto);
		CHECK(i == n - 1 ? lens[i] - po <= gso_size : lens[i] - po == gso_size);
		CHECK(total + lens[i] - po <= plen);
		memcpy(pay_b + total, segs[i] + po, lens[i] - po);
		total += lens[i] - po;
	}
	CHECK(total == plen && memcmp(pay_a, pay_b, plen) == 0);
	check_gro(segs, lens, (unsigned)n, pay_a, plen);
out:
	free(pkt);
	return 0;
}
