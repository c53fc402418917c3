/* SPDX-License-Identifier: MIT */
/*
 * Parsers for the portal's messages and builders for the gateway's (reference §2.4,
 * §2.5), following the Rust gateway's serde types in tunnel-proto/src/messages*.rs:
 * unknown fields ignored, required fields enforced, filters and ICE candidates skipped one
 * by one when malformed, everything else malformed refused whole. Every string is
 * length-checked against its fixed field and character-checked (ids are printable ASCII
 * without spaces, nothing may hold a control character). No state; the outputs belong to
 * the caller (the control plane's single thread).
 */
#include "portal_msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

/* JSON numbers are doubles: timestamps and ports must be exact integers below 2^53. */
static const double max_exact = 9007199254740992.0;

/* The message being parsed and where its error goes. */
struct ctx {
	const char *msg;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *x, const char *path, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	if (x->err && x->errlen) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		snprintf(x->err, x->errlen, "%s: %s: %s", x->msg, path, why);
	}
	return -EBADMSG;
}

enum text_kind {
	TEXT_ID,      /* printable ASCII, no space (ids, refs, credentials, tokens) */
	TEXT_LINE,    /* no control characters; UTF-8 allowed (names, versions, slugs) */
};

/* The length of the well-formed UTF-8 sequence at s (no overlongs, surrogates or code
 * points above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	uint32_t cp = s[0] & (0x7f >> n);

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool text_ok(const char *s, enum text_kind kind)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = 1;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (kind == TEXT_ID && (*p == ' ' || *p > 0x7e))
			return false;
		if (*p >= 0x80 && !(n = utf8_len(p)))
			return false;
		p += n;
	}
	return true;
}

static const cJSON *field(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static bool absent(const cJSON *it)
{
	return !it || cJSON_IsNull(it);
}

/* Builds "prefix.key" or "prefix[i].key" paths for error messages. */
static const char *at(char *buf, size_t len, const char *pfx, const char *key)
{
	snprintf(buf, len, "%s%s%s", pfx, *pfx && *key ? "." : "", key);
	return buf;
}

/*
 * A string field into a fixed buffer. Returns 0 (set), 1 (optional and absent or null:
 * out is ""), or -EBADMSG. Values are never quoted: some are secrets.
 */
static int str_field(struct ctx *x, const cJSON *obj, const char *pfx, const char *key,
		     bool required, enum text_kind kind, char *out, size_t outlen)
{
	const cJSON *it = field(obj, key);
	char path[96];
	size_t n;

	out[0] = '\0';
	if (absent(it)) {
		if (!required)
			return 1;
		return fail(x, at(path, sizeof(path), pfx, key), "missing");
	}
	if (!cJSON_IsString(it) || !it->valuestring)
		return fail(x, at(path, sizeof(path), pfx, key), "not a string");
	n = strlen(it->valuestring);
	if (required && !n)
		return fail(x, at(path, sizeof(path), pfx, key), "empty");
	if (n >= outlen)
		return fail(x, at(path, sizeof(path), pfx, key), "longer than %zu bytes", outlen - 1);
	if (!text_ok(it->valuestring, kind))
		return fail(x, at(path, sizeof(path), pfx, key), "holds forbidden characters");
	memcpy(out, it->valuestring, n + 1);
	return 0;
}

static int id_field(struct ctx *x, const cJSON *obj, const char *pfx, const char *key, char *out)
{
	return str_field(x, obj, pfx, key, true, TEXT_ID, out, FG_PORTAL_ID_LEN);
}

/* A string of at most max bytes copied to the heap; *out stays NULL when optional and
 * absent. */
static int heap_field(struct ctx *x, const cJSON *obj, const char *key, bool required,
		      size_t max, char **out)
{
	const cJSON *it = field(obj, key);
	size_t n;

	*out = NULL;
	if (absent(it))
		return required ? fail(x, key, "missing") : 0;
	if (!cJSON_IsString(it) || !it->valuestring)
		return fail(x, key, "not a string");
	n = strlen(it->valuestring);
	if (!n || n > max)
		return fail(x, key, "empty or longer than %zu bytes", max);
	if (!text_ok(it->valuestring, TEXT_ID))
		return fail(x, key, "holds forbidden characters");
	*out = malloc(n + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, it->valuestring, n + 1);
	return 0;
}

static bool exact_uint(const cJSON *it, double max, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(it))
		return false;
	d = it->valuedouble;
	if (!(d >= 0 && d <= max) || (double)(uint64_t)d != d)
		return false;
	*out = (uint64_t)d;
	return true;
}

/* Unix seconds; null (and absent when !required) = never = 0; a literal 0 becomes 1. */
static int ts_field(struct ctx *x, const cJSON *obj, const char *pfx, const char *key,
		    bool required, bool nullable, uint64_t *out)
{
	const cJSON *it = field(obj, key);
	char path[96];

	*out = 0;
	if (!it && !required)
		return 0;
	if (!it)
		return fail(x, at(path, sizeof(path), pfx, key), "missing");
	if (cJSON_IsNull(it) && nullable)
		return 0;
	if (!exact_uint(it, max_exact, out))
		return fail(x, at(path, sizeof(path), pfx, key), "not a non-negative integer");
	if (!*out)
		*out = 1;
	return 0;
}

static int bool_field(struct ctx *x, const cJSON *obj, const char *key, bool *out)
{
	const cJSON *it = field(obj, key);

	*out = false;
	if (absent(it))
		return 0;
	if (!cJSON_IsBool(it))
		return fail(x, key, "not a boolean");
	*out = cJSON_IsTrue(it);
	return 0;
}

static int ip_field(struct ctx *x, const cJSON *obj, const char *pfx, const char *key,
		    int family, struct fg_ip *out)
{
	char buf[FG_ADDR_STRLEN], path[96], quoted[FG_ADDR_STRLEN * 4 + 16];
	int rc = str_field(x, obj, pfx, key, true, TEXT_ID, buf, sizeof(buf));

	if (rc)
		return rc;
	if (fg_ip_parse(buf, out) || out->family != family) {
		fg_key_redact(quoted, sizeof(quoted), buf, strlen(buf), FG_ADDR_STRLEN);
		return fail(x, at(path, sizeof(path), pfx, key), "\"%s\" is not an %s address",
			    quoted, family == AF_INET ? "IPv4" : "IPv6");
	}
	return 0;
}

static int key_field(struct ctx *x, const cJSON *obj, const char *pfx, const char *key,
		     uint8_t out[FG_KEY_LEN])
{
	const cJSON *it = field(obj, key);
	char path[96];

	if (absent(it))
		return fail(x, at(path, sizeof(path), pfx, key), "missing");
	if (!cJSON_IsString(it) || !it->valuestring)
		return fail(x, at(path, sizeof(path), pfx, key), "not a string");
	if (fg_key_from_base64(out, it->valuestring))
		return fail(x, at(path, sizeof(path), pfx, key), "not a 44-character base64 key");
	return 0;
}

static int object_field(struct ctx *x, const cJSON *obj, const char *key, const cJSON **out)
{
	*out = field(obj, key);
	if (!*out)
		return fail(x, key, "missing");
	if (!cJSON_IsObject(*out))
		return fail(x, key, "not an object");
	return 0;
}

/* An optional array of at most max entries; *n = 0 when absent or null. */
static int array_field(struct ctx *x, const cJSON *obj, const char *pfx, const char *key,
		       bool required, int max, const cJSON **out, int *n)
{
	char path[96];

	*out = field(obj, key);
	*n = 0;
	if (absent(*out)) {
		*out = NULL;
		return required ? fail(x, at(path, sizeof(path), pfx, key), "missing") : 0;
	}
	if (!cJSON_IsArray(*out))
		return fail(x, at(path, sizeof(path), pfx, key), "not an array");
	*n = cJSON_GetArraySize(*out);
	if (*n > max)
		return fail(x, at(path, sizeof(path), pfx, key), "more than %d entries", max);
	return 0;
}

static bool parse_filter(const cJSON *f, struct fg_portal_filter *out)
{
	const cJSON *proto = field(f, "protocol"), *lo, *hi;
	uint64_t start = 0, end = 65535;

	if (!cJSON_IsObject(f) || !cJSON_IsString(proto))
		return false;
	if (!strcmp(proto->valuestring, "icmp")) {
		*out = (struct fg_portal_filter){ IPPROTO_ICMP, 0, 65535 };
		return true;
	}
	if (!strcmp(proto->valuestring, "tcp"))
		out->proto = IPPROTO_TCP;
	else if (!strcmp(proto->valuestring, "udp"))
		out->proto = IPPROTO_UDP;
	else
		return false;
	lo = field(f, "port_range_start");
	hi = field(f, "port_range_end");
	if (!absent(lo) && !exact_uint(lo, 65535, &start))
		return false;
	if (!absent(hi) && !exact_uint(hi, 65535, &end))
		return false;
	if (start > end)
		return false;
	out->port_start = (uint16_t)start;
	out->port_end = (uint16_t)end;
	return true;
}

static int filter_cmp(const void *a, const void *b)
{
	const struct fg_portal_filter *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port_start != y->port_start)
		return x->port_start < y->port_start ? -1 : 1;
	return (x->port_end > y->port_end) - (x->port_end < y->port_end);
}

size_t fg_portal_filters_normalize(struct fg_portal_filter *f, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(f, n, sizeof(*f), filter_cmp);
	for (size_t i = 1; i < n; i++) {
		struct fg_portal_filter *cur = &f[out];

		/* the same protocol, overlapping or adjacent: one range */
		if (f[i].proto == cur->proto && (uint32_t)f[i].port_start <= (uint32_t)cur->port_end + 1) {
			if (f[i].port_end > cur->port_end)
				cur->port_end = f[i].port_end;
			continue;
		}
		f[++out] = f[i];
	}
	return out + 1;
}

static int parse_filters(struct ctx *x, const cJSON *res, const char *pfx,
			 struct fg_portal_resource *out)
{
	const cJSON *arr, *f;
	char path[96];
	int n, rc;

	rc = array_field(x, res, pfx, "filters", true, FG_PORTAL_MAX_FILTER_ENTRIES, &arr, &n);
	if (rc)
		return rc;
	if (n > 0 && !(out->filters = calloc((size_t)n, sizeof(*out->filters))))
		return -ENOMEM;
	cJSON_ArrayForEach(f, arr) {
		struct fg_portal_filter flt;

		if (!parse_filter(f, &flt)) {
			out->n_bad_filters++;
			continue;
		}
		out->filters[out->n_filters++] = flt;
	}
	if (n && !out->n_filters)
		return fail(x, at(path, sizeof(path), pfx, "filters"),
			    "every filter is invalid (refused: it would allow everything)");
	/* Past what one control message carries, the same rules in fewer ranges (the order of
	 * filters means nothing to the policy; below the limit it is kept as the portal sent it). */
	if (out->n_filters > FG_PORTAL_MAX_FILTERS)
		out->n_filters = fg_portal_filters_normalize(out->filters, out->n_filters);
	if (out->n_filters > FG_PORTAL_MAX_FILTERS)
		return fail(x, at(path, sizeof(path), pfx, "filters"),
			    "more than %d disjoint port ranges after merging", FG_PORTAL_MAX_FILTERS);
	return 0;
}

static int parse_resource(struct ctx *x, const cJSON *res, const char *pfx,
			  struct fg_portal_resource *out)
{
	char type[16], addr[FG_PORTAL_PATTERN_LEN], path[96], quoted[80];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(res))
		return fail(x, *pfx ? pfx : "payload", "not an object");
	rc = id_field(x, res, pfx, "id", out->id);
	if (!rc)
		rc = str_field(x, res, pfx, "type", true, TEXT_ID, type, sizeof(type));
	if (rc)
		return rc;
	if (!strcmp(type, "internet")) {
		out->type = FG_PORTAL_RES_INTERNET;
		rc = str_field(x, res, pfx, "name", false, TEXT_LINE, out->name, sizeof(out->name));
		return rc > 0 ? 0 : rc;
	}
	if (!strcmp(type, "cidr"))
		out->type = FG_PORTAL_RES_CIDR;
	else if (!strcmp(type, "dns"))
		out->type = FG_PORTAL_RES_DNS;
	else
		return fail(x, at(path, sizeof(path), pfx, "type"), "unknown resource type");
	rc = str_field(x, res, pfx, "address", true, TEXT_ID, addr, sizeof(addr));
	if (!rc)
		rc = str_field(x, res, pfx, "name", true, TEXT_LINE, out->name, sizeof(out->name));
	if (rc)
		return rc;
	if (out->type == FG_PORTAL_RES_CIDR) {
		if (fg_prefix_parse(addr, &out->prefix)) {
			fg_key_redact(quoted, sizeof(quoted), addr, strlen(addr), 16);
			return fail(x, at(path, sizeof(path), pfx, "address"), "\"%s\" is not a CIDR", quoted);
		}
	} else {
		/* Only the string: the rest of addr is stack garbage, and out->pattern (zeroed
		 * above) travels whole to the data plane. */
		memcpy(out->pattern, addr, strlen(addr) + 1);
	}
	return parse_filters(x, res, pfx, out);
}

static int parse_client(struct ctx *x, const cJSON *c, struct fg_portal_client *out)
{
	int rc = id_field(x, c, "client", "id", out->id);

	if (!rc)
		rc = key_field(x, c, "client", "public_key", out->public_key);
	if (!rc && fg_key_is_zero(out->public_key))
		rc = fail(x, "client.public_key", "the all-zero key");
	if (!rc)
		rc = key_field(x, c, "client", "preshared_key", out->psk);
	if (!rc)
		rc = ip_field(x, c, "client", "ipv4", AF_INET, &out->ipv4);
	if (!rc)
		rc = ip_field(x, c, "client", "ipv6", AF_INET6, &out->ipv6);
	if (!rc)
		rc = str_field(x, c, "client", "version", false, TEXT_LINE, out->version,
			       sizeof(out->version));
	return rc > 0 ? 0 : rc;
}

static int parse_ice(struct ctx *x, const cJSON *obj, const char *key, struct fg_portal_ice_creds *out)
{
	const cJSON *c;
	int rc = object_field(x, obj, key, &c);

	if (!rc)
		rc = str_field(x, c, key, "username", true, TEXT_ID, out->username, sizeof(out->username));
	if (!rc)
		rc = str_field(x, c, key, "password", true, TEXT_ID, out->password, sizeof(out->password));
	return rc;
}

int fg_portal_authorization_parse(const cJSON *payload, struct fg_portal_authorization *out,
				  char *err, size_t errlen)
{
	struct ctx x = { "create_authorization", err, errlen };
	const cJSON *res, *client;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(payload))
		return fail(&x, "payload", "not an object");
	rc = heap_field(&x, payload, "ref", true, FG_PORTAL_REF_MAX, &out->ref);
	if (!rc)
		rc = object_field(&x, payload, "resource", &res);
	if (!rc)
		rc = parse_resource(&x, res, "resource", &out->resource);
	if (!rc)
		rc = object_field(&x, payload, "client", &client);
	if (!rc)
		rc = parse_client(&x, client, &out->client);
	if (!rc)
		rc = parse_ice(&x, payload, "gateway_ice_credentials", &out->gateway_ice);
	if (!rc)
		rc = parse_ice(&x, payload, "client_ice_credentials", &out->client_ice);
	if (!rc)
		rc = ts_field(&x, payload, "", "expires_at", false, true, &out->expires_at);
	if (!rc)
		rc = bool_field(&x, payload, "use_iceless", &out->use_iceless);
	if (!rc)
		rc = heap_field(&x, payload, "flow_logs_ingest_token", false, FG_PORTAL_TOKEN_MAX,
				&out->flow_logs_token);
	if (rc)
		fg_portal_authorization_free(out);
	return rc;
}

void fg_portal_authorization_free(struct fg_portal_authorization *m)
{
	if (!m)
		return;
	if (m->flow_logs_token) {
		sodium_memzero(m->flow_logs_token, strlen(m->flow_logs_token));
		free(m->flow_logs_token);
	}
	free(m->ref);
	free(m->resource.filters);
	sodium_memzero(m, sizeof(*m));
}

int fg_portal_resource_parse(const cJSON *payload, struct fg_portal_resource *out,
			     char *err, size_t errlen)
{
	struct ctx x = { "resource_updated", err, errlen };
	int rc = parse_resource(&x, payload, "", out);

	if (rc < 0)
		fg_portal_resource_free(out);
	return rc;
}

void fg_portal_resource_free(struct fg_portal_resource *m)
{
	if (!m)
		return;
	free(m->filters);
	memset(m, 0, sizeof(*m));
}

/* Adds one relay entry to list, merging it into an earlier entry with the same id. */
static int parse_relay(struct ctx *x, const cJSON *r, const char *pfx,
		       struct fg_portal_relay *list, unsigned *n)
{
	struct fg_portal_relay one, *dst = NULL;
	char type[8], addr[FG_ENDPOINT_STRLEN + 1], path[96], quoted[FG_ENDPOINT_STRLEN * 4 + 16];
	struct fg_endpoint ep;
	int rc;

	memset(&one, 0, sizeof(one));
	if (!cJSON_IsObject(r))
		return fail(x, pfx, "not an object");
	rc = id_field(x, r, pfx, "id", one.id);
	if (!rc)
		rc = str_field(x, r, pfx, "type", true, TEXT_ID, type, sizeof(type));
	if (!rc)
		rc = str_field(x, r, pfx, "addr", true, TEXT_ID, addr, sizeof(addr));
	if (rc)
		return rc;
	if (fg_endpoint_parse(addr, &ep) || !ep.port) {
		fg_key_redact(quoted, sizeof(quoted), addr, strlen(addr), FG_ENDPOINT_STRLEN);
		return fail(x, at(path, sizeof(path), pfx, "addr"), "\"%s\" is not ip:port", quoted);
	}
	if (!strcmp(type, "turn")) {
		one.type = FG_PORTAL_RELAY_TURN;
		rc = str_field(x, r, pfx, "username", true, TEXT_ID, one.username, sizeof(one.username));
		if (!rc)
			rc = str_field(x, r, pfx, "password", true, TEXT_ID, one.password,
				       sizeof(one.password));
		if (!rc)
			rc = ts_field(x, r, pfx, "expires_at", true, false, &one.expires_at);
		if (rc)
			goto out;
	} else if (!strcmp(type, "stun")) {
		one.type = FG_PORTAL_RELAY_STUN;
	} else {
		return fail(x, at(path, sizeof(path), pfx, "type"), "unknown relay type");
	}
	for (unsigned i = 0; i < *n && !dst; i++)
		if (!strcmp(list[i].id, one.id))
			dst = &list[i];
	if (!dst) {
		if (*n == FG_PORTAL_MAX_RELAYS) {
			rc = fail(x, pfx, "more than %d relays", FG_PORTAL_MAX_RELAYS);
			goto out;
		}
		dst = &list[(*n)++];
		memset(dst, 0, sizeof(*dst));
	}
	/* Dual stack: keep the other family's address, take the rest from the later entry. */
	if (ep.ip.family == AF_INET)
		one.addr6 = dst->addr6, one.addr4 = ep;
	else
		one.addr4 = dst->addr4, one.addr6 = ep;
	*dst = one;
out:
	sodium_memzero(&one, sizeof(one));
	return rc;
}

static int parse_relays(struct ctx *x, const cJSON *obj, const char *key, bool required,
			struct fg_portal_relay *list, unsigned *n)
{
	const cJSON *arr, *r;
	char pfx[48];
	int count, i = 0, rc;

	rc = array_field(x, obj, "", key, required, FG_PORTAL_MAX_RELAY_ENTRIES, &arr, &count);
	cJSON_ArrayForEach(r, arr) {
		if (rc)
			break;
		snprintf(pfx, sizeof(pfx), "%s[%d]", key, i++);
		rc = parse_relay(x, r, pfx, list, n);
	}
	return rc;
}

static int parse_auths(struct ctx *x, const cJSON *payload, struct fg_portal_init *out)
{
	const cJSON *arr, *a;
	char pfx[48];
	int count, rc;
	size_t i = 0;

	rc = array_field(x, payload, "", "authorizations", false, FG_PORTAL_MAX_AUTHS, &arr, &count);
	if (rc || !arr)
		return rc;
	out->has_authorizations = true;
	if (!count)
		return 0;
	out->auths = calloc((size_t)count, sizeof(*out->auths));
	if (!out->auths)
		return -ENOMEM;
	cJSON_ArrayForEach(a, arr) {
		struct fg_portal_auth *dst = &out->auths[i];

		snprintf(pfx, sizeof(pfx), "authorizations[%zu]", i);
		if (!cJSON_IsObject(a))
			return fail(x, pfx, "not an object");
		rc = id_field(x, a, pfx, "client_id", dst->client_id);
		if (!rc)
			rc = id_field(x, a, pfx, "resource_id", dst->resource_id);
		if (!rc)
			rc = ts_field(x, a, pfx, "expires_at", true, true, &dst->expires_at);
		if (rc)
			return rc;
		out->n_auths = ++i;
	}
	return 0;
}

/* init.flow_logs: errors go to out->flow_logs_error, never fail the init. */
static void parse_flow_logs(const cJSON *payload, struct fg_portal_init *out)
{
	const cJSON *fl = field(payload, "flow_logs");
	struct ctx x = { "init", out->flow_logs_error, sizeof(out->flow_logs_error) };
	uint64_t interval = 0, batch = 0;
	int rc;

	out->has_flow_logs = !absent(fl);
	if (!out->has_flow_logs)
		return;
	if (!cJSON_IsObject(fl)) {
		fail(&x, "flow_logs", "not an object");
		return;
	}
	rc = str_field(&x, fl, "flow_logs", "api_url", true, TEXT_ID, out->flow_logs_api_url,
		       sizeof(out->flow_logs_api_url));
	if (rc >= 0 && !exact_uint(field(fl, "upload_interval_secs"), max_exact, &interval))
		rc = fail(&x, "flow_logs.upload_interval_secs", "missing or not a non-negative integer");
	if (rc >= 0 && !absent(field(fl, "upload_batch_size")) &&
	    !exact_uint(field(fl, "upload_batch_size"), max_exact, &batch))
		rc = fail(&x, "flow_logs.upload_batch_size", "not a non-negative integer");
	if (rc < 0) {
		out->flow_logs_api_url[0] = '\0';
		return;
	}
	out->flow_logs_interval_secs = interval;
	out->flow_logs_batch_size = batch;
}

int fg_portal_init_parse(const cJSON *payload, struct fg_portal_init *out, char *err, size_t errlen)
{
	struct ctx x = { "init", err, errlen };
	const cJSON *iface, *config;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(payload))
		return fail(&x, "payload", "not an object");
	rc = object_field(&x, payload, "interface", &iface);
	if (!rc)
		rc = ip_field(&x, iface, "interface", "ipv4", AF_INET, &out->ipv4);
	if (!rc)
		rc = ip_field(&x, iface, "interface", "ipv6", AF_INET6, &out->ipv6);
	if (!rc)
		rc = object_field(&x, payload, "config", &config);
	if (!rc)
		rc = str_field(&x, payload, "", "account_slug", false, TEXT_LINE, out->account_slug,
			       sizeof(out->account_slug));
	if (rc > 0)
		rc = 0;
	if (!rc)
		rc = parse_relays(&x, payload, "relays", false, out->relays, &out->n_relays);
	if (!rc)
		rc = parse_auths(&x, payload, out);
	if (!rc)
		parse_flow_logs(payload, out);
	if (rc)
		fg_portal_init_free(out);
	return rc;
}

void fg_portal_init_free(struct fg_portal_init *m)
{
	if (!m)
		return;
	free(m->auths);
	sodium_memzero(m, sizeof(*m));
}

int fg_portal_reject_access_parse(const cJSON *payload, struct fg_portal_reject_access *out,
				  char *err, size_t errlen)
{
	struct ctx x = { "reject_access", err, errlen };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(payload))
		return fail(&x, "payload", "not an object");
	rc = id_field(&x, payload, "", "client_id", out->client_id);
	if (!rc)
		rc = id_field(&x, payload, "", "resource_id", out->resource_id);
	return rc;
}

int fg_portal_expiry_updated_parse(const cJSON *payload, struct fg_portal_expiry_updated *out,
				   char *err, size_t errlen)
{
	struct ctx x = { "access_authorization_expiry_updated", err, errlen };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(payload))
		return fail(&x, "payload", "not an object");
	rc = id_field(&x, payload, "", "client_id", out->client_id);
	if (!rc)
		rc = id_field(&x, payload, "", "resource_id", out->resource_id);
	if (!rc)
		rc = ts_field(&x, payload, "", "expires_at", true, false, &out->expires_at);
	return rc;
}

int fg_portal_relays_presence_parse(const cJSON *payload, struct fg_portal_relays_presence *out,
				    char *err, size_t errlen)
{
	struct ctx x = { "relays_presence", err, errlen };
	const cJSON *arr, *id;
	int count, rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(payload))
		return fail(&x, "payload", "not an object");
	rc = array_field(&x, payload, "", "disconnected_ids", true, FG_PORTAL_MAX_IDS, &arr, &count);
	cJSON_ArrayForEach(id, arr) {
		char pfx[48];

		if (rc)
			break;
		snprintf(pfx, sizeof(pfx), "disconnected_ids[%u]", out->n_disconnected);
		if (!cJSON_IsString(id) || !id->valuestring[0] ||
		    strlen(id->valuestring) >= FG_PORTAL_ID_LEN || !text_ok(id->valuestring, TEXT_ID))
			rc = fail(&x, pfx, "not an id");
		else
			strcpy(out->disconnected_ids[out->n_disconnected++], id->valuestring);
	}
	if (!rc)
		rc = parse_relays(&x, payload, "connected", true, out->connected, &out->n_connected);
	if (rc)
		fg_portal_relays_presence_free(out);
	return rc;
}

void fg_portal_relays_presence_free(struct fg_portal_relays_presence *m)
{
	if (m)
		sodium_memzero(m, sizeof(*m));
}

static bool digits(const char *s, size_t max_len, uint64_t max, uint64_t min)
{
	uint64_t v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= max_len)
			return false;
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	return n && v >= min && v <= max;
}

bool fg_portal_candidate_valid(const char *s)
{
	static const char *const types[] = { "host", "srflx", "prflx", "relay" };
	char buf[FG_PORTAL_CANDIDATE_LEN], *tok[8], *save = NULL;
	struct fg_ip ip;
	size_t len;
	bool type_ok = false;

	if (!s || strncmp(s, "candidate:", 10) || s[10] == ' ')
		return false;
	len = strlen(s);
	if (len >= sizeof(buf) || !text_ok(s, TEXT_LINE))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] > 0x7e || (s[i] == ' ' && (s[i + 1] == ' ' || !s[i + 1])))
			return false;
	memcpy(buf, s + 10, len - 9);
	for (int i = 0; i < 8; i++) {
		tok[i] = strtok_r(i ? NULL : buf, " ", &save);
		if (!tok[i])
			return false;
	}
	for (const char *f = tok[0]; *f; f++)
		if (!((*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z') || (*f >= '0' && *f <= '9') ||
		      *f == '+' || *f == '/'))
			return false;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		type_ok |= !strcmp(tok[7], types[i]);
	return strlen(tok[0]) <= 32 && digits(tok[1], 3, 256, 1) &&
	       (!strcasecmp(tok[2], "udp") || !strcasecmp(tok[2], "tcp")) &&
	       digits(tok[3], 10, UINT32_MAX, 0) && !fg_ip_parse(tok[4], &ip) &&
	       digits(tok[5], 5, 65535, 0) && !strcmp(tok[6], "typ") && type_ok;
}

int fg_portal_ice_candidates_parse(const cJSON *payload, struct fg_portal_ice_candidates *out,
				   char *err, size_t errlen)
{
	struct ctx x = { "ice_candidates", err, errlen };
	const cJSON *arr, *c;
	int count, rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(payload))
		return fail(&x, "payload", "not an object");
	rc = id_field(&x, payload, "", "client_id", out->client_id);
	if (!rc)
		rc = array_field(&x, payload, "", "candidates", true, FG_PORTAL_MAX_CANDIDATE_ENTRIES,
				 &arr, &count);
	if (rc)
		return rc;
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c) || !fg_portal_candidate_valid(c->valuestring) ||
		    out->n == FG_PORTAL_MAX_CANDIDATES) {
			out->n_skipped++;
			continue;
		}
		strcpy(out->candidates[out->n++], c->valuestring);
	}
	return 0;
}

static const struct {
	const char *name;
	enum fg_portal_event ev;
} events[] = {
	{ "init", FG_PORTAL_EV_INIT },
	{ "create_authorization", FG_PORTAL_EV_CREATE_AUTHORIZATION },
	{ "authorize_flow", FG_PORTAL_EV_AUTHORIZE_FLOW },
	{ "reject_access", FG_PORTAL_EV_REJECT_ACCESS },
	{ "resource_updated", FG_PORTAL_EV_RESOURCE_UPDATED },
	{ "access_authorization_expiry_updated", FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED },
	{ "relays_presence", FG_PORTAL_EV_RELAYS_PRESENCE },
	{ "ice_candidates", FG_PORTAL_EV_ICE_CANDIDATES },
	{ "invalidate_ice_candidates", FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES },
};

enum fg_portal_event fg_portal_event_parse(const char *event)
{
	for (size_t i = 0; event && i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(event, events[i].name))
			return events[i].ev;
	return FG_PORTAL_EV_UNKNOWN;
}

const char *fg_portal_event_name(enum fg_portal_event ev)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i].ev == ev)
			return events[i].name;
	return "unknown";
}

const char *fg_portal_reply_event(enum fg_portal_event ev)
{
	if (ev == FG_PORTAL_EV_CREATE_AUTHORIZATION)
		return "authorization_created";
	if (ev == FG_PORTAL_EV_AUTHORIZE_FLOW)
		return "flow_authorized";
	return NULL;
}

cJSON *fg_portal_authorization_created(const char *ref)
{
	cJSON *o;

	if (!ref)
		return NULL;
	o = cJSON_CreateObject();
	if (o && !cJSON_AddStringToObject(o, "ref", ref)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *fg_portal_snownet_capabilities(void)
{
	cJSON *o = cJSON_CreateObject();

	if (o && !cJSON_AddFalseToObject(o, "iceless")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *fg_portal_no_relays(void)
{
	return cJSON_CreateObject();
}

cJSON *fg_portal_broadcast_candidates(const char *const *client_ids, size_t n_clients,
				      const char *const *candidates, size_t n_candidates)
{
	cJSON *o = cJSON_CreateObject(), *ids, *cands;

	if (!o || n_clients > INT32_MAX || n_candidates > INT32_MAX)
		goto err;
	ids = cJSON_AddArrayToObject(o, "client_ids");
	cands = cJSON_AddArrayToObject(o, "candidates");
	if (!ids || !cands)
		goto err;
	for (size_t i = 0; i < n_clients; i++)
		if (!client_ids[i] || !cJSON_AddItemToArray(ids, cJSON_CreateString(client_ids[i])))
			goto err;
	for (size_t i = 0; i < n_candidates; i++)
		if (!candidates[i] || !cJSON_AddItemToArray(cands, cJSON_CreateString(candidates[i])))
			goto err;
	return o;
err:
	cJSON_Delete(o);
	return NULL;
}
