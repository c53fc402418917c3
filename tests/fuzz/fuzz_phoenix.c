// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the Phoenix frame decoder and encoder (controlplane/portal/phoenix.c)
 * on any bytes, as a text frame from the portal's WebSocket would be, checked for round
 * trips (fuzz_phx_frame.c checks the decoder's bounds). The decoder answers 0, -EBADMSG or
 * -EMSGSIZE with a reason; on failure the frame holds nothing to free. What decodes keeps
 * to its documented shape: topic and event 1..63 printable ASCII bytes without quote or
 * backslash, a payload, a ref as its kind says (a number exact below 2^53, or a string
 * under 64 bytes), a reply exactly when the event is phx_reply, with an object payload and
 * a status under 16 bytes. fg_phx_in_ref() must agree with a naive reading of the ref. The
 * frame is encoded again (with its own numeric ref when it has one) and must decode to the
 * same topic, event, ref, reply status and payload (member by member; skipped for
 * payloads holding numbers JSON cannot write back, inf and nan); it is queued twice (the
 * second refused as a duplicate) and popped after a join, which must give the same frame
 * again. fg_phx_handle() on a fresh connection answers one of its actions. Any broken
 * invariant aborts. No state between inputs.
 *
 *   scripts/fuzz.sh 60 phoenix     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/phoenix/ (tests/fuzz/corpus/gen_cp_seeds.py).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phoenix.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The portal's answer to our join (ref 0), as it sends it. */
static const char join_ok[] = "{\"topic\":\"gateway\",\"event\":\"phx_reply\","
			      "\"payload\":{\"status\":\"ok\",\"response\":{}},\"ref\":\"0\"}";

/* A topic or event as the decoder documents them. */
static void name_in_range(const char *s)
{
	size_t n = strnlen(s, FG_PHX_NAME_LEN);

	CHECK(n > 0 && n < FG_PHX_NAME_LEN);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\');
}

/* Numbers that cJSON prints as null: their payload cannot come back the same. */
static bool writable(const cJSON *it)
{
	for (; it; it = it->next) {
		if (cJSON_IsNumber(it) && !isfinite(it->valuedouble))
			return false;
		if (it->child && !writable(it->child))
			return false;
	}
	return true;
}

/* The naive reading of a ref as one of our integer refs. */
static bool naive_ref(const struct fg_phx_in *m, int64_t *out)
{
	size_t n;

	if (m->ref_kind == FG_PHX_REF_NUM) {
		*out = m->ref_num;
		return true;
	}
	if (m->ref_kind != FG_PHX_REF_STR)
		return false;
	n = strlen(m->ref_str);
	if (n == 0 || n > 15 || strspn(m->ref_str, "0123456789") != n)
		return false;
	*out = strtoll(m->ref_str, NULL, 10);
	return true;
}

static void in_range(const struct fg_phx_in *m)
{
	int64_t a = -1, b = -2;
	bool ha, hb;

	name_in_range(m->topic);
	name_in_range(m->event);
	CHECK(m->root && cJSON_IsObject(m->root) && m->payload);
	CHECK(m->ref_kind == FG_PHX_REF_NULL || m->ref_kind == FG_PHX_REF_NUM || m->ref_kind == FG_PHX_REF_STR);
	if (m->ref_kind == FG_PHX_REF_NUM)
		CHECK(m->ref_num >= -9007199254740992LL && m->ref_num <= 9007199254740992LL);
	CHECK(memchr(m->ref_str, '\0', sizeof(m->ref_str)));
	CHECK(m->is_reply == !strcmp(m->event, "phx_reply"));
	if (m->is_reply) {
		CHECK(cJSON_IsObject(m->payload));
		CHECK(memchr(m->reply_status, '\0', sizeof(m->reply_status)));
		CHECK(m->reply_response == cJSON_GetObjectItemCaseSensitive(m->payload, "response"));
	} else {
		CHECK(!m->reply_status[0] && !m->reply_response);
	}
	ha = fg_phx_in_ref(m, &a);
	hb = naive_ref(m, &b);
	CHECK(ha == hb && (!ha || a == b));
	if (fg_phx_reply_reason(m))
		CHECK(m->is_reply);
}

/*
 * The same JSON value, member by member in order (cJSON_Compare looks members up by key,
 * which a repeated key defeats); numbers as cJSON writes them back, within its precision.
 */
static bool same_value(const cJSON *a, const cJSON *b)
{
	double x, y;

	if ((a->type & 0xFF) != (b->type & 0xFF) || !a->string != !b->string ||
	    (a->string && strcmp(a->string, b->string)))
		return false;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsNumber(a)) {
		x = a->valuedouble;
		y = b->valuedouble;
		return fabs(x - y) <= fmax(fabs(x), fabs(y)) * DBL_EPSILON;
	}
	for (a = a->child, b = b->child; a && b; a = a->next, b = b->next)
		if (!same_value(a, b))
			return false;
	return !a && !b;
}

static void same(const struct fg_phx_in *a, const struct fg_phx_in *b, bool cmp_payload)
{
	CHECK(!strcmp(a->topic, b->topic) && !strcmp(a->event, b->event));
	CHECK(a->is_reply == b->is_reply && !strcmp(a->reply_status, b->reply_status));
	if (cmp_payload)
		CHECK(same_value(a->payload, b->payload));
}

/* Our frame of m, decoded: the same frame, with our integer ref. */
static void reencode(const struct fg_phx_in *m, bool cmp_payload)
{
	int64_t want = m->ref_kind == FG_PHX_REF_NUM && m->ref_num >= 0 ? m->ref_num : 0, ref = -1;
	struct fg_phx_conn c;
	struct fg_phx_in back;
	char err[160];
	char *text;

	fg_phx_conn_init(&c);
	c.next_ref = want;
	text = fg_phx_encode(&c, m->topic, m->event, m->payload, &ref);
	CHECK(text);
	CHECK(ref == want && c.next_ref == ref + 1);
	CHECK(fg_phx_decode(text, strlen(text), &back, err, sizeof(err)) == 0);
	same(m, &back, cmp_payload);
	CHECK(back.ref_kind == FG_PHX_REF_NUM && back.ref_num == ref);
	fg_phx_in_free(&back);
	free(text);
	fg_phx_conn_free(&c);
}

/* Queued twice (a duplicate the second time), nothing leaves before the join, then the
 * same frame with the next ref after it. */
static void queue(const struct fg_phx_in *m, bool cmp_payload)
{
	struct fg_phx_conn c;
	struct fg_phx_in back, j;
	int64_t ref = -1, jref = -1;
	char *text, *join;
	char err[160];

	fg_phx_conn_init(&c);
	fg_phx_conn_reset(&c, 1000);
	CHECK(fg_phx_queue_push(&c, m->topic, m->event, m->payload) == 0);
	CHECK(fg_phx_queue_push(&c, m->topic, m->event, m->payload) == -EALREADY);
	CHECK(fg_phx_queue_len(&c) == 1);
	CHECK(!fg_phx_queue_pop(&c, &ref));
	join = fg_phx_join(&c, 2000);
	CHECK(join);
	CHECK(fg_phx_decode(join, strlen(join), &j, err, sizeof(err)) == 0);
	CHECK(fg_phx_in_ref(&j, &jref) && jref == 0);
	free(join);
	fg_phx_in_free(&j);
	CHECK(fg_phx_decode(join_ok, sizeof(join_ok) - 1, &j, err, sizeof(err)) == 0);
	CHECK(fg_phx_handle(&c, &j) == FG_PHX_ACT_JOINED && fg_phx_joined(&c));
	fg_phx_in_free(&j);
	text = fg_phx_queue_pop(&c, &ref);
	CHECK(text && ref == 1 && fg_phx_queue_len(&c) == 0);
	CHECK(fg_phx_decode(text, strlen(text), &back, err, sizeof(err)) == 0);
	same(m, &back, cmp_payload);
	CHECK(back.ref_kind == FG_PHX_REF_NUM && back.ref_num == 1);
	fg_phx_in_free(&back);
	free(text);
	fg_phx_conn_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_phx_conn c;
	struct fg_phx_in m;
	enum fg_phx_action act;
	char err[160];
	bool cmp;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = fg_phx_decode((const char *)data, size, &m, err, sizeof(err));
	CHECK(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
	CHECK(memchr(err, '\0', sizeof(err)));
	if (rc) {
		/* Nothing to free, and freeing it anyway is harmless. */
		CHECK(err[0] && !m.root && !m.payload && !m.reply_response);
		fg_phx_in_free(&m);
		return 0;
	}
	CHECK(!err[0]);
	in_range(&m);
	fg_phx_conn_init(&c);
	act = fg_phx_handle(&c, &m);
	CHECK(act >= FG_PHX_ACT_IGNORE && act <= FG_PHX_ACT_TOKEN_EXPIRED);
	CHECK(strcmp(fg_phx_action_name(act), "?"));
	/* No join was sent: nothing can answer it. */
	CHECK(act != FG_PHX_ACT_JOINED && act != FG_PHX_ACT_LOGIN_FAILED);
	fg_phx_conn_free(&c);
	cmp = writable(m.payload);
	reencode(&m, cmp);
	queue(&m, cmp);
	fg_phx_in_free(&m);
	CHECK(!m.root);
	return 0;
}
