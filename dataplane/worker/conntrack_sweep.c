// SPDX-License-Identifier: MIT
/*
 * The connection table's upkeep (see conntrack.h): closing an entry (its keys withdrawn, a
 * NAT tuple's outside key remembered as expired in the table's bounded FIFO, its COMPLETED
 * record, its memory through the grace period), each worker's incremental sweep of its own
 * table, the flow records, and the service lcore's side: the NAT epoch of a peer slot, the
 * flow-log flag, the counters and the seqlock reads of NAT_DUMP. The owner's functions run
 * on the worker that owns the table; the fg_conntrack_* ones of the last section on the
 * service lcore, which writes no table.
 */
#include "conntrack.h"

#include <string.h>


/* ---- closing (owner) ---------------------------------------------------------------------- */

/* Whether k is in t and maps to v. */
static bool maps_to(const struct fg_conntrack_table *t, const struct fg_conntrack_key *k, uint64_t v)
{
	void *d;

	return rte_hash_lookup_data(t->hash, k, &d) >= 0 && (uintptr_t)d == v;
}

/* Withdraws k if it still names entry idx (a newer tuple may have taken it over). */
static void del_if(struct fg_conntrack_table *t, const struct fg_conntrack_key *k, uint32_t idx)
{
	if (maps_to(t, k, idx))
		rte_hash_del_key(t->hash, k);
}

/* Keeps outside key k (which names a closing entry) as an expired tuple; the oldest one
 * remembered is forgotten first when the FIFO is full (unless a new tuple took it since). */
static void remember(struct fg_conntrack_table *t, const struct fg_conntrack_key *k)
{
	struct fg_conntrack_expired *x;

	if (t->exp_n == t->exp_cap) {
		x = &t->expired[t->exp_head];
		if (maps_to(t, &x->key, FG_CT_MARK | x->mark))
			rte_hash_del_key(t->hash, &x->key);
		t->exp_head = (t->exp_head + 1) % t->exp_cap;
		t->exp_n--;
	}
	x = &t->expired[(t->exp_head + t->exp_n) % t->exp_cap];
	x->key = *k;
	x->mark = ++t->exp_mark;
	t->exp_n++;
	/* The key exists: this replaces its value, atomically for the readers. */
	rte_hash_add_key_data(t->hash, k, (void *)(uintptr_t)(FG_CT_MARK | x->mark));
}

uint8_t fg_conntrack_end_reason(const struct fg_conntrack_entry *e)
{
	uint32_t fo = __atomic_load_n(&e->out_flags, __ATOMIC_RELAXED);
	uint32_t fi = __atomic_load_n(&e->in_flags, __ATOMIC_RELAXED);

	if (fo & FG_CT_RST_OUT)
		return FG_CTL_FLOW_END_RST_OUT;
	if (fi & FG_CT_RST_IN)
		return FG_CTL_FLOW_END_RST_IN;
	if ((fo & FG_CT_FIN_OUT) && (fi & FG_CT_FIN_IN))
		return FG_CTL_FLOW_END_FIN;
	return FG_CTL_FLOW_END_IDLE;
}

void fg_conntrack_unlink(struct fg_conntrack_table *t, uint32_t idx)
{
	struct fg_conntrack_entry *e = &t->e[idx];
	uint32_t pos = e->live_pos, last = t->live[--t->nlive];

	t->live[pos] = last;
	t->e[last].live_pos = pos;
	rte_seqcount_write_begin(&e->seq);
	__atomic_store_n(&e->state, FG_CT_DEAD, __ATOMIC_RELEASE);
	rte_seqcount_write_end(&e->seq);
	/* Cannot fail: the queue has room for every entry of the table. */
	(void)rte_rcu_qsbr_dq_enqueue(t->dq, &idx);
}

void fg_conntrack_close(struct fg_conntrack *ct, struct fg_conntrack_table *t, uint32_t idx, uint8_t end,
			uint64_t now)
{
	struct fg_conntrack_entry *e = &t->e[idx];
	struct fg_conntrack_key k1, k2;

	fg_ct_entry_keys(e, &k1, &k2);
	del_if(t, &k1, idx);
	if (e->nat) {
		/* A reset tuple is unreachable (its key names the old generation or epoch):
		 * nothing to remember. */
		if (end != FG_CTL_FLOW_END_RESET && maps_to(t, &k2, idx))
			remember(t, &k2);
		else
			del_if(t, &k2, idx);
		t->cnt.expired++;
		t->cnt.nat_live--;
	}
	t->cnt.flows_completed++;
	t->cnt.flows_live--;
	fg_conntrack_record(ct, t, e, FG_CTL_FLOW_COMPLETED, end, now);
	fg_conntrack_unlink(t, idx);
}

void fg_conntrack_record(struct fg_conntrack *ct, struct fg_conntrack_table *t, const struct fg_conntrack_entry *e,
			 uint8_t kind, uint8_t end, uint64_t now)
{
	struct fg_conntrack_record r;
	uint64_t out = __atomic_load_n(&e->last_out_ns, __ATOMIC_RELAXED);
	uint64_t in = __atomic_load_n(&e->last_in_ns, __ATOMIC_RELAXED);

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.end = end;
	r.proto = e->proto;
	r.n_outers = e->n_outers;
	r.slot = e->slot;
	r.gen = e->gen;
	r.src_port = e->in_port;
	r.dst_port = e->dst_port;
	r.src = e->client;
	r.dst = e->dst;
	r.real = e->real;
	memcpy(r.channels, e->channels, sizeof(r.channels));
	memcpy(r.outers, e->outers, sizeof(r.outers));
	r.start_ns = e->created_ns;
	r.last_ns = in > out ? in : out;
	if (kind == FG_CTL_FLOW_COMPLETED) {
		/* It ended when it timed out (the sweep comes by later); a reset, now. */
		r.end_ns = end == FG_CTL_FLOW_END_RESET ? now : fg_ct_min(now, fg_conntrack_deadline(e));
		r.tx_packets = __atomic_load_n(&e->tx_packets, __ATOMIC_RELAXED);
		r.tx_bytes = __atomic_load_n(&e->tx_bytes, __ATOMIC_RELAXED);
		r.rx_packets = __atomic_load_n(&e->rx_packets, __ATOMIC_RELAXED);
		r.rx_bytes = __atomic_load_n(&e->rx_bytes, __ATOMIC_RELAXED);
	}
	memcpy(r.resource_id, e->resource_id, sizeof(r.resource_id));
	if (rte_ring_mp_enqueue_elem(ct->records, &r, sizeof(r)) != 0)
		t->cnt.flows_lost++;
}

/* ---- the sweep (owner) --------------------------------------------------------------------- */

/* The entry's peer left its slot (or the slot was reused), or it is a NAT tuple and the
 * client's NAT was reset (a flow's epoch is always 0). */
static bool stale(const struct fg_conntrack *ct, const struct fg_conntrack_entry *e)
{
	return __atomic_load_n(&ct->peers->peers[e->slot].gen, __ATOMIC_RELAXED) != e->gen ||
	       (e->nat && __atomic_load_n(&ct->epoch[e->slot], __ATOMIC_ACQUIRE) != e->epoch);
}

unsigned fg_conntrack_sweep(struct fg_conntrack *ct, struct fg_conntrack_table *t, uint64_t now, uint32_t budget)
{
	unsigned closed = 0;

	for (uint32_t n = 0; n < budget && t->nlive; n++) {
		uint32_t idx;
		struct fg_conntrack_entry *e;

		if (t->sweep_pos >= t->nlive)
			t->sweep_pos = 0;
		idx = t->live[t->sweep_pos];
		e = &t->e[idx];
		/* A closed entry's place takes the last one: the position is looked at again. */
		if (stale(ct, e)) {
			fg_conntrack_close(ct, t, idx, FG_CTL_FLOW_END_RESET, now);
			closed++;
		} else if (now >= fg_conntrack_deadline(e)) {
			fg_conntrack_close(ct, t, idx, fg_conntrack_end_reason(e), now);
			closed++;
		} else {
			t->sweep_pos++;
		}
	}
	return closed;
}

void fg_conntrack_tick(struct fg_conntrack *ct, struct fg_conntrack_table *t, uint64_t now)
{
	if (now < t->next_sweep_ns)
		return;
	t->next_sweep_ns = now + 1000000;
	if (t->nlive) {
		uint32_t budget = t->nlive / FG_CT_SWEEP_PASS_MS + FG_CT_SWEEP_MIN;

		fg_conntrack_sweep(ct, t, now, budget < FG_CT_SWEEP_BATCH ? budget : FG_CT_SWEEP_BATCH);
	}
	if (t->nfree + t->nlive < t->capacity)
		rte_rcu_qsbr_dq_reclaim(t->dq, FG_CT_RECLAIM_BATCH, NULL, NULL, NULL);
}

/* ---- the service lcore -------------------------------------------------------------------- */

void fg_conntrack_reset_peer(struct fg_conntrack *ct, uint32_t slot)
{
	if (ct->epoch && slot < ct->peers->max_peers)
		__atomic_fetch_add(&ct->epoch[slot], 1, __ATOMIC_RELEASE);
}

void fg_conntrack_set_flows(struct fg_conntrack *ct, bool enabled)
{
	__atomic_store_n(&ct->flows_enabled, enabled ? 1u : 0u, __ATOMIC_RELAXED);
}

void fg_conntrack_stats(const struct fg_conntrack *ct, struct fg_conntrack_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; w < ct->ntables; w++) {
		const struct fg_conntrack_counters *c = &ct->tables[w]->cnt;

		sum->translated_out += c->translated_out;
		sum->translated_in += c->translated_in;
		sum->icmp_translated += c->icmp_translated;
		sum->created += c->created;
		sum->expired += c->expired;
		sum->misses += c->misses;
		sum->nat_live += c->nat_live;
		sum->flows_started += c->flows_started;
		sum->flows_completed += c->flows_completed;
		sum->flows_live += c->flows_live;
		sum->flows_lost += c->flows_lost;
	}
	sum->flows_lost += ct->records_lost;
}

bool fg_conntrack_snapshot(const struct fg_conntrack *ct, const struct fg_conntrack_table *t, uint32_t i,
			   uint64_t now, struct fg_conntrack_entry *out)
{
	const struct fg_conntrack_entry *e;
	uint32_t sn;

	if (i >= t->capacity)
		return false;
	e = &t->e[i];
	if (__atomic_load_n(&e->state, __ATOMIC_RELAXED) != FG_CT_LIVE)
		return false;
	for (unsigned tries = 0;; tries++) {
		sn = rte_seqcount_read_begin(&e->seq);
		memcpy(out, e, sizeof(*out));
		if (!rte_seqcount_read_retry(&e->seq, sn))
			break;
		if (tries == 3)
			return false;    /* the owner keeps rewriting it: it is being recycled */
	}
	if (out->state != FG_CT_LIVE || out->slot >= ct->peers->max_peers || stale(ct, out))
		return false;
	return now < fg_conntrack_deadline(out);
}
