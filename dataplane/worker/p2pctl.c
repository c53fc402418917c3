// SPDX-License-Identifier: MIT
/*
 * The p2p control protocol's packets in the data plane (see p2pctl.h): classification of
 * what a client sends, the per-client budget toward the control plane, and the packet built
 * for what the control plane sends. Stateless but for the budget word the caller passes.
 */
#include "p2pctl.h"

#include <string.h>

enum {
	NH_P2P = 0xFF,             /* the IPv6 next header of p2p control packets */
	HOP_LIMIT = 0,
	NS_PER_S = 1000000000,
	/* GCRA: the emission interval and how far ahead of now a client may run */
	INTERVAL_NS = NS_PER_S / FG_P2PCTL_IN_PER_SECOND,
	TOLERANCE_NS = (FG_P2PCTL_IN_BURST - 1) * INTERVAL_NS,
};
_Static_assert((uint64_t)FG_P2PCTL_IN_BURST * INTERVAL_NS < 0x7fffffff, "GCRA constants fit an int");

static bool is_zero(const uint8_t *p, unsigned n)
{
	uint8_t acc = 0;

	for (unsigned i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

enum fg_drop fg_p2pctl_classify(const uint8_t *pkt, uint32_t len, bool authorized, struct fg_p2pctl_msg *out)
{
	uint32_t plen;
	uint8_t event;

	if (!pkt || len < FG_P2PCTL_IP6_LEN + FG_P2PCTL_HDR_LEN || pkt[0] >> 4 != 6 || pkt[6] != NH_P2P ||
	    !is_zero(pkt + 8, 32))
		return FG_DROP_P2P_MALFORMED;
	plen = (uint32_t)pkt[4] << 8 | pkt[5];
	if (plen < FG_P2PCTL_HDR_LEN || FG_P2PCTL_IP6_LEN + plen > len)
		return FG_DROP_P2P_MALFORMED;
	if (plen > FG_P2PCTL_MAX_PAYLOAD)
		return FG_DROP_P2P_OVERSIZED;
	if (!authorized)
		return FG_DROP_P2P_UNAUTHORIZED;
	event = pkt[FG_P2PCTL_IP6_LEN];
	if (event != FG_P2P_ASSIGNED_IPS && event != FG_P2P_GOODBYE)
		return FG_DROP_P2P_EVENT;
	if (out)
		*out = (struct fg_p2pctl_msg){ .event = event, .off = FG_P2PCTL_IP6_LEN, .len = (uint16_t)plen };
	return FG_DROP_NONE;
}

bool fg_p2pctl_admit(uint64_t *tat, uint64_t now_ns)
{
	uint64_t old = __atomic_load_n(tat, __ATOMIC_RELAXED), t;

	/* A failed CAS means another worker charged the same client meanwhile: recompute. */
	do {
		t = old > now_ns ? old : now_ns;
		if (t - now_ns > (uint64_t)TOLERANCE_NS)
			return false;
	} while (!__atomic_compare_exchange_n(tat, &old, t + INTERVAL_NS, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

uint32_t fg_p2pctl_build(uint8_t *out, uint32_t cap, const void *payload, uint32_t len)
{
	uint32_t total = FG_P2PCTL_IP6_LEN + len;

	if (!out || !payload || len < FG_P2PCTL_HDR_LEN || len > FG_P2PCTL_MAX_PAYLOAD || total > cap)
		return 0;
	memset(out, 0, FG_P2PCTL_IP6_LEN);
	out[0] = 6 << 4;           /* version 6; traffic class and flow label 0 */
	out[4] = (uint8_t)(len >> 8);
	out[5] = (uint8_t)len;
	out[6] = NH_P2P;
	out[7] = HOP_LIMIT;
	/* source and destination :: (zeroed above) */
	memcpy(out + FG_P2PCTL_IP6_LEN, payload, len);
	return total;
}
