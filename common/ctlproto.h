/* SPDX-License-Identifier: MIT */
/*
 * The control socket between fastgate-controlplane (client, unprivileged) and
 * fastgate-dataplane (server, owns the socket): fixed-size typed messages over a Unix
 * SOCK_SEQPACKET socket, one message per datagram. Every message starts with struct
 * fg_ctl_hdr; the receiver checks the version and that the datagram's length is exactly
 * what fg_ctl_msg_size() says for it, and answers anything else with a FG_CTL_REPLY
 * carrying -EPROTO (or drops the connection when it cannot even read a header). Requests
 * carry a sequence number that the reply echoes. Multi-byte fields are host order: both
 * processes run on the same machine. No pointers. Two kinds of variable part: a resource
 * (RESOURCE_UPSERT, RESOURCE_INFO) ends with n_filters filters, so its exact size is its
 * fixed part plus n_filters * 8, with n_filters at most FG_CTL_MAX_FILTERS (the portal puts
 * no limit on filters; a datagram stays under FG_CTL_MAX_MSG); a packet (PACKET_IN,
 * PACKET_OUT) ends with len bytes of UDP payload, len at most FG_CTL_MAX_PACKET, and is
 * exactly its fixed part plus len (no padding). Pure definitions; no state.
 *
 * Endpoints and relays: a path is a tagged value, direct (ep = the peer's IP:port, channel
 * 0) or relayed (ep = the TURN relay's IP:port, channel = a ChannelData channel number
 * 0x4000-0x4FFF that the relay has bound to the peer). STUN and TURN run in the control
 * plane, but their datagrams use the data plane's WireGuard port (ICE needs one 5-tuple):
 * the data plane punts the STUN it receives as PACKET_IN and sends what PACKET_OUT asks.
 *
 * Conversation:
 *   client: HELLO                      -> server: HELLO_REPLY
 *   client: PEER_UPSERT / PEER_REMOVE / RESOURCE_UPSERT / RESOURCE_REMOVE / IFACE_SET /
 *           PACKET_OUT / CHANNEL_BIND / CHANNEL_UNBIND / PEER_PATH
 *                                      -> server: REPLY (status 0 or -errno)
 *   client: DUMP                       -> server: PEER_INFO*, RESOURCE_INFO*, REPLY (end)
 *   client: P2P_OUT / NAT_SET / FLOWS_SET -> server: REPLY
 *   client: NAT_DUMP                   -> server: NAT_INFO*, REPLY (end)
 *   client: STATS                      -> server: STATS_REPLY
 *   server: EVENT (unsolicited, seq 0) when the data plane removed a peer by itself
 *           (last resource expired, or the client said Goodbye) or a handshake completed.
 *   server: PACKET_IN (unsolicited, seq 0): STUN that arrived on the WireGuard port, directly
 *           or inside a relay channel. Best effort: counted and dropped when the client's
 *           output queue is backed up, never a reason to close the connection.
 *   server: P2P_IN (unsolicited, seq 0): an AssignedIps p2p control packet from a client
 *           with a policy. Best effort as PACKET_IN (the client resends it).
 *   server: FLOW (unsolicited, seq 0): a flow of a client started or completed. Best
 *           effort: a record lost to a full queue is counted (flows_lost in STATS_REPLY).
 */
#ifndef FG_CTLPROTO_H
#define FG_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum {
	FG_CTL_VERSION = 6,          /* 2: resources carry a variable number of filters;
				      * 3: packets, relay channels and peer paths;
				      * 4: DNS resources (p2p control, NAT, flow records);
				      * 5: lcore load (polls, busy polls, cycles) in STATS_REPLY;
				      * 6: the DPDK heap in STATS_REPLY */
	FG_CTL_ID_LEN = 64,          /* portal ids (UUIDs) as NUL-terminated text */
	FG_CTL_MAX_FILTERS = 8192,   /* filters of one resource on the wire */
	FG_CTL_MAX_PACKET = 2048,    /* UDP payload bytes of one PACKET_IN / PACKET_OUT */
	FG_CTL_CHANNEL_MIN = 0x4000, /* ChannelData channel numbers (RFC 8656 §12) */
	FG_CTL_CHANNEL_MAX = 0x4FFF,
	FG_CTL_MAX_DROP_REASONS = 64,
	FG_CTL_MAX_WORKERS = 16,
	FG_CTL_DOMAIN_LEN = 256,     /* a domain name as NUL-terminated text (253 max) */
	FG_CTL_NAT_MAX_PROXY = 8,    /* proxy IPs of one AssignedIps (4 IPv4 + 4 IPv6) */
	FG_CTL_P2P_MAX = 1240,       /* p2p control payload: 1280 - the 40-byte IPv6 header */
	FG_CTL_FLOW_MAX_OUTERS = 4,  /* outer paths one flow record lists */
};

enum fg_ctl_type {
	FG_CTL_HELLO = 1,
	FG_CTL_HELLO_REPLY,
	FG_CTL_REPLY,
	FG_CTL_PEER_UPSERT,
	FG_CTL_PEER_REMOVE,
	FG_CTL_RESOURCE_UPSERT,
	FG_CTL_RESOURCE_REMOVE,
	FG_CTL_IFACE_SET,
	FG_CTL_DUMP,
	FG_CTL_PEER_INFO,
	FG_CTL_RESOURCE_INFO,
	FG_CTL_STATS,
	FG_CTL_STATS_REPLY,
	FG_CTL_EVENT,
	FG_CTL_PACKET_IN,          /* version 3 */
	FG_CTL_PACKET_OUT,
	FG_CTL_CHANNEL_BIND,
	FG_CTL_CHANNEL_UNBIND,
	FG_CTL_PEER_PATH,
	FG_CTL_P2P_IN,             /* version 4 */
	FG_CTL_P2P_OUT,
	FG_CTL_NAT_SET,
	FG_CTL_NAT_DUMP,
	FG_CTL_NAT_INFO,
	FG_CTL_FLOWS_SET,
	FG_CTL_FLOW,
	FG_CTL_TYPE_MAX,
};

struct fg_ctl_hdr {
	uint16_t version;
	uint16_t type;       /* enum fg_ctl_type */
	uint32_t seq;        /* echoed in replies; 0 for events */
};

struct fg_ctl_hello {
	struct fg_ctl_hdr h;
	char client[32];     /* "fastgate-controlplane 0.1.0" */
};

struct fg_ctl_hello_reply {
	struct fg_ctl_hdr h;
	char version[32];          /* the data plane's version */
	uint8_t public_key[32];    /* the WireGuard static public key (never the private) */
	char tun_name[16];
	uint16_t listen_port;
	uint16_t pad;
	struct fg_ip uplink4;      /* family 0 = none */
	struct fg_ip uplink6;
	uint8_t pad2[2];
	uint64_t started_unix_ns;
	uint32_t peers;
	uint32_t workers;
};

struct fg_ctl_reply {
	struct fg_ctl_hdr h;
	int32_t status;            /* 0 or -errno */
	uint32_t count;            /* DUMP: messages sent before this one */
	char message[120];         /* a human reason for a failure, may be empty */
};

enum fg_ctl_peer_flags {
	FG_CTL_PEER_POLICY = 1 << 0,   /* traffic is checked against the client's resources */
	FG_CTL_PEER_HAS_PSK = 1 << 1,
	FG_CTL_PEER_GOODBYE = 1 << 2,  /* PEER_REMOVE: send the p2p Goodbye first */
};

/* Creates or updates a client's peer; its allowed IPs become exactly ipv4/32 and ipv6/128. */
struct fg_ctl_peer_upsert {
	struct fg_ctl_hdr h;
	char client_id[FG_CTL_ID_LEN];
	uint8_t public_key[32];
	uint8_t psk[32];
	struct fg_ip ipv4;         /* family 0 = none */
	struct fg_ip ipv6;
	uint8_t pad2[2];
	uint32_t flags;            /* enum fg_ctl_peer_flags */
	uint32_t pad;
};

struct fg_ctl_peer_remove {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	uint32_t flags;            /* FG_CTL_PEER_GOODBYE */
	uint32_t pad;
};

enum fg_ctl_resource_type {
	FG_CTL_RES_CIDR = 1,
	FG_CTL_RES_INTERNET = 2,
	FG_CTL_RES_DNS = 3,        /* version 4: prefix unused (family 0); its filters and
				    * expiry apply to the proxy IPs NAT_SET gives it */
};

enum fg_ctl_filter_proto {
	FG_CTL_FILTER_TCP = 6,
	FG_CTL_FILTER_UDP = 17,
	FG_CTL_FILTER_ICMP = 1,    /* all ICMP and ICMPv6 types */
};

struct fg_ctl_filter {
	uint8_t proto;             /* enum fg_ctl_filter_proto */
	uint8_t pad;
	uint16_t port_lo;          /* TCP/UDP destination port range, inclusive */
	uint16_t port_hi;
	uint16_t pad2;
};

/* Adds or replaces one resource of a client (identified by its peer's public key). An empty
 * filter list permits everything. expires_at is unix seconds; 0 = never. The datagram is
 * sizeof(struct) + n_filters * sizeof(struct fg_ctl_filter). */
struct fg_ctl_resource_upsert {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	char resource_id[FG_CTL_ID_LEN];
	uint32_t type;             /* enum fg_ctl_resource_type */
	uint32_t n_filters;
	struct fg_prefix prefix;   /* CIDR resources */
	uint8_t pad[6];
	uint64_t expires_at;
	struct fg_ctl_filter filters[];   /* n_filters of them */
};

/* Removes a resource; the last one going removes the peer after a p2p Goodbye. */
struct fg_ctl_resource_remove {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	char resource_id[FG_CTL_ID_LEN];
};

/* The gateway's own tunnel addresses (portal init): replaces the TUN's addresses. */
struct fg_ctl_iface_set {
	struct fg_ctl_hdr h;
	struct fg_ip ipv4;         /* family 0 = leave unset */
	struct fg_ip ipv6;
	uint8_t pad[2];
};

struct fg_ctl_dump {
	struct fg_ctl_hdr h;
};

struct fg_ctl_peer_info {
	struct fg_ctl_hdr h;
	char client_id[FG_CTL_ID_LEN];
	uint8_t public_key[32];
	struct fg_ip ipv4;
	struct fg_ip ipv6;
	struct fg_endpoint endpoint;   /* the peer's path: direct, or the relay when channel != 0 */
	uint16_t channel;              /* 0 or the relay channel (see the top of this file) */
	uint32_t flags;
	uint32_t n_resources;
	uint64_t last_handshake_unix_ns;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
};

struct fg_ctl_resource_info {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	char resource_id[FG_CTL_ID_LEN];
	uint32_t type;
	uint32_t n_filters;
	struct fg_prefix prefix;
	uint8_t pad[6];
	uint64_t expires_at;
	struct fg_ctl_filter filters[];   /* n_filters of them */
};

struct fg_ctl_stats {
	struct fg_ctl_hdr h;
};

struct fg_ctl_lcore_stats {
	uint64_t nic_rx_packets, nic_rx_bytes, nic_tx_packets, nic_tx_bytes;
	uint64_t tun_rx_packets, tun_rx_bytes, tun_tx_packets, tun_tx_bytes;
	uint64_t decrypted, encrypted;
	/* version 5: load, for sizing. A poll is one pass of the lcore's loop; a busy poll found
	 * work (a packet or a message). busy_cycles are TSC cycles spent in busy polls, cycles
	 * all TSC cycles since the loop started (tsc_hz in the reply converts them). */
	uint64_t polls, busy_polls, busy_cycles, cycles;
	/* The same four over the last complete window (about one second) the service lcore
	 * sampled: the load now rather than since start. All 0 until a window has passed. */
	uint64_t win_polls, win_busy_polls, win_busy_cycles, win_cycles;
};

struct fg_ctl_stats_reply {
	struct fg_ctl_hdr h;
	char aead[16];
	uint32_t workers;
	uint32_t peers;
	uint32_t n_drops;          /* entries used in drops[] */
	uint32_t pad;
	uint64_t handshakes_initiated, handshakes_responded, handshakes_completed;
	uint64_t cookies_sent, keepalives_sent, roams;
	uint64_t drops[FG_CTL_MAX_DROP_REASONS];
	char drop_names[FG_CTL_MAX_DROP_REASONS][32];
	struct fg_ctl_lcore_stats service;
	struct fg_ctl_lcore_stats lcores[FG_CTL_MAX_WORKERS];
	/* version 4: the connection table, summed over the workers */
	uint64_t nat_translated_out;  /* client -> resource packets whose proxy IP was rewritten */
	uint64_t nat_translated_in;   /* resource -> client packets mapped back to a proxy IP */
	uint64_t nat_icmp_translated; /* ICMP errors from a real server rewritten to the proxy IP */
	uint64_t nat_created;         /* tuples created */
	uint64_t nat_expired;         /* tuples expired (timeout, FIN both ways, RST, reset) */
	uint64_t nat_misses;          /* resource -> client packets with no tuple (not NATed) */
	uint64_t nat_live;            /* tuples live now */
	uint64_t flows_started;
	uint64_t flows_completed;
	uint64_t flows_live;
	uint64_t flows_lost;          /* records dropped on a full queue to the control plane */
	uint64_t p2p_in;              /* AssignedIps handed to the control plane */
	uint64_t p2p_out;             /* DomainStatus (and other p2p) sent to clients */
	/* version 5 */
	uint64_t tsc_hz;              /* TSC cycles per second, for the lcores' cycles */
	/* version 6: the DPDK heap (rte_malloc_get_socket_stats, summed over the sockets) */
	uint64_t heap_total;          /* bytes the EAL's heaps hold (-m, or what grew) */
	uint64_t heap_allocated;      /* bytes allocated from them */
	uint64_t heap_free;           /* bytes free in them */
	uint64_t heap_largest_free;   /* the largest free block of any socket */
};

enum fg_ctl_event_kind {
	FG_CTL_EV_PEER_EXPIRED = 1,    /* the last resource expired: Goodbye sent, peer removed */
	FG_CTL_EV_RESOURCE_EXPIRED,    /* one resource expired, others remain */
	FG_CTL_EV_HANDSHAKE,           /* a session with the peer was (re)established */
	FG_CTL_EV_PEER_GOODBYE,        /* the client said Goodbye (p2p event 2): peer removed,
					* no Goodbye sent back; its authorizations still stand */
};

struct fg_ctl_event {
	struct fg_ctl_hdr h;
	uint32_t kind;                 /* enum fg_ctl_event_kind */
	uint32_t pad;
	uint8_t public_key[32];
	char resource_id[FG_CTL_ID_LEN];
};

/* STUN (or another punted datagram) that arrived on the WireGuard port: unsolicited, seq 0.
 * src is the UDP source; when it came inside ChannelData, src is the relay, channel its
 * channel number and peer the remote address the relay has bound that channel to (what
 * CHANNEL_BIND said); otherwise channel is 0 and peer family 0. The datagram is
 * sizeof(struct) + len bytes. */
struct fg_ctl_packet_in {
	struct fg_ctl_hdr h;
	struct fg_endpoint src;
	struct fg_endpoint peer;
	uint16_t channel;
	uint16_t len;              /* payload bytes, 1..FG_CTL_MAX_PACKET */
	uint8_t payload[];
};

/* Sends a UDP payload from the WireGuard port (address and listen port of the data plane)
 * to ep; with a channel, ep is a relay and the payload goes inside ChannelData on that
 * channel. The data plane resolves the next hop itself (a frame waits up to a second for
 * ARP/ND). REPLY: 0 once queued for the wire, -EINVAL (bad endpoint, channel or empty
 * payload), -EAFNOSUPPORT (no uplink address of ep's family), -ENOBUFS / -ENOMEM. The
 * datagram is sizeof(struct) + len bytes. */
struct fg_ctl_packet_out {
	struct fg_ctl_hdr h;
	struct fg_endpoint ep;
	uint16_t channel;          /* 0 = direct */
	uint16_t len;              /* payload bytes, 1..FG_CTL_MAX_PACKET */
	uint8_t payload[];
};

/* CHANNEL_BIND: ChannelData from relay on channel is accepted in the fast path and its
 * payload demultiplexed as arriving from peer (the address the relay sees); rebinding a
 * channel replaces its peer. CHANNEL_UNBIND: forgets it (peer not read); channel 0 forgets
 * every channel of the relay. REPLY: 0, -EINVAL, -ENOENT (unbind: not bound), -ENOSPC. */
struct fg_ctl_channel {
	struct fg_ctl_hdr h;
	struct fg_endpoint relay;
	struct fg_endpoint peer;
	uint16_t channel;
	uint16_t pad;
};

/* Sets a peer's path (ICE nomination): ep with channel 0 is a direct endpoint, with a
 * channel a relay; ep family 0 (channel 0) clears it. WireGuard roaming still applies: an
 * authenticated packet that arrives over another path (direct, or another channel) moves
 * the peer there, nothing else does. REPLY: 0, -ENOENT (no such peer), -EINVAL. */
struct fg_ctl_peer_path {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	struct fg_endpoint ep;
	uint16_t channel;
	uint16_t pad;
};

/* A p2p control packet's payload (the 8-byte header [event, 0 x 7], then the JSON body)
 * from the client of public_key: P2P_IN. The data plane hands over only event 0
 * (AssignedIps) from a client with a policy, at most 50 a second per client (bursts of
 * 100); a Goodbye it handles itself, anything else is a counted drop. P2P_OUT asks it to
 * send one to the client, wrapped in the IPv6 header of the p2p protocol (:: to ::, next
 * header 0xFF, hop limit 0) and encrypted like any packet; without a session it is dropped
 * (svc_no_session). REPLY: 0 once queued for sealing, -ENOENT (no such peer), -EINVAL (len
 * under the 8-byte header, 0 included; a len over FG_CTL_P2P_MAX fails fg_ctl_msg_size:
 * -EPROTO), -EMSGSIZE (over the tunnel MTU), -ENOBUFS. The datagram is sizeof(struct) +
 * len bytes. */
struct fg_ctl_p2p {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	uint16_t len;              /* payload bytes, 1..FG_CTL_P2P_MAX */
	uint16_t pad;
	uint8_t payload[];
};

/* One proxy IP of a DNS resource domain and the real IP it translates to (family 0: the
 * domain has no address of the proxy IP's family: ICMP net unreachable). */
struct fg_ctl_nat_entry {
	struct fg_ip proxy;
	struct fg_ip real;
	uint8_t pad[2];
};

enum fg_ctl_nat_flags {
	FG_CTL_NAT_RESET = 1 << 0,  /* first drop every translation and tuple of the client */
};

/* setup_nat: the client's proxy IPs of domain, for the DNS resource resource_id (which
 * must exist as a FG_CTL_RES_DNS resource of the client: its filters and expiry apply to
 * these proxy IPs). A proxy IP already translated gets this real IP and this resource
 * added to its set; rank orders the resources sharing a proxy IP (higher: a more specific
 * pattern), after "the filter permits" and before the resource id. n entries are used.
 * REPLY: 0, -ENOENT (no such peer or resource), -EINVAL, -ENOMEM. */
struct fg_ctl_nat_set {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	char resource_id[FG_CTL_ID_LEN];
	char domain[FG_CTL_DOMAIN_LEN];
	uint32_t flags;            /* enum fg_ctl_nat_flags */
	uint32_t rank;
	uint32_t n;                /* 0..FG_CTL_NAT_MAX_PROXY */
	uint32_t pad;
	struct fg_ctl_nat_entry e[FG_CTL_NAT_MAX_PROXY];
};

struct fg_ctl_nat_dump {
	struct fg_ctl_hdr h;
};

/* One live NAT tuple (NAT_DUMP answers with one per tuple, at most 65,536, then REPLY
 * with count; the REPLY's message says when the list was cut). Times are unix ns. */
struct fg_ctl_nat_info {
	struct fg_ctl_hdr h;
	uint8_t public_key[32];
	struct fg_ip proxy;        /* inside: (proto, inside_port, proxy) */
	struct fg_ip real;         /* outside: (proto, outside_port, real) */
	uint8_t proto;             /* 6, 17, 1 (ICMP echo) or 58 (ICMPv6 echo) */
	uint8_t flags;             /* 1 reply seen, 2 FIN out, 4 FIN in, 8 RST */
	uint16_t inside_port;      /* source port or echo id */
	uint16_t outside_port;
	uint16_t worker;
	uint8_t pad[6];
	uint64_t created_unix_ns;
	uint64_t last_out_unix_ns;
	uint64_t last_in_unix_ns;  /* 0 = no reply yet */
	uint64_t tx_packets, tx_bytes;   /* client -> resource */
	uint64_t rx_packets, rx_bytes;   /* resource -> client */
};

/* Whether the workers track every flow of a policy client for flow records (init's
 * flow_logs): NATed flows are always tracked, others only while this is on. REPLY: 0. */
struct fg_ctl_flows_set {
	struct fg_ctl_hdr h;
	uint32_t enabled;
	uint32_t pad;
};

enum fg_ctl_flow_kind {
	FG_CTL_FLOW_STARTED = 1,
	FG_CTL_FLOW_COMPLETED,
};

enum fg_ctl_flow_end {
	FG_CTL_FLOW_END_IDLE = 1,  /* no packet for 2 minutes (or the NAT tuple's timeout) */
	FG_CTL_FLOW_END_FIN,       /* TCP FIN both ways */
	FG_CTL_FLOW_END_RST_OUT,   /* TCP RST from the client */
	FG_CTL_FLOW_END_RST_IN,    /* TCP RST from the resource */
	FG_CTL_FLOW_END_RESET,     /* the client's NAT was reset or the peer removed */
};

/* A flow record (TCP, UDP or ICMP echo) of a client: inner addresses as the client sent
 * them (dst is the proxy IP for a DNS resource; real the address it was translated to,
 * family 0 if none), the outer paths the client's packets came over (ep, channel 0 =
 * direct), times in unix ns, counters from the client's point of view (tx: client ->
 * resource). STARTED carries zero counters and end 0. */
struct fg_ctl_flow {
	struct fg_ctl_hdr h;
	uint32_t kind;             /* enum fg_ctl_flow_kind */
	uint32_t end;              /* enum fg_ctl_flow_end (COMPLETED) */
	uint8_t public_key[32];
	char resource_id[FG_CTL_ID_LEN];
	uint8_t proto;             /* 6, 17, 1 or 58 */
	uint8_t n_outers;
	uint16_t src_port;         /* echo id for ICMP */
	uint16_t dst_port;         /* 0 for ICMP */
	uint16_t pad;
	struct fg_ip src;
	struct fg_ip dst;
	struct fg_ip real;
	uint8_t pad2[1];
	struct fg_endpoint outers[FG_CTL_FLOW_MAX_OUTERS];
	uint16_t channels[FG_CTL_FLOW_MAX_OUTERS];
	uint8_t pad3[4];
	uint64_t start_unix_ns;
	uint64_t last_packet_unix_ns;
	uint64_t end_unix_ns;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_packets, rx_bytes;
};

/* The layouts are fixed: every gap is an explicit pad field, so a mirror in another language
 * (tests/e2e/ctl_hostile.py) needs no compiler knowledge. */
_Static_assert(sizeof(struct fg_ctl_hello_reply) == 144, "hello_reply layout");
_Static_assert(sizeof(struct fg_ctl_peer_upsert) == 180, "peer_upsert layout");
_Static_assert(sizeof(struct fg_ctl_peer_info) == 192, "peer_info layout");
_Static_assert(sizeof(struct fg_ctl_iface_set) == 44, "iface_set layout");
_Static_assert(sizeof(struct fg_ctl_filter) == 8, "filter layout");
_Static_assert(sizeof(struct fg_ctl_resource_upsert) == 144, "resource_upsert layout (fixed part)");
_Static_assert(sizeof(struct fg_ctl_resource_info) == 144, "resource_info layout (fixed part)");
_Static_assert(sizeof(struct fg_ctl_reply) == 136, "reply layout");
_Static_assert(sizeof(struct fg_ctl_event) == 112, "event layout");
_Static_assert(sizeof(struct fg_ctl_stats_reply) == 5240, "stats_reply layout");
_Static_assert(sizeof(struct fg_ctl_packet_in) == 52, "packet_in layout (fixed part)");
_Static_assert(sizeof(struct fg_ctl_packet_out) == 32, "packet_out layout (fixed part)");
_Static_assert(sizeof(struct fg_ctl_channel) == 52, "channel layout");
_Static_assert(sizeof(struct fg_ctl_peer_path) == 64, "peer_path layout");
_Static_assert(sizeof(struct fg_ctl_p2p) == 44, "p2p layout (fixed part)");
_Static_assert(sizeof(struct fg_ctl_nat_entry) == 36, "nat_entry layout");
_Static_assert(sizeof(struct fg_ctl_nat_set) == 664, "nat_set layout");
_Static_assert(sizeof(struct fg_ctl_nat_info) == 144, "nat_info layout");
_Static_assert(sizeof(struct fg_ctl_flows_set) == 16, "flows_set layout");
_Static_assert(sizeof(struct fg_ctl_flow) == 320, "flow layout");

/* The exact size a message of a type must have, or 0 for an unknown type. */
static inline uint32_t fg_ctl_size(uint16_t type)
{
	switch (type) {
	case FG_CTL_HELLO: return sizeof(struct fg_ctl_hello);
	case FG_CTL_HELLO_REPLY: return sizeof(struct fg_ctl_hello_reply);
	case FG_CTL_REPLY: return sizeof(struct fg_ctl_reply);
	case FG_CTL_PEER_UPSERT: return sizeof(struct fg_ctl_peer_upsert);
	case FG_CTL_PEER_REMOVE: return sizeof(struct fg_ctl_peer_remove);
	case FG_CTL_RESOURCE_UPSERT: return sizeof(struct fg_ctl_resource_upsert);
	case FG_CTL_RESOURCE_REMOVE: return sizeof(struct fg_ctl_resource_remove);
	case FG_CTL_IFACE_SET: return sizeof(struct fg_ctl_iface_set);
	case FG_CTL_DUMP: return sizeof(struct fg_ctl_dump);
	case FG_CTL_PEER_INFO: return sizeof(struct fg_ctl_peer_info);
	case FG_CTL_RESOURCE_INFO: return sizeof(struct fg_ctl_resource_info);
	case FG_CTL_STATS: return sizeof(struct fg_ctl_stats);
	case FG_CTL_STATS_REPLY: return sizeof(struct fg_ctl_stats_reply);
	case FG_CTL_EVENT: return sizeof(struct fg_ctl_event);
	case FG_CTL_PACKET_IN: return sizeof(struct fg_ctl_packet_in);
	case FG_CTL_PACKET_OUT: return sizeof(struct fg_ctl_packet_out);
	case FG_CTL_CHANNEL_BIND: return sizeof(struct fg_ctl_channel);
	case FG_CTL_CHANNEL_UNBIND: return sizeof(struct fg_ctl_channel);
	case FG_CTL_PEER_PATH: return sizeof(struct fg_ctl_peer_path);
	case FG_CTL_P2P_IN: return sizeof(struct fg_ctl_p2p);
	case FG_CTL_P2P_OUT: return sizeof(struct fg_ctl_p2p);
	case FG_CTL_NAT_SET: return sizeof(struct fg_ctl_nat_set);
	case FG_CTL_NAT_DUMP: return sizeof(struct fg_ctl_nat_dump);
	case FG_CTL_NAT_INFO: return sizeof(struct fg_ctl_nat_info);
	case FG_CTL_FLOWS_SET: return sizeof(struct fg_ctl_flows_set);
	case FG_CTL_FLOW: return sizeof(struct fg_ctl_flow);
	default: return 0;
	}
}

enum {
	/* The largest datagram: a resource with FG_CTL_MAX_FILTERS filters (the stats reply,
	 * the largest fixed message, is smaller). */
	FG_CTL_MAX_MSG = 144 + FG_CTL_MAX_FILTERS * 8,
};
_Static_assert(sizeof(struct fg_ctl_stats_reply) < FG_CTL_MAX_MSG, "largest message");
_Static_assert(sizeof(struct fg_ctl_packet_in) + FG_CTL_MAX_PACKET < FG_CTL_MAX_MSG, "largest packet");

/* Whether a type ends with filters (n_filters at the same offset in both). */
static inline int fg_ctl_has_filters(uint16_t type)
{
	return type == FG_CTL_RESOURCE_UPSERT || type == FG_CTL_RESOURCE_INFO;
}
_Static_assert(__builtin_offsetof(struct fg_ctl_resource_upsert, n_filters) ==
	       __builtin_offsetof(struct fg_ctl_resource_info, n_filters), "n_filters offset");

/* The offset of a packet's 16-bit len field, or 0 for a type without a payload. */
static inline uint32_t fg_ctl_packet_len_off(uint16_t type)
{
	return type == FG_CTL_PACKET_IN ? (uint32_t)__builtin_offsetof(struct fg_ctl_packet_in, len) :
	       type == FG_CTL_PACKET_OUT ? (uint32_t)__builtin_offsetof(struct fg_ctl_packet_out, len) :
	       type == FG_CTL_P2P_IN || type == FG_CTL_P2P_OUT ? (uint32_t)__builtin_offsetof(struct fg_ctl_p2p, len) :
	       0;
}

/* Whether a type's size depends on its contents (filters or a payload). */
static inline int fg_ctl_is_variable(uint16_t type)
{
	return fg_ctl_has_filters(type) || fg_ctl_packet_len_off(type) != 0;
}

/* The exact size of the message at msg, of which len bytes are readable (the datagram's
 * length for a receiver; for a sender, at least the fixed part): the fixed size of its
 * type, plus n_filters filters for a resource or len payload bytes for a packet. 0 for an
 * unknown type, n_filters over FG_CTL_MAX_FILTERS or a payload over FG_CTL_MAX_PACKET. A
 * receiver accepts a datagram only when this equals its length. */
static inline uint32_t fg_ctl_msg_size(const void *msg, size_t len)
{
	struct fg_ctl_hdr h;
	uint32_t base, n, off;
	uint16_t plen;

	if (len < sizeof(h))
		return 0;
	__builtin_memcpy(&h, msg, sizeof(h));
	base = fg_ctl_size(h.type);
	if (base == 0 || !fg_ctl_is_variable(h.type) || len < base)
		return base;
	off = fg_ctl_packet_len_off(h.type);
	if (off) {
		__builtin_memcpy(&plen, (const uint8_t *)msg + off, sizeof(plen));
		if (h.type == FG_CTL_P2P_IN || h.type == FG_CTL_P2P_OUT)
			return plen > FG_CTL_P2P_MAX ? 0 : base + plen;
		return plen > FG_CTL_MAX_PACKET ? 0 : base + plen;
	}
	__builtin_memcpy(&n, (const uint8_t *)msg + __builtin_offsetof(struct fg_ctl_resource_upsert, n_filters),
			 sizeof(n));
	if (n > FG_CTL_MAX_FILTERS)
		return 0;
	return base + n * (uint32_t)sizeof(struct fg_ctl_filter);
}

#endif
