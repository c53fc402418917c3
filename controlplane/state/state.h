/* SPDX-License-Identifier: MIT */
/*
 * The control plane's model of what the portal authorized: clients (keys, tunnel IPs),
 * their resources (filters, expiry), the gateway's tunnel addresses. Every change
 * is pushed to the data plane over the control socket; the data plane is the authority on
 * what is live (it keeps forwarding while the control plane is away), so a restarted
 * control plane first adopts the data plane's state and then lets the portal's `init`
 * prune it. Pushes are asynchronous (dpclient.h): the state changes at once, the data
 * plane's answers are logged when they come. Owned by the control plane's single thread.
 */
#ifndef FG_CP_STATE_H
#define FG_CP_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "ctlproto.h"
#include "dpclient.h"

enum fg_cp_res_type {
	FG_CP_RES_CIDR = 1,
	FG_CP_RES_DNS,
	FG_CP_RES_INTERNET,
};

struct fg_cp_filter {
	uint8_t proto;      /* 6 tcp, 17 udp, 1 icmp */
	uint16_t lo, hi;
};

struct fg_cp_resource {
	char id[FG_CTL_ID_LEN];
	char name[1024];
	uint32_t type;               /* enum fg_cp_res_type */
	struct fg_prefix prefix;     /* cidr */
	char pattern[256];           /* dns: the address pattern (dns/pattern.h) */
	uint32_t n_filters;          /* any number up to FG_CTL_MAX_FILTERS */
	struct fg_cp_filter *filters; /* heap: owned by the client's res[]; borrowed in
				      * arguments (state functions copy what they keep) */
	uint64_t expires_at;         /* unix s, 0 = never */
};

struct fg_cp_client {
	char id[FG_CTL_ID_LEN];
	uint8_t public_key[32];
	uint8_t psk[32];
	bool has_psk;
	struct fg_ip ipv4, ipv6;
	char version[32];
	struct fg_cp_resource *res;
	uint32_t nres, capres;
	char (*cands)[256];          /* the client's ICE candidates (stored for the ICE issue) */
	uint32_t ncands;
	bool adopted;                /* taken from a DUMP in flight (fg_cp_sync) */
	bool said_goodbye;           /* its Goodbye removed its peer: nothing is pushed for it
				      * until its next authorization pushes it whole */
};

enum {
	FG_CP_MAX_CANDIDATES = 32,
};

struct fg_cp_auth {                  /* one entry of init.authorizations */
	char client_id[FG_CTL_ID_LEN];
	char resource_id[FG_CTL_ID_LEN];
	uint64_t expires_at;
};

struct fg_cp_state {
	struct fg_dpc *dpc;
	struct fg_cp_client *clients;
	uint32_t n, cap;
	struct fg_ip if4, if6;
	char account_slug[128];
	bool dp_synced;              /* the data plane holds what we hold */
	uint64_t dp_errors;
	/* Called when a sync's pushes are queued (after fg_cp_sync's DUMP): what depends on
	 * the peers and resources (DNS resource NAT) may follow them. May be NULL. */
	void (*on_synced)(void *arg);
	void *synced_arg;
};

void fg_cp_state_init(struct fg_cp_state *s, struct fg_dpc *dpc);
void fg_cp_state_free(struct fg_cp_state *s);

/* create_authorization / authorize_flow: upserts the client and the resource. On 0, done
 * runs exactly once when the data plane has answered every push (or they failed or timed
 * out: status is the first failure, already logged); before this returns when nothing
 * needed the data plane. On -errno (out of memory) nothing changed and done never runs. */
int fg_cp_authorize(struct fg_cp_state *s, const struct fg_cp_client *client, const struct fg_cp_resource *res,
		    void (*done)(void *ctx, int status), void *ctx);
/* reject_access: the last resource going removes the client (the data plane says Goodbye). */
int fg_cp_reject(struct fg_cp_state *s, const char *client_id, const char *resource_id);
/* resource_updated: new filters for every client holding the resource. */
int fg_cp_resource_updated(struct fg_cp_state *s, const struct fg_cp_resource *res);
/* init: tunnel addresses, then retain only the listed authorizations (when has_list). */
int fg_cp_init(struct fg_cp_state *s, const struct fg_ip *if4, const struct fg_ip *if6,
	       const struct fg_cp_auth *auths, size_t nauths, bool has_list);
/* After connecting to the data plane: adopt its peers and resources (a restarted control
 * plane), then push whatever we hold that it lacks (a restarted data plane). Asynchronous:
 * sends the DUMP and does the rest when its answer is in. */
int fg_cp_sync(struct fg_cp_state *s);
/* A data plane event (expiry): drop what it dropped. */
void fg_cp_on_event(struct fg_cp_state *s, const struct fg_ctl_event *ev);
/* ice_candidates / invalidate_ice_candidates: stored per client (known clients only). */
int fg_cp_candidates(struct fg_cp_state *s, const char *client_id, const char (*cands)[256], unsigned n,
		     bool invalidate);
/* Goodbye to every client (SIGTERM). */
void fg_cp_goodbye_all(struct fg_cp_state *s);

struct fg_cp_client *fg_cp_find(struct fg_cp_state *s, const char *client_id);
struct fg_cp_client *fg_cp_find_by_key(struct fg_cp_state *s, const uint8_t public_key[32]);

/* JSON views for fastgatectl. */
cJSON *fg_cp_json_resources(const struct fg_cp_state *s);

#endif
