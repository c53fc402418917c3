// SPDX-License-Identifier: MIT
/*
 * fastgate-tun-bench, many-flow UDP: what GRO leaves single. 64- and 512-byte inner IPv4
 * packets from 1024 source ports (no two packets of a burst share a flow) into a real UDP
 * socket on TUN_ADDR, through the virtio-net TUN with GRO run as the worker runs it, three
 * ways side by side: a writev(2) per item (the worker's syscall path), io_uring (an SQE per
 * item, one submission per burst of 32, completions harvested without a system call:
 * kni/tun_uring) and io_uring with SQPOLL (its kernel thread pinned to another CPU where
 * there is one). Each row reports the cycles the bench thread spent in the TUN I/O per
 * packet (the worker's cost), and the CPU time of every thread of the process per packet
 * from /proc/self/task/N/stat. Runs in the namespace main() entered (tun_bench.c).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "gro.h"
#include "tun_bench.h"
#include "tun_uring.h"
#include "vnet.h"

enum {
	UDP_FLOWS = 1024,              /* source ports; a burst of 32 never repeats one */
	UDP_SETS = UDP_FLOWS / UDP_BURST,
	UDP_PORT = 9000,
	UDP_SRC_BASE = 20000,
	UDP_RCVBUF = 32 << 20,
	UDP_CAP = 512,
	UDP_DRAIN_S = 3,
};

enum udp_io { UDP_IO_SYSCALL, UDP_IO_URING, UDP_IO_SQPOLL };

struct udp_row {
	const char *name;
	enum udp_io io;
	unsigned size;                 /* inner IPv4 packet bytes */
	/* results */
	bool ok;
	uint64_t pkts, items, recv, enters;
	double wall_s, io_cycles, stall_cycles;
	double cpu_bench, cpu_sqp, cpu_wrk;  /* seconds, per thread kind */
};

/* CPU seconds (user + system) of each thread of this process at one moment: the caller's
 * own thread, iou-sqp-* and iou-wrk-* threads. */
enum { THREADS_MAX = 64, KIND_BENCH = 0, KIND_SQP, KIND_WRK, KIND_OTHER };

struct thread_cpu {
	unsigned n;
	int tid[THREADS_MAX];
	int kind[THREADS_MAX];
	double cpu[THREADS_MAX];
};

static void sample_threads(struct thread_cpu *t)
{
	long hz = sysconf(_SC_CLK_TCK);
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	pid_t self = (pid_t)gettid();

	t->n = 0;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* pid (comm) state ... field 14 utime, 15 stime; comm may hold spaces. */
		char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
		if (!open_p || !close_p)
			continue;
		unsigned long ut = 0, st = 0;
		if (sscanf(close_p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
			continue;
		if (t->n == THREADS_MAX)
			break;
		int tid = atoi(e->d_name);
		t->tid[t->n] = tid;
		t->cpu[t->n] = (double)(ut + st) / (double)hz;
		t->kind[t->n++] = tid == self ? KIND_BENCH : !strncmp(open_p + 1, "iou-sqp", 7) ? KIND_SQP :
				  !strncmp(open_p + 1, "iou-wrk", 7) ? KIND_WRK : KIND_OTHER;
	}
	closedir(d);
}

/* CPU seconds each kind of thread used between two samples (threads born in between count
 * whole; a thread gone by the second sample, such as the previous row's, not at all). */
static double threads_used(const struct thread_cpu *a, const struct thread_cpu *b, int kind)
{
	double sum = 0;

	for (unsigned i = 0; i < b->n; i++) {
		if (b->kind[i] != kind)
			continue;
		double before = 0;
		for (unsigned j = 0; j < a->n; j++)
			if (a->tid[j] == b->tid[i])
				before = a->cpu[j];
		sum += b->cpu[i] - before;
	}
	return sum;
}

/* One IPv4/UDP datagram of len bytes from 100.64.0.2:sport to 100.64.0.1:UDP_PORT, with
 * its checksums (the kernel verifies the UDP one, as for the data plane's packets). */
static void build_udp(uint8_t *b, unsigned len, uint16_t sport, uint16_t id)
{
	uint8_t *u = b + IP_HDR;
	unsigned ulen = len - IP_HDR;

	memset(b, 0, len);
	b[0] = 0x45;
	fg_vnet_put16(b + 2, (uint16_t)len);
	fg_vnet_put16(b + 4, id);
	fg_vnet_put16(b + 6, 0x4000);
	b[8] = 64;
	b[9] = IPPROTO_UDP;
	inet_pton(AF_INET, PEER_ADDR, b + 12);
	inet_pton(AF_INET, TUN_ADDR, b + 16);
	fg_csum_ipv4(b, IP_HDR);
	fg_vnet_put16(u, sport);
	fg_vnet_put16(u + 2, UDP_PORT);
	fg_vnet_put16(u + 4, (uint16_t)ulen);
	for (unsigned i = 8; i < ulen; i++)
		u[i] = (uint8_t)(i * 13 + sport);
	uint16_t c = (uint16_t)~fg_csum_fold(fg_csum_add(fg_csum_pseudo(b, false, IPPROTO_UDP, ulen), u, ulen));
	fg_vnet_put16(u + 6, c ? c : 0xffff);
}

/* Reads every datagram queued on the sink; returns how many. */
static uint64_t drain_udp(int fd)
{
	static uint8_t buf[64][UDP_CAP];
	struct mmsghdr m[64];
	struct iovec v[64];
	uint64_t got = 0;

	for (unsigned i = 0; i < 64; i++) {
		v[i] = (struct iovec){ .iov_base = buf[i], .iov_len = UDP_CAP };
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &v[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int n = recvmmsg(fd, m, 64, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return got;
		got += (unsigned)n;
	}
}

/* One burst's GRO items and iovecs (a set of buffers is reused once its writes completed). */
struct udp_set {
	uint8_t pkt[UDP_BURST][UDP_CAP];
	uint16_t lens[UDP_BURST], next[UDP_BURST];
	struct fg_gro_item items[UDP_BURST];
	struct iovec iov[3 * UDP_BURST];
	unsigned cnt[UDP_BURST], nitems, pending;
};

static int udp_sink(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT) };
	int rcvbuf = UDP_RCVBUF;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, TUN_ADDR, &sa.sin_addr);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp sink");
		close(fd);
		return -1;
	}
	return fd;
}

/* Harvests ring completions into their sets; counts failed writes. */
static void udp_reap(struct fg_tun_uring *u, struct udp_set *sets, uint64_t *errors)
{
	struct fg_tun_uring_done d[64];
	unsigned n;

	while ((n = fg_tun_uring_reap(u, d, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct udp_set *s = &sets[d[i].tag >> 8];
			unsigned it = (unsigned)(d[i].tag & 0xff);
			if (d[i].res != (int32_t)(FG_VNET_HDR_LEN + s->items[it].len))
				(*errors)++;
			s->pending--;
		}
	}
}

static void run_udp_row(struct udp_row *row, uint64_t npkts, unsigned index, int sq_cpu)
{
	static struct udp_set sets[UDP_SETS];
	struct fg_tun_uring_stats st = { 0 };
	struct fg_tun_uring *u = NULL;
	struct thread_cpu c0, c1;
	struct fg_tun t;
	char name[IFNAMSIZ];
	uint64_t errors = 0, sent = 0;
	unsigned udp_gro = 0;

	row->ok = false;
	row->pkts = row->items = row->recv = row->enters = 0;
	row->io_cycles = row->stall_cycles = 0;
	snprintf(name, sizeof(name), "fgu%u", index);
	if (fg_tb_setup_tun(&t, name, true) != 0)
		return;
	/* GRO as the worker runs it, with UDP where the TUN took USO. */
	udp_gro = (t.offloads & FG_TUN_OFFLOAD_USO4) ? FG_GRO_UDP4 : 0;
	int sfd = udp_sink();
	if (sfd < 0)
		goto out_tun;
	for (unsigned k = 0; k < UDP_SETS; k++) {
		struct udp_set *s = &sets[k];

		for (unsigned i = 0; i < UDP_BURST; i++) {
			build_udp(s->pkt[i], row->size, (uint16_t)(UDP_SRC_BASE + k * UDP_BURST + i), (uint16_t)i);
			s->lens[i] = (uint16_t)row->size;
		}
		s->pending = 0;
	}
	if (row->io != UDP_IO_SYSCALL) {
		struct fg_tun_uring_opts o = {
			.entries = 256,
			.sqpoll = row->io == UDP_IO_SQPOLL,
			.sqpoll_cpu = row->io == UDP_IO_SQPOLL ? sq_cpu : -1,
			.sqpoll_idle_ms = 100,
			.stats = &st,
		};
		int rc = fg_tun_uring_create(&u, t.fds[0], &o);
		if (rc < 0) {
			fprintf(stderr, "%s: io_uring: %s\n", row->name, fg_tun_uring_strerror(rc));
			goto out_sock;
		}
	}
	sample_threads(&c0);
	double w0 = now_s();
	for (uint64_t b = 0; sent < npkts; b++) {
		struct udp_set *s = &sets[b % UDP_SETS];
		const uint8_t *cb[UDP_BURST];

		/* A set's buffers are reused only after its writes completed, and a burst is
		 * queued only with room for all of it: waiting for either (SQPOLL's thread
		 * lagging) is a stall, kept apart from the I/O cycles. */
		if (u && (s->pending || fg_tun_uring_space(u) < UDP_BURST)) {
			uint64_t k0 = cycles_now();
			while (s->pending || fg_tun_uring_space(u) < UDP_BURST) {
				(void)fg_tun_uring_submit(u);
				udp_reap(u, sets, &errors);
			}
			row->stall_cycles += (double)(cycles_now() - k0);
		}
		for (unsigned i = 0; i < UDP_BURST; i++)
			cb[i] = s->pkt[i];
		uint64_t k0 = cycles_now();
		/* The worker's TUN write path: GRO, then an item per write or per SQE. */
		unsigned m = fg_gro_coalesce_ex(cb, s->lens, UDP_BURST, s->items, s->next, udp_gro);
		unsigned off = 0;
		for (unsigned i = 0; i < m; i++) {
			s->cnt[i] = fg_gro_iov(&s->items[i], cb, s->lens, s->next, s->iov + off);
			off += s->cnt[i];
		}
		if (!u) {
			unsigned done = 0;
			const struct iovec *v = s->iov;
			while (done < m) {
				unsigned w = fg_tun_writev_burst(t.fds[0], v, s->cnt + done, m - done, &errors);
				for (unsigned i = 0; i < w; i++)
					v += s->cnt[done + i];
				done += w;
			}
		} else {
			off = 0;
			for (unsigned i = 0; i < m; i++) {
				if (fg_tun_uring_writev(u, s->iov + off, s->cnt[i], (b % UDP_SETS) << 8 | i))
					s->pending++;
				else
					errors++;   /* cannot happen: room was checked */
				off += s->cnt[i];
			}
			(void)fg_tun_uring_submit(u);
			udp_reap(u, sets, &errors);
		}
		row->io_cycles += (double)(cycles_now() - k0);
		row->items += m;
		sent += UDP_BURST;
		row->recv += drain_udp(sfd);
	}
	/* The last writes, and the datagrams still on their way. */
	double end = now_s() + UDP_DRAIN_S;
	while (u && fg_tun_uring_inflight(u) && now_s() < end) {
		(void)fg_tun_uring_submit(u);
		udp_reap(u, sets, &errors);
	}
	while (row->recv < sent && now_s() < end)
		row->recv += drain_udp(sfd);
	row->wall_s = now_s() - w0;
	sample_threads(&c1);
	row->cpu_bench = threads_used(&c0, &c1, KIND_BENCH);
	row->cpu_sqp = threads_used(&c0, &c1, KIND_SQP);
	row->cpu_wrk = threads_used(&c0, &c1, KIND_WRK);
	row->pkts = sent;
	row->enters = st.enters;
	row->ok = row->recv == sent && errors == 0;
	if (!row->ok)
		fprintf(stderr, "%s %u B: received %" PRIu64 " of %" PRIu64 ", write errors %" PRIu64 "\n", row->name,
			row->size, row->recv, sent, errors);
	fg_tun_uring_destroy(u);
out_sock:
	close(sfd);
out_tun:
	fg_tun_close(&t);
}

int fg_tb_bench_udp(uint64_t npkts, unsigned repeat, int sq_cpu)
{
	static const struct { const char *name; enum udp_io io; } kinds[] = {
		{ "writev per item", UDP_IO_SYSCALL },
		{ "io_uring", UDP_IO_URING },
		{ "io_uring+SQPOLL", UDP_IO_SQPOLL },
	};
	static const unsigned sizes[] = { 64, 512 };
	enum { NK = sizeof(kinds) / sizeof(kinds[0]), NS = sizeof(sizes) / sizeof(sizes[0]) };
	struct udp_row best[NS][NK];
	int fails = 0;
	unsigned index = 100;

	memset(best, 0, sizeof(best));
	printf("\nmany-flow UDP: %" PRIu64 " packets per row from %u flows (GRO leaves them single), "
	       "vnet TUN, real UDP socket in a private netns, bench thread pinned, SQPOLL thread on CPU %d, "
	       "best of %u\n", npkts, UDP_FLOWS, sq_cpu, repeat);
	for (unsigned r = 0; r < repeat; r++) {
		for (unsigned si = 0; si < NS; si++) {
			for (unsigned k = 0; k < NK; k++) {
				struct udp_row row = { .name = kinds[k].name, .io = kinds[k].io, .size = sizes[si] };

				run_udp_row(&row, npkts, index++, sq_cpu);
				if (!row.ok) {
					fails++;
					continue;
				}
				if (!best[si][k].ok || row.io_cycles < best[si][k].io_cycles)
					best[si][k] = row;
			}
		}
	}
	printf("%-18s %5s %9s %8s %11s %11s %11s %11s %11s %10s %7s\n", "path", "size", "Mpps wall", "items/p",
	       "io cyc/pkt", "stall c/p", "bench ns/p", "sqp ns/p", "wrk ns/p", "enters/p", "io x");
	for (unsigned si = 0; si < NS; si++) {
		for (unsigned k = 0; k < NK; k++) {
			const struct udp_row *b = &best[si][k];
			if (!b->ok) {
				printf("%-18s %5u FAILED\n", kinds[k].name, sizes[si]);
				continue;
			}
			double p = (double)b->pkts;
			double base = best[si][0].ok ? best[si][0].io_cycles : 0;
			printf("%-18s %5u %9.3f %8.3f %11.0f %11.0f %11.0f %11.0f %11.0f %10.4f %6.2fx\n", b->name, b->size,
			       p / b->wall_s / 1e6, (double)b->items / p, b->io_cycles / p, b->stall_cycles / p,
			       b->cpu_bench * 1e9 / p, b->cpu_sqp * 1e9 / p, b->cpu_wrk * 1e9 / p,
			       b->io == UDP_IO_SYSCALL ? (double)b->items / p : (double)b->enters / p,
			       base > 0 ? base / b->io_cycles : 0.0);
		}
	}
	printf("io cyc/pkt: TSC cycles the bench thread spent writing (GRO + writev, or GRO + SQEs + submit + "
	       "harvest) per packet; stall: waiting for a buffer set still in flight (SQPOLL); ns/p: CPU time "
	       "per packet of the bench thread (incl. the kernel's UDP input it ran and the socket drain), the "
	       "iou-sqp and iou-wrk threads (/proc/self/task, 10 ms ticks); enters/p: system calls per packet "
	       "into the TUN (writev, or io_uring_enter); io x: syscall io cycles / this row's\n");
	return fails ? 1 : 0;
}

