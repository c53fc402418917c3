// SPDX-License-Identifier: MIT
/*
 * The DNS forwarder's side towards the clients (see forward.h): the listeners and their
 * bind retries, UDP queries, TCP connections read one framed query at a time, answers and
 * SERVFAILs, the one timer and the one epoll set the owner watches. The nameservers'
 * side is forward_up.c. Control plane thread only.
 */
#include "forward.h"
#include "forward_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

static const char *const TAG = "fastgate.dns";

const char *const fg_dnsfwd_counter_names[] = {
#define FG_DNSFWD_NAME(name, what) #name,
	FG_DNSFWD_COUNTERS(FG_DNSFWD_NAME)
#undef FG_DNSFWD_NAME
};
const size_t fg_dnsfwd_n_counters = sizeof(fg_dnsfwd_counter_names) / sizeof(fg_dnsfwd_counter_names[0]);
_Static_assert(sizeof(struct fg_dnsfwd_counters) ==
	       sizeof(fg_dnsfwd_counter_names) / sizeof(fg_dnsfwd_counter_names[0]) * sizeof(uint64_t),
	       "one name per counter");

uint64_t fg_dnsfwd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t fg_dnsfwd_tag(enum fwd_kind kind, uint32_t gen, unsigned idx)
{
	return (uint64_t)kind << 56 | (uint64_t)(gen & 0xffffff) << 32 | idx;
}

int fg_dnsfwd_ep_set(struct fg_dnsfwd *f, int fd, uint32_t events, uint64_t tag, bool add)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(f->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

/* ---- TCP connections ------------------------------------------------------------------------ */

static void conn_close(struct fg_dnsfwd *f, struct conn *c)
{
	for (unsigned i = 0; i < f->max_inflight; i++) {
		struct xchg *x = &f->x[i];

		if (x->used && x->cl.tcp && x->cl.conn == (int)(c - f->conns) && x->cl.conn_gen == c->gen)
			fg_dnsfwd_xchg_free(f, x);   /* X_CANCELLED: nobody to answer */
	}
	epoll_ctl(f->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->wbuf);
	c->wbuf = NULL;
	c->used = false;
	c->gen = (c->gen + 1) & 0xffffff;
	f->n_conns--;
}

static void conn_want(struct fg_dnsfwd *f, struct conn *c, uint32_t events)
{
	if (c->events == events)
		return;
	c->events = events;
	fg_dnsfwd_ep_set(f, c->fd, events, fg_dnsfwd_tag(K_CONN, c->gen, (unsigned)(c - f->conns)), false);
}

/* Queues msg framed; the service loop writes it. */
static int conn_answer(struct fg_dnsfwd *f, struct conn *c, const uint8_t *msg, size_t n)
{
	(void)f;
	c->wbuf = malloc(n + 2);
	if (!c->wbuf)
		return -ENOMEM;
	c->wbuf[0] = (uint8_t)(n >> 8);
	c->wbuf[1] = (uint8_t)n;
	memcpy(c->wbuf + 2, msg, n);
	c->wlen = n + 2;
	c->woff = 0;
	c->st = C_WRITE;
	c->idle_ns = fg_dnsfwd_now() + f->tcp_idle_ns;
	return 0;
}

/* ---- queries -------------------------------------------------------------------------------- */

/* Sends an answer to the client; TCP: queued on the connection (NULL: gone). */
static void client_send(struct fg_dnsfwd *f, const struct client *cl, struct conn *c, uint8_t *msg, size_t n,
			const struct fg_dnsmsg *a)
{
	if (!cl->tcp) {
		if (a && n > FG_DNSFWD_UDP_ANSWER_MAX) {
			n = fg_dnsmsg_truncate(msg, n, a, FG_DNSFWD_UDP_ANSWER_MAX);
			f->c.truncated++;
		}
		if (f->lst[cl->lst].fd < 0 ||
		    sendto(f->lst[cl->lst].fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&cl->peer, cl->peer_len) < 0)
			f->c.drop_send++;
		return;
	}
	if (!c || conn_answer(f, c, msg, n) < 0)
		f->c.drop_send++;
}

static void client_servfail(struct fg_dnsfwd *f, const struct client *cl, struct conn *c, const struct fg_dnsmsg *q,
			    uint64_t *why)
{
	uint8_t out[FG_DNSMSG_SERVFAIL_MAX];
	size_t n = fg_dnsmsg_servfail(q, out, sizeof(out));

	(*why)++;
	f->c.servfail++;
	client_send(f, cl, c, out, n, NULL);
}

static struct conn *client_conn(struct fg_dnsfwd *f, const struct client *cl)
{
	struct conn *c;

	if (!cl->tcp)
		return NULL;
	c = &f->conns[cl->conn];
	return c->used && c->gen == cl->conn_gen ? c : NULL;
}

static void conn_service(struct fg_dnsfwd *f, struct conn *c);

void fg_dnsfwd_client_end(struct fg_dnsfwd *f, struct xchg *x, enum xchg_end how, uint8_t *ans, size_t n,
			  const struct fg_dnsmsg *a)
{
	struct conn *c = client_conn(f, &x->cl);

	if (x->cl.tcp && !c)
		return;
	if (how == X_ANSWER) {
		f->c.answered++;
		client_send(f, &x->cl, c, ans, n, a);
	} else {
		client_servfail(f, &x->cl, c, &x->q, how == X_TIMEOUT ? &f->c.timeouts : &f->c.upstream_errors);
	}
	if (c) {
		x->cl.tcp = false;   /* c no longer waits on x */
		if (c->st == C_WAIT)
			conn_close(f, c);   /* no memory for the answer: the client asks again */
		else
			conn_service(f, c);
	}
}

/* A query that parsed: to the fastest nameserver, or SERVFAIL. -EBUSY: the in-flight limit
 * (UDP: dropped; TCP: the connection closes). */
static int take_query(struct fg_dnsfwd *f, const uint8_t *msg, size_t n, const struct fg_dnsmsg *q,
		      const struct client *cl, struct conn *c)
{
	int up = fg_dnsfwd_fastest(f);
	struct xchg *x;
	int r;

	f->c.queries++;
	if (up < 0) {
		if (!f->warned_none)
			fg_warn(TAG, "DNS forwarder: no nameserver available: answering SERVFAIL");
		f->warned_none = true;
		client_servfail(f, cl, c, q, &f->c.no_nameserver);
		return 0;
	}
	f->warned_none = false;
	x = fg_dnsfwd_xchg_get(f, false);
	if (!x) {
		f->c.drop_busy++;
		return -EBUSY;
	}
	x->buf = malloc(n + 2);
	if (!x->buf) {
		fg_dnsfwd_xchg_free(f, x);
		f->c.drop_busy++;
		return -EBUSY;
	}
	x->buf[0] = (uint8_t)(n >> 8);
	x->buf[1] = (uint8_t)n;
	memcpy(x->buf + 2, msg, n);
	x->len = n + 2;
	x->tcp = cl->tcp;
	x->up = up;
	x->q = *q;
	x->cl = *cl;
	x->start_ns = fg_dnsfwd_now();
	x->deadline_ns = x->start_ns + f->query_timeout_ns;
	f->up[up].queries++;
	if (c)
		c->st = C_WAIT;
	r = fg_dnsfwd_xchg_start(f, x);
	if (r < 0) {
		fg_debug(TAG, "DNS forwarder: nameserver %s: %s", f->up[up].name, strerror(-r));
		f->up[up].failures++;
		if (c)
			c->st = C_READ;
		fg_dnsfwd_xchg_free(f, x);
		client_servfail(f, cl, c, q, &f->c.upstream_errors);
	}
	return 0;
}

/* ---- UDP ------------------------------------------------------------------------------------ */

static void udp_read(struct fg_dnsfwd *f, int li)
{
	/* a bounded batch per event: the loop calls again while the socket stays readable */
	for (int i = 0; i < 64; i++) {
		uint8_t buf[FG_DNSFWD_MAX_UDP_QUERY];
		struct client cl = { .lst = li, .peer_len = sizeof(cl.peer) };
		struct fg_dnsmsg q;
		const char *why;
		ssize_t n = recvfrom(f->lst[li].fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT,
				     (struct sockaddr *)&cl.peer, &cl.peer_len);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;   /* an ICMP error of an earlier answer: nothing to do */
		}
		if ((size_t)n > sizeof(buf)) {
			f->c.drop_oversized++;
			continue;
		}
		if (fg_dnsmsg_parse(buf, (size_t)n, false, &q, &why) < 0) {
			f->c.drop_malformed++;
			fg_debug(TAG, "DNS forwarder: UDP query dropped: %s", why);
			continue;
		}
		take_query(f, buf, (size_t)n, &q, &cl, NULL);
	}
}

/* ---- TCP ------------------------------------------------------------------------------------ */

static void tcp_accept(struct fg_dnsfwd *f, int li)
{
	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(f->lst[li].fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* level-triggered: without a pause the loop would spin on it */
				f->lst[li].paused = true;
				fg_dnsfwd_ep_set(f, f->lst[li].fd, 0, fg_dnsfwd_tag(K_LISTENER, 0, (unsigned)li), false);
				f->resume_ns = fg_dnsfwd_now() + f->bind_retry_ns;
			}
			return;
		}
		for (unsigned k = 0; k < f->max_tcp && !c; k++)
			if (!f->conns[k].used)
				c = &f->conns[k];
		if (!c) {
			f->c.tcp_refused++;
			close(fd);
			continue;
		}
		uint32_t gen = c->gen;

		memset(c, 0, offsetof(struct conn, rbuf));
		c->gen = gen;
		c->used = true;
		c->fd = fd;
		c->lst = li;
		c->peer = peer;
		c->peer_len = pl;
		c->st = C_READ;
		c->events = EPOLLIN;
		c->idle_ns = fg_dnsfwd_now() + f->tcp_idle_ns;
		if (fg_dnsfwd_ep_set(f, fd, EPOLLIN, fg_dnsfwd_tag(K_CONN, c->gen, (unsigned)(c - f->conns)), true) < 0) {
			close(fd);
			c->used = false;
			continue;
		}
		f->n_conns++;
		f->c.tcp_accepted++;
	}
}

/* The frame at the head of rbuf, when complete: 1 taken (c may now wait or write), 0 more
 * bytes needed, -1 the connection must close (counted). */
static int conn_frame(struct fg_dnsfwd *f, struct conn *c)
{
	size_t flen;
	struct fg_dnsmsg q;
	const char *why;
	struct client cl = { .tcp = true, .lst = c->lst, .conn = (int)(c - f->conns), .conn_gen = c->gen };

	if (c->rlen < 2)
		return 0;
	flen = (size_t)c->rbuf[0] << 8 | c->rbuf[1];
	if (flen > FG_DNSFWD_MAX_TCP_QUERY) {
		f->c.drop_oversized++;
		return -1;
	}
	if (c->rlen < 2 + flen)
		return 0;
	if (fg_dnsmsg_parse(c->rbuf + 2, flen, false, &q, &why) < 0) {
		/* Rust: the stream is dropped */
		f->c.drop_malformed++;
		fg_debug(TAG, "DNS forwarder: TCP query dropped, connection closed: %s", why);
		return -1;
	}
	cl.peer = c->peer;
	cl.peer_len = c->peer_len;
	if (take_query(f, c->rbuf + 2, flen, &q, &cl, c) < 0)
		return -1;
	c->rlen -= 2 + flen;
	memmove(c->rbuf, c->rbuf + 2 + flen, c->rlen);
	return 1;
}

/* Drives a connection until it must wait: writes the answer, takes the next query. */
static void conn_service(struct fg_dnsfwd *f, struct conn *c)
{
	for (;;) {
		if (c->st == C_WAIT) {
			conn_want(f, c, 0);
			return;
		}
		if (c->st == C_WRITE) {
			ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				conn_want(f, c, EPOLLOUT);
				return;
			}
			if (n <= 0) {
				f->c.drop_send++;
				conn_close(f, c);
				return;
			}
			c->woff += (size_t)n;
			if (c->woff < c->wlen)
				continue;
			free(c->wbuf);
			c->wbuf = NULL;
			c->st = C_READ;
			c->idle_ns = fg_dnsfwd_now() + f->tcp_idle_ns;
			continue;
		}
		int r = conn_frame(f, c);

		if (r < 0) {
			conn_close(f, c);
			return;
		}
		if (r > 0)
			continue;
		if (c->eof) {
			if (c->rlen)
				f->c.drop_malformed++;   /* closed inside a query */
			conn_close(f, c);
			return;
		}
		if (c->rlen == sizeof(c->rbuf)) {   /* cannot be: a frame fits; never read 0 as EOF */
			conn_close(f, c);
			return;
		}
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			conn_want(f, c, EPOLLIN);
			return;
		}
		if (n < 0) {
			conn_close(f, c);
			return;
		}
		if (n == 0)
			c->eof = true;
		c->rlen += (size_t)n;   /* a byte now and then does not keep it open: no idle reset */
	}
}

static void conn_event(struct fg_dnsfwd *f, struct conn *c, uint32_t events)
{
	if ((events & EPOLLERR) || ((events & EPOLLHUP) && c->st == C_WAIT)) {
		conn_close(f, c);   /* reset: nobody to answer */
		return;
	}
	conn_service(f, c);
}

/* ---- listeners ------------------------------------------------------------------------------ */

static void close_listeners(struct fg_dnsfwd *f)
{
	for (unsigned i = 0; i < f->max_inflight; i++)
		if (f->x[i].used)
			fg_dnsfwd_xchg_free(f, &f->x[i]);
	for (unsigned i = 0; i < f->max_tcp; i++)
		if (f->conns[i].used)
			conn_close(f, &f->conns[i]);
	for (int i = 0; i < N_LISTENERS; i++) {
		if (f->lst[i].fd >= 0) {
			epoll_ctl(f->ep, EPOLL_CTL_DEL, f->lst[i].fd, NULL);
			close(f->lst[i].fd);
		}
		memset(&f->lst[i], 0, sizeof(f->lst[i]));
		f->lst[i].fd = -1;
	}
	f->listening = false;
	f->resume_ns = 0;
}

static int bind_one(struct fg_dnsfwd *f, int li, const struct fg_ip *ip, bool tcp)
{
	struct listener *l = &f->lst[li];
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	l->ep.ip = *ip;
	l->ep.port = f->port;
	l->tcp = tcp;
	fd = socket(ip->family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* the TUN may not hold the address yet (IFACE_SET is asynchronous) */
	if (ip->family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	else if (setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) < 0)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (ip->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (tcp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sl = fg_endpoint_to_sockaddr(&l->ep, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || (tcp && listen(fd, 128) < 0) ||
	    fg_dnsfwd_ep_set(f, fd, EPOLLIN, fg_dnsfwd_tag(K_LISTENER, 0, (unsigned)li), true) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	l->fd = fd;
	return 0;
}

/* One attempt over every listener: all bound, or none. */
static int bind_all(struct fg_dnsfwd *f)
{
	const struct fg_ip *ips[2] = { &f->want4, &f->want6 };
	char a[80];
	int r = 0, li = 0;

	f->bind_at_ns = 0;
	f->bind_attempts++;
	for (int k = 0; k < 2 && !r; k++) {
		if (!ips[k]->family)
			continue;
		for (int tcp = 0; tcp < 2 && !r; tcp++, li++)
			r = bind_one(f, li, ips[k], tcp);
	}
	if (!r) {
		f->listening = true;
		for (int i = 0; i < N_LISTENERS; i++)
			if (f->lst[i].fd >= 0 && f->lst[i].tcp)
				fg_info(TAG, "DNS forwarder listening on %s (UDP and TCP)", fg_endpoint_format(&f->lst[i].ep, a, sizeof(a)));
		return 0;
	}
	fg_endpoint_format(&f->lst[li - 1].ep, a, sizeof(a));
	close_listeners(f);
	if (f->bind_attempts < FG_DNSFWD_BIND_ATTEMPTS) {
		fg_debug(TAG, "DNS forwarder: cannot bind %s: %s (attempt %u of %u)", a, strerror(-r), f->bind_attempts,
			 FG_DNSFWD_BIND_ATTEMPTS);
		f->bind_at_ns = fg_dnsfwd_now() + f->bind_retry_ns;
		return -EINPROGRESS;
	}
	fg_err(TAG, "DNS forwarder: cannot bind %s %s: %s (errno %d) after %u attempts", (li - 1) % 2 ? "TCP" : "UDP", a,
	       strerror(-r), -r, f->bind_attempts);
	if (f->ops.failed)
		f->ops.failed(f->ctx, r);
	return r;
}

/* ---- the owner's timer ---------------------------------------------------------------------- */

static void rearm(struct fg_dnsfwd *f)
{
	uint64_t now = fg_dnsfwd_now(), next = fg_dnsfwd_up_next(f);

	if (f->bind_at_ns && f->bind_at_ns < next)
		next = f->bind_at_ns;
	if (f->resume_ns && f->resume_ns < next)
		next = f->resume_ns;
	for (unsigned i = 0; i < f->max_tcp; i++)
		if (f->conns[i].used && f->conns[i].st != C_WAIT && f->conns[i].idle_ns < next)
			next = f->conns[i].idle_ns;
	if (next == UINT64_MAX)
		f->ops.arm(f->ctx, 0);
	else
		f->ops.arm(f->ctx, next > now ? (next - now + 999) / 1000 : 1);
}

void fg_dnsfwd_timer(struct fg_dnsfwd *f)
{
	uint64_t now = fg_dnsfwd_now();

	if (f->bind_at_ns && now >= f->bind_at_ns)
		bind_all(f);
	if (f->resume_ns && now >= f->resume_ns) {
		f->resume_ns = 0;
		for (int i = 0; i < N_LISTENERS; i++) {
			if (f->lst[i].fd >= 0 && f->lst[i].paused) {
				f->lst[i].paused = false;
				fg_dnsfwd_ep_set(f, f->lst[i].fd, EPOLLIN, fg_dnsfwd_tag(K_LISTENER, 0, (unsigned)i), false);
			}
		}
	}
	fg_dnsfwd_up_timer(f, now);
	for (unsigned i = 0; i < f->max_tcp; i++) {
		struct conn *c = &f->conns[i];

		if (c->used && c->st != C_WAIT && now >= c->idle_ns) {
			f->c.tcp_idle++;
			conn_close(f, c);
		}
	}
	rearm(f);
}

void fg_dnsfwd_io(struct fg_dnsfwd *f)
{
	struct epoll_event ev[64];
	int n = epoll_wait(f->ep, ev, 64, 0);

	for (int i = 0; i < n; i++) {
		enum fwd_kind kind = (enum fwd_kind)(ev[i].data.u64 >> 56);
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32) & 0xffffff;
		unsigned idx = (unsigned)ev[i].data.u64;

		/* an earlier event of this batch may have closed or reused the slot: gen says */
		if (kind == K_LISTENER && idx < N_LISTENERS && f->lst[idx].fd >= 0) {
			if (f->lst[idx].tcp)
				tcp_accept(f, (int)idx);
			else
				udp_read(f, (int)idx);
		} else if (kind == K_CONN && idx < f->max_tcp && f->conns[idx].used && f->conns[idx].gen == gen) {
			conn_event(f, &f->conns[idx], ev[i].events);
		} else if (kind == K_XCHG && idx < f->n_x && f->x[idx].used && f->x[idx].gen == gen) {
			fg_dnsfwd_xchg_event(f, &f->x[idx], ev[i].events);
		}
	}
	rearm(f);
}

/* ---- life ----------------------------------------------------------------------------------- */

static uint64_t ms_or(unsigned ms, unsigned dflt)
{
	return (uint64_t)(ms ? ms : dflt) * 1000000ull;
}

struct fg_dnsfwd *fg_dnsfwd_new(const struct fg_dnsfwd_ops *ops, void *ctx, const struct fg_dnsfwd_config *cfg)
{
	static const struct fg_dnsfwd_config none;
	struct fg_dnsfwd *f;
	int r;

	if (!ops || !ops->watch || !ops->arm) {
		errno = EINVAL;
		return NULL;
	}
	if (!cfg)
		cfg = &none;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->ops = *ops;
	f->ctx = ctx;
	f->port = cfg->port ? cfg->port : FG_DNSFWD_PORT;
	f->upstream_port = cfg->upstream_port ? cfg->upstream_port : FG_DNSFWD_UPSTREAM_PORT;
	f->query_timeout_ns = ms_or(cfg->query_timeout_ms, FG_DNSFWD_QUERY_TIMEOUT_MS);
	f->probe_timeout_ns = ms_or(cfg->probe_timeout_ms, FG_DNSFWD_PROBE_TIMEOUT_MS);
	f->rerank_ns = ms_or(cfg->rerank_ms, FG_DNSFWD_RERANK_MS);
	f->bind_retry_ns = ms_or(cfg->bind_retry_ms, FG_DNSFWD_BIND_RETRY_MS);
	f->tcp_idle_ns = ms_or(cfg->tcp_idle_ms, FG_DNSFWD_TCP_IDLE_MS);
	f->max_inflight = cfg->max_inflight ? cfg->max_inflight : FG_DNSFWD_MAX_INFLIGHT;
	f->max_tcp = cfg->max_tcp ? cfg->max_tcp : FG_DNSFWD_MAX_TCP;
	f->n_x = f->max_inflight + MAX_PROBES;
	f->last_fastest = -1;
	f->ep = -1;
	for (int i = 0; i < N_LISTENERS; i++)
		f->lst[i].fd = -1;
	f->conns = calloc(f->max_tcp, sizeof(*f->conns));
	f->x = calloc(f->n_x, sizeof(*f->x));
	if (!f->conns || !f->x) {
		errno = ENOMEM;
		goto err_free;
	}
	for (unsigned i = 0; i < f->n_x; i++)
		f->x[i].fd = -1;
	r = fg_dnsfwd_up_load(f, cfg->resolv_conf ? cfg->resolv_conf : "/etc/resolv.conf");
	if (r < 0) {
		errno = -r;
		goto err_free;
	}
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	if (f->ep < 0)
		goto err_free;
	f->ops.watch(f->ctx, f->ep, true, false);
	fg_dnsfwd_up_timer(f, fg_dnsfwd_now());   /* the first ranking round, as Rust's first tick */
	rearm(f);
	return f;

err_free:
	r = errno;
	free(f->x);
	free(f->conns);
	free(f);
	errno = r;
	return NULL;
}

void fg_dnsfwd_free(struct fg_dnsfwd *f)
{
	if (!f)
		return;
	close_listeners(f);
	for (unsigned i = 0; i < f->n_x; i++)
		fg_dnsfwd_xchg_free(f, &f->x[i]);
	f->ops.arm(f->ctx, 0);
	f->ops.watch(f->ctx, f->ep, false, false);
	close(f->ep);
	free(f->x);
	free(f->conns);
	free(f);
}

int fg_dnsfwd_listen(struct fg_dnsfwd *f, const struct fg_ip *v4, const struct fg_ip *v6)
{
	static const struct fg_ip unset;
	int r;

	v4 = v4 ? v4 : &unset;
	v6 = v6 ? v6 : &unset;
	if ((v4->family && v4->family != AF_INET) || (v6->family && v6->family != AF_INET6) ||
	    (!v4->family && !v6->family))
		return -EINVAL;
	if (fg_ip_equal(&f->want4, v4) && fg_ip_equal(&f->want6, v6) && (f->listening || f->bind_at_ns))
		return f->listening ? 0 : -EINPROGRESS;
	close_listeners(f);
	f->want4 = *v4;
	f->want6 = *v6;
	f->bind_attempts = 0;
	r = bind_all(f);
	rearm(f);
	return r;
}

void fg_dnsfwd_unlisten(struct fg_dnsfwd *f)
{
	close_listeners(f);
	memset(&f->want4, 0, sizeof(f->want4));
	memset(&f->want6, 0, sizeof(f->want6));
	f->bind_at_ns = 0;
	rearm(f);
}

void fg_dnsfwd_stats(const struct fg_dnsfwd *f, struct fg_dnsfwd_stats *out)
{
	int best = fg_dnsfwd_fastest(f);

	memset(out, 0, sizeof(*out));
	out->c = f->c;
	out->inflight = f->inflight;
	out->tcp_conns = f->n_conns;
	out->listening = f->listening;
	for (int i = 0; i < N_LISTENERS && out->n_listeners < 2; i++)
		if (f->lst[i].fd >= 0 && !f->lst[i].tcp)
			out->listeners[out->n_listeners++] = f->lst[i].ep;
	out->n_upstreams = f->n_up;
	for (unsigned i = 0; i < f->n_up; i++) {
		snprintf(out->up[i].addr, sizeof(out->up[i].addr), "%s", f->up[i].name);
		out->up[i].rtt_us = f->up[i].rtt_ns / 1000;
		out->up[i].fastest = (int)i == best;
		out->up[i].queries = f->up[i].queries;
		out->up[i].answers = f->up[i].answers;
		out->up[i].failures = f->up[i].failures;
	}
}
