/* SPDX-License-Identifier: MIT */
/*
 * The flow-logs ingest token of an authorization (create_authorization's
 * flow_logs_ingest_token), as the Rust gateway reads it (flow-tracker/src/token.rs): an HS256
 * JWT whose claims attribute the flows (who, which policy, which resource) and say whether
 * its flows are uploaded. The signature is not verified (only the portal and the ingest API
 * hold the key): the claims are parsed, checked for shape, and used for the log lines and
 * the spool's directory name; the raw token is only ever the Bearer credential of uploads.
 * Pure functions over the caller's values; the claims belong to the caller (the control
 * plane's single thread).
 */
#ifndef FG_FLOW_TOKEN_H
#define FG_FLOW_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	FG_FLOW_TOKEN_MAX = 8192,      /* bytes of a token (the portal parser's cap) */
	FG_FLOW_CLAIM_MAX = 1024,      /* bytes of one string claim */
	FG_FLOW_UUID_LEN = 37,         /* a hyphenated UUID and its NUL */
};

/* The attribution claims, in the order the Rust gateway emits them on a flow line. */
enum fg_flow_claim {
	FG_CLAIM_ROLE = 0,
	FG_CLAIM_INITIATOR_DEVICE_ID,
	FG_CLAIM_RESPONDER_DEVICE_ID,
	FG_CLAIM_POLICY_AUTHORIZATION_ID,
	FG_CLAIM_POLICY_ID,
	FG_CLAIM_RESOURCE_ID,
	FG_CLAIM_RESOURCE_NAME,
	FG_CLAIM_RESOURCE_ADDRESS,             /* optional */
	FG_CLAIM_INITIATOR_ACTOR_ID,
	FG_CLAIM_INITIATOR_ACTOR_EMAIL,        /* optional */
	FG_CLAIM_INITIATOR_ACTOR_NAME,
	FG_CLAIM_INITIATOR_AUTH_PROVIDER_ID,   /* optional */
	FG_CLAIM_AUTHORIZED_AT,
	FG_CLAIM_AUTHORIZATION_EXPIRES_AT,
	FG_CLAIM_INITIATOR_CLIENT_VERSION,     /* optional, and every one after it */
	FG_CLAIM_INITIATOR_DEVICE_OS_NAME,
	FG_CLAIM_INITIATOR_DEVICE_OS_VERSION,
	FG_CLAIM_INITIATOR_DEVICE_SERIAL,
	FG_CLAIM_INITIATOR_DEVICE_UUID,
	FG_CLAIM_INITIATOR_DEVICE_IDENTIFIER_FOR_VENDOR,
	FG_CLAIM_INITIATOR_DEVICE_FIREBASE_INSTALLATION_ID,
	FG_CLAIM_COUNT,
};

struct fg_flow_claims {
	bool valid;                    /* every required claim is there, of its type */
	bool uploads_enabled;
	uint64_t iat, exp;             /* unix seconds */
	char authz_id[FG_FLOW_UUID_LEN]; /* policy_authorization_id, a hyphenated UUID */
	char *v[FG_CLAIM_COUNT];       /* heap; NULL: an optional claim absent or null */
};

/* The claim's JSON name ("initiator_device_id"). */
const char *fg_flow_claim_name(enum fg_flow_claim c);
/* Parses token's claims into *out (which then needs fg_flow_claims_free). 0, or -EBADMSG
 * with a reason that never quotes the token (three base64url segments, a JSON header with
 * alg HS256, a non-empty signature, the claims of Rust's IngestTokenClaims with role
 * "initiator" or "responder" and a hyphenated UUID as policy_authorization_id), -ENOMEM.
 * On failure *out holds nothing to free. */
int fg_flow_token_parse(const char *token, struct fg_flow_claims *out, char *err, size_t errlen);
void fg_flow_claims_free(struct fg_flow_claims *c);
/* A hyphenated UUID (36 characters, hex digits of either case): the only names the spool
 * accepts as a directory. */
bool fg_flow_uuid_valid(const char *s);

#endif
