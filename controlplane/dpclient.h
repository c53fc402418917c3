/* SPDX-License-Identifier: MIT */
/*
 * The control plane's end of the data plane's control socket (common/ctlproto.h). Requests
 * are synchronous with a short timeout: the data plane answers from its service lcore within
 * a millisecond or two, and a local socket is as cheap to wait on as a syscall. Events that
 * arrive while a request waits are queued and handed out by fg_dpc_next_event(). Owned by
 * the control plane's single thread.
 */
#ifndef FG_DPCLIENT_H
#define FG_DPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"

enum {
	FG_DPC_TIMEOUT_MS = 3000,
	FG_DPC_EVENTS_MAX = 256,
};

struct fg_dpc {
	int fd;                       /* -1 when disconnected */
	char path[108];
	uint32_t seq;
	struct fg_ctl_hello_reply hello;
	struct fg_ctl_event events[FG_DPC_EVENTS_MAX];
	unsigned nevents;
	bool events_lost;             /* the queue overflowed: resynchronise (DUMP) */
	char last_error[160];
};

void fg_dpc_init(struct fg_dpc *c, const char *path);
/* Connects and exchanges HELLO; 0 or -errno (last_error says why). */
int fg_dpc_connect(struct fg_dpc *c);
void fg_dpc_close(struct fg_dpc *c);
bool fg_dpc_connected(const struct fg_dpc *c);

/* One request (a filled-in message whose header this sets) and its REPLY. Returns the
 * data plane's status (0 or -errno), or -errno of the transport (the connection is then
 * closed). reply may be NULL. */
int fg_dpc_request(struct fg_dpc *c, void *msg, uint16_t type, struct fg_ctl_reply *reply);

/* DUMP: calls the callbacks for every peer and resource. */
int fg_dpc_dump(struct fg_dpc *c, void (*on_peer)(void *ctx, const struct fg_ctl_peer_info *p),
		void (*on_resource)(void *ctx, const struct fg_ctl_resource_info *r), void *ctx);
int fg_dpc_stats(struct fg_dpc *c, struct fg_ctl_stats_reply *out);

/* Reads what is pending without blocking (call when the fd is readable): queues events.
 * Returns -ECONNRESET when the data plane went away. */
int fg_dpc_on_readable(struct fg_dpc *c);
/* Takes the oldest queued event; false if none. */
bool fg_dpc_next_event(struct fg_dpc *c, struct fg_ctl_event *out);

#endif
