/* SPDX-License-Identifier: MIT */
/*
 * The data plane's static configuration: one INI file whose [Interface] and [Peer] sections
 * keep their wg-quick meaning, plus [Uplink] (the DPDK NIC), [Dataplane] (lcores, queues,
 * pools) and [Host] (the TUN interface). The main lcore parses it once at start-up, before
 * any worker runs; afterwards the struct is read-only and may be read from any lcore. It
 * holds the private key and PSKs until the service has taken them: fg_config_wipe_keys()
 * wipes them then, fg_config_free() on every other path.
 *
 * Syntax: "[Section]" headers and "Key = Value" lines; keys and section names are
 * case-insensitive; whitespace around keys and values is trimmed; '#' or ';' starts a comment
 * at the beginning of a line or after whitespace; a UTF-8 byte order mark is skipped. Empty
 * values, unknown sections, unknown keys, a repeated single-valued key, a repeated section
 * other than [Peer], NUL bytes, invalid UTF-8 and lines over FG_CONFIG_MAX_LINE bytes are
 * errors. Comma-list keys (Interface Address, Peer AllowedIPs, Host Route) may also repeat.
 */
#ifndef FG_CONFIG_H
#define FG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "keys.h"
#include "tun.h"   /* enum fg_tun_io */

enum fg_config_limits {
	FG_CONFIG_MAX_ADDRESSES = 64,        /* [Interface] Address entries */
	FG_CONFIG_MAX_ALLOWED_IPS = 256,     /* AllowedIPs entries per [Peer] */
	FG_CONFIG_MAX_ROUTES = 256,          /* [Host] Route entries */
	FG_CONFIG_MAX_PEERS = 1 << 20,       /* upper bound of MaxPeers */
	FG_CONFIG_MAX_LINE = 4096,           /* bytes in a line, newline excluded */
	FG_CONFIG_MAX_FILE = 16 << 20,       /* bytes read by fg_config_load() */
	FG_CONFIG_IFNAME_LEN = 16,           /* IFNAMSIZ: 15 characters + NUL */
	FG_CONFIG_MAC_LEN = 6,
	FG_CONFIG_MIN_MTU = 576,
	FG_CONFIG_MAX_MTU = 9000,
	FG_CONFIG_MIN_DESCRIPTORS = 64,      /* Rx/TxDescriptors: powers of two in range */
	FG_CONFIG_MAX_DESCRIPTORS = 16384,
	FG_CONFIG_MIN_MBUFS = 1023,
	FG_CONFIG_MAX_MBUFS = (1 << 24) - 1,
	FG_CONFIG_MAX_BURST = 64,
	FG_CONFIG_MIN_HANDSHAKE_QUEUE = 64,  /* a power of two: an rte_ring size */
	FG_CONFIG_MAX_HANDSHAKE_QUEUE = 1 << 20,
	FG_CONFIG_MIN_CONNTRACK = 64,        /* ConnTrackTuples bounds (conntrack.h) */
	FG_CONFIG_MAX_CONNTRACK = 1 << 22,
	FG_CONFIG_MAX_CPU = 4095,            /* TunIoSqpollCpu (the kernel's CPU numbers) */
};

enum fg_config_default {
	FG_CONFIG_DEFAULT_LISTEN_PORT = 51820,
	FG_CONFIG_DEFAULT_MTU = 1280,
	FG_CONFIG_DEFAULT_WORKERS = 1,
	FG_CONFIG_DEFAULT_DESCRIPTORS = 1024,
	FG_CONFIG_DEFAULT_MBUFS = 8191,         /* README "Memory": what one worker needs */
	FG_CONFIG_DEFAULT_BURST = 32,
	FG_CONFIG_DEFAULT_MAX_PEERS = 4096,
	FG_CONFIG_DEFAULT_CONNTRACK = 16384,    /* per worker; README "Memory" */
	FG_CONFIG_DEFAULT_HANDSHAKE_QUEUE = 1024,
	FG_CONFIG_DEFAULT_TX_QUEUE_LEN = 10000,
};

#define FG_CONFIG_DEFAULT_HOST_NAME "tun-firezone"

/* [Interface] */
struct fg_config_interface {
	uint8_t private_key[FG_KEY_LEN];   /* all zero when absent: a key made per start */
	uint8_t public_key[FG_KEY_LEN];    /* derived from private_key (zero when absent) */
	uint16_t listen_port;              /* 1..65535, default 51820 */
	uint16_t mtu;                      /* of the TUN: 576..9000, default 1280 */
	size_t n_addresses;
	struct fg_prefix addresses[FG_CONFIG_MAX_ADDRESSES];  /* tunnel addresses, host bits kept */
};

/* [Peer]: one per section, in file order. */
struct fg_config_peer {
	uint8_t public_key[FG_KEY_LEN];      /* required, unique */
	uint8_t preshared_key[FG_KEY_LEN];   /* all zero unless has_preshared_key */
	bool has_preshared_key;
	bool has_endpoint;
	struct fg_endpoint endpoint;
	uint16_t persistent_keepalive;       /* seconds; 0 = off */
	unsigned int line;                   /* line of its [Peer] header, for later messages */
	size_t n_allowed_ips;
	struct fg_prefix *allowed_ips;       /* heap array, host bits cleared */
};

/* [Uplink]: the DPDK port carrying the outer (encrypted) traffic. */
struct fg_config_uplink {
	struct fg_prefix address;    /* IPv4 with host bits: ours, and the on-link subnet (required) */
	struct fg_ip gateway;        /* IPv4 next hop for off-link peers; family 0 = none */
	struct fg_prefix address6;   /* IPv6 outer address; family 0 = none */
	struct fg_ip gateway6;       /* family 0 = none; needs address6 */
	uint16_t port;               /* DPDK port id, default 0 */
	bool has_mac;
	uint8_t mac[FG_CONFIG_MAC_LEN];  /* overrides the port's MAC when has_mac */
};

/* [Dataplane] Crypto: the transport AEAD backend. */
enum fg_config_crypto {
	FG_CONFIG_CRYPTO_AUTO = 0,   /* ipsec-mb where the CPU has AVX2/AVX-512, else libsodium */
	FG_CONFIG_CRYPTO_LIBSODIUM,
	FG_CONFIG_CRYPTO_IPSECMB,
};

/* [Dataplane] */
struct fg_config_dataplane {
	uint32_t workers;               /* worker lcores: 1..RTE_MAX_LCORE-1 */
	uint32_t rx_descriptors;        /* per queue */
	uint32_t tx_descriptors;
	uint32_t mbuf_count;            /* packet pool size */
	uint32_t burst;                 /* 1..FG_CONFIG_MAX_BURST */
	uint32_t max_peers;             /* peer table size; >= the number of [Peer] sections */
	uint32_t handshake_queue;       /* ring from workers to the service lcore */
	uint32_t under_load_threshold;  /* ring occupancy that turns on cookies; < handshake_queue */
	uint32_t crypto;                /* enum fg_config_crypto */
	uint32_t conntrack_tuples;      /* connection-table entries per worker (NAT tuples, flows) */
};

/* [Host]: the TUN interface toward the kernel. */
struct fg_config_host {
	char name[FG_CONFIG_IFNAME_LEN];  /* [A-Za-z0-9_.-]{1,15}, default "tun-firezone" */
	uint32_t tx_queue_len;            /* default 10000 */
	bool offload;                     /* virtio-net header + GRO/GSO (default on) */
	uint32_t tun_io;                  /* enum fg_tun_io, default auto */
	int32_t tun_io_sqpoll_cpu;        /* TunIoSqpollCpu: the SQPOLL threads' CPU, -1 = not pinned */
	size_t n_routes;
	struct fg_prefix routes[FG_CONFIG_MAX_ROUTES];  /* host bits cleared */
};

struct fg_config {
	struct fg_config_interface iface;
	struct fg_config_uplink uplink;
	struct fg_config_dataplane dp;
	struct fg_config_host host;
	size_t n_peers;
	struct fg_config_peer *peers;  /* heap array of n_peers */
};

/* Fills c with the defaults: no keys, no addresses, no peers. c must not own memory. */
void fg_config_defaults(struct fg_config *c);

/*
 * Parses len bytes of text (need not be NUL-terminated); name is the file name used in
 * messages. On success returns 0 and out owns heap memory (release with fg_config_free()).
 * On error returns -EINVAL (or -ENOMEM), leaves out empty, and writes
 * "NAME:LINE: message: 'offending text'" into err (if errlen > 0). Keys are never quoted.
 */
int fg_config_parse(const char *text, size_t len, const char *name, struct fg_config *out,
		    char *err, size_t errlen);

/* Reads path (a regular file of at most FG_CONFIG_MAX_FILE bytes) and parses it. Returns 0,
 * -EINVAL for a bad file (err as above), or -errno when it cannot be read ("PATH: reason"). */
int fg_config_load(const char *path, struct fg_config *out, char *err, size_t errlen);

/* Wipes every key, frees the peers and leaves c zeroed. Safe on a zeroed config. */
void fg_config_free(struct fg_config *c);

/* Wipes the PrivateKey and every PresharedKey once the service holds its own copies; the
 * rest stays (has_preshared_key still says what the file had, the key bytes are zero). */
void fg_config_wipe_keys(struct fg_config *c);

#endif
