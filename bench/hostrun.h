/* SPDX-License-Identifier: MIT */
/*
 * One host-path row's shared state (hostrow.c: the feeders, phases and accounting on the
 * worker lcores; hostsock.c: the kernel sockets and the sink or sender thread). The row's
 * struct hrun belongs to the main lcore; during a phase each struct hctx to its worker lcore,
 * and the counters between the feeders and the thread are atomics.
 */
#ifndef FG_BENCH_HOSTRUN_H
#define FG_BENCH_HOSTRUN_H

#include <pthread.h>

#include "host.h"

enum {
	WINDOW = 2048,            /* UDP: packets per worker beyond the sinks / the feeders */
	SETUP_S = 15,             /* handshakes on a busy machine */
	DRAIN_S = 10,
	XFER_RING = 4096,
	SINK_BATCH = 64,
	SOCK_BUF = 32 << 20,
	TCP_CHUNK = 256 << 10,
	USO_MSGS = 8,             /* super-packets per sendmmsg(2) */
	USO_BYTES = 60000,
	/* Segments per USO super-packet, at most: 64, the kernel's UDP_MAX_SEGMENTS before 6.x
	 * raised it (the worker flushes its transmit buffer whenever a seal burst would overflow
	 * it, so any number of segments a pass is fine). */
	USO_SEGS = 64,
	TCP_ISN = 0x10000000,
	TCP_WIN = 0xffff,         /* our window field (scaled by FG_BENCH_TCP_WSCALE: 8 MiB) */
	PORT_BASE = 40000,        /* the fabricated end's ports (decrypt-tcp) */
	MAX_FLOWS = FG_BENCH_MAX_WORKERS,
	QUIET_POLLS = 2000,
};

enum phase {
	PH_SETUP,
	PH_TIMED,
	PH_DRAIN,
};

struct hrun;

struct hctx {
	struct hrun *r;
	struct fg_worker *w;
	unsigned idx;
	int tid;
	uint32_t *list;           /* decrypt-udp: its templates, in counter order */
	uint32_t nlist, pos;
	uint32_t *peers;          /* decrypt-udp: its peers, whose windows it resets on a wrap */
	uint32_t npeers;
	struct fg_bench_flow flow; /* TCP: its connection (peer idx) */
	bool has_flow;
	bool rst_sent;
	unsigned quiet;           /* empty passes in a row (the drain waits for a quiet TUN) */
	uint64_t busy, idle, wall;
	uint64_t frames, bad, lost;
	bool checked;
} __rte_cache_aligned;

struct hrun {
	struct fg_bench_env *e;
	const struct fg_bench_opts *o;
	enum fg_bench_kind kind;
	enum fg_bench_dir dir;
	const struct fg_bench_traffic *tr;
	unsigned workers, size, npeers;
	struct hctx ctx[FG_BENCH_MAX_WORKERS];
	struct rte_ring *xfer[FG_BENCH_MAX_WORKERS]; /* TCP frames of a flow the other feeder owns */
	unsigned lcores[FG_BENCH_MAX_WORKERS];
	enum phase phase;
	uint64_t end;
	uint32_t ready, go, quit;
	/* between the feeders and the threads (atomics) */
	uint64_t fed;             /* decrypt-udp: packets put on the RX rings */
	uint64_t sunk;            /* sinks: datagrams (UDP) or bytes (TCP) read */
	uint64_t seen;            /* frames the feeders took off the TX rings */
	uint64_t tun_rx0[FG_BENCH_MAX_WORKERS]; /* the workers' tun_rx_packets when the row began */
	uint64_t sent;            /* senders: segments (UDP) or bytes (TCP) written */
	int stop;
	int thread_err;
	/* sockets */
	int fds[FG_BENCH_SINK_PORTS + MAX_FLOWS];
	unsigned nfds;
	int lfd;
	uint16_t tcp_port;        /* the kernel's port of the TCP rows */
	pthread_t thr;
	bool thr_started;
};

/* hostsock.c */
/* The row's sockets and its sink or sender thread; 0 or -errno. */
int fg_bench_host_start(struct hrun *r);
/* Stops and joins the thread (idempotent), then closes the sockets (idempotent). */
void fg_bench_host_stop(struct hrun *r);
void fg_bench_host_close(struct hrun *r);
/* Packets the workers have read from the TUN in this row. */
uint64_t fg_bench_host_tun_read(struct hrun *r);

#endif
