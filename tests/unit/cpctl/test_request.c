// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the fastgatectl socket's codecs without sockets: the server's request
 * parser against tables of good and hostile lines, the exact responses of fg_cpctl_respond()
 * (errors quote the bad input, cleaned), and the client's response check. Built with ASan
 * and UBSan, so an over-read of a line's exact buffer aborts. Single-threaded.
 */
#include "ctl_client.h"
#include "cpctl_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a copy of exactly len bytes, so ASan sees any read past the line. */
static int parse_exact(const char *s, size_t len, char *cmd, size_t cmdlen)
{
	char *copy = malloc(len ? len : 1);
	int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, s, len);
	r = fg_cpctl_parse_request(copy, len, cmd, cmdlen);
	free(copy);
	return r;
}

static void test_parse_good(void)
{
	static const struct {
		const char *line;
		const char *cmd;
	} cases[] = {
		{ "{\"cmd\":\"status\"}", "status" },
		{ "  {\"cmd\" : \"peers\"}  ", "peers" },
		{ "{\"cmd\":\"stats\"}\r", "stats" },
		{ "\t{\"cmd\":\"relays\"}\t", "relays" },
		{ "{\"x\":[1,2,{\"y\":null}],\"cmd\":\"resources\",\"z\":true}", "resources" },
		{ "{\"cmd\":\"st\\u0061tus\"}", "status" },
		/* parsed, not judged: the dispatcher says "unknown command" */
		{ "{\"cmd\":\"\"}", "" },
		{ "{\"cmd\":\"bogus\"}", "bogus" },
		{ "{\"cmd\":\"a\\\\u0000b\"}", "a\\u0000b" },   /* an escaped backslash, then text */
		{ "{\"cmd\":\"status\",\"cmd\":5}", "status" },  /* the first wins */
		{ "{\"cmd\":\"caf\xc3\xa9\"}", "caf\xc3\xa9" },
		{ "\xef\xbb\xbf{\"cmd\":\"status\"}", "status" },   /* a BOM, skipped by cJSON */
	};

	for (size_t i = 0; i < N(cases); i++) {
		char cmd[FG_CPCTL_MAX_CMD] = "untouched";

		CU_ASSERT_EQUAL(parse_exact(cases[i].line, strlen(cases[i].line), cmd, sizeof(cmd)), 0);
		CU_ASSERT_STRING_EQUAL(cmd, cases[i].cmd);
	}
}

static void test_parse_hostile(void)
{
	static const struct {
		const char *line;
		size_t len;   /* 0: strlen */
	} cases[] = {
		{ "", 0 },
		{ " ", 0 },
		{ "x", 0 },
		{ "status", 0 },
		{ "{", 0 },
		{ "}", 0 },
		{ "{}", 0 },
		{ "[]", 0 },
		{ "[{\"cmd\":\"status\"}]", 0 },
		{ "\"status\"", 0 },
		{ "42", 0 },
		{ "null", 0 },
		{ "true", 0 },
		{ "{\"cmd\":1}", 0 },
		{ "{\"cmd\":null}", 0 },
		{ "{\"cmd\":true}", 0 },
		{ "{\"cmd\":[\"status\"]}", 0 },
		{ "{\"cmd\":{\"name\":\"status\"}}", 0 },
		{ "{\"CMD\":\"status\"}", 0 },
		{ "{\"command\":\"status\"}", 0 },
		{ "{\"cmd\":1,\"cmd\":\"status\"}", 0 },
		{ "{\"cmd\":\"status\",}", 0 },
		{ "{\"cmd\":\"status\"", 0 },
		{ "{\"cmd\":\"sta", 0 },
		{ "{\"cmd\":\"status\\", 0 },
		{ "{\"cmd\":\"status\\u00", 0 },
		{ "{'cmd':'status'}", 0 },
		{ "{cmd:\"status\"}", 0 },
		{ "{\"cmd\":\"status\"}x", 0 },
		{ "{\"cmd\":\"status\"}{\"cmd\":\"peers\"}", 0 },
		{ "{\"cmd\":\"status\"} {\"cmd\":\"peers\"}", 0 },
		{ "{\"cmd\":\"status\"}\n{\"cmd\":\"peers\"}", 0 },
		{ "/* hi */{\"cmd\":\"status\"}", 0 },
		/* embedded NULs, raw and escaped */
		{ "{\"cmd\":\"sta\0tus\"}", 17 },
		{ "{\"cmd\":\"status\"}\0", 17 },
		{ "\0{\"cmd\":\"status\"}", 17 },
		{ "{\"cmd\":\"status\\u0000\"}", 0 },
		{ "{\"cmd\":\"status\\u0000junk\"}", 0 },
		{ "{\"cmd\":\"\\u0000\"}", 0 },
		{ "{\"x\":\"\\u0000\",\"cmd\":\"status\"}", 0 },
	};
	char cmd[FG_CPCTL_MAX_CMD];

	for (size_t i = 0; i < N(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);

		if (parse_exact(cases[i].line, len, cmd, sizeof(cmd)) != -EINVAL)
			fprintf(stderr, "\naccepted hostile line #%zu: %s\n", i, cases[i].line);
		CU_ASSERT_EQUAL(parse_exact(cases[i].line, len, cmd, sizeof(cmd)), -EINVAL);
	}
	/* bad arguments */
	CU_ASSERT_EQUAL(fg_cpctl_parse_request(NULL, 3, cmd, sizeof(cmd)), -EINVAL);
	CU_ASSERT_EQUAL(fg_cpctl_parse_request("{}", 2, NULL, sizeof(cmd)), -EINVAL);
	CU_ASSERT_EQUAL(fg_cpctl_parse_request("{\"cmd\":\"status\"}", 16, cmd, 0), -EINVAL);
}

/* A line of exactly n bytes: the request padded with spaces inside the object. */
static char *padded(size_t n)
{
	static const char head[] = "{\"cmd\":\"status\"";
	char *s = malloc(n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, ' ', n - sizeof(head));
	s[n - 1] = '}';
	return s;
}

static void test_parse_lengths(void)
{
	char cmd[FG_CPCTL_MAX_CMD];
	char *s = padded(FG_CPCTL_MAX_LINE);
	char *big = padded(FG_CPCTL_MAX_LINE + 1);
	char *deep = malloc(FG_CPCTL_MAX_LINE);

	CU_ASSERT_EQUAL(fg_cpctl_parse_request(s, FG_CPCTL_MAX_LINE, cmd, sizeof(cmd)), 0);
	CU_ASSERT_STRING_EQUAL(cmd, "status");
	CU_ASSERT_EQUAL(fg_cpctl_parse_request(big, FG_CPCTL_MAX_LINE + 1, cmd, sizeof(cmd)), -EINVAL);
	/* the name must fit the caller's buffer with its NUL */
	CU_ASSERT_EQUAL(fg_cpctl_parse_request("{\"cmd\":\"status\"}", 16, cmd, 7), 0);
	CU_ASSERT_EQUAL(fg_cpctl_parse_request("{\"cmd\":\"status\"}", 16, cmd, 6), -EINVAL);
	/* 4096 levels of nesting: refused by depth, not by the stack */
	CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
	memset(deep, '[', FG_CPCTL_MAX_LINE);
	CU_ASSERT_EQUAL(fg_cpctl_parse_request(deep, FG_CPCTL_MAX_LINE, cmd, sizeof(cmd)), -EINVAL);
	memset(deep, '{', FG_CPCTL_MAX_LINE);
	CU_ASSERT_EQUAL(fg_cpctl_parse_request(deep, FG_CPCTL_MAX_LINE, cmd, sizeof(cmd)), -EINVAL);
	free(deep);
	free(big);
	free(s);
}

/* ---- responses --------------------------------------------------------------------------- */

static int calls;

static cJSON *fake_status(void *ctx)
{
	cJSON *o = cJSON_CreateObject();

	calls++;
	cJSON_AddStringToObject(o, "version", ctx);
	cJSON_AddNumberToObject(o, "uptime_s", 12);
	return o;
}

static cJSON *fake_null(void *ctx)
{
	(void)ctx;
	calls++;
	return NULL;
}

static cJSON *fake_array(void *ctx)
{
	(void)ctx;
	calls++;
	return cJSON_CreateArray();
}

static cJSON *fake_ice(void *ctx)
{
	cJSON *o = cJSON_CreateObject();

	(void)ctx;
	calls++;
	cJSON_AddArrayToObject(o, "agents");
	return o;
}

static const struct fg_cpctl_provider provider = {
	.status = fake_status,
	.peers = fake_null,
	.resources = fake_array,
	.relays = NULL,
	.stats = fake_null,
};

static const struct fg_cpctl_provider ice_provider = {
	.ice = fake_ice,
};

static cJSON *fake_nat(void *ctx)
{
	cJSON *o = cJSON_CreateObject();

	(void)ctx;
	calls++;
	cJSON_AddArrayToObject(o, "clients");
	cJSON_AddBoolToObject(o, "tuples_available", 0);
	return o;
}

static const struct fg_cpctl_provider nat_provider = {
	.nat = fake_nat,
};

static void expect_response(const struct fg_cpctl_provider *p, const char *line, size_t len,
			    const char *want)
{
	size_t n = 0;
	char *copy = malloc(len ? len : 1);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, line, len);
	out = fg_cpctl_respond(copy, len, p, "0.1.0", &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(n, strlen(out));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "\n  request %.*s\n  got  %s  want %s", (int)len, line, out, want);
	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
	free(copy);
}

#define RESP(p, lit, want) expect_response(p, lit, sizeof(lit) - 1, want)

static void test_respond(void)
{
	calls = 0;
	RESP(&provider, "{\"cmd\":\"status\"}", "{\"version\":\"0.1.0\",\"uptime_s\":12}\n");
	CU_ASSERT_EQUAL(calls, 1);
	RESP(&provider, "{\"cmd\":\"peers\"}", "{\"error\":\"peers unavailable\"}\n");
	RESP(&provider, "{\"cmd\":\"resources\"}", "{\"error\":\"resources unavailable\"}\n");
	RESP(&provider, "{\"cmd\":\"relays\"}", "{\"error\":\"relays unavailable\"}\n");
	RESP(&provider, "{\"cmd\":\"stats\"}", "{\"error\":\"stats unavailable\"}\n");
	RESP(&provider, "{\"cmd\":\"ice\"}", "{\"error\":\"ice unavailable\"}\n");
	RESP(&provider, "{\"cmd\":\"nat\"}", "{\"error\":\"nat unavailable\"}\n");
	CU_ASSERT_EQUAL(calls, 4);   /* relays, ice and nat have no callback */
	RESP(NULL, "{\"cmd\":\"status\"}", "{\"error\":\"status unavailable\"}\n");

	RESP(&provider, "{\"cmd\":\"x\"}", "{\"error\":\"unknown command 'x'\"}\n");
	RESP(&provider, "{\"cmd\":\"\"}", "{\"error\":\"unknown command ''\"}\n");
	RESP(&provider, "{\"cmd\":\"Status\"}", "{\"error\":\"unknown command 'Status'\"}\n");
	RESP(&provider, "{\"cmd\":\"status \"}", "{\"error\":\"unknown command 'status '\"}\n");
	/* quoted, but cleaned: no escape sequence reaches a terminal, no quote breaks the JSON */
	RESP(&provider, "{\"cmd\":\"a\\\"b\\n\\u001b[31m\"}",
	     "{\"error\":\"unknown command 'a\\\"b?" "?[31m'\"}\n");
	RESP(&provider, "{\"cmd\":\"caf\xc3\xa9\"}", "{\"error\":\"unknown command 'caf?" "?'\"}\n");
	RESP(&provider,
	     "{\"cmd\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
	     "{\"error\":\"unknown command "
	     "'0123456789012345678901234567890123456789012345678901234567890123...'\"}\n");

	RESP(&provider, "", "{\"error\":\"malformed request: not JSON\"}\n");
	RESP(&provider, "status", "{\"error\":\"malformed request: not JSON\"}\n");
	RESP(&provider, "[1]", "{\"error\":\"malformed request: not a JSON object\"}\n");
	RESP(&provider, "{}", "{\"error\":\"malformed request: no \\\"cmd\\\"\"}\n");
	RESP(&provider, "{\"cmd\":7}", "{\"error\":\"malformed request: \\\"cmd\\\" is not a string\"}\n");
	RESP(&provider, "{\"cmd\":\"status\"}}",
	     "{\"error\":\"malformed request: bytes after the JSON value\"}\n");
	RESP(&provider, "{\"cmd\":\"st\0atus\"}", "{\"error\":\"malformed request: NUL byte\"}\n");
	RESP(&provider, "{\"cmd\":\"status\\u0000\"}", "{\"error\":\"malformed request: NUL byte\"}\n");
	CU_ASSERT_EQUAL(calls, 4);   /* no malformed or unknown request reached the provider */

	/* ice: its own callback, the others left NULL */
	RESP(&ice_provider, "{\"cmd\":\"ice\"}", "{\"agents\":[]}\n");
	CU_ASSERT_EQUAL(calls, 5);
	RESP(&ice_provider, "{\"cmd\":\"relays\"}", "{\"error\":\"relays unavailable\"}\n");
	/* nat: its own callback */
	RESP(&nat_provider, "{\"cmd\":\"nat\"}", "{\"clients\":[],\"tuples_available\":false}\n");
	CU_ASSERT_EQUAL(calls, 6);
	RESP(&nat_provider, "{\"cmd\":\"Nat\"}", "{\"error\":\"unknown command 'Nat'\"}\n");
}

static void test_respond_long(void)
{
	char *big = padded(FG_CPCTL_MAX_LINE + 1);

	expect_response(&provider, big, FG_CPCTL_MAX_LINE + 1,
			"{\"error\":\"malformed request: line too long\"}\n");
	free(big);
}

/* ---- the client's check of a response --------------------------------------------------- */

static void test_client_parse(void)
{
	static const struct {
		const char *line;
		size_t len;   /* 0: strlen */
		int want;
		const char *err;
	} cases[] = {
		{ "{}", 0, 0, NULL },
		{ "{\"peers\":[]} ", 0, 0, NULL },
		{ "", 0, -EPROTO, "not JSON" },
		{ "garbage", 0, -EPROTO, "not JSON" },
		{ "{\"peers\":[", 0, -EPROTO, "not JSON" },
		{ "[]", 0, -EPROTO, "not a JSON object" },
		{ "\"error\"", 0, -EPROTO, "not a JSON object" },
		{ "{} {}", 0, -EPROTO, "bytes after the JSON value" },
		{ "{}\0{}", 5, -EPROTO, "a NUL byte in the response" },
		{ "{\"error\":\"boom\"}", 0, -EREMOTEIO, "error from fastgate-controlplane: boom" },
		{ "{\"error\":5}", 0, -EREMOTEIO, "error from fastgate-controlplane: (no message)" },
		{ "{\"error\":null}", 0, -EREMOTEIO, "error from fastgate-controlplane: (no message)" },
		{ "{\"error\":\"\\u001b[2J\\r\\nx\"}", 0, -EREMOTEIO,
		  "error from fastgate-controlplane: ?[2J?" "?x" },
		/* C1 controls (U+009B is CSI) and invalid UTF-8 too, as the renderer cleans text */
		{ "{\"error\":\"\\u009b2J \xff caf\\u00e9\"}", 0, -EREMOTEIO,
		  "error from fastgate-controlplane: ??2J ? caf\xc3\xa9" },
	};

	for (size_t i = 0; i < N(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);
		char err[FG_CPCTL_ERRLEN] = "";
		cJSON *json = (cJSON *)1;
		int r = fg_ctl_client_parse(cases[i].line, len, &json, err, sizeof(err));

		CU_ASSERT_EQUAL(r, cases[i].want);
		if (cases[i].err)
			CU_ASSERT_STRING_EQUAL(err, cases[i].err);
		CU_ASSERT_EQUAL(json != NULL, r != -EPROTO);
		cJSON_Delete(json);
	}
}

static void test_client_parse_long_error(void)
{
	char line[600], err[FG_CPCTL_ERRLEN];
	cJSON *json;

	snprintf(line, sizeof(line), "{\"error\":\"%0400d\"}", 7);
	CU_ASSERT_EQUAL(fg_ctl_client_parse(line, strlen(line), &json, err, sizeof(err)), -EREMOTEIO);
	CU_ASSERT_EQUAL(strlen(err), strlen("error from fastgate-controlplane: ") + 200 + 3);
	CU_ASSERT_STRING_EQUAL(err + strlen(err) - 3, "...");
	cJSON_Delete(json);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "parse good", test_parse_good },
		{ "parse hostile", test_parse_hostile },
		{ "parse lengths", test_parse_lengths },
		{ "respond", test_respond },
		{ "respond long line", test_respond_long },
		{ "client parse", test_client_parse },
		{ "client parse long error", test_client_parse_long_error },
	};

	return fg_cunit_run("cpctl_request", tests, N(tests));
}
