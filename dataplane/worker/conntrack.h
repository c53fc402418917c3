/* SPDX-License-Identifier: MIT */
/*
 * The connection table: the DNS-resource NAT of every policy client (reference §4.3,
 * Firezone's nat_table.rs) and the flows behind its flow records, in one table per worker.
 *
 * Threads. Each worker owns one struct fg_conntrack_table: it alone creates, expires and
 * frees its entries and writes its rte_hash (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF, single
 * writer). Every worker reads every table without locks: a client's packets are decrypted on
 * its keypair's owner (usually one worker) but its replies come from the TUN on any queue.
 * Hash key slots and entries are reused only after a QSBR grace period of the workers
 * (dp->tables.qsbr: the hash's own defer queue and one for entries), so an entry a reader
 * found stays that entry for the rest of its iteration. On a shared entry, what other
 * workers write are relaxed atomics: packet and byte counts (fetch-add), last-packet stamps
 * (store) and flag bits (fetch-or). The service lcore never writes a table: it reads entries
 * through their seqlock (NAT_DUMP, fg_conntrack_snapshot), stores the flow-log flag, bumps a
 * peer slot's NAT epoch (fg_conntrack_reset_peer) and drains the flow records.
 *
 * Keys carry the peer slot, its generation (peers.h, bumped when a slot is freed or reused)
 * and, for NAT tuples, its NAT epoch: a removed peer or a reused slot makes every old entry
 * unreachable at once, a NAT reset every old NAT tuple (the client's other flows stay); the
 * owner's sweep then closes them (end RESET).
 *
 * Behaviour (nat_table.rs): a client -> resource packet to a proxy IP maps the inside tuple
 * (proto, source port or echo id, proxy IP) to the outside tuple (proto, outside port, real
 * IP), the outside port being the first port >= the original, wrapping to 1, that no live
 * tuple of the same client, protocol and real IP holds in any worker's table (none free:
 * NAT_EXHAUSTED). A tuple lives from its last packet for 2 h 4 min (TCP) or 2 min (UDP,
 * ICMP); 60 s after its last packet out while no reply came; 5 s after the last packet once
 * FIN went both ways; not past its last packet after a RST either way. An expired outside
 * tuple is remembered (per worker, the oldest forgotten first): a packet that still matches
 * it is dropped (NAT_EXPIRED) until a new mapping takes it. Timeouts are checked when a
 * packet finds a tuple and by each worker's incremental sweep (a bounded batch per
 * millisecond, fg_conntrack_tick, that goes over the live entries in about a second): a
 * record's end time is the timeout's, not the sweep's.
 *
 * Flows: every NAT tuple is a flow; while flow logs are on (FLOWS_SET), every other TCP, UDP
 * or echo flow of a policy client to a resource is one too (key: proto, client port, remote
 * IP, remote port), closing 2 min after its last packet, 5 s after FIN both ways, or at
 * once after a RST. A flow's start and end go to the service lcore as struct
 * fg_conntrack_record on a bounded ring (full: flows_lost, never a wait).
 *
 * The race left: the inside tuple is looked up in every table before a worker creates one,
 * and the outside port is checked against every table, but two workers that create a tuple
 * of the same client at the same instant (only around a change of the keypair's owner:
 * packets of the old and the new keypair in flight on two workers) do not see each other's
 * insert. The same inside tuple may then exist twice (its packets split between two tuples
 * and two flow records), or two inside tuples may take the same outside port for the same
 * real IP: the replies on that port then go to whichever tuple a reader finds first (its
 * own table first, then by worker index), and the other flow's peer sees foreign segments
 * until one tuple expires. Both heal at expiry.
 */
#ifndef FG_CONNTRACK_H
#define FG_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_seqcount.h>

#include "addr.h"
#include "counters.h"
#include "ctlproto.h"
#include "peers.h"
#include "policy_nat.h"

#define FG_CT_NS_PER_S 1000000000ULL
#define FG_CT_TCP_TTL_NS ((2 * 3600 + 4 * 60) * FG_CT_NS_PER_S)
#define FG_CT_UDP_TTL_NS (120 * FG_CT_NS_PER_S)
#define FG_CT_ICMP_TTL_NS (120 * FG_CT_NS_PER_S)
#define FG_CT_UNCONFIRMED_TTL_NS (60 * FG_CT_NS_PER_S)
#define FG_CT_FIN_LINGER_NS (5 * FG_CT_NS_PER_S)
#define FG_CT_FLOW_IDLE_NS (120 * FG_CT_NS_PER_S)

enum {
	FG_CT_MAX_TABLES = 16,           /* one per worker (FG_MAX_WORKERS) */
	FG_CT_DEFAULT_CAPACITY = 65536,  /* tuples per worker */
	FG_CT_MIN_CAPACITY = 64,
	FG_CT_MAX_CAPACITY = 1 << 22,
	FG_CT_RECORD_RING = 8192,        /* flow records in flight to the service lcore */
	FG_CT_BURST = 64,                /* packets of one fg_conntrack_outbound_burst() */
	FG_CT_SWEEP_BATCH = 256,         /* entries the sweep looks at per millisecond, at most */
	FG_CT_SWEEP_MIN = 8,             /* ... at least (when there are that many) */
	FG_CT_SWEEP_PASS_MS = 1000,      /* ... so that a pass over the live ones takes ~1 s */
	FG_CT_RECLAIM_BATCH = 256,       /* freed entries recycled per tick */
	FG_CT_STAMP_NS = 1000000,        /* last-packet stamps move in steps of at least 1 ms */
};

/* struct fg_conntrack_entry.out_flags / in_flags, and NAT_INFO's flags (ctlproto.h). */
enum fg_ct_flag {
	FG_CT_REPLIED = 1 << 0,          /* in_flags: a packet came back */
	FG_CT_FIN_OUT = 1 << 1,          /* out_flags */
	FG_CT_FIN_IN = 1 << 2,           /* in_flags */
	FG_CT_RST_OUT = 1 << 3,          /* out_flags */
	FG_CT_RST_IN = 1 << 4,           /* in_flags (NAT_INFO reports either RST as 8) */
};

enum fg_ct_kind {
	FG_CT_INSIDE = 1,                /* NAT: (proto, client port, proxy IP) */
	FG_CT_OUTSIDE,                   /* NAT: (proto, outside port, real IP) */
	FG_CT_FLOW,                      /* other flows: (proto, client port, remote port, remote IP) */
};

/* The hash key: every byte set (pads zeroed), IPv4 in the first 4 bytes of addr. */
struct fg_conntrack_key {
	uint8_t addr[16];
	uint32_t slot;
	uint32_t gen;
	uint32_t epoch;
	uint16_t port;
	uint16_t rport;                  /* FG_CT_FLOW: the remote port (0 for echo); else 0 */
	uint8_t proto;
	uint8_t family;
	uint8_t kind;
	uint8_t pad;
};
_Static_assert(sizeof(struct fg_conntrack_key) == 36, "conntrack key layout");

enum fg_ct_state {
	FG_CT_FREE = 0,
	FG_CT_LIVE,
	FG_CT_DEAD,                      /* closed, waiting for the grace period */
};

/*
 * One tuple or flow. A packet touches two cache lines of it: line 0, written by the owner
 * before the keys are published and then only read (but path_tag, the owner's), and line
 * 1, the atomics of both directions (one line: each direction's timeout needs the other's
 * stamps and flags anyway). The rest is the owner's, read when it opens or closes. seq is
 * the service lcore's seqlock: odd while the owner rewrites the entry.
 */
struct fg_conntrack_entry {
	rte_seqcount_t seq;
	uint8_t state;                   /* enum fg_ct_state */
	uint8_t proto;
	uint8_t family;
	uint8_t nat;                     /* a NAT tuple (else a flow only) */
	uint16_t in_port;                /* the client's source port or echo id */
	uint16_t out_port;               /* NAT: the outside port; flow: = in_port */
	uint16_t dst_port;               /* the remote port of the first packet (0 for echo) */
	uint8_t n_outers;                /* the owner's: paths in outers[] */
	uint8_t pad;
	uint32_t path_tag;               /* the owner's: fingerprint of outers[n_outers - 1] */
	struct fg_ip dst;                /* the proxy IP (NAT) or the remote IP */
	struct fg_ip real;               /* NAT: the real IP; family 0 otherwise */
	uint8_t pad1[10];
	/* client -> resource and back, any worker: relaxed atomics */
	uint64_t last_out_ns __rte_cache_aligned;
	uint64_t last_in_ns;             /* 0: no reply yet */
	uint64_t tx_packets, tx_bytes;   /* bytes: layer-4 payload. The owner: load and store; another worker: fetch-add */
	uint64_t rx_packets, rx_bytes;   /* fetch-add (replies come from any worker's TUN queue) */
	uint32_t out_flags;
	uint32_t in_flags;
	/* the owner's */
	uint32_t slot, gen, epoch;
	uint32_t live_pos;               /* position in the table's live list */
	uint64_t created_ns __rte_cache_aligned;
	struct fg_ip client;             /* the client's tunnel IP (the packet's source) */
	uint16_t channels[FG_CTL_FLOW_MAX_OUTERS];
	struct fg_endpoint outers[FG_CTL_FLOW_MAX_OUTERS];
	char resource_id[FG_CTL_ID_LEN];
} __rte_cache_aligned;
_Static_assert(__builtin_offsetof(struct fg_conntrack_entry, real) + sizeof(struct fg_ip) <= 64,
	       "what a packet reads of an entry is line 0");
_Static_assert(__builtin_offsetof(struct fg_conntrack_entry, in_flags) + 4 <= 128,
	       "the atomics share line 1");

/* Per-worker counters (each worker writes its own; the service lcore sums them). */
struct fg_conntrack_counters {
	uint64_t translated_out;         /* client -> resource packets rewritten */
	uint64_t translated_in;          /* resource -> client packets rewritten */
	uint64_t icmp_translated;        /* ICMP errors rebuilt from the proxy IP */
	uint64_t created;                /* NAT tuples created (owner) */
	uint64_t expired;                /* NAT tuples closed (owner) */
	uint64_t misses;                 /* resource -> NAT client packets without a tuple */
	uint64_t nat_live;               /* NAT tuples live (owner) */
	uint64_t flows_started;          /* every tracked entry, NAT ones too (owner) */
	uint64_t flows_completed;
	uint64_t flows_live;
	uint64_t flows_lost;             /* records not queued (ring full) or flows not tracked
					  * (table full) */
};

/* An expired outside tuple remembered (the FIFO of a table). */
struct fg_conntrack_expired {
	struct fg_conntrack_key key;
	uint32_t mark;                   /* the hash value's low bits while it is remembered */
};

struct fg_conntrack_table {
	struct rte_hash *hash;           /* key -> entry index, or FG_CT_MARK | mark (expired) */
	struct fg_conntrack_entry *e;    /* capacity entries */
	uint32_t capacity;
	unsigned idx;                    /* the owner's worker index */
	/* the owner's */
	uint32_t *free;
	uint32_t nfree;
	uint32_t *live;                  /* indices of live entries: what the sweep walks */
	uint32_t nlive;
	uint32_t sweep_pos;
	uint64_t next_sweep_ns;
	struct rte_rcu_qsbr_dq *dq;      /* closed entries waiting for a grace period */
	struct fg_conntrack_expired *expired;
	uint32_t exp_cap, exp_head, exp_n;
	uint32_t exp_mark;
	/* this worker's counters (it counts its own packets on any table) */
	struct fg_conntrack_counters cnt __rte_cache_aligned;
} __rte_cache_aligned;

/* A flow record, worker -> service lcore (times monotonic ns: fg_clock_ns). */
struct fg_conntrack_record {
	uint8_t kind;                    /* FG_CTL_FLOW_STARTED / _COMPLETED */
	uint8_t end;                     /* enum fg_ctl_flow_end (COMPLETED) */
	uint8_t proto;
	uint8_t n_outers;
	uint32_t slot, gen;
	uint16_t src_port, dst_port;
	struct fg_ip src, dst, real;
	uint8_t pad;
	uint16_t channels[FG_CTL_FLOW_MAX_OUTERS];
	struct fg_endpoint outers[FG_CTL_FLOW_MAX_OUTERS];
	uint64_t start_ns, last_ns, end_ns;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	char resource_id[FG_CTL_ID_LEN];
};
_Static_assert(sizeof(struct fg_conntrack_record) % 8 == 0, "rte_ring element size");

/* Who a removed peer slot's late flow records belong to (service lcore only). */
struct fg_conntrack_memo {
	uint32_t gen;
	uint8_t used;
	uint8_t public_key[32];
};

/* The data plane's connection tables (struct fg_dp's ct). */
struct fg_conntrack {
	struct fg_conntrack_table *tables[FG_CT_MAX_TABLES];
	unsigned ntables;
	const struct fg_tables *peers;   /* for the slots' generations */
	uint32_t *epoch;                 /* per peer slot: bumped by the service lcore */
	uint32_t flows_enabled;          /* FLOWS_SET: stored by the service lcore */
	struct rte_ring *records;        /* MP/SC: struct fg_conntrack_record */
	/* the service lcore's */
	struct fg_conntrack_memo *memo;  /* per peer slot */
	uint64_t records_lost;           /* records the control plane did not take */
};

/* ---- set-up (main lcore, before the workers start) --------------------------------------- */

/* One table of capacity tuples for each of nworkers workers, keys and entries reclaimed
 * through qsbr (thread id = worker index), the epochs of peers->max_peers slots, the record
 * ring. 0, -EINVAL or -ENOMEM (nothing held). */
int fg_conntrack_init(struct fg_conntrack *ct, unsigned nworkers, uint32_t capacity, const struct fg_tables *peers,
		      struct rte_rcu_qsbr *qsbr);
/* Frees everything; a no-op on a zeroed struct. */
void fg_conntrack_free(struct fg_conntrack *ct);

/* ---- workers -------------------------------------------------------------------------------- */

/* A client -> resource packet after its policy allowed it. */
struct fg_conntrack_out {
	uint32_t slot;                   /* the client's peer slot */
	const struct fg_policy_nat *nat; /* the destination's translation, NULL: no proxy IP */
	const char *resource_id;         /* the policy's winner, NULL when none */
	const struct fg_endpoint *outer; /* the path it came over (the relay when channel != 0) */
	uint16_t channel;
	bool track;                      /* track it as a flow (flow logs on, a resource) */
};

/*
 * Translates (NAT) and tracks one packet of len bytes the client sent, in place. Returns
 * FG_DROP_NONE, or the drop: NAT_PROTO (not TCP, UDP or echo request, or a fragment, to a
 * proxy IP), NAT_EXHAUSTED, NAT_TABLE_FULL, POLICY_NET_UNREACHABLE (a proxy IP without an
 * address of its family), INNER_MALFORMED. own is the calling worker's table.
 */
enum fg_drop fg_conntrack_outbound(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *pkt,
				   uint32_t len, const struct fg_conntrack_out *o, uint64_t now);
/* fg_conntrack_outbound() for up to FG_CT_BURST packets of one worker, in order, their
 * entries looked up in own first in one bulk lookup (the cache lines prefetched): r[i] is
 * packet i's verdict. */
void fg_conntrack_outbound_burst(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *const pkts[],
				 const uint32_t lens[], const struct fg_conntrack_out o[], unsigned n, uint64_t now,
				 enum fg_drop r[]);

/*
 * A resource -> client packet read from the TUN for the policy client of slot, before its
 * inbound policy: a reply on a NAT tuple gets the proxy IP and the client's port back, an
 * ICMP error quoting a NATed packet is rebuilt in place from the proxy IP (*len shrinks,
 * the buffer holds at least the original length), a tracked flow counts it. has_nat: the
 * client has proxy IPs (else only flows are looked at). Returns FG_DROP_NONE, NAT_EXPIRED
 * (a tuple that expired) or TUN_MALFORMED (an ICMP error to be rebuilt with a bad checksum).
 */
enum fg_drop fg_conntrack_inbound(struct fg_conntrack *ct, struct fg_conntrack_table *own, uint8_t *pkt,
				  uint32_t *len, uint32_t slot, bool has_nat, uint64_t now);

/* The owner's upkeep, every poll: at most once a millisecond, sweeps a batch of entries
 * (closing the expired and those of a removed peer or reset NAT: nlive / FG_CT_SWEEP_PASS_MS
 * + FG_CT_SWEEP_MIN, at most FG_CT_SWEEP_BATCH) and recycles entries past their grace
 * period. */
void fg_conntrack_tick(struct fg_conntrack *ct, struct fg_conntrack_table *t, uint64_t now);
/* Sweeps up to budget live entries at once (tests, shutdown); returns the entries closed. */
unsigned fg_conntrack_sweep(struct fg_conntrack *ct, struct fg_conntrack_table *t, uint64_t now, uint32_t budget);

/* ---- the service lcore -------------------------------------------------------------------- */

/* NAT_SET with FG_CTL_NAT_RESET (the client renumbered its proxy IPs): every NAT tuple of
 * the peer in slot becomes unreachable at once (its other flows stay); the owners close
 * them (end RESET). A removed peer or a reused slot needs no call: its generation moved. */
void fg_conntrack_reset_peer(struct fg_conntrack *ct, uint32_t slot);
/* FLOWS_SET. */
void fg_conntrack_set_flows(struct fg_conntrack *ct, bool enabled);
/* The counters summed over the workers; nat_live / flows_live as the owners count them. */
void fg_conntrack_stats(const struct fg_conntrack *ct, struct fg_conntrack_counters *sum);
/* A consistent copy of entry i of table t if it is live, of a peer still in its slot and
 * NAT epoch, and not past its timeout at now; false otherwise (also while the owner
 * rewrites it). */
bool fg_conntrack_snapshot(const struct fg_conntrack *ct, const struct fg_conntrack_table *t, uint32_t i,
			   uint64_t now, struct fg_conntrack_entry *out);

/* ---- inside the module: conntrack.c, conntrack_sweep.c (and its tests) ------------------------ */

/* A hash value with this bit is an expired outside tuple remembered (its low 32 bits the
 * mark of its place in the table's FIFO); without it, the index of a live entry. */
#define FG_CT_MARK (UINT64_C(1) << 62)

enum fg_ct_look {
	FG_CT_LOOK_MISS = 0,
	FG_CT_LOOK_LIVE,
	FG_CT_LOOK_EXPIRED,
};

static inline void fg_ct_key_make(struct fg_conntrack_key *k, uint8_t kind, uint32_t slot, uint32_t gen,
				  uint32_t epoch, uint8_t proto, const struct fg_ip *ip, uint16_t port, uint16_t rport)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, ip->addr, ip->family == AF_INET ? 4 : 16);
	k->slot = slot;
	k->gen = gen;
	k->epoch = epoch;
	k->port = port;
	k->rport = rport;
	k->proto = proto;
	k->family = ip->family;
	k->kind = kind;
}

/* An entry's keys: the inside (NAT) or flow key in k1, the outside key (NAT) in k2. */
static inline void fg_ct_entry_keys(const struct fg_conntrack_entry *e, struct fg_conntrack_key *k1,
				    struct fg_conntrack_key *k2)
{
	if (e->nat) {
		fg_ct_key_make(k1, FG_CT_INSIDE, e->slot, e->gen, e->epoch, e->proto, &e->dst, e->in_port, 0);
		fg_ct_key_make(k2, FG_CT_OUTSIDE, e->slot, e->gen, e->epoch, e->proto, &e->real, e->out_port, 0);
	} else {
		fg_ct_key_make(k1, FG_CT_FLOW, e->slot, e->gen, e->epoch, e->proto, &e->dst, e->in_port, e->dst_port);
	}
}

static inline uint64_t fg_ct_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* When e expires (nat_table.rs EntryState::remove_at; a flow: 2 min idle), in fg_clock_ns()
 * time, from its atomics as they are now (e may be a snapshot). */
static inline uint64_t fg_conntrack_deadline(const struct fg_conntrack_entry *e)
{
	uint64_t out = __atomic_load_n(&e->last_out_ns, __ATOMIC_RELAXED);
	uint64_t in = __atomic_load_n(&e->last_in_ns, __ATOMIC_RELAXED);
	uint32_t f = __atomic_load_n(&e->out_flags, __ATOMIC_RELAXED) | __atomic_load_n(&e->in_flags, __ATOMIC_RELAXED);
	uint64_t last = in > out ? in : out, d;

	if (!e->nat)
		d = last + FG_CT_FLOW_IDLE_NS;
	else if (e->proto == 6)
		d = last + FG_CT_TCP_TTL_NS;
	else
		d = last + (e->proto == 17 ? FG_CT_UDP_TTL_NS : FG_CT_ICMP_TTL_NS);
	if (e->nat && !(f & FG_CT_REPLIED))
		d = fg_ct_min(d, out + FG_CT_UNCONFIRMED_TTL_NS);
	if ((f & (FG_CT_FIN_OUT | FG_CT_FIN_IN)) == (FG_CT_FIN_OUT | FG_CT_FIN_IN))
		d = fg_ct_min(d, last + FG_CT_FIN_LINGER_NS);
	if (f & (FG_CT_RST_OUT | FG_CT_RST_IN))
		d = fg_ct_min(d, last);
	return d;
}

/* What the hash value v found in t means at now. */
static inline enum fg_ct_look fg_ct_entry_state(const struct fg_conntrack_table *t, uint64_t v, uint64_t now)
{
	const struct fg_conntrack_entry *e;

	if (v & FG_CT_MARK)
		return FG_CT_LOOK_EXPIRED;
	if (v >= t->capacity)
		return FG_CT_LOOK_MISS;
	e = &t->e[v];
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != FG_CT_LIVE)
		return FG_CT_LOOK_MISS;
	return now >= fg_conntrack_deadline(e) ? FG_CT_LOOK_EXPIRED : FG_CT_LOOK_LIVE;
}

/* conntrack_sweep.c, the owner of the table only. */
/* Why e ended when it expired on its own: a RST, FIN both ways, else idle. */
uint8_t fg_conntrack_end_reason(const struct fg_conntrack_entry *e);
/* Closes live entry idx of t: keys withdrawn (a NAT tuple's outside key remembered as
 * expired unless end is RESET), COMPLETED record, the entry freed after a grace period. */
void fg_conntrack_close(struct fg_conntrack *ct, struct fg_conntrack_table *t, uint32_t idx, uint8_t end,
			uint64_t now);
/* Takes entry idx off the live list and hands it to the grace period (no record). */
void fg_conntrack_unlink(struct fg_conntrack_table *t, uint32_t idx);
/* Queues e's STARTED or COMPLETED record (a full ring: flows_lost). */
void fg_conntrack_record(struct fg_conntrack *ct, struct fg_conntrack_table *t, const struct fg_conntrack_entry *e,
			 uint8_t kind, uint8_t end, uint64_t now);

#endif
