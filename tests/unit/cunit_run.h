/* SPDX-License-Identifier: MIT */
/*
 * The common main() of a one-suite CUnit test: register a table of tests, run them verbosely,
 * exit 0 when all passed, 1 otherwise. Header-only, for the test executables.
 */
#ifndef FG_CUNIT_RUN_H
#define FG_CUNIT_RUN_H

#include <stddef.h>

#include <CUnit/Basic.h>

struct fg_cunit_test {
	const char *name;
	CU_TestFunc fn;
};

static inline int fg_cunit_run(const char *suite_name, const struct fg_cunit_test *tests, size_t n)
{
	CU_pSuite suite;
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite(suite_name, NULL, NULL);
	for (size_t i = 0; suite && i < n; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			suite = NULL;
	if (!suite) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}

#endif
