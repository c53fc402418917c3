// SPDX-License-Identifier: MIT
/*
 * The fake control plane the socket tests talk to (see fake_server.h): a provider with fixed
 * answers, the server side of cpctl_server.c run by a poll() loop in a thread (as the control
 * plane's loop would run it), raw-socket helpers, and canned servers that answer badly. The
 * server thread owns the cpctl_server module's state while it runs; the test's thread only
 * talks to it over sockets.
 */
#include "fake_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "ctl_client.h"
#include "cpctl_server.h"

enum {
	MAX_SERVED = 64,
	STATUS_UPTIME = 12,
	/* How long a test waits for an answer or a close before it calls it missing. Generous:
	 * 16 answers of 10,000 peers each are built one after another, and on a machine whose
	 * cores are all busy that takes seconds. Only a failing test waits this long. */
	WAIT_MS = 60000,
};

char fs_dir[64];
char fs_path[108];

/* ---- the fake control plane -------------------------------------------------------------- */

atomic_int fs_npeers = 2;
atomic_int fs_stats_calls;
atomic_int fs_status_calls;

static cJSON *fake_status(void *ctx)
{
	cJSON *o = cJSON_CreateObject(), *p;

	(void)ctx;
	atomic_fetch_add(&fs_status_calls, 1);
	cJSON_AddStringToObject(o, "version", "0.1.0");
	cJSON_AddNumberToObject(o, "uptime_s", STATUS_UPTIME);
	p = cJSON_AddObjectToObject(o, "portal");
	cJSON_AddStringToObject(p, "state", "connected");
	cJSON_AddStringToObject(p, "url", "wss://portal.test/gateway/v2/websocket");
	cJSON_AddNullToObject(p, "connected_since");
	cJSON_AddNumberToObject(p, "reconnects", 0);
	cJSON_AddNullToObject(p, "last_error");
	p = cJSON_AddObjectToObject(o, "dataplane");
	cJSON_AddBoolToObject(p, "connected", 1);
	return o;
}

const char fs_status_line[] =
	"{\"version\":\"0.1.0\",\"uptime_s\":12,\"portal\":{\"state\":\"connected\","
	"\"url\":\"wss://portal.test/gateway/v2/websocket\",\"connected_since\":null,"
	"\"reconnects\":0,\"last_error\":null},\"dataplane\":{\"connected\":true}}";

static cJSON *fake_peers(void *ctx)
{
	cJSON *o = cJSON_CreateObject(), *l = cJSON_AddArrayToObject(o, "peers");
	int n = atomic_load(&fs_npeers);

	(void)ctx;
	for (int i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();
		char s[64];

		snprintf(s, sizeof(s), "client-%05d", i);
		cJSON_AddStringToObject(p, "client_id", s);
		cJSON_AddStringToObject(p, "public_key", "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=");
		snprintf(s, sizeof(s), "100.64.%d.%d", i / 250, i % 250 + 2);
		cJSON_AddStringToObject(p, "ipv4", s);
		snprintf(s, sizeof(s), "fd00:2021:1111::%x", i + 2);
		cJSON_AddStringToObject(p, "ipv6", s);
		cJSON_AddStringToObject(p, "endpoint", "198.18.1.2:51820");
		cJSON_AddNumberToObject(p, "last_handshake", 1800000000 - i);
		cJSON_AddNumberToObject(p, "rx_bytes", i * 1000.0);
		cJSON_AddNumberToObject(p, "tx_bytes", i * 2000.0);
		cJSON_AddNumberToObject(p, "resources", i % 3);
		cJSON_AddItemToArray(l, p);
	}
	return o;
}

static cJSON *fake_relays(void *ctx)
{
	cJSON *o = cJSON_CreateObject();

	(void)ctx;
	cJSON_AddArrayToObject(o, "relays");
	return o;
}

static cJSON *fake_ice(void *ctx)
{
	cJSON *o = cJSON_CreateObject();

	(void)ctx;
	cJSON_AddArrayToObject(o, "agents");
	cJSON_AddNullToObject(o, "host4");
	cJSON_AddNullToObject(o, "host6");
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "counters"), "packets_in", 0);
	return o;
}

/* Reports the server's connection count, read on the server's own thread. */
static cJSON *fake_resources(void *ctx)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddArrayToObject(o, "resources");
	cJSON_AddNumberToObject(o, "conns", fg_cpctl_conn_count(ctx));
	return o;
}

static cJSON *fake_stats(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&fs_stats_calls, 1);
	return NULL;
}

/* One client's DNS resource, without the data plane's tuples. */
const char fs_nat_line[] =
	"{\"clients\":[{\"client_id\":\"c1\",\"public_key\":\"ERERERERERERERERERERERERERERERERERERERERERE=\","
	"\"domains\":[{\"resource_id\":\"r1\",\"domain\":\"app.example.com\",\"proxy_ips\":["
	"{\"proxy_ip\":\"100.96.0.1\",\"real_ip\":\"198.51.100.1\"},"
	"{\"proxy_ip\":\"fd00:2021:1111:8000::1\",\"real_ip\":null}]}]}],"
	"\"tuples_available\":false,"
	"\"tuples_error\":\"the data plane does not answer NAT_DUMP (not a request)\"}";

static cJSON *fake_nat(void *ctx)
{
	(void)ctx;
	return cJSON_Parse(fs_nat_line);
}

static const struct fg_cpctl_provider provider = {
	.status = fake_status,
	.peers = fake_peers,
	.resources = fake_resources,
	.relays = fake_relays,
	.ice = fake_ice,
	.stats = fake_stats,
	.nat = fake_nat,
};

/* ---- the server thread: a poll() loop as the control plane's would be -------------------- */

struct fs_server {
	struct fg_cpctl_server cs;
	int wake[2];
	pthread_t th;
};

static void *server_main(void *arg)
{
	struct fs_server *s = arg;
	struct fg_cpctl_conn *conns[MAX_SERVED];
	size_t n = 0;

	for (;;) {
		struct pollfd pf[2 + MAX_SERVED];

		pf[0] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = s->cs.listen_fd, .events = POLLIN };
		for (size_t i = 0; i < n; i++)
			pf[2 + i] = (struct pollfd){
				.fd = fg_cpctl_conn_fd(conns[i]),
				.events = (short)((fg_cpctl_conn_wants_read(conns[i]) ? POLLIN : 0) |
						  (fg_cpctl_conn_wants_write(conns[i]) ? POLLOUT : 0)),
			};
		if (poll(pf, 2 + n, -1) < 0)
			continue;
		if (pf[0].revents)
			break;
		for (size_t i = n; i-- > 0;) {
			short rv = pf[2 + i].revents;
			int r = 0;

			if (!rv)
				continue;
			if (rv & (POLLIN | POLLHUP | POLLERR))
				r = fg_cpctl_conn_on_readable(conns[i], &provider, &s->cs);
			if (r == 0)
				r = fg_cpctl_conn_on_writable(conns[i]);
			if (r < 0) {
				fg_cpctl_conn_free(conns[i]);
				conns[i] = conns[--n];
			}
		}
		if (pf[1].revents & POLLIN) {
			for (;;) {
				struct fg_cpctl_conn *c;
				int r = fg_cpctl_server_accept(&s->cs, &c);

				if (r == -EAGAIN)
					break;
				if (r == 0 && n < MAX_SERVED)
					conns[n++] = c;
				else if (r == 0)
					fg_cpctl_conn_free(c);
				else if (r != -EBUSY)
					break;
			}
		}
	}
	while (n)
		fg_cpctl_conn_free(conns[--n]);
	return NULL;
}

static struct fs_server server;

void fs_server_start(void)
{
	server.cs.listen_fd = fg_cpctl_server_listen(fs_path);
	CU_ASSERT_FATAL(server.cs.listen_fd >= 0);
	CU_ASSERT_EQUAL_FATAL(pipe2(server.wake, O_CLOEXEC), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&server.th, NULL, server_main, &server), 0);
}

void fs_server_stop(void)
{
	CU_ASSERT_EQUAL(write(server.wake[1], "x", 1), 1);
	pthread_join(server.th, NULL);
	close(server.wake[0]);
	close(server.wake[1]);
	close(server.cs.listen_fd);
	unlink(fs_path);
}

/* ---- raw client helpers ------------------------------------------------------------------------ */

int fs_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

void fs_send(int fd, const char *s, size_t len)
{
	CU_ASSERT_EQUAL(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads one line (without its newline) waiting at most WAIT_MS (60 s); NULL at EOF or on error. */
char *fs_line(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);

	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t r;

		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
		if (poll(&pf, 1, WAIT_MS) <= 0)
			break;
		/* Peek first, then take no more than this line: the next one stays queued. */
		r = recv(fd, buf + len, cap - len, MSG_PEEK);
		if (r <= 0)
			break;
		nl = memchr(buf + len, '\n', (size_t)r);
		if (nl)
			r = nl - (buf + len) + 1;
		r = recv(fd, buf + len, (size_t)r, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (nl) {
			buf[len - 1] = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

/* True when the server has closed: EOF (or a reset) within WAIT_MS. */
bool fs_closed(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&pf, 1, WAIT_MS) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

/* One request through the client code; returns the response line (caller frees). */
char *fs_ask(const char *cmd, int expect)
{
	char err[FG_CPCTL_ERRLEN], *line = NULL;
	size_t len;
	int r = fg_ctl_client_request(fs_path, cmd, FG_CPCTL_TIMEOUT_MS, &line, &len, err, sizeof(err));

	if (r != expect)
		fprintf(stderr, "\n%.60s: %d (%s)\n", cmd, r, err);
	CU_ASSERT_EQUAL(r, expect);
	if (line)
		CU_ASSERT_EQUAL(strlen(line), len);
	return line;
}

/* The server's connection count, asked through the server itself (its own request counts). */
int fs_server_conns(void)
{
	char *line = fs_ask("resources", 0);
	cJSON *j = line ? cJSON_Parse(line) : NULL;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "conns");
	int conns = cJSON_IsNumber(n) ? n->valueint - 1 : -1;   /* -1: refused, all slots busy */

	cJSON_Delete(j);
	free(line);
	return conns;
}

/* Waits up to 2 s for the server to have closed every connection but the asking one. */
bool fs_server_idle(void)
{
	for (int i = 0; i < 200; i++) {
		if (fs_server_conns() == 0)
			return true;
		usleep(10000);
	}
	return false;
}

/* ---- set-up --------------------------------------------------------------------------------- */

int fs_setup(void)
{
	snprintf(fs_dir, sizeof(fs_dir), "/tmp/fgctl.XXXXXX");
	if (!mkdtemp(fs_dir))
		return -errno;
	snprintf(fs_path, sizeof(fs_path), "%s/controlplane.sock", fs_dir);
	return 0;
}

void fs_teardown(void)
{
	unlink(fs_path);
	rmdir(fs_dir);
}

/* ---- canned servers ------------------------------------------------------------------------ */

static struct {
	int lfd;
	int wake[2];
	pthread_t th;
	const char *reply;
	size_t len;
	int held[MAX_SERVED];
	size_t nheld;
} canned;

static void canned_serve(int fd)
{
	char c;

	/* Up to the newline, then the canned bytes. */
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		if (poll(&pf, 1, WAIT_MS) <= 0 || recv(fd, &c, 1, 0) <= 0 || c == '\n')
			break;
	}
	if (!canned.reply) {
		if (canned.nheld < MAX_SERVED) {
			canned.held[canned.nheld++] = fd;
			return;
		}
	} else if (canned.len) {
		ssize_t w = send(fd, canned.reply, canned.len, MSG_NOSIGNAL);

		(void)w;
	}
	close(fd);
}

static void *canned_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = canned.wake[0], .events = POLLIN },
			{ .fd = canned.lfd, .events = POLLIN },
		};

		if (poll(pf, 2, -1) < 0)
			continue;
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN) {
			int fd = accept4(canned.lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				canned_serve(fd);
		}
	}
	while (canned.nheld)
		close(canned.held[--canned.nheld]);
	return NULL;
}

void fs_canned_start(const char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	canned.reply = reply;
	canned.len = len;
	canned.nheld = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fs_path);
	canned.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(canned.lfd >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(canned.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(canned.lfd, 8), 0);
	CU_ASSERT_EQUAL_FATAL(pipe2(canned.wake, O_CLOEXEC), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&canned.th, NULL, canned_main, NULL), 0);
}

void fs_canned_stop(void)
{
	CU_ASSERT_EQUAL(write(canned.wake[1], "x", 1), 1);
	pthread_join(canned.th, NULL);
	close(canned.wake[0]);
	close(canned.wake[1]);
	close(canned.lfd);
	unlink(fs_path);
}
