/* SPDX-License-Identifier: MIT */
/*
 * A scripted HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for the flow-log upload
 * tests: a thread accepts one connection at a time, reads one request (headers and a
 * Content-Length body), records it, and answers with the next entry of its script (a
 * status with optional headers and body, or a close without any answer); when the script
 * runs out it answers 200. fg_http_script_stop() closes the listener: later connections
 * are refused ("server gone"). The requests are read under a mutex by the test's thread.
 */
#ifndef FG_HTTP_SCRIPT_H
#define FG_HTTP_SCRIPT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	FG_HS_MAX_STEPS = 16,
	FG_HS_MAX_REQS = 32,
	FG_HS_REQ_MAX = 1 << 20,
};

struct fg_hs_step {
	int status;                  /* 0: close the connection without answering */
	const char *headers;         /* extra header lines, each ending in \r\n, or NULL */
	const char *body;            /* or NULL */
};

struct fg_hs_req {
	char method[16];
	char path[256];
	char authorization[9000];
	char content_type[128];
	char host[300];
	char *body;                  /* heap, NUL-terminated */
	size_t body_len;
};

struct fg_http_script {
	int fd;
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t mu;
	_Atomic bool stop;
	struct fg_hs_step steps[FG_HS_MAX_STEPS];
	unsigned nsteps, next_step;
	struct fg_hs_req reqs[FG_HS_MAX_REQS];
	unsigned nreqs;
};

/* Listens and starts the thread: 0 or -errno. */
int fg_http_script_start(struct fg_http_script *s, const struct fg_hs_step *steps, unsigned n);
/* Closes the listener and joins the thread (idempotent); the requests stay readable. */
void fg_http_script_stop(struct fg_http_script *s);
/* Requests answered so far (locked read). */
unsigned fg_http_script_count(struct fg_http_script *s);
void fg_http_script_free(struct fg_http_script *s);

#endif
