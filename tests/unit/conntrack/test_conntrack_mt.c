// SPDX-License-Identifier: MIT
/*
 * The connection table under concurrency: the main thread is worker 0, the only writer of
 * its table, creating NAT tuples, answering some, letting time run so that they expire,
 * sweeping, recycling entries and now and then resetting the client's NAT; a second thread
 * is worker 1 and translates the server's replies looking in both tables, lock-free, with a
 * QSBR quiescent state after each batch. Every translation it makes must be right: each
 * real IP has one proxy IP and every inside port maps to the same outside port, so an
 * entry recycled under the reader's feet (a grace-period bug) would show as a reply turned
 * into another proxy IP or port. Run from an ASan build. Bounded by operation counts.
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "conntrack.h"
#include "natpkt.h"
#include "peers.h"
#include "tpkt.h"
#include "../cunit_run.h"

#define MS 1000000ULL

enum {
	REALS = 8,
	PORTS = 64,
	BASE_PORT = 1000,
	CAPACITY = 256,          /* fewer than REALS x PORTS: the table fills and recycles */
	WRITER_OPS = 400000,
	RESET_EVERY = 50000,
	BATCH = 32,
	BUF = 256,
};

static struct fg_tables tables;
static struct fg_conntrack ct;
static uint32_t slot;
static struct fg_policy_nat nats[REALS];
static struct fg_ip client;
static uint64_t now_shared;
static int stop;
/* The reader's progress, published for the writer: on a busy machine the reader may get
 * little CPU while the writer runs its WRITER_OPS, so the writer goes on (within a generous
 * deadline) until the reader has done enough to make the run meaningful. */
static uint64_t reader_holds, reader_lookups;

struct reader_result {
	uint64_t lookups, translated, expired, untouched, bad;
	uint64_t holds, held_changed;
};

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The server's reply from real IP k to outside port port, through table own. Returns
 * 1 translated (and right), 2 expired, 3 untouched, 0 wrong. */
static int reply(unsigned own, unsigned k, uint16_t port, uint64_t now)
{
	struct tpkt t = { .family = AF_INET, .proto = 17, .src = nats[k].real, .dst = client, .sport = 53,
			  .dport = port, .payload = 16 };
	uint8_t b[BUF];
	uint32_t n = tpkt_build(b, BUF, &t), n0 = n;
	struct fg_natpkt np;
	enum fg_drop r = fg_conntrack_inbound(&ct, ct.tables[own], b, &n, slot, true, now);

	if (r == FG_DROP_NAT_EXPIRED)
		return 2;
	if (r != FG_DROP_NONE || n != n0 || !tpkt_checksums_ok(b, n) || fg_natpkt_parse(b, n, &np) != 0)
		return 0;
	if (memcmp(b + 12, nats[k].real.addr, 4) == 0)
		return np.dport == port ? 3 : 0;
	if (memcmp(b + 12, nats[k].proxy.addr, 4) != 0 || np.dport != port || np.sport != 53)
		return 0;
	return 1;
}

/* A slow reader: finds the entry of (real k, port) in the owner's table and holds it for a
 * while without a quiescent state. Until its next one, the entry may die but must not be
 * reused for another tuple: the fields it had are still there. Returns 1 if it held one,
 * 2 if that entry changed under it. */
static int hold(unsigned k, uint16_t port)
{
	const struct fg_conntrack_table *t = ct.tables[0];
	struct fg_conntrack_key key;
	struct fg_conntrack_entry before, after;
	void *v;

	fg_ct_key_make(&key, FG_CT_OUTSIDE, slot, __atomic_load_n(&tables.peers[slot].gen, __ATOMIC_RELAXED),
		       __atomic_load_n(&ct.epoch[slot], __ATOMIC_ACQUIRE), 17, &nats[k].real, port, 0);
	if (rte_hash_lookup_data(t->hash, &key, &v) < 0 || ((uintptr_t)v & FG_CT_MARK))
		return 0;
	const struct fg_conntrack_entry *e = &t->e[(uintptr_t)v];

	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != FG_CT_LIVE)
		return 0;
	memcpy(&before, e, sizeof(before));
	for (volatile unsigned spin = 0; spin < 200000; spin++)
		;
	memcpy(&after, e, sizeof(after));
	if (before.created_ns != after.created_ns || before.in_port != after.in_port ||
	    before.out_port != after.out_port || !fg_ip_equal(&before.dst, &after.dst) ||
	    !fg_ip_equal(&before.real, &after.real) || before.epoch != after.epoch || after.state == FG_CT_FREE)
		return 2;
	return 1;
}

static void *reader(void *arg)
{
	struct reader_result *res = arg;
	uint32_t seed = 0x9e3779b9;

	rte_rcu_qsbr_thread_register(tables.qsbr, 1);
	rte_rcu_qsbr_thread_online(tables.qsbr, 1);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < BATCH; i++) {
			unsigned k = xorshift(&seed) % REALS;
			uint16_t port = (uint16_t)(BASE_PORT + xorshift(&seed) % PORTS);
			int r = reply(1, k, port, __atomic_load_n(&now_shared, __ATOMIC_ACQUIRE));

			res->lookups++;
			res->translated += r == 1;
			res->expired += r == 2;
			res->untouched += r == 3;
			res->bad += r == 0;
		}
		if (res->lookups % (BATCH * 8) == 0) {
			int h = hold(xorshift(&seed) % REALS, (uint16_t)(BASE_PORT + xorshift(&seed) % PORTS));

			res->holds += h != 0;
			res->held_changed += h == 2;
			__atomic_store_n(&reader_holds, res->holds, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&reader_lookups, res->lookups, __ATOMIC_RELEASE);
		rte_rcu_qsbr_quiescent(tables.qsbr, 1);
	}
	rte_rcu_qsbr_thread_offline(tables.qsbr, 1);
	rte_rcu_qsbr_thread_unregister(tables.qsbr, 1);
	return NULL;
}

static void test_writer_vs_reader(void)
{
	struct fg_conntrack_record rec[64];
	struct reader_result res = { 0 };
	uint64_t now = 1000 * 1000 * MS, wrong_out = 0, full = 0, created_ok = 0, own_bad = 0;
	uint32_t seed = 12345;
	pthread_t th;
	char a[32];

	CU_ASSERT_EQUAL_FATAL(fg_tables_init(&tables, 4, 2), 0);
	slot = fg_peer_alloc(&tables);
	CU_ASSERT_EQUAL_FATAL(fg_conntrack_init(&ct, 2, CAPACITY, &tables, tables.qsbr), 0);
	client = tpkt_ip("100.64.0.2");
	for (unsigned k = 0; k < REALS; k++) {
		snprintf(a, sizeof(a), "100.96.0.%u", k + 1);
		nats[k].proxy = tpkt_ip(a);
		snprintf(a, sizeof(a), "198.18.5.%u", k + 1);
		nats[k].real = tpkt_ip(a);
	}
	__atomic_store_n(&now_shared, now, __ATOMIC_RELEASE);
	rte_rcu_qsbr_thread_register(tables.qsbr, 0);
	rte_rcu_qsbr_thread_online(tables.qsbr, 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, reader, &res), 0);
	/* The EAL pinned this thread to lcore 0 and the reader inherited it: let the reader run
	 * on any CPU, so that the two interleave finely where there are two. */
	cpu_set_t all;

	CPU_ZERO(&all);
	for (int c = 0; c < CPU_SETSIZE && c < 1024; c++)
		CPU_SET(c, &all);
	(void)pthread_setaffinity_np(th, sizeof(all), &all);

	struct timespec t0, tn;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned op = 0;; op++) {
		if (op >= WRITER_OPS && op % 1024 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &tn);
			if ((__atomic_load_n(&reader_holds, __ATOMIC_ACQUIRE) > 100 &&
			     __atomic_load_n(&reader_lookups, __ATOMIC_ACQUIRE) > 10000) ||
			    tn.tv_sec - t0.tv_sec > 120)
				break;
		}
		unsigned k = xorshift(&seed) % REALS, what = xorshift(&seed) % 8;
		uint16_t port = (uint16_t)(BASE_PORT + xorshift(&seed) % PORTS);

		/* 200 ms a step: an unanswered tuple lives 300 steps, an answered one 600, and a
		 * (real, port) pair gets a packet every ~800 steps: tuples come and go. */
		now += 200 * MS;
		__atomic_store_n(&now_shared, now, __ATOMIC_RELEASE);
		if (what < 5) {
			struct tpkt t = { .family = AF_INET, .proto = 17, .src = client, .dst = nats[k].proxy,
					  .sport = port, .dport = 53, .payload = 16 };
			struct fg_conntrack_out o = { .slot = slot, .nat = &nats[k], .resource_id = "r" };
			uint8_t b[BUF];
			uint32_t n = tpkt_build(b, BUF, &t);
			enum fg_drop r = fg_conntrack_outbound(&ct, ct.tables[0], b, n, &o, now);
			struct fg_natpkt np;

			if (r == FG_DROP_NAT_TABLE_FULL) {
				full++;
			} else if (r != FG_DROP_NONE || fg_natpkt_parse(b, n, &np) != 0 || np.sport != port ||
				   memcmp(b + 16, nats[k].real.addr, 4) != 0 || !tpkt_checksums_ok(b, n)) {
				wrong_out++;
			} else {
				created_ok++;
			}
		} else if (what < 7) {
			own_bad += reply(0, k, port, now) == 0;
		}
		if (op % RESET_EVERY == RESET_EVERY - 1)
			fg_conntrack_reset_peer(&ct, slot);
		fg_conntrack_tick(&ct, ct.tables[0], now);
		if (op % 64 == 0)
			while (rte_ring_sc_dequeue_burst_elem(ct.records, rec, sizeof(rec[0]), 64, NULL))
				;
		rte_rcu_qsbr_quiescent(tables.qsbr, 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	/* Offline first: the reader may still wait on nothing from us, but the entries it holds
	 * must not be freed under it after we stop reporting. */
	rte_rcu_qsbr_thread_offline(tables.qsbr, 0);
	CU_ASSERT_EQUAL(pthread_join(th, NULL), 0);
	rte_rcu_qsbr_thread_unregister(tables.qsbr, 0);

	struct fg_conntrack_counters c;

	fg_conntrack_stats(&ct, &c);
	printf("\n  writer: %lu mapped, %lu table full; reader: %lu lookups, %lu translated, %lu expired, "
	       "%lu untouched, %lu wrong; %lu entries held, %lu changed; created %lu expired %lu live %lu\n",
	       created_ok, full, res.lookups, res.translated, res.expired, res.untouched, res.bad, res.holds,
	       res.held_changed, c.created, c.expired, c.nat_live);
	CU_ASSERT_EQUAL(wrong_out, 0);
	CU_ASSERT_EQUAL(own_bad, 0);
	CU_ASSERT_EQUAL(res.bad, 0);
	CU_ASSERT_EQUAL(res.held_changed, 0);
	CU_ASSERT(res.holds > 100);
	CU_ASSERT(res.lookups > 10000);
	CU_ASSERT(res.translated > 0);
	CU_ASSERT(res.expired > 0);
	CU_ASSERT(c.created > CAPACITY);       /* entries were recycled */
	CU_ASSERT(full > 0);
	CU_ASSERT_EQUAL(c.created - c.expired, c.nat_live);
	CU_ASSERT_EQUAL(c.nat_live, ct.tables[0]->nlive);
	fg_conntrack_free(&ct);
	fg_tables_free(&tables);
}

int main(int argc, char **argv)
{
	static const struct fg_cunit_test tests[] = {
		{ "owner creates and expires, another worker translates", test_writer_vs_reader },
	};
	int ret;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "test_conntrack_mt: rte_eal_init failed\n");
		return 1;
	}
	ret = fg_cunit_run("conntrack_mt", tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
