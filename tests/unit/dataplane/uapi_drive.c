// SPDX-License-Identifier: MIT
/*
 * The multi-connection UAPI driver (see uapi_drive.h). Main lcore only.
 */
#include "uapi_drive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keys.h"
#include "route.h"
#include "uapi_server.h"

enum {
	NKEYS = 4,
};

static void key_hex(char out[65], uint8_t seed)
{
	uint8_t k[32];

	/* A Curve25519 public key needs no structure for the UAPI: any 32 bytes but zero. */
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(seed * 37 + i * 11 + 1);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", k[i]);
}

static int conn_open(struct fg_uapi_drive *d, int i)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 || fg_uapi_server_adopt(d->u, sv[1]) < 0) {
		close(sv[0]);
		return -EMFILE;
	}
	d->fd[i] = sv[0];
	d->held[i][0] = 0;
	d->in_set[i] = false;
	return 0;
}

/* Reads and discards what the server answered on connection i. */
static void conn_drain(struct fg_uapi_drive *d, int i)
{
	char buf[4096];

	if (d->fd[i] < 0)
		return;
	while (recv(d->fd[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void conn_write(struct fg_uapi_drive *d, int i, const char *s, size_t n)
{
	if (d->fd[i] < 0 && conn_open(d, i) < 0)
		return;
	/* A full socket (the server stops reading while its reply waits) drops the line: the
	 * request is then malformed or cut, which is one more input the server must survive. */
	(void)!send(d->fd[i], s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int fg_uapi_drive_init(struct fg_uapi_drive *d, struct fg_svc_env *env)
{
	memset(d, 0, sizeof(*d));
	d->env = env;
	for (int i = 0; i < FG_UAPI_DRIVE_CONNS; i++)
		d->fd[i] = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/fg-uapi-drive.XXXXXX");
	if (!mkdtemp(d->dir))
		return -errno;
	d->u = fg_uapi_server_open(&env->svc, d->dir, "fgd0");
	if (!d->u) {
		rmdir(d->dir);
		return -errno;
	}
	for (int i = 0; i < FG_UAPI_DRIVE_CONNS; i++)
		if (conn_open(d, i) < 0)
			return -EMFILE;
	return 0;
}

struct count_ctx {
	uint32_t n;
};

static int count_one(void *ctx, const struct fg_prefix *p)
{
	(void)p;
	((struct count_ctx *)ctx)->n++;
	return 0;
}

static bool check(struct fg_uapi_drive *d)
{
	const struct fg_svc *s = &d->env->svc;
	struct count_ctx c = { 0 };

	for (uint32_t i = 0; i < s->nlive; i++) {
		if (!fg_svc_peer_valid(s, s->live[i])) {
			snprintf(d->why, sizeof(d->why), "step %lu: live list holds a free slot %u",
				 (unsigned long)d->steps, s->live[i]);
			return false;
		}
		fg_route_foreach_value(s->dp->allowed, s->live[i], count_one, &c);
	}
	if (c.n != fg_route_count(s->dp->allowed)) {
		snprintf(d->why, sizeof(d->why), "step %lu: %u allowed IPs in the table, %u belong to live peers",
			 (unsigned long)d->steps, fg_route_count(s->dp->allowed), c.n);
		return false;
	}
	if (fg_uapi_server_nclients(d->u) > FG_UAPI_SERVER_MAX_CLIENTS) {
		snprintf(d->why, sizeof(d->why), "step %lu: %u connections", (unsigned long)d->steps,
			 fg_uapi_server_nclients(d->u));
		return false;
	}
	return true;
}

/* The line of a step, without its newline; NULL for the steps that write none. */
static const char *line(char *buf, size_t len, uint8_t kind, uint8_t arg)
{
	char hex[65];

	switch (kind) {
	case 0: return "set=1";
	case 1: return "get=1";
	case 2: case 3: case 4:
		key_hex(hex, arg % NKEYS);
		snprintf(buf, len, "public_key=%s", hex);
		return buf;
	case 5: return arg & 1 ? "remove=true" : "update_only=true";
	case 6:
		snprintf(buf, len, "endpoint=198.18.1.%u:%u", arg, 51820 + arg % 4);
		return buf;
	case 7: case 8:
		snprintf(buf, len, "allowed_ip=100.64.%u.0/24", arg % 32);
		return buf;
	case 9: return "replace_allowed_ips=true";
	case 10:
		snprintf(buf, len, "persistent_keepalive_interval=%u", arg % 3 ? 0 : 25);
		return buf;
	case 11:
		key_hex(hex, (uint8_t)(100 + arg % 2));
		snprintf(buf, len, "preshared_key=%s", hex);
		return buf;
	case 12: case 13: case 14:
		return "";
	case 15:
		if (arg % 8)
			return "";
		return arg & 8 ? "replace_peers=true" : "listen_port=51821";
	default:
		return NULL;
	}
}

bool fg_uapi_drive_step(struct fg_uapi_drive *d, uint8_t op, uint8_t arg)
{
	int i = op % FG_UAPI_DRIVE_CONNS;
	uint8_t kind = (uint8_t)((op / FG_UAPI_DRIVE_CONNS) % 20);
	char buf[160];
	const char *l;

	d->steps++;
	if (d->held[i][0]) {
		/* The rest of a split line comes first: a line is never interleaved with itself. */
		conn_write(d, i, d->held[i], strlen(d->held[i]));
		d->held[i][0] = 0;
	}
	l = line(buf, sizeof(buf), kind, arg);
	if (l) {
		size_t n = strlen(l);
		char full[170];

		/* Mostly well-formed requests, so that they reach the peer operations: a key line
		 * outside a request opens one, get=1 outside one is a whole request. The rest
		 * (set=1 or get=1 inside a set, a blank line outside one) stays as it comes. */
		bool key_line = n > 0 && kind != 0 && kind != 1;

		if (!d->in_set[i] && key_line) {
			snprintf(full, sizeof(full), "set=1\n%s\n", l);
			n += 6;
		} else if (!d->in_set[i] && kind == 1) {
			snprintf(full, sizeof(full), "get=1\n\n");
			n = 6;
		} else {
			snprintf(full, sizeof(full), "%s\n", l);
		}
		if (kind == 0 || key_line)
			d->in_set[i] = true;
		else if (n == 0)
			d->in_set[i] = false;
		if (arg & 0x80 && n > 2) {
			/* Split: the server sees half a line now, the rest at this connection's next step. */
			size_t cut = 1 + arg % (n - 1);

			conn_write(d, i, full, cut);
			snprintf(d->held[i], sizeof(d->held[i]), "%s", full + cut);
		} else {
			conn_write(d, i, full, n + 1);
		}
	} else if (kind == 16) {
		conn_drain(d, i);
	} else if (kind == 17 && d->fd[i] >= 0) {
		/* Hang up, sometimes mid-request; the next step on it reconnects. */
		close(d->fd[i]);
		d->fd[i] = -1;
		d->held[i][0] = 0;
		d->in_set[i] = false;
	}
	/* Serve until the server has nothing more to do (replies may need several rounds). */
	for (int k = 0; k < 8 && fg_uapi_server_poll(d->u, 0) > 0; k++)
		;
	if (arg % 16 == 0)
		for (int j = 0; j < FG_UAPI_DRIVE_CONNS; j++)
			conn_drain(d, j);
	fg_svc_env_drain(d->env);
	return check(d);
}

void fg_uapi_drive_fini(struct fg_uapi_drive *d)
{
	char path[160];

	for (int i = 0; i < FG_UAPI_DRIVE_CONNS; i++) {
		if (d->fd[i] >= 0)
			close(d->fd[i]);
		d->fd[i] = -1;
	}
	if (d->u) {
		for (int k = 0; k < 8 && fg_uapi_server_poll(d->u, 0) > 0; k++)
			;
		fg_uapi_server_close(d->u);
		d->u = NULL;
	}
	fg_svc_env_drain(d->env);
	snprintf(path, sizeof(path), "%s/fgd0.sock", d->dir);
	unlink(path);
	rmdir(d->dir);
}
