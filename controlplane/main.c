// SPDX-License-Identifier: MIT
/*
 * fastgate-controlplane: wires the modules together on one libwebsockets loop. It logs in
 * to the portal as the Firezone gateway does (same environment variables), programs the
 * data plane through its control socket, serves fastgatectl and the health checks.
 *
 * usage: fastgate-controlplane [--dataplane-socket PATH] [--ctl-socket PATH] [--ca-file PATH]
 *                              [--allow-root] [TOKEN]
 * Run as root it drops to the user fastgate (FASTGATE_USER) once its sockets are open; when
 * that user does not exist it refuses to start unless --allow-root (FASTGATE_ALLOW_ROOT=1).
 * Signals: SIGTERM/SIGINT say Goodbye to every client (the gateway is going away), close the
 * WebSocket with 1000 and exit 0; SIGUSR2 detaches: the same without the Goodbyes, leaving
 * the data plane serving every client (for restarts and upgrades of the control plane).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "cp.h"
#include "flow_http.h"
#include "log.h"
#include "secmem.h"

static const char *const TAG = "fastgate.cp";

/* ---- portal callbacks, signals, shutdown ---------------------------------------------------- */

static void portal_message(void *ctx, const struct fg_phx_in *m)
{
	struct fg_cp *cp = ctx;

	fg_gateway_on_message(&cp->gw, m);
	fg_cp_dns_follow(cp);   /* init's tunnel addresses: the DNS forwarder listens there */
}

static void portal_joined(void *ctx)
{
	struct fg_cp *cp = ctx;

	fg_gateway_on_joined(&cp->gw);
}

static void portal_fatal(void *ctx, const char *why)
{
	struct fg_cp *cp = ctx;

	fg_err(TAG, "%s", why);
	cp->exit_code = 1;
	cp->stopping = true;
	lws_cancel_service(cp->lws);
}

static void closed_done(void *ctx)
{
	struct fg_cp *cp = ctx;

	lws_cancel_service(cp->lws);
	cp->stopping = true;
}

static void on_signal(void *ctx)
{
	struct fg_cp *cp = ctx;
	struct signalfd_siginfo si;

	while (read(cp->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			fg_info(TAG, "signal %u: saying Goodbye to %u client(s) and closing", si.ssi_signo, cp->state.n);
			fg_cp_goodbye_all(&cp->state);
		} else if (si.ssi_signo == SIGUSR2) {
			fg_info(TAG, "SIGUSR2: detaching; the data plane keeps serving every client");
		} else {
			continue;
		}
		fg_portal_close(cp->portal, closed_done, cp);
	}
}

static const struct fg_watch_ops sig_ops = {
	.readable = on_signal,
};

/* ---- connectivity: its portal messages and its timer ----------------------------------------- */

static bool conn_signal(void *ctx, const char *event, const char *client_id, const char *const *lines,
			unsigned n)
{
	struct fg_cp *cp = ctx;

	return fg_gateway_signal(&cp->gw, event, client_id, lines, n);
}

static void conn_arm(void *ctx, uint64_t us)
{
	struct fg_cp *cp = ctx;

	fg_loop_timer(&cp->conn_timer, us ? us : 1);
}

static void conn_fired(struct fg_timer *t)
{
	struct fg_cp *cp = t->ctx;

	fg_conn_timer(cp->conn);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fastgate-controlplane [options] [TOKEN]\n"
		"\n"
		"  --dataplane-socket PATH  the data plane's control socket\n"
		"                           (default /var/run/fastgate/tun-firezone.ctl)\n"
		"  --ctl-socket PATH        fastgatectl's socket (default /var/run/fastgate/controlplane.sock)\n"
		"  --ca-file PATH           also trust the CA certificates (PEM) in PATH for a wss portal\n"
		"                           (also FASTGATE_CA_FILE); the system trust store is always used\n"
		"  --allow-root             keep running as root when the user fastgate (FASTGATE_USER)\n"
		"                           does not exist (also FASTGATE_ALLOW_ROOT=1); without it that\n"
		"                           is a fatal error\n"
		"  --version                print the version and exit\n"
		"  and the Firezone gateway's options: -i/--firezone-id, -n/--firezone-name,\n"
		"  -u/--api-url, -m/--max-partition-time, --health-check-addr\n"
		"\n"
		"Environment, as the Firezone gateway: FIREZONE_TOKEN, FIREZONE_ID, FIREZONE_NAME,\n"
		"FIREZONE_API_URL, FIREZONE_LOG_FORMAT, FIREZONE_MAX_PARTITION_TIME, HEALTH_CHECK_ADDR.\n"
		"Run as root, it drops to FASTGATE_USER (default fastgate) once its sockets are open.\n"
		"FASTGATE_WITHOUT_RELAYS=1 confirms authorizations while no relay allocation exists\n"
		"(labs, direct-only sites; the Firezone gateway never does).\n"
		"FASTGATE_CORE_DUMPS=1 allows core dumps (off by default: they would hold the token\n"
		"and the clients' keys; the key stores stay out of them).\n");
}

static const char *run_user(void)
{
	const char *user = getenv("FASTGATE_USER");

	return user && *user ? user : "fastgate";
}

static bool env_allows_root(void)
{
	const char *v = getenv("FASTGATE_ALLOW_ROOT");

	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

__attribute__((noreturn)) static void refuse_root(const char *user)
{
	fg_fatal(TAG, "running as root: the fastgate user '%s' (FASTGATE_USER) does not exist; "
		 "create it or pass --allow-root", user);
}

/* Before any work: as root without a user to drop to, the portal's JSON and every other
 * untrusted input would be parsed as root. That takes an explicit --allow-root. */
static void check_root(bool allow_root)
{
	const char *user = run_user();

	if (geteuid() != 0 || getpwnam(user))
		return;
	if (!allow_root)
		refuse_root(user);
	fg_info(TAG, "no user '%s': staying root (--allow-root)", user);
}

/* After the sockets are open: the portal, JSON and DNS parsing run without root. The data
 * plane's control socket must be group-accessible for reconnects (its --ctl-group). */
static void drop_privileges(bool allow_root)
{
	const char *user = run_user();
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	pw = getpwnam(user);
	if (!pw) {
		/* check_root() said so at start-up; the user may also have gone since. */
		if (!allow_root)
			refuse_root(user);
		return;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 ||
	    setuid(0) == 0)
		fg_fatal(TAG, "cannot drop privileges to %s: %s", user, strerror(errno));
	fg_info(TAG, "running as %s (uid %u)", user, (unsigned)pw->pw_uid);
	/* setuid() set the dumpable flag to fs.suid_dumpable: FASTGATE_CORE_DUMPS decides again. */
	int sm = fg_secmem_apply();

	if (sm < 0)
		fg_fatal(TAG, "prctl(PR_SET_DUMPABLE) after dropping privileges: %s", strerror(-sm));
}

/* lws only logs a CA file it cannot load and goes on with the system store alone, so that
 * a typo would surface later as certificate errors: check it at start-up instead. */
static void check_ca_file(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (!f)
		fg_fatal(TAG, "CA file %s (--ca-file, FASTGATE_CA_FILE): %s", path, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		fg_fatal(TAG, "CA file %s (--ca-file, FASTGATE_CA_FILE): no PEM certificate in it", path);
	X509_free(x);
}

static const char *env(const char *k)
{
	return getenv(k);
}

/* Wipes a variable's value where it lies (the initial environment block stays readable in
 * /proc/<pid>/environ after unsetenv), then removes it: children inherit nothing. */
static void scrub_env(const char *name)
{
	char *v = getenv(name);

	if (v)
		sodium_memzero(v, strlen(v));
	unsetenv(name);
}

static bool env_true(const char *k)
{
	const char *v = getenv(k);

	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

int main(int argc, char **argv)
{
	const char *dp_path = "/var/run/fastgate/tun-firezone.ctl", *ctl_path = "/var/run/fastgate/controlplane.sock";
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	bool allow_root = env_allows_root();
	const char *ca_file = getenv("FASTGATE_CA_FILE");
	char err[512];
	struct fg_cp cp;

	memset(&cp, 0, sizeof(cp));
	cp.sigfd = -1;
	fg_ctlsock_init(&cp.ctl);
	fg_log_init();
	if (!rest)
		return 1;
	/* Our own options out; the Firezone gateway's options and the token go to login.c. */
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("fastgate-controlplane %s\n", FG_VERSION);
			free(rest);
			return 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			free(rest);
			return 0;
		} else if (strcmp(a, "--dataplane-socket") == 0 && i + 1 < argc) {
			dp_path = argv[++i];
		} else if (strncmp(a, "--dataplane-socket=", 19) == 0) {
			dp_path = a + 19;
		} else if (strcmp(a, "--ctl-socket") == 0 && i + 1 < argc) {
			ctl_path = argv[++i];
		} else if (strncmp(a, "--ctl-socket=", 13) == 0) {
			ctl_path = a + 13;
		} else if (strcmp(a, "--allow-root") == 0) {
			allow_root = true;
		} else if (strcmp(a, "--ca-file") == 0 && i + 1 < argc) {
			ca_file = argv[++i];
		} else if (strncmp(a, "--ca-file=", 10) == 0) {
			ca_file = a + 10;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	/* Before any secret is read: no core dump unless FASTGATE_CORE_DUMPS=1 (secmem.h). */
	int sm = fg_secmem_init(TAG);

	if (sm < 0)
		fg_fatal(TAG, "prctl(PR_SET_DUMPABLE): %s", strerror(-sm));
	check_root(allow_root);
	if (sodium_init() < 0)
		fg_fatal(TAG, "libsodium failed to initialise");
	/* Portal frames carry PSKs, ICE passwords and ingest tokens: cJSON wipes every string and
	 * buffer it frees (its own parse errors included), before anything is parsed. */
	cJSON_Hooks json_hooks = { .malloc_fn = malloc, .free_fn = fg_secmem_free_wiped };
	cJSON_InitHooks(&json_hooks);
	if (fg_login_load(&cp.login, nrest, rest, env, err, sizeof(err)) < 0)
		fg_fatal(TAG, "%s", err);
	free(rest);
	/* login.c holds its own (wiped) copy of the token; children need none. */
	scrub_env("FIREZONE_TOKEN");
	cp.started_ms = fg_dpc_now_ms();
	lws_set_log_level(LLL_ERR, NULL);

	struct lws_protocols protocols[4];
	memset(protocols, 0, sizeof(protocols));
	protocols[0] = *fg_portal_protocol();
	protocols[1] = fg_loop_protocol;
	protocols[2] = fg_flow_http_protocol;   /* flow log uploads (cpflow.c) */
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.fd_limit_per_thread = 1024;
	/* The buffer a client request's headers are built in: a flow-log upload's Bearer token
	 * (an ingest JWT, up to 8 KiB) must fit whole. */
	info.pt_serv_buf_size = 16384;
	/* wss: OpenSSL's default paths (the system store, SSL_CERT_FILE / SSL_CERT_DIR) always;
	 * lws adds the private CA file to them. Peer and host name checks stay on. */
	if (ca_file && *ca_file) {
		check_ca_file(ca_file);
		info.client_ssl_ca_filepath = ca_file;
	}
	cp.lws = lws_create_context(&info);
	if (!cp.lws)
		fg_fatal(TAG, "libwebsockets context could not be created");
	info.vhost_name = "default";
	struct lws_vhost *vh = lws_create_vhost(cp.lws, &info);
	if (!vh)
		fg_fatal(TAG, "libwebsockets vhost could not be created");
	fg_loop_init(&cp.loop, cp.lws, vh);

	/* The data plane's key is the one the portal must know: wait for it briefly. This is the
	 * one wait on the data plane (HELLO, bounded), before the loop runs; everything after it
	 * is asynchronous. */
	fg_dpc_init(&cp.dpc, dp_path);
	fg_cp_state_init(&cp.state, &cp.dpc);
	for (int i = 0; i < 100 && fg_dpc_connect(&cp.dpc) < 0; i++) {
		struct timespec ts = { 0, 100000000 };

		if (i == 0)
			fg_info(TAG, "waiting for the data plane at %s", dp_path);
		nanosleep(&ts, NULL);
	}
	if (!fg_dpc_connected(&cp.dpc))
		fg_fatal(TAG, "cannot reach the data plane's control socket %s: %s", dp_path, cp.dpc.last_error);
	fg_info(TAG, "connected to the data plane %s (tun %s)", cp.dpc.hello.version, cp.dpc.hello.tun_name);

	/* Relays and ICE: the punted STUN goes to them from the first read on. */
	struct fg_conn_config conn_cfg = { .without_relays = env_true("FASTGATE_WITHOUT_RELAYS") };
	const struct fg_conn_ops conn_ops = { .signal = conn_signal, .arm = conn_arm };
	fg_timer_init(&cp.conn_timer, &cp.loop, conn_fired, &cp);
	cp.conn = fg_conn_new(&cp.dpc, &cp.state, &conn_ops, &cp, &conn_cfg);
	if (!cp.conn)
		fg_fatal(TAG, "connectivity: %s", strerror(errno));
	cp.gw.conn = cp.conn;
	cp.dpc.on_packet = fg_conn_on_packet;
	cp.dpc.packet_arg = cp.conn;
	if (conn_cfg.without_relays)
		fg_info(TAG, "FASTGATE_WITHOUT_RELAYS: authorizations are confirmed without a relay allocation");
	if (fg_cp_nat_start(&cp) < 0)
		fg_fatal(TAG, "DNS resources: the resolver could not start: %s", strerror(errno));
	if (fg_cp_dns_start(&cp) < 0)
		fg_fatal(TAG, "DNS forwarder: %s (FASTGATE_DNS_RESOLV_CONF, default /etc/resolv.conf)", strerror(errno));
	fg_cp_dp_attach(&cp);
	if (fg_cp_flows_start(&cp) < 0)
		fg_fatal(TAG, "flow logs: %s", strerror(errno));

	int r = fg_ctlsock_start(&cp.ctl, &cp.loop, ctl_path, &fg_cp_ctl_provider, &cp);
	if (r < 0)
		fg_fatal(TAG, "fastgatectl socket %s: %s", ctl_path, strerror(-r));
	if (cp.login.health_addr[0])
		fg_cp_metrics_start(&cp, cp.login.health_addr);   /* /healthz, /readyz, /metrics */

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	cp.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	cp.sigw = fg_loop_watch(&cp.loop, cp.sigfd, &sig_ops, &cp);

	drop_privileges(allow_root);

	struct fg_portal_cbs cbs = { .message = portal_message, .joined = portal_joined, .fatal = portal_fatal };
	cp.portal = fg_portal_create(&cp.loop, &cp.login, cp.dpc.hello.public_key, &cbs, &cp);
	if (!cp.portal)
		fg_fatal(TAG, "%s", errno == EMSGSIZE ? "FIREZONE_TOKEN: too long for the X-Authorization header" :
			 errno == ENOMEM ? "portal: out of memory" : "FIREZONE_API_URL: cannot build the portal URL");
	cp.gw.state = &cp.state;
	cp.gw.portal = cp.portal;
	fg_portal_start(cp.portal);

	while (!cp.stopping)
		if (lws_service(cp.lws, 0) < 0)
			break;

	/* The Goodbyes of SIGTERM are queued: let the data plane take them (bounded). */
	fg_dpc_drain(&cp.dpc, FG_DPC_TIMEOUT_MS);
	fg_dpc_close(&cp.dpc); /* what is left completes now, while its owners still exist */
	fg_ctlsock_stop(&cp.ctl);
	fg_cp_metrics_stop(&cp);
	fg_portal_free(cp.portal);
	cp.gw.portal = NULL;
	fg_loop_timer(&cp.conn_timer, 0);
	fg_conn_free(cp.conn);
	fg_cp_nat_stop(&cp);
	fg_cp_dns_stop(&cp);
	fg_cp_flows_stop(&cp);   /* writes the reports still in memory to the spool */
	lws_context_destroy(cp.lws);
	fg_cp_state_free(&cp.state);
	fg_dpc_close(&cp.dpc);
	fg_login_free(&cp.login);
	fg_info(TAG, "stopped");
	return cp.exit_code;
}
