// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the batch transport AEAD (aead.c, aead_ipsecmb.c), compiled in with ASan
 * and UBSan, every message in a buffer of exactly its size. The same checks run on every
 * backend this machine has: libsodium and ipsec-mb through the public API, and each
 * ipsec-mb CPU variant (SSE .. AVX-512) on its own manager. The references are
 * independent: libsodium's AEAD called directly, the RFC 8439 §2.8.2 vector, and messages
 * sealed by Python's cryptography (gen_vectors.py). Every backend seals byte for byte what
 * the others do and opens what any other sealed; tampered ops fail alone inside a burst.
 * Also: backend choice (FASTGATE_AEAD, AUTO, names) and per-thread managers under
 * concurrent use. Random sizes come from a seeded generator (AEAD_TEST_SEED to replay).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "aead_ipsecmb.h"
#include "messages.h"
#include "transport.h"
#include "wg_test.h"

#ifdef FG_HAVE_IPSECMB
#include <intel-ipsec-mb.h>
#endif

enum {
	HDR = FG_WG_DATA_HDR_LEN,
	TAG = FG_WG_AEAD_TAG_LEN,
	MAX_BACKENDS = 8,
	MAX_OPS = 300,
	MAX_PLAIN = 1500,
};

/* ---- a seeded generator, so that a failure can be replayed ---- */

static uint64_t g_rng;

static uint64_t rnd(void)
{
	/* xorshift64* */
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void rnd_fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- the backends under test ---- */

/* Bursts that reached ipsec-mb. The linker routes aead.c's calls (and this file's) through
 * these (--wrap), so the suite sees which backend the public API really used. */
static unsigned g_imb_opens, g_imb_seals;
static struct IMB_MGR *g_imb_last; /* the manager of the last burst */

unsigned __real_fg_aead_imb_open_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n);
unsigned __real_fg_aead_imb_seal_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n);
unsigned __wrap_fg_aead_imb_open_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n);
unsigned __wrap_fg_aead_imb_seal_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n);

unsigned __wrap_fg_aead_imb_open_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	__atomic_fetch_add(&g_imb_opens, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&g_imb_last, mgr, __ATOMIC_RELAXED);
	return __real_fg_aead_imb_open_burst(mgr, ops, n);
}

unsigned __wrap_fg_aead_imb_seal_burst(struct IMB_MGR *mgr, struct fg_aead_op *ops, unsigned n)
{
	__atomic_fetch_add(&g_imb_seals, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&g_imb_last, mgr, __ATOMIC_RELAXED);
	return __real_fg_aead_imb_seal_burst(mgr, ops, n);
}

struct backend {
	char name[32];
	enum fg_aead_backend pub;   /* through aead.h, when mgr is NULL */
	struct IMB_MGR *mgr;        /* one ipsec-mb variant, directly */
	enum fg_aead_imb_arch arch; /* mgr's */
};

/* The variant a manager really runs, as the library itself records it. */
static enum fg_aead_imb_arch mgr_arch(const struct IMB_MGR *mgr)
{
#ifdef FG_HAVE_IPSECMB
	switch ((IMB_ARCH)mgr->used_arch) {
	case IMB_ARCH_SSE:
		return FG_AEAD_IMB_SSE;
	case IMB_ARCH_AVX:
		return FG_AEAD_IMB_AVX;
	case IMB_ARCH_AVX2:
		return FG_AEAD_IMB_AVX2;
	case IMB_ARCH_AVX512:
		return FG_AEAD_IMB_AVX512;
	default:
		break;
	}
#else
	(void)mgr;
#endif
	return FG_AEAD_IMB_NONE;
}

/* The variant this CPU should get, from the compiler's own CPUID reading and ipsec-mb 1.3's
 * documented requirements (IMB_CPUFLAGS_*), independent of the library's probe. */
static enum fg_aead_imb_arch cpu_arch(void)
{
#ifdef FG_HAVE_IPSECMB
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("aes") ||
	    !__builtin_cpu_supports("pclmul"))
		return FG_AEAD_IMB_NONE;
	if (!__builtin_cpu_supports("avx"))
		return FG_AEAD_IMB_SSE;
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2"))
		return FG_AEAD_IMB_AVX;
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") ||
	    !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512dq") ||
	    !__builtin_cpu_supports("avx512cd"))
		return FG_AEAD_IMB_AVX2;
	return FG_AEAD_IMB_AVX512;
#else
	return FG_AEAD_IMB_NONE;
#endif
}

static struct backend g_be[MAX_BACKENDS];
static unsigned g_nbe;

static void use_public(enum fg_aead_backend b)
{
	int r = fg_aead_init(b);

	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_EQUAL_FATAL(fg_aead_backend(), b);
}

static unsigned be_seal(const struct backend *be, struct fg_aead_op *ops, unsigned n)
{
	if (be->mgr)
		return fg_aead_imb_seal_burst(be->mgr, ops, n);
	use_public(be->pub);
	return fg_aead_seal_burst(ops, n);
}

static unsigned be_open(const struct backend *be, struct fg_aead_op *ops, unsigned n)
{
	if (be->mgr)
		return fg_aead_imb_open_burst(be->mgr, ops, n);
	use_public(be->pub);
	return fg_aead_open_burst(ops, n);
}

static void add_backend(const char *name, enum fg_aead_backend pub, struct IMB_MGR *mgr,
			enum fg_aead_imb_arch arch)
{
	struct backend *be = &g_be[g_nbe++];

	snprintf(be->name, sizeof(be->name), "%s", name);
	be->pub = pub;
	be->mgr = mgr;
	be->arch = arch;
}

static void setup_backends(void)
{
	enum fg_aead_imb_arch best = fg_aead_imb_arch_best();

	add_backend("libsodium", FG_AEAD_LIBSODIUM, NULL, FG_AEAD_IMB_NONE);
	if (best == FG_AEAD_IMB_NONE) {
		printf("ipsec-mb: not available, libsodium only\n");
		return;
	}
	add_backend("ipsec-mb (aead.h)", FG_AEAD_IPSECMB, NULL, best);
	for (int a = FG_AEAD_IMB_SSE; a <= (int)best; a++) {
		struct IMB_MGR *mgr = fg_aead_imb_mgr_new((enum fg_aead_imb_arch)a);

		if (!mgr) {
			printf("%s: cannot create a manager: %s\n",
			       fg_aead_imb_arch_name((enum fg_aead_imb_arch)a), strerror(errno));
			exit(1);
		}
		add_backend(fg_aead_imb_arch_name((enum fg_aead_imb_arch)a), FG_AEAD_IPSECMB, mgr,
			    (enum fg_aead_imb_arch)a);
	}
}

/* ---- messages in exactly-sized buffers ---- */

struct msg {
	uint8_t *buf;        /* HDR + plain_len + TAG bytes */
	uint8_t plain[MAX_PLAIN];
	uint8_t key[FG_WG_KEY_LEN];
	uint32_t plain_len;
	uint32_t receiver;
	uint64_t counter;
};

static struct msg g_msgs[MAX_OPS];

static void msg_make(struct msg *m, uint32_t plain_len)
{
	m->plain_len = plain_len;
	m->buf = malloc(HDR + plain_len + TAG);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->buf);
	rnd_fill(m->plain, plain_len);
	rnd_fill(m->key, sizeof(m->key));
	m->receiver = (uint32_t)rnd();
	m->counter = rnd();
	memset(m->buf, 0xee, HDR + plain_len + TAG);
	memcpy(m->buf + HDR, m->plain, plain_len);
}

static void msgs_free(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(g_msgs[i].buf);
		g_msgs[i].buf = NULL;
	}
}

static struct fg_aead_op seal_op(struct msg *m)
{
	return (struct fg_aead_op){
		.data = m->buf,
		.key = m->key,
		.counter = m->counter,
		.len = m->plain_len,
		.receiver_index = m->receiver,
		.status = 99,
	};
}

static struct fg_aead_op open_op(struct msg *m, uint32_t len)
{
	return (struct fg_aead_op){ .data = m->buf, .key = m->key, .len = len, .status = 99 };
}

/* The whole message as libsodium's one-message transport.c seals it. */
static bool sealed_as_reference(const struct msg *m)
{
	uint8_t *ref = malloc(HDR + m->plain_len + TAG);
	bool same;

	if (!ref)
		abort();
	memcpy(ref + HDR, m->plain, m->plain_len);
	fg_wg_transport_seal(ref, m->plain_len, m->key, m->receiver, m->counter);
	same = memcmp(ref, m->buf, HDR + m->plain_len + TAG) == 0;
	free(ref);
	return same;
}

/* Seals msgs[0..n) with `sealer` in one burst and checks every byte. */
static void seal_all(const struct backend *sealer, unsigned n)
{
	struct fg_aead_op ops[MAX_OPS];
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++)
		ops[i] = seal_op(&g_msgs[i]);
	CU_ASSERT_EQUAL(be_seal(sealer, ops, n), n);
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(ops[i].status, 0);
		if (!sealed_as_reference(&g_msgs[i]) && bad++ < 3)
			printf("\n  %s sealed %" PRIu32 " bytes differently", sealer->name,
			       g_msgs[i].plain_len);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---- vectors ---- */

static void test_rfc8439_aead(void)
{
	static const char plain[] =
		"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
		"the future, sunscreen would be it.";
	enum { LEN = sizeof(plain) - 1 };
	uint8_t key[32], nonce[12], aad[12], want[LEN], want_tag[16], buf[LEN], tag[16];
	uint8_t out[LEN + 16];
	unsigned long long outlen;

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	unhex(nonce, sizeof(nonce), "070000004041424344454647");
	unhex(aad, sizeof(aad), "50515253c0c1c2c3c4c5c6c7");
	unhex(want, sizeof(want),
	      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	      "3ff4def08e4b7a9de576d26586cec64b6116");
	unhex(want_tag, sizeof(want_tag), "1ae10b594f09e26a7e902ecbd0600691");

	/* The vector against libsodium first: it is the reference for everything else. */
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &outlen, (const uint8_t *)plain, LEN, aad,
						  sizeof(aad), NULL, nonce, key);
	CU_ASSERT_EQUAL_FATAL(outlen, LEN + 16);
	CU_ASSERT_EQUAL(memcmp(out, want, LEN), 0);
	CU_ASSERT_EQUAL(memcmp(out + LEN, want_tag, 16), 0);

	for (unsigned b = 0; b < g_nbe; b++) {
		struct IMB_MGR *mgr = g_be[b].mgr;

		if (!mgr)
			continue;
		memcpy(buf, plain, LEN);
		CU_ASSERT_EQUAL(fg_aead_imb_crypt(mgr, true, key, nonce, aad, sizeof(aad), buf, LEN,
						  tag), 0);
		CU_ASSERT_EQUAL(memcmp(buf, want, LEN), 0);
		CU_ASSERT_EQUAL(memcmp(tag, want_tag, 16), 0);
		CU_ASSERT_EQUAL(fg_aead_imb_crypt(mgr, false, key, nonce, aad, sizeof(aad), buf, LEN,
						  tag), 0);
		CU_ASSERT_EQUAL(memcmp(buf, plain, LEN), 0);

		/* The AAD is authenticated: one flipped bit and the buffer comes back zeroed. */
		memcpy(buf, want, LEN);
		aad[11] ^= 1;
		CU_ASSERT_EQUAL(fg_aead_imb_crypt(mgr, false, key, nonce, aad, sizeof(aad), buf, LEN,
						  tag), -EBADMSG);
		aad[11] ^= 1;
		CU_ASSERT_TRUE(sodium_is_zero(buf, LEN));
		/* So is every byte of the nonce, including the 4 WireGuard always leaves zero. */
		memcpy(buf, want, LEN);
		nonce[0] ^= 0x80;
		CU_ASSERT_EQUAL(fg_aead_imb_crypt(mgr, false, key, nonce, aad, sizeof(aad), buf, LEN,
						  tag), -EBADMSG);
		nonce[0] ^= 0x80;
	}
}

/* Generated by gen_vectors.py with Python's cryptography: length, counter, receiver index,
 * BLAKE2b-256 of the sealed message. */
static const struct {
	uint32_t len;
	uint64_t counter;
	uint32_t receiver;
	const char *blake2b;
} py_vectors[] = {
	{ 0, 0x0000000000000000ULL, 0x00000001, "d967e6b1bc7288b49eaec0c6789ecdff529c1e5fad849a09d70ba58e63a5c6f0" },
	{ 1, 0x0000000000000001ULL, 0x01020304, "0b312c7b770e2eb505d50dc105c364460d5618705ac5b6594519e64dba263bec" },
	{ 16, 0x00000000000000ffULL, 0xdeadbeef, "c8936044fb99548716d5abcc2a8b8437133478fcc40f6fac26be2c6847dd270d" },
	{ 64, 0x1122334455667788ULL, 0x00000007, "bd079cb082b657f8cfb7c62b03fed7989c06d5d4e3f7fe48abc8552eb61e637d" },
	{ 512, 0x0000000100000000ULL, 0x80000000, "b2ec1569f7b3512f7c14e841567c14524b43d024a1d7e04553b035ac336b87b3" },
	{ 1420, 0xfffffffffffffffeULL, 0xffffffff, "1fa3f553287e7233405cacb882043f263c3e6637e82afd4e28d88f8a8c0894e0" },
};

static void test_python_vectors(void)
{
	enum { N = sizeof(py_vectors) / sizeof(py_vectors[0]) };
	uint8_t key[FG_WG_KEY_LEN];

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x40 + 3 * i);
	for (unsigned b = 0; b < g_nbe; b++) {
		struct fg_aead_op ops[N];
		uint8_t *bufs[N];

		for (unsigned v = 0; v < N; v++) {
			uint32_t len = py_vectors[v].len;

			bufs[v] = malloc(HDR + len + TAG);
			CU_ASSERT_PTR_NOT_NULL_FATAL(bufs[v]);
			for (uint32_t j = 0; j < len; j++)
				bufs[v][HDR + j] = (uint8_t)(31 * j + 7);
			ops[v] = (struct fg_aead_op){
				.data = bufs[v],
				.key = key,
				.counter = py_vectors[v].counter,
				.len = len,
				.receiver_index = py_vectors[v].receiver,
			};
		}
		CU_ASSERT_EQUAL(be_seal(&g_be[b], ops, N), N);
		for (unsigned v = 0; v < N; v++) {
			uint8_t got[32], want[32];

			crypto_generichash(got, sizeof(got), bufs[v], HDR + py_vectors[v].len + TAG,
					   NULL, 0);
			unhex(want, sizeof(want), py_vectors[v].blake2b);
			if (memcmp(got, want, sizeof(got)) != 0)
				printf("\n  %s: vector %u differs", g_be[b].name, v);
			CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
			ops[v] = (struct fg_aead_op){ .data = bufs[v], .key = key,
						      .len = HDR + py_vectors[v].len + TAG };
		}
		CU_ASSERT_EQUAL(be_open(&g_be[b], ops, N), N);
		for (unsigned v = 0; v < N; v++) {
			CU_ASSERT_EQUAL(ops[v].status, 0);
			CU_ASSERT_EQUAL(ops[v].plain_len, py_vectors[v].len);
			for (uint32_t j = 0; j < py_vectors[v].len; j++)
				if (bufs[v][HDR + j] != (uint8_t)(31 * j + 7)) {
					CU_FAIL("plaintext differs");
					break;
				}
			free(bufs[v]);
		}
	}
}

/* Each backend against crypto_aead_chacha20poly1305_ietf_encrypt() called directly, one
 * known key and the nonce spelled out: 4 zero bytes, then the counter little-endian. */
static void test_against_libsodium(void)
{
	static const uint32_t sizes[] = { 0, 1, 15, 16, 63, 64, 511, 512, 1279, 1280, 1420, 1500 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	uint8_t key[32];
	uint64_t counter = 0x0706050403020100ULL;
	uint8_t nonce[12] = { 0, 0, 0, 0, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
	static uint8_t plain[MAX_PLAIN], want[MAX_PLAIN + 16];

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 ^ i);
	for (unsigned i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 13);
	for (unsigned b = 0; b < g_nbe; b++) {
		for (unsigned s = 0; s < N; s++) {
			uint32_t len = sizes[s];
			uint8_t *buf = malloc(HDR + len + TAG);
			struct fg_aead_op op = {
				.data = buf, .key = key, .counter = counter, .len = len,
				.receiver_index = 0x44332211,
			};
			unsigned long long wlen;

			CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
			memcpy(buf + HDR, plain, len);
			crypto_aead_chacha20poly1305_ietf_encrypt(want, &wlen, plain, len, NULL, 0,
								  NULL, nonce, key);
			CU_ASSERT_EQUAL(be_seal(&g_be[b], &op, 1), 1);
			CU_ASSERT_EQUAL(memcmp(buf, "\x04\0\0\0\x11\x22\x33\x44\0\1\2\3\4\5\6\7", HDR), 0);
			CU_ASSERT_EQUAL(wlen, len + TAG);
			if (memcmp(buf + HDR, want, len + TAG) != 0) {
				printf("\n  %s: %" PRIu32 " bytes differ from libsodium", g_be[b].name, len);
				CU_FAIL("ciphertext");
			}
			free(buf);
		}
	}
}

/* ---- cross-backend round trips ---- */

static void test_cross_sizes(void)
{
	static const uint32_t fixed[] = { 0, 1, 15, 16, 63, 64, 511, 512, 1279, 1280, 1420, 1500 };
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]), NRANDOM = 24, N = NFIXED + NRANDOM };
	unsigned failures = 0;

	for (unsigned s = 0; s < g_nbe; s++) {
		for (unsigned o = 0; o < g_nbe; o++) {
			struct fg_aead_op ops[N];

			for (unsigned i = 0; i < N; i++)
				msg_make(&g_msgs[i], i < NFIXED ? fixed[i] : rnd_below(MAX_PLAIN + 1));
			/* One message per call, then all in one burst below. */
			for (unsigned i = 0; i < N; i++) {
				struct fg_aead_op op = seal_op(&g_msgs[i]);

				CU_ASSERT_EQUAL(be_seal(&g_be[s], &op, 1), 1);
				CU_ASSERT_EQUAL(op.status, 0);
				CU_ASSERT_TRUE(sealed_as_reference(&g_msgs[i]));
				op = open_op(&g_msgs[i], HDR + g_msgs[i].plain_len + TAG);
				CU_ASSERT_EQUAL(be_open(&g_be[o], &op, 1), 1);
				CU_ASSERT_EQUAL(op.status, 0);
				CU_ASSERT_EQUAL(op.plain_len, g_msgs[i].plain_len);
				if (memcmp(g_msgs[i].buf + HDR, g_msgs[i].plain, g_msgs[i].plain_len))
					failures++;
			}
			seal_all(&g_be[s], N);
			for (unsigned i = 0; i < N; i++)
				ops[i] = open_op(&g_msgs[i], HDR + g_msgs[i].plain_len + TAG);
			CU_ASSERT_EQUAL(be_open(&g_be[o], ops, N), N);
			for (unsigned i = 0; i < N; i++) {
				CU_ASSERT_EQUAL(ops[i].status, 0);
				CU_ASSERT_EQUAL(ops[i].plain_len, g_msgs[i].plain_len);
				if (memcmp(g_msgs[i].buf + HDR, g_msgs[i].plain, g_msgs[i].plain_len))
					failures++;
			}
			msgs_free(N);
		}
	}
	CU_ASSERT_EQUAL(failures, 0);
}

enum tamper {
	T_NONE,
	T_TAG,        /* one bit of the tag */
	T_CIPHER,     /* one bit of the ciphertext (the tag when there is none) */
	T_COUNTER,    /* one bit of the header's counter: another nonce */
	T_RECEIVER,   /* not authenticated: must still open */
	T_TYPE,       /* not a data message */
	T_SHORT,      /* one byte missing */
	T_KEY,        /* the wrong key */
	T_COUNT,
};

/* Bursts of every length from 1 to 64 and past the backend's chunk, mixed sizes and keys,
 * about a third of the ops tampered: exactly those fail, with their payload wiped, and
 * every other op in the same burst opens. */
static void test_bursts_tampered(void)
{
	static const unsigned lengths_extra[] = { 65, 127, 128, 129, 300 };
	enum { NEXTRA = sizeof(lengths_extra) / sizeof(lengths_extra[0]) };
	unsigned failures = 0, tampered_total = 0;

	for (unsigned s = 0; s < g_nbe; s++) {
		for (unsigned o = 0; o < g_nbe; o++) {
			for (unsigned k = 1; k <= 64 + NEXTRA; k++) {
				unsigned n = k <= 64 ? k : lengths_extra[k - 65];
				struct fg_aead_op ops[MAX_OPS];
				enum tamper t[MAX_OPS];
				unsigned want_ok = 0;

				for (unsigned i = 0; i < n; i++)
					msg_make(&g_msgs[i], rnd_below(4) == 0 ? rnd_below(64)
									     : rnd_below(MAX_PLAIN + 1));
				seal_all(&g_be[s], n);
				for (unsigned i = 0; i < n; i++) {
					struct msg *m = &g_msgs[i];
					uint32_t len = HDR + m->plain_len + TAG;

					t[i] = rnd_below(3) == 0 ? (enum tamper)(1 + rnd_below(T_COUNT - 1))
								 : T_NONE;
					switch (t[i]) {
					case T_NONE:
					case T_COUNT:
						break;
					case T_TAG:
						m->buf[len - 1 - rnd_below(TAG)] ^= (uint8_t)(1u << rnd_below(8));
						break;
					case T_CIPHER:
						m->buf[HDR + rnd_below(m->plain_len + (m->plain_len ? 0 : TAG))] ^= 0x20;
						break;
					case T_COUNTER:
						m->buf[8 + rnd_below(8)] ^= (uint8_t)(1u << rnd_below(8));
						break;
					case T_RECEIVER:
						m->buf[4 + rnd_below(4)] ^= 0xff;
						break;
					case T_TYPE:
						m->buf[rnd_below(4)] ^= 0x01;
						break;
					case T_SHORT:
						len--;
						break;
					case T_KEY:
						m->key[rnd_below(FG_WG_KEY_LEN)] ^= 0x04;
						break;
					}
					ops[i] = open_op(m, len);
					if (t[i] == T_NONE || t[i] == T_RECEIVER)
						want_ok++;
				}
				unsigned got = be_open(&g_be[o], ops, n);

				CU_ASSERT_EQUAL(got, want_ok);
				for (unsigned i = 0; i < n; i++) {
					struct msg *m = &g_msgs[i];
					bool ok = t[i] == T_NONE || t[i] == T_RECEIVER;

					if (ok) {
						if (ops[i].status != 0 || ops[i].plain_len != m->plain_len ||
						    memcmp(m->buf + HDR, m->plain, m->plain_len) != 0)
							failures++;
						continue;
					}
					tampered_total++;
					if (ops[i].status != -EBADMSG)
						failures++;
					/* A forgery that reached the cipher never leaves plaintext (nor
					 * keystream) behind. */
					if ((t[i] == T_TAG || t[i] == T_CIPHER || t[i] == T_COUNTER ||
					     t[i] == T_KEY) &&
					    m->plain_len && !sodium_is_zero(m->buf + HDR, m->plain_len))
						failures++;
				}
				if (failures) {
					printf("\n  %s -> %s, burst of %u: %u failure(s)", g_be[s].name,
					       g_be[o].name, n, failures);
					msgs_free(n);
					CU_FAIL_FATAL("tampered burst");
				}
				msgs_free(n);
			}
		}
	}
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT_TRUE(tampered_total >= 500 * g_nbe * g_nbe); /* about a third of ~2800 ops a pair */
}

/* Lengths outside a data message never reach a cipher, on any backend: below a keepalive,
 * and above 65535 bytes even with a valid tag (the longest UDP payload opens). */
static void test_bad_lengths(void)
{
	enum { LONGEST = 65535 };
	static uint8_t big[LONGEST + 1];
	uint8_t key[32] = { 1 };
	uint8_t small[FG_WG_DATA_MIN_LEN];

	memset(small, 0, sizeof(small));
	small[0] = FG_WG_MSG_DATA;
	for (unsigned b = 0; b < g_nbe; b++) {
		struct fg_aead_op ops[3] = {
			{ .data = small, .key = key, .len = FG_WG_DATA_MIN_LEN - 1 },
			{ .data = small, .key = key, .len = 0 },
			{ .data = small, .key = key, .len = FG_WG_DATA_MIN_LEN }, /* bad tag */
		};
		struct fg_aead_op op;

		CU_ASSERT_EQUAL(be_open(&g_be[b], ops, 3), 0);
		for (unsigned i = 0; i < 3; i++)
			CU_ASSERT_EQUAL(ops[i].status, -EBADMSG);
		CU_ASSERT_EQUAL(be_open(&g_be[b], ops, 0), 0);
		CU_ASSERT_EQUAL(be_seal(&g_be[b], ops, 0), 0);

		memset(big, 0x5a, sizeof(big));
		fg_wg_transport_seal(big, LONGEST - FG_WG_DATA_OVERHEAD, key, 9, 9);
		op = (struct fg_aead_op){ .data = big, .key = key, .len = LONGEST };
		CU_ASSERT_EQUAL(be_open(&g_be[b], &op, 1), 1);
		CU_ASSERT_EQUAL(op.plain_len, LONGEST - FG_WG_DATA_OVERHEAD);
		memset(big, 0x5a, sizeof(big));
		fg_wg_transport_seal(big, LONGEST + 1 - FG_WG_DATA_OVERHEAD, key, 9, 9);
		op = (struct fg_aead_op){ .data = big, .key = key, .len = LONGEST + 1 };
		CU_ASSERT_EQUAL(be_open(&g_be[b], &op, 1), 0);
		CU_ASSERT_EQUAL(op.status, -EBADMSG);
	}
}

/* ---- backend choice ---- */

static void test_selection(void)
{
	enum fg_aead_imb_arch best = fg_aead_imb_arch_best();
	enum fg_aead_backend b = FG_AEAD_LIBSODIUM;
	const char *imb_name = fg_aead_imb_arch_name(best);

	CU_ASSERT_EQUAL(best, cpu_arch());
	for (unsigned i = 0; i < g_nbe; i++)
		if (g_be[i].mgr)
			CU_ASSERT_EQUAL(mgr_arch(g_be[i].mgr), g_be[i].arch);
	if (best != FG_AEAD_IMB_NONE)
		CU_ASSERT_EQUAL(fg_aead_imb_mgr_new((enum fg_aead_imb_arch)(best + 1)), NULL);

	CU_ASSERT_EQUAL(fg_aead_backend_parse("libsodium", &b), 0);
	CU_ASSERT_EQUAL(b, FG_AEAD_LIBSODIUM);
	CU_ASSERT_EQUAL(fg_aead_backend_parse("ipsec-mb", &b), 0);
	CU_ASSERT_EQUAL(b, FG_AEAD_IPSECMB);
	CU_ASSERT_EQUAL(fg_aead_backend_parse("auto", &b), 0);
	CU_ASSERT_EQUAL(b, FG_AEAD_AUTO);
	CU_ASSERT_EQUAL(fg_aead_backend_parse("ipsecmb", &b), -EINVAL);
	CU_ASSERT_EQUAL(fg_aead_backend_parse("", &b), -EINVAL);
	CU_ASSERT_EQUAL(b, FG_AEAD_AUTO);

	CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_LIBSODIUM), 0);
	CU_ASSERT_STRING_EQUAL(fg_aead_backend_name(), "libsodium");
	CU_ASSERT_EQUAL(fg_aead_init((enum fg_aead_backend)42), -EINVAL);

	CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_AUTO), 0);
	if (best >= FG_AEAD_IMB_AVX2) {
		CU_ASSERT_EQUAL(fg_aead_backend(), FG_AEAD_IPSECMB);
		CU_ASSERT_STRING_EQUAL(fg_aead_backend_name(), imb_name);
	} else {
		CU_ASSERT_EQUAL(fg_aead_backend(), FG_AEAD_LIBSODIUM);
	}
	if (best == FG_AEAD_IMB_NONE) {
		CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_IPSECMB), -ENOTSUP);
	} else {
		CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_IPSECMB), 0);
		CU_ASSERT_STRING_EQUAL(fg_aead_backend_name(), imb_name);
	}
	printf("\n  this CPU: %s, auto -> %s: ", imb_name,
	       best >= FG_AEAD_IMB_AVX2 ? imb_name : "libsodium");

	/* The public bursts go where the choice says. */
	if (best != FG_AEAD_IMB_NONE) {
		uint8_t key[32] = { 0 }, buf[FG_WG_DATA_MIN_LEN];
		struct fg_aead_op op = { .data = buf, .key = key, .len = 0 };
		unsigned seals = g_imb_seals, opens = g_imb_opens;

		CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_IPSECMB), 0);
		CU_ASSERT_EQUAL(fg_aead_seal_burst(&op, 1), 1);
		op = (struct fg_aead_op){ .data = buf, .key = key, .len = sizeof(buf) };
		CU_ASSERT_EQUAL(fg_aead_open_burst(&op, 1), 1);
		CU_ASSERT_EQUAL(g_imb_seals, seals + 1);
		CU_ASSERT_EQUAL(g_imb_opens, opens + 1);
		CU_ASSERT_EQUAL(mgr_arch(g_imb_last), best);
		CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_LIBSODIUM), 0);
		op = (struct fg_aead_op){ .data = buf, .key = key, .len = 0 };
		CU_ASSERT_EQUAL(fg_aead_seal_burst(&op, 1), 1);
		op = (struct fg_aead_op){ .data = buf, .key = key, .len = sizeof(buf) };
		CU_ASSERT_EQUAL(fg_aead_open_burst(&op, 1), 1);
		CU_ASSERT_EQUAL(g_imb_seals, seals + 1);
		CU_ASSERT_EQUAL(g_imb_opens, opens + 1);
	}

	/* The environment overrides the argument, whatever it is. */
	setenv(FG_AEAD_ENV, "libsodium", 1);
	CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_IPSECMB), 0);
	CU_ASSERT_EQUAL(fg_aead_backend(), FG_AEAD_LIBSODIUM);
	setenv(FG_AEAD_ENV, "auto", 1);
	CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_LIBSODIUM), 0);
	CU_ASSERT_EQUAL(fg_aead_backend(), best >= FG_AEAD_IMB_AVX2 ? FG_AEAD_IPSECMB
								    : FG_AEAD_LIBSODIUM);
	setenv(FG_AEAD_ENV, "ipsec-mb", 1);
	CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_LIBSODIUM), best ? 0 : -ENOTSUP);
	setenv(FG_AEAD_ENV, "openssl", 1);
	CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_LIBSODIUM), -EINVAL);
	setenv(FG_AEAD_ENV, "", 1); /* empty: as if unset */
	CU_ASSERT_EQUAL(fg_aead_init(FG_AEAD_LIBSODIUM), 0);
	CU_ASSERT_EQUAL(fg_aead_backend(), FG_AEAD_LIBSODIUM);
	unsetenv(FG_AEAD_ENV);
}

/* ---- one manager per thread ---- */

enum { THREAD_ROUNDS = 200 };

struct thread_arg {
	bool lcore_init;
	unsigned failures;
	uint64_t seed;
};

/* What a worker does: its own manager, then bursts on its own buffers. */
static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	enum { N = 32, LEN = 256 };
	uint8_t bufs[N][HDR + LEN + TAG];
	uint8_t plain[N][LEN];
	uint8_t key[32];
	uint64_t x = a->seed;

	if (a->lcore_init && fg_aead_lcore_init() != 0) {
		a->failures++;
		return NULL;
	}
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(x >> (i % 8));
	for (unsigned r = 0; r < THREAD_ROUNDS; r++) {
		struct fg_aead_op ops[N];

		for (unsigned i = 0; i < N; i++) {
			uint32_t len = (uint32_t)((x + r * 7 + i * 13) % (LEN + 1));

			for (uint32_t j = 0; j < len; j++)
				plain[i][j] = (uint8_t)(x + r + i + j);
			memcpy(bufs[i] + HDR, plain[i], len);
			ops[i] = (struct fg_aead_op){ .data = bufs[i], .key = key,
						      .counter = (uint64_t)r * N + i, .len = len };
		}
		if (fg_aead_seal_burst(ops, N) != N)
			a->failures++;
		for (unsigned i = 0; i < N; i++)
			ops[i] = (struct fg_aead_op){ .data = bufs[i], .key = key,
						      .len = HDR + ops[i].len + TAG };
		if (fg_aead_open_burst(ops, N) != N)
			a->failures++;
		for (unsigned i = 0; i < N; i++)
			if (ops[i].status != 0 || memcmp(bufs[i] + HDR, plain[i], ops[i].plain_len))
				a->failures++;
	}
	fg_aead_lcore_fini();
	return NULL;
}

static void test_threads(void)
{
	struct thread_arg args[3] = {
		{ .lcore_init = true, .seed = 0x1111 },
		{ .lcore_init = true, .seed = 0x2222 },
		{ .lcore_init = false, .seed = 0x3333 }, /* no manager: libsodium, same results */
	};
	pthread_t th[3];
	unsigned opens, seals;

	CU_ASSERT_EQUAL_FATAL(fg_aead_init(FG_AEAD_AUTO), 0);
	opens = g_imb_opens;
	seals = g_imb_seals;
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(args[i].failures, 0);
	}
	/* Only the two threads with a manager used ipsec-mb, every burst of theirs. */
	if (fg_aead_backend() == FG_AEAD_IPSECMB) {
		CU_ASSERT_EQUAL(g_imb_opens - opens, 2 * THREAD_ROUNDS);
		CU_ASSERT_EQUAL(g_imb_seals - seals, 2 * THREAD_ROUNDS);
	} else {
		CU_ASSERT_EQUAL(g_imb_opens, opens);
	}
}

int main(void)
{
	static const struct fg_cunit_test cases[] = {
		WG_TEST(test_selection),
		WG_TEST(test_rfc8439_aead),
		WG_TEST(test_python_vectors),
		WG_TEST(test_against_libsodium),
		WG_TEST(test_cross_sizes),
		WG_TEST(test_bursts_tampered),
		WG_TEST(test_bad_lengths),
		WG_TEST(test_threads),
	};
	const char *seed = getenv("AEAD_TEST_SEED");
	int ret;

	/* The suite picks each backend itself. */
	unsetenv(FG_AEAD_ENV);
	if (fg_aead_init(FG_AEAD_LIBSODIUM) != 0)
		return 1;
	g_rng = seed ? strtoull(seed, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (!g_rng)
		g_rng = 1;
	printf("AEAD_TEST_SEED=0x%" PRIx64 "\n", g_rng);
	setup_backends();
	printf("backends:");
	for (unsigned b = 0; b < g_nbe; b++)
		printf(" [%s]", g_be[b].name);
	printf("\n");
	ret = fg_cunit_run("aead", cases, sizeof(cases) / sizeof(cases[0]));
	for (unsigned b = 0; b < g_nbe; b++)
		fg_aead_imb_mgr_free(g_be[b].mgr);
	fg_aead_lcore_fini();
	return ret;
}
