#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Test for fastgate-gen-pcaps: runs the generator twice into temporary directories, checks
# that the output is deterministic, that gateway.conf equals the copy in the source tree,
# and parses every pcap frame by frame: the classic pcap header and record lengths,
# Ethernet/IPv4/UDP to port 51820 with valid checksums, and the WireGuard message type,
# exact size, indexes, counters and mac1 (keyed BLAKE2s from hashlib, against the gateway
# public key listed in keys.txt) expected for each file. Standard library only.

import argparse
import base64
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

LISTEN_PORT = 51820
SPORT_BASE = 40000
CLIENT_INDEX_BASE = 0x10000000
GATEWAY_INDEX_BASE = 0x20000000
SRC_MAC = bytes.fromhex("02005e100002")
DST_MAC = bytes.fromhex("02005e100001")
SRC_IP = bytes([198, 18, 0, 2])
DST_IP = bytes([198, 18, 0, 1])
MTU = 1420
HANDSHAKES = 1024
JUNK = 1024
DATA = 4096
JUNK_SIZES = [148, 147, 64, 32, 20, 64]
JUNK_TYPES = [1, 1, 5, 4, 4, 3]


def fail(msg):
    raise SystemExit("check_pcaps: FAIL: " + msg)


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def imix(k):
    k %= 12
    return 64 if k < 7 else 576 if k < 11 else 1420


def padded(n):
    p = (n + 15) & ~15
    return p if p <= MTU else max(n, MTU)


def read_pcap(path):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        fail(f"{path}: short header")
    magic, major, minor, _zone, _sig, snap, link = struct.unpack("<IHHiIII", buf[:24])
    if magic != 0xA1B2C3D4 or (major, minor) != (2, 4) or link != 1 or snap != 65535:
        fail(f"{path}: bad global header")
    off, frames, last = 24, [], (-1, -1)
    while off < len(buf):
        if off + 16 > len(buf):
            fail(f"{path}: truncated record header at {off}")
        sec, usec, caplen, wirelen = struct.unpack("<IIII", buf[off:off + 16])
        if caplen != wirelen or caplen > snap or off + 16 + caplen > len(buf) or usec >= 1000000:
            fail(f"{path}: bad record at {off}")
        if (sec, usec) <= last:
            fail(f"{path}: timestamps not increasing at {off}")
        last = (sec, usec)
        frames.append(buf[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return frames


def parse(path, n, fr):
    """Ethernet/IPv4/UDP checks; returns (udp source port, WireGuard message)."""
    where = f"{path} frame {n}"
    if len(fr) < 42 or len(fr) > 1514:
        fail(f"{where}: frame length {len(fr)}")
    if fr[0:6] != DST_MAC or fr[6:12] != SRC_MAC or fr[12:14] != b"\x08\x00":
        fail(f"{where}: Ethernet header")
    ip = fr[14:34]
    if ip[0] != 0x45 or struct.unpack("!H", ip[2:4])[0] != len(fr) - 14 or ip[9] != 17:
        fail(f"{where}: IPv4 header")
    if ip[12:16] != SRC_IP or ip[16:20] != DST_IP or csum(ip) != 0xFFFF:
        fail(f"{where}: IPv4 addresses or checksum")
    udp = fr[34:42]
    sport, dport, ulen, ucs = struct.unpack("!HHHH", udp)
    if dport != LISTEN_PORT or ulen != len(fr) - 34 or ucs == 0:
        fail(f"{where}: UDP header")
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, ulen)
    if csum(pseudo + fr[34:]) != 0xFFFF:
        fail(f"{where}: UDP checksum")
    return sport, fr[42:]


def mac1_ok(msg, mac1_key):
    want = hashlib.blake2s(msg[:116], key=mac1_key, digest_size=16).digest()
    return msg[116:132] == want and msg[132:148] == bytes(16)


def check_init(where, msg, mac1_key, sport_client):
    if len(msg) != 148 or msg[0:4] != b"\x01\0\0\0":
        fail(f"{where}: not a 148-byte initiation")
    if not mac1_ok(msg, mac1_key):
        fail(f"{where}: mac1 wrong or mac2 set")
    sender = struct.unpack("<I", msg[4:8])[0]
    if sender & 0xFFFF != sport_client or sender & 0xF0000000 != CLIENT_INDEX_BASE:
        fail(f"{where}: sender index 0x{sender:08x}")
    return sender


def check_handshake(path, peers, mac1_key):
    frames = read_pcap(path)
    if len(frames) != HANDSHAKES:
        fail(f"{path}: {len(frames)} frames")
    senders = set()
    for k, fr in enumerate(frames):
        sport, msg = parse(path, k, fr)
        if sport != SPORT_BASE + k % peers:
            fail(f"{path} frame {k}: source port {sport}")
        senders.add(check_init(f"{path} frame {k}", msg, mac1_key, k % peers))
    if len(senders) != HANDSHAKES:
        fail(f"{path}: sender indexes repeat")


def check_data(path, peers, size, mac1_key):
    frames = read_pcap(path)
    if len(frames) != peers + DATA:
        fail(f"{path}: {len(frames)} frames")
    for k, fr in enumerate(frames):
        sport, msg = parse(path, k, fr)
        where = f"{path} frame {k}"
        if k < peers:
            if sport != SPORT_BASE + k:
                fail(f"{where}: source port {sport}")
            check_init(where, msg, mac1_key, k)
            continue
        d = k - peers
        inner = size if size else imix(d)
        if sport != SPORT_BASE + d % peers:
            fail(f"{where}: source port {sport}")
        if len(msg) != 32 + padded(inner) or msg[0:4] != b"\x04\0\0\0":
            fail(f"{where}: data message of {len(msg)} bytes, want {32 + padded(inner)}")
        rx, ctr = struct.unpack("<IQ", msg[4:16])
        if rx != GATEWAY_INDEX_BASE + d % peers or ctr != d // peers:
            fail(f"{where}: receiver 0x{rx:08x} counter {ctr}")


def check_junk(path, peers, mac1_key):
    frames = read_pcap(path)
    if len(frames) != JUNK:
        fail(f"{path}: {len(frames)} frames")
    for k, fr in enumerate(frames):
        _sport, msg = parse(path, k, fr)
        kind = k % 6
        if len(msg) != JUNK_SIZES[kind] or msg[0] != JUNK_TYPES[kind] or msg[1:4] != b"\0\0\0":
            fail(f"{path} frame {k}: junk kind {kind} has type {msg[0]} size {len(msg)}")
        if kind == 0 and mac1_ok(msg, mac1_key):
            fail(f"{path} frame {k}: bad-mac1 initiation has a valid mac1")


def run(gen, outdir):
    subprocess.run([gen, outdir], check=True)
    out = {}
    for name in sorted(os.listdir(outdir)):
        with open(os.path.join(outdir, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", required=True)
    ap.add_argument("--conf", required=True, help="gateway.conf kept in the source tree")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        h1, h2 = run(a.gen, d1), run(a.gen, d2)
        if h1 != h2:
            fail("two runs differ: the output is not deterministic")
        expect = {"gateway.conf", "keys.txt"}
        for p in (1, 100):
            expect |= {f"handshake-p{p}.pcap", f"junk-p{p}.pcap"}
            expect |= {f"data-{s}-p{p}.pcap" for s in ("64", "512", "1420", "imix")}
        if set(h1) != expect:
            fail(f"unexpected file set {sorted(h1)}")
        with open(os.path.join(d1, "gateway.conf"), "rb") as f, open(a.conf, "rb") as g:
            if f.read() != g.read():
                fail("generated gateway.conf differs from the one in pktgen-profiles/")
        with open(os.path.join(d1, "keys.txt")) as f:
            lines = f.read().splitlines()
        if len(lines) != 101 or not lines[0].startswith("gateway private "):
            fail("keys.txt")
        gw_pub = base64.b64decode(lines[0].split()[4])
        mac1_key = hashlib.blake2s(b"mac1----" + gw_pub).digest()
        nframes = 0
        for p in (1, 100):
            check_handshake(os.path.join(d1, f"handshake-p{p}.pcap"), p, mac1_key)
            for s in (64, 512, 1420, 0):
                name = f"data-{s if s else 'imix'}-p{p}.pcap"
                check_data(os.path.join(d1, name), p, s, mac1_key)
            check_junk(os.path.join(d1, f"junk-p{p}.pcap"), p, mac1_key)
            nframes += 2 * 1024 + 4 * (p + DATA)
        print(f"check_pcaps: OK: {len(h1) - 2} pcaps, {nframes} frames, deterministic, gateway.conf matches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
