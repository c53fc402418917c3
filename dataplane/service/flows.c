// SPDX-License-Identifier: MIT
/*
 * Flow records on the service lcore: the workers' connection tables (dataplane/worker/
 * conntrack.h) queue a record when a flow starts and when it ends; here each becomes an
 * unsolicited FG_CTL_FLOW for the attached socket servers, with the client's public key
 * and times in unix ns. A record is best effort and never waits: one of a peer no longer
 * known, or that no connected control plane took (backed up), is counted as flows_lost.
 * A removed peer's flows end after it left its slot (the owners' sweeps close them), so
 * who it was is remembered per slot (struct fg_conntrack_memo) until the slot is reused.
 * All state belongs to the service lcore.
 */
#include <string.h>

#include "clock.h"
#include "conntrack.h"
#include "ctlproto.h"
#include "service.h"
#include "svc_state.h"

/* Monotonic ns to unix ns (0 stays 0: "none"). */
static uint64_t unix_ns(uint64_t mono)
{
	return mono ? fg_clock_wall_base_ns() + mono : 0;
}

/* The public key of the peer a record was made for, or NULL if it is unknown. */
static const uint8_t *record_key(const struct fg_svc *s, const struct fg_conntrack_record *r)
{
	const struct fg_conntrack *ct = &s->dp->ct;

	if (r->slot >= s->dp->tables.max_peers)
		return NULL;
	if (fg_svc_peer_valid(s, r->slot) && fg_svc_peer_gen(s, r->slot) == r->gen)
		return s->peers[r->slot].public_key;
	if (ct->memo[r->slot].used && ct->memo[r->slot].gen == r->gen)
		return ct->memo[r->slot].public_key;
	return NULL;
}

static void to_ctl(const struct fg_conntrack_record *r, const uint8_t *pub, struct fg_ctl_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->h.version = FG_CTL_VERSION;
	f->h.type = FG_CTL_FLOW;
	f->kind = r->kind;
	f->end = r->end;
	memcpy(f->public_key, pub, 32);
	memcpy(f->resource_id, r->resource_id, sizeof(f->resource_id));
	f->resource_id[sizeof(f->resource_id) - 1] = '\0';
	f->proto = r->proto;
	f->n_outers = r->n_outers;
	f->src_port = r->src_port;
	f->dst_port = r->dst_port;
	f->src = r->src;
	f->dst = r->dst;
	f->real = r->real;
	memcpy(f->outers, r->outers, sizeof(f->outers));
	memcpy(f->channels, r->channels, sizeof(f->channels));
	f->start_unix_ns = unix_ns(r->start_ns);
	f->last_packet_unix_ns = unix_ns(r->last_ns);
	f->end_unix_ns = unix_ns(r->end_ns);
	f->tx_packets = r->tx_packets;
	f->tx_bytes = r->tx_bytes;
	f->rx_packets = r->rx_packets;
	f->rx_bytes = r->rx_bytes;
}

static void flow_out(struct fg_svc *s, const struct fg_conntrack_record *r)
{
	const uint8_t *pub = record_key(s, r);
	struct fg_ctl_flow f;
	int reached = 0, backlogged = 0;

	if (!pub) {
		s->dp->ct.records_lost++;
		return;
	}
	to_ctl(r, pub, &f);
	for (unsigned i = 0; i < s->natt; i++) {
		int n;

		if (!s->att[i].ops->flow)
			continue;
		n = s->att[i].ops->flow(s->att[i].ctx, &f);
		if (n > 0)
			reached += n;
		else if (n < 0)
			backlogged++;
	}
	/* Nobody connected: nobody asked for records, nothing is lost. */
	if (!reached && backlogged)
		s->dp->ct.records_lost++;
}

unsigned fg_svc_flows_poll(struct fg_svc *s)
{
	struct fg_conntrack_record rec[FG_SVC_FLOW_BUDGET];
	unsigned n;

	if (!s->dp->ct.records)
		return 0;
	n = rte_ring_sc_dequeue_burst_elem(s->dp->ct.records, rec, sizeof(rec[0]), FG_SVC_FLOW_BUDGET, NULL);
	for (unsigned i = 0; i < n; i++)
		flow_out(s, &rec[i]);
	return n;
}

void fg_svc_flows_peer_removed(struct fg_svc *s, uint32_t slot)
{
	struct fg_conntrack_memo *m;

	if (!s->dp->ct.memo || !fg_svc_peer_valid(s, slot))
		return;
	m = &s->dp->ct.memo[slot];
	m->gen = fg_svc_peer_gen(s, slot);
	m->used = 1;
	memcpy(m->public_key, s->peers[slot].public_key, 32);
}
