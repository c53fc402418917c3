// SPDX-License-Identifier: MIT
/*
 * The host TUN interface: creation of the multi-queue device, its configuration over
 * rtnetlink (link attributes, addresses, routes of both families), its removal, and the
 * non-blocking batched read/write helpers the workers call on their own queue fd.
 * struct fg_tun is owned by the thread that opened it (the service lcore); the burst
 * helpers are stateless and touch only the fd and arrays they are given.
 */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "log.h"
#include "netlink.h"

enum {
	IPV4_LEN = 4,
	IPV6_LEN = 16,
	IPV4_HDR_LEN = 20,
	IPV6_HDR_LEN = 40,
	FLUSH_BATCH = 64,     /* addresses removed per dump round */
	FLUSH_ROUNDS = 16,    /* bounds a flush racing with someone adding addresses */
	SYSCTL_PATH_LEN = 96,
	BURST_LEN_MAX = UINT16_MAX,
};

_Static_assert(FG_TUN_OFFLOAD_CSUM == TUN_F_CSUM && FG_TUN_OFFLOAD_TSO4 == TUN_F_TSO4 &&
	       FG_TUN_OFFLOAD_TSO6 == TUN_F_TSO6 && FG_TUN_OFFLOAD_TSO_ECN == TUN_F_TSO_ECN,
	       "offload bits are the kernel's");
_Static_assert(sizeof(struct virtio_net_hdr) == FG_VNET_HDR_LEN, "virtio_net_hdr");

/* Offload sets tried in turn: a kernel refuses bits it does not know with EINVAL. */
static const unsigned OFFLOAD_STEPS[] = {
	FG_TUN_OFFLOAD_CSUM | FG_TUN_OFFLOAD_TSO4 | FG_TUN_OFFLOAD_TSO6 | FG_TUN_OFFLOAD_TSO_ECN |
		FG_TUN_OFFLOAD_USO4 | FG_TUN_OFFLOAD_USO6,
	FG_TUN_OFFLOAD_CSUM | FG_TUN_OFFLOAD_TSO4 | FG_TUN_OFFLOAD_TSO6 | FG_TUN_OFFLOAD_TSO_ECN,
	FG_TUN_OFFLOAD_CSUM,
	0,
};

static const char LOG_TARGET[] = "kni";
static const char TUN_DEV[] = "/dev/net/tun";

static bool valid_name(const char *name)
{
	size_t len = name ? strnlen(name, IFNAMSIZ) : 0;

	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	/* '%' would make the kernel pick a name from a template; we want exactly this one. */
	return strpbrk(name, "/%: \t\n") == NULL;
}

static void reset(struct fg_tun *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < FG_TUN_MAX_QUEUES; i++)
		t->fds[i] = -1;
}

void fg_tun_close(struct fg_tun *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < FG_TUN_MAX_QUEUES; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	reset(t);
}

/* Opens one queue. The first one creates the device and must not attach to another's. */
static int open_queue(const char *name, bool first, bool vnet, char created[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
	if (vnet)
		ifr.ifr_flags |= IFF_VNET_HDR;
	/* IFF_TUN_EXCL: fail with EBUSY instead of attaching to a device that exists. */
	if (first)
		ifr.ifr_flags |= IFF_TUN_EXCL;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (created)
		memcpy(created, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

/* rtnetlink RTM_SETLINK on the device with an optional u32 attribute. */
static int set_link(struct fg_tun *t, unsigned flags, unsigned change, uint16_t attr, uint32_t v)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = t->ifindex,
		.ifi_flags = flags,
		.ifi_change = change,
	};
	struct fg_netlink_msg m;

	if (t->ifindex <= 0)
		return -EBADF;
	fg_netlink_init(&m, RTM_SETLINK, 0, &ifi, sizeof(ifi));
	if (attr)
		fg_netlink_put_u32(&m, attr, v);
	return fg_netlink_transact(&m);
}

/*
 * A TUN has no hardware address, so the kernel would invent a random link-local address
 * and send router solicitations and MLD reports into the data plane. Mode "none" keeps
 * the device silent; addresses come only from the configuration.
 */
static int disable_ipv6_linklocal(struct fg_tun *t)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = t->ifindex };
	struct fg_netlink_msg m;

	fg_netlink_init(&m, RTM_SETLINK, 0, &ifi, sizeof(ifi));
	size_t spec = fg_netlink_nest_begin(&m, IFLA_AF_SPEC);
	size_t inet6 = fg_netlink_nest_begin(&m, AF_INET6);
	fg_netlink_put_u8(&m, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	fg_netlink_nest_end(&m, inet6);
	fg_netlink_nest_end(&m, spec);
	return fg_netlink_transact(&m);
}

/*
 * Header size and byte order are per device, offloads too (they become the device's
 * features): set once, through the first queue.
 */
static int setup_vnet(struct fg_tun *t)
{
	int sz = FG_VNET_HDR_LEN, le = 1;

	if (ioctl(t->fds[0], TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	/* Native order on a little-endian host already; a big-endian one needs the switch. */
	if (ioctl(t->fds[0], TUNSETVNETLE, &le) < 0 && __BYTE_ORDER == __BIG_ENDIAN)
		return -errno;
	for (unsigned i = 0; i < sizeof(OFFLOAD_STEPS) / sizeof(OFFLOAD_STEPS[0]); i++) {
		if (ioctl(t->fds[0], TUNSETOFFLOAD, (unsigned long)OFFLOAD_STEPS[i]) == 0) {
			t->offloads = OFFLOAD_STEPS[i];
			return 0;
		}
		if (errno != EINVAL)
			return -errno;
	}
	return -EINVAL;
}

int fg_tun_open(struct fg_tun *t, const char *name, unsigned nqueues)
{
	return fg_tun_open_ex(t, name, nqueues, 0, NULL);
}

int fg_tun_open_ex(struct fg_tun *t, const char *name, unsigned nqueues, unsigned flags,
		   unsigned *offloads_out)
{
	bool vnet = flags & FG_TUN_VNET_HDR;
	int ret;

	if (offloads_out)
		*offloads_out = 0;
	if (!t)
		return -EINVAL;
	reset(t);
	if (!valid_name(name) || nqueues == 0 || nqueues > FG_TUN_MAX_QUEUES ||
	    (flags & ~(unsigned)FG_TUN_VNET_HDR))
		return -EINVAL;
	for (unsigned q = 0; q < nqueues; q++) {
		ret = open_queue(name, q == 0, vnet, q == 0 ? t->name : NULL);
		if (ret < 0)
			goto err_close;
		t->fds[q] = ret;
		t->nqueues = q + 1;
	}
	t->ifindex = (int)if_nametoindex(t->name);
	if (t->ifindex == 0) {
		ret = -errno;
		goto err_close;
	}
	if (vnet) {
		ret = setup_vnet(t);
		if (ret < 0)
			goto err_close;
		t->flags = FG_TUN_VNET_HDR;
		if (offloads_out)
			*offloads_out = t->offloads;
	}
	ret = disable_ipv6_linklocal(t);
	if (ret < 0)
		fg_debug(LOG_TARGET, "%s: IPv6 link-local generation left on: %s", t->name,
			 strerror(-ret));
	return 0;

err_close:
	fg_tun_close(t);
	return ret;
}

int fg_tun_set_mtu(struct fg_tun *t, unsigned mtu)
{
	if (!t || mtu == 0 || mtu > UINT16_MAX)
		return -EINVAL;
	return set_link(t, 0, 0, IFLA_MTU, mtu);
}

int fg_tun_set_txqueuelen(struct fg_tun *t, unsigned qlen)
{
	if (!t)
		return -EINVAL;
	return set_link(t, 0, 0, IFLA_TXQLEN, qlen);
}

int fg_tun_set_up(struct fg_tun *t, bool up)
{
	if (!t)
		return -EINVAL;
	return set_link(t, up ? IFF_UP : 0, IFF_UP, 0, 0);
}

/* True when the kernel will not take IPv6 on this device (disabled or absent). */
static bool ipv6_unavailable(const struct fg_tun *t)
{
	char path[SYSCTL_PATH_LEN];
	char v = '0';

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", t->name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;  /* no inet6 device: IPv6 off in the kernel or MTU below 1280 */
	ssize_t n = read(fd, &v, 1);
	close(fd);
	return n == 1 && v != '0';
}

static int check_prefix(const struct fg_tun *t, const struct fg_prefix *p)
{
	if (!t || !p)
		return -EINVAL;
	if (t->ifindex <= 0)
		return -EBADF;
	if (p->ip.family == AF_INET)
		return p->len <= 32 ? IPV4_LEN : -EINVAL;
	if (p->ip.family == AF_INET6)
		return p->len <= 128 ? IPV6_LEN : -EINVAL;
	return -EAFNOSUPPORT;
}

/* Maps a failed IPv6 request to -EAFNOSUPPORT when IPv6 is off, the cause callers report. */
static int v6_error(const struct fg_tun *t, const struct fg_prefix *p, int ret)
{
	if (ret < 0 && p->ip.family == AF_INET6 && ipv6_unavailable(t))
		return -EAFNOSUPPORT;
	return ret;
}

static int address_request(struct fg_tun *t, uint16_t type, uint16_t flags,
			   uint8_t family, const uint8_t *addr, uint8_t len)
{
	struct ifaddrmsg ifa = {
		.ifa_family = family,
		.ifa_prefixlen = len,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = (unsigned)t->ifindex,
	};
	size_t alen = family == AF_INET ? IPV4_LEN : IPV6_LEN;
	struct fg_netlink_msg m;

	if (family == AF_INET6 && type == RTM_NEWADDR)
		ifa.ifa_flags = IFA_F_NODAD;  /* a point-to-point TUN has nobody to collide with */
	fg_netlink_init(&m, type, flags, &ifa, sizeof(ifa));
	fg_netlink_put(&m, IFA_LOCAL, addr, alen);
	fg_netlink_put(&m, IFA_ADDRESS, addr, alen);
	if (type == RTM_NEWADDR)
		fg_netlink_put_u32(&m, IFA_FLAGS, ifa.ifa_flags);
	return fg_netlink_transact(&m);
}

int fg_tun_add_address(struct fg_tun *t, const struct fg_prefix *p)
{
	int ret = check_prefix(t, p);

	if (ret < 0)
		return ret;
	ret = address_request(t, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, p->ip.family,
			      p->ip.addr, p->len);
	return v6_error(t, p, ret);
}

int fg_tun_del_address(struct fg_tun *t, const struct fg_prefix *p)
{
	int ret = check_prefix(t, p);

	if (ret < 0)
		return ret;
	ret = address_request(t, RTM_DELADDR, 0, p->ip.family, p->ip.addr, p->len);
	return v6_error(t, p, ret);
}

/* Addresses of one device collected from an RTM_GETADDR dump. */
struct addr_list {
	int ifindex;
	unsigned count;
	bool full;
	struct fg_prefix items[FLUSH_BATCH];
};

static int collect_address(const struct nlmsghdr *nh, void *arg)
{
	struct addr_list *l = arg;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const uint8_t *local = NULL, *address = NULL;
	size_t alen;

	if (nh->nlmsg_type != RTM_NEWADDR || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return 0;
	if ((int)ifa->ifa_index != l->ifindex)
		return 0;
	if (ifa->ifa_family == AF_INET)
		alen = IPV4_LEN;
	else if (ifa->ifa_family == AF_INET6)
		alen = IPV6_LEN;
	else
		return 0;
	int len = fg_netlink_attrs_len(nh, sizeof(*ifa));
	for (struct rtattr *rta = fg_netlink_attrs(nh, sizeof(*ifa)); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) != alen)
			continue;
		if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS)
			address = RTA_DATA(rta);
	}
	if (!local)
		local = address;  /* IPv6 sends only IFA_ADDRESS */
	if (!local)
		return 0;
	if (l->count == FLUSH_BATCH) {
		l->full = true;
		return 0;
	}
	struct fg_prefix *p = &l->items[l->count++];
	memset(p, 0, sizeof(*p));
	p->ip.family = ifa->ifa_family;
	memcpy(p->ip.addr, local, alen);
	p->len = ifa->ifa_prefixlen;
	return 0;
}

int fg_tun_flush_addresses(struct fg_tun *t)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
	struct addr_list l;

	if (!t)
		return -EINVAL;
	if (t->ifindex <= 0)
		return -EBADF;
	for (unsigned round = 0; round < FLUSH_ROUNDS; round++) {
		struct fg_netlink_msg m;

		memset(&l, 0, sizeof(l));
		l.ifindex = t->ifindex;
		fg_netlink_init(&m, RTM_GETADDR, 0, &ifa, sizeof(ifa));
		int ret = fg_netlink_dump(&m, collect_address, &l);
		if (ret < 0)
			return ret;
		if (l.count == 0)
			return 0;
		for (unsigned i = 0; i < l.count; i++) {
			ret = address_request(t, RTM_DELADDR, 0, l.items[i].ip.family,
					      l.items[i].ip.addr, l.items[i].len);
			/* Deleting an IPv4 primary also removes its secondaries. */
			if (ret < 0 && ret != -EADDRNOTAVAIL && ret != -ENOENT && ret != -ENODEV)
				return ret;
		}
	}
	return -EAGAIN;
}

static int route_request(struct fg_tun *t, uint16_t type, uint16_t flags,
			 const struct fg_prefix *p, size_t alen)
{
	struct rtmsg rtm = {
		.rtm_family = p->ip.family,
		.rtm_dst_len = p->len,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = type == RTM_NEWROUTE ? RTPROT_STATIC : RTPROT_UNSPEC,
		/* A route without gateway is on-link; NOWHERE on delete matches any scope. */
		.rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE,
		.rtm_type = RTN_UNICAST,
	};
	uint8_t dst[IPV6_LEN] = { 0 };
	struct fg_netlink_msg m;

	/* The kernel rejects IPv4 prefixes with host bits set: clear them. */
	for (unsigned i = 0; i < alen; i++) {
		unsigned bits = p->len > i * 8 ? p->len - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		dst[i] = p->ip.addr[i] & mask;
	}
	fg_netlink_init(&m, type, flags, &rtm, sizeof(rtm));
	if (p->len)
		fg_netlink_put(&m, RTA_DST, dst, alen);
	fg_netlink_put_u32(&m, RTA_TABLE, RT_TABLE_MAIN);
	fg_netlink_put_u32(&m, RTA_OIF, (uint32_t)t->ifindex);
	return fg_netlink_transact(&m);
}

int fg_tun_add_route(struct fg_tun *t, const struct fg_prefix *p)
{
	int ret = check_prefix(t, p);

	if (ret < 0)
		return ret;
	ret = route_request(t, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, p, (size_t)ret);
	return v6_error(t, p, ret);
}

int fg_tun_del_route(struct fg_tun *t, const struct fg_prefix *p)
{
	int ret = check_prefix(t, p);

	if (ret < 0)
		return ret;
	ret = route_request(t, RTM_DELROUTE, 0, p, (size_t)ret);
	return v6_error(t, p, ret);
}

/* A read or write error that concerns one packet only; others end the burst. */
static bool packet_error(int err)
{
	return err == EINVAL || err == EFAULT || err == EMSGSIZE || err == ENOBUFS ||
	       err == ENOMEM;
}

/*
 * The kernel silently cuts a packet longer than the read buffer; the IP header's own
 * length tells. Anything not IPv4/IPv6 or shorter than its header is damaged too.
 */
static bool truncated(const uint8_t *p, size_t len)
{
	if (len >= IPV4_HDR_LEN && (p[0] >> 4) == 4)
		return (size_t)(p[2] << 8 | p[3]) > len;
	if (len >= IPV6_HDR_LEN && (p[0] >> 4) == 6)
		return (size_t)(p[4] << 8 | p[5]) + IPV6_HDR_LEN > len;
	return true;
}

bool fg_tun_read_ok(const uint8_t *buf, size_t len, size_t skip)
{
	return len > skip && !truncated(buf + skip, len - skip);
}

/*
 * One read for the burst loops: the length of a good packet, 0 for a packet dropped (or an
 * interrupted read) where the burst goes on, -1 where it ends. skip: the virtio-net header.
 */
static ssize_t read_one(int fd, uint8_t *buf, unsigned cap, size_t skip, uint64_t *errors)
{
	ssize_t r = read(fd, buf, cap);

	if (r > 0) {
		if (!fg_tun_read_ok(buf, (size_t)r, skip)) {
			(*errors)++;  /* the slot is reused for the next packet */
			return 0;
		}
		return r;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (r < 0 && errno == EINTR)
		return 0;
	(*errors)++;
	return r == 0 || !packet_error(errno) ? -1 : 0;
}

unsigned fg_tun_read_burst(int fd, uint8_t *const bufs[], uint16_t lens[], unsigned n,
			   unsigned cap, uint64_t *errors)
{
	unsigned count = 0;

	if (cap > BURST_LEN_MAX)
		cap = BURST_LEN_MAX;
	for (unsigned tries = 0; tries < n; tries++) {
		ssize_t r = read_one(fd, bufs[count], cap, 0, errors);

		if (r < 0)
			break;
		if (r > 0)
			lens[count++] = (uint16_t)r;
	}
	return count;
}

unsigned fg_tun_read_vnet_burst(int fd, uint8_t *const bufs[], uint32_t lens[], unsigned n,
				unsigned cap, uint64_t *errors)
{
	unsigned count = 0;

	if (cap > FG_TUN_VNET_READ_MAX)
		cap = FG_TUN_VNET_READ_MAX;
	for (unsigned tries = 0; tries < n; tries++) {
		ssize_t r = read_one(fd, bufs[count], cap, FG_VNET_HDR_LEN, errors);

		if (r < 0)
			break;
		if (r > 0)
			lens[count++] = (uint32_t)r;
	}
	return count;
}

unsigned fg_tun_write_burst(int fd, uint8_t *const bufs[], const uint16_t lens[], unsigned n,
			    uint64_t *errors)
{
	unsigned i = 0;

	while (i < n) {
		ssize_t w = write(fd, bufs[i], lens[i]);

		if (w >= 0) {
			i++;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == EINTR)
			continue;
		(*errors)++;
		if (!packet_error(errno))
			break;
		i++;  /* the kernel refused this packet: drop it, go on with the rest */
	}
	return i;
}

unsigned fg_tun_writev_burst(int fd, const struct iovec *iov, const unsigned iovcnt[],
			     unsigned n, uint64_t *errors)
{
	unsigned i = 0;

	while (i < n) {
		ssize_t w = writev(fd, iov, (int)iovcnt[i]);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			(*errors)++;
			if (!packet_error(errno))
				break;
		}
		iov += iovcnt[i];
		i++;
	}
	return i;
}
