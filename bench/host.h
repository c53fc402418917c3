/* SPDX-License-Identifier: MIT */
/*
 * The host-path rows' far end, shared by hostflow.c (the feeder's side: the remote end of a
 * TCP connection behind a peer, its segments sealed into frames for the worker's RX ring and
 * the worker's frames opened again) and hostrow.c (the row: kernel sockets, threads, phases,
 * accounting). Each struct belongs to one worker lcore's feeder during a row.
 */
#ifndef FG_BENCH_HOST_H
#define FG_BENCH_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "bench.h"

enum {
	FG_BENCH_TCP_MSS = FG_BENCH_MTU - 40,  /* 1420-byte inner packets */
	FG_BENCH_TCP_WSCALE = 7,               /* what the fabricated end offers */
	FG_BENCH_TCP_F_FIN = 0x01,
	FG_BENCH_TCP_F_SYN = 0x02,
	FG_BENCH_TCP_F_RST = 0x04,
	FG_BENCH_TCP_F_PSH = 0x08,
	FG_BENCH_TCP_F_ACK = 0x10,
};

enum fg_bench_flow_state {
	FG_BENCH_FLOW_IDLE = 0,   /* nothing sent or seen yet */
	FG_BENCH_FLOW_SYN,        /* our SYN sent (decrypt), waiting for the kernel's SYN-ACK */
	FG_BENCH_FLOW_OPEN,       /* established */
	FG_BENCH_FLOW_CLOSED,     /* reset by us at the end of the row */
};

/* One TCP connection, seen from the fabricated end behind bench peer `peer`. */
struct fg_bench_flow {
	uint32_t peer;
	uint32_t my_ip, k_ip;     /* inner addresses, host order: ours (the peer's allowed IP), the kernel's */
	uint16_t my_port, k_port;
	enum fg_bench_flow_state state;
	uint32_t snd_una, snd_nxt; /* what we send (decrypt rows) */
	uint32_t wnd;             /* the kernel's window, scaled, bytes */
	unsigned wscale;          /* the kernel's window scale */
	uint32_t rcv_nxt;         /* the kernel's next byte to us */
	uint32_t acked;           /* encrypt rows: the rcv_nxt of our last ACK */
	uint64_t out_of_order;    /* encrypt rows: segments not at rcv_nxt (ignored: the kernel resends) */
	uint64_t wg_counter;      /* the peer's next WireGuard counter (we are its only sender) */
	uint16_t ip_id;
};

/* A TCP segment from the kernel, host order. */
struct fg_bench_tcp_seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint32_t win;             /* unscaled */
	uint8_t flags;
	bool has_wscale;
	uint8_t wscale;
	uint32_t plen;
};

/* hostflow.c */
void fg_bench_tcp_init_payload(void);
/* One IPv4/TCP segment from the flow's end at ip (room for 40 + 8 + plen bytes): seq, our
 * ACK of f->rcv_nxt when flags has ACK, SYN options (MSS, window scale) when flags has SYN,
 * plen bytes of payload; window field win. Returns the IP length. */
uint16_t fg_bench_tcp_build(struct fg_bench_flow *f, uint8_t *ip, uint32_t seq, uint8_t flags, uint32_t plen,
			    uint16_t win);
/* 0, or -1 when ip is not an IPv4/TCP segment. */
int fg_bench_tcp_parse(const uint8_t *ip, uint32_t len, struct fg_bench_tcp_seg *s);

/* The bench peer that a frame's receiver index names (the gateway's remote_index of it), or
 * UINT32_MAX. */
uint32_t fg_bench_peer_of_remote(const struct fg_bench_env *e, uint32_t remote_index);

/*
 * Seals n inner packets, each already at the inner offset of its mbuf (fg_bench_inner_room),
 * for flows[i]'s peer (its receive key, counter flows[i]->wg_counter++), writes the outer
 * headers from the peer's endpoint to the uplink (outer UDP checksum with udp_csum, RX
 * checksum-good flags with csum_flags), and puts them on ring. Returns the frames placed;
 * the rest are freed.
 */
unsigned fg_bench_seal_frames(const struct fg_bench_env *e, struct rte_ring *ring, struct rte_mbuf **ms,
			      struct fg_bench_flow *const flows[], const uint16_t ilen[], unsigned n, bool udp_csum,
			      bool csum_flags);
/* Where an inner packet goes in a fresh mbuf for fg_bench_seal_frames. */
uint8_t *fg_bench_inner_room(struct rte_mbuf *m);

/* Opens n frames from the worker's TX ring in place (the peer's send key); peer[i] is the
 * bench peer, inner[i]/ilen[i] the plaintext (unpadded by its IP length), ok[i] false when
 * the frame is not a data message to a bench peer or does not open. Returns the count ok. */
unsigned fg_bench_open_frames(const struct fg_bench_env *e, struct rte_mbuf **ms, unsigned n, uint32_t peer[],
			      uint8_t *inner[], uint16_t ilen[], bool ok[]);

#endif
