// SPDX-License-Identifier: MIT
/*
 * In-process tests of the data plane's UAPI server on a real service lcore state
 * (svc_env.h), over socketpairs and its real listening socket: connections that interleave
 * set requests keep their own peer (the review's crash and its cross-peer variant), a peer
 * removed while another connection configures it, clients that hang up before their reply
 * and idle clients are closed, and a seeded multi-connection run of the libFuzzer driver
 * (uapi_drive.h) at unit-test speed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "cunit_run.h"
#include "keys.h"
#include "svc_env.h"
#include "uapi_drive.h"
#include "uapi_server.h"

static struct fg_svc_env g_env;
static char g_dir[64];
static struct fg_uapi_server *g_u;

static const char KEY_A[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char KEY_B[] = "2222222222222222222222222222222222222222222222222222222222222222";

static void setup(void)
{
	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 64), 0);
	snprintf(g_dir, sizeof(g_dir), "/tmp/fg-uapi-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_dir));
	g_u = fg_uapi_server_open(&g_env.svc, g_dir, "fgt0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_u);
}

static void teardown(void)
{
	fg_uapi_server_close(g_u);
	g_u = NULL;
	rmdir(g_dir);
	fg_svc_env_fini(&g_env);
}

static int conn(void)
{
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CU_ASSERT_EQUAL_FATAL(fg_uapi_server_adopt(g_u, sv[1]), 0);
	return sv[0];
}

static void serve(void)
{
	for (int k = 0; k < 16 && fg_uapi_server_poll(g_u, 0) > 0; k++)
		;
	fg_svc_env_drain(&g_env);
}

static void put(int fd, const char *s)
{
	CU_ASSERT_EQUAL((size_t)send(fd, s, strlen(s), MSG_NOSIGNAL), strlen(s));
	serve();
}

/* Reads a whole reply (up to its blank line) into buf; the server is polled meanwhile. */
static const char *reply(int fd, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int tries = 0; tries < 2000 && n + 1 < len; tries++) {
		ssize_t r = recv(fd, buf + n, len - 1 - n, MSG_DONTWAIT);

		if (r > 0) {
			n += (size_t)r;
			buf[n] = 0;
			if (n >= 2 && strstr(buf, "\n\n"))
				break;
		} else {
			serve();
			usleep(r == 0 ? 0 : 1000);
			if (r == 0)
				break;
		}
	}
	return buf;
}

static uint32_t slot_of(const char *hex)
{
	uint8_t k[32];

	CU_ASSERT_EQUAL_FATAL(fg_key_from_hex(k, hex), 0);
	return fg_svc_peer_find(&g_env.svc, k);
}

/* The review's crash: B ends its own peer while A is still configuring another. */
static void test_interleaved_sets_keep_their_peer(void)
{
	char buf[8192], line[256];
	int a, b;

	setup();
	a = conn();
	b = conn();
	snprintf(line, sizeof(line), "set=1\npublic_key=%s\nendpoint=198.18.1.2:51820\n", KEY_A);
	put(a, line);
	snprintf(line, sizeof(line), "set=1\npublic_key=%s\n\n", KEY_B);
	put(b, line);
	CU_ASSERT_STRING_EQUAL(reply(b, buf, sizeof(buf)), "errno=0\n\n");
	/* Before the fix: SIGSEGV (slot 0xffffffff), or the settings landed on B's peer. */
	put(a, "persistent_keepalive_interval=25\nallowed_ip=10.2.0.0/16\n\n");
	CU_ASSERT_STRING_EQUAL(reply(a, buf, sizeof(buf)), "errno=0\n\n");
	uint32_t sa = slot_of(KEY_A), sb = slot_of(KEY_B);
	CU_ASSERT_NOT_EQUAL_FATAL(sa, FG_SLOT_NONE);
	CU_ASSERT_NOT_EQUAL_FATAL(sb, FG_SLOT_NONE);
	CU_ASSERT_EQUAL(g_env.svc.peers[sa].persistent_keepalive, 25);
	CU_ASSERT_EQUAL(g_env.svc.peers[sb].persistent_keepalive, 0);
	put(b, "get=1\n\n");
	reply(b, buf, sizeof(buf));
	/* The allowed IP is listed once, under A (the second public_key is B's). */
	const char *at = strstr(buf, "allowed_ip=10.2.0.0/16");
	const char *pa = strstr(buf, "public_key=1111"), *pb = strstr(buf, "public_key=2222");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pa);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	CU_ASSERT_TRUE(at > pa && (pb < pa || at < pb));
	CU_ASSERT_PTR_NULL(strstr(at + 1, "allowed_ip=10.2.0.0/16"));
	close(a);
	close(b);
	serve();
	teardown();
}

/* A peer removed under a connection that configures it: the rest of that request fails with
 * ENOENT and touches no other peer, even one that reuses the slot. */
static void test_peer_removed_while_configuring(void)
{
	char buf[8192], line[256];
	int a, b;

	setup();
	a = conn();
	b = conn();
	snprintf(line, sizeof(line), "set=1\npublic_key=%s\nendpoint=198.18.1.2:51820\n", KEY_A);
	put(a, line);
	uint32_t sa = slot_of(KEY_A);
	CU_ASSERT_NOT_EQUAL_FATAL(sa, FG_SLOT_NONE);
	snprintf(line, sizeof(line), "set=1\npublic_key=%s\nremove=true\n\n", KEY_A);
	put(b, line);
	CU_ASSERT_STRING_EQUAL(reply(b, buf, sizeof(buf)), "errno=0\n\n");
	CU_ASSERT_EQUAL(slot_of(KEY_A), FG_SLOT_NONE);
	/* The control socket's path does the same; then a new peer may take the slot. */
	fg_tables_reclaim(&g_env.dp.tables);
	snprintf(line, sizeof(line), "set=1\npublic_key=%s\n\n", KEY_B);
	put(b, line);
	CU_ASSERT_STRING_EQUAL(reply(b, buf, sizeof(buf)), "errno=0\n\n");
	put(a, "allowed_ip=10.3.0.0/16\npersistent_keepalive_interval=25\n\n");
	CU_ASSERT_STRING_EQUAL(reply(a, buf, sizeof(buf)), "errno=-2\n\n");
	CU_ASSERT_EQUAL(fg_route_count(g_env.dp.allowed), 0);
	CU_ASSERT_EQUAL(g_env.svc.peers[slot_of(KEY_B)].persistent_keepalive, 0);
	close(a);
	close(b);
	serve();
	teardown();
}

/* Connect, send get=1, close at once: every such client is closed, none holds a slot, the
 * server stays usable (before the fix: 16 of them took every slot and spun the lcore). */
static void test_hangup_before_reply_is_closed(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[8192];
	int fd;

	setup();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fg_uapi_server_path(g_u));
	for (int i = 0; i < 40; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		CU_ASSERT_EQUAL(send(fd, "get=1\n\n", 7, MSG_NOSIGNAL), 7);
		close(fd);
		serve();
	}
	serve();
	CU_ASSERT_EQUAL(fg_uapi_server_nclients(g_u), 0);
	CU_ASSERT_EQUAL(fg_uapi_server_stats(g_u)->refused, 0);
	/* Nothing is left ready: a spinning client would keep the poll busy forever. */
	CU_ASSERT_EQUAL(fg_uapi_server_poll(g_u, 0), 0);
	fd = conn();
	put(fd, "get=1\n\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(reply(fd, buf, sizeof(buf)), "errno=0\n\n"));
	close(fd);
	serve();
	teardown();
}

/* A client that stops mid-request is closed after the idle timeout; what it set stays (as
 * at a hang-up), and its slot is free again. */
static void test_idle_client_times_out(void)
{
	char line[256];
	int a;

	setup();
	a = conn();
	snprintf(line, sizeof(line), "set=1\npublic_key=%s\nallowed_ip=10.4.0.0/16\n", KEY_A);
	put(a, line);
	CU_ASSERT_EQUAL(fg_uapi_server_nclients(g_u), 1);
	fg_uapi_server_tick(g_u, fg_clock_ns() + 1 * FG_NS_PER_S);
	CU_ASSERT_EQUAL(fg_uapi_server_nclients(g_u), 1);
	fg_uapi_server_tick(g_u, fg_clock_ns() + (FG_UAPI_SERVER_IDLE_TIMEOUT_S + 1) * FG_NS_PER_S);
	CU_ASSERT_EQUAL(fg_uapi_server_nclients(g_u), 0);
	CU_ASSERT_EQUAL(fg_uapi_server_stats(g_u)->timeouts, 1);
	CU_ASSERT_NOT_EQUAL(slot_of(KEY_A), FG_SLOT_NONE);
	CU_ASSERT_EQUAL(fg_route_count(g_env.dp.allowed), 1);
	close(a);
	teardown();
}

/* The libFuzzer driver, seeded: three connections interleaving requests line by line. */
static void test_multi_connection_driver(void)
{
	struct fg_uapi_drive d;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	bool ok = true;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 64), 0);
	CU_ASSERT_EQUAL_FATAL(fg_uapi_drive_init(&d, &g_env), 0);
	for (int i = 0; i < 30000 && ok; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ok = fg_uapi_drive_step(&d, (uint8_t)x, (uint8_t)(x >> 8));
		if (i % 997 == 0)
			fg_tables_reclaim(&g_env.dp.tables);
	}
	fprintf(stderr, "    %lu steps, %lu requests answered, %lu connections closed\n", (unsigned long)d.steps,
		(unsigned long)g_env.svc.stats.uapi_requests, (unsigned long)fg_uapi_server_stats(d.u)->closed);
	if (!ok)
		fprintf(stderr, "%s\n", d.why);
	CU_ASSERT_TRUE(ok);
	fg_uapi_drive_fini(&d);
	fg_svc_env_fini(&g_env);
}

static const struct fg_cunit_test tests[] = {
	{ "interleaved set requests keep their own peer", test_interleaved_sets_keep_their_peer },
	{ "a peer removed while another connection configures it", test_peer_removed_while_configuring },
	{ "a client that hangs up before its reply is closed", test_hangup_before_reply_is_closed },
	{ "an idle client times out", test_idle_client_times_out },
	{ "three connections, line-level driver, 30000 steps", test_multi_connection_driver },
};

/* usage: test_uapi_server [WORD]: only the tests whose name holds WORD. */
int main(int argc, char **argv)
{
	struct fg_cunit_test pick[sizeof(tests) / sizeof(tests[0])];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (argc < 2 || strstr(tests[i].name, argv[1]))
			pick[n++] = tests[i];
	if (fg_svc_env_eal(argv[0]) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return fg_cunit_run("uapi-server", pick, n);
}
