#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile traffic for the data plane's WireGuard port (end-to-end tests).

usage: hostile.py DST_IP DST_PORT KIND COUNT [PCAP | PUBKEY]
KIND: truncated | oversized | wrongtype | unknownindex | badmac1 | garbage | replay | replayinit
      | mac1flood
mac1flood sends initiations with a valid MAC1 for the responder's base64 PUBKEY and random
contents: each costs the responder a Diffie-Hellman, which is what cookies defend against.
replay re-sends every WireGuard data message (type 4) sent to DST_PORT in PCAP
(Ethernet, UDP/IPv4); replayinit re-sends its handshake initiations (type 1), as an on-path
attacker who captured them would.
Prints "sent N". Sends only to the address given (a test namespace's gateway).
"""
import base64
import hashlib
import os
import random
import socket
import struct
import sys


def wg(msg_type, length, rnd):
    body = bytes(rnd.getrandbits(8) for _ in range(length - 4))
    return struct.pack("<I", msg_type) + body


def make(kind, i, rnd):
    if kind == "truncated":
        return [wg(1, 100, rnd), wg(2, 50, rnd), wg(3, 40, rnd), wg(4, 20, rnd), b"\x01"][i % 5]
    if kind == "oversized":
        return [wg(1, 200, rnd), wg(2, 93, rnd), wg(3, 65, rnd), wg(4, 1400 + 7, rnd)][i % 4]
    if kind == "wrongtype":
        t = [0, 5, 255, 0x0101][i % 4]  # the last has a non-zero reserved byte
        return struct.pack("<I", t) + bytes(144)
    if kind == "unknownindex":
        return struct.pack("<IIQ", 4, rnd.getrandbits(32), i) + bytes(48)
    if kind == "badmac1":
        return wg(1, 148, rnd)
    if kind == "garbage":
        n = rnd.randint(0, 1400)
        return bytes(rnd.getrandbits(8) for _ in range(n))
    raise SystemExit("unknown kind " + kind)


def mac1_initiation(mac1_key, rnd):
    body = struct.pack("<II", 1, rnd.getrandbits(32)) + bytes(rnd.getrandbits(8) for _ in range(108))
    mac1 = hashlib.blake2s(body, digest_size=16, key=mac1_key).digest()
    return body + mac1 + bytes(16)


def pcap_data_messages(path, dport, msg_type=4, min_len=32):
    out = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return out
        endian = "<" if hdr[:4] == b"\xd4\xc3\xb2\xa1" else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            _, _, incl, _ = struct.unpack(endian + "IIII", rec)
            frame = f.read(incl)
            if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
                continue
            ihl = (frame[14] & 15) * 4
            if struct.unpack("!H", frame[14 + ihl + 2:14 + ihl + 4])[0] != dport:
                continue
            payload = frame[14 + ihl + 8:]
            if len(payload) >= min_len and payload[0] == msg_type and payload[1:4] == b"\0\0\0":
                out.append(payload)
    return out


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    dst = (sys.argv[1], int(sys.argv[2]))
    kind, count = sys.argv[3], int(sys.argv[4])
    rnd = random.Random(int.from_bytes(os.urandom(8), "little"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    if kind == "mac1flood":
        pub = base64.b64decode(sys.argv[5])
        key = hashlib.blake2s(b"mac1----" + pub).digest()
        pool = [mac1_initiation(key, rnd) for _ in range(256)]
        for i in range(count):
            s.sendto(pool[i % len(pool)], dst)
            sent += 1
    elif kind in ("replay", "replayinit"):
        if kind == "replay":
            msgs = pcap_data_messages(sys.argv[5], dst[1])
        else:
            msgs = pcap_data_messages(sys.argv[5], dst[1], 1, 148)
        for i in range(count):
            if not msgs:
                break
            s.sendto(msgs[i % len(msgs)], dst)
            sent += 1
    else:
        for i in range(count):
            s.sendto(make(kind, i, rnd), dst)
            sent += 1
    print("sent", sent)


if __name__ == "__main__":
    main()
