/* SPDX-License-Identifier: MIT */
/*
 * What the flow-log suites share: ingest tokens minted as the portal does (HS256-shaped
 * JWTs; the signature is never checked), sample FG_CTL_FLOW records, a libwebsockets loop
 * as the control plane builds it (the flow HTTP protocol and fg_loop's), a captured log,
 * and private temporary directories. Test thread only.
 */
#ifndef FG_FLOW_FIXTURE_H
#define FG_FLOW_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"
#include "loop.h"

struct lws_context;

enum {
	FX_LOG_MAX = 1 << 16,
};

#define FX_AUTHZ_A "eeb66205-5f53-4f64-acbc-deed47293f04"
#define FX_AUTHZ_B "11111111-2222-4333-8444-555555555555"

/* A token for authz with uploads_enabled as given and exp (unix s), role responder, every
 * required claim and the optional resource_address and initiator_actor_email. Heap. */
char *fx_token(const char *authz, bool uploads, uint64_t exp);
/* The same from the claims JSON given (signature "sig"). Heap. */
char *fx_token_raw(const char *header_json, const char *claims_json, const char *sig);

/* A TCP flow 100.64.0.2:40000 -> 10.0.0.5:443 of key 0x11.., resource "res-1", over
 * 198.18.1.2:51820 directly, started at 1700000000.5 s; completed (FIN) 60 s later with
 * 12/2048 tx, 10/1024 rx. */
void fx_flow(struct fg_ctl_flow *m, uint32_t kind);

struct fx_loop {
	struct lws_context *lws;
	struct fg_loop loop;
	struct fg_timer tick;    /* bounds each lws_service(): it polls until the next timer */
};

int fx_loop_init(struct fx_loop *l);
void fx_loop_free(struct fx_loop *l);
/* Runs the loop until pred(arg) or ms passed: pred's last answer. */
bool fx_loop_until(struct fx_loop *l, bool (*pred)(void *arg), void *arg, int ms);

/* Log lines go to a pipe from now on; fx_log_take() returns what came (NUL-terminated,
 * static storage of the test thread). */
void fx_log_capture(void);
const char *fx_log_take(void);
void fx_log_release(void);

/* A fresh directory under $TMPDIR (or /tmp) named for the test; removed with everything. */
char *fx_tmpdir(const char *tag);
void fx_rmtree(const char *path);

#endif
