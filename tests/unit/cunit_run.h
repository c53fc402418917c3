/* SPDX-License-Identifier: MIT */
/*
 * The common main() of the CUnit test executables: register tables of tests, run them
 * verbosely, exit 0 when all passed, 1 otherwise (a failed assertion, or a suite whose init
 * or cleanup failed). fg_cunit_run() is the usual one-suite case; fg_cunit_run_suites() is
 * for an executable that groups several suites, each with optional init/cleanup run once
 * around its tests. Set-up the whole program needs (EAL, libsodium, a temp dir) stays in the
 * caller's main(), before the call. Header-only, for the test executables' main thread.
 */
#ifndef FG_CUNIT_RUN_H
#define FG_CUNIT_RUN_H

#include <stddef.h>

#include <CUnit/Basic.h>

struct fg_cunit_test {
	const char *name;
	CU_TestFunc fn;
};

struct fg_cunit_suite {
	const char *name;
	CU_InitializeFunc init;		/* NULL, or 0 on success; run before the first test */
	CU_CleanupFunc cleanup;		/* NULL, or 0 on success; run after the last test */
	const struct fg_cunit_test *tests;
	size_t n;
};

static inline int fg_cunit_run_suites(const struct fg_cunit_suite *suites, size_t n)
{
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (size_t s = 0; s < n; s++) {
		CU_pSuite suite = CU_add_suite(suites[s].name, suites[s].init, suites[s].cleanup);

		for (size_t i = 0; suite && i < suites[s].n; i++)
			if (!CU_add_test(suite, suites[s].tests[i].name, suites[s].tests[i].fn))
				suite = NULL;
		if (!suite) {
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}

static inline int fg_cunit_run(const char *suite_name, const struct fg_cunit_test *tests, size_t n)
{
	const struct fg_cunit_suite suite = { suite_name, NULL, NULL, tests, n };

	return fg_cunit_run_suites(&suite, 1);
}

#endif
