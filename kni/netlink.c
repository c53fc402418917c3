// SPDX-License-Identifier: MIT
/*
 * rtnetlink transport for kni/: message building, one NETLINK_ROUTE socket per request,
 * acknowledgement and dump handling with extended-ack decoding. Used by tun.c to set
 * link attributes, addresses and routes; called only from the thread that configures the
 * host interface (the data plane's service lcore, or a test). Keeps no state between calls.
 */
#include "netlink.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

enum {
	RECV_BUF_LEN = 65536,  /* larger than any single datagram rtnetlink sends */
	RECV_TIMEOUT_S = 5,    /* the kernel answers at once; this only bounds a bug */
	SOCK_BUF_LEN = 1 << 20,
};

static const char LOG_TARGET[] = "kni";

void fg_netlink_init(struct fg_netlink_msg *m, uint16_t type, uint16_t flags,
		     const void *hdr, size_t hdrlen)
{
	memset(m, 0, sizeof(*m));
	m->u.nh.nlmsg_type = type;
	m->u.nh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	m->u.nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	if (NLMSG_SPACE(hdrlen) > sizeof(m->u.buf)) {
		m->err = -EMSGSIZE;
		m->u.nh.nlmsg_len = NLMSG_HDRLEN;
		return;
	}
	if (hdrlen)
		memcpy(NLMSG_DATA(&m->u.nh), hdr, hdrlen);
	m->u.nh.nlmsg_len = NLMSG_ALIGN(m->u.nh.nlmsg_len);
}

int fg_netlink_put(struct fg_netlink_msg *m, uint16_t type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(m->u.nh.nlmsg_len);

	if (m->err)
		return m->err;
	if (off + RTA_SPACE(len) > sizeof(m->u.buf)) {
		m->err = -EMSGSIZE;
		return m->err;
	}
	struct rtattr *rta = (struct rtattr *)(m->u.buf + off);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	/* Zero the alignment padding so requests are byte-for-byte reproducible. */
	memset((uint8_t *)RTA_DATA(rta) + len, 0, RTA_SPACE(len) - RTA_LENGTH(len));
	m->u.nh.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return 0;
}

int fg_netlink_put_u32(struct fg_netlink_msg *m, uint16_t type, uint32_t v)
{
	return fg_netlink_put(m, type, &v, sizeof(v));
}

int fg_netlink_put_u8(struct fg_netlink_msg *m, uint16_t type, uint8_t v)
{
	return fg_netlink_put(m, type, &v, sizeof(v));
}

size_t fg_netlink_nest_begin(struct fg_netlink_msg *m, uint16_t type)
{
	size_t off = NLMSG_ALIGN(m->u.nh.nlmsg_len);

	if (fg_netlink_put(m, (uint16_t)(type | NLA_F_NESTED), NULL, 0) < 0)
		return 0;
	return off;
}

void fg_netlink_nest_end(struct fg_netlink_msg *m, size_t nest)
{
	if (m->err || nest == 0)
		return;
	struct rtattr *rta = (struct rtattr *)(m->u.buf + nest);
	rta->rta_len = (unsigned short)(m->u.nh.nlmsg_len - nest);
}

/* A NETLINK_ROUTE socket that asks for extended acks without the echoed request. */
static int open_socket(void)
{
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	int one = 1, buf = SOCK_BUF_LEN;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	/* Both are optional refinements: older kernels lack them, the protocol still works. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int send_msg(int fd, struct fg_netlink_msg *m)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	do {
		n = sendto(fd, m->u.buf, m->u.nh.nlmsg_len, 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != m->u.nh.nlmsg_len)
		return -EIO;
	return 0;
}

/* Logs the kernel's extended-ack message of an NLMSG_ERROR, if it sent one. */
static void log_extack(const struct nlmsghdr *nh, const struct nlmsghdr *req)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);
	size_t off = sizeof(*e);

	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NLM_F_CAPPED the whole request is echoed before the TLVs. */
	if (!(nh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN || e->msg.nlmsg_len > nh->nlmsg_len)
			return;
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (NLMSG_LENGTH(off) > nh->nlmsg_len)
		return;
	const struct rtattr *rta = (const struct rtattr *)((const uint8_t *)e + NLMSG_ALIGN(off));
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(off));

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type != NLMSGERR_ATTR_MSG || RTA_PAYLOAD(rta) == 0)
			continue;
		fg_debug(LOG_TARGET, "netlink request type %u: %s (%.*s)", req->nlmsg_type,
			 strerror(-e->error), (int)RTA_PAYLOAD(rta), (const char *)RTA_DATA(rta));
		return;
	}
}

/*
 * Reads answers to request req until it is finished: the ACK/error for a plain request,
 * NLMSG_DONE (or an error) for a dump. fn may be NULL for plain requests.
 */
static int receive(int fd, const struct nlmsghdr *req, fg_netlink_dump_fn fn, void *arg)
{
	uint8_t *buf = malloc(RECV_BUF_LEN);
	int ret = 0;
	bool done = false;

	if (!buf)
		return -ENOMEM;
	while (!done) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, RECV_BUF_LEN, 0, (struct sockaddr *)&from, &fromlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
			break;
		}
		if (from.nl_pid != 0)
			continue;  /* only the kernel speaks to this socket */
		int len = (int)n;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					ret = -EBADMSG;
				} else {
					ret = e->error;
					if (ret < 0)
						log_extack(nh, req);
				}
				done = true;
				break;
			}
			if (fn && ret == 0)
				ret = fn(nh, arg);  /* keep draining after a failure */
		}
	}
	free(buf);
	return ret;
}

static int run(struct fg_netlink_msg *m, uint16_t flags, fg_netlink_dump_fn fn, void *arg)
{
	static const uint32_t first_seq = 1;
	int fd, ret;

	if (m->err)
		return m->err;
	m->u.nh.nlmsg_flags |= flags;
	m->u.nh.nlmsg_seq = first_seq;  /* a fresh socket per request: no reuse to guard */
	fd = open_socket();
	if (fd < 0)
		return fd;
	ret = send_msg(fd, m);
	if (ret == 0)
		ret = receive(fd, &m->u.nh, fn, arg);
	close(fd);
	return ret;
}

int fg_netlink_transact(struct fg_netlink_msg *m)
{
	return run(m, NLM_F_ACK, NULL, NULL);
}

int fg_netlink_dump(struct fg_netlink_msg *m, fg_netlink_dump_fn fn, void *arg)
{
	return run(m, NLM_F_DUMP, fn, arg);
}
