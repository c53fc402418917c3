// SPDX-License-Identifier: MIT
/*
 * Firezone's p2p control bodies (see p2p.h), parsed with cJSON from a bounded copy of the
 * JSON and built with cJSON, so a name or id is always escaped as JSON.
 */
#include "p2p.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static int fail(char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "AssignedIps: %s", why);
	return -EBADMSG;
}

int fg_p2p_split(const uint8_t *body, size_t len, uint8_t *event, const uint8_t **json, size_t *json_len)
{
	if (!body || len < FG_P2P_HEADER_LEN)
		return -EBADMSG;
	*event = body[0];
	*json = body + FG_P2P_HEADER_LEN;
	*json_len = len - FG_P2P_HEADER_LEN;
	return 0;
}

static bool printable_str(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= max)
			return false;
	return n >= min;
}

/* A domain name as the client sends it: copies it without a trailing dot; false if not one. */
static bool domain_ok(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s), label = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (!n || n >= cap || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
		if (c == '.') {
			if (!label)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	if (!label)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* True if the JSON text holds the escape \u0000: cJSON would cut the string there, and
 * "a\u0000.evil" would read as "a". */
static bool escaped_nul(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '0' &&
		    s[i + 5] == '0')
			return true;
		i++;   /* the escaped character: "\\u0000" is a backslash, then text */
	}
	return false;
}

int fg_p2p_assigned_ips_parse(const uint8_t *json, size_t len, struct fg_p2p_assigned_ips *out, char *err,
			      size_t errlen)
{
	const cJSON *res, *dom, *ips, *ip;
	cJSON *root;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!json || !len || len > FG_P2P_MAX_BODY)
		return fail(err, errlen, "empty or longer than a packet");
	if (escaped_nul(json, len))
		return fail(err, errlen, "a NUL escaped in a string");
	root = cJSON_ParseWithLength((const char *)json, len);
	if (!root)
		return fail(err, errlen, "not JSON");
	res = cJSON_GetObjectItemCaseSensitive(root, "resource");
	dom = cJSON_GetObjectItemCaseSensitive(root, "domain");
	ips = cJSON_GetObjectItemCaseSensitive(root, "proxy_ips");
	if (!cJSON_IsObject(root))
		rc = fail(err, errlen, "not an object");
	else if (!cJSON_IsString(res) || !printable_str(res->valuestring, 1, FG_P2P_ID_LEN - 1))
		rc = fail(err, errlen, "resource missing or not an id");
	else if (!cJSON_IsString(dom) || !domain_ok(dom->valuestring, out->domain, sizeof(out->domain)))
		rc = fail(err, errlen, "domain missing or not a domain name");
	else if (!cJSON_IsArray(ips) ||
		 (cJSON_GetArraySize(ips) != 4 && cJSON_GetArraySize(ips) != FG_P2P_MAX_PROXY_IPS))
		rc = fail(err, errlen, "proxy_ips is not an array of 4 or 8 addresses");
	if (!rc) {
		snprintf(out->resource, sizeof(out->resource), "%s", res->valuestring);
		cJSON_ArrayForEach(ip, ips) {
			if (!cJSON_IsString(ip) || fg_ip_parse(ip->valuestring, &out->proxy_ips[out->n_proxy_ips]) < 0) {
				rc = fail(err, errlen, "a proxy IP is not an IP address");
				break;
			}
			out->n_proxy_ips++;
		}
	}
	cJSON_Delete(root);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int fg_p2p_domain_status_build(const char *resource, const char *domain, bool active, uint8_t *buf, size_t cap)
{
	char name[FG_P2P_NAME_LEN];
	cJSON *o;
	char *text;
	size_t n;

	if (!resource || !domain || !printable_str(resource, 1, FG_P2P_ID_LEN - 1) ||
	    !domain_ok(domain, name, sizeof(name)))
		return -EINVAL;
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "resource", resource) || !cJSON_AddStringToObject(o, "domain", name) ||
	    !cJSON_AddStringToObject(o, "status", active ? "Active" : "Inactive")) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	if (FG_P2P_HEADER_LEN + n > cap || n > FG_P2P_MAX_BODY) {
		cJSON_free(text);
		return -ENOSPC;
	}
	memset(buf, 0, FG_P2P_HEADER_LEN);
	buf[0] = FG_P2P_DOMAIN_STATUS;
	memcpy(buf + FG_P2P_HEADER_LEN, text, n);
	cJSON_free(text);
	return (int)(FG_P2P_HEADER_LEN + n);
}
