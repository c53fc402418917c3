// SPDX-License-Identifier: MIT
/*
 * The worker's host I/O, on its own TUN queue: decrypted packets go to the host (GRO
 * super-packets on a virtio-net-header TUN, else a packet per write), and packets the host
 * routes into the tunnel come back (GSO super-packets split into MTU-sized mbufs, else a
 * packet per read) to be sealed by send.c. Only batched non-blocking I/O on the worker's
 * own fd; the mbufs and buffers are the worker's own (struct fg_worker).
 */
#include "worker_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "gro.h"
#include "gso.h"
#include "messages.h"

/* ---- to the host ---------------------------------------------------------------------- */

/* Writes decrypted packets to a virtio-net-header TUN, coalescing TCP flows into
 * super-packets (GRO): one writev(2) per item instead of one write(2) per packet. The
 * payloads are not copied; the mbufs go back after the write. */
static void tun_write_gro(const struct fg_dp *dp, struct fg_worker *w, uint8_t *const bufs[],
			  const uint16_t lens[], struct rte_mbuf *const done[], unsigned n)
{
	/* UDP is coalesced only where the kernel took USO for that family. */
	unsigned udp = ((dp->tun.offloads & FG_TUN_OFFLOAD_USO4) ? FG_GRO_UDP4 : 0) |
		       ((dp->tun.offloads & FG_TUN_OFFLOAD_USO6) ? FG_GRO_UDP6 : 0);
	struct fg_gro_item items[FG_BURST_MAX];
	uint16_t next[FG_BURST_MAX];
	struct iovec iov[3 * FG_BURST_MAX];
	unsigned cnt[FG_BURST_MAX], off = 0, m, wrote, i;
	uint64_t errors = 0;

	m = fg_gro_coalesce_ex((const uint8_t *const *)bufs, lens, n, items, next, udp);
	for (i = 0; i < m; i++) {
		cnt[i] = fg_gro_iov(&items[i], (const uint8_t *const *)bufs, lens, next, iov + off);
		off += cnt[i];
	}
	wrote = fg_tun_writev_burst(w->tun_fd, iov, cnt, m, &errors);
	for (i = 0; i < m; i++) {
		if (i < wrote) {
			w->cnt.tun_tx_packets += items[i].count;
			w->cnt.tun_tx_bytes += items[i].len;
			w->cnt.tun_gro_writes++;
		} else {
			w->cnt.drops[FG_DROP_TUN_WRITE] += items[i].count;
		}
	}
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(done[i]);
}

/* The admitted inner packets to the host: GRO super-packets on a virtio-net-header TUN,
 * else one write per packet. */
void fg_worker_deliver_tun(struct fg_dp *dp, struct fg_worker *w, uint8_t *const bufs[], const uint16_t lens[],
			   struct rte_mbuf *const done[], unsigned n)
{
	uint64_t errors = 0;
	unsigned wrote;

	if (dp->tun.flags & FG_TUN_VNET_HDR) {
		tun_write_gro(dp, w, bufs, lens, done, n);
		return;
	}
	wrote = fg_tun_write_burst(w->tun_fd, bufs, lens, n, &errors);
	for (unsigned i = 0; i < n; i++) {
		if (i < wrote) {
			w->cnt.tun_tx_packets++;
			w->cnt.tun_tx_bytes += lens[i];
			rte_pktmbuf_free(done[i]);
		} else {
			drop(w, done[i], FG_DROP_TUN_WRITE);
		}
	}
}

/* ---- from the host -------------------------------------------------------------------- */

/* Takes k mbufs from the worker's stash (refilled in bulk); false if the pool is dry. */
static bool stash_take(struct fg_dp *dp, struct fg_worker *w, struct rte_mbuf **out, unsigned k)
{
	if (w->nstash < k) {
		unsigned want = FG_STASH - w->nstash;

		if (rte_pktmbuf_alloc_bulk(dp->pool, w->stash + w->nstash, want) == 0)
			w->nstash += want;
		if (w->nstash < k) {
			w->cnt.drops[FG_DROP_MBUF_ALLOC]++;
			return false;
		}
	}
	w->nstash -= k;
	memcpy(out, w->stash + w->nstash, k * sizeof(*out));
	return true;
}

/* The virtio-net-header TUN: each read may be a TSO/USO super-packet of up to 64 KiB, split
 * (GSO) into <= MTU packets straight into mbufs, in order, then encrypted in bursts. */
static unsigned poll_tun_vnet(struct fg_dp *dp, struct fg_worker *w, uint64_t now)
{
	struct rte_mbuf *ms[FG_BURST_MAX], *seg[FG_GSO_SEGS];
	uint8_t *ptr[FG_GSO_SEGS];
	uint16_t lens[FG_BURST_MAX], slen[FG_GSO_SEGS];
	uint32_t rlen[FG_TUN_READS];
	unsigned n, nm = 0, total = 0;
	uint64_t errors = 0;

	n = fg_tun_read_vnet_burst(w->tun_fd, w->rdbuf, rlen, FG_TUN_READS, FG_TUN_VNET_READ_MAX, &errors);
	w->cnt.drops[FG_DROP_TUN_MALFORMED] += errors;
	for (unsigned i = 0; i < n; i++) {
		if (!stash_take(dp, w, seg, FG_GSO_SEGS))
			break;
		unsigned cap = rte_pktmbuf_tailroom(seg[0]) - FG_WG_PADDING - FG_WG_AEAD_TAG_LEN;
		for (unsigned j = 0; j < FG_GSO_SEGS; j++)
			ptr[j] = rte_pktmbuf_mtod(seg[j], uint8_t *);
		int k = fg_gso_split(w->rdbuf[i], rlen[i], (uint16_t)dp->mtu, ptr, slen, FG_GSO_SEGS, cap);
		if (k <= 0) {
			w->cnt.drops[FG_DROP_TUN_MALFORMED]++;
			k = 0;
		} else if (k > 1) {
			w->cnt.tun_gso_splits++;
		}
		/* Segments keep their order: bursts are flushed in write order. */
		for (int j = 0; j < k; j++) {
			if (nm == FG_BURST_MAX) {
				fg_worker_tun_burst(dp, w, ms, lens, nm, now);
				nm = 0;
			}
			ms[nm] = seg[j];
			lens[nm++] = slen[j];
		}
		total += (unsigned)k;
		/* Unused mbufs go back to the stash. */
		memcpy(w->stash + w->nstash, seg + k, (FG_GSO_SEGS - (unsigned)k) * sizeof(seg[0]));
		w->nstash += FG_GSO_SEGS - (unsigned)k;
	}
	if (nm)
		fg_worker_tun_burst(dp, w, ms, lens, nm, now);
	return total;
}

unsigned fg_worker_poll_tun(struct fg_dp *dp, struct fg_worker *w, uint64_t now)
{
	struct rte_mbuf *ms[FG_BURST_MAX];
	uint8_t *bufs[FG_BURST_MAX];
	uint16_t lens[FG_BURST_MAX];
	unsigned n = dp->burst, got;
	uint64_t errors = 0;

	if (w->tun_fd < 0)
		return 0;
	if (dp->tun.flags & FG_TUN_VNET_HDR)
		return poll_tun_vnet(dp, w, now);
	if (rte_pktmbuf_alloc_bulk(dp->pool, ms, n) != 0) {
		w->cnt.drops[FG_DROP_MBUF_ALLOC]++;
		return 0;
	}
	/* Room left for the WireGuard header and outer headers in front (headroom), and for
	 * padding and the tag behind. */
	unsigned cap = rte_pktmbuf_tailroom(ms[0]) - FG_WG_PADDING - FG_WG_AEAD_TAG_LEN;
	for (unsigned i = 0; i < n; i++)
		bufs[i] = rte_pktmbuf_mtod(ms[i], uint8_t *);
	got = fg_tun_read_burst(w->tun_fd, bufs, lens, n, cap, &errors);
	w->cnt.drops[FG_DROP_TUN_MALFORMED] += errors;
	for (unsigned i = got; i < n; i++)
		rte_pktmbuf_free(ms[i]);
	if (got)
		fg_worker_tun_burst(dp, w, ms, lens, got, now);
	return got;
}

