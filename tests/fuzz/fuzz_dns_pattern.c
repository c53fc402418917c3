// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for DNS resource patterns (controlplane/dns/pattern.c): the input is
 * split at its first NUL into a pattern and a name; checking, matching and ranking must not
 * crash, and the ranking must be antisymmetric and zero only for equal strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[512], b[512];
	const uint8_t *nul = memchr(data, 0, size);
	size_t la = nul ? (size_t)(nul - data) : size, lb = nul ? size - la - 1 : 0;
	int ab, ba;

	if (la >= sizeof(a) || lb >= sizeof(b))
		return 0;
	memcpy(a, data, la);
	a[la] = '\0';
	if (nul)
		memcpy(b, nul + 1, lb);
	b[lb] = '\0';
	(void)fg_dns_pattern_check(a, NULL, 0);
	(void)fg_dns_pattern_match(a, b);
	(void)fg_dns_pattern_match(b, a);
	ab = fg_dns_pattern_cmp(a, b);
	ba = fg_dns_pattern_cmp(b, a);
	if ((ab > 0) != (ba < 0) || (ab == 0) != (strcmp(a, b) == 0))
		abort();
	return 0;
}
