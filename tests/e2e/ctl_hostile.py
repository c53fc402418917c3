#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile messages on a running data plane's control socket (end-to-end tests).

usage: ctl_hostile.py SOCKET_PATH

Connects to fastgate-dataplane's control socket (AF_UNIX, SOCK_SEQPACKET; the protocol is
common/ctlproto.h, mirrored here with ctypes at natural alignment and checked against the
sizes pinned in tests/unit/ctlproto) and sends datagrams no control plane would: empty,
shorter than a header, a bare header of every type, wrong versions, every type one byte
short and one byte long, resources whose n_filters disagrees with the filters they carry,
or more than FG_CTL_MAX_FILTERS, packets whose len disagrees with the bytes they carry or
exceeds FG_CTL_MAX_PACKET (FG_CTL_P2P_MAX for P2P_OUT), unknown types, replies, events and
the other server-only messages (P2P_IN, NAT_INFO, FLOW) sent as requests, garbage longer than
any message, then well-framed requests with bad contents (unterminated ids, address family
99, unknown peers and resources, channel numbers outside 0x4000-0x4FFF, empty packets, port
0, unbinding a channel never bound, p2p payloads empty or under their 8-byte header, p2p
control for an unknown peer, NAT_SET for an unknown peer); 1000 filters are accepted. Each must
be answered with a REPLY whose status is -EPROTO for framing errors or -EINVAL / -ENOENT
for contents; an empty datagram may instead end the connection (the server reads it as end of
stream). Afterwards a HELLO on the same connection and on a new one must still be answered.
The one peer it creates to reach the per-resource checks is removed again. Prints one line
per case and "ctl-hostile: N passed, N failed"; exits 1 on any failure. Standard library only.
"""
import ctypes
import errno
import os
import random
import socket
import sys

u8, u16, u32, u64, i32 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32

VERSION = 6
ID_LEN = 64
DOMAIN_LEN = 256
MAX_FILTERS = 8192
MAX_PACKET = 2048
P2P_MAX = 1240  # a p2p control payload: 1280 - the 40-byte IPv6 header
NAT_MAX_PROXY = 8
FLOW_MAX_OUTERS = 4
(HELLO, HELLO_REPLY, REPLY, PEER_UPSERT, PEER_REMOVE, RESOURCE_UPSERT, RESOURCE_REMOVE, IFACE_SET,
 DUMP, PEER_INFO, RESOURCE_INFO, STATS, STATS_REPLY, EVENT, PACKET_IN, PACKET_OUT, CHANNEL_BIND,
 CHANNEL_UNBIND, PEER_PATH, P2P_IN, P2P_OUT, NAT_SET, NAT_DUMP, NAT_INFO, FLOWS_SET, FLOW,
 TYPE_MAX) = range(1, 28)
RES_CIDR = 1
FILTER_TCP = 6
TIMEOUT_S = 5.0


class Hdr(ctypes.Structure):
    _fields_ = [("version", u16), ("type", u16), ("seq", u32)]


class Ip(ctypes.Structure):
    _fields_ = [("family", u8), ("addr", u8 * 16)]


class Prefix(ctypes.Structure):
    _fields_ = [("ip", Ip), ("len", u8)]


class Endpoint(ctypes.Structure):
    _fields_ = [("ip", Ip), ("port", u16)]


class Hello(ctypes.Structure):
    _fields_ = [("h", Hdr), ("client", ctypes.c_char * 32)]


class HelloReply(ctypes.Structure):
    _fields_ = [("h", Hdr), ("version", ctypes.c_char * 32), ("public_key", u8 * 32),
                ("tun_name", ctypes.c_char * 16), ("listen_port", u16), ("pad", u16),
                ("uplink4", Ip), ("uplink6", Ip), ("started_unix_ns", u64), ("peers", u32),
                ("workers", u32)]


class Reply(ctypes.Structure):
    _fields_ = [("h", Hdr), ("status", i32), ("count", u32), ("message", ctypes.c_char * 120)]


class PeerUpsert(ctypes.Structure):
    _fields_ = [("h", Hdr), ("client_id", ctypes.c_char * ID_LEN), ("public_key", u8 * 32),
                ("psk", u8 * 32), ("ipv4", Ip), ("ipv6", Ip), ("flags", u32), ("pad", u32)]


class PeerRemove(ctypes.Structure):
    _fields_ = [("h", Hdr), ("public_key", u8 * 32), ("flags", u32), ("pad", u32)]


class Filter(ctypes.Structure):
    _fields_ = [("proto", u8), ("pad", u8), ("port_lo", u16), ("port_hi", u16), ("pad2", u16)]


# The fixed part of a resource; n_filters Filter structs follow it in the datagram.
_RESOURCE_FIELDS = [("h", Hdr), ("public_key", u8 * 32), ("resource_id", ctypes.c_char * ID_LEN),
                    ("type", u32), ("n_filters", u32), ("prefix", Prefix), ("pad", u8 * 2),
                    ("expires_at", u64)]


def with_filters(n):
    """A resource upsert struct that carries n filters after its fixed part."""
    class R(ctypes.Structure):
        _fields_ = _RESOURCE_FIELDS + [("filters", Filter * n)]
    return R


class ResourceUpsert(ctypes.Structure):
    _fields_ = _RESOURCE_FIELDS


class ResourceInfo(ctypes.Structure):
    _fields_ = _RESOURCE_FIELDS


class ResourceRemove(ctypes.Structure):
    _fields_ = [("h", Hdr), ("public_key", u8 * 32), ("resource_id", ctypes.c_char * ID_LEN)]


class IfaceSet(ctypes.Structure):
    _fields_ = [("h", Hdr), ("ipv4", Ip), ("ipv6", Ip)]


class Bare(ctypes.Structure):  # DUMP and STATS: a header and nothing else
    _fields_ = [("h", Hdr)]


class PeerInfo(ctypes.Structure):
    _fields_ = [("h", Hdr), ("client_id", ctypes.c_char * ID_LEN), ("public_key", u8 * 32),
                ("ipv4", Ip), ("ipv6", Ip), ("endpoint", Endpoint), ("channel", u16), ("flags", u32),
                ("n_resources", u32), ("last_handshake_unix_ns", u64), ("rx_bytes", u64),
                ("tx_bytes", u64)]


class LcoreStats(ctypes.Structure):
    _fields_ = [(n, u64) for n in ("nic_rx_packets", "nic_rx_bytes", "nic_tx_packets", "nic_tx_bytes",
                                   "tun_rx_packets", "tun_rx_bytes", "tun_tx_packets", "tun_tx_bytes",
                                   "decrypted", "encrypted", "polls", "busy_polls", "busy_cycles",
                                   "cycles", "win_polls", "win_busy_polls", "win_busy_cycles", "win_cycles")]


class StatsReply(ctypes.Structure):
    _fields_ = [("h", Hdr), ("aead", ctypes.c_char * 16), ("workers", u32), ("peers", u32),
                ("n_drops", u32), ("pad", u32)] + \
               [(n, u64) for n in ("handshakes_initiated", "handshakes_responded", "handshakes_completed",
                                   "cookies_sent", "keepalives_sent", "roams")] + \
               [("drops", u64 * 64), ("drop_names", (ctypes.c_char * 32) * 64), ("service", LcoreStats),
                ("lcores", LcoreStats * 16)] + \
               [(n, u64) for n in ("nat_translated_out", "nat_translated_in", "nat_icmp_translated",
                                   "nat_created", "nat_expired", "nat_misses", "nat_live", "flows_started",
                                   "flows_completed", "flows_live", "flows_lost", "p2p_in", "p2p_out",
                                   "tsc_hz", "heap_total", "heap_allocated", "heap_free",
                                   "heap_largest_free")]


class Event(ctypes.Structure):
    _fields_ = [("h", Hdr), ("kind", u32), ("pad", u32), ("public_key", u8 * 32),
                ("resource_id", ctypes.c_char * ID_LEN)]


class PacketIn(ctypes.Structure):  # the fixed part; len payload bytes follow
    _fields_ = [("h", Hdr), ("src", Endpoint), ("peer", Endpoint), ("channel", u16), ("len", u16)]


class PacketOut(ctypes.Structure):  # the fixed part; len payload bytes follow
    _fields_ = [("h", Hdr), ("ep", Endpoint), ("channel", u16), ("len", u16)]


class Channel(ctypes.Structure):
    _fields_ = [("h", Hdr), ("relay", Endpoint), ("peer", Endpoint), ("channel", u16), ("pad", u16)]


class PeerPath(ctypes.Structure):
    _fields_ = [("h", Hdr), ("public_key", u8 * 32), ("ep", Endpoint), ("channel", u16), ("pad", u16)]


class P2p(ctypes.Structure):  # P2P_IN and P2P_OUT, the fixed part; len payload bytes follow
    _fields_ = [("h", Hdr), ("public_key", u8 * 32), ("len", u16), ("pad", u16)]


class NatEntry(ctypes.Structure):
    _fields_ = [("proxy", Ip), ("real", Ip), ("pad", u8 * 2)]


class NatSet(ctypes.Structure):
    _fields_ = [("h", Hdr), ("public_key", u8 * 32), ("resource_id", ctypes.c_char * ID_LEN),
                ("domain", ctypes.c_char * DOMAIN_LEN), ("flags", u32), ("rank", u32), ("n", u32),
                ("pad", u32), ("e", NatEntry * NAT_MAX_PROXY)]


class NatInfo(ctypes.Structure):
    _fields_ = [("h", Hdr), ("public_key", u8 * 32), ("proxy", Ip), ("real", Ip), ("proto", u8),
                ("flags", u8), ("inside_port", u16), ("outside_port", u16), ("worker", u16),
                ("pad", u8 * 6)] + \
               [(n, u64) for n in ("created_unix_ns", "last_out_unix_ns", "last_in_unix_ns", "tx_packets",
                                   "tx_bytes", "rx_packets", "rx_bytes")]


class FlowsSet(ctypes.Structure):
    _fields_ = [("h", Hdr), ("enabled", u32), ("pad", u32)]


class Flow(ctypes.Structure):
    _fields_ = [("h", Hdr), ("kind", u32), ("end", u32), ("public_key", u8 * 32),
                ("resource_id", ctypes.c_char * ID_LEN), ("proto", u8), ("n_outers", u8),
                ("src_port", u16), ("dst_port", u16), ("pad", u16), ("src", Ip), ("dst", Ip), ("real", Ip),
                ("pad2", u8 * 1), ("outers", Endpoint * FLOW_MAX_OUTERS), ("channels", u16 * FLOW_MAX_OUTERS),
                ("pad3", u8 * 4)] + \
               [(n, u64) for n in ("start_unix_ns", "last_packet_unix_ns", "end_unix_ns", "tx_packets",
                                   "tx_bytes", "rx_packets", "rx_bytes")]


STRUCTS = {HELLO: Hello, HELLO_REPLY: HelloReply, REPLY: Reply, PEER_UPSERT: PeerUpsert,
           PEER_REMOVE: PeerRemove, RESOURCE_UPSERT: ResourceUpsert, RESOURCE_REMOVE: ResourceRemove,
           IFACE_SET: IfaceSet, DUMP: Bare, PEER_INFO: PeerInfo, RESOURCE_INFO: ResourceInfo,
           STATS: Bare, STATS_REPLY: StatsReply, EVENT: Event, PACKET_IN: PacketIn, PACKET_OUT: PacketOut,
           CHANNEL_BIND: Channel, CHANNEL_UNBIND: Channel, PEER_PATH: PeerPath, P2P_IN: P2p, P2P_OUT: P2p,
           NAT_SET: NatSet, NAT_DUMP: Bare, NAT_INFO: NatInfo, FLOWS_SET: FlowsSet, FLOW: Flow}
NAMES = {HELLO: "HELLO", HELLO_REPLY: "HELLO_REPLY", REPLY: "REPLY", PEER_UPSERT: "PEER_UPSERT",
         PEER_REMOVE: "PEER_REMOVE", RESOURCE_UPSERT: "RESOURCE_UPSERT", RESOURCE_REMOVE: "RESOURCE_REMOVE",
         IFACE_SET: "IFACE_SET", DUMP: "DUMP", PEER_INFO: "PEER_INFO", RESOURCE_INFO: "RESOURCE_INFO",
         STATS: "STATS", STATS_REPLY: "STATS_REPLY", EVENT: "EVENT", PACKET_IN: "PACKET_IN",
         PACKET_OUT: "PACKET_OUT", CHANNEL_BIND: "CHANNEL_BIND", CHANNEL_UNBIND: "CHANNEL_UNBIND",
         PEER_PATH: "PEER_PATH", P2P_IN: "P2P_IN", P2P_OUT: "P2P_OUT", NAT_SET: "NAT_SET",
         NAT_DUMP: "NAT_DUMP", NAT_INFO: "NAT_INFO", FLOWS_SET: "FLOWS_SET", FLOW: "FLOW"}
# The sizes tests/unit/ctlproto pins for the C structs; a mismatch means this mirror is stale.
PINNED = {HELLO: 40, HELLO_REPLY: 144, REPLY: 136, PEER_UPSERT: 180, PEER_REMOVE: 48,
          RESOURCE_UPSERT: 144, RESOURCE_REMOVE: 104, IFACE_SET: 44, DUMP: 8, PEER_INFO: 192,
          RESOURCE_INFO: 144, STATS: 8, STATS_REPLY: 5240, EVENT: 112, PACKET_IN: 52, PACKET_OUT: 32,
          CHANNEL_BIND: 52, CHANNEL_UNBIND: 52, PEER_PATH: 64, P2P_IN: 44, P2P_OUT: 44, NAT_SET: 664,
          NAT_DUMP: 8, NAT_INFO: 144, FLOWS_SET: 16, FLOW: 320}
SIZE = {t: ctypes.sizeof(s) for t, s in STRUCTS.items()}
HDR = ctypes.sizeof(Hdr)
MAX_MSG = 144 + MAX_FILTERS * 8  # the server's receive buffer: anything longer is "too large"


def name_of(t):
    return NAMES.get(t, "type %d" % t)


class Broken(Exception):
    """The connection ended or went silent."""


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(TIMEOUT_S)
        self.s.connect(path)
        self.seq = 1000

    def close(self):
        self.s.close()

    def next_seq(self):
        self.seq += 1
        return self.seq

    def send(self, data):
        try:
            self.s.send(bytes(data))
        except OSError as e:
            raise Broken("send: %s" % e) from e

    def recv(self):
        """The next message that is not an event or a punted packet (the data plane may push
        those at any time)."""
        while True:
            try:
                data = self.s.recv(65536)
            except socket.timeout as e:
                raise Broken("no answer in %.0f s" % TIMEOUT_S) from e
            except OSError as e:
                raise Broken("recv: %s" % e) from e
            if not data:
                raise Broken("connection closed")
            if len(data) >= HDR and Hdr.from_buffer_copy(data[:HDR]).type in (EVENT, PACKET_IN, P2P_IN, FLOW):
                continue
            return data


def msg(cls, mtype, seq, version=VERSION):
    m = cls()
    m.h.version, m.h.type, m.h.seq = version, mtype, seq
    return m


def header(mtype, seq, version=VERSION):
    return bytes(msg(Bare, mtype, seq, version))


def as_reply(data):
    """(Reply, None) or (None, why it is not a well-formed REPLY)."""
    if len(data) != SIZE[REPLY]:
        h = Hdr.from_buffer_copy(data[:HDR]) if len(data) >= HDR else None
        return None, "a %d-byte %s instead of a REPLY" % (len(data), name_of(h.type) if h else "fragment")
    r = Reply.from_buffer_copy(data)
    if r.h.version != VERSION or r.h.type != REPLY:
        return None, "header version %d type %d" % (r.h.version, r.h.type)
    return r, None


class Run:
    def __init__(self, path):
        self.path = path
        self.passed = 0
        self.failed = 0
        self.conn = None
        self.gw_key = bytes(32)

    def result(self, ok, name, detail):
        print("%s %s: %s" % ("ok  " if ok else "FAIL", name, detail), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1

    def reconnect(self):
        if self.conn:
            self.conn.close()
        self.conn = Conn(self.path)

    def hello(self, name, conn=None):
        conn = conn or self.conn
        seq = conn.next_seq()
        m = msg(Hello, HELLO, seq)
        m.client = b"ctl-hostile.py"
        try:
            conn.send(m)
            data = conn.recv()
        except Broken as e:
            self.result(False, name, str(e))
            return False
        if len(data) != SIZE[HELLO_REPLY]:
            self.result(False, name, "a %d-byte answer, not a HELLO_REPLY" % len(data))
            return False
        r = HelloReply.from_buffer_copy(data)
        ok = r.h.version == VERSION and r.h.type == HELLO_REPLY and r.h.seq == seq
        self.result(ok, name, "HELLO_REPLY seq %d from %s (%s)" % (r.h.seq, r.version.decode(errors="replace"),
                                                                  r.tun_name.decode(errors="replace")))
        if ok:
            self.gw_key = bytes(r.public_key)
        return ok

    def expect(self, name, data, statuses, seq):
        """Sends data; the answer must be a REPLY with a status in statuses, echoing seq
        (None: the header was unreadable, so the server answers with seq 0)."""
        want_seq = 0 if seq is None else seq
        try:
            self.conn.send(data)
            r, why = as_reply(self.conn.recv())
        except Broken as e:
            self.result(False, name, "%s; reconnecting" % e)
            self.reconnect()
            return None
        if r is None:
            self.result(False, name, why)
            return None
        ok = r.status in statuses and r.h.seq == want_seq
        self.result(ok, name, "status %d%s (%s)" % (r.status, "" if r.h.seq == want_seq else
                                                    ", seq %d, want %d" % (r.h.seq, want_seq),
                                                    r.message.decode(errors="replace")))
        return r.status

    def proto(self, name, data, seq):
        self.expect(name, data, (-errno.EPROTO,), seq)

    def framing(self):
        rnd = random.Random(20261122)

        def seq():
            return self.conn.next_seq()

        # Empty: the server cannot tell it from the end of the stream; dropping the
        # connection is allowed (ctlproto.h), answering -EPROTO too.
        try:
            self.conn.send(b"")
            data = self.conn.recv()
            r, why = as_reply(data)
            ok = r is not None and r.status == -errno.EPROTO
            self.result(ok, "empty datagram", "status %d" % r.status if r else why)
        except Broken as e:
            self.result(True, "empty datagram", "connection dropped (%s)" % e)
            self.reconnect()
        self.proto("1 byte", b"\x01", None)
        self.proto("7 bytes (header less one)", header(HELLO, seq())[:HDR - 1], None)
        for t in list(range(0, TYPE_MAX + 1)) + [0xFFFF]:
            s = seq()
            if SIZE.get(t) == HDR:
                self.bare_request(t, s)
            else:
                self.proto("header only, %s" % name_of(t), header(t, s), s)
        for v in (0, 1, VERSION + 1, 0xFFFF):
            s = seq()
            m = msg(Hello, HELLO, s, version=v)
            self.proto("HELLO with version %d" % v, m, s)
        for t in sorted(STRUCTS):
            for delta in (-1, 1):
                s = seq()
                body = bytes(msg(STRUCTS[t], t, s)) + b"\0"
                data = body[:SIZE[t] + delta]
                self.proto("%s with size %d (%+d)" % (name_of(t), len(data), delta), data,
                           s if len(data) >= HDR else None)
        for t in (TYPE_MAX, 0, 200, 0xFFFF):
            s = seq()
            self.proto("unknown type %d, %d bytes" % (t, SIZE[REPLY]), bytes(msg(Reply, t, s)), s)
        for t in (HELLO_REPLY, REPLY, PEER_INFO, RESOURCE_INFO, STATS_REPLY, EVENT, PACKET_IN, P2P_IN, NAT_INFO,
                  FLOW):
            s = seq()
            self.proto("%s sent as a request" % name_of(t), bytes(msg(STRUCTS[t], t, s)), s)
        s = seq()
        self.proto("FG_CTL_MAX_MSG + 1 behind a valid HELLO header", header(HELLO, s) + bytes(MAX_MSG + 1 - HDR),
                   None)
        garbage = bytes(rnd.getrandbits(8) for _ in range(MAX_MSG + 4096))
        self.proto("FG_CTL_MAX_MSG + 4 KiB of garbage", garbage, None)
        # A resource's size must match its n_filters exactly.
        for n, carried in ((1, 0), (2, 1), (2, 3), (0, 1), (MAX_FILTERS + 1, 0), (0xFFFFFFFF, 0)):
            s = seq()
            m = msg(with_filters(carried), RESOURCE_UPSERT, s)
            m.n_filters = n
            self.proto("RESOURCE_UPSERT with n_filters %d carrying %d" % (n, carried), m, s)
        # A packet's size must match its len exactly, and len stay within MAX_PACKET.
        for n, carried in ((20, 19), (20, 21), (0, 1), (MAX_PACKET + 1, MAX_PACKET + 1), (0xFFFF, 0)):
            s = seq()
            m = bytearray(bytes(msg(PacketOut, PACKET_OUT, s)))
            PacketOut.from_buffer(m).len = n
            self.proto("PACKET_OUT with len %d carrying %d" % (n, carried), bytes(m) + bytes(carried), s)
        # A p2p payload likewise, within P2P_MAX (not MAX_PACKET).
        for n, carried in ((20, 19), (20, 21), (0, 1), (8, 0), (P2P_MAX + 1, P2P_MAX + 1), (MAX_PACKET, MAX_PACKET),
                           (0xFFFF, 0)):
            s = seq()
            m = bytearray(bytes(msg(P2p, P2P_OUT, s)))
            P2p.from_buffer(m).len = n
            self.proto("P2P_OUT with len %d carrying %d" % (n, carried), bytes(m) + bytes(carried), s)
        for i in range(8):
            n = rnd.randint(HDR, 600)
            s = seq()
            h = Hdr(VERSION, rnd.choice([t for t in STRUCTS if SIZE[t] != n]), s)
            self.proto("garbage %d: version 1, %s header, %d bytes" % (i, name_of(h.type), n),
                       bytes(h) + bytes(rnd.getrandbits(8) for _ in range(n - HDR)), s)

    def bare_request(self, t, s):
        """DUMP, STATS and NAT_DUMP are complete with a bare header: they must be served."""
        name = "header only, %s (a valid request)" % name_of(t)
        parts = {DUMP: (PEER_INFO, RESOURCE_INFO), NAT_DUMP: (NAT_INFO,)}.get(t, ())
        try:
            self.conn.send(header(t, s))
            while True:
                data = self.conn.recv()
                h = Hdr.from_buffer_copy(data[:HDR])
                if t == STATS and h.type == STATS_REPLY:
                    self.result(len(data) == SIZE[STATS_REPLY] and h.seq == s, name,
                                "STATS_REPLY, %d bytes" % len(data))
                    return
                if h.type == REPLY:
                    r, why = as_reply(data)
                    self.result(r is not None and r.status == 0 and h.seq == s, name,
                                "REPLY status %d, count %d" % (r.status, r.count) if r else why)
                    return
                want = SIZE.get(h.type)
                if h.type == RESOURCE_INFO and len(data) >= SIZE[RESOURCE_INFO]:
                    # variable: the fixed part, then n_filters filters (a resource with filters)
                    want = SIZE[RESOURCE_INFO] + 8 * ResourceInfo.from_buffer_copy(
                        data[:SIZE[RESOURCE_INFO]]).n_filters
                if h.type not in parts or len(data) != want:
                    self.result(False, name, "unexpected %s (%d bytes)" % (name_of(h.type), len(data)))
                    return
        except Broken as e:
            self.result(False, name, "%s; reconnecting" % e)
            self.reconnect()

    def peer_upsert(self, key, client_id=b"ctl-hostile", v4fam=0, v6fam=0):
        m = msg(PeerUpsert, PEER_UPSERT, self.conn.next_seq())
        m.client_id = client_id
        m.public_key[:] = list(key)
        m.ipv4.family = v4fam
        m.ipv6.family = v6fam
        return m

    def resource(self, key, rid=b"ctl-hostile-res", rtype=RES_CIDR, n_filters=0, fam=socket.AF_INET, plen=32):
        m = msg(with_filters(n_filters), RESOURCE_UPSERT, self.conn.next_seq())
        m.public_key[:] = list(key)
        m.resource_id = rid
        m.type = rtype
        m.n_filters = n_filters
        m.prefix.ip.family = fam
        m.prefix.ip.addr[:4] = [198, 18, 2, 2]
        m.prefix.len = plen
        for f in m.filters:
            f.proto, f.port_lo, f.port_hi = FILTER_TCP, 80, 80
        return m

    def resource_remove(self, key, rid):
        m = msg(ResourceRemove, RESOURCE_REMOVE, self.conn.next_seq())
        m.public_key[:] = list(key)
        m.resource_id = rid
        return m

    def packets(self):
        """Well-framed version-3 requests with contents the data plane must refuse."""
        inval, noent = (-errno.EINVAL,), (-errno.ENOENT,)
        e = self.expect

        def ep(fam=socket.AF_INET, addr=(198, 18, 200, 1), port=3478):
            x = Endpoint()
            x.ip.family = fam
            x.ip.addr[:len(addr)] = list(addr)
            x.port = port
            return x

        def out(dst, channel=0, payload=b"\0" * 20):
            m = msg(PacketOut, PACKET_OUT, self.conn.next_seq())
            m.ep, m.channel, m.len = dst, channel, len(payload)
            return bytes(m) + payload, m.h.seq

        for what, (data, s) in (("an empty payload", out(ep(), payload=b"")),
                                ("family 99", out(ep(fam=99))),
                                ("port 0", out(ep(port=0))),
                                ("address 0.0.0.0", out(ep(addr=(0, 0, 0, 0)))),
                                ("channel 0x3fff", out(ep(), channel=0x3FFF)),
                                ("channel 0x5000", out(ep(), channel=0x5000))):
            e("PACKET_OUT with %s" % what, data, inval, s)

        def chan(t, relay, channel, peer=None):
            m = msg(Channel, t, self.conn.next_seq())
            m.relay, m.channel = relay, channel
            if peer is not None:
                m.peer = peer
            return m

        for what, m in (("channel 0x3fff", chan(CHANNEL_BIND, ep(), 0x3FFF, ep(port=9))),
                        ("channel 0", chan(CHANNEL_BIND, ep(), 0, ep(port=9))),
                        ("a relay of family 99", chan(CHANNEL_BIND, ep(fam=99), 0x4000, ep(port=9))),
                        ("a peer of family 0", chan(CHANNEL_BIND, ep(), 0x4000, ep(fam=0))),
                        ("relay port 0", chan(CHANNEL_BIND, ep(port=0), 0x4000, ep(port=9)))):
            e("CHANNEL_BIND with %s" % what, m, inval, m.h.seq)
        m = chan(CHANNEL_UNBIND, ep(addr=(198, 18, 200, 2)), 0x4321)
        e("CHANNEL_UNBIND of a channel never bound", m, noent, m.h.seq)
        m = chan(CHANNEL_UNBIND, ep(), 0x5000)
        e("CHANNEL_UNBIND with channel 0x5000", m, inval, m.h.seq)
        # Bound and unbound again (the table is the data plane's; nothing stays behind).
        m = chan(CHANNEL_BIND, ep(addr=(198, 18, 200, 3)), 0x4001, ep(addr=(198, 18, 201, 1), port=40000))
        e("CHANNEL_BIND of a valid channel", m, (0,), m.h.seq)
        m = chan(CHANNEL_UNBIND, ep(addr=(198, 18, 200, 3)), 0)
        e("CHANNEL_UNBIND of every channel of that relay", m, (0,), m.h.seq)
        m = msg(PeerPath, PEER_PATH, self.conn.next_seq())
        m.public_key[:] = list(os.urandom(32))
        m.ep = ep()
        e("PEER_PATH for an unknown peer", m, noent, m.h.seq)

    def version4(self):
        """Well-framed version-4 requests with contents the data plane must refuse."""
        inval, noent = (-errno.EINVAL,), (-errno.ENOENT,)

        def p2p_out(key, payload):
            m = msg(P2p, P2P_OUT, self.conn.next_seq())
            m.public_key[:] = list(key)
            m.len = len(payload)
            return bytes(m) + payload, m.h.seq

        status = b"\x01" + bytes(7) + b'{"resource":"r","domain":"d","status":"Active"}'
        key = os.urandom(32)
        for what, (data, s), want in (("an empty payload", p2p_out(key, b""), inval),
                                      ("a payload under the 8-byte header", p2p_out(key, status[:7]), inval),
                                      ("an unknown peer", p2p_out(key, status), noent),
                                      ("an unknown peer, the largest payload",
                                       p2p_out(key, status + b" " * (P2P_MAX - len(status))), noent)):
            self.expect("P2P_OUT with %s" % what, data, want, s)
        m = msg(NatSet, NAT_SET, self.conn.next_seq())
        m.public_key[:] = list(key)
        m.resource_id = b"ctl-hostile-dns"
        m.domain = b"app.corp.example"
        m.n = 1
        m.e[0].proxy.family, m.e[0].real.family = socket.AF_INET, socket.AF_INET
        m.e[0].proxy.addr[:4] = [100, 96, 0, 1]
        m.e[0].real.addr[:4] = [198, 18, 2, 2]
        self.expect("NAT_SET for an unknown peer", m, noent, m.h.seq)

    def semantic(self):
        inval, noent = (-errno.EINVAL,), (-errno.ENOENT,)
        probe = os.urandom(32)
        nobody = os.urandom(32)
        e = self.expect

        m = self.peer_upsert(probe, client_id=b"A" * ID_LEN)
        e("PEER_UPSERT with a client_id that is not NUL-terminated", m, inval, m.h.seq)
        m = self.peer_upsert(probe, v4fam=99)
        e("PEER_UPSERT with family 99 in ipv4", m, inval, m.h.seq)
        m = self.peer_upsert(probe, v6fam=99)
        e("PEER_UPSERT with family 99 in ipv6", m, inval, m.h.seq)
        m = self.peer_upsert(probe, v4fam=socket.AF_INET6)
        e("PEER_UPSERT with AF_INET6 in ipv4", m, inval, m.h.seq)
        if any(self.gw_key):
            m = self.peer_upsert(self.gw_key)
            e("PEER_UPSERT with the gateway's own public key", m, inval, m.h.seq)
        m = msg(PeerRemove, PEER_REMOVE, self.conn.next_seq())
        m.public_key[:] = list(nobody)
        e("PEER_REMOVE for an unknown peer", m, noent, m.h.seq)
        m = self.resource(nobody)
        e("RESOURCE_UPSERT for an unknown peer", m, noent, m.h.seq)
        m = self.resource_remove(nobody, b"ctl-hostile-res")
        e("RESOURCE_REMOVE for an unknown peer", m, noent, m.h.seq)
        m = msg(IfaceSet, IFACE_SET, self.conn.next_seq())
        m.ipv4.family = 99
        e("IFACE_SET with family 99 in ipv4", m, inval, m.h.seq)

        # A real peer (no addresses, no policy) so the resource checks get past the lookup.
        m = self.peer_upsert(probe, client_id=b"ctl-hostile-probe")
        if e("setup: a valid PEER_UPSERT for a probe peer", m, (0,), m.h.seq) != 0:
            return
        bad_filter = self.resource(probe, n_filters=2)
        bad_filter.filters[1].proto = 99
        reversed_ports = self.resource(probe, n_filters=1)
        reversed_ports.filters[0].port_lo, reversed_ports.filters[0].port_hi = 443, 80
        m = self.resource(probe, n_filters=1000)
        e("RESOURCE_UPSERT with 1000 filters (any number up to %d)" % MAX_FILTERS, m, (0,), m.h.seq)
        for what, m in (("type 9", self.resource(probe, rtype=9)),
                        ("a CIDR of family 99", self.resource(probe, fam=99)),
                        ("an IPv4 CIDR /33", self.resource(probe, plen=33)),
                        ("filter protocol 99", bad_filter),
                        ("a filter with port_lo > port_hi", reversed_ports),
                        ("an empty resource_id", self.resource(probe, rid=b"")),
                        ("a resource_id that is not NUL-terminated", self.resource(probe, rid=b"R" * ID_LEN))):
            e("RESOURCE_UPSERT with %s" % what, m, inval, m.h.seq)
        m = self.resource_remove(probe, b"no-such-resource")
        e("RESOURCE_REMOVE for an unknown resource", m, noent, m.h.seq)
        m = self.resource_remove(probe, b"R" * ID_LEN)
        e("RESOURCE_REMOVE with a resource_id that is not NUL-terminated", m, noent, m.h.seq)
        m = msg(PeerRemove, PEER_REMOVE, self.conn.next_seq())
        m.public_key[:] = list(probe)
        e("cleanup: PEER_REMOVE of the probe peer", m, (0,), m.h.seq)

    def probe_gone(self, conn):
        """A DUMP on conn must not list the probe peer any more."""
        s = conn.next_seq()
        found = 0
        try:
            conn.send(header(DUMP, s))
            while True:
                data = conn.recv()
                h = Hdr.from_buffer_copy(data[:HDR])
                if h.type == PEER_INFO and len(data) == SIZE[PEER_INFO]:
                    found += PeerInfo.from_buffer_copy(data).client_id == b"ctl-hostile-probe"
                elif h.type == REPLY and h.seq == s:
                    break
        except Broken as e:
            self.result(False, "DUMP after the run", str(e))
            return
        self.result(found == 0, "DUMP after the run: no probe peer left", "%d found" % found)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    bad = {name_of(t): (SIZE[t], PINNED[t]) for t in STRUCTS if SIZE[t] != PINNED[t]}
    if bad:
        print("FAIL the ctypes mirror of ctlproto.h is stale: %s" % bad)
        return 1
    run = Run(sys.argv[1])
    try:
        run.reconnect()
    except OSError as e:
        print("FAIL connect %s: %s" % (sys.argv[1], e))
        return 1
    if run.hello("HELLO before the hostile messages"):
        run.framing()
        run.semantic()
        run.packets()
        run.version4()
        run.hello("HELLO on the same connection afterwards")
        try:
            fresh = Conn(run.path)
            run.hello("HELLO on a new connection", fresh)
            run.probe_gone(fresh)
            fresh.close()
        except OSError as e:
            run.result(False, "new connection", str(e))
    run.conn.close()
    print("ctl-hostile: %d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
