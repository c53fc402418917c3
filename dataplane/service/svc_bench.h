/* SPDX-License-Identifier: MIT */
/*
 * The fixed test sessions of a bench build (meson option bench_sessions, FG_BENCH_SESSIONS):
 * fastgate-dataplane --bench-sessions FILE installs, for every client of keys.txt
 * (fastgate-gen-pcaps, common/benchkeys.h), what a finished handshake would have left, so
 * that the generator's data pcaps decrypt in the real daemon: the peer (the one of the
 * configuration with that public key, or a new one with the generator's AllowedIPs
 * 100.64.1.(i+1)/32), a CURRENT keypair with the session's keys and indexes, marked as a
 * bench session (its replay window starts over on every lap of a looped pcap:
 * dataplane/worker/benchlap.h), and a path to the client's endpoint, 198.18.0.2:<sport>
 * (the generator's default source address), which follows the first authenticated
 * message as roaming does. A bench keypair does not age (its birth is in the future, so
 * neither REJECT_AFTER_TIME nor a rekey applies), and fg_svc_bench_tick keeps the peer's
 * zero-keys timer from firing, since a replayed initiation may have armed it. Everything
 * goes through the service lcore's writer API, before the workers start. In other builds
 * the functions are stubs and main.c refuses the option before anything starts.
 * Service lcore only.
 */
#ifndef FG_SVC_BENCH_H
#define FG_SVC_BENCH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "benchkeys.h"

struct fg_svc;

/* The client endpoint a bench session starts with (host order): fastgate-gen-pcaps's
 * default --src-ip, 198.18.0.2. */
#define FG_SVC_BENCH_ENDPOINT_IP4 ((198u << 24) | (18u << 16) | 2u)

#ifdef FG_BENCH_SESSIONS
enum { FG_SVC_BENCH_BUILT = 1 };
/* Installs every client of k (see above). 0, or -errno with err naming the client and the
 * cause; sessions installed before the failing one stay (the caller stops the start). */
int fg_svc_bench_install(struct fg_svc *s, const struct fg_benchkeys *k, char *err, size_t errlen);
/* fg_benchkeys_load, fg_svc_bench_install, then the parsed keys are wiped. Returns the
 * number of sessions, or -errno with err set. */
int fg_svc_bench_load(struct fg_svc *s, const char *path, char *err, size_t errlen);
/* From the service's timer scan: pushes back the zero-keys timer of every peer whose
 * CURRENT keypair is a bench session. */
void fg_svc_bench_tick(struct fg_svc *s, uint64_t now);
#else
enum { FG_SVC_BENCH_BUILT = 0 };
static inline int fg_svc_bench_load(struct fg_svc *s, const char *path, char *err, size_t errlen)
{
	(void)s;
	(void)path;
	(void)err;
	(void)errlen;
	return -ENOTSUP;
}

static inline void fg_svc_bench_tick(struct fg_svc *s, uint64_t now)
{
	(void)s;
	(void)now;
}
#endif

#endif
