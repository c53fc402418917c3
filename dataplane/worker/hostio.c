// SPDX-License-Identifier: MIT
/*
 * The worker's host I/O, on its own TUN queue: decrypted packets go to the host (GRO
 * super-packets on a virtio-net-header TUN, else a packet per write), and packets the host
 * routes into the tunnel come back (GSO super-packets split into MTU-sized mbufs, else a
 * packet per read) to be sealed by send.c. Only batched non-blocking I/O on the worker's
 * own fd; the mbufs and buffers are the worker's own (struct fg_worker).
 *
 * Two ways to reach the kernel ([Host] TunIo). Syscalls: a write(2) / writev(2) per GRO item
 * and a read(2) per packet or super-packet, on a non-blocking fd. io_uring (kni/tun_uring.h):
 * every item of a burst becomes one request, the read buffers stay posted as read requests,
 * and one submission per poll pass (none when idle) carries the pass's writes and the
 * re-posted reads; completions are harvested without a system call. The requests' memory
 * (the GRO items with their headers and iovecs, the mbufs whose payloads they point at, the
 * mbufs posted as plain-mode read buffers) is held in struct fg_hostio_ring, a fixed table
 * per worker, until each completion comes back. A burst that finds no room (every batch
 * slot or the ring's in-flight bound in use) is dropped as tun_ring_full rather than written
 * by a system call: a write behind the ring's back could overtake queued writes of the same
 * flow, and the cause (the kernel not keeping up) would drop at the TUN queue anyway.
 */
#include "worker_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include <rte_malloc.h>

#include "gro.h"
#include "gso.h"
#include "messages.h"
#include "worker.h"

enum {
	RING_BATCHES = 16,                 /* bursts of writes in flight per worker */
	RING_ENTRIES = 512,                /* submission queue: a pass's writes and re-posts */
	/* Every batch full, and every read buffer posted. */
	RING_INFLIGHT = RING_BATCHES * FG_BURST_MAX + FG_BURST_MAX,
	RING_IDLE_MS = 100,                /* SQPOLL's thread sleeps after this long idle */
	REAP_CHUNK = 64,
	ITEM_BITS = 8,                     /* write tag: batch << ITEM_BITS | item */
	TAG_READ = 1u << 20,               /* read tag: TAG_READ | buffer slot */
	STOP_WAIT_MS = 1000,               /* a stopping worker's wait for its cancellations */
};

_Static_assert(FG_BURST_MAX <= (1 << ITEM_BITS), "an item index fits its tag bits");
_Static_assert((RING_BATCHES << ITEM_BITS) < TAG_READ, "write and read tags differ");

/* One burst of writes in flight: the GRO items (the headers the iovecs point at), the
 * iovecs, and the burst's mbufs (the payloads), all released when its last write completes. */
struct ring_batch {
	unsigned pending;                      /* writes not completed; 0: the slot is free */
	unsigned nmbufs;
	struct rte_mbuf *mbufs[FG_BURST_MAX];
	uint32_t expect[FG_BURST_MAX];         /* bytes item i's write must take */
	uint16_t pkts[FG_BURST_MAX];           /* packets in item i */
	struct fg_gro_item items[FG_BURST_MAX];
	struct iovec iov[3 * FG_BURST_MAX];    /* per item: header, head or packet, payloads */
};

/* A worker's ring and what its requests hold (owned by the worker once it runs). */
struct fg_hostio_ring {
	struct fg_tun_uring *u;
	bool vnet;                             /* virtio-net TUN: reads into w->rdbuf[] */
	bool started;                          /* the read buffers have been posted once */
	bool stopping;                         /* completions are only released, not used */
	bool wrote;                            /* writes queued since the last submission */
	unsigned busy;                         /* batches with writes in flight */
	unsigned nreads;                       /* read buffers (slots) */
	unsigned next_batch;
	bool posted[FG_BURST_MAX];             /* slot's read is queued or in the kernel */
	struct rte_mbuf *rd_mbuf[FG_BURST_MAX]; /* plain mode: the mbuf slot i reads into */
	struct ring_batch batch[RING_BATCHES];
};

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

/* A free batch slot, or NULL when every one still has writes in flight. */
static struct ring_batch *ring_batch_take(struct fg_hostio_ring *r, unsigned *idx)
{
	for (unsigned k = 0; k < RING_BATCHES; k++) {
		unsigned b = (r->next_batch + k) % RING_BATCHES;

		if (r->batch[b].pending == 0) {
			r->next_batch = (b + 1) % RING_BATCHES;
			*idx = b;
			return &r->batch[b];
		}
	}
	return NULL;
}

bool fg_worker_tun_backlogged(const struct fg_worker *w)
{
	const struct fg_hostio_ring *r = w->ring;

	return r && r->busy == RING_BATCHES;
}

/* The io_uring path: one write request per GRO item (virtio-net TUN) or per packet, queued
 * for the pass's single submission (fg_worker_poll_tun). An item that does not fit is
 * dropped with every item after it, so nothing behind it is written ahead of it. */
static void ring_deliver(const struct fg_dp *dp, struct fg_worker *w, uint8_t *const bufs[], const uint16_t lens[],
			 struct rte_mbuf *const done[], unsigned n)
{
	struct fg_hostio_ring *r = w->ring;
	const uint8_t *const *pkts = (const uint8_t *const *)bufs;
	uint16_t next[FG_BURST_MAX];
	unsigned bi, m, off = 0, i;
	struct ring_batch *b = ring_batch_take(r, &bi);

	if (!b) {
		w->cnt.tun_uring.full++;
		for (i = 0; i < n; i++)
			drop(w, done[i], FG_DROP_TUN_RING_FULL);
		return;
	}
	if (r->vnet) {
		unsigned udp = ((dp->tun.offloads & FG_TUN_OFFLOAD_USO4) ? FG_GRO_UDP4 : 0) |
			       ((dp->tun.offloads & FG_TUN_OFFLOAD_USO6) ? FG_GRO_UDP6 : 0);

		m = fg_gro_coalesce_ex(pkts, lens, n, b->items, next, udp);
	} else {
		m = n;
	}
	for (i = 0; i < m; i++) {
		uint64_t tag = (uint64_t)bi << ITEM_BITS | i;
		bool ok;

		if (r->vnet) {
			unsigned cnt = fg_gro_iov(&b->items[i], pkts, lens, next, b->iov + off);

			b->expect[i] = FG_VNET_HDR_LEN + b->items[i].len;
			b->pkts[i] = b->items[i].count;
			ok = fg_tun_uring_writev(r->u, b->iov + off, cnt, tag);
			off += cnt;
		} else {
			b->expect[i] = lens[i];
			b->pkts[i] = 1;
			ok = fg_tun_uring_write(r->u, bufs[i], lens[i], tag);
		}
		if (!ok)
			break;
		b->pending++;
		r->wrote = true;
	}
	for (unsigned j = i; j < m; j++)
		w->cnt.drops[FG_DROP_TUN_RING_FULL] += r->vnet ? b->items[j].count : 1;
	memcpy(b->mbufs, done, n * sizeof(done[0]));
	b->nmbufs = n;
	if (b->pending == 0)
		rte_pktmbuf_free_bulk(b->mbufs, n);
	else
		r->busy++;
}

/* A write's completion: counted, and its batch's mbufs released with the last one. */
static void ring_write_done(struct fg_worker *w, struct fg_hostio_ring *r, uint64_t tag, int32_t res)
{
	struct ring_batch *b = &r->batch[(tag >> ITEM_BITS) % RING_BATCHES];
	unsigned i = (unsigned)(tag & ((1u << ITEM_BITS) - 1));

	if (res >= 0 && (uint32_t)res == b->expect[i]) {
		w->cnt.tun_tx_packets += b->pkts[i];
		w->cnt.tun_tx_bytes += b->expect[i] - (r->vnet ? FG_VNET_HDR_LEN : 0);
		if (r->vnet)
			w->cnt.tun_gro_writes++;
	} else {
		if (res >= 0)
			w->cnt.tun_uring.short_io++;
		w->cnt.drops[FG_DROP_TUN_WRITE] += b->pkts[i];
	}
	if (--b->pending == 0) {
		rte_pktmbuf_free_bulk(b->mbufs, b->nmbufs);
		r->busy--;
	}
}

/* The admitted inner packets to the host: GRO super-packets on a virtio-net-header TUN,
 * else one write per packet; through the worker's ring when it has one. */
void fg_worker_deliver_tun(struct fg_dp *dp, struct fg_worker *w, uint8_t *const bufs[], const uint16_t lens[],
			   struct rte_mbuf *const done[], unsigned n)
{
	uint64_t errors = 0;
	unsigned wrote;

	if (w->ring) {
		ring_deliver(dp, w, bufs, lens, done, n);
		return;
	}
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

/* Segments of super-packets on their way to send.c, flushed a burst at a time in order. */
struct gso_out {
	struct rte_mbuf *ms[FG_BURST_MAX];
	uint16_t lens[FG_BURST_MAX];
	unsigned nm;
};

/* One read from a virtio-net-header TUN (len bytes at buf: a TSO/USO super-packet of up to
 * 64 KiB or one packet), split (GSO) into <= MTU packets straight into mbufs, in order.
 * Returns the segments, or -1 when the pool is dry (the read is lost, counted). */
static int split_one(struct fg_dp *dp, struct fg_worker *w, const uint8_t *buf, uint32_t len, struct gso_out *o,
		     uint64_t now)
{
	struct rte_mbuf *seg[FG_GSO_SEGS];
	uint8_t *ptr[FG_GSO_SEGS];
	uint16_t slen[FG_GSO_SEGS];

	if (!stash_take(dp, w, seg, FG_GSO_SEGS))
		return -1;
	unsigned cap = rte_pktmbuf_tailroom(seg[0]) - FG_WG_PADDING - FG_WG_AEAD_TAG_LEN;
	for (unsigned j = 0; j < FG_GSO_SEGS; j++)
		ptr[j] = rte_pktmbuf_mtod(seg[j], uint8_t *);
	int k = fg_gso_split(buf, len, (uint16_t)dp->mtu, ptr, slen, FG_GSO_SEGS, cap);
	if (k <= 0) {
		w->cnt.drops[FG_DROP_TUN_MALFORMED]++;
		k = 0;
	} else if (k > 1) {
		w->cnt.tun_gso_splits++;
	}
	/* Segments keep their order: bursts are flushed in write order. */
	for (int j = 0; j < k; j++) {
		if (o->nm == FG_BURST_MAX) {
			fg_worker_tun_burst(dp, w, o->ms, o->lens, o->nm, now);
			o->nm = 0;
		}
		o->ms[o->nm] = seg[j];
		o->lens[o->nm++] = slen[j];
	}
	/* Unused mbufs go back to the stash. */
	memcpy(w->stash + w->nstash, seg + k, (FG_GSO_SEGS - (unsigned)k) * sizeof(seg[0]));
	w->nstash += FG_GSO_SEGS - (unsigned)k;
	return k;
}

/* The virtio-net-header TUN: each read may be a TSO/USO super-packet of up to 64 KiB, split
 * (GSO) into <= MTU packets straight into mbufs, in order, then encrypted in bursts. */
static unsigned poll_tun_vnet(struct fg_dp *dp, struct fg_worker *w, uint64_t now)
{
	struct gso_out o;
	uint32_t rlen[FG_TUN_READS];
	unsigned n, total = 0;
	uint64_t errors = 0;

	o.nm = 0;
	n = fg_tun_read_vnet_burst(w->tun_fd, w->rdbuf, rlen, FG_TUN_READS, FG_TUN_VNET_READ_MAX, &errors);
	w->cnt.drops[FG_DROP_TUN_MALFORMED] += errors;
	for (unsigned i = 0; i < n; i++) {
		int k = split_one(dp, w, w->rdbuf[i], rlen[i], &o, now);

		if (k < 0)
			break;
		total += (unsigned)k;
	}
	if (o.nm)
		fg_worker_tun_burst(dp, w, o.ms, o.lens, o.nm, now);
	return total;
}

/* ---- the io_uring path ---------------------------------------------------------------- */

/* Usable room in an mbuf for a packet read from the TUN: the WireGuard header and outer
 * headers go in front (headroom), padding and the tag behind. */
static unsigned read_cap(const struct rte_mbuf *m)
{
	return rte_pktmbuf_tailroom(m) - FG_WG_PADDING - FG_WG_AEAD_TAG_LEN;
}

/* Queues the reads of every slot that is not posted (plain mode: with a fresh mbuf); they
 * go to the kernel with the next submission. */
static void ring_post_reads(struct fg_dp *dp, struct fg_worker *w, struct fg_hostio_ring *r)
{
	for (unsigned i = 0; i < r->nreads; i++) {
		if (r->posted[i])
			continue;
		if (r->vnet) {
			if (!fg_tun_uring_read(r->u, w->rdbuf[i], FG_TUN_VNET_READ_MAX, TAG_READ | i))
				return;
		} else {
			if (!r->rd_mbuf[i] && !stash_take(dp, w, &r->rd_mbuf[i], 1))
				return;   /* the pool is dry: try again next pass */
			struct rte_mbuf *m = r->rd_mbuf[i];
			if (!fg_tun_uring_read(r->u, rte_pktmbuf_mtod(m, uint8_t *), read_cap(m), TAG_READ | i))
				return;
		}
		r->posted[i] = true;
	}
}

/* The read completions of one pass, in the ring's order: super-packets split, packets
 * checked, all sealed in bursts (send.c). Returns the packets handed on. */
static unsigned ring_reads_done(struct fg_dp *dp, struct fg_worker *w, struct fg_hostio_ring *r,
				const uint16_t slot[], const int32_t res[], unsigned n, uint64_t now)
{
	struct gso_out o;
	unsigned total = 0;

	o.nm = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned s = slot[i];

		if (r->stopping || res[i] < 0)
			continue;            /* -EAGAIN / errors counted by the ring; posted again */
		if (res[i] == 0) {
			/* Nothing read (an empty datagram, end of file): as the read(2) path counts it. */
			w->cnt.drops[FG_DROP_TUN_MALFORMED]++;
			continue;
		}
		if (r->vnet) {
			if (!fg_tun_read_ok(w->rdbuf[s], (size_t)res[i], FG_VNET_HDR_LEN)) {
				w->cnt.drops[FG_DROP_TUN_MALFORMED]++;
				continue;
			}
			int k = split_one(dp, w, w->rdbuf[s], (uint32_t)res[i], &o, now);
			if (k > 0)
				total += (unsigned)k;
			continue;
		}
		struct rte_mbuf *m = r->rd_mbuf[s];
		if (!fg_tun_read_ok(rte_pktmbuf_mtod(m, uint8_t *), (size_t)res[i], 0)) {
			w->cnt.drops[FG_DROP_TUN_MALFORMED]++;
			continue;            /* the mbuf stays with the slot */
		}
		r->rd_mbuf[s] = NULL;
		if (o.nm == FG_BURST_MAX) {
			fg_worker_tun_burst(dp, w, o.ms, o.lens, o.nm, now);
			o.nm = 0;
		}
		o.ms[o.nm] = m;
		o.lens[o.nm++] = (uint16_t)res[i];
		total++;
	}
	if (o.nm)
		fg_worker_tun_burst(dp, w, o.ms, o.lens, o.nm, now);
	return total;
}

/* Harvests every completion: writes are counted and released, reads collected in slot[] /
 * res[] (at most one per slot, since a slot is posted again only after this). */
static unsigned ring_reap(struct fg_worker *w, struct fg_hostio_ring *r, uint16_t slot[], int32_t res[])
{
	struct fg_tun_uring_done d[REAP_CHUNK];
	unsigned n, nrd = 0;

	do {
		n = fg_tun_uring_reap(r->u, d, REAP_CHUNK);
		for (unsigned i = 0; i < n; i++) {
			if (!(d[i].tag & TAG_READ)) {
				ring_write_done(w, r, d[i].tag, d[i].res);
				continue;
			}
			unsigned s = (unsigned)(d[i].tag & (TAG_READ - 1));
			if (s >= r->nreads || !r->posted[s])
				continue;   /* not ours: cannot happen, and never indexes out of range */
			r->posted[s] = false;
			slot[nrd] = (uint16_t)s;
			res[nrd++] = d[i].res;
		}
	} while (n == REAP_CHUNK);
	return nrd;
}

/* One pass: the single submission (this pass's writes, last pass's re-posted reads; with
 * cooperative task-run it also completes what the kernel woke meanwhile), the harvest, the
 * packets read, and the reads queued again for the next pass. With FG_FP_PROFILE the
 * submission is timed as the decrypt direction's IO. */
static unsigned ring_poll(struct fg_dp *dp, struct fg_worker *w, uint64_t now)
{
	struct fg_hostio_ring *r = w->ring;
	uint16_t slot[FG_BURST_MAX];
	int32_t res[FG_BURST_MAX];
	unsigned nrd, total;

	if (!r->started) {
		ring_post_reads(dp, w, r);
		r->started = true;
	}
	if (unlikely(dp->fastpath & FG_FP_PROFILE)) {
		/* The submission is where the kernel takes the decrypted packets (the writes
		 * queued since the last pass): the decrypt direction's IO stage. */
		uint64_t t0 = rte_rdtsc();

		(void)fg_tun_uring_submit(r->u);
		if (r->wrote)
			w->cnt.prof_rx.cycles[FG_STAGE_IO] += rte_rdtsc() - t0;
	} else {
		(void)fg_tun_uring_submit(r->u);   /* a failure is counted; the requests stay queued */
	}
	r->wrote = false;
	nrd = ring_reap(w, r, slot, res);
	total = ring_reads_done(dp, w, r, slot, res, nrd, now);
	ring_post_reads(dp, w, r);
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
	if (w->ring)
		return ring_poll(dp, w, now);
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


/* ---- the ring's life ------------------------------------------------------------------ */

int fg_worker_tun_ring_setup(struct fg_dp *dp, struct fg_worker *w, bool sqpoll, int sqpoll_cpu)
{
	struct fg_tun_uring_opts o = {
		.entries = RING_ENTRIES,
		.inflight = RING_INFLIGHT,
		.sqpoll = sqpoll,
		.sqpoll_cpu = sqpoll_cpu,
		.sqpoll_idle_ms = RING_IDLE_MS,
		.stats = &w->cnt.tun_uring,
	};
	struct fg_hostio_ring *r;
	int ret;

	if (w->ring || w->tun_fd < 0)
		return w->ring ? 0 : -EBADF;
	r = rte_zmalloc("fg_tunring", sizeof(*r), RTE_CACHE_LINE_SIZE);
	if (!r)
		return -ENOMEM;
	r->vnet = dp->tun.flags & FG_TUN_VNET_HDR;
	r->nreads = r->vnet ? FG_TUN_READS : dp->burst;
	if (r->nreads > FG_BURST_MAX)
		r->nreads = FG_BURST_MAX;
	ret = fg_tun_uring_create(&r->u, w->tun_fd, &o);
	if (ret < 0) {
		rte_free(r);
		return ret;
	}
	w->ring = r;
	return 0;
}

void fg_worker_tun_stop(struct fg_dp *dp, struct fg_worker *w)
{
	struct fg_hostio_ring *r = w->ring;
	uint16_t slot[FG_BURST_MAX];
	int32_t res[FG_BURST_MAX];
	uint64_t deadline;

	if (!r)
		return;
	/* The worker's own completions run when it enters the kernel (cooperative task-run),
	 * so it cancels and harvests them itself, by polling: no waiting call. */
	r->stopping = true;
	(void)fg_tun_uring_cancel_all(r->u);
	deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000 * STOP_WAIT_MS;
	while (fg_tun_uring_inflight(r->u) && rte_rdtsc() < deadline) {
		(void)fg_tun_uring_submit(r->u);
		unsigned n = ring_reap(w, r, slot, res);
		(void)ring_reads_done(dp, w, r, slot, res, n, 0);
		rte_pause();
	}
}

void fg_worker_tun_ring_free(struct fg_dp *dp, struct fg_worker *w)
{
	struct fg_hostio_ring *r = w->ring;

	(void)dp;
	if (!r)
		return;
	/* Cancels and waits for whatever is still in flight (a caller that polled the worker
	 * itself and never stopped it); afterwards no request holds a buffer. */
	fg_tun_uring_destroy(r->u);
	for (unsigned b = 0; b < RING_BATCHES; b++)
		if (r->batch[b].pending)
			rte_pktmbuf_free_bulk(r->batch[b].mbufs, r->batch[b].nmbufs);
	for (unsigned i = 0; i < r->nreads; i++)
		rte_pktmbuf_free(r->rd_mbuf[i]);
	rte_free(r);
	w->ring = NULL;
}
