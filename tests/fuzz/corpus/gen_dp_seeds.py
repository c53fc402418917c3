#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the data plane's libFuzzer harnesses in tests/fuzz/ (stdlib only).

Each harness NAME reads its seeds from tests/fuzz/corpus/NAME/; this script writes the seeds
of outer, handshake, transport, gso_gro, policy and config, each in the input format described
at the top of its fuzz_NAME.c. Frames are addressed to the gateway the harnesses configure
(MAC 02:00:00:00:00:01, 192.0.2.1, 2001:db8::ab01, UDP port 51820) with right checksums (the
wire formats are in seedwire.py). Other files in the directories (crash-* regressions the
fuzzer found) are left alone; the seeds this script writes are overwritten.

    python3 tests/fuzz/corpus/gen_dp_seeds.py [NAME ...]     (default: every corpus)
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no __pycache__ among the corpora
sys.path.insert(0, HERE)
from seedwire import icmp, ipv4, ipv6, MAGIC, REQ, ST_BINDING, stun, tcp, TX, udp  # noqa: E402


def write(name, seeds):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    for fname, data in seeds.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


# ---- outer: flags byte + Ethernet frame ---------------------------------------------------

US_MAC = bytes.fromhex("020000000001")
PEER_MAC = bytes.fromhex("020000000002")
US4, PEER4 = "192.0.2.1", "198.51.100.7"
US6, PEER6 = "2001:db8::ab01", "2001:db8:1::7"
LISTEN = 51820


def eth(etype, body, dst=US_MAC):
    return dst + PEER_MAC + struct.pack("!H", etype) + body


def wg(t, n):
    return bytes([t, 0, 0, 0]) + bytes((0x5a + i) & 0xff for i in range(n - 4))


def outer():
    u4 = lambda pay, sport=40000: eth(0x0800, ipv4(PEER4, US4, 17, udp(PEER4, US4, sport, LISTEN, pay)))
    u6 = lambda pay, sport=40000: eth(0x86dd, ipv6(PEER6, US6, 17, udp(PEER6, US6, sport, LISTEN, pay)))
    chan = struct.pack("!HH", 0x4001, 48) + wg(4, 48)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + PEER_MAC + bytes([198, 51, 100, 7]) + \
        bytes(6) + bytes([192, 0, 2, 1])
    ns_body = struct.pack("!I", 0) + bytes.fromhex("20010db8000000000000000000000000")[:14] + \
        bytes([0xab, 0x01]) + bytes([1, 1]) + PEER_MAC
    sn = "ff02::1:ff00:ab01"
    ns = icmp(135, 0, ns_body[:4], ns_body[4:], v6=(PEER6, sn))
    echo4 = icmp(8, 0, struct.pack("!HH", 7, 1), b"ping" * 4)
    echo6 = icmp(128, 0, struct.pack("!HH", 7, 1), b"ping" * 4, v6=(PEER6, US6))
    binding = stun(ST_BINDING, REQ, TX[0], [], fingerprint=True)
    assert struct.unpack("!I", binding[4:8])[0] == MAGIC
    write("outer", {
        "udp4-init": b"\x00" + u4(wg(1, 148)),
        "udp4-resp": b"\x00" + u4(wg(2, 92)),
        "udp4-cookie": b"\x00" + u4(wg(3, 64)),
        "udp4-data-aead": b"\x01" + u4(wg(4, 64)),
        "udp4-channel": b"\x01" + u4(chan, 3478),
        "udp4-stun-relay": b"\x10" + u4(binding, 3478),
        "udp6-data": b"\x00" + u6(wg(4, 48)),
        "udp6-stun": b"\x00" + u6(binding),
        "arp-request": b"\x00" + eth(0x0806, arp + bytes(18), dst=b"\xff" * 6),
        "ns6": b"\x00" + eth(0x86dd, ipv6(PEER6, sn, 58, ns, hop=255), dst=bytes.fromhex("3333ff00ab01")),
        "echo4": b"\x00" + eth(0x0800, ipv4(PEER4, US4, 1, echo4)),
        "echo6": b"\x00" + eth(0x86dd, ipv6(PEER6, US6, 58, echo6)),
        "fix-udp4": b"\x08" + u4(wg(1, 148))[:24] + bytes(2) + u4(wg(1, 148))[26:],
        "inner4": b"\x00" + ipv4("10.0.0.2", "10.0.0.1", 17, udp("10.0.0.2", "10.0.0.1", 53, 53, b"q")),
        "short": b"\x00" + US_MAC,
    })


# ---- handshake: mode byte + XOR mask (or a raw cookie reply) -----------------------------

def handshake():
    one = lambda n, i, v=1: bytes(i) + bytes([v]) + bytes(n - i - 1)
    write("handshake", {
        "init-intact": b"\x00",
        "init-sender-index": b"\x00" + one(148, 4),
        "init-ephemeral": b"\x00" + one(148, 8 + 31, 0x80),
        "init-timestamp": b"\x00" + one(148, 100),
        "init-mac2": b"\x00" + one(148, 140),
        "resp-intact": b"\x01",
        "resp-sender-index": b"\x01" + one(92, 5),
        "resp-receiver-index": b"\x01" + one(92, 8),
        "resp-tag": b"\x01" + one(92, 50),
        "resp-mac1": b"\x01" + one(92, 60),
        "cookie-raw": b"\x02" + struct.pack("<II", 3, 0x11223344) + bytes(range(56)),
        "cookie-intact": b"\x03",
        "cookie-receiver-index": b"\x03" + one(64, 4),
        "cookie-nonce": b"\x03" + one(64, 10),
        "cookie-type": b"\x03" + one(64, 1),
    })


# ---- transport: counter, plaintext length, plaintext, then mask / replay operations ------

def transport():
    def seed(counter, plain, rest=b""):
        return struct.pack("<QH", counter, len(plain)) + plain + rest
    ping = ipv4("10.0.0.2", "10.0.0.1", 1, icmp(8, 0, struct.pack("!HH", 1, 1), b"x" * 56))
    fwd = b"".join(struct.pack("<BH", 0, d) for d in (1, 1, 5, 100, 8000, 1))
    back = b"".join(struct.pack("<BH", k, d) for k, d in ((0, 9000), (1, 8128), (1, 8129), (1, 8127), (1, 1), (2, 0)))
    limit = b"".join(struct.pack("<BH", k, d) for k, d in ((3, 0), (3, 0), (0x83, 0), (1, 64)))
    write("transport", {
        "keepalive": seed(0, b""),
        "ping": seed(1, ping),
        "odd-length": seed(7, b"abcde"),
        "mask-index": seed(2, b"hello", bytes([0, 0, 0, 0, 0xff])),
        "mask-tag": seed(3, b"hello", bytes(40) + b"\x01"),
        "replay-forward": seed(4, b"", fwd),
        "replay-back": seed(5, b"", back),
        "replay-limit": seed(6, b"", limit),
        "big-counter": seed(2**64 - 8193, bytes(range(200))),
    })


# ---- gso_gro: flags byte (bit 0 fix length, bits 2..7 MTU), virtio-net header, IP packet ----

def vnet(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def gso_gro():
    s4, d4, s6, d6 = "10.0.0.2", "10.0.0.1", "fd00::2", "fd00::1"
    body = bytes((i * 7) & 0xff for i in range(3000))
    mtu1420 = (1420 - 200) // 32 << 2       # the flags byte for MTU 1416
    t4 = ipv4(s4, d4, 6, tcp(s4, d4, 443, 50000, 0x18, body))
    t6 = ipv6(s6, d6, 6, tcp(s6, d6, 443, 50000, 0x10, body[:2000]))
    u4 = ipv4(s4, d4, 17, udp(s4, d4, 4433, 50001, body[:2400]))
    u6 = ipv6(s6, d6, 17, udp(s6, d6, 4433, 50001, body[:1200]))
    small = ipv4(s4, d4, 17, udp(s4, d4, 53, 50002, b"query"))
    write("gso_gro", {
        "tcp4-tso": bytes([mtu1420]) + vnet(1, 1, 40, 1376, 20, 16) + t4,
        "tcp4-tso-ecn": bytes([4 << 2]) + vnet(1, 0x81, 40, 300, 20, 16) + t4[:1200],
        "tcp6-tso": bytes([mtu1420]) + vnet(1, 4, 60, 1356, 40, 16) + t6,
        "udp4-uso": bytes([mtu1420]) + vnet(1, 5, 28, 1200, 20, 6) + u4,
        "udp6-uso": bytes([10 << 2]) + vnet(1, 5, 48, 500, 40, 6) + u6,
        "none-csum": bytes([mtu1420]) + vnet(1, 0, 0, 0, 20, 6) + small,
        "none-plain": bytes([mtu1420]) + vnet(0, 0, 0, 0, 0, 0) + small,
        "fix-length": bytes([mtu1420 | 1]) + vnet(1, 5, 28, 100, 20, 6) + small[:12] + small[12:] + bytes(100),
    })


CORPORA = {"outer": outer, "handshake": handshake, "transport": transport, "gso_gro": gso_gro}


def main(names):
    for name in names or CORPORA:
        CORPORA[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
