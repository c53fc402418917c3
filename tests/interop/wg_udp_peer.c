// SPDX-License-Identifier: MIT
/*
 * A minimal WireGuard peer for the interop test: fastgate's handshake, cookie and
 * transport core (dataplane/wg) over an ordinary kernel UDP socket, with no TUN device.
 * It answers ICMP echo requests (IPv4 inside the tunnel) with encrypted echo replies,
 * and in initiator mode it first completes a handshake and then pings the peer itself,
 * counting the replies. With --under-load the responder demands mac2 and sends cookie
 * replies; with --flood the initiator loads its peer so that it sends us one. run.sh
 * points a real wireguard-go at it both ways. One thread owns everything; it exits 0
 * once --count echoes have been answered (responder) or received (initiator), and 1 at
 * --timeout. Secrets are read from files (never argv) and never printed.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cookie.h"
#include "messages.h"
#include "noise.h"
#include "transport.h"

enum {
	BUF_LEN = 2048,
	TUNNEL_MTU = 1420,
	IPV4_HDR_LEN = 20,
	ICMP_HDR_LEN = 8,
	ICMP_PAYLOAD_LEN = 56,
	ICMP_ECHO_REPLY = 0,
	ICMP_ECHO_REQUEST = 8,
	INNER_PROTO_ICMP = 1,
	ECHO_ID = 0x4647,          /* "FG" */
	RETRY_MS = 1000,           /* handshake and echo retransmission */
	DEFAULT_TIMEOUT_S = 30,
	DEFAULT_COUNT = 3,
	MAX_FLOOD = 20000,
	DECOY_GAP_MS = 20,         /* decoys first, then our initiation */
	POLL_MS = 100,
	RCVBUF_BYTES = 8 << 20,    /* room for thousands of cookie replies to decoys */
};

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

enum mode {
	MODE_RESPONDER,
	MODE_INITIATOR,
};

struct session {
	struct fg_noise_keypair_keys keys;
	uint64_t send_counter;
	uint64_t recv_next;  /* simple replay check: counters must increase */
	bool valid;
};

struct peer_state {
	enum mode mode;
	int fd;
	struct fg_noise_local local;
	struct fg_noise_peer peer;
	struct fg_wg_cookie_checker checker;   /* validates mac1 of what we receive */
	struct fg_wg_cookie cookie;            /* adds macs to what we send */
	struct fg_noise_handshake hs;          /* our initiation in flight */
	struct session cur, prev;
	struct sockaddr_in endpoint;
	struct in_addr addr, peer_addr;        /* tunnel addresses */
	bool under_load;                       /* demand mac2, send cookie replies */
	unsigned int flood;                    /* decoys before each initiation */
	unsigned int count;                    /* echoes to answer / to receive */
	unsigned int answered, replies;
	unsigned int other_cookies;            /* cookie replies not for our last message */
	uint16_t next_seq;
	uint64_t last_initiation_ns, last_echo_ns;
	bool initiation_pending;               /* decoys sent, initiation due */
	uint64_t initiation_due_ns;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int parse_key_b64(uint8_t key[FG_WG_KEY_LEN], const char *s)
{
	size_t len = 0;

	if (sodium_base642bin(key, FG_WG_KEY_LEN, s, strlen(s), " \n\r\t", &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || len != FG_WG_KEY_LEN)
		return -EINVAL;
	return 0;
}

/* Reads a base64 key from a file as `wg genkey` / `wg genpsk` write it. */
static int read_key_file(uint8_t key[FG_WG_KEY_LEN], const char *path)
{
	char line[128];
	FILE *f = fopen(path, "r");
	int ret = -EINVAL;

	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f))
		ret = parse_key_b64(key, line);
	fclose(f);
	sodium_memzero(line, sizeof(line));
	return ret;
}

static int parse_ipport(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -EINVAL;
}

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void send_raw(struct peer_state *st, const void *buf, size_t len)
{
	if (sendto(st->fd, buf, len, 0, (const struct sockaddr *)&st->endpoint,
		   sizeof(st->endpoint)) < 0)
		fprintf(stderr, "wg_udp_peer: sendto: %s\n", strerror(errno));
}

/* Seals the IPv4 packet at buf + FG_WG_DATA_HDR_LEN (ip_len bytes) and sends it. */
static void send_ip(struct peer_state *st, uint8_t *buf, size_t ip_len)
{
	size_t padded = fg_wg_padded_len((uint32_t)ip_len, TUNNEL_MTU);
	size_t len;

	memset(buf + FG_WG_DATA_HDR_LEN + ip_len, 0, padded - ip_len);
	len = fg_wg_transport_seal(buf, padded, st->cur.keys.send, st->cur.keys.remote_index,
				   st->cur.send_counter++);
	send_raw(st, buf, len);
}

static void fill_ipv4(uint8_t *ip, size_t total, struct in_addr src, struct in_addr dst)
{
	memset(ip, 0, IPV4_HDR_LEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)total);
	ip[8] = 64; /* TTL */
	ip[9] = INNER_PROTO_ICMP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, csum(ip, IPV4_HDR_LEN));
}

static void send_echo_request(struct peer_state *st, uint64_t now)
{
	uint8_t buf[BUF_LEN];
	uint8_t *ip = buf + FG_WG_DATA_HDR_LEN, *icmp = ip + IPV4_HDR_LEN;
	size_t total = IPV4_HDR_LEN + ICMP_HDR_LEN + ICMP_PAYLOAD_LEN;
	size_t i;

	fill_ipv4(ip, total, st->addr, st->peer_addr);
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = ICMP_ECHO_REQUEST;
	put16(icmp + 4, ECHO_ID);
	put16(icmp + 6, st->next_seq);
	for (i = 0; i < ICMP_PAYLOAD_LEN; i++)
		icmp[ICMP_HDR_LEN + i] = (uint8_t)i;
	put16(icmp + 2, csum(icmp, ICMP_HDR_LEN + ICMP_PAYLOAD_LEN));
	send_ip(st, buf, total);
	st->last_echo_ns = now;
	fprintf(stderr, "wg_udp_peer: sent echo request seq=%u\n", st->next_seq);
}

/*
 * Loads the peer before a real initiation: flood copies of an initiation whose mac1 is
 * valid but whose Noise payload is garbage. wireguard-go queues each for a worker; when
 * its handshake queue backs up it is "under load" and answers initiations without a
 * valid mac2 with a cookie reply, which is what this exercises. Bounded by --flood.
 */
static void send_decoys(struct peer_state *st, uint64_t now)
{
	struct fg_wg_msg_initiation decoy;
	struct fg_noise_handshake hs;
	struct fg_wg_cookie k;
	unsigned int i;

	if (!st->flood ||
	    fg_noise_create_initiation(&decoy, &hs, &st->local, &st->peer, randombytes_random(),
				       clock_ns(CLOCK_REALTIME)) != 0)
		return;
	fg_noise_handshake_clear(&hs);
	decoy.encrypted_static[0] ^= 0xff;
	fg_wg_cookie_init(&k, st->peer.public_key); /* not ours: keeps our last mac1 intact */
	fg_wg_cookie_add_macs(&k, &decoy, sizeof(decoy), now);
	for (i = 0; i < st->flood; i++)
		send_raw(st, &decoy, sizeof(decoy));
	fg_wg_cookie_clear(&k);
}

static void send_initiation(struct peer_state *st, uint64_t now)
{
	struct fg_wg_msg_initiation msg;
	uint32_t index = randombytes_random();
	int ret;

	st->initiation_pending = false;
	ret = fg_noise_create_initiation(&msg, &st->hs, &st->local, &st->peer, index,
					 clock_ns(CLOCK_REALTIME));
	if (ret) {
		fprintf(stderr, "wg_udp_peer: create_initiation: %s\n", strerror(-ret));
		return;
	}
	fg_wg_cookie_add_macs(&st->cookie, &msg, sizeof(msg), now);
	send_raw(st, &msg, sizeof(msg));
	fprintf(stderr, "wg_udp_peer: sent initiation%s\n",
		sodium_is_zero(msg.macs.mac2, FG_WG_MAC_LEN) ? "" : " with mac2");
}

/*
 * Starts a handshake attempt. With --flood the decoys go first and the initiation a
 * little later, once the peer has read them off its socket into its handshake queue.
 */
static void start_initiation(struct peer_state *st, uint64_t now)
{
	st->last_initiation_ns = now;
	if (st->flood) {
		send_decoys(st, now);
		st->initiation_due_ns = now + DECOY_GAP_MS * NS_PER_MS;
		st->initiation_pending = true;
		return;
	}
	send_initiation(st, now);
}

/* Under (simulated) load: answer a handshake message without a valid mac2 with a cookie. */
static void send_cookie_reply(struct peer_state *st, const void *msg, size_t len,
			      uint32_t sender_index, const struct sockaddr_in *src, uint64_t now)
{
	struct fg_wg_msg_cookie reply;

	if (fg_wg_cookie_reply_create(&reply, &st->checker, msg, len, sender_index,
				      (const uint8_t *)&src->sin_addr, 4, ntohs(src->sin_port),
				      now) != 0)
		return;
	if (sendto(st->fd, &reply, sizeof(reply), 0, (const struct sockaddr *)src,
		   sizeof(*src)) < 0)
		fprintf(stderr, "wg_udp_peer: sendto: %s\n", strerror(errno));
	else
		fprintf(stderr, "wg_udp_peer: sent cookie reply (no valid mac2)\n");
}

/* Installs freshly derived keys as the current session; the old one stays for receiving. */
static void install(struct peer_state *st, const struct fg_noise_keypair_keys *keys)
{
	sodium_memzero(&st->prev, sizeof(st->prev));
	st->prev = st->cur;
	memset(&st->cur, 0, sizeof(st->cur));
	st->cur.keys = *keys;
	st->cur.valid = true;
}

static void on_initiation(struct peer_state *st, const uint8_t *pkt, size_t len,
			  const struct sockaddr_in *src, uint64_t now)
{
	struct fg_wg_msg_initiation msg;
	struct fg_wg_msg_response resp;
	struct fg_noise_handshake tmp;
	struct fg_noise_keypair_keys keys;
	uint8_t initiator_static[FG_WG_KEY_LEN];
	enum fg_wg_cookie_mac mac;
	int ret;

	if (len != sizeof(msg))
		return;
	memcpy(&msg, pkt, sizeof(msg));
	mac = fg_wg_cookie_validate(&st->checker, &msg, sizeof(msg),
				    (const uint8_t *)&src->sin_addr, 4, ntohs(src->sin_port), now);
	if (mac == FG_WG_COOKIE_MAC_INVALID) {
		fprintf(stderr, "wg_udp_peer: initiation with bad mac1\n");
		return;
	}
	if (st->under_load) {
		if (mac != FG_WG_COOKIE_MAC2_VALID) {
			send_cookie_reply(st, &msg, sizeof(msg), le32toh(msg.sender_index), src,
					  now);
			return;
		}
		fprintf(stderr, "wg_udp_peer: initiation with valid mac2\n");
	}
	ret = fg_noise_consume_initiation_begin(&msg, &st->local, &tmp, initiator_static);
	if (ret) {
		fprintf(stderr, "wg_udp_peer: initiation: %s\n", strerror(-ret));
		return;
	}
	if (sodium_memcmp(initiator_static, st->peer.public_key, FG_WG_KEY_LEN) != 0) {
		fprintf(stderr, "wg_udp_peer: initiation from an unknown key\n");
		fg_noise_handshake_clear(&tmp);
		return;
	}
	ret = fg_noise_consume_initiation_finish(&msg, &tmp, &st->peer, now);
	if (!ret)
		ret = fg_noise_create_response(&resp, &tmp, &st->local, &st->peer,
					       randombytes_random());
	if (!ret)
		ret = fg_noise_derive_keys(&tmp, &keys);
	if (ret) {
		fprintf(stderr, "wg_udp_peer: initiation refused: %s\n", strerror(-ret));
		return;
	}
	st->endpoint = *src;
	fg_wg_cookie_add_macs(&st->cookie, &resp, sizeof(resp), now);
	send_raw(st, &resp, sizeof(resp));
	install(st, &keys);
	sodium_memzero(&keys, sizeof(keys));
	fprintf(stderr, "wg_udp_peer: handshake complete (responder)\n");
}

static void on_response(struct peer_state *st, const uint8_t *pkt, size_t len,
			const struct sockaddr_in *src, uint64_t now)
{
	struct fg_wg_msg_response msg;
	struct fg_noise_keypair_keys keys;
	int ret;

	if (len != sizeof(msg))
		return;
	memcpy(&msg, pkt, sizeof(msg));
	if (fg_wg_cookie_validate(&st->checker, &msg, sizeof(msg),
				  (const uint8_t *)&src->sin_addr, 4, ntohs(src->sin_port),
				  now) == FG_WG_COOKIE_MAC_INVALID) {
		fprintf(stderr, "wg_udp_peer: response with bad mac1\n");
		return;
	}
	ret = fg_noise_consume_response(&msg, &st->hs, &st->local, &st->peer);
	if (!ret)
		ret = fg_noise_derive_keys(&st->hs, &keys);
	if (ret) {
		fprintf(stderr, "wg_udp_peer: response refused: %s\n", strerror(-ret));
		return;
	}
	st->endpoint = *src;
	install(st, &keys);
	sodium_memzero(&keys, sizeof(keys));
	fprintf(stderr, "wg_udp_peer: handshake complete (initiator)\n");
	send_echo_request(st, now);
}

static void on_cookie(struct peer_state *st, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct fg_wg_msg_cookie msg;
	int ret;

	if (len != sizeof(msg))
		return;
	memcpy(&msg, pkt, sizeof(msg));
	ret = fg_wg_cookie_consume_reply(&st->cookie, &msg, now);
	if (ret)
		st->other_cookies++; /* e.g. answers to decoys: not for our last mac1 */
	else
		fprintf(stderr, "wg_udp_peer: cookie reply stored\n");
}

/* An IPv4 ICMP packet of ip_len bytes at buf + FG_WG_DATA_HDR_LEN, from the peer. */
static void on_icmp(struct peer_state *st, uint8_t *buf, size_t ip_len, uint64_t now)
{
	uint8_t *ip = buf + FG_WG_DATA_HDR_LEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	uint8_t *icmp = ip + ihl;
	size_t icmp_len;
	struct in_addr tmp;

	if (ihl < IPV4_HDR_LEN || ip_len < ihl + ICMP_HDR_LEN || csum(ip, ihl) != 0)
		return;
	icmp_len = ip_len - ihl;
	if (csum(icmp, icmp_len) != 0)
		return;

	if (icmp[0] == ICMP_ECHO_REQUEST) {
		/* Turn it around in place: swap addresses, type 0, fresh checksums. */
		memcpy(&tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, &tmp, 4);
		ip[8] = 64;
		put16(ip + 10, 0);
		put16(ip + 10, csum(ip, ihl));
		icmp[0] = ICMP_ECHO_REPLY;
		put16(icmp + 2, 0);
		put16(icmp + 2, csum(icmp, icmp_len));
		fprintf(stderr, "wg_udp_peer: answering echo request seq=%u\n", get16(icmp + 6));
		send_ip(st, buf, ip_len); /* encrypts buf in place */
		st->answered++;
	} else if (icmp[0] == ICMP_ECHO_REPLY && get16(icmp + 4) == ECHO_ID &&
		   get16(icmp + 6) == st->next_seq) {
		st->replies++;
		fprintf(stderr, "wg_udp_peer: got echo reply seq=%u\n", st->next_seq);
		st->next_seq++;
		if (st->replies < st->count)
			send_echo_request(st, now);
	}
}

static void on_data(struct peer_state *st, uint8_t *buf, size_t len,
		    const struct sockaddr_in *src, uint64_t now)
{
	struct session *s;
	uint32_t receiver;
	uint64_t counter;
	size_t ip_len;
	uint8_t *ip = buf + FG_WG_DATA_HDR_LEN;
	int n;

	if (len < FG_WG_DATA_MIN_LEN)
		return;
	receiver = fg_wg_transport_receiver(buf);
	if (st->cur.valid && receiver == st->cur.keys.local_index)
		s = &st->cur;
	else if (st->prev.valid && receiver == st->prev.keys.local_index)
		s = &st->prev;
	else
		return;
	n = fg_wg_transport_open(buf, len, s->keys.recv, &counter);
	if (n < 0) {
		fprintf(stderr, "wg_udp_peer: data message failed authentication\n");
		return;
	}
	if (counter < s->recv_next) {
		fprintf(stderr, "wg_udp_peer: replayed counter %llu\n",
			(unsigned long long)counter);
		return;
	}
	s->recv_next = counter + 1;
	st->endpoint = *src; /* roaming: answer where it came from */
	if (n == 0)
		return; /* keepalive */
	if (s != &st->cur || (ip[0] >> 4) != 4 || n < IPV4_HDR_LEN)
		return;
	ip_len = get16(ip + 2);
	if (ip_len < IPV4_HDR_LEN || ip_len > (size_t)n ||
	    memcmp(ip + 12, &st->peer_addr, 4) != 0 || memcmp(ip + 16, &st->addr, 4) != 0)
		return;
	if (ip[9] == INNER_PROTO_ICMP)
		on_icmp(st, buf, ip_len, now);
}

static bool done(const struct peer_state *st)
{
	if (st->mode == MODE_RESPONDER)
		return st->answered >= st->count;
	return st->replies >= st->count;
}

/* Retransmits what the initiator is waiting for. */
static void tick(struct peer_state *st, uint64_t now)
{
	if (st->mode != MODE_INITIATOR)
		return;
	if (!st->cur.valid) {
		if (st->initiation_pending && now >= st->initiation_due_ns)
			send_initiation(st, now);
		else if (now - st->last_initiation_ns >= RETRY_MS * NS_PER_MS)
			start_initiation(st, now);
	} else if (now - st->last_echo_ns >= RETRY_MS * NS_PER_MS) {
		send_echo_request(st, now);
	}
}

static int run(struct peer_state *st, unsigned int timeout_s)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_s * NS_PER_S;
	uint8_t buf[BUF_LEN];
	struct sockaddr_in src;
	socklen_t slen;
	struct pollfd pfd = { .fd = st->fd, .events = POLLIN };
	uint64_t now;
	ssize_t n;
	uint32_t type;

	if (st->mode == MODE_INITIATOR)
		start_initiation(st, mono_ns());
	while (!done(st)) {
		now = mono_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		tick(st, now);
		if (poll(&pfd, 1, st->initiation_pending ? 1 : POLL_MS) <= 0)
			continue;
		slen = sizeof(src);
		n = recvfrom(st->fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &slen);
		if (n < 4 || slen != sizeof(src) || src.sin_family != AF_INET)
			continue;
		now = mono_ns();
		memcpy(&type, buf, sizeof(type));
		switch (le32toh(type)) {
		case FG_WG_MSG_INITIATION:
			on_initiation(st, buf, (size_t)n, &src, now);
			break;
		case FG_WG_MSG_RESPONSE:
			on_response(st, buf, (size_t)n, &src, now);
			break;
		case FG_WG_MSG_COOKIE:
			on_cookie(st, buf, (size_t)n, now);
			break;
		case FG_WG_MSG_DATA:
			on_data(st, buf, (size_t)n, &src, now);
			break;
		default:
			break;
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: wg_udp_peer --mode responder|initiator --private-key-file FILE\n"
		"                   --peer-public BASE64 [--psk-file FILE] --listen IP:PORT\n"
		"                   [--endpoint IP:PORT] --address IP --peer-address IP\n"
		"                   [--count N] [--timeout SECONDS] [--under-load]\n"
		"                   [--flood N]\n"
		"  --under-load: act as a responder under load: initiations without a valid\n"
		"                mac2 get a cookie reply instead of a response\n"
		"  --flood N:    initiator: send N decoy initiations (valid mac1 only) before\n"
		"                each initiation, to put the peer under load (N <= 20000)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "private-key-file", required_argument, NULL, 'k' },
		{ "peer-public", required_argument, NULL, 'p' },
		{ "psk-file", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "address", required_argument, NULL, 'a' },
		{ "peer-address", required_argument, NULL, 'A' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "under-load", no_argument, NULL, 'L' },
		{ "flood", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static struct peer_state st;
	uint8_t priv[FG_WG_KEY_LEN], peer_pub[FG_WG_KEY_LEN], psk[FG_WG_KEY_LEN];
	struct sockaddr_in listen_addr;
	const char *key_file = NULL, *psk_file = NULL, *peer_b64 = NULL, *listen_s = NULL;
	const char *endpoint_s = NULL, *addr_s = NULL, *peer_addr_s = NULL;
	unsigned int timeout_s = DEFAULT_TIMEOUT_S;
	int c, ret = 2, rcvbuf = RCVBUF_BYTES;

	memset(psk, 0, sizeof(psk));
	memset(priv, 0, sizeof(priv));
	st.fd = -1;
	st.count = DEFAULT_COUNT;
	st.next_seq = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "responder"))
				st.mode = MODE_RESPONDER;
			else if (!strcmp(optarg, "initiator"))
				st.mode = MODE_INITIATOR;
			else
				goto err_usage;
			break;
		case 'k': key_file = optarg; break;
		case 'p': peer_b64 = optarg; break;
		case 's': psk_file = optarg; break;
		case 'l': listen_s = optarg; break;
		case 'e': endpoint_s = optarg; break;
		case 'a': addr_s = optarg; break;
		case 'A': peer_addr_s = optarg; break;
		case 'c': st.count = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 't': timeout_s = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'L': st.under_load = true; break;
		case 'f':
			st.flood = (unsigned int)strtoul(optarg, NULL, 10);
			if (st.flood > MAX_FLOOD)
				goto err_usage;
			break;
		default: goto err_usage;
		}
	}
	if (!key_file || !peer_b64 || !listen_s || !addr_s || !peer_addr_s ||
	    (st.mode == MODE_INITIATOR && !endpoint_s))
		goto err_usage;
	if (sodium_init() < 0) {
		fprintf(stderr, "wg_udp_peer: sodium_init failed\n");
		goto out;
	}
	if (read_key_file(priv, key_file) || parse_key_b64(peer_pub, peer_b64) ||
	    (psk_file && read_key_file(psk, psk_file))) {
		fprintf(stderr, "wg_udp_peer: bad key (private key file, peer public or psk)\n");
		goto out;
	}
	if (parse_ipport(listen_s, &listen_addr) ||
	    (endpoint_s && parse_ipport(endpoint_s, &st.endpoint)) ||
	    inet_pton(AF_INET, addr_s, &st.addr) != 1 ||
	    inet_pton(AF_INET, peer_addr_s, &st.peer_addr) != 1) {
		fprintf(stderr, "wg_udp_peer: bad address\n");
		goto out;
	}
	if (fg_noise_local_init(&st.local, priv) ||
	    fg_noise_peer_init(&st.peer, &st.local, peer_pub, psk)) {
		fprintf(stderr, "wg_udp_peer: unusable keys\n");
		goto out;
	}
	fg_wg_cookie_checker_init(&st.checker, st.local.public_key);
	fg_wg_cookie_init(&st.cookie, st.peer.public_key);

	st.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (st.fd < 0 || bind(st.fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr))) {
		fprintf(stderr, "wg_udp_peer: socket/bind %s: %s\n", listen_s, strerror(errno));
		goto out;
	}
	/* Answers to decoys must not push the one reply that matters out of the buffer. */
	if (setsockopt(st.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(st.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	fprintf(stderr, "wg_udp_peer: %s on %s\n",
		st.mode == MODE_RESPONDER ? "responder" : "initiator", listen_s);
	ret = run(&st, timeout_s);
	if (st.other_cookies)
		fprintf(stderr, "wg_udp_peer: %u cookie replies were not for our last message\n",
			st.other_cookies);
	if (ret) {
		fprintf(stderr, "wg_udp_peer: FAIL: timed out (answered %u, replies %u of %u)\n",
			st.answered, st.replies, st.count);
		ret = 1;
	} else {
		fprintf(stderr, "wg_udp_peer: OK: %u echo %s\n", st.count,
			st.mode == MODE_RESPONDER ? "requests answered" : "replies received");
	}
	goto out;
err_usage:
	usage();
out:
	if (st.fd >= 0)
		close(st.fd);
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(psk, sizeof(psk));
	sodium_memzero(&st, sizeof(st));
	return ret;
}
