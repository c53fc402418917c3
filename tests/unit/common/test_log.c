// SPDX-License-Identifier: MIT
/*
 * CUnit suite for common/log.c: what reaches the log's file descriptor. Lines are captured
 * through fg_log_set_fd() on a non-blocking pipe. The text format must escape every control
 * character (a message holding portal-supplied text must never forge a second line, move
 * the cursor or recolour a terminal) while leaving ordinary messages, UTF-8 and backslashes
 * as they are; the JSON format keeps its own escaping; an over-long message is cut without
 * splitting an escape and still ends with exactly one newline. Single-threaded.
 */
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

enum { CAPTURE_LEN = 16384 };

static int g_pipe[2] = { -1, -1 };
static char g_line[CAPTURE_LEN];

static void capture_open(void)
{
	CU_ASSERT_EQUAL_FATAL(pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC), 0);
	fg_log_set_fd(g_pipe[1]);
	fg_log_set_level(FG_LOG_INFO);
	fg_log_set_format(FG_LOG_HUMAN);
}

static void capture_close(void)
{
	fg_log_set_fd(STDERR_FILENO);
	close(g_pipe[0]);
	close(g_pipe[1]);
	g_pipe[0] = g_pipe[1] = -1;
}

/* Everything written since the last call (one write(2) per line), NUL-terminated. */
static size_t drain(void)
{
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(g_line) - 1 && (r = read(g_pipe[0], g_line + n, sizeof(g_line) - 1 - n)) > 0)
		n += (size_t)r;
	g_line[n] = '\0';
	return n;
}

/* Logs msg (as "%s") and returns the text after "target: ", with the final newline cut. */
static const char *logged(const char *msg)
{
	const char *body;
	size_t n;

	fg_info("fastgate.test", "%s", msg);
	n = drain();
	CU_ASSERT_FATAL(n > 0);
	/* One line: its only newline is the last byte. */
	CU_ASSERT_EQUAL(g_line[n - 1], '\n');
	CU_ASSERT_PTR_EQUAL(strchr(g_line, '\n'), g_line + n - 1);
	g_line[n - 1] = '\0';
	body = strstr(g_line, " INFO fastgate.test: ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	return body + strlen(" INFO fastgate.test: ");
}

static void test_ordinary_unchanged(void)
{
	static const char *const same[] = {
		"listening on 198.18.1.1:51820",
		"resource \"res-1\" (Corp) authorized for client-1: 3 filters",
		"C:\\path\\with\\backslashes and 100% literal",
		"\xc3\xa9t\xc3\xa9 \xe2\x98\x83 UTF-8 stays as it is",
		"~ tilde, { braces } and [brackets]",
		"",
	};

	capture_open();
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		CU_ASSERT_STRING_EQUAL(logged(same[i]), same[i]);
	/* One trailing newline is the caller's line end, not part of the message. */
	CU_ASSERT_STRING_EQUAL(logged("done\n"), "done");
	CU_ASSERT_STRING_EQUAL(logged("done\r\n"), "done");
	capture_close();
}

static void test_control_escaped(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "a\n2030-01-01T00:00:00.000000Z  INFO fastgate.cp: forged",
		  "a\\n2030-01-01T00:00:00.000000Z  INFO fastgate.cp: forged" },
		{ "carriage\rreturn", "carriage\\rreturn" },
		{ "tab\there", "tab\\there" },
		{ "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m" },
		{ "del\x7f", "del\\x7f" },
		{ "bell\x07 nul-adjacent \x01\x1f", "bell\\x07 nul-adjacent \\x01\\x1f" },
		{ "\n\nlead", "\\n\\nlead" },
		{ "mid\n\ntrail\n", "mid\\n\\ntrail" },
	};

	capture_open();
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = logged(t[i].in);

		if (strcmp(got, t[i].want))
			fprintf(stderr, "\n  got \"%s\", want \"%s\"\n", got, t[i].want);
		CU_ASSERT_STRING_EQUAL(got, t[i].want);
	}
	capture_close();
}

/* No byte below 0x20 (but the final newline) and no DEL anywhere in the line. */
static bool clean_line(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	return n && s[n - 1] == '\n';
}

static void test_long_message_cut_cleanly(void)
{
	char *msg = malloc(4000);
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	capture_open();
	/* Every byte needs an escape: the line fills up long before the message ends. */
	memset(msg, '\x1b', 3999);
	msg[3999] = '\0';
	fg_info("fastgate.test", "%s", msg);
	n = drain();
	CU_ASSERT(n > 1000);
	CU_ASSERT(clean_line(g_line, n));
	/* Cut between escapes: the body is whole "\x1b" groups. */
	g_line[n - 1] = '\0';
	const char *body = strstr(g_line, "fastgate.test: ");

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	body += strlen("fastgate.test: ");
	CU_ASSERT_EQUAL(strlen(body) % 4, 0);
	for (const char *p = body; *p; p += 4)
		CU_ASSERT_EQUAL(strncmp(p, "\\x1b", 4), 0);

	/* Printable and over-long: still one line, newline-terminated. */
	memset(msg, 'y', 3999);
	fg_info("fastgate.test", "%s", msg);
	n = drain();
	CU_ASSERT(clean_line(g_line, n));
	capture_close();
	free(msg);
}

static void test_json_still_escaped(void)
{
	size_t n;

	capture_open();
	fg_log_set_format(FG_LOG_JSON);
	fg_info("fastgate.test", "a\nb\x1b\"q\"");
	n = drain();
	CU_ASSERT(clean_line(g_line, n));
	CU_ASSERT_PTR_NOT_NULL(strstr(g_line, "\"message\":\"a\\nb\\u001b\\\"q\\\"\""));
	capture_close();
}

static void test_stream_escaped(void)
{
	static struct fg_log_stream st;
	FILE *f;
	size_t n;

	capture_open();
	f = fg_log_stream(&st, "fastgate.dpdk");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	/* A DPDK-style message: lines split on '\n', anything else escaped. */
	fputs("EAL: probing\r\x1b[2Kdone\n", f);
	n = drain();
	CU_ASSERT(clean_line(g_line, n));
	CU_ASSERT_PTR_NOT_NULL(strstr(g_line, "fastgate.dpdk: EAL: probing\\r\\x1b[2Kdone\n"));
	fclose(f);
	capture_close();
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "ordinary messages unchanged", test_ordinary_unchanged },
		{ "control characters escaped", test_control_escaped },
		{ "long message cut between escapes", test_long_message_cut_cleanly },
		{ "json format escaping", test_json_still_escaped },
		{ "log stream escaped", test_stream_escaped },
	};

	return fg_cunit_run("log", tests, sizeof(tests) / sizeof(tests[0]));
}
