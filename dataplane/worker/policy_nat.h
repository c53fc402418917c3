/* SPDX-License-Identifier: MIT */
/*
 * The NAT view of a client's policy (DNS resources, reference §4.3): a proxy IP the client
 * assigned to a domain and the real IP the fast path translates it to. Its own header so
 * that policy.h and the policy's private layout can both name it.
 */
#ifndef FG_POLICY_NAT_H
#define FG_POLICY_NAT_H

#include <stdint.h>

#include "addr.h"

/* real.family 0: the domain has no address of the proxy IP's family (no NAT64), which
 * fg_policy_outbound() answers with NET_UNREACHABLE. */
struct fg_policy_nat {
	struct fg_ip proxy;
	struct fg_ip real;
	uint32_t index;             /* 0..fg_policy_nat_count()-1, stable for this policy */
};

#endif
