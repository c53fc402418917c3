/* SPDX-License-Identifier: MIT */
/*
 * The renderer's internals shared between its files (render.c: status, peers, resources,
 * stats; render_conn.c: ice, relays; render_nat.c: nat): field accessors that check every
 * type before use and the common start of a list table. Defined in render.c, but for the
 * stats sections of render_nat.c. Only for controlplane/ctl/; it
 * includes no header of the renderer's own, so no file includes in a circle. No state.
 */
#ifndef FG_CP_RENDER_PRIV_H
#define FG_CP_RENDER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "table.h"

enum {
	FG_RENDER_CELL_MAX = 512,   /* bytes of one cell built from a list (filters, addresses) */
	FG_RENDER_NUM_LEN = 24,
	FG_RENDER_INDENT = 2,
};

/* 0 when r is 0 and out has no error; -EIO on a write error; r when r < 0. */
int fg_render_finish(FILE *out, int r);
/* o[k] when o is an object, else NULL. */
const cJSON *fg_render_field(const cJSON *o, const char *k);
/* Missing or null. */
bool fg_render_absent(const cJSON *j);
/* A non-negative integer that the double holds exactly. */
bool fg_render_as_count(const cJSON *j, uint64_t *v);
/* The string at k; if_absent when null or missing, "?" for another type. */
const char *fg_render_text(const cJSON *o, const char *k, const char *if_absent);
/* The count at k in buf; if_absent when null or missing, "?" when not a count. */
const char *fg_render_count(const cJSON *o, const char *k, const char *if_absent, char *buf,
			    size_t len);
/* "yes"/"no" for a boolean at k; if_absent when null or missing, "?" for another type. */
const char *fg_render_yesno(const cJSON *o, const char *k, const char *if_absent);
/* Appends s to a cell being built in buf (*off bytes used), "..." once it is full. */
void fg_render_append(char *buf, size_t len, size_t *off, const char *s);
/* The array at resp[key], or NULL. */
const cJSON *fg_render_list(const cJSON *resp, const char *key);
/* The list under key, "no <key>" when it is empty, else a table t with its header row
 * (head[ncols], right: the right-aligned columns). 1 (table started: the caller frees it),
 * 0 (printed empty) or -EPROTO (no list under key). */
int fg_render_list_table(const cJSON *r, const char *key, const char *const head[], size_t ncols,
			 unsigned right, struct fg_table *t, const cJSON **l, FILE *out);

/* render_nat.c: the sections stats ends with (connection table, flows, p2p control, the
 * control plane's DNS resource counters), each left out when its object is absent. */
int fg_render_stats_nat(const cJSON *r, FILE *out);

#endif
