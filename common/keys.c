// SPDX-License-Identifier: MIT
/*
 * Base64 and hex text forms of 32-byte WireGuard keys. Private keys and PSKs pass through
 * here, so no branch and no table index depends on a key byte or a key character: each
 * character class is selected with arithmetic masks, and validity is accumulated and tested
 * once at the end. Only the length of the text, which is not secret, is checked by branch.
 * fg_key_redact(), for error messages, is the exception: it branches freely, as no valid key
 * reaches it. No state; any thread.
 */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

enum {
	B64_CHARS = FG_KEY_B64_LEN - 1,    /* 44 */
	B64_FULL_GROUPS = FG_KEY_LEN / 3,  /* 10 groups of 3 bytes = 4 characters */
	HEX_CHARS = FG_KEY_HEX_LEN - 1,    /* 64 */
};

/* All ones when a >= b, else 0. Both operands must be below 2^31. */
static inline uint32_t mask_ge(uint32_t a, uint32_t b)
{
	return 0U - ((b - a - 1U) >> 31);
}

/* All ones when lo <= c <= hi, else 0. */
static inline uint32_t mask_in(uint32_t c, uint32_t lo, uint32_t hi)
{
	return mask_ge(c, lo) & mask_ge(hi, c);
}

/* 0..63 to the base64 alphabet: A-Z a-z 0-9 + / */
static inline char b64_char(uint32_t v)
{
	uint32_t c = v + 'A';

	c += mask_ge(v, 26) & ('a' - 'A' - 26);
	c -= mask_ge(v, 52) & ('a' + 26 - '0');
	c -= mask_ge(v, 62) & ('0' + 62 - 52 - '+');
	c += mask_ge(v, 63) & ('/' - '+' - 1);
	return (char)c;
}

/* A base64 character to 0..63; *bad gets all ones when c is outside the alphabet. */
static inline uint32_t b64_value(unsigned char ch, uint32_t *bad)
{
	uint32_t c = ch;
	uint32_t upper = mask_in(c, 'A', 'Z');
	uint32_t lower = mask_in(c, 'a', 'z');
	uint32_t digit = mask_in(c, '0', '9');
	uint32_t plus = mask_in(c, '+', '+');
	uint32_t slash = mask_in(c, '/', '/');

	*bad |= ~(upper | lower | digit | plus | slash);
	return (upper & (c - 'A')) | (lower & (c - 'a' + 26)) | (digit & (c - '0' + 52)) |
	       (plus & 62U) | (slash & 63U);
}

void fg_key_to_base64(char out[FG_KEY_B64_LEN], const uint8_t key[FG_KEY_LEN])
{
	size_t i;

	for (i = 0; i < B64_FULL_GROUPS; i++) {
		uint32_t w = (uint32_t)key[i * 3] << 16 | (uint32_t)key[i * 3 + 1] << 8 |
			     key[i * 3 + 2];

		out[i * 4 + 0] = b64_char((w >> 18) & 63);
		out[i * 4 + 1] = b64_char((w >> 12) & 63);
		out[i * 4 + 2] = b64_char((w >> 6) & 63);
		out[i * 4 + 3] = b64_char(w & 63);
	}
	/* The last two bytes: 16 bits in three characters, the low two bits zero, one '='. */
	uint32_t w = (uint32_t)key[i * 3] << 16 | (uint32_t)key[i * 3 + 1] << 8;

	out[i * 4 + 0] = b64_char((w >> 18) & 63);
	out[i * 4 + 1] = b64_char((w >> 12) & 63);
	out[i * 4 + 2] = b64_char((w >> 6) & 63);
	out[i * 4 + 3] = '=';
	out[B64_CHARS] = '\0';
}

int fg_key_from_base64(uint8_t key[FG_KEY_LEN], const char *b64)
{
	uint32_t bad = 0;
	size_t i;

	if (!b64 || strnlen(b64, FG_KEY_B64_LEN) != B64_CHARS || b64[B64_CHARS - 1] != '=') {
		sodium_memzero(key, FG_KEY_LEN);
		return -EINVAL;
	}
	for (i = 0; i < B64_FULL_GROUPS; i++) {
		const unsigned char *g = (const unsigned char *)b64 + i * 4;
		uint32_t w = b64_value(g[0], &bad) << 18 | b64_value(g[1], &bad) << 12 |
			     b64_value(g[2], &bad) << 6 | b64_value(g[3], &bad);

		key[i * 3 + 0] = (uint8_t)(w >> 16);
		key[i * 3 + 1] = (uint8_t)(w >> 8);
		key[i * 3 + 2] = (uint8_t)w;
	}
	const unsigned char *g = (const unsigned char *)b64 + i * 4;
	uint32_t w = b64_value(g[0], &bad) << 18 | b64_value(g[1], &bad) << 12 |
		     b64_value(g[2], &bad) << 6;

	/* Canonical encoding only: the two padding bits must be zero. */
	bad |= 0U - ((w >> 6 & 3U) != 0);
	key[i * 3 + 0] = (uint8_t)(w >> 16);
	key[i * 3 + 1] = (uint8_t)(w >> 8);
	if (bad) {
		sodium_memzero(key, FG_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

static inline char hex_char(uint32_t nibble)
{
	return (char)(nibble + '0' + (mask_ge(nibble, 10) & ('a' - '0' - 10)));
}

/* A hex digit (either case) to 0..15; *bad gets all ones for anything else. */
static inline uint32_t hex_value(unsigned char ch, uint32_t *bad)
{
	uint32_t c = ch;
	uint32_t digit = mask_in(c, '0', '9');
	uint32_t lower = mask_in(c, 'a', 'f');
	uint32_t upper = mask_in(c, 'A', 'F');

	*bad |= ~(digit | lower | upper);
	return (digit & (c - '0')) | (lower & (c - 'a' + 10)) | (upper & (c - 'A' + 10));
}

void fg_key_to_hex(char out[FG_KEY_HEX_LEN], const uint8_t key[FG_KEY_LEN])
{
	for (size_t i = 0; i < FG_KEY_LEN; i++) {
		out[i * 2] = hex_char(key[i] >> 4);
		out[i * 2 + 1] = hex_char(key[i] & 15U);
	}
	out[HEX_CHARS] = '\0';
}

int fg_key_from_hex(uint8_t key[FG_KEY_LEN], const char *hex)
{
	uint32_t bad = 0;

	if (!hex || strnlen(hex, FG_KEY_HEX_LEN) != HEX_CHARS) {
		sodium_memzero(key, FG_KEY_LEN);
		return -EINVAL;
	}
	for (size_t i = 0; i < FG_KEY_LEN; i++) {
		uint32_t hi = hex_value((unsigned char)hex[i * 2], &bad);
		uint32_t lo = hex_value((unsigned char)hex[i * 2 + 1], &bad);

		key[i] = (uint8_t)(hi << 4 | lo);
	}
	if (bad) {
		sodium_memzero(key, FG_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

bool fg_key_is_zero(const uint8_t key[FG_KEY_LEN])
{
	/* libsodium's test reads every byte whatever their values. */
	return sodium_is_zero(key, FG_KEY_LEN) == 1;
}

static bool text_key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* The length of the run of base64/hex characters starting at text[i] if it may be a key. */
static size_t secret_run(const char *text, size_t len, size_t i)
{
	size_t n = 0;
	bool digits_only = true;

	if (i > 0 && text_key_char((unsigned char)text[i - 1]))
		return 0;
	while (i + n < len && text_key_char((unsigned char)text[i + n])) {
		digits_only = digits_only && text[i + n] >= '0' && text[i + n] <= '9';
		n++;
	}
	return n >= FG_KEY_REDACT_RUN && !digits_only ? n : 0;
}

/* The length of text up to the end of the first secret key name in it, or len. */
static size_t before_secret(const char *text, size_t len)
{
	static const char *const names[] = {
		"PrivateKey", "PresharedKey", "private_key", "preshared_key",
	};

	for (size_t pos = 0; pos < len; pos++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t k = strlen(names[i]);

			if (len - pos >= k && strncasecmp(text + pos, names[i], k) == 0)
				return pos + k;
		}
	}
	return len;
}

void fg_key_redact(char *out, size_t outlen, const char *text, size_t len, size_t max)
{
	size_t o = 0, i = 0;

	if (!out || outlen == 0)
		return;
	len = text ? before_secret(text, len) : 0;
	while (i < len && i < max) {
		unsigned char c = (unsigned char)text[i];
		size_t run = secret_run(text, len, i), n, skip = 1;
		char piece[16];

		if (run) {
			n = (size_t)snprintf(piece, sizeof(piece), "[redacted]");
			skip = run;
		} else if (c < 0x20 || c >= 0x7f || c == '\'' || c == '"' || c == '\\') {
			n = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", c);
		} else {
			piece[0] = (char)c;
			n = 1;
		}
		if (o + n + 4 > outlen)  /* keep room for "..." and the NUL */
			break;
		memcpy(out + o, piece, n);
		o += n;
		i += skip;
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
