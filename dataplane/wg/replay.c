// SPDX-License-Identifier: MIT
/*
 * Replay protection for received data messages (whitepaper §5.4.6), with the semantics of
 * the kernel's counter_validate: a sliding window of FG_WG_REPLAY_WINDOW counters below
 * the greatest accepted one, kept as a ring of 64-bit words so that moving the window
 * forward costs one word store per 64 counters instead of a shift of the whole bitmap.
 * Each struct fg_wg_replay belongs to the lcore that decrypts for its keypair; there is no
 * locking and no atomics, and the functions allocate nothing.
 *
 * Why the window is 64 bits short of the ring: the word holding the greatest counter is
 * only partly "in the past", so the ring must keep one spare word to avoid the newest
 * word aliasing the oldest one still inside the window. With greatest g and a candidate c
 * inside the window, g / 64 - c / 64 <= 127, so c's word is never one that an advance
 * has just cleared.
 */
#include "replay.h"

#include <string.h>

#include "messages.h"

enum {
	WORD_SHIFT = 6,                         /* log2(FG_WG_REPLAY_WORD_BITS) */
	BIT_MASK = FG_WG_REPLAY_WORD_BITS - 1,
	RING_MASK = FG_WG_REPLAY_WORDS - 1,
};

_Static_assert((FG_WG_REPLAY_WORDS & RING_MASK) == 0, "ring length is a power of two");
_Static_assert(1 << WORD_SHIFT == FG_WG_REPLAY_WORD_BITS, "word shift matches word size");

static inline uint64_t word_of(uint64_t counter)
{
	return counter >> WORD_SHIFT;
}

static inline unsigned slot_of(uint64_t counter)
{
	return (unsigned)(word_of(counter) & RING_MASK);
}

static inline uint64_t bit_of(uint64_t counter)
{
	return 1ULL << (counter & BIT_MASK);
}

/* Only meaningful for a counter inside the window (see the note at the top). */
static inline bool seen(const struct fg_wg_replay *r, uint64_t counter)
{
	return (r->bitmap[slot_of(counter)] & bit_of(counter)) != 0;
}

/*
 * True when counter can never be accepted whatever the bitmap says: past the message
 * limit, or so far behind the greatest accepted counter that its bit has been recycled.
 * counter < FG_WG_REJECT_AFTER_MESSAGES makes the addition below overflow-free.
 */
static inline bool out_of_range(const struct fg_wg_replay *r, uint64_t counter)
{
	if (counter >= FG_WG_REJECT_AFTER_MESSAGES)
		return true;
	return counter + FG_WG_REPLAY_WINDOW < r->greatest;
}

void fg_wg_replay_init(struct fg_wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool fg_wg_replay_check(const struct fg_wg_replay *r, uint64_t counter)
{
	if (out_of_range(r, counter))
		return false;
	if (counter > r->greatest)
		return true;
	return !seen(r, counter);
}

/*
 * Moving the window forward: every word strictly after the greatest counter's word, up to
 * and including the new counter's word, now describes counters that have not been seen
 * yet, so it is cleared. A jump of a whole ring or more clears every word once.
 */
static void advance(struct fg_wg_replay *r, uint64_t counter)
{
	uint64_t from = word_of(r->greatest);
	uint64_t steps = word_of(counter) - from;

	if (steps > FG_WG_REPLAY_WORDS)
		steps = FG_WG_REPLAY_WORDS;
	for (uint64_t i = 1; i <= steps; i++)
		r->bitmap[(from + i) & RING_MASK] = 0;
	r->greatest = counter;
}

bool fg_wg_replay_update(struct fg_wg_replay *r, uint64_t counter)
{
	if (out_of_range(r, counter))
		return false;
	if (counter > r->greatest)
		advance(r, counter);
	else if (seen(r, counter))
		return false;
	r->bitmap[slot_of(counter)] |= bit_of(counter);
	return true;
}
