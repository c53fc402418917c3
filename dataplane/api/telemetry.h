/* SPDX-License-Identifier: MIT */
/*
 * The data plane's commands on DPDK's telemetry socket (the EAL's, in its runtime directory:
 * /var/run/dpdk/<file prefix>/dpdk_telemetry.v2, there unless the EAL runs with
 * --no-telemetry; read it with dpdk-telemetry.py -f <file prefix>):
 *   /fastgate/stats          the AEAD backend, workers, peers, uptime, handshakes, cookies,
 *                            the non-zero drops by reason, and per lcore its packets, bytes
 *                            and load (polls, busy polls, cycles; since start and over the
 *                            last ~1 s window; ratios in parts per million)
 *   /fastgate/peers[,SLOT]   up to FG_TELEMETRY_PEERS_PAGE peers from slot SLOT on (default
 *                            0): public key, endpoint, latest handshake, bytes, allowed IPs;
 *                            "next" names the slot to ask from for the rest
 * DPDK runs the commands on its telemetry threads (one per connection), never on an lcore.
 * They read nothing of the service lcore's: each posts a request and wakes the service lcore
 * (an eventfd in its idle wait), which copies what was asked into a snapshot and answers;
 * the command formats the snapshot. The service lcore never waits for a telemetry thread
 * (it only ever tries the lock) and the workers take no part.
 */
#ifndef FG_TELEMETRY_H
#define FG_TELEMETRY_H

struct fg_svc;
struct fg_telemetry;

enum {
	/* Peers per /fastgate/peers answer: about 450 bytes each at most, and DPDK 22.11 cuts
	 * an answer at 16 KiB. */
	FG_TELEMETRY_PEERS_PAGE = 16,
	/* Allowed IPs listed per peer (all are counted). */
	FG_TELEMETRY_ALLOWED_SHOWN = 4,
	/* How long a command waits for the service lcore before it answers null. */
	FG_TELEMETRY_TIMEOUT_MS = 2000,
};

/* Registers the commands with DPDK's telemetry (once per process) and attaches to the
 * service lcore (service.h). One at a time per process. NULL + errno (EBUSY: one is open;
 * ENOMEM, EMFILE; or what rte_telemetry_register_cmd or fg_svc_attach returned). */
struct fg_telemetry *fg_telemetry_open(struct fg_svc *s);
/* Detaches: the commands answer null from then on (DPDK cannot unregister them). Service
 * lcore, before the service state goes. NULL is accepted. */
void fg_telemetry_close(struct fg_telemetry *t);

#endif
