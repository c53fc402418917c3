// SPDX-License-Identifier: MIT
/*
 * io_uring on one fd for a worker's TUN queue (tun_uring.h): set-up with its fallbacks
 * (cooperative task-run mode where the kernel has it, SQPOLL on request, the fd as a fixed
 * file), the owner's queue / submit / harvest calls (no allocation, no logging, no waiting),
 * and a teardown that cancels and drains what is in flight before the buffers can go.
 * The top two bits of each request's user_data say what it is, the rest is the caller's tag.
 */
#include "tun_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liburing.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

enum {
	KIND_SHIFT = FG_TUN_URING_TAG_BITS,
	KIND_READ = 1,
	KIND_WRITE = 2,
	KIND_CANCEL = 3,
	DEFAULT_IDLE_MS = 1000,
	DRAIN_STEP_NS = 50 * 1000 * 1000,
	DRAIN_STEPS = 20,  /* about a second */
};

static const uint64_t TAG_MASK = (1ull << FG_TUN_URING_TAG_BITS) - 1;

struct fg_tun_uring {
	struct io_uring ring;
	int fd;             /* the caller's fd */
	int fd_flags;       /* its file status flags before create, restored by destroy */
	bool fixed;         /* fd registered: requests use fixed file 0 */
	bool sqpoll;
	bool write_nowait;  /* writes carry RWF_NOWAIT (cleared if the file refuses it) */
	unsigned cap;       /* requests in flight at most: the completion queue less one slot */
	unsigned inflight;  /* queued or in the kernel, completion not harvested */
	unsigned queued;    /* queued since the last successful submission */
	struct fg_tun_uring_stats own;
	struct fg_tun_uring_stats *st;
};

const char *fg_tun_uring_strerror(int err)
{
	switch (err) {
	case -ENOSYS:
		return "no io_uring in this kernel (ENOSYS)";
	case -EPERM:
		return "io_uring not permitted (kernel.io_uring_disabled or a seccomp filter, EPERM)";
	case -EACCES:
		return "io_uring not permitted (EACCES)";
	case -ENOMEM:
		return "no memory for the ring (RLIMIT_MEMLOCK?, ENOMEM)";
	case -EINVAL:
		return "ring options refused by the kernel (EINVAL)";
	case -EBADF:
		return "bad file descriptor (EBADF)";
	default:
		return strerror(-err);
	}
}

static int setup(struct fg_tun_uring *u, const struct fg_tun_uring_opts *o, unsigned want)
{
	/* Non-SQPOLL rings try, in turn: cooperative task-run (a completion waits until the
	 * worker next enters the kernel, instead of an interrupt per wake-up) with submit-all,
	 * then submit-all alone, then nothing (kernels before 5.18). */
	static const unsigned steps[] = {
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
		IORING_SETUP_SUBMIT_ALL,
		0,
	};
	int ret = -EINVAL;

	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = want + 1;  /* one slot more for the cancel request of destroy */
		if (o->sqpoll) {
			/* Task-run flags make no sense with SQPOLL: its thread runs the work. */
			if (steps[i] & IORING_SETUP_COOP_TASKRUN)
				continue;
			p.flags |= IORING_SETUP_SQPOLL | steps[i];
			p.sq_thread_idle = o->sqpoll_idle_ms ? o->sqpoll_idle_ms : DEFAULT_IDLE_MS;
			if (o->sqpoll_cpu >= 0) {
				p.flags |= IORING_SETUP_SQ_AFF;
				p.sq_thread_cpu = (unsigned)o->sqpoll_cpu;
			}
		} else {
			p.flags |= steps[i];
		}
		/* Disabled until the restrictions are in place (restrict_ring). */
		p.flags |= IORING_SETUP_R_DISABLED;
		ret = io_uring_queue_init_params(o->entries, &u->ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret < 0)
		return ret;
	/* The kernel rounds the completion queue up to a power of two; one slot stays free
	 * for the cancel request of destroy, so completions never overflow. */
	unsigned room = *u->ring.cq.kring_entries - 1;
	u->cap = want < room ? want : room;
	return 0;
}

/*
 * The ring may only read and write (the fd, as a fixed file where registered) and cancel:
 * no other operation, no io_uring_register call once enabled. It matters most with SQPOLL,
 * whose kernel thread submits with the credentials of the thread that made the ring (the
 * data plane before it drops its capabilities), but holds for every ring. Then enables it.
 */
static int restrict_ring(struct fg_tun_uring *u)
{
	static const uint8_t ops[] = { IORING_OP_READ, IORING_OP_WRITE, IORING_OP_WRITEV, IORING_OP_ASYNC_CANCEL };
	struct io_uring_restriction res[sizeof(ops) + 1];
	unsigned n = 0;
	int ret;

	memset(res, 0, sizeof(res));
	for (unsigned i = 0; i < sizeof(ops); i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	/* The raw register call: Debian's liburing 2.3 declares io_uring_register_restrictions
	 * and io_uring_enable_rings but does not export them. */
	ret = io_uring_register(u->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res, n);
	if (ret < 0)
		return ret;
	return io_uring_register(u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

int fg_tun_uring_create(struct fg_tun_uring **out, int fd, const struct fg_tun_uring_opts *o)
{
	struct fg_tun_uring *u;
	int flags, ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!o || o->entries == 0 || o->entries > FG_TUN_URING_ENTRIES_MAX ||
	    (o->inflight && o->inflight < o->entries) || o->inflight > 8 * FG_TUN_URING_ENTRIES_MAX)
		return -EINVAL;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -EBADF;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = fd;
	u->fd_flags = flags;
	u->sqpoll = o->sqpoll;
	u->write_nowait = true;
	u->st = o->stats ? o->stats : &u->own;
	ret = setup(u, o, o->inflight ? o->inflight : 2 * o->entries);
	if (ret < 0) {
		free(u);
		return ret;
	}
	/* A fixed file spares the kernel a look-up and a reference count per request. */
	u->fixed = io_uring_register_files(&u->ring, &fd, 1) == 0;
	ret = restrict_ring(u);
	if (ret == 0 && (flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		ret = -errno;
	if (ret < 0) {
		io_uring_queue_exit(&u->ring);
		free(u);
		return ret;
	}
	*out = u;
	return 0;
}

unsigned fg_tun_uring_space(const struct fg_tun_uring *u)
{
	unsigned sq = io_uring_sq_space_left(&u->ring);
	unsigned fl = u->cap - u->inflight;

	return sq < fl ? sq : fl;
}

unsigned fg_tun_uring_inflight(const struct fg_tun_uring *u)
{
	return u->inflight;
}

bool fg_tun_uring_sqpoll(const struct fg_tun_uring *u)
{
	return u->sqpoll;
}

/* A submission entry for one more request, or NULL (counted) when it would not fit. */
static struct io_uring_sqe *take_sqe(struct fg_tun_uring *u)
{
	struct io_uring_sqe *sqe = NULL;

	if (u->inflight < u->cap)
		sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		u->st->full++;
		return NULL;
	}
	u->inflight++;
	u->queued++;
	u->st->sqes++;
	return sqe;
}

static void finish_sqe(struct fg_tun_uring *u, struct io_uring_sqe *sqe, unsigned kind, uint64_t tag)
{
	if (u->fixed) {
		sqe->fd = 0;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)kind << KIND_SHIFT | (tag & TAG_MASK));
}

bool fg_tun_uring_writev(struct fg_tun_uring *u, const struct iovec *iov, unsigned iovcnt, uint64_t tag)
{
	struct io_uring_sqe *sqe = take_sqe(u);

	if (!sqe)
		return false;
	io_uring_prep_writev(sqe, u->fd, iov, iovcnt, 0);
	sqe->rw_flags = u->write_nowait ? RWF_NOWAIT : 0;
	finish_sqe(u, sqe, KIND_WRITE, tag);
	return true;
}

bool fg_tun_uring_write(struct fg_tun_uring *u, const void *buf, uint32_t len, uint64_t tag)
{
	struct io_uring_sqe *sqe = take_sqe(u);

	if (!sqe)
		return false;
	io_uring_prep_write(sqe, u->fd, buf, len, 0);
	sqe->rw_flags = u->write_nowait ? RWF_NOWAIT : 0;
	finish_sqe(u, sqe, KIND_WRITE, tag);
	return true;
}

bool fg_tun_uring_read(struct fg_tun_uring *u, void *buf, uint32_t len, uint64_t tag)
{
	struct io_uring_sqe *sqe = take_sqe(u);

	if (!sqe)
		return false;
	/* No RWF_NOWAIT: on the blocking fd the read waits (poll-armed) for a packet. */
	io_uring_prep_read(sqe, u->fd, buf, len, 0);
	finish_sqe(u, sqe, KIND_READ, tag);
	return true;
}

int fg_tun_uring_submit(struct fg_tun_uring *u)
{
	unsigned sqf = IO_URING_READ_ONCE(*u->ring.sq.kflags);
	bool run = sqf & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
	int ret;

	if (u->queued == 0) {
		if (!run)
			return 0;
		u->st->enters++;
		ret = io_uring_get_events(&u->ring);
	} else if (u->sqpoll) {
		/* liburing enters only to wake a sleeping thread (IORING_SQ_NEED_WAKEUP). */
		if (sqf & IORING_SQ_NEED_WAKEUP)
			u->st->enters++;
		ret = io_uring_submit(&u->ring);
	} else {
		u->st->enters++;
		ret = run ? io_uring_submit_and_get_events(&u->ring) : io_uring_submit(&u->ring);
	}
	if (ret < 0) {
		u->st->errors++;
		return ret;
	}
	/* What the kernel did not consume stays queued (SQPOLL: its thread takes it later). */
	u->queued = u->sqpoll ? 0 : io_uring_sq_ready(&u->ring);
	return 0;
}

unsigned fg_tun_uring_reap(struct fg_tun_uring *u, struct fg_tun_uring_done *out, unsigned max)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t ud = cqe->user_data;
		unsigned kind = (unsigned)(ud >> KIND_SHIFT);

		if (kind != KIND_CANCEL && n == max)
			break;
		seen++;
		if (kind == KIND_CANCEL)
			continue;
		u->inflight--;
		u->st->cqes++;
		if (cqe->res == -EAGAIN) {
			u->st->again++;
		} else if (cqe->res < 0 && cqe->res != -ECANCELED) {
			u->st->errors++;
			/* A file without nowait support refuses RWF_NOWAIT: plain writes from now on. */
			if (kind == KIND_WRITE && cqe->res == -EOPNOTSUPP)
				u->write_nowait = false;
		}
		out[n].tag = ud & TAG_MASK;
		out[n].res = cqe->res;
		n++;
	}
	io_uring_cq_advance(&u->ring, seen);
	return n;
}

/* Harvests and forgets completions until nothing is in flight or about a second passed. */
static void drain(struct fg_tun_uring *u)
{
	struct fg_tun_uring_done done[64];

	for (unsigned step = 0; u->inflight && step < DRAIN_STEPS; step++) {
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = DRAIN_STEP_NS };
		struct io_uring_cqe *cqe;

		(void)io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
		while (fg_tun_uring_reap(u, done, 64) == 64)
			;
	}
}

/*
 * Queued but never submitted requests go in with the cancel, which takes them and
 * everything the kernel holds (IORING_ASYNC_CANCEL_ANY, Linux >= 5.19; older kernels
 * cancel at io_uring_queue_exit).
 */
int fg_tun_uring_cancel_all(struct fg_tun_uring *u)
{
	struct io_uring_sqe *sqe;

	if (u->inflight == 0)
		return 0;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		/* A full submission ring: hand it over first, then queue the cancel. */
		(void)fg_tun_uring_submit(u);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY;
	}
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, (uint64_t)KIND_CANCEL << KIND_SHIFT);
	u->queued++;
	return fg_tun_uring_submit(u);
}

void fg_tun_uring_destroy(struct fg_tun_uring *u)
{
	if (!u)
		return;
	if (u->inflight) {
		(void)fg_tun_uring_cancel_all(u);
		drain(u);
	}
	io_uring_queue_exit(&u->ring);
	(void)fcntl(u->fd, F_SETFL, u->fd_flags);
	free(u);
}
