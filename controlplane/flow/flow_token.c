// SPDX-License-Identifier: MIT
/*
 * Ingest token claims (see flow_token.h). base64url without padding (libsodium's decoder,
 * which also refuses non-zero trailing bits, as the Rust gateway's base64 crate does), the
 * header and the claims with cJSON. Unknown claims are ignored, as serde does. No state.
 */
#include "flow_token.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

/* JSON numbers are doubles: iat and exp must be exact integers below 2^53. */
static const double max_exact = 9007199254740992.0;

static const struct {
	const char *name;
	bool optional;
} claims[FG_CLAIM_COUNT] = {
	[FG_CLAIM_ROLE] = { "role", false },
	[FG_CLAIM_INITIATOR_DEVICE_ID] = { "initiator_device_id", false },
	[FG_CLAIM_RESPONDER_DEVICE_ID] = { "responder_device_id", false },
	[FG_CLAIM_POLICY_AUTHORIZATION_ID] = { "policy_authorization_id", false },
	[FG_CLAIM_POLICY_ID] = { "policy_id", false },
	[FG_CLAIM_RESOURCE_ID] = { "resource_id", false },
	[FG_CLAIM_RESOURCE_NAME] = { "resource_name", false },
	[FG_CLAIM_RESOURCE_ADDRESS] = { "resource_address", true },
	[FG_CLAIM_INITIATOR_ACTOR_ID] = { "initiator_actor_id", false },
	[FG_CLAIM_INITIATOR_ACTOR_EMAIL] = { "initiator_actor_email", true },
	[FG_CLAIM_INITIATOR_ACTOR_NAME] = { "initiator_actor_name", false },
	[FG_CLAIM_INITIATOR_AUTH_PROVIDER_ID] = { "initiator_auth_provider_id", true },
	[FG_CLAIM_AUTHORIZED_AT] = { "authorized_at", false },
	[FG_CLAIM_AUTHORIZATION_EXPIRES_AT] = { "authorization_expires_at", false },
	[FG_CLAIM_INITIATOR_CLIENT_VERSION] = { "initiator_client_version", true },
	[FG_CLAIM_INITIATOR_DEVICE_OS_NAME] = { "initiator_device_os_name", true },
	[FG_CLAIM_INITIATOR_DEVICE_OS_VERSION] = { "initiator_device_os_version", true },
	[FG_CLAIM_INITIATOR_DEVICE_SERIAL] = { "initiator_device_serial", true },
	[FG_CLAIM_INITIATOR_DEVICE_UUID] = { "initiator_device_uuid", true },
	[FG_CLAIM_INITIATOR_DEVICE_IDENTIFIER_FOR_VENDOR] = { "initiator_device_identifier_for_vendor", true },
	[FG_CLAIM_INITIATOR_DEVICE_FIREBASE_INSTALLATION_ID] = { "initiator_device_firebase_installation_id", true },
};

const char *fg_flow_claim_name(enum fg_flow_claim c)
{
	return (unsigned)c < FG_CLAIM_COUNT ? claims[c].name : "?";
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

bool fg_flow_uuid_valid(const char *s)
{
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return s[36] == '\0';
}

/* One base64url segment (no padding) into a NUL-terminated heap buffer; NULL when it is
 * empty, not base64url, or out of memory (*oom). */
static char *segment(const char *s, size_t n, size_t *outlen, bool *oom)
{
	size_t cap = n / 4 * 3 + 3, len = 0;
	const char *end = NULL;
	char *out;

	if (!n)
		return NULL;
	out = malloc(cap + 1);
	if (!out) {
		*oom = true;
		return NULL;
	}
	if (sodium_base642bin((unsigned char *)out, cap, s, n, NULL, &len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != s + n) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	*outlen = len;
	return out;
}

/* The header: a JSON object whose alg is "HS256". */
static bool header_ok(const char *json, size_t n)
{
	cJSON *h = cJSON_ParseWithLength(json, n);
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	bool ok = cJSON_IsObject(h) && cJSON_IsString(alg) && alg->valuestring &&
		  strcmp(alg->valuestring, "HS256") == 0;

	cJSON_Delete(h);
	return ok;
}

static int number_claim(const cJSON *o, const char *k, uint64_t *out, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	double d;

	if (!cJSON_IsNumber(it))
		return fail(err, errlen, "ingest token: claim %s missing or not a number", k);
	d = it->valuedouble;
	if (!(d >= 0 && d <= max_exact) || (double)(uint64_t)d != d)
		return fail(err, errlen, "ingest token: claim %s is not a non-negative integer", k);
	*out = (uint64_t)d;
	return 0;
}

static int string_claims(const cJSON *o, struct fg_flow_claims *out, char *err, size_t errlen)
{
	for (int i = 0; i < FG_CLAIM_COUNT; i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, claims[i].name);

		if ((!it || cJSON_IsNull(it)) && claims[i].optional)
			continue;
		if (!cJSON_IsString(it) || !it->valuestring)
			return fail(err, errlen, "ingest token: claim %s missing or not a string", claims[i].name);
		if (strlen(it->valuestring) > FG_FLOW_CLAIM_MAX)
			return fail(err, errlen, "ingest token: claim %s longer than %d bytes", claims[i].name,
				    FG_FLOW_CLAIM_MAX);
		out->v[i] = strdup(it->valuestring);
		if (!out->v[i])
			return -ENOMEM;
	}
	return 0;
}

static int parse_claims(const char *json, size_t n, struct fg_flow_claims *out, char *err, size_t errlen)
{
	cJSON *o = cJSON_ParseWithLength(json, n);
	const cJSON *acct = cJSON_GetObjectItemCaseSensitive(o, "account_id");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(o, "uploads_enabled");
	const char *role, *authz;
	int rc = 0;

	if (!cJSON_IsObject(o))
		rc = fail(err, errlen, "ingest token: the claims are not a JSON object");
	else if (!cJSON_IsString(acct))
		rc = fail(err, errlen, "ingest token: claim account_id missing or not a string");
	else if (!cJSON_IsBool(up))
		rc = fail(err, errlen, "ingest token: claim uploads_enabled missing or not a boolean");
	if (!rc)
		rc = number_claim(o, "iat", &out->iat, err, errlen);
	if (!rc)
		rc = number_claim(o, "exp", &out->exp, err, errlen);
	if (!rc)
		rc = string_claims(o, out, err, errlen);
	if (!rc) {
		out->uploads_enabled = cJSON_IsTrue(up);
		role = out->v[FG_CLAIM_ROLE];
		authz = out->v[FG_CLAIM_POLICY_AUTHORIZATION_ID];
		if (strcmp(role, "initiator") && strcmp(role, "responder"))
			rc = fail(err, errlen, "ingest token: role is neither initiator nor responder");
		else if (!fg_flow_uuid_valid(authz))
			rc = fail(err, errlen, "ingest token: policy_authorization_id is not a hyphenated UUID");
		else
			memcpy(out->authz_id, authz, FG_FLOW_UUID_LEN);
	}
	cJSON_Delete(o);
	return rc;
}

int fg_flow_token_parse(const char *token, struct fg_flow_claims *out, char *err, size_t errlen)
{
	const char *d1, *d2;
	char *hdr = NULL, *body = NULL, *sig = NULL;
	size_t n, hlen = 0, blen = 0, slen = 0;
	bool oom = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	n = token ? strnlen(token, FG_FLOW_TOKEN_MAX + 1) : 0;
	if (!n || n > FG_FLOW_TOKEN_MAX)
		return fail(err, errlen, "ingest token: empty or longer than %d bytes", FG_FLOW_TOKEN_MAX);
	d1 = memchr(token, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
	if (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token)))
		return fail(err, errlen, "ingest token: not three JWT segments");
	hdr = segment(token, (size_t)(d1 - token), &hlen, &oom);
	body = segment(d1 + 1, (size_t)(d2 - d1 - 1), &blen, &oom);
	sig = segment(d2 + 1, n - (size_t)(d2 + 1 - token), &slen, &oom);
	if (oom)
		rc = -ENOMEM;
	else if (!hdr || !header_ok(hdr, hlen))
		rc = fail(err, errlen, "ingest token: the header is not base64url JSON with alg HS256");
	else if (!body)
		rc = fail(err, errlen, "ingest token: the claims are not base64url");
	else if (!sig || !slen)
		rc = fail(err, errlen, "ingest token: the signature is empty or not base64url");
	else
		rc = parse_claims(body, blen, out, err, errlen);
	if (body)
		sodium_memzero(body, blen);
	free(hdr);
	free(body);
	free(sig);
	if (rc) {
		fg_flow_claims_free(out);
		return rc;
	}
	out->valid = true;
	return 0;
}

void fg_flow_claims_free(struct fg_flow_claims *c)
{
	if (!c)
		return;
	for (int i = 0; i < FG_CLAIM_COUNT; i++)
		free(c->v[i]);
	memset(c, 0, sizeof(*c));
}
