/* SPDX-License-Identifier: MIT */
/*
 * fastgatectl's human output: one function per command turns the control plane's JSON
 * response (schemas in cpctl_server.h) into aligned tables and key/value blocks, with byte
 * counts as wg(8) prints them ("10.42 MiB") and times relative to a given now ("3 seconds
 * ago"). Defensive by design, since the response comes from another process: a field that
 * is null or absent prints as a word chosen per field ("-", "never", "none"), one of the
 * wrong type prints "?", and text is stripped of control characters and invalid UTF-8 so
 * a resource name cannot drive the terminal. No state; safe from any thread.
 */
#ifndef FG_CP_RENDER_H
#define FG_CP_RENDER_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

enum {
	FG_RENDER_BYTES_LEN = 24,   /* "1023.99 TiB" and beyond */
	FG_RENDER_TIME_LEN = 96,    /* the longest duration or relative time, NUL included */
};

/* Renders the response to cmd ("status", "peers", "resources", "relays", "stats", "ice",
 * "flows", "nat").
 * now is the Unix time that relative times are computed against. 0; -EINVAL for another
 * cmd; -EPROTO when resp lacks its top-level shape (not an object; for the lists, no list
 * under fg_render_list_key(cmd)), nothing written then; -EIO when writing fails; -ENOMEM. */
int fg_render(const char *cmd, const cJSON *resp, time_t now, FILE *out);
int fg_render_status(const cJSON *resp, time_t now, FILE *out);
int fg_render_peers(const cJSON *resp, time_t now, FILE *out);
int fg_render_resources(const cJSON *resp, time_t now, FILE *out);
int fg_render_stats(const cJSON *resp, time_t now, FILE *out);
/* render_conn.c: TURN allocations (the old shape too: id, addrs, username, expires_at) and
 * the ICE agents per client. */
int fg_render_relays(const cJSON *resp, time_t now, FILE *out);
int fg_render_ice(const cJSON *resp, time_t now, FILE *out);
/* render_flow.c: flow logs (uploads, spool, counters) and the recent flows as a table. */
int fg_render_flows(const cJSON *resp, time_t now, FILE *out);
/* render_nat.c: DNS resource NAT per client (domains, proxy IP -> real IP, live tuples). */
int fg_render_nat(const cJSON *resp, time_t now, FILE *out);
/* The list a command's response must hold ("agents" for "ice", "clients" for "nat", else the
 * command's own name), for the error message; NULL for status and stats, which hold none. */
const char *fg_render_list_key(const char *cmd);

/* "512 B", "1.50 KiB", "10.42 MiB", "2.00 GiB", "3.10 TiB". Returns buf. */
char *fg_render_bytes(uint64_t bytes, char *buf, size_t len);
/* "1 year, 2 days, 3 hours, 4 minutes, 5 seconds", zero units left out; "0 seconds". */
char *fg_render_duration(uint64_t secs, char *buf, size_t len);
/* t against now: "3 seconds ago", "in 2 minutes", "now". Returns buf. */
char *fg_render_when(int64_t t, time_t now, char *buf, size_t len);

#endif
