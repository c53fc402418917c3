/* SPDX-License-Identifier: MIT */
/*
 * A data plane flow record (common/ctlproto.h, struct fg_ctl_flow) in the Rust gateway's
 * forms (flow-tracker/src/lib.rs): the `flow_logs` log line ("TCP flow started", ...,
 * with the token's attribution claims and the record's fields) and the report uploaded to
 * the portal's ingest API (flow-log-writer's RECORD_FIELDS, as one JSON object). The
 * gateway is the responder of every flow: the outer tuple is the client's (or its relay's)
 * address to the gateway's own. Rust logs no ICMP flows, so neither does this. Pure
 * functions; safe from any thread.
 */
#ifndef FG_FLOW_RECORD_H
#define FG_FLOW_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ctlproto.h"
#include "flow_token.h"

enum {
	FG_FLOW_TIME_LEN = 40,         /* "2026-07-06T12:00:00.123456789Z" and its NUL */
	FG_FLOW_OUTERS_LEN = 1024,     /* the outers JSON array of FG_CTL_FLOW_MAX_OUTERS tuples */
	FG_FLOW_PAYLOAD_MAX = 2048,    /* one report (a domain is at most 253 bytes) */
};

/* The gateway's end of the outer tuples: the data plane's uplink addresses and port. */
struct fg_flow_local {
	struct fg_ip ip4, ip6;         /* family 0: unknown (0.0.0.0 / :: is written) */
	uint16_t port;
};

/* What a record is logged and reported with beside the data plane's message. */
struct fg_flow_ctx {
	const char *client_id;         /* NULL when unknown */
	const char *domain;            /* the DNS resource's domain of the proxy IP, or NULL */
	const struct fg_flow_claims *claims; /* NULL or !valid: ids come from client_id and the record */
	const struct fg_flow_local *local;
};

/* 0 for a record this module renders; -ENOTSUP for ICMP (never logged, as in Rust);
 * -EINVAL for one that breaks ctlproto.h's rules (kind, protocol, families, n_outers, an
 * unterminated resource id): the caller counts and drops it. */
int fg_flow_check(const struct fg_ctl_flow *m);
/* "TCP flow started", "TCP flow completed", "UDP flow started", "UDP flow completed". */
const char *fg_flow_message(const struct fg_ctl_flow *m);
/* "tcp" / "udp" (protocol as the ingest API names it). */
const char *fg_flow_protocol(const struct fg_ctl_flow *m);
/* Unix ns as chrono prints a DateTime<Utc> (Debug and serde alike): RFC 3339 in UTC with
 * "Z", and 0, 3, 6 or 9 fraction digits, as few as are exact. Returns buf. */
char *fg_flow_time(uint64_t unix_ns, char *buf, size_t len);
/* The address the flow's packets were sent to (the real address of a DNS resource's
 * proxy IP, else the destination as the client sent it). */
const struct fg_ip *fg_flow_inner_dst(const struct fg_ctl_flow *m);
/* The outers field: a compact JSON array of {"src_ip","src_port","dst_ip","dst_port",
 * "path_activated_at"} (the client's or relay's address, then the gateway's). The record
 * carries one time for all of them: each says flow_start. Length, or -ENOSPC. */
int fg_flow_outers(const struct fg_ctl_flow *m, const struct fg_flow_local *l, char *buf, size_t len);
/* The ingest report: {"protocol","inner_src_ip","inner_src_port","inner_dst_ip",
 * "inner_dst_port","domain"?,"outers":[...],"flow_start", and for a completed flow
 * "flow_end","last_packet","rx_packets","tx_packets","rx_bytes","tx_bytes"}. Length (the
 * text is NUL-terminated), or -ENOSPC. */
int fg_flow_payload(const struct fg_ctl_flow *m, const struct fg_flow_ctx *c, char *buf, size_t len);
/* Logs the record: INFO, target flow_logs, Rust's message and field names. */
void fg_flow_log(const struct fg_ctl_flow *m, const struct fg_flow_ctx *c);
/* The end of a completed flow as a word: "idle", "fin", "rst_out", "rst_in", "reset", or
 * NULL. */
const char *fg_flow_end_name(uint32_t end);

#endif
