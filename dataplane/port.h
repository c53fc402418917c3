/* SPDX-License-Identifier: MIT */
/*
 * NIC port set-up on the main lcore before the workers start: one RX and one TX queue per
 * worker, RSS across them when there is more than one, and requested offloads masked to
 * what the PMD supports. Errors name the port, the queue and the cause.
 */
#ifndef FG_PORT_H
#define FG_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

struct fg_port_conf {
	uint16_t port;
	uint16_t nqueues;
	uint16_t rx_desc;
	uint16_t tx_desc;
	struct rte_mempool *pool;
};

/* 0, or -errno with err = "port 0 (net_af_packet0) queue 1: rx queue setup: Invalid argument". */
int fg_port_setup(const struct fg_port_conf *c, struct rte_ether_addr *mac, char *err, size_t errlen);
/* The kernel interface behind the port (a net_af_packet vdev's iface), 0 when it has none. */
int fg_port_ifindex(uint16_t port);
void fg_port_close(uint16_t port);

#endif
