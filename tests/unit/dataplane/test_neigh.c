// SPDX-License-Identifier: MIT
/*
 * Tests for the neighbour table's learning rules and punt rate limit (dataplane/service/neigh.c),
 * fed ARP and ND frames built by netpkt's builders as another host would send them (its
 * MAC and address in the builders' "local"), with a naive ICMPv6 checksum for the frames
 * edited by hand. A minimal data plane (pool, worker 0's service TX ring, local
 * addresses) and service lcore state stand in for fastgate-dataplane; EAL in-process with
 * --no-huge; everything runs on the main lcore with a fake clock.
 */
#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "neigh.h"
#include "netpkt.h"
#include "dp.h"

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

static const uint64_t T0 = SEC(1000);
static const struct rte_ether_addr US = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr GW = { { 0x02, 0, 0, 0, 0, 0x02 } };
static const struct rte_ether_addr GW2 = { { 0x02, 0, 0, 0, 0, 0x22 } };
static const struct rte_ether_addr GW3 = { { 0x02, 0, 0, 0, 0, 0x33 } };
static const struct rte_ether_addr EVIL = { { 0x02, 0, 0, 0, 0, 0x66 } };
static const struct rte_ether_addr ZERO;
static const struct rte_ether_addr BCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static struct fg_dp dp;
static struct fg_neigh nb;

static struct fg_ip ip(const char *s)
{
	struct fg_ip a;

	CU_ASSERT_FATAL(fg_ip_parse(s, &a) == 0);
	return a;
}

static uint32_t ip4(const char *s)
{
	struct fg_ip a = ip(s);
	uint32_t v;

	memcpy(&v, a.addr, 4);
	return v;
}

/* Frees what the service lcore sent; returns how many, the last one copied to last. */
static unsigned drain(uint8_t *last, uint32_t *last_len)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	while (rte_ring_sc_dequeue(dp.workers[0].svc_tx, (void **)&m) == 0) {
		if (last) {
			*last_len = rte_pktmbuf_data_len(m);
			memcpy(last, rte_pktmbuf_mtod(m, uint8_t *), *last_len);
		}
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static void reset(void)
{
	drain(NULL, NULL);
	fg_neigh_flush(&nb);
	fg_neigh_init(&nb, &dp, NULL, NULL);
	memset(&dp.svc_cnt, 0, sizeof(dp.svc_cnt));
}

static void feed(const uint8_t *frame, uint32_t len, uint64_t now)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame, len);
	m->data_len = m->pkt_len = len;
	fg_neigh_handle(&nb, m, now);
}

static void arp(uint16_t op, const struct rte_ether_addr *sha, const char *sip, const char *tip,
		uint64_t now)
{
	uint8_t f[FG_NETPKT_ARP_FRAME_LEN];

	fg_netpkt_arp_build(f, op, op == RTE_ARP_OP_REQUEST ? &BCAST : &US, sha, ip4(sip),
			    op == RTE_ARP_OP_REQUEST ? &ZERO : &US, ip4(tip));
	feed(f, sizeof(f), now);
}

/* A host with this MAC and address, as netpkt's builders see "local". */
static struct fg_netpkt_local host(const struct rte_ether_addr *mac, const char *ip6)
{
	struct fg_netpkt_local l = { .mac = *mac, .has_ip6 = true };

	memcpy(l.ip6, ip(ip6).addr, 16);
	return l;
}

/* RFC 1071 one 16-bit word at a time, over the IPv6 pseudo-header and the ICMPv6 message. */
static void icmp6_checksum(uint8_t *f)
{
	uint8_t *ip6 = f + 14, *icmp = f + 54;
	uint32_t plen = (uint32_t)(ip6[4] << 8 | ip6[5]), sum = 0;

	icmp[2] = icmp[3] = 0;
	for (unsigned i = 8; i < 40; i += 2)
		sum += (uint32_t)(ip6[i] << 8 | ip6[i + 1]);
	sum += plen + 58;
	for (uint32_t i = 0; i < plen; i += 2)
		sum += (uint32_t)(icmp[i] << 8 | (i + 1 < plen ? icmp[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	icmp[2] = (uint8_t)(~sum >> 8);
	icmp[3] = (uint8_t)~sum;
}

/* An advertisement of who = mac: solicited (to us) or not (to all-nodes); Override or not. */
static void na(const struct rte_ether_addr *mac, const char *who, bool solicited, bool override,
	       uint64_t now)
{
	uint8_t f[FG_NETPKT_ND_FRAME_LEN];
	struct fg_netpkt_local h = host(mac, who);
	static const uint8_t unspecified[16];

	fg_netpkt_nd_build_na(f, &h, solicited ? dp.local.ip6 : unspecified, &US);
	if (!override) {
		f[54 + 4] &= (uint8_t)~FG_ND_FLAG_OVERRIDE;
		icmp6_checksum(f);
	}
	feed(f, sizeof(f), now);
}

/* A solicitation from who (mac in its source link-layer option) for target. */
static void ns(const struct rte_ether_addr *mac, const char *who, const char *target, uint64_t now)
{
	uint8_t f[FG_NETPKT_ND_FRAME_LEN];
	struct fg_netpkt_local h = host(mac, who);

	fg_netpkt_nd_build_ns(f, &h, ip(target).addr);
	feed(f, sizeof(f), now);
}

/* 1 and the MAC when s resolves to mac, 0 when unresolved, -1 when resolved elsewhere. */
static int at(const char *s, const struct rte_ether_addr *mac)
{
	struct fg_ip a = ip(s);
	struct rte_ether_addr got;

	if (fg_neigh_lookup(&nb, &a, &got) != 0)
		return 0;
	return rte_is_same_ether_addr(&got, mac) ? 1 : -1;
}

/* Unsolicited mappings for addresses never asked about create nothing. */
static void test_unsolicited(void)
{
	uint8_t out[128];
	uint32_t len = 0;
	struct fg_arp reply;

	reset();
	na(&EVIL, "2001:db8::99", false, true, T0);         /* unsolicited NA */
	na(&EVIL, "2001:db8::98", true, true, T0);          /* claims to be solicited */
	arp(RTE_ARP_OP_REQUEST, &EVIL, "192.0.2.99", "192.0.2.99", T0);  /* gratuitous */
	arp(RTE_ARP_OP_REPLY, &EVIL, "192.0.2.98", "192.0.2.98", T0);    /* gratuitous reply */
	arp(RTE_ARP_OP_REPLY, &EVIL, "192.0.2.97", "192.0.2.1", T0);     /* unasked reply to us */
	CU_ASSERT_EQUAL(drain(NULL, NULL), 0);
	/* A request for us, or a solicitation, is answered, but its sender not recorded. */
	arp(RTE_ARP_OP_REQUEST, &EVIL, "192.0.2.96", "192.0.2.1", T0);
	CU_ASSERT_EQUAL(drain(out, &len), 1);
	CU_ASSERT_EQUAL_FATAL(fg_netpkt_arp_parse(out, len, &reply), 0);
	CU_ASSERT_EQUAL(reply.op, RTE_ARP_OP_REPLY);
	CU_ASSERT(reply.sip == dp.local.ip4 && reply.tip == ip4("192.0.2.96"));
	CU_ASSERT(rte_is_same_ether_addr(&reply.tha, &EVIL));
	ns(&EVIL, "2001:db8::96", "2001:db8::1", T0);
	CU_ASSERT_EQUAL(drain(NULL, NULL), 1);
	CU_ASSERT_EQUAL(nb.arp_replies_sent, 1);
	/* Our own addresses are never somebody else's. */
	arp(RTE_ARP_OP_REPLY, &EVIL, "192.0.2.1", "192.0.2.1", T0);
	na(&EVIL, "2001:db8::1", false, true, T0);

	CU_ASSERT_EQUAL(nb.n, 0);
	CU_ASSERT_EQUAL(at("192.0.2.99", &EVIL), 0);
	CU_ASSERT_EQUAL(at("192.0.2.96", &EVIL), 0);
	CU_ASSERT_EQUAL(at("2001:db8::99", &EVIL), 0);
	CU_ASSERT_EQUAL(at("2001:db8::96", &EVIL), 0);
	CU_ASSERT_EQUAL(nb.unsolicited, 9);
	CU_ASSERT_EQUAL(dp.svc_cnt.drops[FG_DROP_NEIGH_RATELIMIT], 0);
}

/* What we asked for is learned, from a reply or an advertisement. */
static void test_solicited(void)
{
	uint8_t out[128];
	uint32_t len = 0;
	struct fg_arp req;
	struct fg_ip gw4 = ip("192.0.2.2"), gw6 = ip("2001:db8::2");

	reset();
	fg_neigh_resolve(&nb, &gw4, T0);
	CU_ASSERT_EQUAL(drain(out, &len), 1);
	CU_ASSERT_EQUAL_FATAL(fg_netpkt_arp_parse(out, len, &req), 0);
	CU_ASSERT(req.op == RTE_ARP_OP_REQUEST && req.tip == ip4("192.0.2.2"));
	CU_ASSERT_EQUAL(at("192.0.2.2", &GW), 0);
	arp(RTE_ARP_OP_REPLY, &GW, "192.0.2.2", "192.0.2.1", T0 + 1000);
	CU_ASSERT_EQUAL(at("192.0.2.2", &GW), 1);

	fg_neigh_resolve(&nb, &gw6, T0);
	CU_ASSERT_EQUAL(drain(NULL, NULL), 1);
	CU_ASSERT_EQUAL(at("2001:db8::2", &GW), 0);
	na(&GW, "2001:db8::2", true, true, T0 + 1000);
	CU_ASSERT_EQUAL(at("2001:db8::2", &GW), 1);
	CU_ASSERT_EQUAL(nb.unsolicited, 0);
	CU_ASSERT_EQUAL(nb.arp_requests_sent, 2);
}

/* A known entry is refreshed by replies, requests (ours or gratuitous) and advertisements;
 * an advertisement without Override does not replace a different MAC. */
static void test_refresh(void)
{
	struct fg_ip gw4 = ip("192.0.2.2"), gw6 = ip("2001:db8::2");
	uint64_t t = T0;

	reset();
	fg_neigh_resolve(&nb, &gw4, t);
	fg_neigh_resolve(&nb, &gw6, t);
	arp(RTE_ARP_OP_REPLY, &GW, "192.0.2.2", "192.0.2.1", ++t);
	na(&GW, "2001:db8::2", true, true, ++t);
	drain(NULL, NULL);

	arp(RTE_ARP_OP_REPLY, &GW2, "192.0.2.2", "192.0.2.1", ++t);
	CU_ASSERT_EQUAL(at("192.0.2.2", &GW2), 1);
	arp(RTE_ARP_OP_REQUEST, &GW3, "192.0.2.2", "192.0.2.1", ++t);  /* for us: answered too */
	CU_ASSERT_EQUAL(at("192.0.2.2", &GW3), 1);
	CU_ASSERT_EQUAL(drain(NULL, NULL), 1);
	arp(RTE_ARP_OP_REQUEST, &GW, "192.0.2.2", "192.0.2.2", ++t);   /* gratuitous */
	CU_ASSERT_EQUAL(at("192.0.2.2", &GW), 1);

	na(&GW2, "2001:db8::2", false, false, ++t);   /* no Override: ignored */
	CU_ASSERT_EQUAL(at("2001:db8::2", &GW), 1);
	na(&GW, "2001:db8::2", false, false, ++t);    /* same MAC: a refresh */
	CU_ASSERT_EQUAL(at("2001:db8::2", &GW), 1);
	na(&GW2, "2001:db8::2", false, true, ++t);    /* Override */
	CU_ASSERT_EQUAL(at("2001:db8::2", &GW2), 1);
	ns(&GW3, "2001:db8::2", "2001:db8::1", ++t);  /* a solicitation from a known sender */
	CU_ASSERT_EQUAL(at("2001:db8::2", &GW3), 1);
	CU_ASSERT_EQUAL(drain(NULL, NULL), 1);
	CU_ASSERT_EQUAL(nb.n, 2);
	CU_ASSERT_EQUAL(nb.unsolicited, 0);
}

static struct rte_ether_addr nth_mac(unsigned i)
{
	struct rte_ether_addr m = { { 0x02, 0xaa, 0, 0, (uint8_t)(i >> 8), (uint8_t)i } };

	return m;
}

/* One source gets its burst then FG_NEIGH_RL_PER_SECOND a second; others are not starved;
 * a full table refuses new sources until one has been idle long enough. */
static void test_ratelimit(void)
{
	const uint64_t *drops = &dp.svc_cnt.drops[FG_DROP_NEIGH_RATELIMIT];
	struct fg_ip gw4 = ip("192.0.2.2");
	struct rte_ether_addr m;

	reset();
	for (unsigned i = 0; i < 100; i++)
		arp(RTE_ARP_OP_REQUEST, &EVIL, "192.0.2.99", "192.0.2.99", T0);
	CU_ASSERT_EQUAL(*drops, 100 - FG_NEIGH_RL_BURST);
	CU_ASSERT_EQUAL(nb.unsolicited, FG_NEIGH_RL_BURST);
	/* The gateway, another source, still gets through at the same instant. */
	fg_neigh_resolve(&nb, &gw4, T0);
	arp(RTE_ARP_OP_REPLY, &GW, "192.0.2.2", "192.0.2.1", T0);
	CU_ASSERT_EQUAL(at("192.0.2.2", &GW), 1);
	CU_ASSERT_EQUAL(*drops, 100 - FG_NEIGH_RL_BURST);
	/* One second later: FG_NEIGH_RL_PER_SECOND more. */
	for (unsigned i = 0; i < 100; i++)
		arp(RTE_ARP_OP_REQUEST, &EVIL, "192.0.2.99", "192.0.2.99", T0 + SEC(1));
	CU_ASSERT_EQUAL(*drops, 200 - FG_NEIGH_RL_BURST - FG_NEIGH_RL_PER_SECOND);
	/* ND counts against the same bucket. */
	na(&EVIL, "2001:db8::99", false, true, T0 + SEC(1));
	CU_ASSERT_EQUAL(*drops, 201 - FG_NEIGH_RL_BURST - FG_NEIGH_RL_PER_SECOND);

	/* Changing the source MAC buys a bucket only while the table has room. */
	uint64_t before = *drops, t = T0 + SEC(1);
	for (unsigned i = nb.nrl; i < FG_NEIGH_RL_SOURCES; i++) {
		m = nth_mac(i);
		arp(RTE_ARP_OP_REQUEST, &m, "192.0.2.99", "192.0.2.99", t);
	}
	CU_ASSERT_EQUAL(*drops, before);
	m = nth_mac(1000);
	arp(RTE_ARP_OP_REQUEST, &m, "192.0.2.99", "192.0.2.99", t);
	CU_ASSERT_EQUAL(*drops, before + 1);
	/* Once a source has been quiet for a full refill, its slot can be taken. */
	t += SEC(FG_NEIGH_RL_BURST / FG_NEIGH_RL_PER_SECOND);
	arp(RTE_ARP_OP_REQUEST, &m, "192.0.2.99", "192.0.2.99", t);
	CU_ASSERT_EQUAL(*drops, before + 1);
	CU_ASSERT_EQUAL(nb.nrl, FG_NEIGH_RL_SOURCES);
	drain(NULL, NULL);
}

int main(int argc, char **argv)
{
	static const struct fg_cunit_test tests[] = {
		{ "unsolicited NA / ARP create nothing", test_unsolicited },
		{ "solicited replies and advertisements are learned", test_solicited },
		{ "known entries are refreshed (Override respected)", test_refresh },
		{ "per-source rate limit", test_ratelimit },
	};
	int rc;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	dp.pool = rte_pktmbuf_pool_create("neigh_test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	dp.workers[0].svc_tx = rte_ring_create("neigh_tx", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!dp.pool || !dp.workers[0].svc_tx) {
		fprintf(stderr, "pool / ring: out of memory\n");
		return 1;
	}
	struct fg_ip us4, us6;
	if (fg_ip_parse("192.0.2.1", &us4) < 0 || fg_ip_parse("2001:db8::1", &us6) < 0)
		return 1;
	dp.nworkers = 1;
	dp.local.mac = US;
	memcpy(&dp.local.ip4, us4.addr, 4);
	dp.local.has_ip6 = true;
	memcpy(dp.local.ip6, us6.addr, 16);
	dp.uplink_prefix_len = 24;
	fg_neigh_init(&nb, &dp, NULL, NULL);
	rc = fg_cunit_run("dataplane_neigh", tests, sizeof(tests) / sizeof(tests[0]));
	reset();
	rte_ring_free(dp.workers[0].svc_tx);
	rte_mempool_free(dp.pool);
	rte_eal_cleanup();
	return rc;
}
