// SPDX-License-Identifier: MIT
/*
 * The spool's file formats (see flow_spool.h): segment lines and their checksum, and
 * segment names. What is read back is untrusted (a disk may tear a file, anyone with the
 * service's rights may edit one): the reader is strict, bounded and never stops at a bad
 * line. The checksum is zlib's CRC-32 of the payload bytes as written (the Rust spool's
 * crc32 of its serialized payload). No state.
 */
#include "flow_spool.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zlib.h>

static const char line_head[] = "{\"checksum\":";
static const char line_mid[] = ",\"payload\":";

enum {
	HEAD_LEN = sizeof(line_head) - 1,
	MID_LEN = sizeof(line_mid) - 1,
	CRC_DIGITS_MAX = 10,            /* 4294967295 */
	SEQ_DIGITS = 20,
};

static uint32_t crc(const char *p, size_t n)
{
	return (uint32_t)crc32(0L, (const Bytef *)p, (uInt)n);
}

size_t fg_flow_spool_line(const char *payload, size_t n, char *out, size_t outlen)
{
	int k;

	if (!n || n > FG_FLOW_SPOOL_LINE_MAX)
		return 0;
	k = snprintf(out, outlen, "%s%" PRIu32 "%s", line_head, crc(payload, n), line_mid);
	if (k < 0 || (size_t)k + n + 3 > outlen || (size_t)k + n + 2 > FG_FLOW_SPOOL_LINE_MAX)
		return 0;
	memcpy(out + k, payload, n);
	out[k + n] = '}';
	out[k + n + 1] = '\n';
	out[k + n + 2] = '\0';
	return (size_t)k + n + 2;
}

/* A decimal without sign or leading zero, at most max_digits, at most max. */
static bool decimal(const char *s, size_t n, size_t max_digits, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > max_digits || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* One line without its newline: the payload's place in it when sound. */
static bool sound(const char *l, size_t n, const char **payload, size_t *plen)
{
	const char *p = l + HEAD_LEN, *mid;
	const char *end = NULL;
	uint64_t sum;
	cJSON *j;
	bool ok;

	if (n > FG_FLOW_SPOOL_LINE_MAX || n < HEAD_LEN + 1 + MID_LEN + 3 || memcmp(l, line_head, HEAD_LEN) ||
	    l[n - 1] != '}')
		return false;
	mid = memchr(p, ',', n - HEAD_LEN);
	if (!mid || !decimal(p, (size_t)(mid - p), CRC_DIGITS_MAX, UINT32_MAX, &sum))
		return false;
	if ((size_t)(l + n - mid) < MID_LEN + 3 || memcmp(mid, line_mid, MID_LEN))
		return false;
	*payload = mid + MID_LEN;
	*plen = (size_t)(l + n - 1 - *payload);
	if ((*payload)[0] != '{' || crc(*payload, *plen) != (uint32_t)sum)
		return false;
	/* The checksum caught tearing; this catches a file someone wrote by hand, so that a
	 * batch body is always JSON (one bad report would get the whole batch refused). */
	j = cJSON_ParseWithLengthOpts(*payload, *plen, &end, false);
	ok = cJSON_IsObject(j) && end == *payload + *plen;
	cJSON_Delete(j);
	return ok;
}

unsigned fg_flow_spool_parse(const char *buf, size_t len, void (*cb)(void *ctx, const char *payload, size_t n),
			     void *ctx, unsigned *bad)
{
	unsigned good = 0, nbad = 0;
	size_t off = 0;

	while (off < len) {
		const char *l = buf + off, *nl = memchr(l, '\n', len - off);
		const char *payload;
		size_t n, plen;

		if (!nl) {      /* a torn last line */
			nbad++;
			break;
		}
		n = (size_t)(nl - l);
		off += n + 1;
		if (sound(l, n, &payload, &plen)) {
			good++;
			if (cb)
				cb(ctx, payload, plen);
		} else {
			nbad++;
		}
	}
	if (bad)
		*bad = nbad;
	return good;
}

bool fg_flow_spool_name_parse(const char *name, uint64_t *seq, unsigned *count)
{
	static const char ext[] = ".jsonl";
	size_t n = strnlen(name, FG_FLOW_SEG_NAME_LEN), dash = SEQ_DIGITS;
	uint64_t c;

	if (n >= FG_FLOW_SEG_NAME_LEN || n < SEQ_DIGITS + 2 + sizeof(ext) - 1 || name[dash] != '-' ||
	    strcmp(name + n - (sizeof(ext) - 1), ext))
		return false;
	for (size_t i = 0; i < SEQ_DIGITS; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	if (!decimal(name + dash + 1, n - (sizeof(ext) - 1) - dash - 1, 3, FG_FLOW_SEG_RECORDS_MAX, &c) || !c)
		return false;
	*seq = 0;
	for (size_t i = 0; i < SEQ_DIGITS; i++) {
		uint64_t d = (uint64_t)(name[i] - '0');

		if (*seq > (UINT64_MAX - d) / 10)
			return false;
		*seq = *seq * 10 + d;
	}
	*count = (unsigned)c;
	return true;
}

void fg_flow_spool_name(uint64_t seq, unsigned count, char *buf, size_t len)
{
	snprintf(buf, len, "%020" PRIu64 "-%u.jsonl", seq, count);
}
