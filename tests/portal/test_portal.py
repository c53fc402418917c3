#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_portal.py: self-test of fake_portal.py and portalctl.py.

Starts fake_portal.py on 127.0.0.1:0 (and a wss one when openssl is available), then drives
it with a small websockets client that behaves like a Firezone gateway, checking the HTTP
checks, the Phoenix V1 framing, the scripted behaviours and the control API. Prints a
PASS/FAIL line per check and "portal-selftest: N passed, N failed"; exits 1 on any failure.
Run with Debian's interpreter:  /usr/bin/python3 tests/portal/test_portal.py
"""

import asyncio
import base64
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
from portalctl import PortalCtl, PortalError  # noqa: E402

try:
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidStatusCode
except ImportError:
    print("FAIL: python3-websockets missing; run with /usr/bin/python3")
    print("portal-selftest: 0 passed, 1 failed")
    sys.exit(1)

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TOKEN = "tok-%d" % os.getpid()
PUB = base64.b64encode(os.urandom(32)).decode()
UA = "Debian/12 gateway/1.6.1 (x86_64; 6.1.0-test)"
QUERY = "external_id=ext-%d&name=selftest&public_key=%s" % (os.getpid(), PUB.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"))
V2 = "/gateway/v2/websocket"

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("PASS: %s" % name)
    else:
        failed += 1
        print("FAIL: %s%s" % (name, (" -- " + str(detail)[:600]) if detail != "" else ""))
    sys.stdout.flush()
    return cond


class Portal:
    """A fake_portal.py process with its control client."""

    def __init__(self, tmp, name, extra=()):
        self.sock = os.path.join(tmp, name + ".sock")
        self.portfile = os.path.join(tmp, name + ".port")
        self.logpath = os.path.join(tmp, name + ".log")
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, "fake_portal.py"), "--listen", "127.0.0.1:0",
             "--port-file", self.portfile, "--control", self.sock, "--token", TOKEN] + list(extra),
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 5
        while not os.path.exists(self.portfile):
            if self.proc.poll() is not None or time.time() > deadline:
                with open(self.logpath) as f:
                    raise RuntimeError("fake_portal did not start: " + f.read())
            time.sleep(0.02)
        with open(self.portfile) as f:
            self.port = int(f.read())
        self.ctl = PortalCtl(self.sock)

    async def call(self, cmd, **kw):
        return await asyncio.to_thread(self.ctl.call, cmd, **kw)

    async def request(self, cmd, **kw):
        return await asyncio.to_thread(self.ctl.request, dict(kw, cmd=cmd))

    def stop(self):
        self.ctl.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def http_get(port, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    h = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
         "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
    h.update(headers)
    c.request("GET", path, headers=h)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    c.close()
    return out


def http_post(port, path, auth, doc):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    c.request("POST", path, body=json.dumps(doc).encode(),
              headers={"Authorization": auth, "Content-Type": "application/json"})
    r = c.getresponse()
    out = (r.status, r.read())
    c.close()
    return out


async def http_get_async(port, path, headers):
    return await asyncio.to_thread(http_get, port, path, headers)


GOOD_HDRS = {"X-Authorization": "Bearer " + TOKEN, "User-Agent": UA}


async def connect(port, path=V2 + "?" + QUERY, token=TOKEN, ua=UA, header=True, tls=None, scheme="ws"):
    extra = [("X-Authorization", "Bearer " + token)] if header else []
    return await websockets.connect("%s://127.0.0.1:%d%s" % (scheme, port, path), extra_headers=extra,
                                    user_agent_header=ua, ping_interval=None, open_timeout=3,
                                    close_timeout=2, ssl=tls)


async def recv(ws, timeout=2.0):
    """The next frame as an object, or None on timeout."""
    try:
        text = await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


async def send(ws, topic, event, payload, ref):
    await ws.send(json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref}))


async def join(ws, ref=0):
    await send(ws, "gateway", "phx_join", None, ref)
    return await recv(ws), await recv(ws)


async def suite(p):
    # --- good connect, join, init, heartbeat ---------------------------------------------
    ws = await connect(p.port)
    st = await p.call("status")
    check("status: connected after a good connect", st["connected"] and st["connections"] == 1, st)
    hs = st["last_handshake"] or {}
    check("handshake recorded: path, query, headers",
          hs.get("path") == V2 and hs.get("query", {}).get("public_key") == PUB
          and hs.get("query", {}).get("name") == "selftest"
          and hs.get("headers", {}).get("x-authorization") == "Bearer " + TOKEN
          and hs.get("headers", {}).get("user-agent") == UA and hs.get("result") == "accept"
          and hs.get("gateway_version") == "1.6.1" and hs.get("token_from") == "header", hs)
    reply, init = await join(ws)
    check("phx_join -> phx_reply ok with the same ref, V1 object",
          reply == {"topic": "gateway", "event": "phx_reply", "ref": 0,
                    "payload": {"status": "ok", "response": {}}}, reply)
    check("init pushed after the join (ref null, default interface)",
          isinstance(init, dict) and init.get("event") == "init" and init.get("topic") == "gateway"
          and "ref" in init and init["ref"] is None
          and init["payload"]["interface"] == {"ipv4": "100.64.0.1", "ipv6": "fd00:2021:1111::1"}
          and init["payload"]["relays"] == [] and init["payload"]["authorizations"] == [], init)
    await send(ws, "phoenix", "heartbeat", {}, 1)
    r = await recv(ws)
    check("heartbeat -> phx_reply ok on topic phoenix",
          r == {"topic": "phoenix", "event": "phx_reply", "ref": 1,
                "payload": {"status": "ok", "response": {}}}, r)
    st = await p.call("status")
    check("status: joined", st["joined"] and st["current"]["conn"] == 0, st)

    # --- pushes reach the client ---------------------------------------------------------
    auth = {"ref": "SFMyNTY.test", "resource": {"id": "r1", "type": "cidr", "address": "10.20.0.0/16",
                                                 "name": "Corp", "filters": []},
            "client": {"id": "c1", "public_key": PUB, "preshared_key": PUB, "ipv4": "100.93.74.51",
                       "ipv6": "fd00:2021:1111::f:853b"}, "expires_at": None}
    await p.call("push", event="create_authorization", payload=auth)
    r = await recv(ws)
    check("push create_authorization reaches the client",
          r == {"topic": "gateway", "event": "create_authorization", "payload": auth, "ref": None}, r)
    await p.call("push_raw", text="{not json")
    r = await recv(ws)
    check("push_raw sends the text as is", r == "{not json", r)

    # --- frames from the client: recorded, replies, wait_for -------------------------------
    mark = (await p.call("status"))["frames"]
    await send(ws, "gateway", "authorization_created", {"ref": "SFMyNTY.test"}, 2)
    r = await recv(ws)
    check("authorization_created -> phx_reply ok with the same ref",
          r == {"topic": "gateway", "event": "phx_reply", "ref": 2,
                "payload": {"status": "ok", "response": {}}}, r)
    w = await p.call("wait_for", event="authorization_created", since_index=mark, timeout=2,
                     match={"ref": "SFMyNTY.test"})
    f = w["frame"]
    check("wait_for returns the recorded frame",
          f["event"] == "authorization_created" and f["ref"] == 2 and f["payload"] == {"ref": "SFMyNTY.test"}
          and f["topic"] == "gateway" and isinstance(f["time"], float) and f["index"] == mark, w)
    await send(ws, "gateway", "set_snownet_capabilities", {"iceless": False}, 3)
    await send(ws, "gateway", "no_such_event", {}, 4)
    r = await recv(ws)
    check("set_snownet_capabilities gets no reply; unknown event -> error unknown_message",
          r == {"topic": "gateway", "event": "phx_reply", "ref": 4,
                "payload": {"status": "error", "response": {"reason": "unknown_message"}}}, r)
    await send(ws, "gateway", "no_relays", {}, 5)
    r = await recv(ws)
    check("no_relays -> relays_presence push",
          isinstance(r, dict) and r.get("event") == "relays_presence" and r.get("ref") is None
          and r["payload"] == {"disconnected_ids": [], "connected": []}, r)
    try:
        await p.call("wait_for", event="never_sent", since_index=mark, timeout=0.3)
        check("wait_for times out with an error", False, "no error")
    except PortalError as e:
        check("wait_for times out with an error", "timeout" in str(e), e.response)
    got = await p.call("received", since_index=mark)
    events = [x["event"] for x in got["frames"]]
    check("received lists every frame in order",
          events == ["authorization_created", "set_snownet_capabilities", "no_such_event", "no_relays"]
          and got["next_index"] == mark + 4, got)
    got = await p.call("received", event="heartbeat")
    check("received filters by event", len(got["frames"]) == 1 and got["frames"][0]["ref"] == 1, got)

    # --- unmatched topic, malformed frames, heartbeats off --------------------------------
    await send(ws, "room:lobby", "phx_join", {}, 6)
    r = await recv(ws)
    check("unknown topic -> phx_reply error unmatched topic",
          r == {"topic": "room:lobby", "event": "phx_reply", "ref": 6,
                "payload": {"status": "error", "response": {"reason": "unmatched topic"}}}, r)
    await ws.send("this is not json")
    w = await p.call("wait_for", since_index=mark + 5, timeout=2)
    check("malformed frame recorded with an error and raw text",
          w["frame"]["event"] is None and w["frame"].get("raw") == "this is not json"
          and "JSON" in w["frame"].get("error", ""), w)
    await p.call("heartbeat_replies", enabled=False)
    await send(ws, "phoenix", "heartbeat", {}, 7)
    r = await recv(ws, 0.4)
    check("heartbeat_replies off: heartbeat unanswered", r is None, r)
    await p.call("heartbeat_replies", enabled=True)
    await send(ws, "phoenix", "heartbeat", {}, 8)
    r = await recv(ws)
    check("heartbeat_replies on again; connection survived the malformed frame",
          isinstance(r, dict) and r.get("ref") == 8, r)
    await p.call("unjoin", notify="phx_close")
    r = await recv(ws)
    check("unjoin pushes phx_close", isinstance(r, dict) and r.get("event") == "phx_close", r)
    await send(ws, "gateway", "authorization_created", {"ref": "x"}, 9)
    r = await recv(ws)
    check("after unjoin: gateway message -> unmatched topic",
          isinstance(r, dict) and r.get("ref") == 9
          and r["payload"] == {"status": "error", "response": {"reason": "unmatched topic"}}, r)

    # --- close from the client with 1000 --------------------------------------------------
    await ws.close(1000, "bye")
    c = (await p.call("wait_closed", timeout=3))["close"]
    check("client close 1000 recorded",
          c["code"] == 1000 and c["reason"] == "bye" and c["initiator"] == "gateway" and c["received"], c)
    st = await p.call("status")
    check("status after close: not connected", not st["connected"] and st["last_close"]["code"] == 1000, st)

    # --- HTTP checks -----------------------------------------------------------------------
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY, {"X-Authorization": "Bearer wrong", "User-Agent": UA})
    check("bad token -> 401 invalid_token",
          s == 401 and json.loads(b) == {"error": {"reason": "invalid_token"}}, (s, b))
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY, {"User-Agent": UA})
    check("no token -> 401 missing_token", s == 401 and json.loads(b)["error"]["reason"] == "missing_token", (s, b))
    try:
        await connect(p.port, token="wrong")
        check("websockets client sees 401 on a bad token", False, "connected")
    except InvalidStatusCode as e:
        check("websockets client sees 401 on a bad token", e.status_code == 401, e)
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY.replace("public_key=", "public_key=A"), GOOD_HDRS)
    check("public_key of 45 characters -> 422", s == 422 and b"public_key" in b, (s, b))
    s, h, b = await http_get_async(p.port, V2 + "?name=x&public_key=" + PUB.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"), GOOD_HDRS)
    check("missing external_id -> 422", s == 422 and b"external_id" in b, (s, b))
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY, {"X-Authorization": "Bearer " + TOKEN,
                                                              "User-Agent": "curl/8.0"})
    check("User-Agent without gateway/<semver> -> 422", s == 422 and b"user agent" in b, (s, b))
    s, h, b = await http_get_async(p.port, "/gateway/websocket?" + QUERY, GOOD_HDRS)
    check("v1 path refused without --allow-v1 (404)", s == 404, (s, b))
    ws = await connect(p.port, path=V2 + "?" + QUERY + "&token=" + TOKEN, header=False)
    hs = (await p.call("status"))["last_handshake"]
    check("legacy ?token= query parameter accepted", hs["result"] == "accept" and hs["token_from"] == "query", hs)
    await ws.close()

    # --- Origin, as Phoenix check_origin: :conn behind TLS: only https://<Host> -----------
    bad_origin = dict(GOOD_HDRS, Origin="http://127.0.0.1:%d" % p.port)
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY, dict(bad_origin, **{"X-Authorization": "Bearer wrong"}))
    check("foreign Origin -> 403 forbidden, before the token is read",
          s == 403 and json.loads(b)["error"]["reason"] == "forbidden", (s, b))
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY, dict(GOOD_HDRS, Host="portal.test:443",
                                                                  Origin="https://portal.test:443"))
    check("Origin with :443 while Host drops it -> 403", s == 403, (s, b))
    ws = await websockets.connect("ws://127.0.0.1:%d%s?%s" % (p.port, V2, QUERY),
                                  extra_headers=[("X-Authorization", "Bearer " + TOKEN)],
                                  user_agent_header=UA, origin="https://127.0.0.1:%d" % p.port,
                                  ping_interval=None, open_timeout=3, close_timeout=2)
    hs = (await p.call("status"))["last_handshake"]
    check("Origin https://<Host> accepted, headers recorded",
          hs["result"] == "accept" and hs["headers"].get("origin") == "https://127.0.0.1:%d" % p.port
          and hs["headers"].get("host") == "127.0.0.1:%d" % p.port, hs)
    await ws.close()

    # --- scripted answers: 503 + Retry-After, 409, then accept ----------------------------
    a0 = (await p.call("status"))["attempts"]
    await p.call("next_responses", list=[{"status": 503, "retry_after": 2}, 409, "accept"])
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY, GOOD_HDRS)
    check("scripted 503 with Retry-After", s == 503 and h.get("retry-after") == "2", (s, h))
    try:
        await connect(p.port)
        check("scripted 409 gateway_already_connected", False, "connected")
    except InvalidStatusCode as e:
        check("scripted 409 gateway_already_connected", e.status_code == 409, e)
    ws = await connect(p.port)
    at = (await p.call("attempts", since_index=a0))["attempts"]
    check("then accept; every attempt recorded",
          [(x["result"], x["status"]) for x in at] == [("reject", 503), ("reject", 409), ("accept", 101)]
          and at[0]["retry_after"] == 2 and at[1]["reason"] == "gateway_already_connected", at)
    await p.call("next_responses", list=[{"hang": 0.3}])
    t0 = time.monotonic()
    s, h, b = await http_get_async(p.port, V2 + "?" + QUERY, GOOD_HDRS)
    check("scripted hang answers 504 after the delay", s == 504 and time.monotonic() - t0 >= 0.28, s)
    reply, init = await join(ws, ref=0)
    check("rejoin after reconnect gets init again",
          reply["payload"]["status"] == "ok" and init and init.get("event") == "init", (reply, init))

    # --- close from the portal and abrupt drop --------------------------------------------
    async def client_close_code():
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as e:
            return e.code
    waiter = asyncio.ensure_future(client_close_code())
    c = (await p.call("close", code=4001, reason="test"))["close"]
    code = await asyncio.wait_for(waiter, 3)
    check("close {code}: the client sees 4001 and the portal records it",
          code == 4001 and c["sent_code"] == 4001 and c["initiator"] == "portal", (code, c))
    ws = await connect(p.port)
    await p.call("drop")
    try:
        await asyncio.wait_for(ws.recv(), 3)
        check("drop: the client sees an abnormal close", False, "got a frame")
    except ConnectionClosed as e:
        check("drop: the client sees an abnormal close", e.code == 1006, e)
    st = await p.call("status")
    check("drop recorded", st["last_close"]["dropped"] and st["last_close"]["code"] == 1006, st["last_close"])

    # --- the flow-log ingest API, on the portal's own port -----------------------------------
    ws = await connect(p.port)
    await join(ws)
    tok = "h." + base64.urlsafe_b64encode(b'{"policy_authorization_id":"pa-1"}').decode().rstrip("=") + ".s"
    await p.call("push", event="create_authorization", payload={"flow_logs_ingest_token": tok})
    await recv(ws)
    attempts = (await p.call("status"))["attempts"]
    bad = await asyncio.to_thread(http_post, p.port, "/ingestion/flow_logs", "Bearer other", {"flow_logs": [{}]})
    good = await asyncio.to_thread(http_post, p.port, "/ingestion/flow_logs", "Bearer " + tok,
                                   {"flow_logs": [{"protocol": "tcp", "inner_src_port": 46001}]})
    await p.call("flow_logs_responses", list=[503])
    busy = await asyncio.to_thread(http_post, p.port, "/ingestion/flow_logs", "Bearer " + tok, {"flow_logs": []})
    fl = await p.call("flow_logs")
    ups = fl["uploads"]
    check("ingest: a token the portal never issued is 401, an issued one 200, a scripted 503",
          (bad[0], good[0], busy[0]) == (401, 200, 503), (bad, good, busy))
    check("ingest: flow_logs lists every POST and the accepted records",
          len(ups) == 3 and fl["records"] == [{"protocol": "tcp", "inner_src_port": 46001}]
          and ups[1]["policy_authorization_id"] == "pa-1" and ups[1]["token_ok"]
          and "flow_logs" not in ups[0] and "flow_logs" not in ups[2], fl)
    st = await p.call("status")
    check("ingest: POSTs are not WebSocket connect attempts", st["attempts"] == attempts, st)
    await ws.close(1000)
    await p.call("wait_closed", timeout=3)

    # --- scripted join replies ------------------------------------------------------------
    ws = await connect(p.port)
    await p.call("join_reply", mode="error", reason="nope")
    await send(ws, "gateway", "phx_join", None, 0)
    r = await recv(ws)
    check("join_reply error", r == {"topic": "gateway", "event": "phx_reply", "ref": 0,
                                    "payload": {"status": "error", "response": {"reason": "nope"}}}, r)
    await p.call("join_reply", mode="none")
    await send(ws, "gateway", "phx_join", None, 1)
    r = await recv(ws, 0.4)
    check("join_reply none: no answer", r is None, r)
    await p.call("join_reply", mode="ok", delay=0.5)
    await p.call("set_init", payload={"interface": {"ipv4": "100.64.9.9"}, "config": {}, "relays": []})
    t0 = time.monotonic()
    await send(ws, "gateway", "phx_join", None, 2)
    r = await recv(ws)
    dt = time.monotonic() - t0
    init = await recv(ws)
    check("join_reply delay 0.5 s, then the set_init payload",
          r and r["ref"] == 2 and r["payload"]["status"] == "ok" and 0.45 <= dt < 1.5
          and init["payload"]["interface"]["ipv4"] == "100.64.9.9", (r, dt, init))
    await p.call("join_reply", mode="ok")
    await ws.close(1000)
    await p.call("wait_closed", timeout=3)


async def frames_suite(p):
    """push_big and flood, the fault tests' oversize frame and message flood."""
    ws = await websockets.connect("ws://127.0.0.1:%d%s?%s" % (p.port, V2, QUERY),
                                  extra_headers=[("X-Authorization", "Bearer " + TOKEN)],
                                  user_agent_header=UA, ping_interval=None, open_timeout=3,
                                  close_timeout=2, max_size=8 << 20)
    await join(ws)
    for kind, frag in (("pad", 0), ("values", 0), ("pad", 65536)):
        r = await p.call("push_big", bytes=3 << 20, kind=kind, fragment=frag)
        text = await asyncio.wait_for(ws.recv(), 5)
        obj = json.loads(text)
        payload_ok = (obj["payload"]["pad"] == "x" * len(obj["payload"]["pad"]) if kind == "pad"
                      else set(obj["payload"]) == {0} and len(obj["payload"]) > 1 << 20)
        check("push_big %s%s: one 3 MiB message, valid JSON, the answer not closed" %
              (kind, " in 64 KiB fragments" if frag else ""),
              len(text) == 3 << 20 and obj["event"] == "fg_big" and payload_ok and not r["closed"],
              (len(text), r))
    r = await p.request("push_big", kind="nothing")
    check("push_big: a bad kind is refused", r["ok"] is False and "kind" in r["error"], r)

    frames = [{"event": "fg_flood", "payload": {"n": "%N%"}},
              {"event": "create_authorization", "payload": {"ref": "flood-%N%"}},
              {"event": "fg_flood_2", "payload": {}}]
    r = await p.call("flood", rate=4000, seconds=0.5, frames=frames)
    got = []
    while len(got) < 2000:
        m = await recv(ws, 3)
        if m is None:
            break
        got.append(m)
    refs = [m["payload"]["ref"] for m in got if m["event"] == "create_authorization"]
    check("flood 4000/s for 0.5 s: 2000 frames in order, the list cycled, %N% numbered",
          r["sent"] == 2000 and not r["closed"] and len(got) == 2000
          and [m["event"] for m in got[:3]] == ["fg_flood", "create_authorization", "fg_flood_2"]
          and got[3]["payload"] == {"n": "3"} and refs == ["flood-%d" % i for i in range(1, 2000, 3)],
          (r, len(got), got[:4]))
    check("flood paced: about 0.5 s, not a burst", 0.4 <= r["seconds"] < 5, r)

    # A gateway that refuses the frame (its size limit) closes the connection: "closed".
    await ws.close()
    small = await websockets.connect("ws://127.0.0.1:%d%s?%s" % (p.port, V2, QUERY),
                                     extra_headers=[("X-Authorization", "Bearer " + TOKEN)],
                                     user_agent_header=UA, ping_interval=None, open_timeout=3,
                                     close_timeout=2, max_size=1 << 20)
    await join(small)

    async def read_until_closed():
        try:
            while True:
                await small.recv()  # the 1 MiB limit closes with 1009 as the frame arrives
        except ConnectionClosed:
            pass
    reader = asyncio.ensure_future(read_until_closed())
    r = await p.call("push_big", bytes=4 << 20)
    await asyncio.wait_for(reader, 5)
    st = await p.call("wait_closed", timeout=5)
    check("push_big to a gateway that closes on it: the answer says closed, code 1009",
          r["closed"] and st["close"]["code"] == 1009, (r, st))


def cli_checks(p):
    ctl = [PY, os.path.join(HERE, "portalctl.py"), p.sock]
    r = subprocess.run(ctl + ["status"], capture_output=True, text=True, timeout=10)
    ok = r.returncode == 0 and json.loads(r.stdout)["ok"] is True
    check("portalctl CLI: status exits 0 with JSON", ok, (r.returncode, r.stdout, r.stderr))
    r = subprocess.run(ctl + ["wait_for", '{"event":"nothing","timeout":0.2}'], capture_output=True,
                       text=True, timeout=10)
    check("portalctl CLI: error response exits 1", r.returncode == 1 and
          json.loads(r.stdout)["ok"] is False, (r.returncode, r.stdout, r.stderr))
    r = subprocess.run(ctl + ["push", '{"event":"x"}'], capture_output=True, text=True, timeout=10)
    check("portalctl CLI: push without a connection exits 1", r.returncode == 1, (r.returncode, r.stdout))
    r = subprocess.run(ctl[:2] + [p.sock + ".missing", "status"], capture_output=True, text=True, timeout=10)
    check("portalctl CLI: missing socket exits 2", r.returncode == 2, (r.returncode, r.stderr))


async def tls_suite(tmp):
    if not shutil.which("openssl"):
        print("SKIP: wss (no openssl)")
        return
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                       capture_output=True, timeout=20)
    if r.returncode:
        check("openssl made a test certificate", False, r.stderr)
        return
    p = Portal(tmp, "tls", ["--tls", cert, key, "--allow-v1"])
    try:
        ctx = ssl.create_default_context(cafile=cert)
        ws = await connect(p.port, path="/gateway/websocket?" + QUERY, tls=ctx, scheme="wss")
        reply, init = await join(ws)
        check("wss + --allow-v1: join and init over TLS on /gateway/websocket",
              reply["payload"]["status"] == "ok" and init["event"] == "init", (reply, init))
        await ws.close()
    finally:
        p.stop()


def main():
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="fgportal.%d." % os.getpid())
    p = None
    try:
        p = Portal(tmp, "main")
        check("fake_portal started and wrote its port", p.port > 0, p.port)
        try:
            asyncio.run(asyncio.wait_for(suite(p), 30))
        except Exception as e:  # a crash in the middle is a failure, not a traceback
            check("suite ran to the end", False, repr(e))
        try:
            asyncio.run(asyncio.wait_for(frames_suite(p), 30))
        except Exception as e:
            check("push_big / flood suite ran to the end", False, repr(e))
        cli_checks(p)
        p.proc.send_signal(signal.SIGTERM)
        try:
            rc = p.proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        check("SIGTERM: exits 0 and removes its control socket",
              rc == 0 and not os.path.exists(p.sock), rc)
        try:
            asyncio.run(asyncio.wait_for(tls_suite(tmp), 20))
        except Exception as e:
            check("wss suite ran to the end", False, repr(e))
    except Exception as e:
        check("self-test set-up", False, repr(e))
    finally:
        if p is not None:
            p.stop()
            if failed:
                print("--- fake_portal log (last 40 lines) ---")
                with open(p.logpath) as f:
                    print("".join(f.readlines()[-40:]), end="")
        shutil.rmtree(tmp, ignore_errors=True)
    print("elapsed: %.1f s" % (time.monotonic() - t0))
    print("portal-selftest: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
