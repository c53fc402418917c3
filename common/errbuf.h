/* SPDX-License-Identifier: MIT */
/*
 * The one way an error message reaches a caller's (char *err, size_t errlen) buffer: the
 * parsers, the login and the control client all report through it. No state; any thread.
 */
#ifndef FG_ERRBUF_H
#define FG_ERRBUF_H

#include <stddef.h>

/*
 * Formats the message into buf, cut to len - 1 bytes and always NUL-terminated. buf NULL
 * or len 0 means the caller wants no message: nothing is written.
 */
void fg_errbuf_set(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* fg_errbuf_set, then returns rc, for `return fg_errbuf_fail(-EINVAL, err, errlen, ...)`. */
int fg_errbuf_fail(int rc, char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
