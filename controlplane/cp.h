/* SPDX-License-Identifier: MIT */
/*
 * The control plane process's one context: everything main.c wires together, owned by
 * main() and handed to every callback through its ctx pointer. Control plane thread only.
 */
#ifndef FG_CP_H
#define FG_CP_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "ctlsock.h"
#include "dpclient.h"
#include "gateway.h"
#include "health.h"
#include "login.h"
#include "loop.h"
#include "nat.h"
#include "portal.h"
#include "state.h"

struct lws_context;
struct fg_flowlog;

enum { FG_CP_NAT_WATCHES = 16 };   /* the DNS resolver's sockets (cpnat.c) */

struct fg_cp_natw;
struct fg_dnsfwd;

/* /metrics' copy of the data plane's counters (cpmetrics.c): a scrape renders it and never
 * waits on the data plane. */
struct fg_cp_metrics {
	struct fg_ctl_stats_reply stats;  /* the data plane's last STATS_REPLY */
	bool have_stats;                  /* stats came from the data plane connected now */
	bool answered;                    /* the last request for it was answered */
	bool pending;                     /* a request for it is in flight */
	bool warned;                      /* a family was refused (a bug): said once */
	int64_t stats_ms;                 /* when stats came (fg_dpc_now_ms) */
	struct fg_timer timer;            /* asks again every FG_CP_METRICS_REFRESH_MS */
};

enum {
	FG_CP_METRICS_REFRESH_MS = 1000,  /* how often the data plane's counters are asked for */
	FG_CP_METRICS_BUDGET_MS = 2000,   /* how long one request may take */
};

struct fg_cp {
	struct lws_context *lws;
	struct fg_loop loop;             /* lws and the vhost watched descriptors join */
	struct fg_login login;
	struct fg_dpc dpc;
	struct fg_cp_state state;
	struct fg_gateway gw;
	struct fg_conn *conn;            /* relays, ICE agents, punted STUN */
	struct fg_timer conn_timer;      /* its one timer */
	struct fg_cp_nat *nat;           /* DNS resources: AssignedIps, resolution, NAT */
	struct fg_timer nat_timer;       /* its resolver's timer */
	struct fg_cp_natw {
		struct fg_cp *cp;
		int fd;                  /* -1: free */
		struct fg_watch *w;
	} natw[FG_CP_NAT_WATCHES];       /* its resolver's sockets */
	struct fg_dnsfwd *dnsfwd;        /* the DNS forwarder on the tunnel addresses :53535 */
	struct fg_watch *dnsw;           /* its one descriptor (cpdns.c) */
	struct fg_timer dns_timer;       /* its one timer */
	struct fg_portal *portal;
	struct fg_flowlog *flows;        /* flow logs: records, spool, uploads (cpflow.c) */
	struct fg_watch *dpw;            /* the data plane's control socket on the loop */
	struct fg_timer dp_timer;        /* reconnects to the data plane */
	struct fg_timer dpreq_timer;     /* the earliest deadline of a data plane request */
	struct fg_ctlsock ctl;           /* fastgatectl's socket */
	struct fg_health health;         /* HEALTH_CHECK_ADDR: /healthz, /readyz, /metrics */
	struct fg_cp_metrics metrics;    /* what /metrics renders of the data plane */
	struct fg_watch *sigw;
	int sigfd;
	int exit_code;
	bool stopping;
	int64_t started_ms;              /* CLOCK_MONOTONIC ms (fg_dpc_now_ms): the uptime
					  * survives a step of the wall clock */
};

/* After the first HELLO (cp->dpc connected): watches the data plane's control socket,
 * synchronises the state with it and reconnects whenever it is lost (cpdp.c). */
void fg_cp_dp_attach(struct fg_cp *cp);

/* DNS resources on the loop (cpnat.c): 0 or -errno (the resolver could not start). */
int fg_cp_nat_start(struct fg_cp *cp);
void fg_cp_nat_stop(struct fg_cp *cp);

/* Flow logs on the loop (cpflow.c): start takes the data plane's FLOW records and hands
 * cp->gw init's flow_logs and the ingest tokens (0 or -errno); dp_up (after each HELLO)
 * tells the data plane whether to track every flow and where the gateway's end is. */
int fg_cp_flows_start(struct fg_cp *cp);
void fg_cp_flows_dp_up(struct fg_cp *cp);
void fg_cp_flows_stop(struct fg_cp *cp);

/* The DNS forwarder (cpdns.c): start reads FASTGATE_DNS_RESOLV_CONF (0 or -errno, errno set);
 * follow, after each portal message, listens on the tunnel addresses init gave (moves when
 * they change; a bind failure after the retries stops the process with exit code 1). */
int fg_cp_dns_start(struct fg_cp *cp);
void fg_cp_dns_follow(struct fg_cp *cp);
void fg_cp_dns_stop(struct fg_cp *cp);

/* fastgatectl's answers (cpstatus.c); its ctx is the struct fg_cp. */
extern const struct fg_cpctl_provider fg_cp_ctl_provider;

/* /metrics (cpmetrics.c): start serves HEALTH_CHECK_ADDR with /metrics and keeps the copy of
 * the data plane's counters fresh (0 or -errno: the address could not be served); dp_lost
 * (cpdp.c) forgets that copy when the data plane goes; stop ends the refreshes. */
int fg_cp_metrics_start(struct fg_cp *cp, const char *addr);
void fg_cp_metrics_dp_lost(struct fg_cp *cp);
void fg_cp_metrics_stop(struct fg_cp *cp);

#endif
