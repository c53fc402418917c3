// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the fastgatectl command itself (argv[1] is the binary): it is run as a
 * child process against the fake control plane (fake_server.c) and canned servers, and its
 * stdout, stderr and exit status are checked exactly: --version, usage errors, the daemon
 * not running (default path, $FASTGATE_CTL_SOCKET, --socket), permission denied, the 5 s
 * timeout, malformed responses, server error objects, human tables, and --json printing
 * the server's line byte for byte. The server threads own the cpctl_server module.
 */
#include "fake_server.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "cpctl_server.h"
#include "../cunit_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum {
	BIG_PEERS = 10000,
	NOBODY = 65534,
	MAX_ARGS = 8,
};

static const char *ctl_bin;

struct run {
	int rc;          /* exit status; -1 when it did not exit */
	char *out;       /* stdout, NUL-terminated */
	size_t out_len;
	char *err;       /* stderr, NUL-terminated */
	int64_t ms;      /* wall time */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Runs fastgatectl with args (NULL-terminated) and, if env_socket, $FASTGATE_CTL_SOCKET.
 * as_nobody: drops to uid/gid 65534 first (when root). Everything the child does between
 * fork and exec is a plain system call: the server thread may hold locks. */
static struct run run(const char *const *args, const char *env_socket, bool as_nobody)
{
	char envsock[256];
	char *argv[MAX_ARGS + 2], *envp[3] = { "PATH=/usr/bin:/bin", NULL, NULL };
	int po[2], pe[2], status;
	struct run r = { .rc = -1 };
	size_t err_len = 0, n = 0;
	int64_t t0 = now_ms();
	pid_t pid;

	argv[n++] = (char *)ctl_bin;
	for (; args[n - 1] && n <= MAX_ARGS; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	if (env_socket) {
		snprintf(envsock, sizeof(envsock), "FASTGATE_CTL_SOCKET=%s", env_socket);
		envp[1] = envsock;
	}
	r.out = calloc(1, 1);
	r.err = calloc(1, 1);
	CU_ASSERT_FATAL(pipe(po) == 0 && pipe(pe) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		if (as_nobody && geteuid() == 0 && (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
			_exit(126);
		execve(ctl_bin, argv, envp);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	for (int open = 2; open;) {
		struct pollfd pf[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
		char buf[65536];

		open = 0;
		if (poll(pf, 2, 10000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t got = 0;

			if (pf[i].fd < 0)
				continue;
			if (pf[i].revents)
				got = read(pf[i].fd, buf, sizeof(buf));
			if (pf[i].revents && got <= 0) {
				close(pf[i].fd);
				(i ? pe : po)[0] = -1;
				continue;
			}
			open++;
			if (got > 0) {
				if (i)
					append(&r.err, &err_len, buf, (size_t)got);
				else
					append(&r.out, &r.out_len, buf, (size_t)got);
			}
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status))
		r.rc = WEXITSTATUS(status);
	r.ms = now_ms() - t0;
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Runs and checks the exit status and both outputs exactly (NULL: not checked). */
static void expect(const char *const *args, const char *env_socket, int rc, const char *out,
		   const char *err)
{
	struct run r = run(args, env_socket, false);

	if (r.rc != rc || (out && strcmp(r.out, out)) || (err && strcmp(r.err, err)))
		fprintf(stderr, "\n  %s ...: rc %d\n  stdout: %.300s\n  stderr: %s\n", args[0], r.rc,
			r.out, r.err);
	CU_ASSERT_EQUAL(r.rc, rc);
	if (out)
		CU_ASSERT_STRING_EQUAL(r.out, out);
	if (err)
		CU_ASSERT_STRING_EQUAL(r.err, err);
	run_free(&r);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_usage(void)
{
	struct run r;

	expect(ARGS("--version"), NULL, 0, "fastgatectl " FG_VERSION "\n", "");
	expect(ARGS("bogus"), fs_path, 1, "", "fastgatectl: unknown command 'bogus' (see 'fastgatectl help')\n");
	expect(ARGS("--frob", "status"), fs_path, 1, "",
	       "fastgatectl: unknown option '--frob' (see 'fastgatectl help')\n");
	expect(ARGS("status", "peers"), fs_path, 1, "",
	       "fastgatectl: unexpected argument 'peers' after 'status'\n");
	expect(ARGS("status", "--socket"), NULL, 1, "", "fastgatectl: '--socket' needs a path\n");
	expect(ARGS("--socket=", "status"), NULL, 1, "", "fastgatectl: the socket path is empty\n");

	r = run(ARGS("help"), NULL, false);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_NSTRING_EQUAL(r.out, "Usage: fastgatectl [--socket PATH] [--json] COMMAND\n", 52);
	for (const char *c = "status\0peers\0resources\0relays\0ice\0stats\0nat\0"; *c; c += strlen(c) + 1)
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, c));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, FG_CPCTL_DEFAULT_PATH));
	CU_ASSERT_STRING_EQUAL(r.err, "");
	run_free(&r);
	r = run(ARGS("--help"), NULL, false);
	CU_ASSERT_EQUAL(r.rc, 0);
	run_free(&r);
	r = run((const char *const[]){ NULL }, NULL, false);
	CU_ASSERT_EQUAL(r.rc, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_NSTRING_EQUAL(r.err, "Usage: fastgatectl", 18);
	run_free(&r);
}

static void test_not_running(void)
{
	char msg[512];
	struct stat st;

	snprintf(msg, sizeof(msg),
		 "fastgatectl: cannot connect to %s: No such file or directory (is fastgate-controlplane "
		 "running?)\n", fs_path);
	expect(ARGS("--socket", fs_path, "status"), NULL, 1, "", msg);
	expect(ARGS("peers", "--json"), fs_path, 1, "", msg);            /* $FASTGATE_CTL_SOCKET */
	expect(ARGS("--json", "--socket=/nonexistent/x.sock", "stats"), fs_path, 1, "",
	       "fastgatectl: cannot connect to /nonexistent/x.sock: No such file or directory (is "
	       "fastgate-controlplane running?)\n");                     /* --socket wins */
	/* the default path, unless a control plane really runs on this machine */
	if (stat(FG_CPCTL_DEFAULT_PATH, &st) < 0)
		expect(ARGS("status"), NULL, 1, "",
		       "fastgatectl: cannot connect to /var/run/fastgate/controlplane.sock: No such file "
		       "or directory (is fastgate-controlplane running?)\n");
}

static void test_permission(void)
{
	char msg[512];
	struct run r;
	int lfd;

	if (geteuid() != 0) {
		fprintf(stderr, "(not root: permission case left to test_socket) ");
		return;
	}
	lfd = fg_cpctl_server_listen(fs_path);
	CU_ASSERT_FATAL(lfd >= 0);
	chmod(fs_dir, 0755);
	r = run(ARGS("--socket", fs_path, "status"), NULL, true);
	if (r.rc == 127 || r.rc == 126) {
		fprintf(stderr, "(nobody cannot run %s here: skipped) ", ctl_bin);
	} else {
		snprintf(msg, sizeof(msg),
			 "fastgatectl: cannot connect to %s: Permission denied (run as root or as a member "
			 "of the socket's group)\n", fs_path);
		CU_ASSERT_EQUAL(r.rc, 1);
		CU_ASSERT_STRING_EQUAL(r.err, msg);
	}
	run_free(&r);
	chmod(fs_dir, 0700);
	close(lfd);
	unlink(fs_path);
}

static void test_json(void)
{
	char want[1024];
	struct run r;

	fs_server_start();
	snprintf(want, sizeof(want), "%s\n", fs_status_line);
	expect(ARGS("--json", "status"), fs_path, 0, want, "");
	expect(ARGS("--socket", fs_path, "relays", "--json"), NULL, 0, "{\"relays\":[]}\n", "");
	expect(ARGS("--json", "ice"), fs_path, 0,
	       "{\"agents\":[],\"host4\":null,\"host6\":null,\"counters\":{\"packets_in\":0}}\n", "");
	/* an error object: still printed for scripts, and exit status 1 */
	expect(ARGS("--json", "stats"), fs_path, 1, "{\"error\":\"stats unavailable\"}\n",
	       "fastgatectl: error from fastgate-controlplane: stats unavailable\n");
	expect(ARGS("stats"), fs_path, 1, "",
	       "fastgatectl: error from fastgate-controlplane: stats unavailable\n");
	snprintf(want, sizeof(want), "%s\n", fs_nat_line);
	expect(ARGS("--json", "nat"), fs_path, 0, want, "");

	atomic_store(&fs_npeers, BIG_PEERS);
	r = run(ARGS("--json", "peers"), fs_path, false);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT(r.out_len > 1000000 && r.out[r.out_len - 1] == '\n');
	CU_ASSERT_PTR_NULL(memchr(r.out, '\n', r.out_len - 1));
	{
		cJSON *j = cJSON_Parse(r.out);

		CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "peers")), BIG_PEERS);
		cJSON_Delete(j);
	}
	run_free(&r);
	atomic_store(&fs_npeers, 2);
	fs_server_stop();
}

static void test_human(void)
{
	struct run r;
	size_t lines = 0;

	fs_server_start();
	expect(ARGS("status"), fs_path, 0,
	       "version:  0.1.0\n"
	       "uptime:   12 seconds\n"
	       "\n"
	       "portal\n"
	       "  state:            connected\n"
	       "  url:              wss://portal.test/gateway/v2/websocket\n"
	       "  connected since:  -\n"
	       "  reconnects:       0\n"
	       "  last error:       none\n"
	       "\n"
	       "data plane\n"
	       "  connected:    yes\n"
	       "  version:      -\n"
	       "  tun:          -\n"
	       "  public key:   -\n"
	       "  listen port:  -\n"
	       "  peers:        -\n"
	       "  workers:      -\n",
	       "");
	expect(ARGS("relays"), fs_path, 0, "no relays\n", "");
	expect(ARGS("ice"), fs_path, 0,
	       "no ICE agents\n"
	       "\n"
	       "host IPv4:  -\n"
	       "host IPv6:  -\n"
	       "counters:   all zero\n",
	       "");
	expect(ARGS("resources"), fs_path, 0, "no resources\n", "");
	expect(ARGS("nat"), fs_path, 0,
	       "client c1, key ERERERERERERERERERERERERERERERERERERERERERE=\n"
	       "  DOMAIN           RESOURCE  PROXY IP                REAL IP\n"
	       "  app.example.com  r1        100.96.0.1              198.51.100.1\n"
	       "                             fd00:2021:1111:8000::1  unreachable\n"
	       "\n"
	       "tuples unavailable: the data plane does not answer NAT_DUMP (not a request)\n",
	       "");

	atomic_store(&fs_npeers, BIG_PEERS);
	r = run(ARGS("peers"), fs_path, false);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(r.err, "");
	for (size_t i = 0; i < r.out_len; i++)
		lines += r.out[i] == '\n';
	CU_ASSERT_EQUAL(lines, BIG_PEERS + 1);
	CU_ASSERT_NSTRING_EQUAL(r.out, "CLIENT        PUBLIC KEY", 24);
	run_free(&r);
	atomic_store(&fs_npeers, 2);
	fs_server_stop();
}

static void test_bad_server(void)
{
	static const struct {
		const char *cmd;
		const char *reply;
		const char *why;
	} cases[] = {
		{ "status", "garbage\n", "not JSON" },
		{ "status", "[1,2]\n", "not a JSON object" },
		{ "status", "{} {}\n", "bytes after the JSON value" },
		{ "peers", "{\"peers\":5}\n", "no \"peers\" list" },
		{ "relays", "{}\n", "no \"relays\" list" },
		{ "ice", "{\"agents\":5}\n", "no \"agents\" list" },
		{ "nat", "{\"tuples_available\":true}\n", "no \"clients\" list" },
	};
	char msg[512];

	for (size_t i = 0; i < N(cases); i++) {
		fs_canned_start(cases[i].reply, strlen(cases[i].reply));
		snprintf(msg, sizeof(msg), "fastgatectl: malformed response from %s: %s\n", fs_path,
			 cases[i].why);
		expect(ARGS(cases[i].cmd), fs_path, 1, "", msg);
		fs_canned_stop();
	}
	fs_canned_start("{\"peers\":[", 10);
	snprintf(msg, sizeof(msg),
		 "fastgatectl: truncated response from %s (10 bytes without a newline)\n", fs_path);
	expect(ARGS("--json", "peers"), fs_path, 1, "", msg);
	fs_canned_stop();
}

/* stats from a control plane with DNS resources: the data plane's connection table, flows
 * and p2p control, and the control plane's own counters, in tables and as sent. */
static void test_stats_nat(void)
{
	static const char line[] =
		"{\"aead\":\"libsodium\",\"workers\":1,\"peers\":0,\"handshakes\":{},\"drops\":{},\"lcores\":[],"
		"\"nat\":{\"translated_out\":5,\"translated_in\":4,\"icmp_translated\":0,\"created\":2,"
		"\"expired\":1,\"misses\":0,\"live\":1},"
		"\"flows\":{\"started\":3,\"completed\":2,\"live\":1,\"lost\":0},"
		"\"p2p\":{\"in\":7,\"out\":6},"
		"\"dns_resources\":{\"assigned_ips\":7,\"malformed\":0,\"refused\":1,\"resolved\":6,"
		"\"timeouts\":0,\"busy\":0,\"resets\":0,\"active\":6,\"inactive\":1}}\n";

	fs_canned_start(line, strlen(line));
	expect(ARGS("--json", "stats"), fs_path, 0, line, "");
	fs_canned_stop();
	fs_canned_start(line, strlen(line));
	expect(ARGS("stats"), fs_path, 0,
	       "aead:     libsodium\n"
	       "workers:  1\n"
	       "peers:    0\n"
	       "\n"
	       "handshakes\n"
	       "  initiated        ?\n"
	       "  responded        ?\n"
	       "  completed        ?\n"
	       "  cookies sent     ?\n"
	       "  keepalives sent  ?\n"
	       "  roams            ?\n"
	       "\n"
	       "drops: none\n"
	       "\n"
	       "lcores: none\n"
	       "\n"
	       "connection table (NAT)\n"
	       "  translated out          5\n"
	       "  translated in           4\n"
	       "  ICMP errors translated  0\n"
	       "  created                 2\n"
	       "  expired                 1\n"
	       "  misses                  0\n"
	       "  live                    1\n"
	       "\n"
	       "flows\n"
	       "  started    3\n"
	       "  completed  2\n"
	       "  live       1\n"
	       "  lost       0\n"
	       "\n"
	       "p2p control\n"
	       "  in (AssignedIps)    7\n"
	       "  out (DomainStatus)  6\n"
	       "\n"
	       "DNS resources (control plane)\n"
	       "  AssignedIps  7\n"
	       "  malformed    0\n"
	       "  refused      1\n"
	       "  resolved     6\n"
	       "  timeouts     0\n"
	       "  busy         0\n"
	       "  resets       0\n"
	       "  active       6\n"
	       "  inactive     1\n",
	       "");
	fs_canned_stop();
}

/* The real 5 s limit, against a server that reads the request and never answers. */
static void test_timeout(void)
{
	char msg[512];
	struct run r;

	fs_canned_start(NULL, 0);
	r = run(ARGS("status"), fs_path, false);
	snprintf(msg, sizeof(msg),
		 "fastgatectl: no response from %s within 5 s (is fastgate-controlplane stuck?)\n",
		 fs_path);
	CU_ASSERT_EQUAL(r.rc, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_STRING_EQUAL(r.err, msg);
	CU_ASSERT(r.ms >= 4900 && r.ms < 8000);
	run_free(&r);
	fs_canned_stop();
}

int main(int argc, char **argv)
{
	static const struct fg_cunit_test tests[] = {
		{ "usage", test_usage },
		{ "not running", test_not_running },
		{ "permission denied", test_permission },
		{ "--json", test_json },
		{ "human output", test_human },
		{ "malformed responses", test_bad_server },
		{ "stats with the NAT counters", test_stats_nat },
		{ "5 s timeout", test_timeout },
	};
	int ret;

	if (argc != 2 || access(argv[1], X_OK) != 0) {
		fprintf(stderr, "usage: %s PATH_TO_FASTGATECTL\n", argv[0]);
		return 1;
	}
	ctl_bin = argv[1];
	if (fs_setup() < 0)
		return 1;
	ret = fg_cunit_run("cpctl_fastgatectl", tests, N(tests));
	fs_teardown();
	return ret;
}
