#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/nat_probe.py: small traffic tools for the DNS resource end-to-end test
(tests/e2e/test_dns_resources.sh), stdlib only. Servers run in the site namespace on the
real addresses, clients in a client namespace towards proxy IPs; IPv4 and IPv6 alike.

usage:
  nat_probe.py udp-echo --bind IP --port P
      Echoes every datagram to its sender, forever.
  nat_probe.py udp-hold --bind IP --port P [--trigger FILE] [--log FILE]
      Reads datagrams and answers none (a black hole when there is no --trigger). Each
      sender goes to --log as "IP PORT" once. When FILE appears, sends "late" to every
      sender seen, writes "sent N" to the log and exits.
  nat_probe.py udp-flows --dst IP --port P --count N --sport S [--timeout T]
      N sockets bound to source ports S..S+N-1 each send one datagram to IP:P (again after
      a second while unanswered) and wait for the echo. Prints "replies K of N"; exit 0 iff
      every flow got its echo from IP:P.
  nat_probe.py udp-send --dst IP --port P --sport S
      One datagram from source port S.
  nat_probe.py udp-listen --bind IP --port P --timeout T [--ready-file F]
      Waits T seconds for a datagram: prints "got N bytes from IP PORT" (exit 0) or
      "nothing" (exit 1). F is created once the socket is bound.
  nat_probe.py icmp-error --dst IP --port P [--timeout T]
      A datagram to a closed port through the tunnel; the ICMP error that comes back is read
      twice: from a raw ICMP socket (outer source, type, code and the quoted packet's
      addresses and ports) and from the connected socket's error queue (IP_RECVERR: the
      kernel delivers it only if the quoted packet matches the socket, i.e. its destination
      is IP:P). Prints one JSON object; exit 0 iff both saw it.
  nat_probe.py tcp-hold --bind IP --port P [--who 1]
      Accepts connections, greets each with "hello IP\\n", keeps them open until the peer
      closes or resets; logs "accept IP PORT" / "closed IP PORT reason". With --who 1 it
      answers "IP\\n" and closes at once (which address a proxy IP reached).
  nat_probe.py tcp-rst --dst IP --port P --hold-file F
      Connects, reads the greeting, prints "local PORT", waits until F is removed, then
      closes with a RST (SO_LINGER 0).
  nat_probe.py tcp-forge --src IP --sport P --dst IP --dport P [--flags A]
      One raw TCP segment (IPv4 or IPv6, checksum computed), e.g. a late ACK from the real
      server to a tuple the gateway has expired.
Exit status 2 on a usage or socket error.
"""

import argparse
import ipaddress
import json
import os
import random
import select
import socket
import struct
import sys
import time

SOL_IP = 0
IP_RECVERR = 11
SOL_IPV6 = 41
IPV6_RECVERR = 25
MSG_ERRQUEUE = 0x2000
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3


def family(ip):
    return socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET


def udp_socket(ip, bind_port=None, bind_ip=None):
    s = socket.socket(family(ip), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if bind_port is not None:
        s.bind((bind_ip or ("::" if family(ip) == socket.AF_INET6 else "0.0.0.0"), bind_port))
    return s


def cmd_udp_echo(a):
    s = udp_socket(a.bind, a.port, a.bind)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def cmd_udp_hold(a):
    s = udp_socket(a.bind, a.port, a.bind)
    seen = []
    log = open(a.log, "a", buffering=1) if a.log else None
    while True:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            _, peer = s.recvfrom(65535)
            if peer[:2] not in seen:
                seen.append(peer[:2])
                if log:
                    log.write("%s %d\n" % peer[:2])
        if a.trigger and os.path.exists(a.trigger):
            for peer in seen:
                s.sendto(b"late", peer)
            if log:
                log.write("sent %d\n" % len(seen))
            return 0


def cmd_udp_flows(a):
    socks = []
    for i in range(a.count):
        socks.append(udp_socket(a.dst, a.sport + i))
    want = ipaddress.ip_address(a.dst)
    pending = {s.fileno(): s for s in socks}
    deadline = time.monotonic() + a.timeout
    next_send = 0.0
    while pending and time.monotonic() < deadline:
        if time.monotonic() >= next_send:
            for s in list(pending.values()):
                try:
                    s.sendto(b"flow %d" % s.getsockname()[1], (a.dst, a.port))
                except OSError:
                    pass
            next_send = time.monotonic() + 1.0
        r, _, _ = select.select(list(pending.values()), [], [], 0.1)
        for s in r:
            try:
                data, peer = s.recvfrom(2048)
            except OSError:
                continue
            if ipaddress.ip_address(peer[0].split("%")[0]) == want and peer[1] == a.port:
                del pending[s.fileno()]
    got = a.count - len(pending)
    print("replies %d of %d" % (got, a.count))
    return 0 if got == a.count else 1


def cmd_udp_send(a):
    s = udp_socket(a.dst, a.sport)
    s.sendto(b"first", (a.dst, a.port))
    return 0


def cmd_udp_listen(a):
    s = udp_socket(a.bind, a.port, a.bind)
    if a.ready_file:
        open(a.ready_file, "w").close()
    r, _, _ = select.select([s], [], [], a.timeout)
    if not r:
        print("nothing")
        return 1
    data, peer = s.recvfrom(65535)
    print("got %d bytes from %s %d" % (len(data), peer[0], peer[1]))
    return 0


def parse_quoted(fam, raw, outer_src):
    """The ICMP error's fields from a raw socket's packet (IPv4: with the IP header)."""
    if fam == socket.AF_INET:
        ihl = (raw[0] & 15) * 4
        icmp = raw[ihl:]
        q = icmp[8:]
        qihl = (q[0] & 15) * 4
        return {"outer_src": socket.inet_ntop(fam, raw[12:16]), "type": icmp[0], "code": icmp[1],
                "ttl": raw[8], "quoted_src": socket.inet_ntop(fam, q[12:16]),
                "quoted_dst": socket.inet_ntop(fam, q[16:20]), "quoted_proto": q[9],
                "quoted_sport": struct.unpack("!H", q[qihl:qihl + 2])[0],
                "quoted_dport": struct.unpack("!H", q[qihl + 2:qihl + 4])[0]}
    q = raw[8:]
    return {"outer_src": outer_src, "type": raw[0], "code": raw[1],
            "quoted_src": socket.inet_ntop(fam, q[8:24]), "quoted_dst": socket.inet_ntop(fam, q[24:40]),
            "quoted_proto": q[6], "quoted_sport": struct.unpack("!H", q[40:42])[0],
            "quoted_dport": struct.unpack("!H", q[42:44])[0]}


def cmd_icmp_error(a):
    fam = family(a.dst)
    v6 = fam == socket.AF_INET6
    raw = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.setsockopt(SOL_IPV6 if v6 else SOL_IP, IPV6_RECVERR if v6 else IP_RECVERR, 1)
    u.connect((a.dst, a.port))
    sport = u.getsockname()[1]
    out = {"sport": sport, "raw": None, "errqueue": None}
    deadline = time.monotonic() + a.timeout
    next_send = 0.0
    want_type = 1 if v6 else 3
    while time.monotonic() < deadline and (out["raw"] is None or out["errqueue"] is None):
        if time.monotonic() >= next_send:
            try:
                u.send(b"probe")
            except OSError:
                pass
            next_send = time.monotonic() + 1.0
        r, _, x = select.select([raw, u], [], [u], 0.1)
        if raw in r:
            pkt, peer = raw.recvfrom(65535)
            try:
                f = parse_quoted(fam, pkt, peer[0])
            except (IndexError, struct.error, ValueError):
                f = None
            if f and f["type"] == want_type and f["quoted_sport"] == sport and out["raw"] is None:
                out["raw"] = f
        if (u in r or u in x) and out["errqueue"] is None:
            try:
                _, anc, _, _ = u.recvmsg(512, 512, MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                anc = []
            except OSError:
                anc = []
            for level, typ, data in anc:
                if (level, typ) in ((SOL_IP, IP_RECVERR), (SOL_IPV6, IPV6_RECVERR)):
                    errno_, origin, etype, ecode = struct.unpack("=IBBB", data[:7])
                    off = data[16:]
                    ofam = struct.unpack("=H", off[:2])[0]
                    if ofam == socket.AF_INET:
                        offender = socket.inet_ntop(socket.AF_INET, off[4:8])
                    elif ofam == socket.AF_INET6:
                        offender = socket.inet_ntop(socket.AF_INET6, off[8:24])
                    else:
                        offender = None
                    out["errqueue"] = {"errno": errno_, "origin": origin, "type": etype,
                                       "code": ecode, "offender": offender}
            if out["errqueue"] is None:
                try:
                    u.recv(2048, socket.MSG_DONTWAIT)
                except OSError:
                    pass
    print(json.dumps(out))
    return 0 if out["raw"] and out["errqueue"] else 1


def cmd_tcp_hold(a):
    ls = socket.socket(family(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(64)
    conns = {}
    while True:
        r, _, _ = select.select([ls] + list(conns), [], [], 1.0)
        for s in r:
            if s is ls:
                c, peer = ls.accept()
                conns[c] = peer
                print("accept %s %d" % peer[:2], flush=True)
                if a.who:
                    c.sendall(b"%s\n" % a.bind.encode())
                    c.close()
                    del conns[c]
                    continue
                c.sendall(b"hello %s\n" % a.bind.encode())
                continue
            try:
                data = s.recv(4096)
                reason = "fin" if not data else None
            except ConnectionResetError:
                data, reason = b"", "rst"
            if reason:
                print("closed %s %d %s" % (conns[s][0], conns[s][1], reason), flush=True)
                del conns[s]
                s.close()


def cmd_tcp_rst(a):
    s = socket.socket(family(a.dst), socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((a.dst, a.port))
    greeting = s.recv(100)
    print("local %d %s" % (s.getsockname()[1], greeting.decode(errors="replace").strip()), flush=True)
    while os.path.exists(a.hold_file):
        time.sleep(0.05)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def cmd_tcp_forge(a):
    fam = family(a.src)
    src = ipaddress.ip_address(a.src).packed
    dst = ipaddress.ip_address(a.dst).packed
    flags = 0
    for ch in a.flags:
        flags |= {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[ch]
    payload = b"late" if "P" in a.flags else b""
    hdr = struct.pack("!HHIIBBHHH", a.sport, a.dport, random.getrandbits(32), random.getrandbits(32),
                      5 << 4, flags, 65535, 0, 0)
    seg = hdr + payload
    if fam == socket.AF_INET:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(seg), 6)
    seg = seg[:16] + struct.pack("!H", checksum(pseudo + seg)) + seg[18:]
    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.bind((a.src, 0))
    s.sendto(seg, (a.dst, 0))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description="traffic tools for the DNS resource e2e test")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *opts):
        p = sub.add_parser(name)
        for o in opts:
            kind = int if o in ("port", "sport", "dport", "count") else float if o == "timeout" else str
            req = o not in ("timeout", "trigger", "log", "flags", "ready_file", "who")
            p.add_argument("--" + o.replace("_", "-"), dest=o, type=kind, required=req)
        p.set_defaults(fn=fn)
        return p

    add("udp-echo", cmd_udp_echo, "bind", "port")
    add("udp-hold", cmd_udp_hold, "bind", "port", "trigger", "log")
    add("udp-flows", cmd_udp_flows, "dst", "port", "count", "sport", "timeout")
    add("udp-send", cmd_udp_send, "dst", "port", "sport")
    add("udp-listen", cmd_udp_listen, "bind", "port", "timeout", "ready_file")
    add("icmp-error", cmd_icmp_error, "dst", "port", "timeout")
    add("tcp-hold", cmd_tcp_hold, "bind", "port", "who")
    add("tcp-rst", cmd_tcp_rst, "dst", "port", "hold_file")
    add("tcp-forge", cmd_tcp_forge, "src", "sport", "dst", "dport", "flags")
    a = ap.parse_args(argv)
    if getattr(a, "timeout", None) is None:
        a.timeout = 10.0
    if getattr(a, "flags", None) is None:
        a.flags = "A"
    try:
        return a.fn(a)
    except OSError as e:
        print("nat_probe: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
