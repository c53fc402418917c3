// SPDX-License-Identifier: MIT
/*
 * The pure half of flow-log uploads (see flow_http.h): the ingest URL, redirects, what a
 * status means and Retry-After. Everything here reads text from the portal or the ingest
 * API's answers: strict, bounded, and it never quotes a token (none passes through here).
 * No state.
 */
#include "flow_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char ingest_path[] = "/ingestion/flow_logs";

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_';
}

/* Printable ASCII without space: what a request line may carry. */
static bool path_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return false;
	return true;
}

static int port_parse(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;

	if (!n || n > 5 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* scheme://authority[path]: the origin into out; the path (up to '#') into out->path when
 * keep_path, else the ingest path. A reason in why. */
static int parse(const char *url, struct fg_flow_url *out, bool keep_path, const char **why)
{
	const char *a, *end, *host, *hend, *colon = NULL;
	unsigned char buf[16];
	size_t hn;

	memset(out, 0, sizeof(*out));
	*why = "not an http:// or https:// URL";
	if (!strncasecmp(url, "https://", 8)) {
		out->tls = true;
		a = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		a = url + 7;
	} else {
		return -EINVAL;
	}
	end = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(end - a))) {
		*why = "credentials in the URL";
		return -EINVAL;
	}
	*why = "a bad host";
	if (*a == '[') {
		host = a + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (!hend)
			return -EINVAL;
		if (hend + 1 < end) {
			if (hend[1] != ':')
				return -EINVAL;
			colon = hend + 1;
		}
	} else {
		host = a;
		colon = memchr(a, ':', (size_t)(end - a));
		hend = colon ? colon : end;
	}
	hn = (size_t)(hend - host);
	if (!hn || hn >= sizeof(out->host))
		return -EINVAL;
	memcpy(out->host, host, hn);
	out->host[hn] = '\0';
	if (*a == '[') {
		if (inet_pton(AF_INET6, out->host, buf) != 1)
			return -EINVAL;
		out->ip_literal = true;
	} else {
		for (size_t i = 0; i < hn; i++)
			if (!host_char(out->host[i]))
				return -EINVAL;
		out->ip_literal = inet_pton(AF_INET, out->host, buf) == 1;
	}
	out->port = out->tls ? 443 : 80;
	if (colon && port_parse(colon + 1, (size_t)(end - colon - 1), &out->port)) {
		*why = "a bad port";
		return -EINVAL;
	}
	snprintf(out->host_header, sizeof(out->host_header), "%s%s%s", *a == '[' ? "[" : "", out->host,
		 *a == '[' ? "]" : "");
	if (out->port != (out->tls ? 443 : 80)) {
		size_t k = strlen(out->host_header);

		snprintf(out->host_header + k, sizeof(out->host_header) - k, ":%u", (unsigned)out->port);
	}
	if (!keep_path) {
		memcpy(out->path, ingest_path, sizeof(ingest_path));
		return 0;
	}
	*why = "a bad path";
	size_t pn = strcspn(end, "#");

	if (!pn)
		end = "/", pn = 1;
	if (end[0] != '/' || pn >= sizeof(out->path) || !path_ok(end, pn))
		return -EINVAL;
	memcpy(out->path, end, pn);
	out->path[pn] = '\0';
	return 0;
}

int fg_flow_url_parse(const char *api_url, struct fg_flow_url *out, char *err, size_t errlen)
{
	const char *why = "empty";
	size_t n = api_url ? strnlen(api_url, FG_FLOW_URL_LEN) : 0;

	if (n && n < FG_FLOW_URL_LEN && path_ok(api_url, n) && parse(api_url, out, false, &why) == 0)
		return 0;
	if (n >= FG_FLOW_URL_LEN)
		why = "too long";
	else if (n && !path_ok(api_url, n))
		why = "holds spaces or control characters";
	if (err && errlen)
		snprintf(err, errlen, "flow_logs.api_url '%.*s': %s", n < 120 ? (int)n : 120, n ? api_url : "", why);
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

char *fg_flow_url_format(const struct fg_flow_url *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s://%s%s", u->tls ? "https" : "http", u->host_header, u->path);
	return buf;
}

int fg_flow_redirect(const struct fg_flow_url *cur, const char *location, struct fg_flow_url *out)
{
	size_t n = location ? strnlen(location, FG_FLOW_URL_LEN) : 0;
	const char *why;

	if (!n || n >= FG_FLOW_URL_LEN || !path_ok(location, n))
		return -EINVAL;
	if (location[0] == '/') {
		size_t pn = strcspn(location, "#");

		/* A network-path reference ("//host") is not taken: only an absolute path. */
		if (location[1] == '/' || !pn || pn >= sizeof(out->path))
			return -EINVAL;
		*out = *cur;
		memcpy(out->path, location, pn);
		out->path[pn] = '\0';
	} else if (parse(location, out, true, &why) < 0) {
		return -EINVAL;
	}
	/* The token must not be downgraded to plain text or handed to another port. */
	if (!out->tls || out->port != 443)
		return -EINVAL;
	return 0;
}

enum fg_flow_action fg_flow_classify(int status)
{
	if (status >= 200 && status <= 299)
		return FG_FLOW_STORED;
	switch (status) {
	case 413:
		return FG_FLOW_PARTITION;
	case 429:
		return FG_FLOW_RATE_LIMITED;
	case 0:
	case 408:
		return FG_FLOW_RETRY;
	case 301:
	case 302:
	case 307:
	case 308:
		return FG_FLOW_REDIRECT;
	default:
		return status >= 500 && status <= 599 ? FG_FLOW_RETRY : FG_FLOW_DEFER;
	}
}

int fg_flow_retry_after(const char *s, uint32_t *secs)
{
	uint64_t v = 0;
	size_t n;

	if (!s)
		return -EINVAL;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strspn(s, "0123456789");
	if (!n || s[n + strspn(s + n, " \t")] != '\0')
		return -EINVAL;
	for (size_t i = 0; i < n && v <= FG_FLOW_RETRY_AFTER_MAX; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*secs = v > FG_FLOW_RETRY_AFTER_MAX ? FG_FLOW_RETRY_AFTER_MAX : (uint32_t)v;
	return 0;
}
