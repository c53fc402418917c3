/* SPDX-License-Identifier: MIT */
/*
 * The bench of tests/unit/nat: a real struct fg_cp_nat on a real struct fg_dpc and a real
 * struct fg_cp_state, the dpclient's socket one end of a SOCK_SEQPACKET socketpair whose
 * other end is a fake data plane played on the test's own thread (it checks each request's
 * version and exact size, keeps a copy of every one, and answers NAT_SET with nat_status,
 * or holds its REPLY back, and everything else with status 0); around it a scripted DNS
 * server on 127.0.0.1 (the resolver's only server) and the owner's loop: poll() over both
 * ends of the socketpair, the DNS server and the sockets the resolver asks to watch, its one
 * timer, the dpclient's deadlines and its events (handed to the state and to nat, as
 * cpdp.c does). Everything on the real clock, with deadlines, never a fixed sleep.
 * Single-threaded; one bench at a time.
 */
#ifndef FG_TEST_NAT_BENCH_H
#define FG_TEST_NAT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"
#include "dpclient.h"
#include "nat.h"
#include "state.h"

enum {
	BENCH_WATCH = 16,         /* resolver sockets */
	BENCH_HELD = 64,          /* NAT_SET REPLYs held back */
	BENCH_NAMES = 16,         /* DNS names counted */
};

/* A request the fake data plane received, as it came. */
struct dp_msg {
	uint16_t type;
	uint32_t seq;
	size_t len;
	uint8_t *buf;             /* malloc'd, aligned for any struct */
};

struct bench {
	/* the fake data plane */
	int dp;                   /* its end of the socketpair, -1 when down */
	struct dp_msg *msgs;
	unsigned nmsgs, capmsgs;
	int nat_status;           /* NAT_SET's REPLY status */
	bool hold_nat;            /* NAT_SET's REPLY withheld until bench_release_nat() */
	uint32_t held[BENCH_HELD];
	unsigned nheld;
	bool dp_bad;              /* a request of the wrong version or size */
	/* the DNS server */
	int dns;
	char servers[64];
	unsigned queries;
	char qnames[BENCH_NAMES][256];
	unsigned qcount[BENCH_NAMES];
	/* the resolver's sockets and timer */
	int fds[BENCH_WATCH];
	bool rd[BENCH_WATCH], wr[BENCH_WATCH];
	unsigned nfds;
	uint64_t timer_at;        /* CLOCK_MONOTONIC ns, 0 = none */
	/* the control plane */
	struct fg_dpc dpc;
	struct fg_cp_state st;
	struct fg_cp_nat *nat;
	unsigned synced;          /* state's on_synced calls */
};

extern struct bench B;

uint64_t bench_now_ns(void);

/* Opens the DNS server and the socketpair, the state and nat (its resolver's timeout
 * timeout_ms, 0: the default). */
void bench_init(unsigned timeout_ms);
/* Closes the dpclient first (what is in flight completes), then frees nat and the state. */
void bench_free(void);

/* The fake data plane restarts: the dpclient's connection goes (requests in flight fail)
 * and a new socketpair takes its place, its records forgotten; then fg_cp_sync(). */
void bench_dp_restart(void);

/* Handles whatever is ready (nothing waits), until nothing is. */
void bench_settle(void);
/* The loop until until() or ms pass; whether until() held. */
bool bench_run(bool (*until)(void), unsigned ms);

/* The fake data plane sends P2P_IN: a payload of len bytes from the client of key byte. */
void bench_p2p_in(uint8_t key, const void *payload, size_t len);
/* An AssignedIps (header [0, 0 x 7] then the JSON) from the client of key byte. */
void bench_assigned(uint8_t key, const char *resource, const char *domain, const char *const *proxies,
		    unsigned n);
/* The fake data plane sends an EVENT of kind for the client of key byte. */
void bench_event(uint8_t key, uint32_t kind, const char *resource);
/* Sends the held NAT_SET REPLYs, with status. */
void bench_release_nat(int status);

/* fg_cp_authorize of client id with key byte: a DNS resource with pattern, or (pattern
 * NULL) a CIDR resource 10.0.0.0/8; expires_at 0: never. Settled, its pushes answered. */
void bench_authorize(const char *client_id, uint8_t key, const char *resource_id, const char *pattern,
		     uint64_t expires_at);

/* Requests of type (0: any) received; the i-th of them, NULL when none. */
unsigned bench_count(uint16_t type);
const struct dp_msg *bench_nth(uint16_t type, unsigned i);
/* Forgets the requests received so far. */
void bench_clear(void);
/* DNS queries the server saw for name (without the trailing dot). */
unsigned bench_queries(const char *name);

/* The request m must be exactly this NAT_SET: pairs[i][0] the proxy IP, pairs[i][1] its
 * real IP or NULL (family 0). */
void expect_nat_set(const struct dp_msg *m, uint8_t key, const char *resource, const char *domain, uint32_t flags,
		    uint32_t rank, const char *const (*pairs)[2], unsigned n);
/* The request m must be exactly the P2P_OUT of this DomainStatus. */
void expect_status(const struct dp_msg *m, uint8_t key, const char *resource, const char *domain, bool active);

#endif
