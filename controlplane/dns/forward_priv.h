/* SPDX-License-Identifier: MIT */
/*
 * The DNS forwarder's state, shared by its two files: forward.c (the listeners, the
 * clients, the timer) and forward_up.c (resolv.conf, the exchanges with the nameservers,
 * their ranking). Private to controlplane/dns/. Control plane thread only.
 *
 * Include forward.h first: this header does not, so that forward.c including it is no
 * import circle (tests/layout/include_graph.py).
 */
#ifndef FG_FORWARD_PRIV_H
#define FG_FORWARD_PRIV_H

#ifndef FG_DNSFWD_H
#error "include forward.h before forward_priv.h"
#endif

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsmsg.h"

/* What an epoll event is about: kind << 56 | generation << 32 | index. */
enum fwd_kind {
	K_LISTENER = 1,
	K_CONN,
	K_XCHG,
};

enum {
	N_LISTENERS = 4,                   /* UDP and TCP on each of two addresses */
	MAX_PROBES = 2 * FG_DNSFWD_MAX_UPSTREAMS,
};

struct listener {
	int fd;                            /* -1: none */
	bool tcp;
	bool paused;                       /* accept() ran out of descriptors: until resume_ns */
	struct fg_endpoint ep;
};

/* Where an answer goes: a UDP client of a listener, or a TCP connection. */
struct client {
	bool tcp;
	int lst;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int conn;
	uint32_t conn_gen;
};

enum conn_state {
	C_READ,                            /* reading the next query */
	C_WAIT,                            /* its query is with a nameserver */
	C_WRITE,                           /* writing the answer */
};

struct conn {
	bool used;
	bool eof;                          /* the client closed its side: answer, then close */
	uint32_t gen;
	int fd;
	int lst;
	enum conn_state st;
	uint32_t events;                   /* the epoll interest now */
	uint64_t idle_ns;                  /* accept or the last answer + the idle timeout: closed
					    * then unless a query is with a nameserver */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint8_t *wbuf;                     /* the framed answer */
	size_t wlen, woff;
	size_t rlen;
	uint8_t rbuf[2 + FG_DNSFWD_MAX_TCP_QUERY];
};

enum xchg_end {
	X_ANSWER,                          /* an answer that parses */
	X_FAILED,                          /* refused, reset, malformed, a socket error */
	X_TIMEOUT,
	X_CANCELLED,                       /* the client went first; nothing is sent */
};

/* One exchange with a nameserver: a client's query or a ranking probe, with a socket of
 * its own (a fresh source port, as Rust's). */
struct xchg {
	bool used;
	bool probe;
	bool tcp;
	bool connected;                    /* TCP */
	uint32_t gen;
	int fd;
	int up;
	uint64_t start_ns, deadline_ns;
	uint8_t *buf;                      /* the query framed for TCP: 2-byte length, message */
	size_t len, off;
	uint8_t alen[2];                   /* TCP: the answer's length, then the answer */
	size_t agot;
	uint8_t *ans;
	size_t ans_len;
	struct fg_dnsmsg q;                /* the client's query, for its SERVFAIL */
	struct client cl;
};

struct upstream {
	struct sockaddr_storage sa;
	socklen_t sa_len;
	char name[64];
	uint64_t rtt_ns;                   /* of the last round it answered; 0: not ranked */
	uint64_t round_rtt_ns;             /* of the round in progress */
	uint64_t queries, answers, failures;
};

struct fg_dnsfwd {
	struct fg_dnsfwd_ops ops;
	void *ctx;
	int ep;                            /* the epoll set the owner watches */
	/* configuration, defaults applied */
	uint16_t port, upstream_port;
	uint64_t query_timeout_ns, probe_timeout_ns, rerank_ns, bind_retry_ns, tcp_idle_ns;
	unsigned max_inflight, max_tcp;

	struct listener lst[N_LISTENERS];
	struct fg_ip want4, want6;         /* what fg_dnsfwd_listen() asked for */
	bool listening;
	unsigned bind_attempts;
	uint64_t bind_at_ns;               /* the next attempt; 0: none */
	uint64_t resume_ns;                /* paused TCP listeners resume; 0: none */

	struct conn *conns;                /* max_tcp */
	unsigned n_conns;
	struct xchg *x;                    /* max_inflight client queries, then MAX_PROBES */
	unsigned n_x;
	unsigned inflight;                 /* client queries among them */

	struct upstream up[FG_DNSFWD_MAX_UPSTREAMS];
	unsigned n_up;
	unsigned probes_left;              /* of the round in progress */
	uint64_t round_start_ns, next_round_ns;
	int last_fastest;                  /* for logging a change; -1: none */
	bool warned_none;

	struct fg_dnsfwd_counters c;
};

uint64_t fg_dnsfwd_now(void);
uint64_t fg_dnsfwd_tag(enum fwd_kind kind, uint32_t gen, unsigned idx);
int fg_dnsfwd_ep_set(struct fg_dnsfwd *f, int fd, uint32_t events, uint64_t tag, bool add);

/* forward.c: an exchange for a client ended (not X_CANCELLED): its answer or a SERVFAIL. */
void fg_dnsfwd_client_end(struct fg_dnsfwd *f, struct xchg *x, enum xchg_end how, uint8_t *ans, size_t n,
			  const struct fg_dnsmsg *a);

/* forward_up.c */
int fg_dnsfwd_up_load(struct fg_dnsfwd *f, const char *path);
/* The nameserver queries go to now, or -1. */
int fg_dnsfwd_fastest(const struct fg_dnsfwd *f);
/* A free slot (client or probe), or NULL. */
struct xchg *fg_dnsfwd_xchg_get(struct fg_dnsfwd *f, bool probe);
/* Opens the socket and sends x->buf to nameserver x->up: 0, or -errno (x is still held). */
int fg_dnsfwd_xchg_start(struct fg_dnsfwd *f, struct xchg *x);
void fg_dnsfwd_xchg_event(struct fg_dnsfwd *f, struct xchg *x, uint32_t events);
/* Closes and frees x without telling anyone. */
void fg_dnsfwd_xchg_free(struct fg_dnsfwd *f, struct xchg *x);
/* Timeouts of exchanges and the ranking rounds due at now. */
void fg_dnsfwd_up_timer(struct fg_dnsfwd *f, uint64_t now);
/* The earliest deadline of the exchanges and rounds, or UINT64_MAX. */
uint64_t fg_dnsfwd_up_next(const struct fg_dnsfwd *f);

#endif
