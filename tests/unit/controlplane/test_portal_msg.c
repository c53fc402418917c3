// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/portal/portal_msg.c. Good payloads are the examples of reference
 * §2.4 copied verbatim (their "…" abbreviations expanded into real-looking values) and the
 * payloads of Firezone's own serde tests (messages/gateway.rs); each message then gets a
 * hostile table built by editing one field of its good payload (wrong types, missing
 * required fields, bad keys, bad addresses, inverted or out-of-range filters, absurd
 * lengths, oversized arrays) and a table of harmless edits (unknown fields) that must
 * still parse. Random byte mutations of the good frames, fed through the Phoenix decoder
 * and every parser, must never crash (the suite runs under ASan/UBSan in CI). Egress
 * builders are compared with the exact JSON the Rust gateway sends. Single-threaded.
 */
#include "portal_msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#include "phoenix.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { MUTATION_ROUNDS = 4000 };

/* Reference §2.4, verbatim. */
static const char ref_init[] =
	"{\"interface\":{\"ipv4\":\"100.64.3.7\",\"ipv6\":\"fd00:2021:1111::3:7\"},\n"
	" \"config\":{\"ipv4_masquerade_enabled\":true,\"ipv6_masquerade_enabled\":true},\n"
	" \"account_slug\":\"acme\",\n"
	" \"relays\":[{\"id\":\"6f1c…\",\"type\":\"turn\",\"addr\":\"198.51.100.5:3478\",\"username\":\"2145916800:q3Jk…\",\"password\":\"x9Zt…\",\"expires_at\":2145916800},\n"
	"           {\"id\":\"6f1c…\",\"type\":\"turn\",\"addr\":\"[2001:db8::5]:3478\",\"username\":\"2145916800:q3Jk…\",\"password\":\"x9Zt…\",\"expires_at\":2145916800}],\n"
	" \"authorizations\":[{\"client_id\":\"3abd…\",\"resource_id\":\"c779…\",\"expires_at\":1767225600}],\n"
	" \"flow_logs\":{\"api_url\":\"https://flow.example\",\"upload_interval_secs\":60,\"upload_batch_size\":1000}}";

static const char ref_create_authorization[] =
	"{\"ref\":\"SFMyNTY.g2gD…\",\n"
	" \"resource\":{\"id\":\"c779…\",\"type\":\"cidr\",\"address\":\"10.20.0.0/16\",\"name\":\"Corp\",\"filters\":[]},\n"
	" \"client\":{\"id\":\"3abd…\",\"public_key\":\"fiAj…=\",\"preshared_key\":\"BzPi…=\",\"ipv4\":\"100.93.74.51\",\"ipv6\":\"fd00:2021:1111::f:853b\",\"version\":\"1.6.0\"},\n"
	" \"gateway_ice_credentials\":{\"username\":\"ejqt\",\"password\":\"zfjrrjdkbci42t2axyd45a\"},\n"
	" \"client_ice_credentials\":{\"username\":\"hgwh\",\"password\":\"j2fqufatn7xlrrvv6fsvea\"},\n"
	" \"expires_at\":1729813989,\"use_iceless\":false,\n"
	" \"flow_logs_ingest_token\":\"eyJhbGciOiJIUzI1NiJ9.…\",\"subject\":{\"actor_id\":\"…\"}}";

static const char ref_ice_candidates[] =
	"{\"client_id\":\"3abd…\",\"candidates\":[\"candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx\"]}";

/* Firezone's messages/gateway.rs tests. */
static const char rust_create_authorization_frame[] =
	"{\"event\":\"create_authorization\",\"ref\":null,\"topic\":\"gateway\",\"payload\":{\"client\":{\"id\":\"3abd725a-733b-4801-ac16-72f26cd98a24\",\"ipv6\":\"fd00:2021:1111::f:853b\",\"public_key\":\"fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH8=\",\"ipv4\":\"100.93.74.51\",\"preshared_key\":\"BzPiNE9qszKczZcZzGsyieLYeJ2EQfkfdibls/l3beM=\"},\"resource\":{\"id\":\"c7793628-8579-465b-83e3-1a5d4af4db3b\",\"name\":\"MyCorp Network\",\"type\":\"cidr\",\"address\":\"172.20.0.0/16\",\"filters\":[]},\"actor\":{\"id\":\"24eb631e-c529-4182-a746-d99ee66f7426\"},\"ref\":\"SFMyNTY.g2gDbQAAAkxnMmdHV0hjVllYQnBRR0Z3YVM1amJIVnpkR1Z5TG14dlkyRnNBQUFEWlFBQUFBQm5FYU9DYUFWWWR4VmhjR2xBWVhCcExtTnNkWE4wWlhJdWJHOWpZV3dBQUFOakFBQUFBR2NSbzRKM0owVnNhWGhwY2k1UWFHOWxibWw0TGxOdlkydGxkQzVXTVM1S1UwOU9VMlZ5YVdGc2FYcGxjbTBBQUFBR1kyeHBaVzUwWVFGaEFHMEFBQUFrWXpjM09UTTJNamd0T0RVM09TMDBOalZpTFRnelpUTXRNV0UxWkRSaFpqUmtZak5pYlFBQUFDQnRTWFZ3TldWUVYwUkRVa1Z3WTNNM2QwaE5VMWREZGxwYWNqQlpTalZCZEhRQUFBQUNkd1pqYkdsbGJuUjBBQUFBQW5jSWRYTmxjbTVoYldWdEFBQUFCR2huZDJoM0NIQmhjM04zYjNKa2JRQUFBQlpxTW1aeGRXWmhkRzQzZUd4eWNuWjJObVp6ZG1WaGR3ZG5ZWFJsZDJGNWRBQUFBQUozQ0hWelpYSnVZVzFsYlFBQUFBUmxhbkYwZHdod1lYTnpkMjl5WkcwQUFBQVdlbVpxY25KcVpHdGlZMmswTW5ReVlYaDVaRFExWVd3QUFBQUJhQUp0QUFBQUMzUnlZV05sY0dGeVpXNTBiUUFBQURjd01DMDFNRGRoTUdSbE9HWm1NekpsWmpVMU9EaGlZV1psWkRZMk1XWXpaVFZrTlMxa1ptTTVZMkl3Wm1NeE5tRTBNbUU1TFRBeGFnPT1uBgCeY-eckgFiAAFRgA.5-aLUjF4RiPoYASwWYfSmWuTEc4cT0u8J9cyBUiP9BY\",\"expires_at\":1729813989,\"flow_id\":\"eeb66205-5f53-4f64-acbc-deed47293f04\",\"client_ice_credentials\":{\"username\":\"hgwh\",\"password\":\"j2fqufatn7xlrrvv6fsvea\"},\"gateway_ice_credentials\":{\"username\":\"ejqt\",\"password\":\"zfjrrjdkbci42t2axyd45a\"}}}";

static const char rust_init_frame[] =
	"{\"event\":\"init\",\"ref\":null,\"topic\":\"gateway\",\"payload\":{\"interface\":{\"ipv6\":\"fd00:2021:1111::2c:f6ab\",\"ipv4\":\"100.115.164.78\"},\"config\":{\"ipv4_masquerade_enabled\":true,\"ipv6_masquerade_enabled\":true},\"flow_logs\":{\"api_url\":\"https://flow-api.firezone.dev\",\"upload_interval_secs\":60,\"upload_batch_size\":1000}}}";

static const char rust_resource_updated_frame[] =
	"{\"event\":\"resource_updated\",\"ref\":null,\"topic\":\"gateway\",\"payload\":{\"id\":\"57f9ebbb-21d5-4f9f-bf86-b25122fc7a43\",\"name\":\"?.httpbin\",\"type\":\"dns\",\"address\":\"?.httpbin\",\"filters\":[{\"protocol\":\"icmp\"},{\"protocol\":\"tcp\"}]}}";

static const char rust_relays_presence_frame[] =
	"{\"event\":\"relays_presence\",\"ref\":null,\"topic\":\"gateway\",\"payload\":{\"disconnected_ids\":[\"e95f9517-2152-4677-a16a-fbb2687050a3\",\"b0724bd1-a8cc-4faf-88cd-f21159cfec47\"],\"connected\":[{\"id\":\"0a133356-7a9e-4b9a-b413-0d95a5720fd8\",\"type\":\"turn\",\"username\":\"1719367575:ZQHcVGkdnfgGmcP1\",\"password\":\"ZWYiBeFHOJyYq0mcwAXjRpcuXIJJpzWlOXVdxwttrWg\",\"addr\":\"172.28.0.101:3478\",\"expires_at\":1719367575}]}}";

static const char rust_invalidate_frame[] =
	"{\"event\":\"invalidate_ice_candidates\",\"ref\":null,\"topic\":\"gateway\",\"payload\":{\"candidates\":[\"candidate:7854631899965427361 1 udp 1694498559 172.28.0.100 47717 typ srflx\"],\"client_id\":\"2b1524e6-239e-4570-bc73-70a188e12101\"}}";

static const char pub_b64[] = "fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH8=";
static const char psk_b64[] = "BzPiNE9qszKczZcZzGsyieLYeJ2EQfkfdibls/l3beM=";

/* Replaces every occurrence of from with to (the result is malloc'd). */
static char *replace(const char *s, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)); p += fl)
		n++;
	out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	for (o = out, p = s;;) {
		const char *q = strstr(p, from);

		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	return out;
}

/* The reference's examples with real keys and with "…" expanded to "-0000". */
static cJSON *expanded(const char *text)
{
	char *a = replace(text, "\"fiAj…=\"", "\"fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH8=\"");
	char *b = replace(a, "\"BzPi…=\"", "\"BzPiNE9qszKczZcZzGsyieLYeJ2EQfkfdibls/l3beM=\"");
	char *c = replace(b, "…", "-0000");
	cJSON *j = cJSON_Parse(c);

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	free(a);
	free(b);
	free(c);
	return j;
}

/* The payload of a whole frame, through the Phoenix decoder. */
static cJSON *frame_payload(const char *frame)
{
	struct fg_phx_in m;
	char err[160];
	cJSON *p;

	CU_ASSERT_EQUAL_FATAL(fg_phx_decode(frame, strlen(frame), &m, err, sizeof(err)), 0);
	p = cJSON_Duplicate(m.payload, 1);
	fg_phx_in_free(&m);
	return p;
}

/*
 * Edits a copy of base: path is "a.b.2.c" (numbers index arrays); value is JSON text to
 * put there, or NULL to delete. The copy is returned.
 */
static cJSON *edit(const cJSON *base, const char *path, const char *value)
{
	cJSON *root = cJSON_Duplicate(base, 1), *node = root;
	char buf[128], *seg, *next, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	seg = strtok_r(buf, ".", &save);
	while (seg) {
		next = strtok_r(NULL, ".", &save);
		bool idx = seg[0] >= '0' && seg[0] <= '9';

		if (next) {
			node = idx ? cJSON_GetArrayItem(node, atoi(seg)) : cJSON_GetObjectItem(node, seg);
			CU_ASSERT_PTR_NOT_NULL_FATAL(node);
		} else if (!value) {
			if (idx)
				cJSON_DeleteItemFromArray(node, atoi(seg));
			else
				cJSON_DeleteItemFromObject(node, seg);
		} else {
			cJSON *v = cJSON_Parse(value);

			CU_ASSERT_PTR_NOT_NULL_FATAL(v);
			if (idx)
				cJSON_ReplaceItemInArray(node, atoi(seg), v);
			else if (cJSON_GetObjectItem(node, seg))
				cJSON_ReplaceItemInObject(node, seg, v);
			else
				cJSON_AddItemToObject(node, seg, v);
		}
		seg = next;
	}
	return root;
}

struct hostile {
	const char *path;
	const char *value;     /* NULL: delete the field */
	const char *reason;    /* a substring of the error, or NULL: it must parse */
};

typedef int (*parse_fn)(const cJSON *payload, void *out, char *err, size_t errlen);

static int run_init(const cJSON *p, void *out, char *err, size_t errlen)
{
	int rc = fg_portal_init_parse(p, out, err, errlen);

	if (!rc)
		fg_portal_init_free(out);
	return rc;
}

static int run_authz(const cJSON *p, void *out, char *err, size_t errlen)
{
	int rc = fg_portal_authorization_parse(p, out, err, errlen);

	if (!rc)
		fg_portal_authorization_free(out);
	return rc;
}

static int run_resource(const cJSON *p, void *out, char *err, size_t errlen)
{
	return fg_portal_resource_parse(p, out, err, errlen);
}

static int run_reject(const cJSON *p, void *out, char *err, size_t errlen)
{
	return fg_portal_reject_access_parse(p, out, err, errlen);
}

static int run_expiry(const cJSON *p, void *out, char *err, size_t errlen)
{
	return fg_portal_expiry_updated_parse(p, out, err, errlen);
}

static int run_presence(const cJSON *p, void *out, char *err, size_t errlen)
{
	int rc = fg_portal_relays_presence_parse(p, out, err, errlen);

	if (!rc)
		fg_portal_relays_presence_free(out);
	return rc;
}

static int run_candidates(const cJSON *p, void *out, char *err, size_t errlen)
{
	return fg_portal_ice_candidates_parse(p, out, err, errlen);
}

/* Room for any of the output structs. */
static union {
	struct fg_portal_init init;
	struct fg_portal_authorization authz;
	struct fg_portal_resource res;
	struct fg_portal_reject_access reject;
	struct fg_portal_expiry_updated expiry;
	struct fg_portal_relays_presence presence;
	struct fg_portal_ice_candidates cands;
} out_buf;

static void run_table(const char *name, const cJSON *base, parse_fn fn,
		      const struct hostile *t, size_t n)
{
	char err[FG_PORTAL_ERR_LEN];

	CU_ASSERT_EQUAL(fn(base, &out_buf, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		cJSON *p = edit(base, t[i].path, t[i].value);
		int rc;

		memset(err, 0, sizeof(err));
		rc = fn(p, &out_buf, err, sizeof(err));
		if (t[i].reason) {
			bool ok = rc == -EBADMSG && strstr(err, t[i].reason);

			if (!ok)
				fprintf(stderr, "\n%s: %s = %.60s: rc %d, err \"%s\", want \"%s\"\n", name,
					t[i].path, t[i].value ? t[i].value : "(deleted)", rc, err, t[i].reason);
			CU_ASSERT(ok);
			/* Secrets never reach an error message. */
			CU_ASSERT_PTR_NULL(strstr(err, "BzPi"));
			CU_ASSERT_PTR_NULL(strstr(err, "zfjrr"));
			CU_ASSERT_PTR_NULL(strstr(err, "SFMy"));
		} else {
			if (rc)
				fprintf(stderr, "\n%s: %s: refused: %s\n", name, t[i].path, err);
			CU_ASSERT_EQUAL(rc, 0);
		}
		cJSON_Delete(p);
	}
	/* Not an object at all. */
	static const char *const not_objects[] = { "null", "[]", "\"x\"", "1", "true" };

	for (size_t i = 0; i < ARRAY_LEN(not_objects); i++) {
		cJSON *p = cJSON_Parse(not_objects[i]);

		CU_ASSERT_EQUAL(fn(p, &out_buf, err, sizeof(err)), -EBADMSG);
		cJSON_Delete(p);
	}
	CU_ASSERT_EQUAL(fn(NULL, &out_buf, NULL, 0), -EBADMSG);
}

/* A JSON string of n copies of ch. */
static char *long_str(size_t n, char ch)
{
	char *s = malloc(n + 3);

	s[0] = '"';
	memset(s + 1, ch, n);
	strcpy(s + 1 + n, "\"");
	return s;
}

/* A JSON array of n copies of item. */
static char *long_array(size_t n, const char *item)
{
	size_t il = strlen(item);
	char *s = malloc(n * (il + 1) + 3), *p = s;

	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, item, il);
		p += il;
	}
	strcpy(p, "]");
	return s;
}

/* n UDP filters of one port each, none touching: nothing to merge. */
static char *disjoint_array(size_t n)
{
	char *s = malloc(n * 80 + 3), *p = s;

	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{\"protocol\":\"udp\",\"port_range_start\":%zu,\"port_range_end\":%zu}",
			     i ? "," : "", 2 * i, 2 * i);
	strcpy(p, "]");
	return s;
}

static void test_filters_normalize(void)
{
	struct fg_portal_filter f[] = {
		{ IPPROTO_UDP, 53, 53 }, { IPPROTO_TCP, 443, 443 }, { IPPROTO_TCP, 80, 90 },
		{ IPPROTO_TCP, 91, 100 }, { IPPROTO_TCP, 85, 95 }, { IPPROTO_UDP, 55, 60 },
		{ IPPROTO_ICMP, 0, 0 }, { IPPROTO_ICMP, 0, 0 }, { IPPROTO_TCP, 0, 65535 },
	};
	struct fg_portal_filter g[] = {
		{ IPPROTO_UDP, 65535, 65535 }, { IPPROTO_UDP, 0, 65534 },
	};

	/* TCP 0-65535 swallows every other TCP range; UDP 53 and 55-60 do not touch */
	CU_ASSERT_EQUAL_FATAL(fg_portal_filters_normalize(f, 9), 4);
	CU_ASSERT_EQUAL(f[0].proto, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(f[1].proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL(f[1].port_start, 0);
	CU_ASSERT_EQUAL(f[1].port_end, 65535);
	CU_ASSERT_EQUAL(f[2].port_start, 53);
	CU_ASSERT_EQUAL(f[2].port_end, 53);
	CU_ASSERT_EQUAL(f[3].port_start, 55);
	CU_ASSERT_EQUAL(f[3].port_end, 60);
	/* adjacent at the top of the range: no overflow */
	CU_ASSERT_EQUAL_FATAL(fg_portal_filters_normalize(g, 2), 1);
	CU_ASSERT_EQUAL(g[0].port_start, 0);
	CU_ASSERT_EQUAL(g[0].port_end, 65535);
	CU_ASSERT_EQUAL(fg_portal_filters_normalize(g, 0), 0);
}

static void test_events(void)
{
	static const struct {
		const char *name;
		enum fg_portal_event ev;
	} cases[] = {
		{ "init", FG_PORTAL_EV_INIT },
		{ "create_authorization", FG_PORTAL_EV_CREATE_AUTHORIZATION },
		{ "authorize_flow", FG_PORTAL_EV_AUTHORIZE_FLOW },
		{ "reject_access", FG_PORTAL_EV_REJECT_ACCESS },
		{ "resource_updated", FG_PORTAL_EV_RESOURCE_UPDATED },
		{ "access_authorization_expiry_updated", FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED },
		{ "relays_presence", FG_PORTAL_EV_RELAYS_PRESENCE },
		{ "ice_candidates", FG_PORTAL_EV_ICE_CANDIDATES },
		{ "invalidate_ice_candidates", FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES },
		{ "configure_metrics", FG_PORTAL_EV_UNKNOWN },
		{ "request_connection", FG_PORTAL_EV_UNKNOWN },
		{ "allow_access", FG_PORTAL_EV_UNKNOWN },
		{ "INIT", FG_PORTAL_EV_UNKNOWN },
		{ "init ", FG_PORTAL_EV_UNKNOWN },
		{ "", FG_PORTAL_EV_UNKNOWN },
		{ "phx_reply", FG_PORTAL_EV_UNKNOWN },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		CU_ASSERT_EQUAL(fg_portal_event_parse(cases[i].name), cases[i].ev);
		if (cases[i].ev != FG_PORTAL_EV_UNKNOWN)
			CU_ASSERT_STRING_EQUAL(fg_portal_event_name(cases[i].ev), cases[i].name);
	}
	CU_ASSERT_EQUAL(fg_portal_event_parse(NULL), FG_PORTAL_EV_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(fg_portal_event_name(FG_PORTAL_EV_UNKNOWN), "unknown");
	CU_ASSERT_STRING_EQUAL(fg_portal_reply_event(FG_PORTAL_EV_CREATE_AUTHORIZATION), "authorization_created");
	CU_ASSERT_STRING_EQUAL(fg_portal_reply_event(FG_PORTAL_EV_AUTHORIZE_FLOW), "flow_authorized");
	CU_ASSERT_PTR_NULL(fg_portal_reply_event(FG_PORTAL_EV_INIT));
}

static void test_init_good(void)
{
	struct fg_portal_init m;
	char err[FG_PORTAL_ERR_LEN], buf[FG_ENDPOINT_STRLEN];
	cJSON *p = expanded(ref_init);

	CU_ASSERT_EQUAL_FATAL(fg_portal_init_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&m.ipv4, buf, sizeof(buf)), "100.64.3.7");
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&m.ipv6, buf, sizeof(buf)), "fd00:2021:1111::3:7");
	CU_ASSERT_STRING_EQUAL(m.account_slug, "acme");
	/* The two entries with one id are one dual-stack relay. */
	CU_ASSERT_EQUAL_FATAL(m.n_relays, 1);
	CU_ASSERT_STRING_EQUAL(m.relays[0].id, "6f1c-0000");
	CU_ASSERT_EQUAL(m.relays[0].type, FG_PORTAL_RELAY_TURN);
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.relays[0].addr4, buf, sizeof(buf)), "198.51.100.5:3478");
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.relays[0].addr6, buf, sizeof(buf)), "[2001:db8::5]:3478");
	CU_ASSERT_STRING_EQUAL(m.relays[0].username, "2145916800:q3Jk-0000");
	CU_ASSERT_STRING_EQUAL(m.relays[0].password, "x9Zt-0000");
	CU_ASSERT_EQUAL(m.relays[0].expires_at, 2145916800);
	CU_ASSERT_TRUE(m.has_authorizations);
	CU_ASSERT_EQUAL_FATAL(m.n_auths, 1);
	CU_ASSERT_STRING_EQUAL(m.auths[0].client_id, "3abd-0000");
	CU_ASSERT_STRING_EQUAL(m.auths[0].resource_id, "c779-0000");
	CU_ASSERT_EQUAL(m.auths[0].expires_at, 1767225600);
	CU_ASSERT_TRUE(m.has_flow_logs);
	CU_ASSERT_STRING_EQUAL(m.flow_logs_api_url, "https://flow.example");
	CU_ASSERT_EQUAL(m.flow_logs_interval_secs, 60);
	CU_ASSERT_EQUAL(m.flow_logs_batch_size, 1000);
	CU_ASSERT_STRING_EQUAL(m.flow_logs_error, "");
	fg_portal_init_free(&m);
	CU_ASSERT_EQUAL(m.relays[0].password[0], '\0');
	CU_ASSERT_PTR_NULL(m.auths);
	fg_portal_init_free(NULL);
	cJSON_Delete(p);

	/* Rust's test: no relays, no slug, no authorizations. */
	p = frame_payload(rust_init_frame);
	CU_ASSERT_EQUAL_FATAL(fg_portal_init_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&m.ipv4, buf, sizeof(buf)), "100.115.164.78");
	CU_ASSERT_EQUAL(m.n_relays, 0);
	CU_ASSERT_FALSE(m.has_authorizations);
	CU_ASSERT_EQUAL(m.account_slug[0], '\0');
	fg_portal_init_free(&m);
	cJSON_Delete(p);

	/* Several relays, one of them STUN, an IPv6-only one, a null expiry, a literal 0. */
	p = cJSON_Parse("{\"interface\":{\"ipv4\":\"100.64.0.1\",\"ipv6\":\"fd00:2021:1111::1\"},\"config\":{},"
			"\"account_slug\":null,\"flow_logs\":null,"
			"\"relays\":[{\"id\":\"a\",\"type\":\"stun\",\"addr\":\"198.51.100.1:3478\"},"
			"{\"id\":\"b\",\"type\":\"turn\",\"addr\":\"[2001:db8::2]:3478\",\"username\":\"u\",\"password\":\"p\",\"expires_at\":5},"
			"{\"id\":\"c\",\"type\":\"turn\",\"addr\":\"198.51.100.3:3478\",\"username\":\"u1\",\"password\":\"p1\",\"expires_at\":5},"
			"{\"id\":\"c\",\"type\":\"turn\",\"addr\":\"198.51.100.4:3479\",\"username\":\"u2\",\"password\":\"p2\",\"expires_at\":6},"
			"{\"id\":\"d\",\"type\":\"turn\",\"addr\":\"[2001:db8::d]:3478\",\"username\":\"u\",\"password\":\"p\",\"expires_at\":7},"
			"{\"id\":\"b\",\"type\":\"turn\",\"addr\":\"198.51.100.2:3478\",\"username\":\"u\",\"password\":\"p\",\"expires_at\":5},"
			"{\"id\":\"d\",\"type\":\"turn\",\"addr\":\"198.51.100.13:3478\",\"username\":\"u\",\"password\":\"p\",\"expires_at\":7}],"
			"\"authorizations\":[{\"client_id\":\"x\",\"resource_id\":\"y\",\"expires_at\":null},"
			"{\"client_id\":\"x\",\"resource_id\":\"z\",\"expires_at\":0}]}");
	CU_ASSERT_EQUAL_FATAL(fg_portal_init_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(m.n_relays, 4);
	CU_ASSERT_EQUAL(m.relays[0].type, FG_PORTAL_RELAY_STUN);
	/* Merged across the list and in either order: v6 first, then v4. */
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.relays[1].addr4, buf, sizeof(buf)), "198.51.100.2:3478");
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.relays[1].addr6, buf, sizeof(buf)), "[2001:db8::2]:3478");
	CU_ASSERT_STRING_EQUAL(m.relays[3].id, "d");
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.relays[3].addr6, buf, sizeof(buf)), "[2001:db8::d]:3478");
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.relays[3].addr4, buf, sizeof(buf)), "198.51.100.13:3478");
	/* Same family twice: the later entry wins. */
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.relays[2].addr4, buf, sizeof(buf)), "198.51.100.4:3479");
	CU_ASSERT_STRING_EQUAL(m.relays[2].username, "u2");
	CU_ASSERT_EQUAL(m.relays[2].expires_at, 6);
	CU_ASSERT_FALSE(m.has_flow_logs);
	CU_ASSERT_EQUAL(m.auths[0].expires_at, 0);
	CU_ASSERT_EQUAL(m.auths[1].expires_at, 1);
	fg_portal_init_free(&m);
	cJSON_Delete(p);

	/* An empty list is present. */
	p = cJSON_Parse("{\"interface\":{\"ipv4\":\"100.64.0.1\",\"ipv6\":\"fd00:2021:1111::1\"},\"config\":{},"
			"\"authorizations\":[],\"relays\":[]}");
	CU_ASSERT_EQUAL_FATAL(fg_portal_init_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(m.has_authorizations);
	CU_ASSERT_EQUAL(m.n_auths, 0);
	fg_portal_init_free(&m);
	cJSON_Delete(p);
}

/* init.flow_logs: a malformed object turns uploads off (flow_logs_error says why) and
 * never costs the init. */
static void test_init_flow_logs(void)
{
	static const struct {
		const char *flow_logs;
		const char *url;
		uint64_t interval, batch;
		const char *error;
	} t[] = {
		{ "{\"api_url\":\"http://127.0.0.1:9\",\"upload_interval_secs\":0,\"upload_batch_size\":0}",
		  "http://127.0.0.1:9", 0, 0, "" },
		{ "{\"api_url\":\"https://a\",\"upload_interval_secs\":5}", "https://a", 5, 0, "" },
		{ "{}", "", 0, 0, "flow_logs.api_url: missing" },
		{ "{\"api_url\":\"https://a b\",\"upload_interval_secs\":5}", "", 0, 0, "forbidden characters" },
		{ "{\"api_url\":\"https://a\",\"upload_interval_secs\":-1}", "", 0, 0, "upload_interval_secs" },
		{ "{\"api_url\":\"https://a\",\"upload_interval_secs\":\"60\"}", "", 0, 0, "upload_interval_secs" },
		{ "{\"api_url\":\"https://a\",\"upload_interval_secs\":1,\"upload_batch_size\":1.5}", "", 0, 0,
		  "upload_batch_size" },
		{ "[]", "", 0, 0, "flow_logs: not an object" },
	};
	char json[512], err[FG_PORTAL_ERR_LEN];
	struct fg_portal_init m;

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		cJSON *p;

		snprintf(json, sizeof(json), "{\"interface\":{\"ipv4\":\"100.64.0.1\",\"ipv6\":\"fd00::1\"},"
			 "\"config\":{},\"flow_logs\":%s}", t[i].flow_logs);
		p = cJSON_Parse(json);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL_FATAL(fg_portal_init_parse(p, &m, err, sizeof(err)), 0);
		CU_ASSERT_TRUE(m.has_flow_logs);
		CU_ASSERT_STRING_EQUAL(m.flow_logs_api_url, t[i].url);
		CU_ASSERT_EQUAL(m.flow_logs_interval_secs, t[i].interval);
		CU_ASSERT_EQUAL(m.flow_logs_batch_size, t[i].batch);
		CU_ASSERT_PTR_NOT_NULL(strstr(m.flow_logs_error, t[i].error));
		CU_ASSERT_TRUE(!*t[i].error || *m.flow_logs_error);
		fg_portal_init_free(&m);
		cJSON_Delete(p);
	}
}

static void test_init_hostile(void)
{
	char *long_id = long_str(FG_PORTAL_ID_LEN, 'a');
	char *ok_id = long_str(FG_PORTAL_ID_LEN - 1, 'a');
	char *long_slug = long_str(FG_PORTAL_SLUG_LEN, 's');
	char *many_relays = long_array(FG_PORTAL_MAX_RELAY_ENTRIES + 1,
				       "{\"id\":\"r\",\"type\":\"stun\",\"addr\":\"198.51.100.1:3478\"}");
	char *many_auths = long_array(FG_PORTAL_MAX_AUTHS + 1,
				      "{\"client_id\":\"c\",\"resource_id\":\"r\",\"expires_at\":1}");
	char *max_auths = long_array(FG_PORTAL_MAX_AUTHS,
				     "{\"client_id\":\"c\",\"resource_id\":\"r\",\"expires_at\":null}");
	char distinct[64 * (FG_PORTAL_MAX_RELAYS + 1) + 4], *d = distinct;

	*d++ = '[';
	for (int i = 0; i <= FG_PORTAL_MAX_RELAYS; i++)
		d += sprintf(d, "%s{\"id\":\"r%d\",\"type\":\"stun\",\"addr\":\"198.51.100.1:3478\"}", i ? "," : "", i);
	strcpy(d, "]");

	const struct hostile t[] = {
		{ "interface", NULL, "interface: missing" },
		{ "interface", "[]", "interface: not an object" },
		{ "interface", "null", "interface: not an object" },
		{ "interface.ipv4", NULL, "interface.ipv4: missing" },
		{ "interface.ipv6", NULL, "interface.ipv6: missing" },
		{ "interface.ipv4", "\"fd00::1\"", "not an IPv4 address" },
		{ "interface.ipv6", "\"100.64.3.7\"", "not an IPv6 address" },
		{ "interface.ipv4", "\"100.64.3.256\"", "interface.ipv4" },
		{ "interface.ipv4", "\"100.64.3.7/32\"", "interface.ipv4" },
		{ "interface.ipv4", "\" 100.64.3.7\"", "forbidden" },
		{ "interface.ipv4", "\"\"", "empty" },
		{ "interface.ipv4", "1684275975", "not a string" },
		{ "interface.ipv6", "\"fd00:2021:1111::3:7%eth0\"", "interface.ipv6" },
		{ "config", NULL, "config: missing" },
		{ "config", "true", "config: not an object" },
		{ "account_slug", "42", "account_slug: not a string" },
		{ "account_slug", long_slug, "account_slug: longer" },
		{ "account_slug", "\"a\\nb\"", "forbidden" },
		{ "relays", "{}", "relays: not an array" },
		{ "relays", many_relays, "more than" },
		{ "relays", distinct, "more than 32 relays" },
		{ "relays.0", "\"relay\"", "relays[0]: not an object" },
		{ "relays.0.id", NULL, "relays[0].id: missing" },
		{ "relays.0.id", "\"\"", "relays[0].id: empty" },
		{ "relays.0.id", long_id, "relays[0].id: longer" },
		{ "relays.0.id", "\"a b\"", "forbidden" },
		{ "relays.0.id", "\"caf\\u00e9\"", "forbidden" },
		{ "relays.0.type", NULL, "relays[0].type: missing" },
		{ "relays.0.type", "\"udp\"", "unknown relay type" },
		{ "relays.0.addr", NULL, "relays[0].addr: missing" },
		{ "relays.0.addr", "\"198.51.100.5\"", "not ip:port" },
		{ "relays.0.addr", "\"198.51.100.5:0\"", "not ip:port" },
		{ "relays.0.addr", "\"198.51.100.5:65536\"", "not ip:port" },
		{ "relays.0.addr", "\"2001:db8::5:3478\"", "not ip:port" },
		{ "relays.0.addr", "\"relay.example.com:3478\"", "not ip:port" },
		{ "relays.1.username", NULL, "relays[1].username: missing" },
		{ "relays.1.password", "7", "relays[1].password: not a string" },
		{ "relays.1.expires_at", NULL, "relays[1].expires_at: missing" },
		{ "relays.1.expires_at", "null", "relays[1].expires_at" },
		{ "relays.1.expires_at", "\"2145916800\"", "not a non-negative integer" },
		{ "relays.1.expires_at", "-1", "not a non-negative integer" },
		{ "relays.1.expires_at", "1.5", "not a non-negative integer" },
		{ "relays.1.expires_at", "1e300", "not a non-negative integer" },
		{ "authorizations", "{}", "authorizations: not an array" },
		{ "authorizations", many_auths, "more than 65536" },
		{ "authorizations.0", "[]", "authorizations[0]: not an object" },
		{ "authorizations.0.client_id", NULL, "authorizations[0].client_id: missing" },
		{ "authorizations.0.resource_id", "1", "authorizations[0].resource_id: not a string" },
		{ "authorizations.0.expires_at", NULL, "authorizations[0].expires_at: missing" },
		{ "authorizations.0.expires_at", "true", "not a non-negative integer" },
		/* Harmless. */
		{ "authorizations", max_auths, NULL },
		{ "relays.0.id", ok_id, NULL },
		{ "relays", NULL, NULL },
		{ "relays", "null", NULL },
		{ "authorizations", NULL, NULL },
		{ "account_slug", NULL, NULL },
		{ "flow_logs", NULL, NULL },
		{ "flow_logs", "\"whatever\"", NULL },
		{ "config", "{}", NULL },
		{ "interface.upstream_dns", "[{\"protocol\":\"ip_port\",\"address\":\"1.1.1.1:53\"}]", NULL },
		{ "relays.0.extra", "{\"deep\":[[[[{\"x\":1}]]]]}", NULL },
		{ "authorizations.0.future", "1", NULL },
		{ "unknown_top_level", "[1,2,3]", NULL },
		{ "interface.ipv6", "\"FD00:2021:1111:0:0:0:3:7\"", NULL },
	};
	cJSON *base = expanded(ref_init);

	run_table("init", base, run_init, t, ARRAY_LEN(t));
	cJSON_Delete(base);
	free(long_id);
	free(ok_id);
	free(long_slug);
	free(many_relays);
	free(many_auths);
	free(max_auths);
}

static void test_authorization_good(void)
{
	struct fg_portal_authorization m;
	char err[FG_PORTAL_ERR_LEN], buf[FG_PREFIX_STRLEN];
	uint8_t key[FG_KEY_LEN];
	cJSON *p = expanded(ref_create_authorization);

	CU_ASSERT_EQUAL_FATAL(fg_portal_authorization_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(m.ref, "SFMyNTY.g2gD-0000");
	CU_ASSERT_STRING_EQUAL(m.resource.id, "c779-0000");
	CU_ASSERT_EQUAL(m.resource.type, FG_PORTAL_RES_CIDR);
	CU_ASSERT_STRING_EQUAL(fg_prefix_format(&m.resource.prefix, buf, sizeof(buf)), "10.20.0.0/16");
	CU_ASSERT_STRING_EQUAL(m.resource.name, "Corp");
	CU_ASSERT_EQUAL(m.resource.n_filters, 0);
	CU_ASSERT_EQUAL(m.resource.n_bad_filters, 0);
	CU_ASSERT_STRING_EQUAL(m.client.id, "3abd-0000");
	fg_key_from_base64(key, pub_b64);
	CU_ASSERT_EQUAL(memcmp(m.client.public_key, key, FG_KEY_LEN), 0);
	fg_key_from_base64(key, psk_b64);
	CU_ASSERT_EQUAL(memcmp(m.client.psk, key, FG_KEY_LEN), 0);
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&m.client.ipv4, buf, sizeof(buf)), "100.93.74.51");
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&m.client.ipv6, buf, sizeof(buf)), "fd00:2021:1111::f:853b");
	CU_ASSERT_STRING_EQUAL(m.client.version, "1.6.0");
	CU_ASSERT_STRING_EQUAL(m.gateway_ice.username, "ejqt");
	CU_ASSERT_STRING_EQUAL(m.gateway_ice.password, "zfjrrjdkbci42t2axyd45a");
	CU_ASSERT_STRING_EQUAL(m.client_ice.username, "hgwh");
	CU_ASSERT_STRING_EQUAL(m.client_ice.password, "j2fqufatn7xlrrvv6fsvea");
	CU_ASSERT_EQUAL(m.expires_at, 1729813989);
	CU_ASSERT_FALSE(m.use_iceless);
	CU_ASSERT_STRING_EQUAL(m.flow_logs_token, "eyJhbGciOiJIUzI1NiJ9.-0000");
	fg_portal_authorization_free(&m);
	/* Wiped. */
	CU_ASSERT_TRUE(fg_key_is_zero(m.client.psk));
	CU_ASSERT_EQUAL(m.gateway_ice.password[0], '\0');
	CU_ASSERT_PTR_NULL(m.ref);
	CU_ASSERT_PTR_NULL(m.flow_logs_token);
	fg_portal_authorization_free(NULL);
	cJSON_Delete(p);

	/* Rust's test payload: no ingest token (Rust refuses it, we may not), extra "actor",
	 * "flow_id" fields, no client version. */
	p = frame_payload(rust_create_authorization_frame);
	CU_ASSERT_EQUAL_FATAL(fg_portal_authorization_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(strlen(m.ref), 866);
	CU_ASSERT_STRING_EQUAL(m.resource.name, "MyCorp Network");
	CU_ASSERT_PTR_NULL(m.flow_logs_token);
	CU_ASSERT_EQUAL(m.client.version[0], '\0');
	fg_portal_authorization_free(&m);
	cJSON_Delete(p);
}

static void test_authorization_hostile(void)
{
	char *long_ref = long_str(FG_PORTAL_REF_MAX + 1, 'r');
	char *max_ref = long_str(FG_PORTAL_REF_MAX, 'r');
	char *long_token = long_str(FG_PORTAL_TOKEN_MAX + 1, 't');
	char *long_name = long_str(FG_PORTAL_NAME_LEN, 'n');
	char *long_ice = long_str(FG_PORTAL_ICE_LEN, 'i');
	char *long_pattern = long_str(FG_PORTAL_PATTERN_LEN, 'p');
	char *many_filters = long_array(FG_PORTAL_MAX_FILTER_ENTRIES + 1, "{\"protocol\":\"icmp\"}");
	char *too_many_valid = disjoint_array(FG_PORTAL_MAX_FILTERS + 1);
	char *max_valid = long_array(FG_PORTAL_MAX_FILTERS, "{\"protocol\":\"udp\"}");
	char *many_same = long_array(3 * FG_PORTAL_MAX_FILTERS, "{\"protocol\":\"tcp\",\"port_range_start\":80,\"port_range_end\":80}");
	const struct hostile t[] = {
		{ "ref", NULL, "ref: missing" },
		{ "ref", "null", "ref: missing" },
		{ "ref", "1", "ref: not a string" },
		{ "ref", "\"\"", "ref: empty" },
		{ "ref", long_ref, "ref: empty or longer" },
		{ "ref", "\"SFMy NTY\"", "ref: holds forbidden" },
		{ "resource", NULL, "resource: missing" },
		{ "resource", "[]", "resource: not an object" },
		{ "resource.id", NULL, "resource.id: missing" },
		{ "resource.id", "{}", "resource.id: not a string" },
		{ "resource.type", NULL, "resource.type: missing" },
		{ "resource.type", "\"ip\"", "resource.type: unknown" },
		{ "resource.type", "\"CIDR\"", "resource.type: unknown" },
		{ "resource.address", NULL, "resource.address: missing" },
		{ "resource.address", "\"10.20.0.0/33\"", "is not a CIDR" },
		{ "resource.address", "\"10.20.0.0/\"", "is not a CIDR" },
		{ "resource.address", "\"fd00::/129\"", "is not a CIDR" },
		{ "resource.address", "\"corp.example\"", "is not a CIDR" },
		{ "resource.address", "\"10.20.0.0/16 \"", "forbidden" },
		{ "resource.address", "[\"10.20.0.0/16\"]", "not a string" },
		{ "resource.name", NULL, "resource.name: missing" },
		{ "resource.name", long_name, "resource.name: longer" },
		{ "resource.name", "\"a\\u0001b\"", "forbidden" },
		{ "resource.name", "\"a\xc3(\"", "forbidden" },
		{ "resource.name", "\"\xc0\xaf\"", "forbidden" },
		{ "resource.name", "\"\xe0\x80\xaf\"", "forbidden" },
		{ "resource.name", "\"\xed\xa0\x80\"", "forbidden" },
		{ "resource.name", "\"\xf4\x90\x80\x80\"", "forbidden" },
		{ "resource.name", "\"\xff\"", "forbidden" },
		{ "resource.name", "\"abc\xe2\x82\"", "forbidden" },
		{ "resource.filters", NULL, "resource.filters: missing" },
		{ "resource.filters", "{}", "resource.filters: not an array" },
		{ "resource.filters", many_filters, "more than 65536 entries" },
		{ "resource.filters", too_many_valid, "more than 8192 disjoint port ranges after merging" },
		{ "resource.filters", "[{\"protocol\":\"tcp\",\"port_range_start\":100,\"port_range_end\":50}]", "every filter is invalid" },
		{ "resource.filters", "[{\"protocol\":\"sctp\"}]", "every filter is invalid" },
		{ "resource.filters", "[{\"protocol\":\"tcp\",\"port_range_start\":65536}]", "every filter is invalid" },
		{ "resource.filters", "[{\"protocol\":\"udp\",\"port_range_end\":-1}]", "every filter is invalid" },
		{ "resource.filters", "[{\"protocol\":\"udp\",\"port_range_end\":80.5}]", "every filter is invalid" },
		{ "resource.filters", "[{\"protocol\":\"udp\",\"port_range_end\":\"80\"}]", "every filter is invalid" },
		{ "resource.filters", "[{\"protocol\":\"TCP\"}]", "every filter is invalid" },
		{ "resource.filters", "[{}]", "every filter is invalid" },
		{ "resource.filters", "[\"tcp\"]", "every filter is invalid" },
		{ "resource.filters", "[null]", "every filter is invalid" },
		{ "client", NULL, "client: missing" },
		{ "client", "\"3abd\"", "client: not an object" },
		{ "client.id", NULL, "client.id: missing" },
		{ "client.public_key", NULL, "client.public_key: missing" },
		{ "client.public_key", "\"fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH8\"", "not a 44-character base64 key" },
		{ "client.public_key", "\"fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH8==\"", "not a 44-character base64 key" },
		{ "client.public_key", "\"fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH9=\"", "not a 44-character base64 key" },
		{ "client.public_key", "\"fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMp*8=\"", "not a 44-character base64 key" },
		{ "client.public_key", "\"fiAjSBWDgQfD1CFJkTwOf4zg-1QhH0eTT_oLaVIMpH8=\"", "not a 44-character base64 key" },
		{ "client.public_key", "\"7e2023481583810fc3d42149913c0e7f8ce0fb54211f47934fea0b69520ca47f\"", "not a 44-character base64 key" },
		{ "client.public_key", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"", "the all-zero key" },
		{ "client.public_key", "\"dGVzdA==\"", "not a 44-character base64 key" },
		{ "client.public_key", "[]", "client.public_key: not a string" },
		{ "client.preshared_key", NULL, "client.preshared_key: missing" },
		{ "client.preshared_key", "\"BzPiNE9qszKczZcZzGsyieLYeJ2EQfkfdibls/l3beM\"", "not a 44-character base64 key" },
		{ "client.preshared_key", "\"BzPiNE9qszKczZcZzGsyieLYeJ2EQfkfdibls/l3beMAAAA=\"", "not a 44-character base64 key" },
		{ "client.ipv4", NULL, "client.ipv4: missing" },
		{ "client.ipv4", "\"fd00:2021:1111::f:853b\"", "not an IPv4 address" },
		{ "client.ipv4", "\"100.93.74\"", "client.ipv4" },
		{ "client.ipv6", "\"100.93.74.51\"", "not an IPv6 address" },
		{ "client.ipv6", "\"fd00:2021:1111::f:853g\"", "client.ipv6" },
		{ "client.version", "1.6", "client.version: not a string" },
		{ "client.version", "\"1.6.0-0123456789012345678901234567\"", "client.version: longer" },
		{ "gateway_ice_credentials", NULL, "gateway_ice_credentials: missing" },
		{ "gateway_ice_credentials.username", NULL, "gateway_ice_credentials.username: missing" },
		{ "gateway_ice_credentials.password", "\"\"", "gateway_ice_credentials.password: empty" },
		{ "client_ice_credentials", "[]", "client_ice_credentials: not an object" },
		{ "client_ice_credentials.password", long_ice, "client_ice_credentials.password: longer" },
		{ "expires_at", "\"1729813989\"", "expires_at: not a non-negative integer" },
		{ "expires_at", "-5", "expires_at: not a non-negative integer" },
		{ "expires_at", "1729813989.5", "expires_at: not a non-negative integer" },
		{ "expires_at", "1e16", "expires_at: not a non-negative integer" },
		{ "use_iceless", "\"false\"", "use_iceless: not a boolean" },
		{ "use_iceless", "0", "use_iceless: not a boolean" },
		{ "flow_logs_ingest_token", "1", "flow_logs_ingest_token: not a string" },
		{ "flow_logs_ingest_token", long_token, "flow_logs_ingest_token: empty or longer" },
		/* Harmless. */
		{ "ref", max_ref, NULL },
		{ "expires_at", "null", NULL },
		{ "expires_at", NULL, NULL },
		{ "use_iceless", NULL, NULL },
		{ "use_iceless", "true", NULL },
		{ "flow_logs_ingest_token", NULL, NULL },
		{ "flow_logs_ingest_token", "null", NULL },
		{ "subject", NULL, NULL },
		{ "subject", "\"anything\"", NULL },
		{ "client.version", NULL, NULL },
		{ "client.preshared_key", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"", NULL },
		{ "client.persistent_keepalive", "25", NULL },
		{ "resource.future", "{\"a\":[1,{\"b\":null}]}", NULL },
		{ "resource.filters", max_valid, NULL },
		{ "resource.filters", many_same, NULL },
		{ "resource.name", "\"\xc3\xa9t\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\"", NULL },
		{ "resource.address", "\"10.20.0.1\"", NULL },
		{ "resource.address", "\"10.20.1.1/16\"", NULL },
		{ "resource.address", "\"fd00:2021:1111::/48\"", NULL },
		{ "resource.filters", "[{\"protocol\":\"tcp\",\"port_range_start\":100,\"port_range_end\":50},{\"protocol\":\"icmp\"}]", NULL },
		{ "gateway_ice_credentials.extra", "true", NULL },
		{ "top_level_future", "{}", NULL },
	};
	cJSON *base = expanded(ref_create_authorization);

	run_table("create_authorization", base, run_authz, t, ARRAY_LEN(t));

	/* dns and internet resources. */
	struct fg_portal_authorization m;
	char err[FG_PORTAL_ERR_LEN];
	cJSON *p = edit(base, "resource", "{\"id\":\"r1\",\"type\":\"dns\",\"address\":\"**.httpbin\",\"name\":\"h\","
				      "\"filters\":[{\"protocol\":\"tcp\",\"port_range_start\":80,\"port_range_end\":80},"
				      "{\"protocol\":\"udp\",\"port_range_start\":53},{\"protocol\":\"icmp\",\"port_range_start\":\"x\"}]}");

	CU_ASSERT_EQUAL_FATAL(fg_portal_authorization_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.resource.type, FG_PORTAL_RES_DNS);
	CU_ASSERT_STRING_EQUAL(m.resource.pattern, "**.httpbin");
	CU_ASSERT_EQUAL_FATAL(m.resource.n_filters, 3);
	CU_ASSERT_EQUAL(m.resource.filters[0].proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL(m.resource.filters[0].port_start, 80);
	CU_ASSERT_EQUAL(m.resource.filters[0].port_end, 80);
	CU_ASSERT_EQUAL(m.resource.filters[1].proto, IPPROTO_UDP);
	CU_ASSERT_EQUAL(m.resource.filters[1].port_start, 53);
	CU_ASSERT_EQUAL(m.resource.filters[1].port_end, 65535);
	CU_ASSERT_EQUAL(m.resource.filters[2].proto, IPPROTO_ICMP);
	fg_portal_authorization_free(&m);
	cJSON_Delete(p);

	/* Any number of filters (the portal has no limit): 500 port ranges, all kept. */
	{
		size_t cap = 500 * 80 + 64, n = 0;
		char *arr = malloc(cap), *res = malloc(cap + 128);

		n += (size_t)snprintf(arr + n, cap - n, "[");
		for (int i = 0; i < 500; i++)
			n += (size_t)snprintf(arr + n, cap - n,
					      "%s{\"protocol\":\"%s\",\"port_range_start\":%d,\"port_range_end\":%d}",
					      i ? "," : "", i % 2 ? "udp" : "tcp", 1000 + i, 1000 + 2 * i);
		snprintf(arr + n, cap - n, "]");
		snprintf(res, cap + 128, "{\"id\":\"r500\",\"type\":\"cidr\",\"address\":\"10.0.0.0/8\","
			 "\"name\":\"n\",\"filters\":%s}", arr);
		p = edit(base, "resource", res);
		CU_ASSERT_EQUAL_FATAL(fg_portal_authorization_parse(p, &m, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL_FATAL(m.resource.n_filters, 500);
		CU_ASSERT_EQUAL(m.resource.n_bad_filters, 0);
		CU_ASSERT_EQUAL(m.resource.filters[0].proto, IPPROTO_TCP);
		CU_ASSERT_EQUAL(m.resource.filters[499].proto, IPPROTO_UDP);
		CU_ASSERT_EQUAL(m.resource.filters[499].port_start, 1499);
		CU_ASSERT_EQUAL(m.resource.filters[499].port_end, 1998);
		fg_portal_authorization_free(&m);
		cJSON_Delete(p);
		/* resource_updated with the same list */
		struct fg_portal_resource r;
		cJSON *rp = cJSON_Parse(res);

		CU_ASSERT_EQUAL_FATAL(fg_portal_resource_parse(rp, &r, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(r.n_filters, 500);
		CU_ASSERT_EQUAL(r.filters[499].port_end, 1998);
		fg_portal_resource_free(&r);
		cJSON_Delete(rp);
		free(res);
		free(arr);
	}

	p = edit(base, "resource", "{\"id\":\"1106047c-cd5d-4151-b679-96b93da7383b\",\"type\":\"internet\","
				   "\"not\":\"relevant\",\"some_other\":[\"field\"]}");
	CU_ASSERT_EQUAL_FATAL(fg_portal_authorization_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.resource.type, FG_PORTAL_RES_INTERNET);
	CU_ASSERT_EQUAL(m.resource.n_filters, 0);
	fg_portal_authorization_free(&m);
	cJSON_Delete(p);

	p = edit(base, "resource.address", "\"x\"");
	cJSON *q = edit(p, "resource.type", "\"dns\"");

	cJSON_Delete(p);
	p = edit(q, "resource.address", long_pattern);
	CU_ASSERT_EQUAL(fg_portal_authorization_parse(p, &m, err, sizeof(err)), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "resource.address: longer"));
	cJSON_Delete(p);
	cJSON_Delete(q);
	cJSON_Delete(base);
	free(long_ref);
	free(max_ref);
	free(long_token);
	free(long_name);
	free(long_ice);
	free(long_pattern);
	free(many_filters);
	free(too_many_valid);
	free(max_valid);
	free(many_same);
}

static void test_resource_updated(void)
{
	struct fg_portal_resource r;
	char err[FG_PORTAL_ERR_LEN];
	cJSON *p = frame_payload(rust_resource_updated_frame);

	CU_ASSERT_EQUAL_FATAL(fg_portal_resource_parse(p, &r, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(r.id, "57f9ebbb-21d5-4f9f-bf86-b25122fc7a43");
	CU_ASSERT_EQUAL(r.type, FG_PORTAL_RES_DNS);
	CU_ASSERT_STRING_EQUAL(r.pattern, "?.httpbin");
	CU_ASSERT_EQUAL_FATAL(r.n_filters, 2);
	CU_ASSERT_EQUAL(r.filters[0].proto, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(r.filters[1].proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL(r.filters[1].port_start, 0);
	CU_ASSERT_EQUAL(r.filters[1].port_end, 65535);

	/* Rust's skips_inverted_port_range_filter. */
	cJSON *q = cJSON_Parse("{\"id\":\"57f9ebbb-21d5-4f9f-bf86-b25122fc7a43\",\"name\":\"?.httpbin\",\"type\":\"dns\","
			       "\"address\":\"?.httpbin\",\"filters\":[{\"protocol\":\"tcp\",\"port_range_start\":100,"
			       "\"port_range_end\":50},{\"protocol\":\"icmp\"}]}");

	CU_ASSERT_EQUAL_FATAL(fg_portal_resource_parse(q, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.n_filters, 1);
	CU_ASSERT_EQUAL(r.n_bad_filters, 1);
	CU_ASSERT_EQUAL(r.filters[0].proto, IPPROTO_ICMP);
	cJSON_Delete(q);

	const struct hostile t[] = {
		{ "id", NULL, "resource_updated: id: missing" },
		{ "type", "\"ftp\"", "type: unknown" },
		{ "filters", "\"all\"", "filters: not an array" },
		{ "filters", "[{\"protocol\":\"udp\",\"port_range_start\":1e9}]", "every filter is invalid" },
		{ "address", NULL, "address: missing" },
		{ "filters", "[]", NULL },
		{ "name", "\"\\u00e9t\\u00e9 \\u2603\"", NULL },
	};

	run_table("resource_updated", p, run_resource, t, ARRAY_LEN(t));
	cJSON_Delete(p);
}

/* A DNS pattern fills a fixed field that is later copied whole into the data plane's
 * messages: the bytes after its NUL must be zeros, never what the parser's stack held. A
 * long pattern parsed just before leaves its bytes where the next parse's address buffer
 * lives; the stack below is also sprayed with a marker first. */
__attribute__((noinline)) static void spray_stack(void)
{
	volatile unsigned char junk[32768];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

static void test_pattern_zero_padded(void)
{
	static struct fg_portal_resource r;
	char err[FG_PORTAL_ERR_LEN], *long_pat = long_str(FG_PORTAL_PATTERN_LEN - 1, 'z'), *js;
	static const char fmt[] =
		"{\"id\":\"r1\",\"name\":\"n\",\"type\":\"dns\",\"address\":%s,\"filters\":[]}";
	cJSON *big, *small;
	size_t n, bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(long_pat);
	js = malloc(strlen(fmt) + strlen(long_pat));
	CU_ASSERT_PTR_NOT_NULL_FATAL(js);
	sprintf(js, fmt, long_pat);
	big = cJSON_Parse(js);
	small = cJSON_Parse("{\"id\":\"r2\",\"name\":\"n\",\"type\":\"dns\",\"address\":\"*.corp\",\"filters\":[]}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	CU_ASSERT_PTR_NOT_NULL_FATAL(small);

	for (int round = 0; round < 2; round++) {
		if (round)
			spray_stack();
		else
			CU_ASSERT_EQUAL(fg_portal_resource_parse(big, &r, err, sizeof(err)), 0);
		memset(&r, 0xee, sizeof(r));
		CU_ASSERT_EQUAL_FATAL(fg_portal_resource_parse(small, &r, err, sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(r.pattern, "*.corp");
		n = strlen(r.pattern);
		for (size_t i = n; i < sizeof(r.pattern); i++)
			bad += r.pattern[i] != 0;
	}
	if (bad)
		fprintf(stderr, "\n  %zu bytes after the pattern's NUL are not zero\n", bad);
	CU_ASSERT_EQUAL(bad, 0);
	cJSON_Delete(big);
	cJSON_Delete(small);
	free(js);
	free(long_pat);
}

static void test_small_messages(void)
{
	struct fg_portal_reject_access ra;
	struct fg_portal_expiry_updated eu;
	char err[FG_PORTAL_ERR_LEN];
	cJSON *p = cJSON_Parse("{\"client_id\":\"3abd725a-733b-4801-ac16-72f26cd98a24\",\"resource_id\":\"c7793628-8579-465b-83e3-1a5d4af4db3b\"}");

	CU_ASSERT_EQUAL_FATAL(fg_portal_reject_access_parse(p, &ra, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(ra.client_id, "3abd725a-733b-4801-ac16-72f26cd98a24");
	CU_ASSERT_STRING_EQUAL(ra.resource_id, "c7793628-8579-465b-83e3-1a5d4af4db3b");
	const struct hostile reject[] = {
		{ "client_id", NULL, "reject_access: client_id: missing" },
		{ "resource_id", NULL, "reject_access: resource_id: missing" },
		{ "resource_id", "null", "resource_id: missing" },
		{ "client_id", "[\"a\"]", "client_id: not a string" },
		{ "client_id", "\"\\t\"", "forbidden" },
		{ "extra", "1", NULL },
	};

	run_table("reject_access", p, run_reject, reject, ARRAY_LEN(reject));
	cJSON_Delete(p);

	p = cJSON_Parse("{\"client_id\":\"c\",\"resource_id\":\"r\",\"expires_at\":1767225600}");
	CU_ASSERT_EQUAL_FATAL(fg_portal_expiry_updated_parse(p, &eu, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(eu.expires_at, 1767225600);
	const struct hostile expiry[] = {
		{ "client_id", NULL, "access_authorization_expiry_updated: client_id: missing" },
		{ "expires_at", NULL, "expires_at: missing" },
		{ "expires_at", "null", "expires_at: not a non-negative integer" },
		{ "expires_at", "{}", "expires_at: not a non-negative integer" },
	};

	run_table("access_authorization_expiry_updated", p, run_expiry, expiry, ARRAY_LEN(expiry));
	cJSON_Delete(p);
}

static void test_relays_presence(void)
{
	struct fg_portal_relays_presence m;
	char err[FG_PORTAL_ERR_LEN], buf[FG_ENDPOINT_STRLEN];
	cJSON *p = frame_payload(rust_relays_presence_frame);

	CU_ASSERT_EQUAL_FATAL(fg_portal_relays_presence_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(m.n_disconnected, 2);
	CU_ASSERT_STRING_EQUAL(m.disconnected_ids[1], "b0724bd1-a8cc-4faf-88cd-f21159cfec47");
	CU_ASSERT_EQUAL_FATAL(m.n_connected, 1);
	CU_ASSERT_STRING_EQUAL(m.connected[0].id, "0a133356-7a9e-4b9a-b413-0d95a5720fd8");
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&m.connected[0].addr4, buf, sizeof(buf)), "172.28.0.101:3478");
	CU_ASSERT_STRING_EQUAL(m.connected[0].password, "ZWYiBeFHOJyYq0mcwAXjRpcuXIJJpzWlOXVdxwttrWg");
	CU_ASSERT_EQUAL(m.connected[0].expires_at, 1719367575);
	fg_portal_relays_presence_free(&m);
	CU_ASSERT_EQUAL(m.connected[0].password[0], '\0');

	char *many_ids = long_array(FG_PORTAL_MAX_IDS + 1, "\"id\"");
	char *max_ids = long_array(FG_PORTAL_MAX_IDS, "\"id\"");
	const struct hostile t[] = {
		{ "disconnected_ids", NULL, "disconnected_ids: missing" },
		{ "connected", NULL, "connected: missing" },
		{ "disconnected_ids", "\"a\"", "disconnected_ids: not an array" },
		{ "disconnected_ids", many_ids, "more than 256" },
		{ "disconnected_ids.1", "7", "disconnected_ids[1]: not an id" },
		{ "disconnected_ids.0", "\"\"", "disconnected_ids[0]: not an id" },
		{ "disconnected_ids.0", "\"a b\"", "disconnected_ids[0]: not an id" },
		{ "connected.0.addr", "\"172.28.0.101\"", "connected[0].addr" },
		{ "connected.0.password", NULL, "connected[0].password: missing" },
		{ "connected.0.type", "\"relay\"", "unknown relay type" },
		{ "disconnected_ids", max_ids, NULL },
		{ "disconnected_ids", "[]", NULL },
		{ "connected", "[]", NULL },
		{ "connected.0.extra", "[]", NULL },
	};

	run_table("relays_presence", p, run_presence, t, ARRAY_LEN(t));
	cJSON_Delete(p);
	free(many_ids);
	free(max_ids);
}

static void test_candidates(void)
{
	struct fg_portal_ice_candidates m;
	char err[FG_PORTAL_ERR_LEN];
	cJSON *p = expanded(ref_ice_candidates);

	CU_ASSERT_EQUAL_FATAL(fg_portal_ice_candidates_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(m.client_id, "3abd-0000");
	CU_ASSERT_EQUAL_FATAL(m.n, 1);
	CU_ASSERT_STRING_EQUAL(m.candidates[0], "candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx");
	cJSON_Delete(p);

	p = frame_payload(rust_invalidate_frame);
	CU_ASSERT_EQUAL_FATAL(fg_portal_ice_candidates_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.n, 1);
	CU_ASSERT_EQUAL(m.n_skipped, 0);
	cJSON_Delete(p);

	/* Malformed entries are skipped one by one. */
	p = cJSON_Parse("{\"client_id\":\"c\",\"candidates\":["
			"\"candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\","
			"7, null, \"\", \"candidate:\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host generation 0\","
			"\"candidate:abc 1 tcp 1 fd00::1 9 typ host tcptype active\","
			"\"candidate:842163049 1 udp 1677729535 198.51.100.7 46154 typ srflx raddr 0.0.0.0 rport 0\","
			"\"candidate:2 1 udp 5 192.0.2.1 3478 typ relay raddr 198.51.100.7 rport 46154\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ hostess\","
			"\"candidate:1 1 sctp 2130706431 10.0.0.1 5000 typ host\","
			"\"candidate:1 0 udp 2130706431 10.0.0.1 5000 typ host\","
			"\"candidate:1 1 udp 4294967296 10.0.0.1 5000 typ host\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 65536 typ host\","
			"\"candidate:1 1 udp 2130706431 host.local 5000 typ host\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000 type host\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000  typ host\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host \","
			"\"candidate: 1 1 udp 2130706431 10.0.0.1 5000 typ host\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\\n\","
			"\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host x\\u00e9\","
			"\"Candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\","
			"\"candidate:f-1 1 udp 2130706431 10.0.0.1 5000 typ host\","
			"\"candidate:123456789012345678901234567890123 1 udp 1 10.0.0.1 5000 typ host\","
			"[\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\"]]}");
	CU_ASSERT_EQUAL_FATAL(fg_portal_ice_candidates_parse(p, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.n, 5);
	CU_ASSERT_EQUAL(m.n_skipped, 21);
	CU_ASSERT_STRING_EQUAL(m.candidates[4], "candidate:2 1 udp 5 192.0.2.1 3478 typ relay raddr 198.51.100.7 rport 46154");
	cJSON_Delete(p);

	/* Too long to be a candidate. */
	char longc[400];

	snprintf(longc, sizeof(longc), "candidate:1 1 udp 1 10.0.0.1 5000 typ host %0300d", 0);
	CU_ASSERT_FALSE(fg_portal_candidate_valid(longc));
	CU_ASSERT_FALSE(fg_portal_candidate_valid(NULL));

	/* The cap keeps the first 32 valid ones. */
	char *many = long_array(40, "\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\"");
	char *too_many = long_array(FG_PORTAL_MAX_CANDIDATE_ENTRIES + 1, "0");
	const struct hostile t[] = {
		{ "client_id", NULL, "ice_candidates: client_id: missing" },
		{ "candidates", NULL, "candidates: missing" },
		{ "candidates", "\"candidate:1\"", "candidates: not an array" },
		{ "candidates", too_many, "more than 1024" },
		{ "candidates", "[]", NULL },
		{ "candidates", "[1,2,3]", NULL },
		{ "candidates", many, NULL },
	};

	p = expanded(ref_ice_candidates);
	run_table("ice_candidates", p, run_candidates, t, ARRAY_LEN(t));
	cJSON *q = edit(p, "candidates", many);

	CU_ASSERT_EQUAL(fg_portal_ice_candidates_parse(q, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.n, FG_PORTAL_MAX_CANDIDATES);
	CU_ASSERT_EQUAL(m.n_skipped, 40 - FG_PORTAL_MAX_CANDIDATES);
	cJSON_Delete(q);
	cJSON_Delete(p);
	free(many);
	free(too_many);
}

static void check_json(cJSON *j, const char *want)
{
	char *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	s = cJSON_PrintUnformatted(j);
	CU_ASSERT_STRING_EQUAL(s, want);
	free(s);
	cJSON_Delete(j);
}

static void test_builders(void)
{
	static const char *const ids[] = { "3abd725a-733b-4801-ac16-72f26cd98a24", "c2" };
	static const char *const cands[] = {
		"candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx",
		"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host",
	};

	/* Rust's serialize_authorization_created. */
	check_json(fg_portal_authorization_created("signed-reference"), "{\"ref\":\"signed-reference\"}");
	CU_ASSERT_PTR_NULL(fg_portal_authorization_created(NULL));
	check_json(fg_portal_snownet_capabilities(), "{\"iceless\":false}");
	check_json(fg_portal_no_relays(), "{}");
	check_json(fg_portal_broadcast_candidates(ids, 1, cands, 2),
		   "{\"client_ids\":[\"3abd725a-733b-4801-ac16-72f26cd98a24\"],\"candidates\":["
		   "\"candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx\","
		   "\"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\"]}");
	check_json(fg_portal_broadcast_candidates(ids, 2, NULL, 0),
		   "{\"client_ids\":[\"3abd725a-733b-4801-ac16-72f26cd98a24\",\"c2\"],\"candidates\":[]}");

	static const char *const with_null[] = { "a", NULL };

	CU_ASSERT_PTR_NULL(fg_portal_broadcast_candidates(with_null, 2, cands, 1));

	/* Through the Phoenix encoder: the whole frame the portal sees. */
	struct fg_phx_conn c;
	cJSON *payload = fg_portal_authorization_created("SFMyNTY.x");
	char *frame;

	fg_phx_conn_init(&c);
	fg_phx_conn_reset(&c, 0);
	free(fg_phx_join(&c, 0));
	frame = fg_phx_encode(&c, "gateway", fg_portal_reply_event(FG_PORTAL_EV_CREATE_AUTHORIZATION),
			      payload, NULL);
	CU_ASSERT_STRING_EQUAL(frame, "{\"topic\":\"gateway\",\"event\":\"authorization_created\","
				      "\"payload\":{\"ref\":\"SFMyNTY.x\"},\"ref\":1}");
	free(frame);
	cJSON_Delete(payload);
	fg_phx_conn_free(&c);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void parse_everything(const cJSON *p)
{
	char err[FG_PORTAL_ERR_LEN];

	run_init(p, &out_buf, err, sizeof(err));
	run_authz(p, &out_buf, err, sizeof(err));
	run_resource(p, &out_buf, err, sizeof(err));
	run_reject(p, &out_buf, err, sizeof(err));
	run_expiry(p, &out_buf, err, sizeof(err));
	run_presence(p, &out_buf, err, sizeof(err));
	run_candidates(p, &out_buf, err, sizeof(err));
}

static void test_mutations(void)
{
	const char *frames[] = {
		rust_create_authorization_frame, rust_init_frame, rust_resource_updated_frame,
		rust_relays_presence_frame, rust_invalidate_frame,
	};
	static const char alphabet[] = "{}[]\",:\\0123456789.-e ntruflasx";
	size_t cap = sizeof(rust_create_authorization_frame);
	char *buf = malloc(cap);
	unsigned decoded = 0;

	for (int round = 0; round < MUTATION_ROUNDS; round++) {
		const char *f = frames[rng() % ARRAY_LEN(frames)];
		size_t len = strlen(f);
		struct fg_phx_in m;

		memcpy(buf, f, len);
		for (unsigned k = 1 + rng() % 3; k && len > 1; k--) {
			size_t at = rng() % len;

			if (rng() % 2)
				buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
			else
				memmove(buf + at, buf + at + 1, --len - at);
		}
		if (fg_phx_decode(buf, len, &m, NULL, 0) == 0) {
			decoded++;
			parse_everything(m.payload);
			fg_phx_in_free(&m);
		}
	}
	CU_ASSERT(decoded > MUTATION_ROUNDS / 10);
	free(buf);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "events", test_events },
		{ "filters merged past the limit", test_filters_normalize },
		{ "init good", test_init_good },
		{ "init hostile", test_init_hostile },
		{ "init flow_logs", test_init_flow_logs },
		{ "authorization good", test_authorization_good },
		{ "authorization hostile", test_authorization_hostile },
		{ "resource_updated", test_resource_updated },
		{ "dns pattern zero-padded", test_pattern_zero_padded },
		{ "reject and expiry", test_small_messages },
		{ "relays_presence", test_relays_presence },
		{ "ice candidates", test_candidates },
		{ "builders", test_builders },
		{ "mutations", test_mutations },
	};

	return fg_cunit_run("portal_msg", tests, sizeof(tests) / sizeof(tests[0]));
}
