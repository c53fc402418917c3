// SPDX-License-Identifier: MIT
/*
 * fastgate-gen-pcaps: writes the classic-pcap (Ethernet) WireGuard traffic that the Pktgen
 * profiles in this directory replay, plus the matching gateway configuration and a key
 * listing. Every key is derived deterministically: the gateway's static private key is
 * BLAKE2s("fastgate-pktgen-gateway"), client i's is BLAKE2s("fastgate-pktgen-client-<i>"),
 * and the ephemerals are BLAKE2s of similar fixed labels, so the same command always writes
 * byte-identical files. For each client the generator runs a real Noise IK handshake with
 * the project's own code (initiation from the client, response from a generator-side
 * gateway with a fixed ephemeral), derives that session's transport keys, and seals data
 * messages with them. A live gateway picks its own random ephemeral and receiver index,
 * so only the initiations are meaningful to it; the data messages reach it with a
 * receiver index it does not know (the rejection path). See README.md for the files.
 * Plain C on libsodium/libb2 through fg_wg: no DPDK, no EAL.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cookie.h"
#include "kdf.h"
#include "messages.h"
#include "noise.h"
#include "transport.h"

enum {
	LISTEN_PORT = 51820,
	CLIENT_SPORT_BASE = 40000,
	INNER_DPORT = 5201,
	SENDER_MTU = 1420,           /* the clients' tunnel MTU (wg-quick's default) */
	ETH_LEN = 14,
	IP4_LEN = 20,
	UDP_LEN = 8,
	HDRS_LEN = ETH_LEN + IP4_LEN + UDP_LEN,
	MAX_FRAME = 1514,
	NPEERS = 100,                /* clients 0..99: inner addresses 100.64.1.1 .. 100.64.1.100 */
	IMIX_CYCLE = 12,
	HANDSHAKES_PER_FILE = 1024,
	JUNK_PER_FILE = 1024,
	JUNK_KINDS = 6,
	CLIENT_INDEX_BASE = 0x10000000,
	GATEWAY_INDEX_BASE = 0x20000000,
};

/* Wall time of the first initiation's TAI64N label: 2023-11-14T22:13:20Z. */
#define BASE_WALL_S 1700000000ULL
#define NS_PER_S 1000000000ULL

struct opts {
	const char *outdir;
	uint32_t data_packets;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip;      /* host order: all clients share it, one UDP port each */
	uint32_t dst_ip;      /* the gateway's uplink address */
};

struct client {
	struct fg_noise_local local;        /* the client's identity */
	struct fg_noise_peer gw_peer;       /* the gateway as the client's peer */
	struct fg_noise_peer gw_side;       /* the client as the generator-side gateway's peer */
	struct fg_wg_cookie cookie;         /* mac1 toward the gateway */
	struct fg_noise_keypair_keys keys;  /* the client's side of the fixed session */
	uint8_t init_frame[MAX_FRAME];
	uint16_t init_len;
};

struct pcap {
	FILE *f;
	uint64_t usec;
	uint32_t n;
};

static struct fg_noise_local g_gateway;

/* BLAKE2s-256 of a printf-formatted label: the deterministic key material. */
static void derive(uint8_t out[FG_WG_KEY_LEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void derive(uint8_t out[FG_WG_KEY_LEN], const char *fmt, ...)
{
	char label[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(label, sizeof(label), fmt, ap);
	va_end(ap);
	fg_wg_hash(out, label, (size_t)n, NULL, 0);
}

static int pcap_open(struct pcap *p, const struct opts *o, const char *name)
{
	char path[4096];
	/* Classic pcap, host byte order: magic, version 2.4, zone, sigfigs, snaplen, Ethernet. */
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr = { 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1 };

	snprintf(path, sizeof(path), "%s/%s", o->outdir, name);
	p->f = fopen(path, "wb");
	if (!p->f) {
		fprintf(stderr, "fastgate-gen-pcaps: %s: %s\n", path, strerror(errno));
		return -1;
	}
	p->usec = 0;
	p->n = 0;
	return fwrite(&hdr, sizeof(hdr), 1, p->f) == 1 ? 0 : -1;
}

static int pcap_write(struct pcap *p, const uint8_t *frame, uint32_t len)
{
	uint32_t rec[4] = { (uint32_t)(BASE_WALL_S + p->usec / 1000000), (uint32_t)(p->usec % 1000000), len,
			    len };

	p->usec++;
	p->n++;
	if (fwrite(rec, sizeof(rec), 1, p->f) != 1 || fwrite(frame, len, 1, p->f) != 1)
		return -1;
	return 0;
}

static int pcap_close(struct pcap *p)
{
	int ret = ferror(p->f) ? -1 : 0;

	if (fclose(p->f) != 0)
		ret = -1;
	p->f = NULL;
	return ret;
}

/* Ones'-complement sum over len bytes, folded to 16 bits later. */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * IPv4 header (no options, DF, TTL 64) and UDP header in front of a payload already at
 * pkt + 28, with both checksums. Returns the IPv4 total length.
 */
static uint16_t write_ip_udp(uint8_t *pkt, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			     uint16_t payload_len, uint16_t ip_id)
{
	uint8_t *udp = pkt + IP4_LEN;
	uint16_t total = (uint16_t)(IP4_LEN + UDP_LEN + payload_len);
	uint32_t sum;
	uint16_t c;

	memset(pkt, 0, IP4_LEN + UDP_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, total);
	put16(pkt + 4, ip_id);
	put16(pkt + 6, 0x4000);
	pkt[8] = 64;
	pkt[9] = 17;
	put32(pkt + 12, src);
	put32(pkt + 16, dst);
	put16(pkt + 10, csum_fold(csum_add(0, pkt, IP4_LEN)));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(UDP_LEN + payload_len));
	sum = csum_add(0, pkt + 12, 8);
	sum += 17 + (uint32_t)(UDP_LEN + payload_len);
	sum = csum_add(sum, udp, (size_t)UDP_LEN + payload_len);
	c = csum_fold(sum);
	put16(udp + 6, c ? c : 0xffff);
	return total;
}

/* Ethernet + IPv4 + UDP (client i -> gateway:51820) around the wg message at frame + 42. */
static uint16_t frame_out(uint8_t *frame, const struct opts *o, uint32_t client, uint16_t wg_len, uint16_t ip_id)
{
	memcpy(frame, o->dst_mac, 6);
	memcpy(frame + 6, o->src_mac, 6);
	put16(frame + 12, 0x0800);
	write_ip_udp(frame + ETH_LEN, o->src_ip, o->dst_ip, (uint16_t)(CLIENT_SPORT_BASE + client), LISTEN_PORT,
		     wg_len, ip_id);
	return (uint16_t)(HDRS_LEN + wg_len);
}

static uint32_t client_inner_ip(uint32_t i)
{
	return (100u << 24) | (64u << 16) | (1u << 8) | (i + 1);   /* 100.64.1.(i+1) */
}

static uint32_t resource_ip(void)
{
	return (100u << 24) | (64u << 16) | 1u;                     /* 100.64.0.1 */
}

/* One initiation from client i with a fixed ephemeral for (i, round), mac1 set, mac2 zero. */
static int make_initiation(struct fg_wg_msg_initiation *msg, struct fg_noise_handshake *hs, struct client *c,
			   uint32_t i, uint32_t round)
{
	uint8_t eph[FG_WG_KEY_LEN];
	int ret;

	derive(eph, "fastgate-pktgen-client-ephemeral-%" PRIu32 "-%" PRIu32, i, round);
	ret = fg_noise_create_initiation_with_ephemeral(msg, hs, &c->local, &c->gw_peer,
							CLIENT_INDEX_BASE + (round << 16) + i,
							(BASE_WALL_S + round) * NS_PER_S, eph);
	sodium_memzero(eph, sizeof(eph));
	if (ret == 0)
		fg_wg_cookie_add_macs(&c->cookie, msg, sizeof(*msg), 0);
	return ret;
}

/*
 * Client i: identity, peers on both sides, the round-0 initiation frame, and a full
 * handshake against the generator-side gateway (fixed ephemeral) whose keys are checked
 * both ways before they are kept.
 */
static int client_setup(struct client *c, const struct opts *o, uint32_t i)
{
	uint8_t priv[FG_WG_KEY_LEN], eph[FG_WG_KEY_LEN], initiator_static[FG_WG_KEY_LEN];
	uint8_t zero_psk[FG_WG_KEY_LEN] = { 0 };
	struct fg_wg_msg_initiation init;
	struct fg_wg_msg_response resp;
	struct fg_noise_handshake chs, ghs;
	struct fg_noise_keypair_keys gkeys;
	uint8_t probe[FG_WG_DATA_OVERHEAD + 16];
	uint64_t ctr;
	int ret;

	derive(priv, "fastgate-pktgen-client-%" PRIu32, i);
	ret = fg_noise_local_init(&c->local, priv);
	sodium_memzero(priv, sizeof(priv));
	if (ret)
		return ret;
	ret = fg_noise_peer_init(&c->gw_peer, &c->local, g_gateway.public_key, zero_psk);
	if (!ret)
		ret = fg_noise_peer_init(&c->gw_side, &g_gateway, c->local.public_key, zero_psk);
	if (ret)
		return ret;
	fg_wg_cookie_init(&c->cookie, g_gateway.public_key);

	ret = make_initiation(&init, &chs, c, i, 0);
	if (ret)
		return ret;
	memcpy(c->init_frame + HDRS_LEN, &init, sizeof(init));
	c->init_len = frame_out(c->init_frame, o, i, sizeof(init), 0);

	/* The gateway's side, as the data plane does it. */
	ret = fg_noise_consume_initiation_begin(&init, &g_gateway, &ghs, initiator_static);
	if (ret)
		return ret;
	if (memcmp(initiator_static, c->local.public_key, FG_WG_KEY_LEN) != 0)
		return -EBADMSG;
	ret = fg_noise_consume_initiation_finish(&init, &ghs, &c->gw_side, BASE_WALL_S * NS_PER_S);
	if (ret)
		return ret;
	derive(eph, "fastgate-pktgen-gateway-ephemeral-%" PRIu32, i);
	ret = fg_noise_create_response_with_ephemeral(&resp, &ghs, &g_gateway, &c->gw_side, GATEWAY_INDEX_BASE + i,
						      eph);
	sodium_memzero(eph, sizeof(eph));
	if (!ret)
		ret = fg_noise_consume_response(&resp, &chs, &c->local, &c->gw_peer);
	if (!ret)
		ret = fg_noise_derive_keys(&chs, &c->keys);
	if (!ret)
		ret = fg_noise_derive_keys(&ghs, &gkeys);
	if (ret)
		return ret;
	/* The client's data must open under the gateway's receive key. */
	memset(probe, 0, sizeof(probe));
	fg_wg_transport_seal(probe, 16, c->keys.send, c->keys.remote_index, 0);
	ret = fg_wg_transport_open(probe, sizeof(probe), gkeys.recv, &ctr);
	if (ret >= 0)
		ret = ret == 16 && c->keys.remote_index == GATEWAY_INDEX_BASE + i && ctr == 0 ? 0 : -EBADMSG;
	sodium_memzero(&gkeys, sizeof(gkeys));
	fg_noise_handshake_clear(&chs);
	fg_noise_handshake_clear(&ghs);
	return ret;
}

static unsigned imix_size(uint32_t k)
{
	k %= IMIX_CYCLE;
	return k < 7 ? 64 : k < 11 ? 576 : 1420;    /* 7:4:1, as fastgate-bench */
}

/* A data frame from client i: inner IPv4/UDP of `inner` bytes, padded and sealed. */
static uint16_t make_data(uint8_t *frame, const struct opts *o, const struct client *c, uint32_t i,
			  unsigned inner, uint64_t counter)
{
	uint8_t *msg = frame + HDRS_LEN;
	uint8_t *pkt = msg + FG_WG_DATA_HDR_LEN;
	uint32_t padded = fg_wg_padded_len(inner, SENDER_MTU);
	size_t wlen;

	for (unsigned j = IP4_LEN + UDP_LEN; j < inner; j++)
		pkt[j] = (uint8_t)(counter + j);
	write_ip_udp(pkt, client_inner_ip(i), resource_ip(), (uint16_t)(CLIENT_SPORT_BASE + i), INNER_DPORT,
		     (uint16_t)(inner - IP4_LEN - UDP_LEN), (uint16_t)counter);
	memset(pkt + inner, 0, padded - inner);
	wlen = fg_wg_transport_seal(msg, padded, c->keys.send, c->keys.remote_index, counter);
	return frame_out(frame, o, i, (uint16_t)wlen, (uint16_t)counter);
}

static int write_handshakes(const struct opts *o, struct client *cl, uint32_t npeers)
{
	char name[64];
	struct pcap p;
	uint8_t frame[MAX_FRAME];

	snprintf(name, sizeof(name), "handshake-p%" PRIu32 ".pcap", npeers);
	if (pcap_open(&p, o, name))
		return -1;
	for (uint32_t k = 0; k < HANDSHAKES_PER_FILE; k++) {
		uint32_t i = k % npeers, round = k / npeers;
		struct fg_wg_msg_initiation msg;
		struct fg_noise_handshake hs;

		if (make_initiation(&msg, &hs, &cl[i], i, round))
			return -1;
		fg_noise_handshake_clear(&hs);
		memcpy(frame + HDRS_LEN, &msg, sizeof(msg));
		if (pcap_write(&p, frame, frame_out(frame, o, i, sizeof(msg), (uint16_t)k)))
			return -1;
	}
	return pcap_close(&p);
}

static int write_data(const struct opts *o, struct client *cl, uint32_t npeers, unsigned size)
{
	char name[64];
	struct pcap p;
	uint8_t frame[MAX_FRAME];

	if (size)
		snprintf(name, sizeof(name), "data-%u-p%" PRIu32 ".pcap", size, npeers);
	else
		snprintf(name, sizeof(name), "data-imix-p%" PRIu32 ".pcap", npeers);
	if (pcap_open(&p, o, name))
		return -1;
	for (uint32_t i = 0; i < npeers; i++)
		if (pcap_write(&p, cl[i].init_frame, cl[i].init_len))
			return -1;
	for (uint32_t k = 0; k < o->data_packets; k++) {
		uint32_t i = k % npeers;
		unsigned inner = size ? size : imix_size(k);

		if (pcap_write(&p, frame, make_data(frame, o, &cl[i], i, inner, k / npeers)))
			return -1;
	}
	return pcap_close(&p);
}

/*
 * Traffic every gateway must drop cheaply, cycling through JUNK_KINDS kinds:
 * 0 initiation with a wrong mac1 (148 B), 1 initiation one byte short (147 B),
 * 2 unknown message type 5 (64 B), 3 keepalive to an unknown receiver index (32 B),
 * 4 truncated data message (20 B), 5 unsolicited cookie reply (64 B).
 */
static int write_junk(const struct opts *o, struct client *cl, uint32_t npeers)
{
	char name[64];
	struct pcap p;
	uint8_t frame[MAX_FRAME];

	snprintf(name, sizeof(name), "junk-p%" PRIu32 ".pcap", npeers);
	if (pcap_open(&p, o, name))
		return -1;
	for (uint32_t k = 0; k < JUNK_PER_FILE; k++) {
		uint32_t i = k % npeers;
		uint8_t *msg = frame + HDRS_LEN;
		uint16_t len;

		memset(msg, 0, 256);
		switch (k % JUNK_KINDS) {
		case 0:
		case 1:
			memcpy(msg, cl[i].init_frame + HDRS_LEN, FG_WG_MSG_INITIATION_LEN);
			if (k % JUNK_KINDS == 0)
				msg[offsetof(struct fg_wg_msg_initiation, macs)] ^= 0x01;
			len = k % JUNK_KINDS == 0 ? FG_WG_MSG_INITIATION_LEN : FG_WG_MSG_INITIATION_LEN - 1;
			break;
		case 2:
			msg[0] = 5;
			derive(msg + 4, "fastgate-pktgen-junk-%" PRIu32, k);
			len = 64;
			break;
		case 3: {
			uint8_t key[FG_WG_KEY_LEN];

			derive(key, "fastgate-pktgen-junk-key-%" PRIu32, k);
			len = (uint16_t)fg_wg_transport_seal(msg, 0, key, 0x30000000u + k, k);
			sodium_memzero(key, sizeof(key));
			break;
		}
		case 4:
			msg[0] = FG_WG_MSG_DATA;
			memcpy(msg + 4, &(uint32_t){ htole32(cl[i].keys.remote_index) }, 4);
			len = 20;
			break;
		default:
			msg[0] = FG_WG_MSG_COOKIE;
			memcpy(msg + 4, &(uint32_t){ htole32(CLIENT_INDEX_BASE + i) }, 4);
			derive(msg + 8, "fastgate-pktgen-junk-cookie-%" PRIu32, k);
			len = FG_WG_MSG_COOKIE_LEN;
			break;
		}
		if (pcap_write(&p, frame, frame_out(frame, o, i, len, (uint16_t)k)))
			return -1;
	}
	return pcap_close(&p);
}

static void b64(char *out, size_t outlen, const uint8_t key[FG_WG_KEY_LEN])
{
	sodium_bin2base64(out, outlen, key, FG_WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

static void ip_str(char *out, size_t len, uint32_t ip)
{
	struct in_addr a = { .s_addr = htonl(ip) };

	inet_ntop(AF_INET, &a, out, (socklen_t)len);
}

static int write_conf(const struct opts *o, const struct client *cl, uint32_t npeers)
{
	char path[4096], key[64], ip[INET_ADDRSTRLEN];
	FILE *f;

	snprintf(path, sizeof(path), "%s/gateway.conf", o->outdir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	b64(key, sizeof(key), g_gateway.private_key);
	fprintf(f, "# SPDX-License-Identifier: MIT\n#\n"
		   "# fastgate-dataplane configuration matching the pcaps of fastgate-gen-pcaps: the gateway\n"
		   "# key BLAKE2s(\"fastgate-pktgen-gateway\") and one [Peer] per client key\n"
		   "# BLAKE2s(\"fastgate-pktgen-client-<i>\"). Written by the generator; TEST KEYS, PUBLIC.\n\n");
	fprintf(f, "[Interface]\nPrivateKey = %s\nListenPort = %d\nAddress = 100.64.0.1/32\nMTU = %d\n", key,
		LISTEN_PORT, SENDER_MTU);
	for (uint32_t i = 0; i < npeers; i++) {
		b64(key, sizeof(key), cl[i].local.public_key);
		ip_str(ip, sizeof(ip), client_inner_ip(i));
		fprintf(f, "\n# client %" PRIu32 "\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n", i, key, ip);
	}
	ip_str(ip, sizeof(ip), o->dst_ip);
	/* The uplink MAC is the frames' destination MAC, so any port (net_pcap included) takes them. */
	fprintf(f, "\n[Uplink]\nAddress = %s/24\nPort = 0\nMAC = %02x:%02x:%02x:%02x:%02x:%02x\n", ip,
		o->dst_mac[0], o->dst_mac[1], o->dst_mac[2], o->dst_mac[3], o->dst_mac[4], o->dst_mac[5]);
	fprintf(f, "\n[Dataplane]\nWorkers = 1\n\n[Host]\nName = tun-fgpktgen\nRoute = 100.64.0.0/11\n");
	return fclose(f) == 0 ? 0 : -1;
}

/* keys.txt: every key and index of the fixed sessions (test material only). */
static int write_keys(const struct opts *o, const struct client *cl, uint32_t npeers)
{
	char path[4096], a[64], b[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/keys.txt", o->outdir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	b64(a, sizeof(a), g_gateway.private_key);
	b64(b, sizeof(b), g_gateway.public_key);
	fprintf(f, "gateway private %s public %s\n", a, b);
	for (uint32_t i = 0; i < npeers; i++) {
		b64(a, sizeof(a), cl[i].local.private_key);
		b64(b, sizeof(b), cl[i].local.public_key);
		fprintf(f, "client %" PRIu32 " private %s public %s sport %d", i, a, b, CLIENT_SPORT_BASE + (int)i);
		b64(a, sizeof(a), cl[i].keys.send);
		b64(b, sizeof(b), cl[i].keys.recv);
		fprintf(f, " sender_index 0x%08" PRIx32 " receiver_index 0x%08" PRIx32 " send %s recv %s\n",
			(uint32_t)CLIENT_INDEX_BASE + i, cl[i].keys.remote_index, a, b);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fastgate-gen-pcaps [options] OUTDIR\n"
		   "  --src-mac MAC   source MAC of every frame (Pktgen's port), default 02:00:5e:10:00:02\n"
		   "  --dst-mac MAC   gateway uplink MAC, default 02:00:5e:10:00:01\n"
		   "  --src-ip IP     clients' shared outer address, default 198.18.0.2\n"
		   "  --dst-ip IP     gateway uplink address, default 198.18.0.1\n"
		   "  --packets N     data messages per data pcap, 1..1000000, default 4096\n"
		   "Writes handshake-p{1,100}, data-{64,512,1420,imix}-p{1,100}, junk-p{1,100}.pcap,\n"
		   "gateway.conf and keys.txt into OUTDIR (which must exist).\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "src-mac", required_argument, NULL, 's' }, { "dst-mac", required_argument, NULL, 'd' },
		{ "src-ip", required_argument, NULL, 'S' },  { "dst-ip", required_argument, NULL, 'D' },
		{ "packets", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const unsigned sizes[] = { 64, 512, 1420, 0 };
	static const uint32_t peer_counts[] = { 1, 100 };
	struct opts o = {
		.data_packets = 4096,
		.src_mac = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 },
		.dst_mac = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 },
		.src_ip = (198u << 24) | (18u << 16) | 2u,
		.dst_ip = (198u << 24) | (18u << 16) | 1u,
	};
	uint8_t priv[FG_WG_KEY_LEN];
	struct client *cl;
	char *end;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case 's':
			bad = parse_mac(optarg, o.src_mac);
			break;
		case 'd':
			bad = parse_mac(optarg, o.dst_mac);
			break;
		case 'S':
			bad = parse_ip(optarg, &o.src_ip);
			break;
		case 'D':
			bad = parse_ip(optarg, &o.dst_ip);
			break;
		case 'n': {
			unsigned long v = strtoul(optarg, &end, 10);

			bad = *optarg == '\0' || *end != '\0' || v < 1 || v > 1000000;
			o.data_packets = (uint32_t)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "fastgate-gen-pcaps: bad option value: %s\n", optarg);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	o.outdir = argv[optind];
	if (sodium_init() < 0)
		return 1;

	derive(priv, "fastgate-pktgen-gateway");
	if (fg_noise_local_init(&g_gateway, priv) != 0)
		return 1;
	sodium_memzero(priv, sizeof(priv));

	cl = calloc(NPEERS, sizeof(*cl));
	if (!cl)
		return 1;
	for (uint32_t i = 0; i < NPEERS; i++) {
		int ret = client_setup(&cl[i], &o, i);

		if (ret) {
			fprintf(stderr, "fastgate-gen-pcaps: handshake for client %" PRIu32 " failed: %s\n", i,
				strerror(-ret));
			free(cl);
			return 1;
		}
	}
	for (size_t p = 0; p < sizeof(peer_counts) / sizeof(peer_counts[0]) && rc == 0; p++) {
		rc |= write_handshakes(&o, cl, peer_counts[p]);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]) && rc == 0; s++)
			rc |= write_data(&o, cl, peer_counts[p], sizes[s]);
		rc |= write_junk(&o, cl, peer_counts[p]);
	}
	if (rc == 0)
		rc = write_conf(&o, cl, NPEERS) | write_keys(&o, cl, NPEERS);
	sodium_memzero(cl, NPEERS * sizeof(*cl));
	free(cl);
	fg_noise_local_clear(&g_gateway);
	if (rc) {
		fprintf(stderr, "fastgate-gen-pcaps: writing into %s failed\n", o.outdir);
		return 1;
	}
	return 0;
}
