// SPDX-License-Identifier: MIT
/*
 * The Noise_IKpsk2 handshake of WireGuard (whitepaper §5.4.2-§5.4.5): initiation and
 * response messages, both directions, and the split into transport keys. All state
 * (local identity, peers, handshakes) is owned by the service lcore. Each function works
 * on local copies of the hash and chaining key and commits them to the handshake only
 * after every check has passed, so a forged or damaged message changes nothing; every
 * temporary secret (DH results, AEAD keys, ephemeral keys, copies) is wiped at the
 * function's single exit.
 */
#include "noise.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "kdf.h"

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

enum {
	NS_PER_S = 1000000000,
	INITIATION_MIN_INTERVAL_NS = NS_PER_S / FG_WG_INITIATIONS_PER_SECOND,
	AEAD_NONCE_LEN = 12,
};

_Static_assert(AEAD_NONCE_LEN == crypto_aead_chacha20poly1305_ietf_NPUBBYTES,
	       "IETF ChaCha20-Poly1305 nonce");
_Static_assert(FG_WG_AEAD_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES,
	       "Poly1305 tag");
_Static_assert(FG_WG_KEY_LEN == crypto_scalarmult_BYTES, "X25519 key");

/* Handshake messages use each key exactly once, so their nonce is always zero. */
static const uint8_t zero_nonce[AEAD_NONCE_LEN];

static void clamp(uint8_t key[FG_WG_KEY_LEN])
{
	key[0] &= 248;
	key[31] &= 127;
	key[31] |= 64;
}

/* H = HASH(H || data) */
static void mix_hash(uint8_t h[FG_WG_HASH_LEN], const void *data, size_t len)
{
	fg_wg_hash(h, h, FG_WG_HASH_LEN, data, len);
}

/* (C, key) = KDF2(C, DH(priv, pub)), or C = KDF1(C, DH(priv, pub)) when key is NULL. */
static bool mix_dh(uint8_t ck[FG_WG_HASH_LEN], uint8_t *key,
		   const uint8_t priv[FG_WG_KEY_LEN], const uint8_t pub[FG_WG_KEY_LEN])
{
	uint8_t dh[FG_WG_KEY_LEN];
	bool ok = false;

	/* libsodium fails (returns -1) when the result is all-zero: a low-order point. */
	if (crypto_scalarmult(dh, priv, pub) != 0)
		goto out;
	if (key)
		fg_wg_kdf2(ck, key, ck, dh, sizeof(dh));
	else
		fg_wg_kdf1(ck, ck, dh, sizeof(dh));
	ok = true;
out:
	sodium_memzero(dh, sizeof(dh));
	return ok;
}

/* dst = AEAD(key, 0, src, h) || tag */
static void aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t key[FG_WG_KEY_LEN], const uint8_t h[FG_WG_HASH_LEN])
{
	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, h, FG_WG_HASH_LEN, NULL,
						  zero_nonce, key);
}

/* dst = AEAD-open(key, 0, src (len includes the tag), h); false if the tag is wrong. */
static bool aead_open(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t key[FG_WG_KEY_LEN], const uint8_t h[FG_WG_HASH_LEN])
{
	return crypto_aead_chacha20poly1305_ietf_decrypt(dst, NULL, NULL, src, len, h,
							 FG_WG_HASH_LEN, zero_nonce, key) == 0;
}

int fg_noise_local_init(struct fg_noise_local *l, const uint8_t private_key[FG_WG_KEY_LEN])
{
	int ret = 0;

	memset(l, 0, sizeof(*l));
	if (sodium_is_zero(private_key, FG_WG_KEY_LEN)) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(l->private_key, private_key, FG_WG_KEY_LEN);
	clamp(l->private_key);
	if (crypto_scalarmult_base(l->public_key, l->private_key) != 0 ||
	    sodium_is_zero(l->public_key, FG_WG_KEY_LEN)) {
		ret = -EINVAL;
		goto out;
	}
	fg_wg_hash(l->initial_chaining_key, construction, strlen(construction), NULL, 0);
	fg_wg_hash(l->initial_hash, l->initial_chaining_key, FG_WG_HASH_LEN, identifier,
		   strlen(identifier));
	fg_wg_hash(l->responder_hash, l->initial_hash, FG_WG_HASH_LEN, l->public_key,
		   FG_WG_KEY_LEN);
out:
	if (ret)
		sodium_memzero(l, sizeof(*l));
	return ret;
}

void fg_noise_local_clear(struct fg_noise_local *l)
{
	sodium_memzero(l, sizeof(*l));
}

int fg_noise_peer_init(struct fg_noise_peer *p, const struct fg_noise_local *l,
		       const uint8_t public_key[FG_WG_KEY_LEN], const uint8_t psk[FG_WG_KEY_LEN])
{
	sodium_memzero(p, sizeof(*p));
	/* A peer with our own key would let anyone replay our initiations back to us. */
	if (sodium_memcmp(public_key, l->public_key, FG_WG_KEY_LEN) == 0)
		return -EINVAL;
	memcpy(p->public_key, public_key, FG_WG_KEY_LEN);
	if (psk)
		memcpy(p->psk, psk, FG_WG_KEY_LEN);
	fg_wg_hash(p->initiator_hash, l->initial_hash, FG_WG_HASH_LEN, public_key, FG_WG_KEY_LEN);
	if (crypto_scalarmult(p->static_static, l->private_key, public_key) != 0) {
		sodium_memzero(p->static_static, sizeof(p->static_static));
		return -EKEYREJECTED;
	}
	return 0;
}

int fg_noise_peer_rekey(struct fg_noise_peer *p, const struct fg_noise_local *l)
{
	if (sodium_memcmp(p->public_key, l->public_key, FG_WG_KEY_LEN) == 0)
		return -EINVAL;
	fg_wg_hash(p->initiator_hash, l->initial_hash, FG_WG_HASH_LEN, p->public_key, FG_WG_KEY_LEN);
	if (crypto_scalarmult(p->static_static, l->private_key, p->public_key) != 0) {
		sodium_memzero(p->static_static, sizeof(p->static_static));
		return -EKEYREJECTED;
	}
	return 0;
}

bool fg_noise_peer_set_psk(struct fg_noise_peer *p, const uint8_t psk[FG_WG_KEY_LEN])
{
	static const uint8_t zero[FG_WG_KEY_LEN];
	const uint8_t *k = psk ? psk : zero;

	if (sodium_memcmp(p->psk, k, FG_WG_KEY_LEN) == 0)
		return false;
	memcpy(p->psk, k, FG_WG_KEY_LEN);
	return true;
}

void fg_noise_peer_clear(struct fg_noise_peer *p)
{
	sodium_memzero(p, sizeof(*p));
}

void fg_noise_handshake_clear(struct fg_noise_handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
	hs->state = FG_NOISE_STATE_ZEROED;
}

int fg_noise_create_initiation_with_ephemeral(struct fg_wg_msg_initiation *msg,
					      struct fg_noise_handshake *hs,
					      const struct fg_noise_local *l,
					      const struct fg_noise_peer *p, uint32_t local_index,
					      uint64_t wall_ns,
					      const uint8_t ephemeral_private[FG_WG_KEY_LEN])
{
	struct fg_noise_handshake n;
	uint8_t key[FG_WG_KEY_LEN];
	uint8_t timestamp[FG_WG_TAI64N_LEN];
	int ret;

	memset(&n, 0, sizeof(n));
	memset(key, 0, sizeof(key));
	if (sodium_is_zero(p->static_static, FG_WG_KEY_LEN)) {
		ret = -EKEYREJECTED;
		goto out;
	}
	memcpy(n.ephemeral_private, ephemeral_private, FG_WG_KEY_LEN);
	clamp(n.ephemeral_private);
	memcpy(n.chaining_key, l->initial_chaining_key, FG_WG_HASH_LEN);
	memcpy(n.hash, p->initiator_hash, FG_WG_HASH_LEN);

	memset(msg, 0, sizeof(*msg));
	msg->type = htole32(FG_WG_MSG_INITIATION);
	msg->sender_index = htole32(local_index);

	/* e */
	if (crypto_scalarmult_base(msg->unencrypted_ephemeral, n.ephemeral_private) != 0) {
		ret = -EKEYREJECTED;
		goto out;
	}
	fg_wg_kdf1(n.chaining_key, n.chaining_key, msg->unencrypted_ephemeral, FG_WG_KEY_LEN);
	mix_hash(n.hash, msg->unencrypted_ephemeral, FG_WG_KEY_LEN);

	/* es */
	if (!mix_dh(n.chaining_key, key, n.ephemeral_private, p->public_key)) {
		ret = -EKEYREJECTED;
		goto out;
	}

	/* s */
	aead_seal(msg->encrypted_static, l->public_key, FG_WG_KEY_LEN, key, n.hash);
	mix_hash(n.hash, msg->encrypted_static, sizeof(msg->encrypted_static));

	/* ss, from the precomputed static-static secret */
	fg_wg_kdf2(n.chaining_key, key, n.chaining_key, p->static_static, FG_WG_KEY_LEN);

	/* {t} */
	fg_wg_tai64n(timestamp, wall_ns);
	aead_seal(msg->encrypted_timestamp, timestamp, sizeof(timestamp), key, n.hash);
	mix_hash(n.hash, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp));

	n.state = FG_NOISE_STATE_CREATED_INITIATION;
	n.local_index = local_index;
	*hs = n;
	ret = 0;
out:
	sodium_memzero(&n, sizeof(n));
	sodium_memzero(key, sizeof(key));
	return ret;
}

int fg_noise_create_initiation(struct fg_wg_msg_initiation *msg, struct fg_noise_handshake *hs,
			       const struct fg_noise_local *l, const struct fg_noise_peer *p,
			       uint32_t local_index, uint64_t wall_ns)
{
	uint8_t ephemeral[FG_WG_KEY_LEN];
	int ret;

	randombytes_buf(ephemeral, sizeof(ephemeral));
	ret = fg_noise_create_initiation_with_ephemeral(msg, hs, l, p, local_index, wall_ns,
							ephemeral);
	sodium_memzero(ephemeral, sizeof(ephemeral));
	return ret;
}

int fg_noise_consume_initiation_begin(const struct fg_wg_msg_initiation *msg,
				      const struct fg_noise_local *l,
				      struct fg_noise_handshake *tmp,
				      uint8_t initiator_static[FG_WG_KEY_LEN])
{
	struct fg_noise_handshake n;
	uint8_t key[FG_WG_KEY_LEN];
	int ret;

	memset(&n, 0, sizeof(n));
	memset(key, 0, sizeof(key));
	if (le32toh(msg->type) != FG_WG_MSG_INITIATION) {
		ret = -EPROTO;
		goto out;
	}
	memcpy(n.chaining_key, l->initial_chaining_key, FG_WG_HASH_LEN);
	memcpy(n.hash, l->responder_hash, FG_WG_HASH_LEN);

	/* e */
	memcpy(n.remote_ephemeral, msg->unencrypted_ephemeral, FG_WG_KEY_LEN);
	fg_wg_kdf1(n.chaining_key, n.chaining_key, n.remote_ephemeral, FG_WG_KEY_LEN);
	mix_hash(n.hash, n.remote_ephemeral, FG_WG_KEY_LEN);

	/* es */
	if (!mix_dh(n.chaining_key, key, l->private_key, n.remote_ephemeral)) {
		ret = -EKEYREJECTED;
		goto out;
	}

	/* s */
	if (!aead_open(n.remote_static, msg->encrypted_static, sizeof(msg->encrypted_static),
		       key, n.hash)) {
		ret = -EBADMSG;
		goto out;
	}
	mix_hash(n.hash, msg->encrypted_static, sizeof(msg->encrypted_static));

	n.remote_index = le32toh(msg->sender_index);
	n.state = FG_NOISE_STATE_BEGAN_INITIATION;
	memcpy(initiator_static, n.remote_static, FG_WG_KEY_LEN);
	*tmp = n;
	ret = 0;
out:
	if (ret)
		fg_noise_handshake_clear(tmp);
	sodium_memzero(&n, sizeof(n));
	sodium_memzero(key, sizeof(key));
	return ret;
}

/* True if an initiation at now_ns comes too soon after the peer's last accepted one. */
static bool is_flood(const struct fg_noise_peer *p, uint64_t now_ns)
{
	if (!p->have_initiation)
		return false;
	return now_ns < p->last_initiation_ns ||
	       now_ns - p->last_initiation_ns < INITIATION_MIN_INTERVAL_NS;
}

int fg_noise_consume_initiation_finish(const struct fg_wg_msg_initiation *msg,
				       struct fg_noise_handshake *tmp, struct fg_noise_peer *p,
				       uint64_t now_ns)
{
	uint8_t chaining_key[FG_WG_HASH_LEN];
	uint8_t hash[FG_WG_HASH_LEN];
	uint8_t key[FG_WG_KEY_LEN];
	uint8_t timestamp[FG_WG_TAI64N_LEN];
	int ret;

	memset(key, 0, sizeof(key));
	memcpy(chaining_key, tmp->chaining_key, sizeof(chaining_key));
	memcpy(hash, tmp->hash, sizeof(hash));
	if (tmp->state != FG_NOISE_STATE_BEGAN_INITIATION ||
	    sodium_memcmp(tmp->remote_static, p->public_key, FG_WG_KEY_LEN) != 0) {
		ret = -EINVAL;
		goto out;
	}
	if (sodium_is_zero(p->static_static, FG_WG_KEY_LEN)) {
		ret = -EKEYREJECTED;
		goto out;
	}

	/* ss */
	fg_wg_kdf2(chaining_key, key, chaining_key, p->static_static, FG_WG_KEY_LEN);

	/* {t} */
	if (!aead_open(timestamp, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp),
		       key, hash)) {
		ret = -EBADMSG;
		goto out;
	}
	/* Timestamps are public (big-endian TAI64N): an ordinary compare orders them. */
	if (memcmp(timestamp, p->latest_timestamp, FG_WG_TAI64N_LEN) <= 0) {
		ret = -EALREADY;
		goto out;
	}
	if (is_flood(p, now_ns)) {
		ret = -EAGAIN;
		goto out;
	}
	mix_hash(hash, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp));

	memcpy(p->latest_timestamp, timestamp, FG_WG_TAI64N_LEN);
	p->last_initiation_ns = now_ns;
	p->have_initiation = true;
	memcpy(tmp->chaining_key, chaining_key, sizeof(chaining_key));
	memcpy(tmp->hash, hash, sizeof(hash));
	tmp->state = FG_NOISE_STATE_CONSUMED_INITIATION;
	ret = 0;
out:
	if (ret)
		fg_noise_handshake_clear(tmp);
	sodium_memzero(chaining_key, sizeof(chaining_key));
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(key, sizeof(key));
	return ret;
}

int fg_noise_create_response_with_ephemeral(struct fg_wg_msg_response *msg,
					    struct fg_noise_handshake *hs,
					    const struct fg_noise_local *l,
					    const struct fg_noise_peer *p, uint32_t local_index,
					    const uint8_t ephemeral_private[FG_WG_KEY_LEN])
{
	struct fg_noise_handshake n;
	uint8_t key[FG_WG_KEY_LEN];
	uint8_t tau[FG_WG_HASH_LEN];
	int ret;

	(void)l; /* the responder's static key was used when the initiation was consumed */
	memset(key, 0, sizeof(key));
	memset(tau, 0, sizeof(tau));
	n = *hs;
	if (n.state != FG_NOISE_STATE_CONSUMED_INITIATION ||
	    sodium_memcmp(n.remote_static, p->public_key, FG_WG_KEY_LEN) != 0) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(n.ephemeral_private, ephemeral_private, FG_WG_KEY_LEN);
	clamp(n.ephemeral_private);

	memset(msg, 0, sizeof(*msg));
	msg->type = htole32(FG_WG_MSG_RESPONSE);
	msg->sender_index = htole32(local_index);
	msg->receiver_index = htole32(n.remote_index);

	/* e */
	if (crypto_scalarmult_base(msg->unencrypted_ephemeral, n.ephemeral_private) != 0) {
		ret = -EKEYREJECTED;
		goto out;
	}
	fg_wg_kdf1(n.chaining_key, n.chaining_key, msg->unencrypted_ephemeral, FG_WG_KEY_LEN);
	mix_hash(n.hash, msg->unencrypted_ephemeral, FG_WG_KEY_LEN);

	/* ee, se */
	if (!mix_dh(n.chaining_key, NULL, n.ephemeral_private, n.remote_ephemeral) ||
	    !mix_dh(n.chaining_key, NULL, n.ephemeral_private, p->public_key)) {
		ret = -EKEYREJECTED;
		goto out;
	}

	/* psk */
	fg_wg_kdf3(n.chaining_key, tau, key, n.chaining_key, p->psk, FG_WG_KEY_LEN);
	mix_hash(n.hash, tau, sizeof(tau));

	/* {} */
	aead_seal(msg->encrypted_nothing, NULL, 0, key, n.hash);
	mix_hash(n.hash, msg->encrypted_nothing, sizeof(msg->encrypted_nothing));

	n.local_index = local_index;
	n.state = FG_NOISE_STATE_CREATED_RESPONSE;
	*hs = n;
	ret = 0;
out:
	sodium_memzero(&n, sizeof(n));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(tau, sizeof(tau));
	return ret;
}

int fg_noise_create_response(struct fg_wg_msg_response *msg, struct fg_noise_handshake *hs,
			     const struct fg_noise_local *l, const struct fg_noise_peer *p,
			     uint32_t local_index)
{
	uint8_t ephemeral[FG_WG_KEY_LEN];
	int ret;

	randombytes_buf(ephemeral, sizeof(ephemeral));
	ret = fg_noise_create_response_with_ephemeral(msg, hs, l, p, local_index, ephemeral);
	sodium_memzero(ephemeral, sizeof(ephemeral));
	return ret;
}

int fg_noise_consume_response(const struct fg_wg_msg_response *msg,
			      struct fg_noise_handshake *hs, const struct fg_noise_local *l,
			      const struct fg_noise_peer *p)
{
	struct fg_noise_handshake n;
	uint8_t key[FG_WG_KEY_LEN];
	uint8_t tau[FG_WG_HASH_LEN];
	uint8_t empty[1];
	int ret;

	memset(key, 0, sizeof(key));
	memset(tau, 0, sizeof(tau));
	n = *hs;
	if (le32toh(msg->type) != FG_WG_MSG_RESPONSE) {
		ret = -EPROTO;
		goto out;
	}
	if (n.state != FG_NOISE_STATE_CREATED_INITIATION ||
	    le32toh(msg->receiver_index) != n.local_index) {
		ret = -EINVAL;
		goto out;
	}

	/* e */
	memcpy(n.remote_ephemeral, msg->unencrypted_ephemeral, FG_WG_KEY_LEN);
	fg_wg_kdf1(n.chaining_key, n.chaining_key, n.remote_ephemeral, FG_WG_KEY_LEN);
	mix_hash(n.hash, n.remote_ephemeral, FG_WG_KEY_LEN);

	/* ee, se */
	if (!mix_dh(n.chaining_key, NULL, n.ephemeral_private, n.remote_ephemeral) ||
	    !mix_dh(n.chaining_key, NULL, l->private_key, n.remote_ephemeral)) {
		ret = -EKEYREJECTED;
		goto out;
	}

	/* psk */
	fg_wg_kdf3(n.chaining_key, tau, key, n.chaining_key, p->psk, FG_WG_KEY_LEN);
	mix_hash(n.hash, tau, sizeof(tau));

	/* {} */
	if (!aead_open(empty, msg->encrypted_nothing, sizeof(msg->encrypted_nothing), key,
		       n.hash)) {
		ret = -EBADMSG;
		goto out;
	}
	mix_hash(n.hash, msg->encrypted_nothing, sizeof(msg->encrypted_nothing));

	/* Committed: the ephemeral has done its work and must not outlive the handshake. */
	sodium_memzero(n.ephemeral_private, sizeof(n.ephemeral_private));
	n.remote_index = le32toh(msg->sender_index);
	n.state = FG_NOISE_STATE_CONSUMED_RESPONSE;
	*hs = n;
	ret = 0;
out:
	sodium_memzero(&n, sizeof(n));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(tau, sizeof(tau));
	return ret;
}

int fg_noise_derive_keys(struct fg_noise_handshake *hs, struct fg_noise_keypair_keys *out)
{
	uint8_t first[FG_WG_KEY_LEN];
	uint8_t second[FG_WG_KEY_LEN];
	bool initiator;

	if (hs->state == FG_NOISE_STATE_CONSUMED_RESPONSE)
		initiator = true;
	else if (hs->state == FG_NOISE_STATE_CREATED_RESPONSE)
		initiator = false;
	else
		return -EINVAL;

	/* (T_i->r, T_r->i) = KDF2(C, empty) */
	fg_wg_kdf2(first, second, hs->chaining_key, NULL, 0);
	memcpy(out->send, initiator ? first : second, FG_WG_KEY_LEN);
	memcpy(out->recv, initiator ? second : first, FG_WG_KEY_LEN);
	out->local_index = hs->local_index;
	out->remote_index = hs->remote_index;
	out->initiator = initiator;

	sodium_memzero(first, sizeof(first));
	sodium_memzero(second, sizeof(second));
	fg_noise_handshake_clear(hs);
	return 0;
}
