/* SPDX-License-Identifier: MIT */
/*
 * The relay channels the data plane accepts ChannelData on: (relay endpoint, channel
 * number) -> the remote peer address the relay has bound the channel to (RFC 8656 §12).
 * The control plane runs TURN and tells the data plane (CHANNEL_BIND / CHANNEL_UNBIND); a
 * worker only asks whether a channel is bound before it demultiplexes the ChannelData
 * payload, so the hash is all it reads. The service lcore is the single writer, under the
 * rules of peers.h: the rte_hash is lock-free for readers and frees its key slots through
 * the same QSBR grace period as the receiver-index table; the peer addresses beside it are
 * the service's alone (workers never read them), so a slot is reused at once.
 */
#ifndef FG_CHANTABLE_H
#define FG_CHANTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include "addr.h"

/* The hash key: every byte set (the pad zeroed), so equal channels compare equal. */
struct fg_chan_key {
	uint8_t addr[16];   /* the relay's address, IPv4 in the first 4 bytes */
	uint16_t port;      /* host order */
	uint16_t number;
	uint8_t family;
	uint8_t pad[3];
};
_Static_assert(sizeof(struct fg_chan_key) == 24, "channel key layout");

/* A bound channel: service lcore only. */
struct fg_chan {
	struct fg_endpoint relay;
	struct fg_endpoint peer;
	uint16_t number;
	bool used;
};

struct fg_chantable {
	struct rte_hash *hash;    /* key -> slot in ch[]; lock-free readers */
	struct fg_chan *ch;       /* service lcore only */
	uint32_t max;
	uint32_t n;               /* bound channels */
	uint32_t *free;           /* free slots of ch[] */
	uint32_t nfree;
};

/* Room for max channels, key slots reclaimed through qsbr. 0 or -errno. */
int fg_chantable_init(struct fg_chantable *t, uint32_t max, struct rte_rcu_qsbr *qsbr);
/* Frees everything; a no-op on a zeroed struct. */
void fg_chantable_free(struct fg_chantable *t);
/* Service lcore: binds (or rebinds to another peer) relay's channel number. 0, -ENOSPC. */
int fg_chantable_bind(struct fg_chantable *t, const struct fg_endpoint *relay, uint16_t number,
		      const struct fg_endpoint *peer);
/* Service lcore: forgets relay's channel number, or every channel of relay when number is
 * 0. 0, or -ENOENT when nothing was bound. */
int fg_chantable_unbind(struct fg_chantable *t, const struct fg_endpoint *relay, uint16_t number);
/* Service lcore: the bound channel, or NULL. */
const struct fg_chan *fg_chantable_find(const struct fg_chantable *t, const struct fg_endpoint *relay,
					uint16_t number);

static inline void fg_chan_key_make(struct fg_chan_key *k, const struct fg_endpoint *relay, uint16_t number)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, relay->ip.addr, relay->ip.family == AF_INET6 ? 16 : 4);
	k->port = relay->port;
	k->number = number;
	k->family = relay->ip.family;
}

/* Worker (reader): whether ChannelData from relay on channel number is accepted. */
static inline bool fg_chantable_bound(const struct fg_chantable *t, const struct fg_endpoint *relay,
				      uint16_t number)
{
	struct fg_chan_key k;

	fg_chan_key_make(&k, relay, number);
	return rte_hash_lookup(t->hash, &k) >= 0;
}

#endif
