/* SPDX-License-Identifier: MIT */
/*
 * Logging for every fastgate process: human lines by default, JSON lines (tracing style,
 * flattened fields) with FIREZONE_LOG_FORMAT=json. Level from FASTGATE_LOG (error, warn,
 * info, debug; default info). Lines are written with one write(2) each, so threads may
 * log concurrently, but worker lcores must never log per packet. A message is always one
 * line: human lines write control characters as \n, \r, \t or \xNN (JSON as \n, \u00NN).
 */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fg_log_level {
	FG_LOG_ERROR = 0,  /* a bug: tests fail when a normal scenario logs one */
	FG_LOG_WARN,       /* an operator should look */
	FG_LOG_INFO,
	FG_LOG_DEBUG,
};

enum fg_log_format {
	FG_LOG_HUMAN = 0,
	FG_LOG_JSON,
};

/* Reads FIREZONE_LOG_FORMAT and FASTGATE_LOG. Safe to call more than once. */
void fg_log_init(void);
void fg_log_set_level(enum fg_log_level level);
void fg_log_set_format(enum fg_log_format format);
void fg_log_set_fd(int fd);
bool fg_log_enabled(enum fg_log_level level);
enum fg_log_format fg_log_get_format(void);

void fg_log(enum fg_log_level level, const char *target, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fg_vlog(enum fg_log_level level, const char *target, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Logs at ERROR and exits(1). For start-up failures only. */
void fg_fatal(const char *target, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Structured fields of one line, as tracing records them: STR a string value (JSON string;
 * human format quoted, as tracing prints a &str), TEXT a value shown as it is (a Display or
 * Debug value in tracing: JSON string; human format unquoted), U64 a number. A STR or TEXT
 * field whose s is NULL is left out (tracing's None). */
enum fg_log_kind {
	FG_LOG_STR = 1,
	FG_LOG_TEXT,
	FG_LOG_U64,
};

struct fg_log_field {
	const char *name;    /* [a-z0-9_]: written as given */
	enum fg_log_kind kind;
	const char *s;
	uint64_t u;
};

enum {
	FG_LOG_FIELDS_LINE_MAX = 8192,  /* bytes of a line with fields; fields beyond it are left
					 * out whole, never cut */
};

/* One line with a message and fields: JSON lines put each field beside "message" (the
 * flattened form of tracing's JSON format), human lines append ` name=value` after it. */
void fg_log_fields(enum fg_log_level level, const char *target, const char *message,
		   const struct fg_log_field *fields, size_t n);

/* The state of a log stream, owned by the caller (a process's context): it outlives the
 * FILE, and nothing is allocated that a fatal exit would leave behind. */
struct fg_log_stream {
	const char *target;
	size_t len;
	char buf[2048];
};

/* A FILE* whose complete lines are re-emitted through fg_log (for rte_openlog_stream); s
 * must live until the FILE is closed. */
FILE *fg_log_stream(struct fg_log_stream *s, const char *target);

#define fg_err(target, ...)   fg_log(FG_LOG_ERROR, target, __VA_ARGS__)
#define fg_warn(target, ...)  fg_log(FG_LOG_WARN, target, __VA_ARGS__)
#define fg_info(target, ...)  fg_log(FG_LOG_INFO, target, __VA_ARGS__)
#define fg_debug(target, ...) \
	do { if (fg_log_enabled(FG_LOG_DEBUG)) fg_log(FG_LOG_DEBUG, target, __VA_ARGS__); } while (0)

#endif
