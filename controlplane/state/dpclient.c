// SPDX-License-Identifier: MIT
/*
 * Control socket client (see dpclient.h): the table of requests in flight, in seq order,
 * each with its copy of the message until the socket took it. Control plane thread only.
 */
#include "dpclient.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

enum {
	RX_MAX = FG_CTL_MAX_MSG,   /* a resource with every filter (ctlproto.h) */
};

void fg_dpc_init(struct fg_dpc *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
}

bool fg_dpc_connected(const struct fg_dpc *c)
{
	return c->fd >= 0;
}

int64_t fg_dpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fg_dpc_req {
	uint32_t seq;
	uint16_t type;          /* what was sent */
	uint16_t final;         /* the answer that completes it besides a REPLY, 0 if none */
	int64_t deadline;
	void *msg;              /* a copy until the socket took it, then NULL */
	uint32_t len;
	struct fg_dpc_cb cb;
};

static void req_free(struct fg_dpc_req *r)
{
	if (r->msg) {
		sodium_memzero(r->msg, r->len); /* PEER_UPSERT carries a PSK */
		free(r->msg);
	}
	free(r);
}

static void queue_event(struct fg_dpc *c, const void *buf)
{
	if (c->nevents == FG_DPC_EVENTS_MAX) {
		/* The oldest is lost: the owner resynchronises with a DUMP. */
		memmove(c->events, c->events + 1, sizeof(c->events[0]) * --c->nevents);
		c->events_lost = true;
	}
	memcpy(&c->events[c->nevents++], buf, sizeof(c->events[0]));
}

/* A punted datagram (its size already checked against its len): to the owner at once. An
 * empty one (the data plane never sends one) is dropped like one nobody takes. */
static void packet_in(struct fg_dpc *c, const void *buf)
{
	if (!c->on_packet || ((const struct fg_ctl_packet_in *)buf)->len == 0) {
		c->packets_dropped++;
		return;
	}
	c->packets_in++;
	c->on_packet(c->packet_arg, buf);
}

/* P2P_IN and FLOW: to their callbacks at once, as packets. */
static void unsolicited(struct fg_dpc *c, uint16_t type, const void *buf)
{
	if (type == FG_CTL_P2P_IN && c->on_p2p && ((const struct fg_ctl_p2p *)buf)->len > 0)
		c->on_p2p(c->unsolicited_arg, buf);
	else if (type == FG_CTL_FLOW && c->on_flow)
		c->on_flow(c->flow_arg ? c->flow_arg : c->unsolicited_arg, buf);
	else
		c->unsolicited_dropped++;
}

static struct fg_dpc_req *take(struct fg_dpc *c, unsigned i)
{
	struct fg_dpc_req *r = c->reqs[i];

	memmove(c->reqs + i, c->reqs + i + 1, sizeof(c->reqs[0]) * (c->nreqs - i - 1));
	c->nreqs--;
	return r;
}

static void complete(struct fg_dpc_req *r, int status, const void *msg)
{
	struct fg_dpc_cb cb = r->cb;

	req_free(r);
	if (cb.done)
		cb.done(cb.ctx, status, msg);
}

/* Every request in flight completes with err. The table is detached first: callbacks may
 * queue new requests (they fail with -ENOTCONN while the fd is closed). */
static void fail_all(struct fg_dpc *c, int err)
{
	struct fg_dpc_req **reqs = c->reqs;
	unsigned n = c->nreqs;

	c->reqs = NULL;
	c->nreqs = c->capreqs = 0;
	for (unsigned i = 0; i < n; i++)
		complete(reqs[i], err, NULL);
	free(reqs);
}

static void close_fd(struct fg_dpc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void fg_dpc_close(struct fg_dpc *c)
{
	close_fd(c);
	fail_all(c, -ECONNRESET);
}

static int fail(struct fg_dpc *c, int err, const char *what)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s: %s", what, strerror(-err));
	close_fd(c);
	fail_all(c, err);
	return err;
}

/* Sends the queued messages in order. 0 when all are out, 1 when the socket is full,
 * -errno on a transport error. */
static int flush(struct fg_dpc *c)
{
	for (unsigned i = 0; i < c->nreqs; i++) {
		struct fg_dpc_req *r = c->reqs[i];

		if (!r->msg)
			continue;
		for (;;) {
			ssize_t w = send(c->fd, r->msg, r->len, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w == (ssize_t)r->len)
				break;
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 1;
			return w < 0 ? -errno : -EIO;
		}
		sodium_memzero(r->msg, r->len);
		free(r->msg);
		r->msg = NULL;
	}
	return 0;
}

bool fg_dpc_wants_write(const struct fg_dpc *c)
{
	for (unsigned i = 0; i < c->nreqs; i++)
		if (c->reqs[i]->msg)
			return true;
	return false;
}

int fg_dpc_on_writable(struct fg_dpc *c)
{
	int r;

	if (c->fd < 0)
		return -ENOTCONN;
	r = flush(c);
	return r < 0 ? fail(c, r, "control socket send") : 0;
}

static uint16_t final_type(uint16_t type)
{
	return type == FG_CTL_HELLO ? FG_CTL_HELLO_REPLY : type == FG_CTL_STATS ? FG_CTL_STATS_REPLY : 0;
}

int fg_dpc_send(struct fg_dpc *c, void *msg, uint16_t type, uint32_t budget_ms, const struct fg_dpc_cb *cb)
{
	struct fg_ctl_hdr *h = msg;
	uint32_t size = fg_ctl_size(type);
	struct fg_dpc_req *r;
	int e;

	if (size == 0)
		return -EINVAL;
	if (fg_ctl_is_variable(type)) { /* the fixed part, then n_filters filters or len bytes */
		h->type = type;
		if ((size = fg_ctl_msg_size(msg, size)) == 0)
			return -EINVAL;
	}
	if (c->fd < 0)
		return -ENOTCONN;
	if (c->nreqs == c->capreqs) {
		unsigned cap = c->capreqs ? c->capreqs * 2 : 16;
		struct fg_dpc_req **n = realloc(c->reqs, sizeof(*n) * cap);

		if (!n)
			return -ENOMEM;
		c->reqs = n;
		c->capreqs = cap;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->msg = malloc(size))) {
		free(r);
		return -ENOMEM;
	}
	h->version = FG_CTL_VERSION;
	h->type = type;
	h->seq = ++c->seq;
	if (c->seq == 0) /* seq 0 is the events' */
		h->seq = ++c->seq;
	memcpy(r->msg, msg, size);
	r->len = size;
	r->seq = h->seq;
	r->type = type;
	r->final = final_type(type);
	r->deadline = fg_dpc_now_ms() + budget_ms;
	if (cb)
		r->cb = *cb;
	c->reqs[c->nreqs++] = r;
	e = flush(c);
	if (e < 0) {
		/* This one was not sent: no callback for it; the others fail with the connection. */
		req_free(take(c, c->nreqs - 1));
		return fail(c, e, "control socket send");
	}
	if (c->wake)
		c->wake(c->wake_arg);
	return 0;
}

int fg_dpc_packet_out(struct fg_dpc *c, const struct fg_endpoint *ep, uint16_t channel, const void *payload,
		      size_t len, const struct fg_dpc_cb *cb)
{
	_Alignas(max_align_t) uint8_t buf[sizeof(struct fg_ctl_packet_out) + FG_CTL_MAX_PACKET];
	struct fg_ctl_packet_out *m = (void *)buf;

	if (len == 0 || len > FG_CTL_MAX_PACKET)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->ep = *ep;
	m->channel = channel;
	m->len = (uint16_t)len;
	memcpy(m->payload, payload, len);
	return fg_dpc_send(c, m, FG_CTL_PACKET_OUT, FG_DPC_TIMEOUT_MS, cb);
}

int fg_dpc_p2p_send(struct fg_dpc *c, const uint8_t pub[32], const void *payload, size_t len,
		    const struct fg_dpc_cb *cb)
{
	_Alignas(max_align_t) uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX];
	struct fg_ctl_p2p *m = (void *)buf;

	if (len == 0 || len > FG_CTL_P2P_MAX)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	memcpy(m->public_key, pub, 32);
	m->len = (uint16_t)len;
	memcpy(m->payload, payload, len);
	return fg_dpc_send(c, m, FG_CTL_P2P_OUT, FG_DPC_TIMEOUT_MS, cb);
}

void fg_dpc_expire(struct fg_dpc *c, int64_t now_ms)
{
	for (unsigned i = 0; i < c->nreqs;) {
		if (c->reqs[i]->deadline > now_ms) {
			i++;
			continue;
		}
		c->timeouts++;
		complete(take(c, i), -ETIMEDOUT, NULL);
		i = 0; /* the callback may have changed the table */
	}
}

int64_t fg_dpc_next_deadline(const struct fg_dpc *c)
{
	int64_t d = 0;

	for (unsigned i = 0; i < c->nreqs; i++)
		if (d == 0 || c->reqs[i]->deadline < d)
			d = c->reqs[i]->deadline;
	return d;
}

/* One valid message that is not an event: to the request with its seq. Stray answers (to
 * a request that timed out) and answers of the wrong type are dropped. */
static void dispatch(struct fg_dpc *c, const void *buf)
{
	const struct fg_ctl_hdr *h = buf;
	unsigned i;

	for (i = 0; i < c->nreqs; i++)
		if (c->reqs[i]->seq == h->seq)
			break;
	if (i == c->nreqs)
		return;
	struct fg_dpc_req *r = c->reqs[i];
	if (((h->type == FG_CTL_PEER_INFO || h->type == FG_CTL_RESOURCE_INFO) && r->type == FG_CTL_DUMP) ||
	    (h->type == FG_CTL_NAT_INFO && r->type == FG_CTL_NAT_DUMP)) {
		if (r->cb.part)
			r->cb.part(r->cb.ctx, h->type, buf);
	} else if (h->type == FG_CTL_REPLY) {
		complete(take(c, i), ((const struct fg_ctl_reply *)buf)->status, buf);
	} else if (h->type == r->final) {
		complete(take(c, i), 0, buf);
	}
}

/* Reads until the socket is empty, or until *stop (a blocking caller's answer is in: what
 * follows it stays in the socket, for the loop). */
static int read_some(struct fg_dpc *c, const bool *stop)
{
	_Alignas(max_align_t) uint8_t buf[RX_MAX];

	while (c->fd >= 0) {
		if (stop && *stop)
			return 0;
		ssize_t n = recv(c->fd, buf, RX_MAX, MSG_DONTWAIT | MSG_TRUNC);
		struct fg_ctl_hdr h;

		if (n == 0)
			return fail(c, -ECONNRESET, "data plane closed the control socket");
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : fail(c, -errno, "control socket");
		}
		if ((size_t)n >= sizeof(h) && n <= RX_MAX) {
			memcpy(&h, buf, sizeof(h));
			if (h.version == FG_CTL_VERSION && fg_ctl_msg_size(buf, (size_t)n) == (uint32_t)n) {
				if (h.type == FG_CTL_EVENT)
					queue_event(c, buf);
				else if (h.type == FG_CTL_PACKET_IN)
					packet_in(c, buf);
				else if (h.type == FG_CTL_P2P_IN || h.type == FG_CTL_FLOW)
					unsolicited(c, h.type, buf);
				else
					dispatch(c, buf);
				continue;
			}
		}
		/* Unsolicited junk is skipped; while a request waits it may have been the answer,
		 * and the protocol is broken: fail now rather than at the request's deadline. */
		if (c->nreqs)
			return fail(c, -EPROTO, "malformed message from the data plane");
	}
	return -ENOTCONN;
}

int fg_dpc_on_readable(struct fg_dpc *c)
{
	return read_some(c, NULL);
}

bool fg_dpc_next_event(struct fg_dpc *c, struct fg_ctl_event *out)
{
	if (c->nevents == 0)
		return false;
	*out = c->events[0];
	memmove(c->events, c->events + 1, sizeof(c->events[0]) * --c->nevents);
	return true;
}

/* ---- connecting ----------------------------------------------------------------------------- */

int fg_dpc_open(struct fg_dpc *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	fg_dpc_close(c);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return fail(c, -errno, "socket");
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		snprintf(c->last_error, sizeof(c->last_error), "%s: %s", c->path, strerror(-e));
		close_fd(c);
		return e;
	}
	return 0;
}

static void hello_done(void *ctx, int status, const void *msg)
{
	struct fg_dpc *c = ctx;
	struct fg_dpc_cb cb = c->hello_cb;

	if (msg && ((const struct fg_ctl_hdr *)msg)->type == FG_CTL_HELLO_REPLY) {
		memcpy(&c->hello, msg, sizeof(c->hello));
		c->last_error[0] = '\0';
		status = 0;
	} else if (msg) {
		status = fail(c, -EPROTO, "no HELLO reply");
	} else if (status == -ETIMEDOUT) {
		status = fail(c, -ETIMEDOUT, "data plane did not answer");
	}
	if (cb.done)
		cb.done(cb.ctx, status, NULL);
}

int fg_dpc_hello(struct fg_dpc *c, const struct fg_dpc_cb *cb)
{
	struct fg_ctl_hello hello;
	const struct fg_dpc_cb mine = { .done = hello_done, .ctx = c };

	c->hello_cb = *cb;
	memset(&hello, 0, sizeof(hello));
	snprintf(hello.client, sizeof(hello.client), "fastgate-controlplane %s", FG_VERSION);
	return fg_dpc_send(c, &hello, FG_CTL_HELLO, FG_DPC_TIMEOUT_MS, &mine);
}

/* ---- blocking calls (start-up, shutdown, tests) ---------------------------------------------- */

struct waiter {
	bool done;
	int status;
	_Alignas(max_align_t) uint8_t msg[RX_MAX];
	void (*on_peer)(void *ctx, const struct fg_ctl_peer_info *p);
	void (*on_resource)(void *ctx, const struct fg_ctl_resource_info *r);
	void *ctx;
};

static void wait_done(void *ctx, int status, const void *msg)
{
	struct waiter *w = ctx;

	w->done = true;
	w->status = status;
	if (msg)
		memcpy(w->msg, msg, fg_ctl_size(((const struct fg_ctl_hdr *)msg)->type));
}

static void wait_part(void *ctx, uint16_t type, const void *msg)
{
	struct waiter *w = ctx;

	if (type == FG_CTL_PEER_INFO && w->on_peer)
		w->on_peer(w->ctx, msg);
	else if (type == FG_CTL_RESOURCE_INFO && w->on_resource)
		w->on_resource(w->ctx, msg);
}

/* Runs the socket until w completes or the deadline passes (which closes the connection:
 * a blocking caller has nothing better to do with a data plane that does not answer). */
static int wait_for(struct fg_dpc *c, struct waiter *w, int64_t deadline)
{
	uint32_t seq = c->seq;

	while (!w->done) {
		int64_t left = deadline - fg_dpc_now_ms();
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		if (c->fd < 0)
			return -ENOTCONN;
		if (left <= 0) {
			for (unsigned i = 0; i < c->nreqs; i++)
				if (c->reqs[i]->seq == seq) {
					req_free(take(c, i));
					break;
				}
			return fail(c, -ETIMEDOUT, "data plane did not answer");
		}
		if (fg_dpc_wants_write(c))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if ((pfd.revents & POLLOUT) && fg_dpc_on_writable(c) < 0)
			break;
		if (read_some(c, &w->done) < 0)
			break;
	}
	return w->done ? w->status : -ENOTCONN;
}

static int blocking(struct fg_dpc *c, void *msg, uint16_t type, uint32_t budget_ms, struct waiter *w)
{
	const struct fg_dpc_cb cb = { .part = wait_part, .done = wait_done, .ctx = w };
	int r = fg_dpc_send(c, msg, type, budget_ms, &cb);

	return r < 0 ? r : wait_for(c, w, fg_dpc_now_ms() + budget_ms);
}

int fg_dpc_connect(struct fg_dpc *c)
{
	struct waiter w = { 0 };
	const struct fg_dpc_cb cb = { .done = wait_done, .ctx = &w };
	int r = fg_dpc_open(c);

	if (r < 0)
		return r;
	if ((r = fg_dpc_hello(c, &cb)) < 0)
		return r;
	return wait_for(c, &w, fg_dpc_now_ms() + FG_DPC_TIMEOUT_MS);
}

int fg_dpc_request(struct fg_dpc *c, void *msg, uint16_t type, struct fg_ctl_reply *reply)
{
	struct waiter *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	r = blocking(c, msg, type, FG_DPC_TIMEOUT_MS, w);
	if (reply && w->done && ((struct fg_ctl_hdr *)w->msg)->type == FG_CTL_REPLY)
		memcpy(reply, w->msg, sizeof(*reply));
	free(w);
	return r;
}

int fg_dpc_dump(struct fg_dpc *c, void (*on_peer)(void *ctx, const struct fg_ctl_peer_info *p),
		void (*on_resource)(void *ctx, const struct fg_ctl_resource_info *r), void *ctx)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct fg_ctl_dump d;
	int r;

	if (!w)
		return -ENOMEM;
	w->on_peer = on_peer;
	w->on_resource = on_resource;
	w->ctx = ctx;
	memset(&d, 0, sizeof(d));
	r = blocking(c, &d, FG_CTL_DUMP, FG_DPC_DUMP_TIMEOUT_MS, w);
	free(w);
	return r;
}

int fg_dpc_stats(struct fg_dpc *c, struct fg_ctl_stats_reply *out)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct fg_ctl_stats st;
	int r;

	if (!w)
		return -ENOMEM;
	memset(&st, 0, sizeof(st));
	r = blocking(c, &st, FG_CTL_STATS, FG_DPC_TIMEOUT_MS, w);
	if (r == 0 && ((struct fg_ctl_hdr *)w->msg)->type == FG_CTL_STATS_REPLY)
		memcpy(out, w->msg, sizeof(*out));
	free(w);
	return r;
}

void fg_dpc_drain(struct fg_dpc *c, int timeout_ms)
{
	int64_t deadline = fg_dpc_now_ms() + timeout_ms;

	while (c->fd >= 0 && c->nreqs) {
		int64_t left = deadline - fg_dpc_now_ms();
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		if (left <= 0)
			break;
		if (fg_dpc_wants_write(c))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if ((pfd.revents & POLLOUT) && fg_dpc_on_writable(c) < 0)
			break;
		if (fg_dpc_on_readable(c) < 0)
			break;
	}
}
