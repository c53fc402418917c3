// SPDX-License-Identifier: MIT
/*
 * The p2p control protocol on the service lcore (reference §4.2): the AssignedIps the
 * workers queue go to the attached socket servers (the control socket's P2P_IN), and what
 * the control plane sends a client (P2P_OUT: a DomainStatus, or any p2p event) is wrapped in
 * the protocol's IPv6 header (dataplane/worker/p2pctl.h) and handed to worker 0 to seal, as
 * the service's own Goodbye is. The JSON is the control plane's; the data plane only carries
 * it. Both ways are best effort and never wait: every loss is counted by name. All state
 * belongs to the service lcore.
 */
#include <errno.h>

#include <rte_mbuf.h>

#include "ctlproto.h"
#include "p2pctl.h"
#include "service.h"
#include "svc_state.h"

/* What P2P_IN / P2P_OUT carry is exactly the IPv6 payload of a packet of at most 1280 bytes. */
_Static_assert((int)FG_CTL_P2P_MAX == (int)FG_P2PCTL_MAX_PAYLOAD, "ctlproto's p2p payload bound");

/* A peer that still is the worker's (same slot and generation) and still a portal client. */
static bool still_client(const struct fg_svc *s, const struct fg_p2pctl_item *it)
{
	return fg_svc_peer_valid(s, it->peer) &&
	       __atomic_load_n(&s->dp->tables.peers[it->peer].gen, __ATOMIC_RELAXED) == it->gen &&
	       s->peers[it->peer].client.policy;
}

/* Hands one AssignedIps to every attached server that takes them; the loss, if any, is
 * counted. Consumes the item's mbuf. */
static void p2p_in(struct fg_svc *s, const struct fg_p2pctl_item *it)
{
	struct fg_dp *dp = s->dp;
	int reached = 0;

	if (!still_client(s, it)) {
		dp->svc_cnt.drops[FG_DROP_P2P_UNAUTHORIZED]++;
		goto out;
	}
	if (it->len == 0 || (uint32_t)it->off + it->len > rte_pktmbuf_data_len(it->m)) {
		dp->svc_cnt.drops[FG_DROP_P2P_MALFORMED]++;   /* a worker's bug, never the client's */
		goto out;
	}
	for (unsigned i = 0; i < s->natt; i++) {
		int r;

		if (!s->att[i].ops->p2p)
			continue;
		r = s->att[i].ops->p2p(s->att[i].ctx, s->peers[it->peer].public_key,
				       rte_pktmbuf_mtod_offset(it->m, const uint8_t *, it->off), it->len);
		if (r > 0)
			reached += r;
	}
	/* Nobody took it: no control plane connected, or every one is backed up. The client
	 * resends its AssignedIps while it waits for the answer. */
	if (reached)
		s->stats.p2p_in++;
	else
		dp->svc_cnt.drops[FG_DROP_P2P_BACKLOG]++;
out:
	rte_pktmbuf_free(it->m);
}

unsigned fg_svc_p2p_poll(struct fg_svc *s)
{
	struct fg_p2pctl_item items[FG_SVC_P2P_BUDGET];
	unsigned n = rte_ring_sc_dequeue_burst_elem(s->dp->p2p_ring, items, sizeof(items[0]), FG_SVC_P2P_BUDGET,
						     NULL);

	for (unsigned i = 0; i < n; i++)
		p2p_in(s, &items[i]);
	return n;
}

int fg_svc_p2p_send(struct fg_svc *s, const uint8_t pub[32], const void *payload, uint16_t len)
{
	uint8_t pkt[FG_P2PCTL_MAX_LEN];
	uint32_t slot, n;
	int r;

	if (len < FG_P2PCTL_HDR_LEN || len > FG_CTL_P2P_MAX)
		return -EINVAL;
	slot = fg_svc_peer_find(s, pub);
	if (slot == FG_SLOT_NONE)
		return -ENOENT;
	n = fg_p2pctl_build(pkt, sizeof(pkt), payload, len);
	if (n == 0)
		return -EINVAL;
	/* As the Goodbye: worker 0 seals it on the peer's current session. Without one (none
	 * yet, or expired) the worker drops it as svc_no_session and asks for a handshake;
	 * nothing waits for the session here. That is enough for the protocol: a DomainStatus
	 * answers an AssignedIps, which the client resends until it gets its answer. */
	r = fg_svc_send_data(s, slot, pkt, (uint16_t)n);
	if (r == -ENOMEM)
		r = -ENOBUFS;
	if (r == 0)
		s->stats.p2p_out++;
	return r;
}
