// SPDX-License-Identifier: MIT
/*
 * Process-wide logger. Settings are written once at start-up (fg_log_init, main thread) and
 * then only read, so any thread may log. Each line is formatted into a stack buffer and
 * written with a single write(2): lines from different threads never interleave. Messages
 * carry text from outside (the portal, DPDK, file names): both formats escape control
 * characters, so a message can neither forge a line nor drive the reader's terminal.
 */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { LINE_MAX_LEN = 2048 };

static enum fg_log_level g_level = FG_LOG_INFO;
static enum fg_log_format g_format = FG_LOG_HUMAN;
static int g_fd = STDERR_FILENO;

static const char *const level_names[] = {
	[FG_LOG_ERROR] = "ERROR",
	[FG_LOG_WARN] = "WARN",
	[FG_LOG_INFO] = "INFO",
	[FG_LOG_DEBUG] = "DEBUG",
};

void fg_log_init(void)
{
	const char *fmt = getenv("FIREZONE_LOG_FORMAT");
	const char *lvl = getenv("FASTGATE_LOG");

	if (fmt && strcasecmp(fmt, "json") == 0)
		g_format = FG_LOG_JSON;
	else
		g_format = FG_LOG_HUMAN;
	if (lvl) {
		for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
			if (strcasecmp(lvl, level_names[i]) == 0)
				g_level = (enum fg_log_level)i;
	}
}

void fg_log_set_level(enum fg_log_level level) { g_level = level; }
void fg_log_set_format(enum fg_log_format format) { g_format = format; }
void fg_log_set_fd(int fd) { g_fd = fd; }
bool fg_log_enabled(enum fg_log_level level) { return level <= g_level; }
enum fg_log_format fg_log_get_format(void) { return g_format; }

static size_t put_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	int m = snprintf(buf + n, len - n, ".%06ldZ", ts.tv_nsec / 1000);
	return n + (m > 0 ? (size_t)m : 0);
}

/* Appends s as a JSON string body (without quotes); returns the new position. */
static size_t put_json_escaped(char *buf, size_t pos, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s && pos + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[pos++] = '\\';
			buf[pos++] = (char)c;
		} else if (c == '\n') {
			buf[pos++] = '\\';
			buf[pos++] = 'n';
		} else if (c < 0x20) {
			memcpy(buf + pos, "\\u00", 4);
			buf[pos + 4] = hex[c >> 4];
			buf[pos + 5] = hex[c & 15];
			pos += 6;
		} else {
			buf[pos++] = (char)c;
		}
	}
	return pos;
}

/* Appends s for the human format: control characters (bytes below 0x20 and DEL) become
 * \n, \r, \t or \xNN, everything else (UTF-8, backslashes) is kept, so ordinary messages
 * read as written. Stops before an escape that would not fit; returns the new position. */
static size_t put_text_escaped(char *buf, size_t pos, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s && pos + 4 <= cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != 0x7f) {
			buf[pos++] = (char)c;
			continue;
		}
		buf[pos++] = '\\';
		if (c == '\n') {
			buf[pos++] = 'n';
		} else if (c == '\r') {
			buf[pos++] = 'r';
		} else if (c == '\t') {
			buf[pos++] = 't';
		} else {
			buf[pos++] = 'x';
			buf[pos++] = hex[c >> 4];
			buf[pos++] = hex[c & 15];
		}
	}
	return pos;
}

void fg_vlog(enum fg_log_level level, const char *target, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_LEN], line[LINE_MAX_LEN + 256], ts[40];
	size_t pos;
	int n;

	if (!fg_log_enabled(level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	/* Strip one trailing newline: every entry is one line. */
	size_t mlen = strlen(msg);
	while (mlen && (msg[mlen - 1] == '\n' || msg[mlen - 1] == '\r'))
		msg[--mlen] = '\0';
	put_timestamp(ts, sizeof(ts));
	if (g_format == FG_LOG_JSON) {
		n = snprintf(line, sizeof(line), "{\"timestamp\":\"%s\",\"level\":\"%s\",\"message\":\"",
			     ts, level_names[level]);
		pos = put_json_escaped(line, (size_t)n, sizeof(line) - 32, msg);
		n = snprintf(line + pos, sizeof(line) - pos, "\",\"target\":\"%s\"}\n", target);
		pos += n > 0 ? (size_t)n : 0;
		if (pos > sizeof(line))
			pos = sizeof(line);
	} else {
		/* Room is kept for the newline: a cut line still ends one. */
		n = snprintf(line, sizeof(line) - 1, "%s %5s %s: ", ts, level_names[level], target);
		pos = n < 0 ? 0 : (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
		pos = put_text_escaped(line, pos, sizeof(line) - 1, msg);
		line[pos++] = '\n';
	}
	ssize_t w;
	do {
		w = write(g_fd, line, pos);
	} while (w < 0 && errno == EINTR);
}

void fg_log(enum fg_log_level level, const char *target, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fg_vlog(level, target, fmt, ap);
	va_end(ap);
}

/* ---- lines with fields ----------------------------------------------------------------------- */

/* The JSON escape of one byte at *pos: false (nothing written) when it would reach cap. */
static bool put_json_char(char *buf, size_t *pos, size_t cap, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6];
	size_t n = 0;

	if (c == '"' || c == '\\') {
		e[n++] = '\\';
		e[n++] = (char)c;
	} else if (c == '\n') {
		e[n++] = '\\';
		e[n++] = 'n';
	} else if (c < 0x20) {
		memcpy(e, "\\u00", 4);
		e[4] = hex[c >> 4];
		e[5] = hex[c & 15];
		n = 6;
	} else {
		e[n++] = (char)c;
	}
	if (*pos + n >= cap)
		return false;
	memcpy(buf + *pos, e, n);
	*pos += n;
	return true;
}

/* The human escape of one byte (as put_text_escaped; quote also escapes '"' and '\\', as
 * tracing prints a string with Debug): false (nothing written) when it would reach cap. */
static bool put_text_char(char *buf, size_t *pos, size_t cap, unsigned char c, bool quote)
{
	static const char hex[] = "0123456789abcdef";
	char e[4];
	size_t n = 0;

	if (quote && (c == '"' || c == '\\')) {
		e[n++] = '\\';
		e[n++] = (char)c;
	} else if (c >= 0x20 && c != 0x7f) {
		e[n++] = (char)c;
	} else {
		e[n++] = '\\';
		if (c == '\n' || c == '\r' || c == '\t') {
			e[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			e[n++] = 'x';
			e[n++] = hex[c >> 4];
			e[n++] = hex[c & 15];
		}
	}
	if (*pos + n >= cap)
		return false;
	memcpy(buf + *pos, e, n);
	*pos += n;
	return true;
}

static bool put_raw(char *buf, size_t *pos, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n >= cap)
		return false;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return true;
}

/* One field at *pos, whole or not at all (false: *pos unchanged). */
static bool put_field(char *buf, size_t *pos, size_t cap, const struct fg_log_field *f, bool json)
{
	size_t p = *pos;
	char num[24];
	bool ok;

	if (json)
		ok = put_raw(buf, &p, cap, ",\"") && put_raw(buf, &p, cap, f->name) && put_raw(buf, &p, cap, "\":");
	else
		ok = put_raw(buf, &p, cap, " ") && put_raw(buf, &p, cap, f->name) && put_raw(buf, &p, cap, "=");
	if (ok && f->kind == FG_LOG_U64) {
		snprintf(num, sizeof(num), "%" PRIu64, f->u);
		ok = put_raw(buf, &p, cap, num);
	} else if (ok) {
		bool quote = json || f->kind == FG_LOG_STR;

		ok = !quote || put_raw(buf, &p, cap, "\"");
		for (const unsigned char *c = (const unsigned char *)f->s; ok && *c; c++)
			ok = json ? put_json_char(buf, &p, cap, *c) : put_text_char(buf, &p, cap, *c, quote);
		ok = ok && (!quote || put_raw(buf, &p, cap, "\""));
	}
	if (ok)
		*pos = p;
	return ok;
}

void fg_log_fields(enum fg_log_level level, const char *target, const char *message,
		   const struct fg_log_field *fields, size_t n)
{
	char line[FG_LOG_FIELDS_LINE_MAX], ts[40];
	bool json = g_format == FG_LOG_JSON;
	size_t tail = strlen(target) + 16, cap, pos;
	int k;

	if (!fg_log_enabled(level) || tail >= sizeof(line) / 2)
		return;
	cap = sizeof(line) - tail;
	put_timestamp(ts, sizeof(ts));
	if (json) {
		k = snprintf(line, cap, "{\"timestamp\":\"%s\",\"level\":\"%s\",\"message\":\"", ts,
			     level_names[level]);
		pos = put_json_escaped(line, (size_t)k, cap - 1, message);
		line[pos++] = '"';
	} else {
		k = snprintf(line, cap, "%s %5s %s: ", ts, level_names[level], target);
		pos = put_text_escaped(line, (size_t)k, cap - 1, message);
	}
	for (size_t i = 0; i < n; i++)
		if (fields[i].kind == FG_LOG_U64 || fields[i].s)
			(void)put_field(line, &pos, cap, &fields[i], json);
	if (json)
		k = snprintf(line + pos, sizeof(line) - pos, ",\"target\":\"%s\"}\n", target);
	else
		k = snprintf(line + pos, sizeof(line) - pos, "\n");
	pos += k > 0 ? (size_t)k : 0;
	ssize_t w;
	do {
		w = write(g_fd, line, pos);
	} while (w < 0 && errno == EINTR);
}

void fg_fatal(const char *target, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fg_vlog(FG_LOG_ERROR, target, fmt, ap);
	va_end(ap);
	exit(1);
}

/* fopencookie() backend: buffers partial lines, logs complete ones. */
_Static_assert(sizeof(((struct fg_log_stream *)0)->buf) == LINE_MAX_LEN, "one log line");

static enum fg_log_level guess_level(const char *line)
{
	/* DPDK prefixes nothing standard; treat its messages as info, errors as warnings. */
	if (strcasestr(line, "error") || strcasestr(line, "fail"))
		return FG_LOG_WARN;
	return FG_LOG_INFO;
}

static ssize_t stream_write(void *cookie, const char *data, size_t size)
{
	struct fg_log_stream *c = cookie;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' || c->len == sizeof(c->buf) - 1) {
			c->buf[c->len] = '\0';
			if (c->len)
				fg_log(guess_level(c->buf), c->target, "%s", c->buf);
			c->len = 0;
			if (data[i] == '\n')
				continue;
		}
		c->buf[c->len++] = data[i];
	}
	return (ssize_t)size;
}

static int stream_close(void *cookie)
{
	(void)cookie; /* the caller's */
	return 0;
}

FILE *fg_log_stream(struct fg_log_stream *c, const char *target)
{
	cookie_io_functions_t io = { .write = stream_write, .close = stream_close };
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->target = target;
	f = fopencookie(c, "w", io);
	if (!f)
		return NULL;
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}
