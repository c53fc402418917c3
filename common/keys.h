/* SPDX-License-Identifier: MIT */
/*
 * 32-byte WireGuard keys in their two text forms: base64 (wg-quick files, wg(8), the portal)
 * and lowercase hex (the cross-platform UAPI). Decoding and encoding run in constant time
 * with respect to the key bytes, as in wireguard-tools' encoding.c. No state.
 */
#ifndef FG_KEYS_H
#define FG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	FG_KEY_LEN = 32,
	FG_KEY_B64_LEN = 45,   /* 44 characters + NUL */
	FG_KEY_HEX_LEN = 65,   /* 64 characters + NUL */
	FG_KEY_REDACT_RUN = 20,  /* see fg_key_redact() */
};

void fg_key_to_base64(char out[FG_KEY_B64_LEN], const uint8_t key[FG_KEY_LEN]);
/* Exactly 44 characters ending in '=' with the right padding bits; 0 or -EINVAL. */
int fg_key_from_base64(uint8_t key[FG_KEY_LEN], const char *b64);
void fg_key_to_hex(char out[FG_KEY_HEX_LEN], const uint8_t key[FG_KEY_LEN]);
/* Exactly 64 hex digits (either case); 0 or -EINVAL. */
int fg_key_from_hex(uint8_t key[FG_KEY_LEN], const char *hex);
/* Constant-time test for the all-zero key. */
bool fg_key_is_zero(const uint8_t key[FG_KEY_LEN]);

/*
 * Makes user text safe to quote in a message (config errors, logs): at most max bytes of the
 * len bytes of text (need not be NUL-terminated) are written into out; bytes outside
 * printable ASCII, quotes and backslashes become \xNN; a run of FG_KEY_REDACT_RUN or more
 * base64/hex characters (not all digits) becomes "[redacted]"; everything after the name of
 * a secret key (PrivateKey, PresharedKey, private_key, preshared_key) is dropped; "..." marks
 * a cut. out is always NUL-terminated (when outlen > 0); 4 * max + 16 bytes always suffice.
 * Error-path helper: not constant time.
 */
void fg_key_redact(char *out, size_t outlen, const char *text, size_t len, size_t max);

#endif
