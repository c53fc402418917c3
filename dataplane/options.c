// SPDX-License-Identifier: MIT
/*
 * Numeric option parsing for fastgate-dataplane (see options.h). No state.
 */
#include "options.h"

#include <errno.h>
#include <stdlib.h>

int fg_options_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would skip spaces and accept a sign ("-1" is ULLONG_MAX). */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}
