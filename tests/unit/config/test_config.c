// SPDX-License-Identifier: MIT
/*
 * CUnit suite for dataplane/config.c: the documented example file (its path is argv[1]),
 * good inputs and defaults, one case per error message checking FILE:LINE and the quoted
 * text, a hostile table, truncation of the example at every byte, random corruption, and
 * checks that no key ever appears in a message. The example keys' public halves were
 * derived with wg(8) (`wg pubkey`), the independent implementation here. Single-threaded.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <sodium.h>

#include "../cunit_run.h"

#define PRIV "gMP2WpYc6c7lBpAvuzDv8rROvkIWdfbHZbhzBLKvXWU="
#define PUB "oKSiqeykE+B6SJ3Nn+ZbTPTzWt+Eb1XqDSAxm/W4VB0="  /* wg pubkey < PRIV */
#define PEER1 "hS+YIvB2tNuRJur2WxQUOtCPbY2eqBLVvoxElStAHQ8="
#define PEER2 "4hnoozjIxReFKSciNnwzkv7zA4cUAPgVnKLC6TMcJTs="
#define PSK "kEhvJsiARX8dC7g8hkgXBEGLylKoTHAuFKTXlwUPGx4="
#define ZERO_KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* Lines 1-4; a case's own lines start at line 5, still inside [Interface]. */
#define BASE "[Uplink]\nAddress = 198.18.1.1/24\n[Interface]\nPrivateKey = " PRIV "\n"

enum { ERR_LEN = 512, RANDOM_ROUNDS = 3000 };

static const char *example_path;
static char err[ERR_LEN];

static int parse_str(const char *text, struct fg_config *c)
{
	return fg_config_parse(text, strlen(text), "t.conf", c, err, sizeof(err));
}

/* No message may contain a key, or a recognisable part of one. */
static void assert_no_secret(const char *msg)
{
	static const char *const secrets[] = { PRIV, PSK, "gMP2WpYc6c7l", "kEhvJsiARX8d" };

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		CU_ASSERT_PTR_NULL(strstr(msg, secrets[i]));
}

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void key(uint8_t out[FG_KEY_LEN], const char *b64)
{
	CU_ASSERT_EQUAL_FATAL(fg_key_from_base64(out, b64), 0);
}

static void check_prefix(const struct fg_prefix *p, const char *want)
{
	char buf[FG_PREFIX_STRLEN];

	CU_ASSERT_STRING_EQUAL(fg_prefix_format(p, buf, sizeof(buf)), want);
}

static void test_example_file(void)
{
	struct fg_config c;
	uint8_t k[FG_KEY_LEN];
	char buf[FG_ENDPOINT_STRLEN];
	int rc = fg_config_load(example_path, &c, err, sizeof(err));

	if (rc)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	key(k, PRIV);
	CU_ASSERT_EQUAL(memcmp(c.iface.private_key, k, FG_KEY_LEN), 0);
	key(k, PUB);
	CU_ASSERT_EQUAL(memcmp(c.iface.public_key, k, FG_KEY_LEN), 0);
	CU_ASSERT_EQUAL(c.iface.listen_port, 51820);
	CU_ASSERT_EQUAL(c.iface.mtu, 1280);
	CU_ASSERT_EQUAL_FATAL(c.iface.n_addresses, 2);
	check_prefix(&c.iface.addresses[0], "100.64.0.1/32");
	check_prefix(&c.iface.addresses[1], "fd00:2021:1111::1/128");

	CU_ASSERT_EQUAL_FATAL(c.n_peers, 2);
	key(k, PEER1);
	CU_ASSERT_EQUAL(memcmp(c.peers[0].public_key, k, FG_KEY_LEN), 0);
	key(k, PSK);
	CU_ASSERT_TRUE(c.peers[0].has_preshared_key);
	CU_ASSERT_EQUAL(memcmp(c.peers[0].preshared_key, k, FG_KEY_LEN), 0);
	CU_ASSERT_EQUAL_FATAL(c.peers[0].n_allowed_ips, 2);
	check_prefix(&c.peers[0].allowed_ips[0], "100.64.0.2/32");
	check_prefix(&c.peers[0].allowed_ips[1], "fd00:2021:1111::2/128");
	CU_ASSERT_TRUE(c.peers[0].has_endpoint);
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&c.peers[0].endpoint, buf, sizeof(buf)), "198.18.1.2:51820");
	CU_ASSERT_EQUAL(c.peers[0].persistent_keepalive, 25);
	key(k, PEER2);
	CU_ASSERT_EQUAL(memcmp(c.peers[1].public_key, k, FG_KEY_LEN), 0);
	CU_ASSERT_FALSE(c.peers[1].has_preshared_key);
	CU_ASSERT_TRUE(is_zero(c.peers[1].preshared_key, FG_KEY_LEN));
	CU_ASSERT_EQUAL_FATAL(c.peers[1].n_allowed_ips, 2);
	check_prefix(&c.peers[1].allowed_ips[1], "fd00:2021:1111::3/128");
	CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&c.peers[1].endpoint, buf, sizeof(buf)), "[2001:2::3]:51820");
	CU_ASSERT_EQUAL(c.peers[1].persistent_keepalive, 0);
	CU_ASSERT_TRUE(c.peers[1].line > c.peers[0].line);

	check_prefix(&c.uplink.address, "198.18.1.1/24");
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&c.uplink.gateway, buf, sizeof(buf)), "198.18.1.254");
	check_prefix(&c.uplink.address6, "2001:2::1/64");
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&c.uplink.gateway6, buf, sizeof(buf)), "fe80::1");
	CU_ASSERT_EQUAL(c.uplink.port, 0);
	CU_ASSERT_FALSE(c.uplink.has_mac);

	CU_ASSERT_EQUAL(c.dp.workers, 1);
	CU_ASSERT_EQUAL(c.dp.rx_descriptors, 1024);
	CU_ASSERT_EQUAL(c.dp.tx_descriptors, 1024);
	CU_ASSERT_EQUAL(c.dp.mbuf_count, 8191);
	CU_ASSERT_EQUAL(c.dp.burst, 32);
	CU_ASSERT_EQUAL(c.dp.max_peers, 4096);
	CU_ASSERT_EQUAL(c.dp.handshake_queue, 1024);
	CU_ASSERT_EQUAL(c.dp.under_load_threshold, 128);

	CU_ASSERT_STRING_EQUAL(c.host.name, "tun-firezone");
	CU_ASSERT_EQUAL(c.host.tx_queue_len, 10000);
	CU_ASSERT_EQUAL_FATAL(c.host.n_routes, 2);
	check_prefix(&c.host.routes[0], "100.64.0.0/11");
	check_prefix(&c.host.routes[1], "fd00:2021:1111::/107");

	fg_config_free(&c);
	/* Freed means wiped: the private key is gone and the struct is empty. */
	CU_ASSERT_TRUE(is_zero(&c, sizeof(c)));
	fg_config_free(&c);
}

static void test_defaults(void)
{
	struct fg_config c;

	CU_ASSERT_EQUAL_FATAL(parse_str(BASE, &c), 0);
	CU_ASSERT_EQUAL(c.iface.listen_port, FG_CONFIG_DEFAULT_LISTEN_PORT);
	CU_ASSERT_EQUAL(c.iface.mtu, 1280);
	CU_ASSERT_EQUAL(c.iface.n_addresses, 0);
	CU_ASSERT_EQUAL(c.n_peers, 0);
	CU_ASSERT_PTR_NULL(c.peers);
	CU_ASSERT_EQUAL(c.uplink.gateway.family, 0);
	CU_ASSERT_EQUAL(c.uplink.address6.ip.family, 0);
	CU_ASSERT_EQUAL(c.dp.workers, 1);
	CU_ASSERT_EQUAL(c.dp.rx_descriptors, 1024);
	CU_ASSERT_EQUAL(c.dp.mbuf_count, 8191);
	CU_ASSERT_EQUAL(c.dp.burst, 32);
	CU_ASSERT_EQUAL(c.dp.max_peers, 4096);
	CU_ASSERT_EQUAL(c.dp.handshake_queue, 1024);
	CU_ASSERT_EQUAL(c.dp.under_load_threshold, 128);
	CU_ASSERT_STRING_EQUAL(c.host.name, "tun-firezone");
	CU_ASSERT_EQUAL(c.host.tx_queue_len, 10000);
	CU_ASSERT_EQUAL(c.host.n_routes, 0);
	CU_ASSERT_EQUAL(c.host.tun_io, FG_TUN_IO_AUTO);
	CU_ASSERT_EQUAL(c.host.tun_io_sqpoll_cpu, -1);
	fg_config_free(&c);

	/* TunIo: the four names case-insensitively; TunIoSqpollCpu a CPU number. */
	static const struct { const char *text; enum fg_tun_io v; } tun_io[] = {
		{ "auto", FG_TUN_IO_AUTO }, { "SYSCALL", FG_TUN_IO_SYSCALL },
		{ "io_uring", FG_TUN_IO_URING }, { "SqPoll", FG_TUN_IO_SQPOLL },
	};
	for (size_t i = 0; i < sizeof(tun_io) / sizeof(tun_io[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), BASE "[Host]\nTunIo = %s\n", tun_io[i].text);
		CU_ASSERT_EQUAL_FATAL(parse_str(text, &c), 0);
		CU_ASSERT_EQUAL(c.host.tun_io, tun_io[i].v);
		fg_config_free(&c);
	}
	CU_ASSERT_EQUAL_FATAL(parse_str(BASE "[Host]\nTunIo = sqpoll\nTunIoSqpollCpu = 1\n", &c), 0);
	CU_ASSERT_EQUAL(c.host.tun_io_sqpoll_cpu, 1);
	fg_config_free(&c);
	CU_ASSERT_EQUAL_FATAL(parse_str(BASE "[Host]\nTunIoSqpollCpu = 0\n", &c), 0);
	CU_ASSERT_EQUAL(c.host.tun_io_sqpoll_cpu, 0);
	fg_config_free(&c);

	/* Crypto: auto by default, the three names case-insensitively. */
	CU_ASSERT_EQUAL_FATAL(parse_str(BASE "[Dataplane]\nCrypto = IPSEC-MB\n", &c), 0);
	CU_ASSERT_EQUAL(c.dp.crypto, FG_CONFIG_CRYPTO_IPSECMB);
	fg_config_free(&c);
	CU_ASSERT_EQUAL_FATAL(parse_str(BASE "[Dataplane]\nCrypto = libsodium\n", &c), 0);
	CU_ASSERT_EQUAL(c.dp.crypto, FG_CONFIG_CRYPTO_LIBSODIUM);
	fg_config_free(&c);
	CU_ASSERT_EQUAL_FATAL(parse_str(BASE, &c), 0);
	CU_ASSERT_EQUAL(c.dp.crypto, FG_CONFIG_CRYPTO_AUTO);
	fg_config_free(&c);
	/* No PrivateKey (portal mode): accepted, the key stays all zero (the data plane makes
	 * one per start, in memory); an [Interface] with nothing in it too. */
	CU_ASSERT_EQUAL_FATAL(parse_str("[Interface]\nListenPort = 1\n[Uplink]\nAddress = 198.18.1.1/24\n", &c), 0);
	CU_ASSERT(fg_key_is_zero(c.iface.private_key));
	CU_ASSERT(fg_key_is_zero(c.iface.public_key));
	CU_ASSERT_EQUAL(c.iface.listen_port, 1);
	fg_config_free(&c);
	CU_ASSERT_EQUAL_FATAL(parse_str("[Interface]\n[Uplink]\nAddress = 198.18.1.1/24\n", &c), 0);
	CU_ASSERT(fg_key_is_zero(c.iface.private_key));
	fg_config_free(&c);
	/* UnderLoadThreshold follows HandshakeQueue unless set. */
	CU_ASSERT_EQUAL_FATAL(parse_str(BASE "[Dataplane]\nHandshakeQueue = 4096\n", &c), 0);
	CU_ASSERT_EQUAL(c.dp.under_load_threshold, 512);
	fg_config_free(&c);
	CU_ASSERT_EQUAL_FATAL(parse_str(BASE "[Dataplane]\nUnderLoadThreshold = 5\nHandshakeQueue = 64\n", &c), 0);
	CU_ASSERT_EQUAL(c.dp.under_load_threshold, 5);
	fg_config_free(&c);
}

static void test_syntax_variants(void)
{
	static const char text[] =
		"\xef\xbb\xbf# leading BOM and comment\r\n"
		"; another comment\n"
		"  [ interface ]   # trailing comment\r\n"
		"\tprivatekey\t=\t" PRIV "\t; trailing\r\n"
		"LISTENPORT=1\n"
		"mtu = 9000\n"
		"address = 100.64.0.1/11 ,fd00:2021:1111::1/107,  100.64.0.9\n"
		"Address = 100.64.0.10/32\n"
		"\n"
		"   \n"
		"[PEER]\n"
		"publickey = " PEER1 "\n"
		"allowedips = 0.0.0.0/0, ::/0\n"
		"presharedkey = " ZERO_KEY "\n"
		"persistentkeepalive = OFF\n"
		"[uplink]\n"
		"address = 198.18.1.1/31\n"
		"mac = 02:00:5E:10:00:01\n"
		"port = 31\n"
		"[DATAPLANE]\n"
		"workers = 127\n"
		"mbufcount = 16777215\n"
		"rxdescriptors = 64\n"
		"txdescriptors = 16384\n"
		"burst = 64\n"
		"maxpeers = 1\n"
		"[host]\n"
		"name = a.b_c-D9\n"
		"route = 10.1.2.3/8\n"
		"txqueuelen = 4294967295";  /* no final newline */
	struct fg_config c;
	char *exact;

	/* Not NUL-terminated: exactly the bytes of the file. */
	exact = malloc(sizeof(text) - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
	memcpy(exact, text, sizeof(text) - 1);
	int rc = fg_config_parse(exact, sizeof(text) - 1, "v.conf", &c, err, sizeof(err));

	free(exact);
	if (rc)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(c.iface.listen_port, 1);
	CU_ASSERT_EQUAL(c.iface.mtu, 9000);
	CU_ASSERT_EQUAL_FATAL(c.iface.n_addresses, 4);
	check_prefix(&c.iface.addresses[0], "100.64.0.1/11");
	check_prefix(&c.iface.addresses[1], "fd00:2021:1111::1/107");
	check_prefix(&c.iface.addresses[2], "100.64.0.9/32");
	check_prefix(&c.iface.addresses[3], "100.64.0.10/32");
	CU_ASSERT_EQUAL_FATAL(c.n_peers, 1);
	CU_ASSERT_EQUAL(c.peers[0].line, 11);
	CU_ASSERT_FALSE(c.peers[0].has_preshared_key);  /* all-zero PSK = none, as in wg */
	CU_ASSERT_FALSE(c.peers[0].has_endpoint);
	CU_ASSERT_EQUAL(c.peers[0].n_allowed_ips, 2);
	CU_ASSERT_TRUE(c.uplink.has_mac);
	CU_ASSERT_EQUAL(c.uplink.mac[0], 0x02);
	CU_ASSERT_EQUAL(c.uplink.mac[5], 0x01);
	CU_ASSERT_EQUAL(c.uplink.port, 31);
	CU_ASSERT_EQUAL(c.dp.workers, 127);
	CU_ASSERT_EQUAL(c.dp.burst, 64);
	CU_ASSERT_STRING_EQUAL(c.host.name, "a.b_c-D9");
	check_prefix(&c.host.routes[0], "10.0.0.0/8");
	CU_ASSERT_EQUAL(c.host.tx_queue_len, 4294967295u);
	fg_config_free(&c);
}

struct error_case {
	const char *text;
	size_t len;           /* 0: strlen(text) */
	unsigned int line;
	const char *message;  /* a substring of the message */
	const char *quoted;   /* the text between the quotes */
};

#define E(text, line, message, quoted) { text, 0, line, message, quoted }
#define EN(text, line, message, quoted) { text, sizeof(text) - 1, line, message, quoted }

static const struct error_case error_cases[] = {
	/* structure */
	E("", 1, "missing section", "[Interface]"),
	E("# only a comment\n", 1, "missing section", "[Interface]"),
	E("[Uplink]\nAddress = 198.18.1.1/24\n", 2, "missing section", "[Interface]"),
	E("[Interface]\nPrivateKey = " PRIV "\n", 2, "missing section", "[Uplink]"),
	E("[Uplink]\nPort = 1\n[Interface]\nPrivateKey = " PRIV "\n", 1, "missing Address", "[Uplink]"),
	E("Name = x\n" BASE, 1, "key outside of any section", "Name"),
	E(BASE "[Foo]\n", 5, "unknown section", "[Foo]"),
	E(BASE "[]\n", 5, "unknown section", "[]"),
	E(BASE "[Peer\n", 5, "invalid section header", "[Peer"),
	E(BASE "[Host] junk\n", 5, "invalid section header", "[Host] junk"),
	E(BASE "[Interface]\n", 5, "duplicate section (first at line 3)", "[Interface]"),
	E(BASE "[ uplink ]\n", 5, "duplicate section (first at line 1)", "[ uplink ]"),
	E(BASE "[Host]\n[Host]\n", 6, "duplicate section", "[Host]"),
	E(BASE "Foo = 1\n", 5, "unknown key in [Interface]", "Foo"),
	E(BASE "DNS = 1.1.1.1\n", 5, "unknown key in [Interface]", "DNS"),
	E(BASE "[Host]\nAddress = 10.0.0.1\n", 6, "unknown key in [Host]", "Address"),
	E(BASE "ListenPort\n", 5, "expected 'Key = Value'", "ListenPort"),
	E(BASE "ListenPort =\n", 5, "empty value", "ListenPort"),
	E(BASE "ListenPort = # comment\n", 5, "empty value", "ListenPort"),
	E(BASE "= 1\n", 5, "missing key name", "="),
	E(BASE "ListenPort = 1\nlistenport = 2\n", 6, "duplicate key in [Interface]", "listenport"),
	E(BASE "Address = 100.64.0.1/32,,100.64.0.2/32\n", 5, "empty item in list", "Address"),
	E(BASE "Address = 100.64.0.1/32,\n", 5, "empty item in list", "Address"),
	/* lines */
	EN(BASE "MTU = 1280\0junk\n", 5, "NUL byte in line", "MTU = 1280\\x00junk"),
	E(BASE "MTU = \xff\n", 5, "invalid UTF-8", "MTU = \\xff"),
	E(BASE "# \xc0\xaf overlong\n", 5, "invalid UTF-8", "# \\xc0\\xaf overlong"),
	E(BASE "# \xed\xa0\x80 surrogate\n", 5, "invalid UTF-8", "# \\xed\\xa0\\x80 surrogate"),
	E(BASE "# \xf4\x90\x80\x80 above U+10FFFF\n", 5, "invalid UTF-8", "# \\xf4\\x90\\x80\\x80 above U+10FFFF"),
	E(BASE "# truncated \xe2\x82\n", 5, "invalid UTF-8", "# truncated \\xe2\\x82"),
	E(BASE "MTU = \xc3\xa9\n", 5, "MTU must be", "\\xc3\\xa9"),
	/* [Interface] */
	E("[Interface]\nPrivateKey = gMP2WpYc6c7lBpAvuzDv8rROvkIWdfbHZbhzBLKvXWV=\n", 2, "invalid key", "PrivateKey"),
	E("[Interface]\nPrivateKey = gMP2WpYc6c7lBpAvuzDv8rROvkIWdfbHZbhzBLKvXW\n", 2, "invalid key", "PrivateKey"),
	E("[Interface]\nPrivateKey = " PRIV "x\n", 2, "invalid key", "PrivateKey"),
	E("[Interface]\nPrivateKey = " ZERO_KEY "\n", 2, "invalid key (all zero)", "PrivateKey"),
	E("[Interface]\nPrivateKey " PRIV "\n", 2, "unknown key in [Interface]", "PrivateKey"),
	E("[Interface]\n  privatekey: " PRIV "\n", 2, "unknown key in [Interface]", "privatekey"),
	E("[Interface]\n" PRIV "\n", 2, "unknown key in [Interface]", "[redacted]"),
	E("[Interface]\nPrivateKey kEhvJsiARX8dC7g8hkgXBEGLylKoTHAuFKTXlwUPGx4\n", 2, "expected 'Key = Value'", "PrivateKey"),
	E("[Interface]\nPrivateKey " PSK "x =\n", 2, "unknown key", "PrivateKey"),
	E("[Interface]\nKey " PSK "x =\n", 2, "unknown key", "Key [redacted]"),
	E("[Interface]\n[" PRIV "]\n", 2, "unknown section", "[[redacted]]"),
	E(BASE "[Host]\nName = " PSK "\n", 6, "invalid Name", "[redacted]"),
	E(BASE "[Host]\nName = 0123456789012345678901234567890123456789\n", 6, "invalid Name", "0123456789012345678901234567890123456789"),
	E(BASE "[Host]\nName = abcdefghijklmnopqrs\n", 6, "invalid Name", "abcdefghijklmnopqrs"),
	E(BASE "[Host]\nName = abcdefghijklmnopqrst\n", 6, "invalid Name", "[redacted]"),
	E(BASE "PrivateKey = " PRIV "\n", 5, "duplicate key in [Interface]", "PrivateKey"),
	E(BASE "ListenPort = 0\n", 5, "ListenPort must be 1..65535", "0"),
	E(BASE "ListenPort = 65536\n", 5, "ListenPort must be 1..65535", "65536"),
	E(BASE "ListenPort = -1\n", 5, "ListenPort must be", "-1"),
	E(BASE "ListenPort = +1\n", 5, "ListenPort must be", "+1"),
	E(BASE "ListenPort = 0x10\n", 5, "ListenPort must be", "0x10"),
	E(BASE "ListenPort = 1 2\n", 5, "ListenPort must be", "1 2"),
	E(BASE "ListenPort = 99999999999999999999\n", 5, "ListenPort must be", "99999999999999999999"),
	E(BASE "MTU = 575\n", 5, "MTU must be 576..9000", "575"),
	E(BASE "MTU = 9001\n", 5, "MTU must be 576..9000", "9001"),
	E(BASE "Address = 100.64.0.1/33\n", 5, "invalid address", "100.64.0.1/33"),
	E(BASE "Address = 100.64.0.1/\n", 5, "invalid address", "100.64.0.1/"),
	E(BASE "Address = /8\n", 5, "invalid address", "/8"),
	E(BASE "Address = fd00::1 fd00::2\n", 5, "invalid address", "fd00::1 fd00::2"),
	E(BASE "MTU = 1000\nAddress = fd00:2021:1111::1/128\n", 5, "MTU below 1280 with an IPv6 Address", "MTU"),
	/* [Peer] */
	E(BASE "[Peer]\nAllowedIPs = 10.0.0.0/8\n", 5, "peer has no PublicKey", "[Peer]"),
	E(BASE "[Peer]\n[Peer]\nPublicKey = " PEER1 "\n", 5, "peer has no PublicKey", "[Peer]"),
	E(BASE "[Peer]\nPublicKey = abc\n", 6, "invalid key", "PublicKey"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nPublicKey = " PEER2 "\n", 7, "duplicate key in [Peer]", "PublicKey"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\n[Peer]\nPublicKey = " PEER1 "\n", 7, "duplicate PublicKey (first at line 5)", PEER1),
	E(BASE "[Peer]\nPublicKey = " PUB "\n", 5, "peer PublicKey is this interface's own key", PUB),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nPresharedKey = " PSK "=\n", 7, "invalid key", "PresharedKey"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/33\n", 7, "invalid AllowedIPs entry", "10.0.0.0/33"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/8, 10.1.0.0/16 ,x\n", 7, "invalid AllowedIPs entry", "x"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nEndpoint = example.com:51820\n", 7, "invalid Endpoint", "example.com:51820"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 198.18.1.2\n", 7, "invalid Endpoint", "198.18.1.2"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 198.18.1.2:65536\n", 7, "invalid Endpoint", "198.18.1.2:65536"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nEndpoint = [2001:2::3]\n", 7, "invalid Endpoint", "[2001:2::3]"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 2001:2::3:51820\n", 7, "invalid Endpoint", "2001:2::3:51820"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nPersistentKeepalive = 65536\n", 7, "PersistentKeepalive (or off) must be 0..65535", "65536"),
	E(BASE "[Peer]\nPublicKey = " PEER1 "\nPersistentKeepalive = on\n", 7, "PersistentKeepalive", "on"),
	E(BASE "[Dataplane]\nMaxPeers = 1\n[Peer]\nPublicKey = " PEER1 "\n[Peer]\nPublicKey = " PEER2 "\n", 9, "more peers than MaxPeers (1)", "[Peer]"),
	/* [Uplink] */
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1\n", 4, "invalid Address", "198.18.1.1"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/33\n", 4, "invalid Address", "198.18.1.1/33"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/0\n", 4, "invalid Address", "198.18.1.1/0"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 224.0.0.1/4\n", 4, "invalid Address", "224.0.0.1/4"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 2001:2::1/64\n", 4, "invalid Address", "2001:2::1/64"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nAddress = 198.18.1.2/24\n", 5, "duplicate key in [Uplink]", "Address"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nGateway = 198.18.1.1\n", 5, "Gateway is the Uplink Address itself", "Gateway"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nGateway = 198.18.1.0/24\n", 5, "invalid Gateway", "198.18.1.0/24"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nGateway = 255.255.255.255\n", 5, "invalid Gateway", "255.255.255.255"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nGateway6 = fe80::1\n", 5, "Gateway6 without Address6", "Gateway6"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nAddress6 = 2001:2::1\n", 5, "invalid Address6", "2001:2::1"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nAddress6 = ff02::1/64\n", 5, "invalid Address6", "ff02::1/64"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nAddress6 = 2001:2::1/64\nGateway6 = 2001:2::1\n", 6, "Gateway6 is the Uplink Address6 itself", "Gateway6"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nGateway6 = ::\n", 5, "invalid Gateway6", "::"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nPort = 32\n", 5, "Port must be 0..31", "32"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nMAC = 02:00:5e:10:00\n", 5, "invalid MAC", "02:00:5e:10:00"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nMAC = 01:00:5e:00:00:01\n", 5, "invalid MAC", "01:00:5e:00:00:01"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nMAC = 00:00:00:00:00:00\n", 5, "invalid MAC", "00:00:00:00:00:00"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nMAC = 02-00-5e-10-00-01\n", 5, "invalid MAC", "02-00-5e-10-00-01"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nMAC = 02:00:5e:10:00:0g\n", 5, "invalid MAC", "02:00:5e:10:00:0g"),
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nMAC = g2:00:5e:10:00:01\n", 5, "invalid MAC", "g2:00:5e:10:00:01"), /* bad high digit: was a shift of -1 (fuzz) */
	E("[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\nMAC = 02:00:5e:10:00:011\n", 5, "invalid MAC", "02:00:5e:10:00:011"),
	/* [Dataplane] */
	E(BASE "[Dataplane]\nWorkers = 0\n", 6, "Workers must be 1..127", "0"),
	E(BASE "[Dataplane]\nWorkers = 128\n", 6, "Workers must be 1..127", "128"),
	E(BASE "[Dataplane]\nRxDescriptors = 1000\n", 6, "RxDescriptors must be a power of two 64..16384", "1000"),
	E(BASE "[Dataplane]\nRxDescriptors = 32\n", 6, "RxDescriptors must be a power of two", "32"),
	E(BASE "[Dataplane]\nTxDescriptors = 32768\n", 6, "TxDescriptors must be a power of two", "32768"),
	E(BASE "[Dataplane]\nMbufCount = 1022\n", 6, "MbufCount must be 1023..16777215", "1022"),
	E(BASE "[Dataplane]\nMbufCount = 1023\n", 6, "MbufCount (1023) must exceed Workers x RxDescriptors (1 x 1024)", "MbufCount"),
	E(BASE "[Dataplane]\nWorkers = 8\n", 5, "MbufCount (8191) must exceed Workers x RxDescriptors (8 x 1024)", "MbufCount"),
	E(BASE "[Dataplane]\nBurst = 0\n", 6, "Burst must be 1..64", "0"),
	E(BASE "[Dataplane]\nBurst = 65\n", 6, "Burst must be 1..64", "65"),
	E(BASE "[Dataplane]\nMaxPeers = 0\n", 6, "MaxPeers must be 1..1048576", "0"),
	E(BASE "[Dataplane]\nMaxPeers = 1048577\n", 6, "MaxPeers must be", "1048577"),
	E(BASE "[Dataplane]\nHandshakeQueue = 100\n", 6, "HandshakeQueue must be a power of two 64..1048576", "100"),
	E(BASE "[Dataplane]\nUnderLoadThreshold = 0\n", 6, "UnderLoadThreshold must be", "0"),
	E(BASE "[Dataplane]\nCrypto = openssl\n", 6, "invalid Crypto", "openssl"),
	E(BASE "[Dataplane]\nCrypto = auto\nCrypto = auto\n", 7, "duplicate key", "Crypto"),
	E(BASE "[Dataplane]\nHandshakeQueue = 64\nUnderLoadThreshold = 64\n", 7, "UnderLoadThreshold must be below HandshakeQueue (64)", "UnderLoadThreshold"),
	/* [Host] */
	E(BASE "[Host]\nName = tun-firezone-long\n", 6, "invalid Name (1..15", "tun-firezone-long"),
	E(BASE "[Host]\nName = tun/0\n", 6, "invalid Name", "tun/0"),
	E(BASE "[Host]\nName = tun 0\n", 6, "invalid Name", "tun 0"),
	E(BASE "[Host]\nName = tun#0\n", 6, "invalid Name", "tun#0"),
	E(BASE "[Host]\nName = ..\n", 6, "invalid Name", ".."),
	E(BASE "[Host]\nName = t\xc3\xbcn\n", 6, "invalid Name", "t\\xc3\\xbcn"),
	E(BASE "[Host]\nName = it's\n", 6, "invalid Name", "it\\x27s"),
	E(BASE "[Host]\nRoute = 10.0.0.1\n", 6, "invalid Route", "10.0.0.1"),
	E(BASE "[Host]\nRoute = 10.0.0.0/8, 300.0.0.0/8\n", 6, "invalid Route", "300.0.0.0/8"),
	E(BASE "[Host]\nTxQueueLen = 0\n", 6, "TxQueueLen must be 1..4294967295", "0"),
	E(BASE "[Host]\nTxQueueLen = 4294967296\n", 6, "TxQueueLen must be", "4294967296"),
	E(BASE "[Host]\nTunIo = uring\n", 6, "invalid TunIo (auto, syscall, io_uring or sqpoll)", "uring"),
	E(BASE "[Host]\nTunIo = io_uring sqpoll\n", 6, "invalid TunIo", "io_uring sqpoll"),
	E(BASE "[Host]\nTunIo = 1\n", 6, "invalid TunIo", "1"),
	EN(BASE "[Host]\nTunIo = io_uring\0sqpoll\n", 6, "NUL byte in line", "TunIo = io_uring\\x00sqpoll"),
	E(BASE "[Host]\nTunIo = auto\nTunIo = sqpoll\n", 7, "duplicate key", "TunIo"),
	E(BASE "[Host]\nTunIoSqpollCpu = -1\n", 6, "TunIoSqpollCpu must be 0..4095", "-1"),
	E(BASE "[Host]\nTunIoSqpollCpu = 4096\n", 6, "TunIoSqpollCpu must be", "4096"),
	E(BASE "[Host]\nTunIoSqpollCpu = cpu1\n", 6, "TunIoSqpollCpu must be", "cpu1"),
	E(BASE "[Host]\nTunIoSqpollCpu = 99999999999999999999\n", 6, "TunIoSqpollCpu must be", "99999999999999999999"),
};

static void check_error(const char *text, size_t len, unsigned int line, const char *message,
			const char *quoted)
{
	struct fg_config c;
	char want[ERR_LEN];
	int rc;

	memset(err, 'X', sizeof(err));
	rc = fg_config_parse(text, len, "t.conf", &c, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(memchr(err, '\0', sizeof(err)));
	snprintf(want, sizeof(want), "t.conf:%u: ", line);
	bool ok = strncmp(err, want, strlen(want)) == 0 && strstr(err, message);

	snprintf(want, sizeof(want), ": '%s'", quoted);
	ok = ok && strlen(err) >= strlen(want) && strcmp(err + strlen(err) - strlen(want), want) == 0;
	if (!ok)
		fprintf(stderr, "\n  got  '%s'\n  want line %u, '%s', quoting '%s'\n", err, line,
			message, quoted);
	CU_ASSERT_TRUE(ok);
	assert_no_secret(err);
	/* A failed parse leaves nothing behind. */
	CU_ASSERT_TRUE(is_zero(&c, sizeof(c)));
}

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *e = &error_cases[i];

		check_error(e->text, e->len ? e->len : strlen(e->text), e->line, e->message, e->quoted);
	}
}

static char *repeat(const char *head, char fill, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memcpy(s, head, h);
	memset(s + h, fill, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

/* What a long run of c looks like quoted: the first 64 bytes (after head), then "...". */
static const char *cut_quote(const char *head, char c)
{
	static char q[128];
	size_t h = strlen(head);

	memcpy(q, head, h);
	memset(q + h, c, 64 - h);
	memcpy(q + 64, "...", 4);
	return q;
}

static void test_huge_lines(void)
{
	struct fg_config c;
	char *s;

	/* Exactly the limit is fine (a comment), one more byte is not. */
	s = repeat(BASE "#", 'c', FG_CONFIG_MAX_LINE - 1, "\n");
	CU_ASSERT_EQUAL(parse_str(s, &c), 0);
	fg_config_free(&c);
	free(s);
	s = repeat(BASE "#", '-', FG_CONFIG_MAX_LINE, "\n");
	check_error(s, strlen(s), 5, "line longer than 4096 bytes", cut_quote("#", '-'));
	free(s);
	/* A huge line that mentions a secret key quotes only up to its name. */
	s = repeat("[Interface]\nPrivateKey = " PRIV, 'A', 2 * FG_CONFIG_MAX_LINE, "\n");
	check_error(s, strlen(s), 2, "line longer than", "PrivateKey");
	free(s);
	s = repeat("[Interface]\n# old PresharedKey = " PSK, 'A', 2 * FG_CONFIG_MAX_LINE, "\n");
	check_error(s, strlen(s), 2, "line longer than", "# old PresharedKey");
	free(s);
	/* Huge values within the line limit are quoted cut short. */
	s = repeat(BASE "[Host]\nName = ", '.', 1000, "\n");
	check_error(s, strlen(s), 6, "invalid Name", cut_quote("", '.'));
	free(s);
	s = repeat(BASE "ListenPort = ", '9', 3000, "\n");
	check_error(s, strlen(s), 5, "ListenPort must be", cut_quote("", '9'));
	free(s);
	/* No newline at all, megabytes long. */
	s = repeat(BASE, '#', FG_CONFIG_MAX_FILE / 4, "");
	check_error(s, strlen(s), 5, "line longer than", cut_quote("", '#'));
	free(s);
}

/* Inputs that must fail, whatever the message; each is checked for leaks of keys too. */
static const char *const hostile[] = {
	"[",
	"]",
	"[[Interface]]\n",
	"[Interface\n",
	"Interface]\n",
	"=\n",
	"==\n",
	"\n\n\n=\n",
	"[Interface]\nPrivateKey\n",
	"[Interface]\nPrivateKey =\n",
	"[Interface]\nPrivateKey == " PRIV "\n",
	"[Interface]\nPrivateKey = =" PRIV "\n",
	"[Interface]\nPrivateKey = \"" PRIV "\"\n",
	"[Interface]\nPrivateKey = " PRIV " " PRIV "\n",
	"[Interface]\nPrivateKey = " PRIV "," PRIV "\n",
	"[Interface]\nPrivate Key = " PRIV "\n",
	"[Interface]\nPrivateKey = " PRIV "\r\r\n",
	"[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\n[Peer]\nPublicKey = " PEER1 "\nPresharedKey = " PSK "x\n",
	"[Interface]\nPrivateKey = " PRIV "\n[Uplink]\nAddress = 198.18.1.1/24\n[Peer]\nPublicKey = " PEER1 "\nPresharedKey " PSK "\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/8;comment\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/8 10.1.0.0/16\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = ,\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/8\xe2\x80\x8b\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nEndpoint = [::1]:51820:1\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 198.18.1.2:0\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nPersistentKeepalive = 1e3\n",
	BASE "[Peer]\nPublicKey = " PEER1 "\nPersistentKeepalive = off off\n",
	BASE "[Dataplane]\nWorkers = 1.0\n",
	BASE "[Dataplane]\nWorkers = ' 1'\n",
	BASE "[Dataplane]\nWorkers = 4294967297\n",
	BASE "[Dataplane]\nWorkers = 00000000001\n",
	BASE "[Dataplane]\nHandshakeQueue = 0\n",
	BASE "[Dataplane]\nHandshakeQueue = 2097152\n",
	BASE "[Portal]\nUrl = wss://example\n",
	BASE "[Interface]\n",
	BASE "[Host]\nName = \n",
	BASE "[Host]\nName = .\n",
	BASE "[Host]\nRoute = 10.0.0.0/8/8\n",
	BASE "\x80\n",
	BASE "\xc2\n",
	BASE "\xf5\x80\x80\x80\n",
	BASE "\xe0\x80\x80\n",
	"\xef\xbb\xbf\xef\xbb\xbf" BASE,
	"\xfe\xff" BASE,
};

static void check_hostile(const char *text, size_t len)
{
	struct fg_config c;
	int rc;

	memset(err, 0, sizeof(err));
	rc = fg_config_parse(text, len, "h.conf", &c, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, "h.conf:", 7), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ": '"));
	assert_no_secret(err);
	CU_ASSERT_TRUE(is_zero(&c, sizeof(c)));
}

static void test_hostile(void)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		if (parse_str(hostile[i], &(struct fg_config){ 0 }) == 0)
			fprintf(stderr, "\n  accepted hostile[%zu]\n", i);
		check_hostile(hostile[i], strlen(hostile[i]));
	}
	/* Every line at the limit of what a table can say: many peers, many lists. */
	struct fg_config c;
	char *s = repeat(BASE, ' ', 0, "Address = ");

	for (int i = 0; i <= FG_CONFIG_MAX_ADDRESSES; i++) {
		char item[32];
		size_t n = strlen(s);

		snprintf(item, sizeof(item), "%s100.64.0.%d", i ? "," : "", i + 1);
		s = realloc(s, n + strlen(item) + 2);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		strcat(s, item);
	}
	strcat(s, "\n");
	check_error(s, strlen(s), 5, "too many addresses (at most 64)", "100.64.0.65");
	free(s);
	CU_ASSERT_EQUAL(fg_config_parse(NULL, 0, NULL, &c, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, "config:1: missing section", 25), 0);
	CU_ASSERT_EQUAL(fg_config_parse(NULL, 10, "n", &c, NULL, 0), -EINVAL);
}

static char *read_example(size_t *len)
{
	FILE *f = fopen(example_path, "rb");
	char *buf;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	buf = malloc(FG_CONFIG_MAX_FILE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	*len = fread(buf, 1, FG_CONFIG_MAX_FILE, f);
	fclose(f);
	return buf;
}

/* Every prefix of the example either parses or fails cleanly, never echoing a key. */
static void test_truncations(void)
{
	size_t len;
	char *text = read_example(&len);
	unsigned int ok = 0;

	for (size_t cut = 0; cut <= len; cut++) {
		struct fg_config c;
		char *exact = malloc(cut + 1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
		memcpy(exact, text, cut);
		int rc = fg_config_parse(exact, cut, "x.conf", &c, err, sizeof(err));

		free(exact);
		CU_ASSERT_TRUE(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			ok++;
			fg_config_free(&c);
		} else {
			CU_ASSERT_EQUAL(strncmp(err, "x.conf:", 7), 0);
			assert_no_secret(err);
		}
	}
	CU_ASSERT_TRUE(ok > 0);
	free(text);
}

static void test_random_corruption(void)
{
	size_t len;
	char *text = read_example(&len);
	char *copy = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	srand(2021);
	for (int i = 0; i < RANDOM_ROUNDS; i++) {
		struct fg_config c;

		memcpy(copy, text, len);
		for (int j = 0; j < 1 + rand() % 4; j++)
			copy[(size_t)rand() % len] = (char)rand();
		int rc = fg_config_parse(copy, len, "r.conf", &c, err, sizeof(err));

		CU_ASSERT_TRUE(rc == 0 || rc == -EINVAL);
		if (rc == 0)
			fg_config_free(&c);
		else
			CU_ASSERT_EQUAL(strncmp(err, "r.conf:", 7), 0);
	}
	free(copy);
	free(text);
}

static void test_many_peers(void)
{
	enum { N = 5000 };
	size_t cap = (size_t)N * 200 + 1024, len;
	char *s = malloc(cap);
	struct fg_config c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	len = (size_t)snprintf(s, cap, BASE "[Dataplane]\nMaxPeers = %d\n", N + 1);
	for (int i = 0; i < N; i++) {
		uint8_t pub[FG_KEY_LEN];
		char b64[FG_KEY_B64_LEN];

		memset(pub, 0, sizeof(pub));
		pub[0] = (uint8_t)(i >> 8);
		pub[1] = (uint8_t)i;
		pub[2] = 1;
		fg_key_to_base64(b64, pub);
		len += (size_t)snprintf(s + len, cap - len,
					"[Peer]\nPublicKey = %s\nAllowedIPs = 100.%d.%d.%d/32\n", b64,
					64 + (i >> 16), (i >> 8) & 255, i & 255);
	}
	CU_ASSERT_EQUAL_FATAL(fg_config_parse(s, len, "m.conf", &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.n_peers, N);
	CU_ASSERT_EQUAL(c.peers[N - 1].n_allowed_ips, 1);
	CU_ASSERT_EQUAL(c.peers[N - 1].line, 7 + 3 * (N - 1));
	fg_config_free(&c);

	/* The same public key at the end as at the start: found, at the later line. */
	char b64[FG_KEY_B64_LEN];
	uint8_t pub[FG_KEY_LEN] = { 0, 0, 1 };

	fg_key_to_base64(b64, pub);
	len += (size_t)snprintf(s + len, cap - len, "[Peer]\nPublicKey = %s\n", b64);
	CU_ASSERT_EQUAL(fg_config_parse(s, len, "m.conf", &c, err, sizeof(err)), -EINVAL);
	char want[128];

	snprintf(want, sizeof(want), "m.conf:%d: duplicate PublicKey (first at line 7): '%s'",
		 7 + 3 * N, b64);
	if (strcmp(err, want) != 0)
		fprintf(stderr, "\n  got  %s\n  want %s\n", err, want);
	CU_ASSERT_STRING_EQUAL(err, want);
	free(s);
}

/* Once the service holds the keys, the config keeps none; everything else stays. */
static void test_wipe_keys(void)
{
	struct fg_config c;

	CU_ASSERT_EQUAL_FATAL(parse_str(BASE "[Peer]\nPublicKey = " PEER1 "\nPresharedKey = " PSK
					"\n[Peer]\nPublicKey = " PEER2 "\nAllowedIPs = 10.0.0.2/32\n", &c), 0);
	CU_ASSERT_FATAL(c.n_peers == 2);
	CU_ASSERT_FALSE(fg_key_is_zero(c.iface.private_key));
	CU_ASSERT_FALSE(fg_key_is_zero(c.peers[0].preshared_key));
	fg_config_wipe_keys(&c);
	CU_ASSERT_TRUE(fg_key_is_zero(c.iface.private_key));
	CU_ASSERT_TRUE(fg_key_is_zero(c.peers[0].preshared_key));
	CU_ASSERT_TRUE(fg_key_is_zero(c.peers[1].preshared_key));
	CU_ASSERT_FALSE(fg_key_is_zero(c.iface.public_key));
	CU_ASSERT_FALSE(fg_key_is_zero(c.peers[1].public_key));
	CU_ASSERT_TRUE(c.peers[0].has_preshared_key);
	CU_ASSERT_EQUAL(c.peers[1].n_allowed_ips, 1);
	fg_config_free(&c);
	/* A config without keys or peers is fine too. */
	CU_ASSERT_EQUAL_FATAL(parse_str("[Interface]\n[Uplink]\nAddress = 198.18.1.1/24\n", &c), 0);
	fg_config_wipe_keys(&c);
	CU_ASSERT_TRUE(fg_key_is_zero(c.iface.private_key));
	fg_config_free(&c);
}

static void test_load_errors(void)
{
	struct fg_config c;
	char path[] = "/tmp/fg-config-test-XXXXXX";
	char *dir = mkdtemp(path);
	char file[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(file, sizeof(file), "%s/missing.conf", dir);
	CU_ASSERT_EQUAL(fg_config_load(file, &c, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing.conf: "));
	CU_ASSERT_EQUAL(fg_config_load(dir, &c, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));

	/* A bad file names its own path. */
	snprintf(file, sizeof(file), "%s/bad.conf", dir);
	FILE *f = fopen(file, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(BASE "\n\nMTU = 1\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(fg_config_load(file, &c, err, sizeof(err)), -EINVAL);
	char want[128];

	snprintf(want, sizeof(want), "%s:7: MTU must be 576..9000: '1'", file);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* A tiny err buffer is still terminated. */
	char small[8];

	CU_ASSERT_EQUAL(fg_config_load(file, &c, small, sizeof(small)), -EINVAL);
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
	CU_ASSERT_EQUAL(fg_config_load(file, &c, NULL, 0), -EINVAL);
	remove(file);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct fg_cunit_test tests[] = {
		{ "example file", test_example_file },
		{ "defaults", test_defaults },
		{ "syntax variants", test_syntax_variants },
		{ "every error message", test_errors },
		{ "huge lines", test_huge_lines },
		{ "hostile table", test_hostile },
		{ "truncations of the example", test_truncations },
		{ "random corruption", test_random_corruption },
		{ "many peers", test_many_peers },
		{ "load errors", test_load_errors },
		{ "keys wiped once taken", test_wipe_keys },
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH/TO/fastgate.conf\n", argv[0]);
		return 1;
	}
	example_path = argv[1];
	if (sodium_init() < 0)
		return 1;
	return fg_cunit_run("config", tests, sizeof(tests) / sizeof(tests[0]));
}
