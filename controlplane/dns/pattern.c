// SPDX-License-Identifier: MIT
/*
 * DNS resource patterns (see pattern.h): a glob over labels. A label is matched with the
 * usual backtracking wildcard walk (linear for one `*`, bounded by the label's 63 bytes
 * otherwise); `**` labels are matched over the labels with a table of (pattern label,
 * domain label) results, so no pattern can make matching exponential.
 */
#include "pattern.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct label {
	const char *s;
	size_t len;
};

static int fail(char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool printable(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

/* Splits s (len bytes) at '.': false on an empty label or too many labels. */
static bool split(const char *s, size_t len, struct label *out, size_t *n)
{
	size_t start = 0;

	*n = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (i == start || *n == FG_DNS_LABELS_MAX)
			return false;
		out[(*n)++] = (struct label){ s + start, i - start };
		start = i + 1;
	}
	return true;
}

/* The end of the class that starts at p[i] == '[' (the index after its ']'), or 0 when it is
 * not closed within the label. `[]...]` and `[!]...]` take ']' as a member. */
static size_t class_end(const char *p, size_t len, size_t i)
{
	size_t j = i + 1;

	if (j < len && p[j] == '!')
		j++;
	if (j < len && p[j] == ']')
		j++;
	for (; j < len; j++)
		if (p[j] == ']')
			return j + 1;
	return 0;
}

static bool in_class(const char *p, size_t start, size_t end, char c)
{
	size_t i = start + 1;
	bool neg = false, hit = false;
	char lc = lower(c);

	if (p[i] == '!') {
		neg = true;
		i++;
	}
	for (bool first = true; i < end - 1; first = false) {
		char a = p[i];

		if (a == ']' && !first)
			break;
		if (i + 2 < end - 1 && p[i + 1] == '-') {
			char lo = lower(a), hi = lower(p[i + 2]);

			hit |= (lc >= lo && lc <= hi) || (c >= a && c <= p[i + 2]);
			i += 3;
		} else {
			hit |= lower(a) == lc;
			i++;
		}
	}
	return hit != neg;
}

/* One character of the pattern at p[*i] against c; *i moves past it. */
static bool one(const char *p, size_t len, size_t *i, char c)
{
	size_t e;

	if (p[*i] == '?') {
		(*i)++;
		return true;
	}
	if (p[*i] == '[' && (e = class_end(p, len, *i))) {
		bool hit = in_class(p, *i, e, c);

		*i = e;
		return hit;
	}
	return lower(p[(*i)++]) == lower(c);
}

static bool label_match(const struct label *p, const struct label *d)
{
	size_t pi = 0, di = 0, star = SIZE_MAX, mark = 0;

	while (di < d->len) {
		size_t next = pi;

		if (pi < p->len && p->s[pi] == '*') {
			star = pi++;
			mark = di;
			continue;
		}
		if (pi < p->len && one(p->s, p->len, &next, d->s[di])) {
			pi = next;
			di++;
			continue;
		}
		if (star == SIZE_MAX)
			return false;
		pi = star + 1;
		di = ++mark;
	}
	while (pi < p->len && p->s[pi] == '*')
		pi++;
	return pi == p->len;
}

int fg_dns_pattern_check(const char *pattern, char *err, size_t errlen)
{
	struct label l[FG_DNS_LABELS_MAX];
	size_t len, n;

	if (!pattern || !*pattern)
		return fail(err, errlen, "empty pattern");
	len = strnlen(pattern, FG_DNS_PATTERN_MAX + 1);
	if (len > FG_DNS_PATTERN_MAX)
		return fail(err, errlen, "pattern longer than 255 characters");
	for (size_t i = 0; i < len; i++)
		if (!printable(pattern[i]))
			return fail(err, errlen, "a space or a non-printable character in the pattern");
	if (!split(pattern, len, l, &n))
		return fail(err, errlen, "an empty label, or more than 128 labels");
	for (size_t k = 0; k < n; k++) {
		const char *s = l[k].s;

		if (l[k].len == 2 && s[0] == '*' && s[1] == '*')
			continue;
		for (size_t i = 0; i < l[k].len; i++) {
			if (s[i] == '*' && i + 1 < l[k].len && s[i + 1] == '*')
				return fail(err, errlen, "`**` is only allowed as a whole label");
			if (s[i] == '[') {
				size_t e = class_end(s, l[k].len, i);

				if (!e)
					return fail(err, errlen, "a `[` class is not closed within its label");
				if (e - i < 3 || (s[i + 1] == '!' && e - i < 4))
					return fail(err, errlen, "an empty `[` class");
				i = e - 1;
			}
		}
	}
	return 0;
}

bool fg_dns_pattern_match(const char *pattern, const char *domain)
{
	struct label p[FG_DNS_LABELS_MAX], d[FG_DNS_LABELS_MAX];
	bool dp[FG_DNS_LABELS_MAX + 1][FG_DNS_LABELS_MAX + 1];
	size_t dlen, np, nd;

	if (!domain || fg_dns_pattern_check(pattern, NULL, 0) < 0)
		return false;
	dlen = strnlen(domain, FG_DNS_NAME_MAX + 2);
	if (dlen && domain[dlen - 1] == '.')
		dlen--;
	if (!dlen || dlen > FG_DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < dlen; i++)
		if (!printable(domain[i]))
			return false;
	if (!split(domain, dlen, d, &nd) || !split(pattern, strlen(pattern), p, &np))
		return false;
	for (size_t k = 0; k < nd; k++)
		if (d[k].len > FG_DNS_LABEL_MAX)
			return false;
	/* `*.rest` also names `rest` itself (Firezone's parent rule). */
	if (pattern[0] == '*' && pattern[1] == '.' && strlen(pattern + 2) == dlen &&
	    strncasecmp(pattern + 2, domain, dlen) == 0)
		return true;
	/* dp[i][j]: pattern labels i.. match domain labels j.. */
	for (size_t j = 0; j <= nd; j++)
		dp[np][j] = j == nd;
	for (size_t i = np; i-- > 0;) {
		bool any = p[i].len == 2 && p[i].s[0] == '*' && p[i].s[1] == '*';

		for (size_t j = nd + 1; j-- > 0;) {
			if (any)
				dp[i][j] = dp[i + 1][j] || (j < nd && dp[i][j + 1]);
			else
				dp[i][j] = j < nd && dp[i + 1][j + 1] && label_match(&p[i], &d[j]);
		}
	}
	return dp[0][0];
}

static bool wild(int c)
{
	return c == '*' || c == '?';
}

int fg_dns_pattern_cmp(const char *a, const char *b)
{
	size_t i = strlen(a), j = strlen(b);

	/* From the right, so that `*.example.com` and `www.example.com` meet at `example.com`. */
	for (;;) {
		int x = i ? (unsigned char)a[--i] : -1, y = j ? (unsigned char)b[--j] : -1;

		if (x == y && x >= 0)
			continue;
		if (x < 0 && y < 0)
			return 0;
		if (x == '*' && y == '?')
			return 1;
		if (x == '?' && y == '*')
			return -1;
		/* only a wildcard apart: the wildcard comes later */
		if (wild(x) && (y < 0 || y == '.'))
			return 1;
		if ((x < 0 || x == '.') && wild(y))
			return -1;
		if (wild(x) && y >= 0)
			return 1;
		if (x >= 0 && wild(y))
			return -1;
		if (x >= 0 && y >= 0)
			return x < y ? 1 : -1;   /* lexically, reversed: we walk from the right */
		return x >= 0 ? 1 : -1;      /* the shorter first */
	}
}
