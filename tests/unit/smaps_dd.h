/* SPDX-License-Identifier: MIT */
/*
 * For tests of what is kept out of core dumps: whether a byte range of this process lies
 * wholly in mappings that /proc/self/smaps flags "dd" (VM_DONTDUMP: madvise MADV_DONTDUMP,
 * or libsodium's sodium_malloc). Reads the kernel's view, not ours: an independent check
 * of common/secmem.c. Header-only; any thread of a test executable.
 */
#ifndef FG_TEST_SMAPS_DD_H
#define FG_TEST_SMAPS_DD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* True when every byte of [p, p + n) is mapped and its mapping has the VmFlag dd. */
static inline bool fg_test_smaps_dontdump(const void *p, size_t n)
{
	uintptr_t lo = (uintptr_t)p, hi = lo + n, covered = 0;
	unsigned long start = 0, end = 0;
	bool in_range = false, ok = true;
	char line[512], perms[8];
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f || !n)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			in_range = start < hi && end > lo;
			if (in_range)
				covered += (end < hi ? end : hi) - (start > lo ? start : lo);
			continue;
		}
		if (in_range && strncmp(line, "VmFlags:", 8) == 0 && !strstr(line, " dd"))
			ok = false;
	}
	fclose(f);
	return ok && covered == n;
}

#endif
