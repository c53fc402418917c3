/* SPDX-License-Identifier: MIT */
/*
 * Construction of the data plane from its configuration (dp.c): main lcore only, before
 * the workers start and after they stop.
 */
#ifndef FG_DP_SETUP_H
#define FG_DP_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dp.h"
#include "service.h"

struct fg_dp_options {
	uint32_t idle_sleep_us;
};

/* Pool, port, tables, rings, TUN (not yet configured) and worker slots. err names the cause. */
int fg_dp_init(struct fg_dp *dp, struct fg_config *cfg, const struct fg_dp_options *opt, char *err, size_t errlen);
/* TUN MTU, queue length, addresses, up, routes. */
int fg_dp_setup_host(struct fg_dp *dp, char *err, size_t errlen);
/* The private key and [Peer] sections into the service lcore's tables. */
int fg_dp_load_peers(struct fg_svc *s, const struct fg_config *cfg, char *err, size_t errlen);
/* Closes the TUN and the port (what the host and the wire see); idempotent. */
void fg_dp_release_host(struct fg_dp *dp);
void fg_dp_fini(struct fg_dp *dp);

#endif
