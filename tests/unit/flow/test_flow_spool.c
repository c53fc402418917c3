// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the flow-log spool (controlplane/flow/flow_spool*.c): the line format and
 * a hostile table of what may be read back (torn, edited, oversized lines, names), then the
 * directory in a private temporary folder: modes (0700 / 0600), one directory per
 * authorization (batches never mix tokens), segments and batches, the bound (the oldest
 * segment goes, counted), crash leftovers, corrupt files counted and skipped, pruning of
 * expired and token-less authorizations, and a reopen that finds everything again.
 * Single-threaded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <cjson/cJSON.h>

#include "../cunit_run.h"
#include "flow_fixture.h"
#include "flow_spool.h"
#include "log.h"

static const char report[] = "{\"protocol\":\"tcp\",\"inner_src_port\":1}";

/* ---- the format ------------------------------------------------------------------------------ */

struct seen {
	unsigned n;
	char last[256];
};

static void collect(void *ctx, const char *payload, size_t n)
{
	struct seen *s = ctx;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)n, payload);
}

static void test_line_roundtrip(void)
{
	char line[512], two[1024];
	struct seen s = { 0 };
	unsigned bad = 99;
	size_t n = fg_flow_spool_line(report, strlen(report), line, sizeof(line));

	CU_ASSERT_TRUE_FATAL(n > 0);
	CU_ASSERT_STRING_EQUAL(line, "{\"checksum\":3237094555,\"payload\":{\"protocol\":\"tcp\",\"inner_src_port\":1}}\n");
	CU_ASSERT_EQUAL(fg_flow_spool_parse(line, n, collect, &s, &bad), 1);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_STRING_EQUAL(s.last, report);
	snprintf(two, sizeof(two), "%s%s", line, line);
	CU_ASSERT_EQUAL(fg_flow_spool_parse(two, 2 * n, NULL, NULL, &bad), 2);
	CU_ASSERT_EQUAL(fg_flow_spool_line(report, strlen(report), line, 20), 0);   /* no room */
	CU_ASSERT_EQUAL(fg_flow_spool_line(report, 0, line, sizeof(line)), 0);
}

static void test_parse_hostile(void)
{
	char good[512];
	size_t gn = fg_flow_spool_line(report, strlen(report), good, sizeof(good));
	static const struct {
		const char *text;
		unsigned good, bad;
	} t[] = {
		{ "", 0, 0 },
		{ "\n", 0, 1 },
		{ "garbage\n", 0, 1 },
		{ "{\"checksum\":3237094555,\"payload\":{\"protocol\":\"tcp\",\"inner_src_port\":1}}", 0, 1 }, /* torn */
		{ "{\"checksum\":3237094556,\"payload\":{\"protocol\":\"tcp\",\"inner_src_port\":1}}\n", 0, 1 }, /* crc */
		{ "{\"checksum\":3237094555,\"payload\":{\"protocol\":\"tcp\",\"inner_src_port\":2}}\n", 0, 1 }, /* edited */
		{ "{\"checksum\":03237094555,\"payload\":{\"protocol\":\"tcp\",\"inner_src_port\":1}}\n", 0, 1 },
		{ "{\"checksum\":-1,\"payload\":{}}\n", 0, 1 },
		{ "{\"checksum\":99999999999,\"payload\":{}}\n", 0, 1 },
		{ "{\"checksum\":,\"payload\":{}}\n", 0, 1 },
		{ "{\"checksum\":1,\"payload\":}\n", 0, 1 },
		{ "{\"checksum\":1 ,\"payload\":{}}\n", 0, 1 },
		{ "{\"checksum\":1,\"payload\" :{}}\n", 0, 1 },
		{ "{\"checksum\":0,\"payload\":\n", 0, 1 },
		/* crc32("[]"): the payload must be an object all the same */
		{ "{\"checksum\":223132457,\"payload\":[]}\n", 0, 1 },
		/* crc32("{") is right but "{" is not JSON */
		{ "{\"checksum\":366298937,\"payload\":{}\n", 0, 1 },
		{ "{\"checksum\":2745614147,\"payload\":{}}\n", 1, 0 },   /* crc32("{}") */
		{ "{\"checksum\":2745614147,\"payload\":{}}\n\n", 1, 1 },
		{ "{\"checksum\":2745614147,\"payload\":{}}\r\n", 0, 1 },
	};
	unsigned bad;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned g = fg_flow_spool_parse(t[i].text, strlen(t[i].text), NULL, NULL, &bad);

		if (g != t[i].good || bad != t[i].bad)
			fprintf(stderr, "case %zu: good %u bad %u\n", i, g, bad);
		CU_ASSERT_EQUAL(g, t[i].good);
		CU_ASSERT_EQUAL(bad, t[i].bad);
	}
	/* A good line between bad ones is still found; a NUL inside a line breaks only it. */
	char mix[2048];
	int n = snprintf(mix, sizeof(mix), "junk\n%sjunk2\n%.*s", good, (int)gn - 5, good);

	CU_ASSERT_EQUAL(fg_flow_spool_parse(mix, (size_t)n, NULL, NULL, &bad), 1);
	CU_ASSERT_EQUAL(bad, 3);
	memcpy(mix, good, gn);
	mix[20] = '\0';
	CU_ASSERT_EQUAL(fg_flow_spool_parse(mix, gn, NULL, NULL, &bad), 0);
	CU_ASSERT_EQUAL(bad, 1);
	/* A line over the limit. */
	char *big = malloc(FG_FLOW_SPOOL_LINE_MAX + 64);

	memset(big, ' ', FG_FLOW_SPOOL_LINE_MAX + 63);
	big[FG_FLOW_SPOOL_LINE_MAX + 62] = '\n';
	CU_ASSERT_EQUAL(fg_flow_spool_parse(big, FG_FLOW_SPOOL_LINE_MAX + 63, NULL, NULL, &bad), 0);
	CU_ASSERT_EQUAL(bad, 1);
	free(big);
}

static void test_names(void)
{
	static const struct {
		const char *name;
		bool ok;
		uint64_t seq;
		unsigned count;
	} t[] = {
		{ "01700000000500000000-1.jsonl", true, 1700000000500000000ull, 1 },
		{ "18446744073709551615-100.jsonl", true, 18446744073709551615ull, 100 },
		{ "18446744073709551616-1.jsonl", false, 0, 0 },
		{ "01700000000500000000-101.jsonl", false, 0, 0 },
		{ "01700000000500000000-0.jsonl", false, 0, 0 },
		{ "01700000000500000000-01.jsonl", false, 0, 0 },
		{ "1700000000500000000-1.jsonl", false, 0, 0 },
		{ "01700000000500000000-1.json", false, 0, 0 },
		{ "01700000000500000000_1.jsonl", false, 0, 0 },
		{ "0170000000050000000a-1.jsonl", false, 0, 0 },
		{ "token", false, 0, 0 },
		{ ".tmp-01700000000500000000-1.jsonl", false, 0, 0 },
		{ "", false, 0, 0 },
	};
	char buf[FG_FLOW_SEG_NAME_LEN];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t seq = 0;
		unsigned count = 0;

		CU_ASSERT_EQUAL(fg_flow_spool_name_parse(t[i].name, &seq, &count), t[i].ok);
		if (t[i].ok) {
			CU_ASSERT_EQUAL(seq, t[i].seq);
			CU_ASSERT_EQUAL(count, t[i].count);
			fg_flow_spool_name(seq, count, buf, sizeof(buf));
			CU_ASSERT_STRING_EQUAL(buf, t[i].name);
		}
	}
}

/* ---- the directory --------------------------------------------------------------------------- */

struct authz {
	struct fg_flow_claims claims;
	char *token;
};

static void authz_make(struct authz *a, const char *id, uint64_t exp)
{
	a->token = fx_token(id, true, exp);
	CU_ASSERT_EQUAL_FATAL(fg_flow_token_parse(a->token, &a->claims, NULL, 0), 0);
}

static void authz_free(struct authz *a)
{
	fg_flow_claims_free(&a->claims);
	free(a->token);
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
}

/* The names in a directory that are segments. */
static unsigned segments_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;
	uint64_t seq;
	unsigned count;

	while (d && (e = readdir(d)))
		n += fg_flow_spool_name_parse(e->d_name, &seq, &count);
	if (d)
		closedir(d);
	return n;
}

static void test_dir_write_batch(void)
{
	char *root = fx_tmpdir("spool"), path[4096], err[256], *tok;
	uint64_t far = (uint64_t)time(NULL) + 86400;
	struct authz a, b;
	struct fg_flow_spool *s;
	struct fg_flow_spool_stats st;
	struct fg_flow_batch batch;
	cJSON *j;

	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	snprintf(path, sizeof(path), "%s/spool", root);
	authz_make(&a, FX_AUTHZ_A, far);
	authz_make(&b, FX_AUTHZ_B, far);
	s = fg_flow_spool_open(path, 1 << 20, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(mode_of(path), 0700);
	fg_flow_spool_set_segment(s, 3);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(fg_flow_spool_add(s, &a.claims, a.token, report, strlen(report)), i + 1);
	CU_ASSERT_EQUAL(fg_flow_spool_add(s, &b.claims, b.token, "{\"b\":1}", 7), 1);
	/* Three made a segment at once; the rest waits in memory. */
	snprintf(path, sizeof(path), "%s/spool/%s", root, FX_AUTHZ_A);
	CU_ASSERT_EQUAL(mode_of(path), 0700);
	CU_ASSERT_EQUAL(segments_in(path), 1);
	CU_ASSERT_EQUAL(fg_flow_spool_pending(s), 2);
	snprintf(path, sizeof(path), "%s/spool/%s/token", root, FX_AUTHZ_A);
	CU_ASSERT_EQUAL(mode_of(path), 0600);
	fg_flow_spool_flush(s);
	CU_ASSERT_EQUAL(fg_flow_spool_pending(s), 0);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.spooled, 5);
	CU_ASSERT_EQUAL(st.segments, 3);
	CU_ASSERT_EQUAL(st.dirs, 2);
	CU_ASSERT_EQUAL(st.bytes, 3 * FG_FLOW_SPOOL_BLOCK);
	/* The token back, as written. */
	tok = calloc(1, FG_FLOW_TOKEN_MAX + 1);
	CU_ASSERT_EQUAL(fg_flow_spool_token(s, FX_AUTHZ_A, tok, FG_FLOW_TOKEN_MAX + 1), 0);
	CU_ASSERT_STRING_EQUAL(tok, a.token);
	free(tok);
	/* Batches per authorization: a's four reports (two segments), b's one. */
	unsigned n = 0;
	char (*dirs)[FG_FLOW_UUID_LEN] = fg_flow_spool_dirs(s, &n);

	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(dirs[0], FX_AUTHZ_A);     /* its oldest segment is older */
	free(dirs);
	CU_ASSERT_EQUAL(fg_flow_spool_batch(s, FX_AUTHZ_A, 1000, &batch), 1);
	CU_ASSERT_EQUAL(batch.records, 4);
	CU_ASSERT_EQUAL(batch.nsegs, 2);
	j = cJSON_Parse(batch.body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(j, "flow_logs")), 4);
	CU_ASSERT_PTR_NULL(strstr(batch.body, "\"b\""));  /* never another token's report */
	cJSON_Delete(j);
	fg_flow_spool_done(s, &batch, false);   /* kept */
	/* A smaller batch takes whole segments: the first (3 reports) alone. */
	CU_ASSERT_EQUAL(fg_flow_spool_batch(s, FX_AUTHZ_A, 3, &batch), 1);
	CU_ASSERT_EQUAL(batch.records, 3);
	fg_flow_spool_done(s, &batch, true);    /* stored: deleted */
	CU_ASSERT_EQUAL(fg_flow_spool_dir_records(s, FX_AUTHZ_A), 1);
	snprintf(path, sizeof(path), "%s/spool/%s", root, FX_AUTHZ_A);
	CU_ASSERT_EQUAL(segments_in(path), 1);
	CU_ASSERT_EQUAL(fg_flow_spool_batch(s, FX_AUTHZ_B, 1000, &batch), 1);
	CU_ASSERT_STRING_EQUAL(batch.body, "{\"flow_logs\":[{\"b\":1}]}");
	fg_flow_spool_done(s, &batch, true);
	fg_flow_spool_close(s);

	/* Reopened: what is on disk is found again. */
	snprintf(path, sizeof(path), "%s/spool", root);
	s = fg_flow_spool_open(path, 1 << 20, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.segments, 1);
	CU_ASSERT_EQUAL(st.dirs, 2);
	CU_ASSERT_EQUAL(fg_flow_spool_dir_records(s, FX_AUTHZ_A), 1);
	CU_ASSERT_EQUAL(fg_flow_spool_batch(s, FX_AUTHZ_B, 1000, &batch), 0);
	fg_flow_spool_close(s);
	authz_free(&a);
	authz_free(&b);
	fx_rmtree(root);
	free(root);
}

static void test_bound(void)
{
	char *root = fx_tmpdir("bound"), err[256];
	uint64_t far = (uint64_t)time(NULL) + 86400;
	struct fg_flow_spool_stats st;
	struct fg_flow_batch batch;
	struct fg_flow_spool *s;
	struct authz a;

	authz_make(&a, FX_AUTHZ_A, far);
	fx_log_capture();
	/* Room for three blocks: the fourth segment pushes the first out. */
	s = fg_flow_spool_open(root, 3 * FG_FLOW_SPOOL_BLOCK, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fg_flow_spool_set_segment(s, 2);
	for (int i = 0; i < 8; i++) {
		char p[64];
		int n = snprintf(p, sizeof(p), "{\"n\":%d}", i);

		fg_flow_spool_add(s, &a.claims, a.token, p, (size_t)n);
	}
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.segments, 3);
	CU_ASSERT_EQUAL(st.bytes, 3 * FG_FLOW_SPOOL_BLOCK);
	CU_ASSERT_EQUAL(st.dropped, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx_log_take(), "WARN fastgate.flow: flow logs dropped: 2 report(s)"));
	CU_ASSERT_EQUAL(fg_flow_spool_batch(s, FX_AUTHZ_A, 1000, &batch), 1);
	CU_ASSERT_STRING_EQUAL(batch.body, "{\"flow_logs\":[{\"n\":2},{\"n\":3},{\"n\":4},{\"n\":5},{\"n\":6},{\"n\":7}]}");
	fg_flow_spool_done(s, &batch, false);
	/* More drops within the minute: counted, not warned again. */
	for (int i = 0; i < 2; i++)
		fg_flow_spool_add(s, &a.claims, a.token, "{}", 2);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.dropped, 4);
	CU_ASSERT_PTR_NULL(strstr(fx_log_take(), "dropped"));
	fg_flow_spool_close(s);
	fx_log_release();
	authz_free(&a);
	fx_rmtree(root);
	free(root);
}

static void write_file(const char *path, const char *text, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, n), (ssize_t)n);
	close(fd);
}

static void test_corrupt_and_leftovers(void)
{
	char *root = fx_tmpdir("corrupt"), dir[4096], path[4200], line[512], err[256];
	uint64_t far = (uint64_t)time(NULL) + 86400;
	struct fg_flow_spool_stats st;
	struct fg_flow_batch batch;
	struct fg_flow_spool *s;
	struct authz a;
	size_t n = fg_flow_spool_line(report, strlen(report), line, sizeof(line));

	authz_make(&a, FX_AUTHZ_A, far);
	snprintf(dir, sizeof(dir), "%s/%s", root, FX_AUTHZ_A);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, a.token, strlen(a.token));
	/* A torn segment (half a line after a good one), one of garbage, a crash's temp file,
	 * a file of another name and a symlink posing as a segment. */
	char torn[1024];

	memcpy(torn, line, n);
	memcpy(torn + n, line, n / 2);
	snprintf(path, sizeof(path), "%s/00000000000000000001-2.jsonl", dir);
	write_file(path, torn, n + n / 2);
	snprintf(path, sizeof(path), "%s/00000000000000000002-1.jsonl", dir);
	write_file(path, "\x00\x01garbage", 9);
	snprintf(path, sizeof(path), "%s/.tmp-00000000000000000003-1.jsonl", dir);
	write_file(path, line, n);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_file(path, "x", 1);
	snprintf(path, sizeof(path), "%s/00000000000000000004-1.jsonl", dir);
	CU_ASSERT_EQUAL(symlink("/etc/passwd", path), 0);
	fx_log_capture();
	s = fg_flow_spool_open(root, 1 << 20, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(path, sizeof(path), "%s/.tmp-00000000000000000003-1.jsonl", dir);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);    /* the leftover is gone */
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.segments, 2);             /* not the symlink */
	CU_ASSERT_EQUAL(fg_flow_spool_batch(s, FX_AUTHZ_A, 1000, &batch), 1);
	CU_ASSERT_EQUAL(batch.records, 1);           /* the good line of the torn file */
	fg_flow_spool_done(s, &batch, true);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.corrupt, 2);              /* the torn half, the garbage line */
	CU_ASSERT_EQUAL(st.segments, 0);             /* garbage removed, the torn one uploaded */
	CU_ASSERT_PTR_NOT_NULL(strstr(fx_log_take(), "corrupt lines skipped"));
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	CU_ASSERT_EQUAL(access(path, F_OK), 0);      /* what is not ours stays */
	/* A token file that is not a token, and one with a newline (never a header). */
	char tok[FG_FLOW_TOKEN_MAX + 1];

	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, "a b", 3);
	CU_ASSERT_EQUAL(fg_flow_spool_token(s, FX_AUTHZ_A, tok, sizeof(tok)), -EBADMSG);
	write_file(path, "abc\r\nX-Evil: 1", 14);
	CU_ASSERT_EQUAL(fg_flow_spool_token(s, FX_AUTHZ_A, tok, sizeof(tok)), -EBADMSG);
	write_file(path, "", 0);
	CU_ASSERT_EQUAL(fg_flow_spool_token(s, FX_AUTHZ_A, tok, sizeof(tok)), -EBADMSG);
	CU_ASSERT_EQUAL(fg_flow_spool_token(s, FX_AUTHZ_B, tok, sizeof(tok)), -ENOENT);
	fg_flow_spool_close(s);
	fx_log_release();
	authz_free(&a);
	fx_rmtree(root);
	free(root);
}

static void test_prune(void)
{
	char *root = fx_tmpdir("prune"), dir[4096], err[256];
	uint64_t now = (uint64_t)time(NULL);
	struct fg_flow_spool_stats st;
	struct fg_flow_spool *s;
	struct authz live, old;

	authz_make(&live, FX_AUTHZ_A, now + 3600);
	authz_make(&old, FX_AUTHZ_B, now + 10);
	fx_log_capture();
	s = fg_flow_spool_open(root, 1 << 20, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fg_flow_spool_add(s, &live.claims, live.token, "{}", 2);
	fg_flow_spool_add(s, &old.claims, old.token, "{}", 2);
	fg_flow_spool_add(s, &old.claims, old.token, "{}", 2);
	fg_flow_spool_flush(s);
	fg_flow_spool_prune(s, now);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.dirs, 2);
	/* Eleven seconds on: b's token has expired. */
	fg_flow_spool_prune(s, now + 11);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.dirs, 1);
	CU_ASSERT_EQUAL(st.dropped, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx_log_take(), "ingest token expired"));
	snprintf(dir, sizeof(dir), "%s/%s", root, FX_AUTHZ_B);
	CU_ASSERT_EQUAL(access(dir, F_OK), -1);
	/* A token-less directory goes once it is older than the grace. */
	snprintf(dir, sizeof(dir), "%s/%s/token", root, FX_AUTHZ_A);
	CU_ASSERT_EQUAL(unlink(dir), 0);
	fg_flow_spool_prune(s, now);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.dirs, 1);
	fg_flow_spool_prune(s, now + FG_FLOW_DIR_GRACE_S + 5);
	fg_flow_spool_stats(s, &st);
	CU_ASSERT_EQUAL(st.dirs, 0);
	CU_ASSERT_EQUAL(st.dropped, 3);
	fg_flow_spool_close(s);
	fx_log_release();
	authz_free(&live);
	authz_free(&old);
	fx_rmtree(root);
	free(root);
}

static void test_open_errors(void)
{
	char err[256], *root = fx_tmpdir("errors"), path[4096];

	CU_ASSERT_PTR_NULL(fg_flow_spool_open("", 1, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/file", root);
	write_file(path, "x", 1);
	snprintf(path, sizeof(path), "%s/file/spool", root);
	CU_ASSERT_PTR_NULL(fg_flow_spool_open(path, 1, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create the flow log directory"));
	fx_rmtree(root);
	free(root);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "line round trip", test_line_roundtrip },
		{ "hostile segment lines", test_parse_hostile },
		{ "segment names", test_names },
		{ "directories, segments, batches", test_dir_write_batch },
		{ "the bound drops the oldest", test_bound },
		{ "corrupt files and leftovers", test_corrupt_and_leftovers },
		{ "expired and token-less authorizations", test_prune },
		{ "open errors", test_open_errors },
	};

	fg_log_set_level(FG_LOG_INFO);
	return fg_cunit_run("flow_spool", tests, sizeof(tests) / sizeof(tests[0]));
}
