// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the data plane's configuration parser (dataplane/config.c) and its
 * numeric option parser (dataplane/options.c). The input is the text of a config file.
 * Checks:
 *  - an error leaves the config zeroed and writes "fuzz:LINE: message: 'text'" with LINE
 *    within the file; a smaller error buffer gets the same result and a prefix of the message;
 *  - no valid PrivateKey or PresharedKey of the input (one that is not also a peer's
 *    PublicKey there) is ever quoted in a message, in base64 or hex;
 *  - a UTF-8 byte order mark in front changes nothing (same result, same message); CRLF line
 *    ends give the same result and the same config;
 *  - a parsed config holds every value in its documented range (config.h), the public key
 *    derived from the private one, unique peer keys, host bits cleared where promised; it is
 *    rendered back to INI text by the harness, and that text parses to an equal config;
 *    fg_config_wipe_keys() zeroes the secrets only, fg_config_free() zeroes the rest;
 *  - the first line, taken as a command-line number, is read by fg_options_parse_u32() as a
 *    naive decimal reading says (digits only, in range, else -EINVAL or -ERANGE).
 *
 *   scripts/fuzz.sh 60 config     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/config/ (config files, written by hand).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_config.h>
#include <sodium.h>

#include "config.h"
#include "fuzz_check.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	INPUT_MAX = 64 << 10,  /* the parser is linear; longer inputs only slow the fuzzer */
	ERR_LEN = 512,
	ERR_SHORT = 24,
	SECRETS_MAX = 64,
	LONG_LINE = FG_CONFIG_MAX_LINE - 8,
};

static bool zeroed(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* ---- range checks ---- */

static bool pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/* No bit of ip beyond len is set. */
static bool host_bits_clear(const struct fg_prefix *p)
{
	size_t bytes = fg_ip_len(p->ip.family);

	for (size_t bit = p->len; bit < bytes * 8; bit++)
		if (p->ip.addr[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

static bool prefix_ok(const struct fg_prefix *p)
{
	size_t bytes = fg_ip_len(p->ip.family);

	return bytes != 0 && p->len <= bytes * 8 && zeroed(p->ip.addr + bytes, 16 - bytes);
}

static bool unicast4(const struct fg_ip *ip)
{
	return ip->family == AF_INET && ip->addr[0] != 0 && (ip->addr[0] & 0xf0) != 0xe0 &&
	       !(ip->addr[0] == 255 && ip->addr[1] == 255 && ip->addr[2] == 255 && ip->addr[3] == 255);
}

static bool unicast6(const struct fg_ip *ip)
{
	return ip->family == AF_INET6 && ip->addr[0] != 0xff && !zeroed(ip->addr, 16);
}

static void check_peers(const struct fg_config *c)
{
	CHECK(c->n_peers <= c->dp.max_peers);
	CHECK(c->n_peers == 0 || c->peers != NULL);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct fg_config_peer *p = &c->peers[i];

		CHECK(memcmp(p->public_key, c->iface.public_key, FG_KEY_LEN) != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(memcmp(p->public_key, c->peers[j].public_key, FG_KEY_LEN) != 0);
		CHECK(p->has_preshared_key == !zeroed(p->preshared_key, FG_KEY_LEN));
		CHECK(p->line > 0 && (i == 0 || p->line > c->peers[i - 1].line));
		CHECK(p->n_allowed_ips <= FG_CONFIG_MAX_ALLOWED_IPS);
		CHECK(p->n_allowed_ips == 0 || p->allowed_ips != NULL);
		for (size_t k = 0; k < p->n_allowed_ips; k++)
			CHECK(prefix_ok(&p->allowed_ips[k]) && host_bits_clear(&p->allowed_ips[k]));
		if (p->has_endpoint)
			CHECK(fg_ip_len(p->endpoint.ip.family) != 0);
		else
			CHECK(p->endpoint.ip.family == 0 && p->endpoint.port == 0);
	}
}

static void check_ranges(const struct fg_config *c)
{
	const struct fg_config_interface *i = &c->iface;
	const struct fg_config_uplink *u = &c->uplink;
	const struct fg_config_dataplane *d = &c->dp;
	const struct fg_config_host *h = &c->host;
	uint8_t pub[FG_KEY_LEN];
	size_t n;

	if (zeroed(i->private_key, FG_KEY_LEN)) {
		CHECK(zeroed(i->public_key, FG_KEY_LEN));
	} else {
		crypto_scalarmult_curve25519_base(pub, i->private_key);
		CHECK(memcmp(pub, i->public_key, FG_KEY_LEN) == 0);
	}
	CHECK(i->listen_port >= 1);
	CHECK(i->mtu >= FG_CONFIG_MIN_MTU && i->mtu <= FG_CONFIG_MAX_MTU);
	CHECK(i->n_addresses <= FG_CONFIG_MAX_ADDRESSES);
	for (size_t k = 0; k < i->n_addresses; k++) {
		CHECK(prefix_ok(&i->addresses[k]));
		CHECK(i->mtu >= FG_CONFIG_DEFAULT_MTU || i->addresses[k].ip.family == AF_INET);
	}

	CHECK(prefix_ok(&u->address) && u->address.len > 0 && unicast4(&u->address.ip));
	CHECK(u->gateway.family == 0 ||
	      (unicast4(&u->gateway) && !fg_ip_equal(&u->gateway, &u->address.ip)));
	CHECK(u->address6.ip.family == 0 ||
	      (prefix_ok(&u->address6) && u->address6.len > 0 && unicast6(&u->address6.ip)));
	CHECK(u->gateway6.family == 0 ||
	      (u->address6.ip.family && unicast6(&u->gateway6) &&
	       !fg_ip_equal(&u->gateway6, &u->address6.ip)));
	CHECK(u->port < RTE_MAX_ETHPORTS);
	if (u->has_mac)
		CHECK(!(u->mac[0] & 1) && !zeroed(u->mac, FG_CONFIG_MAC_LEN));
	else
		CHECK(zeroed(u->mac, FG_CONFIG_MAC_LEN));

	CHECK(d->workers >= 1 && d->workers <= RTE_MAX_LCORE - 1);
	CHECK(pow2_in(d->rx_descriptors, FG_CONFIG_MIN_DESCRIPTORS, FG_CONFIG_MAX_DESCRIPTORS));
	CHECK(pow2_in(d->tx_descriptors, FG_CONFIG_MIN_DESCRIPTORS, FG_CONFIG_MAX_DESCRIPTORS));
	CHECK(d->mbuf_count >= FG_CONFIG_MIN_MBUFS && d->mbuf_count <= FG_CONFIG_MAX_MBUFS);
	CHECK((uint64_t)d->workers * d->rx_descriptors < d->mbuf_count);
	CHECK(d->burst >= 1 && d->burst <= FG_CONFIG_MAX_BURST);
	CHECK(d->max_peers >= 1 && d->max_peers <= FG_CONFIG_MAX_PEERS);
	CHECK(pow2_in(d->handshake_queue, FG_CONFIG_MIN_HANDSHAKE_QUEUE, FG_CONFIG_MAX_HANDSHAKE_QUEUE));
	CHECK(d->under_load_threshold >= 1 && d->under_load_threshold < d->handshake_queue);
	CHECK(d->crypto <= FG_CONFIG_CRYPTO_IPSECMB);
	CHECK(d->conntrack_tuples >= FG_CONFIG_MIN_CONNTRACK && d->conntrack_tuples <= FG_CONFIG_MAX_CONNTRACK);

	n = strnlen(h->name, sizeof(h->name));
	CHECK(n >= 1 && n < sizeof(h->name) && strcmp(h->name, ".") && strcmp(h->name, ".."));
	CHECK(strspn(h->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n);
	CHECK(h->tx_queue_len >= 1);
	CHECK(h->n_routes <= FG_CONFIG_MAX_ROUTES);
	for (size_t k = 0; k < h->n_routes; k++)
		CHECK(prefix_ok(&h->routes[k]) && host_bits_clear(&h->routes[k]));
	check_peers(c);
}

/* ---- rendering and comparing ---- */

static void put_key(FILE *f, const char *name, const uint8_t key[FG_KEY_LEN])
{
	char b64[FG_KEY_B64_LEN];

	fg_key_to_base64(b64, key);
	fprintf(f, "%s = %s\n", name, b64);
	sodium_memzero(b64, sizeof(b64));
}

static void put_prefix(FILE *f, const char *name, const struct fg_prefix *p)
{
	char s[FG_PREFIX_STRLEN];

	fprintf(f, "%s = %s\n", name, fg_prefix_format(p, s, sizeof(s)));
}

static void put_ip(FILE *f, const char *name, const struct fg_ip *ip)
{
	char s[FG_ADDR_STRLEN];

	fprintf(f, "%s = %s\n", name, fg_ip_format(ip, s, sizeof(s)));
}

static void render_peer(FILE *f, const struct fg_config_peer *p)
{
	char s[FG_ENDPOINT_STRLEN];

	fprintf(f, "\n[Peer]\n");
	put_key(f, "PublicKey", p->public_key);
	if (p->has_preshared_key)
		put_key(f, "PresharedKey", p->preshared_key);
	/* One list line and one line per entry: both forms are the same key. */
	for (size_t k = 0; k < p->n_allowed_ips; k++) {
		char a[FG_PREFIX_STRLEN];

		fprintf(f, "%s%s", k == 0 ? "AllowedIPs = " : k % 2 ? ", " : "\nAllowedIPs = ",
			fg_prefix_format(&p->allowed_ips[k], a, sizeof(a)));
	}
	if (p->n_allowed_ips)
		fputc('\n', f);
	if (p->has_endpoint)
		fprintf(f, "Endpoint = %s\n", fg_endpoint_format(&p->endpoint, s, sizeof(s)));
	if (p->persistent_keepalive)
		fprintf(f, "PersistentKeepalive = %u\n", p->persistent_keepalive);
	else
		fprintf(f, "PersistentKeepalive = off\n");
}

/* The config as an INI file; the caller frees the text (it may hold keys: wipe it). */
static char *render(const struct fg_config *c, size_t *len)
{
	static const char *const crypto[] = { "auto", "libsodium", "ipsec-mb" };
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	CHECK(f);
	fprintf(f, "[Interface] # rendered\n");
	if (!zeroed(c->iface.private_key, FG_KEY_LEN))
		put_key(f, "PrivateKey", c->iface.private_key);
	fprintf(f, "ListenPort = %u\nMTU = %u\n", c->iface.listen_port, c->iface.mtu);
	for (size_t k = 0; k < c->iface.n_addresses; k++)
		put_prefix(f, "Address", &c->iface.addresses[k]);

	fprintf(f, "[Uplink]\n");
	put_prefix(f, "Address", &c->uplink.address);
	if (c->uplink.gateway.family)
		put_ip(f, "Gateway", &c->uplink.gateway);
	if (c->uplink.address6.ip.family)
		put_prefix(f, "Address6", &c->uplink.address6);
	if (c->uplink.gateway6.family)
		put_ip(f, "Gateway6", &c->uplink.gateway6);
	fprintf(f, "Port = %u\n", c->uplink.port);
	if (c->uplink.has_mac) {
		const uint8_t *m = c->uplink.mac;

		fprintf(f, "MAC = %02x:%02x:%02x:%02X:%02X:%02X\n", m[0], m[1], m[2], m[3], m[4], m[5]);
	}

	fprintf(f, "[Dataplane]\nWorkers = %u\nRxDescriptors = %u\nTxDescriptors = %u\n"
		   "MbufCount = %u\nBurst = %u\nMaxPeers = %u\nHandshakeQueue = %u\n"
		   "UnderLoadThreshold = %u\nCrypto = %s\nConnTrackTuples = %u\n",
		c->dp.workers, c->dp.rx_descriptors, c->dp.tx_descriptors, c->dp.mbuf_count,
		c->dp.burst, c->dp.max_peers, c->dp.handshake_queue, c->dp.under_load_threshold,
		crypto[c->dp.crypto], c->dp.conntrack_tuples);

	fprintf(f, "[Host]\nName = %s\nTxQueueLen = %u\nOffload = %s\n", c->host.name,
		c->host.tx_queue_len, c->host.offload ? "on" : "off");
	for (size_t k = 0; k < c->host.n_routes; k++)
		put_prefix(f, "Route", &c->host.routes[k]);

	for (size_t i = 0; i < c->n_peers; i++)
		render_peer(f, &c->peers[i]);
	CHECK(fclose(f) == 0);
	return text;
}

static void check_same_peer(const struct fg_config_peer *a, const struct fg_config_peer *b)
{
	CHECK(memcmp(a->public_key, b->public_key, FG_KEY_LEN) == 0);
	CHECK(memcmp(a->preshared_key, b->preshared_key, FG_KEY_LEN) == 0);
	CHECK(a->has_preshared_key == b->has_preshared_key);
	CHECK(a->has_endpoint == b->has_endpoint);
	CHECK(!a->has_endpoint || fg_endpoint_equal(&a->endpoint, &b->endpoint));
	CHECK(a->persistent_keepalive == b->persistent_keepalive);
	CHECK(a->n_allowed_ips == b->n_allowed_ips);
	for (size_t k = 0; k < a->n_allowed_ips; k++)
		CHECK(memcmp(&a->allowed_ips[k], &b->allowed_ips[k], sizeof(struct fg_prefix)) == 0);
}

/* Equal in every field; peers' header lines only when the texts have the same lines. */
static void check_same(const struct fg_config *a, const struct fg_config *b, bool same_lines)
{
	CHECK(memcmp(a->iface.private_key, b->iface.private_key, FG_KEY_LEN) == 0);
	CHECK(memcmp(a->iface.public_key, b->iface.public_key, FG_KEY_LEN) == 0);
	CHECK(a->iface.listen_port == b->iface.listen_port && a->iface.mtu == b->iface.mtu);
	CHECK(a->iface.n_addresses == b->iface.n_addresses);
	CHECK(memcmp(a->iface.addresses, b->iface.addresses,
		     a->iface.n_addresses * sizeof(struct fg_prefix)) == 0);
	CHECK(memcmp(&a->uplink.address, &b->uplink.address, sizeof(struct fg_prefix)) == 0);
	CHECK(memcmp(&a->uplink.address6, &b->uplink.address6, sizeof(struct fg_prefix)) == 0);
	CHECK(memcmp(&a->uplink.gateway, &b->uplink.gateway, sizeof(struct fg_ip)) == 0);
	CHECK(memcmp(&a->uplink.gateway6, &b->uplink.gateway6, sizeof(struct fg_ip)) == 0);
	CHECK(a->uplink.port == b->uplink.port && a->uplink.has_mac == b->uplink.has_mac);
	CHECK(memcmp(a->uplink.mac, b->uplink.mac, FG_CONFIG_MAC_LEN) == 0);
	CHECK(memcmp(&a->dp, &b->dp, sizeof(a->dp)) == 0);
	CHECK(strcmp(a->host.name, b->host.name) == 0);
	CHECK(a->host.tx_queue_len == b->host.tx_queue_len && a->host.offload == b->host.offload);
	CHECK(a->host.n_routes == b->host.n_routes);
	CHECK(memcmp(a->host.routes, b->host.routes, a->host.n_routes * sizeof(struct fg_prefix)) == 0);
	CHECK(a->n_peers == b->n_peers);
	for (size_t i = 0; i < a->n_peers; i++) {
		check_same_peer(&a->peers[i], &b->peers[i]);
		CHECK(!same_lines || a->peers[i].line == b->peers[i].line);
	}
}

/* ---- errors and secrets ---- */

static size_t count_lines(const char *text, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			n++;
	return n;
}

static void check_error(const char *err, const char *text, size_t len)
{
	char *end;
	unsigned long line;

	CHECK(strncmp(err, "fuzz:", 5) == 0);
	line = strtoul(err + 5, &end, 10);
	CHECK(end != err + 5 && line >= 1 && line <= count_lines(text, len));
	CHECK(strncmp(end, ": ", 2) == 0);
	CHECK(strchr(end, '\'') || strstr(end, "out of memory"));
	CHECK(strlen(err) < ERR_LEN);
}

struct secrets {
	size_t n;
	char b64[SECRETS_MAX][FG_KEY_B64_LEN];
	char hex[SECRETS_MAX][FG_KEY_HEX_LEN];
};

/*
 * The value of a line "NAME = value" (name case-insensitive, as the parser reads it) when it
 * is a valid key; copied into out (FG_KEY_B64_LEN bytes).
 */
static bool key_line_value(const char *line, size_t n, const char *name, char *out)
{
	char buf[FG_CONFIG_MAX_LINE + 1];
	uint8_t key[FG_KEY_LEN];
	char *s, *eq, *v, *e;
	bool ok;

	if (n > FG_CONFIG_MAX_LINE)
		return false;
	memcpy(buf, line, n);
	buf[n] = '\0';
	s = buf + strspn(buf, " \t\r\v\f");
	eq = strchr(s, '=');
	if (!eq || strncasecmp(s, name, strlen(name)) != 0 ||
	    strspn(s + strlen(name), " \t\r\v\f") != (size_t)(eq - s) - strlen(name))
		return false;
	v = eq + 1 + strspn(eq + 1, " \t\r\v\f");
	e = v + strcspn(v, " \t\r\v\f#;");
	if (e - v != FG_KEY_B64_LEN - 1)
		return false;
	*e = '\0';
	ok = fg_key_from_base64(key, v) == 0;
	if (ok)
		memcpy(out, v, FG_KEY_B64_LEN);
	sodium_memzero(key, sizeof(key));
	return ok;
}

/* The valid PrivateKey and PresharedKey values of the text that are no peer's PublicKey. */
static void find_secrets(const char *text, size_t len, struct secrets *s)
{
	char pubs[SECRETS_MAX][FG_KEY_B64_LEN], v[FG_KEY_B64_LEN];
	size_t n_pubs = 0, pos = 0;

	s->n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		if ((key_line_value(text + pos, n, "PrivateKey", v) ||
		     key_line_value(text + pos, n, "PresharedKey", v)) && s->n < SECRETS_MAX)
			memcpy(s->b64[s->n++], v, sizeof(v));
		else if (key_line_value(text + pos, n, "PublicKey", v) && n_pubs < SECRETS_MAX)
			memcpy(pubs[n_pubs++], v, sizeof(v));
		pos += n + 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		uint8_t key[FG_KEY_LEN];
		bool public = false;

		for (size_t j = 0; j < n_pubs; j++)
			public = public || strcmp(s->b64[i], pubs[j]) == 0;
		if (public) {
			memmove(s->b64[i], s->b64[s->n - 1], FG_KEY_B64_LEN);
			s->n--;
			i--;
			continue;
		}
		CHECK(fg_key_from_base64(key, s->b64[i]) == 0);
		fg_key_to_hex(s->hex[i], key);
		sodium_memzero(key, sizeof(key));
		/* A run of digits only is not taken for a key (fg_key_redact): not checked. */
		if (strspn(s->hex[i], "0123456789") == FG_KEY_HEX_LEN - 1)
			s->hex[i][0] = '\0';
	}
}

static void check_no_secret(const char *err, const struct secrets *s)
{
	for (size_t i = 0; i < s->n; i++) {
		CHECK(!strstr(err, s->b64[i]));
		CHECK(!s->hex[i][0] || !strcasestr(err, s->hex[i]));
	}
}

/* ---- options ---- */

static void check_option(const char *text, size_t len)
{
	static const uint32_t maxes[] = {
		FG_OPTIONS_IDLE_SLEEP_US_MAX, FG_OPTIONS_STATS_INTERVAL_MAX, UINT32_MAX, 0,
	};
	char s[32];
	size_t n = strnlen(text, len < sizeof(s) - 1 ? len : sizeof(s) - 1);
	const char *nl = memchr(text, '\n', n);
	uint64_t v = 0;
	bool digits, big = false;

	if (nl)
		n = (size_t)(nl - text);
	memcpy(s, text, n);
	s[n] = '\0';
	digits = n > 0;
	for (size_t i = 0; i < n && digits; i++) {
		digits = s[i] >= '0' && s[i] <= '9';
		if (!big)
			v = v * 10 + (uint64_t)(s[i] - '0');
		big = big || v > UINT32_MAX;
	}
	for (size_t m = 0; m < N(maxes); m++) {
		uint32_t out = 0xdeadbeef;
		int rc = fg_options_parse_u32(s, maxes[m], &out);

		if (!digits)
			CHECK(rc == -EINVAL && out == 0xdeadbeef);
		else if (big || v > maxes[m])
			CHECK(rc == -ERANGE && out == 0xdeadbeef);
		else
			CHECK(rc == 0 && out == v);
	}
	CHECK(fg_options_parse_u32(NULL, UINT32_MAX, &(uint32_t){ 0 }) == -EINVAL);
}

/* ---- the harness ---- */

static char *with_bom(const char *text, size_t len)
{
	char *t = malloc(len + 3);

	CHECK(t);
	memcpy(t, "\xef\xbb\xbf", 3);
	memcpy(t + 3, text, len);
	return t;
}

/* Every "\n" as "\r\n"; NULL when a line would come near the length limit. */
static char *with_crlf(const char *text, size_t len, size_t *out_len)
{
	char *t = malloc(2 * len + 1);
	size_t o = 0, line = 0;

	CHECK(t);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			t[o++] = '\r';
			line = 0;
		} else if (++line > LONG_LINE) {
			free(t);
			return NULL;
		}
		t[o++] = text[i];
	}
	*out_len = o;
	return t;
}

static void check_parsed(struct fg_config *c)
{
	struct fg_config again;
	char err[ERR_LEN];
	size_t len = 0;
	char *text;

	check_ranges(c);
	text = render(c, &len);
	/* (The rendering is not printed: it may hold keys; the input is kept by libFuzzer.) */
	if (fg_config_parse(text, len, "fuzz", &again, err, sizeof(err)) != 0) {
		fprintf(stderr, "rendered config does not parse: %s\n", err);
		abort();
	}
	check_same(c, &again, false);
	sodium_memzero(text, len);
	free(text);

	/* Wiping keys leaves everything else, and has_preshared_key, as they were. */
	fg_config_wipe_keys(&again);
	CHECK(zeroed(again.iface.private_key, FG_KEY_LEN));
	CHECK(memcmp(again.iface.public_key, c->iface.public_key, FG_KEY_LEN) == 0);
	for (size_t i = 0; i < again.n_peers; i++) {
		CHECK(zeroed(again.peers[i].preshared_key, FG_KEY_LEN));
		CHECK(again.peers[i].has_preshared_key == c->peers[i].has_preshared_key);
		CHECK(memcmp(again.peers[i].public_key, c->peers[i].public_key, FG_KEY_LEN) == 0);
	}
	fg_config_free(&again);
	CHECK(zeroed(&again, sizeof(again)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct fg_config c, c2;
	char err[ERR_LEN], err2[ERR_LEN], small[ERR_SHORT];
	struct secrets secrets;
	size_t len2 = 0;
	char *t2;
	int rc, rc2;

	if (size > INPUT_MAX)
		return 0;
	check_option(text, size);

	memset(err, 'x', sizeof(err));
	rc = fg_config_parse(text, size, "fuzz", &c, err, sizeof(err));
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	CHECK(memchr(err, '\0', sizeof(err)));
	if (rc == 0) {
		CHECK(err[0] == '\0');
	} else {
		CHECK(zeroed(&c, sizeof(c)));
		check_error(err, text, size);
		find_secrets(text, size, &secrets);
		check_no_secret(err, &secrets);
		sodium_memzero(&secrets, sizeof(secrets));
	}

	/* A short buffer: the same result, the message cut short. */
	rc2 = fg_config_parse(text, size, "fuzz", &c2, small, sizeof(small));
	CHECK(rc2 == rc);
	CHECK(strlen(small) < sizeof(small) && strncmp(small, err, strlen(small)) == 0);
	CHECK(rc != 0 || small[0] == '\0');
	fg_config_free(&c2);
	CHECK(fg_config_parse(text, size, "fuzz", &c2, NULL, 0) == rc);
	fg_config_free(&c2);

	/* A byte order mark in front is skipped: everything the same. */
	if (size < 3 || memcmp(text, "\xef\xbb\xbf", 3) != 0) {
		t2 = with_bom(text, size);
		rc2 = fg_config_parse(t2, size + 3, "fuzz", &c2, err2, sizeof(err2));
		CHECK(rc2 == rc && strcmp(err, err2) == 0);
		if (rc == 0)
			check_same(&c, &c2, true);
		fg_config_free(&c2);
		sodium_memzero(t2, size + 3);
		free(t2);
	}

	/* CRLF line ends: the same result. */
	t2 = with_crlf(text, size, &len2);
	if (t2) {
		rc2 = fg_config_parse(t2, len2, "fuzz", &c2, err2, sizeof(err2));
		CHECK(rc2 == rc);
		if (rc == 0)
			check_same(&c, &c2, true);
		fg_config_free(&c2);
		sodium_memzero(t2, len2);
		free(t2);
	}

	if (rc == 0)
		check_parsed(&c);
	fg_config_free(&c);
	CHECK(zeroed(&c, sizeof(c)));
	return 0;
}
