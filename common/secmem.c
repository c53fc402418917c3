// SPDX-License-Identifier: MIT
/*
 * Core dumps and secrets (see secmem.h): the dumpable flag from FASTGATE_CORE_DUMPS, page
 * ranges left out of dumps, a constant-time string comparison and a wiping free(). The
 * dumpable flag lives in the kernel, so nothing here keeps state; the init runs once at
 * start-up on the main thread, the rest from any thread.
 */
#include "secmem.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"

enum {
	FALLBACK_PAGE = 4096,
	ENV_QUOTE_MAX = 32,   /* bytes of a refused FASTGATE_CORE_DUMPS value quoted in the warning */
};

/* Huge page sizes tried, in order, when a mapping refuses to split at a base page. */
static const size_t huge_pages[] = { (size_t)2 << 20, (size_t)1 << 30 };

bool fg_secmem_env_allows(const char *value)
{
	return value && strcmp(value, "1") == 0;
}

int fg_secmem_apply(void)
{
	bool allow = fg_secmem_env_allows(getenv(FG_SECMEM_ENV));

	if (prctl(PR_SET_DUMPABLE, allow ? 1 : 0, 0, 0, 0) < 0)
		return -errno;
	return allow ? 1 : 0;
}

int fg_secmem_init(const char *tag)
{
	const char *v = getenv(FG_SECMEM_ENV);
	int rc = fg_secmem_apply();

	if (rc < 0)
		return rc;
	if (v && *v && strcmp(v, "0") != 0 && !fg_secmem_env_allows(v))
		fg_warn(tag, "%s=\"%.*s\" is not 1: core dumps stay disabled", FG_SECMEM_ENV, ENV_QUOTE_MAX, v);
	if (rc)
		fg_info(tag, "core dumps allowed by %s=1; key stores excluded (MADV_DONTDUMP)", FG_SECMEM_ENV);
	else
		fg_info(tag, "core dumps disabled (secrets)");
	return rc;
}

bool fg_secmem_core_dumps(void)
{
	return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
}

/* MADV_DONTDUMP on [p, p + n) rounded outward to multiples of align (a power of two). */
static int dontdump_aligned(uintptr_t p, size_t n, size_t align)
{
	uintptr_t mask = (uintptr_t)align - 1, start = p & ~mask, end;

	if (p + n < p || p + n + mask < p + n)
		return -EINVAL;
	end = (p + n + mask) & ~mask;
	return madvise((void *)start, end - start, MADV_DONTDUMP) == 0 ? 0 : -errno;
}

int fg_secmem_dontdump(const void *p, size_t n)
{
	long ps = sysconf(_SC_PAGESIZE);
	int rc;

	if (!p || !n)
		return 0;
	rc = dontdump_aligned((uintptr_t)p, n, ps > 0 ? (size_t)ps : FALLBACK_PAGE);
	/* hugetlbfs mappings split only at their own page size (the kernel answers EINVAL). */
	for (size_t i = 0; rc == -EINVAL && i < sizeof(huge_pages) / sizeof(huge_pages[0]); i++)
		rc = dontdump_aligned((uintptr_t)p, n, huge_pages[i]);
	return rc;
}

bool fg_secmem_str_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n != strlen(b))
		return false;
	return n == 0 || sodium_memcmp(a, b, n) == 0;
}

void fg_secmem_free_wiped(void *p)
{
	if (!p)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}
