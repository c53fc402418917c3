// SPDX-License-Identifier: MIT
/*
 * Host name lookups in a thread (see resolver.h). The loop's side: the pipe's read end and
 * the generation of the latest lookup. The thread's side: one job, freed by the thread.
 */
#include "resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "loop.h"

struct result_msg {                 /* one write, below PIPE_BUF: atomic */
	uint64_t gen;
	struct fg_resolved r;
};

_Static_assert(sizeof(struct result_msg) <= 4096, "a result fits one atomic pipe write");

struct job {
	uint64_t gen;
	int wfd;                        /* the thread's own duplicate of the write end */
	char host[256];
};

struct fg_resolver {
	int rfd, wfd;
	struct fg_watch *w;
	uint64_t gen;
	void (*done)(void *ctx, const struct fg_resolved *r);
	void *ctx;
};

static void *lookup(void *arg)
{
	struct job *j = arg;
	struct result_msg m;
	struct addrinfo hints, *res = NULL;

	memset(&m, 0, sizeof(m));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	m.gen = j->gen;
	m.r.err = getaddrinfo(j->host, NULL, &hints, &res);
	for (struct addrinfo *a = res; a && m.r.n < FG_RESOLVER_MAX_ADDRS; a = a->ai_next) {
		const void *ip = a->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr :
				 a->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)(void *)a->ai_addr)->sin6_addr :
				 NULL;

		if (ip && inet_ntop(a->ai_family, ip, m.r.addr[m.r.n], FG_RESOLVER_ADDR_LEN))
			m.r.n++;
	}
	if (res)
		freeaddrinfo(res);
	if (m.r.err == 0 && m.r.n == 0)
		m.r.err = EAI_NONAME;
	/* A closed read end (the resolver is gone) gives EPIPE: SIGPIPE is ignored. */
	if (write(j->wfd, &m, sizeof(m)) < 0)
		(void)0;
	close(j->wfd);
	free(j);
	return NULL;
}

static void readable(void *ctx)
{
	struct fg_resolver *r = ctx;
	struct result_msg m;

	while (read(r->rfd, &m, sizeof(m)) == (ssize_t)sizeof(m))
		if (m.gen == r->gen && r->done)
			r->done(r->ctx, &m.r);
}

static const struct fg_watch_ops ops = {
	.readable = readable,
};

struct fg_resolver *fg_resolver_new(struct fg_loop *loop, void (*done)(void *ctx, const struct fg_resolved *r),
				    void *ctx)
{
	struct fg_resolver *r = calloc(1, sizeof(*r));
	int fds[2];

	if (!r)
		return NULL;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		goto err_free;
	r->rfd = fds[0];
	r->wfd = fds[1];
	r->done = done;
	r->ctx = ctx;
	r->w = fg_loop_watch(loop, r->rfd, &ops, r);
	if (!r->w)
		goto err_pipe;
	return r;
err_pipe:
	close(fds[0]);
	close(fds[1]);
err_free:
	free(r);
	return NULL;
}

int fg_resolver_start(struct fg_resolver *r, const char *host)
{
	struct job *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t th;
	int e;

	if (!j)
		return -ENOMEM;
	j->gen = ++r->gen;
	snprintf(j->host, sizeof(j->host), "%s", host);
	j->wfd = fcntl(r->wfd, F_DUPFD_CLOEXEC, 0);
	if (j->wfd < 0) {
		e = -errno;
		free(j);
		return e;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&th, &attr, lookup, j);
	pthread_attr_destroy(&attr);
	if (e) {
		close(j->wfd);
		free(j);
		return -e;
	}
	return 0;
}

void fg_resolver_free(struct fg_resolver *r)
{
	if (!r)
		return;
	fg_loop_unwatch(r->w);
	close(r->rfd);
	close(r->wfd);
	free(r);
}
