/* SPDX-License-Identifier: MIT */
/*
 * Phoenix V1 framing for the portal socket: a strict decoder for inbound frames (a
 * pre-scan bounds nesting and refuses NUL characters before cJSON sees the text), frame
 * encoders with per-connection integer refs, join and heartbeat bookkeeping, and the
 * de-duplicating outbound queue (any number of messages, bounded in bytes). No I/O, no clock of its own. State lives in a
 * struct fg_phx_conn owned by the control plane's single thread.
 */
#include "phoenix.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "errbuf.h"

static const char join_topic[] = "gateway";
static const uint64_t ns_per_ms = 1000000;
/* Refs beyond 2^53 cannot be exact in a JSON number read as a double. */
static const double max_exact = 9007199254740992.0;

#define bad(err, errlen, ...) fg_errbuf_fail(-EBADMSG, err, errlen, __VA_ARGS__)

/*
 * Walks the text once: nesting depth outside strings, raw NUL bytes and \u0000 escapes
 * (cJSON would silently cut a string there), and the number of values cJSON would allocate
 * a node for (every value but the outermost follows a '[', '{' or ','), which bounds the
 * memory a frame costs: about 80 bytes a node, against 1 to 3 bytes of text for a hostile
 * "[0,0,0,..." (FG_PHX_MAX_VALUES). cJSON then does the real parsing.
 */
static int prescan(const char *s, size_t len, char *err, size_t errlen)
{
	unsigned depth = 0;
	size_t values = 1;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '\0')
			return bad(err, errlen, "NUL byte at offset %zu", i);
		if (in_str) {
			if (ch == '"') {
				in_str = false;
			} else if (ch == '\\' && i + 1 < len) {
				if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' &&
				    s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
					return bad(err, errlen, "\\u0000 in a string at offset %zu", i);
				i++;
			}
			continue;
		}
		if (ch == '"') {
			in_str = true;
			continue;
		}
		if (ch == '{' || ch == '[') {
			if (++depth > FG_PHX_MAX_DEPTH)
				return bad(err, errlen, "nesting deeper than %d", FG_PHX_MAX_DEPTH);
		} else if ((ch == '}' || ch == ']') && depth) {
			depth--;
			continue;
		} else if (ch != ',') {
			continue;
		}
		if (++values > FG_PHX_MAX_VALUES)
			return bad(err, errlen, "more than %d JSON values", FG_PHX_MAX_VALUES);
	}
	return 0;
}

/* Topics and events go into frames unescaped: printable ASCII without quote or backslash. */
static bool name_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' || n + 1 >= FG_PHX_NAME_LEN)
			return false;
	}
	return n > 0;
}

static int get_name(const cJSON *root, const char *key, char *out, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);

	if (!it)
		return bad(err, errlen, "missing \"%s\"", key);
	if (!cJSON_IsString(it) || !it->valuestring)
		return bad(err, errlen, "\"%s\" is not a string", key);
	if (!name_ok(it->valuestring))
		return bad(err, errlen, "\"%s\" is empty, longer than %d bytes or not printable ASCII",
			   key, FG_PHX_NAME_LEN - 1);
	strcpy(out, it->valuestring);
	return 0;
}

static int get_ref(const cJSON *root, struct fg_phx_in *m, char *err, size_t errlen)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(root, "ref");

	m->ref_kind = FG_PHX_REF_NULL;
	if (!ref || cJSON_IsNull(ref))
		return 0;
	if (cJSON_IsNumber(ref)) {
		double d = ref->valuedouble;

		/* NaN fails both comparisons; the cast is defined once the range holds. */
		if (!(d >= -max_exact && d <= max_exact) || (double)(int64_t)d != d)
			return bad(err, errlen, "\"ref\" is not an exact integer");
		m->ref_kind = FG_PHX_REF_NUM;
		m->ref_num = (int64_t)d;
		return 0;
	}
	if (cJSON_IsString(ref) && ref->valuestring) {
		if (strlen(ref->valuestring) >= sizeof(m->ref_str))
			return bad(err, errlen, "\"ref\" is longer than %zu bytes", sizeof(m->ref_str) - 1);
		m->ref_kind = FG_PHX_REF_STR;
		strcpy(m->ref_str, ref->valuestring);
		return 0;
	}
	return bad(err, errlen, "\"ref\" is neither a number, a string nor null");
}

static int get_reply(struct fg_phx_in *m, char *err, size_t errlen)
{
	const cJSON *status;

	if (!cJSON_IsObject(m->payload))
		return bad(err, errlen, "phx_reply payload is not an object");
	status = cJSON_GetObjectItemCaseSensitive(m->payload, "status");
	if (!cJSON_IsString(status) || !status->valuestring)
		return bad(err, errlen, "phx_reply without a string \"status\"");
	if (strlen(status->valuestring) >= sizeof(m->reply_status))
		return bad(err, errlen, "phx_reply \"status\" is too long");
	m->is_reply = true;
	strcpy(m->reply_status, status->valuestring);
	m->reply_response = cJSON_GetObjectItemCaseSensitive(m->payload, "response");
	return 0;
}

int fg_phx_decode(const char *text, size_t len, struct fg_phx_in *out, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!text)
		return bad(err, errlen, "no frame");
	if (len > FG_PHX_MAX_FRAME)
		return fg_errbuf_fail(-EMSGSIZE, err, errlen, "frame of %zu bytes is larger than %d",
				      len, FG_PHX_MAX_FRAME);
	rc = prescan(text, len, err, errlen);
	if (rc)
		return rc;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();

		if (at && at >= text && at <= text + len)
			return bad(err, errlen, "not JSON (at offset %td)", at - text);
		return bad(err, errlen, "not JSON");
	}
	for (; end && end < text + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
			rc = bad(err, errlen, "trailing bytes after the JSON value");
			goto err_root;
		}
	}
	if (!cJSON_IsObject(root)) {
		rc = bad(err, errlen, "frame is not a JSON object");
		goto err_root;
	}
	out->root = root;
	rc = get_name(root, "topic", out->topic, err, errlen);
	if (!rc)
		rc = get_name(root, "event", out->event, err, errlen);
	if (!rc)
		rc = get_ref(root, out, err, errlen);
	if (rc)
		goto err_root;
	out->payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
	if (!out->payload) {
		rc = bad(err, errlen, "missing \"payload\"");
		goto err_root;
	}
	if (!strcmp(out->event, "phx_reply")) {
		rc = get_reply(out, err, errlen);
		if (rc)
			goto err_root;
	}
	return 0;

err_root:
	/* A refused frame may hold a PSK or a password too: wiped as a good one is. */
	out->root = root;
	fg_phx_in_free(out);
	return rc;
}

static void wipe_tree(cJSON *it)
{
	for (; it; it = it->next) {
		if (it->valuestring)
			sodium_memzero(it->valuestring, strlen(it->valuestring));
		if (it->child)
			wipe_tree(it->child);
	}
}

void fg_phx_in_free(struct fg_phx_in *m)
{
	if (!m)
		return;
	if (m->root) {
		wipe_tree(m->root);
		cJSON_Delete(m->root);
	}
	memset(m, 0, sizeof(*m));
}

bool fg_phx_in_ref(const struct fg_phx_in *m, int64_t *ref)
{
	int64_t v = 0;
	const char *s;

	if (m->ref_kind == FG_PHX_REF_NUM) {
		*ref = m->ref_num;
		return true;
	}
	if (m->ref_kind != FG_PHX_REF_STR || !m->ref_str[0] || strlen(m->ref_str) > 15)
		return false;
	for (s = m->ref_str; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*ref = v;
	return true;
}

const char *fg_phx_reply_reason(const struct fg_phx_in *m)
{
	const cJSON *reason;

	if (!m->is_reply || !cJSON_IsObject(m->reply_response))
		return NULL;
	reason = cJSON_GetObjectItemCaseSensitive(m->reply_response, "reason");
	return cJSON_IsString(reason) ? reason->valuestring : NULL;
}

void fg_phx_conn_init(struct fg_phx_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->join_ref = -1;
}

void fg_phx_conn_reset(struct fg_phx_conn *c, uint64_t now_ns)
{
	c->next_ref = 0;
	c->join_ref = -1;
	c->join_sent_ns = 0;
	c->joined = false;
	c->hb_next_ns = now_ns + FG_PHX_HEARTBEAT_MS * ns_per_ms;
	c->hb_tracked = 0;
	c->hb_unanswered = 0;
	fg_phx_queue_clear(c);
}

void fg_phx_conn_free(struct fg_phx_conn *c)
{
	fg_phx_queue_clear(c);
	free(c->queue);
	fg_phx_conn_init(c);
}

/* {"topic":T,"event":E,"payload":P,"ref":N} with T and E already checked by name_ok(). */
static char *frame(const char *topic, const char *event, const char *payload, int64_t ref)
{
	int n = snprintf(NULL, 0, "{\"topic\":\"%s\",\"event\":\"%s\",\"payload\":%s,\"ref\":%" PRId64 "}",
			 topic, event, payload, ref);
	char *out;

	if (n < 0)
		return NULL;
	out = malloc((size_t)n + 1);
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(out, (size_t)n + 1, "{\"topic\":\"%s\",\"event\":\"%s\",\"payload\":%s,\"ref\":%" PRId64 "}",
		 topic, event, payload, ref);
	return out;
}

char *fg_phx_encode(struct fg_phx_conn *c, const char *topic, const char *event,
		    const cJSON *payload, int64_t *ref_out)
{
	char *body = NULL, *out;
	int64_t ref;

	if (!name_ok(topic) || !name_ok(event)) {
		errno = EINVAL;
		return NULL;
	}
	if (payload) {
		body = cJSON_PrintUnformatted(payload);
		if (!body) {
			errno = ENOMEM;
			return NULL;
		}
	}
	ref = c->next_ref;
	out = frame(topic, event, body ? body : "null", ref);
	free(body);
	if (!out)
		return NULL;
	c->next_ref++;
	if (ref_out)
		*ref_out = ref;
	return out;
}

char *fg_phx_join(struct fg_phx_conn *c, uint64_t now_ns)
{
	int64_t ref;
	char *out = fg_phx_encode(c, join_topic, "phx_join", NULL, &ref);

	if (!out)
		return NULL;
	c->join_ref = ref;
	c->join_sent_ns = now_ns;
	c->joined = false;
	c->hb_next_ns = now_ns + FG_PHX_HEARTBEAT_MS * ns_per_ms;
	return out;
}

char *fg_phx_heartbeat(struct fg_phx_conn *c, uint64_t now_ns)
{
	int64_t ref;
	char *out = frame("phoenix", "heartbeat", "{}", c->next_ref);

	if (!out)
		return NULL;
	ref = c->next_ref++;
	if (c->hb_tracked == FG_PHX_HB_TRACK) {
		memmove(c->hb_refs, c->hb_refs + 1, (FG_PHX_HB_TRACK - 1) * sizeof(c->hb_refs[0]));
		c->hb_tracked--;
	}
	c->hb_refs[c->hb_tracked++] = ref;
	c->hb_unanswered++;
	c->hb_next_ns = now_ns + FG_PHX_HEARTBEAT_MS * ns_per_ms;
	return out;
}

bool fg_phx_joined(const struct fg_phx_conn *c)
{
	return c->joined;
}

bool fg_phx_join_overdue(const struct fg_phx_conn *c, uint64_t now_ns)
{
	return c->join_ref >= 0 && !c->joined && now_ns >= c->join_sent_ns &&
	       now_ns - c->join_sent_ns > FG_PHX_JOIN_TIMEOUT_MS * ns_per_ms;
}

uint64_t fg_phx_heartbeat_due_at(const struct fg_phx_conn *c)
{
	return c->hb_next_ns;
}

bool fg_phx_heartbeat_due(const struct fg_phx_conn *c, uint64_t now_ns)
{
	return now_ns >= c->hb_next_ns;
}

bool fg_phx_heartbeat_acked(struct fg_phx_conn *c, int64_t ref)
{
	for (unsigned i = 0; i < c->hb_tracked; i++) {
		if (c->hb_refs[i] != ref)
			continue;
		/* The portal answers in order: every older heartbeat is answered too. */
		memmove(c->hb_refs, c->hb_refs + i + 1, (c->hb_tracked - i - 1) * sizeof(c->hb_refs[0]));
		c->hb_tracked -= i + 1;
		c->hb_unanswered = c->hb_tracked;
		return true;
	}
	return false;
}

bool fg_phx_heartbeat_overdue(const struct fg_phx_conn *c)
{
	return c->hb_unanswered > FG_PHX_MAX_UNANSWERED;
}

static enum fg_phx_action handle_reply(struct fg_phx_conn *c, const struct fg_phx_in *m)
{
	const char *reason;
	int64_t ref;

	if (!fg_phx_in_ref(m, &ref))
		return FG_PHX_ACT_IGNORE;
	if (!strcmp(m->reply_status, "ok")) {
		if (c->join_ref >= 0 && ref == c->join_ref && !c->joined) {
			c->joined = true;
			return FG_PHX_ACT_JOINED;
		}
		fg_phx_heartbeat_acked(c, ref);
		return FG_PHX_ACT_IGNORE;
	}
	if (strcmp(m->reply_status, "error"))
		return FG_PHX_ACT_IGNORE;
	if (c->join_ref >= 0 && ref == c->join_ref && !c->joined && !strcmp(m->topic, join_topic))
		return FG_PHX_ACT_LOGIN_FAILED;
	reason = fg_phx_reply_reason(m);
	if (reason && !strcmp(reason, "unmatched topic"))
		return FG_PHX_ACT_REJOIN;
	return FG_PHX_ACT_ERROR_REPLY;
}

enum fg_phx_action fg_phx_handle(struct fg_phx_conn *c, const struct fg_phx_in *m)
{
	const cJSON *reason;

	if (m->is_reply)
		return handle_reply(c, m);
	if (!strcmp(m->event, "phx_error"))
		return FG_PHX_ACT_IGNORE;
	if (!strcmp(m->event, "phx_close"))
		return FG_PHX_ACT_RECONNECT;
	if (!strcmp(m->event, "disconnect")) {
		reason = cJSON_IsObject(m->payload)
			 ? cJSON_GetObjectItemCaseSensitive(m->payload, "reason") : NULL;
		if (cJSON_IsString(reason) && !strcmp(reason->valuestring, "token_expired"))
			return FG_PHX_ACT_TOKEN_EXPIRED;
		return FG_PHX_ACT_IGNORE;
	}
	return FG_PHX_ACT_MESSAGE;
}

const char *fg_phx_action_name(enum fg_phx_action a)
{
	switch (a) {
	case FG_PHX_ACT_IGNORE: return "ignore";
	case FG_PHX_ACT_MESSAGE: return "message";
	case FG_PHX_ACT_JOINED: return "joined";
	case FG_PHX_ACT_LOGIN_FAILED: return "login failed";
	case FG_PHX_ACT_REJOIN: return "rejoin";
	case FG_PHX_ACT_ERROR_REPLY: return "error reply";
	case FG_PHX_ACT_RECONNECT: return "reconnect";
	case FG_PHX_ACT_TOKEN_EXPIRED: return "token expired";
	}
	return "?";
}

static struct fg_phx_pending *slot(struct fg_phx_conn *c, unsigned i)
{
	return &c->queue[(c->q_head + i) % c->q_cap];
}

/* Doubles the ring, unwrapping it so that the oldest message is at index 0. */
static int grow(struct fg_phx_conn *c)
{
	unsigned cap = c->q_cap ? c->q_cap * 2 : 32;
	struct fg_phx_pending *q;

	if (cap < c->q_cap)
		return -ENOMEM;
	q = calloc(cap, sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (unsigned i = 0; i < c->q_len; i++)
		q[i] = *slot(c, i);
	free(c->queue);
	c->queue = q;
	c->q_cap = cap;
	c->q_head = 0;
	return 0;
}

int fg_phx_queue_push(struct fg_phx_conn *c, const char *topic, const char *event,
		      const cJSON *payload)
{
	struct fg_phx_pending *p;
	char *body;

	if (!name_ok(topic) || !name_ok(event))
		return -EINVAL;
	body = payload ? cJSON_PrintUnformatted(payload) : strdup("null");
	if (!body)
		return -ENOMEM;
	for (unsigned i = 0; i < c->q_len; i++) {
		p = slot(c, i);
		if (!strcmp(p->topic, topic) && !strcmp(p->event, event) && !strcmp(p->payload, body)) {
			free(body);
			return -EALREADY;
		}
	}
	size_t bytes = strlen(body) + 1;

	if (c->q_bytes + bytes > FG_PHX_QUEUE_MAX_BYTES) {
		free(body);
		return -ENOBUFS;
	}
	if (c->q_len == c->q_cap && grow(c) < 0) {
		free(body);
		return -ENOMEM;
	}
	p = slot(c, c->q_len++);
	strcpy(p->topic, topic);
	strcpy(p->event, event);
	p->payload = body;
	c->q_bytes += bytes;
	return 0;
}

char *fg_phx_queue_pop(struct fg_phx_conn *c, int64_t *ref_out)
{
	struct fg_phx_pending *p;
	char *out;

	if (!c->q_len || !c->joined)
		return NULL;
	p = slot(c, 0);
	out = frame(p->topic, p->event, p->payload, c->next_ref);
	if (!out)
		return NULL;
	if (ref_out)
		*ref_out = c->next_ref;
	c->next_ref++;
	c->q_bytes -= strlen(p->payload) + 1;
	free(p->payload);
	memset(p, 0, sizeof(*p));
	c->q_head = (c->q_head + 1) % c->q_cap;
	c->q_len--;
	return out;
}

size_t fg_phx_queue_len(const struct fg_phx_conn *c)
{
	return c->q_len;
}

void fg_phx_queue_clear(struct fg_phx_conn *c)
{
	while (c->q_len) {
		struct fg_phx_pending *p = slot(c, 0);

		free(p->payload);
		memset(p, 0, sizeof(*p));
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
	}
	c->q_head = 0;
	c->q_bytes = 0;
}
