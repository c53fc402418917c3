/* SPDX-License-Identifier: MIT */
/*
 * The peer and keypair tables shared by the service lcore and the workers. The service
 * lcore is the only writer: it creates and retires peers and keypairs, publishes keypair
 * slots with release stores and reclaims slots only after an RCU (QSBR) grace period, so
 * workers read everything here lock-free. What workers write, each with a rule that avoids
 * races: a keypair's send counter (atomic fetch-add, any worker), rx_owner (CAS from
 * NONE, any worker), its replay window (only the lcore that claimed rx_owner), its one-shot
 * flags confirm_sent and rekey_requested (atomic stores of 1, any worker; the service
 * lcore zeroes them when it allocates the slot, before workers can see it), a peer's
 * event_pending (CAS, any worker; cleared by the service lcore), and the per-peer
 * activity stamps and byte counters (relaxed atomics, last writer wins). Peers and
 * keypairs are referred to by slot index; messages crossing rings also carry the peer's
 * generation.
 */
#ifndef FG_PEERS_H
#define FG_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_seqlock.h>

#include "addr.h"
#include "replay.h"

struct fg_policy;

/* Macros, not an enum: UINT32_MAX is not an int (pedantic C11). */
#define FG_SLOT_NONE  UINT32_MAX
#define FG_OWNER_NONE UINT32_MAX

enum fg_kp_role {
	FG_KP_CURRENT = 0,
	FG_KP_PREVIOUS,
	FG_KP_NEXT,
	FG_KP_ROLES,
};

struct fg_keypair {
	uint8_t send_key[32];
	uint8_t recv_key[32];
	uint64_t birth_ns;
	uint32_t local_index;
	uint32_t remote_index;
	uint32_t peer;            /* peer slot */
	uint32_t peer_gen;
	uint8_t initiator;
	uint8_t live;             /* cleared (release) before the slot is retired */
	uint8_t confirm_sent;     /* a worker already reported first use of a NEXT keypair
				   * (any worker: atomic; release store, acquire load by the TX path) */
	uint8_t rekey_requested;  /* a worker already asked for a rekey on this keypair (any
				   * worker: relaxed atomics, since it guards no data: two workers
				   * racing past it cost one duplicate WANT_HANDSHAKE at most) */
	uint8_t bench;            /* a fixed test session of a bench build (benchlap.h), set by
				   * the service lcore before the keypair is published; 0 always
				   * in other builds */
	uint32_t rx_owner;        /* worker index that owns the replay window; CAS from NONE */
	uint64_t send_counter __rte_cache_aligned;      /* fetch-add by any worker */
	struct fg_wg_replay replay __rte_cache_aligned; /* rx_owner only */
} __rte_cache_aligned;

/* Where a peer's packets go: written by the service lcore under the seqlock. A tagged
 * value: direct (channel 0, ep the peer's endpoint) or relayed (ep a TURN relay, channel
 * the ChannelData channel it has bound to the peer: envelope.h wraps every datagram).
 * Paths compare equal by ep and channel (fg_peer_path_same). */
struct fg_peer_path {
	struct fg_endpoint ep;    /* ep.ip.family == 0: no endpoint */
	uint16_t channel;         /* 0 = direct; else 0x4000..0x4FFF on relay ep */
	struct rte_ether_addr mac;   /* next hop toward ep */
	uint8_t mac_ok;
};

struct fg_peer {
	uint32_t kp[FG_KP_ROLES]; /* keypair slots, FG_SLOT_NONE when empty */
	uint32_t gen;             /* bumped (atomic store) when the slot is allocated or retired;
				   * a worker compares it with the one a seal request carries */
	uint8_t live;
	uint8_t event_pending;    /* a WANT_HANDSHAKE event is queued */
	rte_seqlock_t path_lock;
	struct fg_peer_path path;
	/* the client's authorizations (portal peers); NULL = a static peer, no policy.
	 * Published by the service lcore (release), freed after a grace period. */
	struct fg_policy *policy;
	/* activity, written by workers (relaxed), consumed by the service's timers */
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	uint64_t last_rx_data_ns;
	uint64_t last_tx_data_ns;
	uint64_t last_rx_auth_ns;
	uint64_t last_tx_auth_ns;
	uint64_t last_roam_event_ns;
	/* the client's budget of AssignedIps for the control plane (p2pctl.h: fg_p2pctl_admit),
	 * charged by workers with a CAS */
	uint64_t p2p_tat_ns;
} __rte_cache_aligned;

/* Worker → service notifications (an rte_ring of fixed-size elements). */
enum fg_event_type {
	FG_EV_WANT_HANDSHAKE = 1, /* no usable session, or a keypair wants rekeying */
	FG_EV_ROAM,               /* authenticated packet from a new endpoint */
	FG_EV_CONFIRM,            /* first data received on the NEXT keypair */
	FG_EV_GOODBYE,            /* the client sent a p2p Goodbye: remove its peer */
};

struct fg_event {
	uint8_t type;
	uint8_t pad[3];
	uint32_t peer;
	uint32_t gen;
	uint32_t keypair;
	struct fg_endpoint ep;    /* ROAM: the new path (the relay when channel != 0) */
	struct rte_ether_addr mac;
	uint16_t channel;
	uint8_t pad2[4];
};
_Static_assert(sizeof(struct fg_event) % 4 == 0, "rte_ring element size must be a multiple of 4");

struct fg_tables {
	struct fg_peer *peers;       /* max_peers */
	struct fg_keypair *kps;      /* max_keypairs */
	uint32_t max_peers;
	uint32_t max_keypairs;
	struct rte_hash *index;      /* receiver index → keypair slot; lock-free readers */
	struct rte_rcu_qsbr *qsbr;
	/* service-only bookkeeping */
	uint32_t *free_peers;
	uint32_t n_free_peers;
	uint32_t *free_kps;
	uint32_t n_free_kps;
	struct rte_rcu_qsbr_dq *peer_dq;
	struct rte_rcu_qsbr_dq *kp_dq;
	uint32_t n_peers;
};

/* Service lcore (writer) API. */
int fg_tables_init(struct fg_tables *t, uint32_t max_peers, uint32_t nworkers);
void fg_tables_free(struct fg_tables *t);
/* Returns a fresh peer slot (live, no keypairs, no path) or FG_SLOT_NONE. */
uint32_t fg_peer_alloc(struct fg_tables *t);
/* Retires every keypair of the peer, unpublishes it and frees the slot after a grace period. */
void fg_peer_retire(struct fg_tables *t, uint32_t slot);
void fg_peer_set_path(struct fg_tables *t, uint32_t slot, const struct fg_peer_path *path);
/* Allocates a keypair slot (not yet published) or FG_SLOT_NONE. */
uint32_t fg_keypair_alloc(struct fg_tables *t);
/* Publishes kp in the receiver-index table and installs it in role `role` of its peer:
 * CURRENT pushes the old current to PREVIOUS (retiring the old previous) and drops NEXT;
 * NEXT replaces NEXT. Returns 0 or -errno (the slot is retired on failure). */
int fg_keypair_install(struct fg_tables *t, uint32_t kp, enum fg_kp_role role);
/* Moves NEXT to CURRENT (responder confirmation) if kp is still NEXT. */
bool fg_keypair_confirm(struct fg_tables *t, uint32_t peer, uint32_t kp);
/* Retires every keypair of a peer (zero key material, expiry). */
void fg_peer_clear_keypairs(struct fg_tables *t, uint32_t slot);
/* Wipes the keys of every keypair slot, live or not: at exit, once the workers have
 * stopped, since the table's memory (huge pages) goes back with the EAL's unwiped. */
void fg_tables_wipe_keys(struct fg_tables *t);
/* Reclaims slots whose grace period has passed (call every service iteration). */
void fg_tables_reclaim(struct fg_tables *t);
/* True if the index is used by a published keypair. */
bool fg_index_in_use(const struct fg_tables *t, uint32_t index);

/* Worker (reader) helpers. */
static inline struct fg_keypair *fg_keypair_get(const struct fg_tables *t, uint32_t slot)
{
	return slot < t->max_keypairs ? &t->kps[slot] : NULL;
}

static inline uint32_t fg_peer_kp(const struct fg_peer *p, enum fg_kp_role role)
{
	return __atomic_load_n(&p->kp[role], __ATOMIC_ACQUIRE);
}

static inline void fg_peer_read_path(struct fg_peer *p, struct fg_peer_path *out)
{
	uint32_t sn;

	do {
		sn = rte_seqlock_read_begin(&p->path_lock);
		*out = p->path;
	} while (rte_seqlock_read_retry(&p->path_lock, sn));
}

/* The same path: endpoint and channel (the MAC follows from them). */
static inline bool fg_peer_path_same(const struct fg_peer_path *p, const struct fg_endpoint *ep, uint16_t channel)
{
	return p->channel == channel && fg_endpoint_equal(&p->ep, ep);
}

static inline void fg_stamp(uint64_t *field, uint64_t now)
{
	/* Only store when it moved by more than 1 ms: keeps the line shared-clean. */
	if (now - __atomic_load_n(field, __ATOMIC_RELAXED) > 1000000)
		__atomic_store_n(field, now, __ATOMIC_RELAXED);
}

#endif
