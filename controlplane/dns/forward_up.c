// SPDX-License-Identifier: MIT
/*
 * The forwarder's side towards the nameservers (see forward.h): resolv.conf, one exchange
 * per query or probe with a socket of its own (UDP: connected, so only the nameserver's
 * datagrams arrive, and the first one decides as in Rust's handshake; TCP: the 2-byte
 * length framing both ways), and the ranking rounds of NameserverSet. Control plane
 * thread only.
 */
#include "forward.h"
#include "forward_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"

static const char *const TAG = "fastgate.dns";

/* ---- resolv.conf --------------------------------------------------------------------------- */

/* Rust's order: a BTreeSet<IpAddr>, IPv4 before IPv6, then by the address bytes. */
static int up_cmp(const void *a, const void *b)
{
	const struct upstream *x = a, *y = b;

	if (x->sa.ss_family != y->sa.ss_family)
		return x->sa.ss_family == AF_INET ? -1 : 1;
	if (x->sa.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)&x->sa)->sin_addr,
			      &((const struct sockaddr_in *)(const void *)&y->sa)->sin_addr, 4);
	return memcmp(&((const struct sockaddr_in6 *)(const void *)&x->sa)->sin6_addr,
		      &((const struct sockaddr_in6 *)(const void *)&y->sa)->sin6_addr, 16);
}

/* "a.b.c.d", "v6" or "v6%scope" into u (port set later). */
static int parse_ns(const char *s, struct upstream *u)
{
	char buf[64];
	char *pct;

	memset(u, 0, sizeof(*u));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	snprintf(u->name, sizeof(u->name), "%s", s);
	struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&u->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&u->sa;

	if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		u->sa_len = sizeof(*v4);
		return 0;
	}
	pct = strchr(buf, '%');
	if (pct)
		*pct++ = '\0';
	if (inet_pton(AF_INET6, buf, &v6->sin6_addr) != 1)
		return -EINVAL;
	v6->sin6_family = AF_INET6;
	if (pct) {
		char *end;
		unsigned long idx = strtoul(pct, &end, 10);

		if (!*pct || *end)
			idx = if_nametoindex(pct);
		if (!idx || idx > UINT32_MAX)
			return -EINVAL;
		v6->sin6_scope_id = (uint32_t)idx;
	}
	u->sa_len = sizeof(*v6);
	return 0;
}

static bool same_ns(const struct upstream *a, const struct upstream *b)
{
	if (a->sa.ss_family != b->sa.ss_family || up_cmp(a, b))
		return false;
	return a->sa.ss_family == AF_INET ||
	       ((const struct sockaddr_in6 *)(const void *)&a->sa)->sin6_scope_id ==
	       ((const struct sockaddr_in6 *)(const void *)&b->sa)->sin6_scope_id;
}

int fg_dnsfwd_up_load(struct fg_dnsfwd *f, const char *path)
{
	enum { MAX_READ = 64 };
	struct upstream *all = calloc(MAX_READ, sizeof(*all));
	unsigned n = 0, lineno = 0;
	char line[512];
	FILE *fp;

	if (!all)
		return -ENOMEM;
	fp = fopen(path, "re");
	if (!fp) {
		int err = errno;

		free(all);
		return -err;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *save = NULL, *kw, *addr;
		struct upstream u;

		lineno++;
		kw = strtok_r(line, " \t\r\n", &save);
		if (!kw || strcmp(kw, "nameserver") != 0)
			continue;   /* comments (# ;), search, options, ... */
		addr = strtok_r(NULL, " \t\r\n#;", &save);
		if (!addr || parse_ns(addr, &u) < 0) {
			fg_warn(TAG, "%s:%u: nameserver '%s' is not an IP address: ignored", path, lineno,
				addr ? addr : "");
			continue;
		}
		bool dup = false;

		for (unsigned i = 0; i < n && !dup; i++)
			dup = same_ns(&all[i], &u);
		if (!dup && n < MAX_READ)
			all[n++] = u;
	}
	fclose(fp);
	qsort(all, n, sizeof(*all), up_cmp);
	if (n > FG_DNSFWD_MAX_UPSTREAMS)
		fg_warn(TAG, "%s: %u nameservers; the first %u (IPv4 first) are used", path, n, FG_DNSFWD_MAX_UPSTREAMS);
	f->n_up = n < FG_DNSFWD_MAX_UPSTREAMS ? n : FG_DNSFWD_MAX_UPSTREAMS;
	for (unsigned i = 0; i < f->n_up; i++) {
		f->up[i] = all[i];
		if (f->up[i].sa.ss_family == AF_INET)
			((struct sockaddr_in *)(void *)&f->up[i].sa)->sin_port = htons(f->upstream_port);
		else
			((struct sockaddr_in6 *)(void *)&f->up[i].sa)->sin6_port = htons(f->upstream_port);
	}
	free(all);
	if (!f->n_up)
		fg_warn(TAG, "%s names no nameserver: the DNS forwarder answers every query SERVFAIL", path);
	return 0;
}

/* ---- ranking -------------------------------------------------------------------------------- */

int fg_dnsfwd_fastest(const struct fg_dnsfwd *f)
{
	int best = -1;

	for (unsigned i = 0; i < f->n_up; i++)
		if (f->up[i].rtt_ns && (best < 0 || f->up[i].rtt_ns < f->up[best].rtt_ns))
			best = (int)i;
	return best;
}

static void log_fastest(struct fg_dnsfwd *f)
{
	int best = fg_dnsfwd_fastest(f);

	if (best == f->last_fastest)
		return;
	f->last_fastest = best;
	/* never back to none: a round nobody answered keeps the last ranking */
	if (best >= 0)
		fg_info(TAG, "DNS forwarder: fastest nameserver %s (%llu us)", f->up[best].name,
			(unsigned long long)(f->up[best].rtt_ns / 1000));
}

/* The round is over: its RTTs replace the last ones, unless nobody answered. */
static void round_end(struct fg_dnsfwd *f)
{
	bool any = false;

	for (unsigned i = 0; i < f->n_up; i++)
		any |= f->up[i].round_rtt_ns != 0;
	if (any)
		for (unsigned i = 0; i < f->n_up; i++)
			f->up[i].rtt_ns = f->up[i].round_rtt_ns;
	/* none ranked at all (a network not up yet): the next round in a probe timeout, not
	 * a minute later as Rust's interval */
	if (fg_dnsfwd_fastest(f) < 0) {
		uint64_t soon = fg_dnsfwd_now() + f->probe_timeout_ns;

		if (soon < f->next_round_ns)
			f->next_round_ns = soon;
	}
	for (unsigned i = 0; i < f->n_up; i++)
		fg_debug(TAG, "DNS forwarder: nameserver %s: %s %llu us", f->up[i].name,
			 f->up[i].round_rtt_ns ? "answered in" : "no answer,",
			 (unsigned long long)(f->up[i].round_rtt_ns / 1000));
	log_fastest(f);
}

static void probe_answered(struct fg_dnsfwd *f, struct xchg *x, const struct fg_dnsmsg *a, uint64_t now)
{
	struct upstream *u = &f->up[x->up];
	uint64_t rtt = now > f->round_start_ns ? now - f->round_start_ns : 1;

	if (a->rcode != FG_DNSMSG_RCODE_NOERROR)
		return;
	if (!u->round_rtt_ns || rtt < u->round_rtt_ns)
		u->round_rtt_ns = rtt;
	if (!u->rtt_ns) {
		u->rtt_ns = rtt;   /* not ranked yet: usable at once */
		log_fastest(f);
	}
}

static uint16_t random_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
		id = (uint16_t)(fg_dnsfwd_now() >> 10);
	return id;
}

static void probe_start(struct fg_dnsfwd *f, unsigned up, bool tcp)
{
	struct xchg *x = fg_dnsfwd_xchg_get(f, true);

	if (!x)
		return;
	x->buf = malloc(2 + FG_DNSMSG_PROBE_LEN);
	if (!x->buf) {
		fg_dnsfwd_xchg_free(f, x);
		return;
	}
	x->buf[0] = 0;
	x->buf[1] = FG_DNSMSG_PROBE_LEN;
	fg_dnsmsg_probe(random_id(), x->buf + 2);
	x->len = 2 + FG_DNSMSG_PROBE_LEN;
	x->tcp = tcp;
	x->up = (int)up;
	x->start_ns = f->round_start_ns;
	x->deadline_ns = f->round_start_ns + f->probe_timeout_ns;
	if (fg_dnsfwd_xchg_start(f, x) < 0) {
		fg_dnsfwd_xchg_free(f, x);
		return;
	}
	f->probes_left++;
}

static void round_start(struct fg_dnsfwd *f, uint64_t now)
{
	f->next_round_ns = now + f->rerank_ns;
	if (!f->n_up || f->probes_left)
		return;   /* none to rank, or the last round is still out (a rerank shorter than a probe) */
	f->round_start_ns = now;
	f->c.probe_rounds++;
	for (unsigned i = 0; i < f->n_up; i++) {
		f->up[i].round_rtt_ns = 0;
		probe_start(f, i, false);
		probe_start(f, i, true);
	}
	if (!f->probes_left)
		round_end(f);
}

/* ---- exchanges ------------------------------------------------------------------------------ */

struct xchg *fg_dnsfwd_xchg_get(struct fg_dnsfwd *f, bool probe)
{
	unsigned from = probe ? f->max_inflight : 0, to = probe ? f->n_x : f->max_inflight;

	for (unsigned i = from; i < to; i++) {
		struct xchg *x = &f->x[i];

		if (x->used)
			continue;
		uint32_t gen = x->gen;

		memset(x, 0, sizeof(*x));
		x->gen = gen;
		x->used = true;
		x->probe = probe;
		x->fd = -1;
		if (!probe)
			f->inflight++;
		return x;
	}
	return NULL;
}

void fg_dnsfwd_xchg_free(struct fg_dnsfwd *f, struct xchg *x)
{
	if (!x->used)
		return;
	if (x->fd >= 0) {
		epoll_ctl(f->ep, EPOLL_CTL_DEL, x->fd, NULL);
		close(x->fd);
	}
	free(x->buf);
	free(x->ans);
	if (!x->probe)
		f->inflight--;
	x->used = false;
	x->fd = -1;
	x->buf = x->ans = NULL;
	x->gen = (x->gen + 1) & 0xffffff;
}

static uint64_t xtag(const struct fg_dnsfwd *f, const struct xchg *x)
{
	return fg_dnsfwd_tag(K_XCHG, x->gen, (unsigned)(x - f->x));
}

/* The exchange is over: a probe ranks, a client gets its answer; x is freed. */
static void xchg_end(struct fg_dnsfwd *f, struct xchg *x, enum xchg_end how, uint8_t *ans, size_t n)
{
	struct fg_dnsmsg a;
	const char *why = NULL;

	if (how == X_ANSWER && fg_dnsmsg_parse(ans, n, true, &a, &why) < 0) {
		fg_debug(TAG, "DNS forwarder: nameserver %s: malformed answer (%s)", f->up[x->up].name, why);
		how = X_FAILED;
	}
	if (x->probe) {
		if (how == X_ANSWER)
			probe_answered(f, x, &a, fg_dnsfwd_now());
		fg_dnsfwd_xchg_free(f, x);
		if (--f->probes_left == 0)
			round_end(f);
		return;
	}
	if (how == X_ANSWER)
		f->up[x->up].answers++;
	else
		f->up[x->up].failures++;
	fg_dnsfwd_client_end(f, x, how, ans, n, how == X_ANSWER ? &a : NULL);
	fg_dnsfwd_xchg_free(f, x);
}

int fg_dnsfwd_xchg_start(struct fg_dnsfwd *f, struct xchg *x)
{
	const struct upstream *u = &f->up[x->up];
	int fd = socket(u->sa.ss_family, (x->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	uint32_t ev = EPOLLIN;

	if (fd < 0)
		return -errno;
	x->fd = fd;
	if (connect(fd, (const struct sockaddr *)&u->sa, u->sa_len) < 0) {
		if (!x->tcp || errno != EINPROGRESS)
			return -errno;
		ev = EPOLLOUT;
	} else if (x->tcp) {
		x->connected = true;
		ev = EPOLLOUT;   /* the first write comes with the first event */
	} else if (send(fd, x->buf + 2, x->len - 2, MSG_NOSIGNAL) < 0) {
		return -errno;
	}
	return fg_dnsfwd_ep_set(f, fd, ev, xtag(f, x), true);
}

static void udp_event(struct fg_dnsfwd *f, struct xchg *x)
{
	uint8_t buf[FG_DNSFWD_UPSTREAM_UDP_BUF];
	ssize_t n = recv(x->fd, buf, sizeof(buf), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		fg_debug(TAG, "DNS forwarder: nameserver %s (UDP): %s", f->up[x->up].name, strerror(errno));
		xchg_end(f, x, X_FAILED, NULL, 0);
		return;
	}
	xchg_end(f, x, X_ANSWER, buf, (size_t)n);
}

/* TCP: connect, write the framed query, read the framed answer. */
static void tcp_event(struct fg_dnsfwd *f, struct xchg *x, uint32_t events)
{
	if (!x->connected) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			fg_debug(TAG, "DNS forwarder: nameserver %s (TCP): %s", f->up[x->up].name, strerror(err));
			xchg_end(f, x, X_FAILED, NULL, 0);
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		x->connected = true;
	}
	while (x->off < x->len) {
		ssize_t n = send(x->fd, x->buf + x->off, x->len - x->off, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			xchg_end(f, x, X_FAILED, NULL, 0);
			return;
		}
		x->off += (size_t)n;
		if (x->off == x->len && fg_dnsfwd_ep_set(f, x->fd, EPOLLIN, xtag(f, x), false) < 0) {
			xchg_end(f, x, X_FAILED, NULL, 0);
			return;
		}
	}
	for (;;) {
		size_t need = x->agot < 2 ? 2 - x->agot : x->ans_len + 2 - x->agot;
		uint8_t *at = x->agot < 2 ? x->alen + x->agot : x->ans + (x->agot - 2);
		ssize_t n;

		if (x->agot >= 2 && need == 0) {
			xchg_end(f, x, X_ANSWER, x->ans, x->ans_len);
			return;
		}
		n = recv(x->fd, at, need, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			xchg_end(f, x, X_FAILED, NULL, 0);   /* reset, or closed before the answer */
			return;
		}
		x->agot += (size_t)n;
		if (x->agot == 2) {
			x->ans_len = (size_t)x->alen[0] << 8 | x->alen[1];
			x->ans = malloc(x->ans_len ? x->ans_len : 1);
			if (!x->ans) {
				xchg_end(f, x, X_FAILED, NULL, 0);
				return;
			}
		}
	}
}

void fg_dnsfwd_xchg_event(struct fg_dnsfwd *f, struct xchg *x, uint32_t events)
{
	if (x->tcp)
		tcp_event(f, x, events);
	else
		udp_event(f, x);
}

/* ---- time ----------------------------------------------------------------------------------- */

void fg_dnsfwd_up_timer(struct fg_dnsfwd *f, uint64_t now)
{
	for (unsigned i = 0; i < f->n_x; i++) {
		struct xchg *x = &f->x[i];

		if (x->used && now >= x->deadline_ns)
			xchg_end(f, x, X_TIMEOUT, NULL, 0);
	}
	if (now >= f->next_round_ns)
		round_start(f, now);
}

uint64_t fg_dnsfwd_up_next(const struct fg_dnsfwd *f)
{
	uint64_t next = f->n_up ? f->next_round_ns : UINT64_MAX;

	for (unsigned i = 0; i < f->n_x; i++)
		if (f->x[i].used && f->x[i].deadline_ns < next)
			next = f->x[i].deadline_ns;
	return next;
}
