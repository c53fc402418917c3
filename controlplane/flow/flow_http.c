// SPDX-License-Identifier: MIT
/*
 * One flow-log POST at a time on the control plane's libwebsockets loop (see flow_http.h):
 * the host looked up off the loop (resolver.h), a fresh HTTP/1.1 connection per request
 * (uploads are a batch every minute or so), the body written in chunks as the socket
 * takes it, the status and the headers that matter kept, the answer handed to the owner
 * from a timer so that it may post again at once. libwebsockets never follows a redirect
 * by itself here: the owner decides (the request carries a Bearer token). The token lives
 * in memory from post until its header is out, then wiped. Control plane thread only.
 */
#include "flow_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "log.h"
#include "loop.h"
#include "resolver.h"

static const char *const TAG = "fastgate.flow";

enum {
	CHUNK = 16384,          /* body bytes per write */
	AUTH_PREFIX_LEN = 7,    /* "Bearer " */
};

struct fg_flow_http {
	struct fg_loop *loop;
	struct fg_resolver *resolver;
	void (*done)(void *ctx, const struct fg_flow_http_result *r);
	void *ctx;
	struct lws *wsi;
	struct fg_timer timeout;
	struct fg_timer answer;          /* hands res to done, outside lws' callbacks */
	bool busy, finished;
	unsigned attempts;
	struct fg_flow_url url;
	char addr[FG_RESOLVER_ADDR_LEN];
	char *auth;                      /* "Bearer <token>": wiped once sent */
	size_t auth_len;
	char *body;
	size_t body_len, sent;
	unsigned char *wbuf;             /* LWS_PRE + CHUNK: a chunk being written */
	struct fg_flow_http_result res;
};

static void wipe_auth(struct fg_flow_http *h)
{
	if (h->auth) {
		sodium_memzero(h->auth, h->auth_len);
		free(h->auth);
		h->auth = NULL;
		h->auth_len = 0;
	}
}

/* The request is over (status in res, or why): done runs from the answer timer. */
static void finish(struct fg_flow_http *h, const char *why)
{
	if (!h->busy || h->finished)
		return;
	h->finished = true;
	if (why && !h->res.status)
		snprintf(h->res.why, sizeof(h->res.why), "%s", why);
	if (h->wsi) {
		lws_set_opaque_user_data(h->wsi, NULL);
		lws_set_timeout(h->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		h->wsi = NULL;
	}
	wipe_auth(h);
	fg_loop_timer(&h->timeout, 0);
	fg_loop_timer(&h->answer, 1);
}

static void answer_fired(struct fg_timer *t)
{
	struct fg_flow_http *h = t->ctx;
	struct fg_flow_http_result res = h->res;

	free(h->body);
	h->body = NULL;
	h->busy = false;
	h->done(h->ctx, &res);
}

static void timeout_fired(struct fg_timer *t)
{
	finish(t->ctx, "no answer within 30 seconds");
}

/* An https:// URL with an IP literal: the certificate must name the address (libwebsockets
 * only checks names, and was told not to). */
static int verify_ip(struct fg_flow_http *h, X509_STORE_CTX *x, bool ok)
{
	if (ok && h->url.ip_literal && X509_STORE_CTX_get_error_depth(x) == 0 &&
	    X509_check_ip_asc(X509_STORE_CTX_get_current_cert(x), h->url.host, 0) != 1) {
		X509_STORE_CTX_set_error(x, X509_V_ERR_IP_ADDRESS_MISMATCH);
		return 1;
	}
	return 0;
}

static int headers(struct fg_flow_http *h, struct lws *wsi, unsigned char **p, unsigned char *end)
{
	char cl[24];
	int n = snprintf(cl, sizeof(cl), "%zu", h->body_len);

	if (!h->auth ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)h->auth,
					 (int)h->auth_len, p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)"application/json",
					 16, p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (unsigned char *)cl, n, p, end)) {
		finish(h, "the request headers do not fit (token too long)");
		return -1;
	}
	wipe_auth(h);
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

static int write_body(struct fg_flow_http *h, struct lws *wsi)
{
	unsigned char *buf = h->wbuf;
	size_t n = h->body_len - h->sent < CHUNK ? h->body_len - h->sent : CHUNK;
	bool last = h->sent + n == h->body_len;

	memcpy(buf + LWS_PRE, h->body + h->sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) {
		finish(h, "writing the request failed");
		return -1;
	}
	h->sent += n;
	if (last)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

static void response_headers(struct fg_flow_http *h, struct lws *wsi)
{
	char ra[32];

	h->res.status = (int)lws_http_client_http_response(wsi);
	if (lws_hdr_copy(wsi, ra, sizeof(ra), WSI_TOKEN_HTTP_RETRY_AFTER) > 0 &&
	    fg_flow_retry_after(ra, &h->res.retry_after_s) == 0)
		h->res.has_retry_after = true;
	if (lws_hdr_copy(wsi, h->res.location, sizeof(h->res.location), WSI_TOKEN_HTTP_LOCATION) <= 0)
		h->res.location[0] = '\0';
}

static void body_snippet(struct fg_flow_http *h, const char *in, size_t len)
{
	size_t have = strlen(h->res.body), room = sizeof(h->res.body) - 1 - have;

	if (len > room)
		len = room;
	memcpy(h->res.body + have, in, len);
	h->res.body[have + len] = '\0';
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct fg_flow_http *h = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return h ? headers(h, wsi, in, *(unsigned char **)in + len) : -1;
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		if (!h)
			return -1;
		return h->sent < h->body_len ? write_body(h, wsi) : 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* user is the X509_STORE_CTX, len OpenSSL's preverify_ok */
		return h ? verify_ip(h, user, len != 0) : 0;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		if (h)
			response_headers(h, wsi);
		break;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + 2048], *px = buf + LWS_PRE;
		int n = (int)sizeof(buf) - LWS_PRE;

		if (!h || lws_http_client_read(wsi, &px, &n) < 0)
			return -1;
		break;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (h && in)
			body_snippet(h, in, len);
		break;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (h) {
			h->wsi = NULL;
			lws_set_opaque_user_data(wsi, NULL);
			finish(h, NULL);
		}
		return -1;   /* one request a connection */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (h) {
			char why[sizeof(h->res.why)];

			h->wsi = NULL;
			if (!h->res.status)
				h->res.status = (int)lws_http_client_http_response(wsi);
			snprintf(why, sizeof(why), "%s", in ? (const char *)in : "connection failed");
			finish(h, why);
		}
		break;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (h) {
			h->wsi = NULL;
			finish(h, h->res.status ? NULL : "the connection closed before an answer");
		}
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols fg_flow_http_protocol = {
	.name = "fg-flow-http",
	.callback = http_cb,
	.rx_buffer_size = 4096,
};

static void connect_addr(struct fg_flow_http *h)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = h->loop->lws;
	ci.address = h->addr;
	ci.port = h->url.port;
	ci.path = h->url.path;
	ci.host = h->url.host_header;
	ci.origin = NULL;
	ci.method = "POST";
	ci.alpn = "http/1.1";
	ci.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	if (h->url.tls)
		ci.ssl_connection |= LCCSCF_USE_SSL;
	if (h->url.tls && h->url.ip_literal)
		ci.ssl_connection |= LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK; /* verify_ip() does it */
	ci.protocol = fg_flow_http_protocol.name;
	ci.local_protocol_name = fg_flow_http_protocol.name;
	ci.opaque_user_data = h;
	ci.pwsi = &h->wsi;
	fg_debug(TAG, "flow log upload: POST %s://%s%s (%s, %zu bytes)", h->url.tls ? "https" : "http",
		 h->url.host_header, h->url.path, h->addr, h->body_len);
	if (!lws_client_connect_via_info(&ci)) {
		h->wsi = NULL;
		finish(h, "could not start a connection");
	}
}

static void resolved(void *ctx, const struct fg_resolved *r)
{
	struct fg_flow_http *h = ctx;
	char why[sizeof(h->res.why)];

	if (!h->busy || h->finished || h->wsi)
		return;
	if (r->err || !r->n) {
		snprintf(why, sizeof(why), "cannot resolve %.80s: %s", h->url.host,
			 r->err ? gai_strerror(r->err) : "no address");
		finish(h, why);
		return;
	}
	/* Each request takes the next address, so that one that does not answer is not the
	 * only one ever tried. */
	snprintf(h->addr, sizeof(h->addr), "%s", r->addr[h->attempts % r->n]);
	connect_addr(h);
}

struct fg_flow_http *fg_flow_http_new(struct fg_loop *loop,
				      void (*done)(void *ctx, const struct fg_flow_http_result *r), void *ctx)
{
	struct fg_flow_http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = loop;
	h->done = done;
	h->ctx = ctx;
	h->resolver = fg_resolver_new(loop, resolved, h);
	h->wbuf = malloc(LWS_PRE + CHUNK);
	if (!h->resolver || !h->wbuf) {
		fg_resolver_free(h->resolver);
		free(h->wbuf);
		free(h);
		return NULL;
	}
	fg_timer_init(&h->timeout, loop, timeout_fired, h);
	fg_timer_init(&h->answer, loop, answer_fired, h);
	return h;
}

void fg_flow_http_free(struct fg_flow_http *h)
{
	if (!h)
		return;
	if (h->wsi) {
		lws_set_opaque_user_data(h->wsi, NULL);
		lws_set_timeout(h->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	fg_loop_timer(&h->timeout, 0);
	fg_loop_timer(&h->answer, 0);
	fg_resolver_free(h->resolver);
	wipe_auth(h);
	free(h->body);
	free(h->wbuf);
	free(h);
}

bool fg_flow_http_busy(const struct fg_flow_http *h)
{
	return h->busy;
}

int fg_flow_http_post(struct fg_flow_http *h, const struct fg_flow_url *u, const char *token, const char *body,
		      size_t len)
{
	size_t tn = strlen(token);

	if (h->busy)
		return -EBUSY;
	for (size_t i = 0; i < tn; i++)
		if (token[i] <= ' ' || token[i] > '~')
			return -EINVAL;
	if (!tn)
		return -EINVAL;
	h->auth = malloc(AUTH_PREFIX_LEN + tn + 1);
	h->body = malloc(len ? len : 1);
	if (!h->auth || !h->body) {
		free(h->auth);
		free(h->body);
		h->auth = h->body = NULL;
		return -ENOMEM;
	}
	memcpy(h->auth, "Bearer ", AUTH_PREFIX_LEN);
	memcpy(h->auth + AUTH_PREFIX_LEN, token, tn + 1);
	h->auth_len = AUTH_PREFIX_LEN + tn;
	memcpy(h->body, body, len);
	h->body_len = len;
	h->sent = 0;
	h->url = *u;
	memset(&h->res, 0, sizeof(h->res));
	h->busy = true;
	h->finished = false;
	h->attempts++;
	fg_loop_timer(&h->timeout, (uint64_t)FG_FLOW_HTTP_TIMEOUT_S * 1000000u);
	if (u->ip_literal) {
		snprintf(h->addr, sizeof(h->addr), "%.45s", u->host);   /* a literal: it fits */
		connect_addr(h);
	} else if (fg_resolver_start(h->resolver, u->host) < 0) {
		finish(h, "could not start resolving the host name");
	}
	return 0;
}
