/* SPDX-License-Identifier: MIT */
/*
 * A small hand-written rtnetlink client for kni/: build one request (fixed header plus
 * attributes, nests included) in a caller-owned buffer, send it on a fresh NETLINK_ROUTE
 * socket, and wait for the kernel's acknowledgement or dump. Errors come back as -errno;
 * the kernel's extended-ack text, when there is one, is logged at debug level under
 * "kni". No state outlives a call: whichever thread configures the host interface (the
 * data plane's service lcore) owns its own message buffers.
 */
#ifndef FG_NETLINK_H
#define FG_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

enum {
	FG_NETLINK_MSG_MAX = 512,  /* room for any request kni/ builds */
};

/* One request under construction. err latches the first overflow (-EMSGSIZE). */
struct fg_netlink_msg {
	union {
		struct nlmsghdr nh;
		uint8_t buf[FG_NETLINK_MSG_MAX];
	} u;
	int err;
};

/*
 * Called for every message of a dump that is not NLMSG_DONE/NLMSG_ERROR. Return 0 to go
 * on, a negative errno to stop the dump and fail with it.
 */
typedef int (*fg_netlink_dump_fn)(const struct nlmsghdr *nh, void *arg);

/* Starts a request: nlmsghdr (type, NLM_F_REQUEST | flags) followed by hdrlen bytes of hdr. */
void fg_netlink_init(struct fg_netlink_msg *m, uint16_t type, uint16_t flags,
		     const void *hdr, size_t hdrlen);
/* Appends one attribute. Returns 0 or -EMSGSIZE (also latched in m->err). */
int fg_netlink_put(struct fg_netlink_msg *m, uint16_t type, const void *data, size_t len);
int fg_netlink_put_u32(struct fg_netlink_msg *m, uint16_t type, uint32_t v);
int fg_netlink_put_u8(struct fg_netlink_msg *m, uint16_t type, uint8_t v);
/* Opens a nested attribute; returns its offset for fg_netlink_nest_end (0 on overflow). */
size_t fg_netlink_nest_begin(struct fg_netlink_msg *m, uint16_t type);
void fg_netlink_nest_end(struct fg_netlink_msg *m, size_t nest);

/* Sends m with NLM_F_ACK and waits for the kernel's answer. Returns 0 or -errno. */
int fg_netlink_transact(struct fg_netlink_msg *m);
/* Sends m with NLM_F_DUMP and calls fn on each answer until NLMSG_DONE. Returns 0 or -errno. */
int fg_netlink_dump(struct fg_netlink_msg *m, fg_netlink_dump_fn fn, void *arg);

/* Attribute iteration over the payload that follows a fixed header of hdrlen bytes. */
static inline struct rtattr *fg_netlink_attrs(const struct nlmsghdr *nh, size_t hdrlen)
{
	return (struct rtattr *)((uint8_t *)NLMSG_DATA(nh) + NLMSG_ALIGN(hdrlen));
}

static inline int fg_netlink_attrs_len(const struct nlmsghdr *nh, size_t hdrlen)
{
	return (int)nh->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(hdrlen));
}

#endif
