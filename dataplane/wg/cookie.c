// SPDX-License-Identifier: MIT
/*
 * mac1/mac2 and cookie replies (whitepaper §5.4.4, §5.4.7), following the Linux driver's
 * cookie.c semantics: mac1 is always required, mac2 only matters when the caller is
 * under load, the responder's secret is regenerated lazily once it is older than two
 * minutes, and an initiator stops using a cookie five seconds before that. State (the
 * checker and every peer's cookie) is owned by the service lcore; nothing here blocks or
 * allocates. Secrets (R_m, cookies) are compared in constant time and wiped after use.
 */
#include "cookie.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "kdf.h"

static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

enum {
	NS_PER_S = 1000000000,
	ADDR_PORT_MAX_LEN = FG_WG_COOKIE_ADDR_MAX_LEN + 2,
};

#define SECRET_MAX_AGE_NS ((uint64_t)FG_WG_COOKIE_SECRET_MAX_AGE_S * NS_PER_S)
#define COOKIE_USE_MAX_AGE_NS \
	((uint64_t)(FG_WG_COOKIE_SECRET_MAX_AGE_S - FG_WG_COOKIE_SECRET_LATENCY_S) * NS_PER_S)

_Static_assert(FG_WG_COOKIE_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	       "XChaCha20-Poly1305 nonce");
_Static_assert(FG_WG_HASH_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	       "XChaCha20-Poly1305 key");
_Static_assert(sizeof(struct fg_wg_macs) == 2 * FG_WG_MAC_LEN, "macs trail the message");

/* Offsets of mac1 and mac2 in a handshake message of len bytes. */
static size_t mac1_off(size_t len)
{
	return len - sizeof(struct fg_wg_macs);
}

static size_t mac2_off(size_t len)
{
	return len - FG_WG_MAC_LEN;
}

static bool handshake_len_ok(size_t len)
{
	return len == FG_WG_MSG_INITIATION_LEN || len == FG_WG_MSG_RESPONSE_LEN;
}

/* key = HASH(label || public_key) */
static void derive_key(uint8_t key[FG_WG_HASH_LEN], const char *label,
		       const uint8_t public_key[FG_WG_KEY_LEN])
{
	fg_wg_hash(key, label, strlen(label), public_key, FG_WG_KEY_LEN);
}

static bool has_expired(uint64_t birth_ns, uint64_t max_age_ns, uint64_t now_ns)
{
	return now_ns < birth_ns || now_ns - birth_ns >= max_age_ns;
}

void fg_wg_cookie_checker_init(struct fg_wg_cookie_checker *c,
			       const uint8_t local_public[FG_WG_KEY_LEN])
{
	sodium_memzero(c, sizeof(*c));
	derive_key(c->mac1_key, label_mac1, local_public);
	derive_key(c->cookie_key, label_cookie, local_public);
}

void fg_wg_cookie_checker_clear(struct fg_wg_cookie_checker *c)
{
	sodium_memzero(c, sizeof(*c));
}

/*
 * cookie = MAC(R_m, source address || source port (big-endian)), with R_m regenerated
 * first when it has expired. The encoding of the address is ours alone: only we ever
 * recompute it.
 */
static void make_cookie(uint8_t cookie[FG_WG_COOKIE_LEN], struct fg_wg_cookie_checker *c,
			const uint8_t *src_addr, size_t src_addr_len, uint16_t src_port,
			uint64_t now_ns)
{
	uint8_t a[ADDR_PORT_MAX_LEN];

	if (!c->secret_valid || has_expired(c->secret_birth_ns, SECRET_MAX_AGE_NS, now_ns)) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_birth_ns = now_ns;
		c->secret_valid = true;
	}
	memcpy(a, src_addr, src_addr_len);
	a[src_addr_len] = (uint8_t)(src_port >> 8);
	a[src_addr_len + 1] = (uint8_t)src_port;
	fg_wg_mac(cookie, c->secret, sizeof(c->secret), a, src_addr_len + 2);
	sodium_memzero(a, sizeof(a));
}

enum fg_wg_cookie_mac fg_wg_cookie_validate(struct fg_wg_cookie_checker *c, const void *msg,
					    size_t len, const uint8_t *src_addr,
					    size_t src_addr_len, uint16_t src_port,
					    uint64_t now_ns)
{
	const uint8_t *m = msg;
	uint8_t computed[FG_WG_MAC_LEN];
	uint8_t cookie[FG_WG_COOKIE_LEN];
	enum fg_wg_cookie_mac ret = FG_WG_COOKIE_MAC_INVALID;

	memset(cookie, 0, sizeof(cookie));
	memset(computed, 0, sizeof(computed));
	if (!handshake_len_ok(len) || src_addr_len == 0 ||
	    src_addr_len > FG_WG_COOKIE_ADDR_MAX_LEN)
		goto out;

	fg_wg_mac(computed, c->mac1_key, sizeof(c->mac1_key), m, mac1_off(len));
	if (crypto_verify_16(computed, m + mac1_off(len)) != 0)
		goto out;
	ret = FG_WG_COOKIE_MAC1_VALID;

	/* An all-zero mac2 means "no cookie": skip the work (and the secret rotation). */
	if (sodium_is_zero(m + mac2_off(len), FG_WG_MAC_LEN))
		goto out;
	make_cookie(cookie, c, src_addr, src_addr_len, src_port, now_ns);
	fg_wg_mac(computed, cookie, sizeof(cookie), m, mac2_off(len));
	if (crypto_verify_16(computed, m + mac2_off(len)) != 0)
		goto out;
	ret = FG_WG_COOKIE_MAC2_VALID;
out:
	sodium_memzero(cookie, sizeof(cookie));
	sodium_memzero(computed, sizeof(computed));
	return ret;
}

int fg_wg_cookie_reply_create(struct fg_wg_msg_cookie *out, struct fg_wg_cookie_checker *c,
			      const void *msg, size_t len, uint32_t receiver_index,
			      const uint8_t *src_addr, size_t src_addr_len, uint16_t src_port,
			      uint64_t now_ns)
{
	const uint8_t *m = msg;
	uint8_t cookie[FG_WG_COOKIE_LEN];
	int ret = -EINVAL;

	memset(cookie, 0, sizeof(cookie));
	if (!handshake_len_ok(len) || src_addr_len == 0 ||
	    src_addr_len > FG_WG_COOKIE_ADDR_MAX_LEN)
		goto out;

	memset(out, 0, sizeof(*out));
	out->type = htole32(FG_WG_MSG_COOKIE);
	out->receiver_index = htole32(receiver_index);
	randombytes_buf(out->nonce, sizeof(out->nonce));
	make_cookie(cookie, c, src_addr, src_addr_len, src_port, now_ns);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out->encrypted_cookie, NULL, cookie,
						   sizeof(cookie), m + mac1_off(len),
						   FG_WG_MAC_LEN, NULL, out->nonce,
						   c->cookie_key);
	ret = 0;
out:
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}

void fg_wg_cookie_init(struct fg_wg_cookie *k, const uint8_t peer_public[FG_WG_KEY_LEN])
{
	sodium_memzero(k, sizeof(*k));
	derive_key(k->mac1_key, label_mac1, peer_public);
	derive_key(k->cookie_decryption_key, label_cookie, peer_public);
}

void fg_wg_cookie_clear(struct fg_wg_cookie *k)
{
	sodium_memzero(k, sizeof(*k));
}

void fg_wg_cookie_add_macs(struct fg_wg_cookie *k, void *msg, size_t len, uint64_t now_ns)
{
	uint8_t *m = msg;

	if (!handshake_len_ok(len))
		return;

	fg_wg_mac(m + mac1_off(len), k->mac1_key, sizeof(k->mac1_key), m, mac1_off(len));
	memcpy(k->last_mac1_sent, m + mac1_off(len), FG_WG_MAC_LEN);
	k->have_sent_mac1 = true;

	if (k->valid && !has_expired(k->birth_ns, COOKIE_USE_MAX_AGE_NS, now_ns))
		fg_wg_mac(m + mac2_off(len), k->cookie, sizeof(k->cookie), m, mac2_off(len));
	else
		memset(m + mac2_off(len), 0, FG_WG_MAC_LEN);
}

int fg_wg_cookie_consume_reply(struct fg_wg_cookie *k, const struct fg_wg_msg_cookie *reply,
			       uint64_t now_ns)
{
	uint8_t cookie[FG_WG_COOKIE_LEN];
	int ret;

	memset(cookie, 0, sizeof(cookie));
	if (le32toh(reply->type) != FG_WG_MSG_COOKIE) {
		ret = -EPROTO;
		goto out;
	}
	if (!k->have_sent_mac1) {
		ret = -EINVAL;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL,
						       reply->encrypted_cookie,
						       sizeof(reply->encrypted_cookie),
						       k->last_mac1_sent, FG_WG_MAC_LEN,
						       reply->nonce,
						       k->cookie_decryption_key) != 0) {
		ret = -EBADMSG;
		goto out;
	}
	memcpy(k->cookie, cookie, sizeof(cookie));
	k->birth_ns = now_ns;
	k->valid = true;
	k->have_sent_mac1 = false;
	ret = 0;
out:
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}
