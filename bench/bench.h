/* SPDX-License-Identifier: MIT */
/*
 * fastgate-bench: drives the real worker fast path (fg_worker_poll) with pre-built
 * WireGuard traffic and prints packet rates beside the raw AEAD rate of the same backend,
 * measured in the same process. This header is shared by the bench's files: the
 * environment (the struct fg_dp of fg_dp_init(), over a net_ring port, either with /dev/null
 * or a socketpair in place of the TUN for the worker-only rows, or with the daemon's own
 * virtio-net-header TUN in a private network namespace for the host-path rows), the traffic
 * templates, one measured row, the host-path rows (kernel socket sinks and senders, CPU
 * accounting), and the report. Everything is set up and torn down by the main lcore while
 * no worker runs; during a row each worker lcore owns its own context.
 */
#ifndef FG_BENCH_H
#define FG_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ring.h>

#include "config.h"
#include "counters.h"
#include "dp.h"

enum {
	FG_BENCH_MAX_WORKERS = 2,
	FG_BENCH_PORT_RING = 1024,
	FG_BENCH_MTU = 1420,
	FG_BENCH_LISTEN_PORT = 51820,
	FG_BENCH_IMIX = 0,          /* the "size" of the IMIX rows */
	FG_BENCH_MBUFS = 8191,
	FG_BENCH_SLOT_ALIGN = 64,   /* template stride */
	FG_BENCH_NAT_TUPLES = 10000, /* live NAT tuples behind a decrypt-nat row */
};

enum fg_bench_dir {
	FG_BENCH_DECRYPT = 0, /* NIC -> worker -> TUN (/dev/null, or the real TUN) */
	FG_BENCH_ENCRYPT,     /* TUN (a socketpair, or the real TUN) -> worker -> NIC */
	FG_BENCH_DIRS,
};

/* What a row drives beside the worker. */
enum fg_bench_kind {
	FG_BENCH_KIND_WORKER = 0, /* worker-only: /dev/null or a socketpair stands in for the TUN */
	FG_BENCH_KIND_TCP,        /* host path: a TCP stream through the real TUN, a kernel socket at
				   * the far end (hostrow.c) */
	FG_BENCH_KIND_UDP,        /* host path: many UDP flows through the real TUN and kernel sockets */
	FG_BENCH_KINDS,
};

/* [Host] TunIo of the host-path env (enum fg_tun_io); -1: the configuration's default. */
enum {
	FG_BENCH_TUN_IO_DEFAULT = -1,
};

/* The data plane under test and what the bench added around it. */
struct fg_bench_env {
	struct fg_config cfg;                      /* what fg_dp_init() built dp from */
	struct fg_dp dp;
	struct rte_ring *rx[FG_BENCH_MAX_WORKERS]; /* bench -> port queue w (the worker reads) */
	struct rte_ring *tx[FG_BENCH_MAX_WORKERS]; /* port queue w -> bench (frees) */
	int devnull;                               /* the decrypt rows' TUN fd */
	int tun_pair[FG_BENCH_MAX_WORKERS][2];     /* encrypt rows: [0] worker reads, [1] bench writes */
	uint32_t npeers;
	uint32_t *peer_slot;                       /* bench peer number -> table slot */
	uint32_t *kp_slot;                         /* its CURRENT keypair */
	bool relayed;                              /* the peers' paths go through relay channels
						    * (fg_bench_env_set_relayed) */
	bool nat;                                  /* the peers have DNS-resource policies
						    * (fg_bench_env_set_nat, nat.c) */
	bool made;                                 /* env_init ran: fg_bench_env_fini has work */
	bool host;                                 /* the daemon's own TUN (fg_bench_env_init_host) */
	int tun_io;                                /* its [Host] TunIo, or FG_BENCH_TUN_IO_DEFAULT */
	uint32_t host_seq;                         /* host rows run so far: fresh ports for each */
	char vdev_name[64];                        /* the port's vdev: net_ring, or --pcap's net_pcap */
};

/* A peer's session as someone else derived it (the pcap generator's keys.txt): the
 * gateway-side keys and indexes, endpoint and allowed IP, host order. */
struct fg_bench_peer_id {
	uint8_t recv_key[32];
	uint8_t send_key[32];
	uint32_t local_index;
	uint32_t remote_index;
	uint32_t peer_ip;
	uint16_t peer_port;
	uint32_t inner_ip;
};

/* One pre-built packet: a whole Ethernet frame (decrypt) or an inner IPv4 packet
 * (encrypt) at arena + off. */
struct fg_bench_tmpl {
	uint64_t off;
	uint16_t len;         /* frame or packet length */
	uint16_t inner_len;   /* inner IP packet length (what Gbit/s counts) */
	uint32_t peer;        /* bench peer number */
};

struct fg_bench_traffic {
	enum fg_bench_dir dir;
	bool relayed;         /* decrypt: frames in ChannelData from the peer's relay; encrypt:
			       * the peers' paths relayed while the row runs */
	bool nat;             /* decrypt: to the proxy IP, through the NAT (nat.c) */
	uint16_t hdr_len;     /* decrypt: headers in front of the WireGuard message (42, 46) */
	unsigned size;        /* inner IP length, or FG_BENCH_IMIX */
	uint32_t npeers;
	uint32_t n;
	struct fg_bench_tmpl *t;
	uint8_t *arena;
	size_t arena_len;
	uint64_t inner_bytes; /* sum of inner_len over the templates */
};

struct fg_bench_row {
	enum fg_bench_dir dir;
	enum fg_bench_kind kind;
	int tun_io;           /* host rows: the env's TunIo (FG_BENCH_TUN_IO_DEFAULT: the default) */
	uint32_t fastpath;    /* dp->fastpath during the row (enum fg_fastpath_bits) */
	bool csum_flags;      /* the feeder's mbufs carried RX checksum-good flags (a NIC's) */
	bool relayed;
	bool nat;
	unsigned size;
	uint32_t npeers;
	unsigned workers;
	bool skipped;         /* fewer peers than workers: one peer is one worker's flow */
	uint64_t packets;     /* delivered (TUN writes / NIC frames) */
	uint64_t inner_bytes;
	uint64_t busy_cycles; /* inside fg_worker_poll + quiescent report, all workers */
	uint64_t wall_cycles; /* the row's run time on one worker, feeding included */
	uint64_t drops;       /* unexpected drops (any reason but the idle /dev/null read) */
	uint64_t raw_ops;
	uint64_t raw_cycles;
	uint64_t io_ops;      /* the fd syscalls alone (io_cycles() in run.c) */
	uint64_t io_cycles;
	double mpps, gbps, cycles_per_packet, raw_mpps, raw_cycles_per_op, ratio;
	double io_cycles_per_packet, ratio_no_io;
	/* Stage times of the row's direction (FG_FP_PROFILE), cycles per packet of that
	 * direction; stage_pkts = 0: the worker did not time its stages. */
	double stage[FG_STAGE_MAX];
	uint64_t stage_pkts;
	/* Host rows: the share of the worker's poll time spent in passes that found nothing
	 * (not counted in cyc/pkt), the row's wall seconds, the gateway's CPU per 10 Gbit/s of
	 * inner traffic counted two ways (process: the worker's busy time plus every other task
	 * of the process; system: the worker's busy time plus all non-idle CPU time of the
	 * machine outside the worker lcores, softirq and kernel threads included), and what the
	 * kernel lost (socket buffer overflows, a sink that got less than was delivered). */
	double idle_share;
	double wall_s;
	double cores10_proc, cores10_sys;
	uint64_t host_drops;
	uint64_t tx_overflow; /* nic_tx_full, also counted in drops (CSV column) */
};

struct fg_bench_opts {
	double seconds;
	double raw_seconds;
	unsigned burst;
	bool udp_csum;
	bool verbose;
	bool csum_flags;      /* set RX IP/L4 checksum-good flags on the fed mbufs */
	uint32_t fastpath;    /* dp->fastpath bits for the rows (FG_FP_PROFILE is added for host rows) */
};

/* env.c */
int fg_bench_env_init(struct fg_bench_env *e, uint32_t npeers, unsigned nqueues, char *err, size_t errlen);
/* The same with given peer identities (ids[npeers], or NULL) and/or a vdev port ("net_pcap0,
 * rx_pcap=...") in place of the net_ring port (vdev NULL). */
int fg_bench_env_init_ext(struct fg_bench_env *e, uint32_t npeers, unsigned nqueues,
			  const struct fg_bench_peer_id *ids, const char *vdev, char *err, size_t errlen);
/* The host-path env: the same data plane, but fg_dp_init() opens the real virtio-net-header
 * TUN of [Host] (a unique name, the tunnel address fg_bench_tun_ip()/32, MTU 1420, the route
 * 100.64.0.0/11) and fg_dp_setup_host() configures it. Root, inside a private network
 * namespace (fg_bench_netns_enter). tun_io: [Host] TunIo or FG_BENCH_TUN_IO_DEFAULT; seq makes
 * the TUN's name unique among this process's envs. */
int fg_bench_env_init_host(struct fg_bench_env *e, uint32_t npeers, unsigned nqueues, int tun_io, unsigned seq,
			   char *err, size_t errlen);
void fg_bench_env_fini(struct fg_bench_env *e);
/* Fresh keypair state for a row: birth now, no owner, empty replay windows. */
void fg_bench_env_reset(struct fg_bench_env *e);
/* Deterministic identities of bench peer p. */
void fg_bench_recv_key(uint32_t p, uint8_t key[32]);
void fg_bench_send_key(uint32_t p, uint8_t key[32]);
uint32_t fg_bench_local_index(uint32_t p);
uint32_t fg_bench_remote_index(uint32_t p);
uint32_t fg_bench_peer_ip(uint32_t p);     /* outer source, host order */
uint16_t fg_bench_peer_port(uint32_t p);
uint32_t fg_bench_inner_ip(uint32_t p);    /* the peer's allowed IP, host order */
uint32_t fg_bench_local_ip(void);          /* the uplink address, host order */
/* The relay in front of bench peer p (198.18.0.16 upwards, port 3478) and its channel there
 * (0x4000 + p % 4096: one relay per 4096 peers). */
uint32_t fg_bench_relay_ip(uint32_t p);
uint16_t fg_bench_channel(uint32_t p);
/* Every peer's path direct (its own endpoint) or through its relay channel, with the
 * channels bound in the data plane's table (or unbound). 0 or -errno. */
int fg_bench_env_set_relayed(struct fg_bench_env *e, bool relayed);
uint32_t fg_bench_resource_ip(void);       /* the inner far end, host order */
/* Host rows: the TUN's own address (the sinks listen there, 100.64.0.1), and the ports of
 * the sinks (FG_BENCH_SINK_PORTS from 5201). */
uint32_t fg_bench_tun_ip(void);
enum {
	FG_BENCH_SINK_PORT = 5201,
	FG_BENCH_SINK_PORTS = 4,
};

/* traffic.c */
int fg_bench_traffic_build(struct fg_bench_traffic *tr, const struct fg_bench_env *e, enum fg_bench_dir dir,
			   unsigned size, uint32_t npeers, bool udp_csum, bool relayed);
/* Decrypt traffic to the proxy IP (nat.c's policies), from fg_bench_nat_sport() ports. */
int fg_bench_traffic_build_nat(struct fg_bench_traffic *tr, const struct fg_bench_env *e, unsigned size,
			       uint32_t npeers, bool udp_csum);
/* Decrypt traffic for the host-path UDP rows: to the TUN's address and the sinks' ports,
 * many flows (FG_BENCH_SINK_PORTS destination ports, 8 source ports per peer). */
int fg_bench_traffic_build_host(struct fg_bench_traffic *tr, const struct fg_bench_env *e, enum fg_bench_dir dir,
				unsigned size, uint32_t npeers, bool udp_csum);
void fg_bench_traffic_free(struct fg_bench_traffic *tr);
/* Inner sizes of the IMIX cycle (7 x 64, 4 x 576, 1 x 1420). */
unsigned fg_bench_imix_size(uint32_t i);
double fg_bench_imix_mean(void);

/* run.c */
int fg_bench_run_row(struct fg_bench_env *e, const struct fg_bench_traffic *tr, unsigned workers,
		     const struct fg_bench_opts *o, struct fg_bench_row *row);

/* The raw AEAD and fd-I/O references of a row (run.c), for other drivers. */
int fg_bench_raw_rate(struct fg_bench_env *e, const struct fg_bench_traffic *tr, const struct fg_bench_opts *o,
		      double seconds, uint64_t *ops_out, uint64_t *cycles_out);
uint64_t fg_bench_io_cycles(struct fg_bench_env *e, const struct fg_bench_traffic *tr,
			    const struct fg_bench_opts *o, double seconds, uint64_t *ops_out);

/* hostrow.c: one host-path row (kind TCP or UDP) on a host env: feeders on the workers'
 * lcores, kernel socket sinks (decrypt) or senders (encrypt) on threads of their own, the
 * stages and the CPU accounting. tr: the row's templates (decrypt-udp) or the raw AEAD's
 * reference packets of the same size (the other kinds). */
int fg_bench_run_host_row(struct fg_bench_env *e, enum fg_bench_kind kind, const struct fg_bench_traffic *tr,
			  unsigned workers, const struct fg_bench_opts *o, struct fg_bench_row *row);

/* hostplan.c: the host-path rows of a run (one host env per TunIo mode, each kind at each
 * size and worker count), --before-after, and the targets read off the rows. */
struct fg_bench_host_plan {
	bool kinds[4];            /* decrypt-tcp, decrypt-udp, encrypt-tcp, encrypt-udp */
	unsigned sizes[8], nsizes;
	unsigned workers[8], nworkers;
	uint32_t peers;           /* of the UDP rows */
	int tun_io[8];
	unsigned ntun_io;
	bool before_after;
	unsigned max_workers;
};
/* Appends its rows to rows[*nrows..maxrows) and prints them. 0, or -1 when a row failed its
 * checks (nothing delivered, drops, frames that do not open). */
int fg_bench_host_plan_run(const struct fg_bench_host_plan *pl, const struct fg_bench_opts *o,
			   struct fg_bench_row *rows, unsigned *nrows, unsigned maxrows);
/* Each per-packet refinement's cost: a decrypt row (host: decrypt-udp on host_env; else the
 * worker-only decrypt row on env) with all on, then with each FG_FP_NO_* / FG_FP_POLICY_REPARSE
 * bit set alone, alternated; RX checksum-good flags on the fed mbufs. One of env, host_env. */
int fg_bench_before_after(struct fg_bench_env *env, struct fg_bench_env *host_env, const unsigned *sizes,
			  unsigned nsizes, uint32_t peers, const struct fg_bench_opts *o);
void fg_bench_targets(FILE *f, const struct fg_bench_row *rows, unsigned n);

/* hostenv.c: the private network namespace (root only), the CPU the bench may use, CPU
 * accounting. */
int fg_bench_netns_enter(char *err, size_t errlen);
/* The CPUs this process could run on before the EAL pinned it (sinks and senders float
 * over them): saved by fg_bench_cpus_save() first thing in main. */
void fg_bench_cpus_save(void);
int fg_bench_cpus_apply(void);
unsigned fg_bench_cpus_count(void);
struct fg_bench_cpu {
	double proc_s;      /* utime + stime of the whole process (every task, exited ones too) */
	double lcores_s;    /* of the worker lcore threads alone */
	double sys_busy_s;  /* non-idle CPU time of the machine, all CPUs, /proc/stat */
};
/* tids: the worker lcores' threads (gettid). 0 or -errno. */
int fg_bench_cpu_sample(struct fg_bench_cpu *c, const int *tids, unsigned ntids);
/* The UDP losses the namespace's kernel counted (RcvbufErrors + InErrors of /proc/net/snmp). */
uint64_t fg_bench_udp_errors(void);
/* Parses and names [Host] TunIo values: "syscall", "io_uring", "sqpoll", "auto"; -EINVAL, or
 * -ENOTSUP when this tree has no TunIo. */
int fg_bench_tun_io_parse(const char *s, int *out);
const char *fg_bench_tun_io_name(int tun_io);

/* pcap.c: --pcap DIR, the generator's data pcaps replayed through net_pcap (decrypt). */
int fg_bench_pcap(const char *dir, const unsigned *sizes, unsigned nsizes, const uint32_t *peers,
		  unsigned npeers, const struct fg_bench_opts *o, FILE *out);

/* nat.c: the DNS-resource NAT rows. Every peer a client whose proxy IP fg_bench_proxy_ip()
 * translates to fg_bench_resource_ip(), or (off) no policy and the tables emptied. 0 or
 * -errno. */
int fg_bench_env_set_nat(struct fg_bench_env *e, bool on);
uint32_t fg_bench_proxy_ip(void);
/* Closes every tuple of the connection tables (a NAT reset of each peer, each table swept
 * whole) and recycles the entries: a row starts with its own tuples, made by its owners. */
void fg_bench_nat_clear(struct fg_bench_env *e);
/* The inner source port of template i of npeers: FG_BENCH_NAT_TUPLES tuples over the peers. */
uint16_t fg_bench_nat_sport(uint32_t i, uint32_t npeers);
/* The NAT's own cost alone on the main lcore (worker 0's table, tuples in place): per
 * packet of tr's peers and ports, the client's policy, then the proxy IP's translation and
 * the table (fg_conntrack_outbound_burst, bursts of burst packets); the lowest of a few
 * passes over the templates. */
struct fg_bench_nat_micro {
	double policy;     /* cycles per packet */
	double nat;
};
int fg_bench_nat_micro(struct fg_bench_env *e, const struct fg_bench_traffic *tr, unsigned burst,
		       struct fg_bench_nat_micro *out);

/* report.c */
const char *fg_bench_dir_name(enum fg_bench_dir d);
/* The row's direction as printed: "decrypt", or "decrypt-relayed" for a relayed row. */
const char *fg_bench_row_name(const struct fg_bench_row *r);
void fg_bench_size_name(unsigned size, char *buf, size_t len);
void fg_bench_print_header(FILE *f);
void fg_bench_print_row(FILE *f, const struct fg_bench_row *r);
/* The host-path rows' table: throughput, the stages, CPU per 10 Gbit/s. */
void fg_bench_print_host_header(FILE *f);
void fg_bench_print_host_row(FILE *f, const struct fg_bench_row *r);
int fg_bench_write_csv(const char *path, const struct fg_bench_row *rows, unsigned n, const char *backend);
int fg_bench_plot(const char *script, const char *csv, const char *png);

/* handshake.c: responder handshakes and MAC1 rejections per second on one core. */
int fg_bench_handshakes(double seconds, FILE *out);

#endif
