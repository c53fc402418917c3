// SPDX-License-Identifier: MIT
/*
 * UAPI socket server and the mapping of UAPI operations onto the service lcore's peer
 * management (see uapi_server.h). Service lcore only.
 */
#include "uapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "service.h"
#include "uapi.h"
#include "unixsock.h"

static const char *const TAG = "fastgate.uapi";

enum {
	MAX_CLIENTS = 16,
	READ_CHUNK = 4096,
};

struct client {
	int fd;
	struct fg_uapi_session session;
	char *out;         /* response not yet written */
	size_t out_len;
	size_t out_off;
	char in[READ_CHUNK];
	size_t in_len;     /* bytes read but not yet fed (waiting for the output to drain) */
	size_t in_off;
};

struct fg_uapi_server {
	struct fg_svc *svc;
	int listen_fd;
	int epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client clients[MAX_CLIENTS];
	/* the set request in progress */
	uint32_t slot;
	bool new_peer;
};

/* ---- operations ------------------------------------------------------------------------- */

static int op_set_private_key(void *ctx, const uint8_t key[32])
{
	struct fg_uapi_server *u = ctx;

	return fg_svc_set_private_key(u->svc, key);
}

static int op_set_listen_port(void *ctx, uint16_t port)
{
	struct fg_uapi_server *u = ctx;

	/* Workers read it per packet; a 16-bit store is atomic. */
	__atomic_store_n(&u->svc->dp->local.listen_port, port, __ATOMIC_RELEASE);
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
	struct fg_uapi_server *u = ctx;

	while (u->svc->nlive)
		fg_svc_peer_remove(u->svc, u->svc->live[u->svc->nlive - 1]);
	return 0;
}

static int op_peer_begin(void *ctx, const uint8_t pub[32], bool update_only)
{
	struct fg_uapi_server *u = ctx;

	u->new_peer = false;
	u->slot = fg_svc_peer_find(u->svc, pub);
	if (u->slot != FG_SLOT_NONE)
		return 0;
	if (update_only)
		return -ENOENT;
	if (u->svc->has_key && sodium_memcmp(pub, u->svc->local.public_key, 32) == 0)
		return -EINVAL; /* our own key cannot be a peer */
	u->slot = fg_svc_peer_add(u->svc, pub);
	if (u->slot == FG_SLOT_NONE)
		return -errno;
	u->new_peer = true;
	return 0;
}

static int op_peer_remove(void *ctx)
{
	struct fg_uapi_server *u = ctx;

	fg_svc_peer_remove(u->svc, u->slot);
	u->slot = FG_SLOT_NONE;
	return 0;
}

static int op_peer_set_psk(void *ctx, const uint8_t psk[32])
{
	struct fg_uapi_server *u = ctx;

	return fg_svc_peer_set_psk(u->svc, u->slot, psk);
}

static int op_peer_set_endpoint(void *ctx, const struct fg_endpoint *ep)
{
	struct fg_uapi_server *u = ctx;

	return fg_svc_peer_set_endpoint(u->svc, u->slot, ep);
}

static int op_peer_set_keepalive(void *ctx, uint16_t seconds)
{
	struct fg_uapi_server *u = ctx;

	return fg_svc_peer_set_keepalive(u->svc, u->slot, seconds);
}

static int op_peer_replace_allowed_ips(void *ctx)
{
	struct fg_uapi_server *u = ctx;

	return fg_svc_peer_clear_allowed(u->svc, u->slot);
}

static int op_peer_add_allowed_ip(void *ctx, const struct fg_prefix *p)
{
	struct fg_uapi_server *u = ctx;

	return fg_svc_peer_add_allowed(u->svc, u->slot, p);
}

static int op_peer_end(void *ctx)
{
	struct fg_uapi_server *u = ctx;

	if (u->new_peer) {
		char k[FG_KEY_B64_LEN];

		fg_key_to_base64(k, u->svc->peers[u->slot].public_key);
		fg_info(TAG, "peer %s added", k);
	}
	u->slot = FG_SLOT_NONE;
	u->new_peer = false;
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
	struct fg_uapi_server *u = ctx;
	struct fg_svc *s = u->svc;

	if (s->has_key)
		fg_uapi_emit_key(w, "private_key", s->local.private_key);
	fg_uapi_emit_u64(w, "listen_port", __atomic_load_n(&s->dp->local.listen_port, __ATOMIC_ACQUIRE));
	for (uint32_t i = 0; i < s->nlive; i++) {
		uint32_t slot = s->live[i];
		struct fg_svc_peer *sp = &s->peers[slot];
		struct fg_peer *p = &s->dp->tables.peers[slot];
		struct emit_ctx e = { w };

		fg_uapi_emit_key(w, "public_key", sp->public_key);
		fg_uapi_emit_key(w, "preshared_key", sp->noise.psk);
		fg_uapi_emit_u64(w, "protocol_version", 1);
		if (sp->endpoint.ip.family)
			fg_uapi_emit_endpoint(w, "endpoint", &sp->endpoint);
		fg_uapi_emit_u64(w, "last_handshake_time_sec", sp->last_handshake_wall_ns / FG_NS_PER_S);
		fg_uapi_emit_u64(w, "last_handshake_time_nsec", sp->last_handshake_wall_ns % FG_NS_PER_S);
		fg_uapi_emit_u64(w, "tx_bytes", __atomic_load_n(&p->tx_bytes, __ATOMIC_RELAXED));
		fg_uapi_emit_u64(w, "rx_bytes", __atomic_load_n(&p->rx_bytes, __ATOMIC_RELAXED));
		fg_uapi_emit_u64(w, "persistent_keepalive_interval", sp->persistent_keepalive);
		fg_route_foreach_value(s->dp->allowed, slot, emit_allowed, &e);
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

/* ---- sockets ------------------------------------------------------------------------------- */

static void client_close(struct fg_uapi_server *u, struct client *c)
{
	fg_uapi_session_hangup(&c->session, &ops, u);
	fg_uapi_session_uninit(&c->session);
	epoll_ctl(u->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->out) {
		sodium_memzero(c->out, c->out_len);
		free(c->out);
	}
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Writes what it can; true when nothing is left. */
static bool client_flush(struct fg_uapi_server *u, struct client *c)
{
	while (c->out && c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };

				epoll_ctl(u->epfd, EPOLL_CTL_MOD, c->fd, &ev);
				return false;
			}
			return false;
		}
		c->out_off += (size_t)w;
	}
	if (c->out) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

		sodium_memzero(c->out, c->out_len);
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		epoll_ctl(u->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	return true;
}

/* Feeds buffered input until it is consumed or a response waits to be written. */
static int client_feed(struct fg_uapi_server *u, struct client *c)
{
	while (c->in_off < c->in_len && !c->out) {
		const char *resp = NULL;
		size_t rlen = 0;
		int n = fg_uapi_session_feed(&c->session, c->in + c->in_off, c->in_len - c->in_off, &ops, u,
					     &resp, &rlen);

		if (n < 0)
			return n;
		c->in_off += (size_t)n;
		if (resp) {
			u->svc->stats.uapi_requests++;
			c->out = malloc(rlen);
			if (!c->out)
				return -ENOMEM;
			memcpy(c->out, resp, rlen);
			c->out_len = rlen;
			c->out_off = 0;
			client_flush(u, c);
		}
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	return 0;
}

static void client_event(struct fg_uapi_server *u, struct client *c, uint32_t events)
{
	if ((events & EPOLLOUT) && !client_flush(u, c) && c->out)
		return;
	if (client_feed(u, c) < 0) {
		client_close(u, c);
		return;
	}
	if (c->out || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	ssize_t r = recv(c->fd, c->in, sizeof(c->in), 0);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(u, c);
		return;
	}
	if (r > 0) {
		c->in_len = (size_t)r;
		c->in_off = 0;
		if (client_feed(u, c) < 0)
			client_close(u, c);
	}
}

static void accept_clients(struct fg_uapi_server *u)
{
	for (;;) {
		int fd = accept4(u->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (u->clients[i].fd < 0) {
				c = &u->clients[i];
				break;
			}
		}
		if (!c) {
			fg_warn(TAG, "too many UAPI connections; refusing one");
			close(fd);
			continue;
		}
		c->fd = fd;
		fg_uapi_session_init(&c->session);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

int fg_uapi_server_poll(struct fg_uapi_server *u, int timeout_ms)
{
	struct epoll_event evs[MAX_CLIENTS + 1];
	int n = epoll_wait(u->epfd, evs, MAX_CLIENTS + 1, timeout_ms);

	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL)
			accept_clients(u);
		else
			client_event(u, evs[i].data.ptr, evs[i].events);
	}
	return n > 0 ? n : 0;
}

struct fg_uapi_server *fg_uapi_server_open(struct fg_svc *s, const char *dir, const char *ifname)
{
	struct fg_uapi_server *u = calloc(1, sizeof(*u));
	int e;

	if (!u)
		return NULL;
	u->svc = s;
	u->slot = FG_SLOT_NONE;
	u->epfd = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		u->clients[i].fd = -1;
	if ((size_t)snprintf(u->path, sizeof(u->path), "%s/%s.sock", dir, ifname) >= sizeof(u->path)) {
		e = ENAMETOOLONG;
		goto err;
	}
	u->listen_fd = fg_unixsock_listen(u->path, SOCK_STREAM, 0660, 16);
	if (u->listen_fd < 0) {
		e = -u->listen_fd;
		goto err;
	}
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (u->epfd < 0 || epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->listen_fd, &ev) < 0) {
		e = errno;
		close(u->listen_fd);
		unlink(u->path);
		goto err;
	}
	return u;
err:
	if (u->epfd >= 0)
		close(u->epfd);
	free(u);
	errno = e;
	return NULL;
}

void fg_uapi_server_close(struct fg_uapi_server *u)
{
	if (!u)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (u->clients[i].fd >= 0)
			client_close(u, &u->clients[i]);
	close(u->listen_fd);
	close(u->epfd);
	unlink(u->path);
	free(u);
}

const char *fg_uapi_server_path(const struct fg_uapi_server *u)
{
	return u->path;
}

int fg_uapi_server_fd(const struct fg_uapi_server *u)
{
	return u->epfd;
}
