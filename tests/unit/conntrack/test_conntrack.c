// SPDX-License-Identifier: MIT
/*
 * The connection table (dataplane/worker/conntrack.h) in-process, EAL with --no-huge: two
 * workers' tables over a real peer table, driven on the main thread with explicit times (no
 * sleeping). The outside port rule (first free >= the original, wrap to 1, exhaustion, and
 * across the workers' tables), every timeout, FIN both ways + 5 s, RST, the strays of an
 * expired tuple and their end when the tuple is mapped again, the bounded memory of expired
 * tuples, the reset by NAT epoch and by the peer's generation, the ICMP errors rebuilt from
 * the proxy IP, replies found in another worker's table, and the flow records.
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ring.h>

#include "conntrack.h"
#include "natpkt.h"
#include "peers.h"
#include "tpkt.h"
#include "../cunit_run.h"

#define S 1000000000ULL
#define T0 (1000 * S)

enum { BUF = 2048, NWORKERS = 2 };

static struct fg_tables tables;
static struct fg_conntrack ct;
static uint32_t slot_a, slot_b;
static struct fg_endpoint outer_direct, outer_relay;
static bool track;

static void setup(uint32_t capacity)
{
	CU_ASSERT_EQUAL_FATAL(fg_tables_init(&tables, 16, NWORKERS), 0);
	slot_a = fg_peer_alloc(&tables);
	slot_b = fg_peer_alloc(&tables);
	CU_ASSERT_FATAL(slot_a != FG_SLOT_NONE && slot_b != FG_SLOT_NONE);
	CU_ASSERT_EQUAL_FATAL(fg_conntrack_init(&ct, NWORKERS, capacity, &tables, tables.qsbr), 0);
	fg_endpoint_parse("198.18.1.1:51820", &outer_direct);
	fg_endpoint_parse("198.18.2.2:3478", &outer_relay);
	track = false;
}

static void teardown(void)
{
	fg_conntrack_free(&ct);
	fg_tables_free(&tables);
}

static struct fg_policy_nat mknat(const char *proxy, const char *real)
{
	struct fg_policy_nat n = { .proxy = tpkt_ip(proxy), .real = tpkt_ip(real) };

	return n;
}

/* A client -> resource packet through worker w's table. */
struct pkt {
	uint8_t b[BUF];
	uint32_t n;
};

static enum fg_drop out_on(unsigned w, uint32_t slot, const struct fg_policy_nat *nat, const struct tpkt *t,
			   uint64_t now, struct pkt *p, const struct fg_endpoint *outer, uint16_t channel)
{
	struct fg_conntrack_out o = { .slot = slot, .nat = nat, .resource_id = "res-dns", .outer = outer,
				      .channel = channel, .track = track };

	p->n = tpkt_build(p->b, BUF, t);
	return fg_conntrack_outbound(&ct, ct.tables[w], p->b, p->n, &o, now);
}

static struct tpkt client_pkt(int family, uint8_t proto, const struct fg_policy_nat *nat, uint16_t sport,
			      uint16_t dport, uint8_t flags)
{
	struct tpkt t = { .family = family, .proto = proto, .src = tpkt_ip(family == AF_INET ? "100.64.0.2"
												: "fd00:2021:1111::2"),
			  .dst = nat->proxy, .sport = sport, .dport = dport, .tcp_flags = flags,
			  .icmp_type = family == AF_INET ? 8 : 128, .payload = 40, .seed = sport };

	return t;
}

/* Sends a client packet and returns its outside port (asserting the translation). */
static uint16_t out_port(unsigned w, uint32_t slot, const struct fg_policy_nat *nat, uint8_t proto, uint16_t sport,
			 uint8_t flags, uint64_t now)
{
	int family = nat->proxy.family;
	struct tpkt t = client_pkt(family, proto, nat, sport, 443, flags);
	struct pkt p;
	struct fg_natpkt np;

	CU_ASSERT_EQUAL(out_on(w, slot, nat, &t, now, &p, &outer_direct, 0), FG_DROP_NONE);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(p.b, p.n, &np), 0);
	CU_ASSERT(tpkt_checksums_ok(p.b, p.n));
	CU_ASSERT(memcmp(p.b + (family == AF_INET ? 16 : 24), nat->real.addr, family == AF_INET ? 4 : 16) == 0);
	return np.sport;
}

/* The server's reply to outside port op through worker w: FG_DROP_NONE with *back the port
 * the client sees (0 when untranslated), or the drop. */
static enum fg_drop reply_on(unsigned w, uint32_t slot, const struct fg_policy_nat *nat, uint8_t proto, uint16_t op,
			     uint8_t flags, uint64_t now, uint16_t *back)
{
	int family = nat->proxy.family;
	struct tpkt t = { .family = family, .proto = proto, .src = nat->real,
			  .dst = tpkt_ip(family == AF_INET ? "100.64.0.2" : "fd00:2021:1111::2"), .sport = 443,
			  .dport = op, .tcp_flags = flags, .icmp_type = family == AF_INET ? 0 : 129, .payload = 60 };
	struct pkt p;
	struct fg_natpkt np;
	enum fg_drop r;

	if (proto == 1 || proto == 58)
		t.sport = op;   /* an echo reply carries the id */
	p.n = tpkt_build(p.b, BUF, &t);
	r = fg_conntrack_inbound(&ct, ct.tables[w], p.b, &p.n, slot, true, now);
	*back = 0;
	if (r != FG_DROP_NONE)
		return r;
	CU_ASSERT(tpkt_checksums_ok(p.b, p.n));
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(p.b, p.n, &np), 0);
	if (memcmp(p.b + (family == AF_INET ? 12 : 8), nat->proxy.addr, family == AF_INET ? 4 : 16) == 0)
		*back = np.dport;
	return r;
}

static unsigned drain(struct fg_conntrack_record *rec, unsigned max)
{
	return rte_ring_sc_dequeue_burst_elem(ct.records, rec, sizeof(*rec), max, NULL);
}

static struct fg_conntrack_counters sums(void)
{
	struct fg_conntrack_counters c;

	fg_conntrack_stats(&ct, &c);
	return c;
}

static unsigned sweep_all(unsigned w, uint64_t now)
{
	return fg_conntrack_sweep(&ct, ct.tables[w], now, ct.tables[w]->nlive + 1);
}

/* ---- translation --------------------------------------------------------------------------- */

static void test_roundtrip(void)
{
	static const struct {
		int family;
		uint8_t proto;
	} cases[] = { { AF_INET, 6 },  { AF_INET, 17 },  { AF_INET, 1 },
		      { AF_INET6, 6 }, { AF_INET6, 17 }, { AF_INET6, 58 } };
	struct fg_policy_nat n4 = mknat("100.96.0.1", "198.18.5.5");
	struct fg_policy_nat n6 = mknat("fd00:2021:1111:8000::1", "2001:db8::5");
	uint16_t back;

	setup(1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fg_policy_nat *n = cases[i].family == AF_INET ? &n4 : &n6;
		uint16_t op = out_port(0, slot_a, n, cases[i].proto, 40000, 0, T0);

		CU_ASSERT_EQUAL(op, 40000);
		CU_ASSERT_EQUAL(reply_on(0, slot_a, n, cases[i].proto, op, 0, T0 + S, &back), FG_DROP_NONE);
		CU_ASSERT_EQUAL(back, 40000);
	}
	struct fg_conntrack_counters c = sums();

	CU_ASSERT_EQUAL(c.translated_out, 6);
	CU_ASSERT_EQUAL(c.translated_in, 6);
	CU_ASSERT_EQUAL(c.created, 6);
	CU_ASSERT_EQUAL(c.nat_live, 6);
	/* Not TCP, UDP or an echo request: an echo reply, GRE, a fragment. */
	struct tpkt t = client_pkt(AF_INET, 1, &n4, 7, 0, 0);
	struct pkt p;

	t.icmp_type = 0;
	CU_ASSERT_EQUAL(out_on(0, slot_a, &n4, &t, T0, &p, &outer_direct, 0), FG_DROP_NAT_PROTO);
	t = client_pkt(AF_INET, 47, &n4, 7, 0, 0);
	CU_ASSERT_EQUAL(out_on(0, slot_a, &n4, &t, T0, &p, &outer_direct, 0), FG_DROP_NAT_PROTO);
	t = client_pkt(AF_INET, 17, &n4, 7, 9, 0);
	p.n = tpkt_build(p.b, BUF, &t);
	p.b[6] = 0x20;   /* MF */
	struct fg_conntrack_out o = { .slot = slot_a, .nat = &n4 };

	CU_ASSERT_EQUAL(fg_conntrack_outbound(&ct, ct.tables[0], p.b, p.n, &o, T0), FG_DROP_NAT_PROTO);
	/* A proxy IP without an address of its family. */
	struct fg_policy_nat none = n4;

	none.real.family = 0;
	t = client_pkt(AF_INET, 17, &n4, 7, 9, 0);
	CU_ASSERT_EQUAL(out_on(0, slot_a, &none, &t, T0, &p, &outer_direct, 0), FG_DROP_POLICY_NET_UNREACHABLE);
	/* A reply that matches no tuple is left alone (CIDR traffic). */
	struct fg_policy_nat other = mknat("100.96.0.9", "198.18.6.6");

	CU_ASSERT_EQUAL(reply_on(0, slot_a, &other, 17, 1234, 0, T0, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT_EQUAL(sums().misses, 1);
	teardown();
}

static void test_port_allocation(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5"), p2 = mknat("100.96.0.2", "198.18.5.5");
	struct fg_policy_nat p3 = mknat("100.96.0.3", "198.18.5.6");

	setup(1024);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 6, 1000, 0, T0), 1000);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 6, 1000, 0, T0), 1001);   /* same real IP */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 6, 1001, 0, T0), 1002);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 6, 1000, 0, T0), 1000);   /* the same tuple */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p3, 6, 1000, 0, T0), 1000);   /* another real IP */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 17, 1000, 0, T0), 1000);  /* another protocol */
	CU_ASSERT_EQUAL(out_port(0, slot_b, &p2, 6, 1000, 0, T0), 1000);   /* another client */
	/* Wrapping: 65535 taken, the next is 1. */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 6, 65535, 0, T0), 65535);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 6, 65535, 0, T0), 1);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 6, 1, 0, T0), 2);
	/* Echo id 0 is a port like another. */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 1, 0, 0, T0), 0);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 1, 0, 0, T0), 1);
	/* Another worker's tuples count: worker 1 holds 2000, worker 0 skips it. */
	CU_ASSERT_EQUAL(out_port(1, slot_a, &p1, 6, 2000, 0, T0), 2000);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 6, 2000, 0, T0), 2001);
	/* ... and an inside tuple another worker holds is used as it is (keypair owner moved). */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 6, 2000, 0, T0), 2000);
	CU_ASSERT_EQUAL(ct.tables[0]->nlive + ct.tables[1]->nlive, 13);
	/* A tuple past its timeout does not hold its port (no sweep ran yet). */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 17, 3000, 0, T0), 3000);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 17, 3000, 0, T0 + 61 * S), 3000);
	teardown();
}

static void test_exhaustion(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5"), p2 = mknat("100.96.0.2", "198.18.5.5");
	struct fg_conntrack_record rec[64];
	uint16_t back;
	bool all = true;

	setup(70000);
	for (uint32_t port = 1; port <= 65535; port++)
		all &= out_port(0, slot_a, &p1, 6, (uint16_t)port, 0, T0) == port;
	CU_ASSERT(all);
	struct tpkt t = client_pkt(AF_INET, 6, &p2, 80, 443, 0);
	struct pkt p;

	CU_ASSERT_EQUAL(out_on(0, slot_a, &p2, &t, T0, &p, &outer_direct, 0), FG_DROP_NAT_EXHAUSTED);
	CU_ASSERT_EQUAL(out_on(1, slot_a, &p2, &t, T0, &p, &outer_direct, 0), FG_DROP_NAT_EXHAUSTED);
	/* Port 0 is only ever its own: still free for a port-0 original. */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 6, 0, 0, T0), 0);
	/* The records: the ring holds what it can, the rest is counted. */
	struct fg_conntrack_counters c = sums();

	CU_ASSERT_EQUAL(c.flows_started, 65536);
	CU_ASSERT_EQUAL(c.flows_lost, 65536 - rte_ring_count(ct.records));
	while (drain(rec, 64))
		;
	/* A RST from the server frees port 500 (closed by the sweep): the next mapping takes it. */
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 6, 500, FG_NATPKT_RST, T0 + S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(sweep_all(0, T0 + S), 1);
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 6, 500, 0, T0 + S, &back), FG_DROP_NAT_EXPIRED);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p2, 6, 80, 0, T0 + S), 500);
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p2, 6, 500, 0, T0 + S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 80);
	teardown();
}

/* ---- timeouts ----------------------------------------------------------------------------- */

struct timeout_case {
	const char *name;
	uint8_t proto;
	bool reply;           /* a reply at T0 + 1 s */
	uint8_t fin;          /* 1: FIN out at +2 s, 2: and FIN in at +3 s */
	uint8_t rst;          /* 1: RST out at +2 s, 2: RST in at +2 s */
	uint64_t deadline;    /* absolute */
	uint8_t end;
};

/* The tuple lives up to deadline - 1 ns; at deadline a reply is an expired session (found
 * by the lookup before any sweep), and the sweep closes it with the expected end. */
static void run_timeout(const struct timeout_case *c, bool nat)
{
	struct fg_policy_nat p = mknat("100.96.0.1", "198.18.5.5");
	struct fg_conntrack_record rec[8];
	struct fg_conntrack_entry e;
	uint16_t op, back;
	unsigned nr;

	setup(256);
	track = !nat;
	fg_conntrack_set_flows(&ct, !nat);
	if (nat) {
		op = out_port(0, slot_a, &p, c->proto, 5000, 0, T0);
	} else {
		struct tpkt t = client_pkt(AF_INET, c->proto, &p, 5000, 443, 0);
		struct pkt pk;

		t.dst = p.real;
		CU_ASSERT_EQUAL(out_on(0, slot_a, NULL, &t, T0, &pk, &outer_direct, 0), FG_DROP_NONE);
		op = 5000;
	}
	struct fg_policy_nat q = p;

	if (!nat)
		q.proxy = p.real;   /* untranslated: the reply comes from the address it went to */
	if (c->reply)
		CU_ASSERT_EQUAL(reply_on(1, slot_a, &q, c->proto, op, 0, T0 + S, &back), FG_DROP_NONE);
	if (c->fin >= 1 || c->rst == 1) {
		struct tpkt t = client_pkt(AF_INET, c->proto, &p, 5000, 443,
					   c->rst == 1 ? FG_NATPKT_RST : FG_NATPKT_FIN);
		struct pkt pk;

		if (!nat)
			t.dst = p.real;
		CU_ASSERT_EQUAL(out_on(0, slot_a, nat ? &p : NULL, &t, T0 + 2 * S, &pk, &outer_direct, 0),
				FG_DROP_NONE);
	}
	if (c->fin == 2 || c->rst == 2)
		CU_ASSERT_EQUAL(reply_on(1, slot_a, &q, c->proto, op, c->rst == 2 ? FG_NATPKT_RST : FG_NATPKT_FIN,
					 c->fin == 2 ? T0 + 3 * S : T0 + 2 * S, &back), FG_DROP_NONE);
	CU_ASSERT_FATAL(ct.tables[0]->nlive == 1);
	CU_ASSERT(fg_conntrack_snapshot(&ct, ct.tables[0], ct.tables[0]->live[0], T0, &e) || c->rst);
	uint64_t d = fg_conntrack_deadline(&ct.tables[0]->e[ct.tables[0]->live[0]]);

	if (d != c->deadline)
		fprintf(stderr, "\n  %s (%s): deadline %+.3f s\n", c->name, nat ? "NAT" : "flow",
			((double)d - (double)c->deadline) / 1e9);
	CU_ASSERT_EQUAL(d, c->deadline);
	CU_ASSERT_EQUAL(sweep_all(0, c->deadline - 1), 0);
	if (nat) {
		/* A reply at the deadline, before any sweep, finds the session expired. */
		CU_ASSERT_EQUAL(reply_on(1, slot_a, &q, c->proto, op, 0, c->deadline, &back), FG_DROP_NAT_EXPIRED);
	}
	CU_ASSERT_EQUAL(sweep_all(0, c->deadline), 1);
	CU_ASSERT_EQUAL(ct.tables[0]->nlive, 0);
	nr = drain(rec, 8);
	CU_ASSERT_EQUAL_FATAL(nr, 2);
	CU_ASSERT_EQUAL(rec[0].kind, FG_CTL_FLOW_STARTED);
	CU_ASSERT_EQUAL(rec[1].kind, FG_CTL_FLOW_COMPLETED);
	if (rec[1].end != c->end)
		fprintf(stderr, "\n  %s: end %u, want %u\n", c->name, rec[1].end, c->end);
	CU_ASSERT_EQUAL(rec[1].end, c->end);
	CU_ASSERT_EQUAL(rec[1].end_ns, c->deadline);
	/* After the sweep the stray is still an expired session (NAT) or nothing (flow). */
	if (nat)
		CU_ASSERT_EQUAL(reply_on(1, slot_a, &q, c->proto, op, 0, c->deadline + S, &back), FG_DROP_NAT_EXPIRED);
	teardown();
}

static void test_timeouts(void)
{
	const uint64_t tcp = FG_CT_TCP_TTL_NS, two_min = 120 * S;
	const struct timeout_case nat_cases[] = {
		{ "TCP confirmed", 6, true, 0, 0, T0 + S + tcp, FG_CTL_FLOW_END_IDLE },
		{ "UDP confirmed", 17, true, 0, 0, T0 + S + two_min, FG_CTL_FLOW_END_IDLE },
		{ "ICMP confirmed", 1, true, 0, 0, T0 + S + two_min, FG_CTL_FLOW_END_IDLE },
		{ "TCP never answered", 6, false, 0, 0, T0 + 60 * S, FG_CTL_FLOW_END_IDLE },
		{ "UDP never answered", 17, false, 0, 0, T0 + 60 * S, FG_CTL_FLOW_END_IDLE },
		{ "FIN out only", 6, true, 1, 0, T0 + 2 * S + tcp, FG_CTL_FLOW_END_IDLE },
		{ "FIN both ways", 6, true, 2, 0, T0 + 3 * S + 5 * S, FG_CTL_FLOW_END_FIN },
		{ "RST out", 6, true, 0, 1, T0 + 2 * S, FG_CTL_FLOW_END_RST_OUT },
		{ "RST in", 6, true, 0, 2, T0 + 2 * S, FG_CTL_FLOW_END_RST_IN },
		{ "RST out, never answered", 6, false, 0, 1, T0 + 2 * S, FG_CTL_FLOW_END_RST_OUT },
	};
	const struct timeout_case flow_cases[] = {
		{ "TCP flow idle", 6, true, 0, 0, T0 + S + two_min, FG_CTL_FLOW_END_IDLE },
		{ "UDP flow never answered", 17, false, 0, 0, T0 + two_min, FG_CTL_FLOW_END_IDLE },
		{ "echo flow", 1, true, 0, 0, T0 + S + two_min, FG_CTL_FLOW_END_IDLE },
		{ "TCP flow FIN both ways", 6, true, 2, 0, T0 + 8 * S, FG_CTL_FLOW_END_FIN },
		{ "TCP flow RST in", 6, true, 0, 2, T0 + 2 * S, FG_CTL_FLOW_END_RST_IN },
		{ "TCP flow RST out", 6, true, 0, 1, T0 + 2 * S, FG_CTL_FLOW_END_RST_OUT },
	};

	for (size_t i = 0; i < sizeof(nat_cases) / sizeof(nat_cases[0]); i++)
		run_timeout(&nat_cases[i], true);
	for (size_t i = 0; i < sizeof(flow_cases) / sizeof(flow_cases[0]); i++)
		run_timeout(&flow_cases[i], false);
}

/* ---- expired tuples, resets ------------------------------------------------------------------ */

static void test_strays_and_remap(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5"), p2 = mknat("100.96.0.2", "198.18.5.5");
	uint16_t back;

	setup(64);   /* remembers 16 expired tuples */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 17, 7000, 0, T0), 7000);
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 60 * S), 1);
	CU_ASSERT_EQUAL(reply_on(0, slot_a, &p1, 17, 7000, 0, T0 + 61 * S, &back), FG_DROP_NAT_EXPIRED);
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 17, 7000, 0, T0 + 61 * S, &back), FG_DROP_NAT_EXPIRED);
	/* Mapped again (another proxy IP of the same real IP takes outside port 7000): the stray
	 * is forgotten and the reply reaches the new tuple. */
	CU_ASSERT_EQUAL(out_port(1, slot_a, &p2, 17, 7000, 0, T0 + 62 * S), 7000);
	CU_ASSERT_EQUAL(reply_on(0, slot_a, &p2, 17, 7000, 0, T0 + 63 * S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 7000);
	/* Again on the owner's table itself. */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 17, 7100, 0, T0 + 70 * S), 7100);
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 130 * S), 1);
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 17, 7100, 0, T0 + 131 * S, &back), FG_DROP_NAT_EXPIRED);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 17, 7100, 0, T0 + 132 * S), 7100);
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 17, 7100, 0, T0 + 133 * S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 7100);
	teardown();

	/* The memory of expired tuples is bounded: of 20, the 4 oldest are forgotten. */
	setup(64);
	for (uint16_t i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 17, (uint16_t)(8000 + i), 0, T0 + i * S), 8000 + i);
	for (uint16_t i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(sweep_all(0, T0 + (60 + i) * S), 1);
	CU_ASSERT_EQUAL(ct.tables[0]->exp_n, 16);
	for (uint16_t i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 17, (uint16_t)(8000 + i), 0, T0 + 100 * S, &back),
				i < 4 ? FG_DROP_NONE : FG_DROP_NAT_EXPIRED);
	teardown();
}

static void test_reset(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5");
	struct fg_conntrack_record rec[16];
	uint16_t back;
	unsigned n;

	setup(256);
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 6, 4000, 0, T0), 4000);
	CU_ASSERT_EQUAL(out_port(1, slot_a, &p1, 17, 4000, 0, T0), 4000);
	CU_ASSERT_EQUAL(out_port(0, slot_b, &p1, 6, 4000, 0, T0), 4000);
	/* A flow to a CIDR resource (flow logs on): a NAT reset leaves it alone. */
	struct tpkt ft = client_pkt(AF_INET, 17, &p1, 4500, 443, 0);
	struct fg_policy_nat direct = mknat("198.18.77.1", "198.18.77.1");
	struct pkt fp;

	track = true;
	fg_conntrack_set_flows(&ct, true);
	ft.dst = direct.proxy;
	CU_ASSERT_EQUAL(out_on(1, slot_a, NULL, &ft, T0, &fp, &outer_direct, 0), FG_DROP_NONE);
	drain(rec, 16);
	fg_conntrack_reset_peer(&ct, slot_a);
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &direct, 17, 4500, 0, T0 + S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 4500);
	/* At once: the old tuples are unreachable (no expired session: not NATed traffic). */
	CU_ASSERT_EQUAL(reply_on(0, slot_a, &p1, 6, 4000, 0, T0 + S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT_EQUAL(reply_on(0, slot_b, &p1, 6, 4000, 0, T0 + S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 4000);   /* the other client is untouched */
	/* A new flow maps afresh, to the same port. */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 6, 4000, 0, T0 + 2 * S), 4000);
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 6, 4000, 0, T0 + 2 * S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 4000);
	/* The owners' sweeps close the old ones with end RESET. */
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 3 * S), 1);
	CU_ASSERT_EQUAL(sweep_all(1, T0 + 3 * S), 1);
	n = drain(rec, 16);
	unsigned resets = 0;

	for (unsigned i = 0; i < n; i++)
		resets += rec[i].kind == FG_CTL_FLOW_COMPLETED && rec[i].end == FG_CTL_FLOW_END_RESET &&
			  rec[i].slot == slot_a;
	CU_ASSERT_EQUAL(resets, 2);
	CU_ASSERT_EQUAL(ct.tables[0]->nlive, 2);   /* slot_b's and the new one */
	CU_ASSERT_EQUAL(ct.tables[1]->nlive, 1);   /* the flow */
	struct fg_conntrack_entry e;

	CU_ASSERT_FATAL(fg_conntrack_snapshot(&ct, ct.tables[1], ct.tables[1]->live[0], T0 + 3 * S, &e));
	CU_ASSERT_FALSE(e.nat);
	CU_ASSERT_EQUAL(e.rx_packets, 1);
	/* The peer leaves its slot (another generation): the same. */
	fg_peer_retire(&tables, slot_b);
	CU_ASSERT_EQUAL(reply_on(0, slot_b, &p1, 6, 4000, 0, T0 + 4 * S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 4 * S), 1);
	n = drain(rec, 16);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(rec[0].end, FG_CTL_FLOW_END_RESET);
	CU_ASSERT_EQUAL(rec[0].slot, slot_b);
	CU_ASSERT_EQUAL(sums().nat_live, 1);
	teardown();
}

/* ---- ICMP errors through the table ---------------------------------------------------------- */

static void run_icmp(int family, uint8_t proto, uint8_t type, uint8_t code, uint32_t rest_in, uint32_t rest_out,
		     uint32_t quote)
{
	bool v4 = family == AF_INET, echo = proto == 1 || proto == 58;
	const char *real_ip = v4 ? "198.18.5.5" : "2001:db8::5";
	struct fg_policy_nat p1 = mknat(v4 ? "100.96.0.1" : "fd00:2021:1111:8000::1", real_ip);
	struct fg_policy_nat p2 = mknat(v4 ? "100.96.0.2" : "fd00:2021:1111:8000::2", real_ip);
	struct fg_ip router = tpkt_ip(v4 ? "198.18.9.9" : "2001:db8::9");
	struct fg_ip client = tpkt_ip(v4 ? "100.64.0.2" : "fd00:2021:1111::2");
	struct pkt cp, sent, err, want;
	uint32_t ql, en;

	setup(256);
	/* p1 takes outside 5000 first, so the client's 5000 to p2 goes out as 5001. */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, proto, 5000, 0, T0), 5000);
	struct tpkt t = client_pkt(family, proto, &p2, 5000, 53, 0);

	t.ttl = 63;
	cp.n = tpkt_build(cp.b, BUF, &t);
	CU_ASSERT_EQUAL(out_on(0, slot_a, &p2, &t, T0, &sent, &outer_direct, 0), FG_DROP_NONE);
	/* What the router quotes: the packet as the NAT sent it, one hop later. */
	tpkt_as_sent_by_nat(sent.b, cp.b, cp.n, &p2.real, 5001, echo);
	ql = quote ? quote : cp.n;
	en = tpkt_router_error(err.b, family, type, code, rest_in, &router, &client, sent.b, ql, false);
	want.n = tpkt_expected_error(want.b, family, type, code, rest_out, &p2.proxy, &client, cp.b, ql);
	err.n = en;
	CU_ASSERT_EQUAL(fg_conntrack_inbound(&ct, ct.tables[1], err.b, &err.n, slot_a, true, T0 + S), FG_DROP_NONE);
	CU_ASSERT_EQUAL(err.n, want.n);
	CU_ASSERT(memcmp(err.b, want.b, want.n) == 0);
	CU_ASSERT(tpkt_checksums_ok(err.b, err.n));
	CU_ASSERT_EQUAL(sums().icmp_translated, 1);
	/* The error counts as an answer: the 60 s of an unanswered tuple no longer apply. */
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 61 * S), 1);   /* p1's tuple, never answered */
	CU_ASSERT_EQUAL(ct.tables[0]->nlive, 1);
	/* A corrupted error is dropped, not rebuilt into a valid one. */
	en = tpkt_router_error(err.b, family, type, code, rest_in, &router, &client, sent.b, ql, false);
	err.b[en - 1] ^= 1;
	err.n = en;
	CU_ASSERT_EQUAL(fg_conntrack_inbound(&ct, ct.tables[1], err.b, &err.n, slot_a, true, T0 + 62 * S),
			FG_DROP_TUN_MALFORMED);
	/* An error about a packet the NAT never sent passes untouched. */
	tpkt_as_sent_by_nat(sent.b, cp.b, cp.n, &p2.real, 5999, echo);
	en = tpkt_router_error(err.b, family, type, code, rest_in, &router, &client, sent.b, ql, false);
	err.n = en;
	memcpy(want.b, err.b, en);
	CU_ASSERT_EQUAL(fg_conntrack_inbound(&ct, ct.tables[1], err.b, &err.n, slot_a, true, T0 + 62 * S),
			FG_DROP_NONE);
	CU_ASSERT_EQUAL(err.n, en);
	CU_ASSERT(memcmp(err.b, want.b, en) == 0);
	/* About an expired tuple: dropped. */
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 400 * S + FG_CT_TCP_TTL_NS), 1);
	tpkt_as_sent_by_nat(sent.b, cp.b, cp.n, &p2.real, 5001, echo);
	err.n = tpkt_router_error(err.b, family, type, code, rest_in, &router, &client, sent.b, ql, false);
	CU_ASSERT_EQUAL(fg_conntrack_inbound(&ct, ct.tables[1], err.b, &err.n, slot_a, true,
					     T0 + 401 * S + FG_CT_TCP_TTL_NS),
			FG_DROP_NAT_EXPIRED);
	teardown();
}

static void test_icmp_errors(void)
{
	run_icmp(AF_INET, 17, 3, 3, 0, 0, 0);
	run_icmp(AF_INET, 17, 3, 4, 0xffff0500, 0x00000500, 28);
	run_icmp(AF_INET, 6, 11, 0, 0, 0, 28);
	run_icmp(AF_INET, 1, 3, 1, 0, 0, 0);
	run_icmp(AF_INET6, 17, 1, 4, 0, 0, 0);
	run_icmp(AF_INET6, 6, 2, 0, 1280, 1280, 48);
	run_icmp(AF_INET6, 58, 3, 0, 0, 0, 0);
}

/* ---- flow records ---------------------------------------------------------------------------- */

static void test_flow_records(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5");
	struct fg_conntrack_record rec[8];
	uint64_t tx = 0, rx = 0;
	uint16_t back;
	struct pkt p;

	setup(256);
	/* A NAT flow: 3 packets out (the third over a relay), 2 back, FIN both ways. */
	for (unsigned i = 0; i < 3; i++) {
		struct tpkt t = client_pkt(AF_INET, 6, &p1, 6000, 443, i == 2 ? FG_NATPKT_FIN : 0);

		t.payload = 100 * i;
		CU_ASSERT_EQUAL(out_on(0, slot_a, &p1, &t, T0 + i * S, &p, i == 2 ? &outer_relay : &outer_direct,
				       i == 2 ? 0x4001 : 0), FG_DROP_NONE);
		tx += t.payload;   /* layer-4 payload, as the Rust flow tracker counts */
		if (i == 0) {
			CU_ASSERT_EQUAL_FATAL(drain(rec, 8), 1);
			CU_ASSERT_EQUAL(rec[0].kind, FG_CTL_FLOW_STARTED);
			CU_ASSERT_EQUAL(rec[0].end, 0);
			CU_ASSERT_EQUAL(rec[0].proto, 6);
			CU_ASSERT_EQUAL(rec[0].slot, slot_a);
			CU_ASSERT(fg_ip_equal(&rec[0].src, &t.src));
			CU_ASSERT(fg_ip_equal(&rec[0].dst, &p1.proxy));
			CU_ASSERT(fg_ip_equal(&rec[0].real, &p1.real));
			CU_ASSERT_EQUAL(rec[0].src_port, 6000);
			CU_ASSERT_EQUAL(rec[0].dst_port, 443);
			CU_ASSERT_STRING_EQUAL(rec[0].resource_id, "res-dns");
			CU_ASSERT_EQUAL(rec[0].n_outers, 1);
			CU_ASSERT(fg_endpoint_equal(&rec[0].outers[0], &outer_direct));
			CU_ASSERT_EQUAL(rec[0].start_ns, T0);
			CU_ASSERT_EQUAL(rec[0].tx_packets + rec[0].rx_packets + rec[0].tx_bytes, 0);
		}
	}
	CU_ASSERT_EQUAL(reply_on(1, slot_a, &p1, 6, 6000, 0, T0 + 3 * S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(reply_on(0, slot_a, &p1, 6, 6000, FG_NATPKT_FIN, T0 + 4 * S, &back), FG_DROP_NONE);
	rx = 2 * 60;
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 9 * S - 1), 0);
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 9 * S), 1);
	CU_ASSERT_EQUAL_FATAL(drain(rec, 8), 1);
	CU_ASSERT_EQUAL(rec[0].kind, FG_CTL_FLOW_COMPLETED);
	CU_ASSERT_EQUAL(rec[0].end, FG_CTL_FLOW_END_FIN);
	CU_ASSERT_EQUAL(rec[0].tx_packets, 3);
	CU_ASSERT_EQUAL(rec[0].tx_bytes, tx);
	CU_ASSERT_EQUAL(rec[0].rx_packets, 2);
	CU_ASSERT_EQUAL(rec[0].rx_bytes, rx);
	CU_ASSERT_EQUAL(rec[0].n_outers, 2);
	CU_ASSERT(fg_endpoint_equal(&rec[0].outers[1], &outer_relay));
	CU_ASSERT_EQUAL(rec[0].channels[1], 0x4001);
	CU_ASSERT_EQUAL(rec[0].start_ns, T0);
	CU_ASSERT_EQUAL(rec[0].last_ns, T0 + 4 * S);
	CU_ASSERT_EQUAL(rec[0].end_ns, T0 + 9 * S);
	struct fg_conntrack_counters c = sums();

	CU_ASSERT_EQUAL(c.flows_started, 1);
	CU_ASSERT_EQUAL(c.flows_completed, 1);
	CU_ASSERT_EQUAL(c.flows_live, 0);
	CU_ASSERT_EQUAL(c.expired, 1);

	/* Flow logs off: a CIDR flow is not tracked; on: it is, both ways. */
	struct tpkt t = client_pkt(AF_INET, 17, &p1, 6100, 443, 0);

	t.dst = tpkt_ip("198.18.77.1");
	CU_ASSERT_EQUAL(out_on(0, slot_a, NULL, &t, T0, &p, &outer_direct, 0), FG_DROP_NONE);
	CU_ASSERT_EQUAL(drain(rec, 8), 0);
	track = true;
	tx = 0;
	for (unsigned i = 0; i < 4; i++) {
		t.payload = 10 + i;
		CU_ASSERT_EQUAL(out_on(i & 1, slot_a, NULL, &t, T0 + i * S, &p, &outer_direct, 0), FG_DROP_NONE);
		CU_ASSERT_EQUAL(memcmp(p.b + 16, t.dst.addr, 4), 0);   /* untranslated */
		tx += t.payload;
	}
	__atomic_store_n(&ct.flows_enabled, 1, __ATOMIC_RELAXED);
	struct fg_policy_nat direct = { .proxy = t.dst, .real = t.dst };

	CU_ASSERT_EQUAL(reply_on(1, slot_a, &direct, 17, 6100, 0, T0 + 5 * S, &back), FG_DROP_NONE);
	CU_ASSERT_EQUAL(drain(rec, 8), 1);   /* STARTED */
	CU_ASSERT_EQUAL(rec[0].real.family, 0);
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 125 * S - 1), 0);
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 125 * S), 1);
	CU_ASSERT_EQUAL_FATAL(drain(rec, 8), 1);
	CU_ASSERT_EQUAL(rec[0].end, FG_CTL_FLOW_END_IDLE);
	CU_ASSERT_EQUAL(rec[0].tx_packets, 4);
	CU_ASSERT_EQUAL(rec[0].tx_bytes, tx);
	CU_ASSERT_EQUAL(rec[0].rx_packets, 1);
	CU_ASSERT_EQUAL(rec[0].rx_bytes, 60);
	CU_ASSERT_EQUAL(rec[0].dst_port, 443);
	teardown();
}

static void test_snapshot(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5");
	struct fg_conntrack_entry e;
	uint16_t back;
	unsigned live = 0;

	setup(128);
	CU_ASSERT_EQUAL(out_port(1, slot_a, &p1, 17, 9000, 0, T0), 9000);
	CU_ASSERT_EQUAL(reply_on(0, slot_a, &p1, 17, 9000, 0, T0 + S, &back), FG_DROP_NONE);
	for (uint32_t i = 0; i < ct.tables[1]->capacity; i++) {
		if (!fg_conntrack_snapshot(&ct, ct.tables[1], i, T0 + 2 * S, &e))
			continue;
		live++;
		CU_ASSERT(e.nat);
		CU_ASSERT_EQUAL(e.in_port, 9000);
		CU_ASSERT_EQUAL(e.out_port, 9000);
		CU_ASSERT_EQUAL(e.tx_packets, 1);
		CU_ASSERT_EQUAL(e.rx_packets, 1);
		CU_ASSERT_EQUAL(e.in_flags & FG_CT_REPLIED, FG_CT_REPLIED);
		CU_ASSERT_FALSE(fg_conntrack_snapshot(&ct, ct.tables[1], i, T0 + 122 * S, &e));
	}
	CU_ASSERT_EQUAL(live, 1);
	fg_conntrack_reset_peer(&ct, slot_a);
	for (uint32_t i = 0; i < ct.tables[1]->capacity; i++)
		CU_ASSERT_FALSE(fg_conntrack_snapshot(&ct, ct.tables[1], i, T0 + 2 * S, &e));
	teardown();
}

static void test_full_and_recycle(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5");
	struct tpkt t;
	struct pkt p;

	setup(64);
	for (uint16_t i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 17, (uint16_t)(100 + i), 0, T0), 100 + i);
	t = client_pkt(AF_INET, 17, &p1, 99, 53, 0);
	CU_ASSERT_EQUAL(out_on(0, slot_a, &p1, &t, T0, &p, &outer_direct, 0), FG_DROP_NAT_TABLE_FULL);
	/* Expired, closed, and (no reader registered: the grace period is over at once) reused. */
	CU_ASSERT_EQUAL(sweep_all(0, T0 + 60 * S), 64);
	CU_ASSERT_EQUAL(out_on(0, slot_a, &p1, &t, T0 + 60 * S, &p, &outer_direct, 0), FG_DROP_NONE);
	CU_ASSERT_EQUAL(ct.tables[0]->nlive, 1);
	for (unsigned i = 0; i < 10; i++)
		fg_conntrack_tick(&ct, ct.tables[0], T0 + 61 * S + i * 2000000ULL);
	CU_ASSERT_EQUAL(ct.tables[0]->nfree + ct.tables[0]->nlive, 64);
	teardown();
}

/* One burst, as a worker's receive batch hands it over: packets of one new flow twice, a
 * second proxy IP of the same real IP, what is not NATable, a packet not for the table, a
 * malformed one, an entry of another worker, and an entry past its timeout that the burst
 * replaces before its second packet. */
static void test_burst(void)
{
	struct fg_policy_nat p1 = mknat("100.96.0.1", "198.18.5.5"), p2 = mknat("100.96.0.2", "198.18.5.5");
	struct fg_conntrack_record rec[16];
	struct fg_conntrack_out o[8];
	struct pkt p[8];
	uint8_t *pp[8];
	uint32_t len[8];
	enum fg_drop r[8];
	struct fg_natpkt np;
	struct tpkt t;

	setup(256);
	CU_ASSERT_EQUAL(out_port(1, slot_a, &p1, 17, 300, 0, T0 + 30 * S), 300);   /* worker 1's */
	CU_ASSERT_EQUAL(out_port(0, slot_a, &p1, 17, 400, 0, T0), 400);      /* expires at T0 + 60 s */
	drain(rec, 16);
	const struct {
		const struct fg_policy_nat *nat;
		uint8_t proto;
		uint16_t sport;
	} in[8] = {
		{ &p1, 6, 1000 }, { &p1, 6, 1000 }, { &p2, 6, 1000 }, { &p1, 47, 1 },
		{ NULL, 17, 2000 }, { &p1, 17, 300 }, { &p1, 17, 400 }, { &p1, 17, 400 },
	};
	for (unsigned i = 0; i < 8; i++) {
		t = client_pkt(AF_INET, in[i].proto, &p1, in[i].sport, 443, 0);
		if (in[i].nat)
			t.dst = in[i].nat->proxy;
		else
			t.dst = tpkt_ip("198.18.77.7");
		p[i].n = tpkt_build(p[i].b, BUF, &t);
		pp[i] = p[i].b;
		len[i] = p[i].n;
		o[i] = (struct fg_conntrack_out){ .slot = slot_a, .nat = in[i].nat, .resource_id = "r",
						  .outer = &outer_direct };
	}
	len[4] = 10;   /* cut short: malformed */
	fg_conntrack_outbound_burst(&ct, ct.tables[0], pp, len, o, 8, T0 + 61 * S, r);
	CU_ASSERT_EQUAL(r[0], FG_DROP_NONE);
	CU_ASSERT_EQUAL(r[1], FG_DROP_NONE);
	CU_ASSERT_EQUAL(r[2], FG_DROP_NONE);
	CU_ASSERT_EQUAL(r[3], FG_DROP_NAT_PROTO);
	CU_ASSERT_EQUAL(r[4], FG_DROP_INNER_MALFORMED);
	CU_ASSERT_EQUAL(r[5], FG_DROP_NONE);
	CU_ASSERT_EQUAL(r[6], FG_DROP_NONE);
	CU_ASSERT_EQUAL(r[7], FG_DROP_NONE);
	uint16_t want[8] = { 1000, 1000, 1001, 0, 0, 300, 400, 400 };

	for (unsigned i = 0; i < 8; i++) {
		if (i == 3 || i == 4)
			continue;
		CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(p[i].b, p[i].n, &np), 0);
		CU_ASSERT_EQUAL(np.sport, want[i]);
		CU_ASSERT(tpkt_checksums_ok(p[i].b, p[i].n));
		CU_ASSERT_EQUAL(memcmp(p[i].b + 16, p1.real.addr, 4), 0);
	}
	/* The tuple on worker 1 was used, not copied; the expired one replaced once. */
	CU_ASSERT_EQUAL(ct.tables[1]->nlive, 1);
	CU_ASSERT_EQUAL(ct.tables[0]->nlive, 3);
	unsigned n = drain(rec, 16), started = 0, completed = 0;

	for (unsigned i = 0; i < n; i++) {
		started += rec[i].kind == FG_CTL_FLOW_STARTED;
		completed += rec[i].kind == FG_CTL_FLOW_COMPLETED && rec[i].src_port == 400;
	}
	CU_ASSERT_EQUAL(started, 3);
	CU_ASSERT_EQUAL(completed, 1);
	struct fg_conntrack_entry e;
	unsigned seen = 0;

	for (uint32_t i = 0; i < ct.tables[0]->capacity; i++)
		if (fg_conntrack_snapshot(&ct, ct.tables[0], i, T0 + 61 * S, &e) && e.in_port == 1000 &&
		    e.dst.addr[3] == 1) {
			CU_ASSERT_EQUAL(e.tx_packets, 2);
			seen++;
		}
	CU_ASSERT_EQUAL(seen, 1);
	teardown();
}

int main(int argc, char **argv)
{
	static const struct fg_cunit_test tests[] = {
		{ "translation both ways, v4 and v6, TCP UDP echo; what is not NATed", test_roundtrip },
		{ "outside port: first free >= original, wrap, per client/proto/real, across workers",
		  test_port_allocation },
		{ "outside ports exhausted; records beyond the ring counted", test_exhaustion },
		{ "timeouts: TCP, UDP, ICMP, unanswered, FIN both ways + 5 s, RST; flows", test_timeouts },
		{ "strays of an expired tuple; mapped again; bounded memory", test_strays_and_remap },
		{ "reset by NAT epoch and by the peer's generation", test_reset },
		{ "ICMP errors rebuilt from the proxy IP through the table", test_icmp_errors },
		{ "flow records: start, completion, counts, paths; flow logs", test_flow_records },
		{ "NAT_DUMP's snapshots", test_snapshot },
		{ "a full table, and entries recycled after the grace period", test_full_and_recycle },
		{ "a burst: duplicates, drops, another worker's entry, an expired one replaced", test_burst },
	};
	int ret;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "test_conntrack: rte_eal_init failed\n");
		return 1;
	}
	ret = fg_cunit_run("conntrack", tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
