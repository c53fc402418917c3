/* SPDX-License-Identifier: MIT */
/*
 * The packet side of the DNS-resource NAT (reference §4.3; Firezone's nat_table.rs and
 * ip-packet's icmp_error.rs): what a packet's transport header says (ports, echo id, TCP
 * flags), the two rewrites (client -> resource: destination IP and source port / echo id;
 * resource -> client: source IP and destination port / echo id) with incremental checksum
 * updates (RFC 1624), the packet an ICMP error quotes, and the ICMP error rebuilt from the
 * proxy IP. Pure functions over caller buffers, called per packet by the workers: no state,
 * no allocation, logging or syscalls. Input is untrusted: every read is bounded by the IP
 * length checked first (tests/fuzz/fuzz_natpkt.c).
 *
 * Decided here, where Firezone leaves it to its packet library:
 * - Only TCP, UDP and ICMP echo requests are translated client -> resource (the brief of
 *   the issue; Firezone would also map an echo reply). Fragments carry no ports of their
 *   own and are not translated (l4 = OTHER): a datagram the client fragments to a proxy
 *   IP is dropped, one the host fragments toward the client reaches it untranslated.
 * - A UDP checksum of 0 over IPv4 (none) stays 0; a UDP checksum that updates to 0 is sent
 *   as 0xFFFF (RFC 768).
 * - The rebuilt ICMP error quotes the failed packet as the client sent it: its destination
 *   back to the proxy IP and its source port (echo id) back to the client's, and unlike
 *   Firezone (which only overwrites the bytes) the quoted IPv4 header checksum and the
 *   quoted UDP / TCP / ICMP checksum, where the quote holds it, are updated to match, as
 *   Linux's NAT does. IPv4: no options, TOS 0, ID 0 with DF, TTL 20; IPv6: traffic class
 *   and flow label 0, hop limit 20 (as icmpgen.h). Type and code are kept; the rest of the
 *   ICMP header is zero but for the MTU of "fragmentation needed" (IPv4 type 3 code 4) and
 *   "packet too big" (ICMPv6 type 2).
 */
#ifndef FG_NATPKT_H
#define FG_NATPKT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* What a packet carries above IP, for the connection table. */
enum fg_natpkt_l4 {
	FG_NATPKT_OTHER = 0,        /* another protocol, a fragment, or an ICMP type below */
	FG_NATPKT_TCP,
	FG_NATPKT_UDP,
	FG_NATPKT_ECHO_REQUEST,     /* ICMPv4 type 8, ICMPv6 128 */
	FG_NATPKT_ECHO_REPLY,       /* ICMPv4 type 0, ICMPv6 129 */
	FG_NATPKT_ICMP_ERROR,       /* ICMPv4 types 3, 11; ICMPv6 1, 2, 3 (Firezone's icmp_error) */
};

enum fg_natpkt_tcp_flag {
	FG_NATPKT_FIN = 0x01,
	FG_NATPKT_SYN = 0x02,
	FG_NATPKT_RST = 0x04,
};

enum {
	FG_NATPKT_ERROR_TTL = 20,   /* TTL / hop limit of a rebuilt ICMP error (as Firezone) */
	FG_NATPKT_EXT_MAX = 8,      /* IPv6 extension headers walked, at most */
};

/* A parsed IP packet (fg_natpkt_parse). Addresses stay in the packet (fg_natpkt_src/dst). */
struct fg_natpkt {
	uint8_t family;             /* AF_INET or AF_INET6 */
	uint8_t proto;              /* the upper-layer protocol after IPv6 extension headers */
	uint8_t l4;                 /* enum fg_natpkt_l4 */
	uint8_t tcp_flags;          /* TCP only: FIN / SYN / RST / ... */
	uint8_t icmp_type, icmp_code;
	uint16_t l4_off;            /* offset of the transport header */
	uint16_t len;               /* the IP length (what follows it is padding) */
	uint16_t sport, dport;      /* TCP / UDP ports; echo: the identifier in both */
	uint16_t payload;           /* layer-4 payload bytes (after the TCP/UDP/ICMP header),
				     * what flow records count, as the Rust flow tracker */
};

/* The packet an ICMP error quotes (fg_natpkt_parse_quote), as the server saw it: from the
 * client's tunnel IP and the outside port (or echo id) to the real IP. */
struct fg_natpkt_quote {
	uint16_t off;               /* offset of the quoted IP header in the error */
	uint16_t len;               /* bytes from there to the end of the error's IP length */
	uint16_t l4_off;            /* offset of the quoted transport header in the error */
	uint8_t proto;              /* IPPROTO_TCP, _UDP, _ICMP or _ICMPV6 */
	uint8_t l4;                 /* FG_NATPKT_TCP, _UDP or _ECHO_REQUEST */
	uint16_t sport, dport;      /* echo: the identifier in both */
};

/*
 * Parses an IP packet of len bytes (its own IP length may be shorter). IPv4: version 4,
 * IHL >= 5, IHL * 4 <= total length <= len; a fragment (MF or offset) is l4 OTHER. IPv6:
 * 40 + payload length <= len, extension headers (hop-by-hop, routing, fragment,
 * destination options, AH) walked up to FG_NATPKT_EXT_MAX, a fragment header with MF or
 * an offset is l4 OTHER. TCP needs 20 bytes (and a data offset >= 5 within the packet),
 * UDP 8, ICMP 8, else the packet is malformed. 0, or -EINVAL (np then undefined).
 */
int fg_natpkt_parse(const uint8_t *pkt, uint32_t len, struct fg_natpkt *np);

/* The packet's source or destination address. */
void fg_natpkt_src(const uint8_t *pkt, const struct fg_natpkt *np, struct fg_ip *out);
void fg_natpkt_dst(const uint8_t *pkt, const struct fg_natpkt *np, struct fg_ip *out);

/* Client -> resource (TCP, UDP or echo request): destination IP := dst (np's family), source
 * port or echo id := port; IPv4 header and transport checksums updated. np->sport follows. */
void fg_natpkt_translate_out(uint8_t *pkt, struct fg_natpkt *np, const struct fg_ip *dst, uint16_t port);
/* Resource -> client (TCP, UDP or echo reply): source IP := src, destination port or echo
 * id := port, checksums updated. np->dport follows. */
void fg_natpkt_translate_in(uint8_t *pkt, struct fg_natpkt *np, const struct fg_ip *src, uint16_t port);

/*
 * The packet quoted by an ICMP error np (l4 == FG_NATPKT_ICMP_ERROR): an IP header of np's
 * family, complete (IPv6 extension headers too), not a non-first fragment, carrying TCP or
 * UDP with at least its two ports, or an ICMP echo request with its 8-byte header. 0, or
 * -EINVAL when the error quotes nothing of that kind.
 */
int fg_natpkt_parse_quote(const uint8_t *pkt, const struct fg_natpkt *np, struct fg_natpkt_quote *q);

/* Whether the ICMP message np (any ICMP or ICMPv6 packet) carries a correct checksum. */
bool fg_natpkt_icmp_checksum_ok(const uint8_t *pkt, const struct fg_natpkt *np);

/*
 * Rebuilds the ICMP error np (quoting q) as the client must see it: from proxy (np's
 * family) to np's destination (the client), TTL / hop limit 20, same type and code, the
 * quote translated back (destination proxy, source port or echo id port). out may be pkt
 * itself (in place); otherwise they must not overlap. Returns the length written (never
 * more than np->len), or 0 if it exceeds cap.
 */
uint32_t fg_natpkt_icmp_error(uint8_t *out, uint32_t cap, const uint8_t *pkt, const struct fg_natpkt *np,
			      const struct fg_natpkt_quote *q, const struct fg_ip *proxy, uint16_t port);

#endif
