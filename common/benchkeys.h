/* SPDX-License-Identifier: MIT */
/*
 * The parser of keys.txt, the key listing fastgate-gen-pcaps (pktgen-profiles/) writes beside
 * its pcaps: the fixed test sessions a bench build of the data plane installs
 * (--bench-sessions, dataplane/service/svc_bench.h) and fastgate-bench --pcap replays. It is
 * operator input, so it is parsed strictly: every line is either blank, a '#' comment,
 *   gateway private <b64> public <b64>
 * (exactly once) or
 *   client <i> private <b64> public <b64> sport <n> sender_index 0x<hex> receiver_index 0x<hex>
 *          send <b64> recv <b64>
 * (one line, clients numbered 0, 1, 2 ... in order). Keys are 44-character base64 of 32 bytes,
 * each public key must be its private key's (X25519), indexes are non-zero and 1..8 hex
 * digits, receiver indexes and public keys are unique, sport is 1..65535. An error names the
 * line and the field, never the text of a key. The private keys are checked and wiped at
 * once; the session keys are kept until fg_benchkeys_free(), which wipes them. Pure: no
 * state, any thread.
 */
#ifndef FG_BENCHKEYS_H
#define FG_BENCHKEYS_H

#include <stddef.h>
#include <stdint.h>

enum {
	FG_BENCHKEYS_MAX_CLIENTS = 4096,
	FG_BENCHKEYS_MAX_FILE = 1 << 20,     /* bytes */
	FG_BENCHKEYS_MAX_LINE = 512,         /* bytes, without the newline */
};

/* One client's side of its fixed session, as keys.txt lists it (the client's view: what it
 * sends with, what it receives with). The gateway opens with send_key and seals with
 * recv_key; its local index is receiver_index, its remote index sender_index. */
struct fg_benchkeys_client {
	uint8_t public_key[32];
	uint8_t send_key[32];
	uint8_t recv_key[32];
	uint32_t sender_index;
	uint32_t receiver_index;
	uint16_t sport;                      /* the client's UDP source port */
};

struct fg_benchkeys {
	uint8_t gateway_public[32];
	uint32_t n;
	struct fg_benchkeys_client *clients; /* n of them (heap) */
};

/*
 * Parses len bytes of text (need not be NUL-terminated). 0 with *out filled (free it with
 * fg_benchkeys_free), or -EINVAL (err: "line N: ..."), -E2BIG (too long, too many clients)
 * or -ENOMEM, with *out empty.
 */
int fg_benchkeys_parse(const char *text, size_t len, struct fg_benchkeys *out, char *err, size_t errlen);
/* Reads and parses a regular file of at most FG_BENCHKEYS_MAX_FILE bytes; the read buffer is
 * wiped. Errors as fg_benchkeys_parse, prefixed with the path, or -errno of open/read. */
int fg_benchkeys_load(const char *path, struct fg_benchkeys *out, char *err, size_t errlen);
/* Wipes and frees the session keys; *k is left empty. Idempotent. */
void fg_benchkeys_free(struct fg_benchkeys *k);

#endif
