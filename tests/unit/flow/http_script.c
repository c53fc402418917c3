// SPDX-License-Identifier: MIT
/*
 * The scripted HTTP server of the flow-log upload tests (see http_script.h). Blocking
 * sockets with short poll()s so that stop is seen quickly; one request per connection
 * (the client sends one). Its own thread; the recorded requests are guarded by mu.
 */
#include "http_script.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static void header_value(const char *head, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2, *end = strstr(h, "\r\n");

		if (!end || strncasecmp(h, name, n) || h[n] != ':')
			continue;
		h += n + 1;
		while (*h == ' ')
			h++;
		snprintf(out, len, "%.*s", (int)(end - h), h);
		return;
	}
}

/* Reads one request: headers, then Content-Length bytes. false when the peer went. */
static bool read_request(int fd, struct fg_hs_req *r)
{
	char *buf = malloc(FG_HS_REQ_MAX + 1), cl[32];
	size_t len = 0, need = 0, head_len = 0;
	bool ok = false;

	if (!buf)
		return false;
	while (len < FG_HS_REQ_MAX) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			break;
		n = read(fd, buf + len, FG_HS_REQ_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (!head_len) {
			char *e = strstr(buf, "\r\n\r\n");

			if (!e)
				continue;
			head_len = (size_t)(e - buf) + 4;
			e[2] = '\0';
			header_value(buf, "Content-Length", cl, sizeof(cl));
			need = head_len + (size_t)strtoul(cl, NULL, 10);
			sscanf(buf, "%15s %255s", r->method, r->path);
			header_value(buf, "Authorization", r->authorization, sizeof(r->authorization));
			header_value(buf, "Content-Type", r->content_type, sizeof(r->content_type));
			header_value(buf, "Host", r->host, sizeof(r->host));
		}
		if (len >= need) {
			r->body_len = need - head_len;
			r->body = malloc(r->body_len + 1);
			if (r->body) {
				memcpy(r->body, buf + head_len, r->body_len);
				r->body[r->body_len] = '\0';
				ok = true;
			}
			break;
		}
	}
	free(buf);
	return ok;
}

static void answer(int fd, const struct fg_hs_step *st)
{
	char out[4096];
	const char *body = st->body ? st->body : "";
	int n = snprintf(out, sizeof(out), "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
			 st->status, strlen(body), st->headers ? st->headers : "", body);

	if (n > 0 && write(fd, out, (size_t)n) < 0)
		return;
}

static void *run(void *arg)
{
	struct fg_http_script *s = arg;

	while (!s->stop) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		struct fg_hs_req r;
		struct fg_hs_step st = { 200, NULL, "{}" };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		memset(&r, 0, sizeof(r));
		if (read_request(c, &r)) {
			pthread_mutex_lock(&s->mu);
			if (s->next_step < s->nsteps)
				st = s->steps[s->next_step++];
			if (s->nreqs < FG_HS_MAX_REQS)
				s->reqs[s->nreqs++] = r;
			else
				free(r.body);
			pthread_mutex_unlock(&s->mu);
			if (st.status)
				answer(c, &st);
		}
		close(c);
	}
	return NULL;
}

int fg_http_script_start(struct fg_http_script *s, const struct fg_hs_step *steps, unsigned n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	if (n > FG_HS_MAX_STEPS)
		return -EINVAL;
	if (n)
		memcpy(s->steps, steps, n * sizeof(*steps));
	s->nsteps = n;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 8) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0) {
		close(s->fd);
		return -errno;
	}
	s->port = ntohs(a.sin_port);
	pthread_mutex_init(&s->mu, NULL);
	if (pthread_create(&s->thread, NULL, run, s)) {
		close(s->fd);
		return -EAGAIN;
	}
	return 0;
}

void fg_http_script_stop(struct fg_http_script *s)
{
	if (s->fd < 0)
		return;
	s->stop = true;
	pthread_join(s->thread, NULL);
	close(s->fd);
	s->fd = -1;
}

unsigned fg_http_script_count(struct fg_http_script *s)
{
	unsigned n;

	pthread_mutex_lock(&s->mu);
	n = s->nreqs;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void fg_http_script_free(struct fg_http_script *s)
{
	fg_http_script_stop(s);
	for (unsigned i = 0; i < s->nreqs; i++)
		free(s->reqs[i].body);
	pthread_mutex_destroy(&s->mu);
}
