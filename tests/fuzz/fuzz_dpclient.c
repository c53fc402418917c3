// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the control plane's side of the data plane's control socket
 * (controlplane/state/dpclient.c, protocol in common/ctlproto.h). The harness plays the data
 * plane on the other end of a SOCK_SEQPACKET socketpair. Each input starts with the client
 * having sent HELLO (seq 1), STATS, DUMP, NAT_DUMP, PEER_REMOVE, PACKET_OUT and P2P_OUT
 * (seq 2-7), each checked as it arrives (version, type, seq, exact size). The first input
 * byte says which unsolicited callbacks are set (bit 0 on_packet, 1 on_p2p, 2 on_flow,
 * 3 a flow_arg of its own); the rest is cut into records, a 2-byte little-endian length
 * and that many bytes: a datagram the data plane sends (its version field set right unless
 * its second byte has bit 7; any type, any size), after which the client reads until the
 * socket is empty. A length of 0xFFFF is an operation instead, its one byte saying which:
 * send one more request, let every budget run out, take an event, or close.
 *
 * Every datagram's effect is predicted first by a naive model of the protocol (sizes from
 * the structs and the documented rules, the table of requests in flight, the event queue)
 * and then checked: a well-formed message goes to the request with its seq (a DUMP's or
 * NAT_DUMP's parts to its part callback, a REPLY or the request's own final answer
 * completes it), an event to the queue (the oldest lost when full), PACKET_IN, P2P_IN and
 * FLOW to their callbacks or a drop counter; anything else is skipped while no request
 * waits and otherwise fails the connection with -EPROTO; an empty datagram reads as the
 * data plane hanging up. Whatever a callback is handed is exactly the datagram, aligned,
 * and consistent with its length. Every request completes exactly once, with the status
 * the model says. Any broken invariant aborts. No state between inputs.
 *
 *   scripts/fuzz.sh 60 dpclient     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/dpclient/ (tests/fuzz/corpus/gen_cp_seeds.py).
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctlproto.h"
#include "dpclient.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	MAX_REQS = 64,               /* requests of one input, the first seven included */
	OP_MARK = 0xFFFF,            /* a record length announcing an operation */
	RX_MAX = FG_CTL_MAX_MSG,     /* what the client reads of a datagram */
	EV_SIZE = sizeof(struct fg_ctl_event),
};

struct req {
	uint32_t seq;
	uint16_t type;
	uint16_t final;              /* the answer besides REPLY that completes it, 0 if none */
	bool open;                   /* in flight as the model sees it */
	unsigned done, parts;        /* callbacks seen */
	int status;                  /* of the completion */
};

struct harness {
	struct fg_dpc c;
	int peer;                    /* the data plane's end */
	struct req reqs[MAX_REQS];
	unsigned nreqs;
	int flow_arg;                /* a distinct address for flow_arg */
	uint32_t next_seq;           /* of the next request the data plane reads */
	const uint8_t *cur;          /* the datagram being read, for the callbacks */
	size_t cur_len;
	unsigned packets, p2ps, flows; /* unsolicited callbacks seen */
	uint8_t events[FG_DPC_EVENTS_MAX][EV_SIZE]; /* the model's event queue */
	unsigned nevents;
	bool events_lost;
};

static struct harness H;

/* ---- the model ------------------------------------------------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The size a message must have, from the structs and the rules of ctlproto.h's comment
 * (not fg_ctl_msg_size()): 0 for an unknown type or a count over its cap. */
static size_t naive_size(const uint8_t *d, size_t n)
{
	static const size_t fixed[FG_CTL_TYPE_MAX] = {
		[FG_CTL_HELLO] = sizeof(struct fg_ctl_hello),
		[FG_CTL_HELLO_REPLY] = sizeof(struct fg_ctl_hello_reply),
		[FG_CTL_REPLY] = sizeof(struct fg_ctl_reply),
		[FG_CTL_PEER_UPSERT] = sizeof(struct fg_ctl_peer_upsert),
		[FG_CTL_PEER_REMOVE] = sizeof(struct fg_ctl_peer_remove),
		[FG_CTL_RESOURCE_REMOVE] = sizeof(struct fg_ctl_resource_remove),
		[FG_CTL_IFACE_SET] = sizeof(struct fg_ctl_iface_set),
		[FG_CTL_DUMP] = sizeof(struct fg_ctl_dump),
		[FG_CTL_PEER_INFO] = sizeof(struct fg_ctl_peer_info),
		[FG_CTL_STATS] = sizeof(struct fg_ctl_stats),
		[FG_CTL_STATS_REPLY] = sizeof(struct fg_ctl_stats_reply),
		[FG_CTL_EVENT] = sizeof(struct fg_ctl_event),
		[FG_CTL_CHANNEL_BIND] = sizeof(struct fg_ctl_channel),
		[FG_CTL_CHANNEL_UNBIND] = sizeof(struct fg_ctl_channel),
		[FG_CTL_PEER_PATH] = sizeof(struct fg_ctl_peer_path),
		[FG_CTL_NAT_SET] = sizeof(struct fg_ctl_nat_set),
		[FG_CTL_NAT_DUMP] = sizeof(struct fg_ctl_nat_dump),
		[FG_CTL_NAT_INFO] = sizeof(struct fg_ctl_nat_info),
		[FG_CTL_FLOWS_SET] = sizeof(struct fg_ctl_flows_set),
		[FG_CTL_FLOW] = sizeof(struct fg_ctl_flow),
	};
	uint16_t type = rd16(d + 2);
	size_t base, len;

	switch (type) {
	case FG_CTL_RESOURCE_UPSERT:
	case FG_CTL_RESOURCE_INFO:
		base = sizeof(struct fg_ctl_resource_info);
		if (n < base)
			return base;
		len = rd32(d + offsetof(struct fg_ctl_resource_info, n_filters));
		return len > FG_CTL_MAX_FILTERS ? 0 : base + len * sizeof(struct fg_ctl_filter);
	case FG_CTL_PACKET_IN:
		base = sizeof(struct fg_ctl_packet_in);
		if (n < base)
			return base;
		len = rd16(d + offsetof(struct fg_ctl_packet_in, len));
		return len > FG_CTL_MAX_PACKET ? 0 : base + len;
	case FG_CTL_PACKET_OUT:
		base = sizeof(struct fg_ctl_packet_out);
		if (n < base)
			return base;
		len = rd16(d + offsetof(struct fg_ctl_packet_out, len));
		return len > FG_CTL_MAX_PACKET ? 0 : base + len;
	case FG_CTL_P2P_IN:
	case FG_CTL_P2P_OUT:
		base = sizeof(struct fg_ctl_p2p);
		if (n < base)
			return base;
		len = rd16(d + offsetof(struct fg_ctl_p2p, len));
		return len > FG_CTL_P2P_MAX ? 0 : base + len;
	default:
		return type < FG_CTL_TYPE_MAX ? fixed[type] : 0;
	}
}

static bool well_formed(const uint8_t *d, size_t n)
{
	return n >= sizeof(struct fg_ctl_hdr) && n <= RX_MAX && rd16(d) == FG_CTL_VERSION && naive_size(d, n) == n;
}

static struct req *open_req(uint32_t seq)
{
	for (unsigned i = 0; i < H.nreqs; i++)
		if (H.reqs[i].open && H.reqs[i].seq == seq)
			return &H.reqs[i];
	return NULL;
}

static unsigned n_open(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < H.nreqs; i++)
		n += H.reqs[i].open;
	return n;
}

/* What the model expects of one step: per request, the completions and parts it adds and
 * the status of a completion; the connection's state after it. */
struct expect {
	unsigned done[MAX_REQS], parts[MAX_REQS];
	int status[MAX_REQS];
	unsigned packets, p2ps, flows;
	uint64_t packets_in, packets_dropped, unsolicited_dropped, timeouts;
	bool closed;
};

static void expect_start(struct expect *e)
{
	memset(e, 0, sizeof(*e));
	for (unsigned i = 0; i < H.nreqs; i++) {
		e->done[i] = H.reqs[i].done;
		e->parts[i] = H.reqs[i].parts;
		e->status[i] = H.reqs[i].status;
	}
	e->packets = H.packets;
	e->p2ps = H.p2ps;
	e->flows = H.flows;
	e->packets_in = H.c.packets_in;
	e->packets_dropped = H.c.packets_dropped;
	e->unsolicited_dropped = H.c.unsolicited_dropped;
	e->timeouts = H.c.timeouts;
	e->closed = H.c.fd < 0;
}

/* Every request in flight completes with status; the connection is gone. */
static void expect_fail_all(struct expect *e, int status)
{
	for (unsigned i = 0; i < H.nreqs; i++) {
		if (!H.reqs[i].open)
			continue;
		H.reqs[i].open = false;
		e->done[i]++;
		e->status[i] = status;
	}
	e->closed = true;
}

static void expect_complete(struct expect *e, struct req *r, int status)
{
	unsigned i = (unsigned)(r - H.reqs);

	r->open = false;
	e->done[i]++;
	e->status[i] = status;
	/* The HELLO's completion closes the connection unless its answer came. */
	if (r->type == FG_CTL_HELLO && status != 0)
		expect_fail_all(e, status);
}

static void model_event(const uint8_t *d)
{
	if (H.nevents == FG_DPC_EVENTS_MAX) {
		memmove(H.events[0], H.events[1], EV_SIZE * (FG_DPC_EVENTS_MAX - 1));
		H.nevents--;
		H.events_lost = true;
	}
	memcpy(H.events[H.nevents++], d, EV_SIZE);
}

/* The effect of the datagram d (n bytes) on the model. */
static void predict(const uint8_t *d, size_t n, struct expect *e)
{
	uint16_t type;
	struct req *r;

	expect_start(e);
	if (n == 0) {
		expect_fail_all(e, -ECONNRESET);
		return;
	}
	if (!well_formed(d, n)) {
		if (n_open())
			expect_fail_all(e, -EPROTO);
		return;
	}
	type = rd16(d + 2);
	switch (type) {
	case FG_CTL_EVENT:
		model_event(d);
		return;
	case FG_CTL_PACKET_IN:
		if (H.c.on_packet && rd16(d + offsetof(struct fg_ctl_packet_in, len))) {
			e->packets++;
			e->packets_in++;
		} else {
			e->packets_dropped++;
		}
		return;
	case FG_CTL_P2P_IN:
		if (H.c.on_p2p && rd16(d + offsetof(struct fg_ctl_p2p, len)))
			e->p2ps++;
		else
			e->unsolicited_dropped++;
		return;
	case FG_CTL_FLOW:
		if (H.c.on_flow)
			e->flows++;
		else
			e->unsolicited_dropped++;
		return;
	default:
		break;
	}
	r = open_req(rd32(d + 4));
	if (!r)
		return;
	if (((type == FG_CTL_PEER_INFO || type == FG_CTL_RESOURCE_INFO) && r->type == FG_CTL_DUMP) ||
	    (type == FG_CTL_NAT_INFO && r->type == FG_CTL_NAT_DUMP))
		e->parts[r - H.reqs]++;
	else if (type == FG_CTL_REPLY)
		/* A HELLO answered with a REPLY is a protocol error, whatever its status. */
		expect_complete(e, r, r->type == FG_CTL_HELLO ? -EPROTO : (int32_t)rd32(d + 8));
	else if (type == r->final)
		expect_complete(e, r, 0);
}

static void verify(const struct expect *e)
{
	for (unsigned i = 0; i < H.nreqs; i++) {
		CHECK(H.reqs[i].done == e->done[i] && H.reqs[i].done <= 1);
		CHECK(H.reqs[i].parts == e->parts[i]);
		CHECK(!H.reqs[i].done || H.reqs[i].status == e->status[i]);
	}
	CHECK(H.packets == e->packets && H.p2ps == e->p2ps && H.flows == e->flows);
	CHECK(H.c.packets_in == e->packets_in && H.c.packets_dropped == e->packets_dropped);
	CHECK(H.c.unsolicited_dropped == e->unsolicited_dropped && H.c.timeouts == e->timeouts);
	CHECK((H.c.fd < 0) == e->closed);
	CHECK(H.c.nreqs == n_open() && (!e->closed || !H.c.nreqs));
	CHECK(H.c.nevents == H.nevents && H.c.events_lost == H.events_lost);
	for (unsigned i = 0; i < H.nevents; i++)
		CHECK(!memcmp(&H.c.events[i], H.events[i], EV_SIZE));
}

/* ---- the callbacks: what they are handed is the datagram being read ---------------------- */

static void is_current(const void *msg, size_t fixed, size_t var)
{
	CHECK(msg && (uintptr_t)msg % alignof(max_align_t) == 0);
	CHECK(H.cur && fixed + var == H.cur_len && !memcmp(msg, H.cur, H.cur_len));
	CHECK(fg_ctl_msg_size(msg, H.cur_len) == H.cur_len);
}

static void on_done(void *ctx, int status, const void *msg)
{
	struct req *r = ctx;
	const struct fg_ctl_hdr *h = msg;

	r->done++;
	r->status = status;
	if (!msg) {
		/* The HELLO's completion carries no message; its answer is in c->hello. */
		CHECK(status < 0 || r->type == FG_CTL_HELLO);
		if (r->type == FG_CTL_HELLO && status == 0)
			CHECK(H.cur && H.cur_len == sizeof(H.c.hello) && !memcmp(&H.c.hello, H.cur, H.cur_len));
		return;
	}
	CHECK(r->type != FG_CTL_HELLO);
	is_current(msg, fg_ctl_size(h->type), 0);
	CHECK(h->seq == r->seq);
	if (h->type == FG_CTL_REPLY)
		CHECK(status == ((const struct fg_ctl_reply *)msg)->status);
	else
		CHECK(h->type == r->final && status == 0);
}

static void on_part(void *ctx, uint16_t type, const void *msg)
{
	struct req *r = ctx;
	const struct fg_ctl_hdr *h = msg;

	r->parts++;
	CHECK(!r->done && h->type == type && h->seq == r->seq);
	CHECK(r->type == (type == FG_CTL_NAT_INFO ? FG_CTL_NAT_DUMP : FG_CTL_DUMP));
	if (type == FG_CTL_RESOURCE_INFO) {
		const struct fg_ctl_resource_info *ri = msg;

		CHECK(ri->n_filters <= FG_CTL_MAX_FILTERS);
		is_current(msg, sizeof(*ri), ri->n_filters * sizeof(ri->filters[0]));
	} else {
		CHECK(type == FG_CTL_PEER_INFO || type == FG_CTL_NAT_INFO);
		is_current(msg, fg_ctl_size(type), 0);
	}
}

static void on_packet(void *arg, const struct fg_ctl_packet_in *msg)
{
	CHECK(arg == &H);
	H.packets++;
	CHECK(msg->h.type == FG_CTL_PACKET_IN && msg->len > 0 && msg->len <= FG_CTL_MAX_PACKET);
	is_current(msg, sizeof(*msg), msg->len);
}

static void on_p2p(void *arg, const struct fg_ctl_p2p *msg)
{
	CHECK(arg == &H);
	H.p2ps++;
	CHECK(msg->h.type == FG_CTL_P2P_IN && msg->len > 0 && msg->len <= FG_CTL_P2P_MAX);
	is_current(msg, sizeof(*msg), msg->len);
}

static void on_flow(void *arg, const struct fg_ctl_flow *msg)
{
	CHECK(arg == (H.c.flow_arg ? (void *)&H.flow_arg : (void *)&H));
	H.flows++;
	CHECK(msg->h.type == FG_CTL_FLOW);
	is_current(msg, sizeof(*msg), 0);
}

/* ---- the data plane's end ---------------------------------------------------------------- */

/* Reads what the client sent: each a well-formed request with the next seq. */
static void take_requests(void)
{
	static _Alignas(max_align_t) uint8_t buf[RX_MAX];
	ssize_t n;

	while ((n = recv(H.peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct req *r = NULL;

		CHECK(well_formed(buf, (size_t)n));
		for (unsigned i = 0; i < H.nreqs; i++)
			if (H.reqs[i].seq == rd32(buf + 4))
				r = &H.reqs[i];
		CHECK(r && r->seq == H.next_seq && r->type == rd16(buf + 2));
		H.next_seq++;
	}
}

static uint16_t final_of(uint16_t type)
{
	return type == FG_CTL_HELLO ? FG_CTL_HELLO_REPLY : type == FG_CTL_STATS ? FG_CTL_STATS_REPLY : 0;
}

/* One more request of the kind k picks, unless the model has no room for it. */
static void send_request(unsigned k)
{
	static const uint16_t types[] = { FG_CTL_STATS, FG_CTL_DUMP, FG_CTL_NAT_DUMP, FG_CTL_PEER_REMOVE,
					  FG_CTL_PACKET_OUT, FG_CTL_P2P_OUT };
	_Alignas(max_align_t) uint8_t buf[sizeof(struct fg_ctl_p2p) + 64];
	uint16_t type = types[k % (sizeof(types) / sizeof(types[0]))];
	struct req *r;
	struct fg_dpc_cb cb;
	int rc;

	if (H.nreqs == MAX_REQS)
		return;
	r = &H.reqs[H.nreqs];
	memset(r, 0, sizeof(*r));
	cb = (struct fg_dpc_cb){ .part = on_part, .done = on_done, .ctx = r };
	memset(buf, 0, sizeof(buf));
	if (type == FG_CTL_PACKET_OUT) {
		struct fg_endpoint ep = { .ip = { .family = AF_INET, .addr = { 198, 18, 0, 3 } }, .port = 3478 };

		rc = fg_dpc_packet_out(&H.c, &ep, 0x4000, "\x00\x01\x00\x00", 4, &cb);
	} else if (type == FG_CTL_P2P_OUT) {
		rc = fg_dpc_p2p_send(&H.c, (const uint8_t[32]){ 7 }, "\x01\0\0\0\0\0\0\0{}", 10, &cb);
	} else {
		rc = fg_dpc_send(&H.c, buf, type, FG_DPC_TIMEOUT_MS, &cb);
	}
	if (H.c.fd < 0) {
		CHECK(rc == -ENOTCONN);
		return;
	}
	CHECK(rc == 0);
	r->seq = H.c.seq;
	r->type = type;
	r->final = final_of(type);
	r->open = true;
	H.nreqs++;
	take_requests();
}

static void start(uint8_t flags)
{
	struct fg_dpc_cb cb;
	int sv[2];

	memset(&H, 0, sizeof(H));
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	fg_dpc_init(&H.c, "fuzz");
	H.c.fd = sv[0];
	H.peer = sv[1];
	H.next_seq = 1;
	H.c.on_packet = flags & 1 ? on_packet : NULL;
	H.c.packet_arg = &H;
	H.c.on_p2p = flags & 2 ? on_p2p : NULL;
	H.c.on_flow = flags & 4 ? on_flow : NULL;
	H.c.unsolicited_arg = &H;
	H.c.flow_arg = flags & 8 ? &H.flow_arg : NULL;
	/* HELLO as fg_dpc_connect() sends it, then one of each kind of request. */
	cb = (struct fg_dpc_cb){ .done = on_done, .ctx = &H.reqs[0] };
	CHECK(fg_dpc_hello(&H.c, &cb) == 0);
	H.reqs[0] = (struct req){ .seq = 1, .type = FG_CTL_HELLO, .final = FG_CTL_HELLO_REPLY, .open = true };
	H.nreqs = 1;
	take_requests();
	for (unsigned k = 0; k < 6; k++)
		send_request(k);
	CHECK(H.nreqs == 7 && H.c.seq == 7 && H.next_seq == 8);
}

/* ---- the input ---------------------------------------------------------------------------- */

static void datagram(const uint8_t *d, size_t n)
{
	static _Alignas(max_align_t) uint8_t msg[RX_MAX + 64];
	struct expect e;
	ssize_t w;
	int rc;

	if (H.c.fd < 0 || n > sizeof(msg))
		return;
	memcpy(msg, d, n);
	/* The version field is mostly right, so the fuzzer gets past the first check. */
	if (n >= 2 && !(msg[1] & 0x80)) {
		msg[0] = FG_CTL_VERSION;
		msg[1] = 0;
	}
	w = send(H.peer, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0) {
		CHECK(errno == EMSGSIZE || errno == ENOBUFS);
		return;
	}
	CHECK((size_t)w == n);
	predict(msg, n, &e);
	H.cur = msg;
	H.cur_len = n;
	rc = fg_dpc_on_readable(&H.c);
	H.cur = NULL;
	/* 0 when all was read; the transport's error when the connection failed (-ENOTCONN
	 * when a callback closed it: the HELLO's). */
	if (!e.closed)
		CHECK(rc == 0);
	else
		CHECK(rc == -ECONNRESET || rc == -EPROTO || rc == -ENOTCONN);
	verify(&e);
}

static void operation(uint8_t op)
{
	struct fg_ctl_event ev;
	struct expect e;
	bool hello_open;

	switch (op % 4) {
	case 0:
		send_request(op / 4);
		return;
	case 1:               /* every budget runs out */
		expect_start(&e);
		hello_open = H.reqs[0].open;
		e.timeouts += hello_open ? 1 : n_open();
		expect_fail_all(&e, -ETIMEDOUT);
		e.closed = H.c.fd < 0 || hello_open;
		fg_dpc_expire(&H.c, INT64_MAX);
		verify(&e);
		return;
	case 2:               /* the owner takes an event */
		if (!H.nevents) {
			CHECK(!fg_dpc_next_event(&H.c, &ev));
			return;
		}
		CHECK(fg_dpc_next_event(&H.c, &ev) && !memcmp(&ev, H.events[0], EV_SIZE));
		memmove(H.events[0], H.events[1], EV_SIZE * --H.nevents);
		expect_start(&e);
		verify(&e);
		return;
	default:              /* the owner closes */
		expect_start(&e);
		expect_fail_all(&e, -ECONNRESET);
		fg_dpc_close(&H.c);
		verify(&e);
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expect e;

	if (size < 1)
		return 0;
	start(data[0]);
	for (size_t i = 1; i + 2 <= size;) {
		size_t n = (size_t)data[i] | (size_t)data[i + 1] << 8;

		i += 2;
		if (n == OP_MARK) {
			if (i < size)
				operation(data[i++]);
			continue;
		}
		if (n > size - i)
			n = size - i;
		datagram(data + i, n);
		i += n;
	}
	/* The end: whatever is still in flight completes now, and every request exactly once. */
	expect_start(&e);
	expect_fail_all(&e, -ECONNRESET);
	e.closed = true;
	fg_dpc_close(&H.c);
	verify(&e);
	for (unsigned i = 0; i < H.nreqs; i++)
		CHECK(H.reqs[i].done == 1 && !H.reqs[i].open);
	close(H.peer);
	return 0;
}
