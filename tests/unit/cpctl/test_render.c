// SPDX-License-Identifier: MIT
/*
 * CUnit suite for fastgatectl's human output (render.c, render_conn.c, render_nat.c,
 * table.c): golden outputs for every command from sample responses in golden/ (full, empty, nulls, missing
 * fields, wrong types, hostile text), the unit formatters against hand-written tables, the
 * shapes that must be refused, and random JSON trees and randomly damaged samples that must
 * never crash the renderer (ASan and UBSan are on). FG_UPDATE_GOLDEN=1 rewrites the .txt files: review the diff. Single-threaded.
 */
#include "render.h"
#include "table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { FUZZ_ROUNDS = 3000 };

static const time_t NOW = 1800000000;   /* 2027-01-15 08:00:00 UTC */
static const char *golden_dir;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				break;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* Renders into a string; returns fg_render()'s result. */
static int render_str(const char *cmd, const cJSON *j, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	r = fg_render(cmd, j, NOW, f);
	fclose(f);
	return r;
}

static void golden(const char *cmd, const char *name)
{
	char path[4096], *json, *want, *got = NULL;
	size_t jlen, wlen, glen = 0;
	cJSON *j;

	snprintf(path, sizeof(path), "%s/%s.json", golden_dir, name);
	json = slurp(path, &jlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	j = cJSON_Parse(json);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(render_str(cmd, j, &got, &glen), 0);
	snprintf(path, sizeof(path), "%s/%s.txt", golden_dir, name);
	if (getenv("FG_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fwrite(got, 1, glen, f);
		fclose(f);
	}
	want = slurp(path, &wlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	if (glen != wlen || memcmp(got, want, glen) != 0)
		fprintf(stderr, "\n%s differs from %s; got:\n%s", name, path, got);
	CU_ASSERT_EQUAL(glen, wlen);
	CU_ASSERT(glen == wlen && memcmp(got, want, glen) == 0);
	free(want);
	free(got);
	cJSON_Delete(j);
	free(json);
}

static void test_golden_status(void)
{
	golden("status", "status");
	golden("status", "status_down");
	golden("status", "status_wrong");
	golden("status", "status_missing");
}

static void test_golden_peers(void)
{
	golden("peers", "peers");
	golden("peers", "peers_empty");
	golden("peers", "peers_wrong");
}

static void test_golden_resources(void)
{
	golden("resources", "resources");
	golden("resources", "resources_empty");
	golden("resources", "resources_wrong");
}

/* relays, relays_empty, relays_wrong: the shape the control plane sent before ICE (id,
 * addrs, username, expires_at), which still renders; relays_turn*: the TURN allocations. */
static void test_golden_relays(void)
{
	golden("relays", "relays");
	golden("relays", "relays_empty");
	golden("relays", "relays_wrong");
	golden("relays", "relays_turn");
	golden("relays", "relays_without");
	golden("relays", "relays_turn_wrong");
	golden("relays", "relays_nulls");
}

/* Direct, relayed, waiting, failed and checking agents; none; wrong types; nulls. */
static void test_golden_ice(void)
{
	golden("ice", "ice");
	golden("ice", "ice_empty");
	golden("ice", "ice_wrong");
	golden("ice", "ice_nulls");
}

static void test_golden_stats(void)
{
	golden("stats", "stats");
	golden("stats", "stats_quiet");
	golden("stats", "stats_wrong");
	golden("stats", "stats_missing");
	golden("stats", "stats_nat");
	golden("stats", "stats_load");
	golden("stats", "stats_heap");
	golden("stats", "stats_heap_wrong");
}

static void test_golden_nat(void)
{
	golden("nat", "nat");
	golden("nat", "nat_empty");
	golden("nat", "nat_unavailable");
	golden("nat", "nat_wrong");
}

static void test_golden_flows(void)
{
	golden("flows", "flows");
	golden("flows", "flows_empty");
	golden("flows", "flows_wrong");
}

/* Responses without their top-level shape are refused and nothing is printed. */
static void test_shapes(void)
{
	static const struct {
		const char *cmd;
		const char *json;
		int want;
	} cases[] = {
		{ "peers", "{}", -EPROTO },
		{ "peers", "{\"peers\":null}", -EPROTO },
		{ "peers", "{\"peers\":{}}", -EPROTO },
		{ "peers", "{\"peers\":\"[]\"}", -EPROTO },
		{ "peers", "[]", -EPROTO },
		{ "peers", "{\"resources\":[]}", -EPROTO },
		{ "resources", "{\"resources\":5}", -EPROTO },
		{ "relays", "{\"relays\":true}", -EPROTO },
		{ "relays", "{\"relays\":null,\"allocation\":true}", -EPROTO },
		{ "relays", "[]", -EPROTO },
		{ "ice", "{}", -EPROTO },
		{ "ice", "{\"agents\":null}", -EPROTO },
		{ "ice", "{\"agents\":{}}", -EPROTO },
		{ "ice", "{\"ice\":[]}", -EPROTO },
		{ "ice", "[]", -EPROTO },
		{ "ice", "null", -EPROTO },
		{ "Ice", "{\"agents\":[]}", -EINVAL },
		{ "status", "[]", -EPROTO },
		{ "status", "\"x\"", -EPROTO },
		{ "stats", "null", -EPROTO },
		{ "stats", "[{}]", -EPROTO },
		{ "nat", "{}", -EPROTO },
		{ "nat", "{\"clients\":{}}", -EPROTO },
		{ "nat", "{\"nat\":[]}", -EPROTO },
		{ "nat", "[]", -EPROTO },
		{ "Nat", "{\"clients\":[]}", -EINVAL },
		{ "help", "{}", -EINVAL },
		{ "", "{}", -EINVAL },
		{ "Status", "{}", -EINVAL },
	};

	for (size_t i = 0; i < N(cases); i++) {
		cJSON *j = cJSON_Parse(cases[i].json);
		char *out = NULL;
		size_t len = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		CU_ASSERT_EQUAL(render_str(cases[i].cmd, j, &out, &len), cases[i].want);
		CU_ASSERT_EQUAL(len, 0);
		free(out);
		cJSON_Delete(j);
	}
	CU_ASSERT_EQUAL(fg_render_status(NULL, NOW, stdout), -EPROTO);
	CU_ASSERT_EQUAL(fg_render_peers(NULL, NOW, stdout), -EPROTO);
	CU_ASSERT_EQUAL(fg_render_relays(NULL, NOW, stdout), -EPROTO);
	CU_ASSERT_EQUAL(fg_render_ice(NULL, NOW, stdout), -EPROTO);
	CU_ASSERT_STRING_EQUAL(fg_render_list_key("ice"), "agents");
	CU_ASSERT_STRING_EQUAL(fg_render_list_key("relays"), "relays");
	CU_ASSERT_STRING_EQUAL(fg_render_list_key("nat"), "clients");
	CU_ASSERT_EQUAL(fg_render_nat(NULL, NOW, stdout), -EPROTO);
	CU_ASSERT_PTR_NULL(fg_render_list_key("status"));
	CU_ASSERT_PTR_NULL(fg_render_list_key("stats"));
}

static void test_write_error(void)
{
	FILE *f = fopen("/dev/full", "w");
	cJSON *j = cJSON_Parse("{\"peers\":[{\"client_id\":\"a\"}]}");

	if (!f) {
		cJSON_Delete(j);
		return;  /* no /dev/full in this sandbox: nothing to check */
	}
	setvbuf(f, NULL, _IONBF, 0);
	CU_ASSERT_EQUAL(fg_render("peers", j, NOW, f), -EIO);
	fclose(f);
	cJSON_Delete(j);
}

static void test_bytes(void)
{
	static const struct {
		uint64_t in;
		const char *out;
	} cases[] = {
		{ 0, "0 B" },
		{ 1, "1 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.00 KiB" },
		{ 1536, "1.50 KiB" },
		{ 10926161, "10.42 MiB" },
		{ 1048576, "1.00 MiB" },
		{ 1073741824, "1.00 GiB" },
		{ 3221225472, "3.00 GiB" },
		{ 1099511627776, "1.00 TiB" },
		{ 1125899906842624, "1024.00 TiB" },
		{ UINT64_MAX, "16777216.00 TiB" },
	};
	char buf[FG_RENDER_BYTES_LEN];

	for (size_t i = 0; i < N(cases); i++)
		CU_ASSERT_STRING_EQUAL(fg_render_bytes(cases[i].in, buf, sizeof(buf)), cases[i].out);
	/* a short buffer is truncated, never overrun */
	CU_ASSERT_STRING_EQUAL(fg_render_bytes(10926161, buf, 5), "10.4");
}

static void test_duration(void)
{
	static const struct {
		uint64_t in;
		const char *out;
	} cases[] = {
		{ 0, "0 seconds" },
		{ 1, "1 second" },
		{ 2, "2 seconds" },
		{ 59, "59 seconds" },
		{ 60, "1 minute" },
		{ 61, "1 minute, 1 second" },
		{ 3600, "1 hour" },
		{ 3661, "1 hour, 1 minute, 1 second" },
		{ 93784, "1 day, 2 hours, 3 minutes, 4 seconds" },
		{ 86400 * 2, "2 days" },
		{ 365 * 86400, "1 year" },
		{ 400 * 86400 + 5, "1 year, 35 days, 5 seconds" },
		{ UINT64_MAX, "584942417355 years, 26 days, 7 hours, 15 seconds" },
	};
	char buf[FG_RENDER_TIME_LEN];

	for (size_t i = 0; i < N(cases); i++)
		CU_ASSERT_STRING_EQUAL(fg_render_duration(cases[i].in, buf, sizeof(buf)), cases[i].out);
	CU_ASSERT_STRING_EQUAL(fg_render_duration(93784, buf, 12), "1 day, 2 ho");
}

static void test_when(void)
{
	char buf[FG_RENDER_TIME_LEN];

	CU_ASSERT_STRING_EQUAL(fg_render_when(NOW, NOW, buf, sizeof(buf)), "now");
	CU_ASSERT_STRING_EQUAL(fg_render_when(NOW - 3, NOW, buf, sizeof(buf)), "3 seconds ago");
	CU_ASSERT_STRING_EQUAL(fg_render_when(NOW - 1, NOW, buf, sizeof(buf)), "1 second ago");
	CU_ASSERT_STRING_EQUAL(fg_render_when(NOW + 120, NOW, buf, sizeof(buf)), "in 2 minutes");
	CU_ASSERT_STRING_EQUAL(fg_render_when(0, 0, buf, sizeof(buf)), "now");
	/* the extremes do not overflow */
	CU_ASSERT_STRING_EQUAL(fg_render_when(INT64_MIN, (time_t)INT64_MAX, buf, sizeof(buf)),
			       "584942417355 years, 26 days, 7 hours, 15 seconds ago");
	CU_ASSERT_STRING_EQUAL(fg_render_when(INT64_MAX, (time_t)INT64_MIN, buf, sizeof(buf)),
			       "in 584942417355 years, 26 days, 7 hours, 15 seconds");
}

static void test_table(void)
{
	struct fg_table t;
	char *out = NULL, *c;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fg_table_init(&t, 3, 1u << 1);
	fg_table_row(&t);
	fg_table_cell(&t, 0, "NAME");
	fg_table_cell(&t, 1, "N");
	fg_table_cell(&t, 2, "NOTE");
	fg_table_row(&t);
	fg_table_cell(&t, 0, "caf\xc3\xa9");           /* 4 columns, 5 bytes */
	fg_table_cellf(&t, 1, "%d", 12345);
	fg_table_row(&t);
	fg_table_cell(&t, 0, "x\x1b[1m\xff");          /* cleaned */
	fg_table_cell(&t, 1, "7");
	fg_table_cell(&t, 2, "last");
	fg_table_cell(&t, 9, "ignored");                 /* out of range */
	CU_ASSERT_EQUAL(fg_table_print(&t, 2, f), 0);
	fg_table_free(&t);
	fclose(f);
	/* widths 6, 5 (right-aligned), 4; the second row's empty last cell leaves no blanks */
	CU_ASSERT_STRING_EQUAL(out, "  NAME        N  NOTE\n"
				    "  caf\xc3\xa9    12345\n"
				    "  x?[1m?      7  last\n");
	free(out);

	c = fg_table_clean("a\tb\x7f" "c\xc2\x9b" "d\xc0\x80" "e\xed\xa0\x80" "f\xf4\x90\x80\x80" "g\xe6\x97\xa5");
	CU_ASSERT_STRING_EQUAL(c, "a?b?c?" "?d?" "?e?" "?" "?f?" "?" "?" "?g\xe6\x97\xa5");
	free(c);
}

/* ---- random trees ---------------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Keys the renderers look for, plus some they do not. */
static const char *const keys[] = {
	"version", "uptime_s", "portal", "state", "url", "connected_since", "reconnects", "last_error",
	"dataplane", "connected", "tun", "public_key", "listen_port", "peers", "workers", "client_id",
	"ipv4", "ipv6", "endpoint", "last_handshake", "rx_bytes", "tx_bytes", "resources",
	"resource_id", "name", "type", "address", "filters", "protocol", "port_range_start",
	"port_range_end", "expires_at", "relays", "id", "addrs", "username", "aead", "handshakes",
	"initiated", "drops", "lcores", "nic_rx_packets", "nic_rx_bytes", "decrypted", "zzz", "",
	/* relays (TURN) and ice */
	"probing", "active", "srflx", "relayed", "expires_in_s", "rtt_ms", "channels_bound",
	"channels", "number", "peer", "used", "failure", "allocation", "without_relays", "counters",
	"agents", "idle", "local_ufrag", "remote_ufrag", "age_s", "relay_id", "nominated", "local",
	"local_type", "remote", "remote_type", "wireguard_endpoint", "channel", "since_s", "pairs",
	"selected", "checks_sent", "requests_received", "candidates", "held_signals",
	"remote_candidates", "host4", "host6",
	/* nat, and the sections stats ends with */
	"clients", "domains", "proxy_ips", "proxy_ip", "real_ip", "tuples", "proto", "proxy", "inside_port",
	"real", "outside_port", "domain", "worker", "created", "last_out", "last_in", "tx_packets", "rx_packets",
	"tuples_available", "tuples_error", "tuples_cut", "nat", "flows", "p2p", "dns_resources", "translated_out",
	"live", "in", "out", "assigned_ips",
};

static cJSON *random_value(int depth)
{
	static const double nums[] = { 0, 1, -1, 0.5, 1e300, -1e300, 9007199254740993.0, 65535, 1800000000,
				       16384, -0.4, 590.1 };
	static const char *const strs[] = { "", "x", "\x1b[2J", "caf\xc3\xa9", "\xff\xfe", "100.64.0.2",
					    "waiting", "relayed", "198.18.4.1:3478" };
	uint32_t kind = rnd(depth > 4 ? 5 : 7);

	switch (kind) {
	case 0: return cJSON_CreateNull();
	case 1: return cJSON_CreateBool(rnd(2));
	case 2: return cJSON_CreateNumber(nums[rnd(N(nums))]);
	case 3: return cJSON_CreateString(strs[rnd(N(strs))]);
	case 4: return cJSON_CreateString("tcp");
	case 5: {
		cJSON *a = cJSON_CreateArray();
		for (uint32_t i = rnd(4); i > 0; i--)
			cJSON_AddItemToArray(a, random_value(depth + 1));
		return a;
	}
	default: {
		cJSON *o = cJSON_CreateObject();
		for (uint32_t i = rnd(8); i > 0; i--)
			cJSON_AddItemToObject(o, keys[rnd(N(keys))], random_value(depth + 1));
		return o;
	}
	}
}

static void test_random_trees(void)
{
	static const char *const cmds[] = { "status", "peers", "resources", "relays", "stats", "ice", "nat" };
	FILE *devnull = fopen("/dev/null", "w");
	unsigned int ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
	for (int i = 0; i < FUZZ_ROUNDS; i++) {
		cJSON *root = cJSON_CreateObject();
		const char *cmd = cmds[rnd(N(cmds))];
		int r;

		/* Mostly the right top-level list, so the rows themselves get exercised. */
		if (fg_render_list_key(cmd) && rnd(4)) {
			cJSON *l = cJSON_AddArrayToObject(root, fg_render_list_key(cmd));
			for (uint32_t k = rnd(5); k > 0; k--)
				cJSON_AddItemToArray(l, random_value(1));
		}
		for (uint32_t k = rnd(6); k > 0; k--)
			cJSON_AddItemToObject(root, keys[rnd(N(keys))], random_value(1));
		r = fg_render(cmd, root, NOW, devnull);
		CU_ASSERT(r == 0 || r == -EPROTO);
		ok += r == 0;
		cJSON_Delete(root);
	}
	CU_ASSERT(ok > FUZZ_ROUNDS / 2);
	fclose(devnull);
}

/* Every node of a tree with its parent, in document order. */
struct node_ref {
	cJSON *parent;
	cJSON *item;
};

static size_t collect(cJSON *parent, struct node_ref *refs, size_t n, size_t cap)
{
	cJSON *c;

	cJSON_ArrayForEach(c, parent) {
		if (n < cap)
			refs[n++] = (struct node_ref){ parent, c };
		n = collect(c, refs, n, cap);
	}
	return n;
}

/* The full sample responses with a few nodes swapped for random values: the hostile
 * variants deep inside the shapes that random trees rarely build. */
static void test_mutated_samples(void)
{
	static const struct {
		const char *cmd;
		const char *name;
	} samples[] = {
		{ "ice", "ice" },
		{ "relays", "relays_turn" },
		{ "relays", "relays" },
		{ "status", "status" },
		{ "stats", "stats" },
		{ "stats", "stats_nat" },
		{ "nat", "nat" },
		{ "flows", "flows" },
		{ "peers", "peers" },
		{ "resources", "resources" },
	};
	enum { MAX_NODES = 1024, ROUNDS = 400 };
	FILE *devnull = fopen("/dev/null", "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
	for (size_t s = 0; s < N(samples); s++) {
		char path[4096], *json;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s.json", golden_dir, samples[s].name);
		json = slurp(path, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(json);
		for (int i = 0; i < ROUNDS; i++) {
			static struct node_ref refs[MAX_NODES];
			cJSON *root = cJSON_Parse(json);
			size_t n;
			int r;

			CU_ASSERT_PTR_NOT_NULL_FATAL(root);
			for (uint32_t k = 1 + rnd(3); k > 0; k--) {
				struct node_ref *ref;
				cJSON *v = random_value(2);

				n = collect(root, refs, 0, MAX_NODES);
				if (!n) {
					cJSON_Delete(v);
					break;
				}
				ref = &refs[rnd((uint32_t)n)];
				/* ReplaceItemViaPointer keeps no member name: give it the old one */
				if (cJSON_IsObject(ref->parent)) {
					v->string = strdup(ref->item->string);
					CU_ASSERT_PTR_NOT_NULL_FATAL(v->string);
				}
				CU_ASSERT_FATAL(cJSON_ReplaceItemViaPointer(ref->parent, ref->item, v));
			}
			r = fg_render(samples[s].cmd, root, NOW, devnull);
			CU_ASSERT(r == 0 || r == -EPROTO);
			cJSON_Delete(root);
		}
		free(json);
	}
	fclose(devnull);
}

int main(int argc, char **argv)
{
	static const struct fg_cunit_test tests[] = {
		{ "golden status", test_golden_status },
		{ "golden peers", test_golden_peers },
		{ "golden resources", test_golden_resources },
		{ "golden relays", test_golden_relays },
		{ "golden ice", test_golden_ice },
		{ "golden stats", test_golden_stats },
		{ "golden nat", test_golden_nat },
		{ "golden flows", test_golden_flows },
		{ "shapes refused", test_shapes },
		{ "write error", test_write_error },
		{ "bytes", test_bytes },
		{ "duration", test_duration },
		{ "when", test_when },
		{ "table", test_table },
		{ "random trees", test_random_trees },
		{ "mutated samples", test_mutated_samples },
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s GOLDEN_DIR\n", argv[0]);
		return 1;
	}
	golden_dir = argv[1];
	return fg_cunit_run("cpctl_render", tests, N(tests));
}
