// SPDX-License-Identifier: MIT
/*
 * Seal and open one WireGuard data message in place with libsodium's ChaCha20-Poly1305
 * (IETF variant: 96-bit nonce = 32 zero bits || the 64-bit counter, little-endian). No
 * state: any thread may call these; keys and counters belong to the caller. The tag is
 * checked before a single byte is decrypted (detached decryption): a forged message never
 * yields plaintext (libsodium zeroes the payload instead).
 */
#include "transport.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

enum {
	NONCE_LEN = 12,
	NONCE_COUNTER_OFF = 4,
	/* Large enough for any UDP payload; keeps the plaintext length inside an int. */
	MAX_MESSAGE_LEN = 65535,
};

_Static_assert(NONCE_LEN == crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "IETF nonce");
_Static_assert(FG_WG_AEAD_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag");
_Static_assert(FG_WG_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "key");

static void make_nonce(uint8_t nonce[NONCE_LEN], uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(nonce, 0, NONCE_COUNTER_OFF);
	memcpy(nonce + NONCE_COUNTER_OFF, &le, sizeof(le));
}

size_t fg_wg_transport_seal(uint8_t *buf, size_t padded_plain_len,
			    const uint8_t key[FG_WG_KEY_LEN], uint32_t receiver_index,
			    uint64_t counter)
{
	struct fg_wg_msg_data hdr;
	uint8_t nonce[NONCE_LEN];
	uint8_t *plain = buf + FG_WG_DATA_HDR_LEN;

	hdr.type = htole32(FG_WG_MSG_DATA);
	hdr.receiver_index = htole32(receiver_index);
	hdr.counter = htole64(counter);
	memcpy(buf, &hdr, sizeof(hdr));

	make_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(plain, plain + padded_plain_len, NULL,
							   plain, padded_plain_len, NULL, 0,
							   NULL, nonce, key);
	return padded_plain_len + FG_WG_DATA_OVERHEAD;
}

int fg_wg_transport_open(uint8_t *buf, size_t len, const uint8_t key[FG_WG_KEY_LEN],
			 uint64_t *counter_out)
{
	struct fg_wg_msg_data hdr;
	uint8_t nonce[NONCE_LEN];
	uint8_t *cipher = buf + FG_WG_DATA_HDR_LEN;
	size_t clen;

	if (len < FG_WG_DATA_MIN_LEN || len > MAX_MESSAGE_LEN)
		return -EBADMSG;
	memcpy(&hdr, buf, sizeof(hdr));
	if (le32toh(hdr.type) != FG_WG_MSG_DATA)
		return -EBADMSG;

	clen = len - FG_WG_DATA_OVERHEAD;
	make_nonce(nonce, le64toh(hdr.counter));
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(cipher, NULL, cipher, clen,
							       cipher + clen, NULL, 0, nonce,
							       key) != 0)
		return -EBADMSG;
	*counter_out = le64toh(hdr.counter);
	return (int)clen;
}

uint32_t fg_wg_transport_receiver(const uint8_t *buf)
{
	struct fg_wg_msg_data hdr;

	memcpy(&hdr, buf, sizeof(hdr));
	return le32toh(hdr.receiver_index);
}
