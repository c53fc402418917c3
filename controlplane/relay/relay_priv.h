/* SPDX-License-Identifier: MIT */
/*
 * The relay client's insides, shared by its three files: relay_set.c (the set, the portal's
 * updates, each relay's life and the "no relays" level, inspection), relay_tx.c (requests:
 * building, retransmitting, matching answers, checking integrity, acting on them) and
 * relay_chan.c (channel numbers, their binding, refresh and expiry, ChannelData). Private to
 * controlplane/relay/. Owned by the control plane's single thread, like the set.
 */
#ifndef FG_RELAY_PRIV_H
#define FG_RELAY_PRIV_H

#include "relay.h"

#include <stdbool.h>
#include <stdint.h>

#include "stun.h"

enum {
	FG_RELAY_MAX_TX = 16,          /* requests in flight per relay */
	FG_RELAY_TX_RESERVED = 4,      /* of which channel binds leave these to the allocation */
	FG_RELAY_MAX_REAUTH = 4,       /* 401/438 answers to one request before giving up */
	FG_RELAY_NONCE_MAX = FG_STUN_TEXT_MAX_SEND,
	FG_RELAY_REALM_MAX = 64,
	FG_RELAY_SOFTWARE_MAX = 128,
	FG_RELAY_MSG_MAX = 1500,       /* the largest request: ~1.2 kB with the longest nonce */
};

#define FG_RELAY_MS(ms) ((uint64_t)(ms) * 1000000ull)

enum fg_relay_tx_kind {
	FG_RELAY_TX_BINDING = 1,   /* unauthenticated BINDING to one relay address */
	FG_RELAY_TX_KEEPALIVE,     /* BINDING to the active address while allocated */
	FG_RELAY_TX_ALLOCATE,
	FG_RELAY_TX_REFRESH,       /* at lifetime / 2, and the presence probe */
	FG_RELAY_TX_DELETE,        /* REFRESH with LIFETIME 0 */
	FG_RELAY_TX_CHANNEL,       /* CHANNEL-BIND, first or refresh */
};

/* One request in flight. Retransmissions keep the transaction id and are built again. */
struct fg_relay_tx {
	bool used;
	uint8_t kind;               /* enum fg_relay_tx_kind */
	bool authed;                /* carried USERNAME, REALM, NONCE, MESSAGE-INTEGRITY */
	bool aaf;                   /* ALLOCATE with ADDITIONAL-ADDRESS-FAMILY */
	uint8_t reauths;            /* 401/438 answered along this request's chain */
	bool held;                  /* ALLOCATE answered 437 while the relay frees ours */
	uint16_t channel;
	uint8_t txid[FG_STUN_TXID_LEN];
	struct fg_endpoint dst;
	struct fg_endpoint peer;    /* CHANNEL-BIND */
	uint64_t start_ns;          /* first transmission: give up at start + 10 s */
	uint64_t next_ns;           /* next retransmission or the give-up */
	uint64_t rto_ns;
};

/* After a REFRESH lifetime 0 is answered (or given up). */
enum fg_relay_after_delete {
	FG_RELAY_AFTER_REALLOCATE = 1,  /* 437 on ALLOCATE: the relay had one of ours */
	FG_RELAY_AFTER_REPLACE,         /* new credentials or addresses: start again with them */
};

struct fg_relay_chan {
	uint16_t number;
	uint8_t state;              /* enum fg_relay_channel_state */
	bool used;                  /* data since bound_ns */
	bool refreshing;            /* a refresh CHANNEL-BIND in flight */
	struct fg_endpoint peer;
	uint64_t bound_ns;
};

struct fg_relay_creds {
	struct fg_endpoint addr4, addr6;
	char username[FG_RELAY_CRED_LEN];
	struct fg_stun_key key;     /* MD5(username:realm:password) */
};

struct fg_relay {
	bool used;
	char id[FG_RELAY_ID_LEN];
	struct fg_relay_creds cur;
	struct fg_relay_creds next; /* waiting for the delete (has_next) */
	bool has_next;
	uint8_t nonce[FG_RELAY_NONCE_MAX];
	size_t nonce_len;           /* 0: none yet */
	enum fg_relay_state state;
	uint8_t after_delete;       /* enum fg_relay_after_delete, while DELETING */
	bool probing;
	bool no_aaf;                /* the relay refused ADDITIONAL-ADDRESS-FAMILY (440) */
	uint8_t mismatches;         /* 437 answers to ALLOCATE since the last allocation */
	struct fg_endpoint active;
	struct fg_endpoint srflx4, srflx6, relayed4, relayed6;
	uint64_t allocated_ns;      /* last ALLOCATE or REFRESH success */
	uint64_t deleted_ns;        /* our DELETE was answered (0: not since the last allocation) */
	uint64_t lifetime_ns;
	uint64_t keepalive_ns;
	uint64_t rtt_ns;
	const char *failure;
	struct fg_relay_tx tx[FG_RELAY_MAX_TX];
	struct fg_relay_chan *chans;
	unsigned nchans, chan_cap;
	uint16_t next_channel;      /* where the search for a free number starts */
	uint64_t taken[FG_RELAY_MAX_CHANNELS / 64]; /* numbers with an entry in chans */
};

struct fg_relay_set {
	struct fg_relay_ops ops;
	void *ctx;
	char realm[FG_RELAY_REALM_MAX];
	char software[FG_RELAY_SOFTWARE_MAX];
	struct fg_relay relays[FG_RELAY_MAX];
	struct fg_ip former[FG_RELAY_FORMER_MAX];
	unsigned nformer, former_pos;
	bool no_relays;             /* the level NO_RELAYS / RELAYS_BACK report */
	bool in_cb;                 /* inside an ops callback */
	struct fg_relay_counters cnt;
};

/* relay_set.c */
void fg_relay_emit(struct fg_relay_set *s, const struct fg_relay_event *ev);
void fg_relay_send(struct fg_relay_set *s, const struct fg_endpoint *to, const uint8_t *buf,
		   size_t len);
void fg_relay_emit_candidates(struct fg_relay_set *s, struct fg_relay *r);
void fg_relay_allocate(struct fg_relay_set *s, struct fg_relay *r, uint64_t now);
void fg_relay_delete(struct fg_relay_set *s, struct fg_relay *r, uint8_t after, uint64_t now);
void fg_relay_delete_done(struct fg_relay_set *s, struct fg_relay *r, uint64_t now);
void fg_relay_allocated(struct fg_relay_set *s, struct fg_relay *r, uint64_t now);
void fg_relay_lose_allocation(struct fg_relay_set *s, struct fg_relay *r);
/* Gives up on r (or removes it while it is being probed). r may be gone afterwards. */
void fg_relay_fail(struct fg_relay_set *s, struct fg_relay *r, const char *why);
void fg_relay_level(struct fg_relay_set *s);
bool fg_relay_addr_matches(const struct fg_relay *r, const struct fg_endpoint *ep);
bool fg_relay_former(const struct fg_relay_set *s, const struct fg_ip *ip);

/* relay_tx.c */
/* Sends a new request; NULL when every slot is taken, no random bytes came or it could not
 * be built (counted). */
struct fg_relay_tx *fg_relay_tx_start(struct fg_relay_set *s, struct fg_relay *r, uint8_t kind,
				      const struct fg_endpoint *dst, uint16_t channel,
				      const struct fg_endpoint *peer, uint64_t now);
bool fg_relay_tx_inflight(const struct fg_relay *r, uint8_t kind);
unsigned fg_relay_tx_free(const struct fg_relay *r);
void fg_relay_tx_cancel(struct fg_relay *r, uint8_t kind);    /* 0: every kind */
void fg_relay_tx_tick(struct fg_relay_set *s, struct fg_relay *r, uint64_t now);
uint64_t fg_relay_tx_next(const struct fg_relay *r);
void fg_relay_tx_input(struct fg_relay_set *s, struct fg_relay *r, const struct fg_endpoint *from,
		       const uint8_t *buf, size_t len, uint64_t now);

/* relay_chan.c */
void fg_relay_chan_pump(struct fg_relay_set *s, struct fg_relay *r, uint64_t now);
void fg_relay_chan_bound(struct fg_relay_set *s, struct fg_relay *r, uint16_t number,
			 uint64_t now);
void fg_relay_chan_refused(struct fg_relay_set *s, struct fg_relay *r, uint16_t number);
void fg_relay_chan_requeue(struct fg_relay *r, uint16_t number);
/* The allocation is gone: bound and expired channels go (ALLOCATION_LOST covers them), the
 * others wait for the next allocation; with drop_pending they go too (CHANNEL_UNBOUND). */
void fg_relay_chan_reset(struct fg_relay_set *s, struct fg_relay *r, bool drop_pending);
void fg_relay_chan_tick(struct fg_relay_set *s, struct fg_relay *r, uint64_t now);
uint64_t fg_relay_chan_next(const struct fg_relay *r);
void fg_relay_chan_free(struct fg_relay *r);

#endif
