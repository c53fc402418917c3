/* SPDX-License-Identifier: MIT */
/*
 * The p2p control protocol (reference §4.2; Firezone's ip-packet fz_p2p_control.rs,
 * fz_p2p_control_slice.rs and make.rs) as the data plane carries it: what a worker does with
 * a decrypted p2p control packet from a peer (a Goodbye for the service lcore, an AssignedIps
 * for the control plane, or a named drop), the per-client budget of what goes to the control
 * plane, and the packet the service lcore wraps around a payload the control plane sends
 * (P2P_OUT). The JSON is the control plane's: the data plane never parses it. Pure functions
 * over caller memory (the budget is one word of the peer, updated with a CAS): no
 * allocation, logging or syscalls, so a worker runs them per packet and the unit tests and
 * the fuzzer run them without an EAL.
 */
#ifndef FG_P2PCTL_H
#define FG_P2PCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "icmpgen.h"

struct rte_mbuf;

enum fg_p2pctl_limit {
	FG_P2PCTL_IP6_LEN = 40,
	FG_P2PCTL_HDR_LEN = FG_ICMPGEN_P2P_HDR_LEN,   /* [event, 0 x 7] */
	FG_P2PCTL_MAX_LEN = FG_ICMPGEN_MAX_LEN,       /* the whole packet: 1280 */
	FG_P2PCTL_MAX_PAYLOAD = FG_P2PCTL_MAX_LEN - FG_P2PCTL_IP6_LEN,
	/* AssignedIps one client may hand the control plane: its client resends each pending
	 * domain every 2 s and sends one per DNS answer of a resource, so this leaves room for
	 * a hundred domains at once; past it, one client cannot crowd the others out of the
	 * ring to the service lcore. */
	FG_P2PCTL_IN_PER_SECOND = 50,
	FG_P2PCTL_IN_BURST = 100,
};

/* What a worker hands on: the event and where the p2p payload (the 8-byte header and the
 * JSON: everything after the IPv6 header, up to its payload length) lies in the packet. */
struct fg_p2pctl_msg {
	uint8_t event;             /* enum fg_p2p_event (icmpgen.h) */
	uint16_t off;              /* always FG_P2PCTL_IP6_LEN */
	uint16_t len;              /* FG_P2PCTL_HDR_LEN..FG_P2PCTL_MAX_PAYLOAD */
};

/*
 * A decrypted packet (pkt, len readable bytes; WireGuard's padding may follow the IP packet)
 * from a peer; authorized: the peer has a policy (a portal client). FG_DROP_NONE, with *out
 * filled, for an AssignedIps or a Goodbye from an authorized peer; otherwise the reason to
 * drop it, checked in this order:
 *   P2P_MALFORMED     not a p2p control packet (IPv6, next header 0xFF, source and
 *                     destination ::), shorter than 40 + 8 bytes, or an IPv6 payload length
 *                     under the 8-byte header or past len;
 *   P2P_OVERSIZED     the packet (40 + its payload length) over 1280 bytes;
 *   P2P_UNAUTHORIZED  from a peer without a policy (a static peer is no Firezone client);
 *   P2P_EVENT         DomainStatus (the gateway's to send, never a client's) or an unknown
 *                     event.
 * As Firezone's gateway, the 7 reserved header bytes, the hop limit, the traffic class and
 * the flow label are not checked. out may be NULL; it is written only on FG_DROP_NONE.
 */
enum fg_drop fg_p2pctl_classify(const uint8_t *pkt, uint32_t len, bool authorized, struct fg_p2pctl_msg *out);

/*
 * The per-client budget of AssignedIps for the control plane, a GCRA: *tat is the client's
 * theoretical arrival time (ns, 0 for a fresh peer). FG_P2PCTL_IN_PER_SECOND sustained,
 * FG_P2PCTL_IN_BURST at once. True when this packet fits the budget (it is then charged).
 * Lock-free: the workers that share a peer (one per keypair) race with a CAS.
 */
bool fg_p2pctl_admit(uint64_t *tat, uint64_t now_ns);

/*
 * The p2p control packet around payload (len bytes: the 8-byte header and the JSON, as the
 * control plane sends them; copied verbatim): IPv6, traffic class and flow label 0, payload
 * length len, next header 0xFF, hop limit 0, source and destination ::. Returns 40 + len, or
 * 0 when len is under the 8-byte header, the packet would exceed 1280 bytes or cap, or out
 * or payload is NULL. out and payload must not overlap.
 */
uint32_t fg_p2pctl_build(uint8_t *out, uint32_t cap, const void *payload, uint32_t len);

/* An AssignedIps on its way from a worker to the service lcore (dp->p2p_ring, an MP/SC ring
 * of these): the mbuf that holds the decrypted packet (the service frees it), the peer by
 * slot and generation, and the payload's place in the mbuf's data. */
struct fg_p2pctl_item {
	struct rte_mbuf *m;
	uint32_t peer;
	uint32_t gen;
	uint16_t off;              /* from rte_pktmbuf_mtod(m) */
	uint16_t len;
	uint32_t pad;
};
_Static_assert(sizeof(struct fg_p2pctl_item) % 4 == 0, "rte_ring element size must be a multiple of 4");

#endif
