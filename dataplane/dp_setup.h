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

/*
 * What is not configuration. The daemon sets only idle_sleep_us; the bench and the in-process
 * tests (no config file: fg_config_defaults() and a few fields) set the rest. The port is
 * always [Uplink] Port, an ethdev port id: the daemon's comes from the EAL (PCI or --vdev), a
 * caller that made one itself (rte_eth_from_rings, a probed net_pcap) puts its id there.
 */
struct fg_dp_options {
	uint32_t idle_sleep_us;
	/* One fd per worker ([Dataplane] Workers of them) that the worker reads and writes as
	 * its TUN queue, packet per datagram (an AF_UNIX SOCK_DGRAM socketpair end, /dev/null;
	 * -1 = none): no TUN device is opened, and fg_dp_setup_host() fails. The caller owns
	 * and closes them. NULL: the TUN of [Host]. */
	const int *tun_fds;
	/* The caller runs fg_worker_poll() itself, on lcores it picks (the bench's worker 0 on
	 * the main lcore, the tests all on the main lcore): the EAL needs no worker lcore per
	 * worker and struct fg_worker's lcore is left 0. false: the EAL's worker lcores in
	 * order, for rte_eal_remote_launch(fg_worker_main). */
	bool caller_lcores;
	/* Allowed-IPs rules per family. Both 0: MaxPeers * 4 + 1024 each. Otherwise exactly
	 * these, and a family with 0 gets no trie at all (route.h: 256 KiB saved). */
	uint32_t allowed_rules_v4;
	uint32_t allowed_rules_v6;
};

/* Pool, port, tables, rings, TUN (not yet configured) and worker slots. cfg must outlive dp.
 * 0, or -errno with err naming the cause and nothing left held (as after fg_dp_fini). */
int fg_dp_init(struct fg_dp *dp, struct fg_config *cfg, const struct fg_dp_options *opt, char *err, size_t errlen);
/* TUN MTU, queue length, addresses, up, routes. */
int fg_dp_setup_host(struct fg_dp *dp, char *err, size_t errlen);
/* The private key and [Peer] sections into the service lcore's tables. */
int fg_dp_load_peers(struct fg_svc *s, const struct fg_config *cfg, char *err, size_t errlen);
/* Closes the TUN and the port (what the host and the wire see); idempotent. */
void fg_dp_release_host(struct fg_dp *dp);
/* Frees what fg_dp_init took outside the EAL's memory (the allowed-IPs index), for an exit
 * that leaves the rest to rte_eal_cleanup(); idempotent. */
void fg_dp_release_heap(struct fg_dp *dp);
/* Frees everything fg_dp_init made (mbufs still on the caller's rings must go back first)
 * and leaves dp empty; idempotent, and a no-op on a zeroed struct. Not the caller's TUN fds
 * nor the vdev behind its port. */
void fg_dp_fini(struct fg_dp *dp);

#endif
