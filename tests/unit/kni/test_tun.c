// SPDX-License-Identifier: MIT
/*
 * CUnit tests for kni/tun: every test forks a child that moves into a private network
 * namespace (unshare(CLONE_NEWNET)), so the TUN devices, addresses and routes it creates
 * vanish with the child and never touch the host. The child checks its results itself
 * (and against iproute2's view of the device) and reports through its exit status, which
 * the parent asserts. Single-threaded; needs root, otherwise every test prints SKIP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "gro.h"
#include "gso.h"
#include "log.h"
#include "tcpgen.h"
#include "tun.h"
#include "../cunit_run.h"

enum {
	CHILD_TIMEOUT_S = 20,
	CHILD_SETUP_FAILED = 2,
	QUEUES = 2,
	MTU = 1280,
	TXQLEN = 700,
	PKT_CAP = 2048,
	CMD_OUT_MAX = 8192,
	REPLY_WAIT_MS = 2000,
	ECHO_ATTEMPTS = 5,
	ECHO_ID = 0x4647,
	ICMP4_ECHO_REPLY = 0,
	ICMP4_ECHO_REQUEST = 8,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
	PROTO_ICMP = 1,
	PROTO_ICMPV6 = 58,
	IP4_HDR = 20,
	IP6_HDR = 40,
	ICMP_HDR = 8,
	PAYLOAD = 56,
};

static const char TUN_ADDR4[] = "100.64.0.1";
static const char PEER_ADDR4[] = "100.64.0.2";
static const char TUN_ADDR6[] = "fd00:2021:1111::1";
static const char PEER_ADDR6[] = "fd00:2021:1111::2";

static int failures;  /* in the child: checks that failed */

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                    \
		}                                                                      \
	} while (0)

#define CHECK_RET(expr, want)                                                          \
	do {                                                                           \
		int got_ = (expr);                                                     \
		if (got_ != (want)) {                                                  \
			fprintf(stderr, "%s:%d: %s = %d (%s), want %d\n", __FILE__, __LINE__, \
				#expr, got_, strerror(-got_), (want));                 \
			failures++;                                                    \
		}                                                                      \
	} while (0)

static struct fg_prefix prefix(const char *addr, unsigned len)
{
	struct fg_prefix p;

	memset(&p, 0, sizeof(p));
	p.ip.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p.ip.family, addr, p.ip.addr) != 1)
		abort();
	p.len = (uint8_t)len;
	return p;
}

/* Runs cmd through the shell (inside the child's namespace) and captures stdout. */
static int run_cmd(const char *cmd, char *out, size_t cap)
{
	FILE *f = popen(cmd, "r");
	size_t n = 0;

	out[0] = '\0';
	if (!f)
		return -1;
	while (n + 1 < cap) {
		size_t r = fread(out + n, 1, cap - 1 - n, f);
		if (r == 0)
			break;
		n += r;
	}
	out[n] = '\0';
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* True when the output of `ip ARGS dev NAME` contains needle. */
static bool ip_shows(const char *args, const char *name, const char *needle)
{
	char cmd[256], out[CMD_OUT_MAX];

	snprintf(cmd, sizeof(cmd), "ip %s dev %s 2>&1", args, name);
	if (run_cmd(cmd, out, sizeof(out)) != 0) {
		fprintf(stderr, "`%s` failed: %s\n", cmd, out);
		return false;
	}
	if (strstr(out, needle))
		return true;
	fprintf(stderr, "`%s` does not show \"%s\":\n%s", cmd, needle, out);
	return false;
}

static bool ip_lacks(const char *args, const char *name, const char *needle)
{
	char cmd[256], out[CMD_OUT_MAX];

	snprintf(cmd, sizeof(cmd), "ip %s dev %s 2>&1", args, name);
	if (run_cmd(cmd, out, sizeof(out)) != 0 || strstr(out, needle)) {
		fprintf(stderr, "`%s` shows \"%s\" or failed:\n%s", cmd, needle, out);
		return false;
	}
	return true;
}

static void tun_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "fgk%u%s", (unsigned)getpid() % 100000, tag);
}

/* Forks; the child enters a fresh network namespace, runs body and exits with its verdict. */
static void run_isolated(void (*body)(void), const char *what)
{
	if (geteuid() != 0) {
		printf("\n  SKIP %s: needs root (TUN devices and network namespaces)\n", what);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		alarm(CHILD_TIMEOUT_S);
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
			_exit(CHILD_SETUP_FAILED);
		}
		failures = 0;
		body();
		fflush(NULL);
		_exit(failures ? 1 : 0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st))
		fprintf(stderr, "%s: child killed by signal %d\n", what, WTERMSIG(st));
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
}

/* The standard configuration every data-path test starts from. */
static int setup_ex(struct fg_tun *t, const char *name, bool v6, unsigned flags)
{
	struct fg_prefix a4 = prefix(TUN_ADDR4, 32), a6 = prefix(TUN_ADDR6, 128);
	struct fg_prefix r4 = prefix("100.64.0.0", 11), r6 = prefix("fd00:2021:1111::", 107);
	int before = failures;

	CHECK_RET(fg_tun_open_ex(t, name, QUEUES, flags, NULL), 0);
	if (failures != before)
		return -1;
	CHECK_RET(fg_tun_set_mtu(t, MTU), 0);
	CHECK_RET(fg_tun_add_address(t, &a4), 0);
	if (v6)
		CHECK_RET(fg_tun_add_address(t, &a6), 0);
	CHECK_RET(fg_tun_set_up(t, true), 0);
	CHECK_RET(fg_tun_add_route(t, &r4), 0);
	if (v6)
		CHECK_RET(fg_tun_add_route(t, &r6), 0);
	return failures == before ? 0 : -1;
}

static int setup(struct fg_tun *t, const char *name, bool v6)
{
	return setup_ex(t, name, v6, 0);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An ICMP echo request PEER -> TUN address of the family; returns its length. */
static uint16_t make_echo(uint8_t *b, int family, uint16_t seq)
{
	uint8_t *icmp;
	uint16_t len;

	if (family == AF_INET) {
		len = IP4_HDR + ICMP_HDR + PAYLOAD;
		memset(b, 0, len);
		b[0] = 0x45;
		put16(b + 2, len);
		b[8] = 64;
		b[9] = PROTO_ICMP;
		inet_pton(AF_INET, PEER_ADDR4, b + 12);
		inet_pton(AF_INET, TUN_ADDR4, b + 16);
		put16(b + 10, csum_fold(csum_add(0, b, IP4_HDR)));
		icmp = b + IP4_HDR;
		icmp[0] = ICMP4_ECHO_REQUEST;
	} else {
		len = IP6_HDR + ICMP_HDR + PAYLOAD;
		memset(b, 0, len);
		b[0] = 0x60;
		put16(b + 4, ICMP_HDR + PAYLOAD);
		b[6] = PROTO_ICMPV6;
		b[7] = 64;
		inet_pton(AF_INET6, PEER_ADDR6, b + 8);
		inet_pton(AF_INET6, TUN_ADDR6, b + 24);
		icmp = b + IP6_HDR;
		icmp[0] = ICMP6_ECHO_REQUEST;
	}
	put16(icmp + 4, ECHO_ID);
	put16(icmp + 6, seq);
	for (unsigned i = 0; i < PAYLOAD; i++)
		icmp[ICMP_HDR + i] = (uint8_t)i;
	uint32_t sum = 0;
	if (family == AF_INET6) {
		/* pseudo-header: addresses, upper-layer length, next header */
		sum = csum_add(sum, b + 8, 32);
		sum += ICMP_HDR + PAYLOAD;
		sum += PROTO_ICMPV6;
	}
	put16(icmp + 2, csum_fold(csum_add(sum, icmp, ICMP_HDR + PAYLOAD)));
	return len;
}

/* True if pkt is the kernel's echo reply TUN -> PEER for (family, seq). */
static bool is_echo_reply(const uint8_t *p, uint16_t len, int family, uint16_t seq)
{
	uint8_t addr[16];
	const uint8_t *icmp;

	if (family == AF_INET) {
		if (len < IP4_HDR + ICMP_HDR || p[0] != 0x45 || p[9] != PROTO_ICMP)
			return false;
		inet_pton(AF_INET, TUN_ADDR4, addr);
		if (memcmp(p + 12, addr, 4) != 0)
			return false;
		icmp = p + IP4_HDR;
		if (icmp[0] != ICMP4_ECHO_REPLY)
			return false;
		len = (uint16_t)(len - IP4_HDR);
	} else {
		if (len < IP6_HDR + ICMP_HDR || (p[0] >> 4) != 6 || p[6] != PROTO_ICMPV6)
			return false;
		inet_pton(AF_INET6, TUN_ADDR6, addr);
		if (memcmp(p + 8, addr, 16) != 0)
			return false;
		icmp = p + IP6_HDR;
		if (icmp[0] != ICMP6_ECHO_REPLY)
			return false;
		len = (uint16_t)(len - IP6_HDR);
	}
	return len == ICMP_HDR + PAYLOAD && (icmp[4] << 8 | icmp[5]) == ECHO_ID &&
	       (icmp[6] << 8 | icmp[7]) == seq && icmp[ICMP_HDR + PAYLOAD - 1] == PAYLOAD - 1;
}

/* Polls every queue up to wait_ms until the echo reply shows up; ignores anything else. */
static bool wait_echo_reply(struct fg_tun *t, int family, uint16_t seq, int wait_ms)
{
	static uint8_t store[8][PKT_CAP];
	uint8_t *bufs[8];
	uint16_t lens[8];
	uint64_t errors = 0;
	struct pollfd pfd[FG_TUN_MAX_QUEUES];

	for (unsigned i = 0; i < 8; i++)
		bufs[i] = store[i];
	for (unsigned q = 0; q < t->nqueues; q++)
		pfd[q] = (struct pollfd){ .fd = t->fds[q], .events = POLLIN };
	for (int rounds = 0; rounds < 20; rounds++) {
		if (poll(pfd, t->nqueues, wait_ms) <= 0)
			break;
		for (unsigned q = 0; q < t->nqueues; q++) {
			unsigned n = fg_tun_read_burst(t->fds[q], bufs, lens, 8, PKT_CAP, &errors);
			for (unsigned i = 0; i < n; i++)
				if (is_echo_reply(bufs[i], lens[i], family, seq))
					return errors == 0;
		}
	}
	return false;
}

/* Reads and discards whatever is queued (late duplicates of retried echoes). */
static void drain(struct fg_tun *t)
{
	static uint8_t store[PKT_CAP];
	uint8_t *bufs[1] = { store };
	uint16_t lens[1];
	uint64_t errors = 0;

	for (unsigned q = 0; q < t->nqueues; q++)
		while (fg_tun_read_burst(t->fds[q], bufs, lens, 1, PKT_CAP, &errors) == 1)
			;
}

static void body_configure(void)
{
	struct fg_tun t;
	char name[IFNAMSIZ], out[CMD_OUT_MAX];
	struct fg_prefix a4 = prefix(TUN_ADDR4, 32), a6 = prefix(TUN_ADDR6, 128);
	struct fg_prefix r4 = prefix("100.64.0.0", 11), r6 = prefix("fd00:2021:1111::", 107);

	tun_name(name, sizeof(name), "c");
	if (setup(&t, name, true) < 0)
		return;
	CHECK(strcmp(t.name, name) == 0);
	CHECK(t.ifindex > 0 && (unsigned)t.ifindex == if_nametoindex(name));
	CHECK(t.nqueues == QUEUES);
	for (unsigned q = 0; q < QUEUES; q++) {
		CHECK(fcntl(t.fds[q], F_GETFL) & O_NONBLOCK);
		CHECK(fcntl(t.fds[q], F_GETFD) & FD_CLOEXEC);
	}
	CHECK(t.fds[QUEUES] == -1);
	CHECK_RET(fg_tun_set_txqueuelen(&t, TXQLEN), 0);

	/* iproute2 is the independent witness of what the kernel now holds. */
	CHECK(ip_shows("-d link show", name, "mtu 1280"));
	CHECK(ip_shows("-d link show", name, "qlen 700"));
	CHECK(ip_shows("-d link show", name, ",UP"));
	CHECK(ip_shows("-d link show", name, "tun type tun pi off"));
	CHECK(ip_shows("-d link show", name, "multi_queue numqueues 2"));
	CHECK(ip_shows("-d link show", name, "addrgenmode none"));
	CHECK(ip_shows("-o -4 addr show", name, "inet 100.64.0.1/32 "));
	CHECK(ip_shows("-o -6 addr show", name, "inet6 fd00:2021:1111::1/128 "));
	CHECK(ip_lacks("-o -6 addr show", name, "tentative"));
	CHECK(ip_lacks("-o -6 addr show", name, "fe80:"));
	CHECK(ip_shows("-4 route show", name, "100.64.0.0/11 proto static scope link"));
	CHECK(ip_shows("-6 route show", name, "fd00:2021:1111::/107 proto static"));

	/* Replace semantics: repeating is harmless; host bits of a route are ignored. */
	struct fg_prefix r4host = prefix("100.64.7.9", 11);
	CHECK_RET(fg_tun_add_address(&t, &a4), 0);
	CHECK_RET(fg_tun_add_route(&t, &r4), 0);
	CHECK_RET(fg_tun_add_route(&t, &r4host), 0);
	CHECK(run_cmd("ip -4 route show 100.64.0.0/11 | wc -l", out, sizeof(out)) == 0 &&
	      atoi(out) == 1);

	/* Deletion of each kind, and the errors for what is not there. */
	CHECK_RET(fg_tun_del_route(&t, &r6), 0);
	CHECK(ip_lacks("-6 route show", name, "fd00:2021:1111::/107"));
	CHECK_RET(fg_tun_del_route(&t, &r6), -ESRCH);
	CHECK_RET(fg_tun_del_route(&t, &r4), 0);
	CHECK(ip_lacks("-4 route show", name, "100.64.0.0/11"));
	CHECK_RET(fg_tun_del_address(&t, &a6), 0);
	CHECK(ip_lacks("-o -6 addr show", name, "fd00:2021:1111::1"));
	CHECK_RET(fg_tun_del_address(&t, &a4), 0);
	CHECK(ip_lacks("-o -4 addr show", name, "100.64.0.1"));
	CHECK_RET(fg_tun_del_address(&t, &a4), -EADDRNOTAVAIL);

	/* Flush takes every address of both families, host prefixes and wider ones. */
	struct fg_prefix more[] = {
		a4, a6, prefix("100.64.0.9", 11), prefix("100.64.1.1", 24),
		prefix("fd00:2021:1111::9", 107), prefix("fd00:2021:1111::a", 128),
	};
	for (unsigned i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		CHECK_RET(fg_tun_add_address(&t, &more[i]), 0);
	CHECK(ip_shows("-o addr show", name, "inet 100.64.1.1/24"));
	CHECK_RET(fg_tun_flush_addresses(&t), 0);
	CHECK(ip_lacks("-o addr show", name, "inet"));
	CHECK_RET(fg_tun_flush_addresses(&t), 0);

	/* Invalid prefixes are refused before reaching the kernel. */
	struct fg_prefix bad = a4;
	bad.len = 33;
	CHECK_RET(fg_tun_add_address(&t, &bad), -EINVAL);
	bad = a6;
	bad.len = 129;
	CHECK_RET(fg_tun_add_route(&t, &bad), -EINVAL);
	bad.ip.family = 0;
	CHECK_RET(fg_tun_add_address(&t, &bad), -EAFNOSUPPORT);
	CHECK_RET(fg_tun_set_mtu(&t, 0), -EINVAL);

	fg_tun_close(&t);
	CHECK(t.fds[0] == -1 && t.nqueues == 0 && t.ifindex == 0);
	CHECK(if_nametoindex(name) == 0);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "ip link show dev %s >/dev/null 2>&1", name);
	CHECK(run_cmd(cmd, out, sizeof(out)) != 0);
	fg_tun_close(&t);  /* idempotent */
	CHECK_RET(fg_tun_set_up(&t, true), -EBADF);
}

/*
 * Writes an echo request into one queue and expects the kernel's reply on any queue. Like
 * ping, it sends again when no reply comes: the kernel activates a new IPv6 address
 * (and its local route) from a work queue, a moment after the netlink ACK.
 */
static void echo_both_ways(struct fg_tun *t, int family, uint16_t seq, unsigned queue)
{
	static uint8_t pkt[PKT_CAP];
	uint8_t *bufs[1] = { pkt };
	uint16_t lens[1];
	uint64_t errors = 0;
	bool ok = false;

	lens[0] = make_echo(pkt, family, seq);
	for (int attempt = 0; attempt < ECHO_ATTEMPTS && !ok; attempt++) {
		CHECK(fg_tun_write_burst(t->fds[queue], bufs, lens, 1, &errors) == 1);
		CHECK(errors == 0);
		ok = wait_echo_reply(t, family, seq, REPLY_WAIT_MS / ECHO_ATTEMPTS);
	}
	if (!ok)
		fprintf(stderr, "no echo reply (family %d, seq %u, queue %u)\n", family, seq, queue);
	CHECK(ok);
	drain(t);
}

static void body_echo(void)
{
	struct fg_tun t;
	char name[IFNAMSIZ];
	static uint8_t store[4][PKT_CAP];
	uint8_t *bufs[4] = { store[0], store[1], store[2], store[3] };
	uint16_t lens[4];
	uint64_t errors = 0;

	tun_name(name, sizeof(name), "e");
	if (setup(&t, name, true) < 0)
		return;
	/* An empty queue answers at once with nothing. */
	CHECK(fg_tun_read_burst(t.fds[0], bufs, lens, 4, PKT_CAP, &errors) == 0);
	CHECK(fg_tun_read_burst(t.fds[1], bufs, lens, 4, PKT_CAP, &errors) == 0);
	CHECK(errors == 0);

	echo_both_ways(&t, AF_INET, 1, 0);
	echo_both_ways(&t, AF_INET, 2, 1);
	echo_both_ways(&t, AF_INET6, 3, 0);
	echo_both_ways(&t, AF_INET6, 4, 1);

	/* A burst: a packet the kernel refuses (not IP) is counted, the rest still goes. */
	uint8_t junk[64] = { 0x00, 0x01 };
	lens[0] = sizeof(junk);
	bufs[0] = junk;
	lens[1] = make_echo(store[1], AF_INET, 5);
	CHECK(fg_tun_write_burst(t.fds[0], bufs, lens, 2, &errors) == 2);
	CHECK(errors == 1);
	bufs[0] = store[0];
	errors = 0;
	CHECK(wait_echo_reply(&t, AF_INET, 5, REPLY_WAIT_MS));
	drain(&t);

	/* A reply larger than the read buffer is dropped and counted, not returned cut. */
	uint8_t *one[1] = { store[2] };
	lens[0] = make_echo(store[2], AF_INET, 6);
	CHECK(fg_tun_write_burst(t.fds[0], one, lens, 1, &errors) == 1);
	struct pollfd pfd[QUEUES] = { { .fd = t.fds[0], .events = POLLIN },
				      { .fd = t.fds[1], .events = POLLIN } };
	CHECK(poll(pfd, QUEUES, REPLY_WAIT_MS) > 0);
	unsigned got = 0;
	errors = 0;
	for (unsigned q = 0; q < QUEUES; q++)
		got += fg_tun_read_burst(t.fds[q], bufs, lens, 4, 40, &errors);
	CHECK(got == 0 && errors == 1);
	echo_both_ways(&t, AF_INET, 7, 1);  /* and the queue works afterwards */

	fg_tun_close(&t);
	CHECK(if_nametoindex(name) == 0);
}

static void body_duplicate(void)
{
	struct fg_tun a, b;
	char name[IFNAMSIZ];

	tun_name(name, sizeof(name), "d");
	CHECK_RET(fg_tun_open(&a, name, QUEUES), 0);
	CHECK_RET(fg_tun_open(&b, name, 1), -EBUSY);
	CHECK(b.fds[0] == -1 && b.nqueues == 0);
	CHECK_RET(fg_tun_open(&b, "lo", 1), -EBUSY);  /* a link of another kind */
	CHECK((unsigned)a.ifindex == if_nametoindex(name));

	/* An IPv4 route needs the device up; the kernel's reason is logged at debug level. */
	struct fg_prefix r4 = prefix("100.64.0.0", 11);
	FILE *log = tmpfile();
	CHECK(log != NULL);
	if (log) {
		char text[512] = "";
		fg_log_set_fd(fileno(log));
		fg_log_set_level(FG_LOG_DEBUG);
		CHECK_RET(fg_tun_add_route(&a, &r4), -ENETDOWN);
		fg_log_set_level(FG_LOG_INFO);
		fg_log_set_fd(STDERR_FILENO);
		rewind(log);
		size_t n = fread(text, 1, sizeof(text) - 1, log);
		text[n] = '\0';
		CHECK(strstr(text, " DEBUG kni: netlink request type 24: Network is down (") != NULL);
		fclose(log);
	}
	CHECK_RET(fg_tun_set_up(&a, true), 0);  /* the first owner is untouched */
	CHECK_RET(fg_tun_add_route(&a, &r4), 0);

	CHECK_RET(fg_tun_open(&b, "", 1), -EINVAL);
	CHECK_RET(fg_tun_open(&b, "fgk%d", 1), -EINVAL);
	CHECK_RET(fg_tun_open(&b, "fgk-name-too-long", 1), -EINVAL);
	CHECK_RET(fg_tun_open(&b, "fgkq", 0), -EINVAL);
	CHECK_RET(fg_tun_open(&b, "fgkq", FG_TUN_MAX_QUEUES + 1), -EINVAL);
	CHECK(if_nametoindex("fgkq") == 0);

	fg_tun_close(&a);
	CHECK(if_nametoindex(name) == 0);
	CHECK_RET(fg_tun_open(&b, name, FG_TUN_MAX_QUEUES), 0);  /* free again */
	CHECK(b.nqueues == FG_TUN_MAX_QUEUES && b.fds[FG_TUN_MAX_QUEUES - 1] >= 0);
	fg_tun_close(&b);
	CHECK(if_nametoindex(name) == 0);
}

static int write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, value, strlen(value));
	int err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

static void body_ipv6_disabled(void)
{
	struct fg_tun t;
	char name[IFNAMSIZ];
	struct fg_prefix a6 = prefix(TUN_ADDR6, 128), r6 = prefix("fd00:2021:1111::", 107);

	CHECK_RET(write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1"), 0);
	CHECK_RET(write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1"), 0);
	tun_name(name, sizeof(name), "6");
	if (setup(&t, name, false) < 0)
		return;
	CHECK_RET(fg_tun_add_address(&t, &a6), -EAFNOSUPPORT);
	CHECK_RET(fg_tun_add_route(&t, &r6), -EAFNOSUPPORT);
	echo_both_ways(&t, AF_INET, 1, 0);  /* IPv4 is unaffected */
	CHECK_RET(fg_tun_flush_addresses(&t), 0);
	CHECK(ip_lacks("-o addr show", name, "inet"));
	fg_tun_close(&t);
	CHECK(if_nametoindex(name) == 0);
}

/* Reads one packet (vnet header first) from any queue of t within wait_ms; its length or 0. */
static uint32_t read_vnet_any(struct fg_tun *t, uint8_t *buf, int wait_ms)
{
	struct pollfd pfd[FG_TUN_MAX_QUEUES];
	uint8_t *bufs[1] = { buf };
	uint32_t lens[1];
	uint64_t errors = 0;

	for (unsigned q = 0; q < t->nqueues; q++)
		pfd[q] = (struct pollfd){ .fd = t->fds[q], .events = POLLIN };
	for (int rounds = 0; rounds < 20; rounds++) {
		if (poll(pfd, t->nqueues, wait_ms) <= 0)
			return 0;
		for (unsigned q = 0; q < t->nqueues; q++)
			if (fg_tun_read_vnet_burst(t->fds[q], bufs, lens, 1, FG_TUN_VNET_READ_MAX,
						   &errors) == 1)
				return lens[0];
	}
	return 0;
}

/*
 * IFF_VNET_HDR end to end against the kernel: the offloads it takes (ethtool as witness),
 * an echo with zero headers both ways, a USO super-packet from a local UDP_SEGMENT socket
 * split by fg_gso_split, and a GRO super-packet written into the device and forwarded to
 * a plain TUN, where the kernel's own segmentation (which completes the checksums from
 * our pseudo-header seed) must give back the original segments, TTL less one.
 */
static void body_vnet(void)
{
	static uint8_t buf[FG_TUN_VNET_READ_MAX], seg_store[8][PKT_CAP], pkt_store[10][PKT_CAP];
	struct fg_tun t, b;
	char name[IFNAMSIZ], nameb[IFNAMSIZ], cmd[96], out[CMD_OUT_MAX];
	unsigned offloads = 0;
	uint64_t errors = 0;
	const unsigned want = FG_TUN_OFFLOAD_CSUM | FG_TUN_OFFLOAD_TSO4 | FG_TUN_OFFLOAD_TSO6;

	tun_name(name, sizeof(name), "v");
	CHECK_RET(fg_tun_open_ex(&t, name, 1, 2, &offloads), -EINVAL);
	if (setup_ex(&t, name, true, FG_TUN_VNET_HDR) < 0)
		return;
	CHECK(t.flags == FG_TUN_VNET_HDR);
	CHECK((t.offloads & want) == want);
	fprintf(stderr, "vnet offloads 0x%x\n", t.offloads);
	fg_tun_close(&t);
	CHECK_RET(fg_tun_open_ex(&t, name, QUEUES, FG_TUN_VNET_HDR, &offloads), 0);
	CHECK(offloads == t.offloads && (offloads & want) == want);
	fg_tun_close(&t);
	if (setup_ex(&t, name, true, FG_TUN_VNET_HDR) < 0)
		return;
	snprintf(cmd, sizeof(cmd), "ethtool -k %s 2>/dev/null", name);
	if (run_cmd(cmd, out, sizeof(out)) == 0) {
		CHECK(strstr(out, "tx-tcp-segmentation: on") != NULL);
		CHECK(strstr(out, "tx-tcp6-segmentation: on") != NULL);
	}

	/* Echo: a zero header out, the reply with its header in. */
	static const uint8_t zero[FG_VNET_HDR_LEN];
	uint8_t *pkt = pkt_store[0];
	bool ok = false;
	for (int family = AF_INET; family <= AF_INET6; family += AF_INET6 - AF_INET) {
		uint16_t len = make_echo(pkt, family, 21);
		struct iovec iov[2] = { { (void *)(uintptr_t)zero, sizeof(zero) }, { pkt, len } };
		unsigned cnt[1] = { 2 };
		ok = false;
		for (int attempt = 0; attempt < ECHO_ATTEMPTS && !ok; attempt++) {
			CHECK(fg_tun_writev_burst(t.fds[0], iov, cnt, 1, &errors) == 1);
			for (uint32_t l; !ok && (l = read_vnet_any(&t, buf, REPLY_WAIT_MS / ECHO_ATTEMPTS));)
				ok = buf[1] == FG_VNET_GSO_NONE &&
				     is_echo_reply(buf + FG_VNET_HDR_LEN, (uint16_t)(l - FG_VNET_HDR_LEN),
						   family, 21);
		}
		CHECK(ok);
		CHECK(errors == 0);
	}

	/* USO (or the kernel's own segmentation where the TUN lacks it): 3500 bytes as 4. */
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int gso = 1000;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, PEER_ADDR4, &to.sin_addr);
	CHECK(s >= 0 && setsockopt(s, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso)) == 0);
	memset(pkt, 0x5a, 3500);
	CHECK(sendto(s, pkt, 3500, 0, (struct sockaddr *)&to, sizeof(to)) == 3500);
	close(s);
	uint8_t *segs[8];
	uint16_t seg_len[8];
	unsigned got = 0, bytes = 0;
	bool saw_uso = false;
	for (unsigned i = 0; i < 8; i++)
		segs[i] = seg_store[i];
	for (uint32_t l; bytes < 3500 && (l = read_vnet_any(&t, buf, REPLY_WAIT_MS));) {
		if ((buf + FG_VNET_HDR_LEN)[9] != 17)
			continue;  /* anything else the kernel sends */
		saw_uso |= buf[1] == FG_VNET_GSO_UDP_L4;
		int n = fg_gso_split(buf, l, MTU, segs, seg_len, 8, PKT_CAP);
		CHECK(n > 0);
		for (int k = 0; k < n; k++) {
			CHECK(tg_valid(segs[k], seg_len[k]));
			bytes += seg_len[k] - 28u;
			got++;
		}
	}
	CHECK(got == 4 && bytes == 3500);
	CHECK(saw_uso == !!(t.offloads & FG_TUN_OFFLOAD_USO4));

	/* GRO: 10 segments 100.64.0.2 -> 10.9.0.2, one super-packet, forwarded to plain b. */
	struct fg_prefix ab = prefix("10.9.0.1", 32), rb = prefix("10.9.0.0", 24);
	tun_name(nameb, sizeof(nameb), "w");
	CHECK_RET(fg_tun_open(&b, nameb, 1), 0);
	CHECK_RET(fg_tun_set_mtu(&b, 1500), 0);
	CHECK_RET(fg_tun_add_address(&b, &ab), 0);
	CHECK_RET(fg_tun_set_up(&b, true), 0);
	CHECK_RET(fg_tun_add_route(&b, &rb), 0);
	CHECK_RET(write_sysctl("/proc/sys/net/ipv4/ip_forward", "1"), 0);
	struct tg_flow f;
	const uint8_t *pkts[10];
	uint16_t lens[10], next[10];
	struct fg_gro_item items[10];
	tg_flow_init(&f, false, 1, true);
	inet_pton(AF_INET, "10.9.0.2", f.dst);
	for (unsigned i = 0; i < 10; i++) {
		lens[i] = (uint16_t)tg_tcp(pkt_store[i], &f, 5000 + i * 1000, i == 9 ? 0x18 : 0x10,
					   (uint16_t)(300 + i), 1000);
		pkts[i] = pkt_store[i];
	}
	CHECK(fg_gro_coalesce(pkts, lens, 10, items, next) == 1 && items[0].count == 10);
	struct iovec iov[FG_GRO_IOV_MAX];
	unsigned cnt[1] = { fg_gro_iov(&items[0], pkts, lens, next, iov) };
	CHECK(fg_tun_writev_burst(t.fds[0], iov, cnt, 1, &errors) == 1 && errors == 0);
	f.ttl--;
	unsigned matched = 0;
	struct pollfd pfd = { .fd = b.fds[0], .events = POLLIN };
	uint8_t *rb1[1] = { buf };
	uint16_t rl[1];
	while (matched < 10 && poll(&pfd, 1, REPLY_WAIT_MS) > 0) {
		if (fg_tun_read_burst(b.fds[0], rb1, rl, 1, PKT_CAP, &errors) != 1)
			continue;
		if (buf[9] != 6)
			continue;
		uint32_t wl = tg_tcp(seg_store[0], &f, 5000 + matched * 1000,
				     matched == 9 ? 0x18 : 0x10, (uint16_t)(300 + matched), 1000);
		CHECK(rl[0] == wl && memcmp(buf, seg_store[0], wl) == 0);
		matched++;
	}
	CHECK(matched == 10);
	fg_tun_close(&b);
	fg_tun_close(&t);
}

static void test_vnet(void) { run_isolated(body_vnet, "vnet"); }
static void test_configure(void) { run_isolated(body_configure, "configure"); }
static void test_echo(void) { run_isolated(body_echo, "echo"); }
static void test_duplicate(void) { run_isolated(body_duplicate, "duplicate"); }
static void test_ipv6_disabled(void) { run_isolated(body_ipv6_disabled, "ipv6_disabled"); }

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "open, configure, verify with iproute2, close", test_configure },
		{ "ICMP echo through both queues, v4 and v6", test_echo },
		{ "duplicate and invalid names", test_duplicate },
		{ "IPv6 disabled in the namespace", test_ipv6_disabled },
		{ "VNET_HDR: offloads, echo, USO split, GRO forwarded", test_vnet },
	};

	return fg_cunit_run("kni_tun", tests, sizeof(tests) / sizeof(tests[0]));
}
