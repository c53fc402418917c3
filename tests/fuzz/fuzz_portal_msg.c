// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the portal's messages (controlplane/portal/portal_msg.c) as the portal
 * dispatcher meets them. The first input byte picks an event name: one of those the
 * gateway acts on (init, create_authorization, authorize_flow, reject_access,
 * resource_updated, access_authorization_expiry_updated, relays_presence, ice_candidates,
 * invalidate_ice_candidates) or one it ignores (configure_metrics, resource_deleted,
 * allow_access), whose payload then goes through every parser. The rest of the input is
 * the payload's JSON text, framed as the portal frames it and decoded by phoenix.c.
 *
 * A parser answers 0, -EBADMSG with "<message>: <path>: <why>" or -ENOMEM. What parses
 * keeps to the documented bounds and says what the JSON says, read here independently:
 * ids 1..63 printable ASCII without space, names without control characters and valid
 * UTF-8, every copied string equal to its JSON value, keys the base64 they came from,
 * addresses of the right family, counts within their caps, timestamps as documented (null
 * 0, a literal 0 is 1), filters as a naive reading of each entry finds them (or, past what
 * a control message carries, merged into sorted disjoint ranges), relays merged by id.
 * A failed parse leaves no pointer behind and its _free is harmless. Then every secret
 * (preshared_key, password, ref, flow_logs_ingest_token) is swapped for a canary and the
 * payload parsed again: the canary never shows in a reason, and what parses holds it.
 * Any broken invariant aborts. No state between inputs.
 *
 *   scripts/fuzz.sh 60 portal_msg     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/portal_msg/ (tests/fuzz/corpus/gen_cp_seeds.py).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "phoenix.h"
#include "portal_msg.h"
#include "fuzz_check.h"
#include "fuzz_portal_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The canaries: valid values, so that parsing goes as far as it went with the originals. */
static const char canary[] = "Cnry7xQvSecret";
static const char canary_key[] = "Q2FuYXJ5LXByZXNoYXJlZC1rZXktZm9yLWZ1enppbmc=";

static const char *const secret_keys[] = { "preshared_key", "password", "ref", "flow_logs_ingest_token" };

/* ---- an independent reading of the JSON ------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static bool absent(const cJSON *j)
{
	return !j || cJSON_IsNull(j);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *j = get(o, k);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* s (a fixed field of cap bytes) equals the JSON string at o[k]. */
static void equals(const char *s, size_t cap, const cJSON *o, const char *k)
{
	const char *j = str(o, k);

	CHECK(memchr(s, '\0', cap));
	CHECK(j && !strcmp(s, j));
}

/* An id: 1..cap-1 printable ASCII bytes, no space. */
static void id_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	CHECK(n > 0 && n < cap);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] > 0x20 && s[i] < 0x7f);
}

/* Well-formed UTF-8 without control characters (C0, DEL), under cap bytes. */
static void line_ok(const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			   c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		uint32_t cp;

		CHECK(k && i + k <= n && c >= 0x20 && c != 0x7f);
		cp = k == 1 ? c : (uint32_t)(c & (0x7f >> k));
		for (size_t j = 1; j < k; j++) {
			CHECK((p[i + j] & 0xc0) == 0x80);
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		CHECK(k != 3 || cp >= 0x800);
		CHECK(k != 4 || (cp >= 0x10000 && cp <= 0x10ffff));
		CHECK(cp < 0xd800 || cp > 0xdfff);
		i += k;
	}
}

/* A JSON number that is an exact integer in [0, max]. */
static bool exact(const cJSON *j, double max, uint64_t *v)
{
	double d;

	if (!cJSON_IsNumber(j))
		return false;
	d = j->valuedouble;
	if (!(d >= 0 && d <= max) || (double)(uint64_t)d != d)
		return false;
	*v = (uint64_t)d;
	return true;
}

/* A timestamp as the parsers store it: absent or null 0, a literal 0 is 1. */
static void ts_ok(uint64_t got, const cJSON *o, const char *k)
{
	const cJSON *j = get(o, k);
	uint64_t v = 0;

	if (absent(j)) {
		CHECK(got == 0);
		return;
	}
	CHECK(exact(j, 9007199254740992.0, &v));
	CHECK(got == (v ? v : 1));
}

static void ip_ok(const struct fg_ip *ip, int family, const char *text)
{
	uint8_t want[16];

	CHECK(ip->family == family && text);
	CHECK(inet_pton(family, text, want) == 1);
	CHECK(!memcmp(ip->addr, want, family == AF_INET ? 4 : 16));
}

static void key_ok(const uint8_t key[FG_KEY_LEN], const char *b64)
{
	uint8_t want[FG_KEY_LEN + 4];
	size_t n = 0;

	CHECK(b64 && strlen(b64) == 44);
	CHECK(sodium_base642bin(want, sizeof(want), b64, 44, NULL, &n, NULL,
				sodium_base64_VARIANT_ORIGINAL) == 0 && n == FG_KEY_LEN);
	CHECK(!memcmp(key, want, FG_KEY_LEN));
}

/* ---- checks of what parsed ------------------------------------------------------------- */

/* The naive reading of one filter entry: the Rust gateway's rules. */
static bool naive_filter(const cJSON *f, struct fg_portal_filter *out)
{
	const char *p = str(f, "protocol");
	const cJSON *lo = get(f, "port_range_start"), *hi = get(f, "port_range_end");
	uint64_t a = 0, b = 65535;

	if (!cJSON_IsObject(f) || !p)
		return false;
	if (!strcmp(p, "icmp")) {
		*out = (struct fg_portal_filter){ IPPROTO_ICMP, 0, 65535 };
		return true;
	}
	if (strcmp(p, "tcp") && strcmp(p, "udp"))
		return false;
	if ((!absent(lo) && !exact(lo, 65535, &a)) || (!absent(hi) && !exact(hi, 65535, &b)) || a > b)
		return false;
	*out = (struct fg_portal_filter){ (uint8_t)(p[0] == 't' ? IPPROTO_TCP : IPPROTO_UDP), (uint16_t)a,
					  (uint16_t)b };
	return true;
}

static void filters_ok(const struct fg_portal_resource *r, const cJSON *arr)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), good = 0, i = 0;
	struct fg_portal_filter f;
	const cJSON *e;

	CHECK(cJSON_IsArray(arr) && n <= FG_PORTAL_MAX_FILTER_ENTRIES);
	CHECK(r->n_filters <= FG_PORTAL_MAX_FILTERS && (!r->n_filters || r->filters));
	CHECK(!n || r->n_filters);
	for (unsigned k = 0; k < r->n_filters; k++) {
		const struct fg_portal_filter *x = &r->filters[k];

		CHECK(x->proto == IPPROTO_ICMP || x->proto == IPPROTO_TCP || x->proto == IPPROTO_UDP);
		CHECK(x->port_start <= x->port_end);
		CHECK(x->proto != IPPROTO_ICMP || (x->port_start == 0 && x->port_end == 65535));
	}
	cJSON_ArrayForEach(e, arr)
		good += naive_filter(e, &f);
	CHECK(good + r->n_bad_filters == n);
	if (good <= FG_PORTAL_MAX_FILTERS) {
		/* Kept as the portal sent them. */
		CHECK(r->n_filters == good);
		cJSON_ArrayForEach(e, arr) {
			if (!naive_filter(e, &f))
				continue;
			CHECK(r->filters[i].proto == f.proto && r->filters[i].port_start == f.port_start &&
			      r->filters[i].port_end == f.port_end);
			i++;
		}
		return;
	}
	/* Merged: sorted, and no two ranges of a protocol overlap or touch ... */
	for (unsigned k = 1; k < r->n_filters; k++) {
		const struct fg_portal_filter *a = &r->filters[k - 1], *b = &r->filters[k];

		CHECK(a->proto < b->proto || (a->proto == b->proto && (uint32_t)a->port_end + 1 < b->port_start));
	}
	/* ... and every valid entry lies inside one of them (the last range starting at or
	 * before it, found by bisection). */
	cJSON_ArrayForEach(e, arr) {
		size_t lo = 0, hi = r->n_filters;

		if (!naive_filter(e, &f))
			continue;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			const struct fg_portal_filter *x = &r->filters[mid];

			if (x->proto < f.proto || (x->proto == f.proto && x->port_start <= f.port_start))
				lo = mid;
			else
				hi = mid;
		}
		CHECK(r->filters[lo].proto == f.proto && r->filters[lo].port_start <= f.port_start &&
		      r->filters[lo].port_end >= f.port_end);
	}
}

static void resource_ok(const struct fg_portal_resource *r, const cJSON *j)
{
	const char *type = str(j, "type");
	struct fg_prefix p;

	id_ok(r->id, sizeof(r->id));
	equals(r->id, sizeof(r->id), j, "id");
	line_ok(r->name, sizeof(r->name));
	CHECK(type);
	if (!strcmp(type, "internet")) {
		CHECK(r->type == FG_PORTAL_RES_INTERNET && !r->n_filters && !r->filters && !r->pattern[0]);
		CHECK(absent(get(j, "name")) ? !r->name[0] : !strcmp(r->name, str(j, "name")));
		return;
	}
	equals(r->name, sizeof(r->name), j, "name");
	if (!strcmp(type, "cidr")) {
		CHECK(r->type == FG_PORTAL_RES_CIDR && !r->pattern[0]);
		CHECK(r->prefix.ip.family == AF_INET || r->prefix.ip.family == AF_INET6);
		CHECK(r->prefix.len <= (r->prefix.ip.family == AF_INET ? 32 : 128));
		for (unsigned bit = r->prefix.len; bit < (r->prefix.ip.family == AF_INET ? 32u : 128u); bit++)
			CHECK(!(r->prefix.ip.addr[bit / 8] & (0x80 >> (bit % 8))));
		CHECK(fg_prefix_parse(str(j, "address"), &p) == 0 && p.len == r->prefix.len &&
		      fg_ip_equal(&p.ip, &r->prefix.ip));
	} else {
		CHECK(!strcmp(type, "dns") && r->type == FG_PORTAL_RES_DNS);
		id_ok(r->pattern, sizeof(r->pattern));
		equals(r->pattern, sizeof(r->pattern), j, "address");
	}
	filters_ok(r, get(j, "filters"));
}

static void endpoint_ok(const struct fg_endpoint *ep, int family)
{
	CHECK(ep->ip.family == 0 || (ep->ip.family == family && ep->port));
	CHECK(ep->ip.family || !ep->port);
}

/* One merged relay: its last entry of its id in arr gave the type and credentials. */
static void relay_ok(const struct fg_portal_relay *r, const cJSON *arr)
{
	const cJSON *e, *last = NULL;

	id_ok(r->id, sizeof(r->id));
	endpoint_ok(&r->addr4, AF_INET);
	endpoint_ok(&r->addr6, AF_INET6);
	CHECK(r->addr4.ip.family || r->addr6.ip.family);
	cJSON_ArrayForEach(e, arr)
		if (str(e, "id") && !strcmp(str(e, "id"), r->id))
			last = e;
	CHECK(last);
	if (r->type == FG_PORTAL_RELAY_TURN) {
		CHECK(!strcmp(str(last, "type"), "turn"));
		id_ok(r->username, sizeof(r->username));
		id_ok(r->password, sizeof(r->password));
		equals(r->username, sizeof(r->username), last, "username");
		equals(r->password, sizeof(r->password), last, "password");
		CHECK(r->expires_at > 0);
		ts_ok(r->expires_at, last, "expires_at");
	} else {
		CHECK(r->type == FG_PORTAL_RELAY_STUN && !strcmp(str(last, "type"), "stun"));
		CHECK(!r->username[0] && !r->password[0] && !r->expires_at);
	}
}

static void relays_ok(const struct fg_portal_relay *r, unsigned n, const cJSON *arr)
{
	CHECK(n <= FG_PORTAL_MAX_RELAYS && n <= (unsigned)cJSON_GetArraySize(arr));
	for (unsigned i = 0; i < n; i++) {
		relay_ok(&r[i], arr);
		for (unsigned k = 0; k < i; k++)
			CHECK(strcmp(r[i].id, r[k].id));
	}
}

static void init_ok(const struct fg_portal_init *m, const cJSON *j)
{
	const cJSON *iface = get(j, "interface"), *arr = get(j, "authorizations"), *fl = get(j, "flow_logs");
	const cJSON *list, *e;
	size_t i = 0;
	uint64_t v;

	ip_ok(&m->ipv4, AF_INET, str(iface, "ipv4"));
	ip_ok(&m->ipv6, AF_INET6, str(iface, "ipv6"));
	line_ok(m->account_slug, sizeof(m->account_slug));
	CHECK(absent(get(j, "account_slug")) ? !m->account_slug[0]
					     : !strcmp(m->account_slug, str(j, "account_slug")));
	relays_ok(m->relays, m->n_relays, get(j, "relays"));
	CHECK(m->has_authorizations == !absent(arr));
	CHECK(m->n_auths == (absent(arr) ? 0 : (size_t)cJSON_GetArraySize(arr)));
	CHECK(m->n_auths <= FG_PORTAL_MAX_AUTHS && (!m->n_auths) == (!m->auths));
	list = absent(arr) ? NULL : arr;
	cJSON_ArrayForEach(e, list) {
		const struct fg_portal_auth *a = &m->auths[i++];

		id_ok(a->client_id, sizeof(a->client_id));
		id_ok(a->resource_id, sizeof(a->resource_id));
		equals(a->client_id, sizeof(a->client_id), e, "client_id");
		equals(a->resource_id, sizeof(a->resource_id), e, "resource_id");
		CHECK(get(e, "expires_at"));
		ts_ok(a->expires_at, e, "expires_at");
	}
	CHECK(m->has_flow_logs == !absent(fl));
	CHECK(memchr(m->flow_logs_error, '\0', sizeof(m->flow_logs_error)));
	if (!m->has_flow_logs || m->flow_logs_error[0]) {
		CHECK(!m->flow_logs_api_url[0] && !m->flow_logs_interval_secs && !m->flow_logs_batch_size);
		CHECK(m->has_flow_logs || !m->flow_logs_error[0]);
		return;
	}
	id_ok(m->flow_logs_api_url, sizeof(m->flow_logs_api_url));
	equals(m->flow_logs_api_url, sizeof(m->flow_logs_api_url), fl, "api_url");
	CHECK(exact(get(fl, "upload_interval_secs"), 9007199254740992.0, &v) && v == m->flow_logs_interval_secs);
	v = 0;
	CHECK(absent(get(fl, "upload_batch_size")) ||
	      exact(get(fl, "upload_batch_size"), 9007199254740992.0, &v));
	CHECK(v == m->flow_logs_batch_size);
}

static void authorization_ok(const struct fg_portal_authorization *m, const cJSON *j)
{
	const struct fg_portal_ice_creds *ice[2] = { &m->gateway_ice, &m->client_ice };
	const cJSON *ice_j[2] = { get(j, "gateway_ice_credentials"), get(j, "client_ice_credentials") };
	const cJSON *c = get(j, "client");

	CHECK(m->ref && strlen(m->ref) <= FG_PORTAL_REF_MAX);
	id_ok(m->ref, FG_PORTAL_REF_MAX + 1);
	CHECK(!strcmp(m->ref, str(j, "ref")));
	resource_ok(&m->resource, get(j, "resource"));
	id_ok(m->client.id, sizeof(m->client.id));
	equals(m->client.id, sizeof(m->client.id), c, "id");
	CHECK(!sodium_is_zero(m->client.public_key, FG_KEY_LEN));
	key_ok(m->client.public_key, str(c, "public_key"));
	key_ok(m->client.psk, str(c, "preshared_key"));
	ip_ok(&m->client.ipv4, AF_INET, str(c, "ipv4"));
	ip_ok(&m->client.ipv6, AF_INET6, str(c, "ipv6"));
	line_ok(m->client.version, sizeof(m->client.version));
	CHECK(absent(get(c, "version")) ? !m->client.version[0] : !strcmp(m->client.version, str(c, "version")));
	for (int i = 0; i < 2; i++) {
		id_ok(ice[i]->username, sizeof(ice[i]->username));
		id_ok(ice[i]->password, sizeof(ice[i]->password));
		equals(ice[i]->username, sizeof(ice[i]->username), ice_j[i], "username");
		equals(ice[i]->password, sizeof(ice[i]->password), ice_j[i], "password");
	}
	ts_ok(m->expires_at, j, "expires_at");
	CHECK(m->use_iceless == cJSON_IsTrue(get(j, "use_iceless")));
	if (absent(get(j, "flow_logs_ingest_token"))) {
		CHECK(!m->flow_logs_token);
	} else {
		CHECK(m->flow_logs_token && strlen(m->flow_logs_token) <= FG_PORTAL_TOKEN_MAX);
		id_ok(m->flow_logs_token, FG_PORTAL_TOKEN_MAX + 1);
		CHECK(!strcmp(m->flow_logs_token, str(j, "flow_logs_ingest_token")));
	}
}

static void presence_ok(const struct fg_portal_relays_presence *m, const cJSON *j)
{
	const cJSON *ids = get(j, "disconnected_ids"), *e;
	unsigned i = 0;

	CHECK(cJSON_IsArray(ids) && m->n_disconnected == (unsigned)cJSON_GetArraySize(ids));
	CHECK(m->n_disconnected <= FG_PORTAL_MAX_IDS);
	cJSON_ArrayForEach(e, ids) {
		id_ok(m->disconnected_ids[i], FG_PORTAL_ID_LEN);
		CHECK(cJSON_IsString(e) && !strcmp(m->disconnected_ids[i], e->valuestring));
		i++;
	}
	relays_ok(m->connected, m->n_connected, get(j, "connected"));
}

static void candidates_ok(const struct fg_portal_ice_candidates *m, const cJSON *j)
{
	const cJSON *arr = get(j, "candidates"), *e;
	unsigned i = 0;

	id_ok(m->client_id, sizeof(m->client_id));
	equals(m->client_id, sizeof(m->client_id), j, "client_id");
	CHECK(cJSON_IsArray(arr) && m->n <= FG_PORTAL_MAX_CANDIDATES);
	CHECK(m->n + m->n_skipped == (unsigned)cJSON_GetArraySize(arr));
	/* The first valid ones, in order. */
	cJSON_ArrayForEach(e, arr) {
		if (i == m->n)
			break;
		if (!cJSON_IsString(e) || !fg_portal_candidate_valid(e->valuestring))
			continue;
		CHECK(!strcmp(m->candidates[i], e->valuestring));
		i++;
	}
	CHECK(i == m->n);
	for (i = 0; i < m->n; i++) {
		line_ok(m->candidates[i], FG_PORTAL_CANDIDATE_LEN);
		CHECK(!strncmp(m->candidates[i], "candidate:", 10));
		CHECK(fg_portal_candidate_valid(m->candidates[i]));
	}
}

/* ---- the parsers ----------------------------------------------------------------------- */

/* A reason: NUL-terminated, "<message>: ...", and no canary in it (unless the input itself
 * held one somewhere, which a reason may quote: an address that is not one). */
static void reason_ok(const char *err, size_t len, const char *msg, int rc, bool quoted_ok)
{
	CHECK(memchr(err, '\0', len));
	if (rc == 0 || rc == -ENOMEM)
		return;
	CHECK(!strncmp(err, msg, strlen(msg)) && err[strlen(msg)] == ':');
	CHECK(quoted_ok || (!strstr(err, canary) && !strstr(err, canary_key)));
}

/* Runs the parser of ev (every parser for UNKNOWN); returns how many succeeded. */
static int parse(enum fg_portal_event ev, const cJSON *p, bool quoted_ok)
{
	char err[FG_PORTAL_ERR_LEN];
	int ok = 0, rc;

	if (ev == FG_PORTAL_EV_INIT || ev == FG_PORTAL_EV_UNKNOWN) {
		struct fg_portal_init *m = malloc(sizeof(*m));

		CHECK(m);
		rc = fg_portal_init_parse(p, m, err, sizeof(err));
		CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
		reason_ok(err, sizeof(err), "init", rc, quoted_ok);
		if (rc == 0)
			init_ok(m, p);
		else
			CHECK(!m->auths && !m->n_auths && !m->n_relays);
		ok += rc == 0;
		fg_portal_init_free(m);
		free(m);
	}
	if (ev == FG_PORTAL_EV_CREATE_AUTHORIZATION || ev == FG_PORTAL_EV_AUTHORIZE_FLOW ||
	    ev == FG_PORTAL_EV_UNKNOWN) {
		struct fg_portal_authorization *m = malloc(sizeof(*m));

		CHECK(m);
		rc = fg_portal_authorization_parse(p, m, err, sizeof(err));
		CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
		reason_ok(err, sizeof(err), "create_authorization", rc, quoted_ok);
		if (rc == 0)
			authorization_ok(m, p);
		else
			CHECK(!m->ref && !m->flow_logs_token && !m->resource.filters && !m->resource.n_filters);
		ok += rc == 0;
		fg_portal_authorization_free(m);
		free(m);
	}
	if (ev == FG_PORTAL_EV_RESOURCE_UPDATED || ev == FG_PORTAL_EV_UNKNOWN) {
		struct fg_portal_resource *m = malloc(sizeof(*m));

		CHECK(m);
		rc = fg_portal_resource_parse(p, m, err, sizeof(err));
		CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
		reason_ok(err, sizeof(err), "resource_updated", rc, quoted_ok);
		if (rc == 0)
			resource_ok(m, p);
		else
			CHECK(!m->filters && !m->n_filters);
		ok += rc == 0;
		fg_portal_resource_free(m);
		free(m);
	}
	if (ev == FG_PORTAL_EV_REJECT_ACCESS || ev == FG_PORTAL_EV_UNKNOWN) {
		struct fg_portal_reject_access m;

		rc = fg_portal_reject_access_parse(p, &m, err, sizeof(err));
		CHECK(rc == 0 || rc == -EBADMSG);
		reason_ok(err, sizeof(err), "reject_access", rc, quoted_ok);
		if (rc == 0) {
			id_ok(m.client_id, sizeof(m.client_id));
			id_ok(m.resource_id, sizeof(m.resource_id));
			equals(m.client_id, sizeof(m.client_id), p, "client_id");
			equals(m.resource_id, sizeof(m.resource_id), p, "resource_id");
		}
		ok += rc == 0;
	}
	if (ev == FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED || ev == FG_PORTAL_EV_UNKNOWN) {
		struct fg_portal_expiry_updated m;

		rc = fg_portal_expiry_updated_parse(p, &m, err, sizeof(err));
		CHECK(rc == 0 || rc == -EBADMSG);
		reason_ok(err, sizeof(err), "access_authorization_expiry_updated", rc, quoted_ok);
		if (rc == 0) {
			id_ok(m.client_id, sizeof(m.client_id));
			id_ok(m.resource_id, sizeof(m.resource_id));
			equals(m.client_id, sizeof(m.client_id), p, "client_id");
			equals(m.resource_id, sizeof(m.resource_id), p, "resource_id");
			CHECK(m.expires_at > 0);
			ts_ok(m.expires_at, p, "expires_at");
		}
		ok += rc == 0;
	}
	if (ev == FG_PORTAL_EV_RELAYS_PRESENCE || ev == FG_PORTAL_EV_UNKNOWN) {
		struct fg_portal_relays_presence *m = malloc(sizeof(*m));

		CHECK(m);
		rc = fg_portal_relays_presence_parse(p, m, err, sizeof(err));
		CHECK(rc == 0 || rc == -EBADMSG);
		reason_ok(err, sizeof(err), "relays_presence", rc, quoted_ok);
		if (rc == 0)
			presence_ok(m, p);
		else
			CHECK(!m->n_disconnected && !m->n_connected);
		ok += rc == 0;
		fg_portal_relays_presence_free(m);
		free(m);
	}
	if (ev == FG_PORTAL_EV_ICE_CANDIDATES || ev == FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES ||
	    ev == FG_PORTAL_EV_UNKNOWN) {
		struct fg_portal_ice_candidates *m = malloc(sizeof(*m));

		CHECK(m);
		rc = fg_portal_ice_candidates_parse(p, m, err, sizeof(err));
		CHECK(rc == 0 || rc == -EBADMSG);
		reason_ok(err, sizeof(err), "ice_candidates", rc, quoted_ok);
		if (rc == 0)
			candidates_ok(m, p);
		ok += rc == 0;
		free(m);
	}
	return ok;
}

/* Whether a key or string anywhere under it (and its siblings) holds s. */
static bool holds(const cJSON *it, const char *s)
{
	for (; it; it = it->next)
		if ((it->string && strstr(it->string, s)) || (cJSON_IsString(it) && strstr(it->valuestring, s)) ||
		    holds(it->child, s))
			return true;
	return false;
}

/* Swaps every secret string under it (and its siblings) for a canary; returns how many. */
static unsigned plant(cJSON *it)
{
	unsigned n = 0;

	for (; it; it = it->next) {
		if (it->child)
			n += plant(it->child);
		if (!cJSON_IsString(it) || !it->string)
			continue;
		for (size_t i = 0; i < N(secret_keys); i++) {
			if (strcmp(it->string, secret_keys[i]))
				continue;
			CHECK(cJSON_SetValuestring(it, i == 0 ? canary_key : canary));
			n++;
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "{\"topic\":\"gateway\",\"event\":\"%s\",\"payload\":";
	static const char tail[] = ",\"ref\":null}";
	enum fg_portal_event ev;
	struct fg_phx_in m;
	bool quoted_ok;
	char *frame;
	size_t n;
	int ok;

	if (size < 1 || size > 1 << 20)
		return 0;
	ev = fuzz_portal_events[data[0] % N(fuzz_portal_events)].ev;
	CHECK(fg_portal_event_parse(fuzz_portal_events[data[0] % N(fuzz_portal_events)].name) == ev);
	if (ev != FG_PORTAL_EV_UNKNOWN)
		CHECK(!strcmp(fg_portal_event_name(ev), fuzz_portal_events[data[0] % N(fuzz_portal_events)].name));
	CHECK((fg_portal_reply_event(ev) != NULL) ==
	      (ev == FG_PORTAL_EV_CREATE_AUTHORIZATION || ev == FG_PORTAL_EV_AUTHORIZE_FLOW));
	/* The frame as the portal sends it. */
	frame = malloc(sizeof(head) + 64 + size + sizeof(tail));
	CHECK(frame);
	n = (size_t)sprintf(frame, head, fuzz_portal_events[data[0] % N(fuzz_portal_events)].name);
	memcpy(frame + n, data + 1, size - 1);
	memcpy(frame + n + size - 1, tail, sizeof(tail));
	n += size - 1 + sizeof(tail) - 1;
	if (fg_phx_decode(frame, n, &m, NULL, 0) != 0) {
		free(frame);
		return 0;
	}
	free(frame);
	CHECK(fg_phx_handle(&(struct fg_phx_conn){ .join_ref = -1 }, &m) == FG_PHX_ACT_MESSAGE);
	quoted_ok = holds(m.payload, canary) || holds(m.payload, canary_key);
	ok = parse(ev, m.payload, quoted_ok);
	CHECK(ev == FG_PORTAL_EV_UNKNOWN || ok <= 1);
	/* Again with canaries for the secrets: a reason never quotes them. */
	if (plant(m.payload->child))
		parse(ev, m.payload, quoted_ok);
	fg_phx_in_free(&m);
	return 0;
}
