// SPDX-License-Identifier: MIT
/*
 * kni/tun_uring: the io_uring layer of the workers' TUN I/O, against real fds in this
 * process: an AF_UNIX datagram socketpair (a packet per datagram, as a TUN queue), with and
 * without SQPOLL; and a TUN queue in a private network namespace when root (else SKIP).
 * Posted reads wait for data, writes keep their order, a submission with nothing queued
 * costs no system call, a full ring refuses and counts, a write the kernel cannot take at
 * once completes with -EAGAIN, destroy cancels what is in flight and restores the fd's
 * flags, and io_uring_setup refused by seccomp (EPERM, ENOSYS) comes back as that errno.
 * Completions are awaited by polling with a deadline (no fixed sleeps).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cunit_run.h"
#include "../deny_uring.h"
#include "tun.h"
#include "tun_uring.h"

enum {
	WAIT_MS = 5000,
	CHILD_TIMEOUT_S = 60,
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Submits and harvests until want completions arrived or WAIT_MS passed; returns the count. */
static unsigned wait_done(struct fg_tun_uring *u, struct fg_tun_uring_done *out, unsigned want)
{
	unsigned got = 0;
	uint64_t end = now_ms() + WAIT_MS;

	while (got < want && now_ms() < end) {
		(void)fg_tun_uring_submit(u);
		got += fg_tun_uring_reap(u, out + got, want - got);
		if (got < want)
			sched_yield();
	}
	return got;
}

static int make_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
}

static struct fg_tun_uring *make_ring(int fd, bool sqpoll, struct fg_tun_uring_stats *st)
{
	struct fg_tun_uring_opts o = { .entries = 16, .sqpoll = sqpoll, .sqpoll_cpu = -1, .stats = st };
	struct fg_tun_uring *u = NULL;
	int ret = fg_tun_uring_create(&u, fd, &o);

	CU_ASSERT_EQUAL(ret, 0);
	if (ret < 0)
		fprintf(stderr, "fg_tun_uring_create: %s\n", fg_tun_uring_strerror(ret));
	return u;
}

/* Reads posted before any data wait; writes go out in order; the counters add up. */
static void reads_and_writes(bool sqpoll)
{
	struct fg_tun_uring_stats st = { 0 };
	struct fg_tun_uring_done d[8];
	uint8_t rb[2][64], got[64];
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(make_pair(sv), 0);
	struct fg_tun_uring *u = make_ring(sv[0], sqpoll, &st);
	if (!u)
		goto out;
	/* The fd is blocking while the ring has it (a read must wait, not fail with EAGAIN). */
	CU_ASSERT_EQUAL(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
	CU_ASSERT_TRUE(fg_tun_uring_read(u, rb[0], sizeof(rb[0]), 10));
	CU_ASSERT_TRUE(fg_tun_uring_read(u, rb[1], sizeof(rb[1]), 11));
	CU_ASSERT_EQUAL(fg_tun_uring_inflight(u), 2);
	CU_ASSERT_EQUAL(fg_tun_uring_submit(u), 0);
	/* Nothing to read yet: no completion, and a submission with nothing queued and
	 * nothing pending in the kernel makes no system call. */
	CU_ASSERT_EQUAL(fg_tun_uring_reap(u, d, 8), 0);
	uint64_t enters = st.enters;
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(fg_tun_uring_submit(u), 0);
	CU_ASSERT_EQUAL(st.enters, enters);
	CU_ASSERT_EQUAL(fg_tun_uring_reap(u, d, 8), 0);

	CU_ASSERT_EQUAL_FATAL(send(sv[1], "hello", 5, 0), 5);
	CU_ASSERT_EQUAL_FATAL(wait_done(u, d, 1), 1);
	CU_ASSERT_EQUAL(d[0].res, 5);
	CU_ASSERT_TRUE(d[0].tag == 10 || d[0].tag == 11);
	CU_ASSERT_EQUAL(memcmp(rb[d[0].tag - 10], "hello", 5), 0);
	CU_ASSERT_EQUAL(fg_tun_uring_inflight(u), 1);

	/* Writes: a writev of three pieces and a write, received whole and in order. */
	struct iovec iov[3] = { { "ab", 2 }, { "cd", 2 }, { "e", 1 } };
	CU_ASSERT_TRUE(fg_tun_uring_writev(u, iov, 3, 20));
	CU_ASSERT_TRUE(fg_tun_uring_write(u, "second", 6, 21));
	CU_ASSERT_EQUAL_FATAL(wait_done(u, d, 2), 2);
	for (unsigned i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(d[i].res, d[i].tag == 20 ? 5 : 6);
		CU_ASSERT_TRUE(d[i].tag == 20 || d[i].tag == 21);
	}
	uint64_t end = now_ms() + WAIT_MS;
	ssize_t n;
	while ((n = recv(sv[1], got, sizeof(got), MSG_DONTWAIT)) < 0 && now_ms() < end)
		sched_yield();
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(memcmp(got, "abcde", 5), 0);
	CU_ASSERT_EQUAL(recv(sv[1], got, sizeof(got), MSG_DONTWAIT), 6);
	CU_ASSERT_EQUAL(memcmp(got, "second", 6), 0);
	CU_ASSERT_EQUAL(st.sqes, 4);
	CU_ASSERT_EQUAL(st.cqes, 3);
	CU_ASSERT_EQUAL(st.errors, 0);
	CU_ASSERT_EQUAL(st.full, 0);
	/* Without SQPOLL each submission entered the kernel; with it, only wake-ups do. */
	CU_ASSERT_TRUE(sqpoll || st.enters >= 1);
	CU_ASSERT_EQUAL(fg_tun_uring_sqpoll(u), sqpoll);

	/* Destroy with a read still posted: cancelled and drained; the flags come back. */
	fg_tun_uring_destroy(u);
	CU_ASSERT_NOT_EQUAL(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
	/* The buffer is no longer the kernel's: data sent now stays in the socket. */
	CU_ASSERT_EQUAL(send(sv[1], "late", 4, 0), 4);
	CU_ASSERT_EQUAL(recv(sv[0], got, sizeof(got), MSG_DONTWAIT), 4);
out:
	close(sv[0]);
	close(sv[1]);
}

static void test_socketpair(void) { reads_and_writes(false); }
static void test_socketpair_sqpoll(void) { reads_and_writes(true); }

/* A bounded ring: the in-flight bound refuses (false, counted) and nothing is queued. */
static void test_full(void)
{
	struct fg_tun_uring_opts o = { .entries = 4, .inflight = 4, .sqpoll_cpu = -1 };
	struct fg_tun_uring_stats st = { 0 };
	struct fg_tun_uring *u = NULL;
	uint8_t buf[8][16];
	int sv[2];

	o.stats = &st;
	CU_ASSERT_EQUAL_FATAL(make_pair(sv), 0);
	CU_ASSERT_EQUAL_FATAL(fg_tun_uring_create(&u, sv[0], &o), 0);
	CU_ASSERT_EQUAL(fg_tun_uring_space(u), 4);
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_TRUE(fg_tun_uring_read(u, buf[i], sizeof(buf[i]), i));
	CU_ASSERT_EQUAL(fg_tun_uring_space(u), 0);
	CU_ASSERT_FALSE(fg_tun_uring_read(u, buf[4], sizeof(buf[4]), 4));
	CU_ASSERT_FALSE(fg_tun_uring_write(u, "x", 1, 5));
	CU_ASSERT_EQUAL(st.full, 2);
	CU_ASSERT_EQUAL(st.sqes, 4);
	CU_ASSERT_EQUAL(fg_tun_uring_submit(u), 0);
	/* Still full while the reads wait in the kernel; one completion frees one place. */
	CU_ASSERT_FALSE(fg_tun_uring_read(u, buf[4], sizeof(buf[4]), 4));
	CU_ASSERT_EQUAL(send(sv[1], "1", 1, 0), 1);
	struct fg_tun_uring_done d[4];
	CU_ASSERT_EQUAL_FATAL(wait_done(u, d, 1), 1);
	CU_ASSERT_EQUAL(fg_tun_uring_space(u), 1);
	CU_ASSERT_TRUE(fg_tun_uring_read(u, buf[4], sizeof(buf[4]), 4));
	fg_tun_uring_destroy(u);
	close(sv[0]);
	close(sv[1]);
}

/* A write the kernel cannot take now (the peer's queue is full) completes with -EAGAIN
 * instead of waiting, so it can never land after a later write. */
static void test_write_again(void)
{
	struct fg_tun_uring_stats st = { 0 };
	struct fg_tun_uring_done d[1];
	static uint8_t big[1024];
	unsigned sent = 0;
	int sv[2], again = 0;

	CU_ASSERT_EQUAL_FATAL(make_pair(sv), 0);
	struct fg_tun_uring *u = make_ring(sv[0], false, &st);
	if (!u)
		goto out;
	for (unsigned i = 0; i < 100000 && !again; i++) {
		CU_ASSERT_TRUE_FATAL(fg_tun_uring_write(u, big, sizeof(big), i));
		CU_ASSERT_EQUAL_FATAL(wait_done(u, d, 1), 1);
		if (d[0].res == -EAGAIN)
			again = 1;
		else if (d[0].res == (int32_t)sizeof(big))
			sent++;
		else
			CU_FAIL("unexpected write result");
	}
	CU_ASSERT_EQUAL(again, 1);
	CU_ASSERT_TRUE(sent > 0);
	CU_ASSERT_EQUAL(st.again, 1);
	CU_ASSERT_EQUAL(st.errors, 0);
	fg_tun_uring_destroy(u);
out:
	close(sv[0]);
	close(sv[1]);
}

static void test_bad_args(void)
{
	struct fg_tun_uring_opts o = { .entries = 8, .sqpoll_cpu = -1 };
	struct fg_tun_uring *u = (struct fg_tun_uring *)&o;
	int sv[2];

	CU_ASSERT_EQUAL(fg_tun_uring_create(&u, -1, &o), -EBADF);
	CU_ASSERT_PTR_NULL(u);
	CU_ASSERT_EQUAL_FATAL(make_pair(sv), 0);
	CU_ASSERT_EQUAL(fg_tun_uring_create(&u, sv[0], NULL), -EINVAL);
	o.entries = 0;
	CU_ASSERT_EQUAL(fg_tun_uring_create(&u, sv[0], &o), -EINVAL);
	o.entries = FG_TUN_URING_ENTRIES_MAX + 1;
	CU_ASSERT_EQUAL(fg_tun_uring_create(&u, sv[0], &o), -EINVAL);
	o.entries = 8;
	o.inflight = 4;   /* below the submission ring */
	CU_ASSERT_EQUAL(fg_tun_uring_create(&u, sv[0], &o), -EINVAL);
	CU_ASSERT_EQUAL(fg_tun_uring_create(NULL, sv[0], &o), -EINVAL);
	/* A failed create leaves the fd as it was. */
	CU_ASSERT_NOT_EQUAL(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
	fg_tun_uring_destroy(NULL);
	close(sv[0]);
	close(sv[1]);
}

/* Forks; the child runs body and exits with its verdict (0: passed). */
static int in_child(int (*body)(int), int arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		alarm(CHILD_TIMEOUT_S);
		_exit(body(arg));
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* With io_uring_setup denied (err), create fails with -err and leaves the fd alone. */
static int denied_body(int err)
{
	struct fg_tun_uring_opts o = { .entries = 8, .sqpoll_cpu = -1 };
	struct fg_tun_uring *u = NULL;
	int sv[2];

	if (make_pair(sv) < 0 || fg_test_deny_uring(err) < 0)
		return 2;
	int ret = fg_tun_uring_create(&u, sv[0], &o);
	if (ret != -err || u || !(fcntl(sv[0], F_GETFL) & O_NONBLOCK))
		return 3;
	o.sqpoll = true;
	if (fg_tun_uring_create(&u, sv[0], &o) != -err)
		return 4;
	/* The reason in words names the cause. */
	const char *why = fg_tun_uring_strerror(ret);
	if (err == EPERM && !strstr(why, "not permitted"))
		return 5;
	if (err == ENOSYS && !strstr(why, "no io_uring"))
		return 6;
	return 0;
}

static void test_denied(void)
{
	CU_ASSERT_EQUAL(in_child(denied_body, EPERM), 0);
	CU_ASSERT_EQUAL(in_child(denied_body, ENOSYS), 0);
}

/* A real TUN queue in a private namespace: a posted read gets the kernel's echo reply to
 * an echo request written through the ring. */
static int tun_body(int unused)
{
	static const uint8_t req_hdr[] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0 };
	struct fg_tun_uring_stats st = { 0 };
	struct fg_tun_uring_opts o = { .entries = 8, .sqpoll_cpu = -1, .stats = &st };
	struct fg_tun_uring_done d[2];
	struct fg_tun_uring *u = NULL;
	struct fg_tun t;
	struct fg_prefix a;
	uint8_t pkt[28], rb[2048];
	char name[16];

	(void)unused;
	if (unshare(CLONE_NEWNET) < 0)
		return 2;
	snprintf(name, sizeof(name), "fgu%u", (unsigned)getpid() % 100000);
	memset(&a, 0, sizeof(a));
	a.ip.family = AF_INET;
	inet_pton(AF_INET, "100.64.0.1", a.ip.addr);
	a.len = 32;
	struct fg_prefix r = a;
	inet_pton(AF_INET, "100.64.0.0", r.ip.addr);
	r.len = 11;
	if (fg_tun_open(&t, name, 1) < 0 || fg_tun_set_mtu(&t, 1280) < 0 || fg_tun_add_address(&t, &a) < 0 ||
	    fg_tun_set_up(&t, true) < 0 || fg_tun_add_route(&t, &r) < 0)
		return 3;
	if (fg_tun_uring_create(&u, t.fds[0], &o) < 0)
		return 4;
	if (!fg_tun_uring_read(u, rb, sizeof(rb), 1))
		return 5;
	/* ICMP echo 100.64.0.2 -> 100.64.0.1: the kernel answers into the TUN. */
	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, req_hdr, sizeof(req_hdr));
	inet_pton(AF_INET, "100.64.0.2", pkt + 12);
	inet_pton(AF_INET, "100.64.0.1", pkt + 16);
	uint32_t sum = 0;
	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	pkt[10] = (uint8_t)(~sum >> 8);
	pkt[11] = (uint8_t)~sum;
	pkt[20] = 8;   /* echo request, id 0, seq 0: checksum 0xf7ff */
	pkt[22] = 0xf7;
	pkt[23] = 0xff;
	if (!fg_tun_uring_write(u, pkt, sizeof(pkt), 2))
		return 6;
	unsigned got = wait_done(u, d, 2);
	if (got != 2)
		return 7;
	for (unsigned i = 0; i < 2; i++) {
		if (d[i].tag == 2 && d[i].res != (int32_t)sizeof(pkt))
			return 8;
		if (d[i].tag == 1 && (d[i].res != 28 || !fg_tun_read_ok(rb, 28, 0) || rb[20] != 0))
			return 9;   /* an echo reply, type 0 */
	}
	fg_tun_uring_destroy(u);
	fg_tun_close(&t);
	return st.errors == 0 ? 0 : 10;
}

static void test_tun(void)
{
	if (geteuid() != 0) {
		printf("\n  SKIP tun: needs root (TUN devices and network namespaces)\n");
		return;
	}
	CU_ASSERT_EQUAL(in_child(tun_body, 0), 0);
}

static const struct fg_cunit_test tests[] = {
	{ "socketpair", test_socketpair },
	{ "socketpair_sqpoll", test_socketpair_sqpoll },
	{ "full", test_full },
	{ "write_again", test_write_again },
	{ "bad_args", test_bad_args },
	{ "denied", test_denied },
	{ "tun", test_tun },
};

int main(void)
{
	return fg_cunit_run("kni-tun-uring", tests, sizeof(tests) / sizeof(tests[0]));
}
