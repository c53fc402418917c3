/* SPDX-License-Identifier: MIT */
/*
 * Phoenix V1 JSON framing as the Firezone portal speaks it (reference §2.2): frames are
 * {"topic","event","payload","ref"} objects without join_ref; our refs are integers counting
 * from 0 on each connection, the portal's are a number, a string or null. This module is
 * pure: it decodes and encodes frames and keeps the per-connection bookkeeping (refs, the
 * join, heartbeats, the outbound queue) but never touches a socket or a clock; the
 * caller passes the time in. A struct fg_phx_conn is owned by the control plane's single
 * thread.
 */
#ifndef FG_PHOENIX_H
#define FG_PHOENIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum fg_phx_limits {
	FG_PHX_NAME_LEN = 64,          /* topic and event, with the NUL */
	FG_PHX_REF_STR_LEN = 64,       /* an inbound string ref, with the NUL */
	FG_PHX_STATUS_LEN = 16,        /* a reply's status, with the NUL */
	FG_PHX_MAX_DEPTH = 32,         /* JSON nesting; the portal uses about 5 */
	/* Bytes of one text frame (assembled from its fragments): the largest real message is
	 * an `init` listing every authorization of the gateway, about 130 bytes each, so this
	 * holds some 60,000 of them; a larger frame resets the connection (portal.c). */
	FG_PHX_MAX_FRAME = 8 << 20,
	/* JSON values (cJSON nodes, about 80 bytes each) in one frame: that init has 4 per
	 * authorization, some 250,000 in 8 MiB; without this bound 8 MiB of "[0,0,..." would
	 * cost 4 million nodes, over 300 MiB. */
	FG_PHX_MAX_VALUES = 1 << 19,
	FG_PHX_QUEUE_MAX_BYTES = 64 << 20, /* payload bytes held; any number of messages
					* (Rust's 32 is only a capacity hint, audit §1 #9) */
	FG_PHX_MAX_UNANSWERED = 3,     /* more unanswered heartbeats than this: reconnect */
	FG_PHX_HB_TRACK = 8,           /* heartbeat refs remembered for matching replies */
};

enum fg_phx_timing {
	FG_PHX_HEARTBEAT_MS = 10000,   /* heartbeat period, the first one 10 s after the join */
	FG_PHX_JOIN_TIMEOUT_MS = 5000, /* no join reply within this: reconnect */
};

enum fg_phx_ref_kind {
	FG_PHX_REF_NULL = 0,           /* null or absent */
	FG_PHX_REF_NUM,
	FG_PHX_REF_STR,
};

/* One decoded inbound frame. */
struct fg_phx_in {
	char topic[FG_PHX_NAME_LEN];
	char event[FG_PHX_NAME_LEN];
	cJSON *root;                   /* owned: the whole frame */
	cJSON *payload;                /* borrowed from root; never NULL (JSON null is a node) */
	enum fg_phx_ref_kind ref_kind;
	int64_t ref_num;               /* FG_PHX_REF_NUM */
	char ref_str[FG_PHX_REF_STR_LEN]; /* FG_PHX_REF_STR */
	bool is_reply;                 /* event "phx_reply" */
	char reply_status[FG_PHX_STATUS_LEN]; /* "ok", "error" */
	cJSON *reply_response;         /* borrowed; NULL when absent */
};

/*
 * Decodes one text frame of len bytes (no NUL needed). Returns 0, or -EBADMSG with a
 * reason in err for anything malformed: not JSON, trailing bytes, NUL bytes or \u0000,
 * nesting deeper than FG_PHX_MAX_DEPTH, not an object, topic/event missing, not strings,
 * empty or too long, payload missing, ref of another type, a non-integral or huge numeric
 * ref, a reply without an object payload or status, more than FG_PHX_MAX_VALUES values.
 * -EMSGSIZE for a frame larger than FG_PHX_MAX_FRAME, -ENOMEM. On error *out holds nothing
 * to free.
 */
int fg_phx_decode(const char *text, size_t len, struct fg_phx_in *out, char *err, size_t errlen);
/* Wipes every string of the frame (payloads carry keys) and frees it. NULL-safe. */
void fg_phx_in_free(struct fg_phx_in *m);
/* The frame's ref as our integer refs: a number, or a string of decimal digits. */
bool fg_phx_in_ref(const struct fg_phx_in *m, int64_t *ref);
/* A reply's response.reason when it is a string ("unmatched topic"), else NULL. */
const char *fg_phx_reply_reason(const struct fg_phx_in *m);

struct fg_phx_pending {
	char topic[FG_PHX_NAME_LEN];
	char event[FG_PHX_NAME_LEN];
	char *payload;                 /* unformatted JSON text */
};

/* Per-connection state. Init once, reset on every new WebSocket, free at the end. */
struct fg_phx_conn {
	int64_t next_ref;
	int64_t join_ref;              /* -1: no join sent on this connection */
	uint64_t join_sent_ns;
	bool joined;
	uint64_t hb_next_ns;           /* when the next heartbeat is due */
	int64_t hb_refs[FG_PHX_HB_TRACK]; /* unanswered heartbeat refs, oldest first */
	unsigned hb_tracked;
	unsigned hb_unanswered;        /* may exceed FG_PHX_HB_TRACK */
	/* Held until joined; dropped when a new connection starts, as the Rust gateway drops
	 * what it cannot send (NotConnected), so the first frames of a connection are the
	 * join and set_snownet_capabilities. Refs are assigned when a message leaves the
	 * queue. A ring that grows; bounded only by FG_PHX_QUEUE_MAX_BYTES. */
	struct fg_phx_pending *queue;
	unsigned q_cap, q_head, q_len;
	size_t q_bytes;
};

/* What the caller should do with an inbound frame (fg_phx_handle). */
enum fg_phx_action {
	FG_PHX_ACT_IGNORE = 0,         /* heartbeat and other ok replies, phx_error, replies
					* without ref, disconnect for another reason */
	FG_PHX_ACT_MESSAGE,            /* a portal message: parse the payload (portal_msg.h) */
	FG_PHX_ACT_JOINED,             /* our join was accepted: send set_snownet_capabilities,
					* then drain the queue */
	FG_PHX_ACT_LOGIN_FAILED,       /* error reply to our join: fatal */
	FG_PHX_ACT_REJOIN,             /* error "unmatched topic": send fg_phx_join() again */
	FG_PHX_ACT_ERROR_REPLY,        /* error reply to another request: warn */
	FG_PHX_ACT_RECONNECT,          /* phx_close: drop the connection, reconnect */
	FG_PHX_ACT_TOKEN_EXPIRED,      /* disconnect {"reason":"token_expired"}: fatal */
};

void fg_phx_conn_init(struct fg_phx_conn *c);
/* A new WebSocket is up at now_ns: refs from 0, not joined, heartbeats forgotten, and what
 * was queued for the previous connection is dropped. */
void fg_phx_conn_reset(struct fg_phx_conn *c, uint64_t now_ns);
void fg_phx_conn_free(struct fg_phx_conn *c);

/*
 * Encoders return a malloc'd NUL-terminated frame (the caller frees it) or NULL (errno
 * EINVAL for a topic or event that is empty, too long or needs escaping, ENOMEM). A NULL
 * payload is JSON null. ref_out may be NULL.
 */
char *fg_phx_encode(struct fg_phx_conn *c, const char *topic, const char *event,
		    const cJSON *payload, int64_t *ref_out);
/* {"topic":"gateway","event":"phx_join","payload":null,"ref":N}; starts the join timer. */
char *fg_phx_join(struct fg_phx_conn *c, uint64_t now_ns);
/* {"topic":"phoenix","event":"heartbeat","payload":{},"ref":N}; counts as unanswered. */
char *fg_phx_heartbeat(struct fg_phx_conn *c, uint64_t now_ns);

bool fg_phx_joined(const struct fg_phx_conn *c);
/* A join was sent on this connection and no reply came within FG_PHX_JOIN_TIMEOUT_MS. */
bool fg_phx_join_overdue(const struct fg_phx_conn *c, uint64_t now_ns);
/* When the next heartbeat is due (ns, the caller's clock). */
uint64_t fg_phx_heartbeat_due_at(const struct fg_phx_conn *c);
bool fg_phx_heartbeat_due(const struct fg_phx_conn *c, uint64_t now_ns);
/* A reply with this ref answered a heartbeat (and every older one): true if it was one. */
bool fg_phx_heartbeat_acked(struct fg_phx_conn *c, int64_t ref);
/* More than FG_PHX_MAX_UNANSWERED heartbeats are unanswered: reconnect. */
bool fg_phx_heartbeat_overdue(const struct fg_phx_conn *c);

/* Classifies an inbound frame and updates the join and heartbeat state. */
enum fg_phx_action fg_phx_handle(struct fg_phx_conn *c, const struct fg_phx_in *m);
const char *fg_phx_action_name(enum fg_phx_action a);

/*
 * Queues a message for the portal: 0, -EALREADY when an identical message (topic, event
 * and payload) is already queued (it is dropped, as the Rust gateway does), -ENOBUFS when
 * the queue would hold more than FG_PHX_QUEUE_MAX_BYTES (the caller resets the connection,
 * which empties it), -EINVAL for a bad topic or event, -ENOMEM.
 */
int fg_phx_queue_push(struct fg_phx_conn *c, const char *topic, const char *event,
		      const cJSON *payload);
/* The oldest queued message as a frame with the next ref, or NULL when the queue is empty
 * or the join has not been answered yet (nothing is sent before it). */
char *fg_phx_queue_pop(struct fg_phx_conn *c, int64_t *ref_out);
size_t fg_phx_queue_len(const struct fg_phx_conn *c);
void fg_phx_queue_clear(struct fg_phx_conn *c);

#endif
