// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the Prometheus text of /metrics (controlplane/metrics.c): any bytes
 * as the data plane's STATS_REPLY (the first sizeof bytes, zero-padded), and the rest, cut
 * at its NULs, as the data plane's version, a label value and a help text. The text must
 * be what a strict reader of exposition format 0.0.4 takes: UTF-8, no control character but
 * the line ends, each family's HELP then TYPE (counter or gauge, a counter's name ending in
 * _total) once, before its samples; each sample of the family above it, with valid label
 * names, values escaped (only \\, \" and \n) and a number.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	MAX_FAMILIES = 256,
};

static size_t utf8_ok(const unsigned char *p, size_t left)
{
	uint32_t cp, min;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1fu, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0fu, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	return cp >= min && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? n : 0;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* The name at s (its length, 0 if none). */
static size_t name_len(const char *s, const char *end)
{
	size_t n = 0;

	while (s + n < end && name_char(s[n], n == 0))
		n++;
	return n;
}

/* A sample line of the family `family`. */
static void check_sample(const char *s, const char *end, const char *family, size_t flen)
{
	size_t n = name_len(s, end);
	char *num_end;

	CHECK(n == flen && memcmp(s, family, n) == 0);
	s += n;
	if (s < end && *s == '{') {
		s++;
		for (;;) {
			n = name_len(s, end);
			CHECK(n > 0 && memchr(s, ':', n) == NULL && !(n >= 2 && s[0] == '_' && s[1] == '_'));
			s += n;
			CHECK(end - s >= 2 && s[0] == '=' && s[1] == '"');
			for (s += 2; s < end && *s != '"'; s++)
				if (*s == '\\') {
					CHECK(s + 1 < end && (s[1] == '\\' || s[1] == '"' || s[1] == 'n'));
					s++;
				}
			CHECK(s < end && *s == '"');
			s++;
			CHECK(s < end && (*s == ',' || *s == '}'));
			if (*s++ == '}')
				break;
		}
	}
	CHECK(s < end && *s == ' ');
	s++;
	CHECK(s < end);
	if (!(end - s == 3 && memcmp(s, "NaN", 3) == 0) && !(end - s == 4 && (memcmp(s, "+Inf", 4) == 0 ||
									   memcmp(s, "-Inf", 4) == 0))) {
		char num[64];

		CHECK((size_t)(end - s) < sizeof(num));
		memcpy(num, s, (size_t)(end - s));
		num[end - s] = '\0';
		strtod(num, &num_end);
		CHECK(*num_end == '\0');
	}
}

static void check_text(const char *text, size_t len)
{
	const char *families[MAX_FAMILIES], *family = NULL, *p = text, *end = text + len;
	size_t nfam = 0, flen = 0;
	bool helped = false;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_ok((const unsigned char *)text + i, len - i);

		CHECK(n > 0 && ((unsigned char)text[i] >= 0x20 || text[i] == '\n') && text[i] != 0x7f);
		i += n;
	}
	CHECK(len == 0 || text[len - 1] == '\n');
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		if (strncmp(p, "# HELP ", 7) == 0) {
			n = name_len(p + 7, eol);
			CHECK(n > 0 && p[7 + n] == ' ');
			for (size_t k = 0; k < nfam; k++)
				CHECK(strlen(families[k]) != n || memcmp(families[k], p + 7, n) != 0);
			CHECK(nfam < MAX_FAMILIES);
			families[nfam] = strndup(p + 7, n);
			CHECK(families[nfam]);
			family = families[nfam++];
			flen = n;
			helped = true;
			for (const char *h = p + 8 + n; h < eol; h++)
				if (*h == '\\') {
					CHECK(h + 1 < eol && (h[1] == '\\' || h[1] == 'n'));
					h++;
				}
		} else if (strncmp(p, "# TYPE ", 7) == 0) {
			CHECK(helped && family && (size_t)(eol - p) > 7 + flen && memcmp(p + 7, family, flen) == 0);
			if (eol - (p + 7 + flen) == 8 && memcmp(p + 7 + flen, " counter", 8) == 0)
				CHECK(flen > 6 && memcmp(family + flen - 6, "_total", 6) == 0);
			else
				CHECK(eol - (p + 7 + flen) == 6 && memcmp(p + 7 + flen, " gauge", 6) == 0 &&
				      !(flen > 6 && memcmp(family + flen - 6, "_total", 6) == 0));
			helped = false;
		} else {
			CHECK(family && !helped);
			check_sample(p, eol, family, flen);
		}
		p = eol + 1;
	}
	for (size_t k = 0; k < nfam; k++)
		free((void *)families[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_ctl_stats_reply st;
	struct fg_metrics m;
	size_t n = size < sizeof(st) ? size : sizeof(st), len = 0;
	char *rest = malloc(size - n + 3), *version, *value, *help, *text;

	if (!rest)
		return 0;
	memset(&st, 0, sizeof(st));
	memcpy(&st, data, n);
	/* the rest, NUL-terminated thrice: version, label value and help, cut at its NULs */
	memcpy(rest, data + n, size - n);
	memset(rest + size - n, 0, 3);
	version = rest;
	value = version + strlen(version) + 1;
	help = value + strlen(value) + 1;
	fg_metrics_init(&m);
	fg_metrics_stats_reply(&m, &st, version);
	fg_metrics_family(&m, "fastgate_fuzz_total", FG_METRIC_COUNTER, help);
	fg_metrics_u64(&m, FG_METRIC_LABELS({ "v", value }, { "w", version }), size);
	fg_metrics_f64(&m, FG_METRIC_LABELS({ "v", help }), (double)st.tsc_hz / 3.0);
	CHECK(m.refused == 0);
	text = fg_metrics_take(&m, &len);
	if (text) {
		CHECK(strlen(text) == len);
		check_text(text, len);
	}
	free(text);
	free(rest);
	return 0;
}
