/* SPDX-License-Identifier: MIT */
/*
 * The portal's messages (reference §2.4 and §2.5) as plain C values: a parser per inbound
 * event that turns a Phoenix payload (a cJSON tree, see phoenix.h) into a struct with
 * fixed-size fields and documented caps, and builders for the payloads the gateway sends.
 * Parsers ignore unknown fields, enforce required ones and answer anything malformed with
 * -EBADMSG and a reason ("create_authorization: client.ipv4: ..."); a reason never quotes
 * a key, a password, a ref or a token. Structs that hold secrets (PSK, ICE and relay
 * passwords, tokens) have a _free function that wipes them. Pure functions: no state; the
 * structs belong to their caller (the control plane's single thread).
 */
#ifndef FG_PORTAL_MSG_H
#define FG_PORTAL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "ctlproto.h"
#include "keys.h"

enum fg_portal_limits {
	FG_PORTAL_ID_LEN = 64,              /* ids: 1..63 printable ASCII bytes, no space */
	FG_PORTAL_NAME_LEN = 1024,          /* display names (UTF-8) */
	FG_PORTAL_PATTERN_LEN = 256,        /* DNS resource patterns */
	FG_PORTAL_VERSION_LEN = 32,
	FG_PORTAL_SLUG_LEN = 128,
	FG_PORTAL_ICE_LEN = 257,            /* ICE ufrag / pwd: at most 256 (RFC 8445) */
	FG_PORTAL_CRED_LEN = 256,           /* relay username / password */
	FG_PORTAL_CANDIDATE_LEN = 256,      /* one SDP candidate string */
	FG_PORTAL_REF_MAX = 4096,           /* bytes of an authorization ref */
	FG_PORTAL_TOKEN_MAX = 8192,         /* bytes of a flow-logs ingest token */
	FG_PORTAL_URL_LEN = 1024,           /* init.flow_logs.api_url */
	/* The portal puts no limit on filters (one per port range); ours is what one control
	 * message carries, far above any real resource. */
	FG_PORTAL_MAX_FILTERS = FG_CTL_MAX_FILTERS, /* disjoint port ranges of one resource */
	FG_PORTAL_MAX_FILTER_ENTRIES = 65536, /* a longer filters array is refused */
	FG_PORTAL_MAX_RELAYS = 32,          /* after merging dual-stack entries */
	FG_PORTAL_MAX_RELAY_ENTRIES = 64,
	FG_PORTAL_MAX_AUTHS = 65536,        /* init.authorizations */
	FG_PORTAL_MAX_IDS = 256,            /* relays_presence.disconnected_ids */
	FG_PORTAL_MAX_CANDIDATES = 32,      /* kept per message; more are counted as skipped */
	FG_PORTAL_MAX_CANDIDATE_ENTRIES = 1024, /* a longer candidates array is refused */
	FG_PORTAL_ERR_LEN = 192,            /* a comfortable size for err buffers */
};

/* Inbound events; everything else (configure_metrics, legacy events) is UNKNOWN: the
 * caller logs it at debug and ignores it. Phoenix control events are phoenix.h's. */
enum fg_portal_event {
	FG_PORTAL_EV_UNKNOWN = 0,
	FG_PORTAL_EV_INIT,
	FG_PORTAL_EV_CREATE_AUTHORIZATION,  /* v2 */
	FG_PORTAL_EV_AUTHORIZE_FLOW,        /* v1, same payload */
	FG_PORTAL_EV_REJECT_ACCESS,
	FG_PORTAL_EV_RESOURCE_UPDATED,
	FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED,  /* obsolete: parse and ignore */
	FG_PORTAL_EV_RELAYS_PRESENCE,
	FG_PORTAL_EV_ICE_CANDIDATES,
	FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES,
};

enum fg_portal_res_type {
	FG_PORTAL_RES_CIDR = 1,
	FG_PORTAL_RES_DNS,
	FG_PORTAL_RES_INTERNET,
};

enum fg_portal_relay_type {
	FG_PORTAL_RELAY_TURN = 1,
	FG_PORTAL_RELAY_STUN,
};

/* A TCP or UDP destination-port range, or ICMP (ports 0..65535, meaningless). */
struct fg_portal_filter {
	uint8_t proto;                      /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMP */
	uint16_t port_start, port_end;      /* inclusive, start <= end */
};

struct fg_portal_resource {
	char id[FG_PORTAL_ID_LEN];
	enum fg_portal_res_type type;
	char name[FG_PORTAL_NAME_LEN];      /* may be empty for internet */
	struct fg_prefix prefix;            /* cidr (host bits cleared) */
	char pattern[FG_PORTAL_PATTERN_LEN]; /* dns */
	/* Invalid entries (unknown protocol, bad or inverted ports) are skipped one by one
	 * as the Rust gateway does; the caller warns when n_bad_filters > 0. Unlike Rust, a
	 * list whose every entry is invalid is refused: it would otherwise allow everything. */
	unsigned n_filters;                 /* 0: everything is allowed */
	struct fg_portal_filter *filters;   /* heap, n_filters: fg_portal_resource_free() */
	unsigned n_bad_filters;
};

struct fg_portal_client {
	char id[FG_PORTAL_ID_LEN];
	uint8_t public_key[FG_KEY_LEN];     /* never all zero */
	uint8_t psk[FG_KEY_LEN];            /* secret */
	struct fg_ip ipv4, ipv6;
	char version[FG_PORTAL_VERSION_LEN]; /* optional, "" when absent */
};

struct fg_portal_ice_creds {
	char username[FG_PORTAL_ICE_LEN];
	char password[FG_PORTAL_ICE_LEN];   /* secret */
};

/* create_authorization (v2) and authorize_flow (v1). */
struct fg_portal_authorization {
	char *ref;                          /* heap; echo it in authorization_created */
	struct fg_portal_resource resource;
	struct fg_portal_client client;
	struct fg_portal_ice_creds gateway_ice, client_ice;
	uint64_t expires_at;                /* unix s; 0 = never (null or absent); a literal 0
					     * in the message is stored as 1: already expired */
	bool use_iceless;
	char *flow_logs_token;              /* heap secret, NULL when absent */
};

/* A relay, dual-stack entries with the same id merged (later entries win on conflicts). */
struct fg_portal_relay {
	char id[FG_PORTAL_ID_LEN];
	enum fg_portal_relay_type type;
	struct fg_endpoint addr4, addr6;    /* family 0 = absent; at least one is set */
	char username[FG_PORTAL_CRED_LEN];  /* turn only */
	char password[FG_PORTAL_CRED_LEN];  /* turn only; secret */
	uint64_t expires_at;                /* turn only, unix s */
};

struct fg_portal_auth {                     /* one entry of init.authorizations */
	char client_id[FG_PORTAL_ID_LEN];
	char resource_id[FG_PORTAL_ID_LEN];
	uint64_t expires_at;                /* as in fg_portal_authorization */
};

struct fg_portal_init {
	struct fg_ip ipv4, ipv6;            /* interface, both required as in Rust */
	char account_slug[FG_PORTAL_SLUG_LEN]; /* "" when absent */
	unsigned n_relays;
	struct fg_portal_relay relays[FG_PORTAL_MAX_RELAYS];
	/* Absent: false. The Rust gateway reads an absent list as an empty one and revokes
	 * every existing authorization; the caller decides. */
	bool has_authorizations;
	size_t n_auths;
	struct fg_portal_auth *auths;       /* heap, NULL when empty */
	/* flow_logs ({api_url, upload_interval_secs, upload_batch_size}; Rust requires it, we
	 * take an init without it): uploads need an api_url and an interval > 0. A malformed
	 * object leaves the three empty and says why in flow_logs_error (init is kept). */
	bool has_flow_logs;
	char flow_logs_api_url[FG_PORTAL_URL_LEN]; /* "" when absent */
	uint64_t flow_logs_interval_secs;   /* 0: uploads disabled */
	uint64_t flow_logs_batch_size;      /* 0: the default */
	char flow_logs_error[FG_PORTAL_ERR_LEN];
};

struct fg_portal_reject_access {
	char client_id[FG_PORTAL_ID_LEN];
	char resource_id[FG_PORTAL_ID_LEN];
};

struct fg_portal_expiry_updated {
	char client_id[FG_PORTAL_ID_LEN];
	char resource_id[FG_PORTAL_ID_LEN];
	uint64_t expires_at;
};

struct fg_portal_relays_presence {
	unsigned n_disconnected;
	char disconnected_ids[FG_PORTAL_MAX_IDS][FG_PORTAL_ID_LEN];
	unsigned n_connected;
	struct fg_portal_relay connected[FG_PORTAL_MAX_RELAYS];
};

/* ice_candidates and invalidate_ice_candidates. */
struct fg_portal_ice_candidates {
	char client_id[FG_PORTAL_ID_LEN];
	unsigned n;
	char candidates[FG_PORTAL_MAX_CANDIDATES][FG_PORTAL_CANDIDATE_LEN];
	unsigned n_skipped;                 /* malformed entries, and valid ones over the cap */
};

enum fg_portal_event fg_portal_event_parse(const char *event);
/* Sorts filters and merges those of one protocol whose port ranges overlap or touch: the
 * same set of allowed packets in the fewest disjoint ranges (a resource may carry any number
 * of filters; the data plane takes up to FG_PORTAL_MAX_FILTERS disjoint ones). Returns the
 * new count. */
size_t fg_portal_filters_normalize(struct fg_portal_filter *f, size_t n);
const char *fg_portal_event_name(enum fg_portal_event ev);
/* The confirmation event for an authorization request: "authorization_created" for
 * create_authorization, "flow_authorized" for authorize_flow, NULL otherwise. */
const char *fg_portal_reply_event(enum fg_portal_event ev);

/* Parsers: 0, or -EBADMSG with a reason (-ENOMEM for allocation failures). On failure the
 * output holds nothing to free. err may be NULL. */
int fg_portal_init_parse(const cJSON *payload, struct fg_portal_init *out, char *err, size_t errlen);
void fg_portal_init_free(struct fg_portal_init *m);
int fg_portal_authorization_parse(const cJSON *payload, struct fg_portal_authorization *out,
				  char *err, size_t errlen);
void fg_portal_authorization_free(struct fg_portal_authorization *m);
/* resource_updated: the payload is a resource. On error *out holds nothing to free. */
int fg_portal_resource_parse(const cJSON *payload, struct fg_portal_resource *out,
			     char *err, size_t errlen);
void fg_portal_resource_free(struct fg_portal_resource *m);
int fg_portal_reject_access_parse(const cJSON *payload, struct fg_portal_reject_access *out,
				  char *err, size_t errlen);
int fg_portal_expiry_updated_parse(const cJSON *payload, struct fg_portal_expiry_updated *out,
				   char *err, size_t errlen);
int fg_portal_relays_presence_parse(const cJSON *payload, struct fg_portal_relays_presence *out,
				    char *err, size_t errlen);
void fg_portal_relays_presence_free(struct fg_portal_relays_presence *m);
int fg_portal_ice_candidates_parse(const cJSON *payload, struct fg_portal_ice_candidates *out,
				   char *err, size_t errlen);
/* "candidate:<foundation> <component> <udp|tcp> <priority> <ip> <port> typ
 * <host|srflx|prflx|relay>[ ...]", printable ASCII, shorter than FG_PORTAL_CANDIDATE_LEN. */
bool fg_portal_candidate_valid(const char *s);

/* Egress payloads (reference §2.5): a new cJSON tree for fg_phx_queue_push(), or NULL. */
cJSON *fg_portal_authorization_created(const char *ref);     /* {"ref":ref}, v1 and v2 */
cJSON *fg_portal_snownet_capabilities(void);                 /* {"iceless":false} */
cJSON *fg_portal_no_relays(void);                            /* {} */
/* {"client_ids":[...],"candidates":[...]} for broadcast_ice_candidates and
 * broadcast_invalidated_ice_candidates; candidates in the given order (Rust sends them
 * highest priority first). */
cJSON *fg_portal_broadcast_candidates(const char *const *client_ids, size_t n_clients,
				      const char *const *candidates, size_t n_candidates);

#endif
