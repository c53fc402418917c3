/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard UAPI socket of the data plane (/var/run/wireguard/<tun>.sock), so stock
 * `wg show` and `wg set` configure it. Owned and polled by the service lcore: non-blocking
 * sockets in an epoll set, which is also what the service lcore sleeps on when idle.
 *
 * Bounds: at most FG_UAPI_SERVER_MAX_CLIENTS connections; each holds at most one response
 * (FG_UAPI_RESPONSE_MAX bytes) and reads nothing more until it is sent; a connection that
 * makes no progress (reads nothing, drains nothing) for the idle timeout is closed, as is
 * one whose reply cannot be sent or that hangs up with output pending.
 */
#ifndef FG_UAPI_SERVER_H
#define FG_UAPI_SERVER_H

#include <stdint.h>

struct fg_svc;
struct fg_uapi_server;

enum {
	FG_UAPI_SERVER_MAX_CLIENTS = 16,
	FG_UAPI_SERVER_IDLE_TIMEOUT_S = 30,  /* wg(8) takes milliseconds per request */
};

struct fg_uapi_server_stats {
	uint64_t accepted;
	uint64_t refused;      /* all connection slots taken */
	uint64_t closed;
	uint64_t timeouts;     /* closed for making no progress */
	uint64_t send_errors;  /* closed because the reply could not be sent */
};

/* Creates the socket (mode 0660, stale sockets replaced, a live one refused). NULL + errno. */
struct fg_uapi_server *fg_uapi_server_open(struct fg_svc *s, const char *dir, const char *ifname);
/* Serves ready connections, waiting at most timeout_ms. Returns events handled. */
int fg_uapi_server_poll(struct fg_uapi_server *u, int timeout_ms);
/* Closes connections idle for longer than the idle timeout (called from the service's
 * ~10 Hz scan with its clock). */
void fg_uapi_server_tick(struct fg_uapi_server *u, uint64_t now_ns);
void fg_uapi_server_set_idle_timeout(struct fg_uapi_server *u, uint64_t ns);
/* Serves an already connected stream socket as if accepted (tests and fuzzers, over a
 * socketpair). 0, or -EMFILE when every slot is taken (fd closed). */
int fg_uapi_server_adopt(struct fg_uapi_server *u, int fd);
unsigned fg_uapi_server_nclients(const struct fg_uapi_server *u);
const struct fg_uapi_server_stats *fg_uapi_server_stats(const struct fg_uapi_server *u);
/* Closes every connection and unlinks the socket. */
void fg_uapi_server_close(struct fg_uapi_server *u);
const char *fg_uapi_server_path(const struct fg_uapi_server *u);
/* The epoll fd to sleep on (readable when something is ready). */
int fg_uapi_server_fd(const struct fg_uapi_server *u);

#endif
