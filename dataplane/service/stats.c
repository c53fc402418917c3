// SPDX-License-Identifier: MIT
/*
 * The data plane's counters, gathered on the service lcore: per-reason drops (summed over
 * lcores), per-lcore packets, bytes and load, handshakes. The load is sampled about once a
 * second (struct fg_svc_load, the service's own: the workers only ever write their counters).
 * As text they are written on SIGUSR1, every --stats-interval seconds when that is set, and
 * at exit, to a file replaced atomically (statsfile.c), so scripts and the demo can read it.
 * Reads of the workers' counters race benignly with their increments (aligned 64-bit loads).
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "log.h"
#include "service.h"
#include "statsfile.h"
#include "svc_heap.h"
#include "svc_state.h"

static const char *const TAG = "fastgate.stats";

void fg_svc_drops_sum(const struct fg_svc *s, uint64_t drops[FG_DROP_MAX])
{
	const struct fg_dp *dp = s->dp;

	for (unsigned r = 0; r < FG_DROP_MAX; r++) {
		drops[r] = dp->svc_cnt.drops[r];
		for (unsigned w = 0; w < dp->nworkers; w++)
			drops[r] += dp->workers[w].cnt.drops[r];
	}
}

/* ---- load -------------------------------------------------------------------------------- */

static const struct fg_lcore_counters *lcore_counters(const struct fg_dp *dp, unsigned lcore)
{
	return lcore == 0 ? &dp->svc_cnt : &dp->workers[lcore - 1].cnt;
}

/* An lcore's figures since its loop started, as of now_tsc. The worker's counters change
 * while they are read: a busy count that got ahead of its total is clamped to it. */
static void sample(const struct fg_lcore_counters *c, uint64_t now_tsc, struct fg_svc_load_figures *f)
{
	uint64_t start;

	f->busy_cycles = __atomic_load_n(&c->busy_cycles, __ATOMIC_RELAXED);
	f->busy_polls = __atomic_load_n(&c->busy_polls, __ATOMIC_RELAXED);
	f->polls = __atomic_load_n(&c->polls, __ATOMIC_RELAXED);
	start = __atomic_load_n(&c->start_tsc, __ATOMIC_RELAXED);
	f->cycles = start && now_tsc > start ? now_tsc - start : 0;
	if (f->busy_polls > f->polls)
		f->busy_polls = f->polls;
	if (f->busy_cycles > f->cycles)
		f->busy_cycles = f->cycles;
}

static uint64_t delta(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

void fg_svc_load_tick(struct fg_svc *s, uint64_t now_tsc)
{
	struct fg_svc_load *l = &s->load;
	unsigned n = 1 + s->dp->nworkers;

	if (now_tsc < l->next_tsc)
		return;
	for (unsigned i = 0; i < n && i < FG_SVC_LOAD_LCORES; i++) {
		struct fg_svc_load_figures cur, *w = &l->win[i], *last = &l->last[i];

		sample(lcore_counters(s->dp, i), now_tsc, &cur);
		if (l->next_tsc) {
			w->polls = delta(cur.polls, last->polls);
			w->busy_polls = delta(cur.busy_polls, last->busy_polls);
			w->busy_cycles = delta(cur.busy_cycles, last->busy_cycles);
			w->cycles = delta(cur.cycles, last->cycles);
			if (w->busy_polls > w->polls)
				w->busy_polls = w->polls;
			if (w->busy_cycles > w->cycles)
				w->busy_cycles = w->cycles;
		}
		*last = cur;
	}
	l->next_tsc = now_tsc + rte_get_tsc_hz() / 1000 * FG_SVC_LOAD_WINDOW_MS;
}

void fg_svc_load_read(const struct fg_svc *s, unsigned lcore, uint64_t now_tsc, struct fg_svc_load_figures *since,
		      struct fg_svc_load_figures *win)
{
	if (lcore > s->dp->nworkers || lcore >= FG_SVC_LOAD_LCORES) {
		memset(since, 0, sizeof(*since));
		memset(win, 0, sizeof(*win));
		return;
	}
	sample(lcore_counters(s->dp, lcore), now_tsc, since);
	*win = s->load.win[lcore];
}

/* ---- the stats file ---------------------------------------------------------------------- */

static void put_load(FILE *f, const char *who, const struct fg_svc_load_figures *l, const char *suffix)
{
	fprintf(f, "%s.polls%s %lu\n%s.busy_polls%s %lu\n", who, suffix, l->polls, who, suffix, l->busy_polls);
	fprintf(f, "%s.busy_cycles%s %lu\n%s.cycles%s %lu\n", who, suffix, l->busy_cycles, who, suffix,
		l->cycles);
}

static void put_lcore(FILE *f, const char *who, const struct fg_lcore_counters *c, const struct fg_svc_load_figures *since,
		      const struct fg_svc_load_figures *win)
{
	fprintf(f, "%s.nic_rx_packets %lu\n%s.nic_rx_bytes %lu\n", who, c->nic_rx_packets, who, c->nic_rx_bytes);
	fprintf(f, "%s.nic_tx_packets %lu\n%s.nic_tx_bytes %lu\n", who, c->nic_tx_packets, who, c->nic_tx_bytes);
	fprintf(f, "%s.tun_rx_packets %lu\n%s.tun_rx_bytes %lu\n", who, c->tun_rx_packets, who, c->tun_rx_bytes);
	fprintf(f, "%s.tun_tx_packets %lu\n%s.tun_tx_bytes %lu\n", who, c->tun_tx_packets, who, c->tun_tx_bytes);
	fprintf(f, "%s.decrypted %lu\n%s.encrypted %lu\n", who, c->decrypted, who, c->encrypted);
	fprintf(f, "%s.keepalives_rx %lu\n%s.handshakes_punted %lu\n", who, c->keepalives_rx, who,
		c->handshakes_punted);
	fprintf(f, "%s.handoffs %lu\n%s.echo_replies %lu\n", who, c->handoffs, who, c->echo_replies);
	fprintf(f, "%s.tun_gso_splits %lu\n%s.tun_gro_writes %lu\n", who, c->tun_gso_splits, who,
		c->tun_gro_writes);
	/* TunIo = io_uring / sqpoll (tun_uring.h); zero with the syscalls. */
	fprintf(f, "%s.tun_uring_enters %lu\n%s.tun_uring_sqes %lu\n%s.tun_uring_cqes %lu\n", who,
		c->tun_uring.enters, who, c->tun_uring.sqes, who, c->tun_uring.cqes);
	fprintf(f, "%s.tun_uring_full %lu\n%s.tun_uring_again %lu\n%s.tun_uring_short %lu\n%s.tun_uring_errors %lu\n",
		who, c->tun_uring.full, who, c->tun_uring.again, who, c->tun_uring.short_io, who, c->tun_uring.errors);
	fprintf(f, "%s.tun_backpressure %lu\n", who, c->tun_backpressure);
	fprintf(f, "%s.stun_punted %lu\n", who, c->stun_punted);
	fprintf(f, "%s.p2p_punted %lu\n", who, c->p2p_punted);
	fprintf(f, "%s.relay_rx_packets %lu\n%s.relay_rx_bytes %lu\n", who, c->relay_rx_packets, who,
		c->relay_rx_bytes);
	fprintf(f, "%s.relay_tx_packets %lu\n%s.relay_tx_bytes %lu\n", who, c->relay_tx_packets, who,
		c->relay_tx_bytes);
	put_load(f, who, since, "");
	put_load(f, who, win, "_1s");
}

/* The connection tables (dataplane/worker/conntrack.h), summed over the workers. */
static void put_conntrack(FILE *f, const struct fg_conntrack *ct)
{
	struct fg_conntrack_counters c;

	fg_conntrack_stats(ct, &c);
	fprintf(f, "nat_translated_out %lu\nnat_translated_in %lu\n", c.translated_out, c.translated_in);
	fprintf(f, "nat_icmp_translated %lu\nnat_created %lu\n", c.icmp_translated, c.created);
	fprintf(f, "nat_expired %lu\nnat_misses %lu\nnat_live %lu\n", c.expired, c.misses, c.nat_live);
	fprintf(f, "flows_started %lu\nflows_completed %lu\n", c.flows_started, c.flows_completed);
	fprintf(f, "flows_live %lu\nflows_lost %lu\n", c.flows_live, c.flows_lost);
}

void fg_svc_stats_write(struct fg_svc *s, FILE *f)
{
	struct fg_dp *dp = s->dp;
	struct fg_svc_load_figures since, win;
	uint64_t drops[FG_DROP_MAX], now_tsc = rte_rdtsc();
	struct fg_svc_heap heap;
	char who[32];

	fg_svc_drops_sum(s, drops);
	fg_svc_heap_read(&heap);
	fprintf(f, "aead_backend %s\n", fg_aead_backend_name());
	fprintf(f, "workers %u\n", dp->nworkers);
	fprintf(f, "tun_io %s\n", dp->tun_io == FG_TUN_IO_SQPOLL ? "sqpoll" :
		dp->tun_io == FG_TUN_IO_URING ? "io_uring" : "syscall");
	fprintf(f, "tsc_hz %lu\n", rte_get_tsc_hz());
	fprintf(f, "heap_total_bytes %lu\nheap_allocated_bytes %lu\n", heap.total, heap.allocated);
	fprintf(f, "heap_free_bytes %lu\nheap_largest_free_bytes %lu\n", heap.free, heap.largest_free);
	fprintf(f, "peers %u\n", s->nlive);
	fprintf(f, "handshakes_initiated %lu\n", s->stats.handshakes_initiated);
	fprintf(f, "handshakes_responded %lu\n", s->stats.handshakes_responded);
	fprintf(f, "handshakes_completed %lu\n", s->stats.handshakes_completed);
	fprintf(f, "cookies_sent %lu\n", s->stats.cookies_sent);
	fprintf(f, "cookies_received %lu\n", s->stats.cookies_received);
	fprintf(f, "keepalives_sent %lu\n", s->stats.keepalives_sent);
	fprintf(f, "roams %lu\n", s->stats.roams);
	fprintf(f, "goodbyes_sent %lu\n", s->stats.goodbyes_sent);
	fprintf(f, "goodbyes_received %lu\n", s->stats.goodbyes_received);
	fprintf(f, "uapi_requests %lu\n", s->stats.uapi_requests);
	fprintf(f, "stun_delivered %lu\n", s->stats.stun_delivered);
	fprintf(f, "packets_sent %lu\n", s->stats.packets_sent);
	fprintf(f, "paths_set %lu\n", s->stats.paths_set);
	fprintf(f, "p2p_in %lu\n", s->stats.p2p_in);
	fprintf(f, "p2p_out %lu\n", s->stats.p2p_out);
	fprintf(f, "relay_channels %u\n", dp->chans.n);
	fprintf(f, "statsfile_failures %lu\n", s->stats_failures);
	fg_svc_linkwatch_write_stats(s, f);
	put_conntrack(f, &dp->ct);
	for (unsigned i = 0; i < s->natt; i++)
		if (s->att[i].ops->write_stats)
			s->att[i].ops->write_stats(s->att[i].ctx, f);
	fprintf(f, "arp_requests_sent %lu\n", s->neigh.arp_requests_sent);
	fprintf(f, "arp_replies_sent %lu\n", s->neigh.arp_replies_sent);
	fprintf(f, "neigh_unsolicited %lu\n", s->neigh.unsolicited);
	for (unsigned r = 1; r < FG_DROP_MAX; r++)
		fprintf(f, "drop.%s %lu\n", fg_drop_names[r], drops[r]);
	fg_svc_load_read(s, 0, now_tsc, &since, &win);
	put_lcore(f, "service", &dp->svc_cnt, &since, &win);
	for (unsigned w = 0; w < dp->nworkers; w++) {
		snprintf(who, sizeof(who), "worker%u", w);
		fg_svc_load_read(s, 1 + w, now_tsc, &since, &win);
		put_lcore(f, who, &dp->workers[w].cnt, &since, &win);
	}
}

static int write_stats(FILE *f, void *ctx)
{
	fg_svc_stats_write(ctx, f);
	return 0;
}

int fg_svc_stats_dump(struct fg_svc *s)
{
	int rc;

	if (!s->stats_path)
		return 0;
	rc = fg_statsfile_replace(s->stats_path, write_stats, s);
	/* A full or read-only disk fails every dump alike: say so when it starts (or the cause
	 * changes) and when it ends, not at every dump (--stats-interval 1 would log each
	 * second). Forwarding never depends on it. */
	if (rc < 0) {
		s->stats_failures++;
		s->stats_failing++;
		if (rc != s->stats_err)
			fg_warn(TAG, "stats file %s: cannot write it: %s (retried at each dump; logged again "
				"when this changes)", s->stats_path, strerror(-rc));
	} else if (s->stats_err) {
		fg_info(TAG, "stats file %s: written again after %lu failed dump(s)", s->stats_path,
			s->stats_failing);
		s->stats_failing = 0;
	}
	s->stats_err = rc;
	return rc;
}

void fg_svc_stats_tick(struct fg_svc *s, uint64_t now)
{
	if (!s->stats_interval_ns || now < s->next_stats_ns)
		return;
	/* The first dump one interval after the start, not at once. */
	if (s->next_stats_ns)
		fg_svc_stats_dump(s);
	s->next_stats_ns = now + s->stats_interval_ns;
}
