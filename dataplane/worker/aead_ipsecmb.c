// SPDX-License-Identifier: MIT
/*
 * WireGuard transport bursts on Intel ipsec-mb's job API (not through cryptodev, whose
 * layer costs 350-600 cycles an op here). Each IMB_MGR belongs to the one lcore that
 * created it; this file keeps no other state than the cached CPU probe, written once at
 * start-up. The library computes the Poly1305 tag while it decrypts but does not check
 * it: the check here is constant-time, and a forged message's payload is wiped, as
 * libsodium does, so the caller never sees keystream. Built without ipsec-mb, the
 * functions are stubs that say "none".
 */
#include "aead_ipsecmb.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "messages.h"
#include "transport.h"

const char *fg_aead_imb_arch_name(enum fg_aead_imb_arch arch)
{
	switch (arch) {
	case FG_AEAD_IMB_SSE:
		return "ipsec-mb-sse";
	case FG_AEAD_IMB_AVX:
		return "ipsec-mb-avx";
	case FG_AEAD_IMB_AVX2:
		return "ipsec-mb-avx2";
	case FG_AEAD_IMB_AVX512:
		return "ipsec-mb-avx512";
	case FG_AEAD_IMB_NONE:
		break;
	}
	return "none";
}

#ifdef FG_HAVE_IPSECMB

#include <intel-ipsec-mb.h>

enum {
	NONCE_LEN = 12,
	NONCE_COUNTER_OFF = 4,
	KEY_LEN = 32,
	TAG_LEN = 16,
	/* Ops in flight on a manager at once: bounds the nonces and computed tags kept on the
	 * stack, and stays below the manager's job queue. */
	CHUNK = 64,
	/* As fg_wg_transport_open(): any UDP payload. */
	MAX_MESSAGE_LEN = 65535,
};

_Static_assert(CHUNK < IMB_MAX_JOBS, "a chunk fits in the job queue");
_Static_assert((int)TAG_LEN == (int)FG_WG_AEAD_TAG_LEN, "tag");
_Static_assert((int)KEY_LEN == (int)FG_WG_KEY_LEN, "key");
_Static_assert(NONCE_LEN - NONCE_COUNTER_OFF == sizeof(uint64_t), "nonce = 0^32 || counter");

static int g_best = -1; /* enum fg_aead_imb_arch once probed */

static enum fg_aead_imb_arch from_imb(IMB_ARCH arch)
{
	switch (arch) {
	case IMB_ARCH_SSE:
		return FG_AEAD_IMB_SSE;
	case IMB_ARCH_AVX:
		return FG_AEAD_IMB_AVX;
	case IMB_ARCH_AVX2:
		return FG_AEAD_IMB_AVX2;
	case IMB_ARCH_AVX512:
		return FG_AEAD_IMB_AVX512;
	default:
		/* NOAESNI: a CPU older than anything DPDK 22.11 targets. */
		return FG_AEAD_IMB_NONE;
	}
}

enum fg_aead_imb_arch fg_aead_imb_arch_best(void)
{
	int best = __atomic_load_n(&g_best, __ATOMIC_ACQUIRE);
	IMB_ARCH arch = IMB_ARCH_NONE;
	IMB_MGR *mgr;

	if (best >= 0)
		return (enum fg_aead_imb_arch)best;
	mgr = alloc_mb_mgr(0);
	if (!mgr)
		return FG_AEAD_IMB_NONE; /* ENOMEM: probe again next time */
	init_mb_mgr_auto(mgr, &arch);
	best = imb_get_errno(mgr) == 0 ? (int)from_imb(arch) : (int)FG_AEAD_IMB_NONE;
	free_mb_mgr(mgr);
	__atomic_store_n(&g_best, best, __ATOMIC_RELEASE);
	return (enum fg_aead_imb_arch)best;
}

struct IMB_MGR *fg_aead_imb_mgr_new(enum fg_aead_imb_arch arch)
{
	IMB_MGR *mgr;

	if (arch == FG_AEAD_IMB_NONE || arch > fg_aead_imb_arch_best()) {
		errno = ENOTSUP;
		return NULL;
	}
	mgr = alloc_mb_mgr(0);
	if (!mgr) {
		errno = ENOMEM;
		return NULL;
	}
	switch (arch) {
	case FG_AEAD_IMB_SSE:
		init_mb_mgr_sse(mgr);
		break;
	case FG_AEAD_IMB_AVX:
		init_mb_mgr_avx(mgr);
		break;
	case FG_AEAD_IMB_AVX2:
		init_mb_mgr_avx2(mgr);
		break;
	case FG_AEAD_IMB_AVX512:
		init_mb_mgr_avx512(mgr);
		break;
	case FG_AEAD_IMB_NONE:
		break;
	}
	if (imb_get_errno(mgr) != 0) {
		free_mb_mgr(mgr);
		errno = ENOTSUP;
		return NULL;
	}
	return mgr;
}

void fg_aead_imb_mgr_free(struct IMB_MGR *mgr)
{
	if (mgr)
		free_mb_mgr(mgr);
}

/* One in-place AEAD job. The tag covers the ciphertext: it is computed after encrypting
 * and before decrypting. */
static void set_job(IMB_JOB *job, bool encrypt, const uint8_t *key, const uint8_t *nonce,
		    const uint8_t *aad, uint64_t aad_len, uint8_t *buf, uint64_t len, uint8_t *tag)
{
	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = key;
	job->dec_keys = key;
	job->key_len_in_bytes = KEY_LEN;
	job->src = buf;
	job->dst = buf;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = nonce;
	job->iv_len_in_bytes = NONCE_LEN;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = TAG_LEN;
	job->u.CHACHA20_POLY1305.aad = aad;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = aad_len;
}

/* WireGuard's nonce is 4 zero bytes and the counter as it stands in the header:
 * little-endian already. */
static void wg_nonce(uint8_t nonce[NONCE_LEN], const uint8_t *hdr)
{
	memset(nonce, 0, NONCE_COUNTER_OFF);
	memcpy(nonce + NONCE_COUNTER_OFF, hdr + offsetof(struct fg_wg_msg_data, counter),
	       sizeof(uint64_t));
}

static unsigned finish_open(const IMB_JOB *job)
{
	struct fg_aead_op *op = job->user_data;
	uint8_t *payload = op->data + FG_WG_DATA_HDR_LEN;
	uint32_t clen = op->len - FG_WG_DATA_OVERHEAD;

	if (job->status == IMB_STATUS_COMPLETED &&
	    crypto_verify_16(job->auth_tag_output, payload + clen) == 0) {
		op->status = 0;
		op->plain_len = clen;
		return 1;
	}
	sodium_memzero(payload, clen);
	op->status = -EBADMSG;
	return 0;
}

/*
 * Every field of a job is set here from checked values (lengths bounded, key and nonce
 * non-NULL), so the jobs go in without the library's per-job argument check (about 8% of
 * a 64-byte op). ChaCha20-Poly1305 completes jobs in order, at submission on every
 * variant of 1.3; the loops still take whatever comes back, then flush.
 */
static unsigned open_chunk(IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	uint8_t nonce[CHUNK][NONCE_LEN];
	uint8_t tag[CHUNK][TAG_LEN];
	unsigned ok = 0;
	IMB_JOB *job;

	for (unsigned i = 0; i < n; i++) {
		struct fg_aead_op *op = &ops[i];
		uint32_t type;

		if (op->len < FG_WG_DATA_MIN_LEN || op->len > MAX_MESSAGE_LEN) {
			op->status = -EBADMSG;
			continue;
		}
		memcpy(&type, op->data, sizeof(type));
		if (le32toh(type) != FG_WG_MSG_DATA) {
			op->status = -EBADMSG;
			continue;
		}
		wg_nonce(nonce[i], op->data);
		job = IMB_GET_NEXT_JOB(mgr);
		set_job(job, false, op->key, nonce[i], NULL, 0, op->data + FG_WG_DATA_HDR_LEN,
			op->len - FG_WG_DATA_OVERHEAD, tag[i]);
		job->user_data = op;
		for (job = IMB_SUBMIT_JOB_NOCHECK(mgr); job; job = IMB_GET_COMPLETED_JOB(mgr))
			ok += finish_open(job);
	}
	while ((job = IMB_FLUSH_JOB(mgr)))
		ok += finish_open(job);
	return ok;
}

static void finish_seal(const IMB_JOB *job)
{
	struct fg_aead_op *op = job->user_data;

	/* Never seen: a job the library refuses is left untouched, so libsodium can seal it. */
	if (job->status != IMB_STATUS_COMPLETED)
		fg_wg_transport_seal(op->data, op->len, op->key, op->receiver_index, op->counter);
	op->status = 0;
}

static void seal_chunk(IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	uint8_t nonce[CHUNK][NONCE_LEN];
	IMB_JOB *job;

	for (unsigned i = 0; i < n; i++) {
		struct fg_aead_op *op = &ops[i];
		uint8_t *plain = op->data + FG_WG_DATA_HDR_LEN;
		struct fg_wg_msg_data hdr = {
			.type = htole32(FG_WG_MSG_DATA),
			.receiver_index = htole32(op->receiver_index),
			.counter = htole64(op->counter),
		};

		memcpy(op->data, &hdr, sizeof(hdr));
		wg_nonce(nonce[i], op->data);
		job = IMB_GET_NEXT_JOB(mgr);
		set_job(job, true, op->key, nonce[i], NULL, 0, plain, op->len, plain + op->len);
		job->user_data = op;
		for (job = IMB_SUBMIT_JOB_NOCHECK(mgr); job; job = IMB_GET_COMPLETED_JOB(mgr))
			finish_seal(job);
	}
	while ((job = IMB_FLUSH_JOB(mgr)))
		finish_seal(job);
}

unsigned fg_aead_imb_open_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i += CHUNK)
		ok += open_chunk(mgr, ops + i, n - i < CHUNK ? n - i : CHUNK);
	return ok;
}

unsigned fg_aead_imb_seal_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i += CHUNK)
		seal_chunk(mgr, ops + i, n - i < CHUNK ? n - i : CHUNK);
	return n;
}

int fg_aead_imb_crypt(struct IMB_MGR *mgr, bool encrypt, const uint8_t key[32],
		      const uint8_t nonce[12], const uint8_t *aad, size_t aad_len, uint8_t *buf,
		      size_t len, uint8_t tag[16])
{
	uint8_t computed[TAG_LEN];
	IMB_JOB *job = IMB_GET_NEXT_JOB(mgr);
	int ret = 0;

	set_job(job, encrypt, key, nonce, aad, aad_len, buf, len, encrypt ? tag : computed);
	job = IMB_SUBMIT_JOB(mgr);
	if (!job)
		job = IMB_FLUSH_JOB(mgr);
	if (!job || job->status != IMB_STATUS_COMPLETED)
		ret = -EIO;
	else if (!encrypt && crypto_verify_16(computed, tag) != 0)
		ret = -EBADMSG;
	if (ret == -EBADMSG)
		sodium_memzero(buf, len);
	return ret;
}

#else /* !FG_HAVE_IPSECMB: nothing can select this backend, no manager can exist. */

enum fg_aead_imb_arch fg_aead_imb_arch_best(void)
{
	return FG_AEAD_IMB_NONE;
}

struct IMB_MGR *fg_aead_imb_mgr_new(enum fg_aead_imb_arch arch)
{
	(void)arch;
	errno = ENOTSUP;
	return NULL;
}

void fg_aead_imb_mgr_free(struct IMB_MGR *mgr)
{
	(void)mgr;
}

static unsigned refuse(struct fg_aead_op *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ops[i].status = -ENOTSUP;
	return 0;
}

unsigned fg_aead_imb_open_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	(void)mgr;
	return refuse(ops, n);
}

unsigned fg_aead_imb_seal_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	(void)mgr;
	return refuse(ops, n);
}

int fg_aead_imb_crypt(struct IMB_MGR *mgr, bool encrypt, const uint8_t key[32],
		      const uint8_t nonce[12], const uint8_t *aad, size_t aad_len, uint8_t *buf,
		      size_t len, uint8_t tag[16])
{
	(void)mgr, (void)encrypt, (void)key, (void)nonce, (void)aad, (void)aad_len;
	(void)buf, (void)len, (void)tag;
	return -ENOTSUP;
}

#endif
