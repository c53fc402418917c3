// SPDX-License-Identifier: MIT
/*
 * The bench's DNS-resource NAT rows (--nat): every bench peer becomes a portal client with a
 * policy holding one DNS resource whose proxy IP 100.96.0.1 translates to the far end
 * (198.19.0.1), compiled with fg_policy_build_nat() and published in its peer slot as the
 * service lcore would; the decrypt-nat templates (traffic.c) send to the proxy IP from
 * enough source ports that the workers' connection tables hold FG_BENCH_NAT_TUPLES live
 * tuples. Off again, the policies go and every tuple is closed, so that the plain rows pay
 * for neither. Main lcore only, while no worker runs.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "clock.h"
#include "policy.h"

static const uint32_t PROXY_IP = (100u << 24) | (96u << 16) | 1u;
static const uint16_t NAT_SPORT_BASE = 10000;

uint32_t fg_bench_proxy_ip(void)
{
	return PROXY_IP;
}

/* Source ports per peer: enough that npeers x ports >= FG_BENCH_NAT_TUPLES. */
static uint32_t ports_per_peer(uint32_t npeers)
{
	return (FG_BENCH_NAT_TUPLES + npeers - 1) / npeers;
}

uint16_t fg_bench_nat_sport(uint32_t i, uint32_t npeers)
{
	return (uint16_t)(NAT_SPORT_BASE + (i / npeers) % ports_per_peer(npeers));
}

static struct fg_ip ip4(uint32_t host)
{
	struct fg_ip ip = { .family = AF_INET };
	uint32_t be = htonl(host);

	memcpy(ip.addr, &be, 4);
	return ip;
}

void fg_bench_nat_clear(struct fg_bench_env *e)
{
	struct fg_conntrack *ct = &e->dp.ct;
	struct fg_conntrack_record rec[64];
	uint64_t now = fg_clock_ns();

	for (uint32_t p = 0; p < e->npeers; p++)
		fg_conntrack_reset_peer(ct, e->peer_slot[p]);
	for (unsigned w = 0; w < ct->ntables; w++) {
		struct fg_conntrack_table *t = ct->tables[w];

		while (t->nlive)
			fg_conntrack_sweep(ct, t, now, t->nlive);
		while (t->nfree < t->capacity && rte_rcu_qsbr_dq_reclaim(t->dq, 1024, NULL, NULL, NULL) == 0)
			;
	}
	while (rte_ring_sc_dequeue_burst_elem(ct->records, rec, sizeof(rec[0]), 64, NULL))
		;
}

int fg_bench_env_set_nat(struct fg_bench_env *e, bool on)
{
	struct fg_tables *t = &e->dp.tables;

	if (e->nat == on)
		return 0;
	if (!on) {
		for (uint32_t p = 0; p < e->npeers; p++) {
			struct fg_policy *old = __atomic_exchange_n(&t->peers[e->peer_slot[p]].policy, NULL,
								    __ATOMIC_ACQ_REL);

			fg_policy_free(old);
		}
		fg_bench_nat_clear(e);
		e->nat = false;
		return 0;
	}
	struct fg_policy_resource res = { .id = "bench-dns-resource", .type = FG_CTL_RES_DNS };
	const uint32_t idx = 0, rank = 1;
	struct fg_policy_xlat x = { .proxy = ip4(PROXY_IP), .real = ip4(fg_bench_resource_ip()), .n_res = 1,
				    .res = &idx, .rank = &rank };

	for (uint32_t p = 0; p < e->npeers; p++) {
		struct fg_ip client = ip4(fg_bench_inner_ip(p));
		struct fg_policy *pol = fg_policy_build_nat(&res, 1, &x, 1, &client, NULL, NULL, NULL);

		if (!pol) {
			int err = -errno;

			e->nat = true;   /* takes back what was published */
			fg_bench_env_set_nat(e, false);
			return err;
		}
		__atomic_store_n(&t->peers[e->peer_slot[p]].policy, pol, __ATOMIC_RELEASE);
	}
	e->nat = true;
	return 0;
}

/* An inner IPv4/UDP packet of bench peer p to the proxy IP from port sport (len bytes). */
static void nat_packet(uint8_t *pkt, unsigned len, uint32_t p, uint16_t sport)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	memset(pkt, 0x5a, len);
	memset(ip, 0, sizeof(*ip) + sizeof(*udp));
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = htonl(fg_bench_inner_ip(p));
	ip->dst_addr = htonl(PROXY_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = htons(sport);
	udp->dst_port = htons(5201);
	udp->dgram_len = htons((uint16_t)(len - sizeof(*ip)));
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

int fg_bench_nat_micro(struct fg_bench_env *e, const struct fg_bench_traffic *tr, unsigned burst,
		       struct fg_bench_nat_micro *out)
{
	enum { PASSES = 5 };
	struct fg_conntrack *ct = &e->dp.ct;
	uint32_t n = tr->n - tr->n % burst, len = tr->size == FG_BENCH_IMIX ? 64 : tr->size;
	uint8_t *pkts = malloc((size_t)n * len), *scratch = malloc((size_t)FG_BURST_MAX * 2048);
	uint64_t best[3] = { UINT64_MAX, UINT64_MAX, UINT64_MAX }, now = fg_clock_ns();
	uint64_t now_unix = fg_clock_unix_s(now);
	struct fg_conntrack_out o[FG_BURST_MAX];
	uint8_t *bp[FG_BURST_MAX];
	uint32_t bl[FG_BURST_MAX];
	enum fg_drop r[FG_BURST_MAX];
	struct fg_ip dst = ip4(PROXY_IP);
	int ret = 0;

	if (!pkts || !scratch || n == 0) {
		free(pkts);
		free(scratch);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		nat_packet(pkts + (size_t)i * len, len, tr->t[i].peer, fg_bench_nat_sport(i, tr->npeers));
	/* Each pass, in bursts as the worker takes them: 0, the copy alone; 1, and each packet's
	 * policy; 2, and the proxy IP's translation and the table, one burst at a time. */
	for (unsigned pass = 0; pass < PASSES; pass++) {
		for (unsigned stage = 0; stage < 3; stage++) {
			uint64_t t0 = rte_rdtsc();

			for (uint32_t i = 0; i < n; i += burst) {
				for (unsigned k = 0; k < burst; k++) {
					uint32_t slot = e->peer_slot[tr->t[i + k].peer];
					const struct fg_policy *pol = __atomic_load_n(&e->dp.tables.peers[slot].policy,
										      __ATOMIC_ACQUIRE);
					const char *rid = NULL;
					enum fg_drop why;

					bp[k] = scratch + (size_t)k * 2048;
					bl[k] = len;
					memcpy(bp[k], pkts + (size_t)(i + k) * len, len);
					if (stage == 0)
						continue;
					if (fg_policy_outbound(pol, bp[k], len, now_unix, &why, &rid) !=
					    FG_POLICY_ALLOW)
						ret = -EPROTO;
					o[k] = (struct fg_conntrack_out){ .slot = slot, .resource_id = rid,
									  .nat = fg_policy_nat_lookup(pol, &dst) };
				}
				if (stage < 2)
					continue;
				fg_conntrack_outbound_burst(ct, ct->tables[0], bp, bl, o, burst, now, r);
				for (unsigned k = 0; k < burst; k++)
					if (r[k] != FG_DROP_NONE)
						ret = -EPROTO;
			}
			uint64_t c = rte_rdtsc() - t0;

			if (c < best[stage])
				best[stage] = c;
		}
	}
	free(pkts);
	free(scratch);
	out->policy = (double)(best[1] - RTE_MIN(best[1], best[0])) / n;
	out->nat = (double)(best[2] - RTE_MIN(best[2], best[1])) / n;
	return ret;
}
