/* SPDX-License-Identifier: MIT */
/*
 * The TURN client of the control plane: one allocation per relay the portal names, as
 * Firezone's snownet keeps them (allocation.rs, node/allocations.rs; reference §5.2). For each
 * relay: an unauthenticated BINDING to every relay address (the first answer picks the
 * address used from then on and gives the server-reflexive address), ALLOCATE (UDP, a second
 * IPv6 address asked for with ADDITIONAL-ADDRESS-FAMILY, SOFTWARE "snownet"), answered 401,
 * then again with the portal's username, realm "firezone", the nonce and long-term
 * MESSAGE-INTEGRITY; REFRESH at half the lifetime, a keepalive BINDING every 25 s, and
 * CHANNEL-BIND per remote peer on request. Peer data goes only as ChannelData.
 *
 * A pure state machine: no sockets, no clock, no thread. The caller passes `now` (monotonic
 * nanoseconds) to every call, hands in the datagrams that come from a relay address
 * (fg_relay_input), sends what the ops table's send() is given from the WireGuard port, and
 * calls fg_relay_tick() when fg_relay_next_timeout() says. Events (candidates, lost
 * allocations, channels, "no relays") arrive through the ops table while a call runs; a
 * callback must not call back into the set (those calls answer -EBUSY). A set belongs to the
 * control plane's single thread.
 *
 * Secrets: a relay's password is turned into the long-term key MD5(username:realm:password)
 * at once and never kept; keys are wiped (OPENSSL_cleanse) when replaced and when the set
 * is freed, and nothing here logs them.
 */
#ifndef FG_RELAY_H
#define FG_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum fg_relay_limits {
	FG_RELAY_MAX = 32,             /* relays in a set (the portal's FG_PORTAL_MAX_RELAYS) */
	FG_RELAY_ID_LEN = 64,          /* ids: 1..63 bytes (FG_PORTAL_ID_LEN) */
	FG_RELAY_CRED_LEN = 256,       /* username / password, NUL included (FG_PORTAL_CRED_LEN) */
	FG_RELAY_MAX_CHANNELS = 4096,  /* 0x4000-0x4FFF per allocation */
	FG_RELAY_FORMER_MAX = 64,      /* addresses of removed relays remembered (snownet: 64) */
};

/* Timers, in milliseconds (reference §5.2 and the task's text where they differ). */
enum fg_relay_timers_ms {
	FG_RELAY_RTO_MS = 1000,                /* first retransmission after 1 s ... */
	FG_RELAY_RTO_MULT_PCT = 150,           /* ... then x1.5 ... */
	FG_RELAY_GIVE_UP_MS = 10000,           /* ... giving up 10 s after the first send */
	FG_RELAY_KEEPALIVE_MS = 25000,         /* BINDING to the relay while allocated */
	FG_RELAY_DEFAULT_LIFETIME_S = 600,     /* REFRESH asks for it; a success without LIFETIME */
	FG_RELAY_CHANNEL_REFRESH_MS = 300000,  /* refresh a used channel after 5 min */
	FG_RELAY_CHANNEL_LIFETIME_MS = 600000, /* a channel lives 10 min at the relay */
	FG_RELAY_CHANNEL_REUSE_MS = 900000,    /* its number serves another peer after 15 min */
};

/* A relay as the portal describes it (init, relays_presence), dual-stack entries merged. */
struct fg_relay_info {
	char id[FG_RELAY_ID_LEN];
	struct fg_endpoint addr4, addr6;   /* family 0 = absent; at least one is set */
	char username[FG_RELAY_CRED_LEN];
	char password[FG_RELAY_CRED_LEN];  /* secret: the caller wipes its copy */
};

enum fg_relay_state {
	FG_RELAY_BINDING = 1,  /* BINDING to every address, none answered yet */
	FG_RELAY_ALLOCATING,   /* ALLOCATE in flight (or its 401/438 being answered) */
	FG_RELAY_ALLOCATED,    /* relayed address(es) held, refreshed at lifetime / 2 */
	FG_RELAY_DELETING,     /* REFRESH lifetime 0 in flight (new credentials, 437 on ALLOCATE) */
	FG_RELAY_FAILED,       /* given up; a later update naming it starts it again */
};

enum fg_relay_event_type {
	FG_RELAY_EV_CANDIDATES = 1,   /* srflx or relayed addresses of relay_id changed: the current
				       * four are in the event (family 0 = none) */
	FG_RELAY_EV_ALLOCATION_LOST,  /* relay_id's relayed addresses (in the event) and all its
				       * channels are gone: withdraw the relay candidates */
	FG_RELAY_EV_CHANNEL_BOUND,    /* channel to peer confirmed on relay_id */
	FG_RELAY_EV_CHANNEL_UNBOUND,  /* channel expired, refused or dropped before binding */
	FG_RELAY_EV_REMOVED,          /* relay_id left the set: migrate what used it */
	FG_RELAY_EV_NO_RELAYS,        /* after RELAYS_BACK: the last relay is gone, no allocation
				       * and none being made (send `no_relays`, stop confirming
				       * authorizations); a set that never had one says nothing:
				       * ask fg_relay_has_allocation() */
	FG_RELAY_EV_RELAYS_BACK,      /* an allocation is up, the first one or again */
};

struct fg_relay_event {
	enum fg_relay_event_type type;
	const char *relay_id;         /* NULL for NO_RELAYS and RELAYS_BACK */
	struct fg_endpoint srflx4, srflx6, relayed4, relayed6;
	struct fg_endpoint peer;      /* CHANNEL_* */
	uint16_t channel;             /* CHANNEL_* */
};

struct fg_relay_ops {
	/* Send one datagram from the WireGuard port to a relay address. */
	void (*send)(void *ctx, const struct fg_endpoint *to, const uint8_t *buf, size_t len);
	void (*event)(void *ctx, const struct fg_relay_event *ev);   /* may be NULL */
	/* Fills buf with random bytes (transaction ids); NULL: OpenSSL RAND_bytes. */
	int (*random)(void *ctx, void *buf, size_t len);
};

struct fg_relay_config {
	const char *realm;      /* NULL: "firezone" (a relay naming another realm is refused) */
	const char *software;   /* NULL: "snownet" */
};

/* Why datagrams and requests were dropped; fg_relay_counter_names[] has their names. */
#define FG_RELAY_COUNTERS(X)                                                                    \
	X(rx_not_stun)        /* from a relay, neither STUN nor handled here */                 \
	X(rx_malformed)       /* STUN that does not parse */                                   \
	X(rx_unknown_attr)    /* a response with unknown comprehension-required attributes */ \
	X(rx_not_response)    /* a request or an indication from a relay */                    \
	X(rx_unknown_txid)    /* no request of ours in flight has that transaction id */       \
	X(rx_bad_integrity)   /* MESSAGE-INTEGRITY present but wrong: forged or stale key */   \
	X(rx_unsigned)        /* an unsigned answer where one must be signed */                \
	X(rx_bad_response)    /* a success missing what it must carry */                       \
	X(rx_former_relay)    /* from a relay no longer in the set */                          \
	X(chan_rx_bad)        /* ChannelData that does not parse */                            \
	X(chan_rx_unbound)    /* ChannelData on a channel not bound */                         \
	X(tx_requests)        /* requests sent (first transmissions) */                        \
	X(tx_retransmits)                                                                      \
	X(tx_timeouts)        /* requests given up after 10 s */                               \
	X(tx_errors)          /* a request could not be built or no random bytes */            \
	X(tx_busy)            /* a channel bind waited: every request slot in flight */        \
	X(reauths)            /* 401/438 answered with the new nonce */                        \
	X(allocations)        /* allocations made */                                           \
	X(allocations_lost)                                                                    \
	X(auth_failures)                                                                       \
	X(relays_failed)                                                                       \
	X(relays_removed)                                                                      \
	X(reentered)          /* a call from inside a callback, refused */

struct fg_relay_counters {
#define FG_RELAY_COUNTER_FIELD(name) uint64_t name;
	FG_RELAY_COUNTERS(FG_RELAY_COUNTER_FIELD)
#undef FG_RELAY_COUNTER_FIELD
};

extern const char *const fg_relay_counter_names[];
enum { FG_RELAY_N_COUNTERS = sizeof(struct fg_relay_counters) / sizeof(uint64_t) };

/* One relay for fastgatectl (fg_relay_foreach). Times are on the caller's clock, 0 = none. */
struct fg_relay_view {
	const char *id;
	const char *username;
	struct fg_endpoint addr4, addr6;
	struct fg_endpoint active;         /* the address that answered first; family 0 = none yet */
	enum fg_relay_state state;
	bool probing;                      /* omitted by an update: removed unless it answers */
	struct fg_endpoint srflx4, srflx6, relayed4, relayed6;
	uint64_t expires_ns;               /* the allocation's end */
	uint64_t refresh_ns;               /* its next REFRESH */
	uint64_t rtt_ns;                   /* smoothed, 0 before the first answer */
	unsigned channels_bound, channels_total;
	const char *failure;               /* why FAILED ("" otherwise) */
};

enum fg_relay_channel_state {
	FG_RELAY_CHAN_PENDING = 1,  /* waiting for the allocation or a request slot */
	FG_RELAY_CHAN_BINDING,      /* CHANNEL-BIND in flight */
	FG_RELAY_CHAN_BOUND,
	FG_RELAY_CHAN_EXPIRED,      /* gone at the relay; the number waits for its 15 min */
};

struct fg_relay_channel_view {
	uint16_t number;
	enum fg_relay_channel_state state;
	struct fg_endpoint peer;
	uint64_t bound_ns;          /* bound or last refreshed (created, before that) */
	uint64_t expires_ns;        /* bound_ns + 10 min */
	bool used;                  /* data seen since bound_ns: refreshed at 5 min */
};

/* What fg_relay_unwrap() found in a ChannelData datagram. */
struct fg_relay_rx {
	const char *relay_id;       /* valid until the set next changes */
	struct fg_endpoint peer;    /* the remote peer that sent data to our relayed address */
	struct fg_endpoint relayed; /* our relayed address (the local side of the path) */
	uint16_t channel;
	const uint8_t *data;        /* inside the caller's buffer */
	size_t len;
};

struct fg_relay_set;

/* A set with no relays. NULL with errno (EINVAL: ops->send missing, ENOMEM). */
struct fg_relay_set *fg_relay_set_new(const struct fg_relay_ops *ops, void *ctx,
				      const struct fg_relay_config *cfg);
/* Frees everything and wipes the keys; sends nothing. NULL is fine. */
void fg_relay_set_free(struct fg_relay_set *s);

/*
 * The portal's relays (init: is_full_init, relays_presence: its `connected`), merged by id:
 * a new id starts BINDING; an unchanged relay is skipped (a FAILED one starts again); a
 * known relay with other credentials or addresses drops its allocation (REFRESH lifetime 0,
 * the candidates withdrawn at once) and allocates again; every known relay the update omits
 * is probed with REFRESH and removed when the probe fails or times out (snownet's
 * update_relays, for init and relays_presence alike: is_full_init only names the source in
 * the logs). 0, -EINVAL (an entry without id or address or with an empty credential: that
 * entry is skipped, the rest applied), -ENOSPC (more than FG_RELAY_MAX relays: the
 * extra ones skipped), -EBUSY (from a callback).
 */
int fg_relay_update(struct fg_relay_set *s, const struct fg_relay_info *relays, size_t n,
		    bool is_full_init, uint64_t now);
/* relays_presence.disconnected_ids: removed at once (nothing sent). 0 or -EBUSY. */
int fg_relay_remove(struct fg_relay_set *s, const char *const *ids, size_t n, uint64_t now);

/*
 * A datagram from `from`. Returns 0 when it came from a relay address (current or former)
 * and was consumed: an answer processed, anything else dropped and counted; -ENOENT when
 * `from` is no relay's (the caller goes on demultiplexing); -EBUSY from a callback.
 * ChannelData is not taken here: see fg_relay_unwrap().
 */
int fg_relay_input(struct fg_relay_set *s, const struct fg_endpoint *from, const uint8_t *buf,
		   size_t len, uint64_t now);

/* When to call fg_relay_tick() next (UINT64_MAX: nothing pending). */
uint64_t fg_relay_next_timeout(const struct fg_relay_set *s);
/* Retransmissions, give-ups, refreshes, keepalives, channel refresh and expiry due by now. */
void fg_relay_tick(struct fg_relay_set *s, uint64_t now);

/*
 * A channel on relay_id to peer: the number already held for that peer (pending, binding,
 * bound, or expired less than 15 min ago: bound again), else a new one, bound at once when
 * the allocation is up and later otherwise (CHANNEL_BOUND tells when). Returns the channel
 * number (0x4000-0x4FFF), -ENOENT (unknown or FAILED relay), -EINVAL (bad peer),
 * -EAFNOSUPPORT (the allocation has no relayed address of the peer's family), -ENOSPC
 * (every number in use or waiting for its 15 min), -ENOMEM, -EBUSY.
 */
int fg_relay_bind_channel(struct fg_relay_set *s, const char *relay_id,
			  const struct fg_endpoint *peer, uint64_t now);
/* Data came in on a channel (the data plane's counters): it will be refreshed at 5 min.
 * 0, -ENOENT, -EBUSY. */
int fg_relay_channel_used(struct fg_relay_set *s, const char *relay_id, uint16_t channel,
			  uint64_t now);

/*
 * ChannelData for peer through relay_id into buf (the data may already sit at buf + 4):
 * uses the channel bound or being bound to peer (snownet sends optimistically while the
 * bind is in flight) and sets *to to the relay address to send to. Returns the length,
 * -ENOENT (unknown relay), -ENOTCONN (no allocation or no channel to peer: bind one first),
 * -EINVAL / -ENOBUFS from fg_chandata_write().
 */
int fg_relay_wrap(struct fg_relay_set *s, const char *relay_id, const struct fg_endpoint *peer,
		  const void *data, size_t len, uint8_t *buf, size_t cap, struct fg_endpoint *to,
		  uint64_t now);
/*
 * A ChannelData datagram from `from`: 0 with *rx filled (and the channel marked used),
 * -ENOENT (not from a relay of the set), -EBADMSG (not ChannelData: counted), -ENOTCONN
 * (a channel that is not bound: counted).
 */
int fg_relay_unwrap(struct fg_relay_set *s, const struct fg_endpoint *from, const uint8_t *buf,
		    size_t len, uint64_t now, struct fg_relay_rx *rx);

/* True while some relay holds an allocation (what confirming an authorization needs). */
bool fg_relay_has_allocation(const struct fg_relay_set *s);
/* True if ip belongs to a relay of the set or to one removed recently (stray packets). */
bool fg_relay_is_relay_ip(const struct fg_relay_set *s, const struct fg_ip *ip);

/* Inspection for fastgatectl: every relay in set order, then one relay's channels. */
void fg_relay_foreach(const struct fg_relay_set *s, uint64_t now,
		      void (*fn)(void *ctx, const struct fg_relay_view *v), void *ctx);
int fg_relay_foreach_channel(const struct fg_relay_set *s, const char *relay_id,
			     void (*fn)(void *ctx, const struct fg_relay_channel_view *c),
			     void *ctx);
const struct fg_relay_counters *fg_relay_counters(const struct fg_relay_set *s);
const char *fg_relay_state_name(enum fg_relay_state st);
const char *fg_relay_channel_state_name(enum fg_relay_channel_state st);

#endif
