/* SPDX-License-Identifier: MIT */
/*
 * The control plane's end of the data plane's control socket (common/ctlproto.h). Requests
 * are asynchronous: fg_dpc_send() queues one with a completion callback and a budget, the
 * owner's loop calls fg_dpc_on_readable() / fg_dpc_on_writable() when the socket is ready
 * and fg_dpc_expire() at fg_dpc_next_deadline(), and each request completes exactly once:
 * with the data plane's answer (matched by the header's seq), or -ETIMEDOUT when its budget
 * runs out (the connection stays up; a late answer is dropped), or the transport's -errno.
 * A DUMP's PEER_INFO / RESOURCE_INFO messages and a NAT_DUMP's NAT_INFO go to the request's
 * part callback. Events (seq 0) are queued and handed out by fg_dpc_next_event(); punted datagrams (PACKET_IN,
 * STUN for the relay and ICE code) go straight to the on_packet callback, unqueued (the
 * data plane bounds them; without a callback they are counted and dropped). The blocking calls (connect,
 * request, dump, stats) wait on the same machinery with poll(): for start-up, shutdown and
 * the tests only, never inside the loop. Owned by the control plane's single thread.
 */
#ifndef FG_DPCLIENT_H
#define FG_DPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"

enum {
	FG_DPC_TIMEOUT_MS = 3000,       /* budget of a request */
	FG_DPC_DUMP_TIMEOUT_MS = 12000, /* budget of a DUMP (thousands of messages) */
	FG_DPC_EVENTS_MAX = 256,
};

/* How a request completes. status: the data plane's (0 or -errno), -ETIMEDOUT, or the
 * transport's -errno (-ECONNRESET when the connection went away). msg: the final message
 * (REPLY, STATS_REPLY or HELLO_REPLY, aligned, valid during the call) or NULL when none came.
 * part: a DUMP's PEER_INFO / RESOURCE_INFO messages, a NAT_DUMP's NAT_INFO (type says
 * which); may be NULL, as may done (fire and forget). The callbacks may send new requests or close the connection. */
struct fg_dpc_cb {
	void (*part)(void *ctx, uint16_t type, const void *msg);
	void (*done)(void *ctx, int status, const void *msg);
	void *ctx;
};

struct fg_dpc_req;

struct fg_dpc {
	int fd;                       /* -1 when disconnected */
	char path[108];
	uint32_t seq;
	struct fg_ctl_hello_reply hello;
	struct fg_ctl_event events[FG_DPC_EVENTS_MAX];
	unsigned nevents;
	bool events_lost;             /* the queue overflowed: resynchronise (DUMP) */
	char last_error[160];
	struct fg_dpc_req **reqs;     /* in flight, oldest (lowest seq) first */
	unsigned nreqs, capreqs;
	uint64_t timeouts;            /* requests that ran out of budget */
	struct fg_dpc_cb hello_cb;    /* the caller's completion of fg_dpc_hello() */
	/* Called after a request was queued: the owner re-arms its timer at
	 * fg_dpc_next_deadline() and asks for POLLOUT while fg_dpc_wants_write(). */
	void (*wake)(void *arg);
	void *wake_arg;
	/* Called for each PACKET_IN as it is read (msg aligned, valid during the call, its
	 * size checked: sizeof(*msg) + msg->len). May send requests or close the connection. */
	void (*on_packet)(void *arg, const struct fg_ctl_packet_in *msg);
	void *packet_arg;
	uint64_t packets_in;          /* PACKET_IN handed to on_packet */
	uint64_t packets_dropped;     /* PACKET_IN read without an on_packet, or empty */
	/* Called for each P2P_IN (an AssignedIps of a client; msg aligned, valid during the
	 * call, size checked: sizeof(*msg) + msg->len) and each FLOW record, as they are
	 * read. Either may be NULL: the message is then counted in unsolicited_dropped. */
	void (*on_p2p)(void *arg, const struct fg_ctl_p2p *msg);
	void (*on_flow)(void *arg, const struct fg_ctl_flow *msg);
	void *unsolicited_arg;
	void *flow_arg;               /* on_flow's arg when not NULL (the flow log's own) */
	uint64_t unsolicited_dropped;
};

void fg_dpc_init(struct fg_dpc *c, const char *path);
/* Connects and exchanges HELLO, waiting for the answer (bounded by FG_DPC_TIMEOUT_MS; for
 * start-up): 0 or -errno (last_error says why). */
int fg_dpc_connect(struct fg_dpc *c);
/* The same without waiting: fg_dpc_open() connects the socket (0 or -errno), fg_dpc_hello()
 * sends the HELLO; cb->done gets 0 once c->hello is filled in, else -errno (the connection
 * is then closed). */
int fg_dpc_open(struct fg_dpc *c);
int fg_dpc_hello(struct fg_dpc *c, const struct fg_dpc_cb *cb);
/* Closes the connection; every request in flight completes with -ECONNRESET. */
void fg_dpc_close(struct fg_dpc *c);
bool fg_dpc_connected(const struct fg_dpc *c);

/* Queues one request (a filled-in message whose header this sets; it is copied) with a
 * budget in ms. 0: cb->done will be called exactly once, never from inside this call.
 * -errno: it was not sent and no callback will come (-ENOTCONN when disconnected). */
int fg_dpc_send(struct fg_dpc *c, void *msg, uint16_t type, uint32_t budget_ms, const struct fg_dpc_cb *cb);
/* PACKET_OUT: sends len (1..FG_CTL_MAX_PACKET) payload bytes from the data plane's
 * WireGuard port to ep, inside ChannelData on channel when it is not 0 (ep is then the
 * relay). As fg_dpc_send (FG_DPC_TIMEOUT_MS budget): 0 and one cb->done, or -errno (-EINVAL
 * for a bad length) and none. */
int fg_dpc_packet_out(struct fg_dpc *c, const struct fg_endpoint *ep, uint16_t channel, const void *payload,
		      size_t len, const struct fg_dpc_cb *cb);
/* P2P_OUT: sends payload (len bytes, 1..FG_CTL_P2P_MAX: the 8-byte p2p header [event, 0 x 7]
 * and the JSON) to the client of pub, inside the p2p control IPv6 packet, over its session.
 * As fg_dpc_packet_out: 0 and one cb->done (the data plane's 0 once queued for sealing,
 * -EINVAL for a payload under the 8-byte header, -ENOENT for an unknown peer, -ENOBUFS), or
 * -errno (-EINVAL for a bad length) and none. Without a session the data plane drops it
 * (svc_no_session): the client's resent AssignedIps asks again. */
int fg_dpc_p2p_send(struct fg_dpc *c, const uint8_t pub[32], const void *payload, size_t len,
		    const struct fg_dpc_cb *cb);
/* Completes the requests whose budget ran out at now_ms with -ETIMEDOUT. */
void fg_dpc_expire(struct fg_dpc *c, int64_t now_ms);
/* The earliest deadline of a request in flight (CLOCK_MONOTONIC ms), 0 when none. */
int64_t fg_dpc_next_deadline(const struct fg_dpc *c);
int64_t fg_dpc_now_ms(void);
/* True while queued requests wait for room in the socket: call fg_dpc_on_writable(). */
bool fg_dpc_wants_write(const struct fg_dpc *c);
/* Sends what the socket takes; 0, or -errno when the connection failed (then closed). */
int fg_dpc_on_writable(struct fg_dpc *c);
/* Waits (poll) until no request is in flight or timeout_ms passed: for shutdown. */
void fg_dpc_drain(struct fg_dpc *c, int timeout_ms);

/* Blocking: one request (a filled-in message whose header this sets) and its REPLY. Returns the
 * data plane's status (0 or -errno), or -errno of the transport (the connection is then
 * closed). reply may be NULL. */
int fg_dpc_request(struct fg_dpc *c, void *msg, uint16_t type, struct fg_ctl_reply *reply);

/* DUMP: calls the callbacks for every peer and resource. */
int fg_dpc_dump(struct fg_dpc *c, void (*on_peer)(void *ctx, const struct fg_ctl_peer_info *p),
		void (*on_resource)(void *ctx, const struct fg_ctl_resource_info *r), void *ctx);
int fg_dpc_stats(struct fg_dpc *c, struct fg_ctl_stats_reply *out);

/* Reads what is pending without blocking (call when the fd is readable): completes
 * requests, queues events. Returns -ECONNRESET (or another -errno) when the data plane went
 * away or broke the protocol while a request waited. */
int fg_dpc_on_readable(struct fg_dpc *c);
/* Takes the oldest queued event; false if none. */
bool fg_dpc_next_event(struct fg_dpc *c, struct fg_ctl_event *out);

#endif
