// SPDX-License-Identifier: MIT
/*
 * Writer side of the relay channel table (see chantable.h). Everything here runs on the
 * service lcore; the workers only look keys up, lock-free.
 */
#include "chantable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>

static unsigned g_chan_seq;

int fg_chantable_init(struct fg_chantable *t, uint32_t max, struct rte_rcu_qsbr *qsbr)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		/* Twice the channels: a cuckoo table without an extension table may refuse a
		 * key before it is full. */
		.entries = max * 2,
		.key_len = sizeof(struct fg_chan_key),
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config hrc = {
		.v = qsbr,
		.mode = RTE_HASH_QSBR_MODE_DQ,
		.dq_size = max * 2,
		.trigger_reclaim_limit = 1,
		.max_reclaim_size = 64,
	};

	memset(t, 0, sizeof(*t));
	if (max == 0)
		return -EINVAL;
	snprintf(name, sizeof(name), "fgchan%u", ++g_chan_seq);
	t->max = max;
	t->ch = calloc(max, sizeof(*t->ch));
	t->free = calloc(max, sizeof(*t->free));
	t->hash = rte_hash_create(&hp);
	if (!t->ch || !t->free || !t->hash || rte_hash_rcu_qsbr_add(t->hash, &hrc) != 0) {
		fg_chantable_free(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < max; i++)
		t->free[i] = max - 1 - i;
	t->nfree = max;
	return 0;
}

void fg_chantable_free(struct fg_chantable *t)
{
	rte_hash_free(t->hash);
	free(t->ch);
	free(t->free);
	memset(t, 0, sizeof(*t));
}

static int32_t lookup(const struct fg_chantable *t, const struct fg_endpoint *relay, uint16_t number)
{
	struct fg_chan_key k;
	void *v;

	fg_chan_key_make(&k, relay, number);
	if (rte_hash_lookup_data(t->hash, &k, &v) < 0)
		return -1;
	return (int32_t)(uintptr_t)v;
}

const struct fg_chan *fg_chantable_find(const struct fg_chantable *t, const struct fg_endpoint *relay,
					uint16_t number)
{
	int32_t slot = t->hash ? lookup(t, relay, number) : -1;

	return slot < 0 ? NULL : &t->ch[slot];
}

int fg_chantable_bind(struct fg_chantable *t, const struct fg_endpoint *relay, uint16_t number,
		      const struct fg_endpoint *peer)
{
	int32_t slot = lookup(t, relay, number);
	struct fg_chan_key k;
	uint32_t s;
	int r;

	if (slot >= 0) {
		/* Rebound to another peer: the key stays, only the service's copy changes. */
		t->ch[slot].peer = *peer;
		return 0;
	}
	if (t->nfree == 0)
		return -ENOSPC;
	s = t->free[--t->nfree];
	t->ch[s] = (struct fg_chan){ .relay = *relay, .peer = *peer, .number = number, .used = true };
	fg_chan_key_make(&k, relay, number);
	r = rte_hash_add_key_data(t->hash, &k, (void *)(uintptr_t)s);
	if (r < 0) {
		t->ch[s].used = false;
		t->free[t->nfree++] = s;
		return r == -EINVAL ? -EINVAL : -ENOSPC;
	}
	t->n++;
	return 0;
}

static void unbind_slot(struct fg_chantable *t, uint32_t s)
{
	struct fg_chan_key k;

	fg_chan_key_make(&k, &t->ch[s].relay, t->ch[s].number);
	/* The key slot itself waits for the workers' grace period (the RCU config). */
	rte_hash_del_key(t->hash, &k);
	memset(&t->ch[s], 0, sizeof(t->ch[s]));
	t->free[t->nfree++] = s;
	t->n--;
}

int fg_chantable_unbind(struct fg_chantable *t, const struct fg_endpoint *relay, uint16_t number)
{
	int32_t slot;
	unsigned gone = 0;

	if (number) {
		slot = lookup(t, relay, number);
		if (slot < 0)
			return -ENOENT;
		unbind_slot(t, (uint32_t)slot);
		return 0;
	}
	for (uint32_t s = 0; s < t->max && t->n; s++) {
		if (t->ch[s].used && fg_endpoint_equal(&t->ch[s].relay, relay)) {
			unbind_slot(t, s);
			gone++;
		}
	}
	return gone ? 0 : -ENOENT;
}
