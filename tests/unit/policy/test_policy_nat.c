// SPDX-License-Identifier: MIT
/*
 * The proxy IPs of DNS resources in a client's policy (policy.h, fg_policy_build_nat):
 * classified as host routes with their DNS resources' filters, ranked by pattern
 * specificity before the resource id, never covered by an Internet resource, checked
 * before the tunnel-range rule both ways, NET_UNREACHABLE without an address of their
 * family, and the build's refusals (duplicate proxy IP, a resource that is not DNS).
 */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "pkts.h"

#define C4 "100.64.0.2"
#define C6 "fd00:2021:1111::2"
#define GW4 "100.64.0.1"
#define GW6 "fd00:2021:1111::1"

enum { TCP = 6, UDP = 17 };

struct nat_fixture {
	struct fg_policy_resource res[4];
	uint32_t idx[4][2], rank[4][2];
	struct fg_policy_xlat x[4];
	struct fg_policy *p;
};

/* Resources: dns-wide (*.corp.test, tcp:80 and icmp), dns-app (app.corp.test, tcp:443,
 * more specific), inet (Internet), cidr 198.18.9.0/24. Proxy IPs: 100.90.0.1 (both DNS
 * resources, real 198.18.5.1), 100.90.0.2 (dns-wide, no IPv4 address), fd00:2021:1111::5:1
 * (dns-wide, real 2001:db8::5). */
static void fixture(struct nat_fixture *f)
{
	static const char *const wide[] = { "tcp:80", "icmp", NULL };
	static const char *const app[] = { "tcp:443", NULL };
	struct fg_ip c4 = tp_ip(C4), c6 = tp_ip(C6), g4 = tp_ip(GW4), g6 = tp_ip(GW6);

	memset(f, 0, sizeof(*f));
	tp_resource(&f->res[0], "dns-wide", "10.0.0.0/8", 0, wide);
	f->res[0].type = FG_CTL_RES_DNS;
	f->res[0].prefix = (struct fg_prefix){ 0 };
	tp_resource(&f->res[1], "dns-app", "10.0.0.0/8", 0, app);
	f->res[1].type = FG_CTL_RES_DNS;
	f->res[1].prefix = (struct fg_prefix){ 0 };
	tp_resource(&f->res[2], "inet", "internet", 0, NULL);
	tp_resource(&f->res[3], "cidr", "198.18.9.0/24", 0, NULL);
	f->idx[0][0] = 0, f->rank[0][0] = 1;
	f->idx[0][1] = 1, f->rank[0][1] = 2;
	f->x[0] = (struct fg_policy_xlat){ tp_ip("100.90.0.1"), tp_ip("198.18.5.1"), 2, f->idx[0], f->rank[0] };
	f->idx[1][0] = 0, f->rank[1][0] = 1;
	f->x[1] = (struct fg_policy_xlat){ tp_ip("100.90.0.2"), { 0 }, 1, f->idx[1], f->rank[1] };
	f->idx[2][0] = 0, f->rank[2][0] = 1;
	f->x[2] = (struct fg_policy_xlat){ tp_ip("fd00:2021:1111::5:1"), tp_ip("2001:db8::5"), 1, f->idx[2],
					   f->rank[2] };
	f->p = fg_policy_build_nat(f->res, 4, f->x, 3, &c4, &c6, &g4, &g6);
}

static enum fg_policy_verdict out(const struct fg_policy *p, const struct tp_spec *s, enum fg_drop *why,
				  const char **rid)
{
	uint8_t b[TP_MAX];
	uint32_t n = tp_build(b, s);

	return fg_policy_outbound(p, b, n, 0, why, rid);
}

static enum fg_policy_verdict in(const struct fg_policy *p, const struct tp_spec *s, enum fg_drop *why)
{
	uint8_t b[TP_MAX];
	uint32_t n = tp_build(b, s);

	return fg_policy_inbound(p, b, n, 0, why);
}

static void test_nat_classify(void)
{
	struct nat_fixture f;
	enum fg_drop why;
	const char *rid = NULL;

	fixture(&f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.p);
	CU_ASSERT(fg_policy_has_nat(f.p));
	CU_ASSERT_EQUAL(fg_policy_nat_count(f.p), 3);
	/* The more specific pattern wins when both filters permit... */
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.1", .proto = TCP, .dport = 443 }, &why, &rid),
			FG_POLICY_ALLOW);
	CU_ASSERT(rid && strcmp(rid, "dns-app") == 0);
	/* ...and a permitting filter beats specificity. */
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.1", .proto = TCP, .dport = 80 }, &why, &rid),
			FG_POLICY_ALLOW);
	CU_ASSERT(rid && strcmp(rid, "dns-wide") == 0);
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.1", .proto = TP_ICMP, .icmp_type = 8 },
			    &why, &rid), FG_POLICY_ALLOW);
	/* No filter permits: prohibited, though an Internet resource is authorized. */
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.1", .proto = UDP, .dport = 53 }, &why, &rid),
			FG_POLICY_PROHIBITED);
	CU_ASSERT_EQUAL(why, FG_DROP_POLICY_PROHIBITED);
	/* A proxy IP without an IPv4 address: unreachable (no NAT64). */
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.2", .proto = TCP, .dport = 80 }, &why, &rid),
			FG_POLICY_NET_UNREACHABLE);
	CU_ASSERT_EQUAL(why, FG_DROP_POLICY_NET_UNREACHABLE);
	/* Another address in the tunnel ranges is still a hairpin. */
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.3", .proto = TCP, .dport = 80 }, &why, &rid),
			FG_POLICY_PROHIBITED);
	CU_ASSERT_EQUAL(why, FG_DROP_POLICY_HAIRPIN);
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C6, .dst = "fd00:2021:1111::5:1", .proto = TCP, .dport = 80 },
			    &why, &rid), FG_POLICY_ALLOW);
	/* CIDR and Internet traffic are unchanged. */
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "198.18.9.9", .proto = UDP, .dport = 1 }, &why, &rid),
			FG_POLICY_ALLOW);
	CU_ASSERT(rid && strcmp(rid, "cidr") == 0);
	/* Inbound: the translated reply (source: the proxy IP) passes on its source port. */
	CU_ASSERT_EQUAL(in(f.p, &(struct tp_spec){ .src = "100.90.0.1", .dst = C4, .proto = TCP, .sport = 443 }, &why),
			FG_POLICY_ALLOW);
	CU_ASSERT_EQUAL(in(f.p, &(struct tp_spec){ .src = "100.90.0.1", .dst = C4, .proto = UDP, .sport = 53 }, &why),
			FG_POLICY_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_POLICY_INBOUND);
	CU_ASSERT_EQUAL(in(f.p, &(struct tp_spec){ .src = "100.90.0.1", .dst = C4, .proto = TP_ICMP, .icmp_type = 3 },
			   &why), FG_POLICY_ALLOW);
	CU_ASSERT_EQUAL(in(f.p, &(struct tp_spec){ .src = "100.90.0.3", .dst = C4, .proto = TCP, .sport = 443 }, &why),
			FG_POLICY_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_POLICY_HAIRPIN);
	fg_policy_free(f.p);
}

static void test_nat_lookup(void)
{
	struct nat_fixture f;
	struct fg_ip a;
	const struct fg_policy_nat *x;

	fixture(&f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.p);
	a = tp_ip("100.90.0.1");
	x = fg_policy_nat_lookup(f.p, &a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT(fg_ip_equal(&x->real, &(struct fg_ip){ 0 }) == false);
	a = tp_ip("198.18.5.1");
	CU_ASSERT(fg_ip_equal(&x->real, &a));
	a = tp_ip("100.90.0.2");
	x = fg_policy_nat_lookup(f.p, &a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(x->real.family, 0);
	a = tp_ip("fd00:2021:1111::5:1");
	x = fg_policy_nat_lookup(f.p, &a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(x->real.family, AF_INET6);
	CU_ASSERT_PTR_EQUAL(fg_policy_nat_at(f.p, x->index), x);
	a = tp_ip("100.90.0.9");
	CU_ASSERT_PTR_NULL(fg_policy_nat_lookup(f.p, &a));
	a = tp_ip("fd00:2021:1111::5:2");
	CU_ASSERT_PTR_NULL(fg_policy_nat_lookup(f.p, &a));
	CU_ASSERT_PTR_NULL(fg_policy_nat_at(f.p, 3));
	fg_policy_free(f.p);
}

static void test_nat_build_errors(void)
{
	struct nat_fixture f;
	struct fg_ip c4 = tp_ip(C4);

	fixture(&f);
	fg_policy_free(f.p);
	/* A duplicate proxy IP. */
	f.x[1].proxy = f.x[0].proxy;
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_policy_build_nat(f.res, 4, f.x, 3, &c4, NULL, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	fixture(&f);
	fg_policy_free(f.p);
	/* A proxy IP naming a CIDR resource, or one out of range. */
	f.idx[1][0] = 3;
	CU_ASSERT_PTR_NULL(fg_policy_build_nat(f.res, 4, f.x, 3, &c4, NULL, NULL, NULL));
	f.idx[1][0] = 4;
	CU_ASSERT_PTR_NULL(fg_policy_build_nat(f.res, 4, f.x, 3, &c4, NULL, NULL, NULL));
	f.idx[1][0] = 0;
	f.x[1].proxy.family = 0;
	CU_ASSERT_PTR_NULL(fg_policy_build_nat(f.res, 4, f.x, 3, &c4, NULL, NULL, NULL));
	f.x[1].proxy = tp_ip("100.90.0.2");
	CU_ASSERT_PTR_NULL(fg_policy_build_nat(f.res, 4, NULL, 3, &c4, NULL, NULL, NULL));
	/* A real IP of the other family is taken as none: unreachable. */
	f.x[1].real = tp_ip("2001:db8::7");
	f.p = fg_policy_build_nat(f.res, 4, f.x, 3, &c4, NULL, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.p);
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.2", .proto = TCP, .dport = 80 }, NULL, NULL),
			FG_POLICY_NET_UNREACHABLE);
	fg_policy_free(f.p);
	/* Without proxy IPs, a DNS resource authorizes nothing by itself. */
	f.p = fg_policy_build(f.res, 4, &c4, NULL, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.p);
	CU_ASSERT(!fg_policy_has_nat(f.p));
	CU_ASSERT_EQUAL(out(f.p, &(struct tp_spec){ .src = C4, .dst = "100.90.0.1", .proto = TCP, .dport = 80 }, NULL, NULL),
			FG_POLICY_PROHIBITED);
	fg_policy_free(f.p);
}

static const struct fg_cunit_test nat_tests[] = {
	{ "proxy IPs classified", test_nat_classify },
	{ "proxy IP lookup", test_nat_lookup },
	{ "proxy IP build errors", test_nat_build_errors },
};

const struct fg_cunit_suite policy_nat_suite = {
	"policy_nat", NULL, NULL, nat_tests, sizeof(nat_tests) / sizeof(nat_tests[0]),
};
