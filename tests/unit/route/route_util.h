/* SPDX-License-Identifier: MIT */
/*
 * What the route suites (test_route.c, test_route_trie.c) share: a prefix or address from a
 * literal, a lookup in either family as one call, and add/del by literal. Test thread only.
 */
#ifndef FG_TEST_ROUTE_UTIL_H
#define FG_TEST_ROUTE_UTIL_H

#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "addr.h"
#include "route.h"

enum {
	MISS = -1,   /* look() / lv() result for -ENOENT (-2: any other error) */
};

static inline struct fg_prefix pfx(const char *s)
{
	struct fg_prefix p;

	memset(&p, 0, sizeof(p));
	CU_ASSERT_FATAL(fg_prefix_parse_host(s, &p) == 0);
	return p;
}

static inline int lookup_ip(const struct fg_route_table *t, const struct fg_ip *ip, uint32_t *v)
{
	if (ip->family == AF_INET) {
		uint32_t be;

		memcpy(&be, ip->addr, 4);
		return fg_route_lookup4(t, be, v);
	}
	return fg_route_lookup6(t, ip->addr, v);
}

/* The value ip maps to, MISS, or -2 for any other return. */
static inline long look(const struct fg_route_table *t, const struct fg_ip *ip)
{
	uint32_t v = 0xdeadbeef;
	int rc = lookup_ip(t, ip, &v);

	if (rc == -ENOENT)
		return MISS;
	return rc == 0 ? (long)v : -2;
}

/* Looks up a literal address: the value, or MISS (any other return fails the test). */
static inline long lv(const struct fg_route_table *t, const char *addr)
{
	struct fg_ip ip;
	long r;

	CU_ASSERT_FATAL(fg_ip_parse(addr, &ip) == 0);
	r = look(t, &ip);
	CU_ASSERT_NOT_EQUAL(r, -2);
	return r;
}

static inline int add(struct fg_route_table *t, const char *prefix, uint32_t value)
{
	struct fg_prefix p = pfx(prefix);

	return fg_route_add(t, &p, value);
}

static inline int del(struct fg_route_table *t, const char *prefix)
{
	struct fg_prefix p = pfx(prefix);

	return fg_route_del(t, &p);
}

#endif
