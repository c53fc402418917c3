#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Wire formats for the seed corpora of tests/fuzz/ (stdlib only; gen_cp_seeds.py uses them).

common/ctlproto.h structs packed with their explicit padding (each size checked against the
_Static_asserts there), STUN/TURN messages (RFC 8489, RFC 8656) with real MESSAGE-INTEGRITY
and FINGERPRINT, IPv4/IPv6 packets with TCP/UDP/ICMP and right checksums, DNS queries and
answers. No state.
"""
import hashlib
import hmac
import ipaddress
import json
import struct
import zlib


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---- addresses -------------------------------------------------------------------------

AF_INET, AF_INET6 = 2, 10


def fg_ip(text):
    """struct fg_ip: family, 16 address bytes (17 bytes, no padding)."""
    if not text:
        return bytes(17)
    a = ipaddress.ip_address(text)
    fam = AF_INET if a.version == 4 else AF_INET6
    return bytes([fam]) + a.packed.ljust(16, b"\0")


def fg_endpoint(text, port):
    """struct fg_endpoint: fg_ip, one byte of padding, the port in host order (20 bytes)."""
    return fg_ip(text) + b"\0" + struct.pack("<H", port)


def fg_prefix(text):
    net = ipaddress.ip_network(text, strict=False)
    return fg_ip(str(net.network_address)) + bytes([net.prefixlen])


def cstr(s, n):
    b = s.encode()
    assert len(b) < n
    return b.ljust(n, b"\0")


# ---- common/ctlproto.h -----------------------------------------------------------------

CTL_VERSION = 6
(HELLO, HELLO_REPLY, REPLY, PEER_UPSERT, PEER_REMOVE, RESOURCE_UPSERT, RESOURCE_REMOVE,
 IFACE_SET, DUMP, PEER_INFO, RESOURCE_INFO, STATS, STATS_REPLY, EVENT, PACKET_IN, PACKET_OUT,
 CHANNEL_BIND, CHANNEL_UNBIND, PEER_PATH, P2P_IN, P2P_OUT, NAT_SET, NAT_DUMP, NAT_INFO,
 FLOWS_SET, FLOW) = range(1, 27)

KEY_A = bytes(range(1, 33))
KEY_B = bytes(range(101, 133))
PSK = hashlib.sha256(b"fastgate fuzz psk").digest()


def hdr(typ, seq):
    return struct.pack("<HHI", CTL_VERSION, typ, seq)


def m_hello(seq):
    return hdr(HELLO, seq) + cstr("fastgate-controlplane 0.1.0", 32)


def m_hello_reply(seq):
    m = (hdr(HELLO_REPLY, seq) + cstr("0.1.0", 32) + KEY_B + cstr("tun-firezone", 16) +
         struct.pack("<HH", 51820, 0) + fg_ip("198.18.0.1") + fg_ip("2001:db8::1") + b"\0\0" +
         struct.pack("<QII", 1764806400000000000, 2, 1))
    assert len(m) == 144
    return m


def m_reply(seq, status=0, count=0, message=""):
    m = hdr(REPLY, seq) + struct.pack("<iI", status, count) + cstr(message, 120)
    assert len(m) == 136
    return m


def m_peer_upsert(seq, cid, key, v4, v6, flags=3):
    m = (hdr(PEER_UPSERT, seq) + cstr(cid, 64) + key + PSK + fg_ip(v4) + fg_ip(v6) + b"\0\0" +
         struct.pack("<II", flags, 0))
    assert len(m) == 180
    return m


def m_peer_remove(seq, key, flags=4):
    m = hdr(PEER_REMOVE, seq) + key + struct.pack("<II", flags, 0)
    assert len(m) == 48
    return m


def m_resource(typ_msg, seq, key, rid, rtype, prefix, expires, filters):
    m = (hdr(typ_msg, seq) + key + cstr(rid, 64) + struct.pack("<II", rtype, len(filters)) +
         (fg_prefix(prefix) if prefix else bytes(18)) + bytes(6) + struct.pack("<Q", expires))
    assert len(m) == 144
    for proto, lo, hi in filters:
        m += struct.pack("<BBHHH", proto, 0, lo, hi, 0)
    return m


def m_resource_remove(seq, key, rid):
    m = hdr(RESOURCE_REMOVE, seq) + key + cstr(rid, 64)
    assert len(m) == 104
    return m


def m_iface_set(seq, v4, v6):
    m = hdr(IFACE_SET, seq) + fg_ip(v4) + fg_ip(v6) + b"\0\0"
    assert len(m) == 44
    return m


def m_bare(typ, seq):
    return hdr(typ, seq)


def m_peer_info(seq, cid, key, v4, v6, ep, port, channel=0):
    m = (hdr(PEER_INFO, seq) + cstr(cid, 64) + key + fg_ip(v4) + fg_ip(v6) + fg_endpoint(ep, port) +
         struct.pack("<HIIQQQ", channel, 3, 1, 1764806400000000000, 123456, 654321))
    assert len(m) == 192
    return m


def m_stats_reply(seq):
    drops = [("wg_bad_mac", 3), ("policy_denied", 12), ("no_session", 1)]
    m = (hdr(STATS_REPLY, seq) + cstr("libsodium", 16) + struct.pack("<IIII", 1, 2, len(drops), 0) +
         struct.pack("<6Q", 10, 9, 19, 1, 40, 2))
    m += b"".join(struct.pack("<Q", n) for _, n in drops) + bytes(8 * (64 - len(drops)))
    m += b"".join(cstr(name, 32) for name, _ in drops) + bytes(32 * (64 - len(drops)))
    lcore = struct.pack("<18Q", 1000, 120000, 900, 110000, 800, 90000, 700, 80000, 990, 880,
                        50000, 1200, 3600000, 20000000, 9000, 300, 900000, 2000000)
    m += lcore + lcore + bytes(144 * 15)
    m += struct.pack("<14Q", 5, 4, 0, 3, 1, 0, 2, 7, 5, 2, 0, 6, 6, 2000000000)
    m += struct.pack("<4Q", 128 << 20, 61 << 20, 67 << 20, 66 << 20)   # version 6: the DPDK heap
    assert len(m) == 5240
    return m


def m_event(kind, key, rid=""):
    m = hdr(EVENT, 0) + struct.pack("<II", kind, 0) + key + cstr(rid, 64)
    assert len(m) == 112
    return m


def m_packet_in(src, sport, payload, relay_peer=None, channel=0):
    peer = fg_endpoint(*relay_peer) if relay_peer else bytes(20)
    m = hdr(PACKET_IN, 0) + fg_endpoint(src, sport) + peer + struct.pack("<HH", channel, len(payload))
    assert len(m) == 52
    return m + payload


def m_packet_out(seq, ep, port, channel, payload):
    m = hdr(PACKET_OUT, seq) + fg_endpoint(ep, port) + struct.pack("<HH", channel, len(payload))
    assert len(m) == 32
    return m + payload


def m_channel(typ, seq, relay, peer, channel):
    m = hdr(typ, seq) + fg_endpoint(*relay) + fg_endpoint(*peer) + struct.pack("<HH", channel, 0)
    assert len(m) == 52
    return m


def m_peer_path(seq, key, ep, port, channel):
    m = hdr(PEER_PATH, seq) + key + fg_endpoint(ep, port) + struct.pack("<HH", channel, 0)
    assert len(m) == 64
    return m


def m_p2p(typ, seq, key, payload):
    m = hdr(typ, seq) + key + struct.pack("<HH", len(payload), 0)
    assert len(m) == 44
    return m + payload


def m_nat_set(seq, key, rid, domain, pairs, flags=1, rank=2):
    m = (hdr(NAT_SET, seq) + key + cstr(rid, 64) + cstr(domain, 256) +
         struct.pack("<IIII", flags, rank, len(pairs), 0))
    for proxy, real in pairs:
        m += fg_ip(proxy) + fg_ip(real) + b"\0\0"
    m += bytes(36 * (8 - len(pairs)))
    assert len(m) == 664
    return m


def m_nat_info(seq, key, proxy, real, proto, inside, outside):
    m = (hdr(NAT_INFO, seq) + key + fg_ip(proxy) + fg_ip(real) +
         struct.pack("<BBHHH", proto, 1, inside, outside, 0) + bytes(6) +
         struct.pack("<7Q", 1764806400000000000, 1764806401000000000, 1764806401500000000, 4, 400, 3, 3000))
    assert len(m) == 144
    return m


def m_flows_set(seq, enabled):
    return hdr(FLOWS_SET, seq) + struct.pack("<II", enabled, 0)


def m_flow(kind, end, key, rid, proto, src, sport, dst, dport, real=None):
    outers = fg_endpoint("198.18.1.2", 51820) + bytes(20 * 3)
    m = (hdr(FLOW, 0) + struct.pack("<II", kind, end) + key + cstr(rid, 64) +
         struct.pack("<BBHHH", proto, 1, sport, dport, 0) + fg_ip(src) + fg_ip(dst) + fg_ip(real) + b"\0" +
         outers + struct.pack("<4H", 0, 0, 0, 0) + bytes(4))
    counters = (0, 0, 0, 0) if kind == 1 else (12, 2048, 10, 1024)
    m += struct.pack("<3Q", 1700000000500000000, 1700000060000000000, 0 if kind == 1 else 1700000060000000000)
    m += struct.pack("<4Q", *counters)
    assert len(m) == 320
    return m


P2P_ASSIGNED = b"\0" * 8 + compact({"resource": "57f9ebbb-21d5-4f9f-bf86-b25122fc7a43", "domain": "app.httpbin",
                                    "proxy_ips": ["100.96.0.1", "100.96.0.2", "100.96.0.3", "100.96.0.4",
                                                  "fd00:2021:1111:8000::", "fd00:2021:1111:8000::1",
                                                  "fd00:2021:1111:8000::2", "fd00:2021:1111:8000::3"]}).encode()


# ---- STUN (RFC 8489, RFC 8656, RFC 8445) ----------------------------------------------

MAGIC = 0x2112A442


def stun_attr(t, v):
    return struct.pack(">HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def xor_addr(ip, port, txid):
    a = ipaddress.ip_address(ip)
    xport = port ^ (MAGIC >> 16)
    if a.version == 4:
        x = int(a) ^ MAGIC
        return struct.pack(">BBH", 0, 1, xport) + struct.pack(">I", x)
    key = struct.pack(">I", MAGIC) + txid
    return struct.pack(">BBH", 0, 2, xport) + bytes(p ^ k for p, k in zip(a.packed, key))


def stun(method, cls, txid, attrs, key=None, fingerprint=True):
    """A STUN message; key: MESSAGE-INTEGRITY with it (HMAC-SHA1), then FINGERPRINT."""
    mtype = (method & 0xF80) << 2 | (method & 0x70) << 1 | (method & 0xF) | (cls & 2) << 7 | (cls & 1) << 4
    body = b"".join(stun_attr(t, v) for t, v in attrs)

    def header(extra):
        return struct.pack(">HHI", mtype, len(body) + extra, MAGIC) + txid

    if key is not None:
        mac = hmac.new(key, header(24) + body, hashlib.sha1).digest()
        body += stun_attr(0x0008, mac)
    if fingerprint:
        crc = zlib.crc32(header(8) + body) ^ 0x5354554E
        body += stun_attr(0x8028, struct.pack(">I", crc))
    return header(0) + body


def long_term_key(user, realm, password):
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).digest()


# STUN methods (ST_: CHANNEL_BIND is also a ctlproto type)
ST_BINDING, ST_ALLOCATE, ST_REFRESH, ST_SEND, ST_DATA, ST_CREATE_PERMISSION, ST_CHANNEL_BIND = 1, 3, 4, 6, 7, 8, 9
REQ, IND, OK, ERR = 0, 1, 2, 3
TX = [bytes.fromhex(h) for h in ("b7e7a701bc34d686fa87dfae", "0102030405060708090a0b0c",
                                 "29c5b1f3e0d7a6954b8c1d2e", "f00dfeedc0ffee0123456789")]


def error_code(code, reason):
    return struct.pack(">HBB", 0, code // 100, code % 100) + reason.encode()


# ---- IP packets --------------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, l4, ident=0x1c46):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, 0x4000, 64, proto, 0,
                    ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def ipv6(src, dst, nh, l4, hop=64):
    return (struct.pack("!IHBB", 6 << 28, len(l4), nh, hop) + ipaddress.ip_address(src).packed +
            ipaddress.ip_address(dst).packed + l4)


def l4_sum(src, dst, proto, seg):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", len(seg), proto)
    return csum(pseudo + seg)


def tcp(src, dst, sport, dport, flags=0x02, payload=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 0x12345678, 0, 5 << 4, flags, 64240, 0, 0) + payload
    c = l4_sum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_sum(src, dst, 17, seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp(typ, code, rest, payload, v6=None):
    msg = struct.pack("!BBH", typ, code, 0) + rest + payload
    c = l4_sum(v6[0], v6[1], 58, msg) if v6 else csum(msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


# ---- DNS -------------------------------------------------------------------------------

def qname(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def dns_query(ident, name, qtype=1, edns=False):
    m = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 1 if edns else 0) + qname(name) + struct.pack("!HH", qtype, 1)
    if edns:
        m += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return m


def dns_answer(ident, name, qtype, rdatas, rcode=0, ttl=300):
    m = struct.pack("!HHHHHH", ident, 0x8180 | rcode, 1, len(rdatas), 0, 0) + qname(name) + struct.pack("!HH", qtype, 1)
    for rd in rdatas:
        m += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, ttl, len(rd)) + rd
    return m
