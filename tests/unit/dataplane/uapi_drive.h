/* SPDX-License-Identifier: MIT */
/*
 * A line-level driver of the UAPI server over several connections at once, shared by the
 * unit-speed regression (test_uapi_server.c, steps from a seeded PRNG) and the libFuzzer
 * harness (tests/fuzz/fuzz_uapi_multi.c, steps from the fuzzer's bytes). Each step writes
 * one UAPI line (from a small grammar over four peer keys) on one of FG_UAPI_DRIVE_CONNS
 * socketpair connections, or splits a line, reads replies, or closes and reopens a
 * connection; the server is polled after every step. After each step the driver checks
 * that no allowed IP belongs to a peer that does not exist (cryptokey routing stays
 * consistent) and that the server's connection count is sane. A crash is the other
 * failure the harness looks for.
 */
#ifndef FG_UAPI_DRIVE_H
#define FG_UAPI_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc_env.h"

enum {
	FG_UAPI_DRIVE_CONNS = 3,
};

struct fg_uapi_server;

struct fg_uapi_drive {
	struct fg_svc_env *env;
	struct fg_uapi_server *u;
	char dir[64];
	int fd[FG_UAPI_DRIVE_CONNS];     /* our ends; -1 when closed */
	char held[FG_UAPI_DRIVE_CONNS][128]; /* second half of a split line, not yet written */
	bool in_set[FG_UAPI_DRIVE_CONNS];    /* inside a set request (its blank line not sent) */
	uint64_t steps;
	char why[160];                    /* the first invariant broken */
};

/* Opens a UAPI server in a fresh temporary directory and the connections. 0 or -errno. */
int fg_uapi_drive_init(struct fg_uapi_drive *d, struct fg_svc_env *env);
/* One step from two bytes. Returns false once an invariant is broken (see d->why). */
bool fg_uapi_drive_step(struct fg_uapi_drive *d, uint8_t op, uint8_t arg);
/* Ends every request (blank lines), closes everything and removes the directory. */
void fg_uapi_drive_fini(struct fg_uapi_drive *d);

#endif
