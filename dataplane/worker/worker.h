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

/* Queue one frame on the worker's transmit buffer (used by the worker itself). */
void fg_worker_tx(struct fg_worker *w, struct rte_mbuf *m);
void fg_worker_flush(struct fg_dp *dp, struct fg_worker *w);

#endif
