/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the WireGuard core's CUnit suites: hex decoding of test vectors and
 * a runner that registers one suite and exits non-zero when any assertion failed.
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

struct wg_test_case {
	const char *name;
	void (*fn)(void);
};

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

/* Registers the cases as one suite, runs it verbosely, returns the process exit code. */
static inline int wg_test_run(const char *suite_name, const struct wg_test_case *cases,
			      size_t n)
{
	CU_pSuite suite;
	unsigned int failures;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite(suite_name, NULL, NULL);
	if (!suite)
		goto err;
	for (i = 0; i < n; i++)
		if (!CU_add_test(suite, cases[i].name, cases[i].fn))
			goto err;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
err:
	CU_cleanup_registry();
	return 1;
}

#define WG_TEST(fn) { #fn, fn }

#endif
