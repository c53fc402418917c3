/* SPDX-License-Identifier: MIT */
/*
 * The data plane's control socket (common/ctlproto.h): the control plane provisions
 * clients, resources and the TUN addresses through it, reads state and counters, and
 * receives events. A Unix SOCK_SEQPACKET socket owned and polled by the service lcore.
 */
#ifndef FG_CTL_SERVER_H
#define FG_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fg_svc;
struct fg_svc_packet;
struct fg_ctl_server;

/* Creates the socket (mode 0660, group gid unless (gid_t)-1; a stale socket replaced, a live
 * one or a non-socket refused: common/unixsock.h). NULL + errno. */
struct fg_ctl_server *fg_ctl_server_open(struct fg_svc *s, const char *path, gid_t gid);
/* Serves what is ready without blocking. Returns events handled. */
int fg_ctl_server_poll(struct fg_ctl_server *c);
/* The epoll fd to sleep on (readable when something is ready). */
int fg_ctl_server_fd(const struct fg_ctl_server *c);
/* Sends an event to every connected client. */
void fg_ctl_server_event(struct fg_ctl_server *c, uint32_t kind, const uint8_t pub[32], const char *resource_id);
/* Sends a punted datagram as PACKET_IN to every connected client whose output queue is
 * short (256 KiB). Returns the clients it was queued for, 0 when none is connected,
 * -ENOBUFS when every one was backed up. */
int fg_ctl_server_packet(struct fg_ctl_server *c, const struct fg_svc_packet *pkt);
/* Sends an AssignedIps of the client of pub (payload: the p2p header and JSON, len bytes,
 * 1..FG_CTL_P2P_MAX) as P2P_IN, with the same bound and return value. */
int fg_ctl_server_p2p(struct fg_ctl_server *c, const uint8_t pub[32], const uint8_t *payload, uint16_t len);
void fg_ctl_server_close(struct fg_ctl_server *c);
/* Bytes queued for all clients, and how many clients were closed for not reading (tests,
 * stats). Each client's queue stays under 1 MiB plus one request's replies, and 64 MiB. */
size_t fg_ctl_server_queued_bytes(const struct fg_ctl_server *c);
uint64_t fg_ctl_server_overflows(const struct fg_ctl_server *c);
const char *fg_ctl_server_path(const struct fg_ctl_server *c);

#endif
