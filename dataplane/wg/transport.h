/* SPDX-License-Identifier: MIT */
/*
 * Single-packet WireGuard data messages (whitepaper §5.4.6): seal and open one message
 * in place with ChaCha20-Poly1305 (IETF), nonce = 4 zero bytes || 64-bit little-endian
 * counter. The reference for the batched data-plane crypto and the transport used by the
 * service lcore and the tests. Stateless: safe from any thread; the caller owns the
 * counters and the replay window.
 */
#ifndef FG_TRANSPORT_H
#define FG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "messages.h"

/*
 * buf holds FG_WG_DATA_HDR_LEN bytes of header space followed by padded_plain_len bytes
 * of plaintext (already padded by the caller, see fg_wg_padded_len()) and room for the
 * FG_WG_AEAD_TAG_LEN-byte tag after it. Writes the header (type 4, receiver_index,
 * counter), encrypts the plaintext in place and appends the tag. Returns the message
 * length: padded_plain_len + FG_WG_DATA_OVERHEAD.
 */
size_t fg_wg_transport_seal(uint8_t *buf, size_t padded_plain_len,
			    const uint8_t key[FG_WG_KEY_LEN], uint32_t receiver_index,
			    uint64_t counter);

/*
 * buf is a whole data message of len bytes. Authenticates and decrypts it in place: the
 * plaintext then starts at buf + FG_WG_DATA_HDR_LEN. Returns the plaintext length (still
 * padded; 0 for a keepalive) and the message counter in *counter_out, or -EBADMSG (too
 * short, too long, not a data message, or the tag does not verify; *counter_out is not
 * written then, and the payload bytes are unspecified: never plaintext). Does not check
 * the counter against a replay window.
 */
int fg_wg_transport_open(uint8_t *buf, size_t len, const uint8_t key[FG_WG_KEY_LEN],
			 uint64_t *counter_out);

/* The receiver_index of a data message of at least FG_WG_DATA_HDR_LEN bytes, host order. */
uint32_t fg_wg_transport_receiver(const uint8_t *buf);

#endif
