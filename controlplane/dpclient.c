// SPDX-License-Identifier: MIT
/*
 * Control socket client (see dpclient.h). Control plane thread only.
 */
#include "dpclient.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

enum {
	RX_MAX = 8192,
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

void fg_dpc_close(struct fg_dpc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static int fail(struct fg_dpc *c, int err, const char *what)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s: %s", what, strerror(-err));
	fg_dpc_close(c);
	return err;
}

/* Receives one valid message (events are queued and skipped unless want_event). Returns
 * its length, or -errno. */
static int recv_msg(struct fg_dpc *c, uint8_t *buf, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		struct fg_ctl_hdr h;

		if (left <= 0)
			return fail(c, -ETIMEDOUT, "data plane did not answer");
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t n = recv(c->fd, buf, RX_MAX, MSG_DONTWAIT | MSG_TRUNC);
		if (n == 0)
			return fail(c, -ECONNRESET, "data plane closed the control socket");
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return fail(c, -errno, "control socket");
		}
		if ((size_t)n < sizeof(h) || n > RX_MAX)
			return fail(c, -EPROTO, "malformed message from the data plane");
		memcpy(&h, buf, sizeof(h));
		if (h.version != FG_CTL_VERSION || fg_ctl_size(h.type) != (uint32_t)n)
			return fail(c, -EPROTO, "malformed message from the data plane");
		if (h.type == FG_CTL_EVENT) {
			queue_event(c, buf);
			continue;
		}
		return (int)n;
	}
}

static int send_msg(struct fg_dpc *c, void *msg, uint16_t type)
{
	struct fg_ctl_hdr *h = msg;
	uint32_t size = fg_ctl_size(type);

	if (size == 0)
		return -EINVAL;
	if (c->fd < 0)
		return -ENOTCONN;
	h->version = FG_CTL_VERSION;
	h->type = type;
	h->seq = ++c->seq;
	for (;;) {
		ssize_t w = send(c->fd, msg, size, MSG_NOSIGNAL);

		if (w == (ssize_t)size)
			return 0;
		if (w < 0 && errno == EINTR)
			continue;
		return fail(c, w < 0 ? -errno : -EIO, "control socket send");
	}
}

int fg_dpc_connect(struct fg_dpc *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fg_ctl_hello hello;
	uint8_t buf[RX_MAX];
	int n;

	fg_dpc_close(c);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(c, -errno, "socket");
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		snprintf(c->last_error, sizeof(c->last_error), "%s: %s", c->path, strerror(-e));
		fg_dpc_close(c);
		return e;
	}
	memset(&hello, 0, sizeof(hello));
	snprintf(hello.client, sizeof(hello.client), "fastgate-controlplane %s", FG_VERSION);
	if ((n = send_msg(c, &hello, FG_CTL_HELLO)) < 0)
		return n;
	n = recv_msg(c, buf, now_ms() + FG_DPC_TIMEOUT_MS);
	if (n < 0)
		return n;
	if (((struct fg_ctl_hdr *)buf)->type != FG_CTL_HELLO_REPLY)
		return fail(c, -EPROTO, "no HELLO reply");
	memcpy(&c->hello, buf, sizeof(c->hello));
	c->last_error[0] = '\0';
	return 0;
}

int fg_dpc_request(struct fg_dpc *c, void *msg, uint16_t type, struct fg_ctl_reply *reply)
{
	uint8_t buf[RX_MAX];
	uint32_t seq;
	int n = send_msg(c, msg, type);

	if (n < 0)
		return n;
	seq = c->seq;
	int64_t deadline = now_ms() + FG_DPC_TIMEOUT_MS;
	for (;;) {
		struct fg_ctl_reply r;

		n = recv_msg(c, buf, deadline);
		if (n < 0)
			return n;
		if (((struct fg_ctl_hdr *)buf)->type != FG_CTL_REPLY || ((struct fg_ctl_hdr *)buf)->seq != seq)
			continue; /* a stray answer to an earlier, timed-out request */
		memcpy(&r, buf, sizeof(r));
		if (reply)
			*reply = r;
		return r.status;
	}
}

int fg_dpc_dump(struct fg_dpc *c, void (*on_peer)(void *ctx, const struct fg_ctl_peer_info *p),
		void (*on_resource)(void *ctx, const struct fg_ctl_resource_info *r), void *ctx)
{
	struct fg_ctl_dump d;
	uint8_t buf[RX_MAX];
	int n;

	memset(&d, 0, sizeof(d));
	if ((n = send_msg(c, &d, FG_CTL_DUMP)) < 0)
		return n;
	uint32_t seq = c->seq;
	int64_t deadline = now_ms() + FG_DPC_TIMEOUT_MS * 4;
	for (;;) {
		const struct fg_ctl_hdr *h = (const void *)buf;

		n = recv_msg(c, buf, deadline);
		if (n < 0)
			return n;
		if (h->seq != seq)
			continue;
		if (h->type == FG_CTL_PEER_INFO && on_peer) {
			struct fg_ctl_peer_info p;

			memcpy(&p, buf, sizeof(p));
			on_peer(ctx, &p);
		} else if (h->type == FG_CTL_RESOURCE_INFO && on_resource) {
			struct fg_ctl_resource_info r;

			memcpy(&r, buf, sizeof(r));
			on_resource(ctx, &r);
		} else if (h->type == FG_CTL_REPLY) {
			return ((const struct fg_ctl_reply *)buf)->status;
		}
	}
}

int fg_dpc_stats(struct fg_dpc *c, struct fg_ctl_stats_reply *out)
{
	struct fg_ctl_stats st;
	uint8_t buf[RX_MAX];
	int n;

	memset(&st, 0, sizeof(st));
	if ((n = send_msg(c, &st, FG_CTL_STATS)) < 0)
		return n;
	uint32_t seq = c->seq;
	int64_t deadline = now_ms() + FG_DPC_TIMEOUT_MS;
	for (;;) {
		const struct fg_ctl_hdr *h = (const void *)buf;

		n = recv_msg(c, buf, deadline);
		if (n < 0)
			return n;
		if (h->seq != seq)
			continue;
		if (h->type == FG_CTL_STATS_REPLY) {
			memcpy(out, buf, sizeof(*out));
			return 0;
		}
		if (h->type == FG_CTL_REPLY)
			return ((const struct fg_ctl_reply *)buf)->status;
	}
}

int fg_dpc_on_readable(struct fg_dpc *c)
{
	uint8_t buf[RX_MAX];

	while (c->fd >= 0) {
		ssize_t n = recv(c->fd, buf, RX_MAX, MSG_DONTWAIT | MSG_TRUNC);
		struct fg_ctl_hdr h;

		if (n == 0)
			return fail(c, -ECONNRESET, "data plane closed the control socket");
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : fail(c, -errno, "control socket");
		if ((size_t)n < sizeof(h) || n > RX_MAX)
			continue;
		memcpy(&h, buf, sizeof(h));
		if (h.version == FG_CTL_VERSION && h.type == FG_CTL_EVENT && fg_ctl_size(h.type) == (uint32_t)n)
			queue_event(c, buf);
	}
	return -ENOTCONN;
}

bool fg_dpc_next_event(struct fg_dpc *c, struct fg_ctl_event *out)
{
	if (c->nevents == 0)
		return false;
	*out = c->events[0];
	memmove(c->events, c->events + 1, sizeof(c->events[0]) * --c->nevents);
	return true;
}
