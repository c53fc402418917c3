// SPDX-License-Identifier: MIT
/*
 * The flow-log suites' fixture (see flow_fixture.h). Test thread only.
 */
#include "flow_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <sodium.h>

#include "flow_http.h"
#include "log.h"

static char *b64url(const char *s)
{
	size_t n = strlen(s), cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);

	if (out)
		sodium_bin2base64(out, cap, (const unsigned char *)s, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

char *fx_token_raw(const char *header_json, const char *claims_json, const char *sig)
{
	char *h = b64url(header_json), *c = b64url(claims_json), *s = b64url(sig), *out = NULL;

	if (h && c && s && asprintf(&out, "%s.%s.%s", h, c, s) < 0)
		out = NULL;
	free(h);
	free(c);
	free(s);
	return out;
}

char *fx_token(const char *authz, bool uploads, uint64_t exp)
{
	char claims[2048];

	snprintf(claims, sizeof(claims),
		 "{\"account_id\":\"12f207e0-3b6c-4f0f-9d0f-cc22cf9fbf3c\",\"iat\":1782756000,\"exp\":%llu,"
		 "\"uploads_enabled\":%s,\"role\":\"responder\","
		 "\"initiator_device_id\":\"d263d490-a0bb-452a-8990-01d27a1f1144\","
		 "\"responder_device_id\":\"7c1f9b3e-2a84-4d61-9f05-3e8a2c6b4d71\","
		 "\"policy_authorization_id\":\"%s\",\"policy_id\":\"44f19c37-cf62-4b19-b158-6f86bdcd2b57\","
		 "\"resource_id\":\"733e8d14-c18d-4931-af30-3639fa09c0c0\",\"resource_name\":\"GitLab\","
		 "\"initiator_actor_id\":\"24eb631e-c529-4182-a746-d99ee66f7426\","
		 "\"initiator_actor_name\":\"Jane Doe\",\"authorized_at\":\"2026-07-06T12:00:00.000000Z\","
		 "\"authorization_expires_at\":\"2026-07-07T12:00:00.000000Z\","
		 "\"resource_address\":\"gitlab.mycorp.com\",\"initiator_actor_email\":\"jane@mycorp.com\","
		 "\"initiator_client_version\":null}",
		 (unsigned long long)exp, uploads ? "true" : "false", authz);
	return fx_token_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, "signature-bytes");
}

void fx_flow(struct fg_ctl_flow *m, uint32_t kind)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	memset(m->public_key, 0x11, 32);
	snprintf(m->resource_id, sizeof(m->resource_id), "res-1");
	m->proto = 6;
	m->src_port = 40000;
	m->dst_port = 443;
	m->src.family = AF_INET;
	inet_pton(AF_INET, "100.64.0.2", m->src.addr);
	m->dst.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.5", m->dst.addr);
	m->n_outers = 1;
	m->outers[0].ip.family = AF_INET;
	inet_pton(AF_INET, "198.18.1.2", m->outers[0].ip.addr);
	m->outers[0].port = 51820;
	m->start_unix_ns = 1700000000500000000ull;
	if (kind == FG_CTL_FLOW_COMPLETED) {
		m->end = FG_CTL_FLOW_END_FIN;
		m->last_packet_unix_ns = 1700000060000000000ull;
		m->end_unix_ns = 1700000060000000000ull;
		m->tx_packets = 12;
		m->tx_bytes = 2048;
		m->rx_packets = 10;
		m->rx_bytes = 1024;
	}
}

/* ---- the loop -------------------------------------------------------------------------------- */

static struct lws_protocols protocols[3];

static void tick_fired(struct fg_timer *t)
{
	(void)t;
}

int fx_loop_init(struct fx_loop *l)
{
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	memset(l, 0, sizeof(*l));
	lws_set_log_level(getenv("FX_VERBOSE") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_CLIENT : LLL_ERR, NULL);
	memset(protocols, 0, sizeof(protocols));
	protocols[0] = fg_flow_http_protocol;
	protocols[1] = fg_loop_protocol;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.pt_serv_buf_size = 16384;
	l->lws = lws_create_context(&info);
	if (!l->lws)
		return -1;
	info.vhost_name = "default";
	vh = lws_create_vhost(l->lws, &info);
	if (!vh)
		return -1;
	if (fg_loop_init(&l->loop, l->lws, vh) < 0)
		return -1;
	fg_timer_init(&l->tick, &l->loop, tick_fired, l);
	return 0;
}

void fx_loop_free(struct fx_loop *l)
{
	if (l->lws) {
		fg_loop_timer(&l->tick, 0);
		lws_context_destroy(l->lws);
	}
	l->lws = NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool fx_loop_until(struct fx_loop *l, bool (*pred)(void *arg), void *arg, int ms)
{
	int64_t end = mono_ms() + ms;

	while (!pred(arg)) {
		if (mono_ms() >= end)
			return pred(arg);
		fg_loop_timer(&l->tick, 10000);
		lws_service(l->lws, 0);
	}
	return true;
}

/* ---- the log --------------------------------------------------------------------------------- */

static int log_pipe[2] = { -1, -1 };
static char log_buf[FX_LOG_MAX];

void fx_log_capture(void)
{
	if (getenv("FX_VERBOSE")) {   /* debugging a test: everything to stderr */
		fg_log_set_level(FG_LOG_DEBUG);
		return;
	}
	if (log_pipe[0] < 0 && pipe2(log_pipe, O_NONBLOCK | O_CLOEXEC) == 0) {
		int sz = 1 << 20;

		(void)fcntl(log_pipe[1], F_SETPIPE_SZ, sz);
	}
	fg_log_set_fd(log_pipe[1]);
	fx_log_take();
}

const char *fx_log_take(void)
{
	size_t n = 0;
	ssize_t r;

	while (log_pipe[0] >= 0 && n < sizeof(log_buf) - 1 &&
	       (r = read(log_pipe[0], log_buf + n, sizeof(log_buf) - 1 - n)) > 0)
		n += (size_t)r;
	log_buf[n] = '\0';
	return log_buf;
}

void fx_log_release(void)
{
	fg_log_set_fd(STDERR_FILENO);
}

/* ---- directories ----------------------------------------------------------------------------- */

char *fx_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;

	if (asprintf(&path, "%s/fg-flow-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void fx_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
