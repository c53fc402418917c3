// SPDX-License-Identifier: MIT
/*
 * CUnit suite for flow-log uploads (controlplane/flow/flow_url.c, flow_http.c,
 * flow_upload.c): hostile tables for what the portal and the ingest API say (api_url,
 * Location, Retry-After, every status), then real uploads over libwebsockets on its loop
 * against a scripted HTTP server on 127.0.0.1: the request (path, Bearer token, content
 * type, body) and one batch per token; a 5xx retried with backoff; a 4xx refused (the
 * batch stays spooled, warned); the server gone (retries, then the batch waits for the next
 * pass); 429 with Retry-After; a redirect that would leave https; a 413 split. Backoff
 * times are shortened; waits are on conditions, never fixed sleeps. Single-threaded but
 * for the server's thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>
#include <cjson/cJSON.h>

#include "../cunit_run.h"
#include "flow_fixture.h"
#include "flow_http.h"
#include "flow_spool.h"
#include "flow_upload.h"
#include "http_script.h"
#include "log.h"

/* ---- pure helpers ---------------------------------------------------------------------------- */

static void test_url_table(void)
{
	static const struct {
		const char *in;
		bool ok, tls, ip;
		const char *host, *host_header;
		uint16_t port;
	} t[] = {
		{ "https://api.firezone.dev", true, true, false, "api.firezone.dev", "api.firezone.dev", 443 },
		{ "https://api.firezone.dev/", true, true, false, "api.firezone.dev", "api.firezone.dev", 443 },
		{ "HTTPS://api.firezone.dev/some/path?q=1#f", true, true, false, "api.firezone.dev", "api.firezone.dev", 443 },
		{ "http://127.0.0.1:9", true, false, true, "127.0.0.1", "127.0.0.1:9", 9 },
		{ "http://127.0.0.1:80/", true, false, true, "127.0.0.1", "127.0.0.1", 80 },
		{ "https://[::1]:8443", true, true, true, "::1", "[::1]:8443", 8443 },
		{ "https://[2001:db8::1]", true, true, true, "2001:db8::1", "[2001:db8::1]", 443 },
		{ "ftp://host", false, 0, 0, 0, 0, 0 },
		{ "wss://api.firezone.dev", false, 0, 0, 0, 0, 0 },
		{ "https://", false, 0, 0, 0, 0, 0 },
		{ "https://:443", false, 0, 0, 0, 0, 0 },
		{ "https://user:pw@host", false, 0, 0, 0, 0, 0 },
		{ "https://host:0", false, 0, 0, 0, 0, 0 },
		{ "https://host:65536", false, 0, 0, 0, 0, 0 },
		{ "https://host:08", false, 0, 0, 0, 0, 0 },
		{ "https://host:", false, 0, 0, 0, 0, 0 },
		{ "https://host:12x", false, 0, 0, 0, 0, 0 },
		{ "https://ho st", false, 0, 0, 0, 0, 0 },
		{ "https://host\r\nX-Evil: 1", false, 0, 0, 0, 0, 0 },
		{ "https://ho%73t", false, 0, 0, 0, 0, 0 },
		{ "https://[::1", false, 0, 0, 0, 0, 0 },
		{ "https://[not-v6]", false, 0, 0, 0, 0, 0 },
		{ "https://[::1]x", false, 0, 0, 0, 0, 0 },
		{ "", false, 0, 0, 0, 0, 0 },
	};
	struct fg_flow_url u;
	char err[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = fg_flow_url_parse(t[i].in, &u, err, sizeof(err));

		if ((rc == 0) != t[i].ok)
			fprintf(stderr, "url case %zu (%s): %d %s\n", i, t[i].in, rc, err);
		CU_ASSERT_EQUAL(rc == 0, t[i].ok);
		if (rc || !t[i].ok) {
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "flow_logs.api_url"));
			continue;
		}
		CU_ASSERT_EQUAL(u.tls, t[i].tls);
		CU_ASSERT_EQUAL(u.ip_literal, t[i].ip);
		CU_ASSERT_STRING_EQUAL(u.host, t[i].host);
		CU_ASSERT_STRING_EQUAL(u.host_header, t[i].host_header);
		CU_ASSERT_EQUAL(u.port, t[i].port);
		CU_ASSERT_STRING_EQUAL(u.path, "/ingestion/flow_logs");
	}
	char *big = malloc(FG_FLOW_URL_LEN + 10);

	memset(big, 'a', FG_FLOW_URL_LEN + 9);
	memcpy(big, "https://", 8);
	big[FG_FLOW_URL_LEN + 9] = '\0';
	CU_ASSERT_EQUAL(fg_flow_url_parse(big, &u, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(fg_flow_url_parse(NULL, &u, NULL, 0), -EINVAL);
	free(big);
}

static void test_redirect_table(void)
{
	static const struct {
		const char *location;
		bool ok;
		const char *want;
	} t[] = {
		{ "https://rest-api.firezone.dev/ingestion/flow_logs", true,
		  "https://rest-api.firezone.dev/ingestion/flow_logs" },
		{ "/v2/flow_logs", true, "https://flow-api.firezone.dev/v2/flow_logs" },
		{ "/v2/flow_logs#frag", true, "https://flow-api.firezone.dev/v2/flow_logs" },
		{ "https://rest-api.firezone.dev:443/x?y=1", true, "https://rest-api.firezone.dev/x?y=1" },
		{ "http://rest-api.firezone.dev/ingestion/flow_logs", false, NULL },
		{ "https://rest-api.firezone.dev:8443/ingestion/flow_logs", false, NULL },
		{ "https://user:secret@rest-api.firezone.dev/ingestion/flow_logs", false, NULL },
		{ "//evil.example/x", false, NULL },
		{ "relative/path", false, NULL },
		{ "", false, NULL },
		{ "/a b", false, NULL },
		{ "/a\r\nX: y", false, NULL },
	};
	struct fg_flow_url cur, out, plain;
	char buf[FG_FLOW_URL_LEN + 16];

	CU_ASSERT_EQUAL_FATAL(fg_flow_url_parse("https://flow-api.firezone.dev/", &cur, NULL, 0), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = fg_flow_redirect(&cur, t[i].location, &out);

		CU_ASSERT_EQUAL(rc == 0, t[i].ok);
		if (!rc && t[i].ok)
			CU_ASSERT_STRING_EQUAL(fg_flow_url_format(&out, buf, sizeof(buf)), t[i].want);
	}
	/* From a plain http origin only an absolute https URL on 443 is followed. */
	CU_ASSERT_EQUAL_FATAL(fg_flow_url_parse("http://127.0.0.1:9", &plain, NULL, 0), 0);
	CU_ASSERT_EQUAL(fg_flow_redirect(&plain, "/ingestion/flow_logs", &out), -EINVAL);
	CU_ASSERT_EQUAL(fg_flow_redirect(&plain, "https://a.example/", &out), 0);
	CU_ASSERT_EQUAL(fg_flow_redirect(&plain, NULL, &out), -EINVAL);
}

static void test_classify_and_retry_after(void)
{
	static const struct {
		const char *in;
		int rc;
		uint32_t secs;
	} ra[] = {
		{ "30", 0, 30 }, { " 7 ", 0, 7 }, { "0", 0, 0 }, { "3600", 0, 3600 },
		{ "99999999999999999999999", 0, FG_FLOW_RETRY_AFTER_MAX },
		{ "soon", -EINVAL, 0 }, { "", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "+5", -EINVAL, 0 },
		{ "1.5", -EINVAL, 0 }, { "5 s", -EINVAL, 0 }, { "Wed, 21 Oct 2015 07:28:00 GMT", -EINVAL, 0 },
	};
	uint32_t secs;

	for (int s = 0; s < 1000; s++) {
		enum fg_flow_action a = fg_flow_classify(s), want;

		if (s >= 200 && s <= 299)
			want = FG_FLOW_STORED;
		else if (s == 413)
			want = FG_FLOW_PARTITION;
		else if (s == 429)
			want = FG_FLOW_RATE_LIMITED;
		else if (s == 0 || s == 408 || (s >= 500 && s <= 599))
			want = FG_FLOW_RETRY;
		else if (s == 301 || s == 302 || s == 307 || s == 308)
			want = FG_FLOW_REDIRECT;
		else
			want = FG_FLOW_DEFER;
		CU_ASSERT_EQUAL(a, want);
	}
	CU_ASSERT_EQUAL(fg_flow_classify(-1), FG_FLOW_DEFER);
	CU_ASSERT_EQUAL(fg_flow_classify(303), FG_FLOW_DEFER);   /* a POST cannot follow it */
	for (size_t i = 0; i < sizeof(ra) / sizeof(ra[0]); i++) {
		secs = 12345;
		CU_ASSERT_EQUAL(fg_flow_retry_after(ra[i].in, &secs), ra[i].rc);
		if (!ra[i].rc)
			CU_ASSERT_EQUAL(secs, ra[i].secs);
	}
	CU_ASSERT_EQUAL(fg_flow_retry_after(NULL, &secs), -EINVAL);
}

/* ---- uploads ---------------------------------------------------------------------------------- */

struct rig {
	struct fx_loop loop;
	struct fg_http_script srv;
	char *root;
	struct fg_flow_spool *spool;
	struct fg_flow_upload *up;
	struct fg_flow_claims ca, cb;
	char *ta, *tb;
};

static void rig_open(struct rig *r, const char *tag, const struct fg_hs_step *steps, unsigned n)
{
	const struct fg_flow_backoff fast = { 20, 60, 2000 };
	uint64_t far = (uint64_t)time(NULL) + 86400;
	char err[256];

	memset(r, 0, sizeof(*r));
	CU_ASSERT_EQUAL_FATAL(fx_loop_init(&r->loop), 0);
	CU_ASSERT_EQUAL_FATAL(fg_http_script_start(&r->srv, steps, n), 0);
	r->root = fx_tmpdir(tag);
	r->spool = fg_flow_spool_open(r->root, 1 << 20, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->spool);
	r->up = fg_flow_upload_new(&r->loop.loop, r->spool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->up);
	fg_flow_upload_set_backoff(r->up, &fast);
	r->ta = fx_token(FX_AUTHZ_A, true, far);
	r->tb = fx_token(FX_AUTHZ_B, true, far);
	CU_ASSERT_EQUAL_FATAL(fg_flow_token_parse(r->ta, &r->ca, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(fg_flow_token_parse(r->tb, &r->cb, NULL, 0), 0);
	fx_log_capture();
}

static void rig_start(struct rig *r, unsigned batch)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/base/ignored", (unsigned)r->srv.port);
	CU_ASSERT_EQUAL(fg_flow_upload_configure(r->up, url, 3600, batch, NULL, 0), 0);
}

static void rig_close(struct rig *r)
{
	fx_log_release();
	fg_flow_upload_free(r->up);
	fg_flow_spool_close(r->spool);
	fx_loop_free(&r->loop);
	fg_http_script_free(&r->srv);
	fg_flow_claims_free(&r->ca);
	fg_flow_claims_free(&r->cb);
	free(r->ta);
	free(r->tb);
	fx_rmtree(r->root);
	free(r->root);
}

struct want {
	struct rig *r;
	uint64_t batches, failures, refused, requests;
};

static bool reached(void *arg)
{
	struct want *w = arg;
	struct fg_flow_upload_stats st;

	fg_flow_upload_stats(w->r->up, &st);
	return st.batches >= w->batches && st.failures >= w->failures && st.refused >= w->refused &&
	       st.requests >= w->requests;
}

static bool idle_after(void *arg)
{
	struct want *w = arg;
	cJSON *o = cJSON_CreateObject();
	bool idle;

	fg_flow_upload_json(w->r->up, o);
	idle = !strcmp(cJSON_GetObjectItem(o, "state")->valuestring, "idle");
	cJSON_Delete(o);
	return idle && reached(arg);
}

static void test_upload_success(void)
{
	struct rig r;
	struct want w = { &r, 2, 0, 0, 2 };
	char bearer[9100];

	rig_open(&r, "ok", NULL, 0);
	fg_flow_spool_add(r.spool, &r.ca, r.ta, "{\"a\":1}", 7);
	fg_flow_spool_add(r.spool, &r.ca, r.ta, "{\"a\":2}", 7);
	fg_flow_spool_add(r.spool, &r.cb, r.tb, "{\"b\":1}", 7);
	rig_start(&r, 0);
	CU_ASSERT_TRUE_FATAL(fx_loop_until(&r.loop, idle_after, &w, 10000));
	CU_ASSERT_EQUAL_FATAL(fg_http_script_count(&r.srv), 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct fg_hs_req *q = &r.srv.reqs[i];
		bool is_a = strstr(q->body, "\"a\"") != NULL;

		CU_ASSERT_STRING_EQUAL(q->method, "POST");
		CU_ASSERT_STRING_EQUAL(q->path, "/ingestion/flow_logs");
		CU_ASSERT_STRING_EQUAL(q->content_type, "application/json");
		snprintf(bearer, sizeof(bearer), "Bearer %s", is_a ? r.ta : r.tb);
		CU_ASSERT_STRING_EQUAL(q->authorization, bearer);
		CU_ASSERT_STRING_EQUAL(q->body, is_a ? "{\"flow_logs\":[{\"a\":1},{\"a\":2}]}" :
						       "{\"flow_logs\":[{\"b\":1}]}");
	}
	struct fg_flow_upload_stats st;
	struct fg_flow_spool_stats ss;

	fg_flow_upload_stats(r.up, &st);
	fg_flow_spool_stats(r.spool, &ss);
	CU_ASSERT_EQUAL(st.uploaded, 3);
	CU_ASSERT_EQUAL(st.failures, 0);
	CU_ASSERT_EQUAL(st.last_status, 200);
	CU_ASSERT_EQUAL(ss.segments, 0);
	/* The token never reaches the log. */
	CU_ASSERT_PTR_NULL(strstr(fx_log_take(), r.ta));
	rig_close(&r);
}

static void test_upload_5xx_retry(void)
{
	static const struct fg_hs_step steps[] = { { 503, NULL, "busy" }, { 500, NULL, NULL }, { 200, NULL, "{}" } };
	struct rig r;
	struct want w = { &r, 1, 2, 0, 3 };
	struct fg_flow_upload_stats st;

	rig_open(&r, "retry", steps, 3);
	fg_flow_spool_add(r.spool, &r.ca, r.ta, "{\"a\":1}", 7);
	rig_start(&r, 0);
	CU_ASSERT_TRUE(fx_loop_until(&r.loop, idle_after, &w, 10000));
	fg_flow_upload_stats(r.up, &st);
	CU_ASSERT_EQUAL(st.uploaded, 1);
	CU_ASSERT_EQUAL(st.failures, 2);
	CU_ASSERT_EQUAL(st.refused, 0);
	CU_ASSERT_EQUAL(fg_http_script_count(&r.srv), 3);
	CU_ASSERT_STRING_EQUAL(r.srv.reqs[0].body, r.srv.reqs[2].body);   /* the same batch again */
	CU_ASSERT_EQUAL(fg_flow_spool_dir_records(r.spool, FX_AUTHZ_A), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx_log_take(), "retrying with backoff"));
	rig_close(&r);
}

static void test_upload_4xx_kept(void)
{
	static const struct fg_hs_step steps[] = { { 401, NULL, "token expired" } };
	struct rig r;
	struct want w = { &r, 1, 1, 1, 2 };
	struct fg_flow_upload_stats st;
	const char *log;

	rig_open(&r, "refused", steps, 1);
	fg_flow_spool_add(r.spool, &r.ca, r.ta, "{\"a\":1}", 7);
	fg_flow_spool_add(r.spool, &r.cb, r.tb, "{\"b\":1}", 7);
	rig_start(&r, 0);
	CU_ASSERT_TRUE(fx_loop_until(&r.loop, idle_after, &w, 10000));
	fg_flow_upload_stats(r.up, &st);
	/* One directory refused (kept, not retried in this pass), the other stored. */
	CU_ASSERT_EQUAL(st.requests, 2);
	CU_ASSERT_EQUAL(st.refused, 1);
	CU_ASSERT_EQUAL(st.batches, 1);
	CU_ASSERT_EQUAL(fg_flow_spool_dir_records(r.spool, FX_AUTHZ_A) + fg_flow_spool_dir_records(r.spool, FX_AUTHZ_B),
			1);
	log = fx_log_take();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "WARN fastgate.flow: flow log upload refused: HTTP 401 from "));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "(token expired)"));
	CU_ASSERT_PTR_NULL(strstr(log, r.ta));
	rig_close(&r);
}

static void test_upload_server_gone(void)
{
	struct rig r;
	struct want w = { &r, 0, 2, 0, 2 };
	const struct fg_flow_backoff fast = { 20, 40, 300 };
	struct fg_flow_upload_stats st;

	rig_open(&r, "gone", NULL, 0);
	fg_http_script_stop(&r.srv);          /* its port now refuses connections */
	fg_flow_upload_set_backoff(r.up, &fast);
	fg_flow_spool_add(r.spool, &r.ca, r.ta, "{\"a\":1}", 7);
	rig_start(&r, 0);
	CU_ASSERT_TRUE(fx_loop_until(&r.loop, idle_after, &w, 10000));
	fg_flow_upload_stats(r.up, &st);
	CU_ASSERT_EQUAL(st.uploaded, 0);
	CU_ASSERT_EQUAL(st.last_status, 0);
	CU_ASSERT_EQUAL(st.failures, st.requests);
	CU_ASSERT_EQUAL(fg_flow_spool_dir_records(r.spool, FX_AUTHZ_A), 1);   /* still spooled */
	CU_ASSERT_PTR_NOT_NULL(strstr(fx_log_take(), "stay spooled for the next pass"));
	/* The next nudge waits for the interval: the last pass failed. */
	fg_flow_upload_nudge(r.up);
	rig_close(&r);
}

static void test_upload_429_and_redirect(void)
{
	static const struct fg_hs_step steps[] = {
		{ 429, "Retry-After: 0\r\n", NULL },
		{ 200, NULL, NULL },
		{ 302, "Location: http://127.0.0.1:1/plain\r\n", NULL },
	};
	struct rig r;
	struct want w = { &r, 1, 2, 0, 3 };
	struct fg_flow_upload_stats st;

	rig_open(&r, "ratelimit", steps, 3);
	fg_flow_spool_add(r.spool, &r.ca, r.ta, "{\"a\":1}", 7);
	fg_flow_spool_add(r.spool, &r.cb, r.tb, "{\"b\":1}", 7);
	rig_start(&r, 0);
	CU_ASSERT_TRUE(fx_loop_until(&r.loop, idle_after, &w, 10000));
	fg_flow_upload_stats(r.up, &st);
	CU_ASSERT_EQUAL(st.requests, 3);
	CU_ASSERT_EQUAL(st.batches, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx_log_take(), "not followed (only https on port 443 is followed)"));
	rig_close(&r);
}

static void test_upload_413_split(void)
{
	static const struct fg_hs_step steps[] = { { 413, NULL, NULL } };
	struct rig r;
	struct want w = { &r, 2, 1, 0, 3 };
	struct fg_flow_upload_stats st;

	rig_open(&r, "split", steps, 1);
	fg_flow_spool_set_segment(r.spool, 2);
	for (int i = 0; i < 4; i++)
		fg_flow_spool_add(r.spool, &r.ca, r.ta, "{\"a\":1}", 7);
	rig_start(&r, 4);
	fg_flow_spool_set_segment(r.spool, 2);   /* configure set it to the batch size */
	CU_ASSERT_TRUE(fx_loop_until(&r.loop, idle_after, &w, 10000));
	fg_flow_upload_stats(r.up, &st);
	CU_ASSERT_EQUAL(st.uploaded, 4);
	CU_ASSERT_EQUAL(r.srv.reqs[1].body_len, r.srv.reqs[2].body_len);    /* two halves */
	CU_ASSERT_TRUE(r.srv.reqs[0].body_len > r.srv.reqs[1].body_len);
	rig_close(&r);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "api_url table", test_url_table },
		{ "redirect table", test_redirect_table },
		{ "statuses and Retry-After", test_classify_and_retry_after },
		{ "upload: one batch per token", test_upload_success },
		{ "upload: 5xx retried", test_upload_5xx_retry },
		{ "upload: 4xx kept and warned", test_upload_4xx_kept },
		{ "upload: server gone", test_upload_server_gone },
		{ "upload: 429 and a plain-http redirect", test_upload_429_and_redirect },
		{ "upload: 413 halves the batch", test_upload_413_split },
	};

	fg_log_set_level(FG_LOG_INFO);
	return fg_cunit_run("flow_upload", tests, sizeof(tests) / sizeof(tests[0]));
}
