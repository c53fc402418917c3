// SPDX-License-Identifier: MIT
/*
 * The fastgatectl socket of the control plane (see ctl_server.h): the listening socket, the
 * request parser, the dispatch to the provider, and per-connection line buffering with
 * lock-step answers. Control plane thread only; the connection count is this file's one
 * piece of module state and has no other writer.
 */
#include "cpctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "unixsock.h"

static const char *const TAG = "fastgate.ctl";

enum {
	QUOTE_MAX = 64,         /* bytes of a bad command name quoted back in an error */
	ERROR_MAX = 256,        /* an error message */
	DISCARD_CHUNK = 4096,   /* input thrown away after a protocol error, per recv */
	DISCARD_ROUNDS = 16,    /* recv calls per on_readable while discarding */
	READ_ROUNDS = 64,       /* recv calls per on_readable, so one client cannot hog the loop */
};

struct fg_cpctl_conn {
	struct fg_cpctl_server *srv;           /* counts it */
	int fd;
	bool eof;                              /* the client half-closed: answer, flush, close */
	bool closing;                          /* a protocol error was queued: flush, then close */
	const struct fg_cpctl_provider *prov;    /* from the latest on_readable */
	void *ctx;
	char *out;                             /* one response (lock-step), NULL when none */
	size_t out_len;
	size_t out_off;
	size_t in_len;
	struct fg_cpctl_pending *pending;        /* a started answer (provider's start), or NULL */
	void (*wake)(void *arg);
	void *wake_arg;
	char in[FG_CPCTL_MAX_LINE + 1];        /* one whole line and its newline fit exactly */
};

struct fg_cpctl_pending {
	struct fg_cpctl_conn *conn;              /* NULL once the connection is gone */
	char cmd[FG_CPCTL_MAX_CMD];
};

/* ---- requests ------------------------------------------------------------------------------ */

static cJSON *call_status(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->status ? p->status(ctx) : NULL;
}

static cJSON *call_peers(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->peers ? p->peers(ctx) : NULL;
}

static cJSON *call_resources(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->resources ? p->resources(ctx) : NULL;
}

static cJSON *call_relays(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->relays ? p->relays(ctx) : NULL;
}

static cJSON *call_ice(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->ice ? p->ice(ctx) : NULL;
}

static cJSON *call_stats(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->stats ? p->stats(ctx) : NULL;
}

static cJSON *call_flows(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->flows ? p->flows(ctx) : NULL;
}

static cJSON *call_nat(const struct fg_cpctl_provider *p, void *ctx)
{
	return p && p->nat ? p->nat(ctx) : NULL;
}

static const struct command {
	const char *name;
	cJSON *(*call)(const struct fg_cpctl_provider *p, void *ctx);
} commands[] = {
	{ "status", call_status },
	{ "peers", call_peers },
	{ "resources", call_resources },
	{ "relays", call_relays },
	{ "ice", call_ice },
	{ "stats", call_stats },
	{ "flows", call_flows },
	{ "nat", call_nat },
};

/* True if the JSON text holds the escape \u0000: cJSON would decode it into a NUL that
 * silently cuts the string ("status\u0000junk" would read as "status"). */
static bool has_escaped_nul(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' && s[i + 3] == '0' &&
		    s[i + 4] == '0' && s[i + 5] == '0')
			return true;
		i++;  /* skip the escaped character, so "\\u0000" (a backslash, then text) passes */
	}
	return false;
}

/* Parses one line into *req and points *cmd at its "cmd" string; *why says what is wrong. */
static int parse(const char *line, size_t len, cJSON **req, const cJSON **cmd, const char **why)
{
	char buf[FG_CPCTL_MAX_LINE + 1];
	const char *end = NULL;

	*req = NULL;
	*cmd = NULL;
	if (len > FG_CPCTL_MAX_LINE) {
		*why = "line too long";
		return -EINVAL;
	}
	if (memchr(line, '\0', len) || has_escaped_nul(line, len)) {
		*why = "NUL byte";
		return -EINVAL;
	}
	/* A terminated copy: cJSON then never has a reason to look past the line. */
	memcpy(buf, line, len);
	buf[len] = '\0';
	*req = cJSON_ParseWithOpts(buf, &end, false);
	if (!*req) {
		*why = "not JSON";
		return -EINVAL;
	}
	while (end && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (!end || *end != '\0') {
		*why = "bytes after the JSON value";
		goto err;
	}
	if (!cJSON_IsObject(*req)) {
		*why = "not a JSON object";
		goto err;
	}
	*cmd = cJSON_GetObjectItemCaseSensitive(*req, "cmd");
	if (!*cmd) {
		*why = "no \"cmd\"";
		goto err;
	}
	if (!cJSON_IsString(*cmd) || !(*cmd)->valuestring) {
		*why = "\"cmd\" is not a string";
		goto err;
	}
	return 0;
err:
	cJSON_Delete(*req);
	*req = NULL;
	*cmd = NULL;
	return -EINVAL;
}

int fg_cpctl_parse_request(const char *line, size_t len, char *cmd, size_t cmdlen)
{
	cJSON *req;
	const cJSON *c;
	const char *why;
	int r;

	if (!line || !cmd || cmdlen == 0)
		return -EINVAL;
	r = parse(line, len, &req, &c, &why);
	if (r < 0)
		return r;
	if (strlen(c->valuestring) >= cmdlen) {
		r = -EINVAL;
	} else {
		strcpy(cmd, c->valuestring);
		r = 0;
	}
	cJSON_Delete(req);
	return r;
}

/* Copies at most QUOTE_MAX bytes of s, printable ASCII only, for quoting in an error. */
static void quote(char *dst, size_t dstlen, const char *s)
{
	size_t n = 0;

	for (; s[n] && n < QUOTE_MAX && n + 4 < dstlen; n++)
		dst[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
	if (s[n] && n + 4 <= dstlen) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

static cJSON *error_object(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static cJSON *error_object(const char *fmt, ...)
{
	char msg[ERROR_MAX];
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o && !cJSON_AddStringToObject(o, "error", msg)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* Prints o as one compact line with its newline, and frees o. */
static char *finish(cJSON *o, size_t *outlen)
{
	char *s, *line;
	size_t n;

	if (!o)
		return NULL;
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*outlen = n + 1;
	return line;
}

char *fg_cpctl_respond(const char *line, size_t len, const struct fg_cpctl_provider *p, void *ctx,
		     size_t *outlen)
{
	const struct command *found = NULL;
	const cJSON *cmd;
	const char *why;
	cJSON *req, *resp;
	char q[QUOTE_MAX + 4];

	if (parse(line, len, &req, &cmd, &why) < 0) {
		fg_debug(TAG, "malformed request: %s", why);
		return finish(error_object("malformed request: %s", why), outlen);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd->valuestring, commands[i].name) == 0)
			found = &commands[i];
	if (!found) {
		quote(q, sizeof(q), cmd->valuestring);
		resp = error_object("unknown command '%s'", q);
	} else {
		resp = found->call(p, ctx);
		if (resp && !cJSON_IsObject(resp)) {
			fg_warn(TAG, "provider for '%s' returned something other than an object", found->name);
			cJSON_Delete(resp);
			resp = NULL;
		}
		if (!resp)
			resp = error_object("%s unavailable", found->name);
	}
	cJSON_Delete(req);
	return finish(resp, outlen);
}

void fg_cpctl_pending_done(struct fg_cpctl_pending *p, cJSON *resp)
{
	struct fg_cpctl_conn *c = p->conn;

	if (!c) {
		cJSON_Delete(resp);
		free(p);
		return;
	}
	if (resp && !cJSON_IsObject(resp)) {
		fg_warn(TAG, "provider for '%s' returned something other than an object", p->cmd);
		cJSON_Delete(resp);
		resp = NULL;
	}
	if (!resp)
		resp = error_object("%s unavailable", p->cmd);
	c->pending = NULL;
	free(p);
	c->out = finish(resp, &c->out_len);
	c->out_off = 0;
	if (!c->out)
		c->closing = true; /* out of memory: end the connection */
	if (c->wake)
		c->wake(c->wake_arg);
}

void fg_cpctl_conn_set_wake(struct fg_cpctl_conn *c, void (*wake)(void *arg), void *arg)
{
	c->wake = wake;
	c->wake_arg = arg;
}

/* Hands the request to the provider's start; true if it will answer later. */
static bool start_pending(struct fg_cpctl_conn *c, const char *line, size_t len)
{
	struct fg_cpctl_pending *p;
	char cmd[FG_CPCTL_MAX_CMD];

	if (!c->prov || !c->prov->start || fg_cpctl_parse_request(line, len, cmd, sizeof(cmd)) < 0)
		return false;
	p = calloc(1, sizeof(*p));
	if (!p)
		return false;
	p->conn = c;
	snprintf(p->cmd, sizeof(p->cmd), "%s", cmd);
	if (c->prov->start(c->ctx, cmd, p) < 0) {
		free(p);
		return false;
	}
	c->pending = p;
	return true;
}

/* ---- connections ----------------------------------------------------------------------------- */

struct fg_cpctl_conn *fg_cpctl_conn_new(struct fg_cpctl_server *s, int fd)
{
	struct fg_cpctl_conn *c;
	int fl;

	if (s->nconns >= FG_CPCTL_MAX_CONNS) {
		errno = EBUSY;
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	s->nconns++;
	return c;
}

void fg_cpctl_conn_free(struct fg_cpctl_conn *c)
{
	if (!c)
		return;
	if (c->pending)
		c->pending->conn = NULL; /* the provider still answers it, into the void */
	close(c->fd);
	free(c->out);
	c->srv->nconns--;
	c->srv->warned_busy = false;
	free(c);
}

unsigned int fg_cpctl_conn_count(const struct fg_cpctl_server *s)
{
	return s->nconns;
}

int fg_cpctl_conn_fd(const struct fg_cpctl_conn *c)
{
	return c->fd;
}

bool fg_cpctl_conn_wants_write(const struct fg_cpctl_conn *c)
{
	return c->out != NULL;
}

bool fg_cpctl_conn_wants_read(const struct fg_cpctl_conn *c)
{
	return !c->eof && !c->closing && c->in_len < sizeof(c->in);
}

/* Writes what the socket takes: 0 when the response is out, 1 when some remains, -EPIPE. */
static int flush(struct fg_cpctl_conn *c)
{
	while (c->out && c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -EPIPE;
		}
		c->out_off += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 0;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Answers the first buffered line, if a whole one is there (at EOF, an unterminated last
 * line counts). 1 when it consumed input, 0 when there is nothing to answer, -ENOMEM. */
static int answer_one(struct fg_cpctl_conn *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	size_t len, used;
	char *out = NULL;
	size_t out_len = 0;

	if (nl) {
		len = (size_t)(nl - c->in);
		used = len + 1;
	} else if (c->in_len == sizeof(c->in)) {
		c->in_len = 0;
		c->closing = true;
		fg_debug(TAG, "request line longer than %d bytes; closing", FG_CPCTL_MAX_LINE);
		out = finish(error_object("request line too long (limit %d bytes)", FG_CPCTL_MAX_LINE),
			     &out_len);
		if (!out)
			return -ENOMEM;
		c->out = out;
		c->out_len = out_len;
		return 1;
	} else if (c->eof && c->in_len) {
		len = used = c->in_len;
	} else {
		return 0;
	}
	if (len && c->in[len - 1] == '\r')
		len--;
	if (!blank(c->in, len) && !start_pending(c, c->in, len)) {
		out = fg_cpctl_respond(c->in, len, c->prov, c->ctx, &out_len);
		if (!out)
			return -ENOMEM;
	}
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->out = out;
	c->out_len = out_len;
	c->out_off = 0;
	return 1;
}

/* Flushes and answers queued lines until the socket is full or the input runs out.
 * 1: output remains; 0: idle; <0: the connection is finished. */
static int pump(struct fg_cpctl_conn *c)
{
	for (;;) {
		int r = flush(c);

		if (r)
			return r;
		if (c->closing)
			return -EPROTO;
		if (c->pending)
			return 0; /* lock-step: its answer comes first */
		r = answer_one(c);
		if (r < 0)
			return r;
		if (r == 0)
			break;
	}
	return c->eof ? -EPIPE : 0;
}

/* After a protocol error: throw input away (a level-triggered loop would spin on it
 * otherwise) until the error line is out. */
static int discard(struct fg_cpctl_conn *c)
{
	char scratch[DISCARD_CHUNK];

	for (int i = 0; i < DISCARD_ROUNDS; i++) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return -EPIPE;
	}
	return pump(c);
}

int fg_cpctl_conn_on_readable(struct fg_cpctl_conn *c, const struct fg_cpctl_provider *p, void *ctx)
{
	int r;

	c->prov = p;
	c->ctx = ctx;
	if (c->closing) {
		r = discard(c);
		return r < 0 ? r : 0;
	}
	/* Lock-step: a full buffer waits for the response ahead of it to drain. */
	for (int i = 0; i < READ_ROUNDS && !c->eof && c->in_len < sizeof(c->in); i++) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -EPIPE;
		}
		if (n == 0)
			c->eof = true;
		else
			c->in_len += (size_t)n;
		r = pump(c);
		if (r < 0)
			return r;
	}
	r = pump(c);
	return r < 0 ? r : 0;
}

int fg_cpctl_conn_on_writable(struct fg_cpctl_conn *c)
{
	return pump(c);
}

/* ---- listening socket ------------------------------------------------------------------------ */

int fg_cpctl_server_listen(const char *path)
{
	/* The data plane's sockets and this one share one listener and its rules. */
	const struct fg_unixsock_opts o = {
		.type = SOCK_STREAM, .mode = 0660, .gid = (gid_t)-1, .backlog = FG_CPCTL_BACKLOG,
	};

	if (!path || !*path)
		return -EINVAL;
	return fg_unixsock_listen(path, &o);
}

int fg_cpctl_server_accept(struct fg_cpctl_server *s, struct fg_cpctl_conn **out)
{
	struct fg_cpctl_conn *c;
	int fd, e;

	for (;;) {
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	c = fg_cpctl_conn_new(s, fd);
	if (!c) {
		e = errno;
		if (e == EBUSY) {
			char msg[ERROR_MAX];
			int len = snprintf(msg, sizeof(msg),
					   "{\"error\":\"too many connections (limit %d)\"}\n",
					   FG_CPCTL_MAX_CONNS);

			/* Best effort: a fresh socket's buffer takes a line this short. */
			if (send(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				fg_debug(TAG, "refusing a connection: %s", strerror(errno));
			if (!s->warned_busy)
				fg_warn(TAG, "%d fastgatectl connections open; refusing more",
					FG_CPCTL_MAX_CONNS);
			s->warned_busy = true;
		}
		close(fd);
		return -e;
	}
	*out = c;
	return 0;
}
