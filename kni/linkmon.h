/* SPDX-License-Identifier: MIT */
/*
 * Watching the host's network interfaces come and go: a NETLINK_ROUTE socket subscribed to
 * RTMGRP_LINK (event-driven: the kernel tells us, nothing is polled), the parser of what it
 * sends (RTM_NEWLINK / RTM_DELLINK), and a one-shot query of an interface's state for the
 * start and for a resync after the socket overflowed. The data plane's service lcore owns
 * the socket and calls everything here; the parser is pure (no state, no allocation), so
 * that hostile input can be tested and fuzzed on its own (tests/unit/kni/test_linkmon.c,
 * tests/fuzz/fuzz_linkmsg.c).
 */
#ifndef FG_LINKMON_H
#define FG_LINKMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

enum {
	/* Receive buffer for fg_linkmon_read: one datagram of link messages (the kernel sends
	 * one message per datagram for RTMGRP_LINK, about 1.5 KiB with every attribute). */
	FG_LINKMON_BUF = 16384,
};

/* One link message. */
struct fg_linkmon_event {
	bool deleted;             /* RTM_DELLINK: the interface is gone (deleted, or moved to
				   * another namespace) */
	int ifindex;              /* > 0 */
	unsigned flags;           /* ifi_flags: IFF_UP (admin), IFF_RUNNING (operational) */
	char name[IFNAMSIZ];      /* IFLA_IFNAME, "" when the message has none */
};

/* Called for every link event of a datagram, in order. */
typedef void (*fg_linkmon_fn)(const struct fg_linkmon_event *ev, void *arg);

/*
 * Parses one datagram from the socket: every RTM_NEWLINK / RTM_DELLINK of family AF_UNSPEC
 * goes to fn (a bridge's AF_BRIDGE messages describe a port's bridge state, not the device:
 * skipped, as are NLMSG_NOOP, NLMSG_ERROR and other types; NLMSG_DONE ends the datagram).
 * Returns the number of events delivered, or -EBADMSG at the first malformed message
 * (a header or attribute running past its container, a link message shorter than struct
 * ifinfomsg, an ifindex <= 0, an IFLA_IFNAME without its NUL within IFNAMSIZ bytes): the
 * events before it have been delivered, nothing after it is read.
 */
int fg_linkmon_parse(const void *buf, size_t len, fg_linkmon_fn fn, void *arg);

/* A non-blocking, close-on-exec NETLINK_ROUTE socket subscribed to RTMGRP_LINK in the
 * caller's network namespace. Returns the fd or -errno. */
int fg_linkmon_open(void);

/*
 * Reads every datagram waiting on fd (never blocks) into buf (cap bytes, FG_LINKMON_BUF
 * is enough) and parses each; datagrams not from the kernel (a process may send to our
 * port) are ignored. Returns the number of events delivered, -ENOBUFS when the kernel had
 * to drop messages (the socket overflowed: query what is watched again), -EBADMSG when a
 * datagram was malformed (the rest of it was skipped; the next datagrams are still read
 * by the next call), or another -errno of recv.
 */
int fg_linkmon_read(int fd, void *buf, size_t cap, fg_linkmon_fn fn, void *arg);

/*
 * The state of interface ifindex now: 0 with *flags (IFF_*) and name (IFNAMSIZ bytes, may
 * be NULL) filled, -ENODEV when no interface has that index (deleted), or -errno.
 */
int fg_linkmon_query(int ifindex, unsigned *flags, char *name);

/* Up in the sense that traffic can flow: administratively up and operationally running
 * (a veth whose peer is down is UP but not RUNNING). */
static inline bool fg_linkmon_is_up(unsigned flags)
{
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

#endif
