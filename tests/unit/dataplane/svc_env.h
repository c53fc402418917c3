/* SPDX-License-Identifier: MIT */
/*
 * An in-process data plane for tests: the daemon's own constructor, fg_dp_init(), with one
 * worker over a net_ring port whose RX and TX rings the test holds, an AF_UNIX datagram
 * socketpair in place of the TUN, and a struct fg_svc over it. Nothing runs by itself: the
 * test calls fg_worker_poll() and fg_svc_poll() on the main lcore (the worker is not a QSBR
 * reader, so the service's grace periods never wait for it). Tests of the service alone
 * ignore the port and the TUN: what the service sends (worker 0's svc_tx ring) is drained
 * and freed by fg_svc_env_drain(). The EAL must be up (--no-huge is enough). Main lcore
 * only; one environment at a time.
 */
#ifndef FG_SVC_ENV_H
#define FG_SVC_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

#include "config.h"
#include "dp.h"
#include "service.h"
#include "svc_state.h"

/* The data plane's outer side is 198.18.0.1/15 (host order here), port 51820. */
#define FG_SVC_ENV_LOCAL_IP ((198u << 24) | (18u << 16) | 1u)

enum fg_svc_env_limits {
	FG_SVC_ENV_LISTEN_PORT = 51820,
	FG_SVC_ENV_MTU = 1420,
	FG_SVC_ENV_PORT_RING = 1024,  /* each of the port's two rings */
};

struct fg_svc_env {
	struct fg_config cfg;   /* what fg_dp_init() built dp from */
	struct fg_dp dp;
	struct fg_svc svc;
	struct rte_ring *rx;    /* frames the test puts here reach worker 0 (port RX queue 0) */
	struct rte_ring *tx;    /* frames worker 0 sent (port TX queue 0): the test frees them */
	int tun[2];             /* [0] worker 0's TUN queue, [1] the host's end, for the test */
	bool port_made;
};

/* Starts the EAL once per process with the in-process test arguments (no PCI, no huge
 * pages, no shared config, no telemetry). 0 or -errno. */
int fg_svc_env_eal(const char *prog);
/* 0 or -errno (the cause on stderr). max_peers small keeps the tables small. */
int fg_svc_env_init(struct fg_svc_env *e, uint32_t max_peers);
/* Frees every mbuf the service queued for the wire; returns how many. */
unsigned fg_svc_env_drain(struct fg_svc_env *e);
/* Undoes what init did, also after a failed init; a no-op on a zeroed struct. */
void fg_svc_env_fini(struct fg_svc_env *e);

#endif
