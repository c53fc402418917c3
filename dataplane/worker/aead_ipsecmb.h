/* SPDX-License-Identifier: MIT */
/*
 * The Intel ipsec-mb backend of aead.h, for aead.c and the tests (which drive every CPU
 * variant directly): one IMB_MGR per lcore, created by that lcore and never shared, and
 * IETF ChaCha20-Poly1305 bursts on it through the library's job API. When the library was
 * not found at build time everything here builds to stubs and fg_aead_imb_arch_best()
 * says FG_AEAD_IMB_NONE, so aead.c never selects it.
 */
#ifndef FG_AEAD_IPSECMB_H
#define FG_AEAD_IPSECMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aead_op.h"

struct IMB_MGR;

/* The library's code paths, weakest first. */
enum fg_aead_imb_arch {
	FG_AEAD_IMB_NONE = 0, /* not built in, or no working manager on this CPU */
	FG_AEAD_IMB_SSE,
	FG_AEAD_IMB_AVX,
	FG_AEAD_IMB_AVX2,
	FG_AEAD_IMB_AVX512,
};

/* The fastest variant this CPU runs, probed once (the first call allocates a manager:
 * start-up only). */
enum fg_aead_imb_arch fg_aead_imb_arch_best(void);

/* "ipsec-mb-avx512" ... "ipsec-mb-sse", or "none". */
const char *fg_aead_imb_arch_name(enum fg_aead_imb_arch arch);

/* A manager for one lcore running `arch` (at most fg_aead_imb_arch_best()), or NULL with
 * errno (ENOMEM, ENOTSUP). Call it on the lcore that will use it. */
struct IMB_MGR *fg_aead_imb_mgr_new(enum fg_aead_imb_arch arch);
void fg_aead_imb_mgr_free(struct IMB_MGR *mgr);

/* The aead.h bursts on one manager: same contract as fg_aead_open_burst() and
 * fg_aead_seal_burst(). */
unsigned fg_aead_imb_open_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n);
unsigned fg_aead_imb_seal_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n);

/*
 * General IETF ChaCha20-Poly1305 on one buffer in place, with additional data, built on
 * the same job set-up as the bursts: for test vectors such as RFC 8439 §2.8.2, which the
 * WireGuard layout (fixed nonce prefix, no AAD) cannot express. Encrypting writes tag;
 * decrypting checks it in constant time. Returns 0, -EBADMSG (forged; buf zeroed) or
 * -EIO (the library refused the job).
 */
int fg_aead_imb_crypt(struct IMB_MGR *mgr, bool encrypt, const uint8_t key[32],
		      const uint8_t nonce[12], const uint8_t *aad, size_t aad_len, uint8_t *buf,
		      size_t len, uint8_t tag[16]);

#endif
