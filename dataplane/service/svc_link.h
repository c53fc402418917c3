/* SPDX-License-Identifier: MIT */
/*
 * The layout of the service lcore's watch over the host interfaces the data plane stands
 * on (linkwatch.c): the kernel interface behind the uplink port (a net_af_packet vdev's
 * iface) and the TUN. Embedded in struct fg_svc (svc_state.h); its functions are declared
 * in service.h. A header of its own (not linkwatch.h) for the reason svc_stats.h has one:
 * svc_state.h includes it, and linkwatch.c includes svc_state.h. Service lcore only.
 */
#ifndef FG_SVC_LINK_H
#define FG_SVC_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <net/if.h>

enum {
	FG_SVC_LINKS_MAX = 2,          /* the uplink port and the TUN */
	FG_SVC_LINK_WHAT_LEN = 16,     /* "port 65535", "TUN" */
	/* How often the link status of a port without a kernel interface (a PCI NIC's PMD) is
	 * read, and a watched interface's flags when no netlink socket could be opened. */
	FG_SVC_LINK_POLL_MS = 250,
	/* A link down is logged once it has been down this long without being deleted: the
	 * kernel takes an interface down before it deletes it, and a deletion is one ERROR,
	 * not a WARN and an ERROR. (The workers stop sending at once.) */
	FG_SVC_LINK_DOWN_GRACE_MS = 200,
};

struct fg_svc_link {
	char what[FG_SVC_LINK_WHAT_LEN];  /* for the log: "port 0" or "TUN" */
	char name[IFNAMSIZ];              /* the kernel's name, or the ethdev's without one */
	int ifindex;                      /* 0: no kernel interface, the PMD's link status */
	bool is_port;
	uint16_t port;                    /* the ethdev port (is_port) */
	bool up;                          /* last state seen (and logged) */
	bool gone;                        /* deleted: nothing more to watch */
	uint64_t downs;                   /* up -> down transitions */
	uint64_t down_since_ns;           /* service clock */
	bool warn_pending;                /* down, not yet logged (FG_SVC_LINK_DOWN_GRACE_MS) */
	/* what one read of the netlink socket said, applied after it */
	bool seen, seen_deleted;
	unsigned seen_flags;
};

struct fg_svc_linkwatch {
	bool started;
	int fd;                           /* RTMGRP_LINK socket, -1: poll the flags instead */
	unsigned n;
	struct fg_svc_link links[FG_SVC_LINKS_MAX];
	uint64_t next_poll_ns;
	uint64_t resyncs;                 /* netlink overflows (state read again) */
};

#endif
