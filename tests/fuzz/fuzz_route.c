// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the allowed-IPs route table (dataplane/worker/route.c and its tries)
 * against a deliberately naive reference, an array scanned for the longest matching prefix.
 * Each input is a list of operations on one table of 24 rules per family: add (any length,
 * /0 included, values small or near FG_ROUTE_VALUE_MAX), del, del_value and lookups, on
 * addresses made of a base (the tunnel ranges, all zeros, all ones) with input bytes XORed
 * into its tail. After every operation the return code, the count and lookups at and around
 * the address must agree with the reference; -ENOSPC is accepted only at the rule limit or,
 * for IPv6, when the group limit (2 per rule + 64) is reached, and must change nothing. At
 * the end every held prefix is looked up, every value enumerated, and the table drained.
 *
 *   scripts/fuzz.sh route 60     (clang, ASan + UBSan, 60 s)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_eal.h>

#include "addr.h"
#include "fuzz_check.h"
#include "route.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	RULES = 24,     /* per family */
	VALUES = 16,    /* small values: del_value hits several prefixes */
	MAX_OPS = 512,
};

struct ref {
	struct fg_prefix p[2 * RULES + 2];
	uint32_t value[2 * RULES + 2];
	int n;
};

static struct fg_route_table *g_table;
static struct ref g_ref;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = {
		(*argv)[0], "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
		"--iova-mode=va", "-l", "0", "-m", "64", "--log-level=lib.*:warning", NULL,
	};

	(void)argc;
	if (rte_eal_init((int)N(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_route: rte_eal_init failed\n");
		exit(1);
	}
	g_table = fg_route_create("fuzz", RULES, RULES, NULL);
	if (g_table == NULL) {
		fprintf(stderr, "fuzz_route: cannot create the table\n");
		exit(1);
	}
	return 0;
}

static bool covers(const struct fg_prefix *p, const struct fg_ip *ip)
{
	if (p->ip.family != ip->family)
		return false;
	for (unsigned bit = 0; bit < p->len; bit++) {
		unsigned m = 0x80u >> (bit % 8);

		if ((p->ip.addr[bit / 8] & m) != (ip->addr[bit / 8] & m))
			return false;
	}
	return true;
}

static long ref_lookup(const struct fg_ip *ip)
{
	long best = -1;
	int best_len = -1;

	for (int i = 0; i < g_ref.n; i++)
		if (g_ref.p[i].len > best_len && covers(&g_ref.p[i], ip)) {
			best_len = g_ref.p[i].len;
			best = g_ref.value[i];
		}
	return best;
}

static int ref_find(const struct fg_prefix *p)
{
	for (int i = 0; i < g_ref.n; i++)
		if (g_ref.p[i].ip.family == p->ip.family && g_ref.p[i].len == p->len &&
		    memcmp(g_ref.p[i].ip.addr, p->ip.addr, 16) == 0)
			return i;
	return -1;
}

static void ref_remove(int i)
{
	g_ref.p[i] = g_ref.p[--g_ref.n];
	g_ref.value[i] = g_ref.value[g_ref.n];
}

static long lookup(const struct fg_ip *ip)
{
	uint32_t v = 0;
	int rc;

	if (ip->family == AF_INET) {
		uint32_t be;

		memcpy(&be, ip->addr, 4);
		rc = fg_route_lookup4(g_table, be, &v);
	} else {
		rc = fg_route_lookup6(g_table, ip->addr, &v);
	}
	CHECK(rc == 0 || rc == -ENOENT);
	return rc == 0 ? (long)v : -1;
}

static void check_around(const struct fg_ip *ip, uint8_t salt)
{
	unsigned width = ip->family == AF_INET ? 32 : 128;

	CHECK(lookup(ip) == ref_lookup(ip));
	for (unsigned k = 0; k < 4; k++) {
		struct fg_ip n = *ip;
		unsigned bit = (salt + 37u * k) % width;

		n.addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
		CHECK(lookup(&n) == ref_lookup(&n));
	}
}

/* Reads an address: family from op, a base, input bytes XORed into its tail. */
static size_t read_addr(const uint8_t *d, size_t n, uint8_t op, struct fg_ip *ip)
{
	static const uint8_t tun6[16] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };
	static const uint8_t tun4[4] = { 100, 64, 0, 0 };
	unsigned nbytes = (op & 4) ? 16 : 4;
	unsigned take = 1 + (op >> 4) % nbytes;
	size_t used = 0;

	memset(ip, 0, sizeof(*ip));
	ip->family = (op & 4) ? AF_INET6 : AF_INET;
	if (n == 0)
		return 0;
	switch (d[used++] & 3) {
	case 0:
		memcpy(ip->addr, (op & 4) ? tun6 : tun4, nbytes);
		break;
	case 1:
		memset(ip->addr, 0xff, nbytes);
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < take && used < n; i++)
		ip->addr[nbytes - take + i] ^= d[used++];
	return used;
}

static bool groups_cap_hit(const struct fg_prefix *p)
{
	/* Only IPv6 can run out of groups before its rule limit. */
	return p->ip.family == AF_INET6;
}

static int rules_of(int family)
{
	int n = 0;

	for (int i = 0; i < g_ref.n; i++)
		n += g_ref.p[i].ip.family == family && g_ref.p[i].len > 0;
	return n;
}

static int count_cb(void *ctx, const struct fg_prefix *p)
{
	int i = ref_find(p);

	CHECK(i >= 0);
	CHECK(g_ref.value[i] == *(uint32_t *)ctx);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0;
	int ops = 0;

	while (at + 2 < size && ops++ < MAX_OPS) {
		uint8_t op = data[at++];
		struct fg_prefix p;
		struct fg_ip ip;
		uint32_t value;
		int i, rc;

		at += read_addr(data + at, size - at, op, &ip);
		memset(&p, 0, sizeof(p));
		p.ip = ip;
		p.len = (uint8_t)((at < size ? data[at++] : 0) % (ip.family == AF_INET ? 33 : 129));
		switch (op & 3) {
		case 0:
			value = at < size ? data[at++] : 0;
			value = (value & 0x80) ? FG_ROUTE_VALUE_MAX - (value & 0x7f) : value % VALUES;
			rc = fg_route_add(g_table, &p, value);
			for (unsigned bit = p.len; bit < 128; bit++)
				p.ip.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
			i = ref_find(&p);
			if (i >= 0) {
				CHECK(rc == 0);
				g_ref.value[i] = value;
			} else if (rc == -ENOSPC) {
				CHECK(p.len > 0 && (rules_of(p.ip.family) >= RULES || groups_cap_hit(&p)));
			} else {
				CHECK(rc == 0);
				CHECK(p.len == 0 || rules_of(p.ip.family) < RULES);
				g_ref.p[g_ref.n] = p;
				g_ref.value[g_ref.n++] = value;
			}
			break;
		case 1:
			rc = fg_route_del(g_table, &p);
			for (unsigned bit = p.len; bit < 128; bit++)
				p.ip.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
			i = ref_find(&p);
			CHECK(rc == (i >= 0 ? 0 : -ENOENT));
			if (i >= 0)
				ref_remove(i);
			break;
		case 2: {
			int want = 0;

			value = p.len % VALUES;
			for (i = g_ref.n; i-- > 0;)
				if (g_ref.value[i] == value) {
					ref_remove(i);
					want++;
				}
			CHECK(fg_route_del_value(g_table, value) == want);
			break;
		}
		default:
			break;
		}
		CHECK(fg_route_count(g_table) == (uint32_t)g_ref.n);
		check_around(&ip, p.len);
	}
	for (int i = 0; i < g_ref.n; i++)
		check_around(&g_ref.p[i].ip, (uint8_t)i);
	for (uint32_t v = 0; v < VALUES; v++) {
		int want = 0;

		for (int i = 0; i < g_ref.n; i++)
			want += g_ref.value[i] == v;
		CHECK(fg_route_foreach_value(g_table, v, count_cb, &v) == want);
	}
	while (g_ref.n > 0) {
		CHECK(fg_route_del(g_table, &g_ref.p[g_ref.n - 1]) == 0);
		g_ref.n--;
	}
	CHECK(fg_route_count(g_table) == 0);
	return 0;
}
