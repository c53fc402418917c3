/* SPDX-License-Identifier: MIT */
/*
 * The host TUN interface of the data plane: a multi-queue layer-3 TUN device (one
 * non-blocking queue fd per worker) that the data plane creates, configures over
 * rtnetlink (MTU, queue length, up/down, IPv4 and IPv6 addresses and routes) and removes
 * by closing its queues. The struct and its configuration belong to the thread that
 * opened it (the service lcore); afterwards each worker only reads and writes its own
 * queue fd through the burst helpers, which keep no state of their own.
 */
#ifndef FG_TUN_H
#define FG_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>
#include <sys/uio.h>

#include "addr.h"
#include "vnet.h"

enum {
	FG_TUN_MAX_QUEUES = 16,
	/* fg_tun_open_ex flags */
	FG_TUN_VNET_HDR = 1u << 0,
	/* Offloads, the kernel's TUN_F_* bits (USO needs Linux >= 6.2). */
	FG_TUN_OFFLOAD_CSUM = 0x01,
	FG_TUN_OFFLOAD_TSO4 = 0x02,
	FG_TUN_OFFLOAD_TSO6 = 0x04,
	FG_TUN_OFFLOAD_TSO_ECN = 0x08,
	FG_TUN_OFFLOAD_USO4 = 0x20,
	FG_TUN_OFFLOAD_USO6 = 0x40,
	/* The largest read from a VNET_HDR queue: the header and a 64 KiB super-packet. */
	FG_TUN_VNET_READ_MAX = FG_VNET_HDR_LEN + FG_VNET_IP_MAX,
};

struct fg_tun {
	char name[IFNAMSIZ];
	int ifindex;
	unsigned nqueues;
	int fds[FG_TUN_MAX_QUEUES];  /* -1 when closed */
	unsigned flags;              /* FG_TUN_VNET_HDR when opened with it */
	unsigned offloads;           /* FG_TUN_OFFLOAD_* the kernel accepted */
};

/* How the workers read and write their TUN queues ([Host] TunIo of the configuration; the
 * mode in force is struct fg_dp's tun_io). */
enum fg_tun_io {
	FG_TUN_IO_AUTO = 0,   /* io_uring where the kernel allows it, else syscall (one INFO line) */
	FG_TUN_IO_SYSCALL,    /* read(2) / write(2) / writev(2) per packet or super-packet */
	FG_TUN_IO_URING,      /* a ring per worker: one submission per poll pass; start-up error
			       * when io_uring cannot be set up */
	FG_TUN_IO_SQPOLL,     /* io_uring with a kernel thread polling the submissions
			       * (IORING_SETUP_SQPOLL); start-up error likewise */
};

/*
 * Creates the device: IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, nqueues (1..16) queue fds,
 * each O_NONBLOCK and O_CLOEXEC. The device is not persistent: it disappears with its
 * last fd. Link-local IPv6 address generation is switched off (best effort: skipped
 * where IPv6 is unavailable). Returns 0 or:
 *   -EINVAL  bad name (empty, too long, contains '/', '%' or whitespace) or nqueues
 *   -EBUSY   an interface of that name exists already (another process, a leftover
 *            persistent TUN, or any other kind of link)
 *   -ENOENT  no /dev/net/tun; -EPERM without CAP_NET_ADMIN; other -errno from the kernel
 * On failure t is left closed (every fd -1).
 */
int fg_tun_open(struct fg_tun *t, const char *name, unsigned nqueues);

/*
 * fg_tun_open with options. FG_TUN_VNET_HDR: every queue also gets IFF_VNET_HDR, the
 * header size is set to 10 (struct fg_vnet_hdr, no num_buffers), its byte order to
 * little-endian, and TUNSETOFFLOAD is tried with CSUM | TSO4 | TSO6 | TSO_ECN | USO4 |
 * USO6, then without USO, then CSUM alone, then nothing, each step taken when the kernel
 * answers EINVAL. The offloads in force go to t->offloads and *offloads_out (may be NULL).
 * From then on every read and write on a queue carries the header first: use
 * fg_tun_read_vnet_burst and fg_tun_writev_burst (or fg_tun_write_burst with the header
 * in the buffer). Unknown flags: -EINVAL. Other errors as fg_tun_open.
 */
int fg_tun_open_ex(struct fg_tun *t, const char *name, unsigned nqueues, unsigned flags,
		   unsigned *offloads_out);

/* Link settings over rtnetlink. Return 0 or -errno. */
int fg_tun_set_mtu(struct fg_tun *t, unsigned mtu);
int fg_tun_set_txqueuelen(struct fg_tun *t, unsigned qlen);
int fg_tun_set_up(struct fg_tun *t, bool up);

/*
 * Interface addresses: p->ip is the address and p->len the prefix length (parse with
 * fg_prefix_parse_host to keep the host bits). IPv6 addresses are added with NODAD, so
 * they are usable at once. Adding is idempotent (replace semantics). An IPv6 address
 * fails with -EAFNOSUPPORT when IPv6 is disabled on the device or in the namespace:
 * callers report it as a warning and carry on with IPv4.
 */
int fg_tun_add_address(struct fg_tun *t, const struct fg_prefix *p);
int fg_tun_del_address(struct fg_tun *t, const struct fg_prefix *p);
/* Removes every address of both families from the device (before re-configuration). */
int fg_tun_flush_addresses(struct fg_tun *t);

/*
 * Routes through this device in the main table (replace semantics: an existing route to
 * the same prefix is taken over). Host bits of p are ignored. IPv4 routes need the device
 * up (-ENETDOWN otherwise). IPv6 routes fail with -EAFNOSUPPORT where IPv6 is disabled.
 */
int fg_tun_add_route(struct fg_tun *t, const struct fg_prefix *p);
int fg_tun_del_route(struct fg_tun *t, const struct fg_prefix *p);

/* Closes every queue fd; a non-persistent TUN disappears with its last fd. Idempotent. */
void fg_tun_close(struct fg_tun *t);

/*
 * Worker I/O on one queue fd; never blocks. read: up to n packets into bufs[i] (cap bytes
 * each, at most 65535), lens[i] set; stops at the first EAGAIN and returns the count
 * read. A packet larger than cap (the kernel cuts it; the IP length field shows it) or
 * one that is not IPv4/IPv6 is dropped and adds one to *errors, as does a failed read.
 * write: writes bufs[0..n) in order, stops at the first EAGAIN and returns the number of
 * packets consumed from the front: those written plus those the kernel refused (each
 * refusal counted in *errors, e.g. a packet that is not IPv4/IPv6). The caller keeps
 * packets [ret, n) for a later retry or drops them.
 */
unsigned fg_tun_read_burst(int fd, uint8_t *const bufs[], uint16_t lens[], unsigned n,
			   unsigned cap, uint64_t *errors);
unsigned fg_tun_write_burst(int fd, uint8_t *const bufs[], const uint16_t lens[], unsigned n,
			    uint64_t *errors);

/*
 * The same on a VNET_HDR queue. read: lens[i] counts the 10-byte header too; cap up to
 * FG_TUN_VNET_READ_MAX (a TSO super-packet needs all of it); a packet whose IP length
 * field disagrees with what was read (cut by a short buffer) is dropped and counted.
 * writev: packet i is iovcnt[i] consecutive entries of iov[] (header first, e.g. from
 * fg_gro_iov); same return and error rules as fg_tun_write_burst.
 */
unsigned fg_tun_read_vnet_burst(int fd, uint8_t *const bufs[], uint32_t lens[], unsigned n,
				unsigned cap, uint64_t *errors);

/*
 * The check the read helpers make of what one read returned (len bytes at buf, the first
 * skip of them a virtio-net header or 0): an IPv4 or IPv6 packet whose IP length field fits
 * in what was read, so one the kernel cut to the buffer is refused. For reads done elsewhere
 * (io_uring).
 */
bool fg_tun_read_ok(const uint8_t *buf, size_t len, size_t skip);
unsigned fg_tun_writev_burst(int fd, const struct iovec *iov, const unsigned iovcnt[],
			     unsigned n, uint64_t *errors);

#endif
