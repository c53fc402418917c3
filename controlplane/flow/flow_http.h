/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side of flow-log uploads, as the Rust gateway's flow-log-upload/src/ingest.rs:
 * the ingest endpoint built from init's api_url (<scheme>://<host>[:port]/ingestion/flow_logs:
 * the path replaces the URL's own, as Url::join does with an absolute path), one POST at a
 * time on the control plane's libwebsockets loop (HTTP/1.1, http:// or https://, the
 * system's CAs and FASTGATE_CA_FILE, the host name looked up off the loop), and the pure
 * helpers that read its answer: what a status means for the batch, Retry-After, and where
 * a redirect may go (https on port 443 only, never with credentials: the request carries a
 * Bearer token). Control plane thread only.
 */
#ifndef FG_FLOW_HTTP_H
#define FG_FLOW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fg_loop;
struct lws_protocols;

enum {
	FG_FLOW_HOST_LEN = 256,
	FG_FLOW_PATH_LEN = 1024,
	FG_FLOW_URL_LEN = 1400,          /* an api_url or Location that fits the fields above */
	FG_FLOW_HTTP_TIMEOUT_S = 30,     /* one request, connect to the last byte */
	FG_FLOW_BODY_SNIPPET = 256,      /* bytes of a refusal's body kept for the log */
	FG_FLOW_RETRY_AFTER_MAX = 3600,  /* a longer Retry-After is taken as this */
};

struct fg_flow_url {
	bool tls;
	bool ip_literal;                 /* the certificate is checked for the address */
	char host[FG_FLOW_HOST_LEN];     /* for the lookup: an IPv6 literal without brackets */
	char host_header[FG_FLOW_HOST_LEN + 8]; /* Host: with brackets and a non-default port */
	uint16_t port;
	char path[FG_FLOW_PATH_LEN];
};

/* What a status means for a batch (Rust's classify_response). */
enum fg_flow_action {
	FG_FLOW_STORED = 1,      /* 2xx: delete the batch */
	FG_FLOW_PARTITION,       /* 413: split it */
	FG_FLOW_RATE_LIMITED,    /* 429: wait Retry-After, retry without spending the budget */
	FG_FLOW_RETRY,           /* 408, 5xx, no answer: back off and retry */
	FG_FLOW_REDIRECT,        /* 301, 302, 307, 308: follow (at most 5) */
	FG_FLOW_DEFER,           /* anything else: keep the batch for a later pass */
};

/* The ingest endpoint of an api_url: http or https (any case), a host name or an IP
 * literal ([v6]), an optional port 1-65535, no credentials; its path, query and fragment
 * are replaced by /ingestion/flow_logs. 0 or -EINVAL with a reason that quotes the URL. */
int fg_flow_url_parse(const char *api_url, struct fg_flow_url *out, char *err, size_t errlen);
/* "https://host[:port]/path" of u. Returns buf. */
char *fg_flow_url_format(const struct fg_flow_url *u, char *buf, size_t len);
/* Where a redirect goes: an absolute https URL on port 443 without credentials, or an
 * absolute path on the current https origin. 0 or -EINVAL (a plain http origin follows
 * nothing). The fragment is dropped. */
int fg_flow_redirect(const struct fg_flow_url *cur, const char *location, struct fg_flow_url *out);
enum fg_flow_action fg_flow_classify(int status);
/* Retry-After as delay-seconds (digits only; an HTTP date is not taken, as in Rust),
 * capped at FG_FLOW_RETRY_AFTER_MAX. 0 or -EINVAL. */
int fg_flow_retry_after(const char *s, uint32_t *secs);

/* ---- one request at a time on the loop ------------------------------------------------------ */

struct fg_flow_http_result {
	int status;                      /* the HTTP status, 0 when none came */
	char why[160];                   /* when status is 0: what failed */
	bool has_retry_after;
	uint32_t retry_after_s;
	char location[FG_FLOW_URL_LEN];  /* "" when none */
	char body[FG_FLOW_BODY_SNIPPET]; /* the start of the answer's body, for the log */
};

struct fg_flow_http;

/* The protocol the loop's vhost must list (main.c adds it beside the portal's). */
extern const struct lws_protocols fg_flow_http_protocol;

/* done runs on the loop, never from inside fg_flow_http_post. NULL + errno. */
struct fg_flow_http *fg_flow_http_new(struct fg_loop *loop,
				      void (*done)(void *ctx, const struct fg_flow_http_result *r), void *ctx);
/* Ends a request in flight without calling done, then frees. NULL is ignored. */
void fg_flow_http_free(struct fg_flow_http *h);
/* POSTs body (copied) to u with "Authorization: Bearer <token>" (copied, wiped when the
 * headers are out) and Content-Type: application/json. 0: done will run once; -EBUSY while
 * a request is in flight; -ENOMEM; -EINVAL for a token that is not printable ASCII. */
int fg_flow_http_post(struct fg_flow_http *h, const struct fg_flow_url *u, const char *token, const char *body,
		      size_t len);
bool fg_flow_http_busy(const struct fg_flow_http *h);

#endif
