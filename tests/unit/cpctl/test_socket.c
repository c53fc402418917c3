// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the fastgatectl socket end to end, in one process: the server side
 * (cpctl_server.c) runs in a thread with a fake provider (fake_server.c), and fastgatectl's
 * client code or raw sockets talk to it. Covers the daemon not running, permissions, the
 * listening socket's mode and its stale/live/foreign-file cases, 16+ concurrent
 * connections, a 10,000-peer response, requests split across writes or sharing one,
 * pipelining behind a large response, over-long lines, half-close, clients that leave
 * mid-response, and the client's timeout and truncated answers. Built with ASan and UBSan.
 */
#include "ctl_client.h"
#include "cpctl_server.h"
#include "fake_server.h"
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum {
	BIG_PEERS = 10000,
	NOBODY = 65534,
};

static const char BUSY_LINE[] = "{\"error\":\"too many connections (limit 16)\"}";
static const char LONG_LINE[] = "{\"error\":\"request line too long (limit 4096 bytes)\"}";
static const char RELAYS_LINE[] = "{\"relays\":[]}";

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void expect_line(int fd, const char *want)
{
	char *got = fs_line(fd);

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  got  %.200s\n  want %.200s\n", got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void expect_error(const char *path, const char *cmd, int timeout_ms, int want, const char *msg)
{
	char err[FG_CPCTL_ERRLEN] = "", *line = (char *)1;
	size_t len = 7;
	int r = fg_ctl_client_request(path, cmd, timeout_ms, &line, &len, err, sizeof(err));

	CU_ASSERT_EQUAL(r, want);
	CU_ASSERT_PTR_NULL(line);
	CU_ASSERT_EQUAL(len, 0);
	if (strcmp(err, msg) != 0)
		fprintf(stderr, "\n  got  %s\n  want %s\n", err, msg);
	CU_ASSERT_STRING_EQUAL(err, msg);
}

/* ---- no server ---------------------------------------------------------------------------- */

static void test_not_running(void)
{
	char msg[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(msg, sizeof(msg),
		 "cannot connect to %s: No such file or directory (is fastgate-controlplane running?)",
		 fs_path);
	expect_error(fs_path, "status", FG_CPCTL_TIMEOUT_MS, -ENOENT, msg);

	/* a socket file nobody listens on: what a crashed control plane leaves */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fs_path);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	snprintf(msg, sizeof(msg),
		 "cannot connect to %s: Connection refused (is fastgate-controlplane running?)", fs_path);
	expect_error(fs_path, "status", FG_CPCTL_TIMEOUT_MS, -ECONNREFUSED, msg);
	unlink(fs_path);

	expect_error("/tmp/x/0123456789012345678901234567890123456789012345678901234567890123456789"
		     "012345678901234567890123456789012345678901234567890123456789.sock",
		     "status", FG_CPCTL_TIMEOUT_MS, -ENAMETOOLONG,
		     "cannot connect to /tmp/x/0123456789012345678901234567890123456789012345678901234567890"
		     "123456789012345678901234567890123456789012345678901234567890123456789.sock: File "
		     "name too long");
}

/* A client without the socket's group gets EACCES and a message that says what to do. */
static void test_permission(void)
{
	char msg[512], got[FG_CPCTL_ERRLEN + 16] = "";
	int lfd = fg_cpctl_server_listen(fs_path), pfd[2], status, r = 0;
	pid_t pid;

	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	if (geteuid() != 0)
		CU_ASSERT_EQUAL(chmod(fs_path, 0), 0);
	CU_ASSERT_EQUAL(chmod(fs_dir, 0755), 0);
	/* No thread runs here, so the child may use anything. */
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char err[FG_CPCTL_ERRLEN] = "", *line = NULL;
		size_t len;
		int rc;

		if (geteuid() == 0 && (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
			_exit(2);
		rc = fg_ctl_client_request(fs_path, "status", 1000, &line, &len, err, sizeof(err));
		dprintf(pfd[1], "%d %s", rc, err);
		_exit(0);
	}
	close(pfd[1]);
	waitpid(pid, &status, 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(read(pfd[0], got, sizeof(got) - 1) > 0);
	close(pfd[0]);
	snprintf(msg, sizeof(msg),
		 "%d cannot connect to %s: Permission denied (run as root or as a member of the "
		 "socket's group)", -EACCES, fs_path);
	CU_ASSERT_STRING_EQUAL(got, msg);
	(void)r;
	close(lfd);
	unlink(fs_path);
	chmod(fs_dir, 0700);
}

/* ---- the listening socket --------------------------------------------------------------- */

static void test_listen(void)
{
	char nested[128], longpath[200];
	struct stat st;
	int fd, fd2, c;
	FILE *f;

	fd = fg_cpctl_server_listen(fs_path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(lstat(fs_path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	CU_ASSERT(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* a live server is refused, and keeps its socket */
	CU_ASSERT_EQUAL(fg_cpctl_server_listen(fs_path), -EADDRINUSE);
	c = fs_connect(fs_path);
	close(c);

	/* closed without unlinking: stale, replaced */
	close(fd);
	fd2 = fg_cpctl_server_listen(fs_path);
	CU_ASSERT(fd2 >= 0);
	c = fs_connect(fs_path);
	close(c);
	close(fd2);
	unlink(fs_path);

	/* something that is not a socket is never deleted */
	f = fopen(fs_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("precious", f);
	fclose(f);
	CU_ASSERT_EQUAL(fg_cpctl_server_listen(fs_path), -EEXIST);
	CU_ASSERT_EQUAL(stat(fs_path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 8);
	unlink(fs_path);

	/* the socket's directory is created when missing */
	snprintf(nested, sizeof(nested), "%s/run/x.sock", fs_dir);
	fd = fg_cpctl_server_listen(nested);
	CU_ASSERT(fd >= 0);
	close(fd);
	unlink(nested);
	snprintf(nested, sizeof(nested), "%s/run", fs_dir);
	CU_ASSERT_EQUAL(rmdir(nested), 0);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	CU_ASSERT_EQUAL(fg_cpctl_server_listen(longpath), -ENAMETOOLONG);
	CU_ASSERT_EQUAL(fg_cpctl_server_listen(""), -EINVAL);
	CU_ASSERT_EQUAL(fg_cpctl_server_listen(NULL), -EINVAL);
}

/* ---- requests and responses ------------------------------------------------------------------ */

static void test_round_trip(void)
{
	char err[FG_CPCTL_ERRLEN];
	cJSON *j;
	char *line;

	fs_server_start();
	line = fs_ask("status", 0);
	CU_ASSERT_STRING_EQUAL(line, fs_status_line);
	CU_ASSERT_EQUAL(fg_ctl_client_parse(line, strlen(line), &j, err, sizeof(err)), 0);
	cJSON_Delete(j);
	free(line);

	line = fs_ask("relays", 0);
	CU_ASSERT_STRING_EQUAL(line, RELAYS_LINE);
	free(line);

	atomic_store(&fs_stats_calls, 0);
	line = fs_ask("stats", 0);
	CU_ASSERT_STRING_EQUAL(line, "{\"error\":\"stats unavailable\"}");
	CU_ASSERT_EQUAL(atomic_load(&fs_stats_calls), 1);
	CU_ASSERT_EQUAL(fg_ctl_client_parse(line, strlen(line), &j, err, sizeof(err)), -EREMOTEIO);
	CU_ASSERT_STRING_EQUAL(err, "error from fastgate-controlplane: stats unavailable");
	cJSON_Delete(j);
	free(line);

	line = fs_ask("bogus", 0);
	CU_ASSERT_STRING_EQUAL(line, "{\"error\":\"unknown command 'bogus'\"}");
	free(line);
	CU_ASSERT(fs_server_idle());
	fs_server_stop();
}

static void test_big_response(void)
{
	char err[FG_CPCTL_ERRLEN], *out = NULL;
	const cJSON *peers, *last;
	size_t len = 0, lines = 0;
	cJSON *j;
	char *line;
	FILE *f;

	atomic_store(&fs_npeers, BIG_PEERS);
	fs_server_start();
	line = fs_ask("peers", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	CU_ASSERT(strlen(line) > 1000000);
	CU_ASSERT_EQUAL_FATAL(fg_ctl_client_parse(line, strlen(line), &j, err, sizeof(err)), 0);
	peers = cJSON_GetObjectItemCaseSensitive(j, "peers");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(peers), BIG_PEERS);
	last = cJSON_GetArrayItem(peers, BIG_PEERS - 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItemCaseSensitive(last, "client_id")->valuestring,
			       "client-09999");
	f = open_memstream(&out, &len);
	CU_ASSERT_EQUAL(fg_render("peers", j, 1800000000, f), 0);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		lines += out[i] == '\n';
	CU_ASSERT_EQUAL(lines, BIG_PEERS + 1);
	free(out);
	cJSON_Delete(j);
	free(line);
	fs_server_stop();
	atomic_store(&fs_npeers, 2);
}

static void test_concurrent(void)
{
	static const char req_status[] = "{\"cmd\":\"status\"}\n", req_peers[] = "{\"cmd\":\"peers\"}\n";
	int fds[FG_CPCTL_MAX_CONNS], extra;
	char err[FG_CPCTL_ERRLEN];
	cJSON *j;
	char *line;

	fs_server_start();
	for (int i = 0; i < FG_CPCTL_MAX_CONNS; i++)
		fds[i] = fs_connect(fs_path);
	/* the 17th is told why and closed */
	extra = fs_connect(fs_path);
	expect_line(extra, BUSY_LINE);
	CU_ASSERT(fs_closed(extra));
	close(extra);
	line = fs_ask("status", 0);
	CU_ASSERT_STRING_EQUAL(line, BUSY_LINE);
	CU_ASSERT_EQUAL(fg_ctl_client_parse(line, strlen(line), &j, err, sizeof(err)), -EREMOTEIO);
	CU_ASSERT_STRING_EQUAL(err, "error from fastgate-controlplane: too many connections (limit 16)");
	cJSON_Delete(j);
	free(line);

	/* all 16 ask at once, then read */
	for (int i = 0; i < FG_CPCTL_MAX_CONNS; i++)
		fs_send(fds[i], req_status, sizeof(req_status) - 1);
	for (int i = 0; i < FG_CPCTL_MAX_CONNS; i++)
		expect_line(fds[i], fs_status_line);
	/* 16 large answers in flight together */
	atomic_store(&fs_npeers, BIG_PEERS);
	for (int i = 0; i < FG_CPCTL_MAX_CONNS; i++)
		fs_send(fds[i], req_peers, sizeof(req_peers) - 1);
	for (int i = FG_CPCTL_MAX_CONNS; i-- > 0;) {
		line = fs_line(fds[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		CU_ASSERT_EQUAL(fg_ctl_client_parse(line, strlen(line), &j, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "peers")), BIG_PEERS);
		cJSON_Delete(j);
		free(line);
	}
	atomic_store(&fs_npeers, 2);
	for (int i = 0; i < FG_CPCTL_MAX_CONNS; i++)
		close(fds[i]);
	/* every slot comes back */
	CU_ASSERT(fs_server_idle());
	fs_server_stop();
}

static void test_split_request(void)
{
	static const char *const parts[] = { "{\"cm", "d\":\"sta", "tus\"", "}", "\n" };
	char big[FG_CPCTL_MAX_LINE + 1];
	int fd;

	fs_server_start();
	fd = fs_connect(fs_path);
	for (size_t i = 0; i < N(parts); i++) {
		fs_send(fd, parts[i], strlen(parts[i]));
		usleep(20000);
	}
	expect_line(fd, fs_status_line);

	/* the longest line allowed, one byte per write */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"cmd\":\"relays\"", 15);
	big[FG_CPCTL_MAX_LINE - 1] = '}';
	big[FG_CPCTL_MAX_LINE] = '\n';
	for (size_t i = 0; i < sizeof(big); i++)
		fs_send(fd, big + i, 1);
	expect_line(fd, RELAYS_LINE);
	close(fd);
	fs_server_stop();
}

static void test_many_in_one_write(void)
{
	static const char three[] = "{\"cmd\":\"status\"}\n{\"cmd\":\"relays\"}\n{\"cmd\":\"nope\"}\n";
	static const char one[] = "{\"cmd\":\"relays\"}\n";
	static const char pipelined[] = "{\"cmd\":\"peers\"}\n{\"cmd\":\"status\"}\n";
	char many[sizeof(one) * 100];
	char err[FG_CPCTL_ERRLEN];
	cJSON *j;
	char *line;
	int fd;

	fs_server_start();
	fd = fs_connect(fs_path);
	fs_send(fd, three, sizeof(three) - 1);
	expect_line(fd, fs_status_line);
	expect_line(fd, RELAYS_LINE);
	expect_line(fd, "{\"error\":\"unknown command 'nope'\"}");

	for (int i = 0; i < 100; i++)
		memcpy(many + i * (sizeof(one) - 1), one, sizeof(one) - 1);
	fs_send(fd, many, 100 * (sizeof(one) - 1));
	for (int i = 0; i < 100; i++)
		expect_line(fd, RELAYS_LINE);

	/* the second request waits behind a response the socket cannot take at once */
	atomic_store(&fs_npeers, BIG_PEERS);
	fs_send(fd, pipelined, sizeof(pipelined) - 1);
	usleep(100000);
	line = fs_line(fd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	CU_ASSERT_EQUAL(fg_ctl_client_parse(line, strlen(line), &j, err, sizeof(err)), 0);
	cJSON_Delete(j);
	free(line);
	expect_line(fd, fs_status_line);
	atomic_store(&fs_npeers, 2);
	close(fd);
	fs_server_stop();
}

static void test_bad_lines(void)
{
	static const char blanks[] = "\n\r\n  \t\n{\"cmd\":\"status\"}\r\n";
	char big[FG_CPCTL_MAX_LINE + 2];
	int fd;

	fs_server_start();
	/* malformed: answered, and the connection stays */
	fd = fs_connect(fs_path);
	fs_send(fd, "garbage\n", 8);
	expect_line(fd, "{\"error\":\"malformed request: not JSON\"}");
	fs_send(fd, "{\"cmd\":\"st\0atus\"}\n", 18);
	expect_line(fd, "{\"error\":\"malformed request: NUL byte\"}");
	/* blank lines get no answer at all */
	fs_send(fd, blanks, sizeof(blanks) - 1);
	expect_line(fd, fs_status_line);
	fs_send(fd, "{\"cmd\":\"relays\"}\n", 17);
	expect_line(fd, RELAYS_LINE);
	close(fd);

	/* one byte over the limit: an error, then the server hangs up */
	fd = fs_connect(fs_path);
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"cmd\":\"relays\"", 15);
	big[FG_CPCTL_MAX_LINE] = '}';
	big[FG_CPCTL_MAX_LINE + 1] = '\n';
	fs_send(fd, big, sizeof(big));
	expect_line(fd, LONG_LINE);
	CU_ASSERT(fs_closed(fd));
	close(fd);

	/* a flood without a newline */
	fd = fs_connect(fs_path);
	{
		char *flood = malloc(100000);

		memset(flood, 'x', 100000);
		send(fd, flood, 100000, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(flood);
	}
	expect_line(fd, LONG_LINE);
	CU_ASSERT(fs_closed(fd));
	close(fd);

	/* The client's own write breaks (the server hung up mid-request): it still reads the
	 * answer that explains why. */
	{
		char *huge = malloc(500001), *line;

		memset(huge, 'x', 500000);
		huge[500000] = '\0';
		line = fs_ask(huge, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		CU_ASSERT_STRING_EQUAL(line, LONG_LINE);
		free(line);
		free(huge);
	}
	CU_ASSERT(fs_server_idle());
	fs_server_stop();
}

static void test_half_close(void)
{
	static const char two[] = "{\"cmd\":\"status\"}\n{\"cmd\":\"relays\"}\n";
	int fd;

	fs_server_start();
	/* the last line may lack its newline when the client shuts its side */
	fd = fs_connect(fs_path);
	fs_send(fd, "{\"cmd\":\"status\"}", 16);
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	expect_line(fd, fs_status_line);
	CU_ASSERT(fs_closed(fd));
	close(fd);

	fd = fs_connect(fs_path);
	fs_send(fd, two, sizeof(two) - 1);
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	expect_line(fd, fs_status_line);
	expect_line(fd, RELAYS_LINE);
	CU_ASSERT(fs_closed(fd));
	close(fd);

	/* a large answer after the shutdown still arrives whole */
	atomic_store(&fs_npeers, BIG_PEERS);
	fd = fs_connect(fs_path);
	fs_send(fd, "{\"cmd\":\"peers\"}\n", 16);
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	{
		char *line = fs_line(fd);

		CU_ASSERT_PTR_NOT_NULL(line);
		CU_ASSERT(line && strlen(line) > 1000000);
		free(line);
	}
	CU_ASSERT(fs_closed(fd));
	close(fd);
	atomic_store(&fs_npeers, 2);
	CU_ASSERT(fs_server_idle());
	fs_server_stop();
}

static void test_leave_mid_response(void)
{
	char buf[1000];
	char *line;

	atomic_store(&fs_npeers, BIG_PEERS);
	fs_server_start();
	for (int i = 0; i < 8; i++) {
		int fd = fs_connect(fs_path);

		fs_send(fd, "{\"cmd\":\"peers\"}\n", 16);
		if (i % 2)   /* read a little first, or leave at once */
			CU_ASSERT(recv(fd, buf, sizeof(buf), MSG_WAITALL) == (ssize_t)sizeof(buf));
		close(fd);
	}
	CU_ASSERT(fs_server_idle());
	line = fs_ask("status", 0);
	CU_ASSERT_STRING_EQUAL(line, fs_status_line);
	free(line);
	fs_server_stop();
	atomic_store(&fs_npeers, 2);
}

/* A client that pipelines without reading meets back-pressure: the server answers one
 * request at a time and stops reading once its line buffer is full, so the requests it
 * has answered are bounded by what the client's socket can buffer, however many wait. */
static void test_backpressure(void)
{
	static const char req[] = "{\"cmd\":\"status\"}\n", partial_err[] =
		"{\"error\":\"malformed request: not JSON\"}\n";
	enum { REQ = sizeof(req) - 1, PER_CHUNK = 3855, MAX_SENT = 64 << 20 };
	char *chunk = malloc(REQ * PER_CHUNK), buf[65536];
	size_t sent = 0, got = 0, want;
	int fd, fl, answered;

	CU_ASSERT_PTR_NOT_NULL_FATAL(chunk);
	for (int i = 0; i < PER_CHUNK; i++)
		memcpy(chunk + i * REQ, req, REQ);
	fs_server_start();
	atomic_store(&fs_status_calls, 0);
	fd = fs_connect(fs_path);
	fl = fcntl(fd, F_GETFL);
	CU_ASSERT_EQUAL(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
	/* Send until the server has stopped taking anything for 300 ms. */
	for (int idle = 0; sent < MAX_SENT && idle < 60;) {
		ssize_t w = send(fd, chunk + sent % REQ, REQ * PER_CHUNK - sent % REQ, MSG_NOSIGNAL);

		if (w > 0) {
			sent += (size_t)w;
			idle = 0;
			continue;
		}
		CU_ASSERT_FATAL(w < 0 && errno == EAGAIN);
		usleep(5000);
		idle++;
	}
	answered = atomic_load(&fs_status_calls);
	/* The client pipelined thousands (its socket buffer's worth, ~13,000 here)... */
	CU_ASSERT(sent / REQ > 5000);
	/* ...and the server answered only what the socket to the client holds (~170 here). */
	CU_ASSERT(answered < 1000);
	CU_ASSERT(sent < MAX_SENT);
	/* Now read: every request is answered in order (a cut last one as malformed). */
	CU_ASSERT_EQUAL(fcntl(fd, F_SETFL, fl), 0);
	shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	want = sent / REQ * (strlen(fs_status_line) + 1) + (sent % REQ ? sizeof(partial_err) - 1 : 0);
	CU_ASSERT_EQUAL(got, want);
	close(fd);
	free(chunk);
	CU_ASSERT(fs_server_idle());
	fs_server_stop();
}

/* ---- the client against servers that misbehave ------------------------------------------------ */

static void test_client_timeout(void)
{
	char msg[512];
	int64_t t0;

	fs_canned_start(NULL, 0);   /* reads the request, never answers */
	snprintf(msg, sizeof(msg), "no response from %s within 300 ms (is fastgate-controlplane stuck?)",
		 fs_path);
	t0 = now_ms();
	expect_error(fs_path, "status", 300, -ETIMEDOUT, msg);
	CU_ASSERT(now_ms() - t0 >= 290);
	CU_ASSERT(now_ms() - t0 < 2000);
	fs_canned_stop();
}

static void test_client_truncated(void)
{
	char msg[512];
	char *line;

	fs_canned_start("{\"peers\":[", 10);
	snprintf(msg, sizeof(msg), "truncated response from %s (10 bytes without a newline)", fs_path);
	expect_error(fs_path, "peers", 2000, -EPROTO, msg);
	fs_canned_stop();

	fs_canned_start("", 0);
	snprintf(msg, sizeof(msg), "%s closed the connection without a response", fs_path);
	expect_error(fs_path, "peers", 2000, -EPROTO, msg);
	fs_canned_stop();

	/* only the first line counts */
	fs_canned_start("{}\n{\"x\":1}\n", 11);
	line = fs_ask("status", 0);
	CU_ASSERT_STRING_EQUAL(line, "{}");
	free(line);
	fs_canned_stop();
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "not running", test_not_running },
		{ "permission denied", test_permission },
		{ "listen", test_listen },
		{ "round trip", test_round_trip },
		{ "10,000 peers", test_big_response },
		{ "16+ concurrent connections", test_concurrent },
		{ "request split across writes", test_split_request },
		{ "requests in one write", test_many_in_one_write },
		{ "malformed, blank and over-long lines", test_bad_lines },
		{ "half-close", test_half_close },
		{ "client leaves mid-response", test_leave_mid_response },
		{ "back-pressure", test_backpressure },
		{ "client timeout", test_client_timeout },
		{ "client truncated response", test_client_truncated },
	};
	int ret;

	if (fs_setup() < 0)
		return 1;
	ret = fg_cunit_run("cpctl_socket", tests, N(tests));
	fs_teardown();
	return ret;
}
