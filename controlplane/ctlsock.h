/* SPDX-License-Identifier: MIT */
/*
 * fastgatectl's socket on the control plane's loop: accepts connections on the listening
 * socket, feeds them to the JSON-lines codec (ctl/cpctl_server.h) and answers from the
 * provider the control plane implements. Control plane thread only.
 */
#ifndef FG_CTLSOCK_H
#define FG_CTLSOCK_H

#include "cpctl_server.h"

/* 0 or -errno (-EADDRINUSE when another control plane answers there). */
int fg_ctlsock_start(const char *path, const struct fg_cpctl_provider *p, void *ctx);
void fg_ctlsock_stop(void);

#endif
