// SPDX-License-Identifier: MIT
/*
 * Writer side of the peer and keypair tables (see peers.h for the concurrency rules).
 * Everything here runs on the service lcore; slots go back to the free lists only from the
 * QSBR defer queues, i.e. after every worker has passed a quiescent state.
 */
#include "peers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <sodium.h>

#include "log.h"
#include "secmem.h"

static const char *const TAG = "fastgate.peers";

enum {
	/* Retired keypairs / peers freed per fg_tables_reclaim call: bounds the time one call
	 * takes on the service lcore; the rest wait for its next loop. */
	RECLAIM_MAX = 256,
};
static unsigned g_table_seq;

static void free_kp_cb(void *p, void *e, unsigned int n)
{
	struct fg_tables *t = p;
	const uint32_t *slots = e;

	for (unsigned i = 0; i < n; i++) {
		struct fg_keypair *kp = &t->kps[slots[i]];

		sodium_memzero(kp->send_key, sizeof(kp->send_key));
		sodium_memzero(kp->recv_key, sizeof(kp->recv_key));
		t->free_kps[t->n_free_kps++] = slots[i];
	}
}

static void free_peer_cb(void *p, void *e, unsigned int n)
{
	struct fg_tables *t = p;
	const uint32_t *slots = e;

	for (unsigned i = 0; i < n; i++)
		t->free_peers[t->n_free_peers++] = slots[i];
}

static struct rte_rcu_qsbr_dq *make_dq(struct fg_tables *t, const char *what, uint32_t size,
				       rte_rcu_qsbr_free_resource_t fn)
{
	char name[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct rte_rcu_qsbr_dq_parameters params = {
		.name = name,
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE,
		.size = size,
		.esize = sizeof(uint32_t),
		.trigger_reclaim_limit = 1,
		.max_reclaim_size = 64,
		.free_fn = fn,
		.p = t,
		.v = t->qsbr,
	};

	snprintf(name, sizeof(name), "fg%s%u", what, g_table_seq);
	return rte_rcu_qsbr_dq_create(&params);
}

int fg_tables_init(struct fg_tables *t, uint32_t max_peers, uint32_t nworkers)
{
	char name[RTE_HASH_NAMESIZE];
	size_t qsz;
	int ret = -ENOMEM, dd;

	memset(t, 0, sizeof(*t));
	g_table_seq++;
	t->max_peers = max_peers;
	/* current + previous + next per peer, and room for keypairs awaiting reclamation */
	t->max_keypairs = max_peers * 4 + 64;

	t->peers = rte_zmalloc("fg_peers", sizeof(*t->peers) * max_peers, RTE_CACHE_LINE_SIZE);
	t->kps = rte_zmalloc("fg_keypairs", sizeof(*t->kps) * t->max_keypairs, RTE_CACHE_LINE_SIZE);
	t->free_peers = calloc(max_peers, sizeof(uint32_t));
	t->free_kps = calloc(t->max_keypairs, sizeof(uint32_t));
	if (!t->peers || !t->kps || !t->free_peers || !t->free_kps)
		goto err;
	for (uint32_t i = 0; i < max_peers; i++) {
		t->free_peers[i] = max_peers - 1 - i;
		for (int r = 0; r < FG_KP_ROLES; r++)
			t->peers[i].kp[r] = FG_SLOT_NONE;
		rte_seqlock_init(&t->peers[i].path_lock);
	}
	t->n_free_peers = max_peers;
	for (uint32_t i = 0; i < t->max_keypairs; i++)
		t->free_kps[i] = t->max_keypairs - 1 - i;
	t->n_free_kps = t->max_keypairs;
	/* The transport keys stay out of a core dump even where FASTGATE_CORE_DUMPS allows one. */
	dd = fg_secmem_dontdump(t->kps, sizeof(*t->kps) * t->max_keypairs);
	if (dd < 0)
		fg_warn(TAG, "keypair table: cannot exclude it from core dumps: %s", strerror(-dd));

	qsz = rte_rcu_qsbr_get_memsize(nworkers ? nworkers : 1);
	t->qsbr = rte_zmalloc("fg_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (!t->qsbr || rte_rcu_qsbr_init(t->qsbr, nworkers ? nworkers : 1) != 0)
		goto err;

	snprintf(name, sizeof(name), "fgidx%u", g_table_seq);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = t->max_keypairs * 2,
		.key_len = sizeof(uint32_t),
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	t->index = rte_hash_create(&hp);
	if (!t->index) {
		fg_warn(TAG, "receiver index table: %s", rte_strerror(rte_errno));
		goto err;
	}
	struct rte_hash_rcu_config hrc = {
		.v = t->qsbr,
		.mode = RTE_HASH_QSBR_MODE_DQ,
		.dq_size = t->max_keypairs,
		.trigger_reclaim_limit = 1,
		.max_reclaim_size = 64,
	};
	if (rte_hash_rcu_qsbr_add(t->index, &hrc) != 0)
		goto err;
	t->kp_dq = make_dq(t, "kp", t->max_keypairs, free_kp_cb);
	t->peer_dq = make_dq(t, "peer", max_peers, free_peer_cb);
	if (!t->kp_dq || !t->peer_dq)
		goto err;
	return 0;
err:
	fg_tables_free(t);
	return ret;
}

void fg_tables_free(struct fg_tables *t)
{
	if (t->kp_dq)
		rte_rcu_qsbr_dq_delete(t->kp_dq);
	if (t->peer_dq)
		rte_rcu_qsbr_dq_delete(t->peer_dq);
	rte_hash_free(t->index);
	if (t->kps)
		sodium_memzero(t->kps, sizeof(*t->kps) * t->max_keypairs);
	rte_free(t->kps);
	rte_free(t->peers);
	rte_free(t->qsbr);
	free(t->free_peers);
	free(t->free_kps);
	memset(t, 0, sizeof(*t));
}

uint32_t fg_peer_alloc(struct fg_tables *t)
{
	if (t->n_free_peers == 0) {
		fg_tables_reclaim(t);
		if (t->n_free_peers == 0)
			return FG_SLOT_NONE;
	}
	uint32_t slot = t->free_peers[--t->n_free_peers];
	struct fg_peer *p = &t->peers[slot];

	for (int r = 0; r < FG_KP_ROLES; r++)
		__atomic_store_n(&p->kp[r], FG_SLOT_NONE, __ATOMIC_RELAXED);
	rte_seqlock_write_lock(&p->path_lock);
	memset(&p->path, 0, sizeof(p->path));
	rte_seqlock_write_unlock(&p->path_lock);
	p->rx_bytes = p->tx_bytes = 0;
	p->last_rx_data_ns = p->last_tx_data_ns = 0;
	p->last_rx_auth_ns = p->last_tx_auth_ns = 0;
	p->last_roam_event_ns = 0;
	p->p2p_tat_ns = 0;
	p->event_pending = 0;
	__atomic_store_n(&p->gen, p->gen + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&p->live, 1, __ATOMIC_RELEASE);
	t->n_peers++;
	return slot;
}

static void kp_retire(struct fg_tables *t, uint32_t slot)
{
	struct fg_keypair *kp;

	if (slot == FG_SLOT_NONE)
		return;
	kp = &t->kps[slot];
	__atomic_store_n(&kp->live, 0, __ATOMIC_RELEASE);
	rte_hash_del_key(t->index, &kp->local_index);
	if (rte_rcu_qsbr_dq_enqueue(t->kp_dq, &slot) != 0) {
		/* The queue is sized for every slot: this cannot happen unless state is corrupt. */
		fg_err(TAG, "keypair defer queue full: slot %u leaked", slot);
	}
}

void fg_peer_clear_keypairs(struct fg_tables *t, uint32_t slot)
{
	struct fg_peer *p = &t->peers[slot];

	for (int r = 0; r < FG_KP_ROLES; r++) {
		uint32_t kp = __atomic_exchange_n(&p->kp[r], FG_SLOT_NONE, __ATOMIC_ACQ_REL);

		kp_retire(t, kp);
	}
}

void fg_tables_wipe_keys(struct fg_tables *t)
{
	for (uint32_t i = 0; t->kps && i < t->max_keypairs; i++) {
		sodium_memzero(t->kps[i].send_key, sizeof(t->kps[i].send_key));
		sodium_memzero(t->kps[i].recv_key, sizeof(t->kps[i].recv_key));
	}
}

void fg_peer_retire(struct fg_tables *t, uint32_t slot)
{
	struct fg_peer *p = &t->peers[slot];

	if (!p->live)
		return;
	__atomic_store_n(&p->live, 0, __ATOMIC_RELEASE);
	fg_peer_clear_keypairs(t, slot);
	rte_seqlock_write_lock(&p->path_lock);
	memset(&p->path, 0, sizeof(p->path));
	rte_seqlock_write_unlock(&p->path_lock);
	__atomic_store_n(&p->gen, p->gen + 1, __ATOMIC_RELAXED);
	t->n_peers--;
	if (rte_rcu_qsbr_dq_enqueue(t->peer_dq, &slot) != 0)
		fg_err(TAG, "peer defer queue full: slot %u leaked", slot);
}

void fg_peer_set_path(struct fg_tables *t, uint32_t slot, const struct fg_peer_path *path)
{
	struct fg_peer *p = &t->peers[slot];

	rte_seqlock_write_lock(&p->path_lock);
	p->path = *path;
	rte_seqlock_write_unlock(&p->path_lock);
}

uint32_t fg_keypair_alloc(struct fg_tables *t)
{
	if (t->n_free_kps == 0) {
		fg_tables_reclaim(t);
		if (t->n_free_kps == 0)
			return FG_SLOT_NONE;
	}
	uint32_t slot = t->free_kps[--t->n_free_kps];
	struct fg_keypair *kp = &t->kps[slot];

	kp->live = 0;
	__atomic_store_n(&kp->confirm_sent, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&kp->rekey_requested, 0, __ATOMIC_RELAXED);
	kp->bench = 0;
	kp->rx_owner = FG_OWNER_NONE;
	kp->send_counter = 0;
	fg_wg_replay_init(&kp->replay);
	return slot;
}

int fg_keypair_install(struct fg_tables *t, uint32_t slot, enum fg_kp_role role)
{
	struct fg_keypair *kp = &t->kps[slot];
	struct fg_peer *p = &t->peers[kp->peer];
	int ret;

	__atomic_store_n(&kp->live, 1, __ATOMIC_RELEASE);
	ret = rte_hash_add_key_data(t->index, &kp->local_index, (void *)(uintptr_t)slot);
	if (ret < 0) {
		kp->live = 0;
		if (rte_rcu_qsbr_dq_enqueue(t->kp_dq, &slot) != 0)
			fg_err(TAG, "keypair defer queue full: slot %u leaked", slot);
		return ret;
	}
	if (role == FG_KP_CURRENT) {
		/* initiator: the new keypair is usable at once */
		uint32_t next = __atomic_exchange_n(&p->kp[FG_KP_NEXT], FG_SLOT_NONE, __ATOMIC_ACQ_REL);
		uint32_t cur = __atomic_load_n(&p->kp[FG_KP_CURRENT], __ATOMIC_RELAXED);
		uint32_t prev;

		if (next != FG_SLOT_NONE) {
			/* An unconfirmed responder keypair becomes previous; the old current goes. */
			prev = __atomic_exchange_n(&p->kp[FG_KP_PREVIOUS], next, __ATOMIC_ACQ_REL);
			kp_retire(t, cur);
		} else {
			prev = __atomic_exchange_n(&p->kp[FG_KP_PREVIOUS], cur, __ATOMIC_ACQ_REL);
		}
		__atomic_store_n(&p->kp[FG_KP_CURRENT], slot, __ATOMIC_RELEASE);
		kp_retire(t, prev);
	} else {
		/* responder: usable for receiving at once, for sending after confirmation */
		uint32_t next = __atomic_exchange_n(&p->kp[FG_KP_NEXT], slot, __ATOMIC_ACQ_REL);
		uint32_t prev = __atomic_exchange_n(&p->kp[FG_KP_PREVIOUS], FG_SLOT_NONE, __ATOMIC_ACQ_REL);

		kp_retire(t, next);
		kp_retire(t, prev);
	}
	return 0;
}

bool fg_keypair_confirm(struct fg_tables *t, uint32_t peer, uint32_t slot)
{
	struct fg_peer *p = &t->peers[peer];

	if (__atomic_load_n(&p->kp[FG_KP_NEXT], __ATOMIC_ACQUIRE) != slot)
		return false;
	uint32_t cur = __atomic_load_n(&p->kp[FG_KP_CURRENT], __ATOMIC_RELAXED);
	uint32_t prev = __atomic_exchange_n(&p->kp[FG_KP_PREVIOUS], cur, __ATOMIC_ACQ_REL);

	__atomic_store_n(&p->kp[FG_KP_CURRENT], slot, __ATOMIC_RELEASE);
	__atomic_store_n(&p->kp[FG_KP_NEXT], FG_SLOT_NONE, __ATOMIC_RELEASE);
	kp_retire(t, prev);
	return true;
}

void fg_tables_reclaim(struct fg_tables *t)
{
	unsigned freed, pending, avail;

	rte_rcu_qsbr_dq_reclaim(t->kp_dq, RECLAIM_MAX, &freed, &pending, &avail);
	rte_rcu_qsbr_dq_reclaim(t->peer_dq, RECLAIM_MAX, &freed, &pending, &avail);
}

bool fg_index_in_use(const struct fg_tables *t, uint32_t index)
{
	return rte_hash_lookup(t->index, &index) >= 0;
}
