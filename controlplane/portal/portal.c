// SPDX-License-Identifier: MIT
/*
 * The portal WebSocket on libwebsockets (see portal.h). Control plane thread only.
 *
 * States: CONNECTING (TCP/TLS/HTTP upgrade) -> JOINING (phx_join sent, 5 s to answer) ->
 * CONNECTED (heartbeats every 10 s; more than 3 unanswered reconnects). Any failure goes
 * through the backoff schedule (1 s for 15 s before the first join, then exponential up to
 * max_partition_time); 401 and token_expired are fatal.
 */
#include "portal.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <libwebsockets.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "backoff.h"
#include "log.h"
#include "loop.h"
#include "resolver.h"

static const char *const TAG = "fastgate.portal";

enum {
	TICK_US = 500000,
	CLOSE_GRACE_US = 500000,
	TXQ_MAX = 64,       /* a window onto the Phoenix queue, which holds the rest */
	TXQ_RESERVE = 8,    /* slots drain() leaves free for the join and heartbeats */
	/* "Bearer <token>", never cut: it stays well inside the 4 KiB buffer in which
	 * libwebsockets builds the whole upgrade request (path, Host, User-Agent, this). */
	AUTH_HEADER_MAX = 1024,
	RX_MIN = 64 << 10,  /* the first frame buffer: libwebsockets' rx_buffer_size */
	RX_KEEP = 1 << 20,  /* a frame buffer larger than this is freed after its frame */
};

struct fg_portal {
	struct lws_context *ctx;
	struct lws *wsi;
	const struct fg_login *login;
	uint8_t public_key[32];
	struct fg_portal_cbs cbs;
	void *cbctx;
	char host[256];              /* for getaddrinfo: an IPv6 literal without brackets */
	struct fg_resolver *resolver; /* host looked up off the loop (resolver.h) */
	char addr[FG_RESOLVER_ADDR_LEN]; /* what this attempt connects to: host's numeric address */
	char host_header[260];       /* the Host header: an IPv6 literal in brackets */
	bool check_ip;               /* wss to an IPv6 literal: verify_cert() checks the address */
	char tls_error[160];         /* why OpenSSL refused the portal's certificate, this attempt */
	char warned[200];            /* the last connection error logged at WARN (rate limit) */
	char path[2048];
	uint16_t port;
	bool tls;
	char user_agent[256];
	enum fg_portal_state state;
	struct fg_phx_conn phx;
	struct fg_backoff bo;
	struct fg_timer tick;
	struct fg_timer retry;
	struct fg_timer close_timer;
	char *rx;
	size_t rxlen, rxcap;
	char *txq[TXQ_MAX];          /* frames ready to write (join, heartbeats, drained queue) */
	unsigned txhead, txlen;
	uint64_t retry_after_ns;
	uint64_t connected_since;    /* unix seconds */
	uint64_t reconnects;
	char last_error[160];
	void (*close_done)(void *ctx);
	void *close_ctx;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const char *fg_portal_state_name(enum fg_portal_state s)
{
	switch (s) {
	case FG_PORTAL_DISCONNECTED: return "disconnected";
	case FG_PORTAL_CONNECTING: return "connecting";
	case FG_PORTAL_JOINING: return "joining";
	case FG_PORTAL_CONNECTED: return "connected";
	case FG_PORTAL_BACKOFF: return "backoff";
	case FG_PORTAL_CLOSING: return "closing";
	case FG_PORTAL_FAILED: return "failed";
	}
	return "?";
}

enum fg_portal_state fg_portal_state(const struct fg_portal *p)
{
	return p->state;
}

static void tx_clear(struct fg_portal *p)
{
	for (unsigned i = 0; i < p->txlen; i++) {
		char *f = p->txq[(p->txhead + i) % TXQ_MAX];

		sodium_memzero(f, strlen(f));
		free(f);
	}
	p->txhead = p->txlen = 0;
}

/* Room for need bytes of the frame being assembled: doubling from 64 KiB, never past
 * FG_PHX_MAX_FRAME. */
static int rx_reserve(struct fg_portal *p, size_t need)
{
	size_t cap = p->rxcap ? p->rxcap : RX_MIN;
	char *n;

	if (need <= p->rxcap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > FG_PHX_MAX_FRAME)
		cap = FG_PHX_MAX_FRAME;
	/* By hand, not realloc(): the part already received may hold a PSK. */
	n = malloc(cap);
	if (!n)
		return -ENOMEM;
	if (p->rx) {
		memcpy(n, p->rx, p->rxlen);
		sodium_memzero(p->rx, p->rxlen);
		free(p->rx);
	}
	p->rx = n;
	p->rxcap = cap;
	return 0;
}

/* A frame handled or abandoned: its bytes wiped (payloads carry keys), and a buffer grown
 * past RX_KEEP for one large message given back. */
static void rx_reset(struct fg_portal *p)
{
	if (p->rx)
		sodium_memzero(p->rx, p->rxlen);
	p->rxlen = 0;
	if (p->rxcap > RX_KEEP) {
		free(p->rx);
		p->rx = NULL;
		p->rxcap = 0;
	}
}

static void drop_connection(struct fg_portal *p, const char *why);

static void tx_push(struct fg_portal *p, char *frame)
{
	if (!frame)
		return;
	if (p->txlen == TXQ_MAX) {
		/* Only the join and heartbeats bypass the Phoenix queue, so this means the
		 * socket has not been writable for minutes: start afresh, never drop a frame. */
		sodium_memzero(frame, strlen(frame));
		free(frame);
		fg_warn(TAG, "portal socket not writable: reconnecting");
		drop_connection(p, "portal socket not writable");
		return;
	}
	p->txq[(p->txhead + p->txlen++) % TXQ_MAX] = frame;
	if (p->wsi)
		lws_callback_on_writable(p->wsi);
}

/* Moves what the Phoenix queue may send now (only after the join) to the write queue. */
static void drain(struct fg_portal *p)
{
	while (p->txlen < TXQ_MAX - TXQ_RESERVE) {
		char *f = fg_phx_queue_pop(&p->phx, NULL);

		if (!f)
			break;
		tx_push(p, f);
	}
}

static void connect_now(struct fg_portal *p);

static void fail(struct fg_portal *p, const char *why)
{
	p->state = FG_PORTAL_FAILED;
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	fg_loop_timer(&p->tick, 0);
	fg_loop_timer(&p->retry, 0);
	if (p->cbs.fatal)
		p->cbs.fatal(p->cbctx, why);
}

static void retry_cb(struct fg_timer *t)
{
	connect_now(t->ctx);
}

/* The connection failed or broke: schedule the next attempt, or give up. */
static void schedule_retry(struct fg_portal *p, const char *why)
{
	uint64_t delay;

	if (p->state == FG_PORTAL_CLOSING || p->state == FG_PORTAL_FAILED)
		return;
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	p->connected_since = 0;
	if (fg_backoff_next(&p->bo, now_ns(), p->retry_after_ns, &delay) < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "gave up reconnecting to the portal (last error: %s)", why);
		fail(p, msg);
		return;
	}
	p->retry_after_ns = 0;
	p->state = FG_PORTAL_BACKOFF;
	fg_info(TAG, "portal: %s; reconnecting in %.1f s", why, (double)delay / 1e9);
	fg_loop_timer(&p->retry, delay / 1000 + 1);
}

static void drop_connection(struct fg_portal *p, const char *why)
{
	if (p->wsi) {
		lws_set_opaque_user_data(p->wsi, NULL);
		lws_set_timeout(p->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
		p->wsi = NULL;
	}
	tx_clear(p);
	rx_reset(p);
	schedule_retry(p, why);
}

static void tick_cb(struct fg_timer *t)
{
	struct fg_portal *p = t->ctx;
	uint64_t now = now_ns();

	if (p->state == FG_PORTAL_JOINING && fg_phx_join_overdue(&p->phx, now)) {
		drop_connection(p, "no reply to the join within 5 s");
	} else if (p->state == FG_PORTAL_CONNECTED) {
		if (fg_phx_heartbeat_overdue(&p->phx))
			drop_connection(p, "more than 3 heartbeats unanswered");
		else if (fg_phx_heartbeat_due(&p->phx, now))
			tx_push(p, fg_phx_heartbeat(&p->phx, now));
	}
	if (p->state != FG_PORTAL_FAILED && p->state != FG_PORTAL_CLOSING)
		fg_loop_timer(&p->tick, TICK_US);
}

static void on_frame(struct fg_portal *p, const char *text, size_t len)
{
	struct fg_phx_in m;
	char err[160];

	if (fg_phx_decode(text, len, &m, err, sizeof(err)) < 0) {
		fg_warn(TAG, "malformed frame from the portal ignored: %s", err);
		return;
	}
	enum fg_phx_action a = fg_phx_handle(&p->phx, &m);
	switch (a) {
	case FG_PHX_ACT_MESSAGE:
		if (p->cbs.message)
			p->cbs.message(p->cbctx, &m);
		break;
	case FG_PHX_ACT_JOINED: {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		p->state = FG_PORTAL_CONNECTED;
		p->connected_since = (uint64_t)ts.tv_sec;
		fg_backoff_connected(&p->bo, now_ns());
		fg_info(TAG, "joined the portal's gateway channel");
		p->warned[0] = '\0';
		if (p->cbs.joined)
			p->cbs.joined(p->cbctx);
		drain(p);
		break;
	}
	case FG_PHX_ACT_REJOIN:
		fg_info(TAG, "portal says unmatched topic: joining again");
		p->state = FG_PORTAL_JOINING;
		tx_push(p, fg_phx_join(&p->phx, now_ns()));
		break;
	case FG_PHX_ACT_LOGIN_FAILED:
		fail(p, "the portal refused the join");
		break;
	case FG_PHX_ACT_TOKEN_EXPIRED:
		fail(p, "the portal says the token expired (disconnect token_expired)");
		break;
	case FG_PHX_ACT_ERROR_REPLY: {
		const char *why = fg_phx_reply_reason(&m);

		fg_warn(TAG, "the portal answered an error: %s", why ? why : "(no reason)");
		break;
	}
	case FG_PHX_ACT_RECONNECT:
		drop_connection(p, "the portal closed the channel");
		break;
	case FG_PHX_ACT_IGNORE:
	default:
		break;
	}
	fg_phx_in_free(&m);
}

/*
 * OpenSSL's verdict on each certificate of the portal's chain, as libwebsockets passes it
 * on (non-zero refuses the certificate). It keeps the cause for the connection error, which
 * lws itself reports only as "connect SSL err 1". For an IPv6-literal portal it checks the
 * address itself: lws 4.1 cuts the TLS name at the first ':' and would check nothing.
 */
static int verify_cert(struct fg_portal *p, X509_STORE_CTX *x, bool ok)
{
	int err = X509_STORE_CTX_get_error(x);

	if (ok && p->check_ip && X509_STORE_CTX_get_error_depth(x) == 0 &&
	    X509_check_ip_asc(X509_STORE_CTX_get_current_cert(x), p->host, 0) != 1) {
		err = X509_V_ERR_IP_ADDRESS_MISMATCH;
		X509_STORE_CTX_set_error(x, err);
		ok = false;
	}
	if (!ok && err != X509_V_OK && !p->tls_error[0])
		snprintf(p->tls_error, sizeof(p->tls_error), "%s (X509_V_ERR %d)",
			 X509_verify_cert_error_string(err), err);
	return !ok;
}

/* A connection error: a TLS refusal at WARN, once per cause until the next join. */
static void conn_error(struct fg_portal *p, const char *in, char *why, size_t len)
{
	if (!p->tls_error[0]) {
		snprintf(why, len, "%s", in ? in : "connection failed");
		return;
	}
	snprintf(why, len, "TLS certificate verify failed: %s", p->tls_error);
	if (strcmp(p->warned, why)) {
		snprintf(p->warned, sizeof(p->warned), "%s", why);
		fg_warn(TAG, "portal %s refused: %s (FASTGATE_CA_FILE / --ca-file adds a CA)",
			p->host_header, why);
	}
}

static int portal_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct fg_portal *p = lws_get_opaque_user_data(wsi);

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **q = in, *end = *q + len;
		char auth[AUTH_HEADER_MAX];

		if (!p)
			return -1;
		/* fg_portal_create checked it already: never send a cut token. */
		if (fg_login_auth_header(p->login, auth, sizeof(auth)) < 0) {
			fail(p, "FIREZONE_TOKEN: no token, or too long for the X-Authorization header");
			return -1;
		}
		int r = lws_add_http_header_by_name(wsi, (const unsigned char *)"x-authorization:",
						    (const unsigned char *)auth, (int)strlen(auth), q, end);
		sodium_memzero(auth, sizeof(auth));
		if (r || lws_add_http_header_by_name(wsi, (const unsigned char *)"user-agent:",
						     (const unsigned char *)p->user_agent,
						     (int)strlen(p->user_agent), q, end))
			return -1;
		break;
	}
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* user is the X509_STORE_CTX, len OpenSSL's preverify_ok */
		return p ? verify_cert(p, user, len != 0) : 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!p)
			return -1;
		p->state = FG_PORTAL_JOINING;
		fg_phx_conn_reset(&p->phx, now_ns());
		fg_debug(TAG, "WebSocket up; joining");
		tx_push(p, fg_phx_join(&p->phx, now_ns()));
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!p)
			return -1;
		if (p->rxlen + len > FG_PHX_MAX_FRAME) {
			/* Nothing legitimate is this large (phoenix.h): the frame is not read to its
			 * end, the connection starts afresh with backoff, and the buffer goes. */
			fg_warn(TAG, "portal frame over the %d MiB limit (%zu bytes so far): reconnecting",
				FG_PHX_MAX_FRAME >> 20, p->rxlen + len);
			drop_connection(p, "a portal frame over the size limit");
			return -1;
		}
		if (rx_reserve(p, p->rxlen + len) < 0)
			return -1;
		memcpy(p->rx + p->rxlen, in, len);
		p->rxlen += len;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			on_frame(p, p->rx, p->rxlen);
			rx_reset(p);
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		if (!p)
			return -1;
		if (p->state == FG_PORTAL_CLOSING) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"", 0);
			return -1;
		}
		if (p->txlen == 0)
			break;
		char *f = p->txq[p->txhead];
		size_t n = strlen(f);
		unsigned char *buf = malloc(LWS_PRE + n);

		if (!buf)
			return -1;
		memcpy(buf + LWS_PRE, f, n);
		int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
		sodium_memzero(buf, LWS_PRE + n);
		free(buf);
		if (w < (int)n)
			return -1;
		sodium_memzero(f, n);
		free(f);
		p->txhead = (p->txhead + 1) % TXQ_MAX;
		p->txlen--;
		if (p->state == FG_PORTAL_CONNECTED)
			drain(p);   /* refill the window from the Phoenix queue */
		if (p->txlen)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[200], ra[32];
		int status = lws_http_client_http_response(wsi);

		if (!p)
			break;
		p->wsi = NULL;
		if (lws_hdr_copy(wsi, ra, sizeof(ra), WSI_TOKEN_HTTP_RETRY_AFTER) > 0 &&
		    fg_backoff_parse_retry_after(ra, (uint64_t)time(NULL), &p->retry_after_ns) < 0)
			p->retry_after_ns = 0;
		conn_error(p, in, why, sizeof(why));
		if (status == 401 || (in && strstr(in, "unauthorized"))) {
			fail(p, "the portal rejected the token (HTTP 401): check FIREZONE_TOKEN");
			break;
		}
		if (status) {
			char s[300];

			snprintf(s, sizeof(s), "HTTP %d from the portal (%s)", status, why);
			schedule_retry(p, s);
		} else {
			schedule_retry(p, why);
		}
		break;
	}
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (p && len >= 2)
			fg_info(TAG, "the portal closed the WebSocket (code %u)",
				((unsigned)((const uint8_t *)in)[0] << 8) | ((const uint8_t *)in)[1]);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!p)
			break;
		p->wsi = NULL;
		if (p->state == FG_PORTAL_CLOSING) {
			fg_loop_timer(&p->close_timer, 1);
			break;
		}
		tx_clear(p);
		rx_reset(p);
		schedule_retry(p, "the WebSocket closed");
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols portal_protocol = {
	.name = "fz-portal",
	.callback = portal_cb,
	.rx_buffer_size = RX_MIN,
};

const struct lws_protocols *fg_portal_protocol(void)
{
	return &portal_protocol;
}

/* Connects to p->addr; Host, SNI and the certificate's name check use the host name. */
static void connect_addr(struct fg_portal *p)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = p->ctx;
	ci.address = p->addr;
	ci.port = p->port;
	ci.path = p->path;
	ci.host = p->host_header;
	/* No Origin header, as the Rust gateway: Phoenix (check_origin: :conn) answers 403 to an
	 * Origin that is not the portal's own https origin, before it reads the token. */
	ci.origin = NULL;
	ci.ssl_connection = p->tls ? LCCSCF_USE_SSL : 0;
	if (p->check_ip)
		ci.ssl_connection |= LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK; /* verify_cert() does it */
	p->tls_error[0] = '\0';
	ci.protocol = NULL;
	ci.local_protocol_name = portal_protocol.name;
	ci.opaque_user_data = p;
	ci.pwsi = &p->wsi;
	fg_debug(TAG, "connecting to %s://%s:%u (%s)", p->tls ? "wss" : "ws", p->host_header, p->port, p->addr);
	if (!lws_client_connect_via_info(&ci)) {
		p->wsi = NULL;
		schedule_retry(p, "could not start a connection");
	}
}

static void resolved(void *ctx, const struct fg_resolved *r)
{
	struct fg_portal *p = ctx;
	char why[300];

	if (p->state != FG_PORTAL_CONNECTING || p->wsi)
		return; /* closed meanwhile */
	if (r->err) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", p->host, gai_strerror(r->err));
		schedule_retry(p, why);
		return;
	}
	/* Each attempt takes the next address, so that one that does not answer (::1 for a
	 * portal on 127.0.0.1) is not the only one ever tried. */
	snprintf(p->addr, sizeof(p->addr), "%s", r->addr[(p->reconnects - 1) % r->n]);
	connect_addr(p);
}

/* An attempt: a literal address connects at once, a name is looked up first (off the loop). */
static void connect_now(struct fg_portal *p)
{
	unsigned char buf[sizeof(struct in6_addr)];

	p->state = FG_PORTAL_CONNECTING;
	p->reconnects++;
	if (inet_pton(AF_INET, p->host, buf) == 1 || inet_pton(AF_INET6, p->host, buf) == 1) {
		snprintf(p->addr, sizeof(p->addr), "%.45s", p->host); /* a literal: it fits */
		connect_addr(p);
		return;
	}
	if (!p->resolver || fg_resolver_start(p->resolver, p->host) < 0)
		schedule_retry(p, "could not start resolving the portal's host name");
}

struct fg_portal *fg_portal_create(struct fg_loop *loop, const struct fg_login *login,
				   const uint8_t public_key[32], const struct fg_portal_cbs *cbs, void *cbctx)
{
	struct fg_portal *p;
	char auth[AUTH_HEADER_MAX];
	int rc = fg_login_auth_header(login, auth, sizeof(auth));

	sodium_memzero(auth, sizeof(auth));
	if (rc < 0) {
		if (rc == -ENOSPC)
			fg_err(TAG, "FIREZONE_TOKEN: too long for the X-Authorization header (at most %zu bytes)",
			       AUTH_HEADER_MAX - sizeof("Bearer "));
		else
			fg_err(TAG, "FIREZONE_TOKEN: no token for the X-Authorization header");
		errno = rc == -ENOSPC ? EMSGSIZE : EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ctx = loop->lws;
	p->login = login;
	memcpy(p->public_key, public_key, 32);
	p->cbs = *cbs;
	p->cbctx = cbctx;
	if (fg_login_url(login, public_key, p->host, sizeof(p->host), &p->port, &p->tls, p->path,
			 sizeof(p->path)) < 0 ||
	    fg_login_user_agent(p->user_agent, sizeof(p->user_agent), login->version[0] ? login->version : NULL) < 0) {
		free(p);
		errno = EINVAL;
		return NULL;
	}
	/* RFC 7230 5.4: an IPv6 literal goes in brackets, in the Host header as in the URL. */
	bool v6 = strchr(p->host, ':') != NULL;

	snprintf(p->host_header, sizeof(p->host_header), "%s%s%s", v6 ? "[" : "", p->host, v6 ? "]" : "");
	p->check_ip = v6 && p->tls;
	fg_phx_conn_init(&p->phx);
	fg_backoff_init(&p->bo, login->max_partition_ns, NULL, NULL);
	fg_timer_init(&p->tick, loop, tick_cb, p);
	fg_timer_init(&p->retry, loop, retry_cb, p);
	p->close_timer.loop = loop; /* its callback is set by fg_portal_close */
	p->resolver = fg_resolver_new(loop, resolved, p); /* NULL: each attempt says so and retries */
	return p;
}

void fg_portal_start(struct fg_portal *p)
{
	fg_info(TAG, "portal %s://%s:%u/gateway/v2/websocket as %s (%s)", p->tls ? "wss" : "ws", p->host_header, p->port,
		p->login->name, p->user_agent);
	fg_loop_timer(&p->tick, TICK_US);
	connect_now(p);
}

int fg_portal_send(struct fg_portal *p, const char *event, const cJSON *payload)
{
	int r = fg_phx_queue_push(&p->phx, "gateway", event, payload);

	if (r == -EALREADY)
		return 0;
	if (r == -ENOBUFS) {
		/* Never drop one message silently: the new connection starts with an empty
		 * queue, as after any reconnect. */
		fg_warn(TAG, "portal message %s: over %d MiB queued; reconnecting", event,
			FG_PHX_QUEUE_MAX_BYTES >> 20);
		drop_connection(p, "outbound queue over its byte limit");
		return r;
	}
	if (r < 0) {
		fg_warn(TAG, "portal message %s dropped: %s", event, strerror(-r));
		return r;
	}
	if (p->state == FG_PORTAL_CONNECTED)
		drain(p);
	return 0;
}

static void close_timer_cb(struct fg_timer *t)
{
	struct fg_portal *p = t->ctx;
	void (*done)(void *) = p->close_done;

	p->close_done = NULL;
	if (done)
		done(p->close_ctx);
}

void fg_portal_close(struct fg_portal *p, void (*done)(void *ctx), void *ctx)
{
	p->close_done = done;
	p->close_ctx = ctx;
	p->close_timer.fn = close_timer_cb;
	p->close_timer.ctx = p;
	fg_loop_timer(&p->tick, 0);
	fg_loop_timer(&p->retry, 0);
	p->state = FG_PORTAL_CLOSING;
	if (p->wsi) {
		lws_callback_on_writable(p->wsi);
		fg_loop_timer(&p->close_timer, CLOSE_GRACE_US);
	} else {
		fg_loop_timer(&p->close_timer, 1);
	}
}

void fg_portal_free(struct fg_portal *p)
{
	if (!p)
		return;
	if (p->wsi)
		lws_set_opaque_user_data(p->wsi, NULL);
	fg_resolver_free(p->resolver);
	fg_loop_timer(&p->tick, 0);
	fg_loop_timer(&p->retry, 0);
	fg_loop_timer(&p->close_timer, 0);
	tx_clear(p);
	fg_phx_conn_free(&p->phx);
	rx_reset(p);   /* a frame received in part */
	free(p->rx);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

cJSON *fg_portal_json(const struct fg_portal *p)
{
	cJSON *o = cJSON_CreateObject();
	char url[2400];
	char *q;

	snprintf(url, sizeof(url), "%s://%s:%u%s", p->tls ? "wss" : "ws", p->host_header, p->port, p->path);
	q = strchr(url, '?');
	if (q)
		*q = '\0';
	cJSON_AddStringToObject(o, "state", fg_portal_state_name(p->state));
	cJSON_AddStringToObject(o, "url", url);
	if (p->connected_since)
		cJSON_AddNumberToObject(o, "connected_since", (double)p->connected_since);
	else
		cJSON_AddNullToObject(o, "connected_since");
	cJSON_AddNumberToObject(o, "reconnects", p->reconnects ? (double)(p->reconnects - 1) : 0);
	if (p->last_error[0])
		cJSON_AddStringToObject(o, "last_error", p->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	return o;
}
