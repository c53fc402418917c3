// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/portal/phoenix.c: the exact join and heartbeat frames of reference
 * §2.2, inbound frames taken from the reference and from Firezone's own phoenix-channel
 * tests, a table of hostile frames that must all be refused with a reason, random
 * mutations of good frames (seeded, so every run is the same) that must never crash, and
 * the join / heartbeat / queue state machine driven with an injected clock.
 * Single-threaded.
 */
#include "phoenix.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint64_t sec = 1000000000ull;

enum { MUTATION_ROUNDS = 20000 };

static int decode(const char *text, struct fg_phx_in *m)
{
	char err[160];

	return fg_phx_decode(text, strlen(text), m, err, sizeof(err));
}

static void test_join_and_heartbeat_frames(void)
{
	struct fg_phx_conn c;
	int64_t ref = -1;
	char *s;

	fg_phx_conn_init(&c);
	fg_phx_conn_reset(&c, 0);
	s = fg_phx_join(&c, 0);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"phx_join\",\"payload\":null,\"ref\":0}");
	free(s);
	s = fg_phx_heartbeat(&c, 10 * sec);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"phoenix\",\"event\":\"heartbeat\",\"payload\":{},\"ref\":1}");
	free(s);

	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "ref", "a\"b\\c");
	s = fg_phx_encode(&c, "gateway", "authorization_created", p, &ref);
	CU_ASSERT_EQUAL(ref, 2);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"authorization_created\","
				  "\"payload\":{\"ref\":\"a\\\"b\\\\c\"},\"ref\":2}");
	free(s);
	cJSON_Delete(p);

	/* Topics and events are never escaped, so anything needing it is refused. */
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_phx_encode(&c, "gate\"way", "x", NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(fg_phx_encode(&c, "", "x", NULL, NULL));
	CU_ASSERT_PTR_NULL(fg_phx_encode(&c, "gateway", "a b", NULL, NULL));
	CU_ASSERT_PTR_NULL(fg_phx_encode(&c, "gateway", NULL, NULL, NULL));
	CU_ASSERT_EQUAL(c.next_ref, 3);

	/* A new connection counts from 0 again. */
	fg_phx_conn_reset(&c, 100 * sec);
	s = fg_phx_join(&c, 100 * sec);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"phx_join\",\"payload\":null,\"ref\":0}");
	free(s);
	fg_phx_conn_free(&c);
}

static void test_decode_good(void)
{
	struct fg_phx_in m;
	int64_t ref;

	/* Reference §2.2: the join reply. */
	CU_ASSERT_EQUAL_FATAL(decode("{\"event\":\"phx_reply\",\"topic\":\"gateway\",\"ref\":0,"
				     "\"payload\":{\"status\":\"ok\",\"response\":{}}}", &m), 0);
	CU_ASSERT_STRING_EQUAL(m.topic, "gateway");
	CU_ASSERT_STRING_EQUAL(m.event, "phx_reply");
	CU_ASSERT_TRUE(m.is_reply);
	CU_ASSERT_STRING_EQUAL(m.reply_status, "ok");
	CU_ASSERT_TRUE(cJSON_IsObject(m.reply_response));
	CU_ASSERT_EQUAL(m.ref_kind, FG_PHX_REF_NUM);
	CU_ASSERT_TRUE(fg_phx_in_ref(&m, &ref) && ref == 0);
	fg_phx_in_free(&m);
	CU_ASSERT_PTR_NULL(m.root);
	fg_phx_in_free(&m);  /* twice is harmless */
	fg_phx_in_free(NULL);

	/* Firezone's phoenix-channel tests: a broadcast with join_ref, a string ref. */
	CU_ASSERT_EQUAL_FATAL(decode("{\n  \"topic\": \"room:lobby\", \"ref\": null,\n"
				     "  \"payload\": { \"hello\": \"world\" }, \"join_ref\": null,\n"
				     "  \"event\": \"shout\"\n}\n", &m), 0);
	CU_ASSERT_EQUAL(m.ref_kind, FG_PHX_REF_NULL);
	CU_ASSERT_FALSE(fg_phx_in_ref(&m, &ref));
	CU_ASSERT_FALSE(m.is_reply);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(m.payload, "hello")->valuestring, "world");
	fg_phx_in_free(&m);

	CU_ASSERT_EQUAL_FATAL(decode("{\"event\":\"phx_reply\",\"ref\":\"12\",\"topic\":\"client\","
				     "\"payload\":{\"status\":\"error\",\"response\":{\"reason\":\"unmatched topic\"}}}",
				     &m), 0);
	CU_ASSERT_EQUAL(m.ref_kind, FG_PHX_REF_STR);
	CU_ASSERT_STRING_EQUAL(m.ref_str, "12");
	CU_ASSERT_TRUE(fg_phx_in_ref(&m, &ref) && ref == 12);
	CU_ASSERT_STRING_EQUAL(fg_phx_reply_reason(&m), "unmatched topic");
	fg_phx_in_free(&m);

	/* Reference §2.4: portal messages carry "ref":null; a missing ref is null too. */
	CU_ASSERT_EQUAL_FATAL(decode("{\"topic\":\"gateway\",\"event\":\"reject_access\",\"payload\":"
				     "{\"client_id\":\"3abd\",\"resource_id\":\"c779\"},\"ref\":null}", &m), 0);
	CU_ASSERT_EQUAL(m.ref_kind, FG_PHX_REF_NULL);
	CU_ASSERT_PTR_NULL(fg_phx_reply_reason(&m));
	fg_phx_in_free(&m);
	CU_ASSERT_EQUAL(decode("{\"topic\":\"gateway\",\"event\":\"x\",\"payload\":null}", &m), 0);
	CU_ASSERT_TRUE(cJSON_IsNull(m.payload));
	fg_phx_in_free(&m);

	/* Non-numeric string refs are kept but are not ours. */
	CU_ASSERT_EQUAL(decode("{\"topic\":\"t\",\"event\":\"e\",\"payload\":1,\"ref\":\"abc\"}", &m), 0);
	CU_ASSERT_FALSE(fg_phx_in_ref(&m, &ref));
	fg_phx_in_free(&m);
	CU_ASSERT_EQUAL(decode("{\"topic\":\"t\",\"event\":\"e\",\"payload\":1,\"ref\":-3}", &m), 0);
	CU_ASSERT_TRUE(fg_phx_in_ref(&m, &ref) && ref == -3);
	fg_phx_in_free(&m);
	CU_ASSERT_EQUAL(decode("{\"topic\":\"t\",\"event\":\"e\",\"payload\":1,\"ref\":9007199254740992}", &m), 0);
	fg_phx_in_free(&m);

	/* A frame need not be NUL-terminated. */
	static const char unterminated[] = "{\"topic\":\"t\",\"event\":\"e\",\"payload\":{}}GARBAGE";

	CU_ASSERT_EQUAL(fg_phx_decode(unterminated, sizeof(unterminated) - 1 - 7, &m, NULL, 0), 0);
	fg_phx_in_free(&m);
}

static char *nested(unsigned depth)
{
	size_t n = strlen("{\"topic\":\"t\",\"event\":\"e\",\"payload\":}") + 2 * depth + 1;
	char *s = malloc(n), *p = s;

	p += sprintf(p, "{\"topic\":\"t\",\"event\":\"e\",\"payload\":");
	for (unsigned i = 0; i < depth; i++)
		*p++ = '[';
	for (unsigned i = 0; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}");
	return s;
}

static void test_decode_hostile(void)
{
	static const char *const cases[] = {
		"",
		" ",
		"null",
		"[]",
		"1",
		"\"topic\"",
		"{",
		"{}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{}} x",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{}}{}",
		"{\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t\",\"payload\":{}}",
		"{\"topic\":\"t\",\"event\":\"e\"}",
		"{\"topic\":1,\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":null,\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t\",\"event\":[\"e\"],\"payload\":{}}",
		"{\"topic\":\"\",\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t\",\"event\":\"\",\"payload\":{}}",
		"{\"topic\":\"t\\n\",\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t u\",\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t\\\"\",\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"\\u00e9\",\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t\\u0000x\",\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":\"\\u0000\"}",
		"{\"topic\":\"0123456789012345678901234567890123456789012345678901234567890123\","
		"\"event\":\"e\",\"payload\":{}}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":true}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":{}}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":[0]}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":1.5}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":1e300}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":-1e999}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":9007199254740993e3}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":NaN}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":"
		"\"0123456789012345678901234567890123456789012345678901234567890123\"}",
		"{\"topic\":\"t\",\"event\":\"phx_reply\",\"payload\":null,\"ref\":0}",
		"{\"topic\":\"t\",\"event\":\"phx_reply\",\"payload\":\"ok\",\"ref\":0}",
		"{\"topic\":\"t\",\"event\":\"phx_reply\",\"payload\":{},\"ref\":0}",
		"{\"topic\":\"t\",\"event\":\"phx_reply\",\"payload\":{\"status\":1},\"ref\":0}",
		"{\"topic\":\"t\",\"event\":\"phx_reply\",\"payload\":{\"status\":\"0123456789abcdef\"},\"ref\":0}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":\"\\ud800\"}",
		"{\"topic\":\"t\",\"event\":\"e\",\"payload\":tru}",
		"{'topic':'t','event':'e','payload':{}}",
	};
	struct fg_phx_in m;
	char err[160];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		memset(err, 0, sizeof(err));
		memset(&m, 0xa5, sizeof(m));
		int rc = fg_phx_decode(cases[i], strlen(cases[i]), &m, err, sizeof(err));

		if (rc != -EBADMSG)
			fprintf(stderr, "\ncase %zu accepted (%d): %s\n", i, rc, cases[i]);
		CU_ASSERT_EQUAL(rc, -EBADMSG);
		CU_ASSERT_NOT_EQUAL(err[0], '\0');
		CU_ASSERT_PTR_NULL(m.root);
	}

	/* A NUL byte inside the frame. */
	static const char with_nul[] = "{\"topic\":\"t\",\"event\":\"e\",\"payload\":\"a\0b\"}";

	CU_ASSERT_EQUAL(fg_phx_decode(with_nul, sizeof(with_nul) - 1, &m, err, sizeof(err)), -EBADMSG);
	CU_ASSERT_EQUAL(fg_phx_decode(NULL, 0, &m, err, sizeof(err)), -EBADMSG);

	/* Nesting: the limit is accepted, one more is not, and 100000 levels never recurse. */
	char *s = nested(FG_PHX_MAX_DEPTH - 1);

	CU_ASSERT_EQUAL(decode(s, &m), 0);
	fg_phx_in_free(&m);
	free(s);
	s = nested(FG_PHX_MAX_DEPTH);
	CU_ASSERT_EQUAL(decode(s, &m), -EBADMSG);
	free(s);
	s = nested(100000);
	CU_ASSERT_EQUAL(decode(s, &m), -EBADMSG);
	free(s);

	/* Brackets inside strings do not count as nesting. */
	char deep_str[400];

	snprintf(deep_str, sizeof(deep_str), "{\"topic\":\"t\",\"event\":\"e\",\"payload\":\"%s\"}",
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\\\"[[[[");
	CU_ASSERT_EQUAL(decode(deep_str, &m), 0);
	fg_phx_in_free(&m);

	/* Too large. */
	size_t big = (size_t)FG_PHX_MAX_FRAME + 1;
	char *huge = malloc(big);

	memset(huge, ' ', big);
	CU_ASSERT_EQUAL(fg_phx_decode(huge, big, &m, err, sizeof(err)), -EMSGSIZE);
	free(huge);

	/* Errors never need a buffer. */
	CU_ASSERT_EQUAL(fg_phx_decode("[]", 2, &m, NULL, 0), -EBADMSG);
}

/* A frame whose payload is an array of n items, each item (a "0", "{}" or "[]") followed by
 * a comma but the last: 5 + n values for cJSON (the frame, its 4 members, the items), and
 * as many for the prescan, plus one for each item that opens a container (it cannot tell
 * an empty one). */
static char *array_frame(size_t n, const char *item)
{
	size_t il = strlen(item), cap = 64 + n * (il + 1);
	char *s = malloc(cap), *p = s;

	p += sprintf(p, "{\"topic\":\"t\",\"event\":\"e\",\"ref\":null,\"payload\":[");
	for (size_t i = 0; i < n; i++) {
		memcpy(p, item, il);
		p += il;
		if (i + 1 < n)
			*p++ = ',';
	}
	strcpy(p, "]}");
	return s;
}

/* The prescan bounds the nodes cJSON allocates: at FG_PHX_MAX_VALUES a frame parses, one
 * more is refused before cJSON sees it; commas and brackets inside strings do not count. */
static void test_decode_value_bound(void)
{
	struct fg_phx_in m;
	char err[160];
	char *s;
	int cnt = 0;

	s = array_frame(FG_PHX_MAX_VALUES - 5, "0");
	CU_ASSERT_EQUAL(fg_phx_decode(s, strlen(s), &m, err, sizeof(err)), 0);
	for (const cJSON *it = m.payload ? m.payload->child : NULL; it; it = it->next)
		cnt++;
	CU_ASSERT_EQUAL(cnt, FG_PHX_MAX_VALUES - 5);
	fg_phx_in_free(&m);
	free(s);

	s = array_frame(FG_PHX_MAX_VALUES - 4, "0");
	CU_ASSERT_EQUAL(fg_phx_decode(s, strlen(s), &m, err, sizeof(err)), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than 524288 JSON values"));
	CU_ASSERT_PTR_NULL(m.root);
	free(s);

	/* Empty containers are counted as if they held a value: fewer of them pass. */
	s = array_frame(FG_PHX_MAX_VALUES / 2 - 3, "[]");
	CU_ASSERT_EQUAL(fg_phx_decode(s, strlen(s), &m, err, sizeof(err)), 0);
	fg_phx_in_free(&m);
	free(s);
	s = array_frame(FG_PHX_MAX_VALUES / 2, "{}");
	CU_ASSERT_EQUAL(fg_phx_decode(s, strlen(s), &m, err, sizeof(err)), -EBADMSG);
	free(s);

	/* 2 MiB of commas, brackets and escaped quotes inside one string: one value. */
	size_t n = 2u << 20;
	char *str = malloc(n + 1);

	for (size_t i = 0; i < n; i += 8)
		memcpy(str + i, "\\\",[{}],", 8);
	str[n] = '\0';
	s = malloc(n + 64);
	sprintf(s, "{\"topic\":\"t\",\"event\":\"e\",\"payload\":\"%s\"}", str);
	CU_ASSERT_EQUAL(fg_phx_decode(s, strlen(s), &m, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(cJSON_IsString(m.payload));
	fg_phx_in_free(&m);
	free(s);
	free(str);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: a fixed sequence, so failures reproduce. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void test_decode_mutations(void)
{
	static const char *const seeds[] = {
		"{\"event\":\"phx_reply\",\"topic\":\"gateway\",\"ref\":0,\"payload\":{\"status\":\"ok\",\"response\":{}}}",
		("{\"topic\":\"gateway\",\"event\":\"init\",\"ref\":null,\"payload\":{\"interface\":{\"ipv4\":\"100.64.3.7\"},"
		 "\"relays\":[{\"id\":\"a\",\"addr\":\"[2001:db8::5]:3478\"}],\"x\":[1,2.5e3,true,false,null]}}"),
		"{\"event\":\"disconnect\",\"ref\":null,\"topic\":\"client\",\"payload\":{\"reason\":\"token_expired\"}}",
	};
	static const char alphabet[] = "{}[]\",:\\u0 \x01\x7f\xff" "0123456789.eE-+nultrfa";
	struct fg_phx_in m;
	char buf[512], err[160];
	unsigned ok = 0;

	for (int round = 0; round < MUTATION_ROUNDS; round++) {
		const char *seed = seeds[rng() % ARRAY_LEN(seeds)];
		size_t len = strlen(seed);

		memcpy(buf, seed, len);
		for (unsigned k = 1 + rng() % 4; k && len > 1; k--) {
			size_t at = rng() % len;

			switch (rng() % 3) {
			case 0: /* replace */
				buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
				break;
			case 1: /* delete */
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			default: /* truncate */
				len = at ? at : 1;
				break;
			}
		}
		if (fg_phx_decode(buf, len, &m, err, sizeof(err)) == 0) {
			ok++;
			CU_ASSERT_PTR_NOT_NULL(m.root);
			CU_ASSERT_PTR_NOT_NULL(m.payload);
			CU_ASSERT(m.topic[0] && m.event[0]);
			fg_phx_in_free(&m);
		} else {
			CU_ASSERT_PTR_NULL(m.root);
			CU_ASSERT_NOT_EQUAL(err[0], '\0');
		}
	}
	CU_ASSERT(ok > 0);
}

static enum fg_phx_action feed(struct fg_phx_conn *c, const char *text)
{
	struct fg_phx_in m;
	enum fg_phx_action a;

	if (decode(text, &m) != 0)
		return (enum fg_phx_action)-1;
	a = fg_phx_handle(c, &m);
	fg_phx_in_free(&m);
	return a;
}

static void test_handle(void)
{
	struct fg_phx_conn c;
	char *s;

	fg_phx_conn_init(&c);
	fg_phx_conn_reset(&c, 0);
	free(fg_phx_join(&c, 0));
	CU_ASSERT_FALSE(fg_phx_joined(&c));
	/* A reply to something else does not join; neither does an error reply. */
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":5,"
				 "\"payload\":{\"status\":\"ok\",\"response\":{}}}"), FG_PHX_ACT_IGNORE);
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":null,"
				 "\"payload\":{\"status\":\"ok\",\"response\":{}}}"), FG_PHX_ACT_IGNORE);
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":0,"
				 "\"payload\":{\"status\":\"maybe\"}}"), FG_PHX_ACT_IGNORE);
	CU_ASSERT_FALSE(fg_phx_joined(&c));
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":\"0\","
				 "\"payload\":{\"status\":\"ok\",\"response\":{}}}"), FG_PHX_ACT_JOINED);
	CU_ASSERT_TRUE(fg_phx_joined(&c));
	/* A second ok for the same ref is just a reply. */
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":0,"
				 "\"payload\":{\"status\":\"ok\",\"response\":{}}}"), FG_PHX_ACT_IGNORE);

	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"init\",\"ref\":null,\"payload\":{}}"),
			FG_PHX_ACT_MESSAGE);
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_error\",\"ref\":null,\"payload\":{}}"),
			FG_PHX_ACT_IGNORE);
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_close\",\"ref\":null,\"payload\":{}}"),
			FG_PHX_ACT_RECONNECT);
	CU_ASSERT_EQUAL(feed(&c, "{\"event\":\"disconnect\",\"ref\":null,\"topic\":\"client\","
				 "\"payload\":{\"reason\":\"token_expired\"}}"), FG_PHX_ACT_TOKEN_EXPIRED);
	CU_ASSERT_EQUAL(feed(&c, "{\"event\":\"disconnect\",\"ref\":null,\"topic\":\"client\","
				 "\"payload\":{\"reason\":\"other\"}}"), FG_PHX_ACT_IGNORE);
	CU_ASSERT_EQUAL(feed(&c, "{\"event\":\"disconnect\",\"ref\":null,\"topic\":\"gateway\","
				 "\"payload\":null}"), FG_PHX_ACT_IGNORE);
	CU_ASSERT_EQUAL(feed(&c, "{\"event\":\"phx_reply\",\"ref\":\"12\",\"topic\":\"gateway\",\"payload\":"
				 "{\"status\":\"error\",\"response\":{\"reason\":\"unmatched topic\"}}}"),
			FG_PHX_ACT_REJOIN);
	CU_ASSERT_EQUAL(feed(&c, "{\"event\":\"phx_reply\",\"ref\":7,\"topic\":\"gateway\",\"payload\":"
				 "{\"status\":\"error\",\"response\":{\"reason\":\"bad reply\"}}}"),
			FG_PHX_ACT_ERROR_REPLY);
	CU_ASSERT_EQUAL(feed(&c, "{\"event\":\"phx_reply\",\"ref\":7,\"topic\":\"gateway\",\"payload\":"
				 "{\"status\":\"error\"}}"), FG_PHX_ACT_ERROR_REPLY);

	/* Rejoin after "unmatched topic": the new join has a new ref; its error is fatal. */
	s = fg_phx_join(&c, 20 * sec);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"ref\":1}"));
	free(s);
	CU_ASSERT_FALSE(fg_phx_joined(&c));
	CU_ASSERT_EQUAL(feed(&c, "{\"event\":\"phx_reply\",\"ref\":1,\"topic\":\"gateway\",\"payload\":"
				 "{\"status\":\"error\",\"response\":{\"reason\":\"disabled\"}}}"),
			FG_PHX_ACT_LOGIN_FAILED);
	fg_phx_conn_free(&c);

	for (int a = FG_PHX_ACT_IGNORE; a <= FG_PHX_ACT_TOKEN_EXPIRED; a++)
		CU_ASSERT_STRING_NOT_EQUAL(fg_phx_action_name((enum fg_phx_action)a), "?");
}

static void test_join_timeout(void)
{
	struct fg_phx_conn c;

	fg_phx_conn_init(&c);
	fg_phx_conn_reset(&c, 50 * sec);
	CU_ASSERT_FALSE(fg_phx_join_overdue(&c, 1000 * sec));  /* nothing sent yet */
	free(fg_phx_join(&c, 50 * sec));
	CU_ASSERT_FALSE(fg_phx_join_overdue(&c, 55 * sec));
	CU_ASSERT_TRUE(fg_phx_join_overdue(&c, 55 * sec + 1));
	CU_ASSERT_EQUAL(feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":0,"
				 "\"payload\":{\"status\":\"ok\",\"response\":{}}}"), FG_PHX_ACT_JOINED);
	CU_ASSERT_FALSE(fg_phx_join_overdue(&c, 1000 * sec));
	fg_phx_conn_free(&c);
}

static void test_heartbeats(void)
{
	struct fg_phx_conn c;
	int64_t refs[6];

	fg_phx_conn_init(&c);
	fg_phx_conn_reset(&c, 7 * sec);
	CU_ASSERT_EQUAL(fg_phx_heartbeat_due_at(&c), 17 * sec);
	free(fg_phx_join(&c, 8 * sec));
	CU_ASSERT_EQUAL(fg_phx_heartbeat_due_at(&c), 18 * sec);
	CU_ASSERT_FALSE(fg_phx_heartbeat_due(&c, 18 * sec - 1));
	CU_ASSERT_TRUE(fg_phx_heartbeat_due(&c, 18 * sec));
	feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":0,\"payload\":{\"status\":\"ok\"}}");

	/* Four unanswered heartbeats are "more than 3". */
	for (int i = 0; i < 4; i++) {
		uint64_t now = (uint64_t)(18 + 10 * i) * sec;

		refs[i] = c.next_ref;
		CU_ASSERT_FALSE(fg_phx_heartbeat_overdue(&c));
		free(fg_phx_heartbeat(&c, now));
		CU_ASSERT_EQUAL(fg_phx_heartbeat_due_at(&c), now + 10 * sec);
	}
	CU_ASSERT_TRUE(fg_phx_heartbeat_overdue(&c));
	/* Answering the second answers the first too; two remain. */
	char reply[160];

	snprintf(reply, sizeof(reply), "{\"topic\":\"phoenix\",\"event\":\"phx_reply\",\"ref\":%lld,"
		 "\"payload\":{\"status\":\"ok\",\"response\":{}}}", (long long)refs[1]);
	CU_ASSERT_EQUAL(feed(&c, reply), FG_PHX_ACT_IGNORE);
	CU_ASSERT_EQUAL(c.hb_unanswered, 2);
	CU_ASSERT_FALSE(fg_phx_heartbeat_acked(&c, refs[0]));  /* already answered */
	CU_ASSERT_FALSE(fg_phx_heartbeat_acked(&c, 0));        /* the join, not a heartbeat */
	CU_ASSERT_TRUE(fg_phx_heartbeat_acked(&c, refs[3]));
	CU_ASSERT_EQUAL(c.hb_unanswered, 0);
	CU_ASSERT_FALSE(fg_phx_heartbeat_overdue(&c));

	/* Far more unanswered heartbeats than are tracked still count, and the newest ack clears. */
	for (int i = 0; i < 3 * FG_PHX_HB_TRACK; i++)
		free(fg_phx_heartbeat(&c, 100 * sec));
	CU_ASSERT_EQUAL(c.hb_unanswered, 3 * FG_PHX_HB_TRACK);
	CU_ASSERT_TRUE(fg_phx_heartbeat_acked(&c, c.next_ref - 1));
	CU_ASSERT_EQUAL(c.hb_unanswered, 0);

	/* A reset forgets them. */
	for (int i = 0; i < 5; i++)
		free(fg_phx_heartbeat(&c, 200 * sec));
	fg_phx_conn_reset(&c, 300 * sec);
	CU_ASSERT_FALSE(fg_phx_heartbeat_overdue(&c));
	fg_phx_conn_free(&c);
}

static void test_queue(void)
{
	struct fg_phx_conn c;
	cJSON *p = cJSON_CreateObject();
	int64_t ref = -1;
	char *s;

	fg_phx_conn_init(&c);
	cJSON_AddStringToObject(p, "ref", "R1");
	/* Queued while disconnected: dropped when the next connection starts (as the Rust
	 * gateway's NotConnected), so that connection starts with the join and
	 * set_snownet_capabilities. */
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "authorization_created", p), 0);
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "flow_authorized", p), 0);
	fg_phx_conn_reset(&c, 0);
	CU_ASSERT_EQUAL(fg_phx_queue_len(&c), 0);
	s = fg_phx_join(&c, 0);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"phx_join\",\"payload\":null,\"ref\":0}");
	free(s);
	feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":0,\"payload\":{\"status\":\"ok\"}}");
	CU_ASSERT_PTR_NULL(fg_phx_queue_pop(&c, &ref));
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "set_snownet_capabilities", NULL), 0);
	s = fg_phx_queue_pop(&c, &ref);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"set_snownet_capabilities\","
				  "\"payload\":null,\"ref\":1}");
	CU_ASSERT_EQUAL(ref, 1);
	free(s);
	CU_ASSERT_PTR_NULL(fg_phx_queue_pop(&c, &ref));

	/* Queued on this connection before the join reply: held until joined. */
	fg_phx_conn_reset(&c, 0);
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "authorization_created", p), 0);
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "authorization_created", p), -EALREADY);
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "flow_authorized", p), 0);
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "no_relays", NULL), 0);
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "no_relays", NULL), -EALREADY);
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gate way", "no_relays", NULL), -EINVAL);
	CU_ASSERT_EQUAL(fg_phx_queue_len(&c), 3);
	CU_ASSERT_PTR_NULL(fg_phx_queue_pop(&c, &ref));
	s = fg_phx_join(&c, 0);
	free(s);
	CU_ASSERT_PTR_NULL(fg_phx_queue_pop(&c, &ref));
	feed(&c, "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":0,\"payload\":{\"status\":\"ok\"}}");
	free(fg_phx_heartbeat(&c, 1));  /* ref 1 */
	s = fg_phx_queue_pop(&c, &ref);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"authorization_created\","
				  "\"payload\":{\"ref\":\"R1\"},\"ref\":2}");
	CU_ASSERT_EQUAL(ref, 2);
	free(s);
	/* Once sent, the same message may be queued again. */
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "authorization_created", p), 0);
	s = fg_phx_queue_pop(&c, NULL);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"flow_authorized\","
				  "\"payload\":{\"ref\":\"R1\"},\"ref\":3}");
	free(s);
	s = fg_phx_queue_pop(&c, NULL);
	CU_ASSERT_STRING_EQUAL(s, "{\"topic\":\"gateway\",\"event\":\"no_relays\",\"payload\":null,\"ref\":4}");
	free(s);
	s = fg_phx_queue_pop(&c, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"ref\":5}"));
	free(s);
	CU_ASSERT_PTR_NULL(fg_phx_queue_pop(&c, NULL));
	CU_ASSERT_EQUAL(fg_phx_queue_len(&c), 0);

	/* No cap on the count: a burst of 500 leaves in order, through growth of a wrapped
	 * ring (pop some first so that it wraps before it grows). */
	for (int round = 0; round < 3; round++) {
		int64_t next = 0, want = 0;

		for (int i = 0; i < 20; i++) {
			cJSON_ReplaceItemInObject(p, "ref", cJSON_CreateNumber((double)next++));
			CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "e", p), 0);
		}
		for (int i = 0; i < 10 + round; i++) {
			char exp[64];

			s = fg_phx_queue_pop(&c, NULL);
			snprintf(exp, sizeof(exp), "\"payload\":{\"ref\":%lld}", (long long)want++);
			CU_ASSERT_PTR_NOT_NULL(s && strstr(s, exp));
			free(s);
		}
		for (int i = 0; i < 500; i++) {
			cJSON_ReplaceItemInObject(p, "ref", cJSON_CreateNumber((double)next++));
			CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "e", p), 0);
		}
		CU_ASSERT_EQUAL(fg_phx_queue_len(&c), (size_t)(next - want));
		while ((s = fg_phx_queue_pop(&c, NULL))) {
			char exp[64];

			snprintf(exp, sizeof(exp), "\"payload\":{\"ref\":%lld}", (long long)want++);
			CU_ASSERT_PTR_NOT_NULL(strstr(s, exp));
			free(s);
		}
		CU_ASSERT_EQUAL(want, next);
		CU_ASSERT_EQUAL(fg_phx_queue_len(&c), 0);
	}
	/* Bounded in bytes only: past FG_PHX_QUEUE_MAX_BYTES the push fails (the portal then
	 * resets the connection); clearing makes room again. */
	{
		size_t big = 1 << 20;
		char *blob = malloc(big);
		int pushed = 0, r = 0;

		memset(blob, 'x', big - 1);
		blob[big - 1] = '\0';
		cJSON_ReplaceItemInObject(p, "ref", cJSON_CreateString(blob));
		for (int i = 0; i < 200 && r == 0; i++) {
			cJSON_DeleteItemFromObject(p, "n");
			cJSON_AddNumberToObject(p, "n", i);
			if ((r = fg_phx_queue_push(&c, "gateway", "e", p)) == 0)
				pushed++;
		}
		CU_ASSERT_EQUAL(r, -ENOBUFS);
		CU_ASSERT(pushed >= 60 && pushed <= 64);
		fg_phx_queue_clear(&c);
		CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "e", p), 0);
		fg_phx_queue_clear(&c);
		cJSON_DeleteItemFromObject(p, "n");
		free(blob);
	}
	CU_ASSERT_EQUAL(fg_phx_queue_push(&c, "gateway", "e", p), 0);
	fg_phx_conn_free(&c);  /* frees what is queued */
	CU_ASSERT_EQUAL(fg_phx_queue_len(&c), 0);
	cJSON_Delete(p);
}

static void test_round_trip(void)
{
	struct fg_phx_conn c;
	struct fg_phx_in m;
	cJSON *p = cJSON_CreateObject();
	int64_t ref;
	char *s;

	fg_phx_conn_init(&c);
	c.next_ref = 123456789012;
	cJSON_AddStringToObject(p, "k", "v\n\"\\\u00e9");
	s = fg_phx_encode(&c, "gateway", "broadcast_ice_candidates", p, NULL);
	CU_ASSERT_EQUAL_FATAL(decode(s, &m), 0);
	CU_ASSERT_STRING_EQUAL(m.topic, "gateway");
	CU_ASSERT_STRING_EQUAL(m.event, "broadcast_ice_candidates");
	CU_ASSERT_TRUE(fg_phx_in_ref(&m, &ref) && ref == 123456789012);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(m.payload, "k")->valuestring, "v\n\"\\\u00e9");
	fg_phx_in_free(&m);
	free(s);
	cJSON_Delete(p);
	fg_phx_conn_free(&c);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "join and heartbeat frames", test_join_and_heartbeat_frames },
		{ "decode good", test_decode_good },
		{ "decode hostile", test_decode_hostile },
		{ "decode mutations", test_decode_mutations },
		{ "decode value bound", test_decode_value_bound },
		{ "handle", test_handle },
		{ "join timeout", test_join_timeout },
		{ "heartbeats", test_heartbeats },
		{ "queue", test_queue },
		{ "round trip", test_round_trip },
	};

	return fg_cunit_run("phoenix", tests, sizeof(tests) / sizeof(tests[0]));
}
