// SPDX-License-Identifier: MIT
/*
 * Tests for the data plane's numeric option parsing (dataplane/options.c): what strtoul
 * alone would take and the old --idle-sleep-us code did take (signs, spaces, suffixes,
 * overflow, huge values that overflowed tv_nsec), against a table of expected results.
 * Single-threaded.
 */
#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include <errno.h>
#include <stdint.h>

#include "options.h"

static void test_accepts(void)
{
	static const struct { const char *s; uint32_t v; } ok[] = {
		{ "0", 0 }, { "20", 20 }, { "007", 7 }, { "999999", 999999 }, { "1000000", 1000000 },
	};

	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t v = 12345;

		CU_ASSERT_EQUAL(fg_options_parse_u32(ok[i].s, FG_OPTIONS_IDLE_SLEEP_US_MAX, &v), 0);
		CU_ASSERT_EQUAL(v, ok[i].v);
	}
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"", " 7", "+7", "-1", "-0", "20ms", "20 ", "0x10", "1e3", "abc", "1.5", "\t1",
	};
	static const char *const big[] = {
		"1000001", "4294967295", "4294967296", "18446744073709551615", "99999999999999999999999",
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 12345;

		CU_ASSERT_EQUAL(fg_options_parse_u32(bad[i], FG_OPTIONS_IDLE_SLEEP_US_MAX, &v), -EINVAL);
		CU_ASSERT_EQUAL(v, 12345);
	}
	for (unsigned i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		uint32_t v = 12345;

		CU_ASSERT_EQUAL(fg_options_parse_u32(big[i], FG_OPTIONS_IDLE_SLEEP_US_MAX, &v), -ERANGE);
		CU_ASSERT_EQUAL(v, 12345);
	}
	CU_ASSERT_EQUAL(fg_options_parse_u32(NULL, 10, &(uint32_t){ 0 }), -EINVAL);
	/* The bound is the caller's: UINT32_MAX itself passes when allowed. */
	uint32_t v = 0;
	CU_ASSERT_EQUAL(fg_options_parse_u32("4294967295", UINT32_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, UINT32_MAX);
	CU_ASSERT_EQUAL(fg_options_parse_u32("4294967296", UINT32_MAX, &v), -ERANGE);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "accepts 0..max", test_accepts },
		{ "rejects junk and overflow", test_rejects },
	};

	return fg_cunit_run("dataplane_options", tests, sizeof(tests) / sizeof(tests[0]));
}
