// SPDX-License-Identifier: MIT
/*
 * Port set-up (see port.h). Main lcore only, before the workers are launched.
 */
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "log.h"

static const char *const TAG = "fastgate.port";

/* Offloads we can use when present; whatever the PMD lacks is masked off, not fatal. */
static const uint64_t WANT_RX = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
static const uint64_t WANT_TX = RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
static const uint64_t WANT_RSS = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;

int fg_port_setup(const struct fg_port_conf *c, struct rte_ether_addr *mac, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	int ret, sock;
	uint16_t rxd = c->rx_desc, txd = c->tx_desc;

	if (!rte_eth_dev_is_valid_port(c->port)) {
		snprintf(err, errlen, "port %u: no such port (probed ports: %u)", c->port,
			 rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rte_eth_dev_get_name_by_port(c->port, name);
	ret = rte_eth_dev_info_get(c->port, &info);
	if (ret != 0) {
		snprintf(err, errlen, "port %u (%s): device info: %s", c->port, name, strerror(-ret));
		return ret;
	}
	if (c->nqueues > info.max_rx_queues || c->nqueues > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %u (%s): %u workers need %u queue pairs, the device has %u rx / %u tx"
			 " (for net_af_packet add qpairs=%u to the vdev)",
			 c->port, name, c->nqueues, c->nqueues, info.max_rx_queues, info.max_tx_queues,
			 c->nqueues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.offloads = WANT_RX & info.rx_offload_capa;
	conf.txmode.offloads = WANT_TX & info.tx_offload_capa;
	if (c->nqueues > 1 && (info.flow_type_rss_offloads & WANT_RSS)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = WANT_RSS & info.flow_type_rss_offloads;
	}
	if ((WANT_RX & ~info.rx_offload_capa) || (WANT_TX & ~info.tx_offload_capa))
		fg_info(TAG, "port %u (%s, %s): offloads not supported and left off: rx 0x%lx tx 0x%lx", c->port,
			name, info.driver_name, WANT_RX & ~info.rx_offload_capa, WANT_TX & ~info.tx_offload_capa);
	if (c->nqueues > 1 && conf.rxmode.mq_mode != RTE_ETH_MQ_RX_RSS)
		fg_info(TAG, "port %u (%s): no RSS; the PMD spreads packets itself", c->port, name);

	ret = rte_eth_dev_configure(c->port, c->nqueues, c->nqueues, &conf);
	if (ret != 0) {
		snprintf(err, errlen, "port %u (%s): configure: %s", c->port, name, strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(c->port, &rxd, &txd);
	if (ret != 0) {
		snprintf(err, errlen, "port %u (%s): descriptors: %s", c->port, name, strerror(-ret));
		return ret;
	}
	sock = rte_eth_dev_socket_id(c->port);
	for (uint16_t q = 0; q < c->nqueues; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;

		rxc.offloads = conf.rxmode.offloads;
		txc.offloads = conf.txmode.offloads;
		ret = rte_eth_rx_queue_setup(c->port, q, rxd, (unsigned)sock, &rxc, c->pool);
		if (ret != 0) {
			snprintf(err, errlen, "port %u (%s) queue %u: rx queue setup: %s", c->port, name, q,
				 strerror(-ret));
			return ret;
		}
		ret = rte_eth_tx_queue_setup(c->port, q, txd, (unsigned)sock, &txc);
		if (ret != 0) {
			snprintf(err, errlen, "port %u (%s) queue %u: tx queue setup: %s", c->port, name, q,
				 strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_dev_start(c->port);
	if (ret != 0) {
		snprintf(err, errlen, "port %u (%s): start: %s", c->port, name, strerror(-ret));
		return ret;
	}
	/* IPv6 neighbour discovery needs solicited-node multicast. */
	rte_eth_allmulticast_enable(c->port);
	ret = rte_eth_macaddr_get(c->port, mac);
	if (ret != 0) {
		snprintf(err, errlen, "port %u (%s): mac address: %s", c->port, name, strerror(-ret));
		return ret;
	}
	fg_info(TAG, "port %u (%s, driver %s) up: %u queue pair(s), %u/%u descriptors, mac " RTE_ETHER_ADDR_PRT_FMT,
		c->port, name, info.driver_name, c->nqueues, rxd, txd, RTE_ETHER_ADDR_BYTES(mac));
	return 0;
}

int fg_port_ifindex(uint16_t port)
{
	struct rte_eth_dev_info info;

	/* net_af_packet, net_tap and the like report the interface they stand on; a PMD
	 * that drives the hardware itself reports none (0). */
	if (rte_eth_dev_info_get(port, &info) != 0)
		return 0;
	return (int)info.if_index;
}

void fg_port_close(uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
}
