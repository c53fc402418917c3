// SPDX-License-Identifier: MIT
/*
 * Parser for the data plane's static configuration file (format in config.h). A line-by-line
 * pass fills struct fg_config through a table of (section, key, handler); a final pass checks
 * what one line cannot (required keys, cross-field limits, duplicate peers). Every error is
 * "FILE:LINE: message: 'text'" where text is the offending section, key or value, escaped, cut
 * short and stripped of anything that may be a key (fg_key_redact); each line copy is wiped.
 * A loaded file that holds a key gets a warning when others may read it (fg_secfile_check).
 * Runs on the main lcore at start-up; no state of its own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_config.h>
#include <sodium.h>

#include "secfile.h"

enum {
	QUOTE_MAX = 64,            /* bytes of offending text quoted in a message */
	MAX_WORKERS = RTE_MAX_LCORE - 1,
	PEERS_INITIAL = 16,
	ALLOWED_IPS_INITIAL = 4,
	UNDER_LOAD_DIVISOR = 8,
	MSG_MAX = 160,
};

enum section {
	SEC_NONE = 0,
	SEC_INTERFACE,
	SEC_PEER,
	SEC_UPLINK,
	SEC_DATAPLANE,
	SEC_HOST,
	SEC_COUNT,
};

static const char *const section_names[SEC_COUNT] = {
	[SEC_NONE] = "",
	[SEC_INTERFACE] = "Interface",
	[SEC_PEER] = "Peer",
	[SEC_UPLINK] = "Uplink",
	[SEC_DATAPLANE] = "Dataplane",
	[SEC_HOST] = "Host",
};

enum key_flags {
	KEY_LIST = 1u << 0,    /* comma list; the key may repeat */
};

struct parser {
	const char *name;
	char *err;
	size_t errlen;
	struct fg_config *cfg;
	unsigned int line;
	enum section section;
	unsigned int section_line;
	uint32_t sections_seen;             /* bit per enum section */
	uint64_t keys_seen;                 /* bit per key in the current section */
	unsigned int key_line[64];          /* last line of each key (singleton sections) */
	unsigned int section_lines[SEC_COUNT];
	size_t peers_cap;
	size_t allowed_cap;                 /* of the current peer */
	bool under_load_set;
};

struct key_def {
	enum section section;
	const char *name;
	int (*set)(struct parser *p, const char *value);
	unsigned int flags;
};

/* Unless told the text is a public key, it is quoted through fg_key_redact(). */
static int vfail(struct parser *p, unsigned int line, const char *text, size_t text_len,
		 bool redact, const char *fmt, va_list ap)
{
	char msg[MSG_MAX], q[QUOTE_MAX * 4 + 32];

	if (!p->err || p->errlen == 0)
		return -EINVAL;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (redact)
		fg_key_redact(q, sizeof(q), text, text_len, QUOTE_MAX);
	else
		snprintf(q, sizeof(q), "%.*s", (int)text_len, text);
	snprintf(p->err, p->errlen, "%s:%u: %s: '%s'", p->name, line, msg, q);
	return -EINVAL;
}

static int __attribute__((format(printf, 5, 6)))
fail_at(struct parser *p, unsigned int line, const char *text, size_t text_len, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(p, line, text, text_len, true, fmt, ap);
	va_end(ap);
	return rc;
}

/* For messages about a valid peer public key, which is not secret and worth showing. */
static int __attribute__((format(printf, 4, 5)))
fail_public_key(struct parser *p, unsigned int line, const uint8_t key[FG_KEY_LEN], const char *fmt, ...)
{
	char b64[FG_KEY_B64_LEN];
	va_list ap;
	int rc;

	fg_key_to_base64(b64, key);
	va_start(ap, fmt);
	rc = vfail(p, line, b64, strlen(b64), false, fmt, ap);
	va_end(ap);
	return rc;
}

#define fail(p, text, ...) fail_at(p, (p)->line, text, strlen(text), __VA_ARGS__)

/* Decimal digits only (no sign, no space), at most 10 of them, within [min, max]. */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static bool is_pow2(uint32_t v)
{
	return v && (v & (v - 1)) == 0;
}

static int number(struct parser *p, const char *value, const char *key, uint32_t min,
		  uint32_t max, bool pow2, uint32_t *out)
{
	if (parse_u32(value, min, max, out) < 0 || (pow2 && !is_pow2(*out)))
		return fail(p, value, "%s must be %s%u..%u", key, pow2 ? "a power of two " : "",
			    min, max);
	return 0;
}

static int key_value(struct parser *p, const char *value, const char *key, uint8_t out[FG_KEY_LEN])
{
	if (fg_key_from_base64(out, value) < 0)
		return fail(p, key, "invalid key (want 44 base64 characters)");
	return 0;
}

/* ---- [Interface] ---- */

static int iface_private_key(struct parser *p, const char *value)
{
	struct fg_config_interface *i = &p->cfg->iface;

	if (key_value(p, value, "PrivateKey", i->private_key) < 0)
		return -EINVAL;
	if (fg_key_is_zero(i->private_key))
		return fail(p, "PrivateKey", "invalid key (all zero)");
	crypto_scalarmult_curve25519_base(i->public_key, i->private_key);
	return 0;
}

static int iface_listen_port(struct parser *p, const char *value)
{
	uint32_t v;

	if (number(p, value, "ListenPort", 1, UINT16_MAX, false, &v) < 0)
		return -EINVAL;
	p->cfg->iface.listen_port = (uint16_t)v;
	return 0;
}

static int iface_address(struct parser *p, const char *value)
{
	struct fg_config_interface *i = &p->cfg->iface;

	if (i->n_addresses == FG_CONFIG_MAX_ADDRESSES)
		return fail(p, value, "too many addresses (at most %d)", FG_CONFIG_MAX_ADDRESSES);
	if (fg_prefix_parse_host(value, &i->addresses[i->n_addresses]) < 0)
		return fail(p, value, "invalid address (want ip or ip/len)");
	i->n_addresses++;
	return 0;
}

static int iface_mtu(struct parser *p, const char *value)
{
	uint32_t v;

	if (number(p, value, "MTU", FG_CONFIG_MIN_MTU, FG_CONFIG_MAX_MTU, false, &v) < 0)
		return -EINVAL;
	p->cfg->iface.mtu = (uint16_t)v;
	return 0;
}

/* ---- [Peer] ---- */

static struct fg_config_peer *cur_peer(struct parser *p)
{
	return &p->cfg->peers[p->cfg->n_peers - 1];
}

static int peer_public_key(struct parser *p, const char *value)
{
	return key_value(p, value, "PublicKey", cur_peer(p)->public_key);
}

static int peer_preshared_key(struct parser *p, const char *value)
{
	struct fg_config_peer *peer = cur_peer(p);

	if (key_value(p, value, "PresharedKey", peer->preshared_key) < 0)
		return -EINVAL;
	/* wg(8) reads an all-zero PSK as "no PSK". */
	peer->has_preshared_key = !fg_key_is_zero(peer->preshared_key);
	return 0;
}

static int peer_allowed_ip(struct parser *p, const char *value)
{
	struct fg_config_peer *peer = cur_peer(p);
	struct fg_prefix pfx;

	if (fg_prefix_parse(value, &pfx) < 0)
		return fail(p, value, "invalid AllowedIPs entry (want ip/len)");
	if (peer->n_allowed_ips == FG_CONFIG_MAX_ALLOWED_IPS)
		return fail(p, value, "too many AllowedIPs (at most %d per peer)",
			    FG_CONFIG_MAX_ALLOWED_IPS);
	if (peer->n_allowed_ips == p->allowed_cap) {
		size_t cap = p->allowed_cap ? p->allowed_cap * 2 : ALLOWED_IPS_INITIAL;
		struct fg_prefix *a = realloc(peer->allowed_ips, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		peer->allowed_ips = a;
		p->allowed_cap = cap;
	}
	peer->allowed_ips[peer->n_allowed_ips++] = pfx;
	return 0;
}

static int peer_endpoint(struct parser *p, const char *value)
{
	struct fg_config_peer *peer = cur_peer(p);

	if (fg_endpoint_parse(value, &peer->endpoint) < 0)
		return fail(p, value, "invalid Endpoint (want numeric ip:port or [ipv6]:port)");
	peer->has_endpoint = true;
	return 0;
}

static int peer_keepalive(struct parser *p, const char *value)
{
	uint32_t v = 0;

	if (strcasecmp(value, "off") != 0 &&
	    number(p, value, "PersistentKeepalive (or off)", 0, UINT16_MAX, false, &v) < 0)
		return -EINVAL;
	cur_peer(p)->persistent_keepalive = (uint16_t)v;
	return 0;
}

/* ---- [Uplink] ---- */

static bool v4_usable(const struct fg_ip *ip)
{
	uint8_t a = ip->addr[0];
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };

	return ip->family == AF_INET && a != 0 && (a & 0xf0) != 0xe0 &&
	       memcmp(ip->addr, bcast, 4) != 0;
}

static bool v6_usable(const struct fg_ip *ip)
{
	static const uint8_t zero[16];

	return ip->family == AF_INET6 && ip->addr[0] != 0xff && memcmp(ip->addr, zero, 16) != 0;
}

/* An outer address: unicast, with an explicit prefix length. */
static int outer_address(struct parser *p, const char *value, struct fg_prefix *a, bool v6)
{
	if (!strchr(value, '/') || fg_prefix_parse_host(value, a) < 0 || a->len == 0 ||
	    !(v6 ? v6_usable(&a->ip) : v4_usable(&a->ip)))
		return fail(p, value, "invalid Address%s (want unicast IPv%c with prefix length, e.g. %s)",
			    v6 ? "6" : "", v6 ? '6' : '4', v6 ? "2001:2::1/64" : "198.18.1.1/24");
	return 0;
}

static int outer_gateway(struct parser *p, const char *value, struct fg_ip *g, bool v6)
{
	if (fg_ip_parse(value, g) < 0 || !(v6 ? v6_usable(g) : v4_usable(g)))
		return fail(p, value, "invalid Gateway%s (want a unicast IPv%c address)", v6 ? "6" : "",
			    v6 ? '6' : '4');
	return 0;
}

static int uplink_address(struct parser *p, const char *value)
{
	return outer_address(p, value, &p->cfg->uplink.address, false);
}

static int uplink_address6(struct parser *p, const char *value)
{
	return outer_address(p, value, &p->cfg->uplink.address6, true);
}

static int uplink_gateway(struct parser *p, const char *value)
{
	return outer_gateway(p, value, &p->cfg->uplink.gateway, false);
}

static int uplink_gateway6(struct parser *p, const char *value)
{
	return outer_gateway(p, value, &p->cfg->uplink.gateway6, true);
}

static int uplink_port(struct parser *p, const char *value)
{
	uint32_t v;

	if (number(p, value, "Port", 0, RTE_MAX_ETHPORTS - 1, false, &v) < 0)
		return -EINVAL;
	p->cfg->uplink.port = (uint16_t)v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int uplink_mac(struct parser *p, const char *value)
{
	struct fg_config_uplink *u = &p->cfg->uplink;
	uint8_t mac[FG_CONFIG_MAC_LEN];
	bool ok = strlen(value) == FG_CONFIG_MAC_LEN * 3 - 1;

	for (size_t i = 0; ok && i < FG_CONFIG_MAC_LEN; i++) {
		int hi = hex_digit(value[i * 3]), lo = hex_digit(value[i * 3 + 1]);

		ok = hi >= 0 && lo >= 0 && (i == FG_CONFIG_MAC_LEN - 1 || value[i * 3 + 2] == ':');
		if (ok) /* hi is -1 for a bad digit: no shift of a negative value */
			mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* A multicast or all-zero source MAC would be dropped by every switch. */
	if (!ok || (mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return fail(p, value, "invalid MAC (want unicast aa:bb:cc:dd:ee:ff)");
	memcpy(u->mac, mac, sizeof(mac));
	u->has_mac = true;
	return 0;
}

/* ---- [Dataplane] ---- */

#define DP_NUMBER(fn, key, field, min, max, pow2)                                   \
	static int fn(struct parser *p, const char *value)                         \
	{                                                                          \
		return number(p, value, key, min, max, pow2, &p->cfg->dp.field);   \
	}

DP_NUMBER(dp_workers, "Workers", workers, 1, MAX_WORKERS, false)
DP_NUMBER(dp_rx, "RxDescriptors", rx_descriptors, FG_CONFIG_MIN_DESCRIPTORS,
	  FG_CONFIG_MAX_DESCRIPTORS, true)
DP_NUMBER(dp_tx, "TxDescriptors", tx_descriptors, FG_CONFIG_MIN_DESCRIPTORS,
	  FG_CONFIG_MAX_DESCRIPTORS, true)
DP_NUMBER(dp_mbufs, "MbufCount", mbuf_count, FG_CONFIG_MIN_MBUFS, FG_CONFIG_MAX_MBUFS, false)
DP_NUMBER(dp_burst, "Burst", burst, 1, FG_CONFIG_MAX_BURST, false)
DP_NUMBER(dp_max_peers, "MaxPeers", max_peers, 1, FG_CONFIG_MAX_PEERS, false)
DP_NUMBER(dp_conntrack, "ConnTrackTuples", conntrack_tuples, FG_CONFIG_MIN_CONNTRACK, FG_CONFIG_MAX_CONNTRACK, false)
DP_NUMBER(dp_handshake_queue, "HandshakeQueue", handshake_queue, FG_CONFIG_MIN_HANDSHAKE_QUEUE,
	  FG_CONFIG_MAX_HANDSHAKE_QUEUE, true)

static int dp_under_load(struct parser *p, const char *value)
{
	p->under_load_set = true;
	return number(p, value, "UnderLoadThreshold", 1, FG_CONFIG_MAX_HANDSHAKE_QUEUE - 1, false,
		      &p->cfg->dp.under_load_threshold);
}

static int dp_crypto(struct parser *p, const char *value)
{
	if (strcasecmp(value, "auto") == 0)
		p->cfg->dp.crypto = FG_CONFIG_CRYPTO_AUTO;
	else if (strcasecmp(value, "libsodium") == 0)
		p->cfg->dp.crypto = FG_CONFIG_CRYPTO_LIBSODIUM;
	else if (strcasecmp(value, "ipsec-mb") == 0)
		p->cfg->dp.crypto = FG_CONFIG_CRYPTO_IPSECMB;
	else
		return fail(p, value, "invalid Crypto (auto, ipsec-mb or libsodium)");
	return 0;
}

/* ---- [Host] ---- */

static int host_name(struct parser *p, const char *value)
{
	size_t n = strlen(value);
	bool ok = n > 0 && n < FG_CONFIG_IFNAME_LEN && strcmp(value, ".") && strcmp(value, "..");

	for (size_t i = 0; ok && i < n; i++) {
		char c = value[i];

		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_' || c == '.' || c == '-';
	}
	if (!ok)
		return fail(p, value, "invalid Name (1..%d of [A-Za-z0-9_.-])", FG_CONFIG_IFNAME_LEN - 1);
	memcpy(p->cfg->host.name, value, n + 1);
	return 0;
}

static int host_route(struct parser *p, const char *value)
{
	struct fg_config_host *h = &p->cfg->host;

	if (h->n_routes == FG_CONFIG_MAX_ROUTES)
		return fail(p, value, "too many routes (at most %d)", FG_CONFIG_MAX_ROUTES);
	if (!strchr(value, '/') || fg_prefix_parse(value, &h->routes[h->n_routes]) < 0)
		return fail(p, value, "invalid Route (want ip/len)");
	h->n_routes++;
	return 0;
}

static int host_tx_queue_len(struct parser *p, const char *value)
{
	return number(p, value, "TxQueueLen", 1, UINT32_MAX, false, &p->cfg->host.tx_queue_len);
}

static int host_offload(struct parser *p, const char *value)
{
	if (strcasecmp(value, "on") == 0 || strcasecmp(value, "true") == 0)
		p->cfg->host.offload = true;
	else if (strcasecmp(value, "off") == 0 || strcasecmp(value, "false") == 0)
		p->cfg->host.offload = false;
	else
		return fail(p, value, "invalid Offload (on or off)");
	return 0;
}

static int host_tun_io(struct parser *p, const char *value)
{
	static const struct { const char *name; enum fg_tun_io v; } names[] = {
		{ "auto", FG_TUN_IO_AUTO },
		{ "syscall", FG_TUN_IO_SYSCALL },
		{ "io_uring", FG_TUN_IO_URING },
		{ "sqpoll", FG_TUN_IO_SQPOLL },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(value, names[i].name) == 0) {
			p->cfg->host.tun_io = names[i].v;
			return 0;
		}
	}
	return fail(p, value, "invalid TunIo (auto, syscall, io_uring or sqpoll)");
}

static int host_tun_io_sqpoll_cpu(struct parser *p, const char *value)
{
	uint32_t cpu;

	if (number(p, value, "TunIoSqpollCpu", 0, FG_CONFIG_MAX_CPU, false, &cpu) < 0)
		return -EINVAL;
	p->cfg->host.tun_io_sqpoll_cpu = (int32_t)cpu;
	return 0;
}

static const struct key_def keys[] = {
	{ SEC_INTERFACE, "PrivateKey", iface_private_key, 0 },
	{ SEC_INTERFACE, "ListenPort", iface_listen_port, 0 },
	{ SEC_INTERFACE, "Address", iface_address, KEY_LIST },
	{ SEC_INTERFACE, "MTU", iface_mtu, 0 },
	{ SEC_PEER, "PublicKey", peer_public_key, 0 },
	{ SEC_PEER, "PresharedKey", peer_preshared_key, 0 },
	{ SEC_PEER, "AllowedIPs", peer_allowed_ip, KEY_LIST },
	{ SEC_PEER, "Endpoint", peer_endpoint, 0 },
	{ SEC_PEER, "PersistentKeepalive", peer_keepalive, 0 },
	{ SEC_UPLINK, "Address", uplink_address, 0 },
	{ SEC_UPLINK, "Gateway", uplink_gateway, 0 },
	{ SEC_UPLINK, "Address6", uplink_address6, 0 },
	{ SEC_UPLINK, "Gateway6", uplink_gateway6, 0 },
	{ SEC_UPLINK, "Port", uplink_port, 0 },
	{ SEC_UPLINK, "MAC", uplink_mac, 0 },
	{ SEC_DATAPLANE, "Workers", dp_workers, 0 },
	{ SEC_DATAPLANE, "RxDescriptors", dp_rx, 0 },
	{ SEC_DATAPLANE, "TxDescriptors", dp_tx, 0 },
	{ SEC_DATAPLANE, "MbufCount", dp_mbufs, 0 },
	{ SEC_DATAPLANE, "Burst", dp_burst, 0 },
	{ SEC_DATAPLANE, "MaxPeers", dp_max_peers, 0 },
	{ SEC_DATAPLANE, "ConnTrackTuples", dp_conntrack, 0 },
	{ SEC_DATAPLANE, "HandshakeQueue", dp_handshake_queue, 0 },
	{ SEC_DATAPLANE, "UnderLoadThreshold", dp_under_load, 0 },
	{ SEC_DATAPLANE, "Crypto", dp_crypto, 0 },
	{ SEC_HOST, "Name", host_name, 0 },
	{ SEC_HOST, "Route", host_route, KEY_LIST },
	{ SEC_HOST, "TxQueueLen", host_tx_queue_len, 0 },
	{ SEC_HOST, "Offload", host_offload, 0 },
	{ SEC_HOST, "TunIo", host_tun_io, 0 },
	{ SEC_HOST, "TunIoSqpollCpu", host_tun_io_sqpoll_cpu, 0 },
};

_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 64, "keys_seen and key_line hold 64 keys");

static size_t key_index(enum section s, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].section == s && strcasecmp(keys[i].name, name) == 0)
			break;
	return i;
}

static unsigned int line_of(const struct parser *p, enum section s, const char *name)
{
	return p->key_line[key_index(s, name)];
}

void fg_config_defaults(struct fg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->iface.listen_port = FG_CONFIG_DEFAULT_LISTEN_PORT;
	c->iface.mtu = FG_CONFIG_DEFAULT_MTU;
	c->dp.workers = FG_CONFIG_DEFAULT_WORKERS;
	c->dp.rx_descriptors = FG_CONFIG_DEFAULT_DESCRIPTORS;
	c->dp.tx_descriptors = FG_CONFIG_DEFAULT_DESCRIPTORS;
	c->dp.mbuf_count = FG_CONFIG_DEFAULT_MBUFS;
	c->dp.burst = FG_CONFIG_DEFAULT_BURST;
	c->dp.max_peers = FG_CONFIG_DEFAULT_MAX_PEERS;
	c->dp.conntrack_tuples = FG_CONFIG_DEFAULT_CONNTRACK;
	c->dp.handshake_queue = FG_CONFIG_DEFAULT_HANDSHAKE_QUEUE;
	c->dp.under_load_threshold = FG_CONFIG_DEFAULT_HANDSHAKE_QUEUE / UNDER_LOAD_DIVISOR;
	snprintf(c->host.name, sizeof(c->host.name), "%s", FG_CONFIG_DEFAULT_HOST_NAME);
	c->host.tx_queue_len = FG_CONFIG_DEFAULT_TX_QUEUE_LEN;
	c->host.offload = true;
	c->host.tun_io = FG_TUN_IO_AUTO;
	c->host.tun_io_sqpoll_cpu = -1;
}

void fg_config_free(struct fg_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_peers; i++)
		free(c->peers[i].allowed_ips);
	if (c->peers)
		sodium_memzero(c->peers, c->n_peers * sizeof(*c->peers));
	free(c->peers);
	sodium_memzero(c, sizeof(*c));
}

void fg_config_wipe_keys(struct fg_config *c)
{
	sodium_memzero(c->iface.private_key, sizeof(c->iface.private_key));
	for (size_t i = 0; i < c->n_peers; i++)
		sodium_memzero(c->peers[i].preshared_key, sizeof(c->peers[i].preshared_key));
}

/* Grows the peer array by hand so that no copy of a PSK is left in freed memory. */
static int add_peer(struct parser *p)
{
	struct fg_config *c = p->cfg;

	if (c->n_peers == FG_CONFIG_MAX_PEERS)
		return fail(p, "[Peer]", "too many peers (at most %d)", FG_CONFIG_MAX_PEERS);
	if (c->n_peers == p->peers_cap) {
		size_t cap = p->peers_cap ? p->peers_cap * 2 : PEERS_INITIAL;
		struct fg_config_peer *np = calloc(cap, sizeof(*np));

		if (!np)
			return -ENOMEM;
		if (c->peers) {
			memcpy(np, c->peers, c->n_peers * sizeof(*np));
			sodium_memzero(c->peers, c->n_peers * sizeof(*np));
			free(c->peers);
		}
		c->peers = np;
		p->peers_cap = cap;
	}
	memset(&c->peers[c->n_peers], 0, sizeof(c->peers[0]));
	c->peers[c->n_peers].line = p->line;
	c->n_peers++;
	p->allowed_cap = 0;
	return 0;
}

/* Checks made when a section ends (another header or the end of the file). */
static int end_section(struct parser *p)
{
	if (p->section == SEC_PEER && !(p->keys_seen & (1ull << key_index(SEC_PEER, "PublicKey"))))
		return fail_at(p, p->section_line, "[Peer]", 6, "peer has no PublicKey");
	return 0;
}

static int section_header(struct parser *p, const char *text)
{
	size_t n = strlen(text), start = 1, end;
	enum section s;
	int rc;

	if (n < 2 || text[n - 1] != ']')
		return fail(p, text, "invalid section header");
	end = n - 1;
	while (start < end && (text[start] == ' ' || text[start] == '\t'))
		start++;
	while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t'))
		end--;
	for (s = SEC_INTERFACE; s < SEC_COUNT; s++)
		if (strlen(section_names[s]) == end - start &&
		    strncasecmp(text + start, section_names[s], end - start) == 0)
			break;
	if (s == SEC_COUNT)
		return fail(p, text, "unknown section");
	if ((rc = end_section(p)) < 0)
		return rc;
	if (s != SEC_PEER && (p->sections_seen & (1u << s)))
		return fail(p, text, "duplicate section (first at line %u)", p->section_lines[s]);
	p->sections_seen |= 1u << s;
	p->section_lines[s] = p->line;
	p->section = s;
	p->section_line = p->line;
	p->keys_seen = 0;
	return s == SEC_PEER ? add_peer(p) : 0;
}

static char *trim(char *s)
{
	static const char ws[] = " \t\r\v\f";
	size_t n;

	s += strspn(s, ws);
	n = strlen(s);
	while (n > 0 && strchr(ws, s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int key_line(struct parser *p, char *text)
{
	char *eq = strchr(text, '=');
	char *key, *value;
	size_t idx;
	const struct key_def *k;
	int rc;

	if (!eq)
		return fail(p, text, "expected 'Key = Value'");
	*eq = '\0';
	key = trim(text);
	value = trim(eq + 1);
	if (!*key)
		return fail(p, "=", "missing key name");
	if (p->section == SEC_NONE)
		return fail(p, key, "key outside of any section");
	idx = key_index(p->section, key);
	if (idx == sizeof(keys) / sizeof(keys[0]))
		return fail(p, key, "unknown key in [%s]", section_names[p->section]);
	k = &keys[idx];
	if (!*value)
		return fail(p, key, "empty value");
	if (!(k->flags & KEY_LIST) && (p->keys_seen & (1ull << idx)))
		return fail(p, key, "duplicate key in [%s]", section_names[p->section]);
	p->keys_seen |= 1ull << idx;
	p->key_line[idx] = p->line;
	if (!(k->flags & KEY_LIST))
		return k->set(p, value);

	for (char *item = value, *next; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		item = trim(item);
		if (!*item)
			return fail(p, key, "empty item in list");
		if ((rc = k->set(p, item)) < 0)
			return rc;
	}
	return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t extra;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= extra)
			return false;
		for (size_t j = 1; j <= extra; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += extra + 1;
	}
	return true;
}

static int parse_line(struct parser *p, const char *raw, size_t len)
{
	char buf[FG_CONFIG_MAX_LINE + 1];
	char *text;
	int rc;

	if (len > FG_CONFIG_MAX_LINE)
		return fail_at(p, p->line, raw, len, "line longer than %d bytes", FG_CONFIG_MAX_LINE);
	if (memchr(raw, '\0', len))
		return fail_at(p, p->line, raw, len, "NUL byte in line");
	if (!valid_utf8((const unsigned char *)raw, len))
		return fail_at(p, p->line, raw, len, "invalid UTF-8");
	memcpy(buf, raw, len);
	buf[len] = '\0';
	/* A comment starts at '#' or ';' at the start of the line or after whitespace. */
	for (size_t i = 0; i < len; i++) {
		if ((buf[i] == '#' || buf[i] == ';') && (i == 0 || buf[i - 1] == ' ' || buf[i - 1] == '\t')) {
			buf[i] = '\0';
			break;
		}
	}
	text = trim(buf);
	if (!*text)
		rc = 0;
	else if (text[0] == '[')
		rc = section_header(p, text);
	else
		rc = key_line(p, text);
	sodium_memzero(buf, len + 1);
	return rc;
}

static int compare_peer_keys(const void *a, const void *b)
{
	const struct fg_config_peer *x = *(const struct fg_config_peer *const *)a;
	const struct fg_config_peer *y = *(const struct fg_config_peer *const *)b;
	int c = memcmp(x->public_key, y->public_key, FG_KEY_LEN);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int check_peers(struct parser *p)
{
	struct fg_config *c = p->cfg;
	struct fg_config_peer **sorted;
	int rc = 0;

	if (c->n_peers > c->dp.max_peers)
		return fail_at(p, c->peers[c->dp.max_peers].line, "[Peer]", 6,
			       "more peers than MaxPeers (%u)", c->dp.max_peers);
	for (size_t i = 0; i < c->n_peers; i++) {
		if (memcmp(c->peers[i].public_key, c->iface.public_key, FG_KEY_LEN) == 0)
			return fail_public_key(p, c->peers[i].line, c->peers[i].public_key,
					       "peer PublicKey is this interface's own key");
	}
	if (c->n_peers < 2)
		return 0;
	sorted = malloc(c->n_peers * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_peers; i++)
		sorted[i] = &c->peers[i];
	qsort(sorted, c->n_peers, sizeof(*sorted), compare_peer_keys);
	for (size_t i = 1; i < c->n_peers; i++) {
		if (memcmp(sorted[i - 1]->public_key, sorted[i]->public_key, FG_KEY_LEN) == 0) {
			rc = fail_public_key(p, sorted[i]->line, sorted[i]->public_key,
					     "duplicate PublicKey (first at line %u)", sorted[i - 1]->line);
			break;
		}
	}
	free(sorted);
	return rc;
}

/* Checks that need the whole file: required sections and keys, and limits across keys. */
static int validate(struct parser *p)
{
	struct fg_config *c = p->cfg;
	unsigned int line;
	int rc;

	if (!(p->sections_seen & (1u << SEC_INTERFACE)))
		return fail(p, "[Interface]", "missing section");
	/* No PrivateKey (portal mode): the data plane makes a new key at start, in memory
	 * only (fg_dp_load_peers), as the Rust gateway does at every start. */
	if (!(p->sections_seen & (1u << SEC_UPLINK)))
		return fail(p, "[Uplink]", "missing section");
	if (!line_of(p, SEC_UPLINK, "Address"))
		return fail_at(p, p->section_lines[SEC_UPLINK], "[Uplink]", 8, "missing Address");
	if ((line = line_of(p, SEC_UPLINK, "Gateway")) &&
	    fg_ip_equal(&c->uplink.gateway, &c->uplink.address.ip))
		return fail_at(p, line, "Gateway", 7, "Gateway is the Uplink Address itself");
	if ((line = line_of(p, SEC_UPLINK, "Gateway6"))) {
		if (!c->uplink.address6.ip.family)
			return fail_at(p, line, "Gateway6", 8, "Gateway6 without Address6");
		if (fg_ip_equal(&c->uplink.gateway6, &c->uplink.address6.ip))
			return fail_at(p, line, "Gateway6", 8, "Gateway6 is the Uplink Address6 itself");
	}
	if ((line = line_of(p, SEC_INTERFACE, "MTU")) && c->iface.mtu < FG_CONFIG_DEFAULT_MTU) {
		for (size_t i = 0; i < c->iface.n_addresses; i++)
			if (c->iface.addresses[i].ip.family == AF_INET6)
				return fail_at(p, line, "MTU", 3, "MTU below 1280 with an IPv6 Address");
	}
	if (!p->under_load_set)
		c->dp.under_load_threshold = c->dp.handshake_queue / UNDER_LOAD_DIVISOR;
	else if (c->dp.under_load_threshold >= c->dp.handshake_queue)
		return fail_at(p, line_of(p, SEC_DATAPLANE, "UnderLoadThreshold"), "UnderLoadThreshold",
			       18, "UnderLoadThreshold must be below HandshakeQueue (%u)",
			       c->dp.handshake_queue);
	/* Every worker's RX ring must be fillable with the pool to spare. */
	if ((uint64_t)c->dp.workers * c->dp.rx_descriptors >= c->dp.mbuf_count) {
		line = line_of(p, SEC_DATAPLANE, "MbufCount");
		if (!line)
			line = p->section_lines[SEC_DATAPLANE];
		return fail_at(p, line, "MbufCount", 9,
			       "MbufCount (%u) must exceed Workers x RxDescriptors (%u x %u)",
			       c->dp.mbuf_count, c->dp.workers, c->dp.rx_descriptors);
	}
	if ((rc = check_peers(p)) < 0)
		return rc;
	return 0;
}

int fg_config_parse(const char *text, size_t len, const char *name, struct fg_config *out,
		    char *err, size_t errlen)
{
	struct parser p;
	size_t pos = 0;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.name = name ? name : "config";
	p.err = err;
	p.errlen = errlen;
	p.cfg = out;
	if (err && errlen)
		err[0] = '\0';
	fg_config_defaults(out);
	if (!text && len)
		return fail(&p, "", "no text");
	/* Skip a UTF-8 byte order mark, as left by some editors. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		rc = parse_line(&p, text + pos, n);
		pos += n + (nl ? 1 : 0);
	}
	if (rc == 0)
		rc = end_section(&p);
	if (rc == 0) {
		if (p.line == 0)
			p.line = 1;
		rc = validate(&p);
	}
	if (rc < 0) {
		if (rc == -ENOMEM && err && errlen)
			snprintf(err, errlen, "%s:%u: out of memory", p.name, p.line);
		fg_config_free(out);
	}
	return rc;
}

/* A configured PrivateKey or any PSK makes the file secret. */
static bool holds_secret(const struct fg_config *c)
{
	if (!fg_key_is_zero(c->iface.private_key))
		return true;
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].has_preshared_key)
			return true;
	return false;
}

int fg_config_load(const char *path, struct fg_config *out, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc;

	fg_config_defaults(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto err_report;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto err_close;
	}
	if (st.st_size > FG_CONFIG_MAX_FILE) {
		rc = -EFBIG;
		goto err_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto err_close;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	rc = fg_config_parse(buf, got, path, out, err, errlen);
	sodium_memzero(buf, (size_t)st.st_size + 1);
	free(buf);
	/* The descriptor read from, not the path again: the file checked is the one read. */
	if (rc == 0 && holds_secret(out))
		fg_secfile_check(fd, path, "configuration file holding a key");
	close(fd);
	return rc;

err_close:
	close(fd);
err_report:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path,
			 rc == -EINVAL ? "not a regular file" : strerror(-rc));
	return rc;
}
