// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the keys.txt parser (common/benchkeys.c): any bytes as the file. What
 * parses must hold what the grammar promises (1..FG_BENCHKEYS_MAX_CLIENTS clients, ports and
 * indexes non-zero, receiver indexes and public keys unique); what does not must leave
 * nothing allocated and an error message that names a line or the whole file. The seeds
 * (corpus/benchkeys/) start from fastgate-gen-pcaps' real output, whose X25519-consistent
 * keys random bytes would never find.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "benchkeys.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_benchkeys k;
	char err[256] = "";
	int r = fg_benchkeys_parse((const char *)data, size, &k, err, sizeof(err));

	if (r < 0) {
		CHECK(k.clients == NULL && k.n == 0);
		CHECK(err[0] != '\0');
		return 0;
	}
	CHECK(r == 0 && k.n >= 1 && k.n <= FG_BENCHKEYS_MAX_CLIENTS && k.clients);
	for (uint32_t i = 0; i < k.n; i++) {
		const struct fg_benchkeys_client *c = &k.clients[i];

		CHECK(c->sport != 0 && c->sender_index != 0 && c->receiver_index != 0);
		for (uint32_t j = 0; j < i; j++) {
			CHECK(k.clients[j].receiver_index != c->receiver_index);
			CHECK(memcmp(k.clients[j].public_key, c->public_key, 32) != 0);
		}
	}
	fg_benchkeys_free(&k);
	CHECK(k.clients == NULL && k.n == 0);
	return 0;
}
