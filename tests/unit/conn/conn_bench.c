// SPDX-License-Identifier: MIT
/*
 * The conn suite's bench (conn_bench.h): the fake data plane on the test's thread, the
 * owner's ops, the scripted TURN relay and the controlling ICE client. The fakes check what
 * they are sent (the relay: SOFTWARE, the long-term credentials and their integrity; the
 * client: USERNAME, ICE-CONTROLLED, PRIORITY, integrity with its password, FINGERPRINT) and
 * set a flag when something is wrong, which each test asserts never happened.
 */
#include "conn_bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "chandata.h"

struct bench B;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct fg_endpoint ep(const char *s)
{
	struct fg_endpoint e;

	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL_FATAL(fg_endpoint_parse(s, &e), 0);
	return e;
}

uint64_t bench_rand(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* ---- the fake data plane ------------------------------------------------------------------- */

static void dp_queue(const void *msg, size_t len)
{
	struct qmsg *q;

	if (B.nout == B.capout) {
		unsigned cap = B.capout ? B.capout * 2 : 64;
		struct qmsg *n = realloc(B.outq, cap * sizeof(*n));

		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		B.outq = n;
		B.capout = cap;
	}
	q = &B.outq[B.nout++];
	q->buf = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q->buf);
	memcpy(q->buf, msg, len);
	q->len = len;
}

static void put_hdr(struct fg_ctl_hdr *h, uint16_t type, uint32_t seq)
{
	h->version = FG_CTL_VERSION;
	h->type = type;
	h->seq = seq;
}

static void dp_reply(uint32_t seq)
{
	struct fg_ctl_reply r;

	memset(&r, 0, sizeof(r));
	put_hdr(&r.h, FG_CTL_REPLY, seq);
	dp_queue(&r, sizeof(r));
}

static void dp_hello_reply(uint32_t seq)
{
	struct fg_ctl_hello_reply r;

	memset(&r, 0, sizeof(r));
	put_hdr(&r.h, FG_CTL_HELLO_REPLY, seq);
	snprintf(r.version, sizeof(r.version), "fake-dataplane 9.9");
	memset(r.public_key, 0xab, sizeof(r.public_key));
	snprintf(r.tun_name, sizeof(r.tun_name), "fgtest0");
	r.listen_port = 51820;
	CU_ASSERT_EQUAL(fg_ip_parse("198.18.111.1", &r.uplink4), 0);
	r.workers = 1;
	dp_queue(&r, sizeof(r));
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
	B.n_requests++;
	switch (h.type) {
	case FG_CTL_HELLO:
		B.n_hello++;
		dp_hello_reply(h.seq);
		return;
	case FG_CTL_PACKET_OUT: {
		struct fg_ctl_packet_out m;

		memcpy(&m, buf, sizeof(m));
		if (m.len == 0 || m.len > FG_CTL_MAX_PACKET)
			B.dp_bad = true;
		else if (B.npkts == BENCH_PKTS)
			B.pkts_lost++;
		else {
			struct pkt *p = &B.pkts[B.npkts++];

			p->ep = m.ep;
			p->channel = m.channel;
			p->len = m.len;
			memcpy(p->buf, buf + sizeof(m), m.len);
			p->served = false;
		}
		break;
	}
	case FG_CTL_CHANNEL_BIND:
	case FG_CTL_CHANNEL_UNBIND: {
		struct fg_ctl_channel m;

		memcpy(&m, buf, sizeof(m));
		if (B.nchans < BENCH_CHANS)
			B.chans[B.nchans++] = (struct chan_rec){ h.type == FG_CTL_CHANNEL_BIND, m.relay, m.peer,
								  m.channel };
		break;
	}
	case FG_CTL_PEER_PATH: {
		struct fg_ctl_peer_path m;

		memcpy(&m, buf, sizeof(m));
		if (B.npaths < BENCH_PATHS) {
			memcpy(B.paths[B.npaths].public_key, m.public_key, 32);
			B.paths[B.npaths].ep = m.ep;
			B.paths[B.npaths++].channel = m.channel;
		}
		break;
	}
	case FG_CTL_PEER_UPSERT:
		B.n_peer_upsert++;
		break;
	case FG_CTL_RESOURCE_UPSERT:
		B.n_resource_upsert++;
		break;
	default:
		break;
	}
	dp_reply(h.seq);
}

void bench_pump(void)
{
	static uint8_t buf[FG_CTL_MAX_MSG + 64];

	for (unsigned round = 0; round < 100000; round++) {
		bool progress = false;

		if (B.fd < 0) {
			B.fd = accept4(B.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			progress = B.fd >= 0;
		}
		if (B.fd >= 0) {
			for (;;) {
				ssize_t n = recv(B.fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

				if (n <= 0)
					break;
				CU_ASSERT_FATAL((size_t)n <= sizeof(buf));
				dp_handle(buf, (size_t)n);
				progress = true;
			}
			while (B.nout) {
				ssize_t w = send(B.fd, B.outq[0].buf, B.outq[0].len, MSG_DONTWAIT | MSG_NOSIGNAL);

				if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
					break;
				CU_ASSERT_EQUAL(w, (ssize_t)B.outq[0].len);
				free(B.outq[0].buf);
				memmove(B.outq, B.outq + 1, --B.nout * sizeof(B.outq[0]));
				progress = true;
			}
		}
		if (fg_dpc_connected(&B.dpc)) {
			if (fg_dpc_wants_write(&B.dpc)) {
				progress = true;
				CU_ASSERT_EQUAL(fg_dpc_on_writable(&B.dpc), 0);
			}
			CU_ASSERT_EQUAL(fg_dpc_on_readable(&B.dpc), 0);
		}
		if (!progress)
			return;
	}
	CU_FAIL_FATAL("the fake data plane does not settle");
}

/* ---- the owner ----------------------------------------------------------------------------- */

static bool on_signal(void *ctx, const char *event, const char *client_id, const char *const *lines, unsigned n)
{
	struct sig_rec *s;

	CU_ASSERT_PTR_EQUAL(ctx, &B);
	CU_ASSERT_FATAL(B.nsigs < BENCH_SIGS);
	s = &B.sigs[B.nsigs++];
	memset(s, 0, sizeof(*s));
	snprintf(s->event, sizeof(s->event), "%s", event);
	s->has_client = client_id != NULL;
	snprintf(s->client_id, sizeof(s->client_id), "%s", client_id ? client_id : "");
	s->n = n;
	for (unsigned i = 0; i < n && i < BENCH_SIG_LINES; i++)
		snprintf(s->lines[i], sizeof(s->lines[i]), "%s", lines[i]);
	s->accepted = B.portal_up;
	return B.portal_up;
}

static void on_arm(void *ctx, uint64_t us)
{
	CU_ASSERT_PTR_EQUAL(ctx, &B);
	CU_ASSERT(us >= 1);
	B.armed_us = us;
	B.armed_at_ns = now_ns();
	B.narms++;
}

static void hello_done(void *ctx, int status, const void *msg)
{
	(void)ctx;
	(void)msg;
	B.hello_done = true;
	B.hello_status = status;
}

void bench_init(const struct fg_conn_config *cfg)
{
	static const struct fg_conn_ops ops = { .signal = on_signal, .arm = on_arm };
	const struct fg_dpc_cb cb = { .done = hello_done };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(&B, 0, sizeof(B));
	B.fd = -1;
	B.portal_up = true;
	B.pkts = calloc(BENCH_PKTS, sizeof(*B.pkts));
	CU_ASSERT_PTR_NOT_NULL_FATAL(B.pkts);
	snprintf(B.dir, sizeof(B.dir), "/tmp/fg-conn-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(B.dir));
	snprintf(B.path, sizeof(B.path), "%s/ctl.sock", B.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", B.path);
	B.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CU_ASSERT_FATAL(B.lfd >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(B.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(B.lfd, 4), 0);

	fg_dpc_init(&B.dpc, B.path);
	CU_ASSERT_EQUAL_FATAL(fg_dpc_open(&B.dpc), 0);
	CU_ASSERT_EQUAL_FATAL(fg_dpc_hello(&B.dpc, &cb), 0);
	bench_pump();
	CU_ASSERT_TRUE_FATAL(B.hello_done);
	CU_ASSERT_EQUAL_FATAL(B.hello_status, 0);
	CU_ASSERT_TRUE_FATAL(fg_dpc_connected(&B.dpc));
	fg_cp_state_init(&B.st, &B.dpc);

	B.relay = ep(RELAY_ADDR);
	B.relay_srflx = ep(RELAY_SRFLX);
	B.relay_relayed = ep(RELAY_RELAYED);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_long_term(&B.relay_key, RELAY_USER, "firezone", RELAY_PASS), 0);
	B.client = ep(CL_ADDR);
	B.client_srflx = ep(CL_SRFLX);
	B.host4 = ep(HOST4);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&B.gw_key, GW_PWD), 0);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&B.cl_key, CL_PWD), 0);

	B.c = fg_conn_new(&B.dpc, &B.st, &ops, &B, cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(B.c);
	B.dpc.on_packet = fg_conn_on_packet;
	B.dpc.packet_arg = B.c;
	bench_pump();
}

void bench_free(void)
{
	bench_pump();
	CU_ASSERT_FALSE(B.dp_bad);
	CU_ASSERT_FALSE(B.relay_bad);
	CU_ASSERT_FALSE(B.client_bad);
	CU_ASSERT_EQUAL(B.pkts_lost, 0);
	/* As main.c: what is in flight completes while its owners still exist. */
	fg_dpc_close(&B.dpc);
	fg_conn_free(B.c);
	fg_cp_state_free(&B.st);
	if (B.fd >= 0)
		close(B.fd);
	close(B.lfd);
	unlink(B.path);
	rmdir(B.dir);
	for (unsigned i = 0; i < B.nout; i++)
		free(B.outq[i].buf);
	free(B.outq);
	free(B.pkts);
	fg_stun_key_wipe(&B.relay_key);
	memset(&B, 0, sizeof(B));
	B.fd = B.lfd = -1;
}

/* ---- packets in ---------------------------------------------------------------------------- */

void bench_punt(const struct fg_endpoint *src, const struct fg_endpoint *peer, uint16_t channel,
		const uint8_t *buf, size_t len)
{
	_Alignas(max_align_t) uint8_t msg[sizeof(struct fg_ctl_packet_in) + FG_CTL_MAX_PACKET];
	struct fg_ctl_packet_in *m = (void *)msg;

	CU_ASSERT_FATAL(len > 0 && len <= FG_CTL_MAX_PACKET);
	memset(m, 0, sizeof(*m));
	put_hdr(&m->h, FG_CTL_PACKET_IN, 0);
	m->src = *src;
	if (peer)
		m->peer = *peer;
	m->channel = channel;
	m->len = (uint16_t)len;
	memcpy(m->payload, buf, len);
	dp_queue(m, sizeof(*m) + len);
	B.npunted++;
	bench_pump();
}

void bench_dp_send(const void *msg, size_t len)
{
	dp_queue(msg, len);
	bench_pump();
}

void bench_inject(const struct fg_endpoint *src, const struct fg_endpoint *peer, uint16_t channel,
		  const uint8_t *buf, size_t cap, uint16_t len)
{
	/* On the heap, exactly the bytes that are there: ASan sees any read past them. */
	struct fg_ctl_packet_in *m;

	CU_ASSERT_FATAL(cap <= FG_CTL_MAX_PACKET && len <= cap);
	m = calloc(1, sizeof(*m) + cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	put_hdr(&m->h, FG_CTL_PACKET_IN, 0);
	m->src = *src;
	if (peer)
		m->peer = *peer;
	m->channel = channel;
	m->len = len;
	if (cap)
		memcpy(m->payload, buf, cap);
	fg_conn_on_packet(B.c, m);
	free(m);
	bench_pump();
}

/* ---- recorded packets and signals ------------------------------------------------------------ */

const struct pkt *bench_find(const struct fg_endpoint *to, int cls, const uint8_t *txid, struct fg_stun_msg *m)
{
	for (unsigned i = 0; i < B.npkts; i++) {
		const struct pkt *p = &B.pkts[i];

		if (to && !fg_endpoint_equal(&p->ep, to))
			continue;
		if (fg_stun_parse(p->buf, p->len, m, NULL, 0) != 0 || m->cls != cls)
			continue;
		if (txid && memcmp(m->txid, txid, FG_STUN_TXID_LEN) != 0)
			continue;
		return p;
	}
	return NULL;
}

unsigned bench_count_pkts(const struct fg_endpoint *to)
{
	unsigned n = 0;

	for (unsigned i = 0; i < B.npkts; i++)
		n += !to || fg_endpoint_equal(&B.pkts[i].ep, to);
	return n;
}

void bench_clear_pkts(void)
{
	B.npkts = 0;
}

unsigned bench_sigs(const char *event, bool accepted)
{
	unsigned n = 0;

	for (unsigned i = 0; i < B.nsigs; i++)
		n += (!event || strcmp(B.sigs[i].event, event) == 0) && B.sigs[i].accepted == accepted;
	return n;
}

const struct sig_rec *bench_last_sig(const char *event, bool accepted)
{
	for (unsigned i = B.nsigs; i-- > 0;)
		if ((!event || strcmp(B.sigs[i].event, event) == 0) && B.sigs[i].accepted == accepted)
			return &B.sigs[i];
	return NULL;
}

bool sig_has_line(const struct sig_rec *s, const char *needle)
{
	for (unsigned i = 0; s && i < s->n && i < BENCH_SIG_LINES; i++)
		if (strstr(s->lines[i], needle))
			return true;
	return false;
}

/* ---- the fake relay ------------------------------------------------------------------------ */

static void next_txid(uint8_t txid[FG_STUN_TXID_LEN])
{
	B.txid_seq++;
	for (unsigned i = 0; i < FG_STUN_TXID_LEN; i++)
		txid[i] = (uint8_t)((B.txid_seq >> (8 * (i % 4))) ^ (i * 41) ^ 0x5a);
}

static bool bytes_eq(const struct fg_stun_msg *m, uint16_t type, const char *want)
{
	const uint8_t *v;
	size_t n;

	return fg_stun_get_bytes(m, type, &v, &n) == 0 && n == strlen(want) && !memcmp(v, want, n);
}

static void relay_answer(const struct fg_stun_msg *req, enum fg_stun_class cls, unsigned err, bool sign,
			 bool alloc)
{
	uint8_t buf[512];
	struct fg_stun_builder b;
	int n;

	fg_stun_build_start(&b, buf, sizeof(buf), req->method, cls, req->txid);
	if (err) {
		fg_stun_add_error(&b, err, "test");
		fg_stun_add_str(&b, FG_STUN_ATTR_REALM, "firezone");
		fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, "n0nce");
	}
	if (req->method == FG_STUN_BINDING && !err)
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &B.relay_srflx);
	if (alloc) {
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &B.relay_relayed);
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &B.relay_srflx);
		fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, 600);
	}
	if (sign)
		fg_stun_add_integrity(&b, &B.relay_key);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(n > 0);
	bench_punt(&B.relay, NULL, 0, buf, (size_t)n);
}

static size_t client_answer(const uint8_t *in, size_t len, const struct fg_endpoint *mapped, uint8_t *out,
			    size_t cap);

/* The relay's side of a channel: the client answers our checks to its srflx address, and
 * the answer comes back inside the same channel (src the relay, peer the client). */
static void relay_chandata(const struct pkt *p)
{
	struct fg_chandata cd;
	uint8_t buf[256];
	size_t n;

	B.relay_chandata++;
	if (fg_chandata_parse(p->buf, p->len, false, &cd) != (int)p->len || p->channel != 0) {
		B.relay_bad = true;
		return;
	}
	for (unsigned i = 0; i < B.relay_nchans; i++) {
		if (B.relay_chans[i].channel != cd.channel)
			continue;
		if (!fg_endpoint_equal(&B.relay_chans[i].peer, &B.client_srflx))
			return;   /* nobody there */
		n = client_answer(cd.data, cd.len, &B.relay_relayed, buf, sizeof(buf));
		if (n)
			bench_punt(&B.relay, &B.client_srflx, cd.channel, buf, n);
		return;
	}
	B.relay_bad = true;   /* a channel it never bound */
}

static void relay_serve_one(struct pkt *p)
{
	struct fg_stun_msg m;
	uint32_t lifetime;

	p->served = true;
	if (fg_chandata_classify(p->buf, p->len) == FG_DGRAM_CHANDATA) {
		relay_chandata(p);
		return;
	}
	if (fg_stun_parse(p->buf, p->len, &m, NULL, 0) != 0 || m.cls != FG_STUN_REQUEST ||
	    !bytes_eq(&m, FG_STUN_ATTR_SOFTWARE, "snownet") || p->channel != 0) {
		B.relay_bad = true;
		return;
	}
	if (B.relay_silent)
		return;
	if (m.method == FG_STUN_BINDING) {
		B.relay_binding++;
		if (fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY))
			B.relay_bad = true;
		relay_answer(&m, FG_STUN_SUCCESS, 0, false, false);
		return;
	}
	if (!fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY)) {
		B.relay_allocate_unauth += m.method == FG_STUN_ALLOCATE;
		if (m.method != FG_STUN_ALLOCATE)
			B.relay_bad = true;
		relay_answer(&m, FG_STUN_ERROR, 401, false, false);
		return;
	}
	if (!bytes_eq(&m, FG_STUN_ATTR_USERNAME, RELAY_USER) || !bytes_eq(&m, FG_STUN_ATTR_REALM, "firezone") ||
	    !bytes_eq(&m, FG_STUN_ATTR_NONCE, "n0nce") || fg_stun_check_integrity(&m, &B.relay_key) != 0) {
		B.relay_bad = true;
		return;
	}
	switch (m.method) {
	case FG_STUN_ALLOCATE:
		B.relay_allocate++;
		relay_answer(&m, FG_STUN_SUCCESS, 0, true, true);
		return;
	case FG_STUN_REFRESH:
		B.relay_refresh++;
		if (fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &lifetime) != 0)
			lifetime = 600;
		{
			uint8_t buf[256];
			struct fg_stun_builder b;
			int n;

			fg_stun_build_start(&b, buf, sizeof(buf), m.method, FG_STUN_SUCCESS, m.txid);
			fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, lifetime);
			fg_stun_add_integrity(&b, &B.relay_key);
			n = fg_stun_build_finish(&b);
			CU_ASSERT_FATAL(n > 0);
			bench_punt(&B.relay, NULL, 0, buf, (size_t)n);
		}
		return;
	case FG_STUN_CHANNEL_BIND:
		B.relay_chanbind++;
		if (fg_stun_get_channel(&m, &B.relay_last_channel) != 0 ||
		    fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_PEER_ADDRESS, 0, &B.relay_last_peer) != 0)
			B.relay_bad = true;
		else if (B.relay_nchans < BENCH_CHANS)
			B.relay_chans[B.relay_nchans++] = (struct chan_rec){ true, B.relay, B.relay_last_peer,
									      B.relay_last_channel };
		relay_answer(&m, FG_STUN_SUCCESS, 0, true, false);
		return;
	default:
		B.relay_bad = true;
	}
}

/* ---- the fake client ----------------------------------------------------------------------- */

size_t bench_request(uint8_t *buf, size_t cap, const char *local_ufrag, bool nominate,
		     uint8_t txid[FG_STUN_TXID_LEN])
{
	struct fg_stun_builder b;
	char user[160];
	int n;

	next_txid(txid);
	snprintf(user, sizeof(user), "%s:%s", local_ufrag ? local_ufrag : GW_UFRAG, CL_UFRAG);
	fg_stun_build_start(&b, buf, cap, FG_STUN_BINDING, FG_STUN_REQUEST, txid);
	fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, user);
	fg_stun_add_u32(&b, FG_STUN_ATTR_PRIORITY, 1853824767u);
	fg_stun_add_u64(&b, FG_STUN_ATTR_ICE_CONTROLLING, 0x1234567890abcdefull);
	if (nominate)
		fg_stun_add_flag(&b, FG_STUN_ATTR_USE_CANDIDATE);
	fg_stun_add_integrity(&b, &B.gw_key);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(n > 0);
	return (size_t)n;
}

/* A check of ours to the client, checked as the client's agent would, and its answer
 * (XOR-MAPPED-ADDRESS mapped) into out: its length, 0 when there is none to send. */
static size_t client_answer(const uint8_t *in, size_t len, const struct fg_endpoint *mapped, uint8_t *out,
			    size_t cap)
{
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	int n;

	if (fg_stun_parse(in, len, &m, NULL, 0) != 0 || m.method != FG_STUN_BINDING || m.cls != FG_STUN_REQUEST)
		return 0;
	if (!bytes_eq(&m, FG_STUN_ATTR_USERNAME, CL_UFRAG ":" GW_UFRAG) ||
	    !fg_stun_has(&m, FG_STUN_ATTR_ICE_CONTROLLED) || fg_stun_has(&m, FG_STUN_ATTR_ICE_CONTROLLING) ||
	    !fg_stun_has(&m, FG_STUN_ATTR_PRIORITY) || !fg_stun_has(&m, FG_STUN_ATTR_FINGERPRINT) ||
	    fg_stun_check_integrity(&m, &B.cl_key) != 0) {
		B.client_bad = true;
		return 0;
	}
	if (B.client_silent)
		return 0;
	fg_stun_build_start(&b, out, cap, FG_STUN_BINDING, FG_STUN_SUCCESS, m.txid);
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, mapped);
	fg_stun_add_integrity(&b, &B.cl_key);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(n > 0);
	B.client_checks++;
	return (size_t)n;
}

static void client_serve_one(struct pkt *p)
{
	uint8_t buf[256];
	size_t n;

	if (p->channel != 0)
		B.client_bad = true;
	n = client_answer(p->buf, p->len, &B.host4, buf, sizeof(buf));
	if (n)
		bench_punt(&B.client, NULL, 0, buf, n);
}

void bench_serve(void)
{
	bench_pump();
	for (unsigned guard = 0; guard < 10000; guard++) {
		struct pkt *p = NULL;

		for (unsigned i = 0; i < B.npkts && !p; i++)
			if (!B.pkts[i].served && (fg_endpoint_equal(&B.pkts[i].ep, &B.relay) ||
						  fg_endpoint_equal(&B.pkts[i].ep, &B.client)))
				p = &B.pkts[i];
		if (!p)
			return;
		if (fg_endpoint_equal(&p->ep, &B.relay))
			relay_serve_one(p);
		else
			client_serve_one(p);
		if (!p->served)
			p->served = true;
	}
	CU_FAIL_FATAL("the fakes do not settle");
}

bool bench_drive(bool (*done)(void), unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	for (;;) {
		uint64_t now, due;

		bench_serve();
		if (done())
			return true;
		now = now_ns();
		if (now >= end)
			return false;
		due = B.armed_at_ns + B.armed_us * 1000ull;
		if (B.narms && now >= due) {
			fg_conn_timer(B.c);
		} else {
			uint64_t wait = B.narms ? due - now : 1000000ull;
			struct timespec ts;

			if (wait > 2000000ull)
				wait = 2000000ull;   /* 2 ms at most: the fakes may have news */
			if (wait > end - now)
				wait = end - now;
			ts.tv_sec = 0;
			ts.tv_nsec = (long)wait;
			nanosleep(&ts, NULL);
		}
	}
}

/* ---- relays and authorizations -------------------------------------------------------------- */

struct fg_relay_info bench_relay_info(void)
{
	struct fg_relay_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), "%s", RELAY_ID);
	in.addr4 = B.relay;
	snprintf(in.username, sizeof(in.username), "%s", RELAY_USER);
	snprintf(in.password, sizeof(in.password), "%s", RELAY_PASS);
	return in;
}

void bench_relay_up(void)
{
	struct fg_relay_info in = bench_relay_info();

	fg_conn_relays(B.c, &in, 1, NULL, 0, true);
	memset(in.password, 0, sizeof(in.password));
	bench_serve();
	CU_ASSERT_EQUAL(B.relay_allocate, 1);
	CU_ASSERT_FALSE(B.relay_bad);
}

void bench_authorize(const char *client_id, uint8_t key_byte)
{
	struct fg_cp_client cl;
	struct fg_cp_resource res;

	memset(&cl, 0, sizeof(cl));
	memset(&res, 0, sizeof(res));
	snprintf(cl.id, sizeof(cl.id), "%s", client_id);
	memset(cl.public_key, key_byte, sizeof(cl.public_key));
	memcpy(B.client_key, cl.public_key, 32);
	CU_ASSERT_EQUAL(fg_ip_parse("100.64.0.2", &cl.ipv4), 0);
	snprintf(res.id, sizeof(res.id), "res-%s", client_id);
	res.type = FG_CP_RES_CIDR;
	CU_ASSERT_EQUAL(fg_prefix_parse("10.0.0.0/24", &res.prefix), 0);
	CU_ASSERT_EQUAL_FATAL(fg_cp_authorize(&B.st, &cl, &res, NULL, NULL), 0);
	bench_pump();
	CU_ASSERT_EQUAL_FATAL(fg_conn_authorize(B.c, client_id, cl.public_key, GW_UFRAG, GW_PWD, CL_UFRAG, CL_PWD),
			      0);
	bench_pump();
}
