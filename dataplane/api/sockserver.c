// SPDX-License-Identifier: MIT
/*
 * The socket-server skeleton (see sockserver.h). Service lcore only. The epoll set is
 * level-triggered, so whatever a protocol leaves unread or unsent wakes the service's
 * idle wait again (service.c relies on it instead of a "busy" flag).
 */
#include "sockserver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "service.h"

/* The epoll data of a connection points at its entry; the listener's is NULL. */
struct conn {
	int fd;
	uint64_t active_ns;   /* last progress, or the accept */
};

struct fg_sockserver {
	const struct fg_sockserver_ops *ops;
	void *ctx;
	struct fg_svc *svc;
	int type;
	int listen_fd;
	int epfd;
	unsigned max;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn conns[FG_SOCKSERVER_MAX_CONNS];
};

static unsigned index_of(const struct fg_sockserver *ss, const struct conn *c)
{
	return (unsigned)(c - ss->conns);
}

static bool conn_open(const struct fg_sockserver *ss, unsigned i)
{
	return i < ss->max && ss->conns[i].fd >= 0;
}

int fg_sockserver_add(struct fg_sockserver *ss, int fd, uint64_t now)
{
	struct conn *c = NULL;
	unsigned i;
	int e;

	for (i = 0; i < ss->max; i++) {
		if (ss->conns[i].fd < 0) {
			c = &ss->conns[i];
			break;
		}
	}
	if (!c) {
		close(fd);
		return -EMFILE;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(ss->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	c->fd = fd;
	c->active_ns = now;
	if (ss->ops->accepted(ss->ctx, i, fd, now) != 0) {
		epoll_ctl(ss->epfd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		c->fd = -1;
		return -ECONNREFUSED;
	}
	return (int)i;
}

void fg_sockserver_drop(struct fg_sockserver *ss, unsigned i)
{
	struct conn *c;

	if (!conn_open(ss, i))
		return;
	c = &ss->conns[i];
	ss->ops->closing(ss->ctx, i);
	epoll_ctl(ss->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->active_ns = 0;
}

void fg_sockserver_want(struct fg_sockserver *ss, unsigned i, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &ss->conns[i] };

	if (conn_open(ss, i))
		epoll_ctl(ss->epfd, EPOLL_CTL_MOD, ss->conns[i].fd, &ev);
}

void fg_sockserver_touch(struct fg_sockserver *ss, unsigned i, uint64_t now)
{
	if (conn_open(ss, i))
		ss->conns[i].active_ns = now;
}

unsigned fg_sockserver_expire(struct fg_sockserver *ss, uint64_t now, uint64_t idle_ns)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ss->max; i++) {
		const struct conn *c = &ss->conns[i];

		/* now > active: a clock behind the last progress (a test's) never expires one */
		if (c->fd >= 0 && now > c->active_ns && now - c->active_ns >= idle_ns) {
			fg_sockserver_drop(ss, i);
			n++;
		}
	}
	return n;
}

static void accept_conns(struct fg_sockserver *ss, uint64_t now)
{
	for (;;) {
		int fd = accept4(ss->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (fg_sockserver_add(ss, fd, now) == -EMFILE && ss->ops->refused)
			ss->ops->refused(ss->ctx);
	}
}

int fg_sockserver_poll(struct fg_sockserver *ss, int timeout_ms)
{
	struct epoll_event evs[FG_SOCKSERVER_MAX_CONNS + 1];
	int n = epoll_wait(ss->epfd, evs, (int)ss->max + 1, timeout_ms);
	uint64_t now = fg_clock_ns();

	for (int k = 0; k < n; k++) {
		struct conn *c = evs[k].data.ptr;

		if (!c)
			accept_conns(ss, now);
		else if (c->fd >= 0) /* not closed by an earlier event of this batch */
			ss->ops->ready(ss->ctx, index_of(ss, c), evs[k].events, now);
	}
	return n > 0 ? n : 0;
}

struct fg_sockserver *fg_sockserver_open(struct fg_svc *s, const struct fg_sockserver_params *p)
{
	struct fg_sockserver *ss;
	int e;

	if (p->max_conns == 0 || p->max_conns > FG_SOCKSERVER_MAX_CONNS) {
		errno = EINVAL;
		return NULL;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return NULL;
	ss->ops = p->ops;
	ss->ctx = p->ctx;
	ss->svc = s;
	ss->type = p->sock.type;
	ss->max = p->max_conns;
	ss->epfd = -1;
	for (unsigned i = 0; i < FG_SOCKSERVER_MAX_CONNS; i++)
		ss->conns[i].fd = -1;
	if ((size_t)snprintf(ss->path, sizeof(ss->path), "%s", p->path) >= sizeof(ss->path)) {
		e = ENAMETOOLONG;
		goto err_free;
	}
	ss->listen_fd = fg_unixsock_listen(ss->path, &p->sock);
	if (ss->listen_fd < 0) {
		e = -ss->listen_fd;
		goto err_free;
	}
	ss->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ss->epfd < 0) {
		e = errno;
		goto err_listen;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(ss->epfd, EPOLL_CTL_ADD, ss->listen_fd, &ev) < 0) {
		e = errno;
		goto err_epoll;
	}
	e = -fg_svc_attach(s, p->attach, p->ctx, ss->epfd);
	if (e != 0)
		goto err_epoll;
	return ss;
err_epoll:
	close(ss->epfd);
err_listen:
	fg_unixsock_unlink(ss->path, ss->type);
	close(ss->listen_fd);
err_free:
	free(ss);
	errno = e;
	return NULL;
}

void fg_sockserver_close(struct fg_sockserver *ss)
{
	if (!ss)
		return;
	fg_svc_detach(ss->svc, ss->ctx);
	for (unsigned i = 0; i < ss->max; i++)
		fg_sockserver_drop(ss, i);
	/* before closing the listener: the check asks it (common/unixsock.h) */
	fg_unixsock_unlink(ss->path, ss->type);
	close(ss->listen_fd);
	close(ss->epfd);
	free(ss);
}

int fg_sockserver_conn_fd(const struct fg_sockserver *ss, unsigned i)
{
	return conn_open(ss, i) ? ss->conns[i].fd : -1;
}

unsigned fg_sockserver_nconns(const struct fg_sockserver *ss)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ss->max; i++)
		n += ss->conns[i].fd >= 0;
	return n;
}

unsigned fg_sockserver_max_conns(const struct fg_sockserver *ss)
{
	return ss->max;
}

const char *fg_sockserver_path(const struct fg_sockserver *ss)
{
	return ss->path;
}

int fg_sockserver_fd(const struct fg_sockserver *ss)
{
	return ss->epfd;
}
