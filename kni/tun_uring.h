/* SPDX-License-Identifier: MIT */
/*
 * Batched I/O on one file descriptor (a worker's TUN queue) through an io_uring: the owner
 * queues reads and writes without a system call, submits them all at once (at most one
 * io_uring_enter(2) per call of fg_tun_uring_submit, none when nothing is queued and no
 * completion waits for the kernel), and harvests completions from the shared ring without a
 * system call. With SQPOLL a kernel thread takes the submissions, and the owner enters the
 * kernel only to wake it after it went idle.
 *
 * The fd is switched to blocking mode while the ring exists (O_NONBLOCK cleared, restored by
 * fg_tun_uring_destroy): io_uring honours O_NONBLOCK, so a read on a non-blocking fd would
 * complete at once with -EAGAIN instead of waiting for data. With the flag cleared a posted
 * read waits in the kernel (poll-armed, no thread) until a packet arrives, and the owner must
 * never read(2) or write(2) the fd itself. Writes carry RWF_NOWAIT: a write the kernel cannot
 * take at once completes with -EAGAIN (counted, the packet dropped) rather than waiting and
 * completing after later writes, which would reorder a flow.
 *
 * One owner thread (a worker) calls everything but create and destroy: no locks, no
 * allocation, no logging after create. Buffers and iovec arrays handed to a request belong
 * to the kernel until its completion has been harvested. The ring bounds the requests in
 * flight by its completion queue, so completions never overflow; a request that does not
 * fit is refused (false) and counted in stats->full.
 */
#ifndef FG_TUN_URING_H
#define FG_TUN_URING_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/uio.h>

/* What an operator watches: the owner's counters (plain fields, written by the owner only). */
struct fg_tun_uring_stats {
	uint64_t enters;     /* io_uring_enter(2) calls: submissions, completion runs, SQPOLL wake-ups */
	uint64_t sqes;       /* requests queued */
	uint64_t cqes;       /* completions harvested */
	uint64_t full;       /* requests refused: submission ring or in-flight bound full */
	uint64_t again;      /* completions with -EAGAIN (a write dropped, a read posted again) */
	uint64_t short_io;   /* writes that took fewer bytes than asked (the packet dropped) */
	uint64_t errors;     /* other failed completions, and failed submissions */
};

struct fg_tun_uring_opts {
	unsigned entries;       /* submission queue entries (1..4096, a power of two is best) */
	unsigned inflight;      /* requests in flight at most; the completion queue is sized to it
				 * (>= entries; 0: 2 * entries) */
	bool sqpoll;            /* IORING_SETUP_SQPOLL: a kernel thread takes the submissions */
	int sqpoll_cpu;         /* pin that thread to this CPU; -1: not pinned */
	unsigned sqpoll_idle_ms; /* the thread sleeps after this long without work (0: 1000 ms) */
	struct fg_tun_uring_stats *stats;  /* where the counters go (NULL: inside the ring) */
};

/* A harvested completion: the caller's tag and the kernel's result (bytes or -errno). */
struct fg_tun_uring_done {
	uint64_t tag;
	int32_t res;
};

enum {
	FG_TUN_URING_ENTRIES_MAX = 4096,
	FG_TUN_URING_TAG_BITS = 62,     /* the two top bits of user_data are the ring's */
};

struct fg_tun_uring;

/*
 * Creates a ring for fd (which it does not own) and clears the fd's O_NONBLOCK. Tries the
 * cooperative task-run mode first (completions run when the owner next enters the kernel,
 * no interrupt of a busy worker), then plain. Registers fd as a fixed file where the kernel
 * allows it, and restricts the ring to read, write, writev and cancel (no other operation,
 * no later io_uring_register: SQPOLL's thread keeps the creator's credentials, which a
 * capability drop afterwards does not change). Returns 0 and *out, or -errno from
 * io_uring_setup / io_uring_register:
 *   -ENOSYS  no io_uring in this kernel;  -EPERM  io_uring disabled (kernel.io_uring_disabled)
 *   or refused by seccomp;  -ENOMEM  RLIMIT_MEMLOCK or memory;  -EINVAL  bad options, or
 *   SQPOLL / its CPU refused;  -EBADF  fd not open.
 * fg_tun_uring_strerror() words the reason for the log.
 */
int fg_tun_uring_create(struct fg_tun_uring **out, int fd, const struct fg_tun_uring_opts *o);

/*
 * Cancels every request in flight and waits (at most about one second) for their
 * completions, so no buffer is written after it returns, then closes the ring, restores the
 * fd's flags and frees. Call it before the fd is closed, from the owner or after the owner
 * has stopped (its completions may need the owner's thread to enter the kernel: the owner
 * drains its own ring with fg_tun_uring_cancel_all first); never from a worker's poll loop.
 * NULL is a no-op.
 */
void fg_tun_uring_destroy(struct fg_tun_uring *u);

/* Why create failed, in words for one INFO or error line (e.g. "io_uring disabled"). */
const char *fg_tun_uring_strerror(int err);

/* Requests that can be queued now (the submission ring and the in-flight bound). */
unsigned fg_tun_uring_space(const struct fg_tun_uring *u);
/* Requests queued or in flight whose completion has not been harvested. */
unsigned fg_tun_uring_inflight(const struct fg_tun_uring *u);
bool fg_tun_uring_sqpoll(const struct fg_tun_uring *u);

/*
 * Queue one request each (no system call); tag (below 2^62) comes back with its completion.
 * False when it does not fit (stats->full counted, nothing queued). writev: iov[0..iovcnt)
 * must stay valid until the completion too (SQPOLL's thread reads it late).
 */
bool fg_tun_uring_writev(struct fg_tun_uring *u, const struct iovec *iov, unsigned iovcnt, uint64_t tag);
bool fg_tun_uring_write(struct fg_tun_uring *u, const void *buf, uint32_t len, uint64_t tag);
bool fg_tun_uring_read(struct fg_tun_uring *u, void *buf, uint32_t len, uint64_t tag);

/*
 * Hands what was queued to the kernel: one io_uring_enter(2) when something is queued (with
 * SQPOLL only when its thread sleeps), or when the kernel flagged completions that need the
 * owner (cooperative task-run, overflow); none otherwise. Never waits. Returns 0, or -errno
 * of a failed enter (the requests stay queued for the next call when the kernel was short
 * of memory, -EAGAIN / -EBUSY; stats->errors counts every failure).
 */
int fg_tun_uring_submit(struct fg_tun_uring *u);

/*
 * Owner only (a worker stopping): asks the kernel to cancel every request queued or in flight,
 * in one submission that does not wait; each then completes (with -ECANCELED, or its result
 * if it finished first) through fg_tun_uring_reap. Returns 0 or -errno of the submission.
 */
int fg_tun_uring_cancel_all(struct fg_tun_uring *u);

/* Harvests up to max completions into out[] in the ring's order; no system call. */
unsigned fg_tun_uring_reap(struct fg_tun_uring *u, struct fg_tun_uring_done *out, unsigned max);

#endif
