/* SPDX-License-Identifier: MIT */
/*
 * The layout of a compiled policy, shared by its two halves: policy.c (the lookups the
 * workers run) and policy_build.c (the compiler the service lcore runs). Private to
 * dataplane/worker/: nothing else may read a policy's insides.
 */
#ifndef FG_POLICY_PRIV_H
#define FG_POLICY_PRIV_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctlproto.h"
#include "policy_nat.h"

enum fam_index { FAM4 = 0, FAM6 = 1, FAMS = 2 };

enum ent_flag {
	ENT_ALL = 1 << 0,       /* empty filter list */
	ENT_ICMP = 1 << 1,
	ENT_INTERNET = 1 << 2,  /* skipped for the Internet resource's excluded ranges */
};

#define NONE UINT32_MAX /* no group (a macro: UINT32_MAX is not an int) */

/* An address as a 128-bit number; IPv4 lives in the low 32 bits of lo. */
struct key {
	uint64_t hi, lo;
};

struct rng {
	uint16_t lo, hi;
};

/* One resource inside one group. */
struct ent {
	uint64_t expires_at;    /* 0 = never */
	uint32_t res;           /* index of its id */
	uint32_t rng;           /* first TCP range; its UDP ranges follow */
	uint16_t n_tcp, n_udp;  /* merged: at most 32768 each */
	uint8_t flags;          /* enum ent_flag */
};

struct grp {
	uint32_t first, n;      /* entries, highest id first */
	uint32_t parent;        /* the next shorter covering group, or NONE */
};

struct fam {
	uint32_t n_iv;
	const struct key *iv_start;   /* ascending; iv_start[0] is 0 */
	const uint32_t *iv_grp;       /* deepest covering group, or NONE */
	const struct grp *grps;
};

struct fg_policy {
	size_t n_res;
	uint64_t next_expiry;
	uint64_t inet_until;          /* an Internet resource is in force while now < this */
	uint8_t client[FAMS][16], gw[FAMS][16];
	bool has_client[FAMS], has_gw[FAMS];
	struct fam fam[FAMS];
	const struct ent *ents;
	const struct rng *rngs;
	const char (*ids)[FG_CTL_ID_LEN];
	/* DNS resources: the proxy IPs, sorted by family then address (nat_fam[FAM4] first,
	 * then the IPv6 ones); n_nat in all. */
	uint32_t n_nat, n_nat4;
	const struct fg_policy_nat *nat;
};

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline struct key key_of(unsigned fi, const uint8_t *a)
{
	if (fi == FAM4)
		return (struct key){ 0, rd32(a) };
	return (struct key){ rd64(a), rd64(a + 8) };
}

static inline bool key_le(struct key a, struct key b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo);
}

static inline bool key_eq(struct key a, struct key b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

/* The host bits of a prefix of len in a family. */
static inline struct key host_mask(unsigned fi, unsigned len)
{
	if (fi == FAM4)
		return (struct key){ 0, len >= 32 ? 0 : 0xffffffffu >> len };
	if (len >= 64)
		return (struct key){ 0, len >= 128 ? 0 : ~0ull >> (len - 64) };
	return (struct key){ ~0ull >> len, ~0ull };
}

#endif
