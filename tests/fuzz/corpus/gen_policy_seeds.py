#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the policy harness (tests/fuzz/fuzz_policy.c) into
tests/fuzz/corpus/policy/ (stdlib only). Each seed is a client, its resources, the proxy IPs
of its DNS resources and a few packets, in the byte format described by read_model() and
read_packet() in the harness. Other files there (crash-* regressions) are left alone.

    python3 tests/fuzz/corpus/gen_policy_seeds.py
"""
import ipaddress
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Addresses (read_ip): a selector byte and what it needs.
CLIENT, GW, ZERO = b"\x00", b"\x01", b"\x07"


def raw(text):
    return b"\x04" + ipaddress.ip_address(text).packed


def res_ip(k, xor=0):
    """The address of resource k's prefix, its last byte XORed with xor (0..31)."""
    return bytes([2 | xor << 3, k])


def proxy_ip(k):
    return bytes([3, k])


# Resources: type byte (0 CIDR4, 1 CIDR6, 2 Internet, 3 DNS, 4 unknown), id index, expiry.
IDS = ["a", "b", "c", "ab", "ba", "r1", "r10", "r2", "uuid", ""]


def filt(proto, lo=0, hi=0):
    p = {"tcp": 0, "udp": 1, "icmp": 2}.get(proto, proto)
    return struct.pack("!BHH", p if isinstance(p, int) else 3, lo, hi)


def resource(kind, rid, expiry=0, prefix=None, filters=()):
    t = {"cidr4": 0, "cidr6": 1, "internet": 2, "dns": 3, "unknown": 4}[kind]
    out = bytes([t, IDS.index(rid), expiry])
    if kind in ("cidr4", "cidr6"):
        addr, length = prefix
        out += bytes([length]) + (raw(addr) if isinstance(addr, str) else addr)
    return out + bytes([len(filters)]) + b"".join(filters)


def xlat(proxy, real, shares, v6=False, real_kind=1):
    """A proxy IP; real_kind 0 unset, 1 same family, 2 the other family."""
    out = bytes([int(v6) | real_kind << 1]) + proxy + real + bytes([len(shares)])
    return out + b"".join(bytes([i, rank]) for i, rank in shares)


def model(resources, xlats=(), flags=0x55, hosts=None):
    """flags: 2 bits each for client4, client6, gw4, gw6 (1 = set)."""
    if hosts is None:
        hosts = [raw("100.64.0.2"), raw("fd00:2021:1111::2"), raw("100.64.0.1"),
                 raw("fd00:2021:1111::1")]
    out = bytes([flags]) + b"".join(hosts)
    out += bytes([len(resources)]) + b"".join(resources)
    return out + bytes([len(xlats)]) + b"".join(xlats)


PROTO = {"tcp": 0, "udp": 1, "icmp": 2, "icmp-other": 3, "p2p": 5}


def packet(src, dst, proto="tcp", sport=40000, dport=80, icmp_type=8, v6=False, now=50,
           frag=0, opts=0, dmg=0):
    """now: TIME_BASE - 50 + now; proto: a name, or a protocol number."""
    out = bytes([now, int(v6)]) + src + dst
    if isinstance(proto, int):
        out += bytes([4, proto])
    else:
        out += bytes([PROTO[proto]])
    if proto in ("tcp", "udp") or proto in (6, 17):
        out += struct.pack("!HH", sport, dport)
    elif proto in ("icmp", "icmp-other") or proto in (1, 58):
        out += bytes([icmp_type])
    return out + bytes([frag, opts, dmg])


def rawpkt(data, now=50):
    return bytes([now, 0x80, len(data)]) + data


SEEDS = {
    "cidr-ports": model([
        resource("cidr4", "a", prefix=("10.0.0.0", 8), filters=[filt("tcp", 80, 90)]),
        resource("cidr4", "b", prefix=("10.1.0.0", 16)),
        resource("cidr4", "c", prefix=("10.1.0.0", 16), filters=[filt("udp", 53, 53), filt("tcp", 90, 80)]),
    ]) + packet(CLIENT, raw("10.0.0.5"), dport=80)
       + packet(CLIENT, raw("10.1.2.3"), dport=22)
       + packet(CLIENT, raw("10.0.0.5"), dport=22)
       + packet(raw("10.0.0.5"), CLIENT, sport=85, dport=40000)
       + packet(CLIENT, res_ip(2, 9), "udp", dport=53),
    "internet": model([
        resource("internet", "r1", filters=[filt("tcp", 0, 65535), filt("icmp")]),
        resource("cidr6", "c", prefix=("2001:db8::", 32), filters=[filt("udp", 53, 53)]),
        resource("cidr4", "r2", prefix=("192.168.7.0", 24)),
    ]) + packet(CLIENT, raw("8.8.8.8"), "tcp", dport=443)
       + packet(CLIENT, raw("192.168.1.1"), "tcp", dport=443)
       + packet(CLIENT, raw("192.168.7.9"), "udp", dport=443)
       + packet(CLIENT, raw("2001:db8::53"), "udp", dport=53, v6=True)
       + packet(CLIENT, raw("fe80::1"), "icmp", v6=True)
       + packet(raw("2606:4700::1111"), CLIENT, "icmp", icmp_type=129, v6=True),
    "dns-proxy": model([
        resource("dns", "a", filters=[filt("icmp")]),
        resource("dns", "b", filters=[filt("tcp", 443, 443)]),
        resource("cidr4", "c", prefix=("100.96.0.0", 16), filters=[filt("udp", 1, 100)]),
        resource("dns", "r1", expiry=30),
        resource("dns", "ab"),
        resource("dns", "ba"),
    ], [
        xlat(raw("100.96.0.1"), raw("93.184.216.34"), [(0, 5), (1, 1)]),
        xlat(raw("fd00:2021:1111:8000::1"), ZERO, [(1, 0), (3, 2)], v6=True, real_kind=0),
        xlat(raw("100.96.0.2"), raw("2001:db8::1"), [(0x83, 0)], real_kind=2),
        xlat(raw("100.96.0.3"), raw("192.0.2.3"), [(3, 9), (4, 3), (2, 9)]),
    ]) + packet(CLIENT, proxy_ip(0), "icmp")
       + packet(CLIENT, proxy_ip(0), "tcp", dport=443)
       + packet(CLIENT, proxy_ip(0), "udp", dport=53)
       + packet(CLIENT, proxy_ip(3), "udp", dport=53)
       + packet(CLIENT, proxy_ip(1), "tcp", dport=443, v6=True)
       + packet(CLIENT, proxy_ip(2), "tcp", dport=443, now=90)
       + packet(proxy_ip(0), CLIENT, "tcp", sport=443, dport=5000),
    "fragments": model([
        resource("cidr6", "ab", prefix=("2600::", 16), filters=[filt("tcp", 8000, 8080)]),
        resource("cidr4", "ba", prefix=("198.18.0.0", 15), filters=[filt("udp", 5000, 6000), filt("icmp")]),
    ]) + packet(CLIENT, raw("2600::7"), "tcp", dport=8000, v6=True, frag=1, opts=2)
       + packet(CLIENT, raw("2600::7"), "tcp", dport=22, v6=True, frag=0x23, opts=5)
       + packet(CLIENT, raw("2600::7"), "udp", dport=22, v6=True, frag=3)
       + packet(CLIENT, raw("2600::7"), "tcp", dport=8080, v6=True, opts=0x16, frag=1)
       + packet(CLIENT, raw("2600::7"), "tcp", dport=8080, v6=True, opts=0x17, frag=1)
       + packet(CLIENT, raw("198.18.0.9"), "udp", dport=5000, opts=10)
       + packet(CLIENT, raw("198.18.0.9"), "udp", dport=1, frag=0x43, opts=3)
       + packet(CLIENT, raw("198.18.0.9"), "icmp", frag=3)
       + packet(CLIENT, raw("198.18.0.9"), 47, frag=3),
    "expiry": model([
        resource("cidr4", "r1", expiry=40, prefix=("0.0.0.0", 0)),
        resource("cidr4", "r10", expiry=60, prefix=("203.0.113.0", 24)),
        resource("internet", "r2", expiry=50),
    ]) + packet(CLIENT, raw("203.0.113.1"), "tcp", now=0)
       + packet(CLIENT, raw("203.0.113.1"), "tcp", now=49)
       + packet(CLIENT, raw("203.0.113.1"), "tcp", now=51)
       + packet(CLIENT, raw("10.0.0.1"), "tcp", now=59)
       + packet(CLIENT, raw("10.0.0.1"), "tcp", now=99),
    "damage": model([
        resource("cidr4", "a", prefix=("0.0.0.0", 1)),
        resource("cidr6", "b", prefix=("::", 0)),
    ]) + packet(CLIENT, raw("1.2.3.4"), "tcp", dmg=1)
       + packet(CLIENT, raw("1.2.3.4"), "udp", dmg=0x80 | 0x18)
       + packet(CLIENT, raw("1.2.3.4"), "udp", dmg=0xc0)
       + packet(CLIENT, raw("2001::1"), "icmp", v6=True, dmg=0x07)
       + packet(ZERO, ZERO, "p2p", v6=True)
       + rawpkt(bytes.fromhex("4500001c000000004011000064400002010203040035003500080000"))
       + rawpkt(b"\x60"),
    "checks": model([
        resource("cidr4", "a", prefix=("100.64.0.0", 10)),
    ]) + packet(CLIENT, raw("224.0.0.251"), "udp", dport=5353)
       + packet(CLIENT, raw("1.1.1.1"), "icmp", icmp_type=3)
       + packet(raw("100.64.0.9"), raw("1.1.1.1"), "tcp")
       + packet(CLIENT, GW, "tcp")
       + packet(CLIENT, raw("100.64.0.7"), "tcp")
       + packet(raw("100.64.0.7"), CLIENT, "tcp")
       + packet(GW, CLIENT, "udp")
       + packet(raw("1.1.1.1"), CLIENT, "icmp", icmp_type=11),
    "invalid-id": model([resource("cidr4", "", prefix=("10.0.0.0", 8))]),
    "invalid-len": model([resource("cidr6", "a", prefix=("2001:db8::", 129))]),
    "invalid-proxy": model([resource("dns", "a")], [
        xlat(raw("100.96.0.1"), ZERO, [(0, 1)], real_kind=0),
        xlat(raw("100.96.0.1"), ZERO, [], real_kind=0),
    ]),
    "invalid-family": model([], flags=0x03),
}


def main():
    d = os.path.join(HERE, "policy")
    os.makedirs(d, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
