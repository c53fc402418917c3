/* SPDX-License-Identifier: MIT */
/*
 * The flow-log spool: reports waiting for upload, on disk so that a restart or an ingest
 * API that is away loses none. As the Rust gateway's flow-log-writer, one directory per
 * authorization holds its Bearer token, so that reports of different tokens never share a
 * batch; unlike it, reports are grouped into segment files (a flow a file costs an fsync a
 * flow, too many for a busy gateway's control-plane thread):
 *
 *   <root>/                                  0700
 *     <policy_authorization_id>/             0700 (a hyphenated UUID, from the token)
 *       token                                0600 the Bearer JWT
 *       <seq>-<n>.jsonl                      0600 n reports, one a line, oldest seq first:
 *                                                 {"checksum":<crc32 of payload>,"payload":{...}}
 *
 * <seq> is 20 decimal digits (unix ns at writing, strictly increasing), so names sort
 * oldest first across directories. Every file is written to a temporary name, fsync'd and
 * renamed, then the directory fsync'd: a crash leaves the old state or the new, and a torn
 * or corrupt file (a line whose checksum fails, a truncated last line) is counted and
 * skipped line by line, never uploaded. The spool is bounded: files count whole 4 KiB
 * blocks toward max_bytes, and the oldest segment goes (with a warning and the drop
 * counter) to make room. Directories whose token expired, or that lost their token, are
 * removed with their reports. Reports are first held in memory per directory and written
 * as one segment when the caller flushes (every second) or a segment is full. Synchronous
 * file I/O, small and bounded; owned by the control plane's single thread.
 */
#ifndef FG_FLOW_SPOOL_H
#define FG_FLOW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_token.h"

enum {
	FG_FLOW_SPOOL_LINE_MAX = 8192,        /* one line: a report and its checksum */
	FG_FLOW_SEG_RECORDS_MAX = 100,        /* reports in one segment */
	FG_FLOW_SEG_BYTES_MAX = FG_FLOW_SEG_RECORDS_MAX * FG_FLOW_SPOOL_LINE_MAX, /* larger: corrupt */
	FG_FLOW_SPOOL_BLOCK = 4096,           /* what a file counts at least toward the bound */
	FG_FLOW_SPOOL_PENDING_MAX = 10000,    /* reports held in memory over all directories */
	FG_FLOW_SEG_NAME_LEN = 48,            /* "<20 digits>-<count>.jsonl" and its NUL */
	FG_FLOW_DIR_GRACE_S = 60,             /* a token-less directory younger than this stays */
};

struct fg_flow_spool_stats {
	uint64_t spooled;          /* reports written to segments */
	uint64_t dropped;          /* reports lost: spool full, expired or token-less
				    * directory, write failure, memory full */
	uint64_t corrupt;          /* lines (or whole files) that failed to read back */
	uint64_t write_errors;     /* files that could not be written */
	uint64_t bytes;            /* what the segments count toward max_bytes */
	uint64_t max_bytes;
	unsigned segments, dirs, pending;
};

/* One upload's worth of a directory's oldest segments. */
struct fg_flow_batch {
	char authz_id[FG_FLOW_UUID_LEN];
	char *body;                /* {"flow_logs":[report,...]}, heap */
	size_t len;
	unsigned records;
	unsigned nsegs;
	uint64_t *segs;            /* their seqs, heap */
};

/* ---- the format (pure) ---------------------------------------------------------------------- */

/* The spool line of one report (payload: a JSON object, n bytes): its length including the
 * newline, or 0 when it does not fit outlen or n is 0. */
size_t fg_flow_spool_line(const char *payload, size_t n, char *out, size_t outlen);
/* Reads a segment's bytes: cb(ctx, payload, n) for each sound line in order (payload is
 * not NUL-terminated), returns how many; *bad gets the lines that are not (a wrong
 * checksum, not the line format, not one JSON object, over FG_FLOW_SPOOL_LINE_MAX, a last
 * line without its newline). Never fails otherwise. */
unsigned fg_flow_spool_parse(const char *buf, size_t len, void (*cb)(void *ctx, const char *payload, size_t n),
			     void *ctx, unsigned *bad);
/* A segment's file name: "<20 digits>-<1..FG_FLOW_SEG_RECORDS_MAX>.jsonl", no leading zero
 * in the count. */
bool fg_flow_spool_name_parse(const char *name, uint64_t *seq, unsigned *count);
void fg_flow_spool_name(uint64_t seq, unsigned count, char *buf, size_t len);

/* ---- the directory -------------------------------------------------------------------------- */

struct fg_flow_spool;

/* Creates root (0700) when missing, removes leftovers of interrupted writes and indexes
 * what is there. NULL + errno with err saying why. */
struct fg_flow_spool *fg_flow_spool_open(const char *root, uint64_t max_bytes, char *err, size_t errlen);
/* Flushes what is held in memory, then frees. NULL is ignored. */
void fg_flow_spool_close(struct fg_flow_spool *s);
/* Reports per segment, 1..FG_FLOW_SEG_RECORDS_MAX (the upload batch size when smaller). */
void fg_flow_spool_set_segment(struct fg_flow_spool *s, unsigned records);
/* Queues one report of the authorization (claims valid) whose Bearer token is token: the
 * token file is written first when missing or different. Returns the reports the directory
 * holds (on disk and in memory), or -errno (the report is then dropped and counted). */
int fg_flow_spool_add(struct fg_flow_spool *s, const struct fg_flow_claims *claims, const char *token,
		      const char *payload, size_t n);
/* Writes what is held in memory as segments (all directories). */
void fg_flow_spool_flush(struct fg_flow_spool *s);
unsigned fg_flow_spool_pending(const struct fg_flow_spool *s);
/* The reports an authorization's directory holds, on disk and in memory. */
unsigned fg_flow_spool_dir_records(const struct fg_flow_spool *s, const char *authz_id);
/* The directories holding reports on disk, oldest segment first: *n ids, valid until the
 * next call that changes the spool; NULL when none (or out of memory). Caller frees. */
char (*fg_flow_spool_dirs(struct fg_flow_spool *s, unsigned *n))[FG_FLOW_UUID_LEN];
/* Reads the directory's oldest segments, as many as hold at most max_records reports (at
 * least one segment), into b. 1 (b filled: fg_flow_spool_done), 0 when there is nothing to
 * send (unreadable segments were dropped meanwhile), -errno. */
int fg_flow_spool_batch(struct fg_flow_spool *s, const char *authz_id, unsigned max_records,
			struct fg_flow_batch *b);
/* The batch is over: delete its segments (stored) or keep them; frees b's buffers. */
void fg_flow_spool_done(struct fg_flow_spool *s, struct fg_flow_batch *b, bool delete);
/* The directory's token into buf (a printable ASCII token, NUL-terminated): 0 or -errno
 * (-ENOENT when it has none, -EBADMSG when the file is not a token). Wipe buf after use. */
int fg_flow_spool_token(struct fg_flow_spool *s, const char *authz_id, char *buf, size_t len);
/* Removes the directories whose token expired by now_s, or that have had none for
 * FG_FLOW_DIR_GRACE_S, with their reports (counted as dropped, warned). */
void fg_flow_spool_prune(struct fg_flow_spool *s, uint64_t now_s);
void fg_flow_spool_stats(const struct fg_flow_spool *s, struct fg_flow_spool_stats *out);
const char *fg_flow_spool_root(const struct fg_flow_spool *s);

#endif
