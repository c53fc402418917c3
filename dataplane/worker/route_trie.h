/* SPDX-License-Identifier: MIT */
/*
 * One address family of a route table (route.c): a multibit trie with prefix expansion,
 * strides 16-8-8 for IPv4 and 16-8-...-8 (15 levels) for IPv6. The first level is a flat
 * array of 65,536 entries (256 KiB); every deeper level is a group of 256 entries (1 KiB)
 * that exists only under a first-level entry or group entry some rule passes through, so the
 * memory follows the rules held, not the address space. The groups are one array in the
 * DPDK heap, indexed by the entries; when a rule needs more than it has, the writer makes
 * one twice as large (at least 64 groups), copies it, publishes it and frees the old one
 * after the next grace period. Freed groups are kept for reuse; the array never shrinks.
 *
 * An entry is one 32-bit word: a group (bit 31 and the group's index), or a leaf (the depth
 * of the rule that set it, 0 for none, and its value). The single writer (the service
 * lcore, through route.c) changes entries in place with atomic stores; a reader walks at most
 * 3 (IPv4) or 15 (IPv6) entries with atomic loads and never waits, loading the group array
 * once, after its first entry. A new group is filled before the entry pointing to it is
 * stored (release), and a new array is published before any entry names a group beyond the
 * old one, so a reader that sees an entry sees what it names. A group that becomes uniform
 * is replaced in its parent by a leaf and kept out of reuse until fg_rtrie_reclaim(), which
 * the writer calls only after an RCU grace period (a retired array is freed there too: a
 * reader on it sees the state from before the change). At any moment each entry holds the
 * value of a rule that covered it before or after the change in progress, so a lookup
 * racing a change returns the old or the new answer.
 */
#ifndef FG_ROUTE_TRIE_H
#define FG_ROUTE_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#define FG_RTRIE_GROUP 0x80000000u          /* entry refers to a group */
#define FG_RTRIE_DEPTH_SHIFT 23
#define FG_RTRIE_DEPTH_MASK (0xffu << FG_RTRIE_DEPTH_SHIFT)
#define FG_RTRIE_PAYLOAD 0x7fffffu          /* value of a leaf, index of a group */

enum fg_rtrie_consts {
	FG_RTRIE_VALUE_MAX = FG_RTRIE_PAYLOAD,
	FG_RTRIE_L1_BITS = 16,
	FG_RTRIE_L1_SIZE = 1 << FG_RTRIE_L1_BITS,
	FG_RTRIE_GROUP_SIZE = 256,
	FG_RTRIE_MIN_GROUPS = 64,                 /* the first array */
	FG_RTRIE_MAX_GROUPS = FG_RTRIE_PAYLOAD,   /* group indexes fit the payload */
	FG_RTRIE_MAX_LEVELS = 15,                 /* 16 + 14 * 8 = 128 bits */
	FG_RTRIE_RETIRED_MAX = 4,                 /* arrays waiting for a grace period */
};

struct fg_rtrie_meta;

struct fg_rtrie {
	/* Read by workers. l1 is set at init (NULL: a family without rules); groups is stored
	 * with release semantics whenever the writer replaces the array (NULL until then). */
	uint32_t *l1;
	uint32_t *groups;
	unsigned nbytes;                  /* 4 or 16: address bytes */

	/* Writer only, on its own cache line. */
	uint32_t max_groups __rte_cache_aligned;
	uint32_t cap;                     /* groups in the array */
	uint32_t nfree;                   /* groups on the free list */
	uint32_t free_head;
	uint32_t pending_head;            /* groups unlinked, waiting for a grace period */
	uint32_t live;                    /* groups reachable from l1 */
	uint32_t *retired[FG_RTRIE_RETIRED_MAX]; /* replaced arrays, freed by reclaim */
	unsigned nretired;
	size_t retired_bytes;
	struct fg_rtrie_meta *meta;       /* per group, malloc: cap of them */
	bool heap_warned;                 /* one WARN while the DPDK heap cannot grow us */
	char label[32];
};

/* An empty trie for nbytes-byte addresses (4 or 16) that may take up to max_groups groups
 * (1 .. FG_RTRIE_MAX_GROUPS). 0 or -EINVAL / -ENOMEM; nothing held on failure. */
int fg_rtrie_init(struct fg_rtrie *t, unsigned nbytes, uint32_t max_groups, const char *label);
/* Frees everything; no reader may use the trie any more. A zeroed trie is accepted. */
void fg_rtrie_fini(struct fg_rtrie *t);
/* Frees only the writer's malloc'd metadata (exit path; the DPDK memory goes with the EAL). */
void fg_rtrie_free_heap(struct fg_rtrie *t);

/*
 * Writer. addr is canonical (host bits zero), len 1 .. nbytes * 8, value <= VALUE_MAX.
 * add: is_new says the prefix is not held yet (a held one only changes its value). Returns 0
 * or -ENOSPC (max_groups reached, or the DPDK heap has no room for a larger array), and then
 * nothing changed. del: the prefix must be held; its entries take repl_value / repl_len (the
 * longest held prefix shorter than it that covers it; repl_len 0 for none). Returns 0, or
 * -EIO if the trie is inconsistent with that (a bug). Groups del unlinks wait for reclaim.
 */
int fg_rtrie_add(struct fg_rtrie *t, const uint8_t *addr, unsigned len, uint32_t value, bool is_new);
int fg_rtrie_del(struct fg_rtrie *t, const uint8_t *addr, unsigned len, uint32_t repl_value,
		 unsigned repl_len);
/* Writer, after a grace period that began after the last change: unlinked groups become
 * free, replaced arrays are freed. */
void fg_rtrie_reclaim(struct fg_rtrie *t);
/* DPDK heap bytes the trie holds (first level, group array, arrays not yet freed). Writer
 * side. */
size_t fg_rtrie_heap_bytes(const struct fg_rtrie *t);

/* --- readers ----------------------------------------------------------------------- */

/* The group array, loaded after an entry that names a group (that entry's acquire orders
 * it): never older than the array that group was made in. */
static inline const uint32_t *fg_rtrie_groups(const struct fg_rtrie *t)
{
	return __atomic_load_n(&t->groups, __ATOMIC_ACQUIRE);
}

static inline uint32_t fg_rtrie_next(const uint32_t *groups, uint32_t e, unsigned byte)
{
	return __atomic_load_n(&groups[(size_t)(e & FG_RTRIE_PAYLOAD) * FG_RTRIE_GROUP_SIZE + byte], __ATOMIC_ACQUIRE);
}

static inline int fg_rtrie_leaf(uint32_t e, uint32_t *value)
{
	if ((e & FG_RTRIE_DEPTH_MASK) == 0)
		return -1;
	*value = e & FG_RTRIE_PAYLOAD;
	return 0;
}

/* IPv4, host byte order. 0 with *value, or -1 for no rule. */
static inline int fg_rtrie_lookup4(const struct fg_rtrie *t, uint32_t host, uint32_t *value)
{
	uint32_t e = __atomic_load_n(&t->l1[host >> 16], __ATOMIC_ACQUIRE);

	if (e & FG_RTRIE_GROUP) {
		const uint32_t *g = fg_rtrie_groups(t);

		e = fg_rtrie_next(g, e, (host >> 8) & 0xff);
		if (e & FG_RTRIE_GROUP)
			e = fg_rtrie_next(g, e, host & 0xff);
	}
	return fg_rtrie_leaf(e, value);
}

/* IPv6 (16 bytes, network order). 0 with *value, or -1 for no rule. At most 15 loads. */
static inline int fg_rtrie_lookup6(const struct fg_rtrie *t, const uint8_t addr[16], uint32_t *value)
{
	uint32_t e = __atomic_load_n(&t->l1[(unsigned)addr[0] << 8 | addr[1]], __ATOMIC_ACQUIRE);

	if (e & FG_RTRIE_GROUP) {
		const uint32_t *g = fg_rtrie_groups(t);

		for (unsigned b = 2; (e & FG_RTRIE_GROUP) && b < 16; b++)
			e = fg_rtrie_next(g, e, addr[b]);
	}
	return fg_rtrie_leaf(e, value);
}

#endif
