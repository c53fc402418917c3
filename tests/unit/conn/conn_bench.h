/* SPDX-License-Identifier: MIT */
/*
 * The test bench of tests/unit/conn: a struct fg_conn wired to a real struct fg_dpc and a
 * real struct fg_cp_state, the dpclient connected to a fake data plane played on the test's
 * own thread (a SOCK_SEQPACKET listener in a temporary directory, non-blocking, pumped
 * between calls: it answers HELLO with uplink4 198.18.111.1 and listen port 51820, every
 * request with a REPLY status 0, and records PACKET_OUT, CHANNEL_BIND / CHANNEL_UNBIND and
 * PEER_PATH). Around it: the owner's ops (a log of signals, the timer's last arming), a
 * scripted TURN relay and a controlling ICE client, both written with the STUN codec and
 * answering what conn sends them as PACKET_INs punted through the data plane's socket (the
 * client at CL_ADDR directly, and at CL_SRFLX through the relay's channels).
 * conn runs on the real monotonic clock: the timer is driven with deadlines (bench_drive),
 * never long sleeps. Single-threaded; one bench at a time.
 */
#ifndef FG_TEST_CONN_BENCH_H
#define FG_TEST_CONN_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conn.h"
#include "ctlproto.h"
#include "dpclient.h"
#include "state.h"
#include "stun.h"

#define GW_UFRAG "ejqt"
#define GW_PWD "zfjrrjdkbci42t2axyd45a"
#define CL_UFRAG "hgwh"
#define CL_PWD "j2fqufatn7xlrrvv6fsvea"
#define CLIENT_ID "6a1e0b1c-3c8e-4f7e-9a55-0c1d2e3f4a01"
#define CLIENT2_ID "6a1e0b1c-3c8e-4f7e-9a55-0c1d2e3f4a02"
#define HOST4 "198.18.111.1:51820"
#define CL_ADDR "203.0.113.50:40000"
#define CL_LINE "candidate:1 1 udp 2130706431 203.0.113.50 40000 typ host"
#define CL_SRFLX_LINE "candidate:2 1 udp 1694498815 203.0.113.51 41000 typ srflx raddr 10.0.0.2 rport 40000"
#define CL_SRFLX "203.0.113.51:41000"
#define RELAY_ID "relay-1"
#define RELAY_ADDR "192.0.2.1:3478"
#define RELAY_USER "2145916800:q3JkSaltSaltSalt"
#define RELAY_PASS "x9ZtPasswordPasswordPassword"
#define RELAY_SRFLX "203.0.113.9:47717"
#define RELAY_RELAYED "198.51.100.5:49152"

enum {
	BENCH_PKTS = 4096,          /* PACKET_OUTs recorded (bench_clear_pkts() empties them) */
	BENCH_CHANS = 256,
	BENCH_PATHS = 64,
	BENCH_SIGS = 256,
	BENCH_SIG_LINES = 16,
};

/* A PACKET_OUT the data plane was asked to send. */
struct pkt {
	struct fg_endpoint ep;
	uint16_t channel;
	uint16_t len;
	uint8_t buf[FG_CTL_MAX_PACKET];
	bool served;                /* a fake answered it (or it was not for them) */
};

struct chan_rec {
	bool bind;                  /* CHANNEL_BIND, else CHANNEL_UNBIND */
	struct fg_endpoint relay, peer;
	uint16_t channel;
};

struct path_rec {
	uint8_t public_key[32];
	struct fg_endpoint ep;
	uint16_t channel;
};

/* One call of ops.signal. */
struct sig_rec {
	char event[48];
	char client_id[FG_CTL_ID_LEN];
	bool has_client;            /* client_id was not NULL */
	unsigned n;
	char lines[BENCH_SIG_LINES][256];
	bool accepted;              /* what the call returned (the portal was up) */
};

struct qmsg {
	uint8_t *buf;
	size_t len;
};

struct bench {
	/* the fake data plane */
	char dir[64], path[108];
	int lfd, fd;
	struct qmsg *outq;          /* answers waiting for room in the socket */
	unsigned nout, capout;
	unsigned n_hello, n_requests, n_peer_upsert, n_resource_upsert;
	unsigned npunted;           /* PACKET_INs bench_punt() sent */
	struct pkt *pkts;
	unsigned npkts, pkts_lost;
	struct chan_rec chans[BENCH_CHANS];
	unsigned nchans;
	struct path_rec paths[BENCH_PATHS];
	unsigned npaths;
	bool dp_bad;                /* a malformed message from the client */
	/* the control plane */
	struct fg_dpc dpc;
	struct fg_cp_state st;
	struct fg_conn *c;
	bool hello_done;
	int hello_status;
	/* the owner */
	bool portal_up;             /* what ops.signal answers */
	struct sig_rec sigs[BENCH_SIGS];
	unsigned nsigs;
	uint64_t armed_us, armed_at_ns;
	unsigned narms;
	/* the fake relay */
	struct fg_endpoint relay, relay_srflx, relay_relayed;
	struct fg_stun_key relay_key;
	bool relay_silent;          /* answers nothing */
	bool relay_bad;             /* a request it should not have got */
	unsigned relay_binding, relay_allocate, relay_allocate_unauth, relay_refresh, relay_chanbind;
	unsigned relay_chandata;    /* ChannelData conn sent through it */
	uint16_t relay_last_channel;
	struct fg_endpoint relay_last_peer;
	struct chan_rec relay_chans[BENCH_CHANS]; /* the channels it bound */
	unsigned relay_nchans;
	/* the fake client */
	struct fg_endpoint client, client_srflx, host4;
	struct fg_stun_key gw_key, cl_key;
	uint8_t client_key[32];
	bool client_silent;         /* answers no check of ours */
	bool client_bad;            /* a check of ours that broke a rule */
	unsigned client_checks;     /* checks of ours answered */
	uint32_t txid_seq;
};

extern struct bench B;

/* "a.b.c.d:port" or "[v6]:port". */
struct fg_endpoint ep(const char *s);
/* The bench, connected (HELLO answered), with a conn made from cfg (NULL: defaults). */
void bench_init(const struct fg_conn_config *cfg);
void bench_free(void);

/* The fake data plane and the client's socket until neither has anything to do. */
void bench_pump(void);
/* Pump, then let the fake relay and client answer what is addressed to them, until quiet. */
void bench_serve(void);
/* bench_serve() and the owner's timer (fg_conn_timer when armed) until done() or ms pass. */
bool bench_drive(bool (*done)(void), unsigned ms);

/* A PACKET_IN punted through the data plane's socket (then pumped and served). */
void bench_punt(const struct fg_endpoint *src, const struct fg_endpoint *peer, uint16_t channel,
		const uint8_t *buf, size_t len);
/* Any datagram from the fake data plane, as it is (then pumped). */
void bench_dp_send(const void *msg, size_t len);
/* A PACKET_IN handed to fg_conn_on_packet directly: len is the struct's field, cap the bytes
 * really behind it (at least len). */
void bench_inject(const struct fg_endpoint *src, const struct fg_endpoint *peer, uint16_t channel,
		  const uint8_t *buf, size_t cap, uint16_t len);

/* The relay of the fake as the portal names it, and: named, served until allocated. */
struct fg_relay_info bench_relay_info(void);
void bench_relay_up(void);
/* fg_cp_authorize (a CIDR resource) then fg_conn_authorize with the bench's credentials. */
void bench_authorize(const char *client_id, uint8_t key_byte);

/* The client's Binding request (USERNAME GW:CL, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE
 * when nominate, MESSAGE-INTEGRITY with the gateway's password, FINGERPRINT) into buf;
 * its length, its transaction id in txid. local_ufrag NULL: the gateway's. */
size_t bench_request(uint8_t *buf, size_t cap, const char *local_ufrag, bool nominate,
		     uint8_t txid[FG_STUN_TXID_LEN]);
/* The first recorded PACKET_OUT to `to` (NULL: any) holding STUN of class cls (and txid
 * when not NULL), parsed into *m; NULL when none. */
const struct pkt *bench_find(const struct fg_endpoint *to, int cls, const uint8_t *txid,
			     struct fg_stun_msg *m);
unsigned bench_count_pkts(const struct fg_endpoint *to);
void bench_clear_pkts(void);

/* Signals of event (NULL: any) that were accepted (accepted) or refused (!accepted). */
unsigned bench_sigs(const char *event, bool accepted);
const struct sig_rec *bench_last_sig(const char *event, bool accepted);
bool sig_has_line(const struct sig_rec *s, const char *needle);

/* ---- conn_check.c ---- */

/* fastgatectl's views: a counter of `ice`, an agent of `ice` by client id, a string or a
 * number of an object ("" and -1 when absent), a string array holding needle. */
double ice_counter(const char *name);
cJSON *ice_agent(cJSON *ice, const char *client_id);
bool json_array_has(const cJSON *arr, const char *needle);
const char *str_of(const cJSON *o, const char *key);
double num_of(const cJSON *o, const char *key);

/* Whether some accepted signal of event for client_id carried a line with needle. */
bool signalled(const char *event, const char *client_id, const char *needle);
/* CHANNEL_BIND (bind) or CHANNEL_UNBIND records for the fake relay, to peer (NULL: any) on
 * channel (0xffff: any). */
unsigned chan_recs(bool bind, const struct fg_endpoint *peer, uint16_t channel);
/* A Binding success to txid sent directly to `to`, checked as the client would: the
 * XOR-MAPPED-ADDRESS is `to`, integrity with the gateway's password, FINGERPRINT. */
void expect_answer(const struct fg_endpoint *to, const uint8_t *txid);
/* ice_candidates (or invalidate_ice_candidates) of one line for client_id. */
void add_candidate(const char *client_id, const char *line, bool invalidate);
/* The first PACKET_OUT to the relay holding ChannelData on channel with STUN of class cls
 * (and txid when not NULL), the STUN parsed into *m. */
const struct pkt *find_chandata(uint16_t channel, int cls, const uint8_t *txid, struct fg_stun_msg *m);
/* A Data indication (XOR-PEER-ADDRESS peer and DATA data, each left out when NULL). */
size_t data_indication(uint8_t *buf, size_t cap, const struct fg_endpoint *peer, const uint8_t *data,
		       size_t dlen);
/* A signed success of method with a random transaction id: XOR-MAPPED-ADDRESS mapped, and
 * XOR-RELAYED-ADDRESS relayed with LIFETIME 600 when relayed is not NULL. */
size_t signed_success(uint8_t *buf, size_t cap, uint16_t method, const struct fg_stun_key *key,
		      const struct fg_endpoint *mapped, const struct fg_endpoint *relayed);

uint64_t bench_rand(void);

#endif
