/* SPDX-License-Identifier: MIT */
/*
 * The test bench of tests/unit/ice: an agent wired to a fake network on a fake clock, and
 * a small controlling ICE agent written here with the STUN codec (not with the agent under
 * test), in the role a Firezone client plays: it answers our checks (integrity with its own
 * password), sends its checks (ICE-CONTROLLING, PRIORITY, USE-CANDIDATE when it nominates,
 * integrity with the gateway's password) and checks every message of ours it sees against
 * RFC 8445 §7.2 and §7.3. Single-threaded; one bench at a time.
 */
#ifndef FG_TEST_ICE_PEER_H
#define FG_TEST_ICE_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice.h"
#include "stun.h"

#define GW_UFRAG "ejqt"
#define GW_PWD "zfjrrjdkbci42t2axyd45a"
#define CL_UFRAG "hgwh"
#define CL_PWD "j2fqufatn7xlrrvv6fsvea"

#define MS(x) ((uint64_t)(x) * 1000000ull)
#define SEC(x) ((uint64_t)(x) * 1000000000ull)

enum {
	BENCH_Q = 1024,
	BENCH_EV = 256,
	BENCH_CHECKS = 4096,
	BENCH_BLOCK = 8,
	BENCH_MSG = 1024,
};

struct dgram {
	struct fg_ice_path path;
	char relay[FG_ICE_RELAY_ID_LEN];
	uint8_t buf[BENCH_MSG];
	size_t len;
	uint64_t at;
};

struct evrec {
	struct fg_ice_event ev;
	char line[FG_ICE_LINE_MAX];
	char relay[FG_ICE_RELAY_ID_LEN];
	char reason[96];
	uint64_t at;
};

/* Flags of bench_request(): what the client's check carries or gets wrong. */
enum {
	REQ_USE_CANDIDATE = 1 << 0,
	REQ_NO_FINGERPRINT = 1 << 1,
	REQ_NO_PRIORITY = 1 << 2,
	REQ_NO_INTEGRITY = 1 << 3,
	REQ_NO_USERNAME = 1 << 4,
	REQ_WRONG_PASSWORD = 1 << 5,
	REQ_WRONG_REMOTE = 1 << 6,    /* "<ours>:someone" */
	REQ_OTHER_LOCAL = 1 << 7,     /* "other:<theirs>": another agent's */
	REQ_CONTROLLED = 1 << 8,      /* ICE-CONTROLLED instead of ICE-CONTROLLING */
	REQ_UNKNOWN_ATTR = 1 << 9,    /* a comprehension-required type we do not know */
	REQ_NO_ROLE = 1 << 10,
};

struct bench {
	struct fg_ice_agent *a;
	uint64_t now;
	uint64_t rng;
	struct fg_stun_key gw_key, cl_key;
	struct dgram q[BENCH_Q];                 /* what the agent sent, not yet taken */
	unsigned nq;
	struct evrec ev[BENCH_EV];
	unsigned nev;
	uint64_t check_at[BENCH_CHECKS];         /* when each check of ours left */
	struct fg_endpoint check_to[BENCH_CHECKS];
	unsigned nchecks;
	bool hold;                               /* checks of ours stay queued, unanswered */
	bool deaf;                               /* the network drops every check of ours */
	struct fg_endpoint blocked[BENCH_BLOCK]; /* ... or those to these addresses */
	unsigned nblocked;
	uint64_t tie_breaker;                    /* the agent's, from the first check seen */
	unsigned bad_checks;                     /* checks of ours that broke a rule */
	char err[128];                           /* why bench_remote() was refused */
	/* a call back into the agent from its event callback, to prove it is refused */
	bool reenter;
	int reenter_rc;
};

extern struct bench B;

/* "a.b.c.d:port" or "[v6]:port", port 0 allowed. */
struct fg_endpoint ep(const char *s);
void bench_init(void);
void bench_free(void);
int bench_host(const char *addr);
int bench_relay(const char *addr, const char *relay_id);
int bench_srflx(const char *addr, const char *base);
int bench_remote(const char *line);

/* The client's check from `from` to local candidate local_id; its answer in *resp / *d. */
bool bench_request(uint32_t local_id, const char *from, unsigned flags, uint32_t priority,
		   struct fg_stun_msg *resp, struct dgram *d);
/* Answers (or drops, when deaf or blocked) every check of ours queued. Returns how many. */
unsigned bench_answer(void);
/* Ticks until `until`, answering as bench_answer() does after each tick. */
void bench_run(uint64_t until);
/* Takes the first queued datagram of class cls (and txid when not NULL). */
bool bench_take(uint8_t cls, const uint8_t *txid, struct dgram *d, struct fg_stun_msg *m);
void bench_flush(void);

const struct evrec *bench_last_ev(enum fg_ice_event_type type);
unsigned bench_count_ev(enum fg_ice_event_type type);
const struct fg_ice_pair_view *bench_pair(const char *remote);
unsigned bench_pairs(void);

#endif
