// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the flow log as the control plane drives it (controlplane/flow/flowlog.c,
 * flowlog_view.c): records before init are ignored; init turns tracking and uploads on
 * (the tracking op is told); a started and a completed flow give their lines, their
 * counters, the live and completed views, and two spooled reports that a full batch
 * uploads at once to a scripted server with the authorization's token; ICMP and malformed
 * records are counted, not logged; a client without a token is named from the state and
 * not spooled; a DNS resource's flow names its domain; a bad api_url or an unusable spool
 * directory turns uploads off with a warning. Single-threaded but for the server's thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <CUnit/Basic.h>
#include <cjson/cJSON.h>

#include "../cunit_run.h"
#include "flow_fixture.h"
#include "flowlog.h"
#include "http_script.h"
#include "log.h"

struct env {
	unsigned tracking_calls;
	bool tracking_on;
	bool authorized;
};

static bool op_client_id(void *ctx, const uint8_t pk[32], char *out, size_t len)
{
	(void)ctx;
	if (pk[0] != 0x22)
		return false;
	snprintf(out, len, "client-from-state");
	return true;
}

static const char *op_domain(void *ctx, const uint8_t pk[32], const struct fg_ip *proxy)
{
	(void)ctx;
	(void)pk;
	return proxy->addr[0] == 100 && proxy->addr[1] == 96 ? "git.example.com" : NULL;
}

static bool op_authorized(void *ctx, const char *client_id, const char *resource_id)
{
	struct env *e = ctx;

	(void)client_id;
	(void)resource_id;
	return e->authorized;
}

static void op_tracking(void *ctx, bool on)
{
	struct env *e = ctx;

	e->tracking_calls++;
	e->tracking_on = on;
}

static const struct fg_flowlog_ops ops = {
	.client_id = op_client_id,
	.domain = op_domain,
	.authorized = op_authorized,
	.tracking = op_tracking,
};

static double num(const cJSON *o, const char *path1, const char *path2)
{
	const cJSON *it = cJSON_GetObjectItem(o, path1);

	if (path2)
		it = cJSON_GetObjectItem(it, path2);
	return cJSON_IsNumber(it) ? it->valuedouble : -1;
}

static unsigned count_of(const char *s, const char *what)
{
	unsigned n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static bool one_request(void *arg)
{
	return fg_http_script_count(arg) >= 1;
}

static void test_records(void)
{
	struct fx_loop loop;
	struct fg_http_script srv;
	struct env e = { .authorized = true };
	char *root = fx_tmpdir("flowlog"), url[64], bearer[9100];
	char *tok = fx_token(FX_AUTHZ_A, true, (uint64_t)time(NULL) + 86400);
	const struct fg_flowlog_config cfg = { .dir = root, .max_bytes = 1 << 20, .log_lines = true };
	struct fg_flowlog *f;
	struct fg_ctl_flow m;
	const char *log;
	cJSON *j, *l;
	uint8_t pk[32];

	CU_ASSERT_EQUAL_FATAL(fx_loop_init(&loop), 0);
	CU_ASSERT_EQUAL_FATAL(fg_http_script_start(&srv, NULL, 0), 0);
	fx_log_capture();
	fg_log_set_format(FG_LOG_JSON);
	f = fg_flowlog_new(&loop.loop, &cfg, &ops, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	/* Before init: not tracking, records ignored. */
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	fg_flowlog_on_flow(f, &m);
	CU_ASSERT_FALSE(fg_flowlog_tracking(f));
	CU_ASSERT_PTR_NULL(strstr(fx_log_take(), "flow_logs"));

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
	fg_flowlog_configure(f, true, url, 3600, 2);
	CU_ASSERT_TRUE(fg_flowlog_tracking(f));
	CU_ASSERT_EQUAL(e.tracking_calls, 1);
	CU_ASSERT_TRUE(e.tracking_on);
	memset(pk, 0x11, sizeof(pk));
	fg_flowlog_authorize(f, "client-1", pk, "res-1", tok);

	fg_flowlog_on_flow(f, &m);
	log = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"message\":\"TCP flow started\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"target\":\"flow_logs\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"policy_authorization_id\":\"" FX_AUTHZ_A "\""));
	j = fg_flowlog_json(f);
	l = cJSON_GetObjectItem(j, "flows");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(l), 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "state")->valuestring, "live");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "client_id")->valuestring, "client-1");
	CU_ASSERT_EQUAL(num(j, "counters", "ignored"), 1);
	CU_ASSERT_EQUAL(num(j, "counters", "started"), 1);
	CU_ASSERT_EQUAL(num(j, "tokens", NULL), 1);
	cJSON_Delete(j);

	/* The completion fills the batch of two: uploaded at once. */
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	fg_flowlog_on_flow(f, &m);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx_log_take(), "\"message\":\"TCP flow completed\""));
	CU_ASSERT_TRUE_FATAL(fx_loop_until(&loop, one_request, &srv, 10000));
	snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
	CU_ASSERT_STRING_EQUAL(srv.reqs[0].authorization, bearer);
	j = cJSON_Parse(srv.reqs[0].body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	l = cJSON_GetObjectItem(j, "flow_logs");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(l), 2);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "flow_end"));
	CU_ASSERT_EQUAL(num(cJSON_GetArrayItem(l, 1), "rx_bytes", NULL), 1024);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 1), "policy_id"));  /* rides the token */
	cJSON_Delete(j);

	j = fg_flowlog_json(f);
	l = cJSON_GetObjectItem(j, "flows");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(l), 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "state")->valuestring, "completed");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "end_reason")->valuestring, "fin");
	CU_ASSERT_EQUAL(num(j, "counters", "completed"), 1);
	CU_ASSERT_EQUAL(num(j, "counters", "spooled"), 2);
	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "uploads"), "enabled")));
	cJSON_Delete(j);

	/* ICMP: counted, never logged; a malformed record likewise. */
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	m.proto = 1;
	fg_flowlog_on_flow(f, &m);
	m.proto = 6;
	m.kind = 9;
	fg_flowlog_on_flow(f, &m);
	CU_ASSERT_PTR_NULL(strstr(fx_log_take(), "flow_logs"));
	/* No token: named from the state, not spooled; a DNS resource names its domain. */
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	memset(m.public_key, 0x22, 32);
	m.dst.addr[0] = 100;
	m.dst.addr[1] = 96;
	m.real.family = m.dst.family;
	memcpy(m.real.addr, "\xcb\x00\x71\x09", 4);
	fg_flowlog_on_flow(f, &m);
	log = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"initiator_device_id\":\"client-from-state\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"inner_dst_ip\":\"203.0.113.9\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"domain\":\"git.example.com\""));
	j = fg_flowlog_json(f);
	CU_ASSERT_EQUAL(num(j, "counters", "ignored"), 2);
	CU_ASSERT_EQUAL(num(j, "counters", "malformed"), 1);
	CU_ASSERT_EQUAL(num(j, "counters", "unattributed"), 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "flows"), 0), "proxy")->valuestring,
			       "100.96.0.5");
	cJSON_Delete(j);

	/* init without uploads: tracking follows the operator's flag (on here). */
	fg_flowlog_configure(f, true, url, 0, 0);
	CU_ASSERT_TRUE(fg_flowlog_tracking(f));
	CU_ASSERT_EQUAL(e.tracking_calls, 2);
	fg_log_set_format(FG_LOG_HUMAN);
	fg_flowlog_free(f);
	fx_log_release();
	fx_loop_free(&loop);
	fg_http_script_free(&srv);
	free(tok);
	fx_rmtree(root);
	free(root);
}

static void test_config_errors(void)
{
	struct fx_loop loop;
	struct env e = { .authorized = true };
	char *root = fx_tmpdir("flowcfg"), dir[4096];
	struct fg_flowlog_config cfg = { .dir = root, .max_bytes = 1 << 20, .log_lines = false };
	struct fg_flowlog *f;
	const char *log;

	CU_ASSERT_EQUAL_FATAL(fx_loop_init(&loop), 0);
	fx_log_capture();
	f = fg_flowlog_new(&loop.loop, &cfg, &ops, &e);
	fg_flowlog_configure(f, true, "ftp://nowhere", 60, 0);
	log = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "WARN fastgate.flow: flow logs are not uploaded: flow_logs.api_url 'ftp://nowhere'"));
	CU_ASSERT_FALSE(fg_flowlog_tracking(f));
	CU_ASSERT_FALSE(e.tracking_on);
	/* The same problem again: not warned twice. */
	fg_flowlog_configure(f, true, "ftp://nowhere", 60, 0);
	CU_ASSERT_PTR_NULL(strstr(fx_log_take(), "WARN"));
	fg_flowlog_configure(f, false, NULL, 0, 0);
	CU_ASSERT_FALSE(fg_flowlog_tracking(f));
	fg_flowlog_free(f);

	/* A spool directory that cannot be created. */
	snprintf(dir, sizeof(dir), "%s/file", root);
	FILE *fp = fopen(dir, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fclose(fp);
	snprintf(dir, sizeof(dir), "%s/file/spool", root);
	cfg.dir = dir;
	f = fg_flowlog_new(&loop.loop, &cfg, &ops, &e);
	fg_flowlog_configure(f, true, "http://127.0.0.1:9", 60, 0);
	/* Nothing is created before a report needs the spool. */
	CU_ASSERT_PTR_NULL(strstr(fx_log_take(), "WARN"));
	CU_ASSERT_TRUE(fg_flowlog_tracking(f));
	cJSON *j = fg_flowlog_json(f), *u = cJSON_GetObjectItem(j, "uploads");

	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(u, "enabled")));
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(u, "state")->valuestring, "waiting");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(u, "url")->valuestring, "http://127.0.0.1:9/ingestion/flow_logs");
	cJSON_Delete(j);
	/* The first report to spool finds the directory unusable: warned once, counted. */
	char *tok = fx_token(FX_AUTHZ_A, true, (uint64_t)time(NULL) + 86400);
	struct fg_ctl_flow m;
	uint8_t pk[32];

	memset(pk, 0x11, sizeof(pk));
	fg_flowlog_authorize(f, "client-1", pk, "res-1", tok);
	fx_flow(&m, FG_CTL_FLOW_STARTED);
	fg_flowlog_on_flow(f, &m);
	fx_flow(&m, FG_CTL_FLOW_COMPLETED);
	fg_flowlog_on_flow(f, &m);
	log = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot create the flow log directory"));
	CU_ASSERT_EQUAL(count_of(log, " WARN "), 1);
	j = fg_flowlog_json(f);
	CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(j, "spool")));
	CU_ASSERT_EQUAL(num(j, "counters", "unspooled"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "uploads"), "last_error")->valuestring,
				      "cannot create"));
	cJSON_Delete(j);
	free(tok);
	fg_flowlog_free(f);
	fx_log_release();
	fx_loop_free(&loop);
	fx_rmtree(root);
	free(root);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "records: lines, views, counters, uploads", test_records },
		{ "configuration problems", test_config_errors },
	};

	fg_log_set_level(FG_LOG_INFO);
	return fg_cunit_run("flowlog", tests, sizeof(tests) / sizeof(tests[0]));
}
