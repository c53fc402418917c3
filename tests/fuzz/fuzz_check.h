/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer harnesses share: CHECK, which reports the broken property with its place
 * and aborts (libFuzzer keeps the input), and N, the length of an array.
 */
#ifndef FG_FUZZ_CHECK_H
#define FG_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                          \
		}                                                                         \
	} while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))

#endif
