// SPDX-License-Identifier: MIT
/*
 * The connection table's packets (see conntrack.h): lookups across the workers' tables,
 * tuple and flow creation with the outside port allocation, and the two directions of the
 * NAT. Runs on the workers; a table is written only by its owner (the calling worker's
 * `own`), every table is read by all. Closing, the sweep, records and the service lcore's
 * side are in conntrack_sweep.c.
 */
#include "conntrack.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "natpkt.h"

enum {
	PORT_CHUNK = 32,            /* outside ports checked per bulk lookup */
	PORTS = 65536,
};

/* ---- set-up ------------------------------------------------------------------------------ */

static void free_entries(void *p, void *e, unsigned int n)
{
	struct fg_conntrack_table *t = p;
	const uint32_t *idx = e;

	for (unsigned i = 0; i < n; i++) {
		__atomic_store_n(&t->e[idx[i]].state, FG_CT_FREE, __ATOMIC_RELAXED);
		t->free[t->nfree++] = idx[i];
	}
}

static void table_free(struct fg_conntrack_table *t)
{
	if (!t)
		return;
	rte_rcu_qsbr_dq_delete(t->dq);
	rte_hash_free(t->hash);
	rte_free(t->e);
	rte_free(t->free);
	rte_free(t->live);
	rte_free(t->expired);
	rte_free(t);
}

static struct fg_conntrack_table *table_new(const struct fg_conntrack *ct, unsigned idx, uint32_t capacity,
					    struct rte_rcu_qsbr *qsbr)
{
	char name[RTE_HASH_NAMESIZE];
	struct fg_conntrack_table *t = rte_zmalloc("fg_ct", sizeof(*t), RTE_CACHE_LINE_SIZE);
	unsigned tag = (unsigned)((uintptr_t)ct >> 4);

	if (!t)
		return NULL;
	t->idx = idx;
	t->capacity = capacity;
	t->exp_cap = capacity / 4 ? capacity / 4 : 1;
	t->e = rte_zmalloc("fg_ct_e", (size_t)capacity * sizeof(*t->e), RTE_CACHE_LINE_SIZE);
	t->free = rte_malloc("fg_ct_free", (size_t)capacity * sizeof(uint32_t), 0);
	t->live = rte_malloc("fg_ct_live", (size_t)capacity * sizeof(uint32_t), 0);
	t->expired = rte_zmalloc("fg_ct_exp", (size_t)t->exp_cap * sizeof(*t->expired), 0);
	if (!t->e || !t->free || !t->live || !t->expired)
		goto err;

	/* Two keys per NAT tuple, plus the expired ones remembered; the extension table keeps
	 * the cuckoo table from refusing a key before it is full. */
	snprintf(name, sizeof(name), "fgct%x_%u", tag, idx);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = 2 * capacity + t->exp_cap,
		.key_len = sizeof(struct fg_conntrack_key),
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rte_hash_rcu_config hrc = {
		.v = qsbr,
		.mode = RTE_HASH_QSBR_MODE_DQ,
		.dq_size = 2 * capacity + t->exp_cap,
		.trigger_reclaim_limit = 1,
		.max_reclaim_size = 64,
	};
	t->hash = rte_hash_create(&hp);
	if (!t->hash || rte_hash_rcu_qsbr_add(t->hash, &hrc) != 0)
		goto err;

	snprintf(name, sizeof(name), "fgcq%x_%u", tag, idx);
	struct rte_rcu_qsbr_dq_parameters dqp = {
		.name = name,
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE,
		.size = capacity,
		.esize = sizeof(uint32_t),
		.trigger_reclaim_limit = 1,
		.max_reclaim_size = 64,
		.free_fn = free_entries,
		.p = t,
		.v = qsbr,
	};
	t->dq = rte_rcu_qsbr_dq_create(&dqp);
	if (!t->dq)
		goto err;
	for (uint32_t i = 0; i < capacity; i++)
		t->free[i] = capacity - 1 - i;
	t->nfree = capacity;
	return t;
err:
	table_free(t);
	return NULL;
}

int fg_conntrack_init(struct fg_conntrack *ct, unsigned nworkers, uint32_t capacity, const struct fg_tables *peers,
		      struct rte_rcu_qsbr *qsbr)
{
	char name[RTE_RING_NAMESIZE];

	memset(ct, 0, sizeof(*ct));
	if (nworkers == 0 || nworkers > FG_CT_MAX_TABLES || capacity < FG_CT_MIN_CAPACITY ||
	    capacity > FG_CT_MAX_CAPACITY || !peers || peers->max_peers == 0)
		return -EINVAL;
	ct->peers = peers;
	ct->epoch = rte_zmalloc("fg_ct_epoch", (size_t)peers->max_peers * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	ct->memo = rte_zmalloc("fg_ct_memo", (size_t)peers->max_peers * sizeof(*ct->memo), 0);
	snprintf(name, sizeof(name), "fgcr%x", (unsigned)((uintptr_t)ct >> 4));
	ct->records = rte_ring_create_elem(name, sizeof(struct fg_conntrack_record), FG_CT_RECORD_RING, SOCKET_ID_ANY,
					   RING_F_SC_DEQ);
	if (!ct->epoch || !ct->memo || !ct->records)
		goto err;
	for (unsigned w = 0; w < nworkers; w++) {
		ct->tables[w] = table_new(ct, w, capacity, qsbr);
		if (!ct->tables[w])
			goto err;
		ct->ntables = w + 1;
	}
	return 0;
err:
	fg_conntrack_free(ct);
	return -ENOMEM;
}

void fg_conntrack_free(struct fg_conntrack *ct)
{
	for (unsigned w = 0; w < FG_CT_MAX_TABLES; w++)
		table_free(ct->tables[w]);
	rte_ring_free(ct->records);
	rte_free(ct->epoch);
	rte_free(ct->memo);
	memset(ct, 0, sizeof(*ct));
}

/* ---- lookups ------------------------------------------------------------------------------ */

/*
 * Looks k up in own, then in the other tables by worker index. LIVE: *t / *idx name a live
 * entry not past its timeout. EXPIRED: no such entry, but an expired tuple remembered or a
 * live entry past its timeout (which the owner closes on its next look). *own_stale is
 * such an entry of own (UINT32_MAX if none), for the caller to close first.
 */
static enum fg_ct_look find(const struct fg_conntrack *ct, struct fg_conntrack_table *own,
			    const struct fg_conntrack_key *k, uint64_t now, struct fg_conntrack_table **t,
			    uint32_t *idx, uint32_t *own_stale)
{
	hash_sig_t sig = rte_hash_hash(own->hash, k);
	bool expired = false;

	*own_stale = UINT32_MAX;
	for (int n = -1; n < (int)ct->ntables; n++) {
		struct fg_conntrack_table *tb = n < 0 ? own : ct->tables[n];
		void *v;

		if (n >= 0 && tb == own)
			continue;
		if (rte_hash_lookup_with_hash_data(tb->hash, k, sig, &v) < 0)
			continue;
		switch (fg_ct_entry_state(tb, (uintptr_t)v, now)) {
		case FG_CT_LOOK_LIVE:
			*t = tb;
			*idx = (uint32_t)(uintptr_t)v;
			return FG_CT_LOOK_LIVE;
		case FG_CT_LOOK_EXPIRED:
			if (tb == own && !((uintptr_t)v & FG_CT_MARK))
				*own_stale = (uint32_t)(uintptr_t)v;
			expired = true;
			break;
		default:
			break;
		}
	}
	return expired ? FG_CT_LOOK_EXPIRED : FG_CT_LOOK_MISS;
}

/* The k-th candidate outside port for an inside port orig: orig, orig + 1, ..., 65535, 1,
 * ..., orig - 1 (Firezone's order; port 0 only as the original). */
static inline uint16_t candidate(uint16_t orig, uint32_t k)
{
	uint32_t p = (uint32_t)orig + k;

	return (uint16_t)(p <= UINT16_MAX ? p : p - UINT16_MAX);
}

/* The first outside port for (proto, real) of the client that no live tuple holds in any
 * table, in bulk lookups of PORT_CHUNK candidates. 0 and *port, or -ENOSPC. */
static int alloc_port(const struct fg_conntrack *ct, struct fg_conntrack_table *own, struct fg_conntrack_key *k,
		      uint16_t orig, uint64_t now, uint16_t *port)
{
	uint32_t total = orig ? PORTS - 1 : PORTS;
	struct fg_conntrack_key keys[PORT_CHUNK];
	const void *kp[PORT_CHUNK];
	hash_sig_t sig[PORT_CHUNK];
	void *data[PORT_CHUNK];

	for (uint32_t base = 0; base < total; base += PORT_CHUNK) {
		uint32_t n = total - base < PORT_CHUNK ? total - base : PORT_CHUNK;
		uint64_t taken = 0, all = n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;

		for (uint32_t i = 0; i < n; i++) {
			keys[i] = *k;
			keys[i].port = candidate(orig, base + i);
			kp[i] = &keys[i];
			sig[i] = rte_hash_hash(own->hash, &keys[i]);
		}
		for (int w = -1; w < (int)ct->ntables && taken != all; w++) {
			struct fg_conntrack_table *tb = w < 0 ? own : ct->tables[w];
			uint64_t hits = 0;

			if (w >= 0 && tb == own)
				continue;
			if (rte_hash_lookup_with_hash_bulk_data(tb->hash, kp, sig, n, &hits, data) < 0)
				continue;
			hits &= ~taken;
			while (hits) {
				unsigned i = (unsigned)__builtin_ctzll(hits);

				hits &= hits - 1;
				if (fg_ct_entry_state(tb, (uintptr_t)data[i], now) == FG_CT_LOOK_LIVE)
					taken |= UINT64_C(1) << i;
			}
		}
		if (taken != all) {
			*port = candidate(orig, base + (uint32_t)__builtin_ctzll(~taken));
			return 0;
		}
	}
	return -ENOSPC;
}

/* A cheap fingerprint of a path, compared per packet before the path itself. */
static inline uint32_t path_tag(const struct fg_endpoint *ep, uint16_t channel)
{
	uint32_t w[4];

	memcpy(w, ep->ip.addr, sizeof(w));
	return (w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u ^ ((uint32_t)ep->port << 16 | channel) ^ ep->ip.family;
}

/* ---- creation ---------------------------------------------------------------------------- */

/* What a new entry starts from. */
struct ct_new {
	uint32_t slot, gen, epoch;
	const struct fg_natpkt *np;
	const struct fg_ip *client, *dst, *real;   /* real: NULL for a flow */
	uint16_t out_port;
	const struct fg_conntrack_out *o;
};

/* A free entry index (recycling those past their grace period first), or UINT32_MAX. */
static uint32_t take_free(struct fg_conntrack_table *t)
{
	if (t->nfree == 0)
		rte_rcu_qsbr_dq_reclaim(t->dq, FG_CT_RECLAIM_BATCH, NULL, NULL, NULL);
	return t->nfree ? t->free[--t->nfree] : UINT32_MAX;
}

/* Writes entry idx (not yet reachable) and puts it on the live list. */
static void fill(struct fg_conntrack_table *t, uint32_t idx, const struct ct_new *c, uint64_t now)
{
	struct fg_conntrack_entry *e = &t->e[idx];
	const struct fg_natpkt *np = c->np;
	bool echo = np->l4 == FG_NATPKT_ECHO_REQUEST;

	rte_seqcount_write_begin(&e->seq);
	e->proto = np->proto;
	e->family = np->family;
	e->nat = c->real != NULL;
	e->in_port = np->sport;
	e->out_port = c->real ? c->out_port : np->sport;
	e->dst_port = echo ? 0 : np->dport;
	e->slot = c->slot;
	e->gen = c->gen;
	e->epoch = c->epoch;
	e->dst = *c->dst;
	memset(&e->real, 0, sizeof(e->real));
	if (c->real)
		e->real = *c->real;
	e->last_out_ns = now;
	e->tx_packets = e->tx_bytes = 0;
	e->out_flags = 0;
	e->last_in_ns = 0;
	e->rx_packets = e->rx_bytes = 0;
	e->in_flags = 0;
	e->created_ns = now;
	e->client = *c->client;
	e->n_outers = 0;
	memset(e->outers, 0, sizeof(e->outers));
	memset(e->channels, 0, sizeof(e->channels));
	memset(e->resource_id, 0, sizeof(e->resource_id));
	if (c->o->resource_id)
		strncpy(e->resource_id, c->o->resource_id, sizeof(e->resource_id) - 1);
	e->path_tag = 0;
	if (c->o->outer) {
		e->outers[0] = *c->o->outer;
		e->channels[0] = c->o->channel;
		e->n_outers = 1;
		e->path_tag = path_tag(c->o->outer, c->o->channel);
	}
	e->live_pos = t->nlive;
	t->live[t->nlive++] = idx;
	__atomic_store_n(&e->state, FG_CT_LIVE, __ATOMIC_RELEASE);
	rte_seqcount_write_end(&e->seq);
}

/* A new entry of own with its keys published (one for a flow, two for a NAT tuple).
 * FG_DROP_NONE and *idx, or NAT_TABLE_FULL. */
static enum fg_drop create(struct fg_conntrack *ct, struct fg_conntrack_table *own, const struct ct_new *c,
			   uint64_t now, uint32_t *idx)
{
	struct fg_conntrack_key k1, k2;
	uint32_t i = take_free(own);

	if (i == UINT32_MAX)
		return FG_DROP_NAT_TABLE_FULL;
	fill(own, i, c, now);
	fg_ct_entry_keys(&own->e[i], &k1, &k2);
	if (rte_hash_add_key_data(own->hash, &k1, (void *)(uintptr_t)i) < 0)
		goto err;
	if (c->real && rte_hash_add_key_data(own->hash, &k2, (void *)(uintptr_t)i) < 0) {
		rte_hash_del_key(own->hash, &k1);
		goto err;
	}
	if (c->real) {
		own->cnt.created++;
		own->cnt.nat_live++;
	}
	own->cnt.flows_started++;
	own->cnt.flows_live++;
	fg_conntrack_record(ct, own, &own->e[i], FG_CTL_FLOW_STARTED, 0, now);
	*idx = i;
	return FG_DROP_NONE;
err:
	/* The first key may have been seen: the entry waits for a grace period like any. */
	fg_conntrack_unlink(own, i);
	return FG_DROP_NAT_TABLE_FULL;
}

/* ---- the packets' effects on an entry ------------------------------------------------------ */

/* A last-packet stamp: forward only, and in steps of at least FG_CT_STAMP_NS so that the
 * line stays shared-clean between the workers of both directions. */
static inline void stamp(uint64_t *field, uint64_t now)
{
	uint64_t cur = __atomic_load_n(field, __ATOMIC_RELAXED);

	if (now > cur && (now - cur >= FG_CT_STAMP_NS || cur == 0))
		__atomic_store_n(field, now, __ATOMIC_RELAXED);
}

static inline void set_flags(uint32_t *field, uint32_t f)
{
	if (f && (__atomic_load_n(field, __ATOMIC_RELAXED) & f) != f)
		__atomic_fetch_or(field, f, __ATOMIC_RELAXED);
}

static inline uint32_t tcp_flags(const struct fg_natpkt *np, uint32_t fin, uint32_t rst)
{
	if (np->l4 != FG_NATPKT_TCP)
		return 0;
	return ((np->tcp_flags & FG_NATPKT_FIN) ? fin : 0) | ((np->tcp_flags & FG_NATPKT_RST) ? rst : 0);
}

/* The owner keeps the paths the client's packets came over: a new one is appended (while
 * there is room). */
static void follow_path(struct fg_conntrack_entry *e, const struct fg_conntrack_out *o)
{
	uint32_t tag = path_tag(o->outer, o->channel);
	unsigned last = e->n_outers - 1u;

	if (likely(tag == e->path_tag && e->n_outers))
		return;
	if (e->n_outers && e->channels[last] == o->channel && fg_endpoint_equal(&e->outers[last], o->outer)) {
		e->path_tag = tag;
		return;
	}
	if (e->n_outers == FG_CTL_FLOW_MAX_OUTERS)
		return;
	e->outers[e->n_outers] = *o->outer;
	e->channels[e->n_outers++] = o->channel;
	e->path_tag = tag;
}

/* A client -> resource packet on e (of table t). The owner (the keypair's worker, nearly
 * always) counts with plain loads and stores; another worker (a keypair that moved) with
 * fetch-adds, and leaves the paths alone: a count of the owner's may then lose one of
 * another's that raced it, never more. */
static void count_out(struct fg_conntrack_table *t, struct fg_conntrack_table *own, struct fg_conntrack_entry *e,
		      const struct fg_natpkt *np, const struct fg_conntrack_out *o, uint64_t now)
{
	if (likely(t == own)) {
		__atomic_store_n(&e->tx_packets, __atomic_load_n(&e->tx_packets, __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&e->tx_bytes, __atomic_load_n(&e->tx_bytes, __ATOMIC_RELAXED) + np->payload,
				 __ATOMIC_RELAXED);
		if (o->outer)
			follow_path(e, o);
	} else {
		__atomic_fetch_add(&e->tx_packets, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&e->tx_bytes, np->payload, __ATOMIC_RELAXED);
	}
	stamp(&e->last_out_ns, now);
	set_flags(&e->out_flags, tcp_flags(np, FG_CT_FIN_OUT, FG_CT_RST_OUT));
}

static void count_in(struct fg_conntrack_entry *e, const struct fg_natpkt *np, uint32_t bytes, uint64_t now)
{
	__atomic_fetch_add(&e->rx_packets, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->rx_bytes, bytes, __ATOMIC_RELAXED);
	stamp(&e->last_in_ns, now);
	set_flags(&e->in_flags, FG_CT_REPLIED | tcp_flags(np, FG_CT_FIN_IN, FG_CT_RST_IN));
}

/* ---- client -> resource ------------------------------------------------------------------ */

static inline uint32_t peer_gen(const struct fg_conntrack *ct, uint32_t slot)
{
	return __atomic_load_n(&ct->peers->peers[slot].gen, __ATOMIC_RELAXED);
}

static inline uint32_t peer_epoch(const struct fg_conntrack *ct, uint32_t slot)
{
	return __atomic_load_n(&ct->epoch[slot], __ATOMIC_ACQUIRE);
}

/* The entry of k (creating it from c when there is none), or NAT_TABLE_FULL. */
static enum fg_drop find_or_create(struct fg_conntrack *ct, struct fg_conntrack_table *own,
				   const struct fg_conntrack_key *k, struct ct_new *c, uint64_t now,
				   struct fg_conntrack_table **t, uint32_t *idx, bool nat)
{
	uint32_t stale;
	enum fg_drop r;

	if (find(ct, own, k, now, t, idx, &stale) == FG_CT_LOOK_LIVE)
		return FG_DROP_NONE;
	/* Past its timeout in our own table: closed now, as Firezone's handle_timeout would
	 * have done before this packet. */
	if (stale != UINT32_MAX)
		fg_conntrack_close(ct, own, stale, fg_conntrack_end_reason(&own->e[stale]), now);
	if (nat) {
		struct fg_conntrack_key ok;

		fg_ct_key_make(&ok, FG_CT_OUTSIDE, c->slot, c->gen, c->epoch, c->np->proto, c->real, 0, 0);
		if (alloc_port(ct, own, &ok, c->np->sport, now, &c->out_port) != 0)
			return FG_DROP_NAT_EXHAUSTED;
	}
	r = create(ct, own, c, now, idx);
	*t = own;
	return r;
}

/* The key of the entry a client packet belongs to: its NAT inside tuple, or its flow.
 * False when it has none (not TCP, UDP or an echo request; a proxy IP without an address of
 * its family; a flow not to be tracked): the per-packet path then says what to do. */
static bool out_key(const struct fg_conntrack *ct, const uint8_t *pkt, const struct fg_natpkt *np,
		    const struct fg_conntrack_out *o, struct fg_conntrack_key *k)
{
	bool echo = np->l4 == FG_NATPKT_ECHO_REQUEST;
	struct fg_ip dst;

	if (np->l4 != FG_NATPKT_TCP && np->l4 != FG_NATPKT_UDP && !echo)
		return false;
	if (o->nat ? o->nat->real.family != np->family : !o->track || !o->resource_id)
		return false;
	fg_natpkt_dst(pkt, np, &dst);
	/* A NAT reset leaves the client's other flows alone: their keys carry epoch 0. */
	fg_ct_key_make(k, o->nat ? FG_CT_INSIDE : FG_CT_FLOW, o->slot, peer_gen(ct, o->slot),
		       o->nat ? peer_epoch(ct, o->slot) : 0, np->proto, &dst, np->sport, o->nat || echo ? 0 : np->dport);
	return true;
}

/* A packet on a live entry e of table t: counted, and translated if e is a NAT tuple. */
static void on_entry(struct fg_conntrack_table *t, struct fg_conntrack_table *own, struct fg_conntrack_entry *e,
		     uint8_t *pkt, struct fg_natpkt *np, const struct fg_conntrack_out *o, uint64_t now)
{
	count_out(t, own, e, np, o, now);
	if (e->nat) {
		fg_natpkt_translate_out(pkt, np, &e->real, e->out_port);
		own->cnt.translated_out++;
	}
}

/* The per-packet path: the entry in any table, or a new one (a NAT tuple or a flow). */
static enum fg_drop slow_out(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *pkt,
			     struct fg_natpkt *np, const struct fg_conntrack_out *o, uint64_t now)
{
	struct fg_conntrack_key k;
	struct fg_conntrack_table *t;
	struct fg_ip dst, client;
	uint32_t idx;
	enum fg_drop r;

	if (!out_key(ct, pkt, np, o, &k)) {
		if (!o->nat)
			return FG_DROP_NONE;   /* not a flow we track */
		return o->nat->real.family != np->family ? FG_DROP_POLICY_NET_UNREACHABLE : FG_DROP_NAT_PROTO;
	}
	fg_natpkt_dst(pkt, np, &dst);
	fg_natpkt_src(pkt, np, &client);
	struct ct_new c = { .slot = o->slot, .gen = k.gen, .epoch = k.epoch, .np = np, .client = &client,
			    .dst = &dst, .real = o->nat ? &o->nat->real : NULL, .o = o };

	r = find_or_create(ct, own, &k, &c, now, &t, &idx, o->nat != NULL);
	if (r != FG_DROP_NONE) {
		if (o->nat)
			return r;
		own->cnt.flows_lost++;    /* untracked: the packet still goes */
		return FG_DROP_NONE;
	}
	on_entry(t, own, &t->e[idx], pkt, np, o, now);
	return FG_DROP_NONE;
}

void fg_conntrack_outbound_burst(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *const pkts[],
				 const uint32_t lens[], const struct fg_conntrack_out o[], unsigned n, uint64_t now,
				 enum fg_drop r[])
{
	struct fg_natpkt np[FG_CT_BURST];
	struct fg_conntrack_key keys[FG_CT_BURST];
	const void *kp[FG_CT_BURST];
	void *data[FG_CT_BURST];
	uint8_t at[FG_CT_BURST];
	bool ok[FG_CT_BURST];
	uint64_t hits = 0;
	unsigned m = 0, j = 0;

	if (n > FG_CT_BURST)
		n = FG_CT_BURST;
	/* The entries in our own table (the usual place) in one bulk lookup, then their lines
	 * prefetched while the rest of the burst is looked at. */
	for (unsigned i = 0; i < n; i++) {
		r[i] = FG_DROP_NONE;
		ok[i] = o[i].slot < ct->peers->max_peers && fg_natpkt_parse(pkts[i], lens[i], &np[i]) == 0;
		if (ok[i] && out_key(ct, pkts[i], &np[i], &o[i], &keys[m])) {
			kp[m] = &keys[m];
			at[m++] = (uint8_t)i;
		}
	}
	if (m && rte_hash_lookup_bulk_data(own->hash, kp, m, &hits, data) < 0)
		hits = 0;
	for (unsigned k = 0; k < m; k++) {
		uintptr_t v = (uintptr_t)data[k];

		if ((hits >> k & 1) && !(v & FG_CT_MARK) && v < own->capacity) {
			rte_prefetch0(&own->e[v]);
			rte_prefetch0(&own->e[v].last_out_ns);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (!ok[i]) {
			r[i] = FG_DROP_INNER_MALFORMED;
			continue;
		}
		if (j < m && at[j] == i) {
			uintptr_t v = (uintptr_t)data[j];
			bool hit = hits >> j++ & 1;

			/* An entry an earlier packet of the burst closed is DEAD by now. */
			if (hit && fg_ct_entry_state(own, v, now) == FG_CT_LOOK_LIVE) {
				on_entry(own, own, &own->e[v], pkts[i], &np[i], &o[i], now);
				continue;
			}
		}
		if (o[i].nat || (o[i].track && o[i].resource_id))
			r[i] = slow_out(ct, own, pkts[i], &np[i], &o[i], now);
	}
}

enum fg_drop fg_conntrack_outbound(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *pkt,
				   uint32_t len, const struct fg_conntrack_out *o, uint64_t now)
{
	enum fg_drop r;

	fg_conntrack_outbound_burst(ct, own, &pkt, &len, o, 1, now, &r);
	return r;
}

/* ---- resource -> client ------------------------------------------------------------------ */

/* An ICMP error that quotes a NATed packet: rebuilt in place from the proxy IP. */
static enum fg_drop icmp_in(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *pkt, uint32_t *len,
			    const struct fg_natpkt *np, uint32_t slot, uint32_t gen, uint32_t epoch, uint64_t now)
{
	struct fg_natpkt_quote q;
	struct fg_conntrack_key k;
	struct fg_conntrack_table *t;
	struct fg_conntrack_entry *e;
	struct fg_ip real;
	uint32_t idx, stale, n;

	if (fg_natpkt_parse_quote(pkt, np, &q) != 0)
		return FG_DROP_NONE;      /* quotes nothing we could have sent: not ours */
	memset(&real, 0, sizeof(real));
	real.family = np->family;
	memcpy(real.addr, pkt + q.off + (np->family == AF_INET ? 16 : 24), np->family == AF_INET ? 4 : 16);
	fg_ct_key_make(&k, FG_CT_OUTSIDE, slot, gen, epoch, q.proto, &real, q.sport, 0);
	switch (find(ct, own, &k, now, &t, &idx, &stale)) {
	case FG_CT_LOOK_LIVE:
		break;
	case FG_CT_LOOK_EXPIRED:
		return FG_DROP_NAT_EXPIRED;
	default:
		own->cnt.misses++;
		return FG_DROP_NONE;
	}
	if (!fg_natpkt_icmp_checksum_ok(pkt, np))
		return FG_DROP_TUN_MALFORMED;
	e = &t->e[idx];
	n = fg_natpkt_icmp_error(pkt, *len, pkt, np, &q, &e->dst, e->in_port);
	if (n == 0)
		return FG_DROP_TUN_MALFORMED;
	*len = n;
	/* As Firezone: an error about the flow counts as hearing from the server. */
	stamp(&e->last_in_ns, now);
	set_flags(&e->in_flags, FG_CT_REPLIED);
	own->cnt.icmp_translated++;
	return FG_DROP_NONE;
}

enum fg_drop fg_conntrack_inbound(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *pkt,
				  uint32_t *len, uint32_t slot, bool has_nat, uint64_t now)
{
	struct fg_natpkt np;
	struct fg_conntrack_key k;
	struct fg_conntrack_table *t;
	struct fg_ip src;
	uint32_t idx, stale, gen, epoch;

	if (slot >= ct->peers->max_peers || fg_natpkt_parse(pkt, *len, &np) != 0)
		return FG_DROP_NONE;      /* the inbound policy names what is malformed */
	gen = peer_gen(ct, slot);
	epoch = peer_epoch(ct, slot);
	if (has_nat && np.l4 == FG_NATPKT_ICMP_ERROR)
		return icmp_in(ct, own, pkt, len, &np, slot, gen, epoch, now);
	if (np.l4 != FG_NATPKT_TCP && np.l4 != FG_NATPKT_UDP && np.l4 != FG_NATPKT_ECHO_REPLY)
		return FG_DROP_NONE;
	fg_natpkt_src(pkt, &np, &src);
	if (has_nat) {
		fg_ct_key_make(&k, FG_CT_OUTSIDE, slot, gen, epoch, np.proto, &src, np.dport, 0);
		switch (find(ct, own, &k, now, &t, &idx, &stale)) {
		case FG_CT_LOOK_LIVE: {
			struct fg_conntrack_entry *e = &t->e[idx];

			count_in(e, &np, np.payload, now);
			fg_natpkt_translate_in(pkt, &np, &e->dst, e->in_port);
			own->cnt.translated_in++;
			return FG_DROP_NONE;
		}
		case FG_CT_LOOK_EXPIRED:
			return FG_DROP_NAT_EXPIRED;
		default:
			own->cnt.misses++;
			break;
		}
	}
	if (__atomic_load_n(&ct->flows_enabled, __ATOMIC_RELAXED)) {
		fg_ct_key_make(&k, FG_CT_FLOW, slot, gen, 0, np.proto, &src, np.dport,
			       np.l4 == FG_NATPKT_ECHO_REPLY ? 0 : np.sport);
		if (find(ct, own, &k, now, &t, &idx, &stale) == FG_CT_LOOK_LIVE)
			count_in(&t->e[idx], &np, np.payload, now);
	}
	return FG_DROP_NONE;
}
