// SPDX-License-Identifier: MIT
/*
 * The DNS forwarder (controlplane/dns/forward.c) with real sockets on loopback: clients of
 * the test's own over UDP and TCP, and scripted nameservers (UDP and TCP on one port of
 * 127.0.0.2 and 127.0.0.3, the port a test-only parameter) that answer by the question's
 * name, late or never. A poll loop of the test plays the control plane's loop over the one
 * descriptor the forwarder asks to watch and its one timer. Timeouts are shortened through
 * the configuration; every wait is on a condition with a deadline.
 *
 * Covered: UDP queries answered (id kept, answers over 1200 bytes cut with TC, the
 * nameserver's own SERVFAIL relayed, a malformed answer turned into SERVFAIL); TCP with the
 * length framing (a query split across two writes, two pipelined on one connection, a large
 * answer whole); the fastest of two nameservers chosen after ranking and the choice moving
 * when it stops answering, a nameserver that comes up late ranked soon; SERVFAIL after the
 * query timeout (UDP and TCP), and at once without nameservers; hostile UDP and TCP input
 * counted while the forwarder keeps serving; the in-flight and connection limits and the
 * idle timeout; bind failures retried 3 times then reported; listeners moved when the
 * addresses change; IPv6 when ::1 is there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "dnsmsg.h"
#include "forward.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { MAX_NS_CONNS = 8, MAX_PENDING = 64 };

struct ns {
	char ip[16];
	int udp, tcp;
	int conn[MAX_NS_CONNS];
	uint8_t cbuf[MAX_NS_CONNS][1024];
	size_t clen[MAX_NS_CONNS];
	unsigned delay_ms;     /* before each answer */
	bool silent;           /* never answers */
	unsigned probes, queries;
};

struct pending {
	bool used;
	int fd;
	bool tcp;
	struct sockaddr_in to;
	uint8_t b[2048];
	size_t n;
	uint64_t at;
};

static struct {
	struct fg_dnsfwd *f;
	int epfd;              /* what the forwarder asked to watch */
	uint64_t timer_at;     /* ns, 0 = none */
	int failed;            /* ops.failed's err */
	unsigned failed_calls;
	struct ns ns[2];
	unsigned n_ns;
	uint16_t ns_port, port;
	struct pending pend[MAX_PENDING];
	char conf[64];
	unsigned confs;
} T;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the owner's side ---- */

static void watch(void *ctx, int fd, bool readable, bool writable)
{
	(void)ctx;
	(void)writable;
	T.epfd = readable ? fd : -1;
}

static void arm(void *ctx, uint64_t us)
{
	(void)ctx;
	T.timer_at = us ? now_ns() + us * 1000 : 0;
}

static void failed(void *ctx, int err)
{
	(void)ctx;
	T.failed = err;
	T.failed_calls++;
}

/* ---- the scripted nameservers ---- */

static size_t put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t put_rr(uint8_t *r, unsigned type, const uint8_t *rdata, size_t rdlen)
{
	size_t o = 0;

	o += put16(r + o, 0xc00c);
	o += put16(r + o, type);
	o += put16(r + o, 1);
	o += put16(r + o, 0);
	o += put16(r + o, 60);
	o += put16(r + o, (unsigned)rdlen);
	memcpy(r + o, rdata, rdlen);
	return o + rdlen;
}

/* The answer to q by its name: 0 for none. */
static size_t ns_answer(struct ns *s, const uint8_t *q, size_t n, uint8_t *r)
{
	char name[256] = "";
	size_t i = 12, o = 0;
	int rcode = 0;
	unsigned an = 0;

	if (n < 17 || s->silent)
		return 0;
	while (i < n && q[i] && q[i] < 64 && o + q[i] + 1 < sizeof(name) && i + 1 + q[i] <= n) {
		memcpy(name + o, q + i + 1, q[i]);
		o += q[i];
		name[o++] = '.';
		i += (size_t)q[i] + 1;
	}
	name[o] = '\0';
	if (i + 5 > n || !strcmp(name, "slow.test."))
		return 0;
	if (!strcmp(name, "firezone.dev."))
		s->probes++;
	else
		s->queries++;
	if (!strcmp(name, "garbage.test.")) {
		memcpy(r, "\xde\xad\xbe\xef\x00", 5);
		return 5;
	}
	memcpy(r, q, i + 5);
	o = i + 5;
	if (!strcmp(name, "firezone.dev.")) {
		o += put_rr(r + o, 1, (const uint8_t *)"\xc6\x12\x00\x09", 4);
		an = 1;
	} else if (!strcmp(name, "who.test.")) {
		uint8_t txt[17];

		txt[0] = (uint8_t)strlen(s->ip);
		memcpy(txt + 1, s->ip, txt[0]);
		o += put_rr(r + o, 16, txt, 1u + txt[0]);
		an = 1;
	} else if (!strcmp(name, "big.test.")) {
		uint8_t txt[251];

		txt[0] = 250;
		memset(txt + 1, 'b', 250);
		for (an = 0; an < 5; an++)
			o += put_rr(r + o, 16, txt, sizeof(txt));
	} else if (!strcmp(name, "servfail.test.")) {
		rcode = 2;
	} else {
		rcode = 3;
	}
	r[2] = (uint8_t)(0x80 | (q[2] & 0x01));
	r[3] = (uint8_t)(0x80 | rcode);
	put16(r + 4, 1);
	put16(r + 6, an);
	put16(r + 8, 0);
	put16(r + 10, 0);
	return o;
}

static void later(int fd, bool tcp, const struct sockaddr_in *to, const uint8_t *b, size_t n, unsigned delay_ms)
{
	for (unsigned i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &T.pend[i];

		if (p->used)
			continue;
		p->used = true;
		p->fd = fd;
		p->tcp = tcp;
		if (to)
			p->to = *to;
		memcpy(p->b, b, n);
		p->n = n;
		p->at = now_ns() + (uint64_t)delay_ms * 1000000ull;
		return;
	}
	CU_FAIL("pending answers full");
}

static void ns_udp(struct ns *s)
{
	uint8_t q[2048], r[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s->udp, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	size_t k;

	if (n <= 0)
		return;
	k = ns_answer(s, q, (size_t)n, r);
	if (k)
		later(s->udp, false, &from, r, k, s->delay_ms);
}

static void ns_tcp_accept(struct ns *s)
{
	int fd = accept(s->tcp, NULL, NULL);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_NS_CONNS; i++) {
		if (s->conn[i] < 0) {
			s->conn[i] = fd;
			s->clen[i] = 0;
			return;
		}
	}
	close(fd);
}

static void ns_tcp_read(struct ns *s, int i)
{
	uint8_t r[2048 + 2];
	ssize_t n = recv(s->conn[i], s->cbuf[i] + s->clen[i], sizeof(s->cbuf[i]) - s->clen[i], MSG_DONTWAIT);

	if (n <= 0) {
		close(s->conn[i]);
		s->conn[i] = -1;
		return;
	}
	s->clen[i] += (size_t)n;
	while (s->clen[i] >= 2) {
		size_t len = (size_t)s->cbuf[i][0] << 8 | s->cbuf[i][1], k;

		if (s->clen[i] < 2 + len)
			break;
		k = ns_answer(s, s->cbuf[i] + 2, len, r + 2);
		if (k) {
			put16(r, (unsigned)k);
			later(s->conn[i], true, NULL, r, k + 2, s->delay_ms);
		}
		s->clen[i] -= 2 + len;
		memmove(s->cbuf[i], s->cbuf[i] + 2 + len, s->clen[i]);
	}
}

/* ---- the loop ---- */

struct polled {
	struct ns *s;
	int kind;              /* 0 UDP, 1 TCP listener, 2 TCP connection i */
	int i;
};

static void step(void)
{
	struct pollfd p[1 + 2 * (2 + MAX_NS_CONNS)];
	struct polled who[ARRAY_LEN(p)];
	unsigned n = 0;
	uint64_t now;

	if (T.epfd >= 0)
		p[n++] = (struct pollfd){ .fd = T.epfd, .events = POLLIN };
	for (unsigned k = 0; k < T.n_ns; k++) {
		struct ns *s = &T.ns[k];

		who[n] = (struct polled){ s, 0, 0 };
		p[n++] = (struct pollfd){ .fd = s->udp, .events = POLLIN };
		who[n] = (struct polled){ s, 1, 0 };
		p[n++] = (struct pollfd){ .fd = s->tcp, .events = POLLIN };
		for (int i = 0; i < MAX_NS_CONNS; i++) {
			if (s->conn[i] >= 0) {
				who[n] = (struct polled){ s, 2, i };
				p[n++] = (struct pollfd){ .fd = s->conn[i], .events = POLLIN };
			}
		}
	}
	poll(p, n, 2);
	for (unsigned i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (i == 0 && T.epfd >= 0) {
			fg_dnsfwd_io(T.f);
			continue;
		}
		if (who[i].kind == 0)
			ns_udp(who[i].s);
		else if (who[i].kind == 1)
			ns_tcp_accept(who[i].s);
		else if (who[i].s->conn[who[i].i] == p[i].fd)
			ns_tcp_read(who[i].s, who[i].i);
	}
	now = now_ns();
	for (unsigned i = 0; i < MAX_PENDING; i++) {
		struct pending *pd = &T.pend[i];

		if (!pd->used || now < pd->at)
			continue;
		pd->used = false;
		if (pd->tcp)
			send(pd->fd, pd->b, pd->n, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			sendto(pd->fd, pd->b, pd->n, 0, (const struct sockaddr *)&pd->to, sizeof(pd->to));
	}
	if (T.f && T.timer_at && now_ns() >= T.timer_at) {
		T.timer_at = 0;
		fg_dnsfwd_timer(T.f);
	}
}

static bool run_until(bool (*until)(void), unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	while (!until()) {
		if (now_ns() >= end)
			return false;
		step();
	}
	return true;
}

static void run_for(unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	while (now_ns() < end)
		step();
}

static struct fg_dnsfwd_stats st(void)
{
	struct fg_dnsfwd_stats s;

	fg_dnsfwd_stats(T.f, &s);
	return s;
}

static bool no_conns(void)
{
	return st().tcp_conns == 0;
}

static bool all_ranked(void)
{
	struct fg_dnsfwd_stats s = st();

	for (unsigned i = 0; i < s.n_upstreams; i++)
		if (!s.up[i].rtt_us)
			return false;
	return s.n_upstreams > 0;
}

/* ---- set-up ---- */

static int bind_to(int type, const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	inet_pton(AF_INET, ip, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	getsockname(fd, (struct sockaddr *)&a, &l);
	return ntohs(a.sin_port);
}

/* A port free for UDP and TCP on each of ips. */
static uint16_t free_port(const char *const *ips, unsigned n)
{
	for (int tries = 0; tries < 50; tries++) {
		int probe = bind_to(SOCK_STREAM, ips[0], 0);
		uint16_t port = port_of(probe);
		bool ok = true;

		close(probe);
		for (unsigned i = 0; i < n && ok; i++) {
			int u = bind_to(SOCK_DGRAM, ips[i], port), t = bind_to(SOCK_STREAM, ips[i], port);

			ok = u >= 0 && t >= 0;
			if (u >= 0)
				close(u);
			if (t >= 0)
				close(t);
		}
		if (ok)
			return port;
	}
	return 0;
}

static void ns_start(unsigned n)
{
	static const char *const ips[] = { "127.0.0.2", "127.0.0.3" };

	memset(T.ns, 0, sizeof(T.ns));
	memset(T.pend, 0, sizeof(T.pend));
	T.ns_port = free_port(ips, n);
	CU_ASSERT_NOT_EQUAL_FATAL(T.ns_port, 0);
	T.n_ns = n;
	for (unsigned i = 0; i < n; i++) {
		struct ns *s = &T.ns[i];

		snprintf(s->ip, sizeof(s->ip), "%s", ips[i]);
		s->udp = bind_to(SOCK_DGRAM, ips[i], T.ns_port);
		s->tcp = bind_to(SOCK_STREAM, ips[i], T.ns_port);
		CU_ASSERT_TRUE_FATAL(s->udp >= 0 && s->tcp >= 0);
		for (int k = 0; k < MAX_NS_CONNS; k++)
			s->conn[k] = -1;
	}
}

static void ns_stop(void)
{
	for (unsigned i = 0; i < T.n_ns; i++) {
		close(T.ns[i].udp);
		close(T.ns[i].tcp);
		for (int k = 0; k < MAX_NS_CONNS; k++)
			if (T.ns[i].conn[k] >= 0)
				close(T.ns[i].conn[k]);
	}
	T.n_ns = 0;
}

static void write_conf(const char *text)
{
	FILE *fp;

	snprintf(T.conf, sizeof(T.conf), "/tmp/fg-dnsfwd-%d-%u.conf", (int)getpid(), T.confs++);
	fp = fopen(T.conf, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs(text, fp);
	fclose(fp);
}

/* A forwarder over the nameservers started, listening on 127.0.0.1 at a free port. */
static struct fg_dnsfwd *start(struct fg_dnsfwd_config cfg, bool listen4)
{
	static const char *const lo[] = { "127.0.0.1" };
	const struct fg_dnsfwd_ops ops = { .watch = watch, .arm = arm, .failed = failed };
	char text[256] = "# scripted\nsearch test\noptions ndots:1\n";

	for (unsigned i = 0; i < T.n_ns; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "nameserver %s\n", T.ns[i].ip);
	write_conf(text);
	T.epfd = -1;
	T.timer_at = 0;
	T.failed = 0;
	T.failed_calls = 0;
	T.port = free_port(lo, 1);
	cfg.resolv_conf = T.conf;
	cfg.port = T.port;
	cfg.upstream_port = T.ns_port;
	T.f = fg_dnsfwd_new(&ops, NULL, &cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(T.f);
	CU_ASSERT_TRUE(T.epfd >= 0);
	if (listen4) {
		struct fg_ip v4;

		fg_ip_parse("127.0.0.1", &v4);
		CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, &v4, NULL), 0);
	}
	return T.f;
}

static void stop(void)
{
	fg_dnsfwd_free(T.f);
	CU_ASSERT_EQUAL(T.epfd, -1);
	CU_ASSERT_EQUAL(T.timer_at, 0);
	T.f = NULL;
	unlink(T.conf);
	ns_stop();
}

/* ---- clients ---- */

static size_t query(uint8_t *b, uint16_t id, const char *name, uint16_t type)
{
	size_t o = 12;

	memset(b, 0, 12);
	put16(b, id);
	b[2] = 0x01;
	put16(b + 4, 1);
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	o += put16(b + o, type);
	o += put16(b + o, 1);
	return o;
}

static int client(int type, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct fg_endpoint ep;
	int fd;

	CU_ASSERT_EQUAL_FATAL(fg_ip_parse(ip, &ep.ip), 0);
	ep.port = port;
	sl = fg_endpoint_to_sockaddr(&ep, &ss);
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram on fd within ms: its length, -1 on an error, -2 on none. */
static ssize_t wait_dgram(int fd, uint8_t *b, size_t cap, unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	for (;;) {
		ssize_t n = recv(fd, b, cap, MSG_DONTWAIT);

		if (n >= 0)
			return n;
		if (errno != EAGAIN)
			return -1;
		if (now_ns() >= end)
			return -2;
		step();
	}
}

/* The next framed message on a TCP fd within ms: its length; -1 closed, -2 none. */
static ssize_t wait_frame(int fd, uint8_t *b, size_t cap, unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	size_t got = 0;

	for (;;) {
		size_t need = got < 2 ? 2 - got : ((size_t)b[0] << 8 | b[1]) + 2 - got;
		ssize_t n;

		if (got >= 2 && need == 0) {
			memmove(b, b + 2, got - 2);
			return (ssize_t)got - 2;
		}
		if (got + need > cap)
			return -3;
		n = recv(fd, b + got, need, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return -1;
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (now_ns() >= end)
			return -2;
		step();
	}
}

static void send_frame(int fd, const uint8_t *q, size_t n)
{
	uint8_t b[4200];

	put16(b, (unsigned)n);
	memcpy(b + 2, q, n);
	CU_ASSERT_EQUAL(send(fd, b, n + 2, MSG_NOSIGNAL), (ssize_t)(n + 2));
}

static void wait_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	for (int i = 0; i < 500 && poll(&p, 1, 0) == 0; i++)
		step();
}

/* What the TXT of who.test. says: the nameserver that answered. */
static const char *txt_of(const uint8_t *b, ssize_t n, char *out, size_t cap)
{
	struct fg_dnsmsg a;
	size_t o;

	out[0] = '\0';
	if (n <= 0 || fg_dnsmsg_parse(b, (size_t)n, true, &a, NULL) < 0 || b[7] != 1)
		return out;
	o = a.question_end + 12;   /* the record's pointer, type, class, TTL, rdlen */
	if ((size_t)n > o && b[o] < cap && o + 1 + b[o] <= (size_t)n) {
		memcpy(out, b + o + 1, b[o]);
		out[b[o]] = '\0';
	}
	return out;
}

static void expect_servfail(const uint8_t *b, ssize_t n, uint16_t id, const char *name, uint16_t type)
{
	uint8_t q[300], want[FG_DNSMSG_SERVFAIL_MAX];
	struct fg_dnsmsg m;
	size_t qn = query(q, id, name, type), wn;

	CU_ASSERT_EQUAL_FATAL(fg_dnsmsg_parse(q, qn, false, &m, NULL), 0);
	wn = fg_dnsmsg_servfail(&m, want, sizeof(want));
	CU_ASSERT_EQUAL(n, (ssize_t)wn);
	if (n == (ssize_t)wn) {
		CU_ASSERT_EQUAL(memcmp(b, want, wn), 0);
		CU_ASSERT_EQUAL(b[2], 0x81);   /* QR, RD echoed */
		CU_ASSERT_EQUAL(b[3], 0x02);   /* RA clear, SERVFAIL */
	}
}

/* ---- tests ---- */

static void test_udp(void)
{
	uint8_t q[300], a[2048];
	char who[32];
	ssize_t n;
	int c;
	struct fg_dnsfwd_stats s;

	ns_start(1);
	start((struct fg_dnsfwd_config){ 0 }, true);
	CU_ASSERT_TRUE_FATAL(run_until(all_ranked, 10000));
	CU_ASSERT_TRUE(T.ns[0].probes >= 1);   /* UDP, and TCP as soon as it is in */
	c = client(SOCK_DGRAM, "127.0.0.1", T.port);
	send(c, q, query(q, 0x4242, "who.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE_FATAL(n > 12);
	CU_ASSERT_EQUAL(a[0], 0x42);
	CU_ASSERT_EQUAL(a[1], 0x42);
	CU_ASSERT_STRING_EQUAL(txt_of(a, n, who, sizeof(who)), "127.0.0.2");

	/* over 1200 bytes: cut after the question, TC set */
	send(c, q, query(q, 7, "big.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_EQUAL(n, 12 + 10 + 4);
	CU_ASSERT_TRUE(n > 2 && (a[2] & 0x02));
	CU_ASSERT_TRUE(n > 7 && a[7] == 0);

	/* the nameserver's SERVFAIL is its answer; a malformed answer is ours */
	send(c, q, query(q, 8, "servfail.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(n > 12 && (a[3] & 0x0f) == 2 && (a[3] & 0x80));   /* the nameserver's RA */
	send(c, q, query(q, 9, "garbage.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	expect_servfail(a, n, 9, "garbage.test", 16);

	s = st();
	CU_ASSERT_EQUAL(s.c.queries, 4);
	CU_ASSERT_EQUAL(s.c.answered, 3);
	CU_ASSERT_EQUAL(s.c.truncated, 1);
	CU_ASSERT_EQUAL(s.c.servfail, 1);
	CU_ASSERT_EQUAL(s.c.upstream_errors, 1);
	CU_ASSERT_EQUAL(s.up[0].queries, 4);
	CU_ASSERT_EQUAL(s.up[0].answers, 3);
	CU_ASSERT_EQUAL(s.up[0].failures, 1);
	CU_ASSERT_TRUE(s.up[0].fastest);
	CU_ASSERT_TRUE(s.listening);
	CU_ASSERT_EQUAL(s.n_listeners, 1);
	CU_ASSERT_EQUAL(s.listeners[0].port, T.port);
	CU_ASSERT_EQUAL(s.inflight, 0);
	close(c);
	stop();
}

static void test_tcp(void)
{
	uint8_t q[300], q2[300], a[4096], b[600];
	char who[32];
	ssize_t n;
	size_t qn, q2n;
	int c;

	ns_start(1);
	start((struct fg_dnsfwd_config){ 0 }, true);
	CU_ASSERT_TRUE_FATAL(run_until(all_ranked, 10000));
	c = client(SOCK_STREAM, "127.0.0.1", T.port);
	CU_ASSERT_TRUE_FATAL(c >= 0);
	wait_connected(c);

	/* one query in two writes, the split inside the question */
	qn = query(q, 0x0101, "who.test", 16);
	put16(b, (unsigned)qn);
	memcpy(b + 2, q, qn);
	CU_ASSERT_EQUAL(send(c, b, 7, MSG_NOSIGNAL), 7);
	run_for(30);
	CU_ASSERT_EQUAL(send(c, b + 7, qn + 2 - 7, MSG_NOSIGNAL), (ssize_t)(qn + 2 - 7));
	n = wait_frame(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE_FATAL(n > 12);
	CU_ASSERT_EQUAL(a[0], 0x01);
	CU_ASSERT_EQUAL(a[1], 0x01);
	CU_ASSERT_STRING_EQUAL(txt_of(a, n, who, sizeof(who)), "127.0.0.2");

	/* two pipelined in one write: both answered, in order */
	qn = query(q, 0x0202, "who.test", 16);
	q2n = query(q2, 0x0303, "big.test", 16);
	put16(b, (unsigned)qn);
	memcpy(b + 2, q, qn);
	put16(b + 2 + qn, (unsigned)q2n);
	memcpy(b + 4 + qn, q2, q2n);
	CU_ASSERT_EQUAL(send(c, b, qn + q2n + 4, MSG_NOSIGNAL), (ssize_t)(qn + q2n + 4));
	n = wait_frame(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(n > 12 && a[0] == 0x02 && a[1] == 0x02);
	n = wait_frame(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(n > 1200);   /* TCP: whole, no TC */
	CU_ASSERT_TRUE(n > 12 && a[0] == 0x03 && !(a[2] & 0x02) && a[7] == 5);
	CU_ASSERT_EQUAL(st().c.truncated, 0);
	CU_ASSERT_EQUAL(st().tcp_conns, 1);
	CU_ASSERT_EQUAL(st().c.tcp_accepted, 1);
	CU_ASSERT_TRUE(T.ns[0].queries == 3);   /* over TCP to the nameserver, as Rust */

	/* the client closes: the forwarder follows */
	close(c);
	CU_ASSERT_TRUE(run_until(no_conns, 10000));
	stop();
}

static bool fastest_is_b(void)
{
	struct fg_dnsfwd_stats s = st();

	return s.n_upstreams == 2 && s.up[1].fastest && s.up[0].rtt_us && s.up[1].rtt_us;
}

static bool fastest_is_a(void)
{
	struct fg_dnsfwd_stats s = st();

	return s.n_upstreams == 2 && s.up[0].fastest && !s.up[1].rtt_us;
}

static void test_fastest(void)
{
	uint8_t q[300], a[2048];
	char who[32];
	ssize_t n;
	int c;
	struct fg_dnsfwd_stats s;

	ns_start(2);
	T.ns[0].delay_ms = 120;   /* 127.0.0.2: slow, first in resolv.conf */
	start((struct fg_dnsfwd_config){ .probe_timeout_ms = 400, .rerank_ms = 700 }, true);
	CU_ASSERT_TRUE_FATAL(run_until(fastest_is_b, 10000));
	s = st();
	CU_ASSERT_TRUE(s.up[0].rtt_us >= 100000);
	CU_ASSERT_TRUE(s.up[1].rtt_us < s.up[0].rtt_us);
	CU_ASSERT_STRING_EQUAL(s.up[0].addr, "127.0.0.2");
	c = client(SOCK_DGRAM, "127.0.0.1", T.port);
	send(c, q, query(q, 1, "who.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_STRING_EQUAL(txt_of(a, n, who, sizeof(who)), "127.0.0.3");

	/* the fast one stops answering: the next round moves the queries */
	T.ns[1].silent = true;
	T.ns[0].delay_ms = 0;
	CU_ASSERT_TRUE_FATAL(run_until(fastest_is_a, 10000));
	CU_ASSERT_TRUE(st().c.probe_rounds >= 2);
	send(c, q, query(q, 2, "who.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_STRING_EQUAL(txt_of(a, n, who, sizeof(who)), "127.0.0.2");
	close(c);
	stop();
}

/* Rust re-ranks once a minute; while nothing is ranked, rounds come every probe timeout */
static void test_late_nameserver(void)
{
	ns_start(1);
	T.ns[0].silent = true;   /* not up yet */
	start((struct fg_dnsfwd_config){ .probe_timeout_ms = 150 }, true);
	run_for(200);
	CU_ASSERT_FALSE(all_ranked());
	T.ns[0].silent = false;
	CU_ASSERT_TRUE(run_until(all_ranked, 10000));   /* not the default 60 s */
	CU_ASSERT_TRUE(st().c.probe_rounds >= 2);
	stop();
}

static void test_timeout(void)
{
	uint8_t q[300], a[2048];
	ssize_t n;
	int c, t;
	uint64_t t0;
	struct fg_dnsfwd_stats s;

	ns_start(1);
	start((struct fg_dnsfwd_config){ .query_timeout_ms = 300 }, true);
	CU_ASSERT_TRUE_FATAL(run_until(all_ranked, 10000));
	c = client(SOCK_DGRAM, "127.0.0.1", T.port);
	t0 = now_ns();
	send(c, q, query(q, 0x5151, "slow.test", 33), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(now_ns() - t0 >= 280000000ull);
	expect_servfail(a, n, 0x5151, "slow.test", 33);

	t = client(SOCK_STREAM, "127.0.0.1", T.port);
	wait_connected(t);
	send_frame(t, q, query(q, 0x5252, "slow.test", 16));
	n = wait_frame(t, a, sizeof(a), 10000);
	expect_servfail(a, n, 0x5252, "slow.test", 16);
	/* the connection goes on */
	send_frame(t, q, query(q, 0x5353, "who.test", 16));
	n = wait_frame(t, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(n > 12 && a[0] == 0x53 && (a[3] & 0x0f) == 0);
	s = st();
	CU_ASSERT_EQUAL(s.c.timeouts, 2);
	CU_ASSERT_EQUAL(s.c.servfail, 2);
	CU_ASSERT_EQUAL(s.up[0].failures, 2);
	CU_ASSERT_EQUAL(s.inflight, 0);
	close(c);
	close(t);
	stop();
}

static void test_no_nameserver(void)
{
	const struct fg_dnsfwd_ops ops = { .watch = watch, .arm = arm };
	uint8_t q[300], a[2048];
	ssize_t n;
	int c, t;
	struct fg_dnsfwd_config cfg = { .resolv_conf = "/nonexistent/resolv.conf" };

	/* as Rust, which does not start without the file */
	CU_ASSERT_PTR_NULL(fg_dnsfwd_new(&ops, NULL, &cfg));
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NULL(fg_dnsfwd_new(&(struct fg_dnsfwd_ops){ .watch = watch }, NULL, &cfg));
	CU_ASSERT_EQUAL(errno, EINVAL);

	T.n_ns = 0;
	start((struct fg_dnsfwd_config){ 0 }, true);   /* resolv.conf without nameserver lines */
	CU_ASSERT_EQUAL(st().n_upstreams, 0);
	c = client(SOCK_DGRAM, "127.0.0.1", T.port);
	send(c, q, query(q, 0x6161, "a.example", 33), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	expect_servfail(a, n, 0x6161, "a.example", 33);
	t = client(SOCK_STREAM, "127.0.0.1", T.port);
	wait_connected(t);
	send_frame(t, q, query(q, 0x6262, "b.example", 16));
	n = wait_frame(t, a, sizeof(a), 10000);
	expect_servfail(a, n, 0x6262, "b.example", 16);
	CU_ASSERT_EQUAL(st().c.no_nameserver, 2);
	CU_ASSERT_EQUAL(st().c.servfail, 2);
	CU_ASSERT_EQUAL(st().c.probe_rounds, 0);
	close(c);
	close(t);
	stop();

	/* bad lines are warnings; duplicates once; Rust's order: IPv4 first */
	/* (loopback only: the first ranking round probes them) */
	write_conf("nameserver ::1\nnameserver not-an-ip\nnameserver 127.0.0.8\n"
		   "nameserver 127.0.0.7 # comment\nnameserver 127.0.0.8\nnameserver fe80::1%1\n"
		   "nameserver\n  nameserver 127.0.0.9\n");
	cfg.resolv_conf = T.conf;
	cfg.probe_timeout_ms = 50;
	cfg.upstream_port = free_port((const char *const[]){ "127.0.0.1" }, 1);
	T.f = fg_dnsfwd_new(&ops, NULL, &cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(T.f);
	struct fg_dnsfwd_stats s = st();

	CU_ASSERT_EQUAL(s.n_upstreams, 5);
	CU_ASSERT_STRING_EQUAL(s.up[0].addr, "127.0.0.7");
	CU_ASSERT_STRING_EQUAL(s.up[1].addr, "127.0.0.8");
	CU_ASSERT_STRING_EQUAL(s.up[2].addr, "127.0.0.9");
	CU_ASSERT_STRING_EQUAL(s.up[3].addr, "::1");
	CU_ASSERT_STRING_EQUAL(s.up[4].addr, "fe80::1%1");
	fg_dnsfwd_free(T.f);
	T.f = NULL;
	unlink(T.conf);
}

static bool counted_hostile(void)
{
	struct fg_dnsfwd_stats s = st();

	return s.c.drop_malformed >= 3 && s.c.drop_oversized >= 1;
}

static void test_hostile(void)
{
	uint8_t q[3000], a[2048];
	ssize_t n;
	int c, t;
	size_t qn;
	struct fg_dnsfwd_stats s;

	ns_start(1);
	start((struct fg_dnsfwd_config){ 0 }, true);
	CU_ASSERT_TRUE_FATAL(run_until(all_ranked, 10000));
	c = client(SOCK_DGRAM, "127.0.0.1", T.port);
	send(c, "\x12\x34\x01\x00\x00", 5, 0);                    /* shorter than a header */
	qn = query(q, 1, "who.test", 16);
	q[2] |= 0x80;
	send(c, q, qn, 0);                                         /* QR set */
	qn = query(q, 2, "who.test", 16);
	q[5] = 2;
	send(c, q, qn, 0);                                         /* QDCOUNT 2 */
	memset(q, 0, 2500);
	query(q, 3, "who.test", 16);
	send(c, q, 2500, 0);                                       /* over 2,000 bytes */
	CU_ASSERT_TRUE(run_until(counted_hostile, 10000));
	CU_ASSERT_EQUAL(wait_dgram(c, a, sizeof(a), 50), -2);      /* none answered */
	s = st();
	CU_ASSERT_EQUAL(s.c.drop_malformed, 3);
	CU_ASSERT_EQUAL(s.c.drop_oversized, 1);
	CU_ASSERT_EQUAL(s.c.queries, 0);

	/* TCP: a zero length, a length over the limit, garbage, a query cut by the close:
	 * each closes its connection, counted */
	static const struct { const char *b; size_t n; bool shut; } tcp[] = {
		{ "\x00\x00", 2, false },
		{ "\xff\xff", 2, false },
		{ "\x00\x05hello", 7, false },
		{ "\x00\x20\x12\x34\x01", 5, true },
	};
	for (size_t i = 0; i < ARRAY_LEN(tcp); i++) {
		t = client(SOCK_STREAM, "127.0.0.1", T.port);
		wait_connected(t);
		CU_ASSERT_EQUAL(send(t, tcp[i].b, tcp[i].n, MSG_NOSIGNAL), (ssize_t)tcp[i].n);
		if (tcp[i].shut)
			shutdown(t, SHUT_WR);
		CU_ASSERT_EQUAL(wait_frame(t, a, sizeof(a), 10000), -1);   /* closed, unanswered */
		close(t);
	}
	CU_ASSERT_TRUE(run_until(no_conns, 10000));
	s = st();
	CU_ASSERT_EQUAL(s.c.drop_malformed, 3 + 3);
	CU_ASSERT_EQUAL(s.c.drop_oversized, 1 + 1);

	/* still serving, both ways */
	send(c, q, query(q, 0x7777, "who.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(n > 12 && a[0] == 0x77);
	t = client(SOCK_STREAM, "127.0.0.1", T.port);
	wait_connected(t);
	send_frame(t, q, query(q, 0x7878, "who.test", 16));
	n = wait_frame(t, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(n > 12 && a[0] == 0x78);
	close(t);
	close(c);
	stop();
}

static bool busy_counted(void)
{
	return st().c.drop_busy >= 1;
}

static bool two_idle_closed(void)
{
	return st().c.tcp_idle >= 2;
}

static void test_limits(void)
{
	uint8_t q[300], a[2048];
	int c, t[3];
	struct fg_dnsfwd_stats s;

	ns_start(1);
	start((struct fg_dnsfwd_config){ .max_inflight = 2, .max_tcp = 2, .tcp_idle_ms = 1500, .query_timeout_ms = 3000 },
	      true);
	CU_ASSERT_TRUE_FATAL(run_until(all_ranked, 10000));
	c = client(SOCK_DGRAM, "127.0.0.1", T.port);
	for (int i = 0; i < 3; i++)
		send(c, q, query(q, (uint16_t)(0x100 + i), "slow.test", 16), 0);
	CU_ASSERT_TRUE(run_until(busy_counted, 10000));
	s = st();
	CU_ASSERT_EQUAL(s.inflight, 2);
	CU_ASSERT_EQUAL(s.c.drop_busy, 1);
	CU_ASSERT_EQUAL(s.c.queries, 3);

	/* two connections, the third closed at once */
	for (int i = 0; i < 3; i++) {
		t[i] = client(SOCK_STREAM, "127.0.0.1", T.port);
		wait_connected(t[i]);
	}
	CU_ASSERT_EQUAL(wait_frame(t[2], a, sizeof(a), 10000), -1);
	s = st();
	CU_ASSERT_EQUAL(s.tcp_conns, 2);
	CU_ASSERT_EQUAL(s.c.tcp_refused, 1);
	/* a TCP query while the in-flight limit holds: its connection closes */
	send_frame(t[0], q, query(q, 0x200, "who.test", 16));
	CU_ASSERT_EQUAL(wait_frame(t[0], a, sizeof(a), 10000), -1);
	CU_ASSERT_EQUAL(st().c.drop_busy, 2);
	/* the other one, idle, is closed after the idle timeout; so is one that wrote half a length */
	close(t[2]);
	t[2] = client(SOCK_STREAM, "127.0.0.1", T.port);
	wait_connected(t[2]);
	CU_ASSERT_EQUAL(send(t[2], "\x00", 1, MSG_NOSIGNAL), 1);
	CU_ASSERT_TRUE(run_until(two_idle_closed, 10000));
	CU_ASSERT_EQUAL(wait_frame(t[1], a, sizeof(a), 10000), -1);
	CU_ASSERT_EQUAL(st().tcp_conns, 0);
	for (int i = 0; i < 3; i++)
		close(t[i]);
	close(c);
	stop();
}

static bool failed_once(void)
{
	return T.failed_calls > 0;
}

static void test_bind_failure(void)
{
	struct fg_ip v4;
	int hog;
	uint64_t t0;

	ns_start(1);
	start((struct fg_dnsfwd_config){ .bind_retry_ms = 100 }, false);
	hog = bind_to(SOCK_DGRAM, "127.0.0.1", T.port);
	CU_ASSERT_TRUE_FATAL(hog >= 0);
	fg_ip_parse("127.0.0.1", &v4);
	t0 = now_ns();
	CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, &v4, NULL), -EINPROGRESS);
	CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, &v4, NULL), -EINPROGRESS);   /* same: no new attempts */
	CU_ASSERT_TRUE(run_until(failed_once, 10000));
	CU_ASSERT_TRUE(now_ns() - t0 >= 190000000ull);   /* two retries 100 ms apart */
	CU_ASSERT_EQUAL(T.failed, -EADDRINUSE);
	CU_ASSERT_EQUAL(T.failed_calls, 1);
	CU_ASSERT_FALSE(st().listening);
	run_for(300);
	CU_ASSERT_EQUAL(T.failed_calls, 1);                                /* no fourth attempt */

	/* the address is free again: a later call binds */
	close(hog);
	CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, &v4, NULL), 0);
	CU_ASSERT_TRUE(st().listening);
	CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, NULL, NULL), -EINVAL);
	stop();
}

static bool v6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_addresses(void)
{
	struct fg_ip v4, v4b, v6;
	uint8_t q[300], a[2048];
	ssize_t n;
	int c;

	ns_start(1);
	start((struct fg_dnsfwd_config){ 0 }, true);
	CU_ASSERT_TRUE_FATAL(run_until(all_ranked, 10000));
	fg_ip_parse("127.0.0.1", &v4);
	fg_ip_parse("127.0.0.4", &v4b);
	CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, &v4, NULL), 0);   /* unchanged: nothing happens */
	CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, &v4b, NULL), 0);  /* changed: moved */
	c = client(SOCK_DGRAM, "127.0.0.1", T.port);
	send(c, q, query(q, 1, "who.test", 16), 0);
	CU_ASSERT_TRUE(wait_dgram(c, a, sizeof(a), 200) < 0);
	close(c);
	c = client(SOCK_DGRAM, "127.0.0.4", T.port);
	send(c, q, query(q, 2, "who.test", 16), 0);
	n = wait_dgram(c, a, sizeof(a), 10000);
	CU_ASSERT_TRUE(n > 12 && a[1] == 2);
	close(c);

	if (v6_loopback()) {
		fg_ip_parse("::1", &v6);
		CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, &v4, &v6), 0);
		CU_ASSERT_EQUAL(st().n_listeners, 2);
		c = client(SOCK_DGRAM, "::1", T.port);
		send(c, q, query(q, 3, "who.test", 16), 0);
		n = wait_dgram(c, a, sizeof(a), 10000);
		CU_ASSERT_TRUE(n > 12 && a[1] == 3);
		close(c);
		c = client(SOCK_STREAM, "::1", T.port);
		wait_connected(c);
		send_frame(c, q, query(q, 4, "who.test", 16));
		n = wait_frame(c, a, sizeof(a), 10000);
		CU_ASSERT_TRUE(n > 12 && a[1] == 4);
		close(c);
		/* IPv6 only */
		CU_ASSERT_EQUAL(fg_dnsfwd_listen(T.f, NULL, &v6), 0);
		CU_ASSERT_EQUAL(st().n_listeners, 1);
	} else {
		printf("(no ::1 here: IPv6 part skipped) ");
	}
	fg_dnsfwd_unlisten(T.f);
	CU_ASSERT_FALSE(st().listening);
	CU_ASSERT_EQUAL(st().n_listeners, 0);
	stop();
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "UDP queries answered, cut at 1200, malformed answers SERVFAIL", test_udp },
		{ "TCP framing: split, pipelined, large answers", test_tcp },
		{ "the fastest nameserver after ranking, and after it stops", test_fastest },
		{ "nothing ranked yet: the next round soon, not in a minute", test_late_nameserver },
		{ "SERVFAIL after the query timeout, UDP and TCP", test_timeout },
		{ "no nameserver: SERVFAIL at once; resolv.conf read as Rust", test_no_nameserver },
		{ "hostile UDP and TCP input counted, still serving", test_hostile },
		{ "in-flight and connection limits, idle connections", test_limits },
		{ "bind failures: 3 attempts 100 ms apart, then reported", test_bind_failure },
		{ "listeners follow the addresses, IPv6 too", test_addresses },
	};

	signal(SIGPIPE, SIG_IGN);
	return fg_cunit_run("dns_forward", tests, ARRAY_LEN(tests));
}
