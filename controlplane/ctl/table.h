/* SPDX-License-Identifier: MIT */
/*
 * Text tables for fastgatectl's human output: rows of cells, columns aligned by display
 * width (one column per code point) and COL_GAP apart, some right-aligned, no trailing
 * blanks. Every cell is cleaned on the way in (control characters and invalid UTF-8 become
 * '?'), since the text comes from the portal through another process. Allocation failures
 * are remembered and reported by fg_table_print(). No state beyond the table itself; safe
 * from any thread.
 */
#ifndef FG_CP_TABLE_H
#define FG_CP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
	FG_TABLE_GAP = 2,          /* spaces between columns */
	FG_TABLE_CELL_MAX = 512,   /* bytes of one fg_table_cellf() cell */
};

struct fg_table {
	size_t ncols;
	size_t nrows;
	size_t cap;
	unsigned int right;  /* bit c: column c is right-aligned */
	char **cells;        /* nrows * ncols; NULL prints as nothing */
	bool oom;
};

/* right: a mask of right-aligned columns (at most 32 columns). */
void fg_table_init(struct fg_table *t, size_t ncols, unsigned int right);
void fg_table_free(struct fg_table *t);
/* Starts a row; its cells are then set with fg_table_cell()/fg_table_cellf(). */
void fg_table_row(struct fg_table *t);
void fg_table_cell(struct fg_table *t, size_t col, const char *s);
void fg_table_cellf(struct fg_table *t, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints every row, indent spaces first. 0 or -ENOMEM (nothing printed then). */
int fg_table_print(const struct fg_table *t, int indent, FILE *out);
/* Prints "label:  value" lines with the values aligned. Arguments: label, value, ..., NULL. */
int fg_table_kv(FILE *out, int indent, ...);
/* A malloc'd copy of s with every control character or invalid UTF-8 byte replaced by '?'. */
char *fg_table_clean(const char *s);

#endif
