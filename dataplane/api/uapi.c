// SPDX-License-Identifier: MIT
/*
 * The WireGuard cross-platform UAPI text protocol (see uapi.h): an incremental line reader per
 * session, the set-request state machine that turns key=value lines into fg_uapi_ops calls,
 * and the growable writer behind get responses. Lines are copied into the session's fixed
 * buffer and wiped once handled (they may carry the private key); the get buffer is wiped
 * before reuse. Sessions are owned by the service lcore.
 */
#include "uapi.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

enum {
	WRITER_INITIAL = 4096,
	/* Room kept free by every emit so that "errno=0\n\n" always fits after the state. */
	TRAILER_RESERVE = 16,
	U64_DIGITS_MAX = 20,
};

static const char errno_ok[] = "errno=0\n\n";

/* ---- writer ---- */

static bool valid_name(const char *name)
{
	if (!name || !*name)
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	return true;
}

static int reserve(struct fg_uapi_writer *w, size_t more)
{
	size_t cap;
	char *nb;

	if (w->err)
		return w->err;
	if (more > FG_UAPI_RESPONSE_MAX - TRAILER_RESERVE - w->len) {
		w->err = -EMSGSIZE;
		return w->err;
	}
	if (w->len + more + TRAILER_RESERVE <= w->cap)
		return 0;
	cap = w->cap ? w->cap : WRITER_INITIAL;
	while (cap < w->len + more + TRAILER_RESERVE)
		cap *= 2;
	if (cap > FG_UAPI_RESPONSE_MAX)
		cap = FG_UAPI_RESPONSE_MAX;
	/* By hand rather than realloc(): the old block may hold the private key. */
	nb = malloc(cap);
	if (!nb) {
		w->err = -ENOMEM;
		return w->err;
	}
	if (w->buf) {
		memcpy(nb, w->buf, w->len);
		sodium_memzero(w->buf, w->cap);
		free(w->buf);
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

/* Appends name=value\n with value given as n bytes. */
static int emit(struct fg_uapi_writer *w, const char *name, const char *value, size_t n)
{
	size_t name_len;
	int rc;

	if (w->err)
		return w->err;
	if (!valid_name(name) || memchr(value, '\n', n) || memchr(value, '\0', n)) {
		w->err = -EINVAL;
		return w->err;
	}
	name_len = strlen(name);
	if ((rc = reserve(w, name_len + n + 2)) < 0)
		return rc;
	memcpy(w->buf + w->len, name, name_len);
	w->len += name_len;
	w->buf[w->len++] = '=';
	memcpy(w->buf + w->len, value, n);
	w->len += n;
	w->buf[w->len++] = '\n';
	return 0;
}

int fg_uapi_emit_key(struct fg_uapi_writer *w, const char *name, const uint8_t key[FG_KEY_LEN])
{
	char hex[FG_KEY_HEX_LEN];
	int rc;

	fg_key_to_hex(hex, key);
	rc = emit(w, name, hex, FG_KEY_HEX_LEN - 1);
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

int fg_uapi_emit_u64(struct fg_uapi_writer *w, const char *name, uint64_t v)
{
	char num[U64_DIGITS_MAX + 1];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);

	return emit(w, name, num, (size_t)n);
}

int fg_uapi_emit_str(struct fg_uapi_writer *w, const char *name, const char *s)
{
	if (!s) {
		if (!w->err)
			w->err = -EINVAL;
		return w->err;
	}
	return emit(w, name, s, strlen(s));
}

int fg_uapi_emit_endpoint(struct fg_uapi_writer *w, const char *name, const struct fg_endpoint *ep)
{
	char buf[FG_ENDPOINT_STRLEN];

	if (fg_ip_len(ep->ip.family) == 0) {
		if (!w->err)
			w->err = -EINVAL;
		return w->err;
	}
	return fg_uapi_emit_str(w, name, fg_endpoint_format(ep, buf, sizeof(buf)));
}

int fg_uapi_emit_prefix(struct fg_uapi_writer *w, const char *name, const struct fg_prefix *p)
{
	char buf[FG_PREFIX_STRLEN];

	if (fg_ip_len(p->ip.family) == 0) {
		if (!w->err)
			w->err = -EINVAL;
		return w->err;
	}
	return fg_uapi_emit_str(w, name, fg_prefix_format(p, buf, sizeof(buf)));
}

/* Empties the writer for the next response, keeping its buffer. */
static void writer_reset(struct fg_uapi_writer *w)
{
	if (w->buf && w->len)
		sodium_memzero(w->buf, w->len);
	w->len = 0;
	w->err = 0;
}

void fg_uapi_writer_release(struct fg_uapi_writer *w)
{
	if (w->buf) {
		sodium_memzero(w->buf, w->cap);
		free(w->buf);
	}
	memset(w, 0, sizeof(*w));
}

/* ---- set requests ---- */

/* Callbacks answer 0 or -errno; anything else positive is read as its negation. */
static int result(int rc)
{
	return rc > 0 ? -rc : rc;
}

#define CALL(ops, fn, ...) ((ops)->fn ? result((ops)->fn(__VA_ARGS__)) : -EOPNOTSUPP)

/* Decimal digits only, at most max. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > U64_DIGITS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int peer_begin(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx,
		      bool update_only)
{
	int rc;

	s->peer_pending = false;
	rc = CALL(ops, peer_begin, ctx, s->pending_pub, update_only);
	if (rc == -ENOENT && update_only) {
		s->peer_ignored = true;
		return 0;
	}
	if (rc < 0)
		return rc;
	s->peer_open = true;
	return 0;
}

/* Ends the peer being configured: creates it if it had no keys, then commits it. */
static int peer_close(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx)
{
	int rc = 0;

	if (s->peer_pending)
		rc = peer_begin(s, ops, ctx, false);
	if (s->peer_open) {
		s->peer_open = false;
		if (ops->peer_end) {
			int end = result(ops->peer_end(ctx));

			rc = rc ? rc : end;
		}
	}
	s->peer_pending = false;
	s->peer_ignored = false;
	return rc;
}

static int device_key(const struct fg_uapi_ops *ops, void *ctx, const char *key,
		      const char *value)
{
	uint64_t v;

	if (strcmp(key, "private_key") == 0) {
		uint8_t sk[FG_KEY_LEN];
		int rc;

		if (fg_key_from_hex(sk, value) < 0)
			return -EINVAL;
		rc = CALL(ops, set_private_key, ctx, sk);
		sodium_memzero(sk, sizeof(sk));
		return rc;
	}
	if (strcmp(key, "listen_port") == 0) {
		if (parse_uint(value, UINT16_MAX, &v) < 0)
			return -EINVAL;
		return CALL(ops, set_listen_port, ctx, (uint16_t)v);
	}
	if (strcmp(key, "fwmark") == 0) {
		if (parse_uint(value, UINT32_MAX, &v) < 0)
			return -EINVAL;
		return CALL(ops, set_fwmark, ctx, (uint32_t)v);
	}
	if (strcmp(key, "replace_peers") == 0) {
		if (strcmp(value, "true") != 0)
			return -EINVAL;
		return CALL(ops, replace_peers, ctx);
	}
	return -EINVAL;
}

/* The keys of a peer that carry a value to hand over. */
enum peer_key {
	PK_PSK,
	PK_ENDPOINT,
	PK_KEEPALIVE,
	PK_REPLACE_ALLOWED_IPS,
	PK_ALLOWED_IP,
	PK_PROTOCOL_VERSION,
	PK_UNKNOWN,
};

static enum peer_key peer_key_of(const char *key)
{
	static const char *const names[] = {
		[PK_PSK] = "preshared_key",
		[PK_ENDPOINT] = "endpoint",
		[PK_KEEPALIVE] = "persistent_keepalive_interval",
		[PK_REPLACE_ALLOWED_IPS] = "replace_allowed_ips",
		[PK_ALLOWED_IP] = "allowed_ip",
		[PK_PROTOCOL_VERSION] = "protocol_version",
	};

	for (int k = 0; k < PK_UNKNOWN; k++)
		if (strcmp(key, names[k]) == 0)
			return (enum peer_key)k;
	return PK_UNKNOWN;
}

static int peer_key(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx,
		    const char *key, const char *value)
{
	union {
		uint8_t psk[FG_KEY_LEN];
		struct fg_endpoint ep;
		struct fg_prefix prefix;
		uint64_t num;
	} v;
	enum peer_key k;
	int rc = 0;

	if (strcmp(key, "update_only") == 0) {
		if (strcmp(value, "true") != 0 || !s->peer_pending)
			return -EINVAL;
		return peer_begin(s, ops, ctx, true);
	}
	if (strcmp(key, "remove") == 0) {
		if (strcmp(value, "true") != 0)
			return -EINVAL;
		if (s->peer_pending && (rc = peer_begin(s, ops, ctx, true)) < 0)
			return rc;
		if (s->peer_open) {
			s->peer_open = false;
			rc = CALL(ops, peer_remove, ctx);
		}
		s->peer_ignored = true;
		return rc;
	}

	/* Check the value first: a bad value is an error even for an ignored peer. */
	switch ((k = peer_key_of(key))) {
	case PK_PSK:
		rc = fg_key_from_hex(v.psk, value);
		break;
	case PK_ENDPOINT:
		rc = fg_endpoint_parse(value, &v.ep);
		break;
	case PK_KEEPALIVE:
		rc = parse_uint(value, UINT16_MAX, &v.num);
		break;
	case PK_REPLACE_ALLOWED_IPS:
		rc = strcmp(value, "true") == 0 ? 0 : -EINVAL;
		break;
	case PK_ALLOWED_IP:
		rc = strchr(value, '/') ? fg_prefix_parse(value, &v.prefix) : -EINVAL;
		break;
	case PK_PROTOCOL_VERSION:
		rc = strcmp(value, "1") == 0 ? 0 : -EINVAL;
		break;
	case PK_UNKNOWN:
		rc = -EINVAL;
		break;
	}
	if (rc < 0)
		goto out;
	if (s->peer_pending && (rc = peer_begin(s, ops, ctx, false)) < 0)
		goto out;
	if (s->peer_ignored)
		goto out;
	switch (k) {
	case PK_PSK:
		rc = CALL(ops, peer_set_psk, ctx, v.psk);
		break;
	case PK_ENDPOINT:
		rc = CALL(ops, peer_set_endpoint, ctx, &v.ep);
		break;
	case PK_KEEPALIVE:
		rc = CALL(ops, peer_set_keepalive, ctx, (uint16_t)v.num);
		break;
	case PK_REPLACE_ALLOWED_IPS:
		rc = CALL(ops, peer_replace_allowed_ips, ctx);
		break;
	case PK_ALLOWED_IP:
		rc = CALL(ops, peer_add_allowed_ip, ctx, &v.prefix);
		break;
	case PK_PROTOCOL_VERSION:
	case PK_UNKNOWN:
		break;
	}
out:
	sodium_memzero(&v, sizeof(v));
	return rc;
}

/*
 * The first error of a set ends the peer being configured (a peer not begun yet is dropped,
 * not created); the rest of the request is skipped.
 */
static void set_fail(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx, int rc)
{
	s->error = rc;
	s->peer_pending = false;
	peer_close(s, ops, ctx);
}

static void set_line(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx)
{
	char *eq, *key, *value;
	int rc;

	if (s->error)
		return;
	eq = strchr(s->line, '=');
	if (!eq) {
		set_fail(s, ops, ctx, -EPROTO);
		return;
	}
	*eq = '\0';
	key = s->line;
	value = eq + 1;
	if (strcmp(key, "public_key") == 0) {
		if ((rc = peer_close(s, ops, ctx)) < 0) {
			set_fail(s, ops, ctx, rc);
			return;
		}
		s->in_peers = true;
		if (fg_key_from_hex(s->pending_pub, value) < 0) {
			set_fail(s, ops, ctx, -EINVAL);
			return;
		}
		s->peer_pending = true;
		return;
	}
	rc = s->in_peers ? peer_key(s, ops, ctx, key, value) : device_key(ops, ctx, key, value);
	if (rc < 0)
		set_fail(s, ops, ctx, rc);
}

/* The end of a set (its blank line, or the connection closing). */
static void set_finish(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx)
{
	int rc = peer_close(s, ops, ctx);

	if (!s->error)
		s->error = rc;
	if (ops->set_end) {
		rc = result(ops->set_end(ctx));
		if (!s->error)
			s->error = rc;
	}
}

/* ---- session ---- */

static void request_reset(struct fg_uapi_session *s)
{
	s->error = 0;
	s->peer_pending = false;
	s->peer_open = false;
	s->peer_ignored = false;
	s->in_peers = false;
	memset(s->pending_pub, 0, sizeof(s->pending_pub));
}

void fg_uapi_session_init(struct fg_uapi_session *s)
{
	memset(s, 0, sizeof(*s));
	s->state = FG_UAPI_IDLE;
}

static void respond_errno(struct fg_uapi_session *s, const char **response, size_t *response_len)
{
	int n = snprintf(s->errno_buf, sizeof(s->errno_buf), "errno=%d\n\n", s->error);

	*response = s->errno_buf;
	*response_len = (size_t)n;
}

static void run_get(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx,
		    const char **response, size_t *response_len)
{
	int rc;

	writer_reset(&s->w);
	rc = s->error ? s->error : CALL(ops, get, ctx, &s->w);
	if (rc == 0)
		rc = s->w.err;
	if (rc == 0 && !s->w.buf)
		rc = reserve(&s->w, 0);
	if (rc < 0) {
		writer_reset(&s->w);
		s->error = rc;
		respond_errno(s, response, response_len);
		return;
	}
	/* reserve() always left TRAILER_RESERVE bytes free for this. */
	memcpy(s->w.buf + s->w.len, errno_ok, sizeof(errno_ok) - 1);
	s->w.len += sizeof(errno_ok) - 1;
	*response = s->w.buf;
	*response_len = s->w.len;
}

/* Handles the complete line in s->line. Returns 0, or -EPROTO for a fatal error. */
static int handle_line(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx,
		       const char **response, size_t *response_len)
{
	bool blank = s->line_len == 0;

	if (memchr(s->line, '\0', s->line_len))
		return -EPROTO;
	switch (s->state) {
	case FG_UAPI_IDLE:
		request_reset(s);
		if (strcmp(s->line, "get=1") == 0)
			s->state = FG_UAPI_GET;
		else if (strcmp(s->line, "set=1") == 0)
			s->state = FG_UAPI_SET;
		else
			return -EPROTO;
		return 0;
	case FG_UAPI_GET:
		if (!blank) {
			/* wireguard-go: anything between "get=1" and the blank line is invalid. */
			s->error = -EINVAL;
			return 0;
		}
		run_get(s, ops, ctx, response, response_len);
		s->state = FG_UAPI_IDLE;
		return 0;
	case FG_UAPI_SET:
		if (!blank) {
			set_line(s, ops, ctx);
			return 0;
		}
		set_finish(s, ops, ctx);
		respond_errno(s, response, response_len);
		s->state = FG_UAPI_IDLE;
		return 0;
	case FG_UAPI_DEAD:
		break;
	}
	return -EPROTO;
}

static int die(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx)
{
	fg_uapi_session_hangup(s, ops, ctx);
	s->state = FG_UAPI_DEAD;
	return -EPROTO;
}

int fg_uapi_session_feed(struct fg_uapi_session *s, const char *data, size_t len,
			 const struct fg_uapi_ops *ops, void *ctx, const char **response,
			 size_t *response_len)
{
	size_t used = 0;

	*response = NULL;
	*response_len = 0;
	if (s->state == FG_UAPI_DEAD)
		return -EPROTO;
	if (len > INT_MAX)
		len = INT_MAX;
	/* The previous response has been sent: it may hold the private key. */
	writer_reset(&s->w);
	while (used < len) {
		const char *nl = memchr(data + used, '\n', len - used);
		size_t n = nl ? (size_t)(nl - (data + used)) : len - used;
		int rc;

		if (n > FG_UAPI_LINE_MAX - s->line_len)
			return die(s, ops, ctx);
		memcpy(s->line + s->line_len, data + used, n);
		s->line_len += n;
		used += n;
		if (!nl)
			break;
		used++;
		s->line[s->line_len] = '\0';
		rc = handle_line(s, ops, ctx, response, response_len);
		sodium_memzero(s->line, s->line_len + 1);
		s->line_len = 0;
		if (rc < 0)
			return die(s, ops, ctx);
		if (*response)
			break;
	}
	return (int)used;
}

void fg_uapi_session_hangup(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx)
{
	if (s->state == FG_UAPI_SET)
		set_finish(s, ops, ctx);
	sodium_memzero(s->line, sizeof(s->line));
	s->line_len = 0;
	writer_reset(&s->w);
	request_reset(s);
	if (s->state != FG_UAPI_DEAD)
		s->state = FG_UAPI_IDLE;
}

void fg_uapi_session_uninit(struct fg_uapi_session *s)
{
	fg_uapi_writer_release(&s->w);
	sodium_memzero(s, sizeof(*s));
}
