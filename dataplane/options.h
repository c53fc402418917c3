/* SPDX-License-Identifier: MIT */
/*
 * Checked parsing of fastgate-dataplane's numeric command-line options, so that a typo
 * stops the start with the option's name instead of becoming 0 or a huge value (strtoul
 * alone takes "-1", " 7", "20ms" and "99999999999"). Pure functions, main lcore at start-up.
 */
#ifndef FG_OPTIONS_H
#define FG_OPTIONS_H

#include <stdint.h>

enum {
	/* --idle-sleep-us: a worker that sleeps longer than a second is not polling. */
	FG_OPTIONS_IDLE_SLEEP_US_MAX = 1000000,
	/* --stats-interval: seconds; a dump a day is the least that is still periodic. */
	FG_OPTIONS_STATS_INTERVAL_MAX = 86400,
};

/*
 * A decimal number 0..max: digits only (no sign, space or suffix). Returns 0, -EINVAL
 * (empty, not a number, trailing characters) or -ERANGE (over max).
 */
int fg_options_parse_u32(const char *s, uint32_t max, uint32_t *out);

#endif
