// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for flow-logs ingest tokens (controlplane/flow/flow_token.c): any bytes
 * as a token, and as the claims JSON of an otherwise well-formed one. What parses must be
 * valid, name a hyphenated UUID as its authorization (a spool directory name) and hold
 * every required claim.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "flow_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *token)
{
	struct fg_flow_claims c;
	char err[160];

	if (fg_flow_token_parse(token, &c, err, sizeof(err)) != 0)
		return;
	if (!c.valid || !fg_flow_uuid_valid(c.authz_id) || !c.v[FG_CLAIM_ROLE] || !c.v[FG_CLAIM_POLICY_ID] ||
	    (strcmp(c.v[FG_CLAIM_ROLE], "initiator") && strcmp(c.v[FG_CLAIM_ROLE], "responder")))
		abort();
	fg_flow_claims_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "eyJhbGciOiJIUzI1NiJ9.";   /* {"alg":"HS256"} */
	char *raw, *tok;
	size_t cap;

	if (size > FG_FLOW_TOKEN_MAX)
		return 0;
	raw = malloc(size + 1);
	if (!raw)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';
	check(raw);
	cap = sizeof(head) + sodium_base64_encoded_len(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING) + 8;
	tok = malloc(cap);
	if (tok) {
		memcpy(tok, head, sizeof(head) - 1);
		sodium_bin2base64(tok + sizeof(head) - 1, cap - sizeof(head), data, size,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		strcat(tok, ".c2ln");
		check(tok);
		free(tok);
	}
	free(raw);
	return 0;
}
