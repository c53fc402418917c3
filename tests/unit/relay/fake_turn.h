/* SPDX-License-Identifier: MIT */
/*
 * The test bench of the relay client's suite: a fake clock, the ops table (a queue of the
 * datagrams the client sends, a log of its events, counting transaction ids), and a scripted
 * TURN server built on the STUN codec. The server either answers by itself as a relay with
 * long-term credentials would (401 with realm and nonce to an unauthenticated request, 438
 * to a stale nonce, every answer after that signed) and checks what the client must send, or
 * the test takes a request and writes the answer itself. Single-threaded.
 */
#ifndef FG_FAKE_TURN_H
#define FG_FAKE_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay.h"
#include "stun.h"

#define T0 1000000000000ull            /* the fake clock's start: any value */
#define SEC(x) ((uint64_t)(x) * 1000000000ull)
#define MSEC(x) ((uint64_t)(x) * 1000000ull)

enum {
	ENV_MAX_OUT = 512,
	ENV_MAX_EV = 8192,
	FAKE_MAX_CHANS = 8192,
};

struct dgram {
	struct fg_endpoint to;
	uint8_t buf[1500];
	size_t len;
	uint64_t at;
};

struct ev_rec {
	struct fg_relay_event ev;
	char id[FG_RELAY_ID_LEN];
	uint64_t at;
};

struct env {
	struct fg_relay_set *s;
	uint64_t now;
	struct dgram out[ENV_MAX_OUT];
	unsigned nout;
	struct ev_rec *ev;
	unsigned nev;
	uint32_t txid_seq;
	bool reenter;          /* the event callback calls back into the set */
	int reenter_rc;
};

/* What the fake relay does with the next request of a method (0: answer normally). */
struct fake_script {
	uint16_t method;
	unsigned code;         /* error code to answer with */
	bool sign;             /* sign the error */
	bool with_nonce;       /* a NONCE (a new one) in the error */
	bool used;
};

struct fake {
	struct fg_endpoint addr4, addr6;
	char username[128], password[128], realm[32];
	char nonce[40];
	unsigned nonce_seq;
	struct fg_stun_key key;
	struct fg_endpoint mapped4, mapped6;    /* what BINDING answers */
	struct fg_endpoint relayed4, relayed6;  /* family 0: not given */
	uint32_t lifetime;
	bool silent;           /* drops everything */
	bool sign_challenges;  /* signs 401/438 as Firezone's relay does (coturn does not) */
	bool coturn_lifetime;  /* `lifetime` is coturn's max-allocate-lifetime: a requested
				* LIFETIME is capped at it, a REFRESH without one gets 600 s */
	bool coturn_session;   /* as coturn, the allocation is its username's (another gets
				* 441) and a deleted one stays `allocated` until the test clears
				* it (coturn frees it at its next one-second timer) */
	char alloc_user[128];  /* who made the allocation */
	bool allocated;
	uint16_t relayed_port_seq;
	struct fake_script script[4];
	/* what it saw */
	unsigned n_binding, n_allocate, n_allocate_unauth, n_refresh, n_delete, n_chanbind;
	unsigned n_wrong_user;  /* 441 answers (coturn_session) */
	uint64_t last_refresh_at;
	uint32_t last_refresh_lifetime; /* what the last REFRESH asked for (0: no LIFETIME) */
	uint16_t last_channel;
	struct fg_endpoint last_peer;
	bool bad;              /* a request it should never have got */
};

void env_init(struct env *e, const struct fg_relay_config *cfg);
void env_free(struct env *e);
/* Relays the fake serves as a fg_relay_info. */
struct fg_relay_info fake_info(const struct fake *f, const char *id);
void fake_init(struct fake *f, const char *addr4, const char *addr6, const char *user,
	       const char *pass);
void fake_set_password(struct fake *f, const char *user, const char *pass);
/* The next request of method gets an error answer instead. */
void fake_script_error(struct fake *f, uint16_t method, unsigned code, bool sign, bool with_nonce);

/* Answers every queued datagram addressed to f (and what those answers make the client
 * send), unless f is silent: then they are dropped. */
void fake_serve(struct env *e, struct fake *f);
/* Advances the clock to t, ticking whenever the client asks, serving the fakes (may be
 * NULL-terminated list) after each tick. */
void env_run(struct env *e, uint64_t t, struct fake **fakes);

/* Pops the first queued datagram (to *to when to is not NULL) into d and parses it. */
bool env_take(struct env *e, const struct fg_endpoint *to, struct dgram *d, struct fg_stun_msg *m);
void env_drop_all(struct env *e);
unsigned env_queued(const struct env *e, const struct fg_endpoint *to);
/* Builds an answer to req from the relay at from with the given class and attributes
 * added by fn (may be NULL); signs it with key when not NULL; hands it to the client. */
int env_answer(struct env *e, const struct fg_endpoint *from, const struct fg_stun_msg *req,
	       enum fg_stun_class cls, void (*fn)(struct fg_stun_builder *b, void *arg), void *arg,
	       const struct fg_stun_key *key);

unsigned env_count_ev(const struct env *e, enum fg_relay_event_type type);
const struct ev_rec *env_last_ev(const struct env *e, enum fg_relay_event_type type);
void env_clear_ev(struct env *e);

/* The relay of f named id in an update; fake_up() also serves it until allocated. */
void fake_start(struct env *e, struct fake *f, const char *id);
void fake_up(struct env *e, struct fake *f, const char *id);

/* Attribute writers for env_answer(): XOR-MAPPED-ADDRESS (arg: the endpoint), an error
 * (struct errattrs), an ALLOCATE/REFRESH success (struct allocattrs). */
struct errattrs {
	unsigned code;
	const char *realm, *nonce;     /* NULL: absent */
};

struct allocattrs {
	struct fg_endpoint r4, r6;     /* family 0: absent */
	uint32_t lifetime;
};

void answer_mapped(struct fg_stun_builder *b, void *arg);
void answer_error(struct fg_stun_builder *b, void *arg);
void answer_alloc(struct fg_stun_builder *b, void *arg);

struct fg_endpoint ep(const char *s);
bool stun_bytes_eq(const struct fg_stun_msg *m, uint16_t type, const char *want);
const struct fg_relay_view *view_of(struct env *e, const char *id);

#endif
