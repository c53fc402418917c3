// SPDX-License-Identifier: MIT
/*
 * DNS resource lookups (controlplane/dns/resolve.c) with the real c-ares against a
 * scripted DNS server on loopback, driven by a poll loop of the test's own that plays the
 * control plane's loop: A and AAAA both, one family only, NXDOMAIN and SERVFAIL (no
 * records, not a timeout), no answer (the timeout, for both families or one), malformed
 * answers, the in-flight limit, names refused, and freeing with lookups in flight.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "resolve.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct {
	int srv;                 /* the scripted server's socket */
	char servers[64];
	int fds[16];
	bool rd[16], wr[16];
	unsigned nfds;
	uint64_t timer_at;       /* ns, 0 = none */
	unsigned queries;
} T;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void watch(void *ctx, int fd, bool readable, bool writable)
{
	unsigned i;

	(void)ctx;
	for (i = 0; i < T.nfds && T.fds[i] != fd; i++)
		;
	if (!readable && !writable) {
		if (i < T.nfds) {
			T.fds[i] = T.fds[--T.nfds];
			T.rd[i] = T.rd[T.nfds];
			T.wr[i] = T.wr[T.nfds];
		}
		return;
	}
	if (i == T.nfds && T.nfds < ARRAY_LEN(T.fds))
		T.nfds++;
	T.fds[i] = fd;
	T.rd[i] = readable;
	T.wr[i] = writable;
}

static void arm(void *ctx, uint64_t us)
{
	(void)ctx;
	T.timer_at = us ? now_ns() + us * 1000 : 0;
}

/* ---- the scripted server ---- */

static size_t put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static void answer(const uint8_t *q, size_t n, const struct sockaddr_in *from)
{
	char name[256] = "";
	size_t i = 12, o = 0;
	unsigned qtype;
	uint8_t r[512];
	int rcode = 0, na = 0;
	const char *rdata[2] = { NULL, NULL };

	if (n < 17)
		return;
	while (i < n && q[i] && o + q[i] + 1 < sizeof(name)) {
		memcpy(name + o, q + i + 1, q[i]);
		o += q[i];
		name[o++] = '.';
		i += (size_t)q[i] + 1;
	}
	name[o] = '\0';
	if (i + 5 > n)
		return;
	qtype = (unsigned)(q[i + 1] << 8 | q[i + 2]);
	T.queries++;
	if (!strcmp(name, "both.test.")) {
		na = 2;
		rdata[0] = qtype == 1 ? "198.18.0.1" : "2001:2::1";
		rdata[1] = qtype == 1 ? "198.18.0.2" : "2001:2::2";
	} else if (!strcmp(name, "v4.test.")) {
		na = qtype == 1;
		rdata[0] = "198.18.0.3";
	} else if (!strcmp(name, "nx.test.")) {
		rcode = 3;
	} else if (!strcmp(name, "servfail.test.")) {
		rcode = 2;
	} else if (!strcmp(name, "slow.test.") || (!strcmp(name, "slow6.test.") && qtype == 28)) {
		return;   /* never answered */
	} else if (!strcmp(name, "slow6.test.")) {
		na = 1;
		rdata[0] = "198.18.0.6";
	} else if (!strcmp(name, "garbage.test.")) {
		static const uint8_t junk[] = { 0xde, 0xad };

		sendto(T.srv, junk, sizeof(junk), 0, (const struct sockaddr *)from, sizeof(*from));
		rcode = 3;   /* then a real answer: the junk was dropped */
	} else {
		rcode = 3;
	}
	memcpy(r, q, i + 5);
	r[2] = 0x81;
	r[3] = (uint8_t)(0x80 | rcode);
	put16(r + 4, 1);
	put16(r + 6, (unsigned)na);
	put16(r + 8, 0);
	put16(r + 10, 0);
	o = i + 5;
	for (int k = 0; k < na; k++) {
		uint8_t a[16];
		unsigned len = qtype == 1 ? 4 : 16;

		inet_pton(qtype == 1 ? AF_INET : AF_INET6, rdata[k], a);
		o += put16(r + o, 0xc00c);
		o += put16(r + o, qtype);
		o += put16(r + o, 1);
		o += put16(r + o, 0);
		o += put16(r + o, 60);
		o += put16(r + o, len);
		memcpy(r + o, a, len);
		o += len;
	}
	sendto(T.srv, r, o, 0, (const struct sockaddr *)from, sizeof(*from));
}

/* ---- the loop ---- */

static void run(struct fg_dns_resolver *r, bool (*until)(void), unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	while (!until() && now_ns() < end) {
		struct pollfd p[17];
		unsigned n = 0;
		int wait = 10;

		p[n++] = (struct pollfd){ .fd = T.srv, .events = POLLIN };
		for (unsigned i = 0; i < T.nfds; i++)
			p[n++] = (struct pollfd){ .fd = T.fds[i],
						  .events = (short)((T.rd[i] ? POLLIN : 0) | (T.wr[i] ? POLLOUT : 0)) };
		poll(p, n, wait);
		if (p[0].revents & POLLIN) {
			uint8_t q[512];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t got = recvfrom(T.srv, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);

			if (got > 0)
				answer(q, (size_t)got, &from);
		}
		for (unsigned i = 1; i < n; i++)
			if (p[i].revents)
				fg_dns_resolver_io(r, p[i].fd, (p[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0,
					       (p[i].revents & POLLOUT) != 0);
		if (T.timer_at && now_ns() >= T.timer_at) {
			T.timer_at = 0;
			fg_dns_resolver_timer(r);
		}
	}
}

struct got {
	bool done;
	unsigned calls;
	struct fg_resolve_result res;
};

static void done(void *arg, const struct fg_resolve_result *res)
{
	struct got *g = arg;

	g->calls++;
	g->done = true;
	g->res = *res;
}

static struct got G[4];
static bool all4(void)
{
	return G[0].done && G[1].done && G[2].done && G[3].done;
}

static struct fg_dns_resolver *make(unsigned timeout_ms)
{
	const struct fg_resolve_ops ops = { .watch = watch, .arm = arm };
	const struct fg_resolve_config cfg = { .servers = T.servers, .timeout_ms = timeout_ms };

	memset(G, 0, sizeof(G));
	return fg_dns_resolver_new(&ops, NULL, &cfg);
}

static bool has(const struct fg_ip *ips, unsigned n, const char *want)
{
	char b[64];

	for (unsigned i = 0; i < n; i++)
		if (!strcmp(inet_ntop(ips[i].family, ips[i].addr, b, sizeof(b)), want))
			return true;
	return false;
}

static void test_answers(void)
{
	struct fg_dns_resolver *r = make(2000);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "both.test.", done, &G[0]), 0);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "v4.test.", done, &G[1]), 0);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "nx.test.", done, &G[2]), 0);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "servfail.test.", done, &G[3]), 0);
	CU_ASSERT_FALSE(G[0].done);   /* never from inside the call */
	CU_ASSERT_EQUAL(fg_dns_resolver_inflight(r), 4);
	run(r, all4, 5000);
	CU_ASSERT_EQUAL(G[0].res.status, FG_RESOLVE_OK);
	CU_ASSERT_EQUAL(G[0].res.n4, 2);
	CU_ASSERT_EQUAL(G[0].res.n6, 2);
	CU_ASSERT_TRUE(has(G[0].res.v4, G[0].res.n4, "198.18.0.2"));
	CU_ASSERT_TRUE(has(G[0].res.v6, G[0].res.n6, "2001:2::1"));
	CU_ASSERT_EQUAL(G[1].res.status, FG_RESOLVE_OK);
	CU_ASSERT_EQUAL(G[1].res.n4, 1);
	CU_ASSERT_EQUAL(G[1].res.n6, 0);
	/* a failed lookup is no records, not a timeout (only a timeout means Inactive) */
	CU_ASSERT_EQUAL(G[2].res.status, FG_RESOLVE_OK);
	CU_ASSERT_EQUAL(G[2].res.n4 + G[2].res.n6, 0);
	CU_ASSERT_EQUAL(G[3].res.status, FG_RESOLVE_OK);
	CU_ASSERT_EQUAL(G[3].res.n4 + G[3].res.n6, 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(G[i].calls, 1);
	CU_ASSERT_EQUAL(fg_dns_resolver_inflight(r), 0);
	fg_dns_resolver_free(r);
	CU_ASSERT_EQUAL(T.nfds, 0);
}

static void test_timeouts(void)
{
	struct fg_dns_resolver *r = make(400);
	uint64_t t0 = now_ns();

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "slow.test.", done, &G[0]), 0);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "slow6.test.", done, &G[1]), 0);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "garbage.test.", done, &G[2]), 0);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "both.test.", done, &G[3]), 0);
	run(r, all4, 5000);
	CU_ASSERT_EQUAL(G[0].res.status, FG_RESOLVE_TIMEOUT);
	CU_ASSERT_EQUAL(G[1].res.status, FG_RESOLVE_TIMEOUT);   /* one family late is a timeout */
	CU_ASSERT_EQUAL(G[2].res.status, FG_RESOLVE_OK);        /* junk dropped, the answer taken */
	CU_ASSERT_EQUAL(G[3].res.status, FG_RESOLVE_OK);
	CU_ASSERT_TRUE(now_ns() - t0 >= 400000000ull);
	/* the late answers of the timed-out lookups (c-ares retries) are dropped quietly */
	run(r, all4, 300);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(G[i].calls, 1);
	fg_dns_resolver_free(r);
}

static void test_limits_and_free(void)
{
	static struct got many[FG_RESOLVE_MAX_INFLIGHT];
	struct fg_dns_resolver *r = make(10000);
	struct got extra = { 0 };
	unsigned cancelled = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned i = 0; i < FG_RESOLVE_MAX_INFLIGHT; i++)
		CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "slow.test.", done, &many[i]), 0);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "slow.test.", done, &extra), -EBUSY);
	CU_ASSERT_EQUAL(fg_dns_resolver_inflight(r), FG_RESOLVE_MAX_INFLIGHT);
	fg_dns_resolver_free(r);
	for (unsigned i = 0; i < FG_RESOLVE_MAX_INFLIGHT; i++)
		cancelled += many[i].calls == 1 && many[i].res.status == FG_RESOLVE_CANCELLED;
	CU_ASSERT_EQUAL(cancelled, FG_RESOLVE_MAX_INFLIGHT);
	CU_ASSERT_EQUAL(extra.calls, 0);
	fg_dns_resolver_free(NULL);
}

static void test_refused(void)
{
	const struct fg_resolve_ops none = { 0 };
	const struct fg_resolve_config bad = { .servers = "not-an-address" };
	const struct fg_resolve_ops ops = { .watch = watch, .arm = arm };
	struct fg_dns_resolver *r;
	static const char *const names[] = { "", ".", "..a", "a..b", "a b", "a\nb" };
	char longname[300];

	CU_ASSERT_PTR_NULL(fg_dns_resolver_new(&none, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(fg_dns_resolver_new(&ops, NULL, &bad));
	r = make(1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, names[i], done, &G[0]), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, longname, done, &G[0]), -EINVAL);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, NULL, done, &G[0]), -EINVAL);
	CU_ASSERT_EQUAL(fg_dns_resolver_lookup(r, "a.test.", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(fg_dns_resolver_inflight(r), 0);
	fg_dns_resolver_free(r);
}

static int setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);

	T.srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (T.srv < 0 || bind(T.srv, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(T.srv, (struct sockaddr *)&a, &l) < 0)
		return 1;
	snprintf(T.servers, sizeof(T.servers), "127.0.0.1:%u", ntohs(a.sin_port));
	return 0;
}

static int teardown(void)
{
	close(T.srv);
	return 0;
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "A and AAAA, one family, NXDOMAIN and SERVFAIL", test_answers },
		{ "timeouts (both families, one family), junk dropped", test_timeouts },
		{ "1000 in flight, then -EBUSY; freeing cancels each once", test_limits_and_free },
		{ "bad configuration and names refused", test_refused },
	};
	static const struct fg_cunit_suite suite = { "dns_resolve", setup, teardown, tests, ARRAY_LEN(tests) };

	return fg_cunit_run_suites(&suite, 1);
}
