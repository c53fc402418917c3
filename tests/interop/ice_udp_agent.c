// SPDX-License-Identifier: MIT
/*
 * The ICE agent's interop driver: fastgate's agent (controlplane/ice, a pure state machine)
 * in the controlled role over one kernel UDP socket, against a real controlling agent
 * (werift-ice in tests/interop/ice_werift.sh). The credentials are the portal's example
 * ones (gateway ejqt / zfjrrjdkbci42t2axyd45a, client hgwh / j2fqufatn7xlrrvv6fsvea).
 *
 *   ice_udp_agent LOCAL_IP LOCAL_PORT SECONDS [REMOTE_CANDIDATE_LINE]
 *
 * It prints "candidate LINE" for every candidate it would signal (the script hands the
 * line to the peer), "state NAME (reason)", "learned IP:PORT", "nominated L -> R", and
 * "data N" for each datagram that is not STUN (the peer's application data once it
 * selected a pair), and exits 0 as soon as a pair is nominated and data came over it, 1 at
 * the deadline or when the agent fails. One thread owns everything.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ice.h"
#include "log.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

struct driver {
	int fd;
	struct fg_ice_agent *a;
	bool nominated;
	struct fg_endpoint peer;
	unsigned data;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void on_send(void *ctx, const struct fg_ice_path *path, const uint8_t *buf, size_t len)
{
	struct driver *d = ctx;
	struct sockaddr_storage ss;
	socklen_t sl = fg_endpoint_to_sockaddr(&path->remote, &ss);

	if (sendto(d->fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0)
		fprintf(stderr, "sendto: %s\n", strerror(errno));
}

static void on_event(void *ctx, const struct fg_ice_event *ev)
{
	struct driver *d = ctx;
	char l[FG_ENDPOINT_STRLEN], r[FG_ENDPOINT_STRLEN];

	switch (ev->type) {
	case FG_ICE_EV_CANDIDATE:
		printf("candidate %s\n", ev->line);
		break;
	case FG_ICE_EV_CANDIDATE_INVALIDATED:
		printf("invalidated %s\n", ev->line);
		break;
	case FG_ICE_EV_STATE:
		printf("state %s (%s)\n", fg_ice_state_name(ev->state), ev->reason);
		break;
	case FG_ICE_EV_REMOTE_LEARNED:
		printf("learned %s\n", fg_endpoint_format(&ev->path.remote, r, sizeof(r)));
		break;
	case FG_ICE_EV_NOMINATED:
		d->nominated = true;
		d->peer = ev->path.remote;
		printf("nominated %s -> %s %s\n", fg_endpoint_format(&ev->path.local, l, sizeof(l)),
		       fg_ice_cand_type_name((enum fg_ice_cand_type)ev->path.remote_type),
		       fg_endpoint_format(&ev->path.remote, r, sizeof(r)));
		break;
	}
	fflush(stdout);
}

static int open_socket(const struct fg_endpoint *local)
{
	struct sockaddr_storage ss;
	socklen_t sl = fg_endpoint_to_sockaddr(local, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		fprintf(stderr, "bind: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static void receive(struct driver *d, uint32_t local_id)
{
	uint8_t buf[2048];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct fg_endpoint from;
	ssize_t n = recvfrom(d->fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);

	if (n < 0 || fg_endpoint_from_sockaddr((struct sockaddr *)&ss, sl, &from))
		return;
	if (fg_ice_input(d->a, local_id, &from, buf, (size_t)n, now_ns()))
		return;
	printf("data %zd\n", n);
	fflush(stdout);
	if (d->nominated && fg_endpoint_equal(&from, &d->peer))
		d->data++;
	fg_ice_traffic(d->a, now_ns());
}

int main(int argc, char **argv)
{
	static const struct fg_ice_ops ops = { on_send, on_event, NULL };
	struct driver d = { .fd = -1 };
	struct fg_endpoint local;
	uint64_t deadline;
	char err[160];
	int id;

	if (argc < 4 || fg_ip_parse(argv[1], &local.ip)) {
		fprintf(stderr, "usage: %s LOCAL_IP LOCAL_PORT SECONDS [REMOTE_CANDIDATE]\n", argv[0]);
		return 2;
	}
	fg_log_init();
	local.port = (uint16_t)atoi(argv[2]);
	deadline = now_ns() + (uint64_t)atoi(argv[3]) * NS_PER_S;
	d.fd = open_socket(&local);
	d.a = fg_ice_agent_new("ejqt", "zfjrrjdkbci42t2axyd45a", "hgwh", "j2fqufatn7xlrrvv6fsvea", &ops,
			       &d, now_ns());
	if (!d.a)
		return 1;
	id = fg_ice_add_local_candidate(d.a, FG_ICE_HOST, &local, NULL, NULL, now_ns());
	if (id < 0)
		return 1;
	if (argc > 4 && argv[4][0] &&
	    fg_ice_add_remote_candidate(d.a, argv[4], now_ns(), err, sizeof(err))) {
		fprintf(stderr, "remote candidate: %s\n", err);
		return 1;
	}
	while (now_ns() < deadline && fg_ice_state(d.a) != FG_ICE_FAILED) {
		uint64_t t = fg_ice_next_timeout(d.a), now = now_ns();
		struct pollfd p = { .fd = d.fd, .events = POLLIN };
		int ms = t <= now ? 0 : (int)((t - now) / NS_PER_MS + 1);

		if (t == UINT64_MAX || ms > 100)
			ms = 100;
		if (poll(&p, 1, ms) > 0)
			receive(&d, (uint32_t)id);
		if (fg_ice_next_timeout(d.a) <= now_ns())
			fg_ice_tick(d.a, now_ns());
		if (d.nominated && d.data) {
			printf("ok\n");
			fg_ice_agent_free(d.a);
			return 0;
		}
	}
	printf("FAIL: %s\n", fg_ice_state(d.a) == FG_ICE_FAILED ? "the agent failed" : "deadline");
	fg_ice_agent_free(d.a);
	return 1;
}
