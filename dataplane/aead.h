/* SPDX-License-Identifier: MIT */
/*
 * The transport AEAD behind one batch interface: a burst of WireGuard data messages is
 * sealed or opened in place in one call, so a faster backend (Intel ipsec-mb's burst API,
 * issue 4) can replace the per-packet libsodium loop without touching the fast path. The
 * backend is chosen once at start-up on the main lcore; the op arrays belong to the caller
 * (each worker keeps its own), so any number of lcores may call concurrently.
 */
#ifndef FG_AEAD_H
#define FG_AEAD_H

#include <stdint.h>

/* One data message. For open: data points at the 16-byte WireGuard header and len is the
 * whole message; on success status = 0 and plain_len is the padded plaintext length.
 * For seal: data points at the 16-byte header space followed by len bytes of padded
 * plaintext; the tag is appended and plain_len is unused. */
struct fg_aead_op {
	uint8_t *data;
	const uint8_t *key;
	uint64_t counter;
	uint32_t len;
	uint32_t receiver_index; /* seal only */
	int32_t status;          /* 0 or -EBADMSG */
	uint32_t plain_len;
};

enum fg_aead_backend {
	FG_AEAD_LIBSODIUM = 0,
};

int fg_aead_init(enum fg_aead_backend backend);
const char *fg_aead_backend_name(void);

/* Each returns the number of ops that succeeded; per-op results are in status. */
unsigned fg_aead_open_burst(struct fg_aead_op *ops, unsigned n);
unsigned fg_aead_seal_burst(struct fg_aead_op *ops, unsigned n);

#endif
