#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the libFuzzer harnesses in tests/fuzz/ (stdlib only).

Each harness NAME reads its seeds from tests/fuzz/corpus/NAME/; this script writes the
seeds of the control plane's harnesses (phoenix, portal_msg, gateway, dpclient, render, metrics)
and of the harnesses of earlier issues (ctl_msg, dns_pattern, dnsmsg, flow_spool,
flow_token, flow_url, p2p, p2pctl, ice_candidate, natpkt, ice_input, relay, stun,
uapi_multi), each in the input format described at the top of its fuzz_NAME.c. The seeds
are real messages: portal frames as the Firezone portal sends them, common/ctlproto.h
structs, STUN/TURN messages with real MESSAGE-INTEGRITY and FINGERPRINT, DNS queries and
answers, IPv4/IPv6 packets with right checksums, WireGuard UAPI sessions (the wire formats
are in seedwire.py). Other files in the directories (crash-* regressions the fuzzer found)
are left alone; the seeds this script writes are overwritten.

    python3 tests/fuzz/corpus/gen_cp_seeds.py [NAME ...]     (default: every corpus)
"""
import base64
import ipaddress
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no __pycache__ among the corpora
sys.path.insert(0, HERE)
from seedwire import (  # noqa: E402 (after the path is set)
    CHANNEL_BIND, CHANNEL_UNBIND, compact, dns_answer, dns_query, DUMP, ERR, error_code, HELLO,
    icmp, IND, ipv4, ipv6, KEY_A, KEY_B, long_term_key, m_bare, m_channel, m_event, m_flow,
    m_flows_set, m_hello, m_hello_reply, m_iface_set, m_nat_info, m_nat_set, m_p2p, m_packet_in,
    m_packet_out, m_peer_info, m_peer_path, m_peer_remove, m_peer_upsert, m_reply, m_resource,
    m_resource_remove, m_stats_reply, NAT_DUMP, OK, P2P_ASSIGNED, P2P_IN, P2P_OUT, PACKET_OUT,
    PEER_REMOVE, REQ, RESOURCE_INFO, RESOURCE_UPSERT, ST_ALLOCATE, ST_BINDING, ST_CHANNEL_BIND,
    ST_CREATE_PERMISSION, ST_DATA, ST_REFRESH, STATS, stun, tcp, TX, udp, xor_addr,
)


def write(name, seeds):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    for fname, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


# =========================================================================================
# the control plane's new harnesses
# =========================================================================================

CLIENT_ID = "3abd725a-733b-4801-ac16-72f26cd98a24"
RES_ID = "c7793628-8579-465b-83e3-1a5d4af4db3b"
DNS_RES_ID = "57f9ebbb-21d5-4f9f-bf86-b25122fc7a43"
RELAY_ID = "0a133356-7a9e-4b9a-b413-0d95a5720fd8"
PUB_B64 = "fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH8="
PSK_B64 = "BzPiNE9qszKczZcZzGsyieLYeJ2EQfkfdibls/l3beM="
REF = ("SFMyNTY.g2gDbQAAAkxnMmdHV0hjVllYQnBRR0Z3YVM1amJIVnpkR1Z5TG14dlkyRnNBQUFEWlFBQUFBQm5."
       "5-aLUjF4RiPoYASwWYfSmWuTEc4cT0u8")

INIT = {
    "interface": {"ipv4": "100.115.164.78", "ipv6": "fd00:2021:1111::2c:f6ab"},
    "config": {"ipv4_masquerade_enabled": True, "ipv6_masquerade_enabled": True},
    "account_slug": "acme",
    "relays": [
        {"id": RELAY_ID, "type": "turn", "addr": "198.51.100.5:3478", "username": "2145916800:q3JkYWx0",
         "password": "x9ZtOHJkYWx0cGFzc3dvcmQ", "expires_at": 2145916800},
        {"id": RELAY_ID, "type": "turn", "addr": "[2001:db8::5]:3478", "username": "2145916800:q3JkYWx0",
         "password": "x9ZtOHJkYWx0cGFzc3dvcmQ", "expires_at": 2145916800},
        {"id": "e95f9517-2152-4677-a16a-fbb2687050a3", "type": "stun", "addr": "198.51.100.9:3478"},
    ],
    "authorizations": [{"client_id": CLIENT_ID, "resource_id": RES_ID, "expires_at": 1767225600},
                       {"client_id": CLIENT_ID, "resource_id": DNS_RES_ID, "expires_at": None}],
    "flow_logs": {"api_url": "https://flow-api.firezone.dev", "upload_interval_secs": 60, "upload_batch_size": 1000},
}

AUTHZ = {
    "ref": REF,
    "resource": {"id": RES_ID, "name": "MyCorp Network", "type": "cidr", "address": "172.20.0.0/16",
                 "filters": [{"protocol": "tcp", "port_range_start": 80, "port_range_end": 443},
                             {"protocol": "udp", "port_range_start": 53}, {"protocol": "icmp"}]},
    "client": {"id": CLIENT_ID, "public_key": PUB_B64, "preshared_key": PSK_B64, "ipv4": "100.93.74.51",
               "ipv6": "fd00:2021:1111::f:853b", "version": "1.4.5"},
    "actor": {"id": "24eb631e-c529-4182-a746-d99ee66f7426"},
    "expires_at": 1729813989,
    "flow_id": "eeb66205-5f53-4f64-acbc-deed47293f04",
    "client_ice_credentials": {"username": "hgwh", "password": "j2fqufatn7xlrrvv6fsvea"},
    "gateway_ice_credentials": {"username": "ejqt", "password": "zfjrrjdkbci42t2axyd45a"},
}

DNS_RESOURCE = {"id": DNS_RES_ID, "name": "*.httpbin", "type": "dns", "address": "*.httpbin",
                "filters": [{"protocol": "icmp"}, {"protocol": "tcp"}]}

PRESENCE = {
    "disconnected_ids": ["e95f9517-2152-4677-a16a-fbb2687050a3", "b0724bd1-a8cc-4faf-88cd-f21159cfec47"],
    "connected": [{"id": RELAY_ID, "type": "turn", "username": "1719367575:ZQHcVGkdnfgGmcP1",
                   "password": "ZWYiBeFHOJyYq0mcwAXjRpcuXIJJpzWlOXVdxwttrWg", "addr": "172.28.0.101:3478",
                   "expires_at": 1719367575}],
}

CANDS = {"client_id": CLIENT_ID, "candidates": [
    "candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx",
    "candidate:1 1 UDP 2130706431 198.18.0.1 51820 typ host",
    "candidate:2 1 udp 2130706175 fd00:2021:1111::5 51820 typ host",
    "candidate:3 1 udp 16777215 198.51.100.5 61000 typ relay raddr 0.0.0.0 rport 0"]}


def phx(topic, event, payload, ref=None):
    return compact({"topic": topic, "event": event, "payload": payload, "ref": ref})


def seeds_phoenix():
    return {
        "join-reply": phx("gateway", "phx_reply", {"status": "ok", "response": {}}, 0),
        "heartbeat-reply": phx("phoenix", "phx_reply", {"status": "ok", "response": {}}, "3"),
        "join-refused": phx("gateway", "phx_reply", {"status": "error", "response": {"reason": "invalid_version"}}, 0),
        "unmatched-topic": phx("gateway", "phx_reply",
                               {"status": "error", "response": {"reason": "unmatched topic"}}, 7),
        "init": phx("gateway", "init", INIT),
        "create-authorization": phx("gateway", "create_authorization", AUTHZ),
        "ice-candidates": phx("gateway", "ice_candidates", CANDS),
        "relays-presence": phx("gateway", "relays_presence", PRESENCE),
        "token-expired": phx("gateway", "disconnect", {"reason": "token_expired"}),
        "phx-close": phx("gateway", "phx_close", {}),
        "phx-error": phx("gateway", "phx_error", {"reason": "crash"}, "12"),
        "unicode-escapes": ('{"topic":"gateway","event":"resource_updated","payload":{"id":"r1","name":'
                            '"Caf\\u00e9 \\ud83d\\ude80 \u00fcber","type":"internet",'
                            '"n":[1.5e3,-0.0,1e308,true,false,null]},'
                            '"ref":"9007199254740991"}'),
        "big-ref": phx("gateway", "phx_reply", {"status": "ok", "response": {"x": [[[{}]]]}}, 9007199254740992),
    }


PORTAL_EVENTS = ["init", "create_authorization", "authorize_flow", "reject_access", "resource_updated",
                 "access_authorization_expiry_updated", "relays_presence", "ice_candidates",
                 "invalidate_ice_candidates", "configure_metrics", "resource_deleted", "allow_access"]


def pm(event, payload):
    return bytes([PORTAL_EVENTS.index(event)]) + compact(payload).encode()


def seeds_portal_msg():
    internet = dict(AUTHZ, resource={"id": "1106047c-cd5d-4151-b679-96b93da7383b", "type": "internet",
                                      "name": "Internet"}, use_iceless=False,
                    flow_logs_ingest_token="eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoicmVzcG9uZGVyIn0.c2ln")
    dns_authz = dict(AUTHZ, resource=DNS_RESOURCE, expires_at=None)
    minimal_init = {"interface": {"ipv4": "100.64.0.1", "ipv6": "fd00:2021:1111::1"}, "config": {}}
    return {
        "init": pm("init", INIT),
        "init-minimal": pm("init", minimal_init),
        "init-flow-logs-bad": pm("init", dict(minimal_init, authorizations=[], flow_logs={})),
        "create-authorization": pm("create_authorization", AUTHZ),
        "create-authorization-internet": pm("create_authorization", internet),
        "authorize-flow-dns": pm("authorize_flow", dns_authz),
        "reject-access": pm("reject_access", {"client_id": CLIENT_ID, "resource_id": RES_ID}),
        "resource-updated-dns": pm("resource_updated", DNS_RESOURCE),
        "resource-updated-cidr6": pm("resource_updated", {"id": RES_ID, "name": "v6 net", "type": "cidr",
                                                          "address": "2001:db8:1::/48",
                                                          "filters": [{"protocol": "udp", "port_range_start": 1000,
                                                                       "port_range_end": 2000},
                                                                      {"protocol": "sctp"}]}),
        "expiry-updated": pm("access_authorization_expiry_updated",
                             {"client_id": CLIENT_ID, "resource_id": RES_ID, "expires_at": 1767225600}),
        "relays-presence": pm("relays_presence", PRESENCE),
        "ice-candidates": pm("ice_candidates", CANDS),
        "invalidate-ice-candidates": pm("invalidate_ice_candidates",
                                        {"client_id": CLIENT_ID, "candidates": CANDS["candidates"][:1] + ["garbage"]}),
        "configure-metrics": pm("configure_metrics", {"interval_secs": 60, "exporter": "otlp"}),
        "resource-deleted": pm("resource_deleted", RES_ID),
        "allow-access": pm("allow_access", dict(AUTHZ, ref=None)),
    }


def gw(*msgs):
    """fuzz_gateway's input: [op][len][JSON] records; op: the event's index, 0x10 the data plane
    refuses, 0x20 it never answers, 0x40 an event of the data plane afterwards (the record's
    first byte picks the client and the kind)."""
    out = b""
    for event, payload, *flags in msgs:
        body = compact(payload).encode()
        out += bytes([PORTAL_EVENTS.index(event) | (flags[0] if flags else 0)]) + struct.pack("<H", len(body)) + body
    return out


def seeds_gateway():
    second = dict(AUTHZ, resource=dict(DNS_RESOURCE), ref="ref-2")
    new_key = dict(AUTHZ, client=dict(AUTHZ["client"], public_key=base64.b64encode(KEY_B).decode()), ref="ref-3")
    updated = dict(AUTHZ["resource"], filters=[{"protocol": "udp", "port_range_start": 5000, "port_range_end": 5001}])
    init_none = {"interface": INIT["interface"], "config": {}, "authorizations": []}
    return {
        "init-authorize-reject": gw(("init", INIT), ("create_authorization", AUTHZ), ("ice_candidates", CANDS),
                                    ("reject_access", {"client_id": CLIENT_ID, "resource_id": RES_ID})),
        "update-then-init-empty": gw(("create_authorization", AUTHZ), ("authorize_flow", second),
                                     ("resource_updated", updated), ("init", INIT), ("init", init_none)),
        "goodbye-then-again": gw(("create_authorization", AUTHZ), ("authorize_flow", second, 0x40),
                                 ("create_authorization", AUTHZ)),
        "refused": gw(("create_authorization", AUTHZ, 0x10), ("reject_access",
                                                              {"client_id": CLIENT_ID, "resource_id": RES_ID}, 0x10)),
        "never-answered": gw(("init", INIT, 0x20), ("create_authorization", AUTHZ, 0x20),
                             ("create_authorization", second)),
        "key-change": gw(("create_authorization", AUTHZ), ("create_authorization", new_key),
                         ("invalidate_ice_candidates", CANDS)),
        "ignored-and-malformed": gw(("configure_metrics", {"x": 1}), ("access_authorization_expiry_updated",
                                                                      {"client_id": CLIENT_ID, "resource_id": RES_ID,
                                                                       "expires_at": 1}),
                                    ("relays_presence", PRESENCE), ("create_authorization", {"ref": "x"})),
    }


def dpc(flags, msgs):
    """fuzz_dpclient's input: the flags byte, then records; an op is (None, byte)."""
    out = bytes([flags])
    for m in msgs:
        if isinstance(m, tuple):
            out += struct.pack("<H", 0xFFFF) + bytes([m[1]])
        else:
            out += struct.pack("<H", len(m)) + m
    return out


def seeds_dpclient():
    # The client's requests: HELLO 1, STATS 2, DUMP 3, NAT_DUMP 4, PEER_REMOVE 5, PACKET_OUT 6,
    # P2P_OUT 7.
    stun_resp = stun(ST_BINDING, OK, TX[0], [(0x0020, xor_addr("203.0.113.9", 47717, TX[0]))])
    return {
        "hello-stats-replies": dpc(0, [m_hello_reply(1), m_stats_reply(2), m_reply(5), m_reply(6), m_reply(7)]),
        "dump": dpc(0, [m_hello_reply(1),
                        m_peer_info(3, CLIENT_ID, KEY_A, "100.93.74.51", "fd00:2021:1111::f:853b", "198.18.1.2", 51820),
                        m_peer_info(3, "c2", KEY_B, "100.64.0.3", None, "198.51.100.5", 3478, 0x4000),
                        m_resource(RESOURCE_INFO, 3, KEY_A, RES_ID, 1, "172.20.0.0/16", 1767225600,
                                   [(6, 80, 443), (17, 53, 53), (1, 0, 65535)]),
                        m_resource(RESOURCE_INFO, 3, KEY_B, DNS_RES_ID, 3, None, 0, []),
                        m_reply(3, 0, 4)]),
        "nat-dump": dpc(0, [m_nat_info(4, KEY_A, "100.96.0.1", "198.51.100.1", 6, 40000, 40000),
                            m_nat_info(4, KEY_A, "fd00:2021:1111:8000::", "2001:db8::80", 58, 7, 7),
                            m_reply(4, 0, 2, "")]),
        "events": dpc(0, [m_event(3, KEY_A), m_event(2, KEY_A, RES_ID), m_event(1, KEY_B), (None, 2),
                          m_event(4, KEY_B), (None, 2), (None, 2)]),
        "packet-in": dpc(1, [m_packet_in("203.0.113.9", 47717, stun_resp),
                             m_packet_in("198.51.100.5", 3478, stun_resp, ("203.0.113.77", 50000), 0x4001),
                             m_packet_in("198.18.1.2", 51820, b"")]),
        "p2p-in": dpc(2, [m_p2p(P2P_IN, 0, KEY_A, P2P_ASSIGNED), m_p2p(P2P_IN, 0, KEY_B, b"")]),
        "flows": dpc(4 | 8, [m_flow(1, 0, KEY_A, RES_ID, 6, "100.64.0.2", 40000, "10.0.0.5", 443),
                             m_flow(2, 2, KEY_A, DNS_RES_ID, 17, "100.64.0.2", 5353, "100.96.0.1", 53,
                                    "198.51.100.1")]),
        "unsolicited-dropped": dpc(0, [m_p2p(P2P_IN, 0, KEY_A, P2P_ASSIGNED),
                                       m_flow(1, 0, KEY_A, RES_ID, 1, "100.64.0.2", 7, "10.0.0.5", 0),
                                       m_packet_in("203.0.113.9", 47717, stun_resp)]),
        "error-replies": dpc(7, [m_hello_reply(1), m_reply(5, -2, 0, "no such peer"),
                                 m_reply(6, -97, 0, "no uplink address of that family"),
                                 m_reply(7, -105, 0, "queue full"), m_reply(2, -5, 0, "stats unavailable")]),
        "hello-answered-with-reply": dpc(0, [m_reply(1, 0)]),
        "junk-while-waiting": dpc(0, [m_hello_reply(1), m_reply(2)[:100]]),
        "late-and-stray": dpc(0, [m_hello_reply(1), m_reply(99), m_stats_reply(3), m_reply(2),
                                  m_peer_info(4, "c3", KEY_A, None, None, "198.18.1.9", 4000)]),
        "expire-then-more": dpc(0, [m_hello_reply(1), (None, 0), (None, 4), (None, 1), m_reply(8)]),
        "expire-hello": dpc(0, [(None, 1), m_reply(2)]),
        "close-then-send": dpc(0, [m_hello_reply(1), (None, 3), (None, 0)]),
        "hang-up": dpc(0, [m_hello_reply(1), b""]),
        "old-version": dpc(0, [b"\x03\x80" + m_reply(5)[2:]]),
    }


def seeds_render():
    cmds = ["status", "peers", "resources", "relays", "stats", "ice", "flows", "nat", "routes"]

    def r(cmd, obj, clock=0):
        return bytes([cmds.index(cmd) + 9 * clock]) + compact(obj).encode()

    status = {"version": "0.1.0", "uptime_s": 93784,
              "portal": {"state": "connected", "url": "wss://api.firezone.dev/gateway/v2/websocket",
                         "connected_since": 1767225000, "reconnects": 2, "last_error": None},
              "dataplane": {"connected": True, "version": "0.1.0", "tun": "tun-firezone", "public_key": PUB_B64,
                            "listen_port": 51820, "peers": 2, "workers": 1, "responding": True, "error": None}}
    peers = {"peers": [{"client_id": CLIENT_ID, "public_key": PUB_B64, "ipv4": "100.93.74.51",
                        "ipv6": "fd00:2021:1111::f:853b", "endpoint": "198.18.1.2:51820",
                        "last_handshake": 1767225590, "rx_bytes": 10921123, "tx_bytes": 512, "resources": 2},
                       {"client_id": "c2", "public_key": "x", "ipv4": None, "ipv6": None, "endpoint": None,
                        "last_handshake": None, "rx_bytes": 0, "tx_bytes": 0, "resources": 0}]}
    resources = {"resources": [{"client_id": CLIENT_ID, "resource_id": RES_ID, "name": "MyCorp \u00fcber Network",
                                "type": "cidr", "address": "172.20.0.0/16",
                                "filters": [{"protocol": "tcp", "port_range_start": 80, "port_range_end": 80},
                                            {"protocol": "udp", "port_range_start": 1000, "port_range_end": 2000},
                                            {"protocol": "icmp"}], "expires_at": 1767229200},
                               {"client_id": CLIENT_ID, "resource_id": DNS_RES_ID, "name": None, "type": "dns",
                                "address": "*.httpbin", "filters": [], "expires_at": None}]}
    relays = {"relays": [{"id": "r1", "addrs": ["198.18.4.1:3478", "[2001:db8::4]:3478"], "username": "2145916800:x",
                          "state": "allocated", "probing": False, "active": "198.18.4.1:3478",
                          "srflx": ["198.18.9.2:51820"], "relayed": ["198.18.4.1:49160"], "expires_in_s": 551.2,
                          "refresh_in_s": 251.0, "rtt_ms": 0.4, "channels_bound": 1,
                          "channels": [{"number": 16384, "state": "bound", "peer": "198.18.9.2:40000",
                                        "expires_in_s": 590.1, "used": True}]},
                         {"id": "r2", "addrs": ["198.18.4.2:3478"], "username": "u", "state": "failed",
                          "probing": True, "active": None, "srflx": [], "relayed": [], "expires_in_s": 0,
                          "refresh_in_s": 0, "rtt_ms": 0, "channels_bound": 0, "channels": [],
                          "failure": "401 Unauthorized \u001b[31mred"}],
              "allocation": True, "without_relays": False,
              "counters": {"rx_not_stun": 3, "no_relays_sent": 1, "confirmations_withheld": 0}}
    stats = {"aead": "libsodium", "workers": 1, "peers": 2,
             "handshakes": {"initiated": 10, "responded": 9, "completed": 19, "cookies_sent": 0,
                            "keepalives_sent": 40, "roams": 1, "future_counter": 3},
             "drops": {"wg_bad_mac": 3, "policy_denied": 12, "no_session": 0, "weird": "x"},
             "lcores": [{"name": "service", "nic_rx_packets": 1000, "nic_rx_bytes": 120000, "nic_tx_packets": 900,
                         "nic_tx_bytes": 110000, "tun_rx_packets": 1, "tun_rx_bytes": 2, "tun_tx_packets": 3,
                         "tun_tx_bytes": 4, "decrypted": 5, "encrypted": 6},
                        {"name": "worker0", "nic_rx_packets": 5, "extra_counter": 7}],
             "nat": {"translated_out": 5, "translated_in": 4, "icmp_translated": 0, "created": 3, "expired": 1,
                     "misses": 0, "live": 2},
             "flows": {"started": 7, "completed": 5, "live": 2, "lost": 0}, "p2p": {"in": 6, "out": 6},
             "dns_resources": {"assigned_ips": 6, "malformed": 0, "refused": 0, "resolved": 6, "timeouts": 0,
                               "busy": 0, "resets": 0, "active": 6, "inactive": 0}}
    # protocol version 5: each lcore's load (ratios 0..1, null before the first window)
    stats_load = dict(stats, tsc_hz=2400000000, heap={"total": 134217728, "allocated": 64298352,
                                                      "free": 69919376, "largest_free": 69915008}, lcores=[
        dict(stats["lcores"][0], polls=120000, busy_polls=40, busy_cycles=2400000, cycles=120000000000,
             polls_1s=1000, busy_polls_1s=2, busy_cycles_1s=240000, cycles_1s=2400000000,
             busy_ratio=0.0003, work_ratio=0, busy_ratio_1s=0.002, work_ratio_1s=0.0001),
        {"name": "worker0", "polls": 5, "busy_polls": 0, "busy_cycles": 0, "cycles": 1000, "polls_1s": 0,
         "busy_polls_1s": 0, "busy_cycles_1s": 0, "cycles_1s": 0, "busy_ratio": 0, "work_ratio": 0,
         "busy_ratio_1s": None, "work_ratio_1s": None},
        {"name": "worker1", "polls": -1, "busy_ratio": 1.5, "work_ratio": "half", "busy_ratio_1s": 1e308}])
    ice = {"agents": [{"client_id": "c1", "state": "connected", "idle": False, "local_ufrag": "ejqt",
                       "remote_ufrag": "hgwh", "age_s": 12.3, "relay_id": "r1",
                       "nominated": {"local": "198.18.1.1:51820", "local_type": "host", "remote": "198.18.9.2:40000",
                                     "remote_type": "srflx", "type": "direct",
                                     "wireguard_endpoint": "198.18.9.2:40000", "channel": 0, "since_s": 10.1},
                       "pairs": [{"local": "198.18.1.1:51820", "local_type": "host", "remote": "198.18.9.2:40000",
                                  "remote_type": "srflx", "state": "succeeded", "priority": 9115005270282354687,
                                  "nominated": True, "selected": True, "checks_sent": 3, "requests_received": 2,
                                  "rtt_ms": 0.3}],
                       "candidates": {"local": ["candidate:1 1 udp 2130706431 198.18.1.1 51820 typ host"],
                                      "remote": ["candidate:2 1 udp 1694498559 198.18.9.2 40000 typ srflx"]},
                       "held_signals": 0, "counters": {"rx_requests": 2}},
                      {"client_id": "c2", "state": "waiting", "remote_candidates": 3}],
           "host4": "198.18.1.1:51820", "host6": None, "counters": {"packets_in": 5}}
    flows = {"tracking": True, "log_lines": False, "dir": "/var/lib/fastgate/flow_logs", "tokens": 1,
             "uploads": {"enabled": True, "url": "https://flow-api.firezone.dev/ingestion/flow_logs",
                         "interval_s": 60, "batch_size": 1000, "state": "idle", "last_status": 200,
                         "last_error": None, "last_success": 1767225500},
             "spool": {"bytes": 8192, "max_bytes": 104857600, "segments": 2, "authorizations": 1, "pending": 0},
             "counters": {"started": 7, "completed": 5, "dropped": 0},
             "flows": [{"state": "live", "protocol": "tcp", "client_id": CLIENT_ID, "resource_id": RES_ID,
                        "src": "100.64.0.2:40000", "dst": "10.0.0.5:443", "proxy": None, "domain": None,
                        "outer": "198.18.1.2:51820", "relayed": False, "start": 1767225000,
                        "last_packet": 1767225590, "end": None, "end_reason": None, "tx_packets": 12,
                        "tx_bytes": 2048, "rx_packets": 10, "rx_bytes": 1024}]}
    nat = {"clients": [{"client_id": "c1", "public_key": PUB_B64,
                        "domains": [{"resource_id": DNS_RES_ID, "domain": "app.example.com",
                                     "proxy_ips": [{"proxy_ip": "100.96.0.1", "real_ip": "198.51.100.1"},
                                                   {"proxy_ip": "fd00:2021:1111:8000::", "real_ip": None}]}],
                        "tuples": [{"proto": "tcp", "proxy": "100.96.0.1", "inside_port": 40000,
                                    "real": "198.51.100.1", "outside_port": 40000, "domain": "app.example.com",
                                    "worker": 0, "state": ["reply", "fin_out"], "created": 1767225000,
                                    "last_out": 1767225500, "last_in": None, "tx_packets": 4, "tx_bytes": 400,
                                    "rx_packets": 3, "rx_bytes": 3000}]}],
           "tuples_available": True, "tuples_cut": "65536 tuples"}
    return {
        "status": r("status", status),
        "status-disconnected": r("status", {"version": "0.1.0", "uptime_s": 1, "portal": {"state": "backoff"},
                                            "dataplane": {"connected": False}}, 1),
        "peers": r("peers", peers),
        "peers-empty": r("peers", {"peers": []}, 2),
        "resources": r("resources", resources),
        "relays": r("relays", relays),
        "relays-old-shape": r("relays", {"relays": [{"id": "r1", "addrs": ["198.18.4.1:3478"], "username": "u",
                                                     "expires_at": 1767229200}]}, 3),
        "stats": r("stats", stats),
        "stats-load": r("stats", stats_load),
        "ice": r("ice", ice),
        "flows": r("flows", flows),
        "nat": r("nat", nat),
        "nat-unavailable": r("nat", {"clients": [], "tuples_available": False, "tuples_error": "no data plane"}),
        "crash-c1-control-in-error": r("peers", {"error": "unknown command 'x' \u009b31m"}),
        "unknown-command": r("routes", {"routes": []}),
        "not-a-list": r("resources", {"resources": {"x": 1}}),
    }


# =========================================================================================
# the harnesses of earlier issues
# =========================================================================================

def ctl_records(msgs):
    """fuzz_ctl_msg: a 2-byte length before each datagram; (src, payload) is a wire frame."""
    out = b""
    for m in msgs:
        if isinstance(m, tuple):
            src, payload = m
            out += struct.pack("<H", 0xFFFF) + bytes([len(payload), src]) + payload
        else:
            out += struct.pack("<H", len(m)) + m
    return out


def seeds_ctl_msg():
    relay = ("198.18.0.3", 3478)
    peer = ("198.18.0.9", 40001)
    stun_req = stun(ST_BINDING, REQ, TX[1], [(0x0024, struct.pack(">I", 1845501695))], fingerprint=True)
    chandata = struct.pack(">HH", 0x4000, len(stun_req)) + stun_req
    res = m_resource(RESOURCE_UPSERT, 7, KEY_A, RES_ID, 1, "10.0.0.0/8", 0, [(6, 22, 22)])
    too_many = res[:108] + struct.pack("<I", 9000) + res[112:]
    return {
        "hello-upsert-dump": ctl_records([
            m_hello(1),
            m_iface_set(2, "100.115.164.78", "fd00:2021:1111::2c:f6ab"),
            m_peer_upsert(3, CLIENT_ID, KEY_A, "100.93.74.51", "fd00:2021:1111::f:853b"),
            m_resource(RESOURCE_UPSERT, 4, KEY_A, RES_ID, 1, "172.20.0.0/16", 0,
                       [(6, 80, 443), (17, 53, 53), (1, 0, 65535)]),
            m_bare(DUMP, 5), m_bare(STATS, 6)]),
        "internet-and-remove": ctl_records([
            m_peer_upsert(1, "c2", KEY_B, "100.64.0.3", "fd00:2021:1111::3"),
            m_resource(RESOURCE_UPSERT, 2, KEY_B, "inet", 2, None, 4102444800, []),
            m_resource_remove(3, KEY_B, "inet"), m_peer_remove(4, KEY_B)]),
        "dns-nat": ctl_records([
            m_peer_upsert(1, CLIENT_ID, KEY_A, "100.93.74.51", "fd00:2021:1111::f:853b"),
            m_resource(RESOURCE_UPSERT, 2, KEY_A, DNS_RES_ID, 3, None, 0, [(6, 443, 443)]),
            m_nat_set(3, KEY_A, DNS_RES_ID, "app.httpbin",
                      [("100.96.0.1", "198.51.100.1"), ("fd00:2021:1111:8000::", "2001:db8::80")]),
            m_bare(NAT_DUMP, 4), m_flows_set(5, 1),
            m_p2p(P2P_OUT, 6, KEY_A, b"\x01" + bytes(7) + compact(
                {"resource": DNS_RES_ID, "domain": "app.httpbin", "status": "Active"}).encode())]),
        "relay-paths": ctl_records([
            m_peer_upsert(1, CLIENT_ID, KEY_A, "100.93.74.51", None),
            m_channel(CHANNEL_BIND, 2, relay, peer, 0x4004),
            m_peer_path(3, KEY_A, "198.18.0.3", 3478, 0x4004),
            m_packet_out(4, "198.18.0.3", 3478, 0x4001, stun_req),
            m_packet_out(5, "198.18.0.5", 40001, 0, stun_req),
            m_channel(CHANNEL_UNBIND, 6, relay, peer, 0),
            (3, chandata), (2, stun_req)]),
        "malformed": ctl_records([m_hello(1)[:20], m_reply(2), too_many, b"\x02\x80" + m_bare(DUMP, 3)[2:]]),
    }


def seeds_dns_pattern():
    pairs = [("*.example.com", "www.example.com"), ("**.corp", "a.b.corp"), ("?.httpbin", "x.httpbin"),
             ("app.example.com", "app.example.com"), ("*.example.com", "example.com"),
             ("**.example.com", "example.com"), ("*.EXAMPLE.com", "a.example.COM"), ("?.*.x", "a.b.x")]
    return {f"pair-{i}": f"{a}\0{b}" for i, (a, b) in enumerate(pairs)}


def seeds_dnsmsg():
    a = dns_answer(0x1234, "www.example.com", 1, [ipaddress.ip_address("93.184.215.14").packed])
    big = dns_answer(0x5678, "many.example.com", 1, [bytes([198, 51, 100, i]) for i in range(40)])
    return {
        "query-a": dns_query(0x1234, "www.example.com"),
        "query-aaaa-edns": dns_query(0xBEEF, "app.httpbin", 28, True),
        "query-txt": dns_query(7, "_acme-challenge.example.org", 16),
        "answer-a": a,
        "answer-nxdomain": dns_answer(9, "nope.example.com", 1, [], rcode=3),
        "answer-big": big,
        "answer-aaaa": dns_answer(11, "v6.example.com", 28, [ipaddress.ip_address("2001:db8::ff").packed]),
    }


def seeds_flow_spool():
    def line(payload):
        p = compact(payload).encode()
        return b'{"checksum":%d,"payload":' % zlib.crc32(p) + p + b"}\n"

    rec = {"level": "INFO", "message": "TCP flow completed", "protocol": "tcp", "role": "responder",
           "inner_src_ip": "100.64.0.2", "inner_src_port": 40000, "inner_dst_ip": "10.0.0.5",
           "inner_dst_port": 443, "rx_packets": 10, "tx_packets": 12, "rx_bytes": 1024, "tx_bytes": 2048,
           "target": "flow_logs"}
    two = line(rec) + line(dict(rec, protocol="udp", message="UDP flow completed"))
    return {
        "segment-two": two,
        "segment-torn": two + line(rec)[:40],
        "segment-bad-sum": two.replace(b'"checksum":', b'"checksum":1', 1),
        "name": "01767225600000000000-2.jsonl",
        "name-max": "18446744073709551615-100.jsonl",
    }


def jwt(claims, header=None, sig=b"signature-bytes"):
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    header = header or {"alg": "HS256", "typ": "JWT"}
    return ".".join([b64(compact(header).encode()), b64(compact(claims).encode()), b64(sig)])


CLAIMS = {"account_id": "12f207e0-3b6c-4f0f-9d0f-cc22cf9fbf3c", "iat": 1782756000, "exp": 1785434400,
          "uploads_enabled": True, "role": "responder",
          "initiator_device_id": "d263d490-a0bb-452a-8990-01d27a1f1144",
          "responder_device_id": "7c1f9b3e-2a84-4d61-9f05-3e8a2c6b4d71",
          "policy_authorization_id": "9a3c6a2e-1f77-4b0c-9d1e-2f0a8b7c6d5e",
          "policy_id": "44f19c37-cf62-4b19-b158-6f86bdcd2b57", "resource_id": "733e8d14-c18d-4931-af30-3639fa09c0c0",
          "resource_name": "GitLab", "initiator_actor_id": "24eb631e-c529-4182-a746-d99ee66f7426",
          "initiator_actor_name": "Jane Doe", "authorized_at": "2026-07-06T12:00:00.000000Z",
          "authorization_expires_at": "2026-07-07T12:00:00.000000Z", "resource_address": "gitlab.mycorp.com",
          "initiator_actor_email": "jane@mycorp.com", "initiator_client_version": None}


def seeds_flow_token():
    return {
        "token": jwt(CLAIMS),
        "token-uploads-off": jwt(dict(CLAIMS, uploads_enabled=False, role="initiator")),
        "token-bad-alg": jwt(CLAIMS, {"alg": "none"}),
        "claims": compact(CLAIMS),
        "claims-minimal": compact({k: v for k, v in CLAIMS.items() if k not in (
            "resource_address", "initiator_actor_email", "initiator_client_version")}),
    }


def seeds_flow_url():
    return {
        "api-url": "https://flow-api.firezone.dev",
        "api-url-port": "https://[2001:db8::1]:8443/",
        "api-url-plain": "http://127.0.0.1:9",
        "redirect-path": "/ingestion/flow_logs?x=1",
        "redirect-abs": "https://flow-api2.firezone.dev/ingestion/flow_logs",
        "retry-after": "120",
        "retry-after-date": "Wed, 21 Oct 2015 07:28:00 GMT",
    }


def seeds_p2p():
    status = b"\x01" + bytes(7) + compact({"resource": DNS_RES_ID, "domain": "app.httpbin",
                                            "status": "Active"}).encode()
    four = b"\0" * 8 + compact({"resource": DNS_RES_ID, "domain": "db.corp.",
                                "proxy_ips": ["100.96.0.5", "100.96.0.6", "100.96.0.7", "100.96.0.8"]}).encode()
    return {
        "assigned-ips": P2P_ASSIGNED,
        "assigned-ips-four": four,
        "assigned-ips-json": P2P_ASSIGNED[8:],
        "domain-status": status,
        "goodbye": b"\x02" + bytes(7),
    }


def p2p_packet(payload):
    return ipv6("::", "::", 0xFF, payload, hop=0)


def seeds_p2pctl():
    status = b"\x01" + bytes(7) + compact({"resource": DNS_RES_ID, "domain": "app.httpbin",
                                            "status": "Active"}).encode()
    return {
        "assigned-ips": b"\x01" + p2p_packet(P2P_ASSIGNED),
        "assigned-ips-unauthorized": b"\x00" + p2p_packet(P2P_ASSIGNED),
        "goodbye": b"\x01" + p2p_packet(b"\x02" + bytes(7)),
        "domain-status": b"\x01" + p2p_packet(status),
        "trailing": b"\x01" + p2p_packet(b"\x02" + bytes(7)) + b"\0\0\0\0",
    }


def seeds_ice_candidate():
    lines = [
        "candidate:1 1 UDP 2130706431 198.18.0.1 51820 typ host",
        "candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx raddr 198.18.0.1 rport 51820",
        "candidate:2 1 udp 2130706175 fd00:2021:1111::5 51820 typ host generation 0 network-id 1",
        "candidate:3 1 udp 16777215 198.51.100.5 61000 typ relay raddr 0.0.0.0 rport 0",
        "a=candidate:4 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active",
        "candidate:5 2 udp 1862270975 2001:db8::9 40000 typ prflx ufrag hgwh",
        "candidate:+/Ab 256 udp 4294967295 10.1.2.3 65535 typ host",
    ]
    return {f"line-{i}": s for i, s in enumerate(lines)}


def seeds_natpkt():
    c4, r4 = "100.64.0.2", "10.0.0.5"
    c6, r6 = "fd00:2021:1111::2", "2001:db8::80"
    syn = ipv4(c4, r4, 6, tcp(c4, r4, 40000, 443))
    dnsq = ipv4(c4, r4, 17, udp(c4, r4, 5353, 53, dns_query(1, "app.example.com")))
    echo = ipv4(c4, r4, 1, icmp(8, 0, struct.pack("!HH", 0x1234, 1), b"fastgate-ping-payload"))
    quote = ipv4(r4, c4, 17, udp(r4, c4, 53, 5353, b"x" * 8))
    unreach = ipv4("10.0.0.1", r4, 1, icmp(3, 3, bytes(4), ipv4(c4, r4, 17, udp(c4, r4, 5353, 53, b"abcdefgh"))))
    syn6 = ipv6(c6, r6, 6, tcp(c6, r6, 40000, 443, 0x18, b"GET / HTTP/1.1\r\n\r\n"))
    echo6 = ipv6(c6, r6, 58, icmp(128, 0, struct.pack("!HH", 7, 1), b"ping6", (c6, r6)))
    inner6 = ipv6(c6, r6, 17, udp(c6, r6, 5353, 53, b"abcdefgh"))
    ptb = ipv6("2001:db8::1", c6, 58, icmp(2, 0, struct.pack("!I", 1280), inner6, ("2001:db8::1", c6)))
    frag = syn[:6] + b"\x20\x00" + syn[8:]
    return {"tcp-syn": syn, "udp-dns": dnsq, "icmp-echo": echo, "icmp-unreachable": unreach,
            "tcp6": syn6, "icmp6-echo": echo6, "icmp6-too-big": ptb, "ipv4-fragment": frag,
            "udp-reply": quote}


# fuzz_ice_input: [ctrl][len][bytes]; ctrl & 3 local (0 host4, 1 host6, 2 relay, 3 bogus), ctrl >> 2 & 7
# the sender (0 198.18.5.2:50000, 1 the relay candidate, 2 fd00::5, ...), 0x20 fix-up, 0x40 right
# USERNAME / txid, 0x80 a tick len * 37 ms later.
def ice_step(ctrl, payload):
    assert len(payload) < 256
    return bytes([ctrl, len(payload)]) + payload


def seeds_ice_input():
    req = stun(ST_BINDING, REQ, TX[2], [(0x0024, struct.pack(">I", 1845501695)),
                                     (0x802A, bytes.fromhex("0123456789abcdef")), (0x0025, b"")], fingerprint=False)
    req6 = stun(ST_BINDING, REQ, TX[3], [(0x0024, struct.pack(">I", 1845501695)),
                                      (0x802A, bytes.fromhex("0123456789abcdef"))], fingerprint=False)
    ok = stun(ST_BINDING, OK, TX[0], [(0x0020, xor_addr("198.18.0.1", 51820, TX[0]))], fingerprint=False)
    err = stun(ST_BINDING, ERR, TX[0], [(0x0009, error_code(487, "Role Conflict"))], fingerprint=False)
    cand = b"candidate:9 1 udp 1694498559 203.0.113.50 40000 typ srflx raddr 0.0.0.0 rport 0"
    tick = bytes([0x80, 200])
    return {
        "check-in": ice_step(0x60, req),
        "check-in-v6": ice_step(0x60 | 1 | 2 << 2, req6),
        "check-answered": tick[:1] + bytes([0]) + ice_step(0x60, ok) + ice_step(0x60, req),
        "role-conflict": ice_step(0x80, b"") + ice_step(0x60, err),
        "candidate-add": ice_step(3 | 7 << 2, cand) + ice_step(0x60 | 4 << 2, req) + tick,
        "candidate-invalidate": ice_step(3 | 7 << 2 | 0x20, b"candidate:2 1 udp 16777215 192.0.2.99 62000 typ relay"),
        "relay-path": ice_step(0x60 | 2 | 1 << 2, req) + ice_step(0xE0 | 2 | 1 << 2, ok),
        "raw": ice_step(0, req) + ice_step(0x80, b"\x00" * 60),
    }


# fuzz_relay: op bytes, b & 7: 0 raw from a relay (len, bytes), 1 an answer (flags, sel, ...),
# 2 raw behind a txid, 3 a clock step, 4 channel bind (peer byte), 5 the portal, 6 ChannelData in,
# 7 ChannelData out. answer flags: 1 error, 2 XOR-MAPPED, 4 XOR-RELAYED (8 a second), 16 LIFETIME,
# 32 NONCE/REALM, 64/128/192 integrity with the key, the new key, a wrong one.
def seeds_relay():
    bind_ok = bytes([1, 0x40 | 2, 0, 0x05])                            # binding success, mapped 198.51.0.5
    alloc_401 = bytes([1, 0x01 | 0x20, 0x08, 7, 10])                   # 401 with nonce and realm
    alloc_ok = bytes([1, 0x40 | 2 | 4 | 8 | 16, 1, 0x03, 0xC3, 0x50, 0x04, 0x83, 200, 90])
    step = bytes([3, 0x81])                                            # +5 s
    due = bytes([3, 0x80])                                             # to the next timer
    chan = bytes([4, 0x11])
    chan_ok = bytes([1, 0x40, 2])
    data_in = bytes([6 | 8, 12]) + bytes([0x40, 0, 0, 8]) + b"wgpacket"
    return {
        "allocate": bind_ok + bind_ok + due + alloc_401 + alloc_ok + step,
        "allocate-channel": bind_ok + due + alloc_ok + chan + chan_ok + data_in + bytes([7, 0x11, 0]),
        "stale-nonce": bind_ok + due + bytes([1, 0x21, 0x18, 3, 240]) + bytes([1, 0x40 | 4, 1, 0x02, 0x13, 0x88, 0x12]),
        "portal-updates": bind_ok + bytes([5, 1]) + bytes([5 | 8]) + bytes([5 | 16, 0]) + bytes([5 | 24]) + due * 3,
        "raw-and-txid": bytes([0, 20]) + bytes(20) + bytes([2, 8, 0, 1, 1]) + bytes(8) + bytes([3, 0xC5]),
        "long-quiet": bind_ok + due + alloc_ok + bytes([3, 0xFF]) * 4,
    }


def seeds_stun():
    user, realm, pw = "2145916800:q3Jk", "firezone", "x9Zt-turn-password"
    lt = long_term_key(user, realm, pw)
    nonce = b"b5e7a51c4b9e2fc2"
    ice_key = b"zfjrrjdkbci42t2axyd45a"
    relayed = xor_addr("198.51.100.5", 49160, TX[1])
    data_ind = stun(ST_DATA, IND, TX[3], [(0x0012, xor_addr("203.0.113.9", 47717, TX[3])), (0x0013, b"hello")],
                    fingerprint=False)
    cd = b"wireguard handshake bytes"
    return {
        "binding-request": stun(ST_BINDING, REQ, TX[0], [(0x8022, b"fastgate")]),
        "binding-success": stun(ST_BINDING, OK, TX[0], [(0x0020, xor_addr("203.0.113.9", 47717, TX[0])),
                                                     (0x0020, xor_addr("2001:db8::9", 47717, TX[0]))]),
        "ice-check": stun(ST_BINDING, REQ, TX[2], [(0x0006, b"ejqt:hgwh"), (0x0024, struct.pack(">I", 1845501695)),
                                                (0x8029, bytes(8)), (0x0025, b"")], ice_key),
        "allocate-request": stun(ST_ALLOCATE, REQ, TX[1], [(0x0019, b"\x11\0\0\0"), (0x8000, b"\x02\0\0\0"),
                                                        (0x000D, struct.pack(">I", 600))]),
        "allocate-401": stun(ST_ALLOCATE, ERR, TX[1], [(0x0009, error_code(401, "Unauthorized")),
                                                    (0x0014, realm.encode()), (0x0015, nonce)]),
        "allocate-success": stun(ST_ALLOCATE, OK, TX[1], [(0x0016, relayed),
                                                          (0x0020, xor_addr("203.0.113.9", 47717, TX[1])),
                                                       (0x000D, struct.pack(">I", 600))], lt),
        "refresh-zero": stun(ST_REFRESH, REQ, TX[2], [(0x000D, bytes(4)), (0x0006, user.encode()),
                                                   (0x0014, realm.encode()), (0x0015, nonce)], lt),
        "channel-bind": stun(ST_CHANNEL_BIND, REQ, TX[3], [(0x000C, b"\x40\x00\0\0"),
                                                        (0x0012, xor_addr("203.0.113.9", 47717, TX[3]))], lt),
        "create-permission": stun(ST_CREATE_PERMISSION, REQ, TX[0], [(0x0012, xor_addr("203.0.113.9", 0, TX[0]))], lt),
        "unknown-attr-420": stun(ST_BINDING, REQ, TX[0], [(0x0031, b"\0\0\0\1"), (0x8022, b"x")]),
        "data-indication": data_ind,
        "channel-data": struct.pack(">HH", 0x4000, len(cd)) + cd + b"\0" * (-len(cd) % 4),
    }


# fuzz_uapi_multi: pairs (op, arg), op = conn + 3 * kind; kinds: 0 set=1, 1 get=1, 2-4 public_key,
# 5 remove / update_only, 6 endpoint, 7-8 allowed_ip, 9 replace_allowed_ips, 10 keepalive,
# 11 preshared_key, 12-14 blank line, 15 replace_peers / listen_port, 16 read, 17 hang up.
def uapi(steps):
    return b"".join(bytes([conn + 3 * kind, arg]) for conn, kind, arg in steps)


def seeds_uapi_multi():
    one_peer = [(0, 0, 1), (0, 2, 0), (0, 6, 5), (0, 7, 1), (0, 8, 2), (0, 10, 3), (0, 11, 0), (0, 12, 1),
                (0, 16, 0), (0, 1, 1), (0, 16, 0)]
    return {
        "set-get": uapi(one_peer),
        "replace-peers": uapi([(1, 0, 1), (1, 15, 8), (1, 2, 1), (1, 7, 3), (1, 9, 1), (1, 7, 4), (1, 12, 1),
                               (1, 16, 16)]),
        "remove": uapi(one_peer + [(2, 0, 1), (2, 2, 0), (2, 5, 1), (2, 12, 1), (2, 16, 0), (2, 1, 16)]),
        "interleaved": uapi([(0, 0, 1), (1, 0, 1), (0, 2, 0), (1, 2, 0), (0, 7, 1), (1, 5, 1), (0, 12, 1),
                             (1, 12, 1), (2, 1, 0), (2, 16, 0)]),
        "split-and-hangup": uapi([(0, 0, 1), (0, 2, 0x81), (0, 6, 0x85), (0, 17, 1), (0, 1, 0), (0, 16, 0)]),
        "listen-port": uapi([(2, 0, 1), (2, 15, 0), (2, 12, 1), (2, 1, 0), (2, 16, 0)]),
    }


# fuzz_metrics: a STATS_REPLY (its first 5240 bytes), then the data plane's version, a label
# value and a help text, cut at NULs.
def seeds_metrics():
    r = m_stats_reply(1)
    return {
        "stats-reply": r + b"0.1.0\0plain\0The help text.",
        "stats-reply-escapes": r + b"\xff\xfe1.0\n\0a\"b\\c\nd\tz\xc0\xaf\0back\\slash\nnew line",
        "stats-reply-utf8": r + "0.1.0-\u00fc\0\u20ac \U0001f600\0gr\u00fc\u00df".encode(),
        "all-A": b"A" * 5240 + b"AAAA",
        "short": r[:100],
    }


CORPORA = {
    "phoenix": seeds_phoenix, "portal_msg": seeds_portal_msg, "gateway": seeds_gateway, "dpclient": seeds_dpclient,
    "render": seeds_render, "metrics": seeds_metrics,
    "ctl_msg": seeds_ctl_msg, "dns_pattern": seeds_dns_pattern, "dnsmsg": seeds_dnsmsg,
    "flow_spool": seeds_flow_spool, "flow_token": seeds_flow_token, "flow_url": seeds_flow_url, "p2p": seeds_p2p,
    "p2pctl": seeds_p2pctl, "ice_candidate": seeds_ice_candidate, "natpkt": seeds_natpkt,
    "ice_input": seeds_ice_input, "relay": seeds_relay, "stun": seeds_stun, "uapi_multi": seeds_uapi_multi,
}


def main(argv):
    names = argv[1:] or list(CORPORA)
    for name in names:
        if name not in CORPORA:
            sys.exit(f"gen_cp_seeds.py: no corpus {name!r} (known: {', '.join(CORPORA)})")
        seeds = CORPORA[name]()
        assert 3 <= len(seeds) <= 20, name
        write(name, seeds)
        print(f"{name}: {len(seeds)} seeds")


if __name__ == "__main__":
    main(sys.argv)
