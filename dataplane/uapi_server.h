/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard UAPI socket of the data plane (/var/run/wireguard/<tun>.sock), so stock
 * `wg show` and `wg set` configure it. Owned and polled by the service lcore: non-blocking
 * sockets in an epoll set, which is also what the service lcore sleeps on when idle.
 */
#ifndef FG_UAPI_SERVER_H
#define FG_UAPI_SERVER_H

struct fg_svc;
struct fg_uapi_server;

/* Creates the socket (mode 0660, stale sockets replaced, a live one refused). NULL + errno. */
struct fg_uapi_server *fg_uapi_server_open(struct fg_svc *s, const char *dir, const char *ifname);
/* Serves ready connections, waiting at most timeout_ms. Returns events handled. */
int fg_uapi_server_poll(struct fg_uapi_server *u, int timeout_ms);
/* Closes every connection and unlinks the socket. */
void fg_uapi_server_close(struct fg_uapi_server *u);
const char *fg_uapi_server_path(const struct fg_uapi_server *u);
/* The epoll fd to sleep on (readable when something is ready). */
int fg_uapi_server_fd(const struct fg_uapi_server *u);

#endif
