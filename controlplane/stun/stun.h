/* SPDX-License-Identifier: MIT */
/*
 * The STUN/TURN message codec (RFC 8489 STUN, RFC 8656 TURN, RFC 8445 ICE attributes) that
 * the relay client and the ICE agent of the control plane speak on the WireGuard port. Pure:
 * no sockets, no clock, no global state. fg_stun_parse() allocates nothing: a struct
 * fg_stun_msg is a view of the caller's buffer (offsets of the attributes it found), valid
 * while that buffer is. The builder writes into the caller's buffer and never past its
 * capacity: running out is an error (-ENOBUFS) that sticks until fg_stun_build_finish().
 * The integrity functions call OpenSSL (HMAC-SHA1, HMAC-SHA256, MD5), which allocates a
 * context per call. Everything here is used by the control plane's single thread, but has no
 * state of its own and is safe from any thread.
 *
 * What the parser enforces: the header (first two bits zero, magic cookie, length a multiple
 * of 4 and equal to the datagram's), every attribute inside the message with its padding,
 * the value of every attribute it knows (length, address family, ranges), nothing after
 * FINGERPRINT, and FINGERPRINT's CRC when present. Attributes after MESSAGE-INTEGRITY other
 * than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are skipped (RFC 8489 §14.5), as are
 * unknown comprehension-optional ones (0x8000-0xFFFF). Of duplicates, the first counts.
 */
#ifndef FG_STUN_H
#define FG_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum fg_stun_limits {
	FG_STUN_HEADER_LEN = 20,
	FG_STUN_TXID_LEN = 12,
	FG_STUN_MAGIC_COOKIE = 0x2112A442,
	FG_STUN_MAX_LEN = FG_STUN_HEADER_LEN + 0xFFFC, /* the length field is 16 bits, a multiple of 4 */
	FG_STUN_ATTR_HEADER_LEN = 4,
	FG_STUN_HMAC_SHA1_LEN = 20,
	FG_STUN_HMAC_SHA256_LEN = 32,
	FG_STUN_HMAC_SHA256_MIN = 16,     /* a truncated MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6) */
	FG_STUN_FINGERPRINT_XOR = 0x5354554e,
	FG_STUN_TEXT_MAX = 763,           /* USERNAME, REALM, NONCE, SOFTWARE, reason: bytes we accept */
	FG_STUN_TEXT_MAX_SEND = 509,      /* ... and write (RFC 8489 §14.8-14.14) */
	FG_STUN_USERNAME_MAX_SEND = 508,  /* "fewer than 509 bytes" (§14.3) */
	FG_STUN_KEY_MAX = 256,            /* a short-term key is the password: ice-pwd is 22-256 */
	FG_STUN_MD5_LEN = 16,             /* a long-term key */
	FG_STUN_MAX_UNKNOWN = 16,         /* unknown comprehension-required types remembered */
	FG_STUN_CHANNEL_MIN = 0x4000,     /* RFC 8656 §12 */
	FG_STUN_CHANNEL_MAX = 0x4FFF,
	FG_STUN_PROTO_UDP = 17,           /* REQUESTED-TRANSPORT */
};

/* Methods (12 bits). Firezone uses BINDING, ALLOCATE, REFRESH and CHANNEL-BIND. */
enum fg_stun_method {
	FG_STUN_BINDING = 0x001,
	FG_STUN_ALLOCATE = 0x003,
	FG_STUN_REFRESH = 0x004,
	FG_STUN_SEND = 0x006,
	FG_STUN_DATA = 0x007,
	FG_STUN_CREATE_PERMISSION = 0x008,
	FG_STUN_CHANNEL_BIND = 0x009,
};

enum fg_stun_class {
	FG_STUN_REQUEST = 0,
	FG_STUN_INDICATION = 1,
	FG_STUN_SUCCESS = 2,
	FG_STUN_ERROR = 3,
};

/*
 * The attributes the parser knows, with the values it accepts. Any other type in
 * 0x0000-0x7FFF is an unknown comprehension-required attribute (see fg_stun_parse()).
 */
enum fg_stun_attr_type {
	FG_STUN_ATTR_MAPPED_ADDRESS = 0x0001,       /* address; parsed, never written */
	FG_STUN_ATTR_USERNAME = 0x0006,             /* text */
	FG_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,    /* 20 bytes, HMAC-SHA1 */
	FG_STUN_ATTR_ERROR_CODE = 0x0009,           /* class 3-6, number 0-99, reason */
	FG_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,   /* list of 16-bit types */
	FG_STUN_ATTR_CHANNEL_NUMBER = 0x000C,       /* 0x4000-0x4FFF + 2 reserved bytes */
	FG_STUN_ATTR_LIFETIME = 0x000D,             /* u32 seconds */
	FG_STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,     /* XOR address */
	FG_STUN_ATTR_DATA = 0x0013,                 /* bytes */
	FG_STUN_ATTR_REALM = 0x0014,                /* text */
	FG_STUN_ATTR_NONCE = 0x0015,                /* text */
	FG_STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,  /* XOR address; twice in a dual allocation */
	FG_STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017, /* family + 3 reserved bytes */
	FG_STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,  /* protocol + 3 reserved bytes */
	FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C, /* 16-32 bytes, a multiple of 4 */
	FG_STUN_ATTR_USERHASH = 0x001E,             /* 32 bytes */
	FG_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,   /* XOR address */
	FG_STUN_ATTR_PRIORITY = 0x0024,             /* u32 */
	FG_STUN_ATTR_USE_CANDIDATE = 0x0025,        /* empty */
	FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000, /* family + 3 reserved bytes */
	FG_STUN_ATTR_SOFTWARE = 0x8022,             /* text */
	FG_STUN_ATTR_ALTERNATE_SERVER = 0x8023,     /* address */
	FG_STUN_ATTR_FINGERPRINT = 0x8028,          /* CRC-32 ^ 0x5354554e, last */
	FG_STUN_ATTR_ICE_CONTROLLED = 0x8029,       /* u64 tie-breaker */
	FG_STUN_ATTR_ICE_CONTROLLING = 0x802A,      /* u64 tie-breaker */
};

/* Error codes the relay client and the ICE agent act on. */
enum fg_stun_error_code {
	FG_STUN_ERR_TRY_ALTERNATE = 300,
	FG_STUN_ERR_BAD_REQUEST = 400,
	FG_STUN_ERR_UNAUTHENTICATED = 401,
	FG_STUN_ERR_FORBIDDEN = 403,
	FG_STUN_ERR_UNKNOWN_ATTRIBUTE = 420,
	FG_STUN_ERR_ALLOCATION_MISMATCH = 437,
	FG_STUN_ERR_STALE_NONCE = 438,
	FG_STUN_ERR_ADDRESS_FAMILY = 440,
	FG_STUN_ERR_WRONG_CREDENTIALS = 441,
	FG_STUN_ERR_UNSUPPORTED_TRANSPORT = 442,
	FG_STUN_ERR_QUOTA = 486,
	FG_STUN_ERR_ROLE_CONFLICT = 487,
	FG_STUN_ERR_SERVER = 500,
	FG_STUN_ERR_CAPACITY = 508,
};

/* The known attribute types, in the order of enum fg_stun_attr_type. */
enum { FG_STUN_KNOWN_ATTRS = 25 };

/* A parsed message: a view of the caller's buffer. */
struct fg_stun_msg {
	const uint8_t *buf;            /* the whole message, FG_STUN_HEADER_LEN + length */
	size_t len;
	uint16_t method;               /* enum fg_stun_method, or any other 12-bit method */
	uint8_t cls;                   /* enum fg_stun_class */
	uint8_t txid[FG_STUN_TXID_LEN];
	size_t attrs_end;              /* the attributes processed end here: MESSAGE-INTEGRITY,
					* MESSAGE-INTEGRITY-SHA256, FINGERPRINT or the end */
	uint32_t first[FG_STUN_KNOWN_ATTRS]; /* offset of each known type's first occurrence
					* (its attribute header), 0 when absent */
	uint16_t unknown[FG_STUN_MAX_UNKNOWN]; /* unknown comprehension-required types, each once */
	uint8_t n_unknown;
	bool unknown_overflow;         /* more distinct unknown types than FG_STUN_MAX_UNKNOWN */
};

/* One attribute met by fg_stun_attr_next(). */
struct fg_stun_attr {
	uint16_t type;
	uint16_t len;                  /* of the value, without padding */
	const uint8_t *val;
};

/*
 * The key of a credential (RFC 8489 §9): the password itself (short-term), or
 * MD5(username ":" realm ":" password) (long-term). Derive it once per credential, keep it
 * with the credential, and wipe it with fg_stun_key_wipe() when the credential goes.
 */
struct fg_stun_key {
	uint8_t bytes[FG_STUN_KEY_MAX];
	size_t len;
};

/* A builder: the caller's buffer and how much of it the message fills. */
struct fg_stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;                       /* the first error, returned by every later call */
	uint8_t stage;                 /* attributes, after MESSAGE-INTEGRITY(-SHA256), after FINGERPRINT */
	uint8_t pad;                   /* the padding byte: 0 (RFC 8489 §14); RFC 5769's vectors use ' ' */
};

/* The message type field of a method and a class, and back. */
uint16_t fg_stun_type(uint16_t method, enum fg_stun_class cls);
void fg_stun_type_split(uint16_t type, uint16_t *method, uint8_t *cls);

/*
 * True if buf looks like a STUN message: at least a header, the first two bits zero, the
 * magic cookie, a length that is a multiple of 4 and equals the rest of the datagram. What
 * ICE and the relay client check before parsing what the data plane punts to them.
 */
bool fg_stun_is_stun(const uint8_t *buf, size_t len);

/*
 * Parses one STUN message, the whole datagram. Returns 0; -EBADMSG for anything malformed
 * (the header, an attribute past the end, a known attribute's value, an attribute after
 * FINGERPRINT, a wrong FINGERPRINT), with the offset and the reason in err (NULL: none);
 * -ENOTSUP for a well-formed message with unknown comprehension-required attributes before
 * MESSAGE-INTEGRITY: *m is then complete, m->unknown lists them, and the caller answers a
 * request with 420 and UNKNOWN-ATTRIBUTES, fails a transaction on a response and drops an
 * indication (RFC 8489 §6.3). After -EBADMSG *m holds nothing usable.
 */
int fg_stun_parse(const uint8_t *buf, size_t len, struct fg_stun_msg *m, char *err, size_t errlen);

/*
 * Walks the attributes processed (before MESSAGE-INTEGRITY), unknown and duplicates too.
 * *pos starts at 0. Returns true with the next attribute in *a, false at the end.
 */
bool fg_stun_attr_next(const struct fg_stun_msg *m, size_t *pos, struct fg_stun_attr *a);

/*
 * Getters of the first occurrence of a known attribute. Values were checked by the parser,
 * so these fail only with -ENOENT (absent) or -EINVAL (a type of another kind).
 */
bool fg_stun_has(const struct fg_stun_msg *m, uint16_t type);
int fg_stun_get_bytes(const struct fg_stun_msg *m, uint16_t type, const uint8_t **val, size_t *len);
int fg_stun_get_u32(const struct fg_stun_msg *m, uint16_t type, uint32_t *v);
int fg_stun_get_u64(const struct fg_stun_msg *m, uint16_t type, uint64_t *v);
/*
 * The nth (0: first) occurrence of an address attribute, XOR-decoded for the XOR types:
 * two XOR-RELAYED-ADDRESS answer an ALLOCATE with ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §7.3).
 */
int fg_stun_get_addr(const struct fg_stun_msg *m, uint16_t type, unsigned nth, struct fg_endpoint *ep);
/* ERROR-CODE: *code is class * 100 + number (300-699); the reason is not NUL-terminated. */
int fg_stun_get_error(const struct fg_stun_msg *m, unsigned *code, const char **reason, size_t *reason_len);
int fg_stun_get_channel(const struct fg_stun_msg *m, uint16_t *channel);
int fg_stun_get_transport(const struct fg_stun_msg *m, uint8_t *proto);
/* REQUESTED- or ADDITIONAL-ADDRESS-FAMILY as AF_INET or AF_INET6. */
int fg_stun_get_family(const struct fg_stun_msg *m, uint16_t type, uint8_t *family);
/* UNKNOWN-ATTRIBUTES: up to max types into types, their total count into *n. */
int fg_stun_get_unknown(const struct fg_stun_msg *m, uint16_t *types, size_t max, size_t *n);

/* Keys (stun.c). Return 0 or -EINVAL (empty or too long), -ENOMEM (OpenSSL). */
int fg_stun_key_short_term(struct fg_stun_key *k, const char *password);
int fg_stun_key_long_term(struct fg_stun_key *k, const char *username, const char *realm,
			  const char *password);
void fg_stun_key_wipe(struct fg_stun_key *k);

/*
 * Checks MESSAGE-INTEGRITY-SHA256 when present (RFC 8489 §9.1.3: it wins), else
 * MESSAGE-INTEGRITY, in constant time. Returns 0; -ENOENT when neither is present; -EACCES
 * when it does not match; -ENOMEM when OpenSSL fails.
 */
int fg_stun_check_integrity(const struct fg_stun_msg *m, const struct fg_stun_key *k);

/*
 * The builder (stun_build.c). Every call returns 0 or the builder's sticky error: -ENOBUFS
 * (the buffer is full), -EMSGSIZE (past what the 16-bit length can say), -EINVAL (a value
 * the parser would refuse or longer than RFC 8489 lets a sender write, a known type given
 * to an adder of another kind, an attribute after MESSAGE-INTEGRITY or FINGERPRINT),
 * -ENOMEM (OpenSSL). Attributes are written in call order; an unknown type goes in as it
 * is. fg_stun_build_finish() returns the message length or the error.
 */
int fg_stun_build_start(struct fg_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
			enum fg_stun_class cls, const uint8_t txid[FG_STUN_TXID_LEN]);
int fg_stun_add_bytes(struct fg_stun_builder *b, uint16_t type, const void *val, size_t len);
int fg_stun_add_str(struct fg_stun_builder *b, uint16_t type, const char *s);
int fg_stun_add_flag(struct fg_stun_builder *b, uint16_t type);
int fg_stun_add_u32(struct fg_stun_builder *b, uint16_t type, uint32_t v);
int fg_stun_add_u64(struct fg_stun_builder *b, uint16_t type, uint64_t v);
/* XOR-MAPPED-, XOR-PEER- or XOR-RELAYED-ADDRESS. */
int fg_stun_add_xor_addr(struct fg_stun_builder *b, uint16_t type, const struct fg_endpoint *ep);
int fg_stun_add_error(struct fg_stun_builder *b, unsigned code, const char *reason);
int fg_stun_add_channel(struct fg_stun_builder *b, uint16_t channel);
int fg_stun_add_transport(struct fg_stun_builder *b, uint8_t proto);
int fg_stun_add_family(struct fg_stun_builder *b, uint16_t type, uint8_t family);
int fg_stun_add_unknown(struct fg_stun_builder *b, const uint16_t *types, size_t n);
int fg_stun_add_integrity(struct fg_stun_builder *b, const struct fg_stun_key *k);
int fg_stun_add_integrity_sha256(struct fg_stun_builder *b, const struct fg_stun_key *k);
int fg_stun_add_fingerprint(struct fg_stun_builder *b);
int fg_stun_build_finish(const struct fg_stun_builder *b);

#endif
