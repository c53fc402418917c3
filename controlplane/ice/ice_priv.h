/* SPDX-License-Identifier: MIT */
/*
 * The ICE agent's insides, shared by its three files: ice_agent.c (the agent, its
 * candidates, the checklist, nomination and the connection state), ice_check.c (STUN: the
 * requests we answer, the checks we send and their schedule, the responses we match) and
 * ice_view.c (inspection, routing). Private to controlplane/ice/. Owned by the control
 * plane's single thread, like the agent.
 */
#ifndef FG_ICE_PRIV_H
#define FG_ICE_PRIV_H

#include "ice.h"

#include <stdbool.h>
#include <stdint.h>

#include "stun.h"

enum {
	FG_ICE_CHECKS_KEPT = 4,        /* transaction ids of a pair's last checks still matched */
	FG_ICE_MSG_MAX = 512,          /* our largest message: a request with 64-byte ufrags */
	FG_ICE_USERNAME_MAX = 2 * FG_ICE_UFRAG_MAX + 1,
	FG_ICE_NONE = -1,              /* no pair selected */
	FG_ICE_STALE_CHECKS = 2,       /* unanswered checks (one may be in flight) that make a
					* nominated pair give way to one that answers */
};

#define FG_ICE_MS(ms) ((uint64_t)(ms) * 1000000ull)

struct fg_ice_local {
	bool used;
	uint32_t id;
	uint16_t local_pref;
	struct fg_ice_cand c;          /* type, address, priority, foundation; raddr as signalled */
	struct fg_endpoint base;
	char relay_id[FG_ICE_RELAY_ID_LEN];
};

struct fg_ice_remote {
	bool used;
	bool discarded;                /* invalidated: its address learns no prflx either */
	bool learned;                  /* peer-reflexive, from a request's source */
	struct fg_ice_cand c;
};

/* One check of ours; a retransmission is a new check with a new transaction id (str0m). */
struct fg_ice_check {
	bool used;
	uint8_t txid[FG_STUN_TXID_LEN];
	uint64_t sent_ns;
};

struct fg_ice_pair {
	bool used;
	uint8_t local, remote;         /* slots in the agent's arrays */
	uint8_t state;                 /* enum fg_ice_pair_state */
	bool use_candidate;            /* USE-CANDIDATE received: nominated once valid */
	bool triggered;                /* a triggered check is owed */
	uint64_t prio;
	uint32_t attempts;             /* checks sent, counted up to the profile's retransmits */
	uint32_t unanswered;           /* checks sent since the last success */
	uint32_t checks_sent, requests_rx;
	uint64_t first_unanswered_ns;  /* the oldest of those */
	uint64_t last_sent_ns, last_success_ns, rtt_ns;
	struct fg_endpoint mapped;
	struct fg_ice_check checks[FG_ICE_CHECKS_KEPT];
	uint8_t check_pos;
};

struct fg_ice_agent {
	struct fg_ice_ops ops;
	void *ctx;
	char local_ufrag[FG_ICE_UFRAG_MAX + 1];
	char remote_ufrag[FG_ICE_UFRAG_MAX + 1];
	char username[FG_ICE_USERNAME_MAX + 1];  /* our requests': "remote:local" */
	struct fg_stun_key local_key;  /* signs our answers, checks the requests */
	struct fg_stun_key remote_key; /* signs our checks, checks the answers */
	uint64_t tie_breaker;
	struct fg_ice_local locals[FG_ICE_MAX_LOCAL];
	struct fg_ice_remote remotes[FG_ICE_MAX_REMOTE];
	struct fg_ice_pair pairs[FG_ICE_MAX_PAIRS];
	uint32_t next_local_id;
	uint32_t next_prflx;
	enum fg_ice_state state;
	int selected;                  /* the nominated pair's slot, FG_ICE_NONE */
	bool idle;
	uint64_t created_ns, next_check_ns, last_activity_ns;
	uint64_t nominated_ns, disconnected_ns;
	const char *failure;
	bool in_cb;
	struct fg_ice_counters cnt;
};

/* ice_agent.c */
void fg_ice_emit(struct fg_ice_agent *a, const struct fg_ice_event *ev);
void fg_ice_send(struct fg_ice_agent *a, const struct fg_ice_path *path, const uint8_t *buf,
		 size_t len);
void fg_ice_path_of(const struct fg_ice_agent *a, const struct fg_ice_pair *p,
		    struct fg_ice_path *path);
struct fg_ice_local *fg_ice_local_by_id(struct fg_ice_agent *a, uint32_t id);
/* Remote candidates not invalidated, peer-reflexive ones included. */
unsigned fg_ice_live_remotes(const struct fg_ice_agent *a);
/* The pair of (local slot, remote slot), created Waiting when absent; NULL when it cannot be. */
struct fg_ice_pair *fg_ice_pair_get(struct fg_ice_agent *a, unsigned local, unsigned remote);
/* The remote candidate a request came from, learned as peer-reflexive when unknown. */
int fg_ice_remote_for_request(struct fg_ice_agent *a, const struct fg_endpoint *from,
			      uint32_t priority, unsigned local, uint64_t now);
void fg_ice_pair_fail(struct fg_ice_agent *a, struct fg_ice_pair *p, const char *why);
void fg_ice_pair_succeeded(struct fg_ice_agent *a, struct fg_ice_pair *p);
/* Picks the nominated pair and the connection state again; reports changes. */
void fg_ice_evaluate(struct fg_ice_agent *a, uint64_t now);

/* ice_check.c */
int fg_ice_random(struct fg_ice_agent *a, void *buf, size_t len);
/* Sends a check on p now (triggered or ordinary). */
int fg_ice_check_send(struct fg_ice_agent *a, struct fg_ice_pair *p, uint64_t now);
/* When p's next check (or its give-up) is due; UINT64_MAX: never. */
uint64_t fg_ice_check_due(const struct fg_ice_agent *a, const struct fg_ice_pair *p);
bool fg_ice_check_exhausted(const struct fg_ice_agent *a, const struct fg_ice_pair *p);
/* Checks and give-ups due by now (tick). */
void fg_ice_checks_run(struct fg_ice_agent *a, uint64_t now);
uint64_t fg_ice_checks_next(const struct fg_ice_agent *a);

#endif
