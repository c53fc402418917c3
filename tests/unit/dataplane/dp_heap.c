// SPDX-License-Identifier: MIT
/*
 * fg_dp_heap: the DPDK heap the data plane takes, measured. It starts the EAL with the
 * arguments it is given, builds the data plane with fg_dp_init() from the default
 * configuration ([Dataplane] MaxPeers raised to --peers if that is more), starts the service
 * state (fg_svc_init), installs --peers peers through the service's writer API, each with
 * one /32 in 100.64.0.0/11 and one /128 in fd00:2021:1111::/107 (consecutive addresses), and
 * prints rte_malloc_get_socket_stats() summed over the sockets after each step, then what
 * the memzones (mempool, rings, hash tables) and the allowed-IPs tries hold.
 *
 * As root it first moves into a network namespace of its own, so that fg_dp_init opens a real
 * TUN with the virtio-net header (its per-worker read buffers are part of the heap); otherwise
 * the workers get socketpair ends and the output says those buffers are missing. The port is
 * a net_ring vdev. With --max-mib M it exits 1 when the heap allocated at the end is over M
 * MiB (the meson test dataplane_heap: 10 peers within 64 MiB under -m 128). Without huge
 * pages the mbuf pool takes a whole 4 KiB page per mbuf (DPDK keeps an object inside one
 * page when the memory is not IOVA-contiguous), and the output also says what the heap would
 * hold on huge pages, where they are packed; --max-mib judges that figure.
 *
 * --breakdown first makes each table alone, with the sizes fg_dp_init gives it, and prints
 * what it costs.
 *
 *   fg_dp_heap [--peers N] [--max-mib M] [--breakdown] [EAL options]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <sodium.h>

#include "chantable.h"
#include "conntrack.h"
#include "dp_setup.h"
#include "peers.h"
#include "route.h"
#include "service.h"
#include "svc_state.h"

enum {
	/* The sizes fg_dp_init derives from the configuration (dp.c), for the breakdown. */
	DP_MBUF_CACHE = 256,
	DP_RULES_PER_PEER = 4,
	DP_RULES_SPARE = 1024,
	DP_CHANNELS_PER_PEER = 4,
	DP_CHANNELS_SPARE = 256,
	PORT_RING = 1024,
	MAX_ARGS = 64,
	MIB = 1 << 20,
};

struct heap {
	uint64_t total, alloc, free, largest;
};

static struct heap heap_now(void)
{
	struct heap h = { 0, 0, 0, 0 };

	for (unsigned s = 0; s < rte_socket_count(); s++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) < 0)
			continue;
		h.total += st.heap_totalsz_bytes;
		h.alloc += st.heap_allocsz_bytes;
		h.free += st.heap_freesz_bytes;
		if (st.greatest_free_size > h.largest)
			h.largest = st.greatest_free_size;
	}
	return h;
}

static void show(const char *step, const struct heap *h, const struct heap *base)
{
	printf("%-44s allocated %8.2f MiB (+%7.2f)  free %8.2f MiB  largest free %8.2f MiB  "
	       "total %8.2f MiB\n", step, (double)h->alloc / MIB,
	       (double)(h->alloc - base->alloc) / MIB, (double)h->free / MIB,
	       (double)h->largest / MIB, (double)h->total / MIB);
}

struct mz_sum {
	uint64_t pool, rings, hash, other;
	uint64_t mbuf_chunks;   /* the memory of the data plane's mbuf pool (MP_fg_mbufs_N) */
};

/* Memzones by what made them: MP_ mempools, RG_ rings, HT_ hash tables (rte_hash's key
 * store is rte_zmalloc'd and counts below as "other"). */
static void mz_add(const struct rte_memzone *mz, void *arg)
{
	struct mz_sum *s = arg;

	if (strncmp(mz->name, "MP_fg_mbufs_", 12) == 0)
		s->mbuf_chunks += mz->len;
	if (strncmp(mz->name, "MP_", 3) == 0)
		s->pool += mz->len;
	else if (strncmp(mz->name, "RG_", 3) == 0)
		s->rings += mz->len;
	else if (strncmp(mz->name, "HT_", 3) == 0)
		s->hash += mz->len;
	else
		s->other += mz->len;
	if (mz->len >= MIB / 4)
		printf("  memzone %-32s %8.2f MiB\n", mz->name, (double)mz->len / MIB);
}

static double delta_mib(const struct heap *before)
{
	struct heap h = heap_now();

	return (double)(h.alloc - before->alloc) / MIB;
}

/* Each table fg_dp_init makes, made alone with the same sizes and freed again: what each
 * costs. The rest of fg_dp_init (rings, TUN read buffers) is the difference. */
static void breakdown(const struct fg_config *cfg)
{
	const struct fg_config_dataplane *d = &cfg->dp;
	uint32_t rules = d->max_peers * DP_RULES_PER_PEER + DP_RULES_SPARE;
	struct fg_route_table *rt;
	struct rte_mempool *pool;
	struct fg_chantable ch;
	struct fg_conntrack ct;
	struct fg_tables tb;
	struct heap h = heap_now();

	pool = rte_pktmbuf_pool_create("fgh_pool", d->mbuf_count, DP_MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	printf("  mbuf pool (MbufCount %u)%*s %8.2f MiB\n", d->mbuf_count, 18, "", delta_mib(&h));
	rte_mempool_free(pool);
	h = heap_now();
	if (fg_tables_init(&tb, d->max_peers, d->workers) < 0)
		return;
	printf("  peer and keypair tables, receiver index      %8.2f MiB\n", delta_mib(&h));
	h = heap_now();
	rt = fg_route_create("allowed", rules, rules, tb.qsbr);
	printf("  allowed-IPs tries (%u rules per family)   %8.2f MiB\n", rules, delta_mib(&h));
	fg_route_free(rt);
	h = heap_now();
	if (fg_chantable_init(&ch, d->max_peers * DP_CHANNELS_PER_PEER + DP_CHANNELS_SPARE, tb.qsbr) == 0) {
		printf("  relay channel table                          %8.2f MiB\n", delta_mib(&h));
		fg_chantable_free(&ch);
	}
	h = heap_now();
	if (fg_conntrack_init(&ct, d->workers, d->conntrack_tuples, &tb, tb.qsbr) == 0) {
		printf("  connection tables (%u x %u tuples)%*s %8.2f MiB\n", d->workers, d->conntrack_tuples, 5, "",
		       delta_mib(&h));
		fg_conntrack_free(&ct);
	}
	fg_tables_free(&tb);
}

static void make_config(struct fg_config *cfg, uint16_t port, uint32_t peers)
{
	uint32_t local_be = htonl(0xc6120001u);   /* 198.18.0.1/15 */

	fg_config_defaults(cfg);
	cfg->uplink.port = port;
	cfg->uplink.has_mac = true;
	memcpy(cfg->uplink.mac, (const uint8_t[]){ 0x02, 0xfb, 0x00, 0x00, 0x00, 0x01 }, 6);
	cfg->uplink.address.ip.family = AF_INET;
	memcpy(cfg->uplink.address.ip.addr, &local_be, 4);
	cfg->uplink.address.len = 15;
	snprintf(cfg->host.name, sizeof(cfg->host.name), "fgheap0");
	if (peers > cfg->dp.max_peers)
		cfg->dp.max_peers = peers;
}

static int add_peers(struct fg_svc *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t host = i + 2;   /* 100.64.0.1 / fd00:2021:1111::1 is the gateway's */
		struct fg_prefix p4 = { .ip = { .family = AF_INET }, .len = 32 };
		struct fg_prefix p6 = { .ip = { .family = AF_INET6 }, .len = 128 };
		uint8_t pub[32];
		uint32_t slot;
		int rc;

		randombytes_buf(pub, sizeof(pub));
		slot = fg_svc_peer_add(s, pub);
		if (slot == FG_SLOT_NONE)
			return -errno;
		p4.ip.addr[0] = 100;
		p4.ip.addr[1] = (uint8_t)(64 | host >> 16);
		p4.ip.addr[2] = (uint8_t)(host >> 8);
		p4.ip.addr[3] = (uint8_t)host;
		memcpy(p6.ip.addr, (const uint8_t[]){ 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 }, 6);
		p6.ip.addr[13] = (uint8_t)(host >> 16);
		p6.ip.addr[14] = (uint8_t)(host >> 8);
		p6.ip.addr[15] = (uint8_t)host;
		if ((rc = fg_svc_peer_add_allowed(s, slot, &p4)) < 0 ||
		    (rc = fg_svc_peer_add_allowed(s, slot, &p6)) < 0)
			return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct fg_config cfg;
	static struct fg_dp dp;
	static struct fg_svc svc;
	char *eal[MAX_ARGS] = { argv[0] };
	struct fg_dp_options opt = { .caller_lcores = true };
	struct rte_ring *rx, *tx;
	struct heap base, h;
	struct mz_sum mz = { 0, 0, 0, 0, 0 };
	uint64_t judged;
	unsigned long peers = 10, max_mib = 0;
	bool parts = false;
	int neal = 1, fds[2] = { -1, -1 }, port, rc;
	bool own_netns = false;
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--peers") == 0 && i + 1 < argc)
			peers = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--max-mib") == 0 && i + 1 < argc)
			max_mib = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--breakdown") == 0)
			parts = true;
		else if (neal < MAX_ARGS - 1)
			eal[neal++] = argv[i];
	}
	if (peers > FG_CONFIG_MAX_PEERS) {
		fprintf(stderr, "fg_dp_heap: --peers %lu: at most %u\n", peers, (unsigned)FG_CONFIG_MAX_PEERS);
		return 2;
	}
	/* Before any thread exists, so that the EAL's threads share the namespace. */
	if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)
		own_netns = true;
	if (sodium_init() < 0 || rte_eal_init(neal, eal) < 0) {
		fprintf(stderr, "fg_dp_heap: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	base = heap_now();
	show("EAL started", &base, &base);

	rx = rte_ring_create("fgh_rx", PORT_RING, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx = rte_ring_create("fgh_tx", PORT_RING, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	port = rx && tx ? rte_eth_from_rings("fgheap", &rx, 1, &tx, 1, rte_socket_id()) : -1;
	if (port < 0) {
		fprintf(stderr, "fg_dp_heap: net_ring port: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	h = heap_now();
	show("net_ring port (the test's, not the daemon's)", &h, &base);
	base = h;

	make_config(&cfg, (uint16_t)port, (uint32_t)peers);
	if (parts)
		breakdown(&cfg);
	if (!own_netns) {
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
			return 1;
		opt.tun_fds = fds;   /* one worker: the default */
	}
	rc = fg_dp_init(&dp, &cfg, &opt, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "fg_dp_heap: fg_dp_init: %s\n", err);
		return 1;
	}
	h = heap_now();
	show("fg_dp_init (default config)", &h, &base);
	rc = fg_svc_init(&svc, &dp);
	if (rc < 0) {
		fprintf(stderr, "fg_dp_heap: fg_svc_init: %s\n", strerror(-rc));
		return 1;
	}
	h = heap_now();
	show("fg_svc_init", &h, &base);
	rc = add_peers(&svc, (uint32_t)peers);
	if (rc < 0) {
		fprintf(stderr, "fg_dp_heap: peer install: %s\n", strerror(-rc));
		return 1;
	}
	h = heap_now();
	printf("%lu peers installed (MaxPeers %u, MbufCount %u, ConnTrackTuples %u, Workers %u, %s)\n",
	       peers, cfg.dp.max_peers, cfg.dp.mbuf_count, cfg.dp.conntrack_tuples, cfg.dp.workers,
	       own_netns ? "TUN with the virtio-net header in a namespace of its own"
			 : "socketpair TUN queues: the TUN read buffers (8 x 64 KiB a worker) are not included");
	show("peers installed", &h, &base);

	rte_memzone_walk(mz_add, &mz);
	printf("of which: mempool memzones %.2f MiB, ring memzones %.2f MiB, hash memzones %.2f MiB, "
	       "other memzones %.2f MiB, allowed-IPs tries %.2f MiB\n",
	       (double)mz.pool / MIB, (double)mz.rings / MIB, (double)mz.hash / MIB, (double)mz.other / MIB,
	       (double)fg_route_heap_bytes(dp.allowed) / MIB);
	printf("data plane heap (allocated, less the EAL's own and the test port): %.2f MiB\n",
	       (double)(h.alloc - base.alloc) / MIB);
	printf("heap allocated in all: %.2f MiB of %.2f MiB\n", (double)h.alloc / MIB, (double)h.total / MIB);
	judged = h.alloc;
	if (!rte_eal_has_hugepages()) {
		/* Without huge pages the mempool keeps each mbuf inside one 4 KiB page, one mbuf a
		 * page; on 2 MiB pages they are packed. What packing saves: */
		const struct rte_mempool *mp = rte_mempool_lookup("fg_mbufs");
		uint64_t packed = mp ? (uint64_t)mp->populated_size * (mp->header_size + mp->elt_size + mp->trailer_size)
				     : mz.mbuf_chunks;

		judged -= mz.mbuf_chunks > packed ? mz.mbuf_chunks - packed : 0;
		printf("without huge pages: the mbuf pool takes %.2f MiB, its mbufs %.2f MiB: on huge pages "
		       "the heap would hold about %.2f MiB\n", (double)mz.mbuf_chunks / MIB, (double)packed / MIB,
		       (double)judged / MIB);
	}

	rc = max_mib && judged > (uint64_t)max_mib * MIB ? 1 : 0;
	if (rc)
		fprintf(stderr, "fg_dp_heap: %.2f MiB allocated (as on huge pages), over --max-mib %lu\n",
			(double)judged / MIB, max_mib);
	fg_svc_fini(&svc);
	fg_dp_fini(&dp);
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	rte_eal_cleanup();
	return rc;
}
