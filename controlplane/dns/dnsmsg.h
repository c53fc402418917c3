/* SPDX-License-Identifier: MIT */
/*
 * The little of a DNS message (RFC 1035 §4.1) the forwarder needs: checking a query from a
 * client and an answer from a nameserver as the Firezone gateway does (dns-types'
 * Query::parse / Response::parse over the domain crate), building the SERVFAIL it answers
 * on failure, cutting an answer down for UDP, and the ranking probe. No resolver: the
 * forwarder relays the bytes it checked. Every input here is untrusted; nothing allocates.
 * Pure functions, any thread.
 */
#ifndef FG_DNSMSG_H
#define FG_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	FG_DNSMSG_HEADER_LEN = 12,
	FG_DNSMSG_MAX_NAME = 255,          /* a name on the wire, root label included */
	/* header, the question with an uncompressed name, type and class */
	FG_DNSMSG_SERVFAIL_MAX = FG_DNSMSG_HEADER_LEN + FG_DNSMSG_MAX_NAME + 4,
	FG_DNSMSG_PROBE_LEN = FG_DNSMSG_HEADER_LEN + 14 + 4,   /* firezone.dev. A IN */
	FG_DNSMSG_RCODE_NOERROR = 0,
	FG_DNSMSG_RCODE_SERVFAIL = 2,
};

/* What fg_dnsmsg_parse() found. */
struct fg_dnsmsg {
	uint16_t id;
	uint8_t opcode;                    /* 0..15 */
	uint8_t rcode;                     /* the header's 4 bits */
	bool qr, tc, rd;
	uint8_t qname[FG_DNSMSG_MAX_NAME]; /* the question's name, uncompressed wire form */
	uint16_t qname_len;
	uint16_t qtype, qclass;
	size_t question_end;               /* where the answer section starts */
};

/*
 * Checks msg as Rust's dns-types does before the gateway forwards or relays it: a header
 * (12 bytes), QR clear for a query (response false) or set for an answer (response true),
 * exactly one question whose name parses (labels of at most 63, at most 255 bytes,
 * compression pointers only backwards), then every record of the answer section with its
 * data: A 4 bytes, AAAA 16, NS/CNAME/PTR/DNAME one name, MX and SRV their fixed fields
 * and a name, SOA two names and 20 bytes, TXT character strings, other types any bytes
 * that fit. The authority and additional sections (EDNS) are not read, as in Rust.
 * 0, or -EBADMSG with *why (a static string) saying what is wrong; why may be NULL.
 */
int fg_dnsmsg_parse(const uint8_t *msg, size_t len, bool response, struct fg_dnsmsg *out, const char **why);

/* The SERVFAIL answer to a parsed query, as Rust's Response::servfail (the domain crate's
 * start_answer): same id, QR, the query's opcode and RD, RCODE 2, RA/AA/TC/AD/CD clear,
 * the question echoed with its name uncompressed, no records. Its length (at most
 * FG_DNSMSG_SERVFAIL_MAX), or 0 when cap is too small. */
size_t fg_dnsmsg_servfail(const struct fg_dnsmsg *q, uint8_t *out, size_t cap);

/* An answer longer than max, as Rust's Response::into_bytes(max): cut in place after the
 * question, TC set, ANCOUNT/NSCOUNT/ARCOUNT zero and QDCOUNT 1. a is what
 * fg_dnsmsg_parse() said about msg. The new length (len when it fits already). */
size_t fg_dnsmsg_truncate(uint8_t *msg, size_t len, const struct fg_dnsmsg *a, size_t max);

/* The nameserver probe of Rust's NameserverSet: "firezone.dev. A IN", RD set, the id given.
 * Writes FG_DNSMSG_PROBE_LEN bytes. */
size_t fg_dnsmsg_probe(uint16_t id, uint8_t out[FG_DNSMSG_PROBE_LEN]);

#endif
