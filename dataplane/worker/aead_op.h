/* SPDX-License-Identifier: MIT */
/*
 * The unit of work of the transport AEAD's bursts (aead.h), shared by the dispatcher and
 * its backends (aead_ipsecmb.h) so neither header needs the other.
 */
#ifndef FG_AEAD_OP_H
#define FG_AEAD_OP_H

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

#endif
