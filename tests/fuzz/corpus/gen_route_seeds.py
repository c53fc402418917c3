#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the route table harness (tests/fuzz/fuzz_route.c) into
tests/fuzz/corpus/route/ (stdlib only). An operation is an op byte (bits 0-1: add, del,
del_value, lookup; bit 2: IPv6; bits 4-7: how many tail bytes of the address follow, minus
one), a base byte (0: the tunnel range, 1: all ones, 2-3: all zeros), those bytes, a length
byte and, for add, a value byte (bit 7: FG_ROUTE_VALUE_MAX minus the low bits). Other files
there (crash-* regressions) are left alone.

    python3 tests/fuzz/corpus/gen_route_seeds.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ADD, DEL, DEL_VALUE, LOOKUP = 0, 1, 2, 3


def op(kind, v6, tail, base=0, length=0, value=None):
    """One operation; tail is the bytes XORed into the end of the base address."""
    nbytes = 16 if v6 else 4
    assert 1 <= len(tail) <= nbytes
    b = bytes([kind | (4 if v6 else 0) | (len(tail) - 1) << 4, base]) + bytes(tail)
    b += bytes([length])
    if kind == ADD:
        b += bytes([value or 0])
    return b


def peers(n, v6):
    """n tunnel addresses, one /32 or /128 each, value k % 16."""
    return b"".join(op(ADD, v6, [k >> 8, k & 0xff], 0, 128 if v6 else 32, k % 16)
                    for k in range(1, n + 1))


SEEDS = {
    "peers4": peers(20, False) + op(LOOKUP, False, [0, 7]) + op(DEL_VALUE, False, [0], 0, 3),
    "peers6": peers(20, True) + op(LOOKUP, True, [0, 7]) + op(DEL_VALUE, True, [0], 0, 5),
    "nested4": b"".join(op(ADD, False, [3, 77], 0, ln, ln) for ln in range(1, 33))
    + b"".join(op(DEL, False, [3, 77], 0, ln) for ln in (32, 7, 24, 16, 1, 31)),
    "nested6": b"".join(op(ADD, True, [1, 0x2e, 0x7f], 0, ln, ln % 16) for ln in range(0, 129, 3))
    + b"".join(op(DEL, True, [1, 0x2e, 0x7f], 0, ln) for ln in (126, 3, 0, 60, 105)),
    "defaults": op(ADD, False, [9], 2, 0, 1) + op(ADD, True, [9], 2, 0, 2)
    + op(LOOKUP, False, [1, 2, 3, 4], 2) + op(DEL, False, [0], 2, 0) + op(LOOKUP, False, [0], 2),
    "scattered6": b"".join(op(ADD, True, [k] + [0] * 14 + [k], 2, 128, k) for k in range(1, 12))
    + op(DEL, True, [3] + [0] * 14 + [3], 2, 128) + op(ADD, True, [11] + [0] * 14 + [11], 2, 128, 3),
    "extremes": op(ADD, False, [0xff], 1, 32, 0x80) + op(ADD, False, [0], 2, 1, 0x81)
    + op(ADD, True, [0xff], 1, 128, 0xff) + op(ADD, True, [0x80], 2, 1, 4)
    + op(LOOKUP, True, [0xfe], 1) + op(DEL_VALUE, False, [0], 0, 4),
}

os.makedirs(os.path.join(HERE, "route"), exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(HERE, "route", name), "wb") as f:
        f.write(body)
