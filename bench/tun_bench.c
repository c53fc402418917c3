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
 * Then, in tun_bench_udp.c, what GRO leaves single: many-flow UDP through the virtio-net
 * TUN, a writev(2) per item against io_uring and io_uring with SQPOLL, side by side. Needs
 * root; exits 77 (skip) otherwise.
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


#include "gro.h"
#include "log.h"
#include "tun.h"
#include "vnet.h"
#include "tun_bench.h"

enum {
	MSS = 1240,
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

static double cpu_now_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
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

int fg_tb_setup_tun(struct fg_tun *t, const char *name, bool vnet)
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
	if (fg_tb_setup_tun(&t, name, row->vnet) != 0)
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
		if (udp && fg_tb_bench_udp(udp_pkts, repeat, sq_cpu) != 0)
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
