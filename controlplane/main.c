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

#include <libwebsockets.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "ctlsock.h"
#include "dpclient.h"
#include "gateway.h"
#include "health.h"
#include "keys.h"
#include "log.h"
#include "login.h"
#include "loop.h"
#include "portal.h"
#include "state.h"

static const char *const TAG = "fastgate.cp";

static struct lws_context *g_ctx;
static struct fg_login g_login;
static struct fg_dpc g_dpc;
static struct fg_cp_state g_state;
static struct fg_gateway g_gw;
static struct fg_portal *g_portal;
static struct fg_watch *g_dpw;
static struct fg_timer g_dp_timer;
static struct fg_timer g_dpreq_timer;   /* the earliest deadline of a data plane request */
static int g_exit_code;
static bool g_stopping;
static uint64_t g_started;

/* ---- the data plane connection -------------------------------------------------------------- */

static void dp_watch(void);

static void dp_lost(const char *why)
{
	if (g_dpw) {
		fg_loop_unwatch(g_dpw);
		g_dpw = NULL;
	}
	fg_dpc_close(&g_dpc);
	g_state.dp_synced = false;
	fg_warn(TAG, "data plane control socket lost (%s); retrying every second", why);
	fg_loop_timer(&g_dp_timer, 1000000);
}

/* After anything that queued or completed requests: the timer at the next deadline, and
 * POLLOUT while requests wait for room in the socket. */
static void dp_wake(void *arg)
{
	int64_t d = fg_dpc_next_deadline(&g_dpc);

	(void)arg;
	if (d) {
		int64_t left = d - fg_dpc_now_ms();

		fg_loop_timer(&g_dpreq_timer, left > 0 ? (uint64_t)left * 1000 : 1);
	}
	if (g_dpw && fg_dpc_wants_write(&g_dpc))
		fg_loop_want_write(g_dpw);
}

static void dp_expire(struct fg_timer *t)
{
	(void)t;
	fg_dpc_expire(&g_dpc, fg_dpc_now_ms());
	dp_wake(NULL);
}

static void dp_events(void)
{
	struct fg_ctl_event ev;

	while (fg_dpc_next_event(&g_dpc, &ev))
		fg_cp_on_event(&g_state, &ev);
	if (g_dpc.events_lost) {
		g_dpc.events_lost = false;
		fg_warn(TAG, "data plane events were lost: resynchronising");
		fg_cp_sync(&g_state);
	}
}

static void dp_readable(void *ctx)
{
	(void)ctx;
	if (fg_dpc_on_readable(&g_dpc) < 0) {
		dp_lost(g_dpc.last_error);
		return;
	}
	dp_events();
	dp_wake(NULL);
}

static void dp_writable(void *ctx)
{
	(void)ctx;
	if (fg_dpc_on_writable(&g_dpc) < 0)
		dp_lost(g_dpc.last_error);
	else
		dp_wake(NULL);
}

static void dp_closed(void *ctx)
{
	(void)ctx;
	g_dpw = NULL;
	if (!g_stopping)
		dp_lost("closed");
}

static const struct fg_watch_ops dp_ops = {
	.readable = dp_readable,
	.writable = dp_writable,
	.closed = dp_closed,
};

static void dp_watch(void)
{
	g_dpw = fg_loop_watch(g_dpc.fd, &dp_ops, NULL);
}

static void dp_hello_done(void *ctx, int status, const void *msg)
{
	(void)ctx;
	(void)msg;
	if (status < 0) {
		fg_debug(TAG, "data plane did not say HELLO: %s", g_dpc.last_error);
		if (g_dpw) {
			fg_loop_unwatch(g_dpw);
			g_dpw = NULL;
		}
		fg_dpc_close(&g_dpc);
		if (!g_stopping)
			fg_loop_timer(&g_dp_timer, 1000000);
		return;
	}
	fg_info(TAG, "connected to the data plane %s (tun %s)", g_dpc.hello.version, g_dpc.hello.tun_name);
	fg_cp_sync(&g_state);
	dp_events();
}

/* A reconnect on the loop: connect() on a Unix socket does not wait, the HELLO's answer
 * comes through dp_readable like any other. */
static void dp_try(struct fg_timer *t)
{
	const struct fg_dpc_cb cb = { .done = dp_hello_done };

	(void)t;
	if (g_stopping || fg_dpc_connected(&g_dpc))
		return;
	if (fg_dpc_open(&g_dpc) < 0) {
		fg_debug(TAG, "data plane not reachable yet: %s", g_dpc.last_error);
		fg_loop_timer(&g_dp_timer, 1000000);
		return;
	}
	dp_watch();
	if (fg_dpc_hello(&g_dpc, &cb) < 0)
		dp_hello_done(NULL, -ENOTCONN, NULL);
}

/* ---- fastgatectl provider ------------------------------------------------------------------ */

static cJSON *ip_or_null(const struct fg_ip *ip)
{
	char b[FG_ADDR_STRLEN];

	return ip->family ? cJSON_CreateString(fg_ip_format(ip, b, sizeof(b))) : cJSON_CreateNull();
}

/* The data plane's answers for fastgatectl come asynchronously (prov_start); the plain
 * provider members answer only what the control plane knows, never waiting. status waits
 * for the data plane's counters at most STATUS_BUDGET_MS, then answers without them. */
enum {
	STATUS_BUDGET_MS = 1000,
};

/* dp: 0 with st, or why the data plane's counters are missing (-ENOTCONN: not asked). */
static cJSON *status_json(const struct fg_ctl_stats_reply *st, int dp)
{
	cJSON *o = cJSON_CreateObject(), *d;
	char k[FG_KEY_B64_LEN];

	cJSON_AddStringToObject(o, "version", FG_VERSION);
	cJSON_AddNumberToObject(o, "uptime_s", (double)((uint64_t)time(NULL) - g_started));
	cJSON_AddItemToObject(o, "portal", fg_portal_json(g_portal));
	d = cJSON_AddObjectToObject(o, "dataplane");
	cJSON_AddBoolToObject(d, "connected", fg_dpc_connected(&g_dpc));
	if (fg_dpc_connected(&g_dpc)) {
		fg_key_to_base64(k, g_dpc.hello.public_key);
		cJSON_AddStringToObject(d, "version", g_dpc.hello.version);
		cJSON_AddStringToObject(d, "tun", g_dpc.hello.tun_name);
		cJSON_AddStringToObject(d, "public_key", k);
		cJSON_AddNumberToObject(d, "listen_port", g_dpc.hello.listen_port);
		if (st) {
			cJSON_AddNumberToObject(d, "peers", st->peers);
			cJSON_AddNumberToObject(d, "workers", st->workers);
		}
		cJSON_AddBoolToObject(d, "responding", dp == 0);
		if (dp == -ETIMEDOUT)
			cJSON_AddStringToObject(d, "error", "no answer within 1 s");
		else if (dp < 0)
			cJSON_AddStringToObject(d, "error", strerror(-dp));
	}
	return o;
}

static cJSON *prov_status(void *ctx)
{
	(void)ctx;
	return status_json(NULL, -ENOTCONN);
}

struct peers_ctx {
	cJSON *o, *arr;
	struct fg_cpctl_pending *p;
};

static void add_peer(void *ctx, const struct fg_ctl_peer_info *p)
{
	struct peers_ctx *pc = ctx;
	cJSON *o = cJSON_CreateObject();
	char k[FG_KEY_B64_LEN], ep[FG_ENDPOINT_STRLEN];

	fg_key_to_base64(k, p->public_key);
	cJSON_AddStringToObject(o, "client_id", memchr(p->client_id, 0, sizeof(p->client_id)) ? p->client_id : "");
	cJSON_AddStringToObject(o, "public_key", k);
	cJSON_AddItemToObject(o, "ipv4", ip_or_null(&p->ipv4));
	cJSON_AddItemToObject(o, "ipv6", ip_or_null(&p->ipv6));
	if (p->endpoint.ip.family)
		cJSON_AddStringToObject(o, "endpoint", fg_endpoint_format(&p->endpoint, ep, sizeof(ep)));
	else
		cJSON_AddNullToObject(o, "endpoint");
	if (p->last_handshake_unix_ns)
		cJSON_AddNumberToObject(o, "last_handshake", (double)(p->last_handshake_unix_ns / 1000000000ULL));
	else
		cJSON_AddNullToObject(o, "last_handshake");
	cJSON_AddNumberToObject(o, "rx_bytes", (double)p->rx_bytes);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)p->tx_bytes);
	cJSON_AddNumberToObject(o, "resources", p->n_resources);
	cJSON_AddItemToArray(pc->arr, o);
}

/* Without a data plane: no peers. With one, prov_start asks it. */
static cJSON *prov_peers(void *ctx)
{
	cJSON *o;

	(void)ctx;
	if (fg_dpc_connected(&g_dpc))
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddArrayToObject(o, "peers");
	return o;
}

static cJSON *prov_resources(void *ctx)
{
	(void)ctx;
	return fg_cp_json_resources(&g_state);
}

static cJSON *prov_relays(void *ctx)
{
	(void)ctx;
	return fg_cp_json_relays(&g_state);
}

static void put_lcore(cJSON *arr, const char *name, const struct fg_ctl_lcore_stats *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddNumberToObject(o, "nic_rx_packets", (double)l->nic_rx_packets);
	cJSON_AddNumberToObject(o, "nic_rx_bytes", (double)l->nic_rx_bytes);
	cJSON_AddNumberToObject(o, "nic_tx_packets", (double)l->nic_tx_packets);
	cJSON_AddNumberToObject(o, "nic_tx_bytes", (double)l->nic_tx_bytes);
	cJSON_AddNumberToObject(o, "tun_rx_packets", (double)l->tun_rx_packets);
	cJSON_AddNumberToObject(o, "tun_rx_bytes", (double)l->tun_rx_bytes);
	cJSON_AddNumberToObject(o, "tun_tx_packets", (double)l->tun_tx_packets);
	cJSON_AddNumberToObject(o, "tun_tx_bytes", (double)l->tun_tx_bytes);
	cJSON_AddNumberToObject(o, "decrypted", (double)l->decrypted);
	cJSON_AddNumberToObject(o, "encrypted", (double)l->encrypted);
	cJSON_AddItemToArray(arr, o);
}

static cJSON *stats_json(struct fg_ctl_stats_reply *st)
{
	cJSON *o, *h, *d, *l;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "aead", st->aead);
	cJSON_AddNumberToObject(o, "workers", st->workers);
	cJSON_AddNumberToObject(o, "peers", st->peers);
	h = cJSON_AddObjectToObject(o, "handshakes");
	cJSON_AddNumberToObject(h, "initiated", (double)st->handshakes_initiated);
	cJSON_AddNumberToObject(h, "responded", (double)st->handshakes_responded);
	cJSON_AddNumberToObject(h, "completed", (double)st->handshakes_completed);
	cJSON_AddNumberToObject(h, "cookies_sent", (double)st->cookies_sent);
	cJSON_AddNumberToObject(h, "keepalives_sent", (double)st->keepalives_sent);
	cJSON_AddNumberToObject(h, "roams", (double)st->roams);
	d = cJSON_AddObjectToObject(o, "drops");
	for (uint32_t i = 0; i < st->n_drops && i < FG_CTL_MAX_DROP_REASONS; i++) {
		st->drop_names[i][sizeof(st->drop_names[i]) - 1] = '\0';
		cJSON_AddNumberToObject(d, st->drop_names[i], (double)st->drops[i]);
	}
	l = cJSON_AddArrayToObject(o, "lcores");
	put_lcore(l, "service", &st->service);
	for (uint32_t w = 0; w < st->workers && w < FG_CTL_MAX_WORKERS; w++) {
		char name[16];

		snprintf(name, sizeof(name), "worker%u", w);
		put_lcore(l, name, &st->lcores[w]);
	}
	return o;
}

/* Only ever answered by the data plane (prov_start). */
static cJSON *prov_stats(void *ctx)
{
	(void)ctx;
	return NULL;
}

static const struct fg_ctl_stats_reply *stats_of(int status, const void *msg)
{
	return status == 0 && msg && ((const struct fg_ctl_hdr *)msg)->type == FG_CTL_STATS_REPLY ? msg : NULL;
}

static void status_done(void *ctx, int status, const void *msg)
{
	fg_cpctl_pending_done(ctx, status_json(stats_of(status, msg), status));
}

static void stats_done(void *ctx, int status, const void *msg)
{
	struct fg_ctl_stats_reply *st = NULL;
	const struct fg_ctl_stats_reply *in = stats_of(status, msg);

	/* stats_json terminates the drop names in place: a copy */
	if (in && (st = malloc(sizeof(*st))))
		memcpy(st, in, sizeof(*st));
	fg_cpctl_pending_done(ctx, st ? stats_json(st) : NULL);
	free(st);
}

static void peers_part(void *ctx, uint16_t type, const void *msg)
{
	if (type == FG_CTL_PEER_INFO)
		add_peer(ctx, msg);
}

static void peers_done(void *ctx, int status, const void *msg)
{
	struct peers_ctx *pc = ctx;

	(void)msg;
	if (status < 0) {
		cJSON_Delete(pc->o);
		pc->o = NULL;
	}
	fg_cpctl_pending_done(pc->p, pc->o);
	free(pc);
}

/* fastgatectl commands that need the data plane: asked without waiting; the connection
 * gets its answer when the data plane's comes (or the request's budget runs out). */
static int prov_start(void *ctx, const char *cmd, struct fg_cpctl_pending *p)
{
	struct fg_dpc_cb cb = { .ctx = p };
	struct fg_ctl_stats st;
	struct fg_ctl_dump d;
	int r;

	(void)ctx;
	if (!fg_dpc_connected(&g_dpc))
		return -EOPNOTSUPP;
	memset(&st, 0, sizeof(st));
	if (strcmp(cmd, "status") == 0) {
		cb.done = status_done;
		return fg_dpc_send(&g_dpc, &st, FG_CTL_STATS, STATUS_BUDGET_MS, &cb);
	}
	if (strcmp(cmd, "stats") == 0) {
		cb.done = stats_done;
		return fg_dpc_send(&g_dpc, &st, FG_CTL_STATS, FG_DPC_TIMEOUT_MS, &cb);
	}
	if (strcmp(cmd, "peers") != 0)
		return -EOPNOTSUPP;
	struct peers_ctx *pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	pc->p = p;
	pc->o = cJSON_CreateObject();
	pc->arr = cJSON_AddArrayToObject(pc->o, "peers");
	cb = (struct fg_dpc_cb){ .part = peers_part, .done = peers_done, .ctx = pc };
	memset(&d, 0, sizeof(d));
	r = fg_dpc_send(&g_dpc, &d, FG_CTL_DUMP, FG_DPC_DUMP_TIMEOUT_MS, &cb);
	if (r < 0) {
		cJSON_Delete(pc->o);
		free(pc);
	}
	return r;
}

static const struct fg_cpctl_provider provider = {
	.status = prov_status,
	.peers = prov_peers,
	.resources = prov_resources,
	.relays = prov_relays,
	.stats = prov_stats,
	.start = prov_start,
};

/* ---- portal callbacks, signals, shutdown ---------------------------------------------------- */

static void portal_message(void *ctx, const struct fg_phx_in *m)
{
	(void)ctx;
	fg_gateway_on_message(&g_gw, m);
}

static void portal_joined(void *ctx)
{
	(void)ctx;
	fg_gateway_on_joined(&g_gw);
}

static void portal_fatal(void *ctx, const char *why)
{
	(void)ctx;
	fg_err(TAG, "%s", why);
	g_exit_code = 1;
	g_stopping = true;
	lws_cancel_service(g_ctx);
}

static void closed_done(void *ctx)
{
	(void)ctx;
	lws_cancel_service(g_ctx);
	g_stopping = true;
}

static struct fg_watch *g_sigw;
static int g_sigfd = -1;

static void on_signal(void *ctx)
{
	struct signalfd_siginfo si;

	(void)ctx;
	while (read(g_sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			fg_info(TAG, "signal %u: saying Goodbye to %u client(s) and closing", si.ssi_signo, g_state.n);
			fg_cp_goodbye_all(&g_state);
		} else if (si.ssi_signo == SIGUSR2) {
			fg_info(TAG, "SIGUSR2: detaching; the data plane keeps serving every client");
		} else {
			continue;
		}
		fg_portal_close(g_portal, closed_done, NULL);
	}
}

static const struct fg_watch_ops sig_ops = {
	.readable = on_signal,
};

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
		"Run as root, it drops to FASTGATE_USER (default fastgate) once its sockets are open.\n");
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

int main(int argc, char **argv)
{
	const char *dp_path = "/var/run/fastgate/tun-firezone.ctl", *ctl_path = "/var/run/fastgate/controlplane.sock";
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	bool allow_root = env_allows_root();
	const char *ca_file = getenv("FASTGATE_CA_FILE");
	char err[512];

	fg_log_init();
	if (!rest)
		return 1;
	/* Our own options out; the Firezone gateway's options and the token go to login.c. */
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("fastgate-controlplane %s\n", FG_VERSION);
			return 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
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
	check_root(allow_root);
	if (sodium_init() < 0)
		fg_fatal(TAG, "libsodium failed to initialise");
	if (fg_login_load(&g_login, nrest, rest, env, err, sizeof(err)) < 0)
		fg_fatal(TAG, "%s", err);
	free(rest);
	/* login.c holds its own (wiped) copy of the token; children need none. */
	unsetenv("FIREZONE_TOKEN");
	g_started = (uint64_t)time(NULL);
	lws_set_log_level(LLL_ERR, NULL);

	struct lws_protocols protocols[3];
	memset(protocols, 0, sizeof(protocols));
	protocols[0] = *fg_portal_protocol();
	protocols[1] = fg_loop_protocol;
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.fd_limit_per_thread = 1024;
	/* wss: OpenSSL's default paths (the system store, SSL_CERT_FILE / SSL_CERT_DIR) always;
	 * lws adds the private CA file to them. Peer and host name checks stay on. */
	if (ca_file && *ca_file) {
		check_ca_file(ca_file);
		info.client_ssl_ca_filepath = ca_file;
	}
	g_ctx = lws_create_context(&info);
	if (!g_ctx)
		fg_fatal(TAG, "libwebsockets context could not be created");
	info.vhost_name = "default";
	struct lws_vhost *vh = lws_create_vhost(g_ctx, &info);
	if (!vh)
		fg_fatal(TAG, "libwebsockets vhost could not be created");
	fg_loop_init(g_ctx, vh);

	/* The data plane's key is the one the portal must know: wait for it briefly. This is the
	 * one wait on the data plane (HELLO, bounded), before the loop runs; everything after it
	 * is asynchronous. */
	fg_dpc_init(&g_dpc, dp_path);
	fg_cp_state_init(&g_state, &g_dpc);
	for (int i = 0; i < 100 && fg_dpc_connect(&g_dpc) < 0; i++) {
		struct timespec ts = { 0, 100000000 };

		if (i == 0)
			fg_info(TAG, "waiting for the data plane at %s", dp_path);
		nanosleep(&ts, NULL);
	}
	if (!fg_dpc_connected(&g_dpc))
		fg_fatal(TAG, "cannot reach the data plane's control socket %s: %s", dp_path, g_dpc.last_error);
	fg_info(TAG, "connected to the data plane %s (tun %s)", g_dpc.hello.version, g_dpc.hello.tun_name);
	g_dpc.wake = dp_wake;
	g_dpreq_timer.fn = dp_expire;
	dp_watch();
	fg_cp_sync(&g_state);
	g_dp_timer.fn = dp_try;

	int r = fg_ctlsock_start(ctl_path, &provider, NULL);
	if (r < 0)
		fg_fatal(TAG, "fastgatectl socket %s: %s", ctl_path, strerror(-r));
	if (g_login.health_addr[0])
		fg_health_start(g_ctx, g_login.health_addr);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	g_sigw = fg_loop_watch(g_sigfd, &sig_ops, NULL);

	drop_privileges(allow_root);

	struct fg_portal_cbs cbs = { .message = portal_message, .joined = portal_joined, .fatal = portal_fatal };
	g_portal = fg_portal_create(g_ctx, &g_login, g_dpc.hello.public_key, &cbs, NULL);
	if (!g_portal)
		fg_fatal(TAG, "%s", errno == EMSGSIZE ? "FIREZONE_TOKEN: too long for the X-Authorization header" :
			 errno == ENOMEM ? "portal: out of memory" : "FIREZONE_API_URL: cannot build the portal URL");
	g_gw.state = &g_state;
	g_gw.portal = g_portal;
	fg_portal_start(g_portal);

	while (!g_stopping)
		if (lws_service(g_ctx, 0) < 0)
			break;

	/* The Goodbyes of SIGTERM are queued: let the data plane take them (bounded). */
	fg_dpc_drain(&g_dpc, FG_DPC_TIMEOUT_MS);
	fg_dpc_close(&g_dpc); /* what is left completes now, while its owners still exist */
	fg_ctlsock_stop();
	fg_portal_free(g_portal);
	lws_context_destroy(g_ctx);
	fg_cp_state_free(&g_state);
	fg_dpc_close(&g_dpc);
	fg_login_free(&g_login);
	fg_info(TAG, "stopped");
	return g_exit_code;
}
