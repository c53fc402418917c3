// SPDX-License-Identifier: MIT
/*
 * One measured row: the raw AEAD rate of the backend on the row's packets (main lcore, no
 * I/O), then 1 or 2 workers, each on its own lcore, running the real fg_worker_poll() for a
 * fixed time. Each worker has a feeder on its own lcore that, between polls, puts at most
 * one burst on its port RX ring (mbufs copied from the templates, as a NIC would DMA them)
 * or writes one burst of inner packets into its TUN socketpair, and takes encrypted frames
 * off its port TX ring. Only the time inside fg_worker_poll() and the QSBR quiescent report
 * that follows it (what fg_worker_main does per iteration) is counted as the worker's; the
 * feeder's time is reported apart (wall rate). A worker's feeder only sends packets of the
 * peers whose keypairs it owns (peer % workers), as RSS keeps a client on one queue. Each
 * worker context belongs to its lcore for the run; the main lcore reads it afterwards.
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_memcpy.h>
#include <rte_pause.h>

#include "messages.h"
#include "transport.h"
#include "worker.h"

enum {
	RAW_SLOT = 2048,
};

struct wctx {
	struct fg_bench_env *e;
	const struct fg_bench_traffic *tr;
	const struct fg_bench_opts *o;
	struct fg_worker *w;
	uint32_t *list;     /* template indexes this worker's feeder sends, in counter order */
	uint32_t nlist;
	uint32_t pos;
	uint32_t *peers;    /* the peers whose windows it resets on wrap (decrypt) */
	uint32_t npeers;
	uint64_t busy;
	uint64_t wall;
	uint64_t wraps;
	uint64_t feed_short; /* a burst the feeder could not place whole */
	uint64_t tx_frames;
	int bad_frame;       /* an encrypted frame that did not open with the peer's key */
	bool checked;
} __rte_cache_aligned;

static uint32_t g_ready;
static uint32_t g_go;
static uint64_t g_end;

static void reset_windows(struct wctx *c)
{
	struct fg_tables *t = &c->e->dp.tables;

	for (uint32_t i = 0; i < c->npeers; i++)
		fg_wg_replay_init(&t->kps[c->e->kp_slot[c->peers[i]]].replay);
}

/* One burst of frames onto the worker's RX ring. The ring is empty here: the previous
 * poll took everything (at most one burst is ever queued). */
static void feed_decrypt(struct wctx *c)
{
	struct rte_mbuf *ms[FG_BURST_MAX];
	struct rte_ring *rx = c->e->rx[c->w->idx];
	unsigned n = c->o->burst, done;

	if (c->pos == c->nlist) {
		/* Counters start again at 0: forget them, after every queued one was handled. */
		if (rte_ring_count(rx) != 0)
			return;
		reset_windows(c);
		c->pos = 0;
		c->wraps++;
	}
	if (n > c->nlist - c->pos)
		n = c->nlist - c->pos;
	if (rte_pktmbuf_alloc_bulk(c->e->dp.pool, ms, n) != 0) {
		c->feed_short++;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct fg_bench_tmpl *t = &c->tr->t[c->list[c->pos + i]];

		rte_memcpy(rte_pktmbuf_mtod(ms[i], void *), c->tr->arena + t->off, t->len);
		ms[i]->data_len = t->len;
		ms[i]->pkt_len = t->len;
		if (c->o->csum_flags)
			ms[i]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	done = rte_ring_sp_enqueue_burst(rx, (void **)ms, n, NULL);
	if (done < n) {
		c->feed_short++;
		rte_pktmbuf_free_bulk(ms + done, n - done);
	}
	c->pos += done;
}

/* One burst of inner packets into the worker's TUN queue (a datagram socketpair). */
static void feed_encrypt(struct wctx *c)
{
	int fd = c->e->tun_pair[c->w->idx][1];

	for (unsigned i = 0; i < c->o->burst; i++) {
		const struct fg_bench_tmpl *t = &c->tr->t[c->list[c->pos]];

		if (send(fd, c->tr->arena + t->off, t->len, MSG_DONTWAIT) < 0) {
			c->feed_short++;
			return;
		}
		if (++c->pos == c->nlist)
			c->pos = 0;
	}
}

/* Opens one encrypted frame with the peer's key (the first of the row): the encrypt rows
 * must produce real WireGuard messages, not just count; relayed ones inside ChannelData on
 * the peer's channel, its length the message's. */
static void check_frame(struct wctx *c, struct rte_mbuf *m)
{
	uint8_t buf[RAW_SLOT];
	uint32_t len = rte_pktmbuf_data_len(m);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t hl = FG_NETPKT_UDP4_HDR_LEN + (c->tr->relayed ? FG_NETPKT_CHANNEL_HDR_LEN : 0);
	uint8_t key[FG_WG_KEY_LEN];
	uint64_t counter;
	uint32_t p;

	c->checked = true;
	if (len <= hl || len - hl > sizeof(buf)) {
		c->bad_frame = 1;
		return;
	}
	len -= hl;
	memcpy(buf, f + hl, len);
	for (p = 0; p < c->e->npeers; p++)
		if (fg_bench_remote_index(p) == fg_wg_transport_receiver(buf))
			break;
	if (p == c->e->npeers) {
		c->bad_frame = 1;
		return;
	}
	if (c->tr->relayed) {
		const uint8_t *ch = f + FG_NETPKT_UDP4_HDR_LEN;

		if ((ch[0] << 8 | ch[1]) != fg_bench_channel(p) || (ch[2] << 8 | ch[3]) != (int)len) {
			c->bad_frame = 1;
			return;
		}
	}
	fg_bench_send_key(p, key);
	if (fg_wg_transport_open(buf, len, key, &counter) < 0)
		c->bad_frame = 1;
}

static void drain_tx(struct wctx *c)
{
	struct rte_mbuf *ms[FG_BURST_MAX];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(c->e->tx[c->w->idx], (void **)ms, FG_BURST_MAX, NULL)) != 0) {
		if (!c->checked)
			check_frame(c, ms[0]);
		c->tx_frames += n;
		rte_pktmbuf_free_bulk(ms, n);
	}
}

static int worker_loop(void *arg)
{
	struct wctx *c = arg;
	struct fg_dp *dp = &c->e->dp;
	struct fg_worker *w = c->w;
	bool decrypt = c->tr->dir == FG_BENCH_DECRYPT;
	uint64_t start, t0, t1;

	/* This lcore's own AEAD context, as fg_worker_main() takes it. */
	(void)fg_aead_lcore_init();
	rte_rcu_qsbr_thread_register(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp->tables.qsbr, w->idx);
	__atomic_add_fetch(&g_ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&g_go, __ATOMIC_ACQUIRE))
		rte_pause();
	start = rte_rdtsc();
	while ((t0 = rte_rdtsc()) < g_end) {
		if (c->nlist) {
			if (decrypt)
				feed_decrypt(c);
			else
				feed_encrypt(c);
		}
		t0 = rte_rdtsc();
		fg_worker_poll(dp, w);
		rte_rcu_qsbr_quiescent(dp->tables.qsbr, w->idx);
		t1 = rte_rdtsc();
		c->busy += t1 - t0;
		if (!decrypt)
			drain_tx(c);
	}
	c->wall += rte_rdtsc() - start;
	rte_rcu_qsbr_thread_offline(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->tables.qsbr, w->idx);
	return 0;
}

/* The backend alone on the row's packets: bursts of the same size, the same keys (read from
 * the keypair table as the worker does), each message copied fresh into a scratch slot
 * before the timed call so every open verifies a real tag. */
int fg_bench_raw_rate(struct fg_bench_env *e, const struct fg_bench_traffic *tr, const struct fg_bench_opts *o,
		      double seconds, uint64_t *ops_out, uint64_t *cycles_out)
{
	struct fg_aead_op ops[FG_BURST_MAX];
	uint8_t *scratch = aligned_alloc(64, (size_t)FG_BURST_MAX * RAW_SLOT);
	const struct fg_tables *t = &e->dp.tables;
	uint64_t end = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());
	uint64_t nops = 0, cycles = 0;
	uint32_t i = 0;
	int bad = 0;

	if (!scratch)
		return -ENOMEM;
	while (rte_rdtsc() < end) {
		for (unsigned k = 0; k < o->burst; k++) {
			const struct fg_bench_tmpl *tp = &tr->t[i];
			const struct fg_keypair *kp = &t->kps[e->kp_slot[tp->peer]];
			uint8_t *slot = scratch + (size_t)k * RAW_SLOT;

			if (++i == tr->n)
				i = 0;
			if (tr->dir == FG_BENCH_DECRYPT) {
				uint32_t len = tp->len - tr->hdr_len;

				memcpy(slot, tr->arena + tp->off + tr->hdr_len, len);
				ops[k] = (struct fg_aead_op){ .data = slot, .key = kp->recv_key, .len = len };
			} else {
				uint32_t padded = fg_wg_padded_len(tp->len, FG_BENCH_MTU);

				memcpy(slot + FG_WG_DATA_HDR_LEN, tr->arena + tp->off, tp->len);
				memset(slot + FG_WG_DATA_HDR_LEN + tp->len, 0, padded - tp->len);
				ops[k] = (struct fg_aead_op){ .data = slot, .key = kp->send_key, .counter = nops + k,
							      .len = padded, .receiver_index = kp->remote_index };
			}
		}
		uint64_t t0 = rte_rdtsc();
		unsigned ok = tr->dir == FG_BENCH_DECRYPT ? fg_aead_open_burst(ops, o->burst)
							   : fg_aead_seal_burst(ops, o->burst);
		cycles += rte_rdtsc() - t0;
		nops += o->burst;
		if (ok != o->burst)
			bad = 1;
	}
	free(scratch);
	*ops_out = nops;
	*cycles_out = cycles;
	return bad ? -EBADMSG : 0;
}

/* What the worker's host-side syscalls cost alone, per packet, on the same packets: one
 * write(2) to /dev/null (decrypt) or one read(2) from the socketpair (encrypt; a burst of
 * datagrams is queued before the timed reads). Lets the reader split a row's cycles into the
 * packet-at-a-time fd I/O and the rest of the path. */
uint64_t fg_bench_io_cycles(struct fg_bench_env *e, const struct fg_bench_traffic *tr,
			    const struct fg_bench_opts *o, double seconds, uint64_t *ops_out)
{
	uint8_t buf[RAW_SLOT];
	uint64_t end = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());
	uint64_t cycles = 0, nops = 0;
	uint32_t i = 0;

	while (rte_rdtsc() < end) {
		const struct fg_bench_tmpl *tp[FG_BURST_MAX];
		unsigned n = 0;

		for (unsigned k = 0; k < o->burst; k++) {
			tp[k] = &tr->t[i];
			if (++i == tr->n)
				i = 0;
		}
		if (tr->dir == FG_BENCH_DECRYPT) {
			uint64_t t0 = rte_rdtsc();

			for (unsigned k = 0; k < o->burst; k++) {
				const uint8_t *inner = tr->arena + tp[k]->off + tr->hdr_len + FG_WG_DATA_HDR_LEN;

				n += write(e->devnull, inner, tp[k]->inner_len) > 0;
			}
			cycles += rte_rdtsc() - t0;
		} else {
			unsigned sent = 0;

			for (unsigned k = 0; k < o->burst; k++, sent++)
				if (send(e->tun_pair[0][1], tr->arena + tp[k]->off, tp[k]->len, MSG_DONTWAIT) < 0)
					break;
			uint64_t t0 = rte_rdtsc();

			/* exactly the queued datagrams, as the worker's poll reads a full burst */
			for (unsigned k = 0; k < sent; k++)
				n += read(e->tun_pair[0][0], buf, sizeof(buf)) > 0;
			cycles += rte_rdtsc() - t0;
		}
		nops += n;
	}
	*ops_out = nops;
	return cycles;
}

static uint64_t drops_of(const struct fg_lcore_counters *c, bool decrypt)
{
	uint64_t sum = 0;

	for (unsigned r = 0; r < FG_DROP_MAX; r++)
		sum += c->drops[r];
	/* Decrypt rows: the worker's per-poll read of its idle TUN queue gets EOF from
	 * /dev/null, which it counts as a TUN read error (a real TUN answers EAGAIN). */
	if (decrypt)
		sum -= c->drops[FG_DROP_TUN_MALFORMED];
	return sum;
}

/* One slice of the workers' run: worker 0 on the main lcore, the others launched. */
static int run_workers(struct wctx *ctx, const unsigned *lcores, unsigned workers, double seconds)
{
	int ret;

	__atomic_store_n(&g_ready, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&g_go, 0, __ATOMIC_RELEASE);
	for (unsigned w = 1; w < workers; w++) {
		ret = rte_eal_remote_launch(worker_loop, &ctx[w], lcores[w]);
		if (ret != 0) {
			for (unsigned k = 1; k < w; k++)
				rte_eal_wait_lcore(lcores[k]);
			return ret;
		}
	}
	while (__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE) != workers - 1)
		rte_pause();
	g_end = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());
	/* worker_loop counts itself in g_ready too; only the others need to be waited for. */
	__atomic_store_n(&g_go, 1, __ATOMIC_RELEASE);
	worker_loop(&ctx[0]);
	for (unsigned w = 1; w < workers; w++)
		rte_eal_wait_lcore(lcores[w]);
	return 0;
}

int fg_bench_run_row(struct fg_bench_env *e, const struct fg_bench_traffic *tr, unsigned workers,
		     const struct fg_bench_opts *o, struct fg_bench_row *row)
{
	struct fg_dp *dp = &e->dp;
	struct wctx ctx[FG_BENCH_MAX_WORKERS];
	struct fg_lcore_counters before[FG_BENCH_MAX_WORKERS];
	unsigned lcores[FG_BENCH_MAX_WORKERS], lc, nl = 0, slices;
	bool decrypt = tr->dir == FG_BENCH_DECRYPT;
	double hz = (double)rte_get_tsc_hz();
	int ret = 0;

	memset(row, 0, sizeof(*row));
	row->dir = tr->dir;
	row->relayed = tr->relayed;
	row->nat = tr->nat;
	row->size = tr->size;
	row->npeers = tr->npeers;
	row->workers = workers;
	if (tr->npeers < workers) {
		row->skipped = true;
		return 0;
	}
	if (workers == 0 || workers > dp->nworkers || workers > rte_lcore_count())
		return -EINVAL;
	/* Worker 0 runs on the main lcore, worker 1 on the first other lcore: no lcore sits
	 * spinning in rte_eal_wait_lcore() while two cores are measured. */
	lcores[nl++] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (nl == workers)
			break;
		lcores[nl++] = lc;
	}

	ret = fg_bench_env_set_relayed(e, tr->relayed);
	if (ret == 0)
		ret = fg_bench_env_set_nat(e, tr->nat);
	if (ret < 0)
		return ret;
	fg_bench_env_reset(e);
	dp->burst = o->burst;
	dp->fastpath = o->fastpath;
	row->fastpath = o->fastpath;
	row->csum_flags = o->csum_flags;
	memset(ctx, 0, sizeof(ctx));
	for (unsigned w = 0; w < workers; w++) {
		struct wctx *c = &ctx[w];

		c->e = e;
		c->tr = tr;
		c->o = o;
		c->w = &dp->workers[w];
		c->w->lcore = lcores[w];
		c->w->tun_fd = decrypt ? e->devnull : e->tun_pair[w][0];
		c->list = malloc(sizeof(*c->list) * tr->n);
		c->peers = malloc(sizeof(*c->peers) * tr->npeers);
		if (!c->list || !c->peers) {
			ret = -ENOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < tr->n; i++)
			if (tr->t[i].peer % workers == w)
				c->list[c->nlist++] = i;
		for (uint32_t p = 0; p < tr->npeers; p++)
			if (p % workers == w)
				c->peers[c->npeers++] = p;
		before[w] = c->w->cnt;
	}

	/* A NAT row is measured with its tuples in place: one untimed pass creates them. */
	if (tr->nat) {
		fg_bench_nat_clear(e);
		ret = run_workers(ctx, lcores, workers, 0.2);
		if (ret < 0)
			goto out;
		for (unsigned w = 0; w < workers; w++) {
			ctx[w].busy = ctx[w].wall = 0;
			before[w] = ctx[w].w->cnt;
		}
	}

	/* The raw AEAD, the fd syscalls and the workers take turns in slices of about 0.25 s,
	 * so a slow drift of this shared machine's speed hits all three alike. The raw parts
	 * touch neither the replay windows nor the feeders' positions. */
	slices = (unsigned)(o->seconds / 0.25 + 0.5);
	if (slices == 0)
		slices = 1;
	for (unsigned s = 0; s < slices; s++) {
		uint64_t ops, cycles;

		ret = fg_bench_raw_rate(e, tr, o, o->raw_seconds / slices, &ops, &cycles);
		if (ret < 0)
			goto out;
		row->raw_ops += ops;
		row->raw_cycles += cycles;
		row->io_cycles += fg_bench_io_cycles(e, tr, o, o->raw_seconds / 2 / slices, &ops);
		row->io_ops += ops;
		ret = run_workers(ctx, lcores, workers, o->seconds / slices);
		if (ret < 0)
			goto out;
	}

	double rate = 0, bytes_rate = 0;
	struct fg_stage_prof prof = { 0 };
	for (unsigned w = 0; w < workers; w++) {
		const struct fg_lcore_counters *a = &before[w], *b = &ctx[w].w->cnt;
		const struct fg_stage_prof *pa = decrypt ? &a->prof_rx : &a->prof_tx;
		const struct fg_stage_prof *pb = decrypt ? &b->prof_rx : &b->prof_tx;

		for (unsigned st = 0; st < FG_STAGE_MAX; st++)
			prof.cycles[st] += pb->cycles[st] - pa->cycles[st];
		prof.packets += pb->packets - pa->packets;
		uint64_t pk = decrypt ? b->tun_tx_packets - a->tun_tx_packets : b->encrypted - a->encrypted;
		uint64_t by = decrypt ? b->tun_tx_bytes - a->tun_tx_bytes : b->tun_rx_bytes - a->tun_rx_bytes;

		row->packets += pk;
		row->inner_bytes += by;
		row->busy_cycles += ctx[w].busy;
		row->drops += drops_of(b, decrypt) - drops_of(a, decrypt);
		if (drops_of(b, decrypt) != drops_of(a, decrypt)) {
			/* Which counters moved: a failing row names its reasons. */
			fprintf(stderr, "fastgate-bench: worker %u drops:", w);
			for (unsigned d = 0; d < FG_DROP_MAX; d++)
				if (b->drops[d] != a->drops[d] && !(decrypt && d == FG_DROP_TUN_MALFORMED))
					fprintf(stderr, " %s %llu", fg_drop_names[d],
						(unsigned long long)(b->drops[d] - a->drops[d]));
			fprintf(stderr, "\n");
		}
		if (ctx[w].wall > row->wall_cycles)
			row->wall_cycles = ctx[w].wall;
		if (ctx[w].busy) {
			rate += (double)pk * hz / (double)ctx[w].busy;
			bytes_rate += (double)by * hz / (double)ctx[w].busy;
		}
		if (!decrypt && pk && (!ctx[w].checked || ctx[w].bad_frame))
			ret = -EBADMSG;
	}
	row->mpps = rate / 1e6;
	row->gbps = bytes_rate * 8 / 1e9;
	row->cycles_per_packet = row->packets ? (double)row->busy_cycles / (double)row->packets : 0;
	row->stage_pkts = prof.packets;
	for (unsigned st = 0; st < FG_STAGE_MAX && prof.packets; st++)
		row->stage[st] = (double)prof.cycles[st] / (double)prof.packets;
	row->raw_cycles_per_op = row->raw_ops ? (double)row->raw_cycles / (double)row->raw_ops : 0;
	row->raw_mpps = row->raw_cycles ? (double)row->raw_ops * hz / (double)row->raw_cycles / 1e6 : 0;
	row->ratio = row->cycles_per_packet > 0 ? row->raw_cycles_per_op / row->cycles_per_packet : 0;
	row->io_cycles_per_packet = row->io_ops ? (double)row->io_cycles / (double)row->io_ops : 0;
	/* Only when consistent: the worker does at least the AEAD and the syscall. An estimate
	 * that leaves less than that (a noisy io sample) gives no ratio (0, printed "-"). */
	if (row->cycles_per_packet > row->io_cycles_per_packet + row->raw_cycles_per_op)
		row->ratio_no_io = row->raw_cycles_per_op / (row->cycles_per_packet - row->io_cycles_per_packet);
out:
	for (unsigned w = 0; w < workers; w++) {
		free(ctx[w].list);
		free(ctx[w].peers);
	}
	dp->fastpath = 0;
	fg_bench_env_reset(e);
	return ret;
}
