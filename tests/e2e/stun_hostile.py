#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""stun_hostile.py: hostile STUN for fastgate's ICE agent, sent to its WireGuard port.

usage: stun_hostile.py GW_IP GW_PORT LOCAL_UFRAG REMOTE_UFRAG [ROUNDS]

LOCAL_UFRAG is the gateway's (gateway_ice_credentials.username), REMOTE_UFRAG the client's;
the gateway's password is the test portal's fixed one unless GW_PWD is set. Each round sends,
from one UDP socket, Binding requests that name the gateway's agent:
  - signed with a wrong password                 -> 401 (rx_unauthenticated)
  - properly signed, PRIORITY missing             -> 400 (rx_bad_request)
  - properly signed, an unknown comprehension-required attribute -> 420 (rx_unknown_attr)
  - a wrong FINGERPRINT                           -> dropped as malformed (unmatched)
  - an attribute whose length runs past the end   -> dropped as malformed (unmatched)
  - a header whose length is not what came        -> dropped (unmatched)
Exits 0 when every datagram was sent. Standard library only (hmac, zlib).
"""
import hmac
import os
import socket
import struct
import sys
import zlib

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
USERNAME, MESSAGE_INTEGRITY, FINGERPRINT = 0x0006, 0x0008, 0x8028
PRIORITY, ICE_CONTROLLING = 0x0024, 0x802A
UNKNOWN_REQUIRED = 0x0031   # comprehension-required range, assigned to nothing we know


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def message(attrs, key=None, fingerprint=True, bad_fp=False):
    txid = os.urandom(12)
    body = b"".join(attrs)
    if key is not None:
        hdr = struct.pack("!HHI", BINDING_REQUEST, len(body) + 24, MAGIC) + txid
        mac = hmac.new(key, hdr + body, "sha1").digest()
        body += attr(MESSAGE_INTEGRITY, mac)
    if fingerprint:
        hdr = struct.pack("!HHI", BINDING_REQUEST, len(body) + 8, MAGIC) + txid
        crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
        if bad_fp:
            crc ^= 0x1
        body += attr(FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", BINDING_REQUEST, len(body), MAGIC) + txid + body


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    ip, port, lufrag, rufrag = argv[1], int(argv[2]), argv[3], argv[4]
    rounds = int(argv[5]) if len(argv) > 5 else 10
    key = os.environ.get("GW_PWD", "zfjrrjdkbci42t2axyd45a").encode()
    user = attr(USERNAME, (lufrag + ":" + rufrag).encode())
    prio = attr(PRIORITY, struct.pack("!I", 1853824767))
    ctl = attr(ICE_CONTROLLING, os.urandom(8))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(rounds):
        good = message([user, prio, ctl], key)
        truncated = bytearray(good)
        struct.pack_into("!H", truncated, 20 + 2, 0x0400)   # USERNAME runs past the end
        short_hdr = bytearray(good)
        struct.pack_into("!H", short_hdr, 2, len(good) - 20 + 4)
        for dgram in (
            message([user, prio, ctl], b"not-the-password-at-all"),
            message([user, ctl], key),
            message([user, prio, ctl, attr(UNKNOWN_REQUIRED, b"\x01\x02\x03\x04")], key),
            message([user, prio, ctl], key, bad_fp=True),
            bytes(truncated),
            bytes(short_hdr),
        ):
            s.sendto(dgram, (ip, port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
