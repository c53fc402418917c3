/* SPDX-License-Identifier: MIT */
/*
 * Named per-reason drop counters and per-lcore packet counters. One X-macro generates both
 * the enum and the names printed by stats, so a reason cannot be counted without a name.
 * Each lcore owns its own struct fg_lcore_counters (cache aligned, written only by that
 * lcore, read by the service lcore for stats): no atomics on the fast path.
 */
#ifndef FG_COUNTERS_H
#define FG_COUNTERS_H

#include <stdint.h>

#define FG_DROP_REASONS(X)                                                         \
	X(ETH_SHORT, "eth_short")                   /* frame shorter than its headers */ \
	X(ETHERTYPE, "ethertype_unsupported")                                        \
	X(NOT_FOR_US, "not_for_us")                 /* L2/L3 destination not ours */     \
	X(IP_MALFORMED, "ip_malformed")             /* version, header or total length */\
	X(IP_CHECKSUM, "ip_checksum")                                                \
	X(IP_FRAGMENT, "ip_fragment")                                                \
	X(IP_PROTO, "ip_proto_unsupported")                                          \
	X(UDP_MALFORMED, "udp_malformed")                                            \
	X(UDP_CHECKSUM, "udp_checksum")                                              \
	X(UDP_PORT, "udp_port_closed")                                               \
	X(ICMP_UNHANDLED, "icmp_unhandled")                                          \
	X(WG_TYPE, "wg_bad_type")                   /* not WireGuard, STUN or ChannelData */ \
	X(WG_LENGTH, "wg_bad_length")                                                \
	X(STUN, "stun_no_agent")                    /* punted STUN, no control plane connected */ \
	X(STUN_QUEUE_FULL, "stun_queue_full")       /* the STUN ring to the service lcore */ \
	X(STUN_RATELIMIT, "stun_ratelimited")       /* one source past its punt budget */ \
	X(STUN_BACKLOG, "stun_ctl_backlog")         /* the control plane is not reading */ \
	X(CHANNEL_MALFORMED, "channeldata_malformed") /* from a relay: short, bad length */ \
	X(CHANNEL_UNKNOWN, "channeldata_unknown_channel") /* (relay, channel) not bound */ \
	X(WG_UNKNOWN_INDEX, "wg_unknown_receiver_index")                             \
	X(WG_KEYPAIR_EXPIRED, "wg_keypair_expired")                                  \
	X(WG_REPLAY, "wg_replayed_counter")                                          \
	X(WG_DECRYPT, "wg_decrypt_failed")                                           \
	X(INNER_MALFORMED, "inner_malformed")                                        \
	X(INNER_SOURCE, "inner_source_not_allowed") /* cryptokey routing */          \
	X(HANDSHAKE_QUEUE_FULL, "handshake_queue_full")                              \
	X(HANDSHAKE_MAC1, "handshake_bad_mac1")                                      \
	X(HANDSHAKE_RATELIMIT, "handshake_ratelimited")                              \
	X(HANDSHAKE_INVALID, "handshake_invalid")   /* failed to authenticate, unknown peer, stale */ \
	X(COOKIE_INVALID, "cookie_reply_invalid")                                    \
	X(HANDOFF_FULL, "handoff_queue_full")       /* to the keypair's owner lcore */   \
	X(PUNT_FULL, "punt_queue_full")             /* ARP/ND to the service lcore */    \
	X(TUN_TOO_BIG, "tun_packet_too_big")                                         \
	X(TUN_MALFORMED, "tun_packet_malformed")                                     \
	X(TUN_NO_PEER, "tun_no_peer_for_destination")                                \
	X(TUN_NO_SESSION, "tun_no_session")                                          \
	X(SVC_NO_SESSION, "svc_no_session")         /* keepalive/Goodbye: no session, peer gone */ \
	X(TUN_WRITE, "tun_write_failed")                                             \
	X(TUN_RING_FULL, "tun_ring_full")           /* io_uring: no room in the worker's ring */ \
	X(PEER_NO_ENDPOINT, "peer_no_endpoint")                                      \
	X(NEIGH_UNRESOLVED, "neighbour_unresolved")                                  \
	X(NEIGH_RATELIMIT, "neighbour_ratelimited") /* ARP/ND from one source */     \
	X(POLICY_MULTICAST, "policy_multicast")     /* client sent to a multicast address */ \
	X(POLICY_ICMP_ERROR, "policy_icmp_error_from_client")                        \
	X(POLICY_SOURCE, "policy_source_not_client") /* source is not the client's tunnel IP */ \
	X(POLICY_HAIRPIN, "policy_client_to_client")                                 \
	X(POLICY_PROHIBITED, "policy_prohibited")   /* answered with ICMP prohibited */  \
	X(POLICY_NET_UNREACHABLE, "policy_net_unreachable") /* ICMP net unreachable */   \
	X(POLICY_INBOUND, "policy_inbound_not_authorized") /* resource -> client */      \
	X(P2P_MALFORMED, "p2p_malformed")           /* truncated, bad payload length */  \
	X(P2P_OVERSIZED, "p2p_oversized")           /* over 1280 bytes */                \
	X(P2P_UNAUTHORIZED, "p2p_unauthorized")     /* from a peer without a policy */   \
	X(P2P_EVENT, "p2p_unexpected_event")        /* DomainStatus or unknown, from a client */ \
	X(P2P_QUEUE_FULL, "p2p_queue_full")         /* the ring (or event ring) to the service */ \
	X(P2P_RATELIMIT, "p2p_ratelimited")         /* one client past its AssignedIps budget */ \
	X(P2P_BACKLOG, "p2p_ctl_backlog")           /* control plane not reading or absent */ \
	X(NAT_PROTO, "nat_unsupported_protocol") /* to a proxy IP: not TCP, UDP, echo */ \
	X(NAT_EXHAUSTED, "nat_exhausted")         /* no outside port free for the real IP */ \
	X(NAT_TABLE_FULL, "nat_table_full")       /* the worker's connection table */     \
	X(NAT_EXPIRED, "nat_expired_session")     /* matches an expired outside tuple */  \
	X(MBUF_ALLOC, "mbuf_alloc_failed")                                           \
	X(NIC_TX_FULL, "nic_tx_full")                                                \
	X(PORT_DOWN, "port_link_down")              /* to send while the uplink is down */

enum fg_drop {
	FG_DROP_NONE = 0,
#define FG_DROP_ENUM(name, str) FG_DROP_##name,
	FG_DROP_REASONS(FG_DROP_ENUM)
#undef FG_DROP_ENUM
	FG_DROP_MAX,
};

extern const char *const fg_drop_names[FG_DROP_MAX];

/*
 * The stages of a packet through a worker, timed per burst when the data plane's
 * FG_FP_PROFILE bit is set (dp.h; the bench sets it, the daemon never does). Decrypt (NIC to
 * host): PARSE is the outer headers and UDP demux of the received burst; LOOKUP the
 * receiver-index lookup, owner claim, expiry and replay check; AEAD the open burst; POLICY
 * everything between the AEAD and the host (tag and replay update, inner parse, cryptokey
 * routing, the client's policy, the connection table); IO the write to the TUN. Encrypt
 * (host to NIC): IO is the TUN read and GSO split, PARSE the inner parse, LOOKUP the
 * cryptokey route and keypair, POLICY the inbound policy, AEAD the seal burst and the outer
 * headers (the NIC transmit is timed with the poll, not with a stage).
 */
enum fg_stage {
	FG_STAGE_PARSE,
	FG_STAGE_LOOKUP,
	FG_STAGE_AEAD,
	FG_STAGE_POLICY,
	FG_STAGE_IO,
	FG_STAGE_MAX,
};

extern const char *const fg_stage_names[FG_STAGE_MAX];

/* One direction's stage times: TSC cycles per stage and the packets the bursts held. */
struct fg_stage_prof {
	uint64_t cycles[FG_STAGE_MAX];
	uint64_t packets;
	uint64_t bursts;
};

#endif
