// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the data plane's p2p control packets (dataplane/worker/p2pctl.c).
 * The first input byte says whether the peer has a policy (bit 0); the rest is a decrypted
 * packet, copied into a buffer of exactly its length. What the classifier accepts must be an
 * AssignedIps or a Goodbye of an authorized peer whose payload lies inside the packet and
 * within 1280 bytes; icmpgen's independent parser must refuse exactly the packets the
 * classifier calls malformed; a packet rebuilt from the accepted payload must classify the
 * same. The input is also taken as a P2P_OUT payload: what builds is a p2p packet both
 * parsers read back.
 *
 *   scripts/fuzz.sh p2pctl 60     (clang, ASan + UBSan, 60 s)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icmpgen.h"
#include "p2pctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_classify(const uint8_t *pkt, uint32_t len, bool authorized)
{
	uint8_t out[FG_P2PCTL_MAX_LEN];
	struct fg_p2pctl_msg msg, again;
	enum fg_drop why = fg_p2pctl_classify(pkt, len, authorized, &msg);
	uint8_t ev;

	/* Malformed exactly when the independent parser refuses it. */
	if ((why == FG_DROP_P2P_MALFORMED) != (fg_icmpgen_p2p_parse(pkt, len, &ev, NULL, NULL) != 0))
		abort();
	if (why != FG_DROP_NONE)
		return;
	if (!authorized || (msg.event != FG_P2P_ASSIGNED_IPS && msg.event != FG_P2P_GOODBYE) || msg.off != 40 ||
	    msg.len < FG_P2PCTL_HDR_LEN || msg.off + msg.len > len || msg.off + msg.len > FG_P2PCTL_MAX_LEN ||
	    msg.event != pkt[40])
		abort();
	if (fg_p2pctl_build(out, sizeof(out), pkt + msg.off, msg.len) != 40u + msg.len ||
	    fg_p2pctl_classify(out, 40u + msg.len, true, &again) != FG_DROP_NONE ||
	    again.event != msg.event || again.off != msg.off || again.len != msg.len ||
	    memcmp(out + 40, pkt + 40, msg.len) != 0)
		abort();
}

static void check_build(const uint8_t *payload, size_t size)
{
	uint8_t out[FG_P2PCTL_MAX_LEN];
	struct fg_p2pctl_msg msg;
	uint32_t n = fg_p2pctl_build(out, sizeof(out), payload, (uint32_t)(size > UINT32_MAX ? UINT32_MAX : size));
	enum fg_drop why;
	uint8_t ev;

	if (size < FG_P2PCTL_HDR_LEN || size > FG_P2PCTL_MAX_PAYLOAD) {
		if (n != 0)
			abort();
		return;
	}
	if (n != 40 + size || fg_icmpgen_p2p_parse(out, n, &ev, NULL, NULL) != 0 || ev != payload[0])
		abort();
	why = fg_p2pctl_classify(out, n, true, &msg);
	if (why != (ev == FG_P2P_ASSIGNED_IPS || ev == FG_P2P_GOODBYE ? FG_DROP_NONE : FG_DROP_P2P_EVENT))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt;
	uint32_t len;

	if (size == 0 || size > 65536)
		return 0;
	len = (uint32_t)(size - 1);
	pkt = malloc(len ? len : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data + 1, len);
	check_classify(pkt, len, data[0] & 1);
	free(pkt);
	check_build(data, size);
	return 0;
}
