/* SPDX-License-Identifier: MIT */
/*
 * The receive-side replay window of one keypair (whitepaper §5.4.6, the kernel's
 * counter_validate): a ring of 128 64-bit words holding the last 8192 counter bits, of
 * which 8192 - 64 form the usable window so that advancing never wipes a live bit. The
 * state is owned by the lcore that decrypts for the keypair, so nothing here is atomic;
 * another lcore must never touch it.
 */
#ifndef FG_REPLAY_H
#define FG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

enum {
	FG_WG_REPLAY_BITS_TOTAL = 8192,
	FG_WG_REPLAY_WORD_BITS = 64,
	FG_WG_REPLAY_WORDS = FG_WG_REPLAY_BITS_TOTAL / FG_WG_REPLAY_WORD_BITS,
	/* A counter this far or less below the greatest one seen is still judged by its bit. */
	FG_WG_REPLAY_WINDOW = FG_WG_REPLAY_BITS_TOTAL - FG_WG_REPLAY_WORD_BITS,
};

struct fg_wg_replay {
	uint64_t greatest;                      /* highest counter accepted; 0 before any */
	uint64_t bitmap[FG_WG_REPLAY_WORDS];    /* bit (c % 8192) set once c was accepted */
};

void fg_wg_replay_init(struct fg_wg_replay *r);
/*
 * Cheap pre-check before decryption: false if counter is certainly a replay, too old for
 * the window, or >= FG_WG_REJECT_AFTER_MESSAGES. Does not modify r: a forged packet that
 * passes here and then fails authentication must leave no trace.
 */
bool fg_wg_replay_check(const struct fg_wg_replay *r, uint64_t counter);
/*
 * After successful authentication: records counter. Returns false (and records nothing)
 * if it was already seen, is too old, or is too big.
 */
bool fg_wg_replay_update(struct fg_wg_replay *r, uint64_t counter);

#endif
