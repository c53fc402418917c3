// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the SDP candidate line parser and formatter (controlplane/ice/
 * ice_cand.c) on any bytes, as a line the portal relays from a client would be. The parser
 * answers 0 or -EINVAL with a message; what it accepts keeps to its ranges (foundation 1-32
 * ice-chars, component 1-256, a unicast connection address, a port for UDP) and formats to a
 * line that parses to the same values and formats to itself again (a fixed point), unless
 * it no longer fits 255 bytes. Any broken invariant aborts. No state between inputs.
 *
 *   FG_FUZZ_BUILD_DIR=$PWD/build-fuzz-h8 scripts/fuzz.sh ice_candidate 60
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice_cand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_ice_candidate: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

static void same(const struct fg_ice_cand *a, const struct fg_ice_cand *b)
{
	CHECK(!strcmp(a->foundation, b->foundation));
	CHECK(a->component == b->component && a->transport == b->transport);
	CHECK(a->type == b->type && a->priority == b->priority);
	CHECK(fg_endpoint_equal(&a->addr, &b->addr) && fg_endpoint_equal(&a->raddr, &b->raddr));
	CHECK(fg_ice_cand_same(a, b));
}

static void in_range(const struct fg_ice_cand *c)
{
	CHECK(fg_ice_chars(c->foundation, 1, FG_ICE_FOUNDATION_MAX));
	CHECK(c->component >= 1 && c->component <= FG_ICE_COMPONENT_MAX);
	CHECK(c->transport == FG_ICE_UDP || c->transport == FG_ICE_TCP);
	CHECK(c->type >= FG_ICE_HOST && c->type <= FG_ICE_RELAY);
	CHECK(fg_ip_len(c->addr.ip.family));
	CHECK(c->addr.port || c->transport == FG_ICE_TCP);
	CHECK(c->raddr.ip.family || !c->raddr.port);
	CHECK(!c->ufrag[0] || fg_ice_chars(c->ufrag, 1, FG_ICE_CAND_UFRAG_MAX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[600], out[FG_ICE_LINE_MAX], again[FG_ICE_LINE_MAX], err[128];
	struct fg_ice_cand c, c2;
	int rc, n, n2;

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(err, 'x', sizeof(err));
	rc = fg_ice_cand_parse(line, &c, err, sizeof(err));
	CHECK(rc == 0 || rc == -EINVAL);
	CHECK(memchr(err, '\0', sizeof(err)));
	if (rc) {
		CHECK(err[0] != '\0');
		return 0;
	}
	CHECK(err[0] == '\0');
	CHECK(strlen(line) <= 2 + 10 + FG_ICE_LINE_MAX - 1);
	in_range(&c);
	n = fg_ice_cand_format(&c, out, sizeof(out));
	CHECK(n == -ENOSPC || (n > 0 && (size_t)n == strlen(out) && n < FG_ICE_LINE_MAX));
	if (n < 0)
		return 0;
	CHECK(fg_ice_cand_parse(out, &c2, err, sizeof(err)) == 0);
	same(&c, &c2);
	CHECK(!c2.ufrag[0]);
	n2 = fg_ice_cand_format(&c2, again, sizeof(again));
	CHECK(n2 == n && !strcmp(out, again));
	/* a truncating buffer is refused, never overrun */
	CHECK(fg_ice_cand_format(&c, again, (size_t)n) == -ENOSPC);
	return 0;
}
