#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/p2p_client.py: the client side of Firezone's p2p control protocol for the
end-to-end tests, spoken over a wireguard-go client's interface (stdlib only, root).

Byte layout as the Firezone client builds it (rust/libs/connlib/ip-packet/src/make.rs
fz_p2p_control, fz_p2p_control.rs, fz_p2p_control_slice.rs; tunnel-proto/src/p2p_control.rs):
an IPv6 packet, version 6, traffic class and flow label 0, payload length = 8 + body, next
header 0xFF, hop limit 0, source :: and destination ::; the payload is an 8-byte header
[event, 0, 0, 0, 0, 0, 0, 0] then the JSON body, serde's compact form. The whole packet is
at most 1280 bytes. Events: 0 AssignedIps {"resource","domain","proxy_ips":[4 or 8]}
(client -> gateway), 1 DomainStatus {"resource","domain","status"} (gateway -> client),
2 Goodbye (empty, either way).

The packets are written into and read from the TUN device with an AF_PACKET SOCK_DGRAM
socket (protocol ETH_P_IPV6) bound to the interface. wireguard-go routes an outgoing packet
by its destination and accepts an incoming one only if its source is in the peer's allowed
IPs, so the gateway peer needs "::/128" in AllowedIPs for both directions.

usage:
  p2p_client.py send-assigned-ips --iface IF --resource ID --domain NAME --proxy-ips IP,...
                [--reserved HEX14] [--wait SECONDS [--resend SECONDS]]
      With --wait, the receive socket is opened before the packet goes out and the first
      DomainStatus for (resource, domain) is printed as received (exit 1 if none came).
  p2p_client.py wait-domain-status --iface IF --resource ID --domain NAME --timeout S
                [--ready-file F]
      Prints the JSON body of the first matching DomainStatus; exit 1 on timeout.
  p2p_client.py wait-event --iface IF (--event N | --raw) --timeout S [--ready-file F]
      With --raw, the first IPv6 packet from :: to :: whatever it holds: prints
      {"len":L,"packet":"<hex>"}. Else any p2p packet of event N (e.g. 2, a Goodbye from the
      gateway): prints
      {"event":N,"body":"<text>","len":L,"packet":"<hex of the IPv6 packet>"}; exit 1 on
      timeout.
  p2p_client.py send-raw --iface IF (--hex HEX | --kind KIND) [--resource ID --domain NAME
                --proxy-ips IP,...]
      A hostile or odd packet. --hex is the whole IPv6 packet. Kinds: truncated (4 payload
      bytes), short-header (7-byte header, no body), length-lie (payload length says more
      than is there), wrong-event (event 1, a DomainStatus from a client), unknown-event
      (event 0xEE), oversized (a valid AssignedIps padded to 1400 bytes: raise the MTU
      first), bad-json, three-ips (3 proxy IPs), goodbye (event 2), hop-limit (hop limit 64),
      reserved (header bytes 1..7 nonzero; Rust ignores them). The resource/domain/proxy
      options fill the JSON where a kind has one.
The wait commands create --ready-file F once their socket is open: send after it exists.
Exit status: 0 done, 1 nothing received in time, 2 usage or socket error.
"""

import argparse
import ipaddress
import json
import select
import socket
import struct
import sys
import time

ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
P2P_PROTO = 0xFF
HDR_LEN = 8
MAX_PACKET = 1280
EV_ASSIGNED_IPS = 0
EV_DOMAIN_STATUS = 1
EV_GOODBYE = 2


def ipv6_packet(payload, next_header=P2P_PROTO, hop_limit=0, payload_len=None, src=None, dst=None):
    """An IPv6 header (:: to :: unless told) in front of payload."""
    plen = len(payload) if payload_len is None else payload_len
    src = (src or ipaddress.IPv6Address("::")).packed
    dst = (dst or ipaddress.IPv6Address("::")).packed
    return struct.pack("!IHBB", 6 << 28, plen, next_header, hop_limit) + src + dst + payload


def p2p_packet(event, body, reserved=b"\0" * 7):
    return ipv6_packet(bytes([event]) + reserved + body)


def assigned_ips_body(resource, domain, proxy_ips):
    # serde_json's compact output, fields in struct order (resource, domain, proxy_ips)
    return json.dumps({"resource": resource, "domain": domain, "proxy_ips": proxy_ips},
                      separators=(",", ":")).encode()


def parse_p2p(pkt):
    """(event, reserved bytes, body) of a p2p control packet, or None."""
    if len(pkt) < 40 + HDR_LEN or pkt[0] >> 4 != 6 or pkt[6] != P2P_PROTO:
        return None
    if pkt[8:24] != bytes(16) or pkt[24:40] != bytes(16):
        return None
    plen = struct.unpack("!H", pkt[4:6])[0]
    if plen < HDR_LEN or 40 + plen > len(pkt):
        return None
    payload = pkt[40:40 + plen]
    return payload[0], payload[1:HDR_LEN], payload[HDR_LEN:]


def open_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IPV6))
    s.bind((iface, ETH_P_IPV6))
    return s


def send(s, iface, pkt):
    s.sendto(pkt, (iface, ETH_P_IPV6))


def name_eq(a, b):
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def receive(s, deadline, want):
    """The first incoming p2p packet for which want(event, body) holds, as
    (event, reserved, body, packet), or None."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        pkt, addr = s.recvfrom(65535)
        if len(addr) > 2 and addr[2] == PACKET_OUTGOING:
            continue
        p = parse_p2p(pkt)
        if p and want(p[0], p[2]):
            return p + (pkt,)


def domain_status_match(resource, domain):
    def want(event, body):
        if event != EV_DOMAIN_STATUS:
            return False
        try:
            j = json.loads(body)
        except ValueError:
            print("p2p_client: DomainStatus with bad JSON: %r" % body[:200], file=sys.stderr)
            return False
        return isinstance(j, dict) and j.get("resource") == resource and \
            isinstance(j.get("domain"), str) and name_eq(j["domain"], domain)
    return want


def split_ips(text):
    ips = [x.strip() for x in text.split(",") if x.strip()]
    for ip in ips:
        ipaddress.ip_address(ip)
    return ips


def cmd_send_assigned_ips(a):
    reserved = bytes.fromhex(a.reserved) if a.reserved else b"\0" * 7
    if len(reserved) != 7:
        raise ValueError("--reserved takes 7 bytes of hex")
    pkt = p2p_packet(EV_ASSIGNED_IPS, assigned_ips_body(a.resource, a.domain, split_ips(a.proxy_ips)),
                     reserved)
    s = open_socket(a.iface)
    send(s, a.iface, pkt)
    if a.wait is None:
        return 0
    t0 = time.monotonic()
    deadline = t0 + a.wait
    want = domain_status_match(a.resource, a.domain)
    while True:
        step = deadline if not a.resend else min(deadline, time.monotonic() + a.resend)
        p = receive(s, step, want)
        if p:
            print(p[2].decode("utf-8", "replace"))
            print("p2p_client: DomainStatus after %.3f s" % (time.monotonic() - t0), file=sys.stderr)
            return 0
        if time.monotonic() >= deadline:
            return 1
        send(s, a.iface, pkt)


def ready(a):
    """Says the receive socket is open: creates --ready-file (the caller sends after it)."""
    if a.ready_file:
        open(a.ready_file, "w").close()


def cmd_wait_domain_status(a):
    s = open_socket(a.iface)
    ready(a)
    p = receive(s, time.monotonic() + a.timeout, domain_status_match(a.resource, a.domain))
    if not p:
        return 1
    print(p[2].decode("utf-8", "replace"))
    return 0


def receive_raw(s, deadline):
    """The first incoming IPv6 packet from :: to :: (any length or next header), or None."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        pkt, addr = s.recvfrom(65535)
        if len(addr) > 2 and addr[2] == PACKET_OUTGOING:
            continue
        if len(pkt) >= 40 and pkt[0] >> 4 == 6 and pkt[8:40] == bytes(32):
            return pkt


def cmd_wait_event(a):
    s = open_socket(a.iface)
    ready(a)
    if a.raw:
        pkt = receive_raw(s, time.monotonic() + a.timeout)
        if not pkt:
            return 1
        print(json.dumps({"len": len(pkt), "packet": pkt.hex()}))
        return 0
    p = receive(s, time.monotonic() + a.timeout, lambda ev, body: ev == a.event)
    if not p:
        return 1
    print(json.dumps({"event": p[0], "body": p[2].decode("utf-8", "replace"), "len": len(p[2]),
                      "packet": p[3].hex()}))
    return 0


def raw_packet(a):
    resource = a.resource or "00000000-0000-0000-0000-000000000001"
    domain = a.domain or "app.corp.test"
    ips = split_ips(a.proxy_ips) if a.proxy_ips else \
        ["100.90.0.1", "100.90.0.2", "100.90.0.3", "100.90.0.4"]
    body = assigned_ips_body(resource, domain, ips)
    k = a.kind
    if k == "truncated":
        return ipv6_packet(b"\0\0\0\0")
    if k == "short-header":
        return ipv6_packet(b"\0" * 7)
    if k == "length-lie":
        payload = bytes([EV_ASSIGNED_IPS]) + b"\0" * 7 + body[:16]
        return ipv6_packet(payload, payload_len=len(payload) + 200)
    if k == "wrong-event":
        return p2p_packet(EV_DOMAIN_STATUS, json.dumps(
            {"resource": resource, "domain": domain, "status": "Active"}, separators=(",", ":")).encode())
    if k == "unknown-event":
        return p2p_packet(0xEE, body)
    if k == "oversized":
        pad = 1400 - 40 - HDR_LEN - len(body)
        return p2p_packet(EV_ASSIGNED_IPS, body[:-1] + b" " * pad + b"}")
    if k == "bad-json":
        return p2p_packet(EV_ASSIGNED_IPS, b'{"resource":"' + resource.encode() + b'","domain":')
    if k == "three-ips":
        return p2p_packet(EV_ASSIGNED_IPS, assigned_ips_body(resource, domain, ips[:3]))
    if k == "goodbye":
        return p2p_packet(EV_GOODBYE, b"")
    if k == "hop-limit":
        return ipv6_packet(bytes([EV_ASSIGNED_IPS]) + b"\0" * 7 + body, hop_limit=64)
    if k == "reserved":
        return p2p_packet(EV_ASSIGNED_IPS, body, b"\x01\x02\x03\x04\x05\x06\x07")
    raise ValueError("unknown kind %r" % k)


KINDS = ["truncated", "short-header", "length-lie", "wrong-event", "unknown-event", "oversized",
         "bad-json", "three-ips", "goodbye", "hop-limit", "reserved"]


def cmd_send_raw(a):
    pkt = bytes.fromhex(a.hex) if a.hex else raw_packet(a)
    s = open_socket(a.iface)
    send(s, a.iface, pkt)
    print("p2p_client: sent %d bytes (%s)" % (len(pkt), a.kind or "hex"), file=sys.stderr)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description="Firezone p2p control packets over a wireguard-go interface")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send-assigned-ips")
    s.add_argument("--iface", required=True)
    s.add_argument("--resource", required=True)
    s.add_argument("--domain", required=True)
    s.add_argument("--proxy-ips", required=True)
    s.add_argument("--reserved")
    s.add_argument("--wait", type=float)
    s.add_argument("--resend", type=float, default=0)
    s.set_defaults(fn=cmd_send_assigned_ips)
    s = sub.add_parser("wait-domain-status")
    s.add_argument("--iface", required=True)
    s.add_argument("--resource", required=True)
    s.add_argument("--domain", required=True)
    s.add_argument("--timeout", type=float, default=10)
    s.add_argument("--ready-file")
    s.set_defaults(fn=cmd_wait_domain_status)
    s = sub.add_parser("wait-event")
    s.add_argument("--iface", required=True)
    s.add_argument("--event", type=int, default=-1)
    s.add_argument("--raw", action="store_true")
    s.add_argument("--timeout", type=float, default=10)
    s.add_argument("--ready-file")
    s.set_defaults(fn=cmd_wait_event)
    s = sub.add_parser("send-raw")
    s.add_argument("--iface", required=True)
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--hex")
    g.add_argument("--kind", choices=KINDS)
    s.add_argument("--resource")
    s.add_argument("--domain")
    s.add_argument("--proxy-ips")
    s.set_defaults(fn=cmd_send_raw)
    a = ap.parse_args(argv)
    try:
        return a.fn(a)
    except (OSError, ValueError) as e:
        print("p2p_client: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
