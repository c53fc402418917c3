/* SPDX-License-Identifier: MIT */
/*
 * A fake data plane for the control socket client's tests: it listens on a SOCK_SEQPACKET
 * socket in a fresh temporary directory and plays one script, in its own thread, against
 * whoever connects. The scripts are the conversations test_ctlproto.c needs, correct and
 * hostile. The thread owns the struct while it runs; the test's thread may set bad[],
 * bad_len and bad_in_hello before fdp_start() and read the rest after fdp_stop().
 */
#ifndef FG_FAKE_DP_H
#define FG_FAKE_DP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"

enum {
	FDP_WAIT_MS = 10000,         /* the fake gives up on a stuck client after this */
	FDP_SEEN_MAX = 32,
	FDP_BIG = FG_CTL_MAX_MSG + 4096, /* the largest hostile datagram it sends */
	FDP_DUMP_PEERS = 300,        /* peers in a DUMP: enough to fill the socket buffer */
	FDP_DUMP_FILTERS = 500,      /* filters of each peer's second resource */
	FDP_OVERFLOW = 10,           /* events beyond the client's queue (fdp_events) */
};

struct fake_dp {
	char dir[64];
	char path[108];
	int lfd;
	int fd;                       /* the accepted connection, -1 when none */
	pthread_t th;
	void (*script)(struct fake_dp *f);
	bool failed;                  /* a step timed out or a send came up short */
	unsigned nseen;               /* datagrams received, in order */
	struct fg_ctl_hdr seen[FDP_SEEN_MAX];
	size_t seen_len[FDP_SEEN_MAX];
	uint8_t last[8192];           /* the last datagram's bytes */
	uint8_t bad[FDP_BIG];         /* what fdp_bad sends instead of an answer */
	size_t bad_len;
	bool bad_in_hello;            /* fdp_bad / fdp_close_mid: act on the HELLO itself */
};

/* Creates the socket and starts script in a thread; false if it could not. */
bool fdp_start(struct fake_dp *f, void (*script)(struct fake_dp *f));
/* Joins the thread (the client must have closed first) and removes the socket. */
void fdp_stop(struct fake_dp *f);
void fdp_put_hdr(struct fg_ctl_hdr *h, uint16_t type, uint32_t seq);

/* Scripts. A REPLY's count is the request's seq; HELLO_REPLY says tun "fgtest0",
 * version "fake-dataplane 9.9", 3 peers, 2 workers. Event n has kind 1 + n % 3, public key
 * starting with n (16 bits, little end first) and resource "res-n". */

/* Answers everything until the client closes: PEER_UPSERT 0, PEER_REMOVE -ENOENT, other
 * requests -EINVAL; DUMP streams FDP_DUMP_PEERS peers with resources "res-i-0" and
 * "res-i-1" plus event 7 and stale messages; STATS a stale reply, then the real one. */
void fdp_good(struct fake_dp *f);
/* fdp_good for two connections in a row. */
void fdp_good_twice(struct fake_dp *f);
/* Event 1 before the HELLO_REPLY; events 2, 3 before the first REPLY, event 4 after it;
 * FG_DPC_EVENTS_MAX + FDP_OVERFLOW events (100...) before the second REPLY; then fdp_good. */
void fdp_events(struct fake_dp *f);
/* Before the first request's REPLY (count 7, "ok"): REPLYs for other seqs, a HELLO_REPLY
 * and a STATS_REPLY with its seq, event 9. Then fdp_good. */
void fdp_stale(struct fake_dp *f);
/* Sends bad[0..bad_len) in place of the first answer (or the HELLO_REPLY), then waits. */
void fdp_bad(struct fake_dp *f);
/* Answers the HELLO, then nothing. */
void fdp_silent(struct fake_dp *f);
/* Closes once the first request (or the HELLO) is in, then serves a reconnect. */
void fdp_close_mid(struct fake_dp *f);
/* After the HELLO_REPLY, unsolicited junk with event 5 among it, then closes. */
void fdp_junk_then_close(struct fake_dp *f);
/* fdp_good, where every PACKET_OUT is echoed as a PACKET_IN before its REPLY (count = its
 * len): src = its ep, channel = its channel, peer = FDP_PEER when the channel is set. After
 * the third request's REPLY it sends hostile PACKET_INs (a len over what follows, under it,
 * over FG_CTL_MAX_PACKET, 0xffff with nothing, 0 with bytes), an empty one (len 0, framed
 * right) and then one valid PACKET_IN of
 * FG_CTL_MAX_PACKET bytes of 0x5a from FDP_PEER, channel 0x4fff. */
void fdp_packets(struct fake_dp *f);
/* The peer address of the echoed PACKET_INs: 198.18.9.9:4000. */
#define FDP_PEER_IP "\xc6\x12\x09\x09"
#define FDP_PEER_PORT 4000

#endif
