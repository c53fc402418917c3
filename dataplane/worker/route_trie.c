// SPDX-License-Identifier: MIT
/*
 * The writer side of one family's stride trie (route_trie.h): groups taken from and given
 * back to one array in the DPDK heap that is replaced by a larger copy when full, prefix
 * expansion of a rule over the entries it covers, and collapse of a group once no rule below
 * its level remains in it. Everything here runs on the table's single writer (the service lcore);
 * readers only see the atomic stores to entries.
 *
 * Invariant: a group is reachable exactly while at least one held rule longer than the
 * group's first bit lies inside it (its count). Its other entries then hold the leaf its
 * parent entry would hold without it (the longest held rule of at most that many bits), so
 * when the count drops to 0 every entry is that leaf and the parent entry can take it.
 */
#include "route_trie.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "log.h"

static const char LOG_TARGET[] = "route";

enum {
	NONE = UINT32_MAX,   /* end of the free and pending lists */
	GROUP_BYTES = FG_RTRIE_GROUP_SIZE * sizeof(uint32_t),
};

/* Writer-only state of one group. */
struct fg_rtrie_meta {
	uint32_t count;   /* held rules longer than the group's first bit, inside it */
	uint32_t next;    /* free or pending list */
};

static inline uint32_t *group_w(const struct fg_rtrie *t, uint32_t g)
{
	return t->groups + (size_t)g * FG_RTRIE_GROUP_SIZE;
}

static inline uint32_t leaf(uint32_t value, unsigned len)
{
	return len == 0 ? 0 : (uint32_t)len << FG_RTRIE_DEPTH_SHIFT | value;
}

static inline unsigned depth(uint32_t e)
{
	return (e & FG_RTRIE_DEPTH_MASK) >> FG_RTRIE_DEPTH_SHIFT;
}

/* Level of a rule of len bits: 0 (the first level) for 1..16, then one per 8 bits. */
static inline unsigned level_of(unsigned len)
{
	return len <= FG_RTRIE_L1_BITS ? 0 : (len - FG_RTRIE_L1_BITS - 1) / 8 + 1;
}

/* The last bit (exclusive) a level's index covers. */
static inline unsigned level_end(unsigned k)
{
	return FG_RTRIE_L1_BITS + 8 * k;
}

static inline unsigned index_at(const uint8_t *addr, unsigned k)
{
	return k == 0 ? (unsigned)addr[0] << 8 | addr[1] : addr[k + 1];
}

/* --- the group pool --------------------------------------------------------------- */

int fg_rtrie_init(struct fg_rtrie *t, unsigned nbytes, uint32_t max_groups, const char *label)
{
	memset(t, 0, sizeof(*t));
	if ((nbytes != 4 && nbytes != 16) || max_groups == 0 || max_groups > FG_RTRIE_MAX_GROUPS)
		return -EINVAL;
	t->nbytes = nbytes;
	t->max_groups = max_groups;
	t->free_head = t->pending_head = NONE;
	snprintf(t->label, sizeof(t->label), "%s", label);
	/* Zeroed: every first-level entry is an empty leaf. */
	t->l1 = rte_zmalloc("fg_route_l1", FG_RTRIE_L1_SIZE * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	if (t->l1 == NULL) {
		fg_rtrie_fini(t);
		return -ENOMEM;
	}
	return 0;
}

void fg_rtrie_free_heap(struct fg_rtrie *t)
{
	free(t->meta);
	t->meta = NULL;
}

void fg_rtrie_fini(struct fg_rtrie *t)
{
	for (unsigned i = 0; i < t->nretired; i++)
		rte_free(t->retired[i]);
	rte_free(t->groups);
	rte_free(t->l1);
	free(t->meta);
	memset(t, 0, sizeof(*t));
}

size_t fg_rtrie_heap_bytes(const struct fg_rtrie *t)
{
	if (t->l1 == NULL)
		return 0;
	return FG_RTRIE_L1_SIZE * sizeof(uint32_t) + (size_t)t->cap * GROUP_BYTES + t->retired_bytes;
}

/*
 * A larger array for at least need free groups: a copy of the one in use, published before
 * any entry names a group beyond it; the old one is retired until the next reclaim (a
 * reader that loaded it sees the trie as it was). 0 or -ENOSPC.
 */
static int grow(struct fg_rtrie *t, uint32_t need)
{
	uint64_t want = (uint64_t)t->cap + need - t->nfree;
	uint64_t cap = t->cap ? 2 * (uint64_t)t->cap : FG_RTRIE_MIN_GROUPS;
	struct fg_rtrie_meta *meta;
	uint32_t *arr;

	if (cap < want)
		cap = want;
	if (cap > t->max_groups)
		cap = t->max_groups;
	if (cap < want || (t->groups != NULL && t->nretired == FG_RTRIE_RETIRED_MAX))
		return -ENOSPC;
	meta = realloc(t->meta, (size_t)cap * sizeof(*meta));
	if (meta == NULL)
		return -ENOSPC;
	t->meta = meta;
	arr = rte_malloc("fg_route_groups", (size_t)cap * GROUP_BYTES, RTE_CACHE_LINE_SIZE);
	if (arr == NULL) {
		if (!t->heap_warned)
			fg_warn(LOG_TARGET, "%s: the DPDK heap has no room for %" PRIu64 " route groups "
				"(%u KiB held); further prefixes are refused (raise -m)", t->label, cap,
				(unsigned)(fg_rtrie_heap_bytes(t) >> 10));
		t->heap_warned = true;
		return -ENOSPC;
	}
	t->heap_warned = false;
	if (t->groups != NULL) {
		memcpy(arr, t->groups, (size_t)t->cap * GROUP_BYTES);
		t->retired[t->nretired++] = t->groups;
		t->retired_bytes += (size_t)t->cap * GROUP_BYTES;
	}
	__atomic_store_n(&t->groups, arr, __ATOMIC_RELEASE);
	for (uint32_t g = (uint32_t)cap; g-- > t->cap;) {
		t->meta[g].next = t->free_head;
		t->free_head = g;
		t->nfree++;
	}
	t->cap = (uint32_t)cap;
	return 0;
}

static int reserve(struct fg_rtrie *t, uint32_t n)
{
	return t->nfree >= n ? 0 : grow(t, n);
}

static uint32_t take(struct fg_rtrie *t)
{
	uint32_t g = t->free_head;

	t->free_head = t->meta[g].next;
	t->nfree--;
	t->live++;
	t->meta[g].count = 0;
	return g;
}

void fg_rtrie_reclaim(struct fg_rtrie *t)
{
	while (t->nretired > 0)
		rte_free(t->retired[--t->nretired]);
	t->retired_bytes = 0;
	while (t->pending_head != NONE) {
		uint32_t g = t->pending_head;

		t->pending_head = t->meta[g].next;
		t->meta[g].next = t->free_head;
		t->free_head = g;
		t->nfree++;
	}
}

/* --- prefix expansion ------------------------------------------------------------- */

/*
 * The entries on addr's path down to level k: slot[j] is the entry of level j, gidx[j]
 * (j >= 1) the group holding it. Returns the first level whose group does not exist (its
 * parent entry is a leaf), or k + 1 when the whole path exists.
 */
static unsigned walk(const struct fg_rtrie *t, const uint8_t *addr, unsigned k, uint32_t **slot, uint32_t *gidx)
{
	slot[0] = &t->l1[index_at(addr, 0)];
	for (unsigned j = 1; j <= k; j++) {
		uint32_t e = *slot[j - 1];

		if (!(e & FG_RTRIE_GROUP))
			return j;
		gidx[j] = e & FG_RTRIE_PAYLOAD;
		slot[j] = group_w(t, gidx[j]) + index_at(addr, j);
	}
	return k + 1;
}

/* A rule of len bits with this value now covers the entry: leaves set by shorter (or the
 * same) rules take it, groups pass it down. */
static void fill(struct fg_rtrie *t, uint32_t *slot, uint32_t value, unsigned len)
{
	uint32_t e = *slot;

	if (e & FG_RTRIE_GROUP) {
		uint32_t *g = group_w(t, e & FG_RTRIE_PAYLOAD);

		for (unsigned i = 0; i < FG_RTRIE_GROUP_SIZE; i++)
			fill(t, g + i, value, len);
		return;
	}
	if (depth(e) <= len)
		__atomic_store_n(slot, leaf(value, len), __ATOMIC_RELAXED);
}

/* The rule of len bits that covered the entry is gone: the leaves it set take repl. */
static void unfill(struct fg_rtrie *t, uint32_t *slot, unsigned len, uint32_t repl)
{
	uint32_t e = *slot;

	if (e & FG_RTRIE_GROUP) {
		uint32_t *g = group_w(t, e & FG_RTRIE_PAYLOAD);

		for (unsigned i = 0; i < FG_RTRIE_GROUP_SIZE; i++)
			unfill(t, g + i, len, repl);
		return;
	}
	if (depth(e) == len)
		__atomic_store_n(slot, repl, __ATOMIC_RELAXED);
}

int fg_rtrie_add(struct fg_rtrie *t, const uint8_t *addr, unsigned len, uint32_t value, bool is_new)
{
	uint32_t *slot[FG_RTRIE_MAX_LEVELS];
	uint32_t gidx[FG_RTRIE_MAX_LEVELS];
	unsigned k, have, span;

	if (t->l1 == NULL || len == 0 || len > t->nbytes * 8 || value > FG_RTRIE_VALUE_MAX)
		return -EINVAL;
	k = level_of(len);
	have = walk(t, addr, k, slot, gidx);
	if (have <= k && !is_new)
		return -EIO;   /* a held prefix has its whole path */
	if (have <= k) {
		int rc = reserve(t, k + 1 - have);

		if (rc < 0)
			return rc;
		walk(t, addr, k, slot, gidx);   /* the array may be a new one: slots into it */
	}
	/* The missing groups, each a copy of the leaf it replaces, filled before it is
	 * published: a reader sees the old leaf or an equivalent group. */
	for (unsigned j = have; j <= k; j++) {
		uint32_t g = take(t);
		uint32_t *gp = group_w(t, g);
		uint32_t inherit = *slot[j - 1];

		for (unsigned i = 0; i < FG_RTRIE_GROUP_SIZE; i++)
			gp[i] = inherit;
		__atomic_store_n(slot[j - 1], FG_RTRIE_GROUP | g, __ATOMIC_RELEASE);
		gidx[j] = g;
		slot[j] = gp + index_at(addr, j);
	}
	if (is_new)
		for (unsigned j = 1; j <= k; j++)
			t->meta[gidx[j]].count++;
	span = 1u << (level_end(k) - len);
	for (unsigned i = 0; i < span; i++)
		fill(t, slot[k] + i, value, len);
	return 0;
}

int fg_rtrie_del(struct fg_rtrie *t, const uint8_t *addr, unsigned len, uint32_t repl_value,
		 unsigned repl_len)
{
	uint32_t *slot[FG_RTRIE_MAX_LEVELS];
	uint32_t gidx[FG_RTRIE_MAX_LEVELS];
	uint32_t repl = leaf(repl_value, repl_len);
	unsigned k, span;

	if (t->l1 == NULL || len == 0 || len > t->nbytes * 8 || repl_len >= len)
		return -EINVAL;
	k = level_of(len);
	if (walk(t, addr, k, slot, gidx) <= k)
		return -EIO;
	for (unsigned j = 1; j <= k; j++)
		if (t->meta[gidx[j]].count == 0)
			return -EIO;
	span = 1u << (level_end(k) - len);
	for (unsigned i = 0; i < span; i++)
		unfill(t, slot[k] + i, len, repl);
	/* Deepest first: a parent's count includes its children's, so a child reaches 0 no
	 * later than its parent, and a parent collapses with leaves only below it. */
	for (unsigned j = k; j >= 1; j--) {
		struct fg_rtrie_meta *m = &t->meta[gidx[j]];

		if (--m->count > 0)
			continue;
		__atomic_store_n(slot[j - 1], group_w(t, gidx[j])[0], __ATOMIC_RELEASE);
		m->next = t->pending_head;
		t->pending_head = gidx[j];
		t->live--;
	}
	return 0;
}
