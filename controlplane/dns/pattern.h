/* SPDX-License-Identifier: MIT */
/*
 * DNS resource address patterns, with the Firezone gateway's semantics
 * (tunnel-proto/src/dns/pattern.rs: a glob over labels, '.' the separator): a label of a
 * pattern may hold `*` (any characters within one label), `?` (one character) and `[...]`
 * classes (`[abc]`, `[a-z]`, `[!abc]`); a whole label `**` matches any number of labels, none
 * included; `*.rest` also matches `rest` itself (the parent). Matching is ASCII
 * case-insensitive; a trailing dot of the domain is ignored. Patterns are ranked by
 * specificity the way the Rust gateway orders them (fg_dns_pattern_cmp): compared from the
 * right, a non-wildcard beats `?`, `?` beats `*`, a shorter pattern comes first. Pure
 * functions, no state, any thread.
 */
#ifndef FG_DNS_PATTERN_H
#define FG_DNS_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

enum {
	FG_DNS_NAME_MAX = 253,        /* a domain name, without the trailing dot */
	FG_DNS_LABEL_MAX = 63,
	FG_DNS_PATTERN_MAX = 255,     /* the portal's pattern field (FG_PORTAL_PATTERN_LEN - 1) */
	FG_DNS_LABELS_MAX = 128,
};

/*
 * Whether pattern is well formed: 1..FG_DNS_PATTERN_MAX printable ASCII characters without
 * spaces, no empty label, `**` only as a whole label, `[` classes closed and not empty.
 * 0, or -EINVAL with the reason in err (NULL: none). A pattern that is refused matches
 * nothing.
 */
int fg_dns_pattern_check(const char *pattern, char *err, size_t errlen);

/* Whether domain (a name, with or without the trailing dot) matches pattern. False for a
 * malformed pattern or name (empty label, over FG_DNS_NAME_MAX, non-printable bytes). */
bool fg_dns_pattern_match(const char *pattern, const char *domain);

/* Ranking of overlapping resources: < 0 when a is more specific than b (it wins), 0 when
 * equal, > 0 otherwise. A total order on the strings. */
int fg_dns_pattern_cmp(const char *a, const char *b);

#endif
