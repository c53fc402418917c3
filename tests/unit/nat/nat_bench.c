// SPDX-License-Identifier: MIT
/*
 * The nat suite's bench (nat_bench.h): the fake data plane on one end of a socketpair, the
 * scripted DNS server on loopback, the owner's poll loop, and the exact expected bytes of
 * NAT_SET and P2P_OUT built here by hand from ctlproto.h, not by the code under test.
 */
#include "nat_bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "p2p.h"

struct bench B;

enum {
	RX_MAX = FG_CTL_MAX_MSG,
	POLL_MAX = 4 + BENCH_WATCH,
	SETTLE_ROUNDS = 100000,
};

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hdr(struct fg_ctl_hdr *h, uint16_t type, uint32_t seq)
{
	h->version = FG_CTL_VERSION;
	h->type = type;
	h->seq = seq;
}

/* ---- the fake data plane ------------------------------------------------------------------ */

static void dp_send(const void *msg, size_t len)
{
	CU_ASSERT_FATAL(B.dp >= 0);
	CU_ASSERT_EQUAL(send(B.dp, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL), (ssize_t)len);
}

static void dp_reply(uint32_t seq, int status)
{
	struct fg_ctl_reply r;

	memset(&r, 0, sizeof(r));
	hdr(&r.h, FG_CTL_REPLY, seq);
	r.status = status;
	dp_send(&r, sizeof(r));
}

static void dp_record(const uint8_t *buf, size_t n, const struct fg_ctl_hdr *h)
{
	struct dp_msg *m;

	if (B.nmsgs == B.capmsgs) {
		unsigned cap = B.capmsgs ? B.capmsgs * 2 : 64;
		struct dp_msg *nm = realloc(B.msgs, cap * sizeof(*nm));

		CU_ASSERT_PTR_NOT_NULL_FATAL(nm);
		B.msgs = nm;
		B.capmsgs = cap;
	}
	m = &B.msgs[B.nmsgs++];
	m->type = h->type;
	m->seq = h->seq;
	m->len = n;
	m->buf = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->buf);
	memcpy(m->buf, buf, n);
}

static void dp_handle(const uint8_t *buf, size_t n)
{
	struct fg_ctl_hdr h;

	if (n < sizeof(h)) {
		B.dp_bad = true;
		return;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.version != FG_CTL_VERSION || fg_ctl_msg_size(buf, n) != n) {
		B.dp_bad = true;
		return;
	}
	dp_record(buf, n, &h);
	if (h.type == FG_CTL_NAT_SET && B.hold_nat) {
		CU_ASSERT_FATAL(B.nheld < BENCH_HELD);
		B.held[B.nheld++] = h.seq;
		return;
	}
	dp_reply(h.seq, h.type == FG_CTL_NAT_SET ? B.nat_status : 0);
}

static bool dp_readable(void)
{
	_Alignas(max_align_t) static uint8_t buf[RX_MAX];
	bool progress = false;

	while (B.dp >= 0) {
		ssize_t n = recv(B.dp, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n <= 0)
			break;
		CU_ASSERT_FATAL((size_t)n <= sizeof(buf));
		dp_handle(buf, (size_t)n);
		progress = true;
	}
	return progress;
}

void bench_release_nat(int status)
{
	for (unsigned i = 0; i < B.nheld; i++)
		dp_reply(B.held[i], status);
	B.nheld = 0;
}

void bench_p2p_in(uint8_t key, const void *payload, size_t len)
{
	_Alignas(max_align_t) uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX];
	struct fg_ctl_p2p *m = (void *)buf;

	CU_ASSERT_FATAL(len <= FG_CTL_P2P_MAX);
	memset(m, 0, sizeof(*m));
	hdr(&m->h, FG_CTL_P2P_IN, 0);
	memset(m->public_key, key, 32);
	m->len = (uint16_t)len;
	if (len)
		memcpy(m->payload, payload, len);
	dp_send(m, sizeof(*m) + len);
}

void bench_assigned(uint8_t key, const char *resource, const char *domain, const char *const *proxies,
		    unsigned n)
{
	char body[FG_CTL_P2P_MAX];
	int off = FG_P2P_HEADER_LEN;

	memset(body, 0, FG_P2P_HEADER_LEN);
	body[0] = FG_P2P_ASSIGNED_IPS;
	off += snprintf(body + off, sizeof(body) - (size_t)off, "{\"resource\":\"%s\",\"domain\":\"%s\",\"proxy_ips\":[",
			resource, domain);
	for (unsigned i = 0; i < n; i++)
		off += snprintf(body + off, sizeof(body) - (size_t)off, "%s\"%s\"", i ? "," : "", proxies[i]);
	off += snprintf(body + off, sizeof(body) - (size_t)off, "]}");
	CU_ASSERT_FATAL(off < (int)sizeof(body));
	bench_p2p_in(key, body, (size_t)off);
}

void bench_event(uint8_t key, uint32_t kind, const char *resource)
{
	struct fg_ctl_event ev;

	memset(&ev, 0, sizeof(ev));
	hdr(&ev.h, FG_CTL_EVENT, 0);
	ev.kind = kind;
	memset(ev.public_key, key, 32);
	if (resource)
		snprintf(ev.resource_id, sizeof(ev.resource_id), "%s", resource);
	dp_send(&ev, sizeof(ev));
}

unsigned bench_count(uint16_t type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < B.nmsgs; i++)
		n += type == 0 || B.msgs[i].type == type;
	return n;
}

const struct dp_msg *bench_nth(uint16_t type, unsigned k)
{
	for (unsigned i = 0; i < B.nmsgs; i++)
		if ((type == 0 || B.msgs[i].type == type) && k-- == 0)
			return &B.msgs[i];
	return NULL;
}

void bench_clear(void)
{
	for (unsigned i = 0; i < B.nmsgs; i++)
		free(B.msgs[i].buf);
	B.nmsgs = 0;
}

/* ---- the DNS server ------------------------------------------------------------------------ */

/* The script: name -> A and AAAA records; rcode 3 for a name it does not know. */
static const struct zone {
	const char *name;
	const char *a[4];
	const char *aaaa[4];
	int rcode;            /* -1: never answered */
} zones[] = {
	/* A records out of order: the NAT sorts them */
	{ "app.example.com.", { "198.51.100.3", "198.51.100.1", "198.51.100.2" }, { "2001:db8::7" }, 0 },
	{ "db.example.com.", { "198.51.100.9" }, { NULL }, 0 },
	{ "www.example.com.", { "198.51.100.20" }, { "2001:db8::20" }, 0 },
	{ "nx.example.com.", { NULL }, { NULL }, 3 },
	{ "slow.example.com.", { NULL }, { NULL }, -1 },
};

static size_t put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/* name with its trailing dot */
static void count_query(const char *name)
{
	char bare[256];
	unsigned i;

	B.queries++;
	snprintf(bare, sizeof(bare), "%.*s", (int)strlen(name) - 1, name);
	for (i = 0; i < BENCH_NAMES && B.qnames[i][0]; i++)
		if (strcasecmp(B.qnames[i], bare) == 0)
			break;
	if (i == BENCH_NAMES)
		return;
	if (!B.qnames[i][0])
		snprintf(B.qnames[i], sizeof(B.qnames[i]), "%s", bare);
	B.qcount[i]++;
}

unsigned bench_queries(const char *name)
{
	for (unsigned i = 0; i < BENCH_NAMES && B.qnames[i][0]; i++)
		if (strcmp(B.qnames[i], name) == 0)
			return B.qcount[i];
	return 0;
}

static void dns_answer(const uint8_t *q, size_t n, const struct sockaddr_in *from)
{
	char name[256] = "";
	size_t i = 12, o = 0;
	unsigned qtype;
	uint8_t r[512];
	const struct zone *z = NULL;
	const char *const *rdata;
	int rcode = 3, na = 0;

	if (n < 17)
		return;
	while (i < n && q[i] && o + q[i] + 1 < sizeof(name)) {
		if (i + 1 + q[i] > n)
			return;
		memcpy(name + o, q + i + 1, q[i]);
		o += q[i];
		name[o++] = '.';
		i += (size_t)q[i] + 1;
	}
	name[o] = '\0';
	if (!o || i + 5 > n)
		return;
	qtype = (unsigned)(q[i + 1] << 8 | q[i + 2]);
	count_query(name);
	for (size_t k = 0; k < sizeof(zones) / sizeof(zones[0]); k++)
		if (strcasecmp(zones[k].name, name) == 0)
			z = &zones[k];
	if (z && z->rcode < 0)
		return;
	rdata = z && qtype == 1 ? z->a : z && qtype == 28 ? z->aaaa : NULL;
	if (z)
		rcode = z->rcode;
	while (rdata && na < 4 && rdata[na])
		na++;
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

		CU_ASSERT_EQUAL(inet_pton(qtype == 1 ? AF_INET : AF_INET6, rdata[k], a), 1);
		o += put16(r + o, 0xc00c);
		o += put16(r + o, qtype);
		o += put16(r + o, 1);
		o += put16(r + o, 0);
		o += put16(r + o, 60);
		o += put16(r + o, len);
		memcpy(r + o, a, len);
		o += len;
	}
	sendto(B.dns, r, o, 0, (const struct sockaddr *)from, sizeof(*from));
}

static bool dns_readable(void)
{
	bool progress = false;

	for (;;) {
		uint8_t q[512];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(B.dns, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (got <= 0)
			return progress;
		dns_answer(q, (size_t)got, &from);
		progress = true;
	}
}

/* ---- the owner: the resolver's ops, the state's sync, the loop ------------------------------ */

static void watch(void *ctx, int fd, bool readable, bool writable)
{
	unsigned i;

	CU_ASSERT_PTR_EQUAL(ctx, &B);
	for (i = 0; i < B.nfds && B.fds[i] != fd; i++)
		;
	if (!readable && !writable) {
		if (i < B.nfds) {
			B.fds[i] = B.fds[--B.nfds];
			B.rd[i] = B.rd[B.nfds];
			B.wr[i] = B.wr[B.nfds];
		}
		return;
	}
	CU_ASSERT_FATAL(i < BENCH_WATCH);
	if (i == B.nfds)
		B.nfds++;
	B.fds[i] = fd;
	B.rd[i] = readable;
	B.wr[i] = writable;
}

static void arm(void *ctx, uint64_t us)
{
	CU_ASSERT_PTR_EQUAL(ctx, &B);
	B.timer_at = us ? bench_now_ns() + us * 1000 : 0;
}

static void on_p2p(void *arg, const struct fg_ctl_p2p *msg)
{
	fg_cp_nat_on_p2p(arg, msg);
}

static void on_synced(void *arg)
{
	B.synced++;
	fg_cp_nat_resync(arg);
}

/* As cpdp.c: the state first, then nat. */
static bool drain_events(void)
{
	struct fg_ctl_event ev;
	bool progress = false;

	while (fg_dpc_next_event(&B.dpc, &ev)) {
		fg_cp_on_event(&B.st, &ev);
		if (B.nat)
			fg_cp_nat_dp_event(B.nat, &ev);
		progress = true;
	}
	return progress;
}

/* One round: poll (wait_ms at most, less when the timer is due sooner), then everything
 * ready. Whether anything happened. */
static bool step(int wait_ms)
{
	struct pollfd p[POLL_MAX];
	unsigned n = 0, res0;
	bool progress = false;
	int64_t deadline;

	if (B.timer_at) {
		uint64_t now = bench_now_ns();
		int until = B.timer_at > now ? (int)((B.timer_at - now) / 1000000 + 1) : 0;

		if (until < wait_ms)
			wait_ms = until;
	}
	p[n++] = (struct pollfd){ .fd = B.dp, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = B.dpc.fd,
				  .events = (short)(POLLIN | (fg_dpc_wants_write(&B.dpc) ? POLLOUT : 0)) };
	p[n++] = (struct pollfd){ .fd = B.dns, .events = POLLIN };
	res0 = n;
	for (unsigned i = 0; i < B.nfds; i++)
		p[n++] = (struct pollfd){ .fd = B.fds[i],
					  .events = (short)((B.rd[i] ? POLLIN : 0) | (B.wr[i] ? POLLOUT : 0)) };
	if (poll(p, n, wait_ms) > 0) {
		if (p[0].revents)
			progress |= dp_readable();
		if (p[1].revents && fg_dpc_connected(&B.dpc)) {
			if (p[1].revents & POLLOUT)
				CU_ASSERT_EQUAL(fg_dpc_on_writable(&B.dpc), 0);
			if (p[1].revents & POLLIN)
				CU_ASSERT_EQUAL(fg_dpc_on_readable(&B.dpc), 0);
			progress = true;
		}
		if (p[2].revents)
			progress |= dns_readable();
		for (unsigned i = res0; i < n; i++)
			if (p[i].revents) {
				fg_cp_nat_resolver_io(B.nat, p[i].fd, (p[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0,
						      (p[i].revents & POLLOUT) != 0);
				progress = true;
			}
	}
	if (B.timer_at && bench_now_ns() >= B.timer_at) {
		B.timer_at = 0;
		fg_cp_nat_resolver_timer(B.nat);
		progress = true;
	}
	deadline = fg_dpc_next_deadline(&B.dpc);
	if (deadline && deadline <= fg_dpc_now_ms())
		fg_dpc_expire(&B.dpc, fg_dpc_now_ms());
	progress |= drain_events();
	return progress;
}

void bench_settle(void)
{
	for (unsigned i = 0; i < SETTLE_ROUNDS; i++)
		if (!step(0))
			return;
	CU_FAIL_FATAL("the bench does not settle");
}

bool bench_run(bool (*until)(void), unsigned ms)
{
	uint64_t end = bench_now_ns() + (uint64_t)ms * 1000000ull;

	for (;;) {
		bench_settle();
		if (until())
			return true;
		if (bench_now_ns() >= end)
			return false;
		step(10);
	}
}

/* ---- set-up -------------------------------------------------------------------------------- */

static void pair_open(void)
{
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	B.dpc.fd = sv[0];
	B.dp = sv[1];
}

void bench_init(unsigned timeout_ms)
{
	static const struct fg_resolve_ops ops = { .watch = watch, .arm = arm };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	struct fg_resolve_config cfg = { .servers = NULL, .timeout_ms = timeout_ms };

	memset(&B, 0, sizeof(B));
	B.dp = B.dns = -1;
	B.dns = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CU_ASSERT_FATAL(B.dns >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(B.dns, (struct sockaddr *)&a, sizeof(a)), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(B.dns, (struct sockaddr *)&a, &l), 0);
	snprintf(B.servers, sizeof(B.servers), "127.0.0.1:%u", ntohs(a.sin_port));
	cfg.servers = B.servers;

	fg_dpc_init(&B.dpc, "socketpair");
	pair_open();
	fg_cp_state_init(&B.st, &B.dpc);
	B.nat = fg_cp_nat_new(&B.dpc, &B.st, &ops, &B, &cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(B.nat);
	B.dpc.on_p2p = on_p2p;
	B.dpc.unsolicited_arg = B.nat;
	B.st.on_synced = on_synced;
	B.st.synced_arg = B.nat;
}

void bench_free(void)
{
	bench_settle();
	CU_ASSERT_FALSE(B.dp_bad);
	fg_dpc_close(&B.dpc);    /* what is in flight completes while its owners still exist */
	fg_cp_nat_free(B.nat);
	CU_ASSERT_EQUAL(B.nfds, 0);   /* the resolver let go of every socket */
	fg_cp_state_free(&B.st);
	if (B.dp >= 0)
		close(B.dp);
	close(B.dns);
	bench_clear();
	free(B.msgs);
	memset(&B, 0, sizeof(B));
	B.dp = B.dns = -1;
}

void bench_dp_restart(void)
{
	fg_dpc_close(&B.dpc);
	close(B.dp);
	B.nheld = 0;
	bench_clear();
	pair_open();
	CU_ASSERT_EQUAL(fg_cp_sync(&B.st), 0);
}

static void auth_done(void *ctx, int status)
{
	int *st = ctx;

	*st = status;
}

void bench_authorize(const char *client_id, uint8_t key, const char *resource_id, const char *pattern,
		     uint64_t expires_at)
{
	struct fg_cp_client c;
	struct fg_cp_resource r;
	int status = 1;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", client_id);
	memset(c.public_key, key, 32);
	CU_ASSERT_EQUAL(fg_ip_parse("100.64.0.2", &c.ipv4), 0);
	c.ipv4.addr[3] = key;
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", resource_id);
	snprintf(r.name, sizeof(r.name), "resource %s", resource_id);
	r.expires_at = expires_at;
	if (pattern) {
		r.type = FG_CP_RES_DNS;
		snprintf(r.pattern, sizeof(r.pattern), "%s", pattern);
	} else {
		r.type = FG_CP_RES_CIDR;
		CU_ASSERT_EQUAL(fg_prefix_parse("10.0.0.0/8", &r.prefix), 0);
	}
	CU_ASSERT_EQUAL_FATAL(fg_cp_authorize(&B.st, &c, &r, auth_done, &status), 0);
	bench_settle();
	CU_ASSERT_EQUAL(status, 0);
}

/* ---- expected messages ---------------------------------------------------------------------- */

static void show_diff(const char *what, const uint8_t *got, const uint8_t *want, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i]) {
			fprintf(stderr, "\n%s: byte %zu is 0x%02x, want 0x%02x\n", what, i, got[i], want[i]);
			return;
		}
}

void expect_nat_set(const struct dp_msg *m, uint8_t key, const char *resource, const char *domain, uint32_t flags,
		    uint32_t rank, const char *const (*pairs)[2], unsigned n)
{
	struct fg_ctl_nat_set w;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(m->type, FG_CTL_NAT_SET);
	CU_ASSERT_EQUAL_FATAL(m->len, sizeof(w));
	CU_ASSERT_FATAL(n <= FG_CTL_NAT_MAX_PROXY);
	memset(&w, 0, sizeof(w));
	hdr(&w.h, FG_CTL_NAT_SET, m->seq);
	memset(w.public_key, key, 32);
	snprintf(w.resource_id, sizeof(w.resource_id), "%s", resource);
	snprintf(w.domain, sizeof(w.domain), "%s", domain);
	w.flags = flags;
	w.rank = rank;
	w.n = n;
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(fg_ip_parse(pairs[i][0], &w.e[i].proxy), 0);
		if (pairs[i][1])
			CU_ASSERT_EQUAL(fg_ip_parse(pairs[i][1], &w.e[i].real), 0);
	}
	if (memcmp(m->buf, &w, sizeof(w)) != 0)
		show_diff("NAT_SET", m->buf, (const uint8_t *)&w, sizeof(w));
	CU_ASSERT(memcmp(m->buf, &w, sizeof(w)) == 0);
}

void expect_status(const struct dp_msg *m, uint8_t key, const char *resource, const char *domain, bool active)
{
	_Alignas(max_align_t) uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX];
	struct fg_ctl_p2p *w = (void *)buf;
	char json[FG_CTL_P2P_MAX];
	int jl;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(m->type, FG_CTL_P2P_OUT);
	jl = snprintf(json, sizeof(json), "{\"resource\":\"%s\",\"domain\":\"%s\",\"status\":\"%s\"}", resource, domain,
		      active ? "Active" : "Inactive");
	memset(buf, 0, sizeof(buf));
	hdr(&w->h, FG_CTL_P2P_OUT, m->seq);
	memset(w->public_key, key, 32);
	w->len = (uint16_t)(FG_P2P_HEADER_LEN + jl);
	w->payload[0] = FG_P2P_DOMAIN_STATUS;     /* [1, 0 x 7] */
	memcpy(w->payload + FG_P2P_HEADER_LEN, json, (size_t)jl);
	CU_ASSERT_EQUAL_FATAL(m->len, sizeof(*w) + w->len);
	if (memcmp(m->buf, w, m->len) != 0) {
		show_diff("P2P_OUT", m->buf, buf, m->len);
		fprintf(stderr, "got body: %.*s\n", (int)(m->len - sizeof(*w) - FG_P2P_HEADER_LEN),
			(const char *)m->buf + sizeof(*w) + FG_P2P_HEADER_LEN);
	}
	CU_ASSERT(memcmp(m->buf, w, m->len) == 0);
}
