/* SPDX-License-Identifier: MIT */
/*
 * The portal's host name resolved off the loop: libwebsockets as Debian builds it (without
 * LWS_WITH_SYS_ASYNC_DNS) would call getaddrinfo() on the loop, which can take as long as the
 * system's resolver likes. A lookup runs in a detached thread of its own that writes the
 * result into a pipe the loop watches; the thread owns copies of everything it touches, so
 * a resolver freed (or a lookup superseded) while it runs only makes its result stale. The
 * struct belongs to the control plane's thread.
 */
#ifndef FG_RESOLVER_H
#define FG_RESOLVER_H

#include <stdint.h>

enum {
	FG_RESOLVER_MAX_ADDRS = 8,
	FG_RESOLVER_ADDR_LEN = 46,      /* INET6_ADDRSTRLEN */
};

struct fg_resolved {
	int err;                        /* 0, or an EAI_* code (gai_strerror) */
	unsigned n;
	char addr[FG_RESOLVER_MAX_ADDRS][FG_RESOLVER_ADDR_LEN]; /* numeric, in getaddrinfo's order */
};

struct fg_resolver;
struct fg_loop;

/* NULL + errno. done runs on loop for the latest lookup only. */
struct fg_resolver *fg_resolver_new(struct fg_loop *loop, void (*done)(void *ctx, const struct fg_resolved *r),
				    void *ctx);
/* Starts a lookup of host (superseding one in progress): 0 or -errno. */
int fg_resolver_start(struct fg_resolver *r, const char *host);
void fg_resolver_free(struct fg_resolver *r);

#endif
