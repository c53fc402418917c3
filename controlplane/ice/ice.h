/* SPDX-License-Identifier: MIT */
/*
 * The ICE agent of one client connection, in the controlled role, as the Firezone gateway
 * runs str0m's through snownet (reference §5.3; RFC 8445): the client controls and
 * nominates, we answer its checks, check back, and follow its USE-CANDIDATE. Credentials
 * come from the portal (gateway_ice_credentials are ours, client_ice_credentials the
 * peer's). Local candidates are the host candidate of the WireGuard port, the
 * server-reflexive ones the relays saw and the relayed ones of the relay chosen for the
 * client; remote candidates come as SDP lines (ice_cand.h).
 *
 * A pure state machine: no sockets, no clock, no thread. The caller passes `now` (monotonic
 * nanoseconds) to every call, hands in the STUN datagrams that arrived on a local candidate
 * (fg_ice_input: on the WireGuard port for a host candidate, out of a relay channel for a
 * relayed one), and calls fg_ice_tick() when fg_ice_next_timeout() says. What the agent
 * wants done arrives through the ops table while a call runs: datagrams to send from a
 * local candidate (directly, or through the relay named in the path), candidate lines to
 * signal to the client, the nominated path, state changes. A callback must not call back
 * into the agent (those calls are refused and counted). An agent belongs to the control
 * plane's single thread.
 *
 * Timing is Firezone's server profile: checks of a pair at 250 ms doubling to 15 s, a pair
 * failed after 45 unanswered checks (about 615 s); after 20 s without traffic (the caller
 * says when there is some: fg_ice_traffic) one check per pair every 25 s, 40 unanswered to
 * fail (about 1000 s). The connection fails when no remote candidate came within 10 s, or
 * when every pair has failed (ICE "disconnected") for more than 2 s. Until a pair is
 * nominated the caller buffers what WireGuard sends (FG_ICE_BUFFER_MAX packets) and flushes
 * it on FG_ICE_EV_NOMINATED.
 *
 * Secrets: the two passwords become short-term STUN keys at once and are wiped when the
 * agent is freed; nothing here logs them.
 */
#ifndef FG_ICE_H
#define FG_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ice_cand.h"

enum fg_ice_limits {
	FG_ICE_UFRAG_MIN = 4,          /* ice-ufrag: 4-256 ice-chars (RFC 8839); the portal's are 4 */
	FG_ICE_UFRAG_MAX = 64,
	FG_ICE_PWD_MIN = 22,           /* ice-pwd: 22-256 ice-chars */
	FG_ICE_PWD_MAX = 256,
	FG_ICE_MAX_LOCAL = 16,         /* local candidates */
	FG_ICE_MAX_REMOTE = 32,        /* remote candidates, peer-reflexive ones included */
	FG_ICE_MAX_PAIRS = 100,        /* the checklist (RFC 8445 §6.1.2.5 default) */
	FG_ICE_RELAY_ID_LEN = 64,      /* relay ids: 1..63 bytes (FG_RELAY_ID_LEN) */
	FG_ICE_BUFFER_MAX = 128,       /* packets the caller holds until nomination (snownet) */
};

/* Timers, in milliseconds (snownet's new_server_agent, apply_idle_stun_timings, node.rs). */
enum fg_ice_timers_ms {
	FG_ICE_TA_MS = 50,                  /* ordinary checks are paced one per Ta (RFC 8445 §14.2) */
	FG_ICE_NORMAL_RTO_MS = 250,
	FG_ICE_NORMAL_MAX_RTO_MS = 15000,
	FG_ICE_NORMAL_RETRANSMITS = 45,
	FG_ICE_IDLE_RTO_MS = 25000,
	FG_ICE_IDLE_MAX_RTO_MS = 25000,
	FG_ICE_IDLE_RETRANSMITS = 40,
	FG_ICE_IDLE_AFTER_MS = 20000,       /* connected without traffic this long: idle profile */
	FG_ICE_CANDIDATE_TIMEOUT_MS = 10000,/* no remote candidate this long after creation: failed */
	FG_ICE_DISCONNECT_TIMEOUT_MS = 2000,/* disconnected this long: failed */
};

enum fg_ice_state {
	FG_ICE_CHECKING = 1,   /* no pair nominated yet (or any more), some still possible */
	FG_ICE_CONNECTED,      /* a valid pair is nominated: WireGuard goes there */
	FG_ICE_DISCONNECTED,   /* nothing nominated, every pair failed (or none can be formed) */
	FG_ICE_FAILED,         /* for good: the caller drops the connection and frees the agent */
};

/* Checklist states (RFC 8445 §6.1.2.6). */
enum fg_ice_pair_state {
	FG_ICE_PAIR_FROZEN = 1,
	FG_ICE_PAIR_WAITING,
	FG_ICE_PAIR_IN_PROGRESS,
	FG_ICE_PAIR_SUCCEEDED,   /* valid: a check of ours was answered (and is still being) */
	FG_ICE_PAIR_FAILED,
};

/* Where a datagram goes, or where the nominated path runs. */
struct fg_ice_path {
	uint32_t local_id;             /* the local candidate (fg_ice_add_local_candidate) */
	uint8_t local_type;            /* FG_ICE_HOST: send directly from `local`; FG_ICE_RELAY:
					* send as ChannelData through relay_id's allocation */
	const char *relay_id;          /* FG_ICE_RELAY only; valid during the callback */
	struct fg_endpoint local;      /* the local candidate's base: the WireGuard port's address,
					* or the relayed address */
	struct fg_endpoint remote;     /* the client's address */
	uint8_t remote_type;           /* enum fg_ice_cand_type of the remote candidate */
};

enum fg_ice_event_type {
	FG_ICE_EV_CANDIDATE = 1,       /* signal `line` (broadcast_ice_candidates) */
	FG_ICE_EV_CANDIDATE_INVALIDATED, /* withdraw `line` (broadcast_invalidated_ice_candidates) */
	FG_ICE_EV_NOMINATED,           /* `path` is nominated: set the WireGuard endpoint, flush */
	FG_ICE_EV_STATE,               /* `state` entered, `reason` says why */
	FG_ICE_EV_REMOTE_LEARNED,      /* a peer-reflexive remote candidate, `path.remote`, learned
					* from a check on `path.local_id` (bind a channel if relayed) */
};

struct fg_ice_event {
	enum fg_ice_event_type type;
	const char *line;
	struct fg_ice_path path;
	enum fg_ice_state state;
	const char *reason;
};

struct fg_ice_ops {
	/* Send one datagram along path (required). */
	void (*send)(void *ctx, const struct fg_ice_path *path, const uint8_t *buf, size_t len);
	void (*event)(void *ctx, const struct fg_ice_event *ev);      /* may be NULL */
	/* Fills buf with random bytes (transaction ids, tie-breaker); NULL: OpenSSL RAND_bytes. */
	int (*random)(void *ctx, void *buf, size_t len);
};

/* Why datagrams were dropped or answered with an error; fg_ice_counter_names[] names them. */
#define FG_ICE_COUNTERS(X)                                                                      \
	X(rx_requests)        /* Binding requests answered with success */                       \
	X(rx_responses)       /* success responses that validated a pair */                     \
	X(rx_malformed)       /* STUN that does not parse */                                     \
	X(rx_bad_request)     /* 400 sent: USERNAME, integrity, PRIORITY or FINGERPRINT missing */ \
	X(rx_unauthenticated) /* 401 sent: wrong remote ufrag or MESSAGE-INTEGRITY */            \
	X(rx_unknown_attr)    /* 420 sent */                                                     \
	X(rx_role_conflict)   /* 487 sent: the peer claims the controlled role too */            \
	X(rx_unknown_local)   /* on a local candidate we do not have, or of the other family */ \
	X(rx_invalidated)     /* a request from an invalidated remote candidate, dropped */       \
	X(rx_no_remote_slot)  /* a peer-reflexive candidate not learned: no room */              \
	X(rx_unsigned)        /* a success response without MESSAGE-INTEGRITY */                \
	X(rx_bad_integrity)   /* a response whose MESSAGE-INTEGRITY is wrong */                  \
	X(rx_bad_response)    /* a success without XOR-MAPPED-ADDRESS, or unknown attributes */  \
	X(rx_asymmetric)      /* a response from elsewhere than the check went (pair failed) */ \
	X(rx_error_response)  /* an error response to a check (pair failed, 487 aside) */        \
	X(rx_role_conflict_response) /* 487 to our check: we stay controlled */                  \
	X(rx_after_failure)   /* STUN for an agent that has failed */                            \
	X(tx_checks)          /* Binding requests sent (each its own transaction) */             \
	X(tx_triggered)       /* of which triggered by a request */                              \
	X(tx_errors)          /* a message could not be built or no random bytes */              \
	X(prflx_learned)      /* peer-reflexive remote candidates */                             \
	X(pairs_failed)       /* pairs given up after their unanswered checks */                 \
	X(pairs_dropped)      /* pairs pruned for the FG_ICE_MAX_PAIRS limit */                  \
	X(nominations)        /* nominated-path changes */                                       \
	X(reentered)          /* a call from inside a callback, refused */

struct fg_ice_counters {
#define FG_ICE_COUNTER_FIELD(name) uint64_t name;
	FG_ICE_COUNTERS(FG_ICE_COUNTER_FIELD)
#undef FG_ICE_COUNTER_FIELD
};

extern const char *const fg_ice_counter_names[];
enum { FG_ICE_N_COUNTERS = sizeof(struct fg_ice_counters) / sizeof(uint64_t) };

/* The agent for fastgatectl (fg_ice_get_view). Times are on the caller's clock, 0 = none. */
struct fg_ice_view {
	enum fg_ice_state state;
	bool idle;                     /* the idle timing profile */
	bool nominated;                /* path is valid */
	struct fg_ice_path path;
	const char *local_ufrag, *remote_ufrag;
	unsigned n_local, n_remote, n_pairs;
	uint64_t created_ns, nominated_ns, disconnected_ns;
	const char *failure;           /* why FAILED ("" otherwise) */
};

struct fg_ice_pair_view {
	struct fg_ice_path path;
	enum fg_ice_pair_state state;
	uint64_t priority;
	bool use_candidate;            /* the client sent USE-CANDIDATE on it */
	bool nominated;                /* ... and it is valid */
	bool selected;                 /* the nominated path */
	uint32_t checks_sent, unanswered, requests_received;
	uint64_t rtt_ns, last_success_ns;
	struct fg_endpoint mapped;     /* XOR-MAPPED-ADDRESS of the last success; family 0 = none */
};

struct fg_ice_agent;

/*
 * An agent with the portal's credentials: local = gateway_ice_credentials, remote =
 * client_ice_credentials. now starts the 10 s wait for a remote candidate. NULL with errno:
 * EINVAL (ops->send missing, a ufrag or password of the wrong length or not ice-chars),
 * ENOMEM, EIO (no random bytes).
 */
struct fg_ice_agent *fg_ice_agent_new(const char *local_ufrag, const char *local_pwd,
				      const char *remote_ufrag, const char *remote_pwd,
				      const struct fg_ice_ops *ops, void *ctx, uint64_t now);
/* Frees the agent and wipes the keys; sends nothing. NULL is fine. */
void fg_ice_agent_free(struct fg_ice_agent *a);

/*
 * A local candidate: FG_ICE_HOST (base NULL or equal to addr: the WireGuard port),
 * FG_ICE_SRFLX (base = the host address it maps; signalled, never paired: its checks go
 * from the base, RFC 8445 §6.1.2.4) or FG_ICE_RELAY (base NULL or equal to addr; relay_id
 * names the allocation). It is signalled (FG_ICE_EV_CANDIDATE) and paired with the remote
 * candidates of its family. Returns its id (>= 0, never reused by this agent); -EEXIST for
 * a candidate redundant with a better one (same address and base: not signalled); -EINVAL,
 * -ENOSPC (FG_ICE_MAX_LOCAL), -EBUSY (from a callback), -ESHUTDOWN (failed).
 */
int fg_ice_add_local_candidate(struct fg_ice_agent *a, enum fg_ice_cand_type type,
			       const struct fg_endpoint *addr, const struct fg_endpoint *base,
			       const char *relay_id, uint64_t now);
/* Removes it, its pairs and withdraws it (FG_ICE_EV_CANDIDATE_INVALIDATED). 0, -ENOENT, -EBUSY. */
int fg_ice_remove_local_candidate(struct fg_ice_agent *a, uint32_t id, uint64_t now);
/* The id of the host or relayed candidate at addr, or -ENOENT. */
int fg_ice_local_candidate_id(const struct fg_ice_agent *a, const struct fg_endpoint *addr);

/*
 * A remote candidate line from the portal (ice_candidates). 0 when added, known already or
 * replacing a peer-reflexive one learned at that address; -EINVAL (does not parse, component
 * other than 1, another session's ufrag; err says why), -EPROTONOSUPPORT (TCP), -ENOSPC
 * (FG_ICE_MAX_REMOTE), -EBUSY, -ESHUTDOWN. err may be NULL.
 */
int fg_ice_add_remote_candidate(struct fg_ice_agent *a, const char *line, uint64_t now, char *err,
				size_t errlen);
/* invalidate_ice_candidates: the candidate and its pairs go. 0, -ENOENT, -EINVAL, -EBUSY. */
int fg_ice_invalidate_remote_candidate(struct fg_ice_agent *a, const char *line, uint64_t now);

/*
 * A datagram that arrived on local candidate local_id from `from`. True when it was a STUN
 * Binding message for this agent (a request whose USERNAME starts with our ufrag, or a
 * response to one of our checks): it was handled, answered or dropped and counted. False
 * otherwise: the caller goes on demultiplexing (another agent, the relay client, drop).
 */
bool fg_ice_input(struct fg_ice_agent *a, uint32_t local_id, const struct fg_endpoint *from,
		  const uint8_t *buf, size_t len, uint64_t now);

/* When to call fg_ice_tick() next (UINT64_MAX: nothing pending). */
uint64_t fg_ice_next_timeout(const struct fg_ice_agent *a);
/* Checks, give-ups, the idle switch and the connection's timeouts due by now. */
void fg_ice_tick(struct fg_ice_agent *a, uint64_t now);
/* Tunnel traffic either way (or a new authorization for the same client): normal profile. */
void fg_ice_traffic(struct fg_ice_agent *a, uint64_t now);

enum fg_ice_state fg_ice_state(const struct fg_ice_agent *a);
/* True with the nominated path in *path (may be NULL): the caller stops buffering. */
bool fg_ice_nominated(const struct fg_ice_agent *a, struct fg_ice_path *path);

/* Inspection for fastgatectl: the agent, its pairs by priority, its candidates' lines. */
void fg_ice_get_view(const struct fg_ice_agent *a, struct fg_ice_view *v);
void fg_ice_foreach_pair(const struct fg_ice_agent *a,
			 void (*fn)(void *ctx, const struct fg_ice_pair_view *p), void *ctx);
void fg_ice_foreach_candidate(const struct fg_ice_agent *a,
			      void (*fn)(void *ctx, bool local, const char *line), void *ctx);
const struct fg_ice_counters *fg_ice_counters(const struct fg_ice_agent *a);
const char *fg_ice_state_name(enum fg_ice_state st);
const char *fg_ice_pair_state_name(enum fg_ice_pair_state st);

/*
 * Routing a datagram to its agent: the local ufrag (USERNAME up to the ':') of a Binding
 * request, into out (cap bytes with the NUL). 0; -EBADMSG (not STUN, or malformed);
 * -ENOENT (not a Binding request, no USERNAME or no ':'); -ENOSPC (longer than cap - 1).
 * Responses are matched by transaction id: offer them to the client's agent(s) in turn.
 */
int fg_ice_route_username(const uint8_t *buf, size_t len, char *out, size_t cap);

#endif
