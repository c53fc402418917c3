// SPDX-License-Identifier: MIT
/*
 * DNS resource patterns (controlplane/dns/pattern.c) against tables: what each wildcard
 * matches and does not, the Rust gateway's specificity order (its own pattern_ordering test
 * reproduced), hostile patterns and names refused, and a naive reference matcher compared
 * on random patterns and names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "pattern.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *pattern, *domain;
	bool match;
} cases[] = {
	{ "example.com", "example.com", true },
	{ "example.com", "EXAMPLE.Com", true },
	{ "example.com", "example.com.", true },        /* the trailing dot */
	{ "example.com", "www.example.com", false },
	{ "example.com", "example.co", false },
	{ "*.example.com", "www.example.com", true },
	{ "*.example.com", "example.com", true },      /* the parent */
	{ "*.example.com", "EXAMPLE.COM", true },
	{ "*.example.com", "a.b.example.com", false },  /* one label only */
	{ "*.example.com", "wwwexample.com", false },
	{ "**.example.com", "example.com", true },
	{ "**.example.com", "a.example.com", true },
	{ "**.example.com", "a.b.c.example.com", true },
	{ "**.example.com", "example.org", false },
	{ "a.**.z", "a.z", true },
	{ "a.**.z", "a.b.c.z", true },
	{ "a.**.z", "b.z", false },
	{ "?.example.com", "a.example.com", true },
	{ "?.example.com", "ab.example.com", false },
	{ "?.example.com", "example.com", false },
	{ "web-??.corp", "web-01.corp", true },
	{ "web-??.corp", "web-1.corp", false },
	{ "*ample.com", "example.com", true },
	{ "*ample.com", "ample.com", true },
	{ "*ample.com", "x.example.com", false },
	{ "db*.internal", "db.internal", true },
	{ "db*.internal", "db-7.internal", true },
	{ "db*.internal", "web.internal", false },
	{ "*-*.x", "a-b.x", true },
	{ "*-*.x", "ab.x", false },
	{ "[ab]c.x", "ac.x", true },
	{ "[ab]c.x", "Bc.x", true },
	{ "[ab]c.x", "cc.x", false },
	{ "[!ab]c.x", "cc.x", true },
	{ "[!ab]c.x", "ac.x", false },
	{ "h[0-9].x", "h7.x", true },
	{ "h[0-9].x", "hx.x", false },
	{ "[]a].x", "].x", true },
	{ "*", "localhost", true },
	{ "*", "a.b", false },
	{ "**", "a.b.c", true },
	{ "*.*.com", "*.com", true },                  /* Rust's parent rule is literal */
	{ "*.*.com", "a.b.com", true },
	{ "*.*.com", "b.com", false },
};

static void test_matches(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		bool got = fg_dns_pattern_match(cases[i].pattern, cases[i].domain);

		if (got != cases[i].match)
			fprintf(stderr, "  %s vs %s: got %d\n", cases[i].pattern, cases[i].domain, got);
		CU_ASSERT_EQUAL(got, cases[i].match);
	}
}

static void test_bad_patterns_and_names(void)
{
	static const char *const bad[] = {
		"", ".", "a..b", ".a", "a.", "a**.b", "**a.b", "a.***", "[a", "a[b.c]", "[].x", "[!].x",
		"a b", "a\tb", "a\x7f", "\x01",
	};
	char err[128], longp[400];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		CU_ASSERT_EQUAL(fg_dns_pattern_check(bad[i], err, sizeof(err)), -EINVAL);
		CU_ASSERT_TRUE(err[0] != '\0');
		CU_ASSERT_FALSE(fg_dns_pattern_match(bad[i], "a.b"));
	}
	CU_ASSERT_EQUAL(fg_dns_pattern_check(NULL, NULL, 0), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CU_ASSERT_EQUAL(fg_dns_pattern_check(longp, err, sizeof(err)), -EINVAL);
	longp[255] = '\0';
	CU_ASSERT_EQUAL(fg_dns_pattern_check(longp, err, sizeof(err)), 0);
	/* names: empty, empty labels, too long, a label over 63, control bytes, NULL */
	CU_ASSERT_FALSE(fg_dns_pattern_match("**", ""));
	CU_ASSERT_FALSE(fg_dns_pattern_match("**", "."));
	CU_ASSERT_FALSE(fg_dns_pattern_match("**", "a..b"));
	CU_ASSERT_FALSE(fg_dns_pattern_match("**", "a\nb"));
	CU_ASSERT_FALSE(fg_dns_pattern_match("**", NULL));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[64] = '\0';
	CU_ASSERT_FALSE(fg_dns_pattern_match("*", longp));
	longp[63] = '\0';
	CU_ASSERT_TRUE(fg_dns_pattern_match("*", longp));
	memset(longp, 'a', sizeof(longp) - 1);
	for (size_t i = 1; i < 300; i += 2)
		longp[i] = '.';
	longp[299] = '\0';
	CU_ASSERT_FALSE(fg_dns_pattern_match("**", longp));   /* over 253 */
	longp[253] = '\0';
	CU_ASSERT_TRUE(fg_dns_pattern_match("**", longp));
}

/* The Rust gateway's own ordering test (tunnel-proto/src/dns/pattern.rs), as a sort. */
static int by_cmp(const void *a, const void *b)
{
	return fg_dns_pattern_cmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_rust_order(void)
{
	const char *in[] = {
		"**.example.com", "bar.example.com", "foo.example.com", "example.com", "*ample.com",
		"*.bar.example.com", "?.example.com", "*.com", "*.example.com",
	};
	static const char *const want[] = {
		"example.com", "bar.example.com", "*.bar.example.com", "foo.example.com",
		"?.example.com", "*.example.com", "**.example.com", "*ample.com", "*.com",
	};

	qsort(in, ARRAY_LEN(in), sizeof(in[0]), by_cmp);
	for (size_t i = 0; i < ARRAY_LEN(in); i++) {
		if (strcmp(in[i], want[i]))
			fprintf(stderr, "  position %zu: %s, want %s\n", i, in[i], want[i]);
		CU_ASSERT_STRING_EQUAL(in[i], want[i]);
	}
	CU_ASSERT_EQUAL(fg_dns_pattern_cmp("a.b", "a.b"), 0);
}

/* A total order: antisymmetric and transitive on random patterns. */
static void random_pattern(char *buf, unsigned *seed)
{
	static const char alphabet[] = "ab.*?";
	size_t n = 1 + (size_t)(rand_r(seed) % 8);

	for (size_t i = 0; i < n; i++)
		buf[i] = alphabet[rand_r(seed) % 5];
	buf[n] = '\0';
}

static void test_order_is_total(void)
{
	unsigned seed = 7;
	char a[16], b[16], c[16];

	for (int k = 0; k < 20000; k++) {
		int ab, bc, ac;

		random_pattern(a, &seed);
		random_pattern(b, &seed);
		random_pattern(c, &seed);
		ab = fg_dns_pattern_cmp(a, b);
		bc = fg_dns_pattern_cmp(b, c);
		ac = fg_dns_pattern_cmp(a, c);
		CU_ASSERT_EQUAL((ab > 0) - (ab < 0), -((fg_dns_pattern_cmp(b, a) > 0) - (fg_dns_pattern_cmp(b, a) < 0)));
		CU_ASSERT_EQUAL(ab == 0, strcmp(a, b) == 0);
		if (ab < 0 && bc < 0)
			CU_ASSERT_TRUE(ac < 0);
	}
}

/* A naive reference: labels compared recursively with plain backtracking (only `*`, `?`
 * and `**`; small inputs). */
static bool naive_label(const char *p, size_t pl, const char *d, size_t dl)
{
	if (!pl)
		return !dl;
	if (*p == '*')
		return naive_label(p + 1, pl - 1, d, dl) || (dl && naive_label(p, pl, d + 1, dl - 1));
	return dl && (*p == '?' || *p == *d) && naive_label(p + 1, pl - 1, d + 1, dl - 1);
}

/* p is `**` labels only. */
static bool naive_rest_any(const char *p)
{
	for (const char *q = p; *q; q += 3)
		if (strncmp(q, "**", 2) || (q[2] && q[2] != '.'))
			return false;
		else if (!q[2])
			return true;
	return false;
}

static bool naive(const char *p, const char *d)
{
	const char *pe = strchr(p, '.'), *de = strchr(d, '.');
	size_t pl = pe ? (size_t)(pe - p) : strlen(p), dl = de ? (size_t)(de - d) : strlen(d);

	if (pl == 2 && p[0] == '*' && p[1] == '*') {
		if (!pe)
			return true;
		if (naive(pe + 1, d))
			return true;
		return de && naive(p, de + 1);
	}
	if (!naive_label(p, pl, d, dl))
		return false;
	if (pe && !de)   /* only `**` labels may be left: they match no label */
		return naive_rest_any(pe + 1);
	if (!pe || !de)
		return !pe && !de;
	return naive(pe + 1, de + 1);
}

static void test_against_reference(void)
{
	unsigned seed = 11, checked = 0;
	char p[16], d[16];

	for (int k = 0; k < 50000; k++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % 7);

		random_pattern(p, &seed);
		for (size_t i = 0; i < n; i++)
			d[i] = "ab."[rand_r(&seed) % 3];
		d[n] = '\0';
		if (fg_dns_pattern_check(p, NULL, 0) < 0 || !fg_dns_pattern_match("**", d) || d[n - 1] == '.')
			continue;   /* malformed pattern or name; the trailing dot is the table's */
		bool want = naive(p, d) ||
			    (p[0] == '*' && p[1] == '.' && strcmp(p + 2, d) == 0);

		if (fg_dns_pattern_match(p, d) != want)
			fprintf(stderr, "  %s vs %s: want %d\n", p, d, want);
		CU_ASSERT_EQUAL(fg_dns_pattern_match(p, d), want);
		checked++;
	}
	CU_ASSERT_TRUE(checked > 1000);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "what each wildcard matches", test_matches },
		{ "hostile patterns and names refused", test_bad_patterns_and_names },
		{ "the Rust gateway's specificity order", test_rust_order },
		{ "the order is total", test_order_is_total },
		{ "against a naive reference matcher", test_against_reference },
	};

	return fg_cunit_run("dns_pattern", tests, ARRAY_LEN(tests));
}
