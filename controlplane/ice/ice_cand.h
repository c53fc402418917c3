/* SPDX-License-Identifier: MIT */
/*
 * ICE candidates as values, and their SDP form (RFC 8839 §5.1) as the portal carries them in
 * `ice_candidates` / `broadcast_ice_candidates`:
 *
 *   candidate:<foundation> <component> <udp|tcp> <priority> <ip> <port> typ <type>
 *             [raddr <ip>] [rport <port>] [<extension name> <value>]...
 *
 * with the priority and foundation rules of RFC 8445 §5.1.2 and §5.1.1.3. Pure functions:
 * no state, safe from any thread; the ICE agent (ice.h) uses them on the control plane's
 * single thread.
 *
 * The parser is strict about the syntax (single spaces, printable ASCII, every number in
 * range, an IP literal as the connection address: no mDNS names) and lenient about what it
 * does not use: extensions (generation, network-id, network-cost, tcptype, ...) are skipped,
 * only `ufrag` is kept. TCP candidates and components other than 1 parse; the agent ignores
 * them.
 */
#ifndef FG_ICE_CAND_H
#define FG_ICE_CAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum fg_ice_cand_type {
	FG_ICE_HOST = 1,
	FG_ICE_SRFLX,
	FG_ICE_PRFLX,
	FG_ICE_RELAY,
};

enum fg_ice_transport {
	FG_ICE_UDP = 1,
	FG_ICE_TCP,
};

enum fg_ice_cand_limits {
	FG_ICE_FOUNDATION_MAX = 32,   /* 1*32ice-char */
	FG_ICE_LINE_MAX = 256,        /* a line and its NUL (the portal's FG_PORTAL_CANDIDATE_LEN) */
	FG_ICE_CAND_UFRAG_MAX = 64,   /* the `ufrag` extension we keep; longer ones are refused */
	FG_ICE_COMPONENT_MAX = 256,
};

/* Type preferences (RFC 8445 §5.1.2.2, the values str0m uses for UDP). */
enum fg_ice_type_pref {
	FG_ICE_PREF_HOST = 126,
	FG_ICE_PREF_PRFLX = 110,
	FG_ICE_PREF_SRFLX = 100,
	FG_ICE_PREF_RELAY = 0,
};

struct fg_ice_cand {
	char foundation[FG_ICE_FOUNDATION_MAX + 1];
	uint16_t component;            /* 1-256; the agent uses 1 only */
	uint8_t transport;             /* enum fg_ice_transport */
	uint8_t type;                  /* enum fg_ice_cand_type */
	uint32_t priority;
	struct fg_endpoint addr;       /* the connection address */
	struct fg_endpoint raddr;      /* rel-addr / rel-port; family 0 = none given */
	char ufrag[FG_ICE_CAND_UFRAG_MAX + 1]; /* the `ufrag` extension, "" when absent */
};

/*
 * Parses one candidate line, "candidate:..." with an optional "a=" in front. Returns 0, or
 * -EINVAL with the reason and the offending text in err (NULL: none). The connection
 * address must be a unicast IP literal (not unspecified, not multicast) with a port other
 * than 0 for UDP; rel-addr may be anything (str0m writes 0.0.0.0 0 to hide the base).
 */
int fg_ice_cand_parse(const char *line, struct fg_ice_cand *c, char *err, size_t errlen);

/*
 * The SDP line of c, with the "candidate:" prefix and without "a=", raddr/rport when
 * c->raddr is set, no extensions. Returns the length written (without the NUL), -EINVAL (a
 * value the parser would refuse) or -ENOSPC.
 */
int fg_ice_cand_format(const struct fg_ice_cand *c, char *buf, size_t len);

/* (2^24)*type_pref + (2^8)*local_pref + (256 - component) (RFC 8445 §5.1.2.1). */
uint32_t fg_ice_priority(enum fg_ice_cand_type type, uint16_t local_pref, uint16_t component);
uint8_t fg_ice_type_pref(enum fg_ice_cand_type type);

/*
 * A pair's priority: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the controlling agent's
 * candidate priority, D the controlled one's (RFC 8445 §6.1.2.3): the same number on both
 * sides.
 */
uint64_t fg_ice_pair_priority(uint32_t controlling, uint32_t controlled);

/*
 * A local candidate's foundation (RFC 8445 §5.1.1.3): equal for the same type, base IP
 * address, server (relay id for srflx and relay candidates; "" otherwise) and transport.
 * Decimal digits, as Firezone's lines carry them.
 */
void fg_ice_foundation(enum fg_ice_cand_type type, const struct fg_ip *base, const char *server,
		       uint8_t transport, char out[FG_ICE_FOUNDATION_MAX + 1]);

/* s is min..max ice-chars: ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.1; ufrags, passwords). */
bool fg_ice_chars(const char *s, size_t min, size_t max);

/* "host", "srflx", "prflx", "relay"; "?" otherwise. */
const char *fg_ice_cand_type_name(enum fg_ice_cand_type type);

/* The same candidate, as invalidation compares them: address, type and transport. */
bool fg_ice_cand_same(const struct fg_ice_cand *a, const struct fg_ice_cand *b);

#endif
