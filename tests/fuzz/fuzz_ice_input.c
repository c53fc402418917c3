// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: one ICE agent (controlplane/ice/) driven by arbitrary bytes read as a
 * program of operations on an agent with host (IPv4, IPv6), server-reflexive and relayed
 * local candidates and three remote ones. Each step is [ctrl][len][len bytes]:
 *
 *   ctrl & 3         the local candidate it arrived on (host 4, host 6, relay, bogus)
 *   ctrl >> 2 & 7    the sender (the remote candidates, unknown addresses); 7 with local 3
 *                    makes the bytes a remote candidate line to add (or, bit 5, invalidate)
 *   ctrl & 0x20      fix up: the bytes' STUN attributes are written again with the right
 *                    MESSAGE-INTEGRITY and FINGERPRINT for their class
 *   ctrl & 0x40      ... with the right USERNAME (requests) or the transaction id of our
 *                    last check (responses)
 *   ctrl & 0x80      then a tick, len * 37 ms later
 *
 * Everything the agent sends must parse, carry FINGERPRINT and be signed as RFC 8445 says
 * (checks with the client's password and our USERNAME, answers with ours), leave from a
 * host or relayed candidate; after a tick nothing may be due, and the state and views
 * must stay in range. Any broken invariant aborts. No state between inputs.
 *
 *   FG_FUZZ_BUILD_DIR=$PWD/build-fuzz-h8 scripts/fuzz.sh ice_input 60
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ice.h"
#include "log.h"
#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_ice_input: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                         \
		}                                                                        \
	} while (0)

#define GW_UFRAG "ejqt"
#define GW_PWD "zfjrrjdkbci42t2axyd45a"
#define CL_UFRAG "hgwh"
#define CL_PWD "j2fqufatn7xlrrvv6fsvea"

enum { N_FROM = 7 };

struct harness {
	struct fg_ice_agent *a;
	uint64_t now;
	uint64_t rng;
	struct fg_stun_key gw_key, cl_key;
	uint8_t last_txid[FG_STUN_TXID_LEN];
	struct fg_endpoint from[N_FROM];
	int local[4];
	unsigned nominated;
};

static struct harness H;

static struct fg_endpoint endpoint(const char *ip, uint16_t port)
{
	struct fg_endpoint e = { .port = port };

	CHECK(fg_ip_parse(ip, &e.ip) == 0);
	return e;
}

static int on_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		H.rng = H.rng * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(H.rng >> 56);
	}
	return 0;
}

static void vet_sent(const struct fg_ice_path *path, const uint8_t *buf, size_t len)
{
	struct fg_stun_msg m;
	struct fg_endpoint e;
	const uint8_t *u;
	unsigned code;
	const char *reason;
	size_t n;

	CHECK(path->local_type == FG_ICE_HOST || path->local_type == FG_ICE_RELAY);
	CHECK((path->local_type == FG_ICE_RELAY) == (path->relay_id != NULL));
	CHECK(fg_ip_len(path->remote.ip.family) && path->remote.ip.family == path->local.ip.family);
	CHECK(fg_stun_parse(buf, len, &m, NULL, 0) == 0);
	CHECK(m.method == FG_STUN_BINDING && fg_stun_has(&m, FG_STUN_ATTR_FINGERPRINT));
	switch (m.cls) {
	case FG_STUN_REQUEST:
		CHECK(fg_stun_check_integrity(&m, &H.cl_key) == 0);
		CHECK(fg_stun_get_bytes(&m, FG_STUN_ATTR_USERNAME, &u, &n) == 0 && n == 9 &&
		      !memcmp(u, CL_UFRAG ":" GW_UFRAG, 9));
		CHECK(fg_stun_has(&m, FG_STUN_ATTR_PRIORITY) && fg_stun_has(&m, FG_STUN_ATTR_ICE_CONTROLLED));
		memcpy(H.last_txid, m.txid, sizeof(H.last_txid));
		break;
	case FG_STUN_SUCCESS:
		CHECK(fg_stun_check_integrity(&m, &H.gw_key) == 0);
		CHECK(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &e) == 0);
		CHECK(fg_endpoint_equal(&e, &path->remote));
		break;
	case FG_STUN_ERROR:
		CHECK(fg_stun_get_error(&m, &code, &reason, &n) == 0);
		CHECK(code == 400 || code == 401 || code == 420 || code == 487);
		CHECK(code == 401 || code == 400 || fg_stun_check_integrity(&m, &H.gw_key) == 0);
		break;
	default:
		CHECK(0);
	}
}

static void on_send(void *ctx, const struct fg_ice_path *path, const uint8_t *buf, size_t len)
{
	(void)ctx;
	vet_sent(path, buf, len);
}

static void on_event(void *ctx, const struct fg_ice_event *ev)
{
	struct fg_ice_cand c;

	(void)ctx;
	switch (ev->type) {
	case FG_ICE_EV_CANDIDATE:
	case FG_ICE_EV_CANDIDATE_INVALIDATED:
		CHECK(ev->line && fg_ice_cand_parse(ev->line, &c, NULL, 0) == 0);
		break;
	case FG_ICE_EV_NOMINATED:
		H.nominated++;
		CHECK(ev->path.local_type == FG_ICE_HOST || ev->path.local_type == FG_ICE_RELAY);
		break;
	case FG_ICE_EV_STATE:
		CHECK(ev->state >= FG_ICE_CHECKING && ev->state <= FG_ICE_FAILED && ev->reason);
		break;
	case FG_ICE_EV_REMOTE_LEARNED:
		CHECK(ev->path.remote_type == FG_ICE_PRFLX);
		break;
	default:
		CHECK(0);
	}
	/* a call back from a callback is refused */
	CHECK(fg_ice_add_remote_candidate(H.a, "candidate:1 1 udp 1 198.18.5.1 5 typ host", H.now,
					  NULL, 0) == -EBUSY);
}

/* The bytes' attributes written again, signed right; 0 when they do not parse. */
static int fixup(const uint8_t *in, size_t len, bool right, uint8_t *out, size_t cap)
{
	struct fg_stun_builder b;
	struct fg_stun_attr at;
	struct fg_stun_msg m;
	const uint8_t *txid;
	size_t pos = 0;
	int rc = fg_stun_parse(in, len, &m, NULL, 0);

	if (rc && rc != -ENOTSUP)
		return 0;
	txid = right && m.cls != FG_STUN_REQUEST ? H.last_txid : m.txid;
	fg_stun_build_start(&b, out, cap, m.method, (enum fg_stun_class)m.cls, txid);
	if (right && m.cls == FG_STUN_REQUEST)
		fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, GW_UFRAG ":" CL_UFRAG);
	while (fg_stun_attr_next(&m, &pos, &at))
		if (!(right && m.cls == FG_STUN_REQUEST && at.type == FG_STUN_ATTR_USERNAME))
			fg_stun_add_bytes(&b, at.type, at.val, at.len);
	fg_stun_add_integrity(&b, m.cls == FG_STUN_REQUEST ? &H.gw_key : &H.cl_key);
	fg_stun_add_fingerprint(&b);
	rc = fg_stun_build_finish(&b);
	return rc > 0 ? rc : 0;
}

static void pair_in_range(void *ctx, const struct fg_ice_pair_view *p)
{
	(void)ctx;
	CHECK(p->state >= FG_ICE_PAIR_FROZEN && p->state <= FG_ICE_PAIR_FAILED);
	CHECK(!p->nominated || p->state == FG_ICE_PAIR_SUCCEEDED);
	CHECK(!p->selected || p->nominated);
}

static void line_parses(void *ctx, bool local, const char *line)
{
	struct fg_ice_cand c;

	(void)ctx;
	(void)local;
	CHECK(fg_ice_cand_parse(line, &c, NULL, 0) == 0);
}

static void check_views(bool lines)
{
	struct fg_ice_view v;

	fg_ice_get_view(H.a, &v);
	CHECK(v.state >= FG_ICE_CHECKING && v.state <= FG_ICE_FAILED);
	CHECK(v.nominated == (v.state == FG_ICE_CONNECTED));
	CHECK(v.n_pairs <= FG_ICE_MAX_PAIRS && v.n_remote <= FG_ICE_MAX_REMOTE);
	fg_ice_foreach_pair(H.a, pair_in_range, NULL);
	if (lines)
		fg_ice_foreach_candidate(H.a, line_parses, NULL);
}

static void setup(void)
{
	static const struct fg_ice_ops ops = { on_send, on_event, on_random };
	struct fg_endpoint e, base;

	memset(&H, 0, sizeof(H));
	H.now = 1000000000ull;
	H.rng = 1;
	CHECK(fg_stun_key_short_term(&H.gw_key, GW_PWD) == 0);
	CHECK(fg_stun_key_short_term(&H.cl_key, CL_PWD) == 0);
	H.a = fg_ice_agent_new(GW_UFRAG, GW_PWD, CL_UFRAG, CL_PWD, &ops, NULL, H.now);
	CHECK(H.a);
	e = endpoint("198.18.0.1", 51820);
	H.local[0] = fg_ice_add_local_candidate(H.a, FG_ICE_HOST, &e, NULL, NULL, H.now);
	e = endpoint("fd00::1", 51820);
	H.local[1] = fg_ice_add_local_candidate(H.a, FG_ICE_HOST, &e, NULL, NULL, H.now);
	e = endpoint("192.0.2.44", 61000);
	H.local[2] = fg_ice_add_local_candidate(H.a, FG_ICE_RELAY, &e, NULL, "r1", H.now);
	e = endpoint("203.0.113.9", 47717);
	base = endpoint("198.18.0.1", 51820);
	H.local[3] = fg_ice_add_local_candidate(H.a, FG_ICE_SRFLX, &e, &base, "r1", H.now);
	CHECK(H.local[0] >= 0 && H.local[1] >= 0 && H.local[2] >= 0 && H.local[3] >= 0);
	CHECK(fg_ice_add_remote_candidate(H.a, "candidate:1 1 udp 2130706431 198.18.5.2 50000 typ host",
					  H.now, NULL, 0) == 0);
	CHECK(fg_ice_add_remote_candidate(H.a, "candidate:2 1 udp 16777215 192.0.2.99 62000 typ relay",
					  H.now, NULL, 0) == 0);
	CHECK(fg_ice_add_remote_candidate(H.a, "candidate:3 1 udp 2130706431 fd00::5 50000 typ host",
					  H.now, NULL, 0) == 0);
	H.from[0] = endpoint("198.18.5.2", 50000);
	H.from[1] = endpoint("192.0.2.99", 62000);
	H.from[2] = endpoint("fd00::5", 50000);
	H.from[3] = endpoint("198.18.9.9", 40000);
	H.from[4] = endpoint("fd00::9", 40000);
	H.from[5] = endpoint("198.18.5.2", 50001);
	H.from[6] = endpoint("203.0.113.200", 1);
}

static void step(uint8_t ctrl, const uint8_t *bytes, size_t len)
{
	static uint8_t buf[FG_STUN_MAX_LEN];
	unsigned local = ctrl & 3, from = (ctrl >> 2) & 7;
	uint32_t id = local == 3 ? 99 : (uint32_t)H.local[local];
	char line[300];
	int n;

	if (local == 3 && from == 7) {
		if (len >= sizeof(line))
			return;
		memcpy(line, bytes, len);
		line[len] = '\0';
		if (ctrl & 0x20)
			fg_ice_invalidate_remote_candidate(H.a, line, H.now);
		else
			fg_ice_add_remote_candidate(H.a, line, H.now, NULL, 0);
	} else {
		const struct fg_endpoint *f = &H.from[from % N_FROM];

		n = ctrl & 0x20 ? fixup(bytes, len, ctrl & 0x40, buf, sizeof(buf)) : 0;
		if (n > 0)
			fg_ice_input(H.a, id, f, buf, (size_t)n, H.now);
		else
			fg_ice_input(H.a, id, f, bytes, len, H.now);
	}
	if (ctrl & 0x80) {
		H.now += (uint64_t)len * 37000000ull;
		fg_ice_tick(H.a, H.now);
		CHECK(fg_ice_next_timeout(H.a) > H.now);
		check_views(false);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	fg_log_set_level(FG_LOG_ERROR);
	setup();
	while (end - p >= 2) {
		uint8_t ctrl = p[0];
		size_t len = p[1];

		p += 2;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		step(ctrl, p, len);
		p += len;
	}
	/* the next timers, then long quiet times: the 10 s and 2 s timeouts, the idle switch */
	for (int i = 0; i < 12 && fg_ice_next_timeout(H.a) != UINT64_MAX; i++) {
		uint64_t t = fg_ice_next_timeout(H.a);

		H.now = i < 4 && t > H.now ? t : H.now + 30000000000ull;
		fg_ice_tick(H.a, H.now);
		CHECK(fg_ice_next_timeout(H.a) > H.now);
	}
	check_views(true);
	fg_ice_agent_free(H.a);
	fg_stun_key_wipe(&H.gw_key);
	fg_stun_key_wipe(&H.cl_key);
	return 0;
}
