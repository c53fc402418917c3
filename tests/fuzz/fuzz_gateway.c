// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the portal message dispatcher (controlplane/portal/gateway.c) and the
 * authorization state behind it (controlplane/state/state.c), without a live connection.
 * The gateway gets a real state whose data plane client talks over a SOCK_SEQPACKET
 * socketpair to the harness, which plays the data plane, and a real portal connection
 * (portal.c on a libwebsockets context that never connects), whose queue takes the
 * confirmations; no relays, ICE agents or flow logs (they are optional).
 *
 * The input is a program of records: [op][len lo][len hi][len bytes]. op & 0x0f picks the
 * portal event as fuzz_portal_msg does (the known ones, then ignored ones) and the bytes are
 * its payload's JSON, framed and decoded by phoenix.c, then dispatched; op & 0x30 says how
 * the data plane answers what that caused (0 and 0x30: it applies everything, 0x10: it
 * refuses everything with -ENOENT, 0x20: it never answers and every budget runs out);
 * op & 0x40 makes the data plane then report an event for the client the bytes' first one
 * picks (a Goodbye, its last resource expired, or one of several resources expired), as
 * it does on its own.
 *
 * Checked after each record: the message was counted once, and as malformed or ignored
 * exactly when the event's own parser (run here too) refuses it or the gateway ignores the
 * event; every request the data plane reads is well-formed and says what the state holds
 * (a peer's key and addresses, a resource's type, prefix, expiry and every filter); once
 * the data plane has answered (or the budgets ran out) no authorization waits for its
 * confirmation; and the state stays sound: client ids and keys unique (the data plane has
 * one peer per key), ids non-empty, every client with at least one resource, filters
 * within FG_CTL_MAX_FILTERS. What a message that parsed says is then so: an
 * authorization's client holds its key and the resource with its filters and expiry, a
 * rejected resource is gone, an updated resource has its new filters wherever it is held,
 * init leaves only the listed authorizations. Any broken invariant aborts. The state, the
 * portal and the socket are new for each input.
 *
 * Found: two client ids authorized with one public key were two clients in the state but
 * one peer in the data plane (tests/fuzz/corpus/gateway/crash-shared-public-key).
 *
 *   scripts/fuzz.sh 60 gateway     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/gateway/ (tests/fuzz/corpus/gen_cp_seeds.py).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "ctlproto.h"
#include "dpclient.h"
#include "gateway.h"
#include "log.h"
#include "login.h"
#include "loop.h"
#include "phoenix.h"
#include "portal.h"
#include "portal_msg.h"
#include "state.h"
#include "fuzz_check.h"
#include "fuzz_portal_events.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	ANSWER_OK = 0x00,
	ANSWER_REFUSE = 0x10,
	ANSWER_NEVER = 0x20,
	ANSWER_MASK = 0x30,
	EVENT_AFTER = 0x40,
	RX_MAX = FG_CTL_MAX_MSG,
};

static struct fg_loop g_loop;
static char g_token[] = "fuzz-token";
static struct fg_login g_login;

struct harness {
	struct fg_dpc dpc;
	struct fg_cp_state state;
	struct fg_gateway g;
	int peer;                    /* the data plane's end */
	uint64_t messages, malformed, ignored;
};

static struct harness H;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct lws_protocols protocols[3];
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	(void)argc;
	(void)argv;
	fg_log_set_level(FG_LOG_ERROR);
	lws_set_log_level(LLL_ERR, NULL);
	protocols[0] = *fg_portal_protocol();
	protocols[1] = fg_loop_protocol;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	g_loop.lws = lws_create_context(&info);
	CHECK(g_loop.lws);
	info.vhost_name = "default";
	vh = lws_create_vhost(g_loop.lws, &info);
	CHECK(vh && fg_loop_init(&g_loop, g_loop.lws, vh) == 0);
	g_login.token = g_token;
	snprintf(g_login.id, sizeof(g_login.id), "fuzz");
	snprintf(g_login.external_id, sizeof(g_login.external_id), "fuzz");
	snprintf(g_login.name, sizeof(g_login.name), "fuzz-gateway");
	snprintf(g_login.api_url, sizeof(g_login.api_url), "wss://portal.invalid");
	snprintf(g_login.version, sizeof(g_login.version), "1.4.5");
	return 0;
}

static void on_message(void *ctx, const struct fg_phx_in *m)
{
	(void)ctx;
	(void)m;
}

static void on_nothing(void *ctx)
{
	(void)ctx;
}

static void on_fatal(void *ctx, const char *why)
{
	(void)ctx;
	(void)why;
	CHECK(0);
}

static void start(void)
{
	static const struct fg_portal_cbs cbs = { on_message, on_nothing, on_fatal };
	static const uint8_t key[32] = { 0x42 };
	int sv[2];

	memset(&H, 0, sizeof(H));
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	fg_dpc_init(&H.dpc, "fuzz");
	H.dpc.fd = sv[0];
	H.peer = sv[1];
	fg_cp_state_init(&H.state, &H.dpc);
	H.g.state = &H.state;
	H.g.portal = fg_portal_create(&g_loop, &g_login, key, &cbs, NULL);
	CHECK(H.g.portal);
}

static void stop(void)
{
	fg_dpc_close(&H.dpc);
	CHECK(!H.g.auth_head && !H.g.auth_tail);
	fg_portal_free(H.g.portal);
	fg_cp_state_free(&H.state);
	close(H.peer);
}

/* ---- the state ----------------------------------------------------------------------------- */

static const struct fg_cp_resource *find_res(const struct fg_cp_client *c, const char *id)
{
	for (uint32_t i = 0; i < c->nres; i++)
		if (!strcmp(c->res[i].id, id))
			return &c->res[i];
	return NULL;
}

static void state_sound(void)
{
	const struct fg_cp_state *s = &H.state;

	CHECK(s->n <= s->cap && (!s->n || s->clients));
	for (uint32_t k = 0; k < s->n; k++) {
		const struct fg_cp_client *c = &s->clients[k];

		CHECK(c->id[0] && memchr(c->id, '\0', sizeof(c->id)));
		CHECK(c->nres >= 1 && c->nres <= c->capres && c->ncands <= FG_CP_MAX_CANDIDATES);
		/* One client per id, and per key: the data plane has one peer per key. */
		for (uint32_t j = 0; j < k; j++)
			CHECK(strcmp(c->id, s->clients[j].id) && memcmp(c->public_key, s->clients[j].public_key, 32));
		for (uint32_t i = 0; i < c->nres; i++) {
			const struct fg_cp_resource *r = &c->res[i];

			CHECK(r->id[0] && memchr(r->id, '\0', sizeof(r->id)));
			CHECK(r->type >= FG_CP_RES_CIDR && r->type <= FG_CP_RES_INTERNET);
			CHECK(r->n_filters <= FG_CTL_MAX_FILTERS && (!r->n_filters || r->filters));
			CHECK(find_res(c, r->id) == r);
		}
	}
}

/* The resource r of the portal's message, as the state must hold it. */
static void holds(const struct fg_cp_resource *h, const struct fg_portal_resource *r, uint64_t expires_at)
{
	CHECK(h->type == (r->type == FG_PORTAL_RES_CIDR ? FG_CP_RES_CIDR :
			  r->type == FG_PORTAL_RES_DNS ? FG_CP_RES_DNS : FG_CP_RES_INTERNET));
	CHECK(h->expires_at == expires_at && h->n_filters == r->n_filters);
	for (uint32_t i = 0; i < r->n_filters; i++)
		CHECK(h->filters[i].proto == r->filters[i].proto && h->filters[i].lo == r->filters[i].port_start &&
		      h->filters[i].hi == r->filters[i].port_end);
	if (r->type == FG_PORTAL_RES_CIDR)
		CHECK(fg_ip_equal(&h->prefix.ip, &r->prefix.ip) && h->prefix.len == r->prefix.len);
	if (r->type == FG_PORTAL_RES_DNS)
		CHECK(!strcmp(h->pattern, r->pattern));
}

/* ---- the data plane's end ---------------------------------------------------------------- */

/* A request read from the client says what the state holds now. */
static void request_sound(const uint8_t *buf, size_t n)
{
	struct fg_ctl_hdr h;
	const struct fg_cp_client *c;

	CHECK(n >= sizeof(h));
	memcpy(&h, buf, sizeof(h));
	CHECK(h.version == FG_CTL_VERSION && h.seq && fg_ctl_msg_size(buf, n) == n);
	if (h.type == FG_CTL_PEER_UPSERT) {
		const struct fg_ctl_peer_upsert *m = (const void *)buf;

		c = fg_cp_find_by_key(&H.state, m->public_key);
		CHECK(c && !strcmp(c->id, m->client_id) && (m->flags & FG_CTL_PEER_POLICY));
		CHECK(fg_ip_equal(&c->ipv4, &m->ipv4) && fg_ip_equal(&c->ipv6, &m->ipv6));
		CHECK(!!(m->flags & FG_CTL_PEER_HAS_PSK) == c->has_psk && (!c->has_psk || !memcmp(m->psk, c->psk, 32)));
	} else if (h.type == FG_CTL_RESOURCE_UPSERT) {
		const struct fg_ctl_resource_upsert *m = (const void *)buf;
		const struct fg_cp_resource *r;

		c = fg_cp_find_by_key(&H.state, m->public_key);
		CHECK(c && memchr(m->resource_id, '\0', sizeof(m->resource_id)));
		r = find_res(c, m->resource_id);
		CHECK(r && m->expires_at == r->expires_at && m->n_filters == r->n_filters);
		CHECK(m->type == (r->type == FG_CP_RES_CIDR ? FG_CTL_RES_CIDR :
				  r->type == FG_CP_RES_DNS ? FG_CTL_RES_DNS : FG_CTL_RES_INTERNET));
		if (r->type == FG_CP_RES_CIDR)
			CHECK(fg_ip_equal(&m->prefix.ip, &r->prefix.ip) && m->prefix.len == r->prefix.len);
		else
			CHECK(!m->prefix.ip.family);
		for (uint32_t i = 0; i < r->n_filters; i++)
			CHECK(m->filters[i].proto == r->filters[i].proto && m->filters[i].port_lo == r->filters[i].lo &&
			      m->filters[i].port_hi == r->filters[i].hi);
	} else if (h.type == FG_CTL_IFACE_SET) {
		const struct fg_ctl_iface_set *m = (const void *)buf;

		CHECK(fg_ip_equal(&m->ipv4, &H.state.if4) && fg_ip_equal(&m->ipv6, &H.state.if6));
	} else {
		CHECK(h.type == FG_CTL_PEER_REMOVE || h.type == FG_CTL_RESOURCE_REMOVE);
	}
}

/* Reads every request, answers as mode says, and lets the client read the answers, until
 * nothing more comes (an answer may cause new requests). */
static void serve(unsigned mode)
{
	static _Alignas(max_align_t) uint8_t buf[RX_MAX];
	ssize_t n;

	for (int round = 0; round < 64; round++) {
		unsigned answered = 0;

		while ((n = recv(H.peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct fg_ctl_reply r;

			request_sound(buf, (size_t)n);
			if (mode == ANSWER_NEVER)
				continue;
			memset(&r, 0, sizeof(r));
			r.h.version = FG_CTL_VERSION;
			r.h.type = FG_CTL_REPLY;
			memcpy(&r.h.seq, buf + 4, sizeof(r.h.seq));
			r.status = mode == ANSWER_REFUSE ? -ENOENT : 0;
			CHECK(send(H.peer, &r, sizeof(r), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(r));
			answered++;
		}
		if (mode == ANSWER_NEVER)
			fg_dpc_expire(&H.dpc, INT64_MAX);
		else if (answered)
			CHECK(fg_dpc_on_readable(&H.dpc) == 0);
		if (!H.dpc.nreqs)
			break;
	}
	CHECK(!H.dpc.nreqs && fg_dpc_connected(&H.dpc));
	/* Every authorization was confirmed, in order. */
	CHECK(!H.g.auth_head && !H.g.auth_tail);
}

/* The data plane's own event about client k (as it sends them: the last resource expiring
 * removes the peer, one of several expiring leaves it). */
static void dp_event(uint8_t k)
{
	struct fg_ctl_event ev;
	const struct fg_cp_client *c;
	char id[FG_CTL_ID_LEN];

	if (!H.state.n)
		return;
	c = &H.state.clients[k % H.state.n];
	memset(&ev, 0, sizeof(ev));
	ev.h.version = FG_CTL_VERSION;
	ev.h.type = FG_CTL_EVENT;
	memcpy(ev.public_key, c->public_key, 32);
	snprintf(id, sizeof(id), "%s", c->id);
	switch (k / 64 % 3) {
	case 0:
		ev.kind = FG_CTL_EV_PEER_GOODBYE;
		break;
	case 1:
		ev.kind = FG_CTL_EV_PEER_EXPIRED;
		break;
	default:
		if (c->nres < 2)
			return;
		ev.kind = FG_CTL_EV_RESOURCE_EXPIRED;
		snprintf(ev.resource_id, sizeof(ev.resource_id), "%s", c->res[k % c->nres].id);
		break;
	}
	CHECK(send(H.peer, &ev, sizeof(ev), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(ev));
	CHECK(fg_dpc_on_readable(&H.dpc) == 0);
	CHECK(fg_dpc_next_event(&H.dpc, &ev) && !fg_dpc_next_event(&H.dpc, &ev));
	fg_cp_on_event(&H.state, &ev);
	if (ev.kind == FG_CTL_EV_PEER_EXPIRED)
		CHECK(!fg_cp_find(&H.state, id));
	else if (ev.kind == FG_CTL_EV_PEER_GOODBYE)
		CHECK(fg_cp_find(&H.state, id) && fg_cp_find(&H.state, id)->said_goodbye);
}

/* ---- one portal message ------------------------------------------------------------------ */

/* The parsed message, for the checks after it was applied. */
struct parsed {
	enum fg_portal_event ev;
	int rc;
	struct fg_portal_init init;
	struct fg_portal_authorization authz;
	struct fg_portal_resource res;
	struct fg_portal_reject_access reject;
};

static void parse(struct parsed *p, const cJSON *payload)
{
	struct fg_portal_expiry_updated e;
	struct fg_portal_relays_presence *rp;
	struct fg_portal_ice_candidates *ic;

	switch (p->ev) {
	case FG_PORTAL_EV_INIT:
		p->rc = fg_portal_init_parse(payload, &p->init, NULL, 0);
		break;
	case FG_PORTAL_EV_CREATE_AUTHORIZATION:
	case FG_PORTAL_EV_AUTHORIZE_FLOW:
		p->rc = fg_portal_authorization_parse(payload, &p->authz, NULL, 0);
		break;
	case FG_PORTAL_EV_REJECT_ACCESS:
		p->rc = fg_portal_reject_access_parse(payload, &p->reject, NULL, 0);
		break;
	case FG_PORTAL_EV_RESOURCE_UPDATED:
		p->rc = fg_portal_resource_parse(payload, &p->res, NULL, 0);
		break;
	case FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED:
		p->rc = fg_portal_expiry_updated_parse(payload, &e, NULL, 0);
		break;
	case FG_PORTAL_EV_RELAYS_PRESENCE:
		rp = malloc(sizeof(*rp));
		CHECK(rp);
		p->rc = fg_portal_relays_presence_parse(payload, rp, NULL, 0);
		fg_portal_relays_presence_free(rp);
		free(rp);
		break;
	case FG_PORTAL_EV_ICE_CANDIDATES:
	case FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES:
		ic = malloc(sizeof(*ic));
		CHECK(ic);
		p->rc = fg_portal_ice_candidates_parse(payload, ic, NULL, 0);
		free(ic);
		break;
	default:
		p->rc = 0;
		break;
	}
	CHECK(p->rc == 0 || p->rc == -EBADMSG);
}

static void parsed_free(struct parsed *p)
{
	fg_portal_init_free(&p->init);
	fg_portal_authorization_free(&p->authz);
	fg_portal_resource_free(&p->res);
}

/* What a message that parsed says is so in the state. */
static void applied(const struct parsed *p)
{
	const struct fg_cp_client *c;
	const struct fg_cp_resource *r;

	if (p->rc)
		return;
	switch (p->ev) {
	case FG_PORTAL_EV_CREATE_AUTHORIZATION:
	case FG_PORTAL_EV_AUTHORIZE_FLOW:
		c = fg_cp_find(&H.state, p->authz.client.id);
		CHECK(c);
		CHECK(!memcmp(c->public_key, p->authz.client.public_key, 32) && c->has_psk &&
		      !memcmp(c->psk, p->authz.client.psk, 32));
		CHECK(fg_ip_equal(&c->ipv4, &p->authz.client.ipv4) && fg_ip_equal(&c->ipv6, &p->authz.client.ipv6));
		r = find_res(c, p->authz.resource.id);
		CHECK(r);
		holds(r, &p->authz.resource, p->authz.expires_at);
		break;
	case FG_PORTAL_EV_REJECT_ACCESS:
		c = fg_cp_find(&H.state, p->reject.client_id);
		CHECK(!c || !find_res(c, p->reject.resource_id));
		break;
	case FG_PORTAL_EV_RESOURCE_UPDATED:
		/* Only the filters change (address and type changes come as reject_access). */
		for (uint32_t k = 0; k < H.state.n; k++) {
			if (!(r = find_res(&H.state.clients[k], p->res.id)))
				continue;
			CHECK(r->n_filters == p->res.n_filters);
			for (uint32_t i = 0; i < r->n_filters; i++)
				CHECK(r->filters[i].proto == p->res.filters[i].proto &&
				      r->filters[i].lo == p->res.filters[i].port_start &&
				      r->filters[i].hi == p->res.filters[i].port_end);
		}
		break;
	case FG_PORTAL_EV_INIT:
		CHECK(fg_ip_equal(&H.state.if4, &p->init.ipv4) && fg_ip_equal(&H.state.if6, &p->init.ipv6));
		CHECK(!strcmp(H.state.account_slug, p->init.account_slug));
		if (!p->init.has_authorizations)
			break;
		/* Only what is listed stays, with the expiry of its last entry. */
		for (uint32_t k = 0; k < H.state.n; k++) {
			c = &H.state.clients[k];
			for (uint32_t i = 0; i < c->nres; i++) {
				const struct fg_portal_auth *a = NULL;

				for (size_t j = 0; j < p->init.n_auths; j++)
					if (!strcmp(p->init.auths[j].client_id, c->id) &&
					    !strcmp(p->init.auths[j].resource_id, c->res[i].id))
						a = &p->init.auths[j];
				CHECK(a && a->expires_at == c->res[i].expires_at);
			}
		}
		break;
	default:
		break;
	}
}

/* One record: the message framed, decoded, dispatched and served. */
static void message(uint8_t op, const uint8_t *json, size_t len)
{
	static const char head[] = "{\"topic\":\"gateway\",\"event\":\"%s\",\"payload\":";
	static const char tail[] = ",\"ref\":null}";
	const char *name = fuzz_portal_events[(op & 0x0f) % N(fuzz_portal_events)].name;
	struct parsed p;
	struct fg_phx_in m;
	char *frame;
	size_t n;

	frame = malloc(sizeof(head) + 64 + len + sizeof(tail));
	CHECK(frame);
	n = (size_t)sprintf(frame, head, name);
	memcpy(frame + n, json, len);
	memcpy(frame + n + len, tail, sizeof(tail));
	n += len + sizeof(tail) - 1;
	if (fg_phx_decode(frame, n, &m, NULL, 0) != 0) {
		free(frame);
		return;
	}
	free(frame);
	memset(&p, 0, sizeof(p));
	p.ev = fuzz_portal_events[(op & 0x0f) % N(fuzz_portal_events)].ev;
	parse(&p, m.payload);
	H.messages++;
	if (p.ev == FG_PORTAL_EV_UNKNOWN || p.ev == FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED)
		H.ignored++;
	else if (p.rc)
		H.malformed++;
	fg_gateway_on_message(&H.g, &m);
	CHECK(H.g.messages == H.messages && H.g.malformed == H.malformed && H.g.ignored == H.ignored);
	serve(op & ANSWER_MASK);
	state_sound();
	applied(&p);
	parsed_free(&p);
	fg_phx_in_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	start();
	for (size_t i = 0; i + 3 <= size;) {
		uint8_t op = data[i];
		size_t n = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;

		i += 3;
		if (n > size - i)
			n = size - i;
		message(op, data + i, n);
		if (op & EVENT_AFTER && n)
			dp_event(data[i]);
		i += n;
		state_sound();
	}
	stop();
	return 0;
}
