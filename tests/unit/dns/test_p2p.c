// SPDX-License-Identifier: MIT
/*
 * Firezone's p2p control bodies (controlplane/dns/p2p.c): the header split, AssignedIps
 * as the Rust client writes it (4 and 8 proxy IPs, the longest domain), a table of hostile
 * bodies each refused with a reason, DomainStatus built byte for byte as serde writes it,
 * and seeded mutations of a good body that never crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "p2p.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char good8[] =
	"{\"resource\":\"00000000-0000-0000-0000-000000000065\",\"domain\":\"app.corp.example\","
	"\"proxy_ips\":[\"100.96.0.1\",\"100.96.0.2\",\"100.96.0.3\",\"100.96.0.4\","
	"\"fd00:2021:1111:8000::\",\"fd00:2021:1111:8000::1\",\"fd00:2021:1111:8000::2\",\"fd00:2021:1111:8000::3\"]}";

static int parse(const char *json, struct fg_p2p_assigned_ips *m, char *err, size_t errlen)
{
	return fg_p2p_assigned_ips_parse((const uint8_t *)json, strlen(json), m, err, errlen);
}

static void test_split(void)
{
	uint8_t body[20] = { 0, 9, 9, 9, 9, 9, 9, 9, '{', '}' };
	const uint8_t *json;
	size_t n;
	uint8_t ev;

	CU_ASSERT_EQUAL(fg_p2p_split(body, 10, &ev, &json, &n), 0);
	CU_ASSERT_EQUAL(ev, FG_P2P_ASSIGNED_IPS);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_PTR_EQUAL(json, body + 8);
	CU_ASSERT_EQUAL(fg_p2p_split(body, 8, &ev, &json, &n), 0);   /* Goodbye: no body */
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(fg_p2p_split(body, 7, &ev, &json, &n), -EBADMSG);
	CU_ASSERT_EQUAL(fg_p2p_split(NULL, 0, &ev, &json, &n), -EBADMSG);
}

static void test_assigned_ips(void)
{
	struct fg_p2p_assigned_ips m;
	char err[128], json[600], name[300];

	CU_ASSERT_EQUAL_FATAL(parse(good8, &m, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(m.resource, "00000000-0000-0000-0000-000000000065");
	CU_ASSERT_STRING_EQUAL(m.domain, "app.corp.example");
	CU_ASSERT_EQUAL(m.n_proxy_ips, 8);
	CU_ASSERT_EQUAL(m.proxy_ips[0].family, 2);
	CU_ASSERT_EQUAL(m.proxy_ips[7].family, 10);
	/* four proxy IPs, a trailing dot, unknown fields, keys in another order */
	CU_ASSERT_EQUAL(parse("{\"x\":1,\"proxy_ips\":[\"100.96.0.1\",\"100.96.0.2\",\"100.96.0.3\",\"100.96.0.4\"],"
			      "\"domain\":\"a.b.\",\"resource\":\"r1\"}", &m, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(m.domain, "a.b");
	CU_ASSERT_EQUAL(m.n_proxy_ips, 4);
	/* the longest name: 253 characters in labels of 63 */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	snprintf(json, sizeof(json), "{\"resource\":\"r\",\"domain\":\"%s\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.5\",\"1.2.3.6\",\"1.2.3.7\"]}",
		 name);
	CU_ASSERT_EQUAL(parse(json, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(strlen(m.domain), 253);
}

static void test_hostile(void)
{
	static const char *const bad[] = {
		"", "{", "[]", "null", "1", "\"x\"", "{}",
		"{\"resource\":1,\"domain\":\"a\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"\",\"domain\":\"a\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"a b\",\"domain\":\"a\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\"\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\".\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\"a..b\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\"a\\u0000b\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\"a\\nb\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":[],\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\"a\",\"proxy_ips\":[]}",
		"{\"resource\":\"r\",\"domain\":\"a\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\"a\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}",
		"{\"resource\":\"r\",\"domain\":\"a\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"x\"]}",
		"{\"resource\":\"r\",\"domain\":\"a\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",4]}",
		"{\"resource\":\"r\",\"domain\":\"a\",\"proxy_ips\":\"1.2.3.4\"}",
		"{\"resource\":\"r\",\"domain\":\"a\"}",
	};
	struct fg_p2p_assigned_ips m;
	char err[128], big[2000], label[80];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(parse(bad[i], &m, err, sizeof(err)), -EBADMSG);
		CU_ASSERT_TRUE(strncmp(err, "AssignedIps: ", 13) == 0);
		CU_ASSERT_EQUAL(m.n_proxy_ips, 0);
	}
	/* a label of 64, a name of 254, a body over a packet */
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(big, sizeof(big), "{\"resource\":\"r\",\"domain\":\"%s.x\",\"proxy_ips\":[\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\",\"1.2.3.4\"]}", label);
	CU_ASSERT_EQUAL(parse(big, &m, err, sizeof(err)), -EBADMSG);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	CU_ASSERT_EQUAL(parse(big, &m, err, sizeof(err)), -EBADMSG);
	CU_ASSERT_EQUAL(fg_p2p_assigned_ips_parse(NULL, 0, &m, NULL, 0), -EBADMSG);
}

static void test_domain_status(void)
{
	uint8_t buf[400];
	static const char want[] = "{\"resource\":\"r-1\",\"domain\":\"app.corp.example\",\"status\":\"Active\"}";
	int n = fg_p2p_domain_status_build("r-1", "app.corp.example.", true, buf, sizeof(buf));

	CU_ASSERT_EQUAL_FATAL(n, (int)(8 + strlen(want)));
	CU_ASSERT_EQUAL(buf[0], FG_P2P_DOMAIN_STATUS);
	for (int i = 1; i < 8; i++)
		CU_ASSERT_EQUAL(buf[i], 0);
	CU_ASSERT_EQUAL(memcmp(buf + 8, want, strlen(want)), 0);
	n = fg_p2p_domain_status_build("r-1", "x", false, buf, sizeof(buf));
	CU_ASSERT_TRUE(n > 0 && memmem(buf, (size_t)n, "\"Inactive\"", 10) != NULL);
	CU_ASSERT_EQUAL(fg_p2p_domain_status_build("r-1", "x", true, buf, 20), -ENOSPC);
	CU_ASSERT_EQUAL(fg_p2p_domain_status_build("", "x", true, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(fg_p2p_domain_status_build("r", "a..b", true, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(fg_p2p_domain_status_build("r\"", "a", true, buf, sizeof(buf)) > 0, true);
	CU_ASSERT_TRUE(memmem(buf, sizeof(buf), "r\\\"", 3) != NULL);   /* escaped */
	CU_ASSERT_EQUAL(fg_p2p_domain_status_build(NULL, "a", true, buf, sizeof(buf)), -EINVAL);
}

static void test_mutations(void)
{
	struct fg_p2p_assigned_ips m;
	uint8_t b[sizeof(good8) + 16];
	unsigned seed = 3, ok = 0;

	for (int k = 0; k < 20000; k++) {
		size_t n = sizeof(good8) - 1;

		memcpy(b, good8, n);
		for (int f = 0; f < 1 + (int)(rand_r(&seed) % 4); f++)
			b[rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 4 == 0)
			n = (size_t)rand_r(&seed) % n;
		if (fg_p2p_assigned_ips_parse(b, n, &m, NULL, 0) == 0) {
			ok++;
			CU_ASSERT_TRUE(m.n_proxy_ips == 4 || m.n_proxy_ips == 8);
			CU_ASSERT_TRUE(strlen(m.domain) >= 1 && strlen(m.domain) <= 253);
		}
	}
	CU_ASSERT_TRUE(ok > 0);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "the 8-byte header", test_split },
		{ "AssignedIps as the client writes it", test_assigned_ips },
		{ "hostile AssignedIps bodies refused with a reason", test_hostile },
		{ "DomainStatus as serde writes it", test_domain_status },
		{ "20,000 mutations of a good body", test_mutations },
	};

	return fg_cunit_run("dns_p2p", tests, ARRAY_LEN(tests));
}
