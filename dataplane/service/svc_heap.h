/* SPDX-License-Identifier: MIT */
/*
 * The DPDK heap's figures as the operator sees them (STATS_REPLY, the stats file):
 * rte_malloc_get_socket_stats() summed over the sockets, the largest free block the largest
 * of any socket. Read by the service lcore when it answers; it takes each heap's lock for a
 * moment, which no worker ever takes (workers never allocate).
 */
#ifndef FG_SVC_HEAP_H
#define FG_SVC_HEAP_H

#include <stdint.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

struct fg_svc_heap {
	uint64_t total;         /* bytes the heaps hold: -m, or what grew on hugepages */
	uint64_t allocated;
	uint64_t free;
	uint64_t largest_free;
};

static inline void fg_svc_heap_read(struct fg_svc_heap *h)
{
	h->total = h->allocated = h->free = h->largest_free = 0;
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) < 0)
			continue;
		h->total += st.heap_totalsz_bytes;
		h->allocated += st.heap_allocsz_bytes;
		h->free += st.heap_freesz_bytes;
		if (st.greatest_free_size > h->largest_free)
			h->largest_free = st.greatest_free_size;
	}
}

#endif
