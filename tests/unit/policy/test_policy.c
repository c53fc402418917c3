/* SPDX-License-Identifier: MIT */
/*
 * fg_policy_* against a functional table: one row per rule of reference §3.3 / §3.4 / §3.5
 * and per choice documented in policy.h, in IPv4 and IPv6, with filters on ports and ICMP,
 * overlapping resources in both directions, expiry at its exact boundary and the Internet
 * resource at the edges of each excluded range. Each row is also checked against the naive
 * reference, and every packet is read from an exactly-sized heap copy. Also the build's
 * input validation, and main(). Test thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "icmpgen.h"
#include "pkts.h"

#define C4 "100.64.0.2"
#define C6 "fd00:2021:1111::2"
#define GW4 "100.64.0.1"
#define GW6 "fd00:2021:1111::1"

enum scenario { S_CIDR, S_INET, S_V4ONLY, S_COUNT };
enum dir { OUT, IN };
enum { TCP = 6, UDP = 17, GRE = 47 };

#define F(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct scen {
	struct fg_policy_resource res[24];
	size_t n;
	struct naive_policy naive;
	struct fg_policy *p;
};

static struct scen scens[S_COUNT];

static void add(struct scen *s, const char *id, const char *what, uint64_t exp,
		const char *const *filters)
{
	tp_resource(&s->res[s->n++], id, what, exp, filters);
}

static int build_scen(enum scenario which)
{
	struct scen *s = &scens[which];
	struct fg_ip c4 = tp_ip(C4), c6 = tp_ip(C6), g4 = tp_ip(GW4), g6 = tp_ip(GW6);

	memset(s, 0, sizeof(*s));
	switch (which) {
	case S_CIDR:
		add(s, "r-web", "10.0.0.0/8", 0, F("tcp:80", "tcp:443"));
		add(s, "r-dns", "10.0.0.53", 0, F("udp:53"));
		add(s, "r-all", "192.168.1.7/24", 0, NULL);      /* host bits set on purpose */
		add(s, "r-icmp", "172.16.0.0/12", 0, F("icmp"));
		add(s, "r-v6", "2001:db8::/32", 0, F("tcp:22"));
		add(s, "r-v6host", "2001:db8::1/128", 0, NULL);
		add(s, "r-v6icmp", "2001:db8:1::/48", 0, F("icmp"));
		add(s, "r-broad", "10.1.0.0/16", 0, NULL);
		add(s, "r-narrow", "10.1.2.0/24", 0, F("tcp:8080"));
		add(s, "r-broad2", "10.2.0.0/16", 0, F("tcp:80"));
		add(s, "r-narrow2", "10.2.3.0/24", 0, NULL);
		add(s, "aaa", "10.3.0.0/16", 0, NULL);
		add(s, "zzz", "10.3.0.0/16", 0, F("tcp:1"));
		add(s, "bbb", "10.3.0.0/16", 0, NULL);
		add(s, "r-exp", "8.8.8.0/24", 1000, NULL);
		add(s, "r-exp-later", "8.8.8.8/32", 2000, F("tcp:53"));
		add(s, "r-inv", "9.9.9.0/24", 0, F("tcp:90-80"));
		add(s, "r-unk", "9.9.8.0/24", 0, F("proto:99"));
		add(s, "r-range", "11.0.0.0/8", 0, F("udp:1000-2000", "udp:1500-1600", "tcp:7"));
		add(s, "r-top", "12.0.0.0/8", 0, F("tcp:65535", "tcp:0"));
		add(s, "r-v6exp", "2001:db8:2::/48", 1000, F("udp:1-65535"));
		break;
	case S_INET:
		add(s, "inet", "internet", 5000, NULL);
		add(s, "r-priv", "10.5.0.0/16", 0, F("tcp:80"));
		add(s, "zzzz", "1.1.1.0/24", 0, F("tcp:443"));
		add(s, "r-v6priv", "fc00:1::/32", 0, F("udp:53"));
		break;
	case S_V4ONLY:
		add(s, "m-inet", "internet", 0, NULL);
		add(s, "z-zero", "0.0.0.0/0", 0, F("tcp:1"));
		c6.family = 0;
		g6.family = 0;
		break;
	default:
		abort();
	}
	s->naive = (struct naive_policy){ .res = s->res, .n = s->n, .client4 = c4, .client6 = c6,
					  .gw4 = g4, .gw6 = g6 };
	s->p = fg_policy_build(s->res, s->n, &c4, &c6, &g4, &g6);
	return s->p && fg_policy_count(s->p) == s->n ? 0 : -1;
}

struct row {
	const char *name;
	enum scenario scen;
	enum dir dir;
	struct tp_spec s;
	uint64_t now;
	enum fg_policy_verdict v;
	enum fg_drop why;
	const char *rid;          /* outbound ALLOW: the winning resource, NULL = none */
};

#define ALLOW FG_POLICY_ALLOW
#define DROP FG_POLICY_DROP
#define PROHIB FG_POLICY_PROHIBITED
#define UNREACH FG_POLICY_NET_UNREACHABLE
#define NONE FG_DROP_NONE

static const struct row rows[] = {
	/* §3.3 step 1: multicast, before anything else. */
	{ "mcast v4", S_CIDR, OUT, { .src = C4, .dst = "224.0.0.251", .proto = UDP, .dport = 5353 }, 0, DROP, FG_DROP_POLICY_MULTICAST, NULL },
	{ "mcast v4 top", S_CIDR, OUT, { .src = "1.2.3.4", .dst = "239.255.255.255", .proto = UDP }, 0, DROP, FG_DROP_POLICY_MULTICAST, NULL },
	{ "mcast v6", S_CIDR, OUT, { .src = C6, .dst = "ff02::fb", .proto = UDP }, 0, DROP, FG_DROP_POLICY_MULTICAST, NULL },
	{ "not mcast 240/4", S_CIDR, OUT, { .src = C4, .dst = "240.0.0.1", .proto = UDP }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "p2p-like src not ::", S_CIDR, OUT, { .src = "::1", .dst = "::", .proto = 255 }, 0, DROP, FG_DROP_POLICY_SOURCE, NULL },
	/* Step 2: ICMP errors from the client, even from a foreign source. */
	{ "icmp4 unreach", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = TP_ICMP, .icmp_type = 3 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp4 quench", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = TP_ICMP, .icmp_type = 4 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp4 redirect", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = TP_ICMP, .icmp_type = 5 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp4 time exceeded", S_CIDR, OUT, { .src = "9.9.9.9", .dst = "172.16.0.1", .proto = TP_ICMP, .icmp_type = 11 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp4 param problem", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = TP_ICMP, .icmp_type = 12 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp4 timestamp is no error", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = TP_ICMP, .icmp_type = 13 }, 0, ALLOW, NONE, "r-icmp" },
	{ "icmp6 unreach", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:1::1", .proto = TP_ICMP, .icmp_type = 1 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp6 too big", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:1::1", .proto = TP_ICMP, .icmp_type = 2 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp6 type 127", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:1::1", .proto = TP_ICMP, .icmp_type = 127 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp6 error behind ext", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:1::1", .proto = TP_ICMP, .icmp_type = 3, .ext6 = 2 }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	{ "icmp6 error behind AH", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:1::1", .proto = TP_ICMP, .icmp_type = 4, .ah6 = true }, 0, DROP, FG_DROP_POLICY_ICMP_ERROR, NULL },
	/* Step 3: the source must be the client's. */
	{ "foreign src v4", S_CIDR, OUT, { .src = "100.64.0.3", .dst = "192.168.1.1", .proto = TCP }, 0, DROP, FG_DROP_POLICY_SOURCE, NULL },
	{ "foreign src v6", S_CIDR, OUT, { .src = "fd00:2021:1111::3", .dst = "2001:db8::1", .proto = TCP }, 0, DROP, FG_DROP_POLICY_SOURCE, NULL },
	{ "gw src", S_CIDR, OUT, { .src = GW4, .dst = "192.168.1.1", .proto = TCP }, 0, DROP, FG_DROP_POLICY_SOURCE, NULL },
	{ "no v6 client ip", S_V4ONLY, OUT, { .src = C6, .dst = "2001:db8::1", .proto = TCP }, 0, DROP, FG_DROP_POLICY_SOURCE, NULL },
	/* Step 4: the gateway's own IP, whatever the protocol. */
	{ "gw v4 dns fwd", S_CIDR, OUT, { .src = C4, .dst = GW4, .proto = UDP, .dport = 53535 }, 0, ALLOW, NONE, NULL },
	{ "gw v4 gre", S_CIDR, OUT, { .src = C4, .dst = GW4, .proto = GRE }, 0, ALLOW, NONE, NULL },
	{ "gw v6 tcp", S_CIDR, OUT, { .src = C6, .dst = GW6, .proto = TCP, .dport = 1 }, 0, ALLOW, NONE, NULL },
	{ "gw v4 only", S_V4ONLY, OUT, { .src = C4, .dst = GW4, .proto = TCP }, 0, ALLOW, NONE, NULL },
	/* Step 5: no client-to-client hairpin; ranges at their edges. */
	{ "hairpin v4", S_CIDR, OUT, { .src = C4, .dst = "100.64.0.9", .proto = TCP }, 0, PROHIB, FG_DROP_POLICY_HAIRPIN, NULL },
	{ "hairpin v4 top", S_CIDR, OUT, { .src = C4, .dst = "100.95.255.255", .proto = UDP }, 0, PROHIB, FG_DROP_POLICY_HAIRPIN, NULL },
	{ "past hairpin v4", S_CIDR, OUT, { .src = C4, .dst = "100.96.0.0", .proto = UDP }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "before hairpin v4", S_CIDR, OUT, { .src = C4, .dst = "100.63.255.255", .proto = UDP }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "hairpin v6", S_CIDR, OUT, { .src = C6, .dst = "fd00:2021:1111::5", .proto = TCP }, 0, PROHIB, FG_DROP_POLICY_HAIRPIN, NULL },
	{ "hairpin v6 top", S_CIDR, OUT, { .src = C6, .dst = "fd00:2021:1111::1f:ffff", .proto = TCP }, 0, PROHIB, FG_DROP_POLICY_HAIRPIN, NULL },
	{ "past hairpin v6", S_CIDR, OUT, { .src = C6, .dst = "fd00:2021:1111::20:0", .proto = TCP }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	/* Step 6: filters. */
	{ "tcp 80", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 80 }, 0, ALLOW, NONE, "r-web" },
	{ "tcp 443", S_CIDR, OUT, { .src = C4, .dst = "10.200.0.1", .proto = TCP, .dport = 443 }, 0, ALLOW, NONE, "r-web" },
	{ "tcp 81", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 81 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "src port ignored out", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .sport = 80, .dport = 81 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "udp 80 on tcp filter", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = UDP, .dport = 80 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "udp 53 host in /8", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.53", .proto = UDP, .dport = 53 }, 0, ALLOW, NONE, "r-dns" },
	{ "tcp 80 host in /8", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.53", .proto = TCP, .dport = 80 }, 0, ALLOW, NONE, "r-web" },
	{ "icmp on tcp filter", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TP_ICMP, .icmp_type = 8 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "icmp echo", S_CIDR, OUT, { .src = C4, .dst = "172.31.255.255", .proto = TP_ICMP, .icmp_type = 8 }, 0, ALLOW, NONE, "r-icmp" },
	{ "icmp filter no tcp", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = TCP, .dport = 80 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "icmp6 in v4", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = 58, .payload = 8 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "icmp4 in v6", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:1::1", .proto = 1, .payload = 8 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "icmp6 echo", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:1::1", .proto = TP_ICMP, .icmp_type = 128 }, 0, ALLOW, NONE, "r-v6icmp" },
	{ "no filter any proto", S_CIDR, OUT, { .src = C4, .dst = "192.168.1.1", .proto = GRE }, 0, ALLOW, NONE, "r-all" },
	{ "no filter udp", S_CIDR, OUT, { .src = C4, .dst = "192.168.1.255", .proto = UDP, .dport = 9 }, 0, ALLOW, NONE, "r-all" },
	{ "outside /24", S_CIDR, OUT, { .src = C4, .dst = "192.168.2.0", .proto = UDP }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "other proto filtered", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = GRE }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "inverted only: denied", S_CIDR, OUT, { .src = C4, .dst = "9.9.9.9", .proto = TCP, .dport = 85 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "inverted only: udp", S_CIDR, OUT, { .src = C4, .dst = "9.9.9.9", .proto = UDP, .dport = 85 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "unknown filter proto", S_CIDR, OUT, { .src = C4, .dst = "9.9.8.1", .proto = 99 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "range below", S_CIDR, OUT, { .src = C4, .dst = "11.1.1.1", .proto = UDP, .dport = 999 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "range low edge", S_CIDR, OUT, { .src = C4, .dst = "11.1.1.1", .proto = UDP, .dport = 1000 }, 0, ALLOW, NONE, "r-range" },
	{ "range merged", S_CIDR, OUT, { .src = C4, .dst = "11.1.1.1", .proto = UDP, .dport = 1550 }, 0, ALLOW, NONE, "r-range" },
	{ "range high edge", S_CIDR, OUT, { .src = C4, .dst = "11.1.1.1", .proto = UDP, .dport = 2000 }, 0, ALLOW, NONE, "r-range" },
	{ "range above", S_CIDR, OUT, { .src = C4, .dst = "11.1.1.1", .proto = UDP, .dport = 2001 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "range is udp only", S_CIDR, OUT, { .src = C4, .dst = "11.1.1.1", .proto = TCP, .dport = 1500 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "tcp 7 beside udp", S_CIDR, OUT, { .src = C4, .dst = "11.1.1.1", .proto = TCP, .dport = 7 }, 0, ALLOW, NONE, "r-range" },
	{ "port 0", S_CIDR, OUT, { .src = C4, .dst = "12.0.0.1", .proto = TCP, .dport = 0 }, 0, ALLOW, NONE, "r-top" },
	{ "port 1", S_CIDR, OUT, { .src = C4, .dst = "12.0.0.1", .proto = TCP, .dport = 1 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "port 65534", S_CIDR, OUT, { .src = C4, .dst = "12.0.0.1", .proto = TCP, .dport = 65534 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "port 65535", S_CIDR, OUT, { .src = C4, .dst = "12.255.255.255", .proto = TCP, .dport = 65535 }, 0, ALLOW, NONE, "r-top" },
	{ "v6 tcp 22", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:ffff::1", .proto = TCP, .dport = 22 }, 0, ALLOW, NONE, "r-v6" },
	{ "v6 tcp 23", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:ffff::1", .proto = TCP, .dport = 23 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "v6 host beats /32", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::1", .proto = TCP, .dport = 22 }, 0, ALLOW, NONE, "r-v6host" },
	{ "v6 host any proto", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::1", .proto = UDP, .dport = 5 }, 0, ALLOW, NONE, "r-v6host" },
	{ "v6 outside", S_CIDR, OUT, { .src = C6, .dst = "2001:db9::1", .proto = TCP, .dport = 22 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "v4 addr in v6 space", S_CIDR, OUT, { .src = C6, .dst = "::ffff:10.0.0.1", .proto = TCP, .dport = 80 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	/* Overlaps: the broader permits, the narrower does not, and the reverse. */
	{ "broad permits", S_CIDR, OUT, { .src = C4, .dst = "10.1.2.3", .proto = TCP, .dport = 22 }, 0, ALLOW, NONE, "r-broad" },
	{ "narrow wins", S_CIDR, OUT, { .src = C4, .dst = "10.1.2.3", .proto = TCP, .dport = 8080 }, 0, ALLOW, NONE, "r-narrow" },
	{ "broad only", S_CIDR, OUT, { .src = C4, .dst = "10.1.3.3", .proto = TCP, .dport = 8080 }, 0, ALLOW, NONE, "r-broad" },
	{ "narrow2 permits", S_CIDR, OUT, { .src = C4, .dst = "10.2.3.4", .proto = UDP, .dport = 9 }, 0, ALLOW, NONE, "r-narrow2" },
	{ "narrow2 longest", S_CIDR, OUT, { .src = C4, .dst = "10.2.3.4", .proto = TCP, .dport = 80 }, 0, ALLOW, NONE, "r-narrow2" },
	{ "broad2 denies", S_CIDR, OUT, { .src = C4, .dst = "10.2.9.9", .proto = UDP, .dport = 9 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "broad2 tcp 80", S_CIDR, OUT, { .src = C4, .dst = "10.2.9.9", .proto = TCP, .dport = 80 }, 0, ALLOW, NONE, "r-broad2" },
	{ "same prefix highest id", S_CIDR, OUT, { .src = C4, .dst = "10.3.1.1", .proto = UDP }, 0, ALLOW, NONE, "bbb" },
	{ "same prefix only zzz", S_CIDR, OUT, { .src = C4, .dst = "10.3.1.1", .proto = TCP, .dport = 1 }, 0, ALLOW, NONE, "zzz" },
	/* Expiry at the exact second. */
	{ "before expiry", S_CIDR, OUT, { .src = C4, .dst = "8.8.8.1", .proto = UDP }, 999, ALLOW, NONE, "r-exp" },
	{ "at expiry", S_CIDR, OUT, { .src = C4, .dst = "8.8.8.1", .proto = UDP }, 1000, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "narrow outlives", S_CIDR, OUT, { .src = C4, .dst = "8.8.8.8", .proto = TCP, .dport = 53 }, 1999, ALLOW, NONE, "r-exp-later" },
	{ "broad before narrow", S_CIDR, OUT, { .src = C4, .dst = "8.8.8.8", .proto = UDP, .dport = 53 }, 999, ALLOW, NONE, "r-exp" },
	{ "narrow at expiry", S_CIDR, OUT, { .src = C4, .dst = "8.8.8.8", .proto = TCP, .dport = 53 }, 2000, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "v6 before expiry", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:2::9", .proto = UDP, .dport = 1 }, 999, ALLOW, NONE, "r-v6exp" },
	{ "v6 at expiry, /32", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:2::9", .proto = TCP, .dport = 22 }, 1000, ALLOW, NONE, "r-v6" },
	{ "v6 at expiry", S_CIDR, OUT, { .src = C6, .dst = "2001:db8:2::9", .proto = UDP, .dport = 1 }, 1000, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	/* Fragments and truncated headers (policy.h). */
	{ "first fragment", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 80, .more_frags = true, .payload = 100 }, 0, ALLOW, NONE, "r-web" },
	{ "first fragment denied", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 81, .more_frags = true }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "later tcp fragment", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 81, .frag_off = 3 }, 0, ALLOW, NONE, "r-web" },
	{ "later udp fragment", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = UDP, .frag_off = 3 }, 0, DROP, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "later udp frag host", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.53", .proto = UDP, .frag_off = 185 }, 0, ALLOW, NONE, "r-dns" },
	{ "later fragment any", S_CIDR, OUT, { .src = C4, .dst = "192.168.1.1", .proto = GRE, .frag_off = 1 }, 0, ALLOW, NONE, "r-all" },
	{ "later icmp fragment", S_CIDR, OUT, { .src = C4, .dst = "172.16.0.1", .proto = TP_ICMP, .icmp_type = 3, .frag_off = 1 }, 0, ALLOW, NONE, "r-icmp" },
	{ "later frag v6 tcp", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::5", .proto = TCP, .frag_off = 2 }, 0, ALLOW, NONE, "r-v6" },
	{ "later frag v6 udp", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::5", .proto = UDP, .frag_off = 2, .more_frags = true }, 0, DROP, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "first frag v6", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::5", .proto = TCP, .dport = 22, .more_frags = true, .ext6 = 1 }, 0, ALLOW, NONE, "r-v6" },
	{ "atomic frag v6", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::5", .proto = TCP, .dport = 23, .frag6 = true }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "tiny first fragment", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 80, .more_frags = true, .l4_cut = 12 }, 0, DROP, FG_DROP_INNER_MALFORMED, NULL },
	{ "tcp 19 bytes", S_CIDR, OUT, { .src = C4, .dst = "192.168.1.1", .proto = TCP, .l4_cut = 1 }, 0, DROP, FG_DROP_INNER_MALFORMED, NULL },
	{ "udp 7 bytes", S_CIDR, OUT, { .src = C4, .dst = "192.168.1.1", .proto = UDP, .l4_cut = 1 }, 0, DROP, FG_DROP_INNER_MALFORMED, NULL },
	{ "icmp 7 bytes", S_CIDR, OUT, { .src = C4, .dst = "192.168.1.1", .proto = TP_ICMP, .l4_cut = 1 }, 0, DROP, FG_DROP_INNER_MALFORMED, NULL },
	{ "icmp6 7 bytes", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = 128, .l4_cut = 1 }, 0, DROP, FG_DROP_INNER_MALFORMED, NULL },
	{ "other proto empty", S_CIDR, OUT, { .src = C4, .dst = "192.168.1.1", .proto = GRE }, 0, ALLOW, NONE, "r-all" },
	{ "ip4 options", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 80, .ip4_opts = 40 }, 0, ALLOW, NONE, "r-web" },
	{ "ip4 options denied", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 8, .sport = 80, .ip4_opts = 4 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "v6 ext headers", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::9", .proto = TCP, .dport = 22, .ext6 = 2 }, 0, ALLOW, NONE, "r-v6" },
	{ "v6 ext headers denied", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::9", .proto = TCP, .dport = 23, .ext6 = 2 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "v6 behind AH", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::9", .proto = TCP, .dport = 22, .ext6 = 1, .ah6 = true }, 0, ALLOW, NONE, "r-v6" },
	{ "v6 behind AH denied", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::9", .proto = TCP, .dport = 21, .ah6 = true, .frag6 = true }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "v6 8 ext headers", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::9", .proto = TCP, .dport = 22, .ext6 = 7, .frag6 = true }, 0, ALLOW, NONE, "r-v6" },
	{ "v6 9 ext headers", S_CIDR, OUT, { .src = C6, .dst = "2001:db8::9", .proto = TCP, .dport = 22, .ext6 = 8, .frag6 = true }, 0, DROP, FG_DROP_INNER_MALFORMED, NULL },
	{ "padding ignored", S_CIDR, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 80, .pad = 13 }, 0, ALLOW, NONE, "r-web" },
	/* §3.5: the Internet resource and each excluded range at its edges. */
	{ "inet public", S_INET, OUT, { .src = C4, .dst = "8.8.8.8", .proto = UDP, .dport = 53 }, 0, ALLOW, NONE, "inet" },
	{ "inet v6 public", S_INET, OUT, { .src = C6, .dst = "2606:4700::1", .proto = TCP, .dport = 443 }, 4999, ALLOW, NONE, "inet" },
	{ "inet expired", S_INET, OUT, { .src = C4, .dst = "8.8.8.8", .proto = UDP }, 5000, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "inet expired excluded", S_INET, OUT, { .src = C4, .dst = "10.9.9.9", .proto = UDP }, 5000, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "ex 10/8", S_INET, OUT, { .src = C4, .dst = "10.9.9.9", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex 10/8 top", S_INET, OUT, { .src = C4, .dst = "10.255.255.255", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "past 10/8", S_INET, OUT, { .src = C4, .dst = "11.0.0.0", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "before 10/8", S_INET, OUT, { .src = C4, .dst = "9.255.255.255", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex 172.16/12", S_INET, OUT, { .src = C4, .dst = "172.16.0.0", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex 172.16/12 top", S_INET, OUT, { .src = C4, .dst = "172.31.255.255", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "before 172.16/12", S_INET, OUT, { .src = C4, .dst = "172.15.255.255", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "past 172.16/12", S_INET, OUT, { .src = C4, .dst = "172.32.0.0", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex 192.168/16", S_INET, OUT, { .src = C4, .dst = "192.168.255.255", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "past 192.168/16", S_INET, OUT, { .src = C4, .dst = "192.169.0.0", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex loopback", S_INET, OUT, { .src = C4, .dst = "127.0.0.1", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "past loopback", S_INET, OUT, { .src = C4, .dst = "128.0.0.0", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex link-local", S_INET, OUT, { .src = C4, .dst = "169.254.0.1", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "past link-local", S_INET, OUT, { .src = C4, .dst = "169.255.0.0", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex cgnat", S_INET, OUT, { .src = C4, .dst = "100.100.0.1", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex cgnat top", S_INET, OUT, { .src = C4, .dst = "100.127.255.255", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "past cgnat", S_INET, OUT, { .src = C4, .dst = "100.128.0.0", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "cgnat hairpin first", S_INET, OUT, { .src = C4, .dst = "100.64.0.7", .proto = UDP }, 0, PROHIB, FG_DROP_POLICY_HAIRPIN, NULL },
	{ "ex 240/4", S_INET, OUT, { .src = C4, .dst = "240.0.0.0", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex broadcast", S_INET, OUT, { .src = C4, .dst = "255.255.255.255", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "before multicast", S_INET, OUT, { .src = C4, .dst = "223.255.255.255", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex later fragment", S_INET, OUT, { .src = C4, .dst = "10.9.9.9", .proto = UDP, .frag_off = 9 }, 0, DROP, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex6 loopback", S_INET, OUT, { .src = C6, .dst = "::1", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex6 ::2", S_INET, OUT, { .src = C6, .dst = "::2", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex6 mapped", S_INET, OUT, { .src = C6, .dst = "::ffff:8.8.8.8", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex6 past mapped", S_INET, OUT, { .src = C6, .dst = "::1:0:0:0", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex6 ula", S_INET, OUT, { .src = C6, .dst = "fc00::", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex6 ula top", S_INET, OUT, { .src = C6, .dst = "fdff:ffff::1", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex6 before ula", S_INET, OUT, { .src = C6, .dst = "fbff:ffff::1", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex6 link-local", S_INET, OUT, { .src = C6, .dst = "fe80::1", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex6 link-local top", S_INET, OUT, { .src = C6, .dst = "febf:ffff::1", .proto = UDP }, 0, UNREACH, FG_DROP_POLICY_NET_UNREACHABLE, NULL },
	{ "ex6 site-local ok", S_INET, OUT, { .src = C6, .dst = "fec0::1", .proto = UDP }, 0, ALLOW, NONE, "inet" },
	{ "ex6 multicast first", S_INET, OUT, { .src = C6, .dst = "ff0e::1", .proto = UDP }, 0, DROP, FG_DROP_POLICY_MULTICAST, NULL },
	{ "cidr in excluded", S_INET, OUT, { .src = C4, .dst = "10.5.1.1", .proto = TCP, .dport = 80 }, 0, ALLOW, NONE, "r-priv" },
	{ "cidr in excluded denies", S_INET, OUT, { .src = C4, .dst = "10.5.1.1", .proto = UDP, .dport = 80 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "cidr6 in ula", S_INET, OUT, { .src = C6, .dst = "fc00:1::9", .proto = UDP, .dport = 53 }, 0, ALLOW, NONE, "r-v6priv" },
	{ "cidr6 in ula denies", S_INET, OUT, { .src = C6, .dst = "fc00:1::9", .proto = TCP, .dport = 53 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	{ "longer prefix beats inet", S_INET, OUT, { .src = C4, .dst = "1.1.1.1", .proto = TCP, .dport = 443 }, 0, ALLOW, NONE, "zzzz" },
	{ "inet when cidr denies", S_INET, OUT, { .src = C4, .dst = "1.1.1.1", .proto = UDP, .dport = 443 }, 0, ALLOW, NONE, "inet" },
	{ "cidr after inet expiry", S_INET, OUT, { .src = C4, .dst = "1.1.1.1", .proto = TCP, .dport = 443 }, 6000, ALLOW, NONE, "zzzz" },
	{ "/0 ties on id", S_V4ONLY, OUT, { .src = C4, .dst = "8.8.4.4", .proto = TCP, .dport = 1 }, 0, ALLOW, NONE, "z-zero" },
	{ "/0 ties inet", S_V4ONLY, OUT, { .src = C4, .dst = "8.8.4.4", .proto = TCP, .dport = 2 }, 0, ALLOW, NONE, "m-inet" },
	{ "/0 cidr in excluded", S_V4ONLY, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 1 }, 0, ALLOW, NONE, "z-zero" },
	{ "/0 cidr excluded denies", S_V4ONLY, OUT, { .src = C4, .dst = "10.0.0.1", .proto = TCP, .dport = 2 }, 0, PROHIB, FG_DROP_POLICY_PROHIBITED, NULL },
	/* §3.4: resource -> client. */
	{ "in tcp sport 80", S_CIDR, IN, { .src = "10.0.0.1", .dst = C4, .proto = TCP, .sport = 80, .dport = 40000 }, 0, ALLOW, NONE, NULL },
	{ "in tcp sport 81", S_CIDR, IN, { .src = "10.0.0.1", .dst = C4, .proto = TCP, .sport = 81, .dport = 80 }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in udp 53", S_CIDR, IN, { .src = "10.0.0.53", .dst = C4, .proto = UDP, .sport = 53 }, 0, ALLOW, NONE, NULL },
	{ "in no resource", S_CIDR, IN, { .src = "13.0.0.1", .dst = C4, .proto = UDP, .sport = 53 }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in from gw", S_CIDR, IN, { .src = GW4, .dst = C4, .proto = GRE }, 0, ALLOW, NONE, NULL },
	{ "in from gw6", S_CIDR, IN, { .src = GW6, .dst = C6, .proto = UDP, .sport = 53535 }, 0, ALLOW, NONE, NULL },
	{ "in from peer", S_CIDR, IN, { .src = "100.64.0.3", .dst = C4, .proto = UDP }, 0, DROP, FG_DROP_POLICY_HAIRPIN, NULL },
	{ "in from peer6", S_CIDR, IN, { .src = "fd00:2021:1111::9", .dst = C6, .proto = UDP }, 0, DROP, FG_DROP_POLICY_HAIRPIN, NULL },
	{ "in icmp error passes", S_CIDR, IN, { .src = "13.0.0.1", .dst = C4, .proto = TP_ICMP, .icmp_type = 3, .icmp_code = 1 }, 0, ALLOW, NONE, NULL },
	{ "in icmp6 error passes", S_CIDR, IN, { .src = "2001:db9::1", .dst = C6, .proto = TP_ICMP, .icmp_type = 2 }, 0, ALLOW, NONE, NULL },
	{ "in echo reply filtered", S_CIDR, IN, { .src = "10.0.0.1", .dst = C4, .proto = TP_ICMP, .icmp_type = 0 }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in echo reply icmp", S_CIDR, IN, { .src = "172.16.9.9", .dst = C4, .proto = TP_ICMP, .icmp_type = 0 }, 0, ALLOW, NONE, NULL },
	{ "in to other client", S_CIDR, IN, { .src = "10.0.0.1", .dst = "100.64.0.3", .proto = TCP, .sport = 80 }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in v6 sport 22", S_CIDR, IN, { .src = "2001:db8::5", .dst = C6, .proto = TCP, .sport = 22 }, 0, ALLOW, NONE, NULL },
	{ "in v6 sport 23", S_CIDR, IN, { .src = "2001:db8::5", .dst = C6, .proto = TCP, .sport = 23 }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in before expiry", S_CIDR, IN, { .src = "8.8.8.1", .dst = C4, .proto = UDP }, 999, ALLOW, NONE, NULL },
	{ "in at expiry", S_CIDR, IN, { .src = "8.8.8.1", .dst = C4, .proto = UDP }, 1000, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in later fragment", S_CIDR, IN, { .src = "10.0.0.1", .dst = C4, .proto = TCP, .frag_off = 5 }, 0, ALLOW, NONE, NULL },
	{ "in later udp fragment", S_CIDR, IN, { .src = "10.0.0.1", .dst = C4, .proto = UDP, .frag_off = 5 }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in truncated", S_CIDR, IN, { .src = "10.0.0.1", .dst = C4, .proto = TCP, .sport = 80, .l4_cut = 4 }, 0, DROP, FG_DROP_TUN_MALFORMED, NULL },
	{ "in inet", S_INET, IN, { .src = "8.8.8.8", .dst = C4, .proto = UDP, .sport = 53 }, 0, ALLOW, NONE, NULL },
	{ "in inet excluded", S_INET, IN, { .src = "10.9.9.9", .dst = C4, .proto = UDP }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in cidr in excluded", S_INET, IN, { .src = "10.5.0.1", .dst = C4, .proto = TCP, .sport = 80 }, 0, ALLOW, NONE, NULL },
	{ "in inet expired", S_INET, IN, { .src = "8.8.8.8", .dst = C4, .proto = UDP }, 5000, DROP, FG_DROP_POLICY_INBOUND, NULL },
	{ "in no v6 client", S_V4ONLY, IN, { .src = "2001:db8::1", .dst = C6, .proto = UDP }, 0, DROP, FG_DROP_POLICY_INBOUND, NULL },
};

static const char *vname(enum fg_policy_verdict v)
{
	static const char *const n[] = { "ALLOW", "DROP", "PROHIBITED", "NET_UNREACHABLE", "CONTROL" };

	return (unsigned)v < 5 ? n[v] : "?";
}

static bool same_id(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void test_table(void)
{
	uint8_t b[TP_MAX];
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		const struct scen *s = &scens[r->scen];
		uint32_t len = tp_build(b, &r->s);
		uint8_t *pkt = tp_tail(b, len);
		enum fg_drop why = FG_DROP_MAX, nwhy = FG_DROP_MAX;
		const char *rid = "unset", *nrid = "unset";
		enum fg_policy_verdict v, nv;

		if (r->dir == OUT) {
			v = fg_policy_outbound(s->p, pkt, len, r->now, &why, &rid);
			nv = naive_outbound(&s->naive, pkt, len, r->now, &nwhy, &nrid);
		} else {
			rid = nrid = NULL;
			v = fg_policy_inbound(s->p, pkt, len, r->now, &why);
			nv = naive_inbound(&s->naive, pkt, len, r->now, &nwhy);
		}
		if (v != r->v || why != r->why || !same_id(rid, r->rid) || nv != v || nwhy != why ||
		    !same_id(rid, nrid)) {
			printf("\n  row '%s': got %s/%s/%s, want %s/%s/%s, naive %s/%s/%s", r->name,
			       vname(v), fg_drop_names[why], rid ? rid : "-", vname(r->v),
			       fg_drop_names[r->why], r->rid ? r->rid : "-", vname(nv),
			       fg_drop_names[nwhy], nrid ? nrid : "-");
			bad++;
		}
		/* The optional outputs may be left out. */
		if (r->dir == OUT) {
			CU_ASSERT_EQUAL(fg_policy_outbound(s->p, pkt, len, r->now, NULL, NULL), v);
		} else {
			CU_ASSERT_EQUAL(fg_policy_inbound(s->p, pkt, len, r->now, NULL), v);
		}
		free(pkt);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* The p2p control packet, built by icmpgen, before the source check. */
static void test_control(void)
{
	uint8_t b[128];
	uint32_t n = fg_icmpgen_p2p_control(b, sizeof(b), FG_P2P_GOODBYE, NULL, 0);
	uint8_t *pkt = tp_tail(b, n);
	enum fg_drop why;
	const char *rid = "unset";

	CU_ASSERT_FATAL(n == 48);
	CU_ASSERT_EQUAL(fg_policy_outbound(scens[S_CIDR].p, pkt, n, 0, &why, &rid), FG_POLICY_CONTROL);
	CU_ASSERT_EQUAL(why, FG_DROP_P2P_EVENT);
	CU_ASSERT_PTR_NULL(rid);
	/* Inbound it is just a packet not for the client. */
	CU_ASSERT_EQUAL(fg_policy_inbound(scens[S_CIDR].p, pkt, n, 0, &why), FG_POLICY_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_POLICY_INBOUND);
	free(pkt);
}

static void test_build_errors(void)
{
	struct fg_policy_resource r;
	struct fg_ip c4 = tp_ip(C4), c6 = tp_ip(C6);
	struct fg_policy *p;

	tp_resource(&r, "ok", "10.0.0.0/8", 0, NULL);
	p = fg_policy_build(&r, 1, &c4, &c6, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(p);
	fg_policy_free(p);

	memset(r.id, 'x', sizeof(r.id));                     /* no NUL */
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	r.id[0] = '\0';                                      /* empty */
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
	tp_resource(&r, "ok", "10.0.0.0/8", 0, NULL);
	r.type = 4; /* 3 is FG_CTL_RES_DNS */
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
	tp_resource(&r, "ok", "10.0.0.0/8", 0, NULL);
	r.prefix.len = 33;
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
	r.prefix.ip.family = 0;
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
	tp_resource(&r, "ok", "2001:db8::/64", 0, NULL);
	r.prefix.len = 129;
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
	tp_resource(&r, "ok", "10.0.0.0/8", 0, NULL);
	r.n_filters = FG_CTL_MAX_FILTERS + 1;
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
	r.n_filters = 0;
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c6, &c6, NULL, NULL));
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c4, NULL, NULL));
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, &c6, NULL));
	CU_ASSERT_PTR_NULL(fg_policy_build(NULL, 1, &c4, &c6, NULL, NULL));
	/* Internet resources ignore their prefix. */
	tp_resource(&r, "inet", "internet", 0, NULL);
	r.prefix.ip.family = 99;
	p = fg_policy_build(&r, 1, &c4, &c6, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(p);
	fg_policy_free(p);

	/* No resources at all: a valid policy that only lets the gateway's IP through. */
	p = fg_policy_build(NULL, 0, &c4, &c6, &c4, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(fg_policy_count(p), 0);
	CU_ASSERT_EQUAL(fg_policy_next_expiry(p), 0);
	{
		uint8_t b[TP_MAX];
		uint32_t n = tp_build(b, &(struct tp_spec){ .src = C4, .dst = "8.8.8.8", .proto = UDP });

		CU_ASSERT_EQUAL(fg_policy_outbound(p, b, n, 0, NULL, NULL), FG_POLICY_PROHIBITED);
		n = tp_build(b, &(struct tp_spec){ .src = C6, .dst = "2001::1", .proto = UDP });
		CU_ASSERT_EQUAL(fg_policy_outbound(p, b, n, 0, NULL, NULL), FG_POLICY_PROHIBITED);
	}
	fg_policy_free(p);
	fg_policy_free(NULL);
	CU_ASSERT_EQUAL(fg_policy_count(NULL), 0);
}

/* Any number of filters (the portal has no limit): 500 single UDP ports, every other
 * port, then ICMP as the 500th; each checked against the naive reference. */
static void test_many_filters(void)
{
	struct fg_policy_resource r;
	struct fg_ip c4 = tp_ip(C4), c6 = tp_ip(C6);
	struct naive_policy nv = { 0 };
	struct fg_policy *p;
	uint8_t b[TP_MAX];
	unsigned bad = 0;

	tp_resource(&r, "many", "10.0.0.0/8", 0, NULL);
	r.filters = tp_filters(500);
	for (unsigned i = 0; i < 499; i++)
		r.filters[i] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_UDP, .port_lo = (uint16_t)(1000 + 2 * i),
						       .port_hi = (uint16_t)(1000 + 2 * i) };
	r.filters[499] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_ICMP };
	r.n_filters = 500;
	p = fg_policy_build(&r, 1, &c4, &c6, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	nv.res = &r;
	nv.n = 1;
	nv.client4 = c4;
	nv.client6 = c6;
	for (unsigned port = 990; port < 2010; port++) {
		struct tp_spec s = { .src = C4, .dst = "10.1.2.3", .proto = 17, .dport = (uint16_t)port };
		uint32_t len = tp_build(b, &s);
		enum fg_policy_verdict v = fg_policy_outbound(p, b, len, 0, NULL, NULL);
		bool want = port >= 1000 && port <= 1996 && port % 2 == 0;
		enum fg_drop nwhy;
		const char *nrid;

		if ((v == FG_POLICY_ALLOW) != want || v != naive_outbound(&nv, b, len, 0, &nwhy, &nrid))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	{
		struct tp_spec s = { .src = C4, .dst = "10.1.2.3", .proto = TP_ICMP, .icmp_type = 8 };
		uint32_t len = tp_build(b, &s);

		CU_ASSERT_EQUAL(fg_policy_outbound(p, b, len, 0, NULL, NULL), FG_POLICY_ALLOW);
	}
	{
		struct tp_spec s = { .src = C4, .dst = "10.1.2.3", .proto = 6, .dport = 1000 };
		uint32_t len = tp_build(b, &s);

		CU_ASSERT_EQUAL(fg_policy_outbound(p, b, len, 0, NULL, NULL), FG_POLICY_PROHIBITED);
	}
	fg_policy_free(p);
	/* The most one control message carries; a pointer must come with filters. */
	r.filters = tp_filters(FG_CTL_MAX_FILTERS);
	for (unsigned i = 0; i < FG_CTL_MAX_FILTERS; i++)
		r.filters[i] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_TCP, .port_lo = (uint16_t)(3 * i),
						       .port_hi = (uint16_t)(3 * i) };
	r.n_filters = FG_CTL_MAX_FILTERS;
	p = fg_policy_build(&r, 1, &c4, &c6, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(p);
	fg_policy_free(p);
	r.filters = NULL;
	CU_ASSERT_PTR_NULL(fg_policy_build(&r, 1, &c4, &c6, NULL, NULL));
}

static void test_next_expiry(void)
{
	struct fg_policy_resource r[4];
	struct fg_policy *p;

	tp_resource(&r[0], "a", "10.0.0.0/8", 0, NULL);
	tp_resource(&r[1], "b", "10.0.0.0/9", 500, NULL);
	tp_resource(&r[2], "c", "internet", 300, NULL);
	tp_resource(&r[3], "d", "::/0", 0, NULL);
	p = fg_policy_build(r, 4, NULL, NULL, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(fg_policy_next_expiry(p), 300);
	CU_ASSERT_EQUAL(fg_policy_count(p), 4);
	fg_policy_free(p);
	p = fg_policy_build(r, 1, NULL, NULL, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(fg_policy_next_expiry(p), 0);
	fg_policy_free(p);
	p = fg_policy_build(r + 1, 1, NULL, NULL, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(fg_policy_next_expiry(p), 500);
	fg_policy_free(p);
}

static int setup(void)
{
	for (int i = 0; i < S_COUNT; i++)
		if (build_scen((enum scenario)i) != 0)
			return -1;
	return 0;
}

static int teardown(void)
{
	for (int i = 0; i < S_COUNT; i++)
		fg_policy_free(scens[i].p);
	return 0;
}

static const struct fg_cunit_test table_tests[] = {
	{ "functional table", test_table },
	{ "p2p control", test_control },
	{ "build errors", test_build_errors },
	{ "next expiry", test_next_expiry },
	{ "more than 32 filters", test_many_filters },
};

const struct fg_cunit_suite policy_table_suite = {
	"policy_table", setup, teardown,
	table_tests, sizeof(table_tests) / sizeof(table_tests[0]),
};

int main(void)
{
	const struct fg_cunit_suite suites[] = {
		policy_table_suite,
		policy_nat_suite,
		policy_diff_suite,
		policy_hostile_suite,
		icmpgen_suite,
	};

	return fg_cunit_run_suites(suites, sizeof(suites) / sizeof(suites[0]));
}
