// SPDX-License-Identifier: MIT
/*
 * The in-process data plane of the data plane's socket, peer and traffic tests (see
 * svc_env.h): fg_dp_init() over a net_ring port and a socketpair, and fg_svc_init().
 */
#include "svc_env.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "../deny_uring.h"
#include "dp_setup.h"

/* The net_ring port; rte_eth_from_rings() names its vdev after it. */
#define PORT_NAME "fgtest"
#define PORT_VDEV "net_ring_" PORT_NAME

int fg_svc_env_eal(const char *prog)
{
	static int done;
	char *argv[] = {
		(char *)prog, "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry", "--iova-mode=va",
		"-l", "0", "-m", "128", "--log-level=lib.*:warning", NULL,
	};

	if (done)
		return 0;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -rte_errno;
	done = 1;
	return 0;
}

/* One worker, a handful of peers, libsodium (no per-lcore manager to think about). */
static void make_config(struct fg_config *cfg, uint32_t max_peers, uint16_t port)
{
	uint32_t local_be = htonl(FG_SVC_ENV_LOCAL_IP);

	fg_config_defaults(cfg);
	cfg->iface.listen_port = FG_SVC_ENV_LISTEN_PORT;
	cfg->iface.mtu = FG_SVC_ENV_MTU;
	cfg->uplink.port = port;
	cfg->uplink.has_mac = true;   /* net_ring's own is all-zero */
	memcpy(cfg->uplink.mac, (const uint8_t[]){ 0x02, 0xfb, 0x00, 0x00, 0x00, 0x01 }, 6);
	cfg->uplink.address.ip.family = AF_INET;
	memcpy(cfg->uplink.address.ip.addr, &local_be, 4);
	cfg->uplink.address.len = 15;
	cfg->dp.workers = 1;
	cfg->dp.rx_descriptors = cfg->dp.tx_descriptors = FG_SVC_ENV_PORT_RING;
	cfg->dp.mbuf_count = 2047;
	cfg->dp.max_peers = max_peers;
	cfg->dp.handshake_queue = 1024;
	cfg->dp.under_load_threshold = 512;
	cfg->dp.crypto = FG_CONFIG_CRYPTO_LIBSODIUM;
	cfg->host.offload = false;
}

/* FG_TEST_TUN_IO (meson.build runs the traffic tier once per mode): the [Host] TunIo to
 * use, or unset for the default (auto). "denied": auto in a process whose io_uring_setup a
 * seccomp filter refuses (EPERM), which must fall back to the syscalls. -1: a name it does
 * not know, or the filter could not be installed. */
static int test_tun_io(bool *want_syscall)
{
	static bool filtered;
	static const char *const names[] = {
		[FG_TUN_IO_AUTO] = "auto", [FG_TUN_IO_SYSCALL] = "syscall",
		[FG_TUN_IO_URING] = "io_uring", [FG_TUN_IO_SQPOLL] = "sqpoll",
	};
	const char *v = getenv("FG_TEST_TUN_IO");

	*want_syscall = false;
	if (!v)
		return FG_TUN_IO_AUTO;
	if (strcmp(v, "denied") == 0) {
		if (!filtered && fg_test_deny_uring(EPERM) < 0)
			return -1;
		filtered = true;
		*want_syscall = true;
		return FG_TUN_IO_AUTO;
	}
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

int fg_svc_env_init(struct fg_svc_env *e, uint32_t max_peers)
{
	/* IPv4 rules only: these tests give their peers no IPv6 allowed IPs. */
	struct fg_dp_options opt = { .caller_lcores = true, .allowed_rules_v4 = max_peers * 4 + 64 };
	char err[256];
	int r;

	memset(e, 0, sizeof(*e));
	e->tun[0] = e->tun[1] = -1;
	e->rx = rte_ring_create("fgt_rx", FG_SVC_ENV_PORT_RING, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!e->rx)
		return -ENOMEM;
	e->tx = rte_ring_create("fgt_tx", FG_SVC_ENV_PORT_RING, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!e->tx)
		return -ENOMEM;
	r = rte_eth_from_rings(PORT_NAME, &e->rx, 1, &e->tx, 1, rte_socket_id());
	if (r < 0)
		return -rte_errno;
	e->port_made = true;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, e->tun) < 0)
		return -errno;
	make_config(&e->cfg, max_peers, (uint16_t)r);
	bool want_syscall;
	int tun_io = test_tun_io(&want_syscall);
	if (tun_io < 0) {
		fprintf(stderr, "svc_env: FG_TEST_TUN_IO: want auto, syscall, io_uring, sqpoll or denied\n");
		return -EINVAL;
	}
	e->cfg.host.tun_io = (uint32_t)tun_io;
	/* The tests poll on the main lcore without pause: SQPOLL's thread gets another CPU. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (tun_io == FG_TUN_IO_SQPOLL && ncpu > 1)
		e->cfg.host.tun_io_sqpoll_cpu = (int32_t)((rte_lcore_to_cpu_id((int)rte_get_main_lcore()) + 1) % ncpu);
	opt.tun_fds = &e->tun[0];
	r = fg_dp_init(&e->dp, &e->cfg, &opt, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "svc_env: %s\n", err);
		return r;
	}
	/* An explicit mode must be the one the worker runs; auto falls back only when denied. */
	if (want_syscall)
		tun_io = FG_TUN_IO_SYSCALL;
	if (tun_io != FG_TUN_IO_AUTO && e->dp.tun_io != (uint32_t)tun_io) {
		fprintf(stderr, "svc_env: TunIo %s asked, mode %u in force\n", getenv("FG_TEST_TUN_IO"),
			e->dp.tun_io);
		return -EPROTO;
	}
	return fg_svc_init(&e->svc, &e->dp);
}

static void free_ring_mbufs(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (r && rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

unsigned fg_svc_env_drain(struct fg_svc_env *e)
{
	struct rte_mbuf *ms[64];
	unsigned n, total = 0;

	while ((n = rte_ring_dequeue_burst(e->dp.workers[0].svc_tx, (void **)ms, 64, NULL)) > 0) {
		rte_pktmbuf_free_bulk(ms, n);
		total += n;
	}
	return total;
}

void fg_svc_env_fini(struct fg_svc_env *e)
{
	/* Every mbuf goes back to the pool before fg_dp_fini frees it; the port is closed
	 * there, and its vdev removed here, before its rings are freed. */
	if (!e->rx)
		return;   /* zeroed, or nothing made: no fd of its own either */
	free_ring_mbufs(e->rx);
	free_ring_mbufs(e->tx);
	if (e->svc.dp) {
		fg_svc_env_drain(e);
		fg_svc_fini(&e->svc);
	}
	fg_dp_fini(&e->dp);
	if (e->port_made)
		(void)rte_vdev_uninit(PORT_VDEV);
	rte_ring_free(e->rx);
	rte_ring_free(e->tx);
	for (int i = 0; i < 2; i++)
		if (e->tun[i] >= 0)
			close(e->tun[i]);
	memset(e, 0, sizeof(*e));
}
