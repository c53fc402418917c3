// SPDX-License-Identifier: MIT
/*
 * UAPI socket server and the mapping of UAPI operations onto the service lcore's peer
 * management (see uapi_server.h). Service lcore only.
 *
 * Up to MAX_CLIENTS connections are served at once and a set request may arrive over many
 * reads, so requests of different connections interleave: everything a request holds
 * between two reads (the peer being configured) lives in its connection, and a peer is
 * held by slot *and generation*, checked before every use, since another connection, the
 * control socket or an expiry may remove it (and a new peer reuse the slot) meanwhile.
 */
#include "uapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "service.h"
#include "sockserver.h"
#include "uapi.h"

static const char *const TAG = "fastgate.uapi";

enum {
	MAX_CLIENTS = FG_UAPI_SERVER_MAX_CLIENTS,
	READ_CHUNK = 4096,
};
_Static_assert((int)MAX_CLIENTS <= (int)FG_SOCKSERVER_MAX_CONNS, "the skeleton's table holds every connection");

struct client {
	struct fg_uapi_server *u;
	unsigned idx;      /* the connection's index in the skeleton */
	int fd;            /* the skeleton's, valid from accepted to closing */
	struct fg_uapi_session session;
	/* the peer the set request in progress configures: slot and generation */
	uint32_t slot;
	uint32_t gen;
	bool new_peer;
	/* The response not yet written: it points into the session's buffer, which stays
	 * valid until the next feed, and nothing is fed while it is pending. So a client holds
	 * at most one response, FG_UAPI_RESPONSE_MAX bytes, and no copy is made. */
	const char *out;
	size_t out_len;
	size_t out_off;
	char in[READ_CHUNK];
	size_t in_len;     /* bytes read but not yet fed (waiting for the output to drain) */
	size_t in_off;
};

/* Progress (bytes read or written, or the accept) is stamped in the skeleton, whose idle
 * clock closes a connection that makes none (fg_sockserver_touch, fg_sockserver_expire). */
struct fg_uapi_server {
	struct fg_svc *svc;
	struct fg_sockserver *ss;
	uint64_t idle_timeout_ns;
	struct client clients[MAX_CLIENTS];
	struct fg_uapi_server_stats stats;
};

/* ---- operations ------------------------------------------------------------------------- */

/* 0 if the connection's peer still exists: same slot, same generation. */
static int peer_held(const struct client *c)
{
	const struct fg_svc *svc = c->u->svc;

	if (!fg_svc_peer_valid(svc, c->slot) || fg_svc_peer_gen(svc, c->slot) != c->gen)
		return -ENOENT;
	return 0;
}

static void peer_release(struct client *c)
{
	c->slot = FG_SLOT_NONE;
	c->gen = 0;
	c->new_peer = false;
}

static int op_set_private_key(void *ctx, const uint8_t key[32])
{
	struct client *c = ctx;

	return fg_svc_set_private_key(c->u->svc, key);
}

static int op_set_listen_port(void *ctx, uint16_t port)
{
	struct client *c = ctx;

	/* Workers read it per packet; a 16-bit store is atomic. */
	__atomic_store_n(&fg_svc_dp(c->u->svc)->local.listen_port, port, __ATOMIC_RELEASE);
	return 0;
}

static int op_set_fwmark(void *ctx, uint32_t mark)
{
	(void)ctx;
	/* The data plane's packets never touch the host stack: a mark means nothing here. */
	return mark == 0 ? 0 : -EOPNOTSUPP;
}

static int op_replace_peers(void *ctx)
{
	struct client *c = ctx;
	struct fg_svc *svc = c->u->svc;
	uint32_t n;

	while ((n = fg_svc_npeers(svc)) != 0)
		fg_svc_peer_remove(svc, fg_svc_peer_at(svc, n - 1));
	return 0;
}

static int op_peer_begin(void *ctx, const uint8_t pub[32], bool update_only)
{
	struct client *c = ctx;
	struct fg_svc *svc = c->u->svc;
	const uint8_t *own = fg_svc_public_key(svc);
	uint32_t slot;

	peer_release(c);
	slot = fg_svc_peer_find(svc, pub);
	if (slot == FG_SLOT_NONE) {
		if (update_only)
			return -ENOENT;
		if (own && sodium_memcmp(pub, own, 32) == 0)
			return -EINVAL; /* our own key cannot be a peer */
		slot = fg_svc_peer_add(svc, pub);
		if (slot == FG_SLOT_NONE)
			return -errno;
		c->new_peer = true;
	}
	c->slot = slot;
	c->gen = fg_svc_peer_gen(svc, slot);
	return 0;
}

static int op_peer_remove(void *ctx)
{
	struct client *c = ctx;

	if (peer_held(c) == 0)
		fg_svc_peer_remove(c->u->svc, c->slot);
	peer_release(c);
	return 0;
}

static int op_peer_set_psk(void *ctx, const uint8_t psk[32])
{
	struct client *c = ctx;
	int r = peer_held(c);

	return r < 0 ? r : fg_svc_peer_set_psk(c->u->svc, c->slot, psk);
}

static int op_peer_set_endpoint(void *ctx, const struct fg_endpoint *ep)
{
	struct client *c = ctx;
	int r = peer_held(c);

	return r < 0 ? r : fg_svc_peer_set_endpoint(c->u->svc, c->slot, ep);
}

static int op_peer_set_keepalive(void *ctx, uint16_t seconds)
{
	struct client *c = ctx;
	int r = peer_held(c);

	return r < 0 ? r : fg_svc_peer_set_keepalive(c->u->svc, c->slot, seconds);
}

static int op_peer_replace_allowed_ips(void *ctx)
{
	struct client *c = ctx;
	int r = peer_held(c);

	return r < 0 ? r : fg_svc_peer_clear_allowed(c->u->svc, c->slot);
}

static int op_peer_add_allowed_ip(void *ctx, const struct fg_prefix *p)
{
	struct client *c = ctx;
	int r = peer_held(c);

	return r < 0 ? r : fg_svc_peer_add_allowed(c->u->svc, c->slot, p);
}

static int op_peer_end(void *ctx)
{
	struct client *c = ctx;

	if (c->new_peer && peer_held(c) == 0) {
		char k[FG_KEY_B64_LEN];

		fg_key_to_base64(k, fg_svc_peer_public_key(c->u->svc, c->slot));
		fg_info(TAG, "peer %s added", k);
	}
	peer_release(c);
	return 0;
}

struct emit_ctx {
	struct fg_uapi_writer *w;
};

static int emit_allowed(void *ctx, const struct fg_prefix *p)
{
	struct emit_ctx *e = ctx;

	return fg_uapi_emit_prefix(e->w, "allowed_ip", p);
}

static int op_get(void *ctx, struct fg_uapi_writer *w)
{
	struct client *c = ctx;
	const struct fg_svc *s = c->u->svc;
	struct fg_dp *dp = fg_svc_dp(s);
	const uint8_t *sk = fg_svc_private_key(s);

	if (sk)
		fg_uapi_emit_key(w, "private_key", sk);
	fg_uapi_emit_u64(w, "listen_port", __atomic_load_n(&dp->local.listen_port, __ATOMIC_ACQUIRE));
	for (uint32_t i = 0; i < fg_svc_npeers(s); i++) {
		uint32_t slot = fg_svc_peer_at(s, i);
		const struct fg_endpoint *ep = fg_svc_peer_endpoint(s, slot);
		uint64_t hs = fg_svc_peer_last_handshake(s, slot);
		struct fg_peer *p = &dp->tables.peers[slot];
		struct emit_ctx e = { w };

		fg_uapi_emit_key(w, "public_key", fg_svc_peer_public_key(s, slot));
		fg_uapi_emit_key(w, "preshared_key", fg_svc_peer_psk(s, slot));
		fg_uapi_emit_u64(w, "protocol_version", 1);
		if (ep->ip.family)
			fg_uapi_emit_endpoint(w, "endpoint", ep);
		fg_uapi_emit_u64(w, "last_handshake_time_sec", hs / FG_NS_PER_S);
		fg_uapi_emit_u64(w, "last_handshake_time_nsec", hs % FG_NS_PER_S);
		fg_uapi_emit_u64(w, "tx_bytes", __atomic_load_n(&p->tx_bytes, __ATOMIC_RELAXED));
		fg_uapi_emit_u64(w, "rx_bytes", __atomic_load_n(&p->rx_bytes, __ATOMIC_RELAXED));
		fg_uapi_emit_u64(w, "persistent_keepalive_interval", fg_svc_peer_keepalive(s, slot));
		fg_route_foreach_value(dp->allowed, slot, emit_allowed, &e);
	}
	return w->err;
}

static const struct fg_uapi_ops ops = {
	.set_private_key = op_set_private_key,
	.set_listen_port = op_set_listen_port,
	.set_fwmark = op_set_fwmark,
	.replace_peers = op_replace_peers,
	.peer_begin = op_peer_begin,
	.peer_remove = op_peer_remove,
	.peer_set_psk = op_peer_set_psk,
	.peer_set_endpoint = op_peer_set_endpoint,
	.peer_set_keepalive = op_peer_set_keepalive,
	.peer_replace_allowed_ips = op_peer_replace_allowed_ips,
	.peer_add_allowed_ip = op_peer_add_allowed_ip,
	.peer_end = op_peer_end,
	.get = op_get,
};

/* ---- connections (the skeleton's callbacks) -------------------------------------------- */

static void client_close(struct client *c)
{
	fg_sockserver_drop(c->u->ss, c->idx);
}

static void want_events(struct client *c, uint32_t events)
{
	fg_sockserver_want(c->u->ss, c->idx, events);
}

/* Writes what it can: 1 when nothing is left, 0 when the socket is full, -errno when the
 * peer is gone (the caller closes: a reply that cannot be sent never will be). */
static int client_flush(struct client *c, uint64_t now)
{
	while (c->out && c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				want_events(c, EPOLLOUT);
				return 0;
			}
			c->u->stats.send_errors++;
			return -errno;
		}
		c->out_off += (size_t)w;
		fg_sockserver_touch(c->u->ss, c->idx, now);
	}
	if (c->out) {
		c->out = NULL;
		c->out_len = c->out_off = 0;
		want_events(c, EPOLLIN);
	}
	return 1;
}

/* Feeds buffered input until it is consumed or a response waits to be written. */
static int client_feed(struct client *c, uint64_t now)
{
	while (c->in_off < c->in_len && !c->out) {
		const char *resp = NULL;
		size_t rlen = 0;
		int n = fg_uapi_session_feed(&c->session, c->in + c->in_off, c->in_len - c->in_off, &ops, c,
					     &resp, &rlen);

		if (n < 0)
			return n;
		c->in_off += (size_t)n;
		if (resp) {
			int r;

			fg_svc_count_uapi_request(c->u->svc);
			c->out = resp;
			c->out_len = rlen;
			c->out_off = 0;
			r = client_flush(c, now);
			if (r < 0)
				return r;
		}
	}
	if (c->in_off == c->in_len) {
		/* Fed: a set request's private_key= and preshared_key= lines are in there. */
		sodium_memzero(c->in, c->in_len);
		c->in_off = c->in_len = 0;
	}
	return 0;
}

static int client_read(struct client *c, uint64_t now)
{
	ssize_t r = recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);

	if (r == 0)
		return -ECONNRESET;
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	c->in_len = (size_t)r;
	c->in_off = 0;
	fg_sockserver_touch(c->u->ss, c->idx, now);
	return client_feed(c, now);
}

static void conn_ready(void *ctx, unsigned i, uint32_t events, uint64_t now)
{
	struct fg_uapi_server *u = ctx;
	struct client *c = &u->clients[i];
	int r = 0;

	/* Error or full hang-up: nothing more can be read or sent, even with output pending. */
	if (events & EPOLLERR || (events & EPOLLHUP && !(events & EPOLLIN))) {
		client_close(c);
		return;
	}
	if (c->out)
		r = client_flush(c, now);
	if (r >= 0 && !c->out)
		r = client_feed(c, now);
	if (r >= 0 && !c->out && events & (EPOLLIN | EPOLLHUP))
		r = client_read(c, now);
	if (r < 0)
		client_close(c);
}

static int conn_accepted(void *ctx, unsigned i, int fd, uint64_t now)
{
	struct fg_uapi_server *u = ctx;
	struct client *c = &u->clients[i];

	(void)now;
	memset(c, 0, sizeof(*c));
	c->u = u;
	c->idx = i;
	c->fd = fd;
	c->slot = FG_SLOT_NONE;
	fg_uapi_session_init(&c->session);
	u->stats.accepted++;
	return 0;
}

/* A request cut off by the close ends as if its last line had come, so the peer it was
 * configuring is not left half-held (fg_uapi_session_hangup). */
static void conn_closing(void *ctx, unsigned i)
{
	struct fg_uapi_server *u = ctx;
	struct client *c = &u->clients[i];

	fg_uapi_session_hangup(&c->session, &ops, c);
	fg_uapi_session_uninit(&c->session);
	sodium_memzero(c, sizeof(*c));   /* input not fed yet may hold keys */
	c->fd = -1;
	c->slot = FG_SLOT_NONE;
	u->stats.closed++;
}

static void conn_refused(void *ctx)
{
	struct fg_uapi_server *u = ctx;

	if (++u->stats.refused == 1)
		fg_warn(TAG, "too many UAPI connections (%d); refusing (counted in the stats from now on)",
			MAX_CLIENTS);
}

static const struct fg_sockserver_ops conn_ops = {
	.accepted = conn_accepted,
	.ready = conn_ready,
	.closing = conn_closing,
	.refused = conn_refused,
};

/* ---- the server ---------------------------------------------------------------------------- */

int fg_uapi_server_adopt(struct fg_uapi_server *u, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	int r;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return -errno;
	}
	r = fg_sockserver_add(u->ss, fd, fg_clock_ns());
	/* counted, but not warned about: only a refused wg(8) is news */
	if (r == -EMFILE)
		u->stats.refused++;
	return r < 0 ? -EMFILE : 0;
}

void fg_uapi_server_tick(struct fg_uapi_server *u, uint64_t now)
{
	u->stats.timeouts += fg_sockserver_expire(u->ss, now, u->idle_timeout_ns);
}

void fg_uapi_server_set_idle_timeout(struct fg_uapi_server *u, uint64_t ns)
{
	u->idle_timeout_ns = ns;
}

unsigned fg_uapi_server_nclients(const struct fg_uapi_server *u)
{
	return fg_sockserver_nconns(u->ss);
}

const struct fg_uapi_server_stats *fg_uapi_server_stats(const struct fg_uapi_server *u)
{
	return &u->stats;
}

int fg_uapi_server_poll(struct fg_uapi_server *u, int timeout_ms)
{
	return fg_sockserver_poll(u->ss, timeout_ms);
}

static int attach_poll(void *ctx)
{
	return fg_uapi_server_poll(ctx, 0);
}

static void attach_tick(void *ctx, uint64_t now_ns)
{
	fg_uapi_server_tick(ctx, now_ns);
}

static void attach_stats(void *ctx, FILE *f)
{
	const struct fg_uapi_server_stats *st = fg_uapi_server_stats(ctx);

	fprintf(f, "uapi_connections_refused %lu\n", st->refused);
	fprintf(f, "uapi_idle_timeouts %lu\n", st->timeouts);
	fprintf(f, "uapi_send_errors %lu\n", st->send_errors);
}

static const struct fg_svc_attach_ops attach_ops = {
	.poll = attach_poll,
	.tick = attach_tick,
	.write_stats = attach_stats,
};

struct fg_uapi_server *fg_uapi_server_open(struct fg_svc *s, const char *dir, const char *ifname)
{
	struct fg_sockserver_params p = {
		.sock = { .type = SOCK_STREAM, .mode = 0660, .gid = (gid_t)-1, .backlog = 16 },
		.max_conns = MAX_CLIENTS,
		.ops = &conn_ops,
		.attach = &attach_ops,
	};
	char path[PATH_MAX];
	struct fg_uapi_server *u;
	int e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.sock", dir, ifname) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->svc = s;
	u->idle_timeout_ns = FG_UAPI_SERVER_IDLE_TIMEOUT_S * FG_NS_PER_S;
	for (int i = 0; i < MAX_CLIENTS; i++)
		u->clients[i].fd = -1;
	p.path = path;
	p.ctx = u;
	u->ss = fg_sockserver_open(s, &p);
	if (!u->ss) {
		e = errno;
		free(u);
		errno = e;
		return NULL;
	}
	return u;
}

void fg_uapi_server_close(struct fg_uapi_server *u)
{
	if (!u)
		return;
	fg_sockserver_close(u->ss);
	free(u);
}

const char *fg_uapi_server_path(const struct fg_uapi_server *u)
{
	return fg_sockserver_path(u->ss);
}

int fg_uapi_server_fd(const struct fg_uapi_server *u)
{
	return fg_sockserver_fd(u->ss);
}
