/* SPDX-License-Identifier: MIT */
/*
 * Longest-prefix route tables mapping IPv4/IPv6 prefixes to small values (peer slot indexes):
 * cryptokey routing (which peer owns an inner destination, which peer may use an inner source)
 * and per-client resource tables. One writer, the service lcore, owns every table and is the
 * only caller of the writer functions; worker lcores call the lookups concurrently and never
 * lock. Each family is a multibit trie (route_trie.h) that the writer changes in place, entry
 * by entry with atomic stores, so a lookup racing a change gets the old or the new answer;
 * every writer call that changes something waits one RCU grace period before it returns.
 *
 * Reader contract (workers), with a non-NULL qsbr:
 *  - register the worker's thread id on qsbr and go online before the first lookup;
 *  - call rte_rcu_qsbr_quiescent() between bursts, never between a lookup and the last use
 *    of the value it returned;
 *  - a looked-up value is only valid until the worker's next quiescent report: do not keep it
 *    across one (look it up again, or re-validate the peer by slot generation);
 *  - go offline (rte_rcu_qsbr_thread_offline) before blocking or idling for long, or the
 *    writer waits for that worker.
 * The writer must not itself be an online reader of qsbr: it waits with
 * RTE_QSBR_THRID_INVALID. When a writer call that removed or replaced a mapping returns, no
 * worker can still obtain or hold the old value, so its peer slot may be reused.
 */
#ifndef FG_ROUTE_H
#define FG_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct rte_rcu_qsbr;
struct fg_route_table;

enum fg_route_limits {
	FG_ROUTE_VALUE_MAX = (1 << 23) - 1,  /* a trie entry keeps 23 bits of value */
	FG_ROUTE_RULES_MAX = 1 << 24,        /* per family, per table */
};

/*
 * Creates an empty table for up to max_rules_v4 IPv4 and max_rules_v6 IPv6 prefixes of
 * length 1 or more (a /0 per family is held beside them and counts against neither). A
 * family with 0 rules gets no trie at all (its lookups only see its /0). name is a label (log
 * lines). Memory, from the DPDK heap: at creation 256 KiB per family (the first level, /1 to
 * /16); then 1 KiB groups as the rules need them, in one array per family that doubles when
 * full (64 groups at first; the old copy is freed after the next grace period) and is kept
 * for reuse. A /32 or /128 among its neighbours (consecutive tunnel addresses) costs about
 * 4 bytes; one far from any other costs up to 2 groups (IPv4) or 14 (IPv6). A family may
 * take at most 2 groups per rule plus 64: that never refuses an IPv4 rule, but IPv6
 * prefixes scattered far apart may get -ENOSPC before max_rules_v6. The writer also keeps
 * an index of 40 to 48 bytes per rule of the limits in malloc memory. qsbr may be NULL for
 * single-threaded use (tests); otherwise workers report quiescent states on it. Returns NULL
 * with errno set (EINVAL, ENOMEM).
 */
struct fg_route_table *fg_route_create(const char *name, uint32_t max_rules_v4,
				       uint32_t max_rules_v6, struct rte_rcu_qsbr *qsbr);
/* Frees the table; no worker may be reading it any more. NULL is accepted. */
void fg_route_free(struct fg_route_table *t);
/* Frees only the index kept outside the EAL's memory (malloc), leaving the tries to
 * rte_eal_cleanup() (rte_free() zeroes what it frees). The table is unusable after; for an
 * exit. */
void fg_route_free_heap(struct fg_route_table *t);

/*
 * Writer only. Host bits of p are ignored. add replaces the value of an identical prefix
 * (same family, length and masked address). Each call that changes something waits one
 * grace period. Return 0 or -EINVAL (family, length, value > FG_ROUTE_VALUE_MAX), -ENOSPC
 * (rules or groups exhausted, or no DPDK heap for more groups: nothing changed), -ENOENT
 * (del: prefix absent), -EIO (the trie disagrees with the index: a bug, logged as an ERROR).
 */
int fg_route_add(struct fg_route_table *t, const struct fg_prefix *p, uint32_t value);
int fg_route_del(struct fg_route_table *t, const struct fg_prefix *p);
/* Removes every prefix mapping to value (a removed peer) with a single grace period;
 * returns how many were removed (0 if none), -EINVAL, or -EIO (as fg_route_del; the rest
 * are still removed). */
int fg_route_del_value(struct fg_route_table *t, uint32_t value);

/*
 * Writer-side enumeration (UAPI get: the allowed IPs of a peer), in no particular order.
 * cb must not change the table; a non-zero return from cb stops the walk and is returned.
 * Otherwise returns the number of prefixes visited.
 */
int fg_route_foreach_value(const struct fg_route_table *t, uint32_t value,
			   int (*cb)(void *ctx, const struct fg_prefix *p), void *ctx);
/* Number of prefixes held, both families, /0 included. Writer side. */
uint32_t fg_route_count(const struct fg_route_table *t);
/* DPDK heap bytes the table holds now (the malloc'd index not included). Writer side. */
size_t fg_route_heap_bytes(const struct fg_route_table *t);

/*
 * Readers (workers), lock-free and wait-free. addr_be is in network order. Return 0 with
 * *value set to the value of the longest matching prefix, or -ENOENT.
 */
int fg_route_lookup4(const struct fg_route_table *t, uint32_t addr_be, uint32_t *value);
int fg_route_lookup6(const struct fg_route_table *t, const uint8_t addr[16], uint32_t *value);

#endif
