// SPDX-License-Identifier: MIT
/*
 * fastgate-dataplane: wires the modules together. Usage follows DPDK convention:
 *   fastgate-dataplane [EAL options] -- --config FILE [--stats-file FILE] [--stats-interval S]
 *                                        [--idle-sleep-us N] [--keep-caps]
 * The main lcore becomes the service lcore; the next Workers lcores run the fast path.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "config.h"
#include "ctl_server.h"
#include "dp_setup.h"
#include "log.h"
#include "options.h"
#include "port.h"
#include "privdrop.h"
#include "secmem.h"
#include "service.h"
#include "statsfile.h"
#include "svc_bench.h"
#include "svc_state.h"
#include "telemetry.h"
#include "uapi_server.h"
#include "worker.h"

static const char *const TAG = "fastgate.main";

/* The process's one context. A file-scope pointer only because the signal handler needs it. */
struct fg_dataplane {
	struct fg_dp dp;
	struct fg_svc svc;
	struct fg_uapi_server *uapi;
	struct fg_ctl_server *ctl;
	struct fg_telemetry *tel;
	FILE *dpdk_log; /* DPDK's log, through ours (common/log.h) */
	struct fg_log_stream dpdk_log_state;
};
static struct fg_dataplane *g_self;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fastgate-dataplane [EAL options] -- --config FILE [options]\n"
		"\n"
		"  --config FILE         the data plane's INI configuration (see config/fastgate.conf)\n"
		"  --stats-file FILE     where SIGUSR1 and exit write the counters\n"
		"                        (default /var/run/fastgate/<tun name>.stats)\n"
		"  --stats-interval S    also write the stats file every S seconds (0 = only on\n"
		"                        SIGUSR1 and at exit, the default; at most 86400)\n"
		"  --uapi-dir DIR        directory of the WireGuard UAPI socket (default /var/run/wireguard)\n"
		"  --ctl-socket PATH     the control socket for fastgate-controlplane\n"
		"                        (default /var/run/fastgate/<tun name>.ctl)\n"
		"  --ctl-group GROUP     group owning the control socket (an unprivileged control plane)\n"
		"  --idle-sleep-us N     let idle workers sleep N us (0 = poll, the default;\n"
		"                        at most 1000000)\n"
		"  --keep-caps           keep every capability once set up (by default only\n"
		"                        CAP_NET_ADMIN is kept, and no_new_privs is set)\n"
		"  --bench-sessions FILE install the public test sessions of fastgate-gen-pcaps'\n"
		"                        keys.txt (only in a build with meson -Dbench_sessions=true,\n"
		"                        for test beds: never in production)\n"
		"  --version             print the version and exit\n"
		"  --help                this text\n"
		"\n"
		"Environment: FIREZONE_LOG_FORMAT=json for JSON log lines, FASTGATE_LOG=debug|info|warn|error,\n"
		"FASTGATE_CORE_DUMPS=1 allows core dumps (off by default; the key tables stay out of them).\n"
		"Telemetry: the EAL's socket (on unless --no-telemetry) also answers /fastgate/stats and\n"
		"/fastgate/peers (dpdk-telemetry.py -f <file prefix>).\n"
		"Signals: SIGINT/SIGTERM stop cleanly, SIGUSR1 writes the stats file.\n"
		"Exit status: 0 after SIGINT/SIGTERM, 1 when the start fails, 2 for bad usage,\n"
		"3 when the uplink port's interface was deleted, 4 when the TUN was deleted.\n");
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		g_self->svc.dump_requested = 1;
	else
		__atomic_store_n(&g_self->dp.quit, 1, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "stats-interval", required_argument, NULL, 'S' },
		{ "uapi-dir", required_argument, NULL, 'u' },
		{ "ctl-socket", required_argument, NULL, 'k' },
		{ "ctl-group", required_argument, NULL, 'g' },
		{ "idle-sleep-us", required_argument, NULL, 'i' },
		{ "keep-caps", no_argument, NULL, 'K' },
		{ "bench-sessions", required_argument, NULL, 'B' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *bench_path = NULL, *stats_path = NULL, *uapi_dir = "/var/run/wireguard", *ctl_path = NULL, *ctl_group = NULL;
	struct fg_dp_options dopt = { 0 };
	static struct fg_config cfg;
	/* static: struct fg_dp and struct fg_svc hold large arrays (not for the stack) */
	static struct fg_dataplane self;
	char err[1024], stats_default[256], ctl_default[256];
	unsigned lcore;
	uint32_t stats_interval_s = 0;
	int ret, opt, exit_code;
	bool keep_caps = false;

	fg_log_init();
	/* --version / --help work without an EAL. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("fastgate-dataplane %s\n", FG_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		/* Before anything starts: a build without the fixed sessions says which one has them. */
		if (!FG_SVC_BENCH_BUILT && strncmp(argv[i], "--bench-sessions", 16) == 0 &&
		    (argv[i][16] == '\0' || argv[i][16] == '='))
			fg_fatal(TAG, "--bench-sessions: this fastgate-dataplane was built without the test "
				 "sessions; they exist only in a build configured with meson -Dbench_sessions=true "
				 "(test beds only, unsafe in production)");
	}
	/* Before any secret is read: no core dump unless FASTGATE_CORE_DUMPS=1 (secmem.h). */
	ret = fg_secmem_init(TAG);
	if (ret < 0)
		fg_fatal(TAG, "prctl(PR_SET_DUMPABLE): %s", strerror(-ret));
	self.dpdk_log = fg_log_stream(&self.dpdk_log_state, "dpdk");
	if (self.dpdk_log)
		rte_openlog_stream(self.dpdk_log);
	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		fg_fatal(TAG, "EAL initialisation failed: %s", rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			stats_path = optarg;
			break;
		case 'S':
			ret = fg_options_parse_u32(optarg, FG_OPTIONS_STATS_INTERVAL_MAX, &stats_interval_s);
			if (ret < 0)
				fg_fatal(TAG, "--stats-interval %s: %s", optarg,
					 ret == -ERANGE ? "over the maximum, 86400 (a day)"
							: "not a whole number of seconds");
			break;
		case 'u':
			uapi_dir = optarg;
			break;
		case 'k':
			ctl_path = optarg;
			break;
		case 'g':
			ctl_group = optarg;
			break;
		case 'i':
			ret = fg_options_parse_u32(optarg, FG_OPTIONS_IDLE_SLEEP_US_MAX, &dopt.idle_sleep_us);
			if (ret < 0)
				fg_fatal(TAG, "--idle-sleep-us %s: %s", optarg,
					 ret == -ERANGE ? "over the maximum, 1000000 (1 s)"
							: "not a whole number of microseconds");
			break;
		case 'K':
			keep_caps = true;
			break;
		case 'B':
			bench_path = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config_path) {
		usage(stderr);
		fg_fatal(TAG, "--config FILE is required");
	}
	if (fg_config_load(config_path, &cfg, err, sizeof(err)) < 0)
		fg_fatal(TAG, "%s", err);

	if (fg_dp_init(&self.dp, &cfg, &dopt, err, sizeof(err)) < 0)
		fg_fatal(TAG, "%s", err);
	if (fg_dp_setup_host(&self.dp, err, sizeof(err)) < 0) {
		fg_dp_fini(&self.dp);
		fg_fatal(TAG, "%s", err);
	}
	if (fg_svc_init(&self.svc, &self.dp) < 0) {
		fg_dp_fini(&self.dp);
		fg_fatal(TAG, "service state: out of memory");
	}
	if (fg_dp_load_peers(&self.svc, &cfg, err, sizeof(err)) < 0) {
		fg_dp_fini(&self.dp);
		fg_fatal(TAG, "%s: %s", config_path, err);
	}
	if (bench_path) {
		ret = fg_svc_bench_load(&self.svc, bench_path, err, sizeof(err));
		if (ret < 0) {
			fg_dp_fini(&self.dp);
			fg_fatal(TAG, "--bench-sessions %s", err);
		}
	}
	/* The service holds the keys now: no second copy for the process's lifetime. */
	fg_config_wipe_keys(&cfg);
	if (!stats_path) {
		ret = fg_statsfile_make_dir("/var/run/fastgate");
		if (ret < 0) {
			fg_dp_fini(&self.dp);
			fg_fatal(TAG, "/var/run/fastgate: %s", ret == -EPERM ? "not owned by this user" : strerror(-ret));
		}
		snprintf(stats_default, sizeof(stats_default), "/var/run/fastgate/%s.stats", self.dp.tun.name);
		stats_path = stats_default;
	}
	self.svc.stats_path = stats_path;
	self.svc.stats_interval_ns = (uint64_t)stats_interval_s * 1000000000ull;
	self.uapi = fg_uapi_server_open(&self.svc, uapi_dir, self.dp.tun.name);
	if (!self.uapi) {
		int e = errno;

		fg_dp_fini(&self.dp);
		fg_fatal(TAG, "UAPI socket %s/%s.sock: %s", uapi_dir, self.dp.tun.name, strerror(e));
	}

	if (!ctl_path) {
		snprintf(ctl_default, sizeof(ctl_default), "/var/run/fastgate/%s.ctl", self.dp.tun.name);
		ctl_path = ctl_default;
	}
	gid_t ctl_gid = (gid_t)-1;
	if (ctl_group) {
		struct group *gr = getgrnam(ctl_group);

		if (!gr) {
			fg_uapi_server_close(self.uapi);
			fg_dp_fini(&self.dp);
			fg_fatal(TAG, "--ctl-group %s: no such group", ctl_group);
		}
		ctl_gid = gr->gr_gid;
	}
	/* The group is set before the socket appears at its path (common/unixsock.h). */
	self.ctl = fg_ctl_server_open(&self.svc, ctl_path, ctl_gid);
	if (!self.ctl) {
		int e = errno;

		fg_uapi_server_close(self.uapi);
		fg_dp_fini(&self.dp);
		fg_fatal(TAG, "control socket %s: %s", ctl_path,
			 e == EEXIST ? "exists and is not a socket (not removed)" : strerror(e));
	}

	self.tel = fg_telemetry_open(&self.svc);
	if (!self.tel) {
		int e = errno;

		fg_ctl_server_close(self.ctl);
		fg_uapi_server_close(self.uapi);
		fg_dp_fini(&self.dp);
		fg_fatal(TAG, "telemetry commands: %s", strerror(e));
	}

	g_self = &self;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The uplink's interface and the TUN: deleted, the process stops (exit 3 or 4). */
	fg_svc_linkwatch_start(&self.svc, fg_port_ifindex(self.dp.port_id));

	/* Everything that needs root is done; the workers have not started. */
	if (keep_caps) {
		fg_info(TAG, "--keep-caps: keeping every capability");
	} else {
		struct fg_privdrop_report pr;
		char caps[128];

		ret = fg_privdrop_apply(FG_PRIVDROP_RUNTIME_CAPS, &pr);
		if (ret < 0)
			fg_fatal(TAG, "dropping capabilities: %s", strerror(-ret));
		fg_info(TAG, "capabilities dropped in %u thread(s): kept %s%s, no_new_privs set", pr.threads,
			fg_privdrop_format(pr.kept, caps, sizeof(caps)),
			pr.bounding ? "" : " (bounding set unchanged: no CAP_SETPCAP)");
	}
	for (unsigned w = 0; w < self.dp.nworkers; w++) {
		ret = rte_eal_remote_launch(fg_worker_main, &self.dp.workers[w], self.dp.workers[w].lcore);
		if (ret != 0)
			fg_fatal(TAG, "cannot launch worker %u on lcore %u: %s", w, self.dp.workers[w].lcore,
				 strerror(-ret));
	}
	fg_info(TAG, "fastgate-dataplane %s running: %u worker(s), tun %s, uapi %s, control %s, listen port %u, aead %s, %zu peer(s)",
		FG_VERSION, self.dp.nworkers, self.dp.tun.name, fg_uapi_server_path(self.uapi), fg_ctl_server_path(self.ctl),
		self.dp.local.listen_port,
		fg_aead_backend_name(), cfg.n_peers);

	exit_code = fg_svc_run(&self.svc);

	fg_info(TAG, "shutting down");
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_wait_lcore(lcore);
	fg_svc_stats_dump(&self.svc);
	fg_telemetry_close(self.tel);
	self.tel = NULL;
	fg_uapi_server_close(self.uapi);
	self.uapi = NULL;
	fg_ctl_server_close(self.ctl);
	self.ctl = NULL;
	/* What the host sees goes first (TUN, socket, port); the tables' memory goes back with
	 * the EAL's, which is much faster than freeing the tables one by one; only what lives
	 * outside it is freed. */
	fg_dp_release_host(&self.dp);
	fg_svc_fini(&self.svc);
	fg_dp_release_heap(&self.dp);
	fg_config_free(&cfg);
	rte_eal_cleanup();
	rte_openlog_stream(NULL);
	if (self.dpdk_log)
		fclose(self.dpdk_log);
	if (exit_code)
		fg_info(TAG, "stopped (exit code %d: the %s was deleted)", exit_code,
			exit_code == FG_SVC_EXIT_UPLINK_GONE ? "uplink port's interface" : "TUN");
	else
		fg_info(TAG, "stopped");
	return exit_code;
}
