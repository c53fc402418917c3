// SPDX-License-Identifier: MIT
/*
 * The in-process service environment of the data plane's socket and peer tests (see
 * svc_env.h). Built the way fg_dp_init() builds the same state, minus the port, the TUN
 * and the workers' lcores.
 */
#include "svc_env.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "aead.h"
#include "clock.h"
#include "route.h"

static unsigned g_env_seq;

int fg_svc_env_eal(const char *prog)
{
	static int done;
	char *argv[] = {
		(char *)prog, "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry", "--iova-mode=va",
		"-l", "0", "-m", "512", "--log-level=lib.*:warning", NULL,
	};

	if (done)
		return 0;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -rte_errno;
	done = 1;
	return 0;
}

static struct rte_ring *ring(const char *what, unsigned size, unsigned flags, unsigned esize)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "fgt_%s%u", what, g_env_seq);
	if (esize)
		return rte_ring_create_elem(name, esize, size, (int)rte_socket_id(), flags);
	return rte_ring_create(name, size, (int)rte_socket_id(), flags);
}

int fg_svc_env_init(struct fg_svc_env *e, uint32_t max_peers)
{
	struct fg_dp *dp = &e->dp;
	char name[RTE_MEMPOOL_NAMESIZE];
	int r;

	memset(e, 0, sizeof(*e));
	g_env_seq++;
	fg_clock_init();
	r = fg_aead_init(FG_AEAD_LIBSODIUM);
	if (r < 0)
		return r;
	dp->nworkers = 1;
	dp->burst = 32;
	dp->mtu = 1420;
	dp->local.listen_port = 51820;
	dp->local.aead_covers_udp4 = true;
	dp->uplink_prefix_len = 15;
	dp->local.ip4 = __builtin_bswap32((198u << 24) | (18u << 16) | 1u);
	snprintf(name, sizeof(name), "fgt_mbufs%u", g_env_seq);
	dp->pool = rte_pktmbuf_pool_create(name, 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!dp->pool)
		return -ENOMEM;
	r = fg_tables_init(&dp->tables, max_peers, 1);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "fgt_allowed%u", g_env_seq);
	/* IPv4 rules only: each family costs two 64 MiB LPM tables (route.h). */
	dp->allowed = fg_route_create(name, max_peers * 4 + 64, 0, dp->tables.qsbr);
	dp->hs_ring = ring("hs", 1024, RING_F_SC_DEQ, 0);
	dp->punt_ring = ring("punt", FG_PUNT_RING, RING_F_SC_DEQ, 0);
	dp->ev_ring = ring("ev", FG_EVENT_RING, RING_F_SC_DEQ, sizeof(struct fg_event));
	dp->hs_under_load = 512;
	dp->workers[0].handoff = ring("ho", FG_HANDOFF_RING, RING_F_SC_DEQ, 0);
	dp->workers[0].svc_tx = ring("stx", FG_SVC_TX_RING, RING_F_SP_ENQ | RING_F_SC_DEQ, 0);
	dp->workers[0].tun_fd = -1;
	if (!dp->allowed || !dp->hs_ring || !dp->punt_ring || !dp->ev_ring || !dp->workers[0].handoff ||
	    !dp->workers[0].svc_tx)
		return -ENOMEM;
	return fg_svc_init(&e->svc, dp);
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
	struct fg_dp *dp = &e->dp;

	fg_svc_env_drain(e);
	if (e->svc.dp)
		fg_svc_fini(&e->svc);
	fg_route_free(dp->allowed);
	fg_tables_free(&dp->tables);
	rte_ring_free(dp->hs_ring);
	rte_ring_free(dp->punt_ring);
	rte_ring_free(dp->ev_ring);
	rte_ring_free(dp->workers[0].handoff);
	rte_ring_free(dp->workers[0].svc_tx);
	rte_mempool_free(dp->pool);
	memset(e, 0, sizeof(*e));
}
