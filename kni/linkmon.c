// SPDX-License-Identifier: MIT
/*
 * The link monitor (see linkmon.h): an RTMGRP_LINK subscription, its message parser and a
 * one-shot state query. The parser works on copies of the headers (memcpy), so a datagram
 * at any alignment is fine, and checks every length against what is left before reading:
 * the kernel's own NLMSG_OK / RTA_OK macros would accept an attribute whose padding runs
 * past the end. The socket belongs to the caller's thread (the data plane's service lcore).
 */
#include "linkmon.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

enum {
	SOCK_BUF_LEN = 1 << 20,     /* room for a burst of link changes between two reads */
	READ_DATAGRAMS_MAX = 256,   /* per call: bounds the service iteration; the rest next time */
	QUERY_TRIES = 3,            /* a rename between the index lookup and the ioctl */
};

/* The attributes of a link message; -EBADMSG when one runs past the end. */
static int parse_attrs(const uint8_t *p, size_t len, struct fg_linkmon_event *ev)
{
	bool have_name = false;

	while (len >= sizeof(struct rtattr)) {
		struct rtattr rta;
		size_t step;

		memcpy(&rta, p, sizeof(rta));
		if (rta.rta_len < sizeof(rta) || rta.rta_len > len)
			return -EBADMSG;
		if ((rta.rta_type & NLA_TYPE_MASK) == IFLA_IFNAME && !have_name) {
			size_t plen = rta.rta_len - sizeof(rta);
			const uint8_t *name = p + RTA_LENGTH(0);
			const uint8_t *nul = memchr(name, '\0', plen < IFNAMSIZ ? plen : IFNAMSIZ);

			/* No interface has an empty or an unterminated name. */
			if (!nul || nul == name)
				return -EBADMSG;
			memcpy(ev->name, name, (size_t)(nul - name) + 1);
			have_name = true;
		}
		step = RTA_ALIGN(rta.rta_len);
		if (step >= len)
			return 0;
		p += step;
		len -= step;
	}
	return len ? -EBADMSG : 0;
}

/* One RTM_NEWLINK / RTM_DELLINK: 1 and *ev filled, 0 when skipped, or -EBADMSG. */
static int parse_link(const uint8_t *msg, size_t len, uint16_t type, struct fg_linkmon_event *ev)
{
	struct ifinfomsg ifi;
	size_t body = len - NLMSG_HDRLEN, hdr = NLMSG_ALIGN(sizeof(ifi));

	if (len < NLMSG_HDRLEN || body < sizeof(ifi))
		return -EBADMSG;
	memcpy(&ifi, msg + NLMSG_HDRLEN, sizeof(ifi));
	if (ifi.ifi_family != AF_UNSPEC)
		return 0;
	if (ifi.ifi_index <= 0)
		return -EBADMSG;
	memset(ev, 0, sizeof(*ev));
	ev->deleted = type == RTM_DELLINK;
	ev->ifindex = ifi.ifi_index;
	ev->flags = ifi.ifi_flags;
	if (body <= hdr)
		return 1;
	return parse_attrs(msg + NLMSG_HDRLEN + hdr, body - hdr, ev) < 0 ? -EBADMSG : 1;
}

int fg_linkmon_parse(const void *buf, size_t len, fg_linkmon_fn fn, void *arg)
{
	const uint8_t *p = buf;
	int n = 0;

	while (len >= sizeof(struct nlmsghdr)) {
		struct fg_linkmon_event ev;
		struct nlmsghdr nh;
		size_t step;
		int r;

		memcpy(&nh, p, sizeof(nh));
		if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len)
			return -EBADMSG;
		if (nh.nlmsg_type == NLMSG_DONE)
			return n;
		if (nh.nlmsg_type == RTM_NEWLINK || nh.nlmsg_type == RTM_DELLINK) {
			r = parse_link(p, nh.nlmsg_len, nh.nlmsg_type, &ev);
			if (r < 0)
				return r;
			if (r > 0) {
				fn(&ev, arg);
				n++;
			}
		}
		step = NLMSG_ALIGN(nh.nlmsg_len);
		if (step >= len)
			return n;
		p += step;
		len -= step;
	}
	/* Trailing bytes too few for a header: the kernel never sends them. */
	return len ? -EBADMSG : n;
}

int fg_linkmon_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int buf = SOCK_BUF_LEN, fd, e;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* Best effort: without it the default buffer only overflows sooner (then a resync). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int fg_linkmon_read(int fd, void *buf, size_t cap, fg_linkmon_fn fn, void *arg)
{
	int events = 0, err = 0;

	for (unsigned i = 0; i < READ_DATAGRAMS_MAX; i++) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				err = -ENOBUFS;   /* messages lost; the queue goes on after them */
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		if (fromlen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		if ((size_t)n > cap) {
			err = -ENOBUFS;           /* cut: what it said is lost */
			continue;
		}
		r = fg_linkmon_parse(buf, (size_t)n, fn, arg);
		if (r < 0) {
			if (err == 0)
				err = r;
			continue;
		}
		events += r;
	}
	return err < 0 ? err : events;
}

int fg_linkmon_query(int ifindex, unsigned *flags, char *name)
{
	int fd, e = -ENODEV;

	if (ifindex <= 0)
		return -ENODEV;
	/* SIOCGIFFLAGS works on a socket of any family; AF_UNIX needs no IP stack. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (unsigned t = 0; t < QUERY_TRIES; t++) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		if (!if_indextoname((unsigned)ifindex, ifr.ifr_name)) {
			e = errno == ENXIO || errno == ENODEV ? -ENODEV : -errno;
			break;
		}
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
			*flags = (unsigned)(unsigned short)ifr.ifr_flags;
			if (name)
				memcpy(name, ifr.ifr_name, IFNAMSIZ);
			e = 0;
			break;
		}
		e = -errno;
		if (e != -ENODEV)
			break;
		/* Renamed (or deleted) since the lookup: look it up again. */
	}
	close(fd);
	return e;
}
