// SPDX-License-Identifier: MIT
/*
 * Aligned text tables and text cleaning for fastgatectl (see table.h). No state.
 */
#include "table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid, printable UTF-8 sequence at s (n bytes left), or 0. C0 and C1
 * controls, overlong forms, surrogates and code points past U+10FFFF all count as invalid. */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

	if (k == 0 || k > n)
		return 0;
	for (size_t j = 1; j < k; j++)
		if ((s[j] & 0xc0) != 0x80)
			return 0;
	switch (k) {
	case 1:
		return (c < 0x20 || c == 0x7f) ? 0 : 1;
	case 2:
		return (c < 0xc2 || (c == 0xc2 && s[1] < 0xa0)) ? 0 : 2;
	case 3:
		return ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)) ? 0 : 3;
	default:
		return ((c == 0xf0 && s[1] < 0x90) || c > 0xf4 || (c == 0xf4 && s[1] >= 0x90)) ? 0 : 4;
	}
}

/* A copy of s that is safe to print: every invalid or control byte becomes '?'. */
char *fg_table_clean(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_ok((const unsigned char *)s + i, n - i);

		if (k) {
			memcpy(d + o, s + i, k);
			o += k;
			i += k;
		} else {
			d[o++] = '?';
			i++;
		}
	}
	d[o] = '\0';
	return d;
}

/* Display width of clean text: one column per code point. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void fg_table_init(struct fg_table *t, size_t ncols, unsigned int right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = right;
}

void fg_table_free(struct fg_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* Starts a row; its cells are set with fg_table_cell()/fg_table_cellf(). */
void fg_table_row(struct fg_table *t)
{
	if (t->oom)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));

		if (!cells) {
			t->oom = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(*t->cells));
	t->nrows++;
}

void fg_table_cell(struct fg_table *t, size_t col, const char *s)
{
	char **slot;

	if (t->oom || t->nrows == 0 || col >= t->ncols)
		return;
	slot = &t->cells[(t->nrows - 1) * t->ncols + col];
	free(*slot);
	*slot = fg_table_clean(s);
	if (!*slot)
		t->oom = true;
}

void fg_table_cellf(struct fg_table *t, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void fg_table_cellf(struct fg_table *t, size_t col, const char *fmt, ...)
{
	char buf[FG_TABLE_CELL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fg_table_cell(t, col, buf);
}

/* Prints the rows with columns FG_TABLE_GAP apart, indent spaces first, no trailing blanks. */
int fg_table_print(const struct fg_table *t, int indent, FILE *out)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	size_t linecap = (size_t)indent + 1;
	char *line;

	if (!w || t->oom) {
		free(w);
		return -ENOMEM;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		size_t bytes = 0;

		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t sw = s ? width(s) : 0;

			if (sw > w[c])
				w[c] = sw;
			bytes += s ? strlen(s) : 0;
		}
		if (bytes > linecap)
			linecap = bytes;
	}
	for (size_t c = 0; c < t->ncols; c++)
		linecap += w[c] + FG_TABLE_GAP;
	linecap += (size_t)indent + 1;
	line = malloc(linecap);
	if (!line) {
		free(w);
		return -ENOMEM;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		size_t o = 0;

		memset(line, ' ', (size_t)indent);
		o = (size_t)indent;
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t len = s ? strlen(s) : 0, pad = w[c] - (s ? width(s) : 0);

			if (c)
				for (int g = 0; g < FG_TABLE_GAP; g++)
					line[o++] = ' ';
			if (t->right & (1u << c)) {
				memset(line + o, ' ', pad);
				o += pad;
			}
			memcpy(line + o, s ? s : "", len);
			o += len;
			if (!(t->right & (1u << c))) {
				memset(line + o, ' ', pad);
				o += pad;
			}
		}
		while (o > 0 && line[o - 1] == ' ')
			o--;
		line[o++] = '\n';
		fwrite(line, 1, o, out);
	}
	free(line);
	free(w);
	return 0;
}

/* Prints a block of "label:  value" lines, values aligned. pairs: label, value, ..., NULL. */
int fg_table_kv(FILE *out, int indent, ...)
{
	struct fg_table t;
	const char *label;
	va_list ap;
	int r;

	fg_table_init(&t, 2, 0);
	va_start(ap, indent);
	while ((label = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);

		fg_table_row(&t);
		fg_table_cellf(&t, 0, "%s:", label);
		fg_table_cell(&t, 1, value);
	}
	va_end(ap);
	r = fg_table_print(&t, indent, out);
	fg_table_free(&t);
	return r;
}

