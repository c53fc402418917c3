/* SPDX-License-Identifier: MIT */
/*
 * What the in-process traffic tier (test_dp_traffic.c) drives the data plane with: the
 * environment of svc_env.h, a WireGuard client played with dataplane/wg/ (Noise, cookie MACs,
 * the single-message transport), a TURN relay in front of it that wraps its datagrams in
 * ChannelData, a deliberately naive Ethernet/IPv4/UDP/ARP codec (not the data plane's
 * netpkt), and a control-socket client speaking common/ctlproto.h to the data plane's
 * server. Everything runs on the main lcore: each step is one fg_worker_poll(), one
 * fg_svc_poll() and one poll of the control socket server, repeated until the awaited frame,
 * datagram or counter appears, for at most TR_MAX_STEPS rounds (no sleeps). Failed
 * assertions are the caller's CUnit test's. Addresses: tunnel 100.64.0.0/11, outer
 * 198.18.0.0/15 (host order in the constants below).
 */
#ifndef FG_TRAFFIC_H
#define FG_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_ether.h>

#include "cookie.h"
#include "ctlproto.h"
#include "noise.h"
#include "svc_env.h"

enum {
	TR_MAX_STEPS = 10000,     /* rounds of worker + service poll before a wait gives up */
	TR_ETH_LEN = 14,
	TR_IP4_LEN = 20,
	TR_UDP_LEN = 8,
	TR_OUTER_LEN = TR_ETH_LEN + TR_IP4_LEN + TR_UDP_LEN,
	TR_CHAN_LEN = 4,          /* the ChannelData header */
	TR_CLIENT_PORT = 40001,
	TR_CLIENT_INDEX = 0x5eed1234,
	TR_RELAY_PORT = 3478,
	TR_CHANNEL = 0x4001,      /* the client's channel on the relay */
	TR_FRAME_MAX = 2048,
	TR_INNER_PAYLOAD = 100,   /* UDP payload bytes of the inner test packets */
};

/* The client's outer address and its one allowed tunnel address; the gateway's tunnel
 * address (the inner far end); the relay in front of the client (as the gateway sees it). */
#define TR_CLIENT_IP ((198u << 24) | (18u << 16) | 2u)
#define TR_CLIENT_TUN_IP ((100u << 24) | (64u << 16) | 2u)
#define TR_GATEWAY_TUN_IP ((100u << 24) | (64u << 16) | 1u)
#define TR_RELAY_IP ((198u << 24) | (18u << 16) | 3u)

extern const struct rte_ether_addr tr_client_mac;
extern const struct rte_ether_addr tr_relay_mac;
extern struct fg_svc_env tr_env;

/* The WireGuard client: its identity, the gateway as its peer, and the session keys. */
struct tr_client {
	struct fg_noise_local local;
	struct fg_noise_peer gw;
	struct fg_wg_cookie cookie;
	struct fg_noise_handshake hs;
	struct fg_noise_keypair_keys keys;
	uint64_t send_counter;
	uint32_t slot;            /* its peer slot on the gateway */
	uint16_t channel;         /* 0: it talks to the gateway directly; else via the relay */
};

struct fg_lcore_counters *tr_wcnt(void);
const struct fg_svc_stats *tr_svc_stats(void);
/* One round: worker 0 (NIC RX, handoff, TUN, the service's TX ring), the service, the
 * control socket server when open. */
void tr_step(void);
bool tr_wait_frames(unsigned n);
/* Until worker 0's (or the service's: svc) drop counter of reason reaches want. */
bool tr_wait_drop(enum fg_drop reason, uint64_t want);
bool tr_wait_svc_drop(enum fg_drop reason, uint64_t want);
/* The next datagram the worker wrote to its TUN queue, or -1 when none came. */
ssize_t tr_wait_tun(uint8_t *buf, size_t cap);
bool tr_tun_empty(void);

void tr_put16(uint8_t *p, uint16_t v);
uint16_t tr_get16(const uint8_t *p);
uint32_t tr_get32(const uint8_t *p);
struct fg_endpoint tr_ep4(uint32_t ip, uint16_t port);
/* An inner IPv4/UDP packet of TR_INNER_PAYLOAD bytes whose payload is tagged with seq. */
uint16_t tr_inner_packet(uint8_t *p, uint32_t src, uint32_t dst, uint8_t seq);
/* A STUN Binding request with a 4-byte attribute, tagged with seq; returns its length (28). */
uint16_t tr_stun_binding(uint8_t *p, uint8_t seq);

/* A datagram from ip:port (Ethernet source mac) to the gateway, onto port RX queue 0. */
void tr_send_frame_from(const struct rte_ether_addr *mac, uint32_t ip, uint16_t port, const void *payload,
			uint16_t len);
/* From the client: directly, or through the relay on c->channel (ChannelData, pad zero
 * bytes of padding behind it). */
void tr_send_frame(const struct tr_client *c, const void *payload, uint16_t len);
void tr_send_relayed(uint16_t channel, const void *payload, uint16_t len, uint16_t pad);
/* Takes the next frame off port TX queue 0, checks that it is a well-formed datagram from
 * the gateway's listen port to mac / ip:port, and copies its UDP payload out. Returns the
 * payload length, or -1. */
int tr_take_frame_to(const struct rte_ether_addr *mac, uint32_t ip, uint16_t port, uint8_t *out, size_t cap);
/* The next frame for the client, on its path: the UDP payload, or the ChannelData's data
 * (checked: TR_CHANNEL, the exact length, no padding) when c->channel. */
int tr_take_frame(const struct tr_client *c, uint8_t *out, size_t cap);
/* Answers the gateway's ARP request for ip (the next frame on the wire must be one) with
 * mac: what a neighbour does. */
void tr_answer_arp(uint32_t ip, const struct rte_ether_addr *mac);

/* A data message from the client: plain (len bytes, 0 = keepalive) sealed under its send
 * key for receiver index rx, with counter ctr. Returns its length. */
uint16_t tr_seal(uint8_t *msg, const struct tr_client *c, const uint8_t *plain, uint16_t len, uint32_t rx,
		 uint64_t ctr);
void tr_send_data(struct tr_client *c, const uint8_t *plain, uint16_t len);
/* A fresh environment: the gateway's key, the client as its one peer (with a PSK and
 * TR_CLIENT_TUN_IP/32 as its allowed IP), and the client's view of the gateway. */
void tr_setup(struct tr_client *c);
void tr_teardown(struct tr_client *c);
/* Initiation in, response out (on the client's path), session keys on both sides. */
void tr_handshake(struct tr_client *c);
/* The client's inner packet seq sent as data; what the TUN gets must be exactly it. */
void tr_data_in(struct tr_client *c, uint8_t seq);
/* Confirms the gateway's responder session (a keepalive from the client). */
void tr_confirm(struct tr_client *c);
/* A TUN packet to the client comes out sealed on its path; returns the plaintext length
 * and checks it is pkt. */
void tr_tun_out(struct tr_client *c, uint8_t seq);

/* The control socket: a server on a temporary path, attached to the service, and one
 * client connection. */
void tr_ctl_open(void);
void tr_ctl_close(void);
/* The server's socket path (for a second client: the control plane's own dpclient). */
const char *tr_ctl_path(void);
/* Sends a request of len bytes (its header filled here) and returns its REPLY's status. */
int tr_ctl_request(void *msg, size_t len, uint16_t type);
/* Sends a message of len bytes (its header filled here) without waiting for an answer. */
void tr_ctl_send(void *msg, size_t len, uint16_t type);
/* The next PACKET_IN the control socket delivers (other messages skipped): its datagram
 * length, or -1 when none came. */
ssize_t tr_ctl_packet_in(void *buf, size_t cap);
/* The same for the next message of any type (P2P_IN, STATS_REPLY, EVENT, ...). */
ssize_t tr_ctl_wait_type(uint16_t type, void *buf, size_t cap);

#endif
