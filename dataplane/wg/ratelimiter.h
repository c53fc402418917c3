/* SPDX-License-Identifier: MIT */
/*
 * Per-source token buckets that bound how many handshake messages each source may make us
 * process (the kernel's ratelimiter.c): IPv4 sources are keyed by address, IPv6 sources by
 * their /64. Owned by the service lcore, which is its only caller; the table is allocated
 * once at create time and nothing is allocated per packet.
 */
#ifndef FG_RATELIMITER_H
#define FG_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/* The Linux WireGuard ratelimiter's values (ratelimiter.c): */
	FG_WG_RATELIMITER_PACKETS_PER_SECOND = 20,  /* refill rate per source */
	FG_WG_RATELIMITER_BURST = 5,                /* bucket size, in packets */
	/* Sources tracked at once: the kernel's table_size on hosts with over 1 GiB of RAM
	 * (it chains up to 8 entries per bucket; here one entry is one source). */
	FG_WG_RATELIMITER_SOURCES = 8192,
	FG_WG_RATELIMITER_MAX_ENTRIES = 1 << 24,    /* create() refuses more */
	FG_WG_RATELIMITER_IDLE_NS = 1000000000,     /* gc drops entries idle longer */
};

struct fg_wg_ratelimiter;

/* What allow() decided, for the stats page and the drop counters. */
struct fg_wg_ratelimiter_stats {
	uint64_t allowed;
	uint64_t limited;     /* bucket empty */
	uint64_t table_full;  /* a new source found no room */
	uint64_t bad_addr;    /* addr_len neither 4 nor 16 */
};

/*
 * max_entries sources at most (1..FG_WG_RATELIMITER_MAX_ENTRIES), packets_per_second > 0
 * refill rate, burst > 0 bucket size. NULL with errno EINVAL or ENOMEM.
 */
struct fg_wg_ratelimiter *fg_wg_ratelimiter_create(uint32_t max_entries,
						   uint32_t packets_per_second, uint32_t burst);
void fg_wg_ratelimiter_free(struct fg_wg_ratelimiter *rl);
/*
 * True if a handshake from this source may be processed now. addr is 4 (IPv4) or 16
 * (IPv6, only the /64 counts) bytes in network order. When the table is full, new
 * sources are refused and counted; known sources keep their buckets.
 */
bool fg_wg_ratelimiter_allow(struct fg_wg_ratelimiter *rl, const uint8_t *addr,
			     size_t addr_len, uint64_t now_ns);
/* Drops entries idle for more than FG_WG_RATELIMITER_IDLE_NS; call about once a second. */
void fg_wg_ratelimiter_gc(struct fg_wg_ratelimiter *rl, uint64_t now_ns);
/* Sources currently tracked. */
uint32_t fg_wg_ratelimiter_count(const struct fg_wg_ratelimiter *rl);
void fg_wg_ratelimiter_stats(const struct fg_wg_ratelimiter *rl,
			     struct fg_wg_ratelimiter_stats *out);

#endif
