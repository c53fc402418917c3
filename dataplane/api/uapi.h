/* SPDX-License-Identifier: MIT */
/*
 * The cross-platform WireGuard configuration protocol (https://www.wireguard.com/xplatform/,
 * the text wg(8) writes to /var/run/wireguard/<ifname>.sock) as a pure codec: no sockets.
 * The socket server feeds each connection's bytes into its own struct fg_uapi_session and
 * writes back the responses it returns; requests become calls on struct fg_uapi_ops. All of
 * it runs on the service lcore, which owns the sessions; nothing here is shared.
 *
 * Requests: "get=1\n\n" answers the state written by ops->get, then "errno=0\n\n".
 * "set=1\n" then "key=value\n" lines then "\n" answers "errno=0\n\n", or "errno=-N\n\n"
 * (negative errno, as wireguard-go on Linux; wg(8) reports strerror(N)). Set keys are applied
 * as their lines arrive, like wireguard-go: an error skips the rest of that request, keeps what
 * was applied before it, and is reported when its blank line arrives. A connection that
 * closes without sending anything (wg's liveness probe) needs no call at all.
 */
#ifndef FG_UAPI_H
#define FG_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "keys.h"

enum fg_uapi_limits {
	FG_UAPI_LINE_MAX = 4096,          /* bytes in a request line, newline excluded */
	FG_UAPI_RESPONSE_MAX = 16 << 20,  /* bytes in a get response (10,000 peers take ~5 MB) */
	FG_UAPI_ERRNO_LEN = 32,           /* "errno=-2147483648\n\n" + NUL */
};

/*
 * A get response under construction: a heap buffer that grows on demand up to
 * FG_UAPI_RESPONSE_MAX and is kept for the next request. A zeroed struct is an empty writer.
 * The first failure is kept in err and makes every later emit a no-op returning it.
 */
struct fg_uapi_writer {
	char *buf;
	size_t len;
	size_t cap;
	int err;   /* 0, -EMSGSIZE (over FG_UAPI_RESPONSE_MAX), -ENOMEM or -EINVAL (bad name/value) */
};

/*
 * Emit one "name=value\n" line; each returns 0 or the writer's error. name must be a
 * non-empty run of [a-z0-9_]; emit_str refuses a value holding '\n' or NUL.
 */
int fg_uapi_emit_key(struct fg_uapi_writer *w, const char *name, const uint8_t key[FG_KEY_LEN]);
int fg_uapi_emit_u64(struct fg_uapi_writer *w, const char *name, uint64_t v);
int fg_uapi_emit_str(struct fg_uapi_writer *w, const char *name, const char *s);
/* "ip:port" or "[ipv6]:port" */
int fg_uapi_emit_endpoint(struct fg_uapi_writer *w, const char *name, const struct fg_endpoint *ep);
/* "ip/len" */
int fg_uapi_emit_prefix(struct fg_uapi_writer *w, const char *name, const struct fg_prefix *p);
/* Wipes (the buffer may hold the private key) and frees the buffer; leaves w zeroed. */
void fg_uapi_writer_release(struct fg_uapi_writer *w);

/*
 * Implemented by the service lcore. Each returns 0 or -errno; an error ends the request with
 * that errno. A NULL callback answers -EOPNOTSUPP, except peer_end and set_end (no-ops).
 *
 * Call order for set: device keys first (set_private_key, set_listen_port, set_fwmark,
 * replace_peers, in request order); then per peer: peer_begin, its keys in request order,
 * then peer_end, or peer_remove instead of peer_end. peer_begin is called on the first key
 * after public_key (or at the peer's end if it has none), so update_only=true, which must
 * come directly after public_key, arrives as its argument; remove=true also calls
 * peer_begin(update_only=true) first, so that removing an absent peer creates nothing.
 * -ENOENT from an update_only peer_begin is not an error: that peer's keys are checked and
 * ignored. set_end is called once at the end of every set request, after an error too.
 */
struct fg_uapi_ops {
	int (*set_private_key)(void *ctx, const uint8_t key[FG_KEY_LEN]);  /* all zero: remove */
	int (*set_listen_port)(void *ctx, uint16_t port);
	int (*set_fwmark)(void *ctx, uint32_t mark);
	int (*replace_peers)(void *ctx);                                    /* remove all peers */
	int (*peer_begin)(void *ctx, const uint8_t pub[FG_KEY_LEN], bool update_only);
	int (*peer_remove)(void *ctx);
	int (*peer_set_psk)(void *ctx, const uint8_t psk[FG_KEY_LEN]);     /* all zero: none */
	int (*peer_set_endpoint)(void *ctx, const struct fg_endpoint *ep);
	int (*peer_set_keepalive)(void *ctx, uint16_t seconds);             /* 0: off */
	int (*peer_replace_allowed_ips)(void *ctx);
	int (*peer_add_allowed_ip)(void *ctx, const struct fg_prefix *p);   /* host bits cleared */
	int (*peer_end)(void *ctx);                                         /* commit the peer */
	int (*set_end)(void *ctx);                                          /* end of the set */
	/* Writes the whole state with the fg_uapi_emit_* helpers; errno=0 is appended for it. */
	int (*get)(void *ctx, struct fg_uapi_writer *w);
};

enum fg_uapi_state {
	FG_UAPI_IDLE = 0,  /* expecting "get=1" or "set=1" */
	FG_UAPI_GET,       /* expecting the blank line of a get */
	FG_UAPI_SET,       /* inside a set request */
	FG_UAPI_DEAD,      /* after a fatal protocol error: the caller closes */
};

/* One connection's state. Fixed size (plus the writer's buffer after a get), so sessions
 * can live in a static array; zero it or call fg_uapi_session_init() before use. */
struct fg_uapi_session {
	enum fg_uapi_state state;
	int error;                /* first error of the set/get in progress, 0 = none */
	bool peer_pending;        /* public_key read, peer_begin not called yet */
	bool peer_open;           /* peer_begin succeeded: peer_end or peer_remove owed */
	bool peer_ignored;        /* removed, or update_only and absent: keys are ignored */
	bool in_peers;            /* a public_key was read: device keys are refused */
	uint8_t pending_pub[FG_KEY_LEN];
	size_t line_len;
	char line[FG_UAPI_LINE_MAX + 1];
	char errno_buf[FG_UAPI_ERRNO_LEN];
	struct fg_uapi_writer w;  /* the get response */
};

void fg_uapi_session_init(struct fg_uapi_session *s);

/*
 * Consumes bytes of one connection. Returns how many were consumed, or -EPROTO on a fatal
 * protocol error (an unknown operation line, a line over FG_UAPI_LINE_MAX, a NUL byte): the
 * caller closes the connection. When a request completes, it stops right after that request's
 * blank line and points *response at the complete answer; the caller sends it all, then
 * feeds the rest of its bytes. *response stays valid (and unchanged) until the next
 * fg_uapi_session_feed(), fg_uapi_session_hangup() or fg_uapi_session_uninit().
 */
int fg_uapi_session_feed(struct fg_uapi_session *s, const char *data, size_t len,
			 const struct fg_uapi_ops *ops, void *ctx, const char **response,
			 size_t *response_len);

/* The connection closed (or is being closed): a set in progress is ended as at its blank
 * line (peer_end, set_end), without a response. The session is then idle again. */
void fg_uapi_session_hangup(struct fg_uapi_session *s, const struct fg_uapi_ops *ops, void *ctx);

/* Wipes the session and frees its response buffer. */
void fg_uapi_session_uninit(struct fg_uapi_session *s);

#endif
