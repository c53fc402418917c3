// SPDX-License-Identifier: MIT
/*
 * The host-path part of a run: for each [Host] TunIo mode a host env (the daemon's own TUN
 * in the bench's namespace), and on it each host kind at each size and worker count; then
 * --before-after, each per-packet refinement of the receive path taken out alone and
 * alternated with the full fast path; and the targets read off the rows, each with
 * the stage that holds it back when it is missed. Main lcore, between rows.
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "host.h"

enum {
	AB_ROUNDS = 4,   /* --before-after: alternations */
};

static const struct {
	enum fg_bench_kind kind;
	enum fg_bench_dir dir;
} KINDS[4] = {
	{ FG_BENCH_KIND_TCP, FG_BENCH_DECRYPT },
	{ FG_BENCH_KIND_UDP, FG_BENCH_DECRYPT },
	{ FG_BENCH_KIND_TCP, FG_BENCH_ENCRYPT },
	{ FG_BENCH_KIND_UDP, FG_BENCH_ENCRYPT },
};

static const struct {
	uint32_t bit;
	const char *name;
} VARIANTS[] = {
	{ 0, "all refinements on" },
	{ FG_FP_NO_BULK_LOOKUP, "no bulk lookup (one rte_hash lookup a packet)" },
	{ FG_FP_NO_PREFETCH, "no prefetch across the burst" },
	{ FG_FP_NO_RX_CSUM_FLAGS, "no RX checksum flags (software check)" },
	{ FG_FP_POLICY_REPARSE, "policy parses the inner packet again" },
};
enum { NVARIANTS = sizeof(VARIANTS) / sizeof(VARIANTS[0]) };

static bool row_ok(const struct fg_bench_row *r)
{
	return r->skipped || (r->packets != 0 && r->drops == 0 && r->host_drops == 0);
}

/* The rows of one env: its workers, one TUN queue each (as in the daemon: the kernel
 * spreads the host's flows over every queue, so a queue nobody reads would lose them). */
static int host_rows(struct fg_bench_env *env, const struct fg_bench_host_plan *pl, unsigned workers,
		     const struct fg_bench_opts *o, struct fg_bench_row *rows, unsigned *nrows, unsigned maxrows)
{
	int rc = 0;

	for (unsigned k = 0; k < 4; k++) {
		bool tcp = KINDS[k].kind == FG_BENCH_KIND_TCP;
		unsigned nsizes = tcp ? 1 : pl->nsizes;

		if (!pl->kinds[k])
			continue;
		for (unsigned s = 0; s < nsizes; s++) {
			unsigned size = tcp ? FG_BENCH_MTU : pl->sizes[s];
			uint32_t np = tcp ? pl->max_workers : pl->peers;
			struct fg_bench_traffic tr;
			int ret;

			/* decrypt-udp: the row's own templates; the others: the raw AEAD's reference. */
			ret = KINDS[k].kind == FG_BENCH_KIND_UDP && KINDS[k].dir == FG_BENCH_DECRYPT
				      ? fg_bench_traffic_build_host(&tr, env, FG_BENCH_DECRYPT, size, np, o->udp_csum)
				      : fg_bench_traffic_build(&tr, env, KINDS[k].dir, size, np, o->udp_csum, false);
			if (ret < 0) {
				fprintf(stderr, "fastgate-bench: traffic: %s\n", strerror(-ret));
				return -1;
			}
			if (*nrows < maxrows) {
				struct fg_bench_row *r = &rows[(*nrows)++];

				ret = fg_bench_run_host_row(env, KINDS[k].kind, &tr, workers, o, r);
				if (ret < 0) {
					fprintf(stderr, "fastgate-bench: host row failed: %s\n", strerror(-ret));
					(*nrows)--;
					rc = -1;
					fg_bench_traffic_free(&tr);
					continue;
				}
				fg_bench_print_host_row(stdout, r);
				if (!row_ok(r)) {
					fprintf(stderr, "fastgate-bench: %s row delivered %llu packets with %llu drops, "
						"%llu lost on the host side\n", fg_bench_row_name(r),
						(unsigned long long)r->packets, (unsigned long long)r->drops,
						(unsigned long long)r->host_drops);
					rc = -1;
				}
			}
			fg_bench_traffic_free(&tr);
		}
	}
	return rc;
}

int fg_bench_host_plan_run(const struct fg_bench_host_plan *pl, const struct fg_bench_opts *o,
			   struct fg_bench_row *rows, unsigned *nrows, unsigned maxrows)
{
	uint32_t npeers = pl->peers > pl->max_workers ? pl->peers : pl->max_workers;
	char err[512];
	int rc = 0;

	fg_bench_tcp_init_payload();
	printf("\nhost-path rows: a private network namespace, the daemon's own TUN (fg_dp_init + "
	       "fg_dp_setup_host,\nvirtio-net header: GRO to the host, GSO from it), kernel TCP/UDP sockets at the far end.\n"
	       "cyc/pkt: worker TSC cycles in fg_worker_poll passes that handled packets, per packet of the "
	       "row's\ndirection (the TCP rows' ACKs and the kernel's work inside the worker's TUN syscalls "
	       "included);\nparse..io: the worker's own stage timers (FG_FP_PROFILE) per packet; rest: the "
	       "poll loop itself\n(empty reads of the other sources, NIC flush, QSBR) and, on TCP rows, the "
	       "ACKs the other way;\nidle: share of the worker's poll time in passes that found nothing; "
	       "proc/sys: cores per 10 Gbit/s\nof inner traffic = (worker busy time + every other task of "
	       "the process [proc] / all non-idle CPU\ntime of the machine outside the worker lcores [sys]) x "
	       "10 Gbit / bits delivered; host: packets\nlost on the host side (socket buffers, TUN queue, "
	       "unread). The RX checksum flags are %s.\n", o->csum_flags ? "set on the fed mbufs (a NIC that offers them)" : "off (net_ring has none)");
	fg_bench_print_host_header(stdout);
	for (unsigned t = 0; t < pl->ntun_io; t++) {
		for (unsigned wi = 0; wi < pl->nworkers; wi++) {
			unsigned workers = pl->workers[wi];
			struct fg_bench_env *env = calloc(1, sizeof(*env));

			if (!env)
				return -1;
			if (fg_bench_env_init_host(env, npeers, workers, pl->tun_io[t], t * pl->nworkers + wi, err,
						   sizeof(err)) < 0) {
				fprintf(stderr, "fastgate-bench: host env (TunIo %s): %s\n", fg_bench_tun_io_name(pl->tun_io[t]),
					err);
				fg_bench_env_fini(env);
				free(env);
				return -1;
			}
			if (o->verbose || (t == 0 && wi == 0))
				printf("TUN %s, %u queue(s), offloads 0x%x, TunIo %s\n", env->dp.tun.name, env->dp.tun.nqueues,
				       env->dp.tun.offloads, fg_bench_tun_io_name(pl->tun_io[t]));
			if (host_rows(env, pl, workers, o, rows, nrows, maxrows) < 0)
				rc = -1;
			fg_bench_env_fini(env);
			free(env);
		}
	}
	if (pl->before_after) {
		/* One worker, the first TunIo mode. */
		struct fg_bench_env *env = calloc(1, sizeof(*env));

		if (!env || fg_bench_env_init_host(env, npeers, 1, pl->tun_io[0], pl->ntun_io * pl->nworkers, err,
						   sizeof(err)) < 0) {
			fprintf(stderr, "fastgate-bench: host env for --before-after: %s\n", env ? err : "out of memory");
			rc = -1;
		} else if (fg_bench_before_after(NULL, env, pl->sizes, pl->nsizes, pl->peers, o) < 0) {
			rc = -1;
		}
		fg_bench_env_fini(env);
		free(env);
	}
	return rc;
}

int fg_bench_before_after(struct fg_bench_env *env, struct fg_bench_env *host_env, const unsigned *sizes,
			  unsigned nsizes, uint32_t peers, const struct fg_bench_opts *o)
{
	struct fg_bench_env *e = host_env ? host_env : env;
	struct fg_bench_opts so = *o;
	int rc = 0;

	if (peers > e->npeers)
		peers = e->npeers;
	so.seconds = o->seconds / AB_ROUNDS > 0.1 ? o->seconds / AB_ROUNDS : 0.1;
	so.raw_seconds = so.seconds / 4;
	so.csum_flags = true;
	printf("\nbefore/after (%s, 1 worker, %u peers): each refinement taken out alone, %u alternations of "
	       "%.2f s,\nthe lowest cyc/pkt of each kept. The fed mbufs carry RTE_MBUF_F_RX_IP_CKSUM_GOOD | "
	       "RTE_MBUF_F_RX_L4_CKSUM_GOOD,\nas from a NIC that offers them (net_ring has none).\n",
	       host_env ? "decrypt-udp, the host path" : "worker-only decrypt", peers, AB_ROUNDS, so.seconds);
	for (unsigned s = 0; s < nsizes; s++) {
		struct fg_bench_row best[NVARIANTS];
		struct fg_bench_traffic tr;
		char name[16];
		int ret = host_env ? fg_bench_traffic_build_host(&tr, e, FG_BENCH_DECRYPT, sizes[s], peers, o->udp_csum)
				   : fg_bench_traffic_build(&tr, e, FG_BENCH_DECRYPT, sizes[s], peers, o->udp_csum, false);

		if (ret < 0)
			return -1;
		memset(best, 0, sizeof(best));
		for (unsigned k = 0; k < AB_ROUNDS && rc == 0; k++)
			for (unsigned v = 0; v < NVARIANTS; v++) {
				struct fg_bench_row r;

				so.fastpath = VARIANTS[v].bit | FG_FP_PROFILE;
				ret = host_env ? fg_bench_run_host_row(e, FG_BENCH_KIND_UDP, &tr, 1, &so, &r)
					       : fg_bench_run_row(e, &tr, 1, &so, &r);
				if (ret < 0 || !row_ok(&r)) {
					fprintf(stderr, "fastgate-bench: before/after row failed: %s, %llu drops\n",
						strerror(ret < 0 ? -ret : 0), (unsigned long long)r.drops);
					rc = -1;
					break;
				}
				if (k == 0 || r.cycles_per_packet < best[v].cycles_per_packet)
					best[v] = r;
			}
		fg_bench_traffic_free(&tr);
		if (rc < 0)
			break;
		fg_bench_size_name(sizes[s], name, sizeof(name));
		printf("size %s:\n%-46s %8s %8s %7s |%7s %7s %7s %7s %7s\n", name, "variant", "cyc/pkt", "cost", "cost%",
		       "parse", "lookup", "aead", "policy", "io");
		for (unsigned v = 0; v < NVARIANTS; v++) {
			const struct fg_bench_row *b = &best[v], *a = &best[0];

			printf("%-46s %8.0f %+8.0f %+6.1f%% |", VARIANTS[v].name, b->cycles_per_packet,
			       b->cycles_per_packet - a->cycles_per_packet,
			       (b->cycles_per_packet / a->cycles_per_packet - 1) * 100);
			for (unsigned st = 0; st < FG_STAGE_MAX; st++) {
				if (!b->stage_pkts)
					printf(" %7s", "-");
				else if (v == 0)
					printf(" %7.0f", b->stage[st]);
				else
					printf(" %+7.0f", b->stage[st] - a->stage[st]);
			}
			printf("\n");
		}
		printf("(cost: cycles per packet the refinement saves = variant - all on; the first row's stage "
		       "columns are absolute, the others differences)\n");
	}
	return rc;
}

/* ---- the targets ---------------------------------------------------------------- */

static const struct fg_bench_row *find(const struct fg_bench_row *rows, unsigned n, enum fg_bench_kind kind,
				       enum fg_bench_dir dir, unsigned size, unsigned workers, int tun_io)
{
	for (unsigned i = 0; i < n; i++) {
		const struct fg_bench_row *r = &rows[i];

		if (r->kind == kind && r->dir == dir && r->size == size && r->workers == workers && r->tun_io == tun_io &&
		    !r->skipped && r->packets)
			return r;
	}
	return NULL;
}

/* The stages, largest first, and what the row is over a cycle budget by. */
static void explain(FILE *f, const struct fg_bench_row *r, double budget)
{
	bool used[FG_STAGE_MAX + 1] = { false };
	double rest = r->cycles_per_packet;

	for (unsigned s = 0; s < FG_STAGE_MAX; s++)
		rest -= r->stage[s];
	fprintf(f, "    over the budget of %.0f cyc/pkt by %.0f; ", budget, r->cycles_per_packet - budget);
	if (!r->stage_pkts) {
		fprintf(f, "no stage times (the worker in this tree has no FG_FP_PROFILE timers)\n");
		return;
	}
	fprintf(f, "stages, largest first:");
	for (unsigned k = 0; k <= FG_STAGE_MAX; k++) {
		unsigned best = FG_STAGE_MAX + 1;
		double bv = -1e18;

		for (unsigned s = 0; s <= FG_STAGE_MAX; s++) {
			double v = s < FG_STAGE_MAX ? r->stage[s] : rest;

			if (!used[s] && v > bv) {
				bv = v;
				best = s;
			}
		}
		used[best] = true;
		fprintf(f, " %s %.0f", best < FG_STAGE_MAX ? fg_stage_names[best] : "rest(loop+other direction)", bv);
	}
	fprintf(f, "\n");
}

void fg_bench_targets(FILE *f, const struct fg_bench_row *rows, unsigned n)
{
	double hz = (double)rte_get_tsc_hz();
	bool any = false;

	for (unsigned i = 0; i < n; i++)
		any |= rows[i].kind != FG_BENCH_KIND_WORKER && !rows[i].skipped;
	if (!any)
		return;
	fprintf(f, "\ntargets (issue 13), read off the host-path rows above (per worker core):\n");
	for (unsigned i = 0; i < n; i++) {
		const struct fg_bench_row *r = &rows[i], *d, *e, *one;
		char size[16];

		if (r->skipped || !r->packets || r->kind == FG_BENCH_KIND_WORKER)
			continue;
		fg_bench_size_name(r->size, size, sizeof(size));
		if (r->kind == FG_BENCH_KIND_TCP && r->dir == FG_BENCH_DECRYPT && r->workers == 1) {
			bool met = r->gbps >= 10 && r->ratio >= 0.6;
			double budget = hz * (double)r->inner_bytes / (double)r->packets * 8 / 10e9;

			if (r->raw_cycles_per_op / 0.6 < budget)
				budget = r->raw_cycles_per_op / 0.6;
			fprintf(f, "  decrypt-tcp 1420 B (TunIo %s): %.2f Gbit/s (>= 10), ratio %.2f (>= 0.6): %s\n",
				fg_bench_tun_io_name(r->tun_io), r->gbps, r->ratio, met ? "met" : "NOT met");
			if (!met)
				explain(f, r, budget);
		}
		if (r->kind == FG_BENCH_KIND_UDP && r->dir == FG_BENCH_DECRYPT && r->size == 64 && r->workers == 1) {
			bool met = r->ratio >= 0.35;

			fprintf(f, "  decrypt-udp 64 B, %u peers (TunIo %s): ratio %.2f (>= 0.35): %s\n", r->npeers,
				fg_bench_tun_io_name(r->tun_io), r->ratio, met ? "met" : "NOT met");
			if (!met)
				explain(f, r, r->raw_cycles_per_op / 0.35);
		}
		if (r->dir == FG_BENCH_ENCRYPT && r->workers == 1 &&
		    (d = find(rows, n, r->kind, FG_BENCH_DECRYPT, r->size, 1, r->tun_io)) != NULL) {
			bool met = r->gbps >= 0.9 * d->gbps;

			fprintf(f, "  %s %s B vs %s (TunIo %s): %.2f vs %.2f Gbit/s = %.2f (>= 0.90): %s\n",
				fg_bench_row_name(r), size, fg_bench_row_name(d), fg_bench_tun_io_name(r->tun_io), r->gbps,
				d->gbps, d->gbps > 0 ? r->gbps / d->gbps : 0, met ? "met" : "NOT met");
			if (!met)
				explain(f, r, d->cycles_per_packet * d->inner_bytes / d->packets /
						      ((double)r->inner_bytes / (double)r->packets) / 0.9);
		}
		e = r;
		if (e->workers == 2 && (one = find(rows, n, e->kind, e->dir, e->size, 1, e->tun_io)) != NULL) {
			bool met = e->mpps >= 1.8 * one->mpps;

			fprintf(f, "  %s %s B, 2 workers vs 1 (TunIo %s): %.3f vs %.3f Mpps = %.2fx (>= 1.8): %s\n",
				fg_bench_row_name(e), size, fg_bench_tun_io_name(e->tun_io), e->mpps, one->mpps,
				one->mpps > 0 ? e->mpps / one->mpps : 0, met ? "met" : "NOT met");
		}
	}
}
