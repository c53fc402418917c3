/* SPDX-License-Identifier: MIT */
/*
 * The portal reconnect schedule of reference §2.3. Until the first successful join: retry
 * every second and give up 15 s after the first failure. After a join has succeeded:
 * exponential backoff (0.5 s initial interval, x1.5 per failure, each delay drawn
 * uniformly from interval x [0.5, 1.5], interval capped at 60 s) until max_partition_time
 * has passed since the first failure of the outage, then give up. A Retry-After from the
 * portal replaces the next delay. Same rules as the `backoff` crate the Rust gateway uses
 * (a delay that would end past the deadline also gives up). Also the parser for
 * FIREZONE_MAX_PARTITION_TIME. Pure: the clock and the random source are the caller's. A
 * struct fg_backoff belongs to the control plane's single thread.
 */
#ifndef FG_BACKOFF_H
#define FG_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

enum fg_backoff_params {
	FG_BACKOFF_FIRST_INTERVAL_MS = 1000,     /* before the first join */
	FG_BACKOFF_FIRST_MAX_ELAPSED_MS = 15000,
	FG_BACKOFF_INITIAL_MS = 500,             /* after a join */
	FG_BACKOFF_MAX_INTERVAL_MS = 60000,
	FG_BACKOFF_MULTIPLIER_PCT = 150,
	FG_BACKOFF_JITTER_PCT = 50,              /* randomisation factor 0.5 */
	FG_BACKOFF_RETRY_AFTER_MAX_S = 3600,     /* a larger Retry-After is clamped */
	FG_BACKOFF_DEFAULT_PARTITION_S = 86400,  /* FIREZONE_MAX_PARTITION_TIME default: 24 h */
};

struct fg_backoff {
	uint64_t max_partition_ns;
	uint64_t (*rnd)(void *ctx);   /* uniform 64-bit values; NULL: libsodium */
	void *rnd_ctx;
	bool joined_once;             /* a join has succeeded since init */
	bool running;                 /* inside an outage: start_ns is its first failure */
	uint64_t start_ns;
	uint64_t interval_ns;         /* the next delay's centre */
};

/* max_partition_ns is used as given (0: give up at the first failure after a join). */
void fg_backoff_init(struct fg_backoff *b, uint64_t max_partition_ns,
		     uint64_t (*rnd)(void *ctx), void *rnd_ctx);
/* The join succeeded at now: the next failure starts a new outage with the reconnect
 * schedule. */
void fg_backoff_connected(struct fg_backoff *b, uint64_t now_ns);
/*
 * A connection attempt failed (or the connection broke) at now: the delay before the next
 * attempt in *delay_ns and 0, or -ETIMEDOUT when it is time to give up. retry_after_ns
 * (0 = none) is the portal's Retry-After: it becomes the delay (clamped to
 * FG_BACKOFF_RETRY_AFTER_MAX_S) without advancing the schedule, but the deadline still
 * holds.
 */
int fg_backoff_next(struct fg_backoff *b, uint64_t now_ns, uint64_t retry_after_ns,
		    uint64_t *delay_ns);
/* The outage's give-up deadline on the caller's clock; false when none is running. */
bool fg_backoff_deadline(const struct fg_backoff *b, uint64_t *deadline_ns);

/*
 * Parses a humantime-style duration as FIREZONE_MAX_PARTITION_TIME takes it: one or more
 * <number><unit> terms, optionally separated by spaces ("30d", "24h", "90m", "45s",
 * "1h 30m"); units ns us ms s sec(s) second(s) m min(s) minute(s) h hr(s) hour(s) d day(s)
 * w week(s) M month(s) (30.44 d) y year(s) (365.25 d). 0, -EINVAL (empty, a number without
 * unit, an unknown unit, a sign or a fraction) or -ERANGE (over UINT64_MAX ns).
 */
int fg_backoff_parse_duration(const char *s, uint64_t *ns);
/*
 * Parses a Retry-After header value: delay-seconds ("120") or an IMF-fixdate ("Wed, 21 Oct
 * 2015 07:28:00 GMT", relative to now_unix_s). A zero or past value gives 1 ns (retry at
 * once), since 0 means "no header" to fg_backoff_next(). 0 or -EINVAL.
 */
int fg_backoff_parse_retry_after(const char *s, uint64_t now_unix_s, uint64_t *ns);

#endif
