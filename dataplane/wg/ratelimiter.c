// SPDX-License-Identifier: MIT
/*
 * Handshake rate limiting per source (the kernel's ratelimiter.c semantics): every source
 * has a token bucket measured in nanoseconds of credit, one packet costs 1 s / rate, and
 * the bucket holds burst packets' worth. IPv4 sources are keyed by address and IPv6
 * sources by their /64, since one host owns a whole /64 and could otherwise rotate
 * addresses to dodge its bucket. The table is a fixed open-addressing hash table with
 * linear probing and backward-shift deletion, indexed by SipHash under a key drawn at
 * create time, so a remote sender cannot aim its sources at one probe chain. The service
 * lcore owns the limiter and is its only caller; create() is the only allocation.
 */
#include "ratelimiter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

enum {
	NSEC_PER_SEC = 1000000000,
	MIN_SLOTS = 16,
	V4_LEN = 4,
	V6_LEN = 16,
	V6_PREFIX_LEN = 8,        /* the /64 that identifies an IPv6 source */
	KIND_EMPTY = 0,           /* entry.kind: slot unused */
	KIND_V4 = 4,
	KIND_V6 = 6,
};

struct entry {
	uint64_t last_ns;  /* when the bucket was last refilled */
	uint64_t tokens;   /* credit in ns, at most token_max */
	uint64_t src;      /* the address or /64, as raw bytes */
	uint32_t home;     /* hash & mask: where probing for it starts */
	uint8_t kind;      /* KIND_* */
};

struct fg_wg_ratelimiter {
	struct entry *slots;
	uint32_t mask;           /* slot count - 1; slot count >= 2 * max_entries */
	uint32_t count;
	uint32_t max_entries;
	uint64_t cost_ns;        /* credit one packet takes */
	uint64_t token_max;      /* bucket size */
	struct fg_wg_ratelimiter_stats stats;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

static uint32_t slots_for(uint32_t max_entries)
{
	uint64_t want = (uint64_t)max_entries * 2;
	uint64_t n = MIN_SLOTS;

	/* At most half full, so probe chains stay short and an empty slot always exists. */
	while (n < want)
		n <<= 1;
	return (uint32_t)n;
}

struct fg_wg_ratelimiter *fg_wg_ratelimiter_create(uint32_t max_entries,
						   uint32_t packets_per_second, uint32_t burst)
{
	struct fg_wg_ratelimiter *rl;
	uint32_t nslots;

	if (max_entries == 0 || max_entries > FG_WG_RATELIMITER_MAX_ENTRIES ||
	    packets_per_second == 0 || packets_per_second > NSEC_PER_SEC || burst == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		goto err;
	nslots = slots_for(max_entries);
	rl->slots = calloc(nslots, sizeof(*rl->slots));
	if (!rl->slots)
		goto err_free_rl;
	rl->mask = nslots - 1;
	rl->max_entries = max_entries;
	rl->cost_ns = NSEC_PER_SEC / packets_per_second;
	rl->token_max = rl->cost_ns * burst;
	crypto_shorthash_keygen(rl->key);
	return rl;

err_free_rl:
	free(rl);
err:
	errno = ENOMEM;
	return NULL;
}

void fg_wg_ratelimiter_free(struct fg_wg_ratelimiter *rl)
{
	if (!rl)
		return;
	sodium_memzero(rl->key, sizeof(rl->key));
	free(rl->slots);
	free(rl);
}

/* The bucket key of a source; false if addr_len is not an IP address length. */
static bool source_of(const uint8_t *addr, size_t addr_len, uint8_t *kind, uint64_t *src)
{
	*src = 0;
	if (addr_len == V4_LEN) {
		*kind = KIND_V4;
		memcpy(src, addr, V4_LEN);
		return true;
	}
	if (addr_len == V6_LEN) {
		*kind = KIND_V6;
		memcpy(src, addr, V6_PREFIX_LEN);
		return true;
	}
	return false;
}

static uint32_t home_of(const struct fg_wg_ratelimiter *rl, uint8_t kind, uint64_t src)
{
	uint8_t in[1 + sizeof(src)];
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	/* The kind is hashed too, so 10.0.0.1 and 0a00:0001::/64 are distinct sources. */
	in[0] = kind;
	memcpy(in + 1, &src, sizeof(src));
	crypto_shorthash(out, in, sizeof(in), rl->key);
	memcpy(&h, out, sizeof(h));
	return (uint32_t)h & rl->mask;
}

/*
 * The slot holding (kind, src), or else the empty slot that ends its probe chain. The
 * table is never more than half full, so the loop always ends.
 */
static uint32_t probe(const struct fg_wg_ratelimiter *rl, uint32_t home, uint8_t kind, uint64_t src)
{
	uint32_t i = home;

	while (rl->slots[i].kind != KIND_EMPTY) {
		if (rl->slots[i].kind == kind && rl->slots[i].src == src)
			return i;
		i = (i + 1) & rl->mask;
	}
	return i;
}

/*
 * Refill by the time elapsed since the last packet, capped at the bucket size, then take
 * one packet's worth if there is enough. The burst is part of the bucket size rather than
 * of the rate. A clock that went backwards refills nothing.
 */
static bool take(const struct fg_wg_ratelimiter *rl, struct entry *e, uint64_t now)
{
	uint64_t elapsed = now > e->last_ns ? now - e->last_ns : 0;

	if (elapsed >= rl->token_max - e->tokens)
		e->tokens = rl->token_max;
	else
		e->tokens += elapsed;
	if (now > e->last_ns)
		e->last_ns = now;
	if (e->tokens < rl->cost_ns)
		return false;
	e->tokens -= rl->cost_ns;
	return true;
}

bool fg_wg_ratelimiter_allow(struct fg_wg_ratelimiter *rl, const uint8_t *addr,
			     size_t addr_len, uint64_t now_ns)
{
	struct entry *e;
	uint64_t src;
	uint32_t home;
	uint32_t i;
	uint8_t kind;

	if (!source_of(addr, addr_len, &kind, &src)) {
		rl->stats.bad_addr++;
		return false;
	}
	home = home_of(rl, kind, src);
	i = probe(rl, home, kind, src);
	e = &rl->slots[i];
	if (e->kind != KIND_EMPTY) {
		if (!take(rl, e, now_ns)) {
			rl->stats.limited++;
			return false;
		}
		rl->stats.allowed++;
		return true;
	}

	if (rl->count >= rl->max_entries) {
		rl->stats.table_full++;
		return false;
	}
	/* A new source starts with a full bucket, less the packet it is sending now. */
	e->kind = kind;
	e->src = src;
	e->home = home;
	e->last_ns = now_ns;
	e->tokens = rl->token_max - rl->cost_ns;
	rl->count++;
	rl->stats.allowed++;
	return true;
}

/*
 * Backward-shift deletion: walk the rest of the cluster after slot i and pull back every
 * entry whose home lies at or before the hole (cyclically), so no probe chain is broken
 * and no tombstones build up.
 */
static void erase(struct fg_wg_ratelimiter *rl, uint32_t i)
{
	uint32_t hole = i;
	uint32_t j = i;

	for (;;) {
		j = (j + 1) & rl->mask;
		if (rl->slots[j].kind == KIND_EMPTY)
			break;
		if (((j - rl->slots[j].home) & rl->mask) >= ((j - hole) & rl->mask)) {
			rl->slots[hole] = rl->slots[j];
			hole = j;
		}
	}
	memset(&rl->slots[hole], 0, sizeof(rl->slots[hole]));
	rl->count--;
}

static bool idle(const struct entry *e, uint64_t now)
{
	return now > e->last_ns && now - e->last_ns > FG_WG_RATELIMITER_IDLE_NS;
}

/*
 * The scan starts just after an empty slot, so no cluster straddles its start and end.
 * Erasing slot i only moves entries from later in i's cluster into i or into slots not
 * yet visited, so re-examining i after each erase visits every survivor once.
 */
void fg_wg_ratelimiter_gc(struct fg_wg_ratelimiter *rl, uint64_t now_ns)
{
	uint32_t nslots = rl->mask + 1;
	uint32_t start = 0;

	if (rl->count == 0)
		return;
	while (rl->slots[start].kind != KIND_EMPTY)
		start++;
	for (uint32_t k = 1; k <= nslots; k++) {
		uint32_t i = (start + k) & rl->mask;

		while (rl->slots[i].kind != KIND_EMPTY && idle(&rl->slots[i], now_ns))
			erase(rl, i);
	}
}

uint32_t fg_wg_ratelimiter_count(const struct fg_wg_ratelimiter *rl)
{
	return rl->count;
}

void fg_wg_ratelimiter_stats(const struct fg_wg_ratelimiter *rl,
			     struct fg_wg_ratelimiter_stats *out)
{
	*out = rl->stats;
}
