/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for the fastgatectl socket suites: a fake control plane served by the real
 * cpctl_server.c in a thread, canned servers that answer with fixed bytes, and raw-socket
 * helpers. All sockets live in a private directory (fs_dir) made by fs_setup(). The server
 * threads own the cpctl_server module while they run; the caller's thread only uses sockets.
 */
#ifndef FG_FAKE_SERVER_H
#define FG_FAKE_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

extern char fs_dir[64];              /* a fresh directory under /tmp */
extern char fs_path[108];            /* fs_dir/controlplane.sock */
extern atomic_int fs_npeers;         /* peers in the fake "peers" answer (default 2) */
extern atomic_int fs_stats_calls;    /* "stats" calls; the fake answers NULL (an error) */
extern atomic_int fs_status_calls;   /* "status" calls */
extern const char fs_status_line[];  /* the exact "status" response line, no newline */
extern const char fs_nat_line[];     /* the exact "nat" response line, no newline */

/* Makes fs_dir and fs_path; 0 or -errno. fs_teardown() removes them. */
int fs_setup(void);
void fs_teardown(void);

/* The fake control plane on fs_path: status, peers (fs_npeers of them), resources (empty,
 * with "conns": the server's connection count), relays (empty), stats (NULL), nat (one
 * client, tuples unavailable). */
void fs_server_start(void);
void fs_server_stop(void);

/* A server on fs_path that reads each request line and answers it with exactly reply
 * (len bytes), then closes that connection; reply NULL: never answers, holds it open. */
void fs_canned_start(const char *reply, size_t len);
void fs_canned_stop(void);

int fs_connect(const char *path);
void fs_send(int fd, const char *s, size_t len);
/* One line without its newline (malloc'd), waiting at most 60 s; NULL at EOF or timeout. */
char *fs_line(int fd);
/* True when the peer closed (EOF or reset) within 60 s. */
bool fs_closed(int fd);
/* One request through fg_ctl_client_request(), which must return expect; the line or NULL. */
char *fs_ask(const char *cmd, int expect);
/* The fake server's open connections, not counting the one that asks. */
int fs_server_conns(void);
/* Waits up to 2 s for fs_server_conns() to reach 0. */
bool fs_server_idle(void);

#endif
