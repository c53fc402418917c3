// SPDX-License-Identifier: MIT
/*
 * DNS resources in the control plane (controlplane/nat/) on the bench of nat_bench.c: a
 * fake data plane on a socketpair with the real dpclient and state, a scripted DNS server
 * on loopback, the owner's poll loop. Each test checks the exact bytes of the NAT_SET and
 * P2P_OUT the data plane receives, built by hand from ctlproto.h: an authorized domain
 * (proxy IPs sorted, round-robin per family, rank, DomainStatus only after the data plane's
 * answer), the refusals that answer Inactive at once without a query, the resolver's
 * timeout and failed lookups, renumbering, the data plane's refusal, resync after a data
 * plane restart, peer and resource events, hostile AssignedIps, the in-flight limit and
 * freeing with work in flight, and fastgatectl's views (nat_view.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "cunit_run.h"
#include "keys.h"
#include "nat_bench.h"
#include "p2p.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum {
	K1 = 0x11,
	K2 = 0x22,
	K_UNKNOWN = 0x77,
	RUN_MS = 3000,
	TIMEOUT_MS = 300,
};

#define CL1 "6a1e0b1c-0000-4000-8000-000000000001"
#define CL2 "6a1e0b1c-0000-4000-8000-000000000002"
#define R_WILD "9f0e1d2c-0000-4000-8000-00000000000a"
#define R_APP "9f0e1d2c-0000-4000-8000-00000000000b"
#define R_BROAD "9f0e1d2c-0000-4000-8000-00000000000c"
#define R_CIDR "9f0e1d2c-0000-4000-8000-00000000000d"
#define R_OTHER "9f0e1d2c-0000-4000-8000-00000000000e"

/* A client's proxy IPs for one domain, in the order it sends them (not sorted). */
static const char *const P1[] = {
	"fd00:2021:1111:8000::3", "100.96.0.4", "100.96.0.2", "fd00:2021:1111:8000::1",
	"100.96.0.3",             "fd00:2021:1111:8000::4", "100.96.0.1", "fd00:2021:1111:8000::2",
};
static const char *const P2[] = {
	"100.96.0.8", "100.96.0.7", "100.96.0.6", "100.96.0.5",
	"fd00:2021:1111:8000::8", "fd00:2021:1111:8000::7", "fd00:2021:1111:8000::6", "fd00:2021:1111:8000::5",
};

/* app.example.com over P1: 3 A records over 4 IPv4 proxy IPs, 1 AAAA over 4 IPv6. */
static const char *const APP_P1[][2] = {
	{ "100.96.0.1", "198.51.100.1" },
	{ "100.96.0.2", "198.51.100.2" },
	{ "100.96.0.3", "198.51.100.3" },
	{ "100.96.0.4", "198.51.100.1" },
	{ "fd00:2021:1111:8000::1", "2001:db8::7" },
	{ "fd00:2021:1111:8000::2", "2001:db8::7" },
	{ "fd00:2021:1111:8000::3", "2001:db8::7" },
	{ "fd00:2021:1111:8000::4", "2001:db8::7" },
};

static const struct fg_ip *ip(const char *s)
{
	static struct fg_ip bufs[4];
	static unsigned k;
	struct fg_ip *p = &bufs[k++ % N(bufs)];

	memset(p, 0, sizeof(*p));
	CU_ASSERT_EQUAL(fg_ip_parse(s, p), 0);
	return p;
}

static const uint8_t *key(uint8_t b)
{
	static uint8_t k[4][32];
	static unsigned i;
	uint8_t *p = k[i++ % 4];

	memset(p, b, 32);
	return p;
}

static const char *domain_of(uint8_t k, const char *proxy)
{
	return fg_cp_nat_domain_of(B.nat, key(k), ip(proxy));
}

static const struct fg_cp_nat_stats *stats(void)
{
	return fg_cp_nat_stats(B.nat);
}

static unsigned want_out;
static bool got_out(void)
{
	return bench_count(FG_CTL_P2P_OUT) >= want_out;
}

static unsigned want_set;
static bool got_set(void)
{
	return bench_count(FG_CTL_NAT_SET) >= want_set;
}

/* Sends AssignedIps and runs until the n-th DomainStatus since the last bench_clear(). */
static void assign(uint8_t k, const char *res, const char *dom, const char *const *proxies, unsigned n,
		   unsigned nth_status)
{
	bench_assigned(k, res, dom, proxies, n);
	want_out = nth_status;
	CU_ASSERT_TRUE_FATAL(bench_run(got_out, RUN_MS));
}

/* The records in fg_cp_nat_json: how many, and whether one is (client key, domain). */
static int json_records(uint8_t k, const char *dom, int *with_key)
{
	cJSON *a = fg_cp_nat_json(B.nat), *o;
	char kb[FG_KEY_B64_LEN];
	int n = cJSON_GetArraySize(a);

	fg_key_to_base64(kb, key(k));
	*with_key = 0;
	cJSON_ArrayForEach(o, a) {
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(o, "public_key");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "domain");

		if (cJSON_IsString(pk) && !strcmp(pk->valuestring, kb) && cJSON_IsString(d) && !strcmp(d->valuestring, dom))
			(*with_key)++;
	}
	cJSON_Delete(a);
	return n;
}

/* ---- an authorized domain ------------------------------------------------------------------ */

static void test_wildcard_active(void)
{
	char kb[FG_KEY_B64_LEN];
	cJSON *a, *o, *m, *e;
	int with;

	bench_init(2000);
	bench_authorize(CL1, K1, R_BROAD, "*.com", 0);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_authorize(CL1, K1, R_APP, "app.example.com", 0);
	bench_clear();
	B.hold_nat = true;
	bench_assigned(K1, R_WILD, "app.example.com", P1, N(P1));
	want_set = 1;
	CU_ASSERT_TRUE_FATAL(bench_run(got_set, RUN_MS));
	/* sorted, round-robin per family; *.example.com beats *.com only: rank 1 */
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_WILD, "app.example.com", 0, 1, APP_P1, N(APP_P1));
	CU_ASSERT(bench_queries("app.example.com") >= 2);   /* A and AAAA (and any retry) */
	CU_ASSERT_EQUAL(B.queries, bench_queries("app.example.com"));
	/* no DomainStatus before the data plane's answer */
	bench_settle();
	CU_ASSERT_EQUAL(bench_count(FG_CTL_P2P_OUT), 0);
	bench_release_nat(0);
	want_out = 1;
	CU_ASSERT_TRUE_FATAL(bench_run(got_out, RUN_MS));
	CU_ASSERT_EQUAL(bench_count(0), 2);
	CU_ASSERT_EQUAL(bench_nth(0, 0)->type, FG_CTL_NAT_SET);
	expect_status(bench_nth(0, 1), K1, R_WILD, "app.example.com", true);
	CU_ASSERT_EQUAL(stats()->assigned_ips, 1);
	CU_ASSERT_EQUAL(stats()->resolved, 1);
	CU_ASSERT_EQUAL(stats()->active, 1);
	CU_ASSERT_EQUAL(stats()->inactive + stats()->refused + stats()->malformed + stats()->resets, 0);

	CU_ASSERT_STRING_EQUAL(domain_of(K1, "100.96.0.3"), "app.example.com");
	CU_ASSERT_STRING_EQUAL(domain_of(K1, "fd00:2021:1111:8000::4"), "app.example.com");
	CU_ASSERT_PTR_NULL(domain_of(K1, "100.96.0.9"));
	CU_ASSERT_PTR_NULL(domain_of(K2, "100.96.0.3"));
	a = fg_cp_nat_json(B.nat);
	CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(a), 1);
	o = cJSON_GetArrayItem(a, 0);
	fg_key_to_base64(kb, key(K1));
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "client_id")->valuestring, CL1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "public_key")->valuestring, kb);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "resource_id")->valuestring, R_WILD);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "domain")->valuestring, "app.example.com");
	m = cJSON_GetObjectItem(o, "proxy_ips");
	CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(m), 8);
	for (int i = 0; i < 8; i++) {
		e = cJSON_GetArrayItem(m, i);
		CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(e, "proxy_ip")->valuestring, APP_P1[i][0]);
		CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(e, "real_ip")->valuestring, APP_P1[i][1]);
	}
	cJSON_Delete(a);

	/* the same domain for the more specific resource: rank 2, no reset, two records */
	bench_clear();
	B.hold_nat = false;
	assign(K1, R_APP, "app.example.com", P1, N(P1), 1);
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_APP, "app.example.com", 0, 2, APP_P1, N(APP_P1));
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_APP, "app.example.com", true);
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 2);
	CU_ASSERT_EQUAL(with, 2);
	CU_ASSERT_EQUAL(stats()->resets, 0);
	bench_free();
}

/* Duplicate proxy IPs collapse (the Rust gateway's BTreeSet): 3 distinct, one entry each. */
static void test_duplicate_proxies(void)
{
	static const char *const dup[] = { "100.96.0.3", "100.96.0.1", "100.96.0.3", "100.96.0.2" };
	static const char *const want[][2] = {
		{ "100.96.0.1", "198.51.100.1" },
		{ "100.96.0.2", "198.51.100.2" },
		{ "100.96.0.3", "198.51.100.3" },
	};

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	assign(K1, R_WILD, "app.example.com", dup, N(dup), 1);
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_WILD, "app.example.com", 0, 0, want, N(want));
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "app.example.com", true);
	bench_free();
}

/* ---- refused at once ----------------------------------------------------------------------- */

/* AssignedIps that must be answered Inactive at once: no query, no NAT_SET, no waiting. */
static void refused(uint8_t k, const char *res, const char *dom, uint64_t refused_before)
{
	bench_clear();
	bench_assigned(k, res, dom, P1, N(P1));
	bench_settle();
	CU_ASSERT_EQUAL(bench_count(0), 1);
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), k, res, dom, false);
	CU_ASSERT_EQUAL(B.queries, 0);
	CU_ASSERT_EQUAL(stats()->refused, refused_before + 1);
	CU_ASSERT_EQUAL(stats()->inactive, refused_before + 1);
	CU_ASSERT_EQUAL(stats()->resolved + stats()->timeouts, 0);
}

static void test_no_match(void)
{
	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	refused(K1, R_WILD, "app.example.org", 0);
	refused(K1, R_WILD, "a.b.example.com", 1);   /* '*' is one label */
	refused(K1, R_WILD, "example.co", 2);
	CU_ASSERT_PTR_NULL(domain_of(K1, "100.96.0.1"));
	bench_free();
}

static void test_not_clients_resource(void)
{
	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_authorize(CL2, K2, R_OTHER, "*.example.com", 0);
	refused(K1, R_OTHER, "app.example.com", 0);                          /* the other client's */
	refused(K1, "9f0e1d2c-0000-4000-8000-0000000000ff", "app.example.com", 1);   /* nobody's */
	bench_free();
}

static void test_expired_resource(void)
{
	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", (uint64_t)time(NULL) - 10);
	refused(K1, R_WILD, "app.example.com", 0);
	bench_free();
}

static void test_cidr_resource(void)
{
	bench_init(2000);
	bench_authorize(CL1, K1, R_CIDR, NULL, 0);
	refused(K1, R_CIDR, "app.example.com", 0);
	bench_free();
}

static void test_unknown_client(void)
{
	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	refused(K_UNKNOWN, R_WILD, "app.example.com", 0);
	bench_free();
}

/* ---- the resolver ---------------------------------------------------------------------------- */

static void test_timeout(void)
{
	uint64_t t0;

	bench_init(TIMEOUT_MS);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	t0 = bench_now_ns();
	assign(K1, R_WILD, "slow.example.com", P1, N(P1), 1);
	CU_ASSERT(bench_now_ns() - t0 >= (uint64_t)TIMEOUT_MS * 1000000ull);
	CU_ASSERT(bench_queries("slow.example.com") >= 2);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_NAT_SET), 0);
	CU_ASSERT_EQUAL(bench_count(0), 1);
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "slow.example.com", false);
	CU_ASSERT_EQUAL(stats()->timeouts, 1);
	CU_ASSERT_EQUAL(stats()->inactive, 1);
	CU_ASSERT_EQUAL(stats()->resolved, 0);
	CU_ASSERT_PTR_NULL(domain_of(K1, "100.96.0.1"));
	bench_free();
}

/* A failed lookup is no records (Active, real family 0); a domain with A only leaves the
 * IPv6 proxy IPs without a real IP. */
static void test_failed_lookup(void)
{
	static const char *const nx[][2] = {
		{ "100.96.0.1", NULL }, { "100.96.0.2", NULL }, { "100.96.0.3", NULL }, { "100.96.0.4", NULL },
		{ "fd00:2021:1111:8000::1", NULL }, { "fd00:2021:1111:8000::2", NULL },
		{ "fd00:2021:1111:8000::3", NULL }, { "fd00:2021:1111:8000::4", NULL },
	};
	static const char *const db[][2] = {
		{ "100.96.0.5", "198.51.100.9" }, { "100.96.0.6", "198.51.100.9" },
		{ "100.96.0.7", "198.51.100.9" }, { "100.96.0.8", "198.51.100.9" },
		{ "fd00:2021:1111:8000::5", NULL }, { "fd00:2021:1111:8000::6", NULL },
		{ "fd00:2021:1111:8000::7", NULL }, { "fd00:2021:1111:8000::8", NULL },
	};
	cJSON *a, *e;

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	assign(K1, R_WILD, "nx.example.com", P1, N(P1), 1);
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_WILD, "nx.example.com", 0, 0, nx, N(nx));
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "nx.example.com", true);
	CU_ASSERT_EQUAL(stats()->timeouts, 0);
	CU_ASSERT_EQUAL(stats()->resolved, 1);
	a = fg_cp_nat_json(B.nat);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "proxy_ips"), 0);
	CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(e, "real_ip")));
	cJSON_Delete(a);

	bench_clear();
	assign(K1, R_WILD, "db.example.com", P2, N(P2), 1);
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_WILD, "db.example.com", 0, 0, db, N(db));
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "db.example.com", true);
	CU_ASSERT_EQUAL(stats()->active, 2);
	bench_free();
}

/* ---- renumbering, refusal ------------------------------------------------------------------ */

static void test_renumbering(void)
{
	static const char *const www_p2[][2] = {
		{ "100.96.0.5", "198.51.100.20" }, { "100.96.0.6", "198.51.100.20" },
		{ "100.96.0.7", "198.51.100.20" }, { "100.96.0.8", "198.51.100.20" },
		{ "fd00:2021:1111:8000::5", "2001:db8::20" }, { "fd00:2021:1111:8000::6", "2001:db8::20" },
		{ "fd00:2021:1111:8000::7", "2001:db8::20" }, { "fd00:2021:1111:8000::8", "2001:db8::20" },
	};
	static const char *const db_p1[][2] = {
		{ "100.96.0.1", "198.51.100.9" }, { "100.96.0.2", "198.51.100.9" },
		{ "100.96.0.3", "198.51.100.9" }, { "100.96.0.4", "198.51.100.9" },
		{ "fd00:2021:1111:8000::1", NULL }, { "fd00:2021:1111:8000::2", NULL },
		{ "fd00:2021:1111:8000::3", NULL }, { "fd00:2021:1111:8000::4", NULL },
	};
	/* one proxy IP of app.example.com, three new ones */
	static const char *const p1_reused[] = { "100.96.0.9", "100.96.0.10", "100.96.0.11", "100.96.0.2" };
	int with;

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_authorize(CL2, K2, R_OTHER, "*.example.com", 0);
	bench_clear();
	assign(K1, R_WILD, "app.example.com", P1, N(P1), 1);
	assign(K1, R_WILD, "www.example.com", P2, N(P2), 2);
	/* the same proxy IPs at another client are no renumbering of this one */
	assign(K2, R_OTHER, "db.example.com", P1, N(P1), 3);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_NAT_SET), 3);
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 1), K1, R_WILD, "www.example.com", 0, 0, www_p2, N(www_p2));
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 2), K2, R_OTHER, "db.example.com", 0, 0, db_p1, N(db_p1));
	CU_ASSERT_EQUAL(stats()->resets, 0);
	CU_ASSERT_STRING_EQUAL(domain_of(K1, "100.96.0.5"), "www.example.com");
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 3);

	/* db.example.com takes a proxy IP of app.example.com: the client renumbered */
	bench_clear();
	assign(K1, R_WILD, "db.example.com", p1_reused, N(p1_reused), 1);
	{
		static const char *const want[][2] = {
			{ "100.96.0.2", "198.51.100.9" },
			{ "100.96.0.9", "198.51.100.9" },
			{ "100.96.0.10", "198.51.100.9" },
			{ "100.96.0.11", "198.51.100.9" },
		};

		expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_WILD, "db.example.com", FG_CTL_NAT_RESET, 0, want,
			       N(want));
	}
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "db.example.com", true);
	CU_ASSERT_EQUAL(stats()->resets, 1);
	/* every older record of the client is gone, the other client's stay */
	CU_ASSERT_STRING_EQUAL(domain_of(K1, "100.96.0.2"), "db.example.com");
	CU_ASSERT_PTR_NULL(domain_of(K1, "100.96.0.1"));
	CU_ASSERT_PTR_NULL(domain_of(K1, "100.96.0.5"));
	CU_ASSERT_STRING_EQUAL(domain_of(K2, "100.96.0.1"), "db.example.com");
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 2);
	CU_ASSERT_EQUAL(with, 0);
	CU_ASSERT_EQUAL(json_records(K1, "db.example.com", &with), 2);
	CU_ASSERT_EQUAL(with, 1);
	bench_free();
}

static void test_dp_refuses(void)
{
	int with;

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	B.nat_status = -ENOENT;
	assign(K1, R_WILD, "app.example.com", P1, N(P1), 1);
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_WILD, "app.example.com", 0, 0, APP_P1, N(APP_P1));
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "app.example.com", false);
	CU_ASSERT_EQUAL(stats()->inactive, 1);
	CU_ASSERT_EQUAL(stats()->active, 0);
	/* not kept: no domain, nothing to push again */
	CU_ASSERT_PTR_NULL(domain_of(K1, "100.96.0.1"));
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 0);
	/* the client asks again and the data plane takes it */
	B.nat_status = 0;
	bench_clear();
	assign(K1, R_WILD, "app.example.com", P1, N(P1), 1);
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "app.example.com", true);
	CU_ASSERT_STRING_EQUAL(domain_of(K1, "100.96.0.1"), "app.example.com");
	bench_free();
}

/* The client went away (rejected) while its domain resolved: Inactive, nothing kept. */
static void test_client_gone_while_resolving(void)
{
	int with;

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	bench_assigned(K1, R_WILD, "app.example.com", P1, N(P1));
	/* the dpclient reads the AssignedIps (the lookup starts), nothing else runs */
	CU_ASSERT_EQUAL(fg_dpc_on_readable(&B.dpc), 0);
	CU_ASSERT_EQUAL(fg_cp_reject(&B.st, CL1, R_WILD), 0);
	CU_ASSERT_PTR_NULL(fg_cp_find(&B.st, CL1));
	want_out = 1;
	CU_ASSERT_TRUE_FATAL(bench_run(got_out, RUN_MS));
	CU_ASSERT_EQUAL(bench_count(FG_CTL_NAT_SET), 0);
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "app.example.com", false);
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 0);
	bench_free();
}

/* ---- resync, events -------------------------------------------------------------------------- */

static bool synced(void)
{
	return B.synced > 0 && bench_count(FG_CTL_NAT_SET) >= 1;
}

static void test_resync(void)
{
	static const char *const www_p2[][2] = {
		{ "100.96.0.5", "198.51.100.20" }, { "100.96.0.6", "198.51.100.20" },
		{ "100.96.0.7", "198.51.100.20" }, { "100.96.0.8", "198.51.100.20" },
		{ "fd00:2021:1111:8000::5", "2001:db8::20" }, { "fd00:2021:1111:8000::6", "2001:db8::20" },
		{ "fd00:2021:1111:8000::7", "2001:db8::20" }, { "fd00:2021:1111:8000::8", "2001:db8::20" },
	};
	int with;

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_authorize(CL1, K1, R_APP, "app.example.com", 0);
	bench_authorize(CL2, K2, R_OTHER, "*.example.com", 0);
	bench_clear();
	assign(K1, R_WILD, "app.example.com", P1, N(P1), 1);
	assign(K1, R_APP, "app.example.com", P1, N(P1), 2);
	assign(K1, R_WILD, "www.example.com", P2, N(P2), 3);
	assign(K2, R_OTHER, "app.example.com", P1, N(P1), 4);
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 4);
	/* the portal takes R_APP from client 1, and client 2 altogether */
	CU_ASSERT_EQUAL(fg_cp_reject(&B.st, CL1, R_APP), 0);
	CU_ASSERT_EQUAL(fg_cp_reject(&B.st, CL2, R_OTHER), 0);
	bench_settle();

	/* a restarted data plane: the sync pushes the peer and its resource, then the NAT */
	bench_dp_restart();
	CU_ASSERT_TRUE_FATAL(bench_run(synced, RUN_MS));
	bench_settle();
	CU_ASSERT_EQUAL(B.synced, 1);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_DUMP), 1);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_PEER_UPSERT), 1);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_RESOURCE_UPSERT), 1);
	CU_ASSERT_EQUAL_FATAL(bench_count(FG_CTL_NAT_SET), 2);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_P2P_OUT), 0);   /* no DomainStatus for a resync */
	CU_ASSERT_EQUAL(bench_nth(0, 0)->type, FG_CTL_DUMP);
	CU_ASSERT_EQUAL(bench_nth(0, 1)->type, FG_CTL_PEER_UPSERT);
	CU_ASSERT_EQUAL(bench_nth(0, 2)->type, FG_CTL_RESOURCE_UPSERT);
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 0), K1, R_WILD, "app.example.com", 0, 0, APP_P1, N(APP_P1));
	expect_nat_set(bench_nth(FG_CTL_NAT_SET, 1), K1, R_WILD, "www.example.com", 0, 0, www_p2, N(www_p2));
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 2);
	CU_ASSERT_EQUAL(with, 1);
	CU_ASSERT_PTR_NULL(domain_of(K2, "100.96.0.1"));
	bench_free();
}

static void test_peer_events(void)
{
	int with;

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_authorize(CL1, K1, R_APP, "app.example.com", 0);
	bench_authorize(CL2, K2, R_OTHER, "*.example.com", 0);
	bench_clear();
	assign(K1, R_WILD, "app.example.com", P1, N(P1), 1);
	assign(K1, R_APP, "app.example.com", P1, N(P1), 2);
	assign(K2, R_OTHER, "www.example.com", P2, N(P2), 3);
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 3);
	CU_ASSERT_EQUAL(with, 2);

	/* one resource expired: its own records go */
	bench_event(K1, FG_CTL_EV_RESOURCE_EXPIRED, R_APP);
	bench_settle();
	CU_ASSERT_EQUAL(json_records(K1, "app.example.com", &with), 2);
	CU_ASSERT_EQUAL(with, 1);
	CU_ASSERT_STRING_EQUAL(domain_of(K1, "100.96.0.1"), "app.example.com");
	/* Goodbye: the client's peer is gone, and its translations */
	bench_event(K1, FG_CTL_EV_PEER_GOODBYE, NULL);
	bench_settle();
	CU_ASSERT_PTR_NULL(domain_of(K1, "100.96.0.1"));
	CU_ASSERT_PTR_NOT_NULL(fg_cp_find(&B.st, CL1));   /* its authorizations stay */
	CU_ASSERT_STRING_EQUAL(domain_of(K2, "100.96.0.5"), "www.example.com");
	/* expiry of the last resource: the other client's go */
	bench_event(K2, FG_CTL_EV_PEER_EXPIRED, NULL);
	bench_settle();
	CU_ASSERT_PTR_NULL(domain_of(K2, "100.96.0.5"));
	CU_ASSERT_EQUAL(json_records(K2, "www.example.com", &with), 0);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_NAT_SET), 3);   /* events push nothing */
	bench_free();
}

/* ---- hostile AssignedIps ------------------------------------------------------------------ */

struct payload {
	const char *what;
	uint8_t event;
	const char *json;           /* after the 8-byte header; NULL: raw bytes below */
	size_t raw_len;             /* raw: this many bytes of the header only */
};

static size_t build(const struct payload *p, uint8_t *buf, size_t cap)
{
	size_t n;

	if (!p->json) {
		memset(buf, 0, p->raw_len);
		if (p->raw_len)
			buf[0] = p->event;
		return p->raw_len;
	}
	n = strlen(p->json);
	CU_ASSERT_FATAL(FG_P2P_HEADER_LEN + n <= cap);
	memset(buf, 0, FG_P2P_HEADER_LEN);
	buf[0] = p->event;
	memcpy(buf + FG_P2P_HEADER_LEN, p->json, n);
	return FG_P2P_HEADER_LEN + n;
}

#define OK_IPS "[\"100.96.0.1\",\"100.96.0.2\",\"100.96.0.3\",\"100.96.0.4\"]"
#define AIPS(res, dom, ips) "{\"resource\":" res ",\"domain\":" dom ",\"proxy_ips\":" ips "}"

static void test_hostile(void)
{
	static char long_domain[480], long_label[240], huge[FG_CTL_P2P_MAX + 1], deep[2100];
	static const struct payload base[] = {
		{ "3 bytes", 0, NULL, 3 },
		{ "header only", 0, NULL, FG_P2P_HEADER_LEN },
		{ "DomainStatus", 1, AIPS("\"" R_WILD "\"", "\"app.example.com\"", OK_IPS), 0 },
		{ "Goodbye", 2, "", 0 },
		{ "event 255", 255, AIPS("\"" R_WILD "\"", "\"app.example.com\"", OK_IPS), 0 },
		{ "truncated", 0, "{\"resource\":\"" R_WILD "\",\"domain\":\"app.exa", 0 },
		{ "array", 0, "[1,2]", 0 },
		{ "null", 0, "null", 0 },
		{ "string", 0, "\"x\"", 0 },
		{ "resource only", 0, "{\"resource\":\"" R_WILD "\"}", 0 },
		{ "3 proxy IPs", 0, AIPS("\"" R_WILD "\"", "\"app.example.com\"", "[\"100.96.0.1\",\"100.96.0.2\",\"100.96.0.3\"]"), 0 },
		{ "5 proxy IPs", 0, AIPS("\"" R_WILD "\"", "\"app.example.com\"", "[\"100.96.0.1\",\"100.96.0.2\",\"100.96.0.3\",\"100.96.0.4\",\"100.96.0.5\"]"), 0 },
		{ "no proxy IPs", 0, AIPS("\"" R_WILD "\"", "\"app.example.com\"", "[]"), 0 },
		{ "numbers", 0, AIPS("\"" R_WILD "\"", "\"app.example.com\"", "[1,2,3,4]"), 0 },
		{ "bad IP", 0, AIPS("\"" R_WILD "\"", "\"app.example.com\"", "[\"100.96.0.1\",\"100.96.0.2\",\"100.96.0.3\",\"100.96.0.999\"]"), 0 },
		{ "IP with prefix", 0, AIPS("\"" R_WILD "\"", "\"app.example.com\"", "[\"100.96.0.1/32\",\"100.96.0.2\",\"100.96.0.3\",\"100.96.0.4\"]"), 0 },
		{ "proxy_ips string", 0, AIPS("\"" R_WILD "\"", "\"app.example.com\"", "\"100.96.0.1\""), 0 },
		{ "proxy_ips missing", 0, "{\"resource\":\"" R_WILD "\",\"domain\":\"app.example.com\"}", 0 },
		{ "resource number", 0, AIPS("7", "\"app.example.com\"", OK_IPS), 0 },
		{ "resource empty", 0, AIPS("\"\"", "\"app.example.com\"", OK_IPS), 0 },
		{ "resource 64", 0, AIPS("\"0123456789012345678901234567890123456789012345678901234567890123\"", "\"app.example.com\"", OK_IPS), 0 },
		{ "resource space", 0, AIPS("\"r wild\"", "\"app.example.com\"", OK_IPS), 0 },
		{ "domain missing", 0, "{\"resource\":\"" R_WILD "\",\"proxy_ips\":" OK_IPS "}", 0 },
		{ "domain empty", 0, AIPS("\"" R_WILD "\"", "\"\"", OK_IPS), 0 },
		{ "domain dot", 0, AIPS("\"" R_WILD "\"", "\".\"", OK_IPS), 0 },
		{ "domain a..b", 0, AIPS("\"" R_WILD "\"", "\"app..example.com\"", OK_IPS), 0 },
		{ "domain NUL", 0, AIPS("\"" R_WILD "\"", "\"evil\\u0000.example.com\"", OK_IPS), 0 },
		{ "domain space", 0, AIPS("\"" R_WILD "\"", "\"app example.com\"", OK_IPS), 0 },
		{ "domain object", 0, AIPS("\"" R_WILD "\"", "{}", OK_IPS), 0 },
	};
	struct payload extra[4];
	_Alignas(max_align_t) uint8_t body[FG_CTL_P2P_MAX + 64];
	size_t n, nall = N(base) + N(extra);

	/* a domain of 311 characters (labels of 59), a label of 64, a body filling the whole
	 * payload, nesting deeper than cJSON takes */
	{
		char name[320];
		size_t o = 0;

		for (int l = 0; l < 5; l++) {
			memset(name + o, 'a' + l, 59);
			name[o + 59] = '.';
			o += 60;
		}
		snprintf(name + o, sizeof(name) - o, "example.com");
		snprintf(long_domain, sizeof(long_domain), "{\"resource\":\"%s\",\"domain\":\"%s\",\"proxy_ips\":%s}",
			 R_WILD, name, OK_IPS);
	}
	snprintf(long_label, sizeof(long_label), "{\"resource\":\"%s\",\"domain\":\"%064d.example.com\",\"proxy_ips\":%s}",
		 R_WILD, 0, OK_IPS);
	n = (size_t)snprintf(huge, sizeof(huge), "{\"resource\":\"%s\",\"proxy_ips\":%s,\"domain\":\"", R_WILD, OK_IPS);
	memset(huge + n, 'a', FG_CTL_P2P_MAX - FG_P2P_HEADER_LEN - n - 2);
	strcpy(huge + FG_CTL_P2P_MAX - FG_P2P_HEADER_LEN - 2, "\"}");
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	deep[FG_CTL_P2P_MAX - FG_P2P_HEADER_LEN] = '\0';
	extra[0] = (struct payload){ "domain 300", 0, long_domain, 0 };
	extra[1] = (struct payload){ "label 64", 0, long_label, 0 };
	extra[2] = (struct payload){ "whole payload", 0, huge, 0 };
	extra[3] = (struct payload){ "deep nesting", 0, deep, 0 };

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	/* an empty P2P_IN never reaches nat: the dpclient drops it */
	bench_p2p_in(K1, "", 0);
	bench_settle();
	CU_ASSERT_EQUAL(B.dpc.unsolicited_dropped, 1);
	CU_ASSERT_EQUAL(stats()->assigned_ips, 0);
	/* through the data plane's socket */
	for (size_t i = 0; i < nall; i++) {
		const struct payload *p = i < N(base) ? &base[i] : &extra[i - N(base)];

		n = build(p, body, sizeof(body));
		CU_ASSERT_FATAL(n <= FG_CTL_P2P_MAX);
		bench_p2p_in(K1, body, n);
		bench_settle();
		if (stats()->malformed != i + 1)
			fprintf(stderr, "\nnot counted as malformed: %s\n", p->what);
		CU_ASSERT_EQUAL(stats()->malformed, i + 1);
	}
	/* handed over directly, exactly as long as it says (ASan sees any read past it), an
	 * empty one included */
	for (size_t i = 0; i <= nall; i++) {
		struct fg_ctl_p2p *m;

		n = i < nall ? build(i < N(base) ? &base[i] : &extra[i - N(base)], body, sizeof(body)) : 0;
		m = malloc(sizeof(*m) + n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		memset(m, 0, sizeof(*m));
		m->h.version = FG_CTL_VERSION;
		m->h.type = FG_CTL_P2P_IN;
		memset(m->public_key, K1, 32);
		m->len = (uint16_t)n;
		memcpy(m->payload, body, n);
		fg_cp_nat_on_p2p(B.nat, m);
		free(m);
	}
	bench_settle();
	CU_ASSERT_EQUAL(stats()->malformed, 2 * nall + 1);
	CU_ASSERT_EQUAL(stats()->assigned_ips, 2 * nall + 1);
	CU_ASSERT_EQUAL(stats()->refused + stats()->resolved + stats()->active + stats()->inactive, 0);
	CU_ASSERT_EQUAL(bench_count(0), 0);   /* nothing sent */
	CU_ASSERT_EQUAL(B.queries, 0);
	/* and it still works */
	assign(K1, R_WILD, "app.example.com", P1, N(P1), 1);
	expect_status(bench_nth(FG_CTL_P2P_OUT, 0), K1, R_WILD, "app.example.com", true);
	bench_free();
}

/* ---- limits and freeing ------------------------------------------------------------------- */

static void p2p_direct(uint8_t k, const char *dom)
{
	_Alignas(max_align_t) uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX];
	struct fg_ctl_p2p *m = (void *)buf;
	int len;

	memset(m, 0, sizeof(*m));
	m->h.version = FG_CTL_VERSION;
	m->h.type = FG_CTL_P2P_IN;
	memset(m->public_key, k, 32);
	len = snprintf((char *)m->payload + FG_P2P_HEADER_LEN, FG_CTL_P2P_MAX - FG_P2P_HEADER_LEN,
		       AIPS("\"%s\"", "\"%s\"", OK_IPS), R_WILD, dom);
	m->len = (uint16_t)(FG_P2P_HEADER_LEN + len);
	fg_cp_nat_on_p2p(B.nat, m);
}

/* 1,000 lookups in flight, the next one dropped (busy, nothing sent: the client asks
 * again); freeing cancels them all without a DomainStatus. */
static void test_busy_and_free(void)
{
	bench_init(10000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	for (unsigned i = 0; i < FG_RESOLVE_MAX_INFLIGHT; i++)
		p2p_direct(K1, "slow.example.com");
	CU_ASSERT_EQUAL(stats()->busy, 0);
	p2p_direct(K1, "app.example.com");
	CU_ASSERT_EQUAL(stats()->busy, 1);
	bench_settle();
	CU_ASSERT_EQUAL(bench_count(0), 0);
	CU_ASSERT_EQUAL(bench_queries("app.example.com"), 0);
	fg_cp_nat_free(B.nat);
	B.nat = NULL;
	CU_ASSERT_EQUAL(B.nfds, 0);
	B.timer_at = 0;
	bench_settle();
	CU_ASSERT_EQUAL(bench_count(0), 0);   /* no DomainStatus */
	bench_free();
}

/* Freed while its NAT_SET is in flight: the answer comes later and nothing follows it (no
 * DomainStatus, and under ASan no use of the freed module). */
static void test_free_with_nat_set_in_flight(void)
{
	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_clear();
	B.hold_nat = true;
	bench_assigned(K1, R_WILD, "app.example.com", P1, N(P1));
	want_set = 1;
	CU_ASSERT_TRUE_FATAL(bench_run(got_set, RUN_MS));
	fg_cp_nat_free(B.nat);
	B.nat = NULL;
	B.timer_at = 0;
	bench_release_nat(0);
	bench_settle();
	CU_ASSERT_EQUAL(B.dpc.nreqs, 0);
	CU_ASSERT_EQUAL(bench_count(FG_CTL_P2P_OUT), 0);
	bench_free();
}

/* ---- fastgatectl's views ---------------------------------------------------------------- */

static struct fg_ctl_nat_info tuple(uint8_t k, const char *proxy, const char *real, uint8_t proto, uint8_t flags)
{
	struct fg_ctl_nat_info t;

	memset(&t, 0, sizeof(t));
	t.h.version = FG_CTL_VERSION;
	t.h.type = FG_CTL_NAT_INFO;
	memset(t.public_key, k, 32);
	t.proxy = *ip(proxy);
	t.real = *ip(real);
	t.proto = proto;
	t.flags = flags;
	t.inside_port = 40000;
	t.outside_port = 40001;
	t.worker = 1;
	t.created_unix_ns = 1800000000ull * 1000000000ull + 999999999ull;
	t.last_out_unix_ns = 1800000010ull * 1000000000ull;
	t.tx_packets = 3;
	t.tx_bytes = 180;
	t.rx_packets = 2;
	t.rx_bytes = 9000000000ull;
	return t;
}

static void test_views(void)
{
	struct fg_ctl_nat_info t[3];
	char *s;
	cJSON *v;

	bench_init(2000);
	bench_authorize(CL1, K1, R_WILD, "*.example.com", 0);
	bench_authorize(CL2, K2, R_OTHER, "*.example.com", 0);
	bench_clear();
	assign(K1, R_WILD, "app.example.com", P1, N(P1), 1);
	t[0] = tuple(K1, "100.96.0.3", "198.51.100.3", 6, 1 | 2);
	t[1] = tuple(K2, "100.96.0.1", "198.51.100.1", 58, 0);   /* no record at the control plane */
	t[2] = tuple(K_UNKNOWN, "100.96.0.1", "198.51.100.1", 132, 8);

	v = fg_cp_nat_view_json(B.nat, &B.st, t, N(t), 0, "");
	s = cJSON_PrintUnformatted(v);
	{
		char k1[FG_KEY_B64_LEN], k2[FG_KEY_B64_LEN], k3[FG_KEY_B64_LEN], want[4096];
		const char *tup = "\"inside_port\":40000,\"real\":\"%s\",\"outside_port\":40001,\"domain\":%s,"
				  "\"worker\":1,\"state\":[%s],\"created\":1800000000,\"last_out\":1800000010,"
				  "\"last_in\":null,\"tx_packets\":3,\"tx_bytes\":180,\"rx_packets\":2,"
				  "\"rx_bytes\":9000000000}";
		char t0[512], t1[512], t2[512], fmt[600];
		size_t o = 0;

		fg_key_to_base64(k1, key(K1));
		fg_key_to_base64(k2, key(K2));
		fg_key_to_base64(k3, key(K_UNKNOWN));
		snprintf(fmt, sizeof(fmt), "{\"proto\":\"%%s\",\"proxy\":\"%%s\",%s", tup);
		snprintf(t0, sizeof(t0), fmt, "tcp", "100.96.0.3", "198.51.100.3", "\"app.example.com\"",
			 "\"reply\",\"fin_out\"");
		snprintf(t1, sizeof(t1), fmt, "icmpv6", "100.96.0.1", "198.51.100.1", "null", "");
		snprintf(t2, sizeof(t2), fmt, "132", "100.96.0.1", "198.51.100.1", "null", "\"rst\"");
		o += (size_t)snprintf(want + o, sizeof(want) - o, "{\"clients\":[{\"client_id\":\"%s\",\"public_key\":\"%s\","
				      "\"domains\":[{\"resource_id\":\"%s\",\"domain\":\"app.example.com\",\"proxy_ips\":[",
				      CL1, k1, R_WILD);
		for (size_t i = 0; i < N(APP_P1); i++)
			o += (size_t)snprintf(want + o, sizeof(want) - o, "%s{\"proxy_ip\":\"%s\",\"real_ip\":\"%s\"}",
					      i ? "," : "", APP_P1[i][0], APP_P1[i][1]);
		o += (size_t)snprintf(want + o, sizeof(want) - o, "]}],\"tuples\":[%s]},"
				      "{\"client_id\":\"%s\",\"public_key\":\"%s\",\"domains\":[],\"tuples\":[%s]},"
				      "{\"client_id\":null,\"public_key\":\"%s\",\"domains\":[],\"tuples\":[%s]}],"
				      "\"tuples_available\":true}",
				      t0, CL2, k2, t1, k3, t2);
		CU_ASSERT_STRING_EQUAL(s, want);
	}
	free(s);
	cJSON_Delete(v);

	/* a data plane without NAT_DUMP, and a cut list */
	v = fg_cp_nat_view_json(B.nat, &B.st, NULL, 0, -EPROTO, "not a request");
	CU_ASSERT_FALSE(cJSON_IsTrue(cJSON_GetObjectItem(v, "tuples_available")));
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(v, "tuples_error")->valuestring,
			       "the data plane does not answer NAT_DUMP (not a request)");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "clients"), 0), "tuples"));
	cJSON_Delete(v);
	v = fg_cp_nat_view_json(B.nat, &B.st, NULL, 0, -ENOTCONN, NULL);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(v, "tuples_error")->valuestring, "the data plane is not connected");
	cJSON_Delete(v);
	v = fg_cp_nat_view_json(B.nat, &B.st, t, 1, 0, "cut at 65536 tuples");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(v, "tuples_cut")->valuestring, "cut at 65536 tuples");
	cJSON_Delete(v);

	v = fg_cp_nat_stats_json(B.nat);
	s = cJSON_PrintUnformatted(v);
	CU_ASSERT_STRING_EQUAL(s, "{\"assigned_ips\":1,\"malformed\":0,\"refused\":0,\"resolved\":1,\"timeouts\":0,"
				  "\"busy\":0,\"resets\":0,\"active\":1,\"inactive\":0}");
	free(s);
	cJSON_Delete(v);
	bench_free();
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "authorized wildcard domain: NAT_SET sorted, round-robin, ranked; then Active", test_wildcard_active },
		{ "duplicate proxy IPs collapse", test_duplicate_proxies },
		{ "domain not matching the pattern: Inactive at once", test_no_match },
		{ "resource not the client's: Inactive at once", test_not_clients_resource },
		{ "expired DNS resource: Inactive at once", test_expired_resource },
		{ "CIDR resource id: Inactive at once", test_cidr_resource },
		{ "unknown client: Inactive at once", test_unknown_client },
		{ "resolver never answers: Inactive after the timeout", test_timeout },
		{ "NXDOMAIN and A only: Active, no real IP of that family", test_failed_lookup },
		{ "renumbering: NAT_SET with RESET, older records gone", test_renumbering },
		{ "data plane refuses NAT_SET: Inactive, not kept", test_dp_refuses },
		{ "client gone while resolving: Inactive, not kept", test_client_gone_while_resolving },
		{ "resync after a data plane restart", test_resync },
		{ "resource expiry, Goodbye and peer expiry drop records", test_peer_events },
		{ "hostile AssignedIps: malformed, nothing sent", test_hostile },
		{ "1000 lookups in flight, then busy; free cancels silently", test_busy_and_free },
		{ "freed with a NAT_SET in flight", test_free_with_nat_set_in_flight },
		{ "fastgatectl views: nat with tuples, stats", test_views },
	};

	if (sodium_init() < 0)
		return 1;
	return fg_cunit_run("nat", tests, N(tests));
}
