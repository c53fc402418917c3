// SPDX-License-Identifier: MIT
/*
 * fastgate-bench: options, EAL start-up and the rows. As root it first enters a private
 * network namespace of its own (before the EAL starts, so every thread is inside). It starts
 * the EAL itself (no hugepages needed), builds the worker-only data plane of env.c once with
 * the largest peer count, and for each (direction, size, peers) builds the traffic and runs
 * one row per worker count (with --relayed, each row again with the same traffic wrapped in
 * ChannelData from relays, beside it). Then, as root, the host-path rows (hostrow.c) on a
 * data plane with the daemon's own TUN, once per --tun-io mode, and --before-after's
 * comparison. Prints tables, and optionally writes a CSV and a gnuplot PNG. Exits non-zero
 * when a row delivered nothing, dropped packets, or produced frames that do not open: the
 * smoke test's only checks (never timings).
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "aead.h"
#include "log.h"

#ifndef FG_BENCH_PLOT_GP
#define FG_BENCH_PLOT_GP "bench/plot.gp"
#endif

enum {
	NAT_AB_ROUNDS = 4,        /* --nat: alternations of the plain and the nat row */
	MAX_LIST = 8,
	MAX_EAL_ARGS = 64,
	HOST_KINDS = 4,           /* decrypt-tcp, decrypt-udp, encrypt-tcp, encrypt-udp */
};

struct matrix {
	unsigned dirs[FG_BENCH_DIRS], ndirs;
	unsigned sizes[MAX_LIST], nsizes;
	uint32_t peers[MAX_LIST], npeers;
	unsigned workers[MAX_LIST], nworkers;
	bool worker_only;                   /* run the worker-only matrix */
	bool host[HOST_KINDS];              /* host-path kinds to run */
	uint32_t host_peers;                /* peers of the host-path UDP rows */
	int tun_io[MAX_LIST];
	unsigned ntun_io;
	bool before_after;
};

static const char *const HOST_KIND_NAMES[HOST_KINDS] = { "decrypt-tcp", "decrypt-udp", "encrypt-tcp", "encrypt-udp" };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fastgate-bench [options] [-- EAL arguments]\n"
		"  --seconds S        time per row (default 2)\n"
		"  --raw-seconds S    time of the raw AEAD measurement per row (default S/4)\n"
		"  --smoke            CI mode: 0.2 s rows, 1 and 100 peers, 64 and 1420 bytes (explicit\n"
		"                     --seconds/--sizes/--peers still win)\n"
		"  --dir LIST         decrypt,encrypt (default both)\n"
		"  --sizes LIST       inner IP sizes and/or imix (default 64,512,1420,imix)\n"
		"  --peers LIST       (default 1,100,10000)\n"
		"  --workers LIST     1 and/or 2 (default 1,2)\n"
		"  --burst N          worker burst, 1..%d (default 32)\n"
		"  --aead NAME        libsodium, ipsec-mb or auto (default auto; FASTGATE_AEAD wins)\n"
		"  --no-udp-csum      send outer UDP checksum 0 (skips the worker's software check)\n"
		"  --relayed          beside each row, the same traffic through TURN relay channels:\n"
		"                     ChannelData from a relay (decrypt), relayed peer paths (encrypt)\n"
		"  --nat              beside each decrypt row, decrypt-nat: the same sizes and peers as\n"
		"                     clients of a DNS resource sending to its proxy IP, translated by\n"
		"                     the NAT with 10,000 live tuples; prints its cost against the row\n"
		"  --csv FILE         write the rows as CSV\n"
		"  --plot FILE.png    draw throughput against size with gnuplot (needs --csv or writes\n"
		"                     FILE.png.csv)\n"
		"  --plot-script F    gnuplot script (default %s)\n"
		"  --handshakes       also measure responder handshakes/s and MAC1 rejections/s\n"
		"  --host LIST        host-path rows (root: a private netns, the daemon's own TUN, kernel\n"
		"                     sockets): decrypt-tcp,decrypt-udp,encrypt-tcp,encrypt-udp, all or none\n"
		"                     (default all as root; the UDP rows at --sizes, the TCP rows 1420 B)\n"
		"  --host-peers N     peers of the host-path UDP rows (default 100)\n"
		"  --no-worker-only   skip the worker-only matrix (/dev/null and socketpair TUN stand-ins)\n"
		"  --tun-io LIST      the host rows once per [Host] TunIo: syscall,io_uring,sqpoll,auto\n"
		"                     (when this tree has TunIo; default: the configuration's default)\n"
		"  --before-after     a decrypt row with every per-packet refinement on, and with each one\n"
		"                     off (FG_FP_NO_*), alternated; prints each refinement's cost\n"
		"  --pcap DIR         instead of the matrix: replay DIR/data-<size>-p<peers>.pcap of\n"
		"                     fastgate-gen-pcaps through net_pcap (infinite_rx) into 1 worker,\n"
		"                     decrypt, with the sessions of DIR/keys.txt (peers 1,100 by default)\n"
		"Default EAL arguments: --no-pci --no-huge --no-shconf --no-telemetry --iova-mode=va\n"
		"-m 1024 --lcores 0@CPU,1@CPU (the first two CPUs this process may run on).\n",
		FG_BURST_MAX, FG_BENCH_PLOT_GP);
}

static int parse_list(const char *s, const char *what, bool sizes, unsigned *out, unsigned *n)
{
	char buf[256], *save = NULL, *tok;

	*n = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v;

		if (*n == MAX_LIST) {
			fprintf(stderr, "fastgate-bench: --%s: at most %d values\n", what, MAX_LIST);
			return -EINVAL;
		}
		if (sizes && strcmp(tok, "imix") == 0) {
			out[(*n)++] = FG_BENCH_IMIX;
			continue;
		}
		v = strtoul(tok, &end, 10);
		if (*end || v == 0 || v > 1000000) {
			fprintf(stderr, "fastgate-bench: --%s: bad value '%s'\n", what, tok);
			return -EINVAL;
		}
		if (sizes && (v < 28 || v > FG_BENCH_MTU)) {
			fprintf(stderr, "fastgate-bench: --%s: '%s' is not an IPv4/UDP size within 28..%d\n", what,
				tok, FG_BENCH_MTU);
			return -EINVAL;
		}
		out[(*n)++] = (unsigned)v;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_host(const char *s, struct matrix *m)
{
	char buf[128], *save = NULL, *tok;

	memset(m->host, 0, sizeof(m->host));
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned k;

		if (strcmp(tok, "none") == 0)
			continue;
		if (strcmp(tok, "all") == 0) {
			for (k = 0; k < HOST_KINDS; k++)
				m->host[k] = true;
			continue;
		}
		for (k = 0; k < HOST_KINDS && strcmp(tok, HOST_KIND_NAMES[k]) != 0; k++)
			;
		if (k == HOST_KINDS) {
			fprintf(stderr, "fastgate-bench: --host: '%s' is not one of decrypt-tcp, decrypt-udp, "
				"encrypt-tcp, encrypt-udp, all, none\n", tok);
			return -EINVAL;
		}
		m->host[k] = true;
	}
	return 0;
}

static int parse_tun_io(const char *s, struct matrix *m)
{
	char buf[128], *save = NULL, *tok;

	m->ntun_io = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int v, ret;

		if (m->ntun_io == MAX_LIST)
			return -EINVAL;
		ret = fg_bench_tun_io_parse(tok, &v);
		if (ret == -ENOTSUP) {
			fprintf(stderr, "fastgate-bench: --tun-io: this tree has no [Host] TunIo (enum fg_tun_io)\n");
			return ret;
		}
		if (ret < 0) {
			fprintf(stderr, "fastgate-bench: --tun-io: '%s' is not syscall, io_uring, sqpoll or auto\n", tok);
			return ret;
		}
		m->tun_io[m->ntun_io++] = v;
	}
	return m->ntun_io ? 0 : -EINVAL;
}

/* The machine the figures come from, and when. */
static void print_machine(void)
{
	char line[256], model[256] = "?", date[64] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	time_t now = time(NULL);
	struct tm tm;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');

			snprintf(model, sizeof(model), "%s", c ? c + 2 : line);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	if (gmtime_r(&now, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
	printf("CPU: %s, %ld online; %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), date);
}

static int parse_dirs(const char *s, struct matrix *m)
{
	char buf[64], *save = NULL, *tok;

	m->ndirs = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (m->ndirs == FG_BENCH_DIRS)
			return -EINVAL;
		if (strcmp(tok, "decrypt") == 0)
			m->dirs[m->ndirs++] = FG_BENCH_DECRYPT;
		else if (strcmp(tok, "encrypt") == 0)
			m->dirs[m->ndirs++] = FG_BENCH_ENCRYPT;
		else {
			fprintf(stderr, "fastgate-bench: --dir: '%s' is not decrypt or encrypt\n", tok);
			return -EINVAL;
		}
	}
	return m->ndirs ? 0 : -EINVAL;
}

static double parse_seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	return *end || !(v > 0 && v <= 3600) ? -1 : v;
}

static unsigned nat_live(const struct fg_bench_env *env)
{
	struct fg_conntrack_counters c;

	fg_conntrack_stats(&env->dp.ct, &c);
	return (unsigned)c.nat_live;
}

/* The decrypt-nat rows of one (size, peers). On a shared machine two rows run apart can
 * differ by more than the NAT costs, so each is measured against the plain decrypt row of
 * the same traffic in NAT_AB_ROUNDS alternations (plain, nat, plain, nat, ...) of a
 * fraction of the row's time each, and each side keeps its lowest cost per packet (what
 * other tasks did not inflate). The row recorded is the nat run with that lowest cost. */
static int run_nat_rows(struct fg_bench_env *env, const struct fg_bench_opts *o, const struct fg_bench_traffic *plain,
			const struct matrix *m, unsigned max_workers, struct fg_bench_row *rows, unsigned *nrows)
{
	struct fg_bench_opts so = *o;
	struct fg_bench_traffic tr;
	int ret, rc = 0;

	so.seconds = o->seconds / NAT_AB_ROUNDS;
	so.raw_seconds = o->raw_seconds / NAT_AB_ROUNDS;
	ret = fg_bench_traffic_build_nat(&tr, env, plain->size, plain->npeers, o->udp_csum);
	if (ret < 0) {
		fprintf(stderr, "fastgate-bench: nat traffic: %s\n", strerror(-ret));
		return ret;
	}
	for (unsigned w = 0; w < m->nworkers; w++) {
		struct fg_bench_row *best = &rows[*nrows], r, p;
		double best_plain = 0;

		if (m->workers[w] > max_workers)
			continue;
		(*nrows)++;
		memset(best, 0, sizeof(*best));
		for (unsigned k = 0; k < NAT_AB_ROUNDS && rc == 0; k++) {
			ret = fg_bench_run_row(env, plain, m->workers[w], &so, &p);
			if (ret == 0)
				ret = fg_bench_run_row(env, &tr, m->workers[w], &so, &r);
			if (ret < 0) {
				fprintf(stderr, "fastgate-bench: row failed: %s\n", strerror(-ret));
				rc = -1;
				break;
			}
			if (r.skipped) {
				*best = r;
				break;
			}
			if (r.packets == 0 || r.drops != 0) {
				fprintf(stderr, "fastgate-bench: row delivered %llu packets with %llu drops\n",
					(unsigned long long)r.packets, (unsigned long long)r.drops);
				rc = -1;
			}
			if (k == 0 || r.cycles_per_packet < best->cycles_per_packet)
				*best = r;
			if (k == 0 || p.cycles_per_packet < best_plain)
				best_plain = p.cycles_per_packet;
		}
		fg_bench_print_row(stdout, best);
		if (!best->skipped && best_plain > 0)
			printf("  nat: decrypt + translate %.0f cyc/pkt vs decrypt %.0f (lowest of %u alternations): "
			       "%+.1f%% (%.3f x), %u live tuples\n",
			       best->cycles_per_packet, best_plain, NAT_AB_ROUNDS,
			       (best->cycles_per_packet / best_plain - 1) * 100, best->cycles_per_packet / best_plain,
			       nat_live(env));
		if (!best->skipped && m->workers[w] == 1) {
			struct fg_bench_nat_micro mc;

			if (fg_bench_nat_micro(env, &tr, o->burst, &mc) == 0)
				printf("  nat alone (main lcore, %u tuples): policy %.0f cyc/pkt, translation %.0f "
				       "cyc/pkt = %.1f%% of decrypt\n", nat_live(env), mc.policy, mc.nat,
				       mc.nat / best_plain * 100);
		}
	}
	fg_bench_traffic_free(&tr);
	fg_bench_env_set_nat(env, false);
	return rc;
}

/* The first two CPUs we may run on, as EAL lcores 0 and 1 (or just 0 on a 1-CPU box). */
static int default_lcores(char *buf, size_t len, unsigned want)
{
	cpu_set_t set;
	int cpus[2], n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -errno;
	for (int c = 0; c < CPU_SETSIZE && n < 2 && (unsigned)n < want; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n == 0)
		return -ENODEV;
	if (n == 1)
		snprintf(buf, len, "0@%d", cpus[0]);
	else
		snprintf(buf, len, "0@%d,1@%d", cpus[0], cpus[1]);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "raw-seconds", required_argument, NULL, 'r' },
		{ "smoke", no_argument, NULL, 'S' },
		{ "dir", required_argument, NULL, 'd' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "peers", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "burst", required_argument, NULL, 'b' },
		{ "aead", required_argument, NULL, 'a' },
		{ "no-udp-csum", no_argument, NULL, 'U' },
		{ "relayed", no_argument, NULL, 'R' },
		{ "nat", no_argument, NULL, 'N' },
		{ "csv", required_argument, NULL, 'c' },
		{ "plot", required_argument, NULL, 'P' },
		{ "plot-script", required_argument, NULL, 'g' },
		{ "handshakes", no_argument, NULL, 'H' },
		{ "pcap", required_argument, NULL, 'C' },
		{ "host", required_argument, NULL, 'O' },
		{ "host-peers", required_argument, NULL, 'Q' },
		{ "no-worker-only", no_argument, NULL, 'W' },
		{ "tun-io", required_argument, NULL, 'I' },
		{ "before-after", no_argument, NULL, 'B' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct matrix m = {
		.dirs = { FG_BENCH_DECRYPT, FG_BENCH_ENCRYPT }, .ndirs = 2,
		.sizes = { 64, 512, 1420, FG_BENCH_IMIX }, .nsizes = 4,
		.peers = { 1, 100, 10000 }, .npeers = 3,
		.workers = { 1, 2 }, .nworkers = 2,
		.worker_only = true,
		.host = { true, true, true, true },
		.host_peers = 100,
		.tun_io = { FG_BENCH_TUN_IO_DEFAULT }, .ntun_io = 1,
	};
	struct fg_bench_opts o = { .seconds = 2, .raw_seconds = -1, .burst = 32, .udp_csum = true };
	const char *csv = NULL, *png = NULL, *script = FG_BENCH_PLOT_GP, *pcap_dir = NULL;
	enum fg_aead_backend backend = FG_AEAD_AUTO;
	bool smoke = false, handshakes = false, got_seconds = false, got_sizes = false, got_peers = false;
	bool relayed = false, nat = false, root = geteuid() == 0, host_rows;
	char *eal_argv[MAX_EAL_ARGS], lcores[64], err[512], csv_auto[4096];
	int eal_argc = 0, opt, ret, rc = 0;
	unsigned max_workers = 1;
	uint32_t max_peers = 1;

	fg_log_init();
	/* Before the EAL pins this thread: the sinks and senders may use every CPU. */
	fg_bench_cpus_save();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if ((o.seconds = parse_seconds(optarg)) < 0)
				goto bad;
			got_seconds = true;
			break;
		case 'r':
			if ((o.raw_seconds = parse_seconds(optarg)) < 0)
				goto bad;
			break;
		case 'S':
			smoke = true;
			break;
		case 'd':
			if (parse_dirs(optarg, &m) < 0)
				goto bad;
			break;
		case 'z':
			if (parse_list(optarg, "sizes", true, m.sizes, &m.nsizes) < 0)
				goto bad;
			got_sizes = true;
			break;
		case 'p':
			if (parse_list(optarg, "peers", false, m.peers, &m.npeers) < 0)
				goto bad;
			got_peers = true;
			break;
		case 'w':
			if (parse_list(optarg, "workers", false, m.workers, &m.nworkers) < 0)
				goto bad;
			for (unsigned i = 0; i < m.nworkers; i++)
				if (m.workers[i] > FG_BENCH_MAX_WORKERS)
					goto bad;
			break;
		case 'b': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > FG_BURST_MAX)
				goto bad;
			o.burst = (unsigned)v;
			break;
		}
		case 'a':
			if (fg_aead_backend_parse(optarg, &backend) < 0)
				goto bad;
			break;
		case 'U':
			o.udp_csum = false;
			break;
		case 'R':
			relayed = true;
			break;
		case 'N':
			nat = true;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'P':
			png = optarg;
			break;
		case 'g':
			script = optarg;
			break;
		case 'H':
			handshakes = true;
			break;
		case 'C':
			pcap_dir = optarg;
			break;
		case 'O':
			if (parse_host(optarg, &m) < 0)
				goto bad;
			break;
		case 'Q': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > 100000)
				goto bad;
			m.host_peers = (uint32_t)v;
			break;
		}
		case 'W':
			m.worker_only = false;
			break;
		case 'I':
			if (parse_tun_io(optarg, &m) < 0)
				goto bad;
			break;
		case 'B':
			m.before_after = true;
			break;
		case 'V':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	/* --smoke changes the defaults only: explicit options still win. */
	if (smoke && !got_seconds)
		o.seconds = 0.2;
	if (smoke && !got_sizes) {
		m.nsizes = 2;
		m.sizes[0] = 64;
		m.sizes[1] = 1420;
	}
	if (pcap_dir && !got_peers) {
		/* the generator writes p1 and p100 */
		m.npeers = 2;
		m.peers[0] = 1;
		m.peers[1] = 100;
	}
	if (pcap_dir)
		max_workers = 1;
	if (smoke && !got_peers) {
		m.npeers = 2;
		m.peers[0] = 1;
		m.peers[1] = 100;
	}
	if (o.raw_seconds < 0)
		o.raw_seconds = o.seconds / 4;
	host_rows = !pcap_dir && (m.host[0] || m.host[1] || m.host[2] || m.host[3]);
	if ((host_rows || m.before_after) && root && !pcap_dir) {
		/* Before the EAL: every thread it makes lives in the namespace too. */
		if (fg_bench_netns_enter(err, sizeof(err)) < 0) {
			fprintf(stderr, "fastgate-bench: private network namespace: %s\n", err);
			return 1;
		}
	} else if (host_rows) {
		printf("fastgate-bench: not root: no host-path rows (they need a network namespace and a TUN);\n"
		       "the worker-only rows below do NOT include the host path (/dev/null and a socketpair stand\n"
		       "in for the TUN).\n");
		host_rows = false;
		m.worker_only = true;
	}
	for (unsigned i = 0; i < m.npeers; i++)
		if (m.peers[i] > max_peers)
			max_peers = m.peers[i];
	for (unsigned i = 0; i < m.nworkers && !pcap_dir; i++)
		if (m.workers[i] > max_workers)
			max_workers = m.workers[i];

	eal_argv[eal_argc++] = argv[0];
	if (optind < argc) {
		/* The caller's EAL arguments, verbatim (after "--"). */
		for (int i = optind; i < argc && eal_argc < MAX_EAL_ARGS - 1; i++)
			eal_argv[eal_argc++] = argv[i];
	} else {
		static char *defaults[] = { "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
					    "--iova-mode=va", "-m", "1024", "--log-level=lib.*:warning" };

		ret = default_lcores(lcores, sizeof(lcores), max_workers);
		if (ret < 0) {
			fprintf(stderr, "fastgate-bench: CPU affinity: %s\n", strerror(-ret));
			return 1;
		}
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			eal_argv[eal_argc++] = defaults[i];
		eal_argv[eal_argc++] = "--lcores";
		eal_argv[eal_argc++] = lcores;
	}
	eal_argv[eal_argc] = NULL;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "fastgate-bench: EAL initialisation failed\n");
		return 1;
	}
	if (max_workers > rte_lcore_count()) {
		fprintf(stderr, "fastgate-bench: only %u lcore(s): rows with more workers are skipped\n",
			rte_lcore_count());
		max_workers = rte_lcore_count();
	}
	ret = fg_aead_init(backend);
	if (ret < 0) {
		fprintf(stderr, "fastgate-bench: AEAD backend: %s\n", strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}

	if (pcap_dir) {
		printf("fastgate-bench: AEAD backend %s, TSC %.3f GHz, burst %u, %.2f s per row (raw AEAD %.2f s)\n",
		       fg_aead_backend_name(), (double)rte_get_tsc_hz() / 1e9, o.burst, o.seconds, o.raw_seconds);
		rc = fg_bench_pcap(pcap_dir, m.sizes, m.nsizes, m.peers, m.npeers, &o, stdout) < 0 ? 1 : 0;
		rte_eal_cleanup();
		return rc;
	}

	struct fg_bench_env *env = calloc(1, sizeof(*env));
	unsigned variants = relayed ? 2 : 1;
	unsigned maxrows = m.ndirs * m.nsizes * m.npeers * m.nworkers * (variants + (nat ? 1 : 0)) +
			   HOST_KINDS * m.nsizes * m.nworkers * m.ntun_io, nrows = 0;
	struct fg_bench_row *rows = calloc(maxrows, sizeof(*rows));

	if (!env || !rows) {
		fprintf(stderr, "fastgate-bench: out of memory\n");
		rte_eal_cleanup();
		return 1;
	}
	ret = m.worker_only || (m.before_after && !root) ? fg_bench_env_init(env, max_peers, max_workers, err, sizeof(err))
							   : 0;
	if (ret < 0) {
		fprintf(stderr, "fastgate-bench: %s\n", err);
		rc = 1;
		goto out;
	}
	printf("fastgate-bench: AEAD backend %s, TSC %.3f GHz, %u lcore(s), burst %u, %.2f s per row "
	       "(raw AEAD %.2f s), outer UDP checksum %s\n",
	       fg_aead_backend_name(), (double)rte_get_tsc_hz() / 1e9, rte_lcore_count(), o.burst, o.seconds,
	       o.raw_seconds, o.udp_csum ? "on" : "off");
	{
		/* Other runnable tasks on a shared box skew every figure: say so up front. */
		FILE *la = fopen("/proc/loadavg", "r");
		char load[64] = "?";

		if (la) {
			if (!fgets(load, sizeof(load), la))
				snprintf(load, sizeof(load), "?");
			fclose(la);
		}
		load[strcspn(load, "\n")] = 0;
		printf("load average before the run: %s\n", load);
	}
	print_machine();
	if (m.worker_only)
		printf("\nworker-only rows: the host path is NOT included (/dev/null and a socketpair stand in for "
		       "the TUN)\n");
	if (m.worker_only)
		printf("Mpps, Gbit/s (inner IP bytes) and cyc/pkt (TSC cycles) count only the time inside "
	       "fg_worker_poll();\nraw = the same backend's bursts alone on the same packets; ratio = "
	       "raw cycles / worker cycles per packet;\nio-cyc = one write(2) to /dev/null (decrypt) or read(2) from the TUN socketpair (encrypt)\nalone; ratio-io = raw / (cyc/pkt - io-cyc), \"-\" when the io sample is inconsistent.\n\n");
	if (m.worker_only)
		fg_bench_print_header(stdout);
	for (unsigned d = 0; d < m.ndirs && m.worker_only; d++)
		for (unsigned s = 0; s < m.nsizes; s++)
			for (unsigned p = 0; p < m.npeers * variants; p++) {
				struct fg_bench_traffic tr;

				/* With --relayed, each (peers) twice: direct, then relayed. */
				ret = fg_bench_traffic_build(&tr, env, m.dirs[d], m.sizes[s], m.peers[p / variants],
							     o.udp_csum, p % variants == 1);
				if (ret < 0) {
					fprintf(stderr, "fastgate-bench: traffic: %s\n", strerror(-ret));
					rc = 1;
					goto out;
				}
				for (unsigned w = 0; w < m.nworkers; w++) {
					struct fg_bench_row *r = &rows[nrows++];

					if (m.workers[w] > max_workers) {
						nrows--;
						continue;
					}
					ret = fg_bench_run_row(env, &tr, m.workers[w], &o, r);
					fg_bench_print_row(stdout, r);
					if (ret < 0) {
						fprintf(stderr, "fastgate-bench: row failed: %s\n", strerror(-ret));
						rc = 1;
					} else if (!r->skipped && (r->packets == 0 || r->drops != 0)) {
						fprintf(stderr, "fastgate-bench: row delivered %llu packets with %llu drops\n",
							(unsigned long long)r->packets, (unsigned long long)r->drops);
						rc = 1;
					}
				}
				if (nat && m.dirs[d] == FG_BENCH_DECRYPT && p % variants == 0 &&
				    run_nat_rows(env, &o, &tr, &m, max_workers, rows, &nrows) < 0)
					rc = 1;
				fg_bench_traffic_free(&tr);
			}
	if (m.before_after && !root && fg_bench_before_after(env, NULL, m.sizes, m.nsizes, m.host_peers, &o) < 0)
		rc = 1;
	fg_bench_env_fini(env);
	if (host_rows || (m.before_after && root)) {
		struct fg_bench_host_plan plan = {
			.nsizes = m.nsizes, .nworkers = 0, .peers = m.host_peers, .ntun_io = m.ntun_io,
			.before_after = m.before_after, .max_workers = max_workers,
		};

		memcpy(plan.kinds, m.host, sizeof(plan.kinds));
		memcpy(plan.sizes, m.sizes, sizeof(plan.sizes));
		memcpy(plan.tun_io, m.tun_io, sizeof(plan.tun_io));
		for (unsigned i = 0; i < m.nworkers; i++)
			if (m.workers[i] <= max_workers)
				plan.workers[plan.nworkers++] = m.workers[i];
		if (!host_rows)
			memset(plan.kinds, 0, sizeof(plan.kinds));
		if (fg_bench_host_plan_run(&plan, &o, rows, &nrows, maxrows) < 0)
			rc = 1;
	}
	fg_bench_targets(stdout, rows, nrows);
	if (png && !csv) {
		snprintf(csv_auto, sizeof(csv_auto), "%s.csv", png);
		csv = csv_auto;
	}
	if (csv) {
		ret = fg_bench_write_csv(csv, rows, nrows, fg_aead_backend_name());
		if (ret < 0) {
			fprintf(stderr, "fastgate-bench: %s: %s\n", csv, strerror(-ret));
			rc = 1;
		}
	}
	if (png && csv) {
		ret = fg_bench_plot(script, csv, png);
		if (ret == -ENOENT)
			fprintf(stderr, "fastgate-bench: gnuplot is not installed: no %s (apt-get install gnuplot-nox)\n",
				png);
		else if (ret < 0)
			fprintf(stderr, "fastgate-bench: gnuplot %s failed: %s\n", script, strerror(-ret));
	}
	if (handshakes && fg_bench_handshakes(o.seconds, stdout) < 0)
		rc = 1;
out:
	fg_bench_env_fini(env);
	free(env);
	free(rows);
	rte_eal_cleanup();
	return rc;
bad:
	usage(stderr);
	return 2;
}
