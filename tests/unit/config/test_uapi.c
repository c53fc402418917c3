// SPDX-License-Identifier: MIT
/*
 * CUnit suite for dataplane/api/uapi.c. A fake fg_uapi_ops records every call as a text line, so
 * each test states the exact call sequence a request must produce: the requests are the
 * byte streams wireguard-tools' ipc-uapi.h writes for `wg setconf` / `wg set ... remove`, and
 * get responses are checked line by line in wireguard-go's format. Hostile inputs, requests
 * split at every byte, a 10,000-peer get, and the wiping of keys from session buffers.
 * Single-threaded.
 */
#include "uapi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <sodium.h>

#include "../cunit_run.h"

enum {
	LOG_MAX = 1 << 16,
	KNOWN_MAX = 8,
	BIG_PEERS = 10000,
	RESP_MAX = FG_UAPI_RESPONSE_MAX + 64,
};

/* Keys as wg(8) sends them: lowercase hex. */
#define SK "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define PK1 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define PK2 "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define PSK "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

struct fake {
	char log[LOG_MAX];
	size_t len;
	char known[KNOWN_MAX][FG_KEY_HEX_LEN];  /* peers that exist, for update_only */
	size_t n_known;
	const char *fail_call;                   /* a call name that fails ... */
	int fail_rc;                             /* ... with this */
	int get_peers;                           /* peers written by get */
};

static void __attribute__((format(printf, 2, 3))) rec(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	f->len += (size_t)vsnprintf(f->log + f->len, sizeof(f->log) - f->len, fmt, ap);
	va_end(ap);
	if (f->len < sizeof(f->log) - 1)
		f->log[f->len++] = '\n';
	f->log[f->len] = '\0';
}

static int ret(struct fake *f, const char *call)
{
	return f->fail_call && strcmp(f->fail_call, call) == 0 ? f->fail_rc : 0;
}

static int f_private_key(void *ctx, const uint8_t key[FG_KEY_LEN])
{
	char hex[FG_KEY_HEX_LEN];

	fg_key_to_hex(hex, key);
	rec(ctx, "private_key %s", hex);
	return ret(ctx, "private_key");
}

static int f_listen_port(void *ctx, uint16_t port)
{
	rec(ctx, "listen_port %u", port);
	return ret(ctx, "listen_port");
}

static int f_fwmark(void *ctx, uint32_t mark)
{
	rec(ctx, "fwmark %u", mark);
	return ret(ctx, "fwmark");
}

static int f_replace_peers(void *ctx)
{
	rec(ctx, "replace_peers");
	return ret(ctx, "replace_peers");
}

static int f_peer_begin(void *ctx, const uint8_t pub[FG_KEY_LEN], bool update_only)
{
	struct fake *f = ctx;
	char hex[FG_KEY_HEX_LEN];

	fg_key_to_hex(hex, pub);
	rec(f, "peer_begin %.8s %s", hex, update_only ? "update_only" : "create");
	if (update_only) {
		size_t i;

		for (i = 0; i < f->n_known; i++)
			if (strcmp(f->known[i], hex) == 0)
				break;
		if (i == f->n_known)
			return -ENOENT;
	}
	return ret(f, "peer_begin");
}

static int f_peer_remove(void *ctx)
{
	rec(ctx, "peer_remove");
	return ret(ctx, "peer_remove");
}

static int f_psk(void *ctx, const uint8_t psk[FG_KEY_LEN])
{
	char hex[FG_KEY_HEX_LEN];

	fg_key_to_hex(hex, psk);
	rec(ctx, "psk %.8s", hex);
	return ret(ctx, "psk");
}

static int f_endpoint(void *ctx, const struct fg_endpoint *ep)
{
	char buf[FG_ENDPOINT_STRLEN];

	rec(ctx, "endpoint %s", fg_endpoint_format(ep, buf, sizeof(buf)));
	return ret(ctx, "endpoint");
}

static int f_keepalive(void *ctx, uint16_t seconds)
{
	rec(ctx, "keepalive %u", seconds);
	return ret(ctx, "keepalive");
}

static int f_replace_allowed_ips(void *ctx)
{
	rec(ctx, "replace_allowed_ips");
	return ret(ctx, "replace_allowed_ips");
}

static int f_allowed_ip(void *ctx, const struct fg_prefix *p)
{
	char buf[FG_PREFIX_STRLEN];

	rec(ctx, "allowed_ip %s", fg_prefix_format(p, buf, sizeof(buf)));
	return ret(ctx, "allowed_ip");
}

static int f_peer_end(void *ctx)
{
	rec(ctx, "peer_end");
	return ret(ctx, "peer_end");
}

static int f_set_end(void *ctx)
{
	rec(ctx, "set_end");
	return ret(ctx, "set_end");
}

/* The state as wireguard-go writes it (device/uapi.go IpcGetOperation). */
static int f_get(void *ctx, struct fg_uapi_writer *w)
{
	struct fake *f = ctx;
	uint8_t key[FG_KEY_LEN];
	struct fg_endpoint ep;
	struct fg_prefix p;

	rec(f, "get");
	if (f->fail_call && strcmp(f->fail_call, "get") == 0)
		return f->fail_rc;
	fg_key_from_hex(key, SK);
	fg_uapi_emit_key(w, "private_key", key);
	fg_uapi_emit_u64(w, "listen_port", 51820);
	for (int i = 0; i < f->get_peers; i++) {
		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)(i >> 8);
		key[1] = (uint8_t)i;
		fg_uapi_emit_key(w, "public_key", key);
		memset(key, 0, sizeof(key));
		fg_uapi_emit_key(w, "preshared_key", key);
		fg_uapi_emit_str(w, "protocol_version", "1");
		fg_endpoint_parse(i & 1 ? "[2001:2::3]:51820" : "198.18.1.2:51820", &ep);
		fg_uapi_emit_endpoint(w, "endpoint", &ep);
		fg_uapi_emit_u64(w, "last_handshake_time_sec", 1700000000u + (unsigned int)i);
		fg_uapi_emit_u64(w, "last_handshake_time_nsec", 0);
		fg_uapi_emit_u64(w, "tx_bytes", UINT64_MAX);
		fg_uapi_emit_u64(w, "rx_bytes", (uint64_t)i);
		fg_uapi_emit_u64(w, "persistent_keepalive_interval", 25);
		fg_prefix_parse("100.64.0.2/32", &p);
		fg_uapi_emit_prefix(w, "allowed_ip", &p);
		fg_prefix_parse("fd00:2021:1111::2/128", &p);
		if (fg_uapi_emit_prefix(w, "allowed_ip", &p) < 0)
			return w->err;
	}
	return 0;
}

static const struct fg_uapi_ops ops = {
	.set_private_key = f_private_key,
	.set_listen_port = f_listen_port,
	.set_fwmark = f_fwmark,
	.replace_peers = f_replace_peers,
	.peer_begin = f_peer_begin,
	.peer_remove = f_peer_remove,
	.peer_set_psk = f_psk,
	.peer_set_endpoint = f_endpoint,
	.peer_set_keepalive = f_keepalive,
	.peer_replace_allowed_ips = f_replace_allowed_ips,
	.peer_add_allowed_ip = f_allowed_ip,
	.peer_end = f_peer_end,
	.set_end = f_set_end,
	.get = f_get,
};

static struct fake fake;
static struct fg_uapi_session sess;
static char *resp;      /* every response of a run, concatenated */
static size_t resp_len;

static void reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fg_uapi_session_init(&sess);
	resp_len = 0;
	resp[0] = '\0';
}

/* Feeds data in pieces of at most step bytes, collecting responses. Returns 0 or the error. */
static int feed_steps(const char *data, size_t len, size_t step, const struct fg_uapi_ops *o)
{
	size_t off = 0;

	while (off < len) {
		size_t piece = len - off < step ? len - off : step;

		while (piece > 0) {
			const char *r = (const char *)1;
			size_t rl = 1;
			int n = fg_uapi_session_feed(&sess, data + off, piece, o, &fake, &r, &rl);

			if (n < 0)
				return n;
			CU_ASSERT_TRUE_FATAL((size_t)n <= piece);
			if (r) {
				CU_ASSERT_TRUE_FATAL(resp_len + rl < RESP_MAX);
				memcpy(resp + resp_len, r, rl);
				resp_len += rl;
				resp[resp_len] = '\0';
			} else {
				CU_ASSERT_EQUAL(rl, 0);
				/* Without a response, everything offered is consumed. */
				CU_ASSERT_EQUAL_FATAL((size_t)n, piece);
			}
			off += (size_t)n;
			piece -= (size_t)n;
		}
	}
	return 0;
}

static int feed(const char *data)
{
	return feed_steps(data, strlen(data), SIZE_MAX, &ops);
}

/* Runs one complete exchange on a fresh session and checks the calls and the responses. */
static void exchange(const char *request, const char *calls, const char *response)
{
	int rc;

	reset();
	fake.n_known = 1;
	memcpy(fake.known[0], PK1, sizeof(PK1));
	rc = feed(request);
	CU_ASSERT_EQUAL(rc, 0);
	if (strcmp(fake.log, calls) != 0 || strcmp(resp, response) != 0)
		fprintf(stderr, "\n--- request\n%s--- calls\n%s--- want\n%s--- response\n%s--- want\n%s",
			request, fake.log, calls, resp, response);
	CU_ASSERT_STRING_EQUAL(fake.log, calls);
	CU_ASSERT_STRING_EQUAL(resp, response);
	fg_uapi_session_uninit(&sess);
}

/* What `wg setconf` writes for a two-peer file (ipc-uapi.h userspace_set_device). */
static const char setconf_req[] =
	"set=1\n"
	"private_key=" SK "\n"
	"listen_port=51820\n"
	"fwmark=4660\n"
	"replace_peers=true\n"
	"public_key=" PK1 "\n"
	"preshared_key=" PSK "\n"
	"endpoint=198.18.1.2:51820\n"
	"persistent_keepalive_interval=25\n"
	"replace_allowed_ips=true\n"
	"allowed_ip=100.64.0.2/32\n"
	"allowed_ip=fd00:2021:1111::2/128\n"
	"public_key=" PK2 "\n"
	"endpoint=[2001:2::3]:51820\n"
	"replace_allowed_ips=true\n"
	"allowed_ip=100.64.0.3/32\n"
	"\n";

static const char setconf_calls[] =
	"private_key " SK "\n"
	"listen_port 51820\n"
	"fwmark 4660\n"
	"replace_peers\n"
	"peer_begin de9edb7d create\n"
	"psk 5dab087e\n"
	"endpoint 198.18.1.2:51820\n"
	"keepalive 25\n"
	"replace_allowed_ips\n"
	"allowed_ip 100.64.0.2/32\n"
	"allowed_ip fd00:2021:1111::2/128\n"
	"peer_end\n"
	"peer_begin 8520f009 create\n"
	"endpoint [2001:2::3]:51820\n"
	"replace_allowed_ips\n"
	"allowed_ip 100.64.0.3/32\n"
	"peer_end\n"
	"set_end\n";

static void test_setconf(void)
{
	exchange(setconf_req, setconf_calls, "errno=0\n\n");
}

static void test_set_remove(void)
{
	/* `wg set IF listen-port 52000 peer KEY remove`, as seen on the wire. */
	exchange("set=1\nlisten_port=52000\npublic_key=" PK1 "\nremove=true\n\n",
		 "listen_port 52000\npeer_begin de9edb7d update_only\npeer_remove\nset_end\n",
		 "errno=0\n\n");
	/* Removing an absent peer creates nothing and is not an error. */
	exchange("set=1\npublic_key=" PK2 "\nremove=true\n\n",
		 "peer_begin 8520f009 update_only\nset_end\n", "errno=0\n\n");
	/* Keys after remove=true are checked, then ignored. */
	exchange("set=1\npublic_key=" PK1 "\nremove=true\nallowed_ip=10.0.0.0/8\npublic_key=" PK2 "\n\n",
		 "peer_begin de9edb7d update_only\npeer_remove\npeer_begin 8520f009 create\npeer_end\nset_end\n",
		 "errno=0\n\n");
	exchange("set=1\npublic_key=" PK1 "\nremove=true\nallowed_ip=10.0.0.0/33\n\n",
		 "peer_begin de9edb7d update_only\npeer_remove\nset_end\n", "errno=-22\n\n");
	/* remove after other keys removes the peer just configured; no peer_end. */
	exchange("set=1\npublic_key=" PK2 "\nendpoint=198.18.1.9:9\nremove=true\n\n",
		 "peer_begin 8520f009 create\nendpoint 198.18.1.9:9\npeer_remove\nset_end\n",
		 "errno=0\n\n");
	/* An error drops a peer that was not begun yet. */
	exchange("set=1\npublic_key=" PK1 "\nremove=false\n\n", "set_end\n", "errno=-22\n\n");
}

static void test_update_only(void)
{
	exchange("set=1\npublic_key=" PK1 "\nupdate_only=true\npersistent_keepalive_interval=10\n\n",
		 "peer_begin de9edb7d update_only\nkeepalive 10\npeer_end\nset_end\n", "errno=0\n\n");
	/* Absent: -ENOENT is not an error, the peer's keys are ignored. */
	exchange("set=1\npublic_key=" PK2 "\nupdate_only=true\npersistent_keepalive_interval=10\n"
		 "allowed_ip=10.0.0.0/8\npublic_key=" PK1 "\nendpoint=198.18.1.2:1\n\n",
		 "peer_begin 8520f009 update_only\npeer_begin de9edb7d create\nendpoint 198.18.1.2:1\n"
		 "peer_end\nset_end\n",
		 "errno=0\n\n");
	/* ... but their values are still checked. */
	exchange("set=1\npublic_key=" PK2 "\nupdate_only=true\npersistent_keepalive_interval=x\n\n",
		 "peer_begin 8520f009 update_only\nset_end\n", "errno=-22\n\n");
	/* update_only must come right after public_key. */
	exchange("set=1\npublic_key=" PK1 "\nendpoint=198.18.1.2:1\nupdate_only=true\n\n",
		 "peer_begin de9edb7d create\nendpoint 198.18.1.2:1\npeer_end\nset_end\n",
		 "errno=-22\n\n");
	exchange("set=1\npublic_key=" PK1 "\nupdate_only=1\n\n", "set_end\n", "errno=-22\n\n");
	exchange("set=1\nupdate_only=true\n\n", "set_end\n", "errno=-22\n\n");
}

static void test_set_misc(void)
{
	/* A peer with no keys is created. */
	exchange("set=1\npublic_key=" PK2 "\n\n", "peer_begin 8520f009 create\npeer_end\nset_end\n",
		 "errno=0\n\n");
	/* An empty set. */
	exchange("set=1\n\n", "set_end\n", "errno=0\n\n");
	/* Zero keys: remove the private key, no PSK. */
	exchange("set=1\nprivate_key=" ZERO "\npublic_key=" PK1 "\npreshared_key=" ZERO "\n\n",
		 "private_key " ZERO "\npeer_begin de9edb7d create\npsk 00000000\npeer_end\nset_end\n",
		 "errno=0\n\n");
	/* Upper-case hex, limits, protocol_version. */
	exchange("set=1\nlisten_port=0\nlisten_port=65535\nfwmark=4294967295\npublic_key="
		 "DE9EDB7D7B7DC1B4D35B61C2ECE435373F8343C85B78674DADFC7E146F882B4F\n"
		 "protocol_version=1\npersistent_keepalive_interval=0\n"
		 "persistent_keepalive_interval=65535\nallowed_ip=0.0.0.0/0\nallowed_ip=10.1.2.3/8\n\n",
		 "listen_port 0\nlisten_port 65535\nfwmark 4294967295\npeer_begin de9edb7d create\n"
		 "keepalive 0\nkeepalive 65535\nallowed_ip 0.0.0.0/0\nallowed_ip 10.0.0.0/8\npeer_end\n"
		 "set_end\n",
		 "errno=0\n\n");
}

struct bad_set {
	const char *lines;  /* between "set=1\n" and the blank line */
	const char *calls;
	const char *response;
};

static const struct bad_set bad_sets[] = {
	{ "foo=1\n", "set_end\n", "errno=-22\n\n" },
	{ "=1\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port\n", "set_end\n", "errno=-71\n\n" },
	{ "private_key=" SK "0\n", "set_end\n", "errno=-22\n\n" },
	{ "private_key=7707\n", "set_end\n", "errno=-22\n\n" },
	{ "private_key=g7076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a\n", "set_end\n", "errno=-22\n\n" },
	{ "private_key= " SK "\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port=65536\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port=-1\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port=+1\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port= 1\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port=1 \n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port=\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port=0x10\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port=99999999999999999999999\n", "set_end\n", "errno=-22\n\n" },
	{ "fwmark=4294967296\n", "set_end\n", "errno=-22\n\n" },
	{ "replace_peers=false\n", "set_end\n", "errno=-22\n\n" },
	{ "replace_peers=TRUE\n", "set_end\n", "errno=-22\n\n" },
	{ "LISTEN_PORT=1\n", "set_end\n", "errno=-22\n\n" },
	{ "listen_port =1\n", "set_end\n", "errno=-22\n\n" },
	{ "errno=0\n", "set_end\n", "errno=-22\n\n" },
	{ "get=1\n", "set_end\n", "errno=-22\n\n" },
	{ "preshared_key=" PSK "\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "0\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=\n", "set_end\n", "errno=-22\n\n" },
	/* peer keys: the error closes the peer at once; later lines are skipped */
	{ "public_key=" PK1 "\nlisten_port=1\nendpoint=198.18.1.2:1\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nendpoint=198.18.1.2:1\nlisten_port=1\nallowed_ip=10.0.0.0/8\n",
	  "peer_begin de9edb7d create\nendpoint 198.18.1.2:1\npeer_end\nset_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nfoo=bar\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nendpoint\n", "set_end\n", "errno=-71\n\n" },
	{ "public_key=" PK1 "\nendpoint=example.com:51820\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nendpoint=198.18.1.2\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nendpoint=[::1]\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nendpoint=198.18.1.2:65536\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nallowed_ip=10.0.0.1\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nallowed_ip=10.0.0.0/33\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nallowed_ip=::/129\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nallowed_ip=/8\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\npersistent_keepalive_interval=65536\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\npreshared_key=" PSK "x\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nreplace_allowed_ips=yes\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nprotocol_version=2\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nprotocol_version=\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nlast_handshake_time_sec=0\n", "set_end\n", "errno=-22\n\n" },
	{ "public_key=" PK1 "\nallowed_ip=10.0.0.0/8\npublic_key=zz\nallowed_ip=10.0.0.0/8\n",
	  "peer_begin de9edb7d create\nallowed_ip 10.0.0.0/8\npeer_end\nset_end\n", "errno=-22\n\n" },
};

static void test_bad_sets(void)
{
	char req[1024];

	for (size_t i = 0; i < sizeof(bad_sets) / sizeof(bad_sets[0]); i++) {
		snprintf(req, sizeof(req), "set=1\n%s\n", bad_sets[i].lines);
		exchange(req, bad_sets[i].calls, bad_sets[i].response);
	}
}

static void test_callback_errors(void)
{
	static const struct {
		const char *call;
		int rc;
		const char *calls;
		const char *response;
	} cases[] = {
		{ "listen_port", -EADDRINUSE, "private_key " SK "\nlisten_port 51820\nset_end\n", "errno=-98\n\n" },
		{ "replace_peers", -EIO, "private_key " SK "\nlisten_port 51820\nfwmark 4660\nreplace_peers\nset_end\n", "errno=-5\n\n" },
		{ "peer_begin", -ENOMEM, "private_key " SK "\nlisten_port 51820\nfwmark 4660\nreplace_peers\npeer_begin de9edb7d create\nset_end\n", "errno=-12\n\n" },
		{ "endpoint", -EAFNOSUPPORT, "private_key " SK "\nlisten_port 51820\nfwmark 4660\nreplace_peers\npeer_begin de9edb7d create\npsk 5dab087e\nendpoint 198.18.1.2:51820\npeer_end\nset_end\n", "errno=-97\n\n" },
		/* A positive errno from a callback is read as its negation. */
		{ "fwmark", EPERM, "private_key " SK "\nlisten_port 51820\nfwmark 4660\nset_end\n", "errno=-1\n\n" },
		/* peer_end's and set_end's own errors are reported too. */
		{ "set_end", -EBUSY, setconf_calls, "errno=-16\n\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset();
		memcpy(fake.known[0], PK1, sizeof(PK1));
		fake.n_known = 1;
		fake.fail_call = cases[i].call;
		fake.fail_rc = cases[i].rc;
		CU_ASSERT_EQUAL(feed(setconf_req), 0);
		if (strcmp(fake.log, cases[i].calls))
			fprintf(stderr, "\n--- %s calls\n%s", cases[i].call, fake.log);
		CU_ASSERT_STRING_EQUAL(fake.log, cases[i].calls);
		CU_ASSERT_STRING_EQUAL(resp, cases[i].response);
		fg_uapi_session_uninit(&sess);
	}
	/* peer_end failing on the first peer stops the request there. */
	reset();
	fake.fail_call = "peer_end";
	fake.fail_rc = -ENOSPC;
	CU_ASSERT_EQUAL(feed(setconf_req), 0);
	CU_ASSERT_PTR_NULL(strstr(fake.log, "8520f009"));
	CU_ASSERT_STRING_EQUAL(resp, "errno=-28\n\n");
	fg_uapi_session_uninit(&sess);
}

static void test_null_ops(void)
{
	static const struct fg_uapi_ops none;

	reset();
	CU_ASSERT_EQUAL(feed_steps("set=1\nfwmark=1\n\n", 16, SIZE_MAX, &none), 0);
	CU_ASSERT_STRING_EQUAL(resp, "errno=-95\n\n");
	CU_ASSERT_EQUAL(feed_steps("set=1\n\n", 7, SIZE_MAX, &none), 0);
	CU_ASSERT_EQUAL(feed_steps("get=1\n\n", 7, SIZE_MAX, &none), 0);
	CU_ASSERT_STRING_EQUAL(resp, "errno=-95\n\nerrno=0\n\nerrno=-95\n\n");
	fg_uapi_session_uninit(&sess);
}

static const char get_one_peer[] =
	"private_key=" SK "\n"
	"listen_port=51820\n"
	"public_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=198.18.1.2:51820\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=18446744073709551615\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=100.64.0.2/32\n"
	"allowed_ip=fd00:2021:1111::2/128\n"
	"errno=0\n\n";

static void test_get(void)
{
	reset();
	fake.get_peers = 1;
	CU_ASSERT_EQUAL(feed("get=1\n\n"), 0);
	CU_ASSERT_STRING_EQUAL(resp, get_one_peer);
	CU_ASSERT_STRING_EQUAL(fake.log, "get\n");
	/* The same session answers again, the same way. */
	resp_len = 0;
	CU_ASSERT_EQUAL(feed("get=1\n\n"), 0);
	CU_ASSERT_STRING_EQUAL(resp, get_one_peer);
	/* A failing get sends only its errno. */
	resp_len = 0;
	fake.fail_call = "get";
	fake.fail_rc = -EIO;
	CU_ASSERT_EQUAL(feed("get=1\n\n"), 0);
	CU_ASSERT_STRING_EQUAL(resp, "errno=-5\n\n");
	/* Anything between get=1 and the blank line is invalid (as in wireguard-go). */
	resp_len = 0;
	fake.len = 0;
	fake.fail_call = NULL;
	CU_ASSERT_EQUAL(feed("get=1\nlisten_port=1\n\n"), 0);
	CU_ASSERT_STRING_EQUAL(resp, "errno=-22\n\n");
	CU_ASSERT_EQUAL(fake.len, 0);
	fg_uapi_session_uninit(&sess);
}

static void test_get_big(void)
{
	size_t peers = 0;

	reset();
	fake.get_peers = BIG_PEERS;
	CU_ASSERT_EQUAL(feed("get=1\n\n"), 0);
	for (const char *p = resp; (p = strstr(p, "\npublic_key=")); p++)
		peers++;
	CU_ASSERT_EQUAL(peers, BIG_PEERS);
	CU_ASSERT_TRUE(resp_len > 3u << 20);
	static const char tail[] = "\nallowed_ip=100.64.0.2/32\nallowed_ip=fd00:2021:1111::2/128\nerrno=0\n\n";

	CU_ASSERT_STRING_EQUAL(resp + resp_len - (sizeof(tail) - 1), tail);
	CU_ASSERT_EQUAL(strncmp(resp, get_one_peer, 200), 0);
	fg_uapi_session_uninit(&sess);
}

static void test_writer(void)
{
	struct fg_uapi_writer w = { 0 };
	struct fg_endpoint ep = { 0 };
	struct fg_prefix p = { 0 };
	uint8_t key[FG_KEY_LEN] = { 0xab };

	CU_ASSERT_EQUAL(fg_uapi_emit_str(&w, "a_1", "x=y"), 0);
	CU_ASSERT_EQUAL(fg_uapi_emit_key(&w, "k", key), 0);
	CU_ASSERT_EQUAL(w.len, strlen("a_1=x=y\nk=ab") + 62 + 1);
	CU_ASSERT_EQUAL(memcmp(w.buf, "a_1=x=y\nk=ab00", 14), 0);
	fg_uapi_writer_release(&w);
	CU_ASSERT_PTR_NULL(w.buf);

	static const char *const bad_names[] = { "", "A", "a=b", "a\n", "a b", "é" };

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		CU_ASSERT_EQUAL(fg_uapi_emit_u64(&w, bad_names[i], 1), -EINVAL);
		CU_ASSERT_EQUAL(w.len, 0);
		/* The first error sticks. */
		CU_ASSERT_EQUAL(fg_uapi_emit_u64(&w, "ok", 1), -EINVAL);
		fg_uapi_writer_release(&w);
	}
	CU_ASSERT_EQUAL(fg_uapi_emit_str(&w, "name", "two\nlines"), -EINVAL);
	fg_uapi_writer_release(&w);
	CU_ASSERT_EQUAL(fg_uapi_emit_str(&w, "name", NULL), -EINVAL);
	fg_uapi_writer_release(&w);
	CU_ASSERT_EQUAL(fg_uapi_emit_endpoint(&w, "endpoint", &ep), -EINVAL);
	fg_uapi_writer_release(&w);
	CU_ASSERT_EQUAL(fg_uapi_emit_prefix(&w, "allowed_ip", &p), -EINVAL);
	fg_uapi_writer_release(&w);

	/* The response cap: emits fail with -EMSGSIZE, never overflow, and stay failed. */
	char line[4000];
	int rc = 0;
	size_t n = 0;

	memset(line, 'v', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	while ((rc = fg_uapi_emit_str(&w, "big", line)) == 0)
		n++;
	CU_ASSERT_EQUAL(rc, -EMSGSIZE);
	CU_ASSERT_TRUE(w.len <= FG_UAPI_RESPONSE_MAX);
	CU_ASSERT_TRUE(w.cap <= FG_UAPI_RESPONSE_MAX);
	CU_ASSERT_EQUAL(n, (FG_UAPI_RESPONSE_MAX - 16) / (sizeof(line) - 1 + 5));
	CU_ASSERT_EQUAL(fg_uapi_emit_u64(&w, "x", 1), -EMSGSIZE);
	fg_uapi_writer_release(&w);
}

/* A get whose state exceeds the cap answers an error, not a truncated state. */
static int f_get_huge(void *ctx, struct fg_uapi_writer *w)
{
	char line[4000];

	(void)ctx;
	memset(line, 'v', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (;;)
		if (fg_uapi_emit_str(w, "big", line) < 0)
			return 0;  /* even if the callee ignores the error */
}

static void test_get_too_big(void)
{
	struct fg_uapi_ops o = ops;

	o.get = f_get_huge;
	reset();
	CU_ASSERT_EQUAL(feed_steps("get=1\n\n", 7, SIZE_MAX, &o), 0);
	CU_ASSERT_STRING_EQUAL(resp, "errno=-90\n\n");
	/* The session still works. */
	CU_ASSERT_EQUAL(feed("set=1\n\n"), 0);
	CU_ASSERT_STRING_EQUAL(resp, "errno=-90\n\nerrno=0\n\n");
	fg_uapi_session_uninit(&sess);
}

static void test_fatal(void)
{
	static const struct {
		const char *data;
		size_t len;
	} cases[] = {
#define F(s) { s, sizeof(s) - 1 }
		F("\n"),
		F("foo=1\n"),
		F("get=2\n"),
		F("set=1 \n"),
		F("get=1\r\n"),
		F("GET=1\n"),
		F("get\n"),
		F("get=1\0\n"),
		F("set=1\nlisten_port=1\0\n"),
		F("set=1\npublic_key=" PK1 "\nendpoint=\0" "198.18.1.2:1\n"),
		F("\xff\xfe\n"),
		F("errno=0\n"),
#undef F
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset();
		CU_ASSERT_EQUAL(feed_steps(cases[i].data, cases[i].len, SIZE_MAX, &ops), -EPROTO);
		CU_ASSERT_EQUAL(resp_len, 0);
		/* Dead for good: the caller closes. */
		CU_ASSERT_EQUAL(feed("get=1\n\n"), -EPROTO);
		CU_ASSERT_EQUAL(sess.state, FG_UAPI_DEAD);
		fg_uapi_session_uninit(&sess);
	}
	/* A set cut by a fatal error still ends the peer and the set. */
	static const char cut[] = "set=1\npublic_key=" PK1 "\nendpoint=198.18.1.2:1\nx\0\n";

	reset();
	CU_ASSERT_EQUAL(feed_steps(cut, sizeof(cut) - 1, SIZE_MAX, &ops), -EPROTO);
	CU_ASSERT_STRING_EQUAL(fake.log, "peer_begin de9edb7d create\nendpoint 198.18.1.2:1\npeer_end\nset_end\n");
	fg_uapi_session_uninit(&sess);
}

static void test_long_lines(void)
{
	char *big = malloc(3 * FG_UAPI_LINE_MAX);
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	/* The longest line accepted: a comment-like unknown key of exactly the limit. */
	reset();
	n = (size_t)snprintf(big, 3 * FG_UAPI_LINE_MAX, "set=1\n");
	memset(big + n, 'k', FG_UAPI_LINE_MAX - 2);
	n += FG_UAPI_LINE_MAX - 2;
	memcpy(big + n, "=v\n\n", 4);
	n += 4;
	CU_ASSERT_EQUAL(feed_steps(big, n, SIZE_MAX, &ops), 0);
	CU_ASSERT_STRING_EQUAL(resp, "errno=-22\n\n");
	fg_uapi_session_uninit(&sess);
	/* One byte more is fatal, however it is split. */
	for (size_t step = 1; step <= FG_UAPI_LINE_MAX + 2; step += FG_UAPI_LINE_MAX / 3) {
		reset();
		n = (size_t)snprintf(big, 3 * FG_UAPI_LINE_MAX, "set=1\n");
		memset(big + n, 'k', FG_UAPI_LINE_MAX - 1);
		n += FG_UAPI_LINE_MAX - 1;
		memcpy(big + n, "=v\n\n", 4);
		n += 4;
		CU_ASSERT_EQUAL(feed_steps(big, n, step, &ops), -EPROTO);
		CU_ASSERT_STRING_EQUAL(fake.log, "set_end\n");
		fg_uapi_session_uninit(&sess);
	}
	/* A line with no newline at all. */
	reset();
	memset(big, 'g', 3 * FG_UAPI_LINE_MAX);
	CU_ASSERT_EQUAL(feed_steps(big, 3 * FG_UAPI_LINE_MAX, SIZE_MAX, &ops), -EPROTO);
	fg_uapi_session_uninit(&sess);
	free(big);
}

static void test_incomplete(void)
{
	/* wg's liveness probe: connect, close. Nothing is called. */
	reset();
	fg_uapi_session_hangup(&sess, &ops, &fake);
	fg_uapi_session_uninit(&sess);
	CU_ASSERT_EQUAL(fake.len, 0);
	/* No blank line: keys are applied as they arrive, no response; closing ends the set. */
	reset();
	CU_ASSERT_EQUAL(feed("set=1\nlisten_port=1\npublic_key=" PK2 "\nendpoint=198.18.1.2:7"), 0);
	CU_ASSERT_EQUAL(resp_len, 0);
	CU_ASSERT_STRING_EQUAL(fake.log, "listen_port 1\n");
	CU_ASSERT_EQUAL(sess.state, FG_UAPI_SET);
	fg_uapi_session_hangup(&sess, &ops, &fake);
	CU_ASSERT_STRING_EQUAL(fake.log, "listen_port 1\npeer_begin 8520f009 create\npeer_end\nset_end\n");
	CU_ASSERT_EQUAL(sess.state, FG_UAPI_IDLE);
	/* After a hangup the session starts clean. */
	CU_ASSERT_EQUAL(feed("get=1\n\n"), 0);
	CU_ASSERT_STRING_EQUAL(resp, "private_key=" SK "\nlisten_port=51820\nerrno=0\n\n");
	fg_uapi_session_uninit(&sess);
	/* get=1 without its blank line answers nothing yet. */
	reset();
	CU_ASSERT_EQUAL(feed("get=1\n"), 0);
	CU_ASSERT_EQUAL(resp_len, 0);
	CU_ASSERT_EQUAL(fake.len, 0);
	fg_uapi_session_hangup(&sess, &ops, &fake);
	CU_ASSERT_EQUAL(fake.len, 0);
	fg_uapi_session_uninit(&sess);
}

/* Two requests in one write: the first response comes back before the second is read. */
static void test_pipelined(void)
{
	static const char two[] = "set=1\nlisten_port=7\n\nget=1\n\n";
	const char *r;
	size_t rl;
	int n;

	reset();
	n = fg_uapi_session_feed(&sess, two, sizeof(two) - 1, &ops, &fake, &r, &rl);
	CU_ASSERT_EQUAL(n, 21);
	CU_ASSERT_EQUAL(rl, 9);
	CU_ASSERT_EQUAL(memcmp(r, "errno=0\n\n", 9), 0);
	CU_ASSERT_STRING_EQUAL(fake.log, "listen_port 7\nset_end\n");
	n = fg_uapi_session_feed(&sess, two + 21, sizeof(two) - 1 - 21, &ops, &fake, &r, &rl);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(rl, strlen("private_key=" SK "\nlisten_port=51820\nerrno=0\n\n"));
	CU_ASSERT_STRING_EQUAL(fake.log, "listen_port 7\nset_end\nget\n");
	n = fg_uapi_session_feed(&sess, "", 0, &ops, &fake, &r, &rl);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_PTR_NULL(r);
	fg_uapi_session_uninit(&sess);
}

/* Every split of a stream of requests gives the same calls and responses as one write. */
static void test_splits(void)
{
	char stream[4096], calls[LOG_MAX], want[4096];
	size_t len;

	len = (size_t)snprintf(stream, sizeof(stream), "%sget=1\n\nset=1\npublic_key=%s\nremove=true\n\n"
			       "set=1\nbogus\npublic_key=%s\n\n", setconf_req, PK1, PK2);
	reset();
	memcpy(fake.known[0], PK1, sizeof(PK1));
	fake.n_known = 1;
	fake.get_peers = 2;
	CU_ASSERT_EQUAL_FATAL(feed_steps(stream, len, SIZE_MAX, &ops), 0);
	memcpy(calls, fake.log, fake.len + 1);
	memcpy(want, resp, resp_len + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "errno=-71\n\n"));
	fg_uapi_session_uninit(&sess);

	for (size_t step = 1; step <= 3; step++) {
		for (size_t cut = 0; cut <= len; cut++) {
			reset();
			memcpy(fake.known[0], PK1, sizeof(PK1));
			fake.n_known = 1;
			fake.get_peers = 2;
			/* The first cut bytes in pieces of step, the rest at once. */
			CU_ASSERT_EQUAL_FATAL(feed_steps(stream, cut, step, &ops), 0);
			CU_ASSERT_EQUAL_FATAL(feed_steps(stream + cut, len - cut, SIZE_MAX, &ops), 0);
			CU_ASSERT_STRING_EQUAL(fake.log, calls);
			CU_ASSERT_STRING_EQUAL(resp, want);
			fg_uapi_session_uninit(&sess);
		}
	}
}

static bool contains(const void *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* The private key leaves no copy in the session once it is no longer needed. */
static void test_wiping(void)
{
	const char *r;
	size_t rl;

	reset();
	fake.get_peers = 0;
	CU_ASSERT_EQUAL(feed("set=1\nprivate_key=" SK "\n"), 0);
	CU_ASSERT_FALSE(contains(&sess, sizeof(sess), SK));
	CU_ASSERT_FALSE(contains(&sess, sizeof(sess), "77076d0a7318"));
	/* Half a line is held until its newline, then wiped. */
	CU_ASSERT_EQUAL(feed("private_key=77076d0a7318"), 0);
	CU_ASSERT_TRUE(contains(&sess, sizeof(sess), "77076d0a7318"));
	CU_ASSERT_EQUAL(feed("a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a\n\n"), 0);
	CU_ASSERT_FALSE(contains(&sess, sizeof(sess), "77076d0a7318"));

	CU_ASSERT_EQUAL(feed("get=1\n\n"), 0);
	CU_ASSERT_TRUE(contains(sess.w.buf, sess.w.cap, SK));
	/* The next feed means the response was sent: it is wiped then. */
	CU_ASSERT_EQUAL(fg_uapi_session_feed(&sess, "", 0, &ops, &fake, &r, &rl), 0);
	CU_ASSERT_FALSE(contains(sess.w.buf, sess.w.cap, "77076d0a7318"));
	CU_ASSERT_EQUAL(feed("get=1\n\n"), 0);
	fg_uapi_session_hangup(&sess, &ops, &fake);
	CU_ASSERT_FALSE(contains(sess.w.buf, sess.w.cap, "77076d0a7318"));
	fg_uapi_session_uninit(&sess);
	CU_ASSERT_PTR_NULL(sess.w.buf);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "wg setconf", test_setconf },
		{ "wg set peer remove", test_set_remove },
		{ "update_only", test_update_only },
		{ "set misc", test_set_misc },
		{ "bad set requests", test_bad_sets },
		{ "callback errors", test_callback_errors },
		{ "null ops", test_null_ops },
		{ "get", test_get },
		{ "get 10000 peers", test_get_big },
		{ "writer", test_writer },
		{ "get too big", test_get_too_big },
		{ "fatal protocol errors", test_fatal },
		{ "long lines", test_long_lines },
		{ "incomplete requests", test_incomplete },
		{ "pipelined requests", test_pipelined },
		{ "split at every byte", test_splits },
		{ "wiping", test_wiping },
	};
	int ret;

	resp = malloc(RESP_MAX);
	if (!resp || sodium_init() < 0)
		return 1;
	ret = fg_cunit_run("uapi", tests, sizeof(tests) / sizeof(tests[0]));
	free(resp);
	return ret;
}
