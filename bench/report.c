// SPDX-License-Identifier: MIT
/*
 * The bench's output: a human table on stdout, one CSV line per row, and a PNG drawn by
 * gnuplot (bench/plot.gp) from that CSV when gnuplot is installed. Main lcore only.
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

int fg_bench_write_csv(const char *path, const struct fg_bench_row *rows, unsigned n, const char *backend)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "backend,direction,size,mean_size,peers,workers,packets,mpps,inner_gbps,cycles_per_packet,"
		   "raw_mops,raw_cycles_per_op,ratio,io_cycles_per_packet,ratio_without_io,wall_mpps,drops,tsc_hz\n");
	for (unsigned i = 0; i < n; i++) {
		const struct fg_bench_row *r = &rows[i];
		char size[16];

		if (r->skipped)
			continue;
		fg_bench_size_name(r->size, size, sizeof(size));
		fprintf(f, "%s,%s,%s,%.1f,%u,%u,%llu,%.4f,%.4f,%.1f,%.4f,%.1f,%.4f,%.1f,%.4f,%.4f,%llu,%llu\n",
			backend, fg_bench_row_name(r), size,
			r->size == FG_BENCH_IMIX ? fg_bench_imix_mean() : r->size, r->npeers, r->workers,
			(unsigned long long)r->packets, r->mpps, r->gbps, r->cycles_per_packet, r->raw_mpps,
			r->raw_cycles_per_op, r->ratio, r->io_cycles_per_packet, r->ratio_no_io, wall_mpps(r),
			(unsigned long long)r->drops,
			(unsigned long long)rte_get_tsc_hz());
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
