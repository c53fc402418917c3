// SPDX-License-Identifier: MIT
/*
 * Handshake rates on one core (the main lcore), the service lcore's two costs under a
 * flood: (1) complete responder handshakes: MAC1 check, consume the initiation (both
 * steps), create the response, add its MACs, derive the transport keys, exactly the calls
 * handshake.c makes; (2) MAC1 rejections: initiations whose mac1 is wrong, the first thing
 * the responder checks. Initiations from 64 peers are made before the timed loop and
 * replayed in a cycle; when the cycle wraps the peers' replay and flood state is cleared
 * (outside the timed part) so every timed handshake is accepted. The flood limit (50
 * initiations per peer per second) is satisfied with a synthetic clock that advances 1 s
 * per message: the check runs, it just never trips. No state is shared with the workers.
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <sodium.h>

#include "clock.h"
#include "cookie.h"
#include "noise.h"

enum {
	HS_PEERS = 64,
	HS_PER_PEER = 8,
	HS_MSGS = HS_PEERS * HS_PER_PEER,
	JUNK_MSGS = 1024,
};

struct hs_bench {
	struct fg_noise_local responder;
	struct fg_wg_cookie_checker checker;
	struct fg_noise_local initiators[HS_PEERS];
	struct fg_noise_peer at_responder[HS_PEERS]; /* the responder's view of each initiator */
	struct fg_wg_cookie cookie_to_init[HS_PEERS]; /* its MACs on the responses */
	struct fg_wg_msg_initiation msgs[HS_MSGS];
	struct fg_wg_msg_initiation junk[JUNK_MSGS];
};

static const uint8_t SRC_ADDR[4] = { 198, 18, 1, 1 };

static int setup(struct hs_bench *b)
{
	uint8_t key[FG_WG_KEY_LEN];

	randombytes_buf(key, sizeof(key));
	if (fg_noise_local_init(&b->responder, key) < 0)
		return -EINVAL;
	fg_wg_cookie_checker_init(&b->checker, b->responder.public_key);
	for (unsigned p = 0; p < HS_PEERS; p++) {
		struct fg_noise_peer to_responder;
		struct fg_wg_cookie cookie;

		randombytes_buf(key, sizeof(key));
		if (fg_noise_local_init(&b->initiators[p], key) < 0 ||
		    fg_noise_peer_init(&to_responder, &b->initiators[p], b->responder.public_key, NULL) < 0 ||
		    fg_noise_peer_init(&b->at_responder[p], &b->responder, b->initiators[p].public_key, NULL) < 0)
			return -EINVAL;
		fg_wg_cookie_init(&cookie, b->responder.public_key);
		fg_wg_cookie_init(&b->cookie_to_init[p], b->initiators[p].public_key);
		for (unsigned k = 0; k < HS_PER_PEER; k++) {
			struct fg_wg_msg_initiation *m = &b->msgs[k * HS_PEERS + p];
			struct fg_noise_handshake hs;

			/* Timestamps 1 s apart: each newer than the peer's last one. */
			if (fg_noise_create_initiation(m, &hs, &b->initiators[p], &to_responder, p * HS_PER_PEER + k,
						       fg_clock_wall_ns() + (uint64_t)k * FG_NS_PER_S) < 0)
				return -EINVAL;
			fg_wg_cookie_add_macs(&cookie, m, sizeof(*m), 0);
			fg_noise_handshake_clear(&hs);
		}
		fg_noise_peer_clear(&to_responder);
		fg_wg_cookie_clear(&cookie);
	}
	for (unsigned j = 0; j < JUNK_MSGS; j++) {
		b->junk[j] = b->msgs[j % HS_MSGS];
		randombytes_buf(b->junk[j].macs.mac1, FG_WG_MAC_LEN);
	}
	sodium_memzero(key, sizeof(key));
	return 0;
}

/* The peer whose public key the initiation carried (a hash table in handshake.c). */
static struct fg_noise_peer *find_peer(struct hs_bench *b, const uint8_t pub[FG_WG_KEY_LEN], unsigned *idx)
{
	for (unsigned p = 0; p < HS_PEERS; p++)
		if (memcmp(b->at_responder[p].public_key, pub, FG_WG_KEY_LEN) == 0) {
			*idx = p;
			return &b->at_responder[p];
		}
	return NULL;
}

static int respond(struct hs_bench *b, const struct fg_wg_msg_initiation *m, uint64_t now, uint32_t index)
{
	struct fg_noise_handshake hs;
	struct fg_wg_msg_response resp;
	struct fg_noise_keypair_keys keys;
	uint8_t initiator[FG_WG_KEY_LEN];
	struct fg_noise_peer *p;
	unsigned idx;
	int ret = -EINVAL;

	if (fg_wg_cookie_validate(&b->checker, m, sizeof(*m), SRC_ADDR, sizeof(SRC_ADDR), 51820, now) ==
	    FG_WG_COOKIE_MAC_INVALID)
		return -EBADMSG;
	if (fg_noise_consume_initiation_begin(m, &b->responder, &hs, initiator) < 0)
		goto out;
	p = find_peer(b, initiator, &idx);
	if (!p || fg_noise_consume_initiation_finish(m, &hs, p, now) < 0 ||
	    fg_noise_create_response(&resp, &hs, &b->responder, p, index) < 0)
		goto out;
	fg_wg_cookie_add_macs(&b->cookie_to_init[idx], &resp, sizeof(resp), now);
	ret = fg_noise_derive_keys(&hs, &keys);
out:
	fg_noise_handshake_clear(&hs);
	sodium_memzero(&keys, sizeof(keys));
	sodium_memzero(initiator, sizeof(initiator));
	return ret;
}

int fg_bench_handshakes(double seconds, FILE *out)
{
	struct hs_bench *b = calloc(1, sizeof(*b));
	double hz = (double)rte_get_tsc_hz();
	uint64_t now = FG_NS_PER_S, cycles = 0, done = 0, failed = 0, end;
	unsigned i = 0;
	int ret;

	if (!b)
		return -ENOMEM;
	ret = setup(b);
	if (ret < 0) {
		fprintf(out, "handshakes: set-up failed: %s\n", strerror(-ret));
		goto out;
	}
	end = rte_rdtsc() + (uint64_t)(seconds * hz);
	while (rte_rdtsc() < end) {
		if (i == HS_MSGS) {
			/* The cycle starts again with old timestamps: forget them (untimed). */
			for (unsigned p = 0; p < HS_PEERS; p++) {
				memset(b->at_responder[p].latest_timestamp, 0, FG_WG_TAI64N_LEN);
				b->at_responder[p].have_initiation = false;
			}
			i = 0;
		}
		now += FG_NS_PER_S;
		uint64_t t0 = rte_rdtsc();
		int r = respond(b, &b->msgs[i], now, i);

		cycles += rte_rdtsc() - t0;
		if (r < 0)
			failed++;
		else
			done++;
		i++;
	}
	fprintf(out, "\nhandshakes (responder, one core, MAC1 + Noise IKpsk2 + response MACs + keys): %.0f/s, "
		     "%.1f us each, %llu failed\n",
		done ? (double)done * hz / (double)cycles : 0, done ? (double)cycles / (double)done / hz * 1e6 : 0,
		(unsigned long long)failed);
	if (failed)
		ret = -EPROTO;

	uint64_t rejected = 0, accepted = 0;
	cycles = 0;
	end = rte_rdtsc() + (uint64_t)(seconds / 4 * hz);
	while (rte_rdtsc() < end) {
		uint64_t t0 = rte_rdtsc();

		for (unsigned j = 0; j < JUNK_MSGS; j++) {
			if (fg_wg_cookie_validate(&b->checker, &b->junk[j], sizeof(b->junk[j]), SRC_ADDR, sizeof(SRC_ADDR),
						  51820, now) == FG_WG_COOKIE_MAC_INVALID)
				rejected++;
			else
				accepted++;
		}
		cycles += rte_rdtsc() - t0;
	}
	fprintf(out, "MAC1 rejections (initiations with a wrong mac1, one core): %.2f M/s, %.0f ns each, "
		     "%llu wrongly accepted\n",
		rejected ? (double)rejected * hz / (double)cycles / 1e6 : 0,
		rejected ? (double)cycles / (double)(rejected + accepted) / hz * 1e9 : 0,
		(unsigned long long)accepted);
	if (accepted || !rejected)
		ret = -EPROTO;
out:
	sodium_memzero(b, sizeof(*b));
	free(b);
	return ret;
}
