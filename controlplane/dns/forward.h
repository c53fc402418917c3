/* SPDX-License-Identifier: MIT */
/*
 * The DNS forwarder the Firezone gateway runs on its tunnel addresses (reference §4.4;
 * Rust: tunnel/src/io.rs, io/nameserver_set.rs, udp_dns.rs, tcp_dns.rs, lib.rs and the
 * l4-udp/tcp-dns-server crates): UDP and TCP (2-byte length framing) on
 * <tun IPv4>:53535 and [<tun IPv6>]:53535; each query goes out over Do53 to the fastest
 * nameserver of resolv.conf, over the transport the client used, from a fresh socket (a
 * fresh source port); the answer, checked, goes back as it came (UDP answers over 1200
 * bytes cut with TC set, as Rust; a nameserver's TC=1 answer as is: the client asks again
 * over TCP, which goes to the nameserver over TCP). A query that times out (5 s), fails,
 * or finds no nameserver ranked is answered SERVFAIL. A query that does not parse is
 * dropped (UDP) or closes its connection (TCP), counted, as Rust; no FORMERR.
 *
 * Ranking, as NameserverSet: every 60 s each nameserver gets "firezone.dev. A" over UDP
 * and over TCP with a 2 s timeout; a NOERROR answer measures its RTT from the round's start.
 * One change to Rust, whose ranking never forgets: a round's RTTs replace the last ones
 * when the round ends, so a nameserver that stopped answering is no longer chosen (a round
 * nobody answered keeps the last ranking); an unranked nameserver that answers is usable
 * at once, so the first round needs no waiting; while none is ranked at all (a network not
 * up yet), rounds come every probe timeout rather than every minute.
 *
 * Bounded: FG_DNSFWD_MAX_INFLIGHT queries with a socket each, FG_DNSFWD_MAX_TCP client
 * connections that each have one query in flight at a time (Rust reads the next query of a
 * connection after answering the last), queries of at most 2,000 bytes over UDP (Rust's
 * buffer) and FG_DNSFWD_MAX_TCP_QUERY over TCP, a connection closed when no whole query
 * came within 10 s of its accept or last answer (Rust has no idle timeout; a cap needs one,
 * and a byte now and then does not reset it). The listeners bind with IP_FREEBIND: the data
 * plane puts the tunnel addresses on the TUN asynchronously (IFACE_SET), so the sockets
 * may come before the addresses; binding is tried 3 times 100 ms apart as Rust, then
 * fails for good (the owner is told through ops.failed and exits).
 *
 * No event loop in here: the forwarder keeps its sockets in an epoll set of its own and
 * asks the owner, through ops.watch(), to watch that one descriptor for reading and to call
 * fg_dnsfwd_io() when it is ready, and to keep one timer that ops.arm() sets and that calls
 * fg_dnsfwd_timer(). Nothing blocks. Control plane thread only.
 */
#ifndef FG_DNSFWD_H
#define FG_DNSFWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum {
	FG_DNSFWD_PORT = 53535,
	FG_DNSFWD_UPSTREAM_PORT = 53,
	FG_DNSFWD_QUERY_TIMEOUT_MS = 5000,     /* Rust's DNS_QUERY_TIMEOUT */
	FG_DNSFWD_PROBE_TIMEOUT_MS = 2000,     /* NameserverSet's DNS_TIMEOUT */
	FG_DNSFWD_RERANK_MS = 60000,           /* RE_EVALUATE_NAMESERVER_INTERVAL */
	FG_DNSFWD_BIND_ATTEMPTS = 3,
	FG_DNSFWD_BIND_RETRY_MS = 100,
	FG_DNSFWD_TCP_IDLE_MS = 10000,
	/* Rust allows 1,000 queries in flight; each holds a socket here, and the control
	 * plane's libwebsockets table has 1,024 descriptors in all. */
	FG_DNSFWD_MAX_INFLIGHT = 256,
	FG_DNSFWD_MAX_TCP = 64,
	FG_DNSFWD_MAX_UPSTREAMS = 10,          /* Rust probes 20 at most: 10 over UDP and TCP */
	FG_DNSFWD_MAX_UDP_QUERY = 2000,
	FG_DNSFWD_MAX_TCP_QUERY = 4096,
	FG_DNSFWD_UDP_ANSWER_MAX = 1200,       /* Rust's into_bytes(1200) towards the client */
	FG_DNSFWD_UPSTREAM_UDP_BUF = 1500,     /* Rust's BUF_SIZE for the nameserver's answer */
};

/* The counters, X(name, what it counts); fg_dnsfwd_counter_names follows this order. */
#define FG_DNSFWD_COUNTERS(X) \
	X(queries, "client queries taken (UDP and TCP)") \
	X(answered, "nameserver answers relayed") \
	X(servfail, "SERVFAIL answers sent") \
	X(timeouts, "SERVFAIL: no answer within the query timeout") \
	X(upstream_errors, "SERVFAIL: the nameserver failed (refused, reset, a malformed answer)") \
	X(no_nameserver, "SERVFAIL: no nameserver ranked") \
	X(truncated, "UDP answers over 1200 bytes sent cut, with TC") \
	X(drop_malformed, "queries dropped: not a query that parses") \
	X(drop_oversized, "queries dropped: over 2,000 bytes (UDP) or the TCP limit") \
	X(drop_busy, "queries dropped: the in-flight limit") \
	X(drop_send, "answers that could not be sent (client gone, socket full)") \
	X(tcp_accepted, "TCP connections accepted") \
	X(tcp_refused, "TCP connections closed at once: the connection limit") \
	X(tcp_idle, "TCP connections closed idle") \
	X(probe_rounds, "nameserver ranking rounds")

struct fg_dnsfwd_counters {
#define FG_DNSFWD_FIELD(name, what) uint64_t name;
	FG_DNSFWD_COUNTERS(FG_DNSFWD_FIELD)
#undef FG_DNSFWD_FIELD
};

extern const char *const fg_dnsfwd_counter_names[];
extern const size_t fg_dnsfwd_n_counters;

struct fg_dnsfwd_upstream_stats {
	char addr[64];                 /* the nameserver, as resolv.conf names it */
	uint64_t rtt_us;               /* of the last round it answered; 0: not ranked */
	bool fastest;                  /* where queries go now */
	uint64_t queries, answers, failures;   /* client queries sent to it, and how they ended */
};

struct fg_dnsfwd_stats {
	struct fg_dnsfwd_counters c;
	unsigned inflight, tcp_conns;
	bool listening;                /* every listener bound */
	unsigned n_listeners;
	struct fg_endpoint listeners[2];   /* the UDP and TCP port of each address */
	unsigned n_upstreams;
	struct fg_dnsfwd_upstream_stats up[FG_DNSFWD_MAX_UPSTREAMS];
};

struct fg_dnsfwd_ops {
	/* Watch fd for reading (readable true) or stop (both false); writable is never asked. */
	void (*watch)(void *ctx, int fd, bool readable, bool writable);
	/* (Re)arm the owner's timer this many microseconds from now (at least 1); 0: none due. */
	void (*arm)(void *ctx, uint64_t us);
	/* The listeners could not be bound after FG_DNSFWD_BIND_ATTEMPTS (already logged as an
	 * ERROR naming the address and errno): -errno. The owner decides (the control plane
	 * exits non-zero). May be NULL. */
	void (*failed)(void *ctx, int err);
};

struct fg_dnsfwd_config {
	const char *resolv_conf;       /* NULL: /etc/resolv.conf */
	uint16_t port;                 /* the listeners' port; 0: FG_DNSFWD_PORT */
	uint16_t upstream_port;        /* 0: 53; resolv.conf has no port, tests need one */
	unsigned query_timeout_ms;     /* 0: the defaults above */
	unsigned probe_timeout_ms;
	unsigned rerank_ms;
	unsigned bind_retry_ms;
	unsigned tcp_idle_ms;
	unsigned max_inflight;         /* 0: FG_DNSFWD_MAX_INFLIGHT */
	unsigned max_tcp;              /* 0: FG_DNSFWD_MAX_TCP */
};

struct fg_dnsfwd;

/* Reads the nameservers of cfg->resolv_conf (numeric "nameserver" lines, IPv4 and IPv6
 * with an optional %scope, the first FG_DNSFWD_MAX_UPSTREAMS in Rust's order: IPv4 before
 * IPv6, ascending, duplicates once; other lines ignored, a bad address a warning with
 * file:line) and starts the first ranking round. Listens nowhere yet. NULL with errno
 * (EINVAL: ops incomplete; the file's errno when it cannot be read, as Rust, which does not
 * start without /etc/resolv.conf; ENOMEM; EMFILE). No nameserver at all is allowed: every
 * query is then answered SERVFAIL (a warning says so). */
struct fg_dnsfwd *fg_dnsfwd_new(const struct fg_dnsfwd_ops *ops, void *ctx, const struct fg_dnsfwd_config *cfg);
/* Closes every socket; queries in flight go unanswered. NULL is fine. */
void fg_dnsfwd_free(struct fg_dnsfwd *f);

/*
 * Listens on v4 and v6 (either may be NULL or of family 0; not both), UDP and TCP, at the
 * configured port. Same addresses as now: nothing happens. Other addresses: the current
 * listeners, their TCP connections and the queries in flight go first (Rust rebinds the
 * same way). 0: bound; -EINPROGRESS: an attempt failed, the next comes in
 * FG_DNSFWD_BIND_RETRY_MS (the last failure calls ops.failed); -EINVAL.
 */
int fg_dnsfwd_listen(struct fg_dnsfwd *f, const struct fg_ip *v4, const struct fg_ip *v6);
/* Stops listening (connections and queries go too); the ranking goes on. */
void fg_dnsfwd_unlisten(struct fg_dnsfwd *f);

/* The descriptor ops.watch() named is readable. */
void fg_dnsfwd_io(struct fg_dnsfwd *f);
/* The owner's timer fired: timeouts, ranking rounds, bind retries. */
void fg_dnsfwd_timer(struct fg_dnsfwd *f);

void fg_dnsfwd_stats(const struct fg_dnsfwd *f, struct fg_dnsfwd_stats *out);

#endif
