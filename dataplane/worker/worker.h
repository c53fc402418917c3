/* SPDX-License-Identifier: MIT */
/*
 * Worker lcores: the poll-mode fast path. Each iteration takes a bounded burst from every
 * source the worker owns (its NIC queue, its handoff ring, its TUN queue, the service
 * lcore's transmit ring), processes each batch whole, flushes transmit buffers and reports
 * a QSBR quiescent state. No allocation but mbufs, no logging, no locks, and the only
 * syscalls are non-blocking reads and writes of its own TUN queue.
 */
#ifndef FG_WORKER_H
#define FG_WORKER_H

#include "dp.h"

/* rte_eal_remote_launch() entry; arg is the struct fg_worker (its dp set by the constructor). */
int fg_worker_main(void *arg);

/* One pass over every source; exposed for in-process tests. Returns packets handled. */
unsigned fg_worker_poll(struct fg_dp *dp, struct fg_worker *w);

void fg_worker_flush(struct fg_dp *dp, struct fg_worker *w);

/*
 * [Host] TunIo = io_uring / sqpoll (hostio.c). Main lcore, before the worker runs: gives
 * worker w's TUN queue an io_uring of its own (sqpoll: served by a kernel SQPOLL thread,
 * pinned to sqpoll_cpu unless -1) and clears the fd's O_NONBLOCK (tun_uring.h). 0, or
 * -errno of fg_tun_uring_create (-ENOSYS, -EPERM, -ENOMEM, ...) with nothing left held.
 */
int fg_worker_tun_ring_setup(struct fg_dp *dp, struct fg_worker *w, bool sqpoll, int sqpoll_cpu);
/* Main lcore, once the worker has stopped: cancels what is still in flight, closes the ring
 * (restoring the fd's flags) and frees the mbufs its requests held. Before the TUN fd is
 * closed. Idempotent; a no-op without a ring. */
void fg_worker_tun_ring_free(struct fg_dp *dp, struct fg_worker *w);

/*
 * Service lcore -> worker, on the worker's svc_tx ring beside built frames: plaintext for a
 * peer (0 bytes: a keepalive; or a p2p control packet such as Goodbye) that the worker seals
 * with the stages the TUN's packets take, so there is one encryption path, as in the
 * kernel. Such an mbuf carries dp->seal_flag in ol_flags (a built frame never does:
 * allocation clears ol_flags) and starts with this header, the plaintext behind it. The
 * worker adds one to its seal_done for each request it has finished with.
 */
struct fg_seal_req {
	uint32_t slot;   /* peer slot */
	uint32_t gen;    /* its generation: a slot retired and reused since is not sealed for */
};

/* Service lcore only: a seal request for len bytes of plain to peer slot of generation gen,
 * to enqueue on a worker's svc_tx ring; NULL with errno ENOMEM (no mbuf, or no ol_flags bit
 * left to register) or EMSGSIZE (over the MTU). */
struct rte_mbuf *fg_worker_seal_request(struct fg_dp *dp, uint32_t slot, uint32_t gen, const void *plain,
					uint16_t len);

#endif
