// SPDX-License-Identifier: MIT
/*
 * fastgate-tun-bench: the host TUN write path (decrypted traffic toward the host), packet
 * at a time against GRO-coalesced super-packets on a VNET_HDR TUN, measured in the same
 * run. A forked child enters a private network namespace (unshare(CLONE_NEWNET)), opens a
 * TUN (100.64.0.1/32, route 100.64.0.0/10) and a real listening TCP socket on
 * 100.64.0.1. The bench plays the peer 100.64.0.2: it completes the TCP handshake through
 * the TUN (writes the SYN, reads the kernel's SYN-ACK, answers the ACK), then streams
 * 1240-byte segments (1280-byte inner IPv4 packets) with correct sequence numbers, never
 * past the window the kernel advertises, while it drains the kernel's ACKs from the TUN
 * and reads the stream out of the accepted socket. Everything runs on one pinned thread,
 * so the figures are per core and include the kernel's IP/TCP input and the copy to the
 * receiving application. A row counts only if the socket delivered every byte and the
 * kernel acknowledged all of them.
 *
 * Then what GRO leaves single: many-flow UDP (64- and 512-byte inner IPv4 packets from 1024
 * source ports, so no two packets of a burst share a flow) into a real UDP socket on
 * 100.64.0.1, through the virtio-net TUN with GRO run as the worker runs it, three ways side
 * by side: a writev(2) per item (the worker's syscall path), io_uring (an SQE per item, one
 * submission per burst of 32, completions harvested without a system call: kni/tun_uring),
 * and io_uring with SQPOLL (its kernel thread pinned to another CPU where there is one).
 * Each row reports the cycles the bench thread spent in the TUN I/O per packet (the
 * worker's cost), and the CPU time of every thread of the process per packet from
 * /proc/self/task/N/stat: the bench thread (which also runs the kernel's UDP input of what
 * it wrote itself and drains the socket), the iou-sqp thread and any iou-wrk threads. A row
 * counts only if the socket received every datagram. Needs root; exits 77 (skip) otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include <dirent.h>

#include "gro.h"
#include "log.h"
#include "tun.h"
#include "tun_uring.h"
#include "vnet.h"

enum {
	MSS = 1240,
	IP_HDR = 20,
	TCP_HDR = 20,
	PKT_LEN = IP_HDR + TCP_HDR + MSS,  /* 1280: the inner MTU */
	BATCH_MAX = 64,
	READ_BATCH = 64,
	READ_CAP = 2048,
	RCVBUF = 8 << 20,
	RECV_CHUNK = 1 << 20,
	HANDSHAKE_MS = 2000,
	STALL_S = 5,                   /* a row with no progress for 5 s fails */
	SEND_WINDOW = 0xffff,
	PORT_BASE = 5201,
	PEER_PORT = 40000,
	SETUP_FAILED = 2,
	EXIT_SKIP = 77,
	TCP_F_SYN = 0x02,
	TCP_F_ACK = 0x10,
};

static const char TUN_ADDR[] = "100.64.0.1";
static const char PEER_ADDR[] = "100.64.0.2";

struct row {
	const char *name;
	bool vnet;
	unsigned batch;
	/* results */
	bool ok;
	uint64_t bytes, pkts, writes, items;
	double wall_s, cpu_s, cycles;
};

/* One direction's state: the peer's side of the connection. */
struct conn {
	int tunfd;
	bool vnet;
	uint8_t peer[4], local[4];
	uint16_t sport, dport;
	uint32_t snd_una, snd_nxt, rcv_nxt;  /* rcv_nxt: the kernel's ISN + 1, our ACK number */
	uint32_t wnd;                        /* the kernel's window, scaled, in bytes */
	unsigned wscale;
	uint16_t ip_id;
	uint32_t pay_sum;                    /* sum of the constant payload */
	uint64_t rx_errors, tx_errors;
};

static uint8_t payload[MSS];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_now_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static uint64_t cycles_now(void)
{
#ifdef HAVE_TSC
	return __rdtsc();
#else
	return (uint64_t)(now_s() * 1e9);
#endif
}

static struct fg_prefix prefix4(const char *addr, unsigned len)
{
	struct fg_prefix p;

	memset(&p, 0, sizeof(p));
	p.ip.family = AF_INET;
	if (inet_pton(AF_INET, addr, p.ip.addr) != 1)
		abort();
	p.len = (uint8_t)len;
	return p;
}

/*
 * Builds one IPv4/TCP packet from the peer at b: tcp_opt (optlen bytes, multiple of 4)
 * after the TCP header, plen bytes of the constant payload; returns the IP length.
 */
static uint32_t build(struct conn *c, uint8_t *b, uint32_t seq, uint8_t flags,
		      const uint8_t *tcp_opt, unsigned optlen, uint32_t plen)
{
	unsigned thl = TCP_HDR + optlen;
	uint32_t len = IP_HDR + thl + plen;
	uint8_t *t = b + IP_HDR;

	b[0] = 0x45;
	b[1] = 0;
	fg_vnet_put16(b + 2, (uint16_t)len);
	fg_vnet_put16(b + 4, c->ip_id++);
	fg_vnet_put16(b + 6, 0x4000);  /* DF */
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	memcpy(b + 12, c->peer, 4);
	memcpy(b + 16, c->local, 4);
	fg_csum_ipv4(b, IP_HDR);

	fg_vnet_put16(t, c->sport);
	fg_vnet_put16(t + 2, c->dport);
	fg_vnet_put32(t + 4, seq);
	fg_vnet_put32(t + 8, (flags & TCP_F_ACK) ? c->rcv_nxt : 0);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	fg_vnet_put16(t + 14, SEND_WINDOW);
	fg_vnet_put16(t + 16, 0);
	fg_vnet_put16(t + 18, 0);
	if (optlen)
		memcpy(t + TCP_HDR, tcp_opt, optlen);
	uint32_t sum = fg_csum_pseudo(b, false, IPPROTO_TCP, thl + plen) + fg_csum_add(0, t, thl);
	if (plen == MSS) {
		memcpy(t + thl, payload, MSS);
		sum += c->pay_sum;
	} else if (plen) {
		memcpy(t + thl, payload, plen);
		sum = fg_csum_add(sum, t + thl, plen);
	}
	fg_vnet_put16(t + 16, (uint16_t)~fg_csum_fold(sum));
	return len;
}

/* Writes one packet on the TUN, with an empty virtio-net header on a VNET_HDR queue. */
static int write_one(struct conn *c, uint8_t *pkt, uint32_t len)
{
	static const uint8_t zero_hdr[FG_VNET_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)zero_hdr, .iov_len = FG_VNET_HDR_LEN },
		{ .iov_base = pkt, .iov_len = len },
	};
	ssize_t w = c->vnet ? writev(c->tunfd, iov, 2) : write(c->tunfd, pkt, len);

	return w < 0 ? -errno : 0;
}

/* Parses a TCP packet from the kernel to the peer: returns flags, or -1 if it is not one. */
static int parse_from_kernel(const struct conn *c, const uint8_t *ip, uint32_t len,
			     uint32_t *seq, uint32_t *ack, uint32_t *win, const uint8_t **opt,
			     unsigned *optlen)
{
	if (len < IP_HDR + TCP_HDR || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP)
		return -1;
	unsigned ihl = (ip[0] & 0xf) * 4u;
	if (len < ihl + TCP_HDR || memcmp(ip + 12, c->local, 4) || memcmp(ip + 16, c->peer, 4))
		return -1;
	const uint8_t *t = ip + ihl;
	if (fg_vnet_get16(t) != c->dport || fg_vnet_get16(t + 2) != c->sport)
		return -1;
	unsigned thl = (t[12] >> 4) * 4u;
	if (thl < TCP_HDR || len < ihl + thl)
		return -1;
	*seq = fg_vnet_get32(t + 4);
	*ack = fg_vnet_get32(t + 8);
	*win = fg_vnet_get16(t + 14);
	*opt = t + TCP_HDR;
	*optlen = thl - TCP_HDR;
	return t[13];
}

/* Reads whatever the kernel queued on the TUN; tracks its ACK and window. */
static void drain_tun(struct conn *c)
{
	static uint8_t store[READ_BATCH][READ_CAP];  /* the kernel sends only ACKs here */
	uint8_t *bufs[READ_BATCH];
	uint16_t lens16[READ_BATCH];
	uint32_t lens[READ_BATCH];

	for (unsigned i = 0; i < READ_BATCH; i++)
		bufs[i] = store[i];
	for (;;) {
		unsigned n;
		unsigned hdr = c->vnet ? FG_VNET_HDR_LEN : 0;
		if (c->vnet) {
			n = fg_tun_read_vnet_burst(c->tunfd, bufs, lens, READ_BATCH, READ_CAP,
						   &c->rx_errors);
		} else {
			n = fg_tun_read_burst(c->tunfd, bufs, lens16, READ_BATCH, READ_CAP,
					      &c->rx_errors);
			for (unsigned i = 0; i < n; i++)
				lens[i] = lens16[i];
		}
		for (unsigned i = 0; i < n; i++) {
			uint32_t seq, ack, win;
			const uint8_t *opt;
			unsigned optlen;
			int fl = parse_from_kernel(c, bufs[i] + hdr, lens[i] - hdr, &seq, &ack, &win,
						   &opt, &optlen);
			if (fl < 0 || !(fl & TCP_F_ACK))
				continue;
			if ((int32_t)(ack - c->snd_una) >= 0) {
				c->snd_una = ack;
				c->wnd = win << c->wscale;
			}
		}
		if (n < READ_BATCH)
			return;
	}
}

/* Reads the stream out of the accepted socket; returns the bytes read. */
static uint64_t drain_sock(int fd)
{
	static uint8_t buf[RECV_CHUNK];
	uint64_t got = 0;

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r <= 0)
			return got;
		got += (uint64_t)r;
	}
}

/* SYN, SYN-ACK, ACK through the TUN; returns the accepted socket or -1. */
static int handshake(struct conn *c, int lfd)
{
	uint8_t pkt[128];
	/* MSS 1240, NOP, window scale 7 */
	const uint8_t syn_opt[8] = { 2, 4, MSS >> 8, MSS & 0xff, 1, 3, 3, 7 };
	uint32_t isn = 0x10000000u;
	double deadline = now_s() + HANDSHAKE_MS / 1000.0;

	uint32_t len = build(c, pkt, isn, TCP_F_SYN, syn_opt, sizeof(syn_opt), 0);
	if (write_one(c, pkt, len) < 0) {
		perror("write SYN");
		return -1;
	}
	c->snd_una = c->snd_nxt = isn + 1;
	bool got = false;
	uint8_t rd[READ_CAP + FG_VNET_HDR_LEN];
	while (!got && now_s() < deadline) {
		struct pollfd p = { .fd = c->tunfd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = read(c->tunfd, rd, sizeof(rd));
		unsigned hdr = c->vnet ? FG_VNET_HDR_LEN : 0;
		if (r <= (ssize_t)hdr)
			continue;
		uint32_t seq, ack, win;
		const uint8_t *opt;
		unsigned optlen;
		int fl = parse_from_kernel(c, rd + hdr, (uint32_t)r - hdr, &seq, &ack, &win, &opt,
					   &optlen);
		if (fl < 0 || (fl & (TCP_F_SYN | TCP_F_ACK)) != (TCP_F_SYN | TCP_F_ACK) ||
		    ack != isn + 1)
			continue;
		c->rcv_nxt = seq + 1;
		c->wnd = win;  /* never scaled in a SYN */
		c->wscale = 0;
		for (unsigned i = 0; i < optlen;) {
			if (opt[i] == 0)
				break;
			if (opt[i] == 1) {
				i++;
				continue;
			}
			if (i + 1 >= optlen || opt[i + 1] < 2)
				break;
			if (opt[i] == 3 && opt[i + 1] == 3 && i + 2 < optlen)
				c->wscale = opt[i + 2] > 14 ? 14 : opt[i + 2];
			i += opt[i + 1];
		}
		got = true;
	}
	if (!got) {
		fprintf(stderr, "no SYN-ACK from the kernel\n");
		return -1;
	}
	len = build(c, pkt, c->snd_nxt, TCP_F_ACK, NULL, 0, 0);
	if (write_one(c, pkt, len) < 0) {
		perror("write ACK");
		return -1;
	}
	while (now_s() < deadline) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			perror("accept");
			return -1;
		}
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		poll(&p, 1, 100);
	}
	fprintf(stderr, "accept: the connection never completed\n");
	return -1;
}

static int setup_tun(struct fg_tun *t, const char *name, bool vnet)
{
	struct fg_prefix a = prefix4(TUN_ADDR, 32), r = prefix4("100.64.0.0", 10);
	int rc = fg_tun_open_ex(t, name, 1, vnet ? FG_TUN_VNET_HDR : 0, NULL);

	if (rc == 0)
		rc = fg_tun_set_mtu(t, PKT_LEN);
	if (rc == 0)
		rc = fg_tun_add_address(t, &a);
	if (rc == 0)
		rc = fg_tun_set_up(t, true);
	if (rc == 0)
		rc = fg_tun_add_route(t, &r);
	if (rc != 0)
		fprintf(stderr, "TUN setup (%s): %s\n", vnet ? "vnet" : "plain", strerror(-rc));
	return rc;
}

static int listener(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, rcvbuf = RCVBUF;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, TUN_ADDR, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Before listen(), so the window scale in the SYN-ACK allows a large window. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		perror("listener");
		close(fd);
		return -1;
	}
	return fd;
}

/* One row: a fresh TUN, connection and listener; streams total bytes. */
static void run_row(struct row *row, uint64_t total, unsigned index)
{
	static uint8_t store[BATCH_MAX][PKT_LEN];
	uint8_t *bufs[BATCH_MAX];
	const uint8_t *cbufs[BATCH_MAX];
	uint16_t lens[BATCH_MAX], next[BATCH_MAX];
	struct fg_gro_item items[BATCH_MAX];
	struct iovec iov[BATCH_MAX * FG_GRO_IOV_MAX];
	unsigned iovcnt[BATCH_MAX];
	struct fg_tun t;
	char name[IFNAMSIZ];
	struct conn c;

	row->ok = false;
	row->bytes = row->pkts = row->writes = row->items = 0;
	for (unsigned i = 0; i < BATCH_MAX; i++) {
		bufs[i] = store[i];
		cbufs[i] = store[i];
	}
	snprintf(name, sizeof(name), "fgb%u", index);
	if (setup_tun(&t, name, row->vnet) != 0)
		return;
	uint16_t port = (uint16_t)(PORT_BASE + index);
	int lfd = listener(port);
	if (lfd < 0) {
		fg_tun_close(&t);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.tunfd = t.fds[0];
	c.vnet = row->vnet;
	inet_pton(AF_INET, PEER_ADDR, c.peer);
	inet_pton(AF_INET, TUN_ADDR, c.local);
	c.sport = (uint16_t)(PEER_PORT + index);
	c.dport = port;
	c.pay_sum = fg_csum_add(0, payload, MSS);
	int sfd = handshake(&c, lfd);
	if (sfd < 0)
		goto out;

	uint64_t sent = 0, received = 0;
	unsigned batch = row->batch;
	double t0 = now_s(), c0 = cpu_now_s(), last_progress = t0;
	uint64_t k0 = cycles_now();
	while (received < total || (int32_t)(c.snd_nxt - c.snd_una) > 0) {
		uint32_t inflight = c.snd_nxt - c.snd_una;
		uint32_t room = c.wnd > inflight ? c.wnd - inflight : 0;
		unsigned n = room / MSS;
		uint64_t left = (total - sent + MSS - 1) / MSS;
		if (n > batch)
			n = batch;
		if (n > left)
			n = (unsigned)left;
		if (n > 0) {
			for (unsigned i = 0; i < n; i++) {
				lens[i] = (uint16_t)build(&c, bufs[i], c.snd_nxt + i * MSS, TCP_F_ACK,
							  NULL, 0, MSS);
			}
			unsigned done = 0;
			if (!row->vnet) {
				while (done < n) {
					done += fg_tun_write_burst(c.tunfd, bufs + done, lens + done,
								   n - done, &c.tx_errors);
				}
				row->writes += n;
			} else {
				unsigned ni = fg_gro_coalesce(cbufs, lens, n, items, next);
				unsigned used = 0;
				for (unsigned i = 0; i < ni; i++) {
					iovcnt[i] = fg_gro_iov(&items[i], cbufs, lens, next, iov + used);
					used += iovcnt[i];
				}
				const struct iovec *v = iov;
				while (done < ni) {
					unsigned w = fg_tun_writev_burst(c.tunfd, v, iovcnt + done,
									 ni - done, &c.tx_errors);
					for (unsigned i = 0; i < w; i++)
						v += iovcnt[done + i];
					done += w;
				}
				row->writes += ni;
				row->items += ni;
			}
			c.snd_nxt += n * MSS;
			sent += (uint64_t)n * MSS;
			row->pkts += n;
		}
		drain_tun(&c);
		uint64_t got = drain_sock(sfd);
		received += got;
		double now = now_s();
		if (got || n)
			last_progress = now;
		else if (now - last_progress > STALL_S) {
			fprintf(stderr, "%s: stalled at %" PRIu64 "/%" PRIu64 " bytes (una %u nxt %u wnd %u)\n",
				row->name, received, total, c.snd_una, c.snd_nxt, c.wnd);
			break;
		}
	}
	if (getenv("FG_TUN_BENCH_DEBUG"))
		fprintf(stderr, "%s: window %u (scale %u)\n", row->name, c.wnd, c.wscale);
	row->cycles = (double)(cycles_now() - k0);
	row->wall_s = now_s() - t0;
	row->cpu_s = cpu_now_s() - c0;
	row->bytes = received;
	row->ok = received == sent && sent >= total && c.snd_una == c.snd_nxt && !c.tx_errors;
	if (!row->ok)
		fprintf(stderr, "%s: received %" PRIu64 " of %" PRIu64 ", unacked %u, tx errors %" PRIu64 "\n",
			row->name, received, sent, c.snd_nxt - c.snd_una, c.tx_errors);
	close(sfd);
out:
	close(lfd);
	fg_tun_close(&t);
}

/* Pins the caller to the first CPU it may use; returns the second one (-1: none), where
 * the SQPOLL rows put their kernel thread. */
static int pin_first_cpu(void)
{
	cpu_set_t set;
	int first = -1;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (first >= 0)
			return i;
		first = i;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(i, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	return -1;
}

/* ---- many-flow UDP: what GRO cannot coalesce ------------------------------------------ */

enum {
	UDP_FLOWS = 1024,              /* source ports; a burst of 32 never repeats one */
	UDP_BURST = 32,                /* the data plane's default [Dataplane] Burst */
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
	if (setup_tun(&t, name, true) != 0)
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

static int bench_udp(uint64_t npkts, unsigned repeat, int sq_cpu)
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

static int bench(uint64_t total, unsigned repeat)
{
	struct row rows[] = {
		{ .name = "(a) plain TUN, write() per packet", .vnet = false, .batch = 32 },
		{ .name = "(b) vnet TUN, GRO batch 32", .vnet = true, .batch = 32 },
		{ .name = "(b) vnet TUN, GRO batch 64", .vnet = true, .batch = 64 },
	};
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	double best_gbps[NROWS] = { 0 };
	struct row best[NROWS];
	int fails = 0;
	unsigned index = 0;

	for (unsigned i = 0; i < MSS; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	memcpy(best, rows, sizeof(best));
	printf("stream: %" PRIu64 " MiB of %u-byte TCP payload per row (%u-byte inner IPv4 packets),"
	       " real TCP receiver in a private netns, one pinned core, best of %u\n",
	       total >> 20, MSS, PKT_LEN, repeat);
	for (unsigned r = 0; r < repeat; r++) {
		for (unsigned i = 0; i < NROWS; i++) {
			run_row(&rows[i], total, index++);
			if (!rows[i].ok) {
				fails++;
				continue;
			}
			double g = rows[i].bytes * 8.0 / rows[i].cpu_s / 1e9;
			if (g > best_gbps[i]) {
				best_gbps[i] = g;
				best[i] = rows[i];
			}
		}
	}
	double tsc_hz = 0;
	printf("%-36s %9s %9s %11s %11s %10s %9s %7s\n", "path", "wall s", "cpu s", "Gbit/s wall",
	       "Gbit/s/core", "cyc/pkt", "writes", "ratio");
	for (unsigned i = 0; i < NROWS; i++) {
		const struct row *b = &best[i];
		if (best_gbps[i] == 0) {
			printf("%-36s FAILED\n", b->name);
			continue;
		}
		tsc_hz = b->cycles / b->wall_s;
		printf("%-36s %9.3f %9.3f %11.2f %11.2f %10.0f %9" PRIu64 " %6.2fx\n", b->name,
		       b->wall_s, b->cpu_s, b->bytes * 8.0 / b->wall_s / 1e9, best_gbps[i],
		       b->cycles / (double)b->pkts, b->writes,
		       best_gbps[0] > 0 ? best_gbps[i] / best_gbps[0] : 0.0);
	}
	printf("cyc/pkt: %s per 1280-byte packet over the wall time (%.2f GHz); Gbit/s/core: "
	       "payload bits over user+sys CPU time; ratio: (b)/(a) per core\n",
#ifdef HAVE_TSC
	       "TSC cycles",
#else
	       "nanoseconds",
#endif
	       tsc_hz / 1e9);
	return fails ? 1 : 0;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--smoke] [--mib N] [--udp-packets N] [--repeat N] [--tcp-only | --udp-only]\n",
		prog);
}

int main(int argc, char **argv)
{
	uint64_t mib = 512, udp_pkts = 2000000;
	unsigned repeat = 3;
	bool tcp = true, udp = true;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			mib = 16;
			udp_pkts = 20000;
			repeat = 1;
		} else if (!strcmp(argv[i], "--mib") && i + 1 < argc) {
			mib = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--udp-packets") && i + 1 < argc) {
			udp_pkts = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--tcp-only")) {
			udp = false;
		} else if (!strcmp(argv[i], "--udp-only")) {
			tcp = false;
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			usage(argv[0]);
			return 2;
		}
	}
	if (mib == 0 || repeat == 0 || udp_pkts < UDP_BURST || (!tcp && !udp)) {
		usage(argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		printf("SKIP: needs root (TUN devices and a network namespace)\n");
		return EXIT_SKIP;
	}
	fg_log_set_fd(STDERR_FILENO);
	fg_log_set_level(FG_LOG_WARN);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
			_exit(SETUP_FAILED);
		}
		int sq_cpu = pin_first_cpu();
		int rc = tcp ? bench(mib << 20, repeat) : 0;
		if (udp && bench_udp(udp_pkts, repeat, sq_cpu) != 0)
			rc = 1;
		fflush(NULL);
		_exit(rc);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st)) {
		fprintf(stderr, "bench child killed by signal %d\n", WTERMSIG(st));
		return 1;
	}
	return WEXITSTATUS(st);
}
