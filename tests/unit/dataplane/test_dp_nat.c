// SPDX-License-Identifier: MIT
/*
 * The DNS-resource NAT through the in-process data plane of the traffic tier (traffic.h:
 * fg_dp_init()'s data plane, one worker, the service, the control socket server; a WireGuard
 * client played with dataplane/wg/): what the client sends to a proxy IP reaches the TUN
 * translated to the real IP, the server's replies and ICMP errors written to the TUN reach
 * the client from the proxy IP again, every checksum recomputed from scratch by the test's
 * own packet code (tests/unit/conntrack/tpkt.c); what is not NATable to a proxy IP is a named
 * drop; a reset NAT no longer translates; and the control socket's side: STATS_REPLY's nat_*
 * and flows_* fields, NAT_DUMP, FLOWS_SET and the unsolicited FLOW records.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ring.h>

#include "conntrack.h"
#include "ctlproto.h"
#include "cunit_run.h"
#include "natpkt.h"
#include "policy.h"
#include "svc_env.h"
#include "traffic.h"
#include "transport.h"
#include "../conntrack/tpkt.h"

static const char RES[] = "9b0c2a44-5d7e-4c3b-8f1a-2e6d7c8b9a01";

/* A portal client with one DNS resource whose domain has two proxy IPs on one real IP. */
static void make_dns_client(const struct tr_client *c)
{
	_Alignas(16) uint8_t rbuf[sizeof(struct fg_ctl_resource_upsert)];
	struct fg_ctl_resource_upsert *r = (void *)rbuf;
	struct fg_ctl_peer_upsert m;
	struct fg_ctl_nat_set ns;
	uint32_t a = htonl(TR_CLIENT_TUN_IP);

	memset(&m, 0, sizeof(m));
	snprintf(m.client_id, sizeof(m.client_id), "client-nat");
	memcpy(m.public_key, c->local.public_key, 32);
	m.ipv4.family = AF_INET;
	memcpy(m.ipv4.addr, &a, 4);
	m.flags = FG_CTL_PEER_POLICY;
	CU_ASSERT_EQUAL_FATAL(fg_svc_client_upsert(&tr_env.svc, &m), 0);
	memset(rbuf, 0, sizeof(rbuf));
	memcpy(r->public_key, c->local.public_key, 32);
	snprintf(r->resource_id, sizeof(r->resource_id), "%s", RES);
	r->type = FG_CTL_RES_DNS;
	CU_ASSERT_EQUAL_FATAL(fg_svc_resource_upsert(&tr_env.svc, r), 0);
	memset(&ns, 0, sizeof(ns));
	memcpy(ns.public_key, c->local.public_key, 32);
	snprintf(ns.resource_id, sizeof(ns.resource_id), "%s", RES);
	snprintf(ns.domain, sizeof(ns.domain), "app.corp.example");
	ns.n = 2;
	ns.e[0].proxy = tpkt_ip("100.96.0.1");
	ns.e[0].real = tpkt_ip("198.18.50.1");
	ns.e[1].proxy = tpkt_ip("100.96.0.2");
	ns.e[1].real = tpkt_ip("198.18.50.1");
	CU_ASSERT_EQUAL_FATAL(fg_svc_nat_set(&tr_env.svc, &ns), 0);
	CU_ASSERT_TRUE_FATAL(fg_policy_has_nat(tr_env.dp.tables.peers[c->slot].policy));
}

static struct tpkt from_client(const char *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct tpkt t = { .family = AF_INET, .proto = proto, .src = tpkt_ip("100.64.0.2"), .dst = tpkt_ip(dst),
			  .sport = sport, .dport = dport, .icmp_type = 8, .payload = 48, .seed = sport, .ttl = 64 };

	return t;
}

/* The client sends t; what the TUN gets (its length, or -1). */
static ssize_t through(struct tr_client *c, const struct tpkt *t, uint8_t *got, uint8_t *sent, uint32_t *n)
{
	*n = tpkt_build(sent, TR_FRAME_MAX, t);
	tr_send_data(c, sent, (uint16_t)*n);
	return tr_wait_tun(got, TR_FRAME_MAX);
}

/* pkt written to the TUN comes out sealed to the client: its plaintext, the IP length. */
static int to_client(struct tr_client *c, const uint8_t *pkt, uint32_t n, uint8_t *plain)
{
	uint8_t msg[TR_FRAME_MAX];
	uint64_t ctr = UINT64_MAX;
	int len, p;

	CU_ASSERT_EQUAL_FATAL(send(tr_env.tun[1], pkt, n, 0), (ssize_t)n);
	if (!tr_wait_frames(1))
		return -1;
	len = tr_take_frame(c, msg, sizeof(msg));
	CU_ASSERT_FATAL(len > 0);
	p = fg_wg_transport_open(msg, (size_t)len, c->keys.recv, &ctr);
	CU_ASSERT_FATAL(p > 20);
	memcpy(plain, msg + FG_WG_DATA_HDR_LEN, (size_t)p);
	return plain[2] << 8 | plain[3];
}

static void stats(struct fg_ctl_stats_reply *st)
{
	struct fg_ctl_stats req;

	memset(&req, 0, sizeof(req));
	tr_ctl_send(&req, sizeof(req), FG_CTL_STATS);
	CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_STATS_REPLY, st, sizeof(*st)), (ssize_t)sizeof(*st));
}

static void test_nat_through_the_worker(void)
{
	uint8_t sent[TR_FRAME_MAX], got[TR_FRAME_MAX], plain[TR_FRAME_MAX], want[TR_FRAME_MAX], err[TR_FRAME_MAX];
	struct fg_ctl_stats_reply st;
	struct fg_natpkt np;
	struct tr_client c;
	struct tpkt t;
	uint32_t n;
	int len;

	tr_setup(&c);
	tr_ctl_open();
	make_dns_client(&c);
	tr_handshake(&c);
	/* Out: proxy IP 1 keeps the client's port, proxy IP 2 (same real IP) takes the next. */
	t = from_client("100.96.0.1", 17, 5555, 53);
	CU_ASSERT_EQUAL_FATAL(through(&c, &t, got, sent, &n), (ssize_t)n);
	CU_ASSERT(tpkt_checksums_ok(got, n));
	CU_ASSERT_EQUAL(memcmp(got + 16, tpkt_ip("198.18.50.1").addr, 4), 0);
	CU_ASSERT_EQUAL(memcmp(got + 12, sent + 12, 4), 0);
	CU_ASSERT_EQUAL(memcmp(got + 20, sent + 20, 4), 0);   /* ports unchanged */
	CU_ASSERT_EQUAL(memcmp(got + 28, sent + 28, n - 28), 0);
	t = from_client("100.96.0.2", 17, 5555, 53);
	CU_ASSERT_EQUAL_FATAL(through(&c, &t, got, sent, &n), (ssize_t)n);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(got, n, &np), 0);
	CU_ASSERT_EQUAL(np.sport, 5556);
	CU_ASSERT(tpkt_checksums_ok(got, n));
	/* In: the server's reply to 5556 reaches the client from proxy IP 2, to 5555. */
	struct tpkt r = { .family = AF_INET, .proto = 17, .src = tpkt_ip("198.18.50.1"), .dst = tpkt_ip("100.64.0.2"),
			  .sport = 53, .dport = 5556, .payload = 90, .seed = 9 };

	n = tpkt_build(sent, sizeof(sent), &r);
	len = to_client(&c, sent, n, plain);
	CU_ASSERT_EQUAL_FATAL(len, (int)n);
	CU_ASSERT(tpkt_checksums_ok(plain, n));
	CU_ASSERT_EQUAL(memcmp(plain + 12, tpkt_ip("100.96.0.2").addr, 4), 0);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(plain, n, &np), 0);
	CU_ASSERT_EQUAL(np.dport, 5555);
	CU_ASSERT_EQUAL(np.sport, 53);
	/* An ICMP error about the second flow comes back from proxy IP 2, quoting the packet the
	 * client sent, byte for byte. */
	t = from_client("100.96.0.2", 17, 5555, 53);
	uint32_t cn = tpkt_build(want, sizeof(want), &t);
	struct fg_ip router = tpkt_ip("198.18.60.1"), client = tpkt_ip("100.64.0.2"), real = tpkt_ip("198.18.50.1");
	struct fg_ip proxy2 = tpkt_ip("100.96.0.2");

	tpkt_as_sent_by_nat(got, want, cn, &real, 5556, false);
	n = tpkt_router_error(err, AF_INET, 3, 3, 0, &router, &client, got, 28, false);
	uint32_t wn = tpkt_expected_error(sent, AF_INET, 3, 3, 0, &proxy2, &client, want, 28);

	len = to_client(&c, err, n, plain);
	CU_ASSERT_EQUAL_FATAL(len, (int)wn);
	CU_ASSERT_EQUAL(memcmp(plain, sent, wn), 0);
	/* Not NATable to a proxy IP: dropped by name. */
	t = from_client("100.96.0.1", 47, 1, 1);
	n = tpkt_build(sent, sizeof(sent), &t);
	tr_send_data(&c, sent, (uint16_t)n);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_NAT_PROTO, 1));
	/* The counters. */
	stats(&st);
	CU_ASSERT_EQUAL(st.nat_translated_out, 2);
	CU_ASSERT_EQUAL(st.nat_translated_in, 1);
	CU_ASSERT_EQUAL(st.nat_icmp_translated, 1);
	CU_ASSERT_EQUAL(st.nat_created, 2);
	CU_ASSERT_EQUAL(st.nat_live, 2);
	CU_ASSERT_EQUAL(st.flows_started, 2);
	CU_ASSERT_EQUAL(st.flows_live, 2);
	unsigned named = 0;

	for (uint32_t i = 0; i < st.n_drops; i++)
		named += strncmp(st.drop_names[i], "nat_", 4) == 0;
	CU_ASSERT_EQUAL(named, 4);
	/* A reset NAT: the tuples are gone at once, the reply is not the client's any more. */
	fg_conntrack_reset_peer(&tr_env.dp.ct, c.slot);
	n = tpkt_build(sent, sizeof(sent), &r);
	uint64_t before = tr_wcnt()->drops[FG_DROP_POLICY_INBOUND];

	CU_ASSERT_EQUAL_FATAL(send(tr_env.tun[1], sent, n, 0), (ssize_t)n);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_POLICY_INBOUND, before + 1));
	tr_teardown(&c);
}

static void test_nat_dump_and_flows(void)
{
	_Alignas(16) uint8_t buf[4096];
	uint8_t sent[TR_FRAME_MAX], got[TR_FRAME_MAX];
	struct fg_ctl_nat_dump req;
	struct fg_ctl_flows_set fs;
	struct tr_client c;
	struct tpkt t;
	uint32_t n;

	tr_setup(&c);
	tr_ctl_open();
	make_dns_client(&c);
	tr_handshake(&c);
	t = from_client("100.96.0.1", 6, 40000, 443);
	t.tcp_flags = 0x02;
	CU_ASSERT_EQUAL_FATAL(through(&c, &t, got, sent, &n), (ssize_t)n);
	/* The flow's start reaches the control plane as FLOW. */
	const struct fg_ctl_flow *f = (const void *)buf;

	CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_FLOW, buf, sizeof(buf)), (ssize_t)sizeof(*f));
	CU_ASSERT_EQUAL(f->h.seq, 0);
	CU_ASSERT_EQUAL(f->kind, FG_CTL_FLOW_STARTED);
	CU_ASSERT_EQUAL(memcmp(f->public_key, c.local.public_key, 32), 0);
	CU_ASSERT_STRING_EQUAL(f->resource_id, RES);
	CU_ASSERT_EQUAL(f->proto, 6);
	CU_ASSERT_EQUAL(f->src_port, 40000);
	CU_ASSERT_EQUAL(f->dst_port, 443);
	CU_ASSERT(fg_ip_equal(&f->dst, &(struct fg_ip){ .family = AF_INET, .addr = { 100, 96, 0, 1 } }));
	CU_ASSERT(fg_ip_equal(&f->real, &(struct fg_ip){ .family = AF_INET, .addr = { 198, 18, 50, 1 } }));
	CU_ASSERT_EQUAL(f->n_outers, 1);
	CU_ASSERT(f->start_unix_ns > 1600000000ULL * 1000000000ULL);
	/* NAT_DUMP: one NAT_INFO, then the REPLY with the count. */
	memset(&req, 0, sizeof(req));
	tr_ctl_send(&req, sizeof(req), FG_CTL_NAT_DUMP);
	const struct fg_ctl_nat_info *ni = (const void *)buf;

	CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_NAT_INFO, buf, sizeof(buf)), (ssize_t)sizeof(*ni));
	CU_ASSERT_EQUAL(memcmp(ni->public_key, c.local.public_key, 32), 0);
	CU_ASSERT_EQUAL(ni->proto, 6);
	CU_ASSERT_EQUAL(ni->inside_port, 40000);
	CU_ASSERT_EQUAL(ni->outside_port, 40000);
	CU_ASSERT_EQUAL(ni->tx_packets, 1);
	CU_ASSERT_EQUAL(ni->tx_bytes, t.payload);   /* layer-4 payload */
	CU_ASSERT_EQUAL(ni->rx_packets, 0);
	CU_ASSERT_EQUAL(ni->last_in_unix_ns, 0);
	CU_ASSERT_EQUAL(ni->flags, 0);
	CU_ASSERT(ni->created_unix_ns > 1600000000ULL * 1000000000ULL);
	const struct fg_ctl_reply *rep = (const void *)buf;

	CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_REPLY, buf, sizeof(buf)), (ssize_t)sizeof(*rep));
	CU_ASSERT_EQUAL(rep->status, 0);
	CU_ASSERT_EQUAL(rep->count, 1);
	/* FLOWS_SET: the flag reaches the workers. */
	memset(&fs, 0, sizeof(fs));
	fs.enabled = 1;
	CU_ASSERT_EQUAL(tr_ctl_request(&fs, sizeof(fs), FG_CTL_FLOWS_SET), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&tr_env.dp.ct.flows_enabled, __ATOMIC_RELAXED), 1);
	fs.enabled = 0;
	CU_ASSERT_EQUAL(tr_ctl_request(&fs, sizeof(fs), FG_CTL_FLOWS_SET), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&tr_env.dp.ct.flows_enabled, __ATOMIC_RELAXED), 0);
	/* The peer goes: its flow ends (RESET) and the record still names it. */
	CU_ASSERT_EQUAL(fg_svc_client_remove(&tr_env.svc, c.local.public_key, false), 0);
	for (unsigned i = 0; i < 50; i++)
		tr_step();
	CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_FLOW, buf, sizeof(buf)), (ssize_t)sizeof(*f));
	CU_ASSERT_EQUAL(f->kind, FG_CTL_FLOW_COMPLETED);
	CU_ASSERT_EQUAL(f->end, FG_CTL_FLOW_END_RESET);
	CU_ASSERT_EQUAL(memcmp(f->public_key, c.local.public_key, 32), 0);
	CU_ASSERT_EQUAL(f->tx_packets, 1);
	tr_teardown(&c);
}

static const struct fg_cunit_test tests[] = {
	{ "client -> proxy IP -> real IP and back, ICMP error, drops, reset", test_nat_through_the_worker },
	{ "NAT_DUMP, FLOWS_SET, FLOW records (start, end of a removed peer)", test_nat_dump_and_flows },
};

int main(int argc, char **argv)
{
	(void)argc;
	if (fg_svc_env_eal(argv[0]) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return fg_cunit_run("dp-nat", tests, sizeof(tests) / sizeof(tests[0]));
}
