/* SPDX-License-Identifier: MIT */
/*
 * A service lcore for in-process tests: a struct fg_dp with an mbuf pool, the peer tables,
 * the allowed-IPs table and the rings the service uses, but no port, no TUN and no worker
 * lcore, and a struct fg_svc over it. What the service sends (worker 0's svc_tx ring) is
 * drained and freed by fg_svc_env_drain(). The EAL must be up (--no-huge is enough). Main
 * lcore only; one environment at a time.
 */
#ifndef FG_SVC_ENV_H
#define FG_SVC_ENV_H

#include <stdint.h>

#include "dp.h"
#include "service.h"

struct fg_svc_env {
	struct fg_dp dp;
	struct fg_svc svc;
};

/* Starts the EAL once per process with the in-process test arguments (no PCI, no huge
 * pages, no shared config, no telemetry). 0 or -errno. */
int fg_svc_env_eal(const char *prog);
/* 0 or -errno. max_peers small keeps the tables small. */
int fg_svc_env_init(struct fg_svc_env *e, uint32_t max_peers);
/* Frees every mbuf the service queued for the wire; returns how many. */
unsigned fg_svc_env_drain(struct fg_svc_env *e);
void fg_svc_env_fini(struct fg_svc_env *e);

#endif
