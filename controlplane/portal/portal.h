/* SPDX-License-Identifier: MIT */
/*
 * The portal connection: a libwebsockets client for /gateway/v2/websocket with the
 * Firezone gateway's URL, headers, join, heartbeats and reconnect rules (reference §2),
 * built on the pure Phoenix and backoff modules. Decoded messages go to the owner's
 * callbacks; the owner answers with fg_portal_send(). Owned by the control plane's thread.
 */
#ifndef FG_PORTAL_H
#define FG_PORTAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "login.h"
#include "phoenix.h"

struct fg_loop;
struct lws_protocols;
struct fg_portal;

struct fg_portal_cbs {
	void (*message)(void *ctx, const struct fg_phx_in *m);   /* a portal message to act on */
	void (*joined)(void *ctx);                               /* after every successful join */
	void (*fatal)(void *ctx, const char *why);               /* 401, token_expired, gave up */
};

enum fg_portal_state {
	FG_PORTAL_DISCONNECTED = 0,
	FG_PORTAL_CONNECTING,
	FG_PORTAL_JOINING,
	FG_PORTAL_CONNECTED,
	FG_PORTAL_BACKOFF,
	FG_PORTAL_CLOSING,
	FG_PORTAL_FAILED,
};

struct fg_portal *fg_portal_create(struct fg_loop *loop, const struct fg_login *login,
				   const uint8_t public_key[32], const struct fg_portal_cbs *cbs, void *cbctx);
void fg_portal_start(struct fg_portal *p);
/* Queues a message (held while disconnected, duplicates dropped). 0 or -errno. */
int fg_portal_send(struct fg_portal *p, const char *event, const cJSON *payload);
/* Closes the WebSocket with 1000; done() runs when it is closed (or after ~0.5 s). */
void fg_portal_close(struct fg_portal *p, void (*done)(void *ctx), void *ctx);
void fg_portal_free(struct fg_portal *p);
/* The protocol entry the client vhost must list. */
const struct lws_protocols *fg_portal_protocol(void);

enum fg_portal_state fg_portal_state(const struct fg_portal *p);
const char *fg_portal_state_name(enum fg_portal_state s);
/* For fastgatectl status: the URL (no token), since when connected (unix s, 0), reconnects,
 * last error. */
cJSON *fg_portal_json(const struct fg_portal *p);

#endif
