/* SPDX-License-Identifier: MIT */
/*
 * Reconnect backoff for the portal socket and the duration parsers it needs
 * (FIREZONE_MAX_PARTITION_TIME, Retry-After). Mirrors the `backoff` crate's
 * ExponentialBackoff with the two parameter sets of the Rust gateway; the arithmetic is in
 * integer nanoseconds except the jitter draw. No clock and no state of its own beyond the
 * caller's struct fg_backoff, which the control plane's single thread owns.
 */
#include "backoff.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

static const uint64_t ns_per_ms = 1000000;
static const uint64_t ns_per_s = 1000000000;

static uint64_t sodium_rnd(void *ctx)
{
	(void)ctx;
	return (uint64_t)randombytes_random() << 32 | randombytes_random();
}

void fg_backoff_init(struct fg_backoff *b, uint64_t max_partition_ns,
		     uint64_t (*rnd)(void *ctx), void *rnd_ctx)
{
	memset(b, 0, sizeof(*b));
	b->max_partition_ns = max_partition_ns;
	b->rnd = rnd ? rnd : sodium_rnd;
	b->rnd_ctx = rnd_ctx;
}

void fg_backoff_connected(struct fg_backoff *b, uint64_t now_ns)
{
	(void)now_ns;
	b->joined_once = true;
	b->running = false;
}

static uint64_t max_elapsed(const struct fg_backoff *b)
{
	return b->joined_once ? b->max_partition_ns : FG_BACKOFF_FIRST_MAX_ELAPSED_MS * ns_per_ms;
}

/* interval x [1 - f, 1 + f) with f = FG_BACKOFF_JITTER_PCT / 100, from 53 random bits. */
static uint64_t jitter(struct fg_backoff *b, uint64_t interval)
{
	uint64_t delta = interval / 100 * FG_BACKOFF_JITTER_PCT +
			 interval % 100 * FG_BACKOFF_JITTER_PCT / 100;
	double frac = (double)(b->rnd(b->rnd_ctx) >> 11) / 9007199254740992.0;

	return interval - delta + (uint64_t)(frac * (double)(2 * delta));
}

static void grow(struct fg_backoff *b)
{
	uint64_t cap = FG_BACKOFF_MAX_INTERVAL_MS * ns_per_ms;

	if (b->interval_ns >= cap / FG_BACKOFF_MULTIPLIER_PCT * 100)
		b->interval_ns = cap;
	else
		b->interval_ns = b->interval_ns * FG_BACKOFF_MULTIPLIER_PCT / 100;
}

int fg_backoff_next(struct fg_backoff *b, uint64_t now_ns, uint64_t retry_after_ns,
		    uint64_t *delay_ns)
{
	uint64_t elapsed, delay, limit = max_elapsed(b);

	if (!b->running) {
		b->running = true;
		b->start_ns = now_ns;
		b->interval_ns = b->joined_once ? FG_BACKOFF_INITIAL_MS * ns_per_ms
						: FG_BACKOFF_FIRST_INTERVAL_MS * ns_per_ms;
	}
	elapsed = now_ns > b->start_ns ? now_ns - b->start_ns : 0;
	if (elapsed > limit)
		return -ETIMEDOUT;
	if (retry_after_ns) {
		uint64_t cap = (uint64_t)FG_BACKOFF_RETRY_AFTER_MAX_S * ns_per_s;

		*delay_ns = retry_after_ns < cap ? retry_after_ns : cap;
		return 0;
	}
	if (b->joined_once) {
		delay = jitter(b, b->interval_ns);
		grow(b);
	} else {
		delay = b->interval_ns;  /* multiplier 1, no jitter */
	}
	if (delay > limit - elapsed)
		return -ETIMEDOUT;
	*delay_ns = delay;
	return 0;
}

bool fg_backoff_deadline(const struct fg_backoff *b, uint64_t *deadline_ns)
{
	uint64_t limit = max_elapsed(b);

	if (!b->running)
		return false;
	*deadline_ns = b->start_ns > UINT64_MAX - limit ? UINT64_MAX : b->start_ns + limit;
	return true;
}

struct unit {
	const char *name;
	uint64_t ns;
};

static const struct unit units[] = {
	{ "nsec", 1 }, { "ns", 1 },
	{ "usec", 1000 }, { "us", 1000 },
	{ "msec", 1000000 }, { "ms", 1000000 },
	{ "seconds", 1000000000 }, { "second", 1000000000 }, { "secs", 1000000000 },
	{ "sec", 1000000000 }, { "s", 1000000000 },
	{ "minutes", 60000000000 }, { "minute", 60000000000 }, { "mins", 60000000000 },
	{ "min", 60000000000 }, { "m", 60000000000 },
	{ "hours", 3600000000000 }, { "hour", 3600000000000 }, { "hrs", 3600000000000 },
	{ "hr", 3600000000000 }, { "h", 3600000000000 },
	{ "days", 86400000000000 }, { "day", 86400000000000 }, { "d", 86400000000000 },
	{ "weeks", 604800000000000 }, { "week", 604800000000000 }, { "w", 604800000000000 },
	{ "months", 2630016000000000 }, { "month", 2630016000000000 }, { "M", 2630016000000000 },
	{ "years", 31557600000000000 }, { "year", 31557600000000000 }, { "y", 31557600000000000 },
};

static const struct unit *find_unit(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len && !memcmp(units[i].name, s, len))
			return &units[i];
	return NULL;
}

int fg_backoff_parse_duration(const char *s, uint64_t *ns)
{
	uint64_t total = 0;
	bool any = false;

	if (!s)
		return -EINVAL;
	for (;;) {
		uint64_t num = 0, term;
		const struct unit *u;
		size_t ulen = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			if (num > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
				return -ERANGE;
			num = num * 10 + (uint64_t)(*s - '0');
		}
		while (isalpha((unsigned char)s[ulen]))
			ulen++;
		u = find_unit(s, ulen);
		if (!u)
			return -EINVAL;
		s += ulen;
		if (num && u->ns > UINT64_MAX / num)
			return -ERANGE;
		term = num * u->ns;
		if (term > UINT64_MAX - total)
			return -ERANGE;
		total += term;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*ns = total;
	return 0;
}

int fg_backoff_parse_retry_after(const char *s, uint64_t now_unix_s, uint64_t *ns)
{
	uint64_t secs = 0;
	struct tm tm;
	const char *end;
	time_t at;

	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)*s)) {
		for (; isdigit((unsigned char)*s); s++) {
			if (secs > UINT64_MAX / ns_per_s / 10)
				return -EINVAL;
			secs = secs * 10 + (uint64_t)(*s - '0');
		}
		if (*s)
			return -EINVAL;
		*ns = secs ? secs * ns_per_s : 1;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return -EINVAL;
	at = timegm(&tm);
	if (at == (time_t)-1)
		return -EINVAL;
	if (at <= 0 || (uint64_t)at <= now_unix_s) {
		*ns = 1;
		return 0;
	}
	secs = (uint64_t)at - now_unix_s;
	*ns = secs > UINT64_MAX / ns_per_s ? UINT64_MAX : secs * ns_per_s;
	return 0;
}
