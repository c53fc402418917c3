/* SPDX-License-Identifier: MIT */
/*
 * The body of Firezone's p2p control protocol (tunnel-proto/src/p2p_control.rs; reference
 * §4.2): an 8-byte header [event, 0 x 7] then JSON, carried in an IPv6 packet with next
 * header 0xFF from :: to :: inside the tunnel (the data plane frames and unframes that
 * packet). Events: 0 AssignedIps (client -> gateway:
 * {"resource":"<id>","domain":"<name>","proxy_ips":[4 or 8 addresses]}), 1 DomainStatus
 * (gateway -> client: {"resource","domain","status":"Active"|"Inactive"}), 2 Goodbye (empty).
 * Pure functions over the caller's buffers; any thread.
 */
#ifndef FG_P2P_H
#define FG_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum {
	FG_P2P_HEADER_LEN = 8,
	FG_P2P_ASSIGNED_IPS = 0,
	FG_P2P_DOMAIN_STATUS = 1,
	FG_P2P_GOODBYE = 2,
	FG_P2P_MAX_BODY = 1280 - 40 - FG_P2P_HEADER_LEN,   /* the whole packet fits 1280 bytes */
	FG_P2P_ID_LEN = 64,                                  /* resource ids (FG_PORTAL_ID_LEN) */
	FG_P2P_NAME_LEN = 254,                               /* a name and its NUL */
	FG_P2P_MAX_PROXY_IPS = 8,
};

struct fg_p2p_assigned_ips {
	char resource[FG_P2P_ID_LEN];
	char domain[FG_P2P_NAME_LEN];        /* without a trailing dot */
	struct fg_ip proxy_ips[FG_P2P_MAX_PROXY_IPS];
	unsigned n_proxy_ips;                /* 4 or 8 */
};

/* The header of a body of len bytes: 0 with *event and the JSON after it, or -EBADMSG
 * (shorter than the header). Reserved header bytes are not checked (forwards-compatible). */
int fg_p2p_split(const uint8_t *body, size_t len, uint8_t *event, const uint8_t **json, size_t *json_len);

/*
 * AssignedIps' JSON: 0, or -EBADMSG with the reason in err (NULL: none): not an object,
 * resource missing or not a 1..63-character printable string, domain missing or not a
 * domain name (1..253 characters, labels 1..63, printable, a trailing dot dropped),
 * proxy_ips not an array of 4 or 8 IP address strings. Unknown fields are ignored.
 */
int fg_p2p_assigned_ips_parse(const uint8_t *json, size_t len, struct fg_p2p_assigned_ips *out, char *err,
			      size_t errlen);

/* A DomainStatus body (header and JSON) into buf: its length, or -EINVAL (resource or
 * domain not as AssignedIps takes them), -ENOSPC. */
int fg_p2p_domain_status_build(const char *resource, const char *domain, bool active, uint8_t *buf, size_t cap);

#endif
