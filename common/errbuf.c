// SPDX-License-Identifier: MIT
/*
 * Error messages into caller buffers (see errbuf.h). No state; any thread.
 */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 3, 0)))
static void vset(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (buf && len)
		vsnprintf(buf, len, fmt, ap);
}

void fg_errbuf_set(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(buf, len, fmt, ap);
	va_end(ap);
}

int fg_errbuf_fail(int rc, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(buf, len, fmt, ap);
	va_end(ap);
	return rc;
}
