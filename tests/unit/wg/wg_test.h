/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the WireGuard core's CUnit suites: hex decoding of test vectors and
 * WG_TEST(fn), a struct fg_cunit_test named after its function, for fg_cunit_run().
 * Header-only (static functions); each test executable is single-threaded.
 */
#ifndef FG_WG_TEST_H
#define FG_WG_TEST_H

#include <CUnit/Basic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cunit_run.h"

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly len bytes from hex; aborts the test program on a malformed vector. */
static inline void unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * len) {
		fprintf(stderr, "bad test vector length: %s\n", hex);
		abort();
	}
	for (i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "bad test vector: %s\n", hex);
			abort();
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
}

#define WG_TEST(fn) { #fn, fn }

#endif
