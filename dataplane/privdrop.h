/* SPDX-License-Identifier: MIT */
/*
 * Dropping the data plane's privileges once it is set up: the EAL, the port, the TUN and
 * the sockets need root, the running loops need (almost) nothing. Capabilities and
 * no_new_privs are per thread in Linux, and the EAL has started its lcore and control
 * threads long before, so the drop is broadcast to every thread of the process (as
 * libcap's psx does) and then done on the caller. Main lcore only, once, at start-up.
 */
#ifndef FG_PRIVDROP_H
#define FG_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/capability.h>

/*
 * What the running data plane keeps. CAP_NET_ADMIN: the control plane's init message
 * (fg_svc_iface_set, on the service lcore) flushes and re-adds the TUN's addresses and
 * routes over rtnetlink. Nothing else is needed once running: the sockets listen already
 * (accept needs nothing), the TUN queues and the port are open, and what is written or
 * unlinked later (stats file, sockets at exit, hugepage files) lies in directories that
 * uid 0 owns, which needs no CAP_DAC_OVERRIDE.
 */
#define FG_PRIVDROP_RUNTIME_CAPS (UINT64_C(1) << CAP_NET_ADMIN)

struct fg_privdrop_report {
	uint64_t kept;       /* the permitted and effective sets afterwards */
	unsigned threads;    /* threads changed, the caller's included */
	bool bounding;       /* the bounding set was reduced (needs CAP_SETPCAP) */
};

/*
 * In every thread: the effective and permitted sets become keep ∩ permitted, the
 * inheritable and ambient sets empty, the bounding set keep (when we hold CAP_SETPCAP),
 * and no_new_privs is set. Call when no other thread is creating threads. Returns 0, or
 * -errno with the process in an unknown mixture (the caller exits): -EBUSY when another
 * handler owns the signal used, -ETIMEDOUT when a thread did not answer within 5 s.
 */
int fg_privdrop_apply(uint64_t keep, struct fg_privdrop_report *out);
/* "cap_net_admin,cap_net_raw" (or "none"), truncated to len. Returns buf. */
const char *fg_privdrop_format(uint64_t caps, char *buf, size_t len);

#endif
