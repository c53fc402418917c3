// SPDX-License-Identifier: MIT
/*
 * A fake data plane for test_ctlproto (see fake_dp.h): a SOCK_SEQPACKET listener in a
 * temporary directory and one thread per test that plays a script against the control
 * plane's client, correct or hostile. The thread owns the connection; it records what it
 * received and whether a step failed, and the test's thread reads that after joining it.
 */
#include "fake_dp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "dpclient.h"

static bool srv_accept(struct fake_dp *f)
{
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = FDP_WAIT_MS / 1000 };

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (poll(&p, 1, FDP_WAIT_MS) != 1)
		goto fail;
	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (f->fd < 0)
		goto fail;
	/* A client that stops reading must not hang the suite. */
	setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return true;
fail:
	f->failed = true;
	return false;
}

/* Receives one datagram into f->last; its length, 0 when the client closed, -1 on a timeout. */
static ssize_t srv_recv(struct fake_dp *f, struct fg_ctl_hdr *h)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	ssize_t n;

	memset(h, 0, sizeof(*h));
	if (f->fd < 0 || poll(&p, 1, FDP_WAIT_MS) != 1) {
		f->failed = true;
		return -1;
	}
	n = recv(f->fd, f->last, sizeof(f->last), MSG_TRUNC);
	if (n <= 0)
		return n < 0 ? 0 : n; /* ECONNRESET counts as a close */
	memcpy(h, f->last, (size_t)n < sizeof(*h) ? (size_t)n : sizeof(*h));
	if (f->nseen < FDP_SEEN_MAX) {
		f->seen[f->nseen] = *h;
		f->seen_len[f->nseen++] = (size_t)n;
	}
	return n;
}

static void srv_send(struct fake_dp *f, const void *msg, size_t len)
{
	if (send(f->fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		f->failed = true;
}

void fdp_put_hdr(struct fg_ctl_hdr *h, uint16_t type, uint32_t seq)
{
	h->version = FG_CTL_VERSION;
	h->type = type;
	h->seq = seq;
}

static void srv_reply(struct fake_dp *f, uint32_t seq, int status, uint32_t count, const char *why)
{
	struct fg_ctl_reply r;

	memset(&r, 0, sizeof(r));
	fdp_put_hdr(&r.h, FG_CTL_REPLY, seq);
	r.status = status;
	r.count = count;
	snprintf(r.message, sizeof(r.message), "%s", why ? why : "");
	srv_send(f, &r, sizeof(r));
}

static void srv_hello_reply(struct fake_dp *f, uint32_t seq)
{
	struct fg_ctl_hello_reply r;

	memset(&r, 0, sizeof(r));
	fdp_put_hdr(&r.h, FG_CTL_HELLO_REPLY, seq);
	snprintf(r.version, sizeof(r.version), "fake-dataplane 9.9");
	memset(r.public_key, 0xab, sizeof(r.public_key));
	snprintf(r.tun_name, sizeof(r.tun_name), "fgtest0");
	r.listen_port = 51820;
	r.uplink4.family = AF_INET;
	memcpy(r.uplink4.addr, "\xc6\x12\x01\x01", 4);
	r.started_unix_ns = 1700000000123456789ull;
	r.peers = 3;
	r.workers = 2;
	srv_send(f, &r, sizeof(r));
}

/* Event n: kind 1 + n % 3, public_key starts with n (16 bits), resource "res-n". */
static void srv_event(struct fake_dp *f, unsigned n)
{
	struct fg_ctl_event ev;

	memset(&ev, 0, sizeof(ev));
	fdp_put_hdr(&ev.h, FG_CTL_EVENT, 0);
	ev.kind = FG_CTL_EV_PEER_EXPIRED + n % 3;
	ev.public_key[0] = (uint8_t)n;
	ev.public_key[1] = (uint8_t)(n >> 8);
	snprintf(ev.resource_id, sizeof(ev.resource_id), "res-%u", n);
	srv_send(f, &ev, sizeof(ev));
}

/* A DUMP: FDP_DUMP_PEERS peers with two resources each, an event and stale messages (another
 * request's seq, among them a REPLY that must not end the dump) mixed in, then the REPLY. */
static void srv_dump(struct fake_dp *f, uint32_t seq)
{
	uint32_t count = 0;

	srv_reply(f, seq - 1, -ETIMEDOUT, 0, "stale");
	for (unsigned i = 0; i < FDP_DUMP_PEERS; i++) {
		struct fg_ctl_peer_info p;

		memset(&p, 0, sizeof(p));
		fdp_put_hdr(&p.h, FG_CTL_PEER_INFO, seq);
		snprintf(p.client_id, sizeof(p.client_id), "client-%u", i);
		p.public_key[0] = (uint8_t)i;
		p.n_resources = 2;
		p.rx_bytes = 1000 + i;
		srv_send(f, &p, sizeof(p));
		count++;
		for (unsigned j = 0; j < 2; j++) {
			/* The second resource carries FDP_DUMP_FILTERS filters: variable length. */
			uint32_t nf = j ? FDP_DUMP_FILTERS : 0;
			size_t len = sizeof(struct fg_ctl_resource_info) + nf * sizeof(struct fg_ctl_filter);
			struct fg_ctl_resource_info *r = calloc(1, len);

			if (!r)
				abort();
			fdp_put_hdr(&r->h, FG_CTL_RESOURCE_INFO, seq);
			r->public_key[0] = (uint8_t)i;
			snprintf(r->resource_id, sizeof(r->resource_id), "res-%u-%u", i, j);
			r->type = FG_CTL_RES_CIDR;
			r->n_filters = nf;
			r->expires_at = 42;
			for (uint32_t k = 0; k < nf; k++)
				r->filters[k] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_UDP,
									.port_lo = (uint16_t)k, .port_hi = (uint16_t)k };
			srv_send(f, r, len);
			free(r);
			count++;
		}
		if (i == 3)
			srv_event(f, 7);
		if (i == 5) {
			p.h.seq = seq + 1;
			snprintf(p.client_id, sizeof(p.client_id), "stale");
			srv_send(f, &p, sizeof(p));
		}
	}
	srv_reply(f, seq, 0, count, NULL);
}

static void srv_stats(struct fake_dp *f, uint32_t seq)
{
	struct fg_ctl_stats_reply r;

	memset(&r, 0, sizeof(r));
	fdp_put_hdr(&r.h, FG_CTL_STATS_REPLY, seq - 1); /* stale: must be skipped */
	r.workers = 99;
	srv_send(f, &r, sizeof(r));
	fdp_put_hdr(&r.h, FG_CTL_STATS_REPLY, seq);
	snprintf(r.aead, sizeof(r.aead), "fake-aead");
	r.workers = 2;
	r.peers = 3;
	r.n_drops = 2;
	r.handshakes_completed = 11;
	r.roams = 5;
	r.drops[0] = 17;
	r.drops[1] = 1ull << 40;
	snprintf(r.drop_names[0], sizeof(r.drop_names[0]), "not_for_us");
	snprintf(r.drop_names[1], sizeof(r.drop_names[1]), "wg_bad_length");
	r.service.nic_rx_packets = 123;
	r.lcores[1].decrypted = 77;
	r.lcores[1].busy_cycles = 1ull << 41;
	r.lcores[1].win_cycles = 2400000000ull;
	r.lcores[FG_CTL_MAX_WORKERS - 1].tun_tx_bytes = 9;
	r.lcores[FG_CTL_MAX_WORKERS - 1].win_busy_polls = 3;
	r.service.polls = 12345;
	r.tsc_hz = 2400000000ull;
	r.heap_total = 128ull << 20;
	r.heap_allocated = 61ull << 20;
	r.heap_free = 67ull << 20;
	r.heap_largest_free = 66ull << 20;
	srv_send(f, &r, sizeof(r));
}

/* A PACKET_IN of len bytes (up to FG_CTL_MAX_PACKET carried) from FDP_PEER's relay: its
 * len field may disagree with what it carries (hostile cases). */
static void srv_packet_in(struct fake_dp *f, const struct fg_endpoint *src, uint16_t channel, uint16_t len_field,
			  const uint8_t *payload, size_t carried)
{
	_Alignas(8) uint8_t buf[sizeof(struct fg_ctl_packet_in) + FG_CTL_MAX_PACKET + 16];
	struct fg_ctl_packet_in *m = (void *)buf;

	memset(buf, 0, sizeof(buf));
	fdp_put_hdr(&m->h, FG_CTL_PACKET_IN, 0);
	m->src = *src;
	m->channel = channel;
	if (channel) {
		m->peer.ip.family = AF_INET;
		memcpy(m->peer.ip.addr, FDP_PEER_IP, 4);
		m->peer.port = FDP_PEER_PORT;
	}
	m->len = len_field;
	memcpy(m->payload, payload, carried);
	srv_send(f, buf, sizeof(*m) + carried);
}

/* A PACKET_OUT (n bytes in f->last, its size as the client computed it) echoed back. */
static void srv_packet_echo(struct fake_dp *f, uint32_t seq, size_t n)
{
	struct fg_ctl_packet_out m;

	if (n < sizeof(m)) {
		srv_reply(f, seq, -EPROTO, 0, "short");
		return;
	}
	memcpy(&m, f->last, sizeof(m));
	if (n != sizeof(m) + m.len) {
		srv_reply(f, seq, -EPROTO, 0, "wrong size");
		return;
	}
	srv_packet_in(f, &m.ep, m.channel, m.len, f->last + sizeof(m), m.len);
	srv_reply(f, seq, 0, m.len, NULL);
}

/* A correct data plane: answers every request until the client closes. PEER_UPSERT
 * succeeds; PEER_REMOVE says -ENOENT; PACKET_OUT is echoed (fdp_packets); other requests
 * are refused with -EINVAL. A REPLY's count is the request's seq so the client's reply copy
 * can be checked. */
static void serve(struct fake_dp *f)
{
	struct fg_ctl_hdr h;
	ssize_t n;

	while ((n = srv_recv(f, &h)) > 0) {
		switch (h.type) {
		case FG_CTL_PACKET_OUT:
			srv_packet_echo(f, h.seq, (size_t)n);
			break;
		case FG_CTL_HELLO:
			srv_hello_reply(f, h.seq);
			break;
		case FG_CTL_DUMP:
			srv_dump(f, h.seq);
			break;
		case FG_CTL_STATS:
			srv_stats(f, h.seq);
			break;
		case FG_CTL_PEER_UPSERT:
			srv_reply(f, h.seq, 0, h.seq, NULL);
			break;
		case FG_CTL_PEER_REMOVE:
			srv_reply(f, h.seq, -ENOENT, h.seq, "no such peer");
			break;
		default:
			srv_reply(f, h.seq, -EINVAL, h.seq, "refused");
			break;
		}
	}
}

void fdp_good(struct fake_dp *f)
{
	if (srv_accept(f))
		serve(f);
}

/* Two connections, one after the other (a reconnect). */
void fdp_good_twice(struct fake_dp *f)
{
	fdp_good(f);
	fdp_good(f);
}

/* Waits for the client to close (nothing is answered meanwhile). */
static void srv_wait_close(struct fake_dp *f)
{
	struct fg_ctl_hdr h;

	while (srv_recv(f, &h) > 0)
		;
}

void fdp_events(struct fake_dp *f)
{
	struct fg_ctl_hdr h;

	if (!srv_accept(f) || srv_recv(f, &h) <= 0)
		return;
	srv_event(f, 1); /* before the HELLO_REPLY */
	srv_hello_reply(f, h.seq);
	if (srv_recv(f, &h) <= 0)
		return;
	srv_event(f, 2);
	srv_event(f, 3);
	srv_reply(f, h.seq, 0, 0, NULL);
	srv_event(f, 4); /* unsolicited, after the reply: read by fg_dpc_on_readable */
	if (srv_recv(f, &h) <= 0)
		return;
	for (unsigned i = 0; i < FG_DPC_EVENTS_MAX + FDP_OVERFLOW; i++)
		srv_event(f, 100 + i);
	srv_reply(f, h.seq, 0, 0, NULL);
	serve(f);
}

/* Answers the next request with noise first: replies for other seqs, other types with
 * its seq, an event; then the real REPLY (count 7, "ok"). */
void fdp_stale(struct fake_dp *f)
{
	struct fg_ctl_hdr h;
	struct fg_ctl_stats_reply st;

	if (!srv_accept(f) || srv_recv(f, &h) <= 0)
		return;
	srv_hello_reply(f, h.seq);
	if (srv_recv(f, &h) <= 0)
		return;
	srv_reply(f, h.seq - 1, -EIO, 1, "stale");
	srv_reply(f, h.seq + 1, -EIO, 2, "from the future");
	srv_reply(f, 0, -EIO, 3, "seq 0");
	srv_hello_reply(f, h.seq);
	memset(&st, 0, sizeof(st));
	fdp_put_hdr(&st.h, FG_CTL_STATS_REPLY, h.seq);
	srv_send(f, &st, sizeof(st));
	srv_event(f, 9);
	srv_reply(f, h.seq, 0, 7, "ok");
	serve(f);
}

/* Sends f->bad instead of the HELLO_REPLY (bad_in_hello) or instead of the first answer. */
void fdp_bad(struct fake_dp *f)
{
	struct fg_ctl_hdr h;

	if (!srv_accept(f) || srv_recv(f, &h) <= 0)
		return;
	if (!f->bad_in_hello) {
		srv_hello_reply(f, h.seq);
		if (srv_recv(f, &h) <= 0)
			return;
	}
	srv_send(f, f->bad, f->bad_len);
	srv_wait_close(f);
}

void fdp_silent(struct fake_dp *f)
{
	struct fg_ctl_hdr h;

	if (!srv_accept(f) || srv_recv(f, &h) <= 0)
		return;
	srv_hello_reply(f, h.seq);
	srv_wait_close(f);
}

/* Closes the connection once the request is in, then takes a reconnect. */
void fdp_close_mid(struct fake_dp *f)
{
	struct fg_ctl_hdr h;

	if (!srv_accept(f) || srv_recv(f, &h) <= 0)
		return;
	if (!f->bad_in_hello) {
		srv_hello_reply(f, h.seq);
		if (srv_recv(f, &h) <= 0)
			return;
	}
	close(f->fd);
	f->fd = -1;
	fdp_good(f);
}

/* Unsolicited junk between requests, one valid event among it, then a close. */
void fdp_junk_then_close(struct fake_dp *f)
{
	struct fg_ctl_hdr h;
	struct fg_ctl_event ev;
	struct fg_ctl_reply r;

	if (!srv_accept(f) || srv_recv(f, &h) <= 0)
		return;
	srv_hello_reply(f, h.seq);
	srv_send(f, "\x01\x00", 2);
	memset(&ev, 0, sizeof(ev));
	fdp_put_hdr(&ev.h, FG_CTL_EVENT, 0);
	ev.h.version = FG_CTL_VERSION + 1;
	srv_send(f, &ev, sizeof(ev));             /* wrong version */
	ev.h.version = FG_CTL_VERSION;
	srv_send(f, &ev, sizeof(ev) - 1);         /* wrong size */
	memset(&r, 0, sizeof(r));
	fdp_put_hdr(&r.h, FG_CTL_REPLY, 77);
	srv_send(f, &r, sizeof(r));               /* a reply nobody asked for */
	memset(f->bad, 0x5a, sizeof(f->bad));
	memcpy(f->bad, &ev.h, sizeof(ev.h));
	srv_send(f, f->bad, sizeof(f->bad));      /* oversized */
	srv_event(f, 5);
	close(f->fd);
	f->fd = -1;
}

void fdp_packets(struct fake_dp *f)
{
	static uint8_t big[FG_CTL_MAX_PACKET + 8];
	struct fg_endpoint relay = { .ip = { .family = AF_INET, .addr = { 198, 18, 7, 7 } }, .port = 3478 };
	struct fg_ctl_hdr h;
	ssize_t n;

	if (!srv_accept(f) || srv_recv(f, &h) <= 0)
		return;
	srv_hello_reply(f, h.seq);
	for (int i = 0; i < 3; i++) {
		if ((n = srv_recv(f, &h)) <= 0)
			return;
		if (h.type == FG_CTL_PACKET_OUT)
			srv_packet_echo(f, h.seq, (size_t)n);
		else
			srv_reply(f, h.seq, -EINVAL, h.seq, "refused");
	}
	/* No request waits now: the client skips what is malformed. */
	memset(big, 0x5a, sizeof(big));
	srv_packet_in(f, &relay, 0x4000, 10, big, 9);                 /* len over what follows */
	srv_packet_in(f, &relay, 0x4000, 10, big, 11);                /* under it */
	srv_packet_in(f, &relay, 0x4000, FG_CTL_MAX_PACKET + 1, big, FG_CTL_MAX_PACKET + 1);
	srv_packet_in(f, &relay, 0x4000, 0xffff, big, 0);
	srv_packet_in(f, &relay, 0x4000, 0, big, 4);
	srv_packet_in(f, &relay, 0x4000, 0, big, 0);                  /* well framed, but empty */
	srv_packet_in(f, &relay, 0x4fff, FG_CTL_MAX_PACKET, big, FG_CTL_MAX_PACKET);
	serve(f);
}

static void *fake_main(void *arg)
{
	struct fake_dp *f = arg;

	f->script(f);
	return NULL;
}

bool fdp_start(struct fake_dp *f, void (*script)(struct fake_dp *f))
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->nseen = 0;
	f->failed = false;
	f->fd = -1;
	f->script = script;
	snprintf(f->dir, sizeof(f->dir), "/tmp/fg-ctlproto-XXXXXX");
	if (!mkdtemp(f->dir))
		return false;
	snprintf(f->path, sizeof(f->path), "%.63s/dp.ctl", f->dir);
	_Static_assert(sizeof(sa.sun_path) == sizeof(f->path), "socket path sizes");
	memcpy(sa.sun_path, f->path, sizeof(sa.sun_path));
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(f->lfd, 4) < 0 ||
	    pthread_create(&f->th, NULL, fake_main, f) != 0) {
		if (f->lfd >= 0)
			close(f->lfd);
		unlink(f->path);
		rmdir(f->dir);
		return false;
	}
	return true;
}

void fdp_stop(struct fake_dp *f)
{
	pthread_join(f->th, NULL);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}
