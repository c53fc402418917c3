/* SPDX-License-Identifier: MIT */
/*
 * The service lcore's counters. The socket servers read them through fg_svc_stats()
 * (service.h); struct fg_svc embeds them (svc_state.h). They get a header of their own so
 * that both headers can include it without including each other: service.h must not show
 * the layout, and svc_state.h, included by service.c, must not include service.h (a module
 * circle for tests/layout/include_graph.py). Written by the service lcore only.
 */
#ifndef FG_SVC_STATS_H
#define FG_SVC_STATS_H

#include <stdint.h>

struct fg_svc_stats {
	uint64_t handshakes_initiated;
	uint64_t handshakes_responded;
	uint64_t handshakes_completed;
	uint64_t cookies_sent;
	uint64_t cookies_received;
	uint64_t keepalives_sent;
	uint64_t roams;
	uint64_t goodbyes_sent;
	uint64_t goodbyes_received;     /* peers removed by the client's p2p Goodbye */
	uint64_t uapi_requests;
	uint64_t stun_delivered;        /* punted STUN queued for the control plane */
	uint64_t packets_sent;          /* datagrams sent for the control plane (PACKET_OUT) */
	uint64_t paths_set;             /* peer paths set by the control plane (ICE nomination) */
	uint64_t p2p_in;                /* AssignedIps queued for the control plane (P2P_IN) */
	uint64_t p2p_out;               /* p2p control packets queued for sealing (P2P_OUT) */
};

/* An lcore's load (stats.c): passes of its loop, those that found work, the TSC cycles
 * these took, and all TSC cycles, over some span (since its loop started, or a window). */
struct fg_svc_load_figures {
	uint64_t polls;
	uint64_t busy_polls;
	uint64_t busy_cycles;
	uint64_t cycles;
};

#endif
