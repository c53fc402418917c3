// SPDX-License-Identifier: MIT
/*
 * CUnit suite for a flow record's forms (controlplane/flow/flow_record.c) and the ingest
 * token's claims (flow_token.c): the times as chrono prints them, the record checks, the
 * ingest report and the outers field byte for byte, the flow_logs line in both log formats
 * with Rust's message and field names (the JSON one also parsed back: numbers stay
 * numbers), and a hostile table of tokens. Single-threaded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <cjson/cJSON.h>

#include "../cunit_run.h"
#include "flow_fixture.h"
#include "flow_record.h"
#include "flow_token.h"
#include "log.h"

static const struct fg_flow_local local = {
	.ip4 = { AF_INET, { 198, 18, 0, 1 } },
	.port = 51820,
};

static void test_time(void)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} t[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1700000000000000000ull, "2023-11-14T22:13:20Z" },
		{ 1700000000500000000ull, "2023-11-14T22:13:20.500Z" },
		{ 1700000000001000000ull, "2023-11-14T22:13:20.001Z" },
		{ 1700000000123456000ull, "2023-11-14T22:13:20.123456Z" },
		{ 1700000000000001000ull, "2023-11-14T22:13:20.000001Z" },
		{ 1700000000000000500ull, "2023-11-14T22:13:20.000000500Z" },
		{ 1700000000123456789ull, "2023-11-14T22:13:20.123456789Z" },
		{ 18446744073709551615ull, "2554-07-21T23:34:33.709551615Z" },
	};
	char buf[FG_FLOW_TIME_LEN];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CU_ASSERT_STRING_EQUAL(fg_flow_time(t[i].ns, buf, sizeof(buf)), t[i].want);
}

static void test_check(void)
{
	struct fg_ctl_flow m;

	fx_flow(&m, FG_CTL_FLOW_STARTED);
	CU_ASSERT_EQUAL(fg_flow_check(&m), 0);
	m.proto = 17;
	CU_ASSERT_EQUAL(fg_flow_check(&m), 0);
	CU_ASSERT_STRING_EQUAL(fg_flow_message(&m), "UDP flow started");
	m.proto = 1;
	CU_ASSERT_EQUAL(fg_flow_check(&m), -ENOTSUP);       /* ICMP: Rust logs none */
	m.proto = 58;
	CU_ASSERT_EQUAL(fg_flow_check(&m), -ENOTSUP);
	m.proto = 47;
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
	fx_flow(&m, 0);
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
	fx_flow(&m, 3);
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	m.n_outers = FG_CTL_FLOW_MAX_OUTERS + 1;
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	memset(m.resource_id, 'a', sizeof(m.resource_id));
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	m.src.family = 0;
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	m.real.family = AF_INET6;
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	m.outers[0].ip.family = 7;
	CU_ASSERT_EQUAL(fg_flow_check(&m), -EINVAL);
}

static const char completed_payload[] =
	"{\"protocol\":\"tcp\",\"inner_src_ip\":\"100.64.0.2\",\"inner_src_port\":40000,"
	"\"inner_dst_ip\":\"10.0.0.5\",\"inner_dst_port\":443,"
	"\"outers\":[{\"src_ip\":\"198.18.1.2\",\"src_port\":51820,\"dst_ip\":\"198.18.0.1\",\"dst_port\":51820,"
	"\"path_activated_at\":\"2023-11-14T22:13:20.500Z\"}],"
	"\"flow_start\":\"2023-11-14T22:13:20.500Z\",\"flow_end\":\"2023-11-14T22:14:20Z\","
	"\"last_packet\":\"2023-11-14T22:14:20Z\",\"rx_packets\":10,\"tx_packets\":12,\"rx_bytes\":1024,"
	"\"tx_bytes\":2048}";

static void test_payload(void)
{
	struct fg_ctl_flow m;
	struct fg_flow_ctx c = { .local = &local };
	char buf[FG_FLOW_PAYLOAD_MAX];
	int n;

	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	n = fg_flow_payload(&m, &c, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, (int)strlen(completed_payload));
	CU_ASSERT_STRING_EQUAL(buf, completed_payload);
	/* Started: no closing half. */
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	n = fg_flow_payload(&m, &c, buf, sizeof(buf));
	CU_ASSERT_TRUE(n > 0);
	CU_ASSERT_PTR_NULL(strstr(buf, "flow_end"));
	CU_ASSERT_PTR_NULL(strstr(buf, "rx_packets"));
	/* A DNS resource: the real address is the destination, the domain rides along. */
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	m.real.family = AF_INET;
	inet_pton(AF_INET, "203.0.113.9", m.real.addr);
	c.domain = "git.example.com";
	n = fg_flow_payload(&m, &c, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"inner_dst_ip\":\"203.0.113.9\",\"inner_dst_port\":443,"
					   "\"domain\":\"git.example.com\",\"outers\":"));
	/* Too small a buffer: -ENOSPC, never a cut object. */
	CU_ASSERT_EQUAL(fg_flow_payload(&m, &c, buf, 40), -ENOSPC);
}

static void test_outers(void)
{
	struct fg_ctl_flow m;
	char buf[FG_FLOW_OUTERS_LEN];

	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	m.n_outers = 2;
	m.outers[1].ip.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", m.outers[1].ip.addr);
	m.outers[1].port = 3478;
	m.channels[1] = 0x4000;
	CU_ASSERT_TRUE(fg_flow_outers(&m, &local, buf, sizeof(buf)) > 0);
	/* The gateway has no IPv6 uplink here: "::" as its end. */
	CU_ASSERT_STRING_EQUAL(buf,
		"[{\"src_ip\":\"198.18.1.2\",\"src_port\":51820,\"dst_ip\":\"198.18.0.1\",\"dst_port\":51820,"
		"\"path_activated_at\":\"2023-11-14T22:13:20.500Z\"},"
		"{\"src_ip\":\"2001:db8::7\",\"src_port\":3478,\"dst_ip\":\"::\",\"dst_port\":51820,"
		"\"path_activated_at\":\"2023-11-14T22:13:20.500Z\"}]");
	m.n_outers = 0;
	CU_ASSERT_EQUAL(fg_flow_outers(&m, &local, buf, sizeof(buf)), 2);
	CU_ASSERT_STRING_EQUAL(buf, "[]");
}

/* The line after its timestamp. */
static const char *after_stamp(const char *line, const char *from)
{
	const char *p = strstr(line, from);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

static const char human_completed[] =
	" INFO flow_logs: TCP flow completed protocol=\"tcp\" role=\"responder\""
	" initiator_device_id=\"d263d490-a0bb-452a-8990-01d27a1f1144\""
	" responder_device_id=\"7c1f9b3e-2a84-4d61-9f05-3e8a2c6b4d71\""
	" policy_authorization_id=\"" FX_AUTHZ_A "\" policy_id=\"44f19c37-cf62-4b19-b158-6f86bdcd2b57\""
	" resource_id=\"733e8d14-c18d-4931-af30-3639fa09c0c0\" resource_name=\"GitLab\""
	" resource_address=\"gitlab.mycorp.com\" initiator_actor_id=\"24eb631e-c529-4182-a746-d99ee66f7426\""
	" initiator_actor_email=\"jane@mycorp.com\" initiator_actor_name=\"Jane Doe\""
	" authorized_at=\"2026-07-06T12:00:00.000000Z\" authorization_expires_at=\"2026-07-07T12:00:00.000000Z\""
	" inner_src_ip=100.64.0.2 inner_src_port=40000 inner_dst_ip=10.0.0.5 inner_dst_port=443"
	" outers=[{\"src_ip\":\"198.18.1.2\",\"src_port\":51820,\"dst_ip\":\"198.18.0.1\",\"dst_port\":51820,"
	"\"path_activated_at\":\"2023-11-14T22:13:20.500Z\"}]"
	" flow_start=2023-11-14T22:13:20.500Z flow_end=2023-11-14T22:14:20Z last_packet=2023-11-14T22:14:20Z"
	" rx_packets=10 tx_packets=12 rx_bytes=1024 tx_bytes=2048\n";

static const char json_completed[] =
	"\"level\":\"INFO\",\"message\":\"TCP flow completed\",\"protocol\":\"tcp\",\"role\":\"responder\","
	"\"initiator_device_id\":\"d263d490-a0bb-452a-8990-01d27a1f1144\","
	"\"responder_device_id\":\"7c1f9b3e-2a84-4d61-9f05-3e8a2c6b4d71\","
	"\"policy_authorization_id\":\"" FX_AUTHZ_A "\",\"policy_id\":\"44f19c37-cf62-4b19-b158-6f86bdcd2b57\","
	"\"resource_id\":\"733e8d14-c18d-4931-af30-3639fa09c0c0\",\"resource_name\":\"GitLab\","
	"\"resource_address\":\"gitlab.mycorp.com\",\"initiator_actor_id\":\"24eb631e-c529-4182-a746-d99ee66f7426\","
	"\"initiator_actor_email\":\"jane@mycorp.com\",\"initiator_actor_name\":\"Jane Doe\","
	"\"authorized_at\":\"2026-07-06T12:00:00.000000Z\",\"authorization_expires_at\":\"2026-07-07T12:00:00.000000Z\","
	"\"inner_src_ip\":\"100.64.0.2\",\"inner_src_port\":40000,\"inner_dst_ip\":\"10.0.0.5\",\"inner_dst_port\":443,"
	"\"outers\":\"[{\\\"src_ip\\\":\\\"198.18.1.2\\\",\\\"src_port\\\":51820,\\\"dst_ip\\\":\\\"198.18.0.1\\\","
	"\\\"dst_port\\\":51820,\\\"path_activated_at\\\":\\\"2023-11-14T22:13:20.500Z\\\"}]\","
	"\"flow_start\":\"2023-11-14T22:13:20.500Z\",\"flow_end\":\"2023-11-14T22:14:20Z\","
	"\"last_packet\":\"2023-11-14T22:14:20Z\",\"rx_packets\":10,\"tx_packets\":12,\"rx_bytes\":1024,"
	"\"tx_bytes\":2048,\"target\":\"flow_logs\"}\n";

static void test_log_lines(void)
{
	struct fg_flow_claims claims;
	char *tok = fx_token(FX_AUTHZ_A, true, 1785434400);
	struct fg_ctl_flow m;
	struct fg_flow_ctx c = { .local = &local };
	const cJSON *it;
	cJSON *j;

	CU_ASSERT_EQUAL_FATAL(fg_flow_token_parse(tok, &claims, NULL, 0), 0);
	c.claims = &claims;
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	fx_log_capture();
	fg_log_set_level(FG_LOG_INFO);
	fg_log_set_format(FG_LOG_HUMAN);
	fg_flow_log(&m, &c);
	CU_ASSERT_STRING_EQUAL(after_stamp(fx_log_take(), " INFO"), human_completed);

	fg_log_set_format(FG_LOG_JSON);
	fg_flow_log(&m, &c);
	const char *line = fx_log_take();

	CU_ASSERT_STRING_EQUAL(after_stamp(line, "\"level\""), json_completed);
	j = cJSON_Parse(line);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "target")->valuestring, "flow_logs");
	it = cJSON_GetObjectItem(j, "inner_dst_port");
	CU_ASSERT_TRUE(cJSON_IsNumber(it) && it->valuedouble == 443);
	it = cJSON_GetObjectItem(j, "outers");
	CU_ASSERT_TRUE(cJSON_IsString(it) && it->valuestring[0] == '[');
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "initiator_client_version"));   /* null: left out */
	cJSON_Delete(j);

	/* Without a usable token: what the gateway knows itself, the rest left out. */
	c.claims = NULL;
	c.client_id = "client-1";
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	m.proto = 17;
	fg_flow_log(&m, &c);
	line = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"message\":\"UDP flow started\",\"protocol\":\"udp\","
					   "\"role\":\"responder\",\"initiator_device_id\":\"client-1\","
					   "\"resource_id\":\"res-1\",\"inner_src_ip\""));
	CU_ASSERT_PTR_NULL(strstr(line, "flow_end"));
	CU_ASSERT_PTR_NULL(strstr(line, "policy_id"));
	/* Never the token. */
	CU_ASSERT_PTR_NULL(strstr(line, "signature"));
	fg_log_set_format(FG_LOG_HUMAN);
	fg_flow_log(&m, &c);
	line = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(line, " INFO flow_logs: UDP flow started protocol=\"udp\" role=\"responder\" "
					   "initiator_device_id=\"client-1\" resource_id=\"res-1\" inner_src_ip="));
	fx_log_release();
	fg_flow_claims_free(&claims);
	free(tok);
}

/* A field value a hostile portal controls stays one field of one line. */
static void test_log_escaping(void)
{
	static const char claims_json[] =
		"{\"account_id\":\"a\",\"iat\":1,\"exp\":2,\"uploads_enabled\":false,\"role\":\"responder\","
		"\"initiator_device_id\":\"x\\\"y\\nz\",\"responder_device_id\":\"r\",\"policy_authorization_id\":\""
		FX_AUTHZ_A "\",\"policy_id\":\"p\",\"resource_id\":\"q\",\"resource_name\":\"\\u001b[31mred\","
		"\"initiator_actor_id\":\"i\",\"initiator_actor_name\":\"n\",\"authorized_at\":\"t\","
		"\"authorization_expires_at\":\"u\"}";
	char *tok = fx_token_raw("{\"alg\":\"HS256\"}", claims_json, "s");
	struct fg_flow_claims claims;
	struct fg_ctl_flow m;
	struct fg_flow_ctx c = { .local = &local, .claims = &claims };
	const char *line;

	CU_ASSERT_EQUAL_FATAL(fg_flow_token_parse(tok, &claims, NULL, 0), 0);
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	fx_log_capture();
	fg_log_set_format(FG_LOG_HUMAN);
	fg_flow_log(&m, &c);
	line = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(line, " initiator_device_id=\"x\\\"y\\nz\" "));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, " resource_name=\"\\x1b[31mred\" "));
	CU_ASSERT_PTR_EQUAL(strchr(line, '\n'), line + strlen(line) - 1);
	fg_log_set_format(FG_LOG_JSON);
	fg_flow_log(&m, &c);
	line = fx_log_take();
	cJSON *j = cJSON_Parse(line);

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "initiator_device_id")->valuestring, "x\"y\nz");
	cJSON_Delete(j);
	fg_log_set_format(FG_LOG_HUMAN);
	fx_log_release();
	fg_flow_claims_free(&claims);
	free(tok);
}

/* common/log.c's fields: a value that does not fit leaves its field out whole; the line
 * stays one line of valid JSON with its target, and the fields after it still come. */
static void test_log_fields_bounds(void)
{
	char *big = malloc(FG_LOG_FIELDS_LINE_MAX + 1);
	struct fg_log_field f[3];
	const char *line;
	cJSON *j;

	memset(big, 'x', FG_LOG_FIELDS_LINE_MAX);
	big[FG_LOG_FIELDS_LINE_MAX] = '\0';
	f[0] = (struct fg_log_field){ "a", FG_LOG_STR, "1", 0 };
	f[1] = (struct fg_log_field){ "big", FG_LOG_TEXT, big, 0 };
	f[2] = (struct fg_log_field){ "n", FG_LOG_U64, NULL, 18446744073709551615ull };
	fx_log_capture();
	fg_log_set_format(FG_LOG_JSON);
	fg_log_fields(FG_LOG_INFO, "flow_logs", "m", f, 3);
	line = fx_log_take();
	j = cJSON_Parse(line);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "big"));
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "a")->valuestring, "1");
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"n\":18446744073709551615,\"target\":\"flow_logs\"}\n"));
	cJSON_Delete(j);
	fg_log_set_format(FG_LOG_HUMAN);
	fg_log_fields(FG_LOG_INFO, "flow_logs", "m", f, 3);
	line = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(line, " INFO flow_logs: m a=\"1\" n=18446744073709551615\n"));
	/* Below the level: nothing. */
	fg_log_set_level(FG_LOG_WARN);
	fg_log_fields(FG_LOG_INFO, "flow_logs", "m", f, 3);
	CU_ASSERT_STRING_EQUAL(fx_log_take(), "");
	fg_log_set_level(FG_LOG_INFO);
	fx_log_release();
	free(big);
}

static void test_token_good(void)
{
	struct fg_flow_claims c;
	char *tok = fx_token(FX_AUTHZ_A, true, 1785434400);
	char *min = fx_token_raw("{\"alg\":\"HS256\"}",
		"{\"account_id\":\"a\",\"iat\":1782756000,\"exp\":1785434400,\"uploads_enabled\":false,"
		"\"role\":\"initiator\",\"initiator_device_id\":\"i\",\"responder_device_id\":\"r\","
		"\"policy_authorization_id\":\"" FX_AUTHZ_B "\",\"policy_id\":\"p\",\"resource_id\":\"q\","
		"\"resource_name\":\"n\",\"initiator_actor_id\":\"a\",\"initiator_actor_name\":\"b\","
		"\"authorized_at\":\"t\",\"authorization_expires_at\":\"u\",\"brand_new_claim\":\"tolerated\"}", "s");

	CU_ASSERT_EQUAL_FATAL(fg_flow_token_parse(tok, &c, NULL, 0), 0);
	CU_ASSERT_TRUE(c.valid);
	CU_ASSERT_TRUE(c.uploads_enabled);
	CU_ASSERT_EQUAL(c.exp, 1785434400);
	CU_ASSERT_EQUAL(c.iat, 1782756000);
	CU_ASSERT_STRING_EQUAL(c.authz_id, FX_AUTHZ_A);
	CU_ASSERT_STRING_EQUAL(c.v[FG_CLAIM_RESOURCE_NAME], "GitLab");
	CU_ASSERT_STRING_EQUAL(c.v[FG_CLAIM_INITIATOR_ACTOR_EMAIL], "jane@mycorp.com");
	CU_ASSERT_PTR_NULL(c.v[FG_CLAIM_INITIATOR_CLIENT_VERSION]);
	fg_flow_claims_free(&c);
	CU_ASSERT_EQUAL_FATAL(fg_flow_token_parse(min, &c, NULL, 0), 0);
	CU_ASSERT_FALSE(c.uploads_enabled);
	CU_ASSERT_STRING_EQUAL(c.v[FG_CLAIM_ROLE], "initiator");
	CU_ASSERT_PTR_NULL(c.v[FG_CLAIM_RESOURCE_ADDRESS]);
	fg_flow_claims_free(&c);
	free(tok);
	free(min);
}

/* Claims with one field replaced (or removed: NULL value). */
static char *claims_with(const char *key, const char *value)
{
	static const char *const keys[] = {
		"account_id", "iat", "exp", "uploads_enabled", "role", "initiator_device_id",
		"responder_device_id", "policy_authorization_id", "policy_id", "resource_id",
		"resource_name", "initiator_actor_id", "initiator_actor_name", "authorized_at",
		"authorization_expires_at",
	};
	static const char *const values[] = {
		"\"a\"", "1", "2", "true", "\"responder\"", "\"i\"", "\"r\"", "\"" FX_AUTHZ_A "\"", "\"p\"",
		"\"q\"", "\"n\"", "\"a\"", "\"b\"", "\"t\"", "\"u\"",
	};
	char buf[16384];
	size_t off = 0;

	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "{");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = strcmp(keys[i], key) ? values[i] : value;

		if (v)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s\"%s\":%s", off > 1 ? "," : "",
						keys[i], v);
	}
	snprintf(buf + off, sizeof(buf) - off, "}");
	return fx_token_raw("{\"alg\":\"HS256\"}", buf, "s");
}

static void test_token_hostile(void)
{
	static const struct {
		const char *key, *value;
	} bad_claims[] = {
		{ "policy_id", NULL },
		{ "account_id", NULL },
		{ "role", "\"admin\"" },
		{ "role", "1" },
		{ "policy_authorization_id", "\"../../evil\"" },
		{ "policy_authorization_id", "\"eeb66205-5f53-4f64-acbc-deed47293f0\"" },
		{ "policy_authorization_id", "\"eeb66205-5f53-4f64-acbc-deed47293f044\"" },
		{ "policy_authorization_id", "\"eeb66205x5f53-4f64-acbc-deed47293f04\"" },
		{ "iat", "-1" },
		{ "exp", "1.5" },
		{ "exp", "\"2\"" },
		{ "exp", "1e300" },
		{ "uploads_enabled", "\"true\"" },
		{ "uploads_enabled", "1" },
		{ "resource_name", "null" },
		{ "resource_name", "[]" },
	};
	static const char *const bad_raw[] = {
		"", "not-a-jwt", "a.b", "a.b.c.d", "header.payload.signature", "..", "e30.e30.",
		"eyJhbGciOiJIUzI1NiJ9.e30=.c2ln",  /* padding */
		"eyJhbGciOiJIUzI1NiJ9.e3+.c2ln",   /* not base64url */
	};
	struct fg_flow_claims c;
	char err[160], *tok;

	for (size_t i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++) {
		tok = claims_with(bad_claims[i].key, bad_claims[i].value);
		CU_ASSERT_EQUAL(fg_flow_token_parse(tok, &c, err, sizeof(err)), -EBADMSG);
		CU_ASSERT_FALSE(c.valid);
		CU_ASSERT_TRUE(err[0] != '\0');
		free(tok);
	}
	for (size_t i = 0; i < sizeof(bad_raw) / sizeof(bad_raw[0]); i++) {
		CU_ASSERT_EQUAL(fg_flow_token_parse(bad_raw[i], &c, err, sizeof(err)), -EBADMSG);
		CU_ASSERT_PTR_NULL(strstr(err, bad_raw[i][0] ? bad_raw[i] : "\x01"));  /* never quoted */
	}
	CU_ASSERT_EQUAL(fg_flow_token_parse(NULL, &c, NULL, 0), -EBADMSG);
	/* The reference claims set parses: the table above breaks one thing at a time. */
	tok = claims_with("none", NULL);
	CU_ASSERT_EQUAL(fg_flow_token_parse(tok, &c, NULL, 0), 0);
	fg_flow_claims_free(&c);
	free(tok);
	/* Header: alg must be HS256; not JSON is refused. */
	tok = fx_token_raw("{\"alg\":\"none\"}", "{}", "s");
	CU_ASSERT_EQUAL(fg_flow_token_parse(tok, &c, NULL, 0), -EBADMSG);
	free(tok);
	tok = fx_token_raw("not json", "{}", "s");
	CU_ASSERT_EQUAL(fg_flow_token_parse(tok, &c, NULL, 0), -EBADMSG);
	free(tok);
	tok = fx_token_raw("{\"alg\":\"HS256\"}", "[1,2]", "s");
	CU_ASSERT_EQUAL(fg_flow_token_parse(tok, &c, NULL, 0), -EBADMSG);
	free(tok);
	/* An over-long claim and an over-long token. */
	char *big = malloc(FG_FLOW_CLAIM_MAX + 8);

	memset(big, 'x', FG_FLOW_CLAIM_MAX + 7);
	big[0] = '"';
	big[FG_FLOW_CLAIM_MAX + 2] = '"';
	big[FG_FLOW_CLAIM_MAX + 3] = '\0';
	tok = claims_with("resource_name", big);
	CU_ASSERT_EQUAL(fg_flow_token_parse(tok, &c, NULL, 0), -EBADMSG);
	free(tok);
	free(big);
	big = malloc(FG_FLOW_TOKEN_MAX + 2);
	memset(big, 'a', FG_FLOW_TOKEN_MAX + 1);
	big[10] = big[20] = '.';
	big[FG_FLOW_TOKEN_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(fg_flow_token_parse(big, &c, NULL, 0), -EBADMSG);
	free(big);
	CU_ASSERT_TRUE(fg_flow_uuid_valid("EEB66205-5F53-4F64-ACBC-DEED47293F04"));
	CU_ASSERT_FALSE(fg_flow_uuid_valid(""));
	CU_ASSERT_FALSE(fg_flow_uuid_valid("eeb662055f534f64acbcdeed47293f04"));
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "time as chrono prints it", test_time },
		{ "record checks", test_check },
		{ "ingest report", test_payload },
		{ "outers field", test_outers },
		{ "flow_logs lines, human and JSON", test_log_lines },
		{ "hostile claims stay one field", test_log_escaping },
		{ "log fields that do not fit", test_log_fields_bounds },
		{ "token claims", test_token_good },
		{ "hostile tokens", test_token_hostile },
	};

	return fg_cunit_run("flow_record", tests, sizeof(tests) / sizeof(tests[0]));
}
