// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the control socket between the control plane and the data plane: the
 * codec in common/ctlproto.h (fg_ctl_size() for every 16-bit type, and every message's
 * layout pinned field by field, implicit holes included, so a change that would break the
 * other process or tests/e2e/ctl_hostile.py's mirror fails here), and controlplane/state/dpclient.c
 * against a fake data plane (fake_dp.c) in a thread: correct answers, events interleaved
 * before replies, stale replies with the wrong sequence number, DUMP streams and STATS,
 * then hostile behaviour (wrong version, wrong size for the type, datagrams shorter than a
 * header or longer than any message, an empty datagram, silence, closing in the middle of
 * a request), and the packets of version 3 (PACKET_OUT sent at its exact variable size,
 * PACKET_IN handed to the callback byte for byte, hostile lengths skipped). Every assertion runs on the test's thread, after the fake is joined for what
 * it saw. Built with ASan and UBSan. The silence case waits out FG_DPC_TIMEOUT_MS (3 s):
 * dpclient.h makes it an enum constant, so it cannot be shortened for the test.
 */
#include "dpclient.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "ctlproto.h"
#include "fake_dp.h"
#include "../cunit_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the codec ---------------------------------------------------------------------------- */

static void test_sizes(void)
{
	/* Pinned sizes: the data plane and the control plane are separate binaries, and
	 * ctl_hostile.py mirrors these with ctypes. */
	static const struct {
		uint16_t type;
		size_t size;
		uint32_t pinned;
	} t[] = {
		{ FG_CTL_HELLO, sizeof(struct fg_ctl_hello), 40 },
		{ FG_CTL_HELLO_REPLY, sizeof(struct fg_ctl_hello_reply), 144 },
		{ FG_CTL_REPLY, sizeof(struct fg_ctl_reply), 136 },
		{ FG_CTL_PEER_UPSERT, sizeof(struct fg_ctl_peer_upsert), 180 },
		{ FG_CTL_PEER_REMOVE, sizeof(struct fg_ctl_peer_remove), 48 },
		{ FG_CTL_RESOURCE_UPSERT, sizeof(struct fg_ctl_resource_upsert), 144 },
		{ FG_CTL_RESOURCE_REMOVE, sizeof(struct fg_ctl_resource_remove), 104 },
		{ FG_CTL_IFACE_SET, sizeof(struct fg_ctl_iface_set), 44 },
		{ FG_CTL_DUMP, sizeof(struct fg_ctl_dump), 8 },
		{ FG_CTL_PEER_INFO, sizeof(struct fg_ctl_peer_info), 192 },
		{ FG_CTL_RESOURCE_INFO, sizeof(struct fg_ctl_resource_info), 144 },
		{ FG_CTL_STATS, sizeof(struct fg_ctl_stats), 8 },
		{ FG_CTL_STATS_REPLY, sizeof(struct fg_ctl_stats_reply), 5240 },
		{ FG_CTL_EVENT, sizeof(struct fg_ctl_event), 112 },
		{ FG_CTL_PACKET_IN, sizeof(struct fg_ctl_packet_in), 52 },
		{ FG_CTL_PACKET_OUT, sizeof(struct fg_ctl_packet_out), 32 },
		{ FG_CTL_CHANNEL_BIND, sizeof(struct fg_ctl_channel), 52 },
		{ FG_CTL_CHANNEL_UNBIND, sizeof(struct fg_ctl_channel), 52 },
		{ FG_CTL_PEER_PATH, sizeof(struct fg_ctl_peer_path), 64 },
		{ FG_CTL_P2P_IN, sizeof(struct fg_ctl_p2p), 44 },
		{ FG_CTL_P2P_OUT, sizeof(struct fg_ctl_p2p), 44 },
		{ FG_CTL_NAT_SET, sizeof(struct fg_ctl_nat_set), 664 },
		{ FG_CTL_NAT_DUMP, sizeof(struct fg_ctl_nat_dump), 8 },
		{ FG_CTL_NAT_INFO, sizeof(struct fg_ctl_nat_info), 144 },
		{ FG_CTL_FLOWS_SET, sizeof(struct fg_ctl_flows_set), 16 },
		{ FG_CTL_FLOW, sizeof(struct fg_ctl_flow), 320 },
	};
	unsigned covered = 0;

	CU_ASSERT_EQUAL(N(t), FG_CTL_TYPE_MAX - 1);
	for (size_t i = 0; i < N(t); i++) {
		if (fg_ctl_size(t[i].type) != t[i].size || t[i].size != t[i].pinned)
			fprintf(stderr, "\n  type %u: fg_ctl_size %u, sizeof %zu, pinned %u\n", t[i].type,
				fg_ctl_size(t[i].type), t[i].size, t[i].pinned);
		CU_ASSERT_EQUAL(fg_ctl_size(t[i].type), t[i].size);
		CU_ASSERT_EQUAL(t[i].size, t[i].pinned);
		CU_ASSERT_EQUAL(t[i].size % 4, 0);
		CU_ASSERT(t[i].size >= sizeof(struct fg_ctl_hdr));
		covered |= 1u << t[i].type;
	}
	CU_ASSERT_EQUAL(covered, ((1u << FG_CTL_TYPE_MAX) - 1) & ~1u);
	/* Every one of the 65,536 possible types: known ones have a size, nothing else does. */
	for (uint32_t type = 0; type <= UINT16_MAX; type++) {
		bool known = type >= FG_CTL_HELLO && type < FG_CTL_TYPE_MAX;

		if ((fg_ctl_size((uint16_t)type) != 0) != known) {
			fprintf(stderr, "\n  fg_ctl_size(%u) = %u\n", type, fg_ctl_size((uint16_t)type));
			CU_FAIL("fg_ctl_size of an unknown type is not 0, or of a known one is");
		}
	}
	CU_ASSERT_EQUAL(fg_ctl_size(0), 0);
	CU_ASSERT_EQUAL(fg_ctl_size(FG_CTL_TYPE_MAX), 0);
	CU_ASSERT_EQUAL(fg_ctl_size(UINT16_MAX), 0);
	/* The message bounds: every fixed message fits FG_CTL_MAX_MSG, the receive buffers of
	 * both ends, as does a resource with FG_CTL_MAX_FILTERS filters. */
	CU_ASSERT(sizeof(struct fg_ctl_stats_reply) <= FG_CTL_MAX_MSG);
	CU_ASSERT(sizeof(struct fg_ctl_packet_in) + FG_CTL_MAX_PACKET <= FG_CTL_MAX_MSG);
	CU_ASSERT_EQUAL(FG_CTL_VERSION, 6);
	CU_ASSERT_EQUAL(FG_CTL_MAX_MSG, sizeof(struct fg_ctl_resource_upsert) + FG_CTL_MAX_FILTERS * 8);
	CU_ASSERT_EQUAL(sizeof(struct fg_ctl_filter), 8);
	CU_ASSERT_EQUAL(sizeof(struct fg_ctl_lcore_stats), 144);
	CU_ASSERT_EQUAL(sizeof(struct fg_ip), 17);
	CU_ASSERT_EQUAL(sizeof(struct fg_prefix), 18);
	CU_ASSERT_EQUAL(sizeof(struct fg_endpoint), 20);
}

/* One field: its offset and size, and the most implicit padding the compiler may put
 * before it: the holes ctlproto.h has today (fields after 17-byte struct fg_ip values). A
 * struct's rows end with its size as a pseudo-field "end", whose hole is the tail padding. */
struct field {
	const char *name;
	size_t off, size, hole;
};

#define F(s, m, hole) { #s "." #m, offsetof(struct s, m), sizeof(((struct s *)0)->m), hole }
#define END(s, hole) { #s " end", sizeof(struct s), 0, hole }

#define CHECK_LAYOUT(f, offs)                                            \
	do {                                                             \
		_Static_assert(N(f) == N(offs), #f " rows and offsets"); \
		check_layout(f, N(f), offs);                             \
	} while (0)

/* Every field must sit at its pinned offset, and no hole may be larger than the known one:
 * a new implicit hole is a layout another language's mirror would get wrong. Turning a
 * known hole into an explicit pad field (the better header) still passes. */
static void check_layout(const struct field *f, size_t n, const size_t *pinned_offs)
{
	size_t end = 0;

	for (size_t i = 0; i < n; i++) {
		if (f[i].off != pinned_offs[i] || f[i].off < end || f[i].off - end > f[i].hole) {
			fprintf(stderr, "\n  %s at %zu (pinned %zu): previous field ends at %zu, known hole %zu\n",
				f[i].name, f[i].off, pinned_offs[i], end, f[i].hole);
			CU_FAIL("layout changed");
		}
		end = f[i].off + f[i].size;
	}
}

/* fg_ctl_msg_size: the exact size of a whole message, with the variable part of resources. */
static void test_msg_size(void)
{
	static const uint16_t var[] = { FG_CTL_RESOURCE_UPSERT, FG_CTL_RESOURCE_INFO };
	_Alignas(8) uint8_t buf[sizeof(struct fg_ctl_resource_upsert)];
	struct fg_ctl_resource_upsert *m = (void *)buf;
	struct fg_ctl_hdr h = { .version = FG_CTL_VERSION };

	for (unsigned v = 0; v < N(var); v++) {
		static const uint32_t ns[] = { 0, 1, 32, 33, 500, FG_CTL_MAX_FILTERS };

		memset(buf, 0, sizeof(buf));
		m->h.type = var[v];
		for (unsigned i = 0; i < N(ns); i++) {
			m->n_filters = ns[i];
			CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, sizeof(buf)), 144 + 8 * ns[i]);
		}
		/* Over the maximum, or a count that would wrap: no valid size at all. */
		m->n_filters = FG_CTL_MAX_FILTERS + 1;
		CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, sizeof(buf)), 0);
		m->n_filters = UINT32_MAX;
		CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, sizeof(buf)), 0);
		m->n_filters = (UINT32_MAX - 144) / 8 + 1;
		CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, sizeof(buf)), 0);
		/* Shorter than the fixed part: the fixed size, which a receiver then refuses. */
		m->n_filters = 0;
		CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, 143), 144);
		CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, 7), 0);
	}
	/* Fixed types: fg_ctl_size, whatever follows the header. */
	for (uint32_t type = 0; type <= UINT16_MAX; type++) {
		h.type = (uint16_t)type;
		memset(buf, 0xff, sizeof(buf));
		memcpy(buf, &h, sizeof(h));
		if (fg_ctl_is_variable((uint16_t)type))
			continue;
		if (fg_ctl_msg_size(buf, sizeof(buf)) != fg_ctl_size((uint16_t)type))
			CU_FAIL("fg_ctl_msg_size differs from fg_ctl_size for a fixed type");
	}
}

/* fg_ctl_msg_size of packets: the fixed part plus exactly len payload bytes. */
static void test_msg_size_packets(void)
{
	static const struct {
		uint16_t type;
		uint32_t base, len_off, max;
	} var[] = {
		{ FG_CTL_PACKET_IN, 52, offsetof(struct fg_ctl_packet_in, len), FG_CTL_MAX_PACKET },
		{ FG_CTL_PACKET_OUT, 32, offsetof(struct fg_ctl_packet_out, len), FG_CTL_MAX_PACKET },
		{ FG_CTL_P2P_IN, 44, offsetof(struct fg_ctl_p2p, len), FG_CTL_P2P_MAX },
		{ FG_CTL_P2P_OUT, 44, offsetof(struct fg_ctl_p2p, len), FG_CTL_P2P_MAX },
	};
	/* As long as a resource's fixed part: the compiler cannot tell the type will not be one. */
	_Alignas(8) uint8_t buf[sizeof(struct fg_ctl_resource_upsert)];
	struct fg_ctl_hdr h = { .version = FG_CTL_VERSION };
	unsigned variable = 0;

	for (uint32_t type = 0; type <= UINT16_MAX; type++)
		variable += fg_ctl_is_variable((uint16_t)type) != 0;
	CU_ASSERT_EQUAL(variable, 6); /* the two resources, the two packets, the two p2p */
	for (unsigned v = 0; v < N(var); v++) {
		const uint32_t ok[] = { 0, 1, 20, 548, 1200, var[v].max };
		const uint32_t bad[] = { var[v].max + 1, 4096, UINT16_MAX };

		CU_ASSERT(fg_ctl_is_variable(var[v].type));
		memset(buf, 0xa5, sizeof(buf));
		h.type = var[v].type;
		memcpy(buf, &h, sizeof(h));
		for (unsigned i = 0; i < N(ok); i++) {
			uint16_t n = (uint16_t)ok[i];

			memcpy(buf + var[v].len_off, &n, 2);
			CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, sizeof(buf)), var[v].base + n);
			/* The receiver's rule: the datagram must be exactly that long. */
			CU_ASSERT_NOT_EQUAL(fg_ctl_msg_size(buf, sizeof(buf)), var[v].base + n + 1);
		}
		for (unsigned i = 0; i < N(bad); i++) {
			uint16_t n = (uint16_t)bad[i];

			memcpy(buf + var[v].len_off, &n, 2);
			CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, sizeof(buf)), 0);
		}
		/* Shorter than the fixed part: the fixed size (the len is not read), refused by
		 * a receiver; shorter than a header: 0. */
		CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, var[v].base - 1), var[v].base);
		CU_ASSERT_EQUAL(fg_ctl_msg_size(buf, 7), 0);
	}
}

static void test_layout(void)
{
	static const struct field hdr[] = {
		F(fg_ctl_hdr, version, 0), F(fg_ctl_hdr, type, 0), F(fg_ctl_hdr, seq, 0), END(fg_ctl_hdr, 0),
	};
	static const size_t hdr_off[] = { 0, 2, 4, 8 };
	static const struct field addr[] = {
		F(fg_ip, family, 0), F(fg_ip, addr, 0), END(fg_ip, 0),
	};
	static const size_t addr_off[] = { 0, 1, 17 };
	static const struct field prefix[] = {
		F(fg_prefix, ip, 0), F(fg_prefix, len, 0), END(fg_prefix, 0),
	};
	static const size_t prefix_off[] = { 0, 17, 18 };
	static const struct field endpoint[] = {
		F(fg_endpoint, ip, 0), F(fg_endpoint, port, 1), END(fg_endpoint, 0),
	};
	static const size_t endpoint_off[] = { 0, 18, 20 };
	static const struct field hello_reply[] = {
		F(fg_ctl_hello_reply, h, 0),
		F(fg_ctl_hello_reply, version, 0),
		F(fg_ctl_hello_reply, public_key, 0),
		F(fg_ctl_hello_reply, tun_name, 0),
		F(fg_ctl_hello_reply, listen_port, 0),
		F(fg_ctl_hello_reply, pad, 0),
		F(fg_ctl_hello_reply, uplink4, 0),
		F(fg_ctl_hello_reply, uplink6, 0),
		F(fg_ctl_hello_reply, started_unix_ns, 2), /* implicit: uplink6 ends at 126 */
		F(fg_ctl_hello_reply, peers, 0),
		F(fg_ctl_hello_reply, workers, 0),
		END(fg_ctl_hello_reply, 0),
	};
	static const size_t hello_reply_off[] = { 0, 8, 40, 72, 88, 90, 92, 109, 128, 136, 140, 144 };
	static const struct field reply[] = {
		F(fg_ctl_reply, h, 0), F(fg_ctl_reply, status, 0), F(fg_ctl_reply, count, 0),
		F(fg_ctl_reply, message, 0), END(fg_ctl_reply, 0),
	};
	static const size_t reply_off[] = { 0, 8, 12, 16, 136 };
	static const struct field peer_upsert[] = {
		F(fg_ctl_peer_upsert, h, 0),
		F(fg_ctl_peer_upsert, client_id, 0),
		F(fg_ctl_peer_upsert, public_key, 0),
		F(fg_ctl_peer_upsert, psk, 0),
		F(fg_ctl_peer_upsert, ipv4, 0),
		F(fg_ctl_peer_upsert, ipv6, 0),
		F(fg_ctl_peer_upsert, flags, 2), /* implicit: ipv6 ends at 170 */
		F(fg_ctl_peer_upsert, pad, 0),
		END(fg_ctl_peer_upsert, 0),
	};
	static const size_t peer_upsert_off[] = { 0, 8, 72, 104, 136, 153, 172, 176, 180 };
	static const struct field peer_remove[] = {
		F(fg_ctl_peer_remove, h, 0), F(fg_ctl_peer_remove, public_key, 0),
		F(fg_ctl_peer_remove, flags, 0), F(fg_ctl_peer_remove, pad, 0), END(fg_ctl_peer_remove, 0),
	};
	static const size_t peer_remove_off[] = { 0, 8, 40, 44, 48 };
	static const struct field filter[] = {
		F(fg_ctl_filter, proto, 0), F(fg_ctl_filter, pad, 0), F(fg_ctl_filter, port_lo, 0),
		F(fg_ctl_filter, port_hi, 0), F(fg_ctl_filter, pad2, 0), END(fg_ctl_filter, 0),
	};
	static const size_t filter_off[] = { 0, 1, 2, 4, 6, 8 };
	static const struct field res_upsert[] = {
		F(fg_ctl_resource_upsert, h, 0),
		F(fg_ctl_resource_upsert, public_key, 0),
		F(fg_ctl_resource_upsert, resource_id, 0),
		F(fg_ctl_resource_upsert, type, 0),
		F(fg_ctl_resource_upsert, n_filters, 0),
		F(fg_ctl_resource_upsert, prefix, 0),
		F(fg_ctl_resource_upsert, pad, 0),
		F(fg_ctl_resource_upsert, expires_at, 4), /* implicit: pad[2] ends at 132 */
		{ "fg_ctl_resource_upsert.filters", offsetof(struct fg_ctl_resource_upsert, filters), 0, 0 },
		END(fg_ctl_resource_upsert, 0),
	};
	/* The fixed part; n_filters filters of 8 bytes follow it (fg_ctl_msg_size). */
	static const size_t res_upsert_off[] = { 0, 8, 40, 104, 108, 112, 130, 136, 144, 144 };
	static const struct field res_info[] = {
		F(fg_ctl_resource_info, h, 0),
		F(fg_ctl_resource_info, public_key, 0),
		F(fg_ctl_resource_info, resource_id, 0),
		F(fg_ctl_resource_info, type, 0),
		F(fg_ctl_resource_info, n_filters, 0),
		F(fg_ctl_resource_info, prefix, 0),
		F(fg_ctl_resource_info, pad, 0),
		F(fg_ctl_resource_info, expires_at, 4), /* implicit, as in resource_upsert */
		{ "fg_ctl_resource_info.filters", offsetof(struct fg_ctl_resource_info, filters), 0, 0 },
		END(fg_ctl_resource_info, 0),
	};
	static const struct field res_remove[] = {
		F(fg_ctl_resource_remove, h, 0), F(fg_ctl_resource_remove, public_key, 0),
		F(fg_ctl_resource_remove, resource_id, 0), END(fg_ctl_resource_remove, 0),
	};
	static const size_t res_remove_off[] = { 0, 8, 40, 104 };
	static const struct field iface[] = {
		F(fg_ctl_iface_set, h, 0), F(fg_ctl_iface_set, ipv4, 0), F(fg_ctl_iface_set, ipv6, 0),
		END(fg_ctl_iface_set, 2), /* implicit tail: ipv6 ends at 42, the header aligns to 4 */
	};
	static const size_t iface_off[] = { 0, 8, 25, 44 };
	static const struct field peer_info[] = {
		F(fg_ctl_peer_info, h, 0),
		F(fg_ctl_peer_info, client_id, 0),
		F(fg_ctl_peer_info, public_key, 0),
		F(fg_ctl_peer_info, ipv4, 0),
		F(fg_ctl_peer_info, ipv6, 0),
		F(fg_ctl_peer_info, endpoint, 0),
		F(fg_ctl_peer_info, channel, 0), /* version 3: the former pad[2] */
		F(fg_ctl_peer_info, flags, 0),
		F(fg_ctl_peer_info, n_resources, 0),
		F(fg_ctl_peer_info, last_handshake_unix_ns, 0),
		F(fg_ctl_peer_info, rx_bytes, 0),
		F(fg_ctl_peer_info, tx_bytes, 0),
		END(fg_ctl_peer_info, 0),
	};
	static const size_t peer_info_off[] = { 0, 8, 72, 104, 121, 138, 158, 160, 164, 168, 176, 184, 192 };
	static const struct field packet_in[] = {
		F(fg_ctl_packet_in, h, 0), F(fg_ctl_packet_in, src, 0), F(fg_ctl_packet_in, peer, 0),
		F(fg_ctl_packet_in, channel, 0), F(fg_ctl_packet_in, len, 0),
		{ "fg_ctl_packet_in.payload", offsetof(struct fg_ctl_packet_in, payload), 0, 0 },
		END(fg_ctl_packet_in, 0),
	};
	static const size_t packet_in_off[] = { 0, 8, 28, 48, 50, 52, 52 };
	static const struct field packet_out[] = {
		F(fg_ctl_packet_out, h, 0), F(fg_ctl_packet_out, ep, 0), F(fg_ctl_packet_out, channel, 0),
		F(fg_ctl_packet_out, len, 0),
		{ "fg_ctl_packet_out.payload", offsetof(struct fg_ctl_packet_out, payload), 0, 0 },
		END(fg_ctl_packet_out, 0),
	};
	static const size_t packet_out_off[] = { 0, 8, 28, 30, 32, 32 };
	static const struct field channel[] = {
		F(fg_ctl_channel, h, 0), F(fg_ctl_channel, relay, 0), F(fg_ctl_channel, peer, 0),
		F(fg_ctl_channel, channel, 0), F(fg_ctl_channel, pad, 0), END(fg_ctl_channel, 0),
	};
	static const size_t channel_off[] = { 0, 8, 28, 48, 50, 52 };
	static const struct field peer_path[] = {
		F(fg_ctl_peer_path, h, 0), F(fg_ctl_peer_path, public_key, 0), F(fg_ctl_peer_path, ep, 0),
		F(fg_ctl_peer_path, channel, 0), F(fg_ctl_peer_path, pad, 0), END(fg_ctl_peer_path, 0),
	};
	static const size_t peer_path_off[] = { 0, 8, 40, 60, 62, 64 };
	static const struct field stats_reply[] = {
		F(fg_ctl_stats_reply, h, 0),
		F(fg_ctl_stats_reply, aead, 0),
		F(fg_ctl_stats_reply, workers, 0),
		F(fg_ctl_stats_reply, peers, 0),
		F(fg_ctl_stats_reply, n_drops, 0),
		F(fg_ctl_stats_reply, pad, 0),
		F(fg_ctl_stats_reply, handshakes_initiated, 0),
		F(fg_ctl_stats_reply, handshakes_responded, 0),
		F(fg_ctl_stats_reply, handshakes_completed, 0),
		F(fg_ctl_stats_reply, cookies_sent, 0),
		F(fg_ctl_stats_reply, keepalives_sent, 0),
		F(fg_ctl_stats_reply, roams, 0),
		F(fg_ctl_stats_reply, drops, 0),
		F(fg_ctl_stats_reply, drop_names, 0),
		F(fg_ctl_stats_reply, service, 0),
		F(fg_ctl_stats_reply, lcores, 0),
		F(fg_ctl_stats_reply, nat_translated_out, 0),
		F(fg_ctl_stats_reply, nat_translated_in, 0),
		F(fg_ctl_stats_reply, nat_icmp_translated, 0),
		F(fg_ctl_stats_reply, nat_created, 0),
		F(fg_ctl_stats_reply, nat_expired, 0),
		F(fg_ctl_stats_reply, nat_misses, 0),
		F(fg_ctl_stats_reply, nat_live, 0),
		F(fg_ctl_stats_reply, flows_started, 0),
		F(fg_ctl_stats_reply, flows_completed, 0),
		F(fg_ctl_stats_reply, flows_live, 0),
		F(fg_ctl_stats_reply, flows_lost, 0),
		F(fg_ctl_stats_reply, p2p_in, 0),
		F(fg_ctl_stats_reply, p2p_out, 0),
		F(fg_ctl_stats_reply, tsc_hz, 0),
		F(fg_ctl_stats_reply, heap_total, 0),
		F(fg_ctl_stats_reply, heap_allocated, 0),
		F(fg_ctl_stats_reply, heap_free, 0),
		F(fg_ctl_stats_reply, heap_largest_free, 0),
		END(fg_ctl_stats_reply, 0),
	};
	static const size_t stats_reply_off[] = {
		0, 8, 24, 28, 32, 36, 40, 48, 56, 64, 72, 80, 88, 600, 2648, 2792,
		5096, 5104, 5112, 5120, 5128, 5136, 5144, 5152, 5160, 5168, 5176, 5184, 5192, 5200, 5208,
		5216, 5224, 5232, 5240,
	};
	/* Version 5 appended the load to each lcore's counters. */
	static const struct field lcore_stats[] = {
		F(fg_ctl_lcore_stats, nic_rx_packets, 0),
		F(fg_ctl_lcore_stats, nic_rx_bytes, 0),
		F(fg_ctl_lcore_stats, nic_tx_packets, 0),
		F(fg_ctl_lcore_stats, nic_tx_bytes, 0),
		F(fg_ctl_lcore_stats, tun_rx_packets, 0),
		F(fg_ctl_lcore_stats, tun_rx_bytes, 0),
		F(fg_ctl_lcore_stats, tun_tx_packets, 0),
		F(fg_ctl_lcore_stats, tun_tx_bytes, 0),
		F(fg_ctl_lcore_stats, decrypted, 0),
		F(fg_ctl_lcore_stats, encrypted, 0),
		F(fg_ctl_lcore_stats, polls, 0),
		F(fg_ctl_lcore_stats, busy_polls, 0),
		F(fg_ctl_lcore_stats, busy_cycles, 0),
		F(fg_ctl_lcore_stats, cycles, 0),
		F(fg_ctl_lcore_stats, win_polls, 0),
		F(fg_ctl_lcore_stats, win_busy_polls, 0),
		F(fg_ctl_lcore_stats, win_busy_cycles, 0),
		F(fg_ctl_lcore_stats, win_cycles, 0),
		END(fg_ctl_lcore_stats, 0),
	};
	static const size_t lcore_stats_off[] = {
		0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 144,
	};
	static const struct field p2p[] = {
		F(fg_ctl_p2p, h, 0), F(fg_ctl_p2p, public_key, 0), F(fg_ctl_p2p, len, 0), F(fg_ctl_p2p, pad, 0),
		{ "fg_ctl_p2p.payload", offsetof(struct fg_ctl_p2p, payload), 0, 0 },
		END(fg_ctl_p2p, 0),
	};
	static const size_t p2p_off[] = { 0, 8, 40, 42, 44, 44 };
	static const struct field nat_entry[] = {
		F(fg_ctl_nat_entry, proxy, 0), F(fg_ctl_nat_entry, real, 0), F(fg_ctl_nat_entry, pad, 0),
		END(fg_ctl_nat_entry, 0),
	};
	static const size_t nat_entry_off[] = { 0, 17, 34, 36 };
	static const struct field nat_set[] = {
		F(fg_ctl_nat_set, h, 0), F(fg_ctl_nat_set, public_key, 0), F(fg_ctl_nat_set, resource_id, 0),
		F(fg_ctl_nat_set, domain, 0), F(fg_ctl_nat_set, flags, 0), F(fg_ctl_nat_set, rank, 0),
		F(fg_ctl_nat_set, n, 0), F(fg_ctl_nat_set, pad, 0), F(fg_ctl_nat_set, e, 0), END(fg_ctl_nat_set, 0),
	};
	static const size_t nat_set_off[] = { 0, 8, 40, 104, 360, 364, 368, 372, 376, 664 };
	static const struct field nat_info[] = {
		F(fg_ctl_nat_info, h, 0), F(fg_ctl_nat_info, public_key, 0), F(fg_ctl_nat_info, proxy, 0),
		F(fg_ctl_nat_info, real, 0), F(fg_ctl_nat_info, proto, 0), F(fg_ctl_nat_info, flags, 0),
		F(fg_ctl_nat_info, inside_port, 0), F(fg_ctl_nat_info, outside_port, 0),
		F(fg_ctl_nat_info, worker, 0), F(fg_ctl_nat_info, pad, 0), F(fg_ctl_nat_info, created_unix_ns, 0),
		F(fg_ctl_nat_info, last_out_unix_ns, 0), F(fg_ctl_nat_info, last_in_unix_ns, 0),
		F(fg_ctl_nat_info, tx_packets, 0), F(fg_ctl_nat_info, tx_bytes, 0), F(fg_ctl_nat_info, rx_packets, 0),
		F(fg_ctl_nat_info, rx_bytes, 0), END(fg_ctl_nat_info, 0),
	};
	static const size_t nat_info_off[] = { 0, 8, 40, 57, 74, 75, 76, 78, 80, 82, 88, 96, 104, 112, 120, 128, 136, 144 };
	static const struct field flow[] = {
		F(fg_ctl_flow, h, 0), F(fg_ctl_flow, kind, 0), F(fg_ctl_flow, end, 0), F(fg_ctl_flow, public_key, 0),
		F(fg_ctl_flow, resource_id, 0), F(fg_ctl_flow, proto, 0), F(fg_ctl_flow, n_outers, 0),
		F(fg_ctl_flow, src_port, 0), F(fg_ctl_flow, dst_port, 0), F(fg_ctl_flow, pad, 0), F(fg_ctl_flow, src, 0),
		F(fg_ctl_flow, dst, 0), F(fg_ctl_flow, real, 0), F(fg_ctl_flow, pad2, 0), F(fg_ctl_flow, outers, 0),
		F(fg_ctl_flow, channels, 0), F(fg_ctl_flow, pad3, 0), F(fg_ctl_flow, start_unix_ns, 0),
		F(fg_ctl_flow, last_packet_unix_ns, 0), F(fg_ctl_flow, end_unix_ns, 0), F(fg_ctl_flow, tx_packets, 0),
		F(fg_ctl_flow, tx_bytes, 0), F(fg_ctl_flow, rx_packets, 0), F(fg_ctl_flow, rx_bytes, 0), END(fg_ctl_flow, 0),
	};
	static const size_t flow_off[] = { 0, 8, 12, 16, 48, 112, 113, 114, 116, 118, 120, 137, 154, 171, 172, 252, 260,
					   264, 272, 280, 288, 296, 304, 312, 320 };
	static const struct field flows_set[] = {
		F(fg_ctl_flows_set, h, 0), F(fg_ctl_flows_set, enabled, 0), F(fg_ctl_flows_set, pad, 0),
		END(fg_ctl_flows_set, 0),
	};
	static const size_t flows_set_off[] = { 0, 8, 12, 16 };
	static const struct field event[] = {
		F(fg_ctl_event, h, 0), F(fg_ctl_event, kind, 0), F(fg_ctl_event, pad, 0),
		F(fg_ctl_event, public_key, 0), F(fg_ctl_event, resource_id, 0), END(fg_ctl_event, 0),
	};
	static const size_t event_off[] = { 0, 8, 12, 16, 48, 112 };

	CHECK_LAYOUT(hdr, hdr_off);
	CHECK_LAYOUT(addr, addr_off);
	CHECK_LAYOUT(prefix, prefix_off);
	CHECK_LAYOUT(endpoint, endpoint_off);
	CHECK_LAYOUT(hello_reply, hello_reply_off);
	CHECK_LAYOUT(reply, reply_off);
	CHECK_LAYOUT(peer_upsert, peer_upsert_off);
	CHECK_LAYOUT(peer_remove, peer_remove_off);
	CHECK_LAYOUT(filter, filter_off);
	CHECK_LAYOUT(res_upsert, res_upsert_off);
	CHECK_LAYOUT(res_info, res_upsert_off);
	CHECK_LAYOUT(res_remove, res_remove_off);
	CHECK_LAYOUT(iface, iface_off);
	CHECK_LAYOUT(peer_info, peer_info_off);
	CHECK_LAYOUT(stats_reply, stats_reply_off);
	CHECK_LAYOUT(lcore_stats, lcore_stats_off);
	CHECK_LAYOUT(event, event_off);
	CHECK_LAYOUT(packet_in, packet_in_off);
	CHECK_LAYOUT(packet_out, packet_out_off);
	CHECK_LAYOUT(channel, channel_off);
	CHECK_LAYOUT(peer_path, peer_path_off);
	CHECK_LAYOUT(p2p, p2p_off);
	CHECK_LAYOUT(nat_entry, nat_entry_off);
	CHECK_LAYOUT(nat_set, nat_set_off);
	CHECK_LAYOUT(nat_info, nat_info_off);
	CHECK_LAYOUT(flow, flow_off);
	CHECK_LAYOUT(flows_set, flows_set_off);
	/* Every message starts with the header, so the receiver can read it at offset 0. */
	CU_ASSERT_EQUAL(offsetof(struct fg_ctl_hello, h), 0);
	CU_ASSERT_EQUAL(offsetof(struct fg_ctl_hello, client), 8);
	CU_ASSERT_EQUAL(offsetof(struct fg_ctl_dump, h), 0);
	CU_ASSERT_EQUAL(offsetof(struct fg_ctl_stats, h), 0);
	CU_ASSERT_EQUAL(sizeof(((struct fg_ctl_stats_reply *)0)->lcores), 144 * FG_CTL_MAX_WORKERS);
	CU_ASSERT_EQUAL(_Alignof(struct fg_ctl_hdr), 4);
}

/* ---- the client against a fake data plane ----------------------------------------------- */

static struct fake_dp fk;
static struct fg_dpc dpc;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool fake_start(void (*script)(struct fake_dp *f))
{
	if (!fdp_start(&fk, script))
		return false;
	fg_dpc_init(&dpc, fk.path);
	return true;
}

/* Closes the client, joins the fake and checks that its script ran to the end. */
static void fake_stop(void)
{
	fg_dpc_close(&dpc);
	fdp_stop(&fk);
	CU_ASSERT_FALSE(fk.failed);
	fk.bad_len = 0;
	fk.bad_in_hello = false;
}

/* Fatal only before the fake's thread exists: a test never leaves one running. */
#define START(script) CU_ASSERT_FATAL(fake_start(script))

static void test_connect(void)
{
	struct fg_ctl_hello hello;

	START(fdp_good);
	CU_ASSERT_FALSE(fg_dpc_connected(&dpc));
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	CU_ASSERT_TRUE(fg_dpc_connected(&dpc));
	CU_ASSERT_STRING_EQUAL(dpc.last_error, "");
	CU_ASSERT_EQUAL(dpc.hello.h.type, FG_CTL_HELLO_REPLY);
	CU_ASSERT_STRING_EQUAL(dpc.hello.version, "fake-dataplane 9.9");
	CU_ASSERT_STRING_EQUAL(dpc.hello.tun_name, "fgtest0");
	CU_ASSERT_EQUAL(dpc.hello.public_key[31], 0xab);
	CU_ASSERT_EQUAL(dpc.hello.listen_port, 51820);
	CU_ASSERT_EQUAL(dpc.hello.uplink4.family, AF_INET);
	CU_ASSERT_EQUAL(dpc.hello.started_unix_ns, 1700000000123456789ull);
	CU_ASSERT_EQUAL(dpc.hello.peers, 3);
	CU_ASSERT_EQUAL(dpc.hello.workers, 2);
	fake_stop();
	/* What the client sent: one HELLO of exactly its size, version 1, seq 1. */
	CU_ASSERT_EQUAL(fk.nseen, 1);
	CU_ASSERT_EQUAL(fk.seen[0].version, FG_CTL_VERSION);
	CU_ASSERT_EQUAL(fk.seen[0].type, FG_CTL_HELLO);
	CU_ASSERT_EQUAL(fk.seen[0].seq, 1);
	CU_ASSERT_EQUAL(fk.seen_len[0], sizeof(struct fg_ctl_hello));
	memcpy(&hello, fk.last, sizeof(hello));
	CU_ASSERT_STRING_EQUAL(hello.client, "fastgate-controlplane " FG_VERSION);
	CU_ASSERT_FALSE(fg_dpc_connected(&dpc));
}

static void test_requests(void)
{
	struct fg_ctl_peer_upsert up;
	struct fg_ctl_peer_remove rm;
	struct fg_ctl_resource_remove rr;
	struct fg_ctl_reply reply;

	START(fdp_good);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	memset(&up, 0, sizeof(up));
	snprintf(up.client_id, sizeof(up.client_id), "4d3c2b1a-0000-4000-8000-000000000001");
	memset(up.public_key, 0x11, sizeof(up.public_key));
	up.ipv4.family = AF_INET;
	up.flags = FG_CTL_PEER_POLICY;
	memset(&reply, 0xee, sizeof(reply));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &up, FG_CTL_PEER_UPSERT, &reply), 0);
	/* The client fills in the header of the caller's message. */
	CU_ASSERT_EQUAL(up.h.version, FG_CTL_VERSION);
	CU_ASSERT_EQUAL(up.h.type, FG_CTL_PEER_UPSERT);
	CU_ASSERT_EQUAL(up.h.seq, 2);
	CU_ASSERT_EQUAL(reply.h.type, FG_CTL_REPLY);
	CU_ASSERT_EQUAL(reply.h.seq, 2);
	CU_ASSERT_EQUAL(reply.status, 0);
	CU_ASSERT_EQUAL(reply.count, 2);
	CU_ASSERT_STRING_EQUAL(reply.message, "");

	memset(&rm, 0, sizeof(rm));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, &reply), -ENOENT);
	CU_ASSERT_EQUAL(reply.count, 3);
	CU_ASSERT_STRING_EQUAL(reply.message, "no such peer");
	CU_ASSERT_TRUE(fg_dpc_connected(&dpc)); /* a refusal is not a transport error */

	memset(&rr, 0, sizeof(rr));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rr, FG_CTL_RESOURCE_REMOVE, NULL), -EINVAL);
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &up, FG_CTL_PEER_UPSERT, NULL), 0);
	CU_ASSERT_EQUAL(up.h.seq, 5);
	fake_stop();

	/* The server saw each request at its exact size, in order, seqs 1..5. */
	static const uint16_t types[] = {
		FG_CTL_HELLO, FG_CTL_PEER_UPSERT, FG_CTL_PEER_REMOVE, FG_CTL_RESOURCE_REMOVE, FG_CTL_PEER_UPSERT,
	};
	CU_ASSERT_EQUAL(fk.nseen, N(types));
	for (unsigned i = 0; i < N(types) && i < fk.nseen; i++) {
		CU_ASSERT_EQUAL(fk.seen[i].type, types[i]);
		CU_ASSERT_EQUAL(fk.seen[i].seq, i + 1);
		CU_ASSERT_EQUAL(fk.seen[i].version, FG_CTL_VERSION);
		CU_ASSERT_EQUAL(fk.seen_len[i], fg_ctl_size(types[i]));
	}
	CU_ASSERT_EQUAL(memcmp(fk.last, &up, sizeof(up)), 0);
	/* Not connected: refused at once, nothing sent. */
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &up, FG_CTL_PEER_UPSERT, NULL), -ENOTCONN);
}

/* The next queued event must be event n (see fake_dp.h). One assertion per event, so a
 * queue in the wrong order reports once per event rather than once per field. */
static void expect_event(unsigned n)
{
	struct fg_ctl_event ev;
	char id[16];
	bool ok;

	memset(&ev, 0, sizeof(ev));
	snprintf(id, sizeof(id), "res-%u", n);
	ok = fg_dpc_next_event(&dpc, &ev);
	if (ok)
		ok = ev.h.type == FG_CTL_EVENT && ev.h.seq == 0 && ev.kind == FG_CTL_EV_PEER_EXPIRED + n % 3 &&
		     ev.public_key[0] == (uint8_t)n && ev.public_key[1] == (uint8_t)(n >> 8) &&
		     strcmp(ev.resource_id, id) == 0;
	if (!ok)
		fprintf(stderr, "\n  event: got \"%.16s\" kind %u, want %s\n", ev.resource_id, ev.kind, id);
	CU_ASSERT(ok);
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void test_events(void)
{
	struct fg_ctl_iface_set d;
	struct fg_ctl_event ev;

	START(fdp_events);
	CU_ASSERT_FALSE(fg_dpc_next_event(&dpc, &ev));
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &d, FG_CTL_IFACE_SET, NULL), 0);
	/* The events that came before the answers are queued, oldest first. */
	CU_ASSERT_EQUAL(dpc.nevents, 3);
	expect_event(1);
	expect_event(2);
	expect_event(3);
	CU_ASSERT_FALSE(fg_dpc_next_event(&dpc, &ev));
	/* The one sent after the reply is read when the socket is readable. */
	CU_ASSERT_TRUE(wait_readable(dpc.fd, 5000));
	CU_ASSERT_EQUAL(fg_dpc_on_readable(&dpc), 0);
	expect_event(4);
	CU_ASSERT_FALSE(fg_dpc_next_event(&dpc, &ev));
	CU_ASSERT_EQUAL(fg_dpc_on_readable(&dpc), 0); /* nothing pending: no block, no error */
	CU_ASSERT_TRUE(fg_dpc_connected(&dpc));
	/* More events than the queue holds: the oldest go, the newest FG_DPC_EVENTS_MAX stay. */
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &d, FG_CTL_IFACE_SET, NULL), 0);
	CU_ASSERT_EQUAL(dpc.nevents, FG_DPC_EVENTS_MAX);
	for (unsigned i = FDP_OVERFLOW; i < FG_DPC_EVENTS_MAX + FDP_OVERFLOW; i++)
		expect_event(100 + i);
	CU_ASSERT_FALSE(fg_dpc_next_event(&dpc, &ev));
	fake_stop();
}

static void test_stale_replies(void)
{
	struct fg_ctl_peer_remove rm;
	struct fg_ctl_reply reply;
	struct fg_ctl_event ev;

	START(fdp_stale);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	memset(&rm, 0, sizeof(rm));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, &reply), 0);
	CU_ASSERT_EQUAL(reply.h.seq, 2);
	CU_ASSERT_EQUAL(reply.count, 7);
	CU_ASSERT_STRING_EQUAL(reply.message, "ok");
	CU_ASSERT_TRUE(fg_dpc_connected(&dpc));
	CU_ASSERT_TRUE(fg_dpc_next_event(&dpc, &ev));
	CU_ASSERT_STRING_EQUAL(ev.resource_id, "res-9");
	/* The connection is in step afterwards. */
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, &reply), -ENOENT);
	CU_ASSERT_EQUAL(reply.count, 3);
	fake_stop();
}

struct dump_seen {
	unsigned peers, resources, out_of_order;
};

static void on_peer(void *ctx, const struct fg_ctl_peer_info *p)
{
	struct dump_seen *d = ctx;
	char want[32];

	snprintf(want, sizeof(want), "client-%u", d->peers);
	if (strcmp(p->client_id, want) != 0 || p->rx_bytes != 1000 + d->peers || p->n_resources != 2 ||
	    d->resources != 2 * d->peers)
		d->out_of_order++;
	d->peers++;
}

static void on_resource(void *ctx, const struct fg_ctl_resource_info *r)
{
	struct dump_seen *d = ctx;
	char want[32];

	snprintf(want, sizeof(want), "res-%u-%u", d->peers - 1, d->resources % 2);
	if (d->peers == 0 || strcmp(r->resource_id, want) != 0 ||
	    r->n_filters != (d->resources % 2 ? FDP_DUMP_FILTERS : 0u) ||
	    r->expires_at != 42 || r->public_key[0] != (uint8_t)(d->peers - 1))
		d->out_of_order++;
	/* Every filter arrives (variable length): the last one is intact. */
	else if (r->n_filters && (r->filters[r->n_filters - 1].proto != FG_CTL_FILTER_UDP ||
				  r->filters[r->n_filters - 1].port_lo != FDP_DUMP_FILTERS - 1))
		d->out_of_order++;
	d->resources++;
}

static void test_dump(void)
{
	struct dump_seen d = { 0 };
	struct fg_ctl_event ev;

	START(fdp_good);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	CU_ASSERT_EQUAL(fg_dpc_dump(&dpc, on_peer, on_resource, &d), 0);
	CU_ASSERT_EQUAL(d.peers, FDP_DUMP_PEERS);
	CU_ASSERT_EQUAL(d.resources, 2 * FDP_DUMP_PEERS);
	CU_ASSERT_EQUAL(d.out_of_order, 0);
	CU_ASSERT_TRUE(fg_dpc_next_event(&dpc, &ev));
	CU_ASSERT_STRING_EQUAL(ev.resource_id, "res-7");
	CU_ASSERT_FALSE(fg_dpc_next_event(&dpc, &ev));
	/* Without callbacks the stream is still consumed up to its REPLY... */
	CU_ASSERT_EQUAL(fg_dpc_dump(&dpc, NULL, NULL, NULL), 0);
	/* ...so the next request's answer is its own. */
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(fg_dpc_dump(&dpc, on_peer, NULL, &d), 0);
	CU_ASSERT_EQUAL(d.peers, FDP_DUMP_PEERS);
	CU_ASSERT_EQUAL(d.resources, 0);
	CU_ASSERT_TRUE(fg_dpc_connected(&dpc));
	fake_stop();
	CU_ASSERT_EQUAL(fk.nseen, 4);
	CU_ASSERT_EQUAL(fk.seen[1].type, FG_CTL_DUMP);
	CU_ASSERT_EQUAL(fk.seen_len[1], sizeof(struct fg_ctl_dump));
}

static void test_stats(void)
{
	struct fg_ctl_stats_reply st;
	struct fg_ctl_peer_remove rm;

	START(fdp_good);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	memset(&st, 0, sizeof(st));
	CU_ASSERT_EQUAL(fg_dpc_stats(&dpc, &st), 0);
	CU_ASSERT_EQUAL(st.h.seq, 2);
	CU_ASSERT_STRING_EQUAL(st.aead, "fake-aead");
	CU_ASSERT_EQUAL(st.workers, 2);
	CU_ASSERT_EQUAL(st.peers, 3);
	CU_ASSERT_EQUAL(st.n_drops, 2);
	CU_ASSERT_EQUAL(st.handshakes_completed, 11);
	CU_ASSERT_EQUAL(st.roams, 5);
	CU_ASSERT_EQUAL(st.drops[0], 17);
	CU_ASSERT_EQUAL(st.drops[1], 1ull << 40);
	CU_ASSERT_STRING_EQUAL(st.drop_names[1], "wg_bad_length");
	CU_ASSERT_EQUAL(st.service.nic_rx_packets, 123);
	CU_ASSERT_EQUAL(st.lcores[1].decrypted, 77);
	CU_ASSERT_EQUAL(st.lcores[FG_CTL_MAX_WORKERS - 1].tun_tx_bytes, 9);
	/* Version 5: the lcores' load and the TSC rate, at the end of each struct. */
	CU_ASSERT_EQUAL(st.lcores[1].busy_cycles, 1ull << 41);
	CU_ASSERT_EQUAL(st.lcores[1].win_cycles, 2400000000ull);
	CU_ASSERT_EQUAL(st.lcores[FG_CTL_MAX_WORKERS - 1].win_busy_polls, 3);
	CU_ASSERT_EQUAL(st.service.polls, 12345);
	CU_ASSERT_EQUAL(st.tsc_hz, 2400000000ull);
	/* Version 6: the DPDK heap, at the end. */
	CU_ASSERT_EQUAL(st.heap_total, 128ull << 20);
	CU_ASSERT_EQUAL(st.heap_allocated, 61ull << 20);
	CU_ASSERT_EQUAL(st.heap_free, 67ull << 20);
	CU_ASSERT_EQUAL(st.heap_largest_free, 66ull << 20);
	memset(&rm, 0, sizeof(rm));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, NULL), -ENOENT);
	fake_stop();
	CU_ASSERT_EQUAL(fk.seen[1].type, FG_CTL_STATS);
	CU_ASSERT_EQUAL(fk.seen_len[1], sizeof(struct fg_ctl_stats));
}

/* ---- a hostile or broken data plane ----------------------------------------------------- */

/* The fake answers the first request (or the HELLO) with bytes; the client must fail
 * with want, close the connection and say why. */
static void hostile_answer(const void *bytes, size_t len, bool in_hello, int want, const char *why)
{
	struct fg_ctl_peer_remove rm;
	int r;

	/* Set before the thread starts, which then only reads them. */
	memcpy(fk.bad, bytes, len);
	fk.bad_len = len;
	fk.bad_in_hello = in_hello;
	START(fdp_bad);
	if (in_hello) {
		r = fg_dpc_connect(&dpc);
	} else {
		CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
		memset(&rm, 0, sizeof(rm));
		r = fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, NULL);
	}
	if (r != want || strstr(dpc.last_error, why) == NULL)
		fprintf(stderr, "\n  %zu bytes: got %d \"%s\", want %d \"%s\"\n", len, r, dpc.last_error, want, why);
	CU_ASSERT_EQUAL(r, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(dpc.last_error, why));
	CU_ASSERT_FALSE(fg_dpc_connected(&dpc));
	CU_ASSERT_EQUAL(dpc.fd, -1);
	fake_stop();
}

static void test_hostile_answers(void)
{
	static uint8_t buf[FDP_BIG];
	struct fg_ctl_reply r;
	const char *bad = "malformed message from the data plane";

	for (int in_hello = 0; in_hello < 2; in_hello++) {
		memset(&r, 0, sizeof(r));
		fdp_put_hdr(&r.h, FG_CTL_REPLY, in_hello ? 1 : 2);
		memcpy(buf, &r, sizeof(r));
		/* wrong versions (1: before variable-length resources) */
		((struct fg_ctl_reply *)buf)->h.version = FG_CTL_VERSION + 1;
		hostile_answer(buf, sizeof(r), in_hello, -EPROTO, bad);
		((struct fg_ctl_reply *)buf)->h.version = 1;
		hostile_answer(buf, sizeof(r), in_hello, -EPROTO, bad);
		((struct fg_ctl_reply *)buf)->h.version = 0;
		hostile_answer(buf, sizeof(r), in_hello, -EPROTO, bad);
		((struct fg_ctl_reply *)buf)->h.version = FG_CTL_VERSION;
		/* wrong sizes for the type: one byte short, one byte and 4 bytes long, another
		 * type's size */
		hostile_answer(buf, sizeof(r) - 1, in_hello, -EPROTO, bad);
		hostile_answer(buf, sizeof(r) + 1, in_hello, -EPROTO, bad);
		hostile_answer(buf, sizeof(r) + 4, in_hello, -EPROTO, bad);
		hostile_answer(buf, sizeof(struct fg_ctl_event), in_hello, -EPROTO, bad);
		/* an unknown type at a plausible size */
		((struct fg_ctl_reply *)buf)->h.type = FG_CTL_TYPE_MAX;
		hostile_answer(buf, sizeof(r), in_hello, -EPROTO, bad);
		((struct fg_ctl_reply *)buf)->h.type = 0;
		hostile_answer(buf, sizeof(r), in_hello, -EPROTO, bad);
		((struct fg_ctl_reply *)buf)->h.type = FG_CTL_REPLY;
		/* shorter than a header */
		hostile_answer(buf, 1, in_hello, -EPROTO, bad);
		hostile_answer(buf, sizeof(struct fg_ctl_hdr) - 1, in_hello, -EPROTO, bad);
		/* longer than its type, and longer than any message (FG_CTL_MAX_MSG + 1, + 4 KiB)
		 * behind a valid header */
		memset(buf + sizeof(r), 0x5a, sizeof(buf) - sizeof(r));
		hostile_answer(buf, 8193, in_hello, -EPROTO, bad);
		hostile_answer(buf, FG_CTL_MAX_MSG + 1, in_hello, -EPROTO, bad);
		hostile_answer(buf, sizeof(buf), in_hello, -EPROTO, bad);
		/* an empty datagram reads as the end of the stream */
		hostile_answer(buf, 0, in_hello, -ECONNRESET, "closed the control socket");
	}
	/* A valid message of another type in place of the HELLO_REPLY. */
	hostile_answer(&r, sizeof(r), true, -EPROTO, "no HELLO reply");
}

static void test_silence(void)
{
	struct fg_ctl_peer_remove rm;
	int64_t t0, took;

	START(fdp_silent);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	memset(&rm, 0, sizeof(rm));
	t0 = now_ms();
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, NULL), -ETIMEDOUT);
	took = now_ms() - t0;
	if (took < FG_DPC_TIMEOUT_MS || took > FG_DPC_TIMEOUT_MS + 1000)
		fprintf(stderr, "\n  timed out after %lld ms\n", (long long)took);
	CU_ASSERT(took >= FG_DPC_TIMEOUT_MS);
	CU_ASSERT(took <= FG_DPC_TIMEOUT_MS + 1000);
	CU_ASSERT_FALSE(fg_dpc_connected(&dpc));
	CU_ASSERT_PTR_NOT_NULL(strstr(dpc.last_error, "did not answer"));
	fake_stop();
}

static void test_close_mid_request(void)
{
	struct fg_ctl_peer_remove rm;
	struct fg_ctl_reply reply;

	for (int in_hello = 0; in_hello < 2; in_hello++) {
		fk.bad_in_hello = in_hello;
		START(fdp_close_mid);
		memset(&rm, 0, sizeof(rm));
		if (in_hello) {
			CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), -ECONNRESET);
		} else {
			CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
			CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, NULL), -ECONNRESET);
		}
		CU_ASSERT_FALSE(fg_dpc_connected(&dpc));
		CU_ASSERT_PTR_NOT_NULL(strstr(dpc.last_error, "closed the control socket"));
		/* Later calls fail at once instead of waiting on a dead socket. */
		CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, NULL), -ENOTCONN);
		CU_ASSERT_EQUAL(fg_dpc_on_readable(&dpc), -ENOTCONN);
		/* A reconnect on the same struct works, and the error is cleared. */
		CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
		CU_ASSERT_STRING_EQUAL(dpc.last_error, "");
		CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, &reply), -ENOENT);
		CU_ASSERT_EQUAL(reply.h.seq, reply.count);
		fake_stop();
	}
}

static void test_reconnect(void)
{
	struct fg_ctl_peer_remove rm;

	START(fdp_good_twice);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	/* Connecting again drops the old connection (the fake's first session ends). */
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	memset(&rm, 0, sizeof(rm));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, NULL), -ENOENT);
	fake_stop();
	CU_ASSERT_EQUAL(fk.nseen, 3);
}

static void test_no_server(void)
{
	char path[160];

	snprintf(path, sizeof(path), "/tmp/fg-ctlproto-absent-%d/dp.ctl", (int)getpid());
	fg_dpc_init(&dpc, path);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), -ENOENT);
	CU_ASSERT_FALSE(fg_dpc_connected(&dpc));
	CU_ASSERT_PTR_NOT_NULL(strstr(dpc.last_error, path));
}

static void test_junk_between_requests(void)
{
	int r = 0;

	START(fdp_junk_then_close);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	/* Junk is skipped, the valid event queued; the close is reported. */
	for (int i = 0; i < 50 && r == 0; i++) {
		CU_ASSERT_TRUE(wait_readable(dpc.fd, 5000));
		r = fg_dpc_on_readable(&dpc);
	}
	CU_ASSERT_EQUAL(r, -ECONNRESET);
	CU_ASSERT_FALSE(fg_dpc_connected(&dpc));
	CU_ASSERT_EQUAL(dpc.nevents, 1);
	expect_event(5);
	fake_stop();
}

/* ---- packets (version 3) ------------------------------------------------------------------ */

static struct {
	unsigned n;                          /* PACKET_INs handed to the callback */
	struct fg_endpoint src, peer;        /* the last one's fields */
	uint16_t channel, len;
	uint8_t payload[FG_CTL_MAX_PACKET];  /* and its payload */
	unsigned misaligned;
} pin;

static void on_packet(void *arg, const struct fg_ctl_packet_in *m)
{
	(void)arg;
	if ((uintptr_t)m % _Alignof(struct fg_ctl_packet_in))
		pin.misaligned++;
	pin.n++;
	pin.src = m->src;
	pin.peer = m->peer;
	pin.channel = m->channel;
	pin.len = m->len;
	memcpy(pin.payload, m->payload, m->len <= FG_CTL_MAX_PACKET ? m->len : 0);
}

struct done {
	bool done;
	int status;
	uint32_t count;
};

static void done_cb(void *ctx, int status, const void *msg)
{
	struct done *d = ctx;

	d->done = true;
	d->status = status;
	d->count = msg ? ((const struct fg_ctl_reply *)msg)->count : UINT32_MAX;
}

/* Runs the client's socket (as the control plane's loop would) until *flag or 5 s. */
static bool pump_until(const bool *flag, const unsigned *count, unsigned want)
{
	int64_t deadline = now_ms() + 5000;

	while (!(flag ? *flag : *count >= want) && now_ms() < deadline && fg_dpc_connected(&dpc)) {
		struct pollfd p = { .fd = dpc.fd, .events = POLLIN };

		if (fg_dpc_wants_write(&dpc))
			p.events |= POLLOUT;
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((p.revents & POLLOUT) && fg_dpc_on_writable(&dpc) < 0)
			break;
		if (fg_dpc_on_readable(&dpc) < 0)
			break;
	}
	return flag ? *flag : *count >= want;
}

static void test_packets(void)
{
	static uint8_t big[FG_CTL_MAX_PACKET + 1];
	const struct fg_endpoint client = { .ip = { .family = AF_INET, .addr = { 198, 18, 0, 2 } }, .port = 40001 };
	const struct fg_endpoint relay = { .ip = { .family = AF_INET, .addr = { 198, 18, 7, 7 } }, .port = 3478 };
	struct done d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	const struct fg_dpc_cb cb1 = { .done = done_cb, .ctx = &d1 }, cb2 = { .done = done_cb, .ctx = &d2 },
			       cb3 = { .done = done_cb, .ctx = &d3 };
	uint8_t stun[20];

	memset(&pin, 0, sizeof(pin));
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	for (unsigned i = 0; i < sizeof(stun); i++)
		stun[i] = (uint8_t)(0x10 + i);
	START(fdp_packets);
	CU_ASSERT_EQUAL(fg_dpc_connect(&dpc), 0);
	dpc.on_packet = on_packet;
	/* Lengths outside 1..FG_CTL_MAX_PACKET: refused here, nothing sent, no callback. */
	CU_ASSERT_EQUAL(fg_dpc_packet_out(&dpc, &client, 0, stun, 0, &cb1), -EINVAL);
	CU_ASSERT_EQUAL(fg_dpc_packet_out(&dpc, &client, 0, big, FG_CTL_MAX_PACKET + 1, &cb1), -EINVAL);
	CU_ASSERT_FALSE(d1.done);
	/* Direct: the fake echoes it as a PACKET_IN before the REPLY. */
	CU_ASSERT_EQUAL_FATAL(fg_dpc_packet_out(&dpc, &client, 0, stun, sizeof(stun), &cb1), 0);
	CU_ASSERT_TRUE(pump_until(&d1.done, NULL, 0));
	CU_ASSERT_EQUAL(d1.status, 0);
	CU_ASSERT_EQUAL(d1.count, sizeof(stun));
	CU_ASSERT_EQUAL(pin.n, 1);
	CU_ASSERT_TRUE(fg_endpoint_equal(&pin.src, &client));
	CU_ASSERT_EQUAL(pin.channel, 0);
	CU_ASSERT_EQUAL(pin.peer.ip.family, 0);
	CU_ASSERT_EQUAL(pin.len, sizeof(stun));
	CU_ASSERT_EQUAL(memcmp(pin.payload, stun, sizeof(stun)), 0);
	/* Through a relay channel, at the largest size. */
	CU_ASSERT_EQUAL_FATAL(fg_dpc_packet_out(&dpc, &relay, 0x4abc, big, FG_CTL_MAX_PACKET, &cb2), 0);
	CU_ASSERT_TRUE(pump_until(&d2.done, NULL, 0));
	CU_ASSERT_EQUAL(d2.status, 0);
	CU_ASSERT_EQUAL(d2.count, FG_CTL_MAX_PACKET);
	CU_ASSERT_EQUAL(pin.n, 2);
	CU_ASSERT_TRUE(fg_endpoint_equal(&pin.src, &relay));
	CU_ASSERT_EQUAL(pin.channel, 0x4abc);
	CU_ASSERT_EQUAL(pin.peer.port, FDP_PEER_PORT);
	CU_ASSERT_EQUAL(memcmp(pin.peer.ip.addr, FDP_PEER_IP, 4), 0);
	CU_ASSERT_EQUAL(pin.len, FG_CTL_MAX_PACKET);
	CU_ASSERT_EQUAL(memcmp(pin.payload, big, FG_CTL_MAX_PACKET), 0);
	/* Another request's REPLY, then hostile PACKET_INs, unsolicited: skipped (the empty one
	 * counted), the valid one after them delivered, the connection up. */
	struct fg_ctl_peer_remove rm;
	memset(&rm, 0, sizeof(rm));
	CU_ASSERT_EQUAL(fg_dpc_request(&dpc, &rm, FG_CTL_PEER_REMOVE, NULL), -EINVAL);
	CU_ASSERT_EQUAL(pin.n, 2);
	CU_ASSERT_TRUE(pump_until(NULL, &pin.n, 3));
	CU_ASSERT_EQUAL(pin.n, 3);
	CU_ASSERT_EQUAL(pin.channel, 0x4fff);
	CU_ASSERT_EQUAL(pin.len, FG_CTL_MAX_PACKET);
	CU_ASSERT_EQUAL(pin.payload[0], 0x5a);
	CU_ASSERT_EQUAL(pin.payload[FG_CTL_MAX_PACKET - 1], 0x5a);
	CU_ASSERT_EQUAL(dpc.packets_in, 3);
	CU_ASSERT_EQUAL(dpc.packets_dropped, 1);
	CU_ASSERT_EQUAL(pin.misaligned, 0);
	CU_ASSERT_TRUE(fg_dpc_connected(&dpc));
	/* Without a callback a PACKET_IN is counted and dropped; the request completes. */
	dpc.on_packet = NULL;
	CU_ASSERT_EQUAL_FATAL(fg_dpc_packet_out(&dpc, &client, 0, stun, 1, &cb3), 0);
	CU_ASSERT_TRUE(pump_until(&d3.done, NULL, 0));
	CU_ASSERT_EQUAL(d3.count, 1);
	CU_ASSERT_EQUAL(dpc.packets_dropped, 2);
	CU_ASSERT_EQUAL(pin.n, 3);
	fake_stop();
	/* The fake saw each PACKET_OUT at its exact variable size. */
	CU_ASSERT_EQUAL(fk.nseen, 5);
	CU_ASSERT_EQUAL(fk.seen[1].type, FG_CTL_PACKET_OUT);
	CU_ASSERT_EQUAL(fk.seen_len[1], sizeof(struct fg_ctl_packet_out) + sizeof(stun));
	CU_ASSERT_EQUAL(fk.seen_len[2], sizeof(struct fg_ctl_packet_out) + FG_CTL_MAX_PACKET);
	CU_ASSERT_EQUAL(fk.seen_len[4], sizeof(struct fg_ctl_packet_out) + 1);
}

/* A PACKET_IN whose len disagrees with its datagram, in place of an answer, breaks the
 * protocol like any malformed message while a request waits. */
static void test_hostile_packet_answer(void)
{
	_Alignas(8) uint8_t buf[sizeof(struct fg_ctl_packet_in) + 32];
	struct fg_ctl_packet_in *m = (void *)buf;
	const char *bad = "malformed message from the data plane";

	memset(buf, 0, sizeof(buf));
	fdp_put_hdr(&m->h, FG_CTL_PACKET_IN, 0);
	m->len = 16;
	hostile_answer(buf, sizeof(*m) + 15, false, -EPROTO, bad);
	hostile_answer(buf, sizeof(*m) + 17, false, -EPROTO, bad);
	hostile_answer(buf, sizeof(*m) - 1, false, -EPROTO, bad);
	m->len = FG_CTL_MAX_PACKET + 1;
	hostile_answer(buf, sizeof(buf), false, -EPROTO, bad);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "fg_ctl_size for every type", test_sizes },
		{ "fg_ctl_msg_size: resources of any filter count", test_msg_size },
		{ "message layouts", test_layout },
		{ "connect and HELLO", test_connect },
		{ "requests and replies", test_requests },
		{ "events queued in order", test_events },
		{ "stale replies skipped", test_stale_replies },
		{ "DUMP streams", test_dump },
		{ "STATS", test_stats },
		{ "hostile answers", test_hostile_answers },
		{ "silent data plane: timeout", test_silence },
		{ "data plane closes mid-request", test_close_mid_request },
		{ "reconnect", test_reconnect },
		{ "no data plane", test_no_server },
		{ "junk between requests", test_junk_between_requests },
		{ "fg_ctl_msg_size: packets of any length", test_msg_size_packets },
		{ "PACKET_OUT and PACKET_IN", test_packets },
		{ "hostile PACKET_IN in place of an answer", test_hostile_packet_answer },
	};

	return fg_cunit_run("ctlproto", tests, N(tests));
}
