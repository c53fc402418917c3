// SPDX-License-Identifier: MIT
/*
 * CUnit suite for common/secmem.c. The dumpable flag is set in forked children, so this
 * process keeps its own: by default (FASTGATE_CORE_DUMPS unset, "", "0" or any value but
 * "1") fg_secmem_init() turns it off even when it was on, with "1" it turns it on even when
 * it was off, and the log says which (plus a warning for a value it did not take). Ranges
 * given to fg_secmem_dontdump() are checked in the kernel's own view, /proc/self/smaps
 * (VmFlags dd, tests/unit/smaps_dd.h), page by page: the pages holding the range, and not
 * their neighbours. Also the constant-time string comparison.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cunit_run.h"
#include "../smaps_dd.h"
#include "log.h"
#include "secmem.h"

static void test_env_rule(void)
{
	static const struct {
		const char *v;
		bool allows;
	} cases[] = {
		{ NULL, false }, { "", false }, { "0", false }, { "1", true }, { "yes please", false },
		{ "yes", false }, { "true", false }, { " 1", false }, { "1 ", false }, { "01", false },
		{ "1\n", false }, { "2", false }, { "11", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(fg_secmem_env_allows(cases[i].v), cases[i].allows);
}

/* In the child: FASTGATE_CORE_DUMPS = value (NULL: unset), the flag first set to the
 * opposite of what init must leave, init with its log in a pipe. 0 when everything was as
 * expected, else the number of the check that failed. */
static int child_init(const char *value, bool want, bool want_warning)
{
	char log[4096];
	int p[2], rc;
	ssize_t n;

	if (value ? setenv(FG_SECMEM_ENV, value, 1) : unsetenv(FG_SECMEM_ENV))
		return 1;
	if (prctl(PR_SET_DUMPABLE, want ? 0 : 1, 0, 0, 0) < 0 || fg_secmem_core_dumps() == want)
		return 2;
	if (pipe2(p, O_NONBLOCK) < 0)
		return 3;
	fg_log_set_fd(p[1]);
	fg_log_set_level(FG_LOG_INFO);
	rc = fg_secmem_init("fastgate.test");
	fg_log_set_fd(STDERR_FILENO);
	if (rc != (want ? 1 : 0))
		return 4;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != (want ? 1 : 0))
		return 5;
	if (fg_secmem_core_dumps() != want)
		return 6;
	n = read(p[0], log, sizeof(log) - 1);
	if (n <= 0)
		return 7;
	log[n] = '\0';
	if (!strstr(log, want ? "core dumps allowed by FASTGATE_CORE_DUMPS=1; key stores excluded (MADV_DONTDUMP)"
			      : "core dumps disabled (secrets)"))
		return 8;
	if (!!strstr(log, "is not 1: core dumps stay disabled") != want_warning)
		return 9;
	/* apply alone says nothing and gives the same answer */
	if (prctl(PR_SET_DUMPABLE, want ? 0 : 1, 0, 0, 0) < 0 || fg_secmem_apply() != (want ? 1 : 0) ||
	    fg_secmem_core_dumps() != want)
		return 10;
	return 0;
}

static int run_child(const char *value, bool want, bool want_warning)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_init(value, want, want_warning));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_init_default_off(void)
{
	CU_ASSERT_EQUAL(run_child(NULL, false, false), 0);
	CU_ASSERT_EQUAL(run_child("0", false, false), 0);
	CU_ASSERT_EQUAL(run_child("", false, false), 0);
}

static void test_init_allowed(void)
{
	CU_ASSERT_EQUAL(run_child("1", true, false), 0);
}

static void test_init_hostile_values(void)
{
	CU_ASSERT_EQUAL(run_child("yes please", false, true), 0);
	CU_ASSERT_EQUAL(run_child("true", false, true), 0);
	CU_ASSERT_EQUAL(run_child("1 ", false, true), 0);
	CU_ASSERT_EQUAL(run_child("\x1b[31m1", false, true), 0);
}

static void test_dontdump_pages(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CU_ASSERT_FATAL(m != MAP_FAILED);
	memset(m, 0x5a, 4 * pg);
	CU_ASSERT_FALSE(fg_test_smaps_dontdump(m, 4 * pg));
	/* 50 bytes inside page 1: page 1 goes, pages 0 and 2 stay. */
	CU_ASSERT_EQUAL(fg_secmem_dontdump(m + pg + 100, 50), 0);
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(m + pg, pg));
	CU_ASSERT_FALSE(fg_test_smaps_dontdump(m, pg));
	CU_ASSERT_FALSE(fg_test_smaps_dontdump(m + 2 * pg, pg));
	/* Straddling the end of page 2 and the start of page 3: both go. */
	CU_ASSERT_EQUAL(fg_secmem_dontdump(m + 3 * pg - 8, 16), 0);
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(m + pg, 3 * pg));
	CU_ASSERT_FALSE(fg_test_smaps_dontdump(m, pg));
	/* The contents are untouched. */
	for (size_t i = 0; i < 4 * pg; i++)
		if (m[i] != 0x5a) {
			CU_FAIL("contents changed");
			break;
		}
	munmap(m, 4 * pg);
}

static void test_dontdump_heap_and_edges(void)
{
	size_t n = 300000;
	uint8_t *h = malloc(n);

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(fg_secmem_dontdump(h, n), 0);
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(h, n));
	free(h);
	CU_ASSERT_EQUAL(fg_secmem_dontdump(NULL, 10), 0);
	CU_ASSERT_EQUAL(fg_secmem_dontdump(&n, 0), 0);
	/* Not mapped: said so. */
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	void *gone = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CU_ASSERT_FATAL(gone != MAP_FAILED);
	munmap(gone, pg);
	CU_ASSERT_EQUAL(fg_secmem_dontdump(gone, pg), -ENOMEM);
	/* A range wrapping around the address space is refused. */
	CU_ASSERT_EQUAL(fg_secmem_dontdump((void *)(uintptr_t)(UINTPTR_MAX - 10), 100), -EINVAL);
}

static void test_str_equal(void)
{
	CU_ASSERT_TRUE(fg_secmem_str_equal("", ""));
	CU_ASSERT_TRUE(fg_secmem_str_equal("token.abc", "token.abc"));
	CU_ASSERT_FALSE(fg_secmem_str_equal("token.abc", "token.abd"));
	CU_ASSERT_FALSE(fg_secmem_str_equal("xoken.abc", "token.abc"));
	CU_ASSERT_FALSE(fg_secmem_str_equal("token.ab", "token.abc"));
	CU_ASSERT_FALSE(fg_secmem_str_equal("token.abc", "token.ab"));
	CU_ASSERT_FALSE(fg_secmem_str_equal("", "a"));
}

static void test_free_wiped(void)
{
	enum { N = 200, LINKS = 16 };  /* glibc's tcache writes its links in the first 16 bytes */
	unsigned char *p = malloc(N), *q;
	uintptr_t was = (uintptr_t)p;

	/* meson's MALLOC_PERTURB_ would fill the freed chunk itself and hide a missing wipe */
	mallopt(M_PERTURB, 0);
	CU_ASSERT_FATAL(p != NULL);
	memset(p, 'k', N);
	fg_secmem_free_wiped(p);
	fg_secmem_free_wiped(NULL);
	/* glibc hands the same chunk back at once (ASan does not: nothing to look at then);
	 * what the free left in it is zeros, not the secret. */
	q = malloc(N);
	CU_ASSERT_FATAL(q != NULL);
	if ((uintptr_t)q == was) {
		size_t k = 0;

		for (size_t i = LINKS; i < N; i++)
			k += q[i] == 'k';
		CU_ASSERT_EQUAL(k, 0);
	}
	free(q);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "FASTGATE_CORE_DUMPS: only \"1\" allows", test_env_rule },
		{ "init: core dumps off by default", test_init_default_off },
		{ "init: FASTGATE_CORE_DUMPS=1 allows them", test_init_allowed },
		{ "init: other values are not taken, and said so", test_init_hostile_values },
		{ "dontdump: the pages of the range, not their neighbours", test_dontdump_pages },
		{ "dontdump: heap, NULL, empty, unmapped, wrapping", test_dontdump_heap_and_edges },
		{ "constant-time string equality", test_str_equal },
		{ "wiping free", test_free_wiped },
	};

	fg_log_init();
	return fg_cunit_run("secmem", tests, sizeof(tests) / sizeof(tests[0]));
}
