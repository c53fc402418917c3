// SPDX-License-Identifier: MIT
/*
 * The bench's output: human tables on stdout (the worker-only rows, and the host-path rows
 * with their stages and CPU), one CSV line per row of either kind, and a PNG drawn by gnuplot
 * (bench/plot.gp) from that CSV when gnuplot is installed. Main lcore only.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>

const char *fg_bench_dir_name(enum fg_bench_dir d)
{
	return d == FG_BENCH_DECRYPT ? "decrypt" : "encrypt";
}

const char *fg_bench_row_name(const struct fg_bench_row *r)
{
	if (r->kind == FG_BENCH_KIND_TCP)
		return r->dir == FG_BENCH_DECRYPT ? "decrypt-tcp" : "encrypt-tcp";
	if (r->kind == FG_BENCH_KIND_UDP)
		return r->dir == FG_BENCH_DECRYPT ? "decrypt-udp" : "encrypt-udp";
	if (r->nat)
		return "decrypt-nat";
	if (!r->relayed)
		return fg_bench_dir_name(r->dir);
	return r->dir == FG_BENCH_DECRYPT ? "decrypt-relayed" : "encrypt-relayed";
}

void fg_bench_size_name(unsigned size, char *buf, size_t len)
{
	if (size == FG_BENCH_IMIX)
		snprintf(buf, len, "imix");
	else
		snprintf(buf, len, "%u", size);
}

static double wall_mpps(const struct fg_bench_row *r)
{
	if (!r->wall_cycles)
		return 0;
	return (double)r->packets * (double)rte_get_tsc_hz() / (double)r->wall_cycles / 1e6;
}

void fg_bench_print_header(FILE *f)
{
	fprintf(f, "%-15s %5s %6s %2s %8s %7s %8s %9s %8s %6s %7s %8s %9s %6s\n", "dir", "size", "peers", "wk", "Mpps",
		"Gbit/s", "cyc/pkt", "raw-Mops", "raw-cyc", "ratio", "io-cyc", "ratio-io", "wall-Mpps", "drops");
}

void fg_bench_print_row(FILE *f, const struct fg_bench_row *r)
{
	char size[16];

	fg_bench_size_name(r->size, size, sizeof(size));
	if (r->skipped) {
		fprintf(f, "%-15s %5s %6u %2u   (skipped: %u peer%s cannot load %u workers; RSS keeps a peer on one queue)\n",
			fg_bench_row_name(r), size, r->npeers, r->workers, r->npeers, r->npeers == 1 ? "" : "s",
			r->workers);
		return;
	}
	char ratio_io[16] = "-";

	if (r->ratio_no_io > 0)
		snprintf(ratio_io, sizeof(ratio_io), "%.2f", r->ratio_no_io);
	fprintf(f, "%-15s %5s %6u %2u %8.3f %7.2f %8.0f %9.3f %8.0f %6.2f %7.0f %8s %9.3f %6llu\n",
		fg_bench_row_name(r), size, r->npeers, r->workers, r->mpps, r->gbps, r->cycles_per_packet,
		r->raw_mpps, r->raw_cycles_per_op, r->ratio, r->io_cycles_per_packet, ratio_io, wall_mpps(r),
		(unsigned long long)r->drops);
	fflush(f);
}

/* Cycles per packet outside the row direction's timed stages: the poll loop itself (the
 * empty reads of the other sources, the NIC flush, the QSBR report) and, on TCP rows, the
 * other direction's packets (the ACKs). */
static double stage_rest(const struct fg_bench_row *r)
{
	double sum = 0;

	for (unsigned s = 0; s < FG_STAGE_MAX; s++)
		sum += r->stage[s];
	return r->cycles_per_packet - sum;
}

void fg_bench_print_host_header(FILE *f)
{
	fprintf(f, "%-11s %-8s %5s %5s %2s %7s %7s %7s %7s %5s |%6s %6s %6s %6s %6s %6s |%5s |%6s %6s |%6s %5s\n", "row",
		"tun-io", "size", "peers", "wk", "Mpps", "Gbit/s", "cyc/pkt", "raw-cyc", "ratio", "parse", "lookup",
		"aead", "policy", "io", "rest", "idle", "proc", "sys", "drops", "host");
}

void fg_bench_print_host_row(FILE *f, const struct fg_bench_row *r)
{
	char size[16], st[FG_STAGE_MAX + 1][16];

	fg_bench_size_name(r->size, size, sizeof(size));
	if (r->skipped) {
		fprintf(f, "%-11s %-8s %5s %5u %2u   (skipped: fewer peers than workers)\n", fg_bench_row_name(r),
			fg_bench_tun_io_name(r->tun_io), size, r->npeers, r->workers);
		return;
	}
	for (unsigned s = 0; s <= FG_STAGE_MAX; s++) {
		if (!r->stage_pkts)
			snprintf(st[s], sizeof(st[s]), "-");
		else
			snprintf(st[s], sizeof(st[s]), "%.0f", s < FG_STAGE_MAX ? r->stage[s] : stage_rest(r));
	}
	fprintf(f, "%-11s %-8s %5s %5u %2u %7.3f %7.2f %7.0f %7.0f %5.2f |%6s %6s %6s %6s %6s %6s |%4.0f%% |%6.2f %6.2f |%6llu "
		   "%5llu\n",
		fg_bench_row_name(r), fg_bench_tun_io_name(r->tun_io), size, r->npeers, r->workers, r->mpps, r->gbps,
		r->cycles_per_packet, r->raw_cycles_per_op, r->ratio, st[FG_STAGE_PARSE], st[FG_STAGE_LOOKUP],
		st[FG_STAGE_AEAD], st[FG_STAGE_POLICY], st[FG_STAGE_IO], st[FG_STAGE_MAX], r->idle_share * 100,
		r->cores10_proc, r->cores10_sys, (unsigned long long)r->drops, (unsigned long long)r->host_drops);
	fflush(f);
}

int fg_bench_write_csv(const char *path, const struct fg_bench_row *rows, unsigned n, const char *backend)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "backend,direction,size,mean_size,peers,workers,packets,mpps,inner_gbps,cycles_per_packet,"
		   "raw_mops,raw_cycles_per_op,ratio,io_cycles_per_packet,ratio_without_io,wall_mpps,drops,tsc_hz,"
		   "kind,tun_io,fastpath,rx_csum_flags,stage_parse,stage_lookup,stage_aead,stage_policy,stage_io,"
		   "stage_rest,idle_share,cores_per_10g_process,cores_per_10g_system,host_drops,nic_tx_full\n");
	for (unsigned i = 0; i < n; i++) {
		const struct fg_bench_row *r = &rows[i];
		char size[16];

		if (r->skipped)
			continue;
		fg_bench_size_name(r->size, size, sizeof(size));
		fprintf(f, "%s,%s,%s,%.1f,%u,%u,%llu,%.4f,%.4f,%.1f,%.4f,%.1f,%.4f,%.1f,%.4f,%.4f,%llu,%llu,",
			backend, fg_bench_row_name(r), size,
			r->size == FG_BENCH_IMIX ? fg_bench_imix_mean() : r->size, r->npeers, r->workers,
			(unsigned long long)r->packets, r->mpps, r->gbps, r->cycles_per_packet, r->raw_mpps,
			r->raw_cycles_per_op, r->ratio, r->io_cycles_per_packet, r->ratio_no_io, wall_mpps(r),
			(unsigned long long)r->drops,
			(unsigned long long)rte_get_tsc_hz());
		fprintf(f, "%s,%s,%u,%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.4f,%.4f,%.4f,%llu,%llu\n",
			r->kind == FG_BENCH_KIND_WORKER ? "worker-only" : "host",
			r->kind == FG_BENCH_KIND_WORKER ? "-" : fg_bench_tun_io_name(r->tun_io), r->fastpath,
			r->csum_flags, r->stage[FG_STAGE_PARSE], r->stage[FG_STAGE_LOOKUP], r->stage[FG_STAGE_AEAD],
			r->stage[FG_STAGE_POLICY], r->stage[FG_STAGE_IO], r->stage_pkts ? stage_rest(r) : 0,
			r->idle_share, r->cores10_proc, r->cores10_sys, (unsigned long long)r->host_drops,
			(unsigned long long)r->tx_overflow);
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

int fg_bench_plot(const char *script, const char *csv, const char *png)
{
	char vars[4096];
	int status;
	pid_t pid;

	if (strchr(csv, '\'') || strchr(png, '\''))
		return -EINVAL;
	snprintf(vars, sizeof(vars), "csv='%s'; out='%s'", csv, png);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("gnuplot", "gnuplot", "-e", vars, script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -ECHILD;
	if (WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WEXITSTATUS(status) == 0 ? 0 : -EIO;
}
