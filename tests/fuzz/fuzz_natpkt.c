// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the NAT's packet parser and rewrites (dataplane/worker/natpkt.c):
 * any bytes as an IP packet in a buffer of exactly their length. What parses must stay
 * within the buffer; TCP, UDP and echo packets are translated both ways and must parse the
 * same afterwards; an ICMP error's quote, when it parses, is rebuilt into the proxy's error
 * out of place and in place, both no longer than the error and identical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "natpkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct fg_natpkt *a, const struct fg_natpkt *b)
{
	if (a->l4 != b->l4 || a->len != b->len || a->l4_off != b->l4_off || a->proto != b->proto)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_ip ip4 = { .family = AF_INET, .addr = { 198, 18, 1, 2 } };
	struct fg_ip ip6 = { .family = AF_INET6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } };
	struct fg_natpkt np, again;
	struct fg_natpkt_quote q;
	uint8_t *pkt, *out;
	uint32_t n, m;

	if (size > 65535 + 64)
		return 0;
	pkt = malloc(size ? size : 1);
	out = malloc(size ? size : 1);
	if (!pkt || !out)
		abort();
	memcpy(pkt, data, size);
	if (fg_natpkt_parse(pkt, (uint32_t)size, &np) != 0)
		goto out;
	if (np.len > size || np.l4_off > np.len)
		abort();
	const struct fg_ip *ip = np.family == AF_INET ? &ip4 : &ip6;

	switch (np.l4) {
	case FG_NATPKT_TCP:
	case FG_NATPKT_UDP:
	case FG_NATPKT_ECHO_REQUEST:
	case FG_NATPKT_ECHO_REPLY:
		fg_natpkt_translate_out(pkt, &np, ip, 4242);
		if (fg_natpkt_parse(pkt, (uint32_t)size, &again) != 0)
			abort();
		check_same(&np, &again);
		fg_natpkt_translate_in(pkt, &np, ip, 4343);
		if (fg_natpkt_parse(pkt, (uint32_t)size, &again) != 0)
			abort();
		check_same(&np, &again);
		break;
	case FG_NATPKT_ICMP_ERROR:
		(void)fg_natpkt_icmp_checksum_ok(pkt, &np);
		if (fg_natpkt_parse_quote(pkt, &np, &q) != 0)
			break;
		if ((uint32_t)q.off + q.len != np.len || q.l4_off < q.off || q.l4_off > np.len)
			abort();
		n = fg_natpkt_icmp_error(out, (uint32_t)size, pkt, &np, &q, ip, 4444);
		if (n == 0 || n > np.len)
			abort();
		m = fg_natpkt_icmp_error(pkt, (uint32_t)size, pkt, &np, &q, ip, 4444);
		if (m != n || memcmp(out, pkt, n) != 0)
			abort();
		if (fg_natpkt_parse(out, n, &again) != 0 || again.l4 != FG_NATPKT_ICMP_ERROR)
			abort();
		break;
	default:
		break;
	}
out:
	free(pkt);
	free(out);
	return 0;
}
