// SPDX-License-Identifier: MIT
/*
 * Prints the raw rate of each transport AEAD backend on one core: bursts of 32 WireGuard
 * data messages of 64, 512 and 1420 plaintext bytes, sealed or opened in place through
 * aead.h, as Mpps, plaintext Gbit/s and ns per message, with the ipsec-mb / libsodium ratio
 * of the same run. Backends alternate in rounds and each keeps its best round, so that
 * noise from a shared machine hits all of them alike. Opening needs the ciphertext back
 * before every burst: that copy is outside the timed region. Prints, never asserts a
 * time; exits non-zero only if a message fails to open. Single-threaded.
 *
 *   bench_aead [--seconds S]   S seconds per size and direction, all backends (default 3)
 *   bench_aead --smoke         a few bursts of each, to check that it runs
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "aead.h"
#include "aead_ipsecmb.h"
#include "messages.h"
#include "transport.h"

enum {
	BURST = 32,
	MAX_SIZE = 1420,
	MSG_MAX = FG_WG_DATA_OVERHEAD + MAX_SIZE,
	ROUNDS = 5,
	MAX_BACKENDS = 3,
};

struct bench_backend {
	char name[32];
	enum fg_aead_backend pub; /* through aead.h, when mgr is NULL */
	struct IMB_MGR *mgr;
	double best[2];           /* ops/s: seal, open */
};

static uint8_t g_work[BURST][MSG_MAX];
static uint8_t g_sealed[BURST][MSG_MAX];
static uint8_t g_key[FG_WG_KEY_LEN];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned burst(const struct bench_backend *be, bool open, struct fg_aead_op *ops)
{
	if (be->mgr)
		return open ? fg_aead_imb_open_burst(be->mgr, ops, BURST)
			    : fg_aead_imb_seal_burst(be->mgr, ops, BURST);
	return open ? fg_aead_open_burst(ops, BURST) : fg_aead_seal_burst(ops, BURST);
}

/* Messages per second of busy time over about `secs`; -1 if a message failed to open. */
static double measure(const struct bench_backend *be, bool open, uint32_t size, double secs)
{
	uint32_t msg_len = size + FG_WG_DATA_OVERHEAD;
	double start = now_s(), busy = 0;
	uint64_t done = 0, counter = 0;

	if (!be->mgr && fg_aead_init(be->pub) != 0)
		return -1;
	do {
		for (unsigned rep = 0; rep < 16; rep++) {
			struct fg_aead_op ops[BURST];
			double t0, t1;
			unsigned n;

			for (unsigned i = 0; i < BURST; i++) {
				if (open)
					memcpy(g_work[i], g_sealed[i], msg_len);
				ops[i] = (struct fg_aead_op){
					.data = g_work[i],
					.key = g_key,
					.counter = counter++,
					.len = open ? msg_len : size,
				};
			}
			t0 = now_s();
			n = burst(be, open, ops);
			t1 = now_s();
			if (n != BURST)
				return -1;
			busy += t1 - t0;
			done += BURST;
		}
	} while (now_s() - start < secs);
	return (double)done / busy;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 64, 512, 1420 };
	static const char *const dirs[] = { "seal", "open" };
	struct bench_backend be[MAX_BACKENDS];
	enum fg_aead_imb_arch best = fg_aead_imb_arch_best();
	double secs = 3;
	unsigned nbe = 0, rounds = ROUNDS;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0) {
			secs = 0.002;
			rounds = 1;
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			secs = strtod(argv[++i], NULL);
		} else {
			fprintf(stderr, "usage: %s [--seconds S | --smoke]\n", argv[0]);
			return 2;
		}
	}
	unsetenv(FG_AEAD_ENV);
	if (fg_aead_init(FG_AEAD_LIBSODIUM) != 0) {
		fprintf(stderr, "libsodium failed to initialise\n");
		return 1;
	}
	memset(be, 0, sizeof(be));
	snprintf(be[nbe].name, sizeof(be[nbe].name), "libsodium");
	be[nbe++].pub = FG_AEAD_LIBSODIUM;
	if (best != FG_AEAD_IMB_NONE) {
		snprintf(be[nbe].name, sizeof(be[nbe].name), "%s", fg_aead_imb_arch_name(best));
		be[nbe++].pub = FG_AEAD_IPSECMB;
	}
	/* What AUTO gives on an AVX2-only host. */
	if (best > FG_AEAD_IMB_AVX2) {
		be[nbe].mgr = fg_aead_imb_mgr_new(FG_AEAD_IMB_AVX2);
		if (be[nbe].mgr)
			snprintf(be[nbe++].name, sizeof(be[0].name), "%s (direct)",
				 fg_aead_imb_arch_name(FG_AEAD_IMB_AVX2));
	}

	printf("transport AEAD, one core, burst %u, in place; %.3g s per size and direction: "
	       "best of %u rounds, backends alternating\n", BURST, secs, rounds);
	printf("%6s %5s  %-26s %8s %8s %9s %7s\n", "size", "dir", "backend", "Mpps", "Gbit/s",
	       "ns/msg", "ratio");
	randombytes_buf(g_key, sizeof(g_key));
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t size = sizes[s];

		for (unsigned i = 0; i < BURST; i++) {
			randombytes_buf(g_sealed[i] + FG_WG_DATA_HDR_LEN, size);
			fg_wg_transport_seal(g_sealed[i], size, g_key, 1, i);
		}
		for (unsigned d = 0; d < 2; d++) {
			for (unsigned b = 0; b < nbe; b++)
				be[b].best[d] = 0;
			for (unsigned r = 0; r < rounds; r++) {
				for (unsigned b = 0; b < nbe; b++) {
					double rate = measure(&be[b], d == 1, size, secs / rounds / nbe);

					if (rate < 0) {
						fprintf(stderr, "%s: a message failed to %s\n", be[b].name,
							dirs[d]);
						return 1;
					}
					if (rate > be[b].best[d])
						be[b].best[d] = rate;
				}
			}
			for (unsigned b = 0; b < nbe; b++) {
				double pps = be[b].best[d];
				char ratio[16] = "";

				if (b > 0)
					snprintf(ratio, sizeof(ratio), "%.2fx", pps / be[0].best[d]);
				printf("%6u %5s  %-26s %8.2f %8.2f %9.1f %7s\n", size, dirs[d], be[b].name,
				       pps / 1e6, pps * size * 8 / 1e9, 1e9 / pps, ratio);
			}
		}
	}
	if (nbe > 1)
		printf("ratio = backend / libsodium, same run\n");
	for (unsigned b = 0; b < nbe; b++)
		fg_aead_imb_mgr_free(be[b].mgr);
	fg_aead_lcore_fini();
	return 0;
}
