// SPDX-License-Identifier: MIT
/*
 * The kernel's side of a host-path row, in the bench's network namespace: the sockets and
 * one thread, floating over the process's CPUs. Decrypt rows: a sink that reads what the
 * TUN delivered (TCP: accepts and recv(2)s 1 MiB at a time; UDP: 4 sockets on the TUN's
 * address drained with recvmmsg(2)). Encrypt rows: a sender (TCP: one connection per worker to
 * its peer's tunnel address, 256 KiB send(2)s; UDP: USO super-packets with UDP_SEGMENT through
 * sendmmsg(2), paced by what the workers have read from the TUN). Socket buffers are raised
 * past the sysctl limits (root).
 */
#include "hostrun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static void *sink_main(void *arg)
{
	struct hrun *r = arg;
	struct mmsghdr msgs[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	static __thread uint8_t buf[SINK_BATCH][2048];
	uint8_t *big = malloc(TCP_CHUNK);
	struct epoll_event ev[16];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)fg_bench_cpus_apply();
	if (ep < 0 || !big) {
		__atomic_store_n(&r->thread_err, ENOMEM, __ATOMIC_RELEASE);
		free(big);
		return NULL;
	}
	for (unsigned i = 0; i < SINK_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = sizeof(buf[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	for (unsigned i = 0; i < r->nfds; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = r->fds[i] };

		(void)epoll_ctl(ep, EPOLL_CTL_ADD, r->fds[i], &e);
	}
	if (r->lfd >= 0) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = r->lfd };

		(void)epoll_ctl(ep, EPOLL_CTL_ADD, r->lfd, &e);
	}
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(ep, ev, 16, 20);

		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == r->lfd) {
				int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (c >= 0) {
					struct epoll_event e = { .events = EPOLLIN, .data.fd = c };

					if (r->nfds < sizeof(r->fds) / sizeof(r->fds[0]))
						r->fds[r->nfds++] = c;
					(void)epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
				}
				continue;
			}
			if (r->kind == FG_BENCH_KIND_UDP) {
				int got;

				while ((got = recvmmsg(fd, msgs, SINK_BATCH, MSG_DONTWAIT, NULL)) > 0)
					__atomic_add_fetch(&r->sunk, (uint64_t)got, __ATOMIC_RELEASE);
			} else {
				ssize_t got;

				while ((got = recv(fd, big, TCP_CHUNK, MSG_DONTWAIT)) > 0)
					__atomic_add_fetch(&r->sunk, (uint64_t)got, __ATOMIC_RELEASE);
				if (got == 0)
					(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			}
		}
	}
	close(ep);
	free(big);
	return NULL;
}

/* Packets the workers have read from the TUN in this row (sealed, or dropped with a count):
 * the encrypt-udp sender's pace. The workers' counters are read whole (x86-64). */
uint64_t fg_bench_host_tun_read(struct hrun *r)
{
	uint64_t sum = 0;

	for (unsigned w = 0; w < r->workers; w++)
		sum += __atomic_load_n(&r->e->dp.workers[w].cnt.tun_rx_packets, __ATOMIC_RELAXED) - r->tun_rx0[w];
	return sum;
}

static struct sockaddr_in sin4(uint32_t ip, uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = { htonl(ip) } };
}

/* encrypt-tcp: one connection per worker to that worker's peer, written as fast as the
 * kernel takes it. */
static void *tcp_sender_main(void *arg)
{
	struct hrun *r = arg;
	uint8_t *chunk = calloc(1, TCP_CHUNK);
	struct epoll_event ev[MAX_FLOWS];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)fg_bench_cpus_apply();
	if (!chunk || ep < 0) {
		__atomic_store_n(&r->thread_err, ENOMEM, __ATOMIC_RELEASE);
		free(chunk);
		return NULL;
	}
	for (unsigned i = 0; i < r->nfds; i++) {
		struct epoll_event e = { .events = EPOLLOUT, .data.fd = r->fds[i] };
		struct sockaddr_in sa = sin4(fg_bench_inner_ip(r->ctx[i].flow.peer), r->tcp_port);

		(void)epoll_ctl(ep, EPOLL_CTL_ADD, r->fds[i], &e);
		if (connect(r->fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
			__atomic_store_n(&r->thread_err, errno, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(ep, ev, MAX_FLOWS, 20);

		for (int i = 0; i < n; i++) {
			ssize_t w;

			if (ev[i].events & (EPOLLERR | EPOLLHUP)) {
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, ev[i].data.fd, NULL);
				continue;
			}
			while ((w = send(ev[i].data.fd, chunk, TCP_CHUNK, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
				__atomic_add_fetch(&r->sent, (uint64_t)w, __ATOMIC_RELEASE);
		}
	}
	close(ep);
	free(chunk);
	return NULL;
}

/* encrypt-udp: USO super-packets of one inner size each (IMIX: the sizes in turn), to every
 * peer's tunnel address and the sinks' ports in turn, paced by the feeders' progress. */
static void *udp_sender_main(void *arg)
{
	struct hrun *r = arg;
	struct mmsghdr msgs[USO_MSGS];
	struct iovec iov[USO_MSGS];
	struct sockaddr_in to[USO_MSGS];
	struct {
		_Alignas(size_t) char buf[CMSG_SPACE(sizeof(uint16_t))];
	} ctl[USO_MSGS];
	uint8_t *data = calloc(1, USO_BYTES);
	uint64_t limit = (uint64_t)WINDOW * r->workers, k = 0;
	int fd = r->fds[0];

	(void)fg_bench_cpus_apply();
	if (!data) {
		__atomic_store_n(&r->thread_err, ENOMEM, __ATOMIC_RELEASE);
		return NULL;
	}
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		uint64_t segs = 0, seg_count[USO_MSGS];
		int sent;

		if (__atomic_load_n(&r->sent, __ATOMIC_ACQUIRE) > fg_bench_host_tun_read(r) + limit) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
			continue;
		}
		for (unsigned i = 0; i < USO_MSGS; i++, k++) {
			unsigned size = r->size == FG_BENCH_IMIX ? fg_bench_imix_size((uint32_t)k) : r->size;
			uint16_t gso = (uint16_t)(size - 28);
			unsigned nseg = USO_BYTES / gso < USO_SEGS ? USO_BYTES / gso : USO_SEGS;
			struct cmsghdr *cm;
			uint32_t p = (uint32_t)(k % r->npeers);

			to[i] = sin4(fg_bench_inner_ip(p), (uint16_t)(FG_BENCH_SINK_PORT + k / r->npeers % FG_BENCH_SINK_PORTS));
			iov[i] = (struct iovec){ .iov_base = data, .iov_len = (size_t)gso * nseg };
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr = (struct msghdr){ .msg_name = &to[i], .msg_namelen = sizeof(to[i]),
							   .msg_iov = &iov[i], .msg_iovlen = 1,
							   .msg_control = ctl[i].buf, .msg_controllen = sizeof(ctl[i].buf) };
			cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			memcpy(CMSG_DATA(cm), &gso, sizeof(gso));
			seg_count[i] = nseg;
		}
		sent = sendmmsg(fd, msgs, USO_MSGS, 0);
		if (sent < 0) {
			if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
				continue;
			__atomic_store_n(&r->thread_err, errno, __ATOMIC_RELEASE);
			break;
		}
		for (int i = 0; i < sent; i++)
			segs += seg_count[i];
		__atomic_add_fetch(&r->sent, segs, __ATOMIC_RELEASE);
	}
	free(data);
	return NULL;
}

static int udp_socket(uint32_t ip, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), buf = SOCK_BUF;
	struct sockaddr_in sa = sin4(ip, port);

	if (fd < 0)
		return -errno;
	/* Root: past net.core.rmem_max / wmem_max. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	if (port && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* The row's sockets and its thread. */
int fg_bench_host_start(struct hrun *r)
{
	void *(*fn)(void *) = sink_main;
	int one = 1, buf = SOCK_BUF;
	int ret;

	r->lfd = -1;
	if (r->kind == FG_BENCH_KIND_UDP && r->dir == FG_BENCH_DECRYPT) {
		for (unsigned i = 0; i < FG_BENCH_SINK_PORTS; i++) {
			ret = udp_socket(fg_bench_tun_ip(), (uint16_t)(FG_BENCH_SINK_PORT + i));
			if (ret < 0)
				return ret;
			r->fds[r->nfds++] = ret;
		}
	} else if (r->kind == FG_BENCH_KIND_UDP) {
		ret = udp_socket(fg_bench_tun_ip(), 0);
		if (ret < 0)
			return ret;
		r->fds[r->nfds++] = ret;
		fn = udp_sender_main;
	} else if (r->dir == FG_BENCH_DECRYPT) {
		struct sockaddr_in sa = sin4(fg_bench_tun_ip(), r->tcp_port);

		r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (r->lfd < 0)
			return -errno;
		(void)setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Before listen(): the SYN-ACK's window scale allows a large window. */
		(void)setsockopt(r->lfd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
		if (bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(r->lfd, 16) < 0)
			return -errno;
	} else {
		for (unsigned i = 0; i < r->workers; i++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			if (fd < 0)
				return -errno;
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
			r->fds[r->nfds++] = fd;
		}
		fn = tcp_sender_main;
	}
	ret = pthread_create(&r->thr, NULL, fn, r);
	if (ret != 0)
		return -ret;
	r->thr_started = true;
	return 0;
}

void fg_bench_host_stop(struct hrun *r)
{
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	if (r->thr_started)
		pthread_join(r->thr, NULL);
	r->thr_started = false;
}

void fg_bench_host_close(struct hrun *r)
{
	for (unsigned i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
	if (r->lfd >= 0)
		close(r->lfd);
	r->lfd = -1;
}

