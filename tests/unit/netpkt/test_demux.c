/* SPDX-License-Identifier: MIT */
/*
 * fg_netpkt_demux() (reference §5.1 order: relay STUN / ChannelData from 3478, STUN Binding
 * from anywhere, then WireGuard) and fg_netpkt_parse_inner() (IP header and upper layer),
 * each with a table of valid and
 * hostile payloads and every truncation, parsed from exactly-sized heap copies under
 * ASan/UBSan. Test thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "frames.h"

enum { OTHER_PORT = 5000, STUN_PORT = 3478, PAY_MAX = 1600 };

/* A WireGuard message of type byte t: reserved zero, then a non-zero pattern. */
static uint32_t wg(uint8_t *p, uint8_t t, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(0x5a + i);
	if (len > 0)
		p[0] = t;
	for (uint32_t i = 1; i < 4 && i < len; i++)
		p[i] = 0;
	return len;
}

/* RFC 5769 §2.1 sample request header (Binding, 88 attribute bytes), filler attributes. */
static uint32_t stun(uint8_t *p, uint16_t type, uint16_t attr_len, uint32_t total)
{
	static const uint8_t hdr[20] = { 0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
					 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
					 0xfa, 0x87, 0xdf, 0xae };

	memcpy(p, hdr, sizeof(hdr));
	tf_put16(p, type);
	tf_put16(p + 2, attr_len);
	for (uint32_t i = 20; i < total; i++)
		p[i] = (uint8_t)i;
	return total;
}

static uint32_t chan(uint8_t *p, uint16_t number, uint16_t data_len, uint32_t total)
{
	tf_put16(p, number);
	tf_put16(p + 2, data_len);
	for (uint32_t i = 4; i < total; i++)
		p[i] = (uint8_t)(i * 3);
	return total;
}

static uint32_t p_init(uint8_t *p) { return wg(p, 1, 148); }
static uint32_t p_init147(uint8_t *p) { return wg(p, 1, 147); }
static uint32_t p_init149(uint8_t *p) { return wg(p, 1, 149); }
static uint32_t p_resp(uint8_t *p) { return wg(p, 2, 92); }
static uint32_t p_resp91(uint8_t *p) { return wg(p, 2, 91); }
static uint32_t p_resp148(uint8_t *p) { return wg(p, 2, 148); }
static uint32_t p_cookie(uint8_t *p) { return wg(p, 3, 64); }
static uint32_t p_cookie65(uint8_t *p) { return wg(p, 3, 65); }
static uint32_t p_keepalive(uint8_t *p) { return wg(p, 4, 32); }
static uint32_t p_data48(uint8_t *p) { return wg(p, 4, 48); }
static uint32_t p_data33(uint8_t *p) { return wg(p, 4, 33); }
static uint32_t p_data1452(uint8_t *p) { return wg(p, 4, 1452); }
static uint32_t p_data31(uint8_t *p) { return wg(p, 4, 31); }
static uint32_t p_data16(uint8_t *p) { return wg(p, 4, 16); }
static uint32_t p_type0(uint8_t *p) { return wg(p, 0, 148); }
static uint32_t p_type5(uint8_t *p) { return wg(p, 5, 148); }
static uint32_t p_typeff(uint8_t *p) { return wg(p, 0xff, 64); }
static uint32_t p_res1(uint8_t *p) { wg(p, 1, 148); p[1] = 1; return 148; }
static uint32_t p_res2(uint8_t *p) { wg(p, 2, 92); p[2] = 0x80; return 92; }
static uint32_t p_res3(uint8_t *p) { wg(p, 4, 48); p[3] = 1; return 48; }
static uint32_t p_empty(uint8_t *p) { (void)p; return 0; }
static uint32_t p_one(uint8_t *p) { return wg(p, 4, 1); }
static uint32_t p_three(uint8_t *p) { return wg(p, 1, 3); }

static uint32_t p_init_cookie_index(uint8_t *p)
{
	wg(p, 1, 148);
	tf_put32(p + 4, 0x2112A442); /* sender index that looks like the STUN magic cookie */
	return 148;
}

static uint32_t p_bind_req(uint8_t *p) { return stun(p, 0x0001, 88, 108); }
static uint32_t p_bind_ok(uint8_t *p) { return stun(p, 0x0101, 44, 64); }
static uint32_t p_bind_err(uint8_t *p) { return stun(p, 0x0111, 12, 32); }
static uint32_t p_bind_ind(uint8_t *p) { return stun(p, 0x0011, 8, 28); }
static uint32_t p_bind_bare(uint8_t *p) { return stun(p, 0x0001, 0, 20); }
static uint32_t p_alloc_ok(uint8_t *p) { return stun(p, 0x0103, 48, 68); }
static uint32_t p_data_ind(uint8_t *p) { return stun(p, 0x0017, 160, 180); }
static uint32_t p_stun19(uint8_t *p) { stun(p, 0x0001, 0, 20); return 19; }
static uint32_t p_stun_len(uint8_t *p) { return stun(p, 0x0001, 92, 108); }
static uint32_t p_stun_odd(uint8_t *p) { return stun(p, 0x0001, 87, 107); }
static uint32_t p_stun_top(uint8_t *p) { return stun(p, 0xc001, 88, 108); }

static uint32_t p_stun_magic(uint8_t *p)
{
	stun(p, 0x0001, 88, 108);
	p[7] ^= 1;
	return 108;
}

static uint32_t p_chan_exact(uint8_t *p) { return chan(p, 0x4000, 5, 9); }
static uint32_t p_chan_pad(uint8_t *p) { return chan(p, 0x4000, 5, 12); }
static uint32_t p_chan_empty(uint8_t *p) { return chan(p, 0x4001, 0, 4); }
static uint32_t p_chan_last(uint8_t *p) { return chan(p, 0x4fff, 100, 104); }
static uint32_t p_chan_long(uint8_t *p) { return chan(p, 0x4000, 5, 16); }
static uint32_t p_chan_short(uint8_t *p) { return chan(p, 0x4000, 5, 8); }
static uint32_t p_chan_half_pad(uint8_t *p) { return chan(p, 0x4000, 5, 10); }
static uint32_t p_chan_3f(uint8_t *p) { return chan(p, 0x3fff, 5, 9); }
static uint32_t p_chan_50(uint8_t *p) { return chan(p, 0x5000, 5, 9); }
static uint32_t p_chan_3(uint8_t *p) { return chan(p, 0x4000, 0, 3); }

static uint32_t p_chan_wg(uint8_t *p)
{
	chan(p, 0x4123, 48, 52);
	wg(p + 4, 4, 48);
	return 52;
}

struct demux_case {
	const char *name;
	uint32_t (*build)(uint8_t *p);
	uint16_t port;
	enum fg_demux want;
	enum fg_drop reason;    /* FG_DROP_MAX: *reason must be left alone */
};

#define IS(k) FG_DEMUX_##k, FG_DROP_MAX
#define NO(r) FG_DEMUX_DROP, FG_DROP_##r

static const struct demux_case demux_cases[] = {
	{ "initiation", p_init, OTHER_PORT, IS(WG_INITIATION) },
	{ "response", p_resp, OTHER_PORT, IS(WG_RESPONSE) },
	{ "cookie reply", p_cookie, OTHER_PORT, IS(WG_COOKIE) },
	{ "keepalive", p_keepalive, OTHER_PORT, IS(WG_DATA) },
	{ "data 48", p_data48, OTHER_PORT, IS(WG_DATA) },
	{ "unpadded data (boringtun)", p_data33, OTHER_PORT, IS(WG_DATA) },
	{ "data 1452", p_data1452, OTHER_PORT, IS(WG_DATA) },
	{ "initiation 147", p_init147, OTHER_PORT, NO(WG_LENGTH) },
	{ "initiation 149", p_init149, OTHER_PORT, NO(WG_LENGTH) },
	{ "response 91", p_resp91, OTHER_PORT, NO(WG_LENGTH) },
	{ "response 148", p_resp148, OTHER_PORT, NO(WG_LENGTH) },
	{ "cookie 65", p_cookie65, OTHER_PORT, NO(WG_LENGTH) },
	{ "data 31", p_data31, OTHER_PORT, NO(WG_LENGTH) },
	{ "data 16", p_data16, OTHER_PORT, NO(WG_LENGTH) },
	{ "type 0", p_type0, OTHER_PORT, NO(WG_TYPE) },
	{ "type 5", p_type5, OTHER_PORT, NO(WG_TYPE) },
	{ "type 255", p_typeff, OTHER_PORT, NO(WG_TYPE) },
	{ "reserved byte 1", p_res1, OTHER_PORT, NO(WG_TYPE) },
	{ "reserved byte 2", p_res2, OTHER_PORT, NO(WG_TYPE) },
	{ "reserved byte 3", p_res3, OTHER_PORT, NO(WG_TYPE) },
	{ "0 bytes", p_empty, OTHER_PORT, NO(WG_LENGTH) },
	{ "0 bytes from 3478", p_empty, STUN_PORT, NO(WG_LENGTH) },
	{ "1 byte", p_one, OTHER_PORT, NO(WG_LENGTH) },
	{ "3 bytes", p_three, STUN_PORT, NO(WG_LENGTH) },

	{ "binding request", p_bind_req, OTHER_PORT, IS(STUN) },
	{ "binding request from 3478", p_bind_req, STUN_PORT, IS(STUN) },
	{ "binding success", p_bind_ok, OTHER_PORT, IS(STUN) },
	{ "binding error", p_bind_err, OTHER_PORT, IS(STUN) },
	{ "binding indication", p_bind_ind, OTHER_PORT, IS(STUN) },
	{ "binding, no attributes", p_bind_bare, OTHER_PORT, IS(STUN) },
	{ "allocate success from 3478", p_alloc_ok, STUN_PORT, IS(STUN) },
	{ "data indication from 3478", p_data_ind, STUN_PORT, IS(STUN) },
	{ "allocate success elsewhere", p_alloc_ok, OTHER_PORT, NO(WG_TYPE) },
	{ "STUN 19 bytes", p_stun19, STUN_PORT, NO(WG_TYPE) },
	{ "STUN length field", p_stun_len, OTHER_PORT, NO(WG_TYPE) },
	{ "STUN length field from 3478", p_stun_len, STUN_PORT, NO(WG_TYPE) },
	{ "STUN length not /4", p_stun_odd, STUN_PORT, NO(WG_TYPE) },
	{ "STUN top bits", p_stun_top, STUN_PORT, NO(WG_TYPE) },
	{ "STUN bad magic", p_stun_magic, OTHER_PORT, NO(WG_TYPE) },
	{ "STUN bad magic from 3478", p_stun_magic, STUN_PORT, NO(WG_TYPE) },

	{ "ChannelData exact", p_chan_exact, STUN_PORT, IS(CHANNEL_DATA) },
	{ "ChannelData padded", p_chan_pad, STUN_PORT, IS(CHANNEL_DATA) },
	{ "ChannelData empty", p_chan_empty, STUN_PORT, IS(CHANNEL_DATA) },
	{ "ChannelData 0x4fff", p_chan_last, STUN_PORT, IS(CHANNEL_DATA) },
	{ "ChannelData carrying WG", p_chan_wg, STUN_PORT, IS(CHANNEL_DATA) },
	{ "ChannelData too long", p_chan_long, STUN_PORT, NO(CHANNEL_MALFORMED) },
	{ "ChannelData too short", p_chan_short, STUN_PORT, NO(CHANNEL_MALFORMED) },
	{ "ChannelData half padded", p_chan_half_pad, STUN_PORT, NO(CHANNEL_MALFORMED) },
	{ "ChannelData 3 bytes", p_chan_3, STUN_PORT, NO(WG_LENGTH) },
	{ "channel 0x3fff", p_chan_3f, STUN_PORT, NO(WG_TYPE) },
	{ "channel 0x5000", p_chan_50, STUN_PORT, NO(WG_TYPE) },
	{ "ChannelData not from 3478", p_chan_exact, OTHER_PORT, NO(WG_TYPE) },

	{ "initiation from 3478", p_init, STUN_PORT, IS(WG_INITIATION) },
	{ "initiation, index = magic", p_init_cookie_index, STUN_PORT, IS(WG_INITIATION) },
	{ "response from 3478", p_resp, STUN_PORT, IS(WG_RESPONSE) },
	{ "cookie from 3478", p_cookie, STUN_PORT, IS(WG_COOKIE) },
	{ "data from 3478", p_data48, STUN_PORT, IS(WG_DATA) },
};

static enum fg_demux demux(const uint8_t *p, uint32_t len, uint16_t port, enum fg_drop *why)
{
	uint8_t *buf = tf_tail(p, len);
	enum fg_demux d;

	*why = FG_DROP_MAX;
	d = fg_netpkt_demux(buf, len, port, why);
	free(buf);
	return d;
}

static void test_demux_table(void)
{
	for (size_t i = 0; i < sizeof(demux_cases) / sizeof(demux_cases[0]); i++) {
		const struct demux_case *c = &demux_cases[i];
		uint8_t p[PAY_MAX];
		uint32_t len = c->build(p);
		enum fg_demux d;
		enum fg_drop why;

		d = demux(p, len, c->port, &why);
		if (d != c->want || why != c->reason)
			fprintf(stderr, "\n  case '%s': %d / %d, want %d / %d\n", c->name, d, why,
				c->want, c->reason);
		CU_ASSERT_EQUAL(d, c->want);
		CU_ASSERT_EQUAL(why, c->reason);
	}
}

/* Every prefix of every accepted message: exact-size kinds must stop being accepted. */
static void test_demux_truncated(void)
{
	for (size_t i = 0; i < sizeof(demux_cases) / sizeof(demux_cases[0]); i++) {
		const struct demux_case *c = &demux_cases[i];
		uint8_t p[PAY_MAX];
		uint32_t len = c->build(p);

		if (c->want == FG_DEMUX_DROP)
			continue;
		for (uint32_t n = 0; n < len; n++) {
			enum fg_drop why;
			enum fg_demux d = demux(p, n, c->port, &why);

			if (c->want == FG_DEMUX_WG_DATA) {
				CU_ASSERT_EQUAL(d, n >= 32 ? FG_DEMUX_WG_DATA : FG_DEMUX_DROP);
			} else if (c->want != FG_DEMUX_CHANNEL_DATA) {
				CU_ASSERT_NOT_EQUAL(d, c->want);
			}
			CU_ASSERT((d == FG_DEMUX_DROP) == (why != FG_DROP_MAX));
		}
	}
}

/* Inner packets: a 20-byte IPv4 header + 8 bytes, and a 40-byte IPv6 header + 8 bytes. */
static uint32_t inner4(uint8_t *p, uint32_t len)
{
	memset(p, 0, len);
	p[0] = 0x45;
	p[1] = 0x02;
	tf_put16(p + 2, 28);
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, (const uint8_t[]){ 100, 64, 0, 2 }, 4);
	memcpy(p + 16, (const uint8_t[]){ 10, 0, 0, 9 }, 4);
	return len;
}

static uint32_t inner6(uint8_t *p, uint32_t len)
{
	memset(p, 0, len);
	p[0] = 0x60;
	p[1] = 0x30; /* traffic class 0x03: ECN CE */
	tf_put16(p + 4, 8);
	p[6] = 58;
	p[7] = 64;
	memcpy(p + 8, tf_peer_ip6, 16);
	memcpy(p + 24, tf_us_ip6, 16);
	return len;
}

static uint32_t i4(uint8_t *p) { return inner4(p, 28); }
static uint32_t i4_padded(uint8_t *p) { return inner4(p, 32); }
static uint32_t i4_opts(uint8_t *p) { inner4(p, 28); p[0] = 0x46; return 28; }
static uint32_t i4_ihl4(uint8_t *p) { inner4(p, 28); p[0] = 0x44; return 28; }
static uint32_t i4_ihl15(uint8_t *p) { inner4(p, 28); p[0] = 0x4f; return 28; }
static uint32_t i4_tlen19(uint8_t *p) { inner4(p, 28); tf_put16(p + 2, 19); return 28; }
static uint32_t i4_tlen_big(uint8_t *p) { inner4(p, 28); tf_put16(p + 2, 29); return 28; }
static uint32_t i4_v5(uint8_t *p) { inner4(p, 28); p[0] = 0x55; return 28; }
static uint32_t i4_v0(uint8_t *p) { inner4(p, 28); p[0] = 0x05; return 28; }
static uint32_t i4_19(uint8_t *p) { inner4(p, 28); return 19; }
static uint32_t i_empty(uint8_t *p) { (void)p; return 0; }
static uint32_t i6(uint8_t *p) { return inner6(p, 48); }
static uint32_t i6_padded(uint8_t *p) { return inner6(p, 64); }
static uint32_t i6_plen_big(uint8_t *p) { inner6(p, 48); tf_put16(p + 4, 9); return 48; }
static uint32_t i6_39(uint8_t *p) { inner6(p, 48); tf_put16(p + 4, 0); return 39; }
static uint32_t i6_24(uint8_t *p) { inner6(p, 48); return 24; }
static uint32_t i6_ff(uint8_t *p) { inner6(p, 48); tf_put16(p + 4, 0xffff); return 48; }

struct inner_case {
	const char *name;
	uint32_t (*build)(uint8_t *p);
	enum fg_drop reason;
	uint16_t total_len;
};

static const struct inner_case inner_cases[] = {
	{ "IPv4", i4, FG_DROP_NONE, 28 },
	{ "IPv4 + WireGuard padding", i4_padded, FG_DROP_NONE, 28 },
	{ "IPv4 options", i4_opts, FG_DROP_NONE, 28 },
	{ "IHL 4", i4_ihl4, FG_DROP_INNER_MALFORMED, 0 },
	{ "IHL 15 > total", i4_ihl15, FG_DROP_INNER_MALFORMED, 0 },
	{ "total length 19", i4_tlen19, FG_DROP_INNER_MALFORMED, 0 },
	{ "total length > len", i4_tlen_big, FG_DROP_INNER_MALFORMED, 0 },
	{ "version 5", i4_v5, FG_DROP_INNER_MALFORMED, 0 },
	{ "version 0", i4_v0, FG_DROP_INNER_MALFORMED, 0 },
	{ "19 bytes", i4_19, FG_DROP_INNER_MALFORMED, 0 },
	{ "0 bytes", i_empty, FG_DROP_INNER_MALFORMED, 0 },
	{ "IPv6", i6, FG_DROP_NONE, 48 },
	{ "IPv6 + WireGuard padding", i6_padded, FG_DROP_NONE, 48 },
	{ "payload length > len", i6_plen_big, FG_DROP_INNER_MALFORMED, 0 },
	{ "IPv6 39 bytes", i6_39, FG_DROP_INNER_MALFORMED, 0 },
	{ "IPv6 24 bytes", i6_24, FG_DROP_INNER_MALFORMED, 0 },
	{ "payload length 65535", i6_ff, FG_DROP_INNER_MALFORMED, 0 },
};

static enum fg_drop inner(const uint8_t *p, uint32_t len, struct fg_inner_info *info)
{
	uint8_t *buf = tf_tail(p, len);
	enum fg_drop r = fg_netpkt_parse_inner(buf, len, info);

	free(buf);
	return r;
}

static void test_inner_table(void)
{
	for (size_t i = 0; i < sizeof(inner_cases) / sizeof(inner_cases[0]); i++) {
		const struct inner_case *c = &inner_cases[i];
		struct fg_inner_info info;
		uint8_t p[PAY_MAX];
		uint32_t len = c->build(p);
		enum fg_drop r = inner(p, len, &info);

		if (r != c->reason)
			fprintf(stderr, "\n  case '%s': %s\n", c->name, fg_drop_names[r]);
		CU_ASSERT_EQUAL(r, c->reason);
		if (r == FG_DROP_NONE)
			CU_ASSERT_EQUAL(info.total_len, c->total_len);
	}
}

static void test_inner_fields(void)
{
	struct fg_inner_info info;
	uint8_t p[PAY_MAX];

	CU_ASSERT_EQUAL_FATAL(inner(p, i4_padded(p), &info), FG_DROP_NONE);
	CU_ASSERT_EQUAL(info.family, AF_INET);
	CU_ASSERT_EQUAL(info.proto, 17);
	CU_ASSERT_EQUAL(info.ecn, 2);
	CU_ASSERT_EQUAL(info.src.family, AF_INET);
	CU_ASSERT_EQUAL(memcmp(info.src.addr, (const uint8_t[]){ 100, 64, 0, 2 }, 4), 0);
	CU_ASSERT_EQUAL(memcmp(info.dst.addr, (const uint8_t[]){ 10, 0, 0, 9 }, 4), 0);

	CU_ASSERT_EQUAL_FATAL(inner(p, i6(p), &info), FG_DROP_NONE);
	CU_ASSERT_EQUAL(info.family, AF_INET6);
	CU_ASSERT_EQUAL(info.proto, 58);
	CU_ASSERT_EQUAL(info.ecn, 3);
	CU_ASSERT_EQUAL(memcmp(info.src.addr, tf_peer_ip6, 16), 0);
	CU_ASSERT_EQUAL(memcmp(info.dst.addr, tf_us_ip6, 16), 0);
}

static void test_inner_truncated(void)
{
	uint8_t p[PAY_MAX];
	uint32_t len;

	len = i4(p);
	for (uint32_t n = 0; n < len; n++) {
		struct fg_inner_info info;

		CU_ASSERT_EQUAL(inner(p, n, &info), FG_DROP_INNER_MALFORMED);
	}
	len = i6(p);
	for (uint32_t n = 0; n < len; n++) {
		struct fg_inner_info info;

		CU_ASSERT_EQUAL(inner(p, n, &info), FG_DROP_INNER_MALFORMED);
	}
}

/* ---- the upper layer (l4_ok and the fields the policy classifies by) ---- */

/* IPv4 from 100.64.0.2 with protocol proto and an IP total length of tlen (header 20). */
static uint32_t l4_v4(uint8_t *p, uint8_t proto, uint32_t tlen)
{
	memset(p, 0, tlen);
	p[0] = 0x45;
	tf_put16(p + 2, (uint16_t)tlen);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, (const uint8_t[]){ 100, 64, 0, 2 }, 4);
	memcpy(p + 16, (const uint8_t[]){ 10, 0, 0, 9 }, 4);
	return tlen;
}

/* IPv6 with first next header nh and a payload of plen bytes. */
static uint32_t l4_v6(uint8_t *p, uint8_t nh, uint32_t plen)
{
	memset(p, 0, 40 + plen);
	p[0] = 0x60;
	tf_put16(p + 4, (uint16_t)plen);
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, tf_peer_ip6, 16);
	memcpy(p + 24, tf_us_ip6, 16);
	return 40 + plen;
}

static uint32_t l_udp4(uint8_t *p) { l4_v4(p, 17, 28); tf_put16(p + 20, 1234); tf_put16(p + 22, 53); return 28; }
static uint32_t l_udp4_cut(uint8_t *p) { l4_v4(p, 17, 27); return 27; }
static uint32_t l_tcp4(uint8_t *p) { l4_v4(p, 6, 40); tf_put16(p + 20, 40000); tf_put16(p + 22, 443); return 40; }
static uint32_t l_tcp4_cut(uint8_t *p) { l4_v4(p, 6, 39); return 39; }
static uint32_t l_frag4(uint8_t *p) { l4_v4(p, 6, 24); tf_put16(p + 6, 1); tf_put16(p + 20, 7); return 24; }
static uint32_t l_icmp4_err(uint8_t *p) { l4_v4(p, 1, 28); p[20] = 3; return 28; }
static uint32_t l_icmp4_echo(uint8_t *p) { l4_v4(p, 1, 28); p[20] = 8; return 28; }
static uint32_t l_icmp4_cut(uint8_t *p) { l4_v4(p, 1, 27); return 27; }
static uint32_t l_other4(uint8_t *p) { return l4_v4(p, 47, 20); }
static uint32_t l_icmp6_err(uint8_t *p) { l4_v6(p, 58, 8); p[40] = 1; return 48; }
static uint32_t l_icmp6_echo(uint8_t *p) { l4_v6(p, 58, 8); p[40] = 128; return 48; }
static uint32_t l_hbh_udp6(uint8_t *p)
{
	l4_v6(p, 0, 16);
	p[40] = 17;                 /* hop-by-hop: next header UDP, length 0 (8 bytes) */
	tf_put16(p + 48, 5353);
	tf_put16(p + 50, 53);
	return 56;
}
static uint32_t l_hbh_cut6(uint8_t *p) { l4_v6(p, 0, 16); p[40] = 17; p[41] = 1; return 56; }
static uint32_t l_frag6(uint8_t *p)
{
	l4_v6(p, 44, 8);
	p[40] = 6;                  /* fragment header: TCP follows, offset 1 */
	tf_put16(p + 42, 8);
	return 48;
}
static uint32_t l_ext_chain6(uint8_t *p)
{
	l4_v6(p, 60, 72);           /* nine destination-options headers: one too many */
	for (unsigned i = 0; i < 9; i++)
		p[40 + 8 * i] = i < 8 ? 60 : 17;
	return 112;
}

struct l4_case {
	const char *name;
	uint32_t (*build)(uint8_t *p);
	bool l4_ok;
	uint8_t l4_proto;
	bool frag, icmp_error;
	uint16_t sport, dport;
};

static const struct l4_case l4_cases[] = {
	{ "UDP", l_udp4, true, 17, false, false, 1234, 53 },
	{ "UDP header cut", l_udp4_cut, false, 0, false, false, 0, 0 },
	{ "TCP", l_tcp4, true, 6, false, false, 40000, 443 },
	{ "TCP header cut", l_tcp4_cut, false, 0, false, false, 0, 0 },
	{ "IPv4 non-first fragment", l_frag4, true, 6, true, false, 0, 0 },
	{ "ICMP error", l_icmp4_err, true, 1, false, true, 0, 0 },
	{ "ICMP echo", l_icmp4_echo, true, 1, false, false, 0, 0 },
	{ "ICMP header cut", l_icmp4_cut, false, 0, false, false, 0, 0 },
	{ "GRE", l_other4, true, 47, false, false, 0, 0 },
	{ "ICMPv6 error", l_icmp6_err, true, 58, false, true, 0, 0 },
	{ "ICMPv6 echo", l_icmp6_echo, true, 58, false, false, 0, 0 },
	{ "hop-by-hop then UDP", l_hbh_udp6, true, 17, false, false, 5353, 53 },
	{ "extension header past the end", l_hbh_cut6, false, 0, false, false, 0, 0 },
	{ "IPv6 non-first fragment", l_frag6, true, 6, true, false, 0, 0 },
	{ "nine extension headers", l_ext_chain6, false, 0, false, false, 0, 0 },
};

/* The IP header is well formed in every case (parse_inner accepts it); only l4_ok and the
 * upper-layer fields tell the cut ones apart. */
static void test_inner_l4(void)
{
	for (size_t i = 0; i < sizeof(l4_cases) / sizeof(l4_cases[0]); i++) {
		const struct l4_case *c = &l4_cases[i];
		struct fg_inner_info info;
		uint8_t p[PAY_MAX];
		uint32_t len = c->build(p);

		CU_ASSERT_EQUAL_FATAL(inner(p, len, &info), FG_DROP_NONE);
		if (info.l4_ok != c->l4_ok)
			fprintf(stderr, "\n  case '%s': l4_ok %d\n", c->name, info.l4_ok);
		CU_ASSERT_EQUAL(info.l4_ok, c->l4_ok);
		if (!c->l4_ok || !info.l4_ok)
			continue;
		CU_ASSERT_EQUAL(info.l4_proto, c->l4_proto);
		CU_ASSERT_EQUAL(info.frag, c->frag);
		CU_ASSERT_EQUAL(info.icmp_error, c->icmp_error);
		CU_ASSERT_EQUAL(info.sport, c->sport);
		CU_ASSERT_EQUAL(info.dport, c->dport);
		if (info.sport != c->sport || info.dport != c->dport)
			fprintf(stderr, "\n  case '%s': ports %u %u\n", c->name, info.sport, info.dport);
	}
}

static void test_drop_names(void)
{
	CU_ASSERT_STRING_EQUAL(fg_drop_names[FG_DROP_NONE], "none");
	CU_ASSERT_STRING_EQUAL(fg_drop_names[FG_DROP_WG_LENGTH], "wg_bad_length");
	for (int i = 0; i < FG_DROP_MAX; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(fg_drop_names[i]);
		for (int j = 0; j < i; j++)
			CU_ASSERT(strcmp(fg_drop_names[i], fg_drop_names[j]) != 0);
	}
}

static const struct fg_cunit_test demux_tests[] = {
	{ "demux table", test_demux_table },
	{ "demux truncation", test_demux_truncated },
	{ "inner table", test_inner_table },
	{ "inner fields", test_inner_fields },
	{ "inner truncation", test_inner_truncated },
	{ "inner upper layer", test_inner_l4 },
	{ "drop names", test_drop_names },
};

const struct fg_cunit_suite netpkt_demux_suite = {
	"netpkt_demux_inner", NULL, NULL,
	demux_tests, sizeof(demux_tests) / sizeof(demux_tests[0]),
};
