// SPDX-License-Identifier: MIT
/*
 * One host-path row: the worker's whole path with the real TUN and the kernel behind it, in
 * the bench's private network namespace (hostenv.c) on the host env (env.c).
 *
 * - decrypt-tcp: each worker's feeder plays the remote end of one TCP connection behind a
 *   peer it owns: SYN, the kernel's SYN-ACK, ACK, then 1380-byte segments (1420-byte inner
 *   packets) within the kernel's window, each sealed with the peer's key into a frame on the
 *   worker's RX ring. The kernel's ACKs come out of the TUN, through the worker's encrypt
 *   path, onto the TX ring, where the feeder opens them to follow the window. A sink thread
 *   reads the accepted sockets.
 * - decrypt-udp: the templates of traffic.c (fg_bench_traffic_build_host: many peers and
 *   ports) into kernel UDP sockets that a sink thread drains with recvmmsg(2). The feeders
 *   keep at most WINDOW packets per worker beyond what the sink has read, so nothing is
 *   lost to a full socket buffer.
 * - encrypt-tcp: a sender thread streams over TCP to one peer per worker (its tunnel
 *   address, routed into the TUN); the worker reads TSO super-packets, splits and seals
 *   them; the feeder opens every frame, takes the in-order bytes and answers with sealed
 *   ACKs (the fabricated end's SYN-ACK first).
 * - encrypt-udp: a sender thread writes USO super-packets (UDP_SEGMENT) to every peer's
 *   tunnel address on the sinks' ports, at most WINDOW packets per worker beyond what the
 *   feeders took off the TX rings; the feeders open the first frame of each batch.
 *
 * Phases: set-up (handshakes, untimed), the timed run, and the drain (the sinks catch up,
 * the TCP flows are reset, untimed). Only the worker's passes that handled something count
 * toward cycles per packet; the empty ones are the idle share. The stages come from the
 * worker's own FG_FP_PROFILE timers. CPU: the process's and the machine's time over the
 * timed run (hostenv.c).
 */
#include "hostrun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "messages.h"
#include "transport.h"
#include "worker.h"

/* ---- the feeders ------------------------------------------------------------------------ */

static void send_segment(struct hctx *c, uint8_t flags, uint32_t seq, uint32_t plen)
{
	struct fg_bench_env *e = c->r->e;
	struct fg_bench_flow *f = &c->flow;
	struct fg_bench_flow *fl[1] = { f };
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->dp.pool);
	uint16_t len;

	if (!m) {
		c->lost++;
		return;
	}
	len = fg_bench_tcp_build(f, fg_bench_inner_room(m), seq, flags, plen, TCP_WIN);
	if (fg_bench_seal_frames(e, e->rx[c->idx], &m, fl, &len, 1, c->r->o->udp_csum, c->r->o->csum_flags) != 1)
		c->lost++;
}

/* decrypt-tcp: the SYN, then data segments within the kernel's window, at most one burst
 * queued at a time; at the end a reset. */
static void feed_tcp_decrypt(struct hctx *c)
{
	struct hrun *r = c->r;
	struct fg_bench_env *e = r->e;
	struct fg_bench_flow *f = &c->flow;
	struct rte_mbuf *ms[FG_BURST_MAX];
	struct fg_bench_flow *fl[FG_BURST_MAX];
	uint16_t lens[FG_BURST_MAX];
	unsigned n = r->o->burst;
	uint32_t inflight, room;

	if (f->state == FG_BENCH_FLOW_IDLE) {
		f->snd_una = f->snd_nxt = TCP_ISN;
		send_segment(c, FG_BENCH_TCP_F_SYN, f->snd_nxt, 0);
		f->snd_nxt++;
		f->snd_una = f->snd_nxt;
		f->state = FG_BENCH_FLOW_SYN;
		return;
	}
	if (f->state != FG_BENCH_FLOW_OPEN)
		return;
	if (r->phase == PH_DRAIN) {
		/* Everything acknowledged and read before the reset (a reset discards what the
		 * socket still holds). */
		if (f->snd_una == f->snd_nxt && !c->rst_sent &&
		    __atomic_load_n(&r->sunk, __ATOMIC_ACQUIRE) >= __atomic_load_n(&r->sent, __ATOMIC_ACQUIRE)) {
			send_segment(c, FG_BENCH_TCP_F_RST | FG_BENCH_TCP_F_ACK, f->snd_nxt, 0);
			c->rst_sent = true;
		}
		return;
	}
	if (rte_ring_count(e->rx[c->idx]) != 0)
		return;
	inflight = f->snd_nxt - f->snd_una;
	room = f->wnd > inflight ? f->wnd - inflight : 0;
	if (n > room / FG_BENCH_TCP_MSS)
		n = room / FG_BENCH_TCP_MSS;
	if (n == 0 || rte_pktmbuf_alloc_bulk(e->dp.pool, ms, n) != 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		lens[i] = fg_bench_tcp_build(f, fg_bench_inner_room(ms[i]), f->snd_nxt, FG_BENCH_TCP_F_ACK,
					     FG_BENCH_TCP_MSS, TCP_WIN);
		fl[i] = f;
		f->snd_nxt += FG_BENCH_TCP_MSS;
	}
	if (fg_bench_seal_frames(e, e->rx[c->idx], ms, fl, lens, n, r->o->udp_csum, r->o->csum_flags) != n)
		c->lost++;
	__atomic_add_fetch(&r->sent, (uint64_t)n * FG_BENCH_TCP_MSS, __ATOMIC_RELEASE);
}

static void reset_windows(struct hctx *c)
{
	struct fg_tables *t = &c->r->e->dp.tables;

	for (uint32_t i = 0; i < c->npeers; i++)
		fg_wg_replay_init(&t->kps[c->r->e->kp_slot[c->peers[i]]].replay);
}

/* decrypt-udp: one burst of templates (run.c's feeder), within the window. */
static void feed_udp_decrypt(struct hctx *c)
{
	struct hrun *r = c->r;
	struct rte_ring *rx = r->e->rx[c->idx];
	struct rte_mbuf *ms[FG_BURST_MAX];
	unsigned n = r->o->burst, done;

	if (r->phase == PH_DRAIN || c->nlist == 0)
		return;
	if (__atomic_load_n(&r->fed, __ATOMIC_ACQUIRE) - __atomic_load_n(&r->sunk, __ATOMIC_ACQUIRE) >
	    (uint64_t)WINDOW * r->workers)
		return;
	if (c->pos == c->nlist) {
		if (rte_ring_count(rx) != 0)
			return;
		reset_windows(c);
		c->pos = 0;
	}
	if (n > c->nlist - c->pos)
		n = c->nlist - c->pos;
	if (rte_pktmbuf_alloc_bulk(r->e->dp.pool, ms, n) != 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		const struct fg_bench_tmpl *t = &r->tr->t[c->list[c->pos + i]];

		rte_memcpy(rte_pktmbuf_mtod(ms[i], void *), r->tr->arena + t->off, t->len);
		ms[i]->data_len = t->len;
		ms[i]->pkt_len = t->len;
		if (r->o->csum_flags)
			ms[i]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	done = rte_ring_sp_enqueue_burst(rx, (void **)ms, n, NULL);
	if (done < n)
		rte_pktmbuf_free_bulk(ms + done, n - done);
	c->pos += done;
	__atomic_add_fetch(&r->fed, done, __ATOMIC_RELEASE);
}

/* encrypt-tcp: what the kernel sent us. SYN: answer SYN-ACK; data: take it in order; at the
 * end of the batch, one ACK if anything new arrived. */
static void take_tcp_encrypt(struct hctx *c, const uint8_t *ip, uint16_t len)
{
	struct fg_bench_flow *f = &c->flow;
	struct fg_bench_tcp_seg s;

	if (fg_bench_tcp_parse(ip, len, &s) != 0 || s.dst != f->my_ip || s.dport != f->my_port)
		return;
	if (s.flags & FG_BENCH_TCP_F_SYN) {
		if (f->state != FG_BENCH_FLOW_IDLE)
			return;
		f->k_port = s.sport;
		f->rcv_nxt = f->acked = s.seq + 1;
		f->snd_una = f->snd_nxt = TCP_ISN;
		send_segment(c, FG_BENCH_TCP_F_SYN | FG_BENCH_TCP_F_ACK, f->snd_nxt, 0);
		f->snd_nxt++;
		f->state = FG_BENCH_FLOW_OPEN;
		return;
	}
	if (f->state != FG_BENCH_FLOW_OPEN || s.sport != f->k_port)
		return;
	if (s.plen && s.seq == f->rcv_nxt)
		f->rcv_nxt += s.plen;
	else if (s.plen)
		f->out_of_order++;
}

/* decrypt-tcp: the kernel's SYN-ACK and ACKs. */
static void take_tcp_decrypt(struct hctx *c, const uint8_t *ip, uint16_t len)
{
	struct fg_bench_flow *f = &c->flow;
	struct fg_bench_tcp_seg s;

	if (fg_bench_tcp_parse(ip, len, &s) != 0 || s.dst != f->my_ip || s.dport != f->my_port ||
	    s.sport != f->k_port || !(s.flags & FG_BENCH_TCP_F_ACK))
		return;
	if (f->state == FG_BENCH_FLOW_SYN && (s.flags & FG_BENCH_TCP_F_SYN)) {
		if (s.ack != f->snd_nxt)
			return;
		f->rcv_nxt = s.seq + 1;
		f->wnd = s.win;
		f->wscale = s.has_wscale ? s.wscale : 0;
		f->state = FG_BENCH_FLOW_OPEN;
		send_segment(c, FG_BENCH_TCP_F_ACK, f->snd_nxt, 0);
		return;
	}
	if (f->state != FG_BENCH_FLOW_OPEN)
		return;
	if ((int32_t)(s.ack - f->snd_una) >= 0 && (int32_t)(f->snd_nxt - s.ack) >= 0) {
		f->snd_una = s.ack;
		f->wnd = s.win << f->wscale;
	}
}

static unsigned owner_of(const struct hrun *r, uint32_t peer)
{
	return peer % r->workers;
}

/* Frames from the worker's TX ring (and those the other feeder passed over). */
static void drain_tx(struct hctx *c)
{
	struct hrun *r = c->r;
	struct rte_mbuf *ms[FG_BURST_MAX], *mine[FG_BURST_MAX];
	uint32_t peer[FG_BURST_MAX];
	uint8_t *inner[FG_BURST_MAX];
	uint16_t ilen[FG_BURST_MAX];
	bool ok[FG_BURST_MAX];
	bool tcp = r->kind == FG_BENCH_KIND_TCP;
	unsigned n, nm;

	for (int src = 0; src < 2; src++) {
		struct rte_ring *ring = src == 0 ? r->e->tx[c->idx] : r->xfer[c->idx];

		if (!ring)
			continue;
		while ((n = rte_ring_sc_dequeue_burst(ring, (void **)ms, FG_BURST_MAX, NULL)) != 0) {
			if (src == 0) {
				c->frames += n;
				__atomic_add_fetch(&r->seen, n, __ATOMIC_RELEASE);
			}
			if (!tcp) {
				/* UDP rows: the first frame of each batch must open. */
				if (fg_bench_open_frames(r->e, ms, 1, peer, inner, ilen, ok) != 1)
					c->bad++;
				c->checked = true;
				rte_pktmbuf_free_bulk(ms, n);
				continue;
			}
			nm = 0;
			for (unsigned i = 0; i < n; i++) {
				const uint8_t *msg = rte_pktmbuf_mtod_offset(ms[i], const uint8_t *,
									     FG_NETPKT_UDP4_HDR_LEN);
				uint32_t p = rte_pktmbuf_data_len(ms[i]) >= FG_NETPKT_UDP4_HDR_LEN + FG_WG_DATA_MIN_LEN
						     ? fg_bench_peer_of_remote(r->e, fg_wg_transport_receiver(msg))
						     : UINT32_MAX;

				if (p != UINT32_MAX && owner_of(r, p) != c->idx && src == 0) {
					if (rte_ring_mp_enqueue(r->xfer[owner_of(r, p)], ms[i]) != 0) {
						c->lost++;
						rte_pktmbuf_free(ms[i]);
					}
					continue;
				}
				mine[nm++] = ms[i];
			}
			if (nm == 0)
				continue;
			fg_bench_open_frames(r->e, mine, nm, peer, inner, ilen, ok);
			for (unsigned i = 0; i < nm; i++) {
				if (!ok[i]) {
					c->bad++;
					continue;
				}
				c->checked = true;
				if (r->dir == FG_BENCH_DECRYPT)
					take_tcp_decrypt(c, inner[i], ilen[i]);
				else
					take_tcp_encrypt(c, inner[i], ilen[i]);
			}
			rte_pktmbuf_free_bulk(mine, nm);
		}
	}
	if (tcp && r->dir == FG_BENCH_ENCRYPT && c->has_flow && c->flow.state == FG_BENCH_FLOW_OPEN) {
		struct fg_bench_flow *f = &c->flow;

		if (r->phase == PH_DRAIN && !c->rst_sent && __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
			send_segment(c, FG_BENCH_TCP_F_RST | FG_BENCH_TCP_F_ACK, f->snd_nxt, 0);
			c->rst_sent = true;
			f->state = FG_BENCH_FLOW_CLOSED;
		} else if (f->rcv_nxt != f->acked) {
			send_segment(c, FG_BENCH_TCP_F_ACK, f->snd_nxt, 0);
			f->acked = f->rcv_nxt;
		}
	}
}

/* ---- the loop --------------------------------------------------------------------------- */

static bool flows_open(struct hrun *r)
{
	for (unsigned w = 0; w < r->workers; w++)
		if (__atomic_load_n(&r->ctx[w].flow.state, __ATOMIC_ACQUIRE) != FG_BENCH_FLOW_OPEN)
			return false;
	return true;
}

/* Worker 0 decides when an untimed phase is over. */
static bool phase_done(struct hrun *r)
{
	bool tcp = r->kind == FG_BENCH_KIND_TCP;

	if (r->phase == PH_SETUP)
		return tcp ? flows_open(r) : true;
	/* drain */
	if (tcp) {
		for (unsigned w = 0; w < r->workers; w++)
			if (!__atomic_load_n(&r->ctx[w].rst_sent, __ATOMIC_ACQUIRE))
				return false;
		/* The kernel's last segments through, before the next row. */
		return r->ctx[0].quiet >= QUIET_POLLS;
	}
	if (r->dir == FG_BENCH_DECRYPT)
		return __atomic_load_n(&r->sunk, __ATOMIC_ACQUIRE) >= __atomic_load_n(&r->fed, __ATOMIC_ACQUIRE);
	return fg_bench_host_tun_read(r) >= __atomic_load_n(&r->sent, __ATOMIC_ACQUIRE);
}

static int hloop(void *arg)
{
	struct hctx *c = arg;
	struct hrun *r = c->r;
	struct fg_dp *dp = &r->e->dp;
	bool timed = r->phase == PH_TIMED;
	uint64_t start, t0, t1;

	(void)fg_aead_lcore_init();
	c->tid = (int)gettid();
	rte_rcu_qsbr_thread_register(dp->tables.qsbr, c->w->idx);
	rte_rcu_qsbr_thread_online(dp->tables.qsbr, c->w->idx);
	__atomic_add_fetch(&r->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		rte_pause();
	start = rte_rdtsc();
	while (rte_rdtsc() < r->end && !__atomic_load_n(&r->quit, __ATOMIC_ACQUIRE)) {
		if (r->kind == FG_BENCH_KIND_TCP && r->dir == FG_BENCH_DECRYPT)
			feed_tcp_decrypt(c);
		else if (r->kind == FG_BENCH_KIND_UDP && r->dir == FG_BENCH_DECRYPT)
			feed_udp_decrypt(c);
		t0 = rte_rdtsc();
		unsigned n = fg_worker_poll(dp, c->w);
		rte_rcu_qsbr_quiescent(dp->tables.qsbr, c->w->idx);
		t1 = rte_rdtsc();
		c->quiet = n ? 0 : c->quiet + 1;
		if (timed) {
			if (n)
				c->busy += t1 - t0;
			else
				c->idle += t1 - t0;
		}
		drain_tx(c);
		if (c->idx == 0 && !timed && phase_done(r))
			__atomic_store_n(&r->quit, 1, __ATOMIC_RELEASE);
	}
	if (timed)
		c->wall += rte_rdtsc() - start;
	rte_rcu_qsbr_thread_offline(dp->tables.qsbr, c->w->idx);
	rte_rcu_qsbr_thread_unregister(dp->tables.qsbr, c->w->idx);
	return 0;
}

static int run_phase(struct hrun *r, enum phase ph, double seconds)
{
	int ret;

	r->phase = ph;
	__atomic_store_n(&r->ready, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->go, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->quit, 0, __ATOMIC_RELEASE);
	for (unsigned w = 1; w < r->workers; w++) {
		ret = rte_eal_remote_launch(hloop, &r->ctx[w], r->lcores[w]);
		if (ret != 0) {
			for (unsigned k = 1; k < w; k++)
				rte_eal_wait_lcore(r->lcores[k]);
			return ret;
		}
	}
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) != r->workers - 1)
		rte_pause();
	r->end = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	hloop(&r->ctx[0]);
	for (unsigned w = 1; w < r->workers; w++)
		rte_eal_wait_lcore(r->lcores[w]);
	return 0;
}

/* ---- the row ---------------------------------------------------------------------------- */

static void prof_add(struct fg_stage_prof *sum, const struct fg_stage_prof *a, const struct fg_stage_prof *b)
{
	for (unsigned s = 0; s < FG_STAGE_MAX; s++)
		sum->cycles[s] += b->cycles[s] - a->cycles[s];
	sum->packets += b->packets - a->packets;
	sum->bursts += b->bursts - a->bursts;
}

static uint64_t drops_sum(const struct fg_lcore_counters *c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < FG_DROP_MAX; i++)
		sum += c->drops[i];
	return sum;
}

static int setup_ctx(struct hrun *r)
{
	struct fg_bench_env *e = r->e;
	const struct fg_bench_traffic *tr = r->tr;
	unsigned lc, nl = 0;

	r->lcores[nl++] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (nl == r->workers)
			break;
		r->lcores[nl++] = lc;
	}
	for (unsigned w = 0; w < r->workers; w++) {
		struct hctx *c = &r->ctx[w];

		c->r = r;
		c->idx = w;
		c->w = &e->dp.workers[w];
		c->w->lcore = r->lcores[w];
		if (r->kind == FG_BENCH_KIND_TCP) {
			struct fg_bench_flow *f = &c->flow;

			/* Worker w's connection belongs to peer w (peer % workers == w). */
			c->has_flow = true;
			f->peer = w;
			f->my_ip = fg_bench_inner_ip(w);
			f->k_ip = fg_bench_tun_ip();
			f->k_port = r->dir == FG_BENCH_DECRYPT ? r->tcp_port : 0;
			f->my_port = r->dir == FG_BENCH_DECRYPT ? (uint16_t)(PORT_BASE + (e->host_seq * 4 + w) % 20000)
								: r->tcp_port;
			if (r->workers > 1) {
				char name[RTE_RING_NAMESIZE];

				snprintf(name, sizeof(name), "fgb_xf%u_%u", w, e->host_seq);
				r->xfer[w] = rte_ring_create(name, XFER_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
				if (!r->xfer[w])
					return -ENOMEM;
			}
			continue;
		}
		if (r->kind != FG_BENCH_KIND_UDP || r->dir != FG_BENCH_DECRYPT)
			continue;
		c->list = malloc(sizeof(*c->list) * tr->n);
		c->peers = malloc(sizeof(*c->peers) * tr->npeers);
		if (!c->list || !c->peers)
			return -ENOMEM;
		for (uint32_t i = 0; i < tr->n; i++)
			if (tr->t[i].peer % r->workers == w)
				c->list[c->nlist++] = i;
		for (uint32_t p = 0; p < tr->npeers; p++)
			if (p % r->workers == w)
				c->peers[c->npeers++] = p;
	}
	return 0;
}

/* The raw AEAD of the same size and direction alone (run.c's reference), in two halves
 * around the row. */
static int raw_half(struct hrun *r, struct fg_bench_row *row)
{
	uint64_t ops, cycles;
	int ret = fg_bench_raw_rate(r->e, r->tr, r->o, r->o->raw_seconds / 2, &ops, &cycles);

	row->raw_ops += ops;
	row->raw_cycles += cycles;
	return ret;
}

static void finish_row(struct hrun *r, struct fg_bench_row *row, const struct fg_lcore_counters *before,
		       const struct fg_lcore_counters *after, const struct fg_bench_cpu *c0,
		       const struct fg_bench_cpu *c1)
{
	double hz = (double)rte_get_tsc_hz(), rate = 0, bytes_rate = 0, busy_s = 0, stages = 0;
	bool decrypt = r->dir == FG_BENCH_DECRYPT;
	struct fg_stage_prof prof = { 0 };
	uint64_t idle = 0, bits;

	for (unsigned w = 0; w < r->workers; w++) {
		const struct fg_lcore_counters *a = &before[w], *b = &after[w];
		const struct hctx *c = &r->ctx[w];
		uint64_t pk = decrypt ? b->tun_tx_packets - a->tun_tx_packets : b->encrypted - a->encrypted;
		uint64_t by = decrypt ? b->tun_tx_bytes - a->tun_tx_bytes : b->tun_rx_bytes - a->tun_rx_bytes;

		row->packets += pk;
		row->inner_bytes += by;
		row->busy_cycles += c->busy;
		idle += c->idle;
		if (c->wall > row->wall_cycles)
			row->wall_cycles = c->wall;
		if (c->busy) {
			rate += (double)pk * hz / (double)c->busy;
			bytes_rate += (double)by * hz / (double)c->busy;
		}
		prof_add(&prof, decrypt ? &a->prof_rx : &a->prof_tx, decrypt ? &b->prof_rx : &b->prof_tx);
	}
	row->mpps = rate / 1e6;
	row->gbps = bytes_rate * 8 / 1e9;
	row->cycles_per_packet = row->packets ? (double)row->busy_cycles / (double)row->packets : 0;
	row->raw_cycles_per_op = row->raw_ops ? (double)row->raw_cycles / (double)row->raw_ops : 0;
	row->raw_mpps = row->raw_cycles ? (double)row->raw_ops * hz / (double)row->raw_cycles / 1e6 : 0;
	row->ratio = row->cycles_per_packet > 0 ? row->raw_cycles_per_op / row->cycles_per_packet : 0;
	row->idle_share = row->busy_cycles + idle ? (double)idle / (double)(row->busy_cycles + idle) : 0;
	row->wall_s = (double)row->wall_cycles / hz;
	row->stage_pkts = prof.packets;
	for (unsigned s = 0; s < FG_STAGE_MAX && prof.packets; s++) {
		row->stage[s] = (double)prof.cycles[s] / (double)prof.packets;
		stages += row->stage[s];
	}
	(void)stages;
	/* The gateway's CPU: the workers' busy time, plus the other tasks of the process
	 * (sinks, senders, io_uring threads) or of the whole machine (softirq, kernel
	 * threads; and whatever else runs on this shared VM). */
	busy_s = (double)row->busy_cycles / hz;
	bits = row->inner_bytes * 8;
	if (bits) {
		double other_proc = (c1->proc_s - c0->proc_s) - (c1->lcores_s - c0->lcores_s);
		double other_sys = (c1->sys_busy_s - c0->sys_busy_s) - (c1->lcores_s - c0->lcores_s);

		row->cores10_proc = (busy_s + (other_proc > 0 ? other_proc : 0)) * 1e10 / (double)bits;
		row->cores10_sys = (busy_s + (other_sys > 0 ? other_sys : 0)) * 1e10 / (double)bits;
	}
}

int fg_bench_run_host_row(struct fg_bench_env *e, enum fg_bench_kind kind, const struct fg_bench_traffic *tr,
			  unsigned workers, const struct fg_bench_opts *o, struct fg_bench_row *row)
{
	struct fg_lcore_counters before[FG_BENCH_MAX_WORKERS], after[FG_BENCH_MAX_WORKERS];
	struct fg_lcore_counters start[FG_BENCH_MAX_WORKERS];
	struct fg_bench_cpu c0, c1;
	struct hrun *r;
	int tids[FG_BENCH_MAX_WORKERS], ret;
	uint64_t udp_err0 = fg_bench_udp_errors();

	memset(row, 0, sizeof(*row));
	row->dir = tr->dir;
	row->kind = kind;
	row->tun_io = e->tun_io;
	row->size = kind == FG_BENCH_KIND_TCP ? FG_BENCH_MTU : tr->size;
	row->npeers = kind == FG_BENCH_KIND_TCP ? workers : tr->npeers;
	row->workers = workers;
	row->csum_flags = o->csum_flags;
	if (!e->host || kind == FG_BENCH_KIND_WORKER || workers == 0 || workers > e->dp.nworkers ||
	    workers > rte_lcore_count() || row->npeers > e->npeers)
		return -EINVAL;
	if (row->npeers < workers) {
		row->skipped = true;
		return 0;
	}
	r = rte_zmalloc("fgb_hostrun", sizeof(*r), RTE_CACHE_LINE_SIZE);
	if (!r)
		return -ENOMEM;
	r->e = e;
	r->o = o;
	r->kind = kind;
	r->dir = tr->dir;
	r->tr = tr;
	r->workers = workers;
	r->size = row->size;
	r->npeers = row->npeers;
	r->lfd = -1;
	r->tcp_port = (uint16_t)(FG_BENCH_SINK_PORT + FG_BENCH_SINK_PORTS + e->host_seq % 1000);
	e->host_seq++;

	fg_bench_env_reset(e);
	e->dp.burst = o->burst;
	e->dp.fastpath = o->fastpath | FG_FP_PROFILE;
	row->fastpath = e->dp.fastpath;
	for (unsigned w = 0; w < workers; w++) {
		start[w] = e->dp.workers[w].cnt;
		r->tun_rx0[w] = start[w].tun_rx_packets;
	}
	ret = setup_ctx(r);
	if (ret == 0)
		ret = raw_half(r, row);
	if (ret == 0)
		ret = fg_bench_host_start(r);
	if (ret == 0)
		ret = run_phase(r, PH_SETUP, SETUP_S);
	if (ret == 0 && kind == FG_BENCH_KIND_TCP && !flows_open(r)) {
		fprintf(stderr, "fastgate-bench: %s-tcp: the TCP handshake did not complete within %d s\n",
			fg_bench_dir_name(r->dir), SETUP_S);
		ret = -ETIMEDOUT;
	}
	if (ret == 0 && __atomic_load_n(&r->thread_err, __ATOMIC_ACQUIRE)) {
		ret = -__atomic_load_n(&r->thread_err, __ATOMIC_ACQUIRE);
		fprintf(stderr, "fastgate-bench: host side: %s\n", strerror(-ret));
	}
	if (ret < 0)
		goto out;

	for (unsigned w = 0; w < workers; w++) {
		before[w] = e->dp.workers[w].cnt;
		tids[w] = r->ctx[w].tid;
	}
	(void)fg_bench_cpu_sample(&c0, tids, workers);
	ret = run_phase(r, PH_TIMED, o->seconds);
	(void)fg_bench_cpu_sample(&c1, tids, workers);
	for (unsigned w = 0; w < workers; w++)
		after[w] = e->dp.workers[w].cnt;
	if (ret < 0)
		goto out;

	/* The drain: senders stop first; sinks read what was delivered; TCP flows are reset. */
	if (r->dir == FG_BENCH_ENCRYPT)
		fg_bench_host_stop(r);
	ret = run_phase(r, PH_DRAIN, DRAIN_S);
	fg_bench_host_stop(r);
	fg_bench_host_close(r);
	if (ret == 0)
		ret = raw_half(r, row);
	if (ret == 0 && __atomic_load_n(&r->thread_err, __ATOMIC_ACQUIRE)) {
		ret = -__atomic_load_n(&r->thread_err, __ATOMIC_ACQUIRE);
		fprintf(stderr, "fastgate-bench: %s: the host side's thread failed: %s\n", fg_bench_row_name(row),
			strerror(-ret));
	}
	if (ret < 0)
		goto out;
	finish_row(r, row, before, after, &c0, &c1);
	if (o->verbose)
		fprintf(stderr, "fastgate-bench: %s: fed %llu sunk %llu sent %llu seen %llu read from the TUN %llu\n",
			fg_bench_row_name(row), (unsigned long long)r->fed, (unsigned long long)r->sunk,
			(unsigned long long)r->sent, (unsigned long long)r->seen, (unsigned long long)fg_bench_host_tun_read(r));

	/* Losses over the whole row, set-up and drain included: the worker's drops, what the
	 * kernel lost or the sinks never got, frames that did not open. */
	for (unsigned w = 0; w < workers; w++) {
		const struct fg_lcore_counters *b = &e->dp.workers[w].cnt;

		row->drops += drops_sum(b) - drops_sum(&start[w]);
		row->tx_overflow += b->drops[FG_DROP_NIC_TX_FULL] - start[w].drops[FG_DROP_NIC_TX_FULL];
		if (r->ctx[w].bad || (row->packets && !r->ctx[w].checked && (r->dir == FG_BENCH_ENCRYPT || kind == FG_BENCH_KIND_TCP)))
			ret = -EBADMSG;
		/* Segments out of order on an encrypt-tcp row follow a loss the kernel resends:
		 * recovered, so not a host loss; --verbose prints them. */
		row->host_drops += r->ctx[w].lost;
		if (o->verbose && r->ctx[w].flow.out_of_order)
			fprintf(stderr, "fastgate-bench: %s: worker %u: %llu segments out of order (resent by the kernel)\n",
				fg_bench_row_name(row), w, (unsigned long long)r->ctx[w].flow.out_of_order);
	}
	if (row->drops) {
		/* Which counters moved: a failing row names its reasons. */
		fprintf(stderr, "fastgate-bench: %s drops:", fg_bench_row_name(row));
		for (unsigned d = 0; d < FG_DROP_MAX; d++) {
			uint64_t v = 0;

			for (unsigned w = 0; w < workers; w++)
				v += e->dp.workers[w].cnt.drops[d] - start[w].drops[d];
			if (v)
				fprintf(stderr, " %s %llu", fg_drop_names[d], (unsigned long long)v);
		}
		fprintf(stderr, "\n");
	}
	row->host_drops += fg_bench_udp_errors() - udp_err0;
	if (kind == FG_BENCH_KIND_UDP && r->dir == FG_BENCH_DECRYPT) {
		uint64_t delivered = 0;

		for (unsigned w = 0; w < workers; w++)
			delivered += e->dp.workers[w].cnt.tun_tx_packets - start[w].tun_tx_packets;
		if (delivered > r->sunk)
			row->host_drops += delivered - r->sunk;
	} else if (kind == FG_BENCH_KIND_UDP) {
		if (r->sent > fg_bench_host_tun_read(r))
			row->host_drops += r->sent - fg_bench_host_tun_read(r);
	} else if (r->dir == FG_BENCH_DECRYPT && r->sent > r->sunk) {
		row->host_drops += (r->sent - r->sunk + FG_BENCH_TCP_MSS - 1) / FG_BENCH_TCP_MSS;
	}
	if (ret == -EBADMSG)
		fprintf(stderr, "fastgate-bench: a frame from the worker did not open with its peer's key\n");
out:
	fg_bench_host_stop(r);
	fg_bench_host_close(r);
	for (unsigned w = 0; w < workers; w++) {
		free(r->ctx[w].list);
		free(r->ctx[w].peers);
		if (r->xfer[w]) {
			struct rte_mbuf *m;

			while (rte_ring_dequeue(r->xfer[w], (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(r->xfer[w]);
		}
	}
	e->dp.fastpath = 0;
	fg_bench_env_reset(e);
	rte_free(r);
	return ret;
}
