/* SPDX-License-Identifier: MIT */
/*
 * The transport AEAD behind one batch interface: a burst of WireGuard data messages is
 * sealed or opened in place in one call, with one of two backends chosen once at start-up
 * on the main lcore: Intel ipsec-mb's job API (AVX-512 / AVX2, 2.5-3x faster here) or
 * libsodium. The op arrays belong to the caller (each worker keeps its own). ipsec-mb needs
 * a manager per lcore: fg_aead_init() gives the calling (main = service) lcore its own and
 * every other lcore that calls the bursts takes its own with fg_aead_lcore_init(), so no
 * state is shared between lcores.
 */
#ifndef FG_AEAD_H
#define FG_AEAD_H

#include <stdint.h>

#include "aead_op.h"

enum fg_aead_backend {
	FG_AEAD_LIBSODIUM = 0,
	FG_AEAD_IPSECMB,
	FG_AEAD_AUTO, /* ipsec-mb when it runs with AVX2 or AVX-512 on this CPU, else libsodium */
};

/* The environment variable that overrides the backend given to fg_aead_init(). */
#define FG_AEAD_ENV "FASTGATE_AEAD"

/* "libsodium", "ipsec-mb" or "auto" (the spellings of FASTGATE_AEAD and of a config key)
 * into *out. Returns 0 or -EINVAL. */
int fg_aead_backend_parse(const char *s, enum fg_aead_backend *out);

/*
 * Main lcore, at start-up, before any other lcore uses the bursts (may be called again,
 * e.g. by tests, while no other lcore does). FASTGATE_AEAD, when set and not empty,
 * overrides `requested`; AUTO is resolved here. Also gives the calling lcore its manager
 * (the service lcore's). Returns 0, -EINVAL (FASTGATE_AEAD is not a backend name),
 * -ENOTSUP (ipsec-mb asked for but not built in or unusable on this CPU), -ENOMEM, or
 * -ENOSYS (libsodium failed to initialise). A config key is meant to be parsed with
 * fg_aead_backend_parse() and passed here; the environment still wins.
 */
int fg_aead_init(enum fg_aead_backend requested);

/* The backend in use after fg_aead_init(): FG_AEAD_LIBSODIUM or FG_AEAD_IPSECMB. */
enum fg_aead_backend fg_aead_backend(void);

/* "ipsec-mb-avx512", "ipsec-mb-avx2" ("ipsec-mb-avx", "ipsec-mb-sse" when forced on an
 * older CPU) or "libsodium": for the start-up log line and the stats. */
const char *fg_aead_backend_name(void);

/*
 * Each lcore (worker) that calls the bursts, once at its start, on its own thread, after
 * fg_aead_init(): allocates its ipsec-mb manager (about 200 KB, NUMA-local by first
 * touch); nothing with libsodium. Idempotent. Returns 0 or -errno (ENOMEM). A thread
 * without a manager still gets correct results: its bursts run on libsodium.
 */
int fg_aead_lcore_init(void);

/* Frees the calling thread's manager, if any: a worker when it stops, the main lcore at
 * shutdown. */
void fg_aead_lcore_fini(void);

/* Each returns the number of ops that succeeded; per-op results are in status. No
 * allocation, no system call, no logging. */
unsigned fg_aead_open_burst(struct fg_aead_op *ops, unsigned n);
unsigned fg_aead_seal_burst(struct fg_aead_op *ops, unsigned n);

#endif
