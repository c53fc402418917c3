#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""fake_portal.py: a scriptable Firezone portal for fastgate's tests and demo.

It speaks the Firezone gateway portal wire format (reference §2): a WebSocket on
/gateway/v2/websocket (and /gateway/websocket with --allow-v1) that checks the login URL
and headers, Phoenix V1 JSON frames {topic, event, payload, ref}, the "gateway" channel
join, heartbeats on "phoenix", the `init` push and replies to the gateway's messages.
Tests drive it and read what it saw through a JSON-lines control socket (see README.md
and portalctl.py). The flow-log ingest API (POST /ingestion/flow_logs) is served on the same
port, for the Bearer tokens the portal handed out.

Run with Debian's interpreter, which has python3-websockets 10.4:
    /usr/bin/python3 tests/portal/fake_portal.py --listen 127.0.0.1:0 --port-file P \
        --control /tmp/portal.sock --token SECRET [--tls-cert CERT --tls-key KEY] [--allow-v1]
"""

import argparse
import asyncio
import base64
import copy
import http
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import time
from collections import deque
from urllib.parse import parse_qs, urlsplit

try:
    import websockets
    from websockets.exceptions import AbortHandshake, ConnectionClosed, InvalidMessage
    from websockets.legacy.http import read_headers, read_line
    from websockets.legacy.server import WebSocketServerProtocol
except ImportError:  # pragma: no cover - environment problem
    sys.stderr.write("fake_portal: needs python3-websockets; run it with /usr/bin/python3\n")
    sys.exit(2)

V2_PATH = "/gateway/v2/websocket"
V1_PATH = "/gateway/websocket"
SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")

DEFAULT_INIT = {
    "interface": {"ipv4": "100.64.0.1", "ipv6": "fd00:2021:1111::1"},
    "config": {"ipv4_masquerade_enabled": True, "ipv6_masquerade_enabled": True},
    "account_slug": "fastgate-test",
    "relays": [],
    "authorizations": [],
    "flow_logs": {"api_url": "http://127.0.0.1:9", "upload_interval_secs": 60,
                  "upload_batch_size": 1000},
}

DEFAULT_REASONS = {401: "invalid_token", 403: "forbidden", 404: "not_found",
                   409: "gateway_already_connected", 422: "invalid_params",
                   429: "rate_limited", 500: "internal_error", 502: "bad_gateway",
                   503: "service_unavailable", 504: "gateway_timeout"}

# Gateway -> portal events the real portal answers with phx_reply ok (v2 and v1 names).
REPLY_OK_EVENTS = {"authorization_created", "flow_authorized", "connection_ready"}
# Events the real portal handles without any reply ({:noreply, socket}).
NOREPLY_EVENTS = {"set_snownet_capabilities", "broadcast_ice_candidates",
                  "broadcast_invalidated_ice_candidates", "no_relays"}
LOG_MAX = 2000


def log(msg):
    now = time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + ".%03d" % int((now % 1) * 1000)
    sys.stderr.write("%s fake_portal: %s\n" % (stamp, msg))
    sys.stderr.flush()


def short(text):
    return text if len(text) <= LOG_MAX else text[:LOG_MAX] + "...(%d bytes)" % len(text)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


class CtlError(Exception):
    """An error answered to a control client as {"ok": false, "error": ...}."""


def parse_response_entry(entry):
    """Normalises one next_responses entry to a dict with a "kind"."""
    if entry == "accept":
        return {"kind": "accept"}
    if entry == "hang":
        return {"kind": "hang", "seconds": 30.0}
    if isinstance(entry, bool):
        raise CtlError("bad response entry %r" % (entry,))
    if isinstance(entry, str) and entry.isdigit():
        entry = int(entry)
    if isinstance(entry, int):
        entry = {"status": entry}
    if not isinstance(entry, dict):
        raise CtlError("bad response entry %r" % (entry,))
    if "hang" in entry:
        return {"kind": "hang", "seconds": float(entry["hang"])}
    status = entry.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599 or status == 101:
        raise CtlError("bad status in response entry %r" % (entry,))
    out = {"kind": "status", "status": status,
           "reason": entry.get("reason", DEFAULT_REASONS.get(status, "error"))}
    if entry.get("retry_after") is not None:
        out["retry_after"] = entry["retry_after"]
    if entry.get("body") is not None:
        out["body"] = str(entry["body"])
    return out


def gateway_version(user_agent):
    """The <semver> of the first space-separated "gateway/<semver>" word, as the portal's
    Portal.Version.fetch_version finds it; None when there is none."""
    for word in (user_agent or "").split(" "):
        if word.startswith("gateway/"):
            version = word[len("gateway/"):]
            return version if SEMVER_RE.match(version) else None
    return None


def check_public_key(value):
    if len(value) != 44:
        return False
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (ValueError, base64.binascii.Error):
        return False


class Conn:
    """One accepted WebSocket connection."""

    def __init__(self, cid, ws, attempt):
        self.id = cid
        self.ws = ws
        self.attempt = attempt
        self.opened_at = time.time()
        self.joined = False
        self.closed = False
        self.close = None

    def info(self):
        a = self.attempt
        return {"conn": self.id, "opened_at": self.opened_at, "joined": self.joined,
                "closed": self.closed, "remote": a["remote"], "path": a["path"],
                "query": a["query"], "headers": a["headers"], "attempt": a["index"]}


class PortalProtocol(WebSocketServerProtocol):
    """Runs the URL/header checks and the scripted answers before the upgrade, and answers
    the flow-log ingest API's POSTs, which share the portal's host (api_url)."""

    portal = None  # set on the subclass created in Portal.start()

    async def process_request(self, path, request_headers):
        return await self.portal.check_request(self, path, request_headers)

    async def read_http_request(self):
        # websockets refuses anything but GET before process_request; a POST is answered
        # here, as the handshake's abort (one request, then the connection closes).
        try:
            method, raw_path, version = (await read_line(self.reader)).split(b" ", 2)
            headers = await read_headers(self.reader)
        except Exception as exc:
            raise InvalidMessage("did not receive a valid HTTP request") from exc
        path = raw_path.decode("ascii", "surrogateescape")
        if method == b"POST":
            raise AbortHandshake(*await self.portal.ingest(self, path, headers))
        if method != b"GET" or version != b"HTTP/1.1":
            raise InvalidMessage("unsupported HTTP method or version")
        self.path, self.request_headers = path, headers
        return path, headers


class Portal:
    def __init__(self, args):
        self.args = args
        self.token = args.token
        self.allow_v1 = args.allow_v1
        self.check_ua = not args.no_ua_check
        self.init_payload = copy.deepcopy(DEFAULT_INIT)
        if args.init:
            with open(args.init) as f:
                self.init_payload = json.load(f)
        self.init_enabled = not args.no_init
        self.heartbeat_replies = True
        self.join_mode = "ok"
        self.join_delay = 0.0
        self.join_reason = "join crashed"
        self.reply_policy = "all_ok" if args.reply_all_ok else "portal"
        self.responses = deque()
        self.ingest_tokens = set()      # flow_logs_ingest_token of every message sent
        self.ingest_responses = deque()
        self.flow_uploads = []
        self.attempts = []
        self.conns = []
        self.frames = []
        self.sent = []
        self.closes = []
        self.cond = None
        self.stop_event = None
        self.port = None
        self.ws_server = None
        self.ctl_server = None

    # --- bookkeeping ------------------------------------------------------------------------

    async def notify(self):
        async with self.cond:
            self.cond.notify_all()

    def current(self):
        for c in reversed(self.conns):
            if not c.closed:
                return c
        return None

    # --- the HTTP upgrade -------------------------------------------------------------------

    async def check_request(self, proto, path, headers):
        split = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        hdrs = {}
        for k, v in headers.raw_items():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        remote = proto.remote_address
        attempt = {"index": len(self.attempts), "time": time.time(),
                   "remote": list(remote[:2]) if remote else None, "path": split.path,
                   "raw_path": path, "query": query, "headers": hdrs,
                   "result": None, "status": None, "reason": None}
        self.attempts.append(attempt)
        proto.fg_attempt = attempt
        log("HTTP %s from %s ua=%r" % (path, attempt["remote"], hdrs.get("user-agent")))

        scripted = self.responses.popleft() if self.responses else None
        if scripted and scripted["kind"] == "hang":
            attempt["result"] = "hang"
            await self.notify()
            log("attempt %d: hanging for %.1f s (scripted)" % (attempt["index"], scripted["seconds"]))
            try:
                await asyncio.wait_for(proto.wait_closed(), scripted["seconds"])
                log("attempt %d: the client went away while we hung" % attempt["index"])
                return None  # nothing to answer
            except asyncio.TimeoutError:
                return self.reject(attempt, 504, "gateway_timeout")
        if scripted and scripted["kind"] == "status":
            return self.reject(attempt, scripted["status"], scripted["reason"],
                               retry_after=scripted.get("retry_after"), body=scripted.get("body"),
                               scripted=True)

        allowed = [V2_PATH] + ([V1_PATH] if self.allow_v1 else [])
        if split.path not in allowed:
            return self.reject(attempt, 404, "not_found")
        # Phoenix check_origin: :conn (portal_api/endpoint.ex): a present Origin must be the
        # conn's own scheme, host and port, which behind the portal's TLS is https on 443;
        # anything else is 403 before the token is read. The Rust gateway sends no Origin.
        origin = headers.get("Origin")
        if origin is not None and origin != own_origin(headers.get("Host")):
            return self.reject(attempt, 403, "forbidden",
                               details=["Origin %r is not %r" % (origin, own_origin(headers.get("Host")))])
        auth = headers.get("X-Authorization")
        if auth is not None and auth.startswith("Bearer "):
            token = auth[len("Bearer "):]
            attempt["token_from"] = "header"
        elif "token" in query:
            token = query["token"]
            attempt["token_from"] = "query"
        else:
            return self.reject(attempt, 401, "missing_token")
        if token != self.token:
            return self.reject(attempt, 401, "invalid_token")
        problems = []
        for key in ("external_id", "name", "public_key"):
            if not query.get(key):
                problems.append("%s missing" % key)
        if query.get("public_key") and not check_public_key(query["public_key"]):
            problems.append("public_key must be 44 characters of base64 for 32 bytes")
        attempt["gateway_version"] = gateway_version(headers.get("User-Agent"))
        if self.check_ua and attempt["gateway_version"] is None:
            problems.append("user agent has no gateway/<semver>")
        if problems:
            return self.reject(attempt, 422, "invalid_params", details=problems)
        attempt["result"] = "accept"
        attempt["status"] = 101
        await self.notify()
        return None

    def reject(self, attempt, status, reason, retry_after=None, body=None, details=None,
               scripted=False):
        attempt.update(result="reject", status=status, reason=reason, scripted=scripted)
        if details:
            attempt["details"] = details
        hdrs = [("Content-Type", "application/json")]
        if retry_after is not None:
            hdrs.append(("Retry-After", str(retry_after)))
            attempt["retry_after"] = retry_after
        if body is None:
            err = {"reason": reason}
            if details:
                err["details"] = details
            body = dumps({"error": err})
        log("attempt %d: HTTP %d %s%s%s" % (attempt["index"], status, reason,
                                            " (scripted)" if scripted else "",
                                            " " + "; ".join(details) if details else ""))
        asyncio.get_running_loop().create_task(self.notify())
        return (http.HTTPStatus(status), hdrs, body.encode())

    # --- the flow-log ingest API ------------------------------------------------------------

    async def ingest(self, proto, path, headers):
        """POST /ingestion/flow_logs: a Bearer token the portal issued (a create_authorization
        it sent), a JSON {"flow_logs":[{...}]} body; accepted batches are kept for the
        flow_logs command. Returns (status, headers, body) for the answer."""
        rec = {"index": len(self.flow_uploads), "time": time.time(), "path": path,
               "remote": list(proto.remote_address[:2]) if proto.remote_address else None}
        try:
            length = int(headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        body = b""
        if 0 <= length <= 16 * 1024 * 1024:
            body = await proto.reader.readexactly(length)
        auth = headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        rec["token_ok"] = token in self.ingest_tokens
        try:
            claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            rec["policy_authorization_id"] = claims.get("policy_authorization_id")
        except Exception:  # not a JWT: the record says so by leaving it out
            pass
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        logs = doc.get("flow_logs") if isinstance(doc, dict) else None
        scripted = self.ingest_responses.popleft() if self.ingest_responses else None
        if scripted:
            status, reason = scripted["status"], "scripted"
        elif path != "/ingestion/flow_logs":
            status, reason = 404, "not_found"
        elif not rec["token_ok"]:
            status, reason = 401, "invalid_token"
        elif not headers.get("Content-Type", "").startswith("application/json"):
            status, reason = 415, "unsupported_media_type"
        elif not isinstance(logs, list) or not all(isinstance(x, dict) for x in logs):
            status, reason = 422, "invalid_params"
        else:
            status, reason = 200, None
        rec.update(status=status, reason=reason, count=len(logs) if isinstance(logs, list) else None)
        if status // 100 == 2:
            rec["flow_logs"] = logs
        self.flow_uploads.append(rec)
        log("ingest %d: POST %s: %d reports, HTTP %d%s" % (rec["index"], path, rec["count"] or 0, status,
                                                          " " + reason if reason else ""))
        asyncio.get_running_loop().create_task(self.notify())
        body = (scripted or {}).get("body") or dumps({"error": {"reason": reason}} if reason else {})
        hdrs = [("Content-Type", "application/json")]
        if scripted and scripted.get("retry_after") is not None:
            hdrs.append(("Retry-After", str(scripted["retry_after"])))
        return http.HTTPStatus(status), hdrs, body.encode()

    # --- the WebSocket ----------------------------------------------------------------------

    async def ws_handler(self, ws):
        conn = Conn(len(self.conns), ws, ws.fg_attempt)
        ws.fg_attempt["conn"] = conn.id
        self.conns.append(conn)
        log("conn %d: open (%s)" % (conn.id, conn.attempt["path"]))
        await self.notify()
        try:
            async for msg in ws:
                await self.on_frame(conn, msg)
        except ConnectionClosed:
            pass
        finally:
            conn.closed = True
            if ws.close_rcvd_then_sent is None:
                initiator = None
            else:
                initiator = "gateway" if ws.close_rcvd_then_sent else "portal"
            conn.close = {"index": len(self.closes), "conn": conn.id, "time": time.time(),
                          "code": ws.close_code, "reason": ws.close_reason,
                          "received": ws.close_rcvd is not None,
                          "sent_code": ws.close_sent.code if ws.close_sent else None,
                          "initiator": initiator, "dropped": getattr(ws, "fg_dropped", False)}
            self.closes.append(conn.close)
            log("conn %d: closed code=%s reason=%r initiator=%s" %
                (conn.id, ws.close_code, ws.close_reason, initiator))
            await self.notify()

    async def send(self, conn, obj):
        text = obj if isinstance(obj, str) else dumps(obj)
        await conn.ws.send(text)
        rec = {"index": len(self.sent), "conn": conn.id, "time": time.time(), "text": text}
        if isinstance(obj, dict):
            rec.update(topic=obj.get("topic"), event=obj.get("event"), payload=obj.get("payload"),
                       ref=obj.get("ref"))
        self.sent.append(rec)
        payload = obj.get("payload") if isinstance(obj, dict) else None
        if isinstance(payload, dict) and isinstance(payload.get("flow_logs_ingest_token"), str):
            self.ingest_tokens.add(payload["flow_logs_ingest_token"])
        log("conn %d: TX %s" % (conn.id, short(text)))

    async def reply(self, conn, topic, ref, status="ok", response=None):
        await self.send(conn, {"topic": topic, "event": "phx_reply", "ref": ref,
                               "payload": {"status": status,
                                           "response": {} if response is None else response}})

    async def on_frame(self, conn, msg):
        rec = {"index": len(self.frames), "conn": conn.id, "time": time.time(),
               "topic": None, "event": None, "payload": None, "ref": None}
        if isinstance(msg, bytes):
            rec.update(binary=True, raw=msg.hex(), error="binary frame")
            obj = None
        else:
            try:
                obj = json.loads(msg)
            except ValueError as e:
                obj, rec["error"] = None, "invalid JSON: %s" % e
            if obj is not None and not (isinstance(obj, dict) and isinstance(obj.get("topic"), str)
                                        and isinstance(obj.get("event"), str)):
                obj, rec["error"] = None, "not a Phoenix V1 message object"
            if obj is None:
                rec["raw"] = msg
            else:
                rec.update(topic=obj["topic"], event=obj["event"], payload=obj.get("payload"),
                           ref=obj.get("ref"))
                if "join_ref" in obj:
                    rec["join_ref"] = obj["join_ref"]
        self.frames.append(rec)
        log("conn %d: RX %s" % (conn.id, short(msg if isinstance(msg, str) else "<binary %d bytes>" % len(msg))))
        await self.notify()
        if obj is None:
            log("conn %d: malformed frame ignored (%s)" % (conn.id, rec["error"]))
            return
        topic, event, ref = rec["topic"], rec["event"], rec["ref"]
        if topic == "phoenix" and event == "heartbeat":
            if self.heartbeat_replies:
                await self.reply(conn, "phoenix", ref)
            else:
                log("conn %d: heartbeat not answered (scripted)" % conn.id)
            return
        if topic != "gateway":
            await self.reply(conn, topic, ref, "error", {"reason": "unmatched topic"})
            return
        if event == "phx_join":
            await self.on_join(conn, ref)
            return
        if not conn.joined:
            await self.reply(conn, topic, ref, "error", {"reason": "unmatched topic"})
            return
        if event == "phx_leave":
            conn.joined = False
            await self.reply(conn, topic, ref)
            return
        if event == "no_relays":
            if self.reply_policy == "all_ok":
                await self.reply(conn, topic, ref)
            relays = self.init_payload.get("relays", []) if isinstance(self.init_payload, dict) else []
            await self.send(conn, {"topic": "gateway", "event": "relays_presence", "ref": None,
                                   "payload": {"disconnected_ids": [], "connected": relays}})
            return
        if self.reply_policy == "all_ok" or event in REPLY_OK_EVENTS:
            await self.reply(conn, topic, ref)
        elif event in NOREPLY_EVENTS:
            pass
        else:
            await self.reply(conn, topic, ref, "error", {"reason": "unknown_message"})

    async def on_join(self, conn, ref):
        mode, delay, reason = self.join_mode, self.join_delay, self.join_reason
        if mode == "none":
            log("conn %d: join not answered (scripted)" % conn.id)
            return

        async def answer():
            if delay:
                await asyncio.sleep(delay)
            try:
                if mode == "error":
                    await self.reply(conn, "gateway", ref, "error", {"reason": reason})
                    return
                conn.joined = True
                await self.reply(conn, "gateway", ref)
                if self.init_enabled:
                    await self.send(conn, {"topic": "gateway", "event": "init", "ref": None,
                                           "payload": self.init_payload})
            except ConnectionClosed:
                pass

        if delay:
            asyncio.get_running_loop().create_task(answer())
        else:
            await answer()

    # --- control socket ---------------------------------------------------------------------

    async def ctl_client(self, reader, writer):
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write((dumps({"ok": False, "error": "request line too long"}) + "\n").encode())
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                try:
                    req = json.loads(line)
                    if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
                        raise CtlError('a request is a JSON object with a "cmd" string')
                    fn = getattr(self, "cmd_" + req["cmd"], None)
                    if fn is None:
                        raise CtlError("unknown command %r" % req["cmd"])
                    resp = await fn(req)
                    resp = dict({"ok": True}, **(resp or {}))
                except CtlError as e:
                    resp = {"ok": False, "error": str(e)}
                except ValueError as e:
                    resp = {"ok": False, "error": "bad request: %s" % e}
                except ConnectionClosed as e:
                    resp = {"ok": False, "error": "connection closed: %s" % e}
                except Exception as e:  # a test-harness bug: report it, keep serving
                    log("control: %s failed: %r" % (line[:200], e))
                    resp = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
                writer.write((dumps(resp) + "\n").encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def need_conn(self):
        c = self.current()
        if c is None:
            raise CtlError("no open connection")
        return c

    @staticmethod
    def num(req, key, default):
        v = req.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise CtlError("%s must be a non-negative number" % key)
        return v

    async def cmd_status(self, req):
        c = self.current()
        return {"port": self.port, "connected": c is not None, "joined": bool(c and c.joined),
                "connections": len(self.conns),
                "open_connections": sum(1 for x in self.conns if not x.closed),
                "attempts": len(self.attempts), "frames": len(self.frames),
                "current": c.info() if c else None,
                "last_handshake": self.attempts[-1] if self.attempts else None,
                "last_close": self.closes[-1] if self.closes else None,
                "pending_responses": list(self.responses),
                "settings": {"heartbeat_replies": self.heartbeat_replies,
                             "join_reply": {"mode": self.join_mode, "delay": self.join_delay,
                                            "reason": self.join_reason},
                             "init_enabled": self.init_enabled,
                             "reply_policy": self.reply_policy}}

    async def cmd_attempts(self, req):
        since = self.num(req, "since_index", 0)
        return {"attempts": self.attempts[int(since):], "next_index": len(self.attempts)}

    async def cmd_wait_attempt(self, req):
        since = int(self.num(req, "since_index", 0))
        timeout = self.num(req, "timeout", 10)
        await self.wait(lambda: len(self.attempts) > since and self.attempts[since]["result"],
                        timeout, "a connect attempt #%d" % since)
        return {"attempt": self.attempts[since]}

    async def cmd_push(self, req):
        event = req.get("event")
        if not isinstance(event, str) or not event:
            raise CtlError("push needs an event name")
        topic = req.get("topic", "gateway")
        frame = {"topic": topic, "event": event, "payload": req.get("payload", {}),
                 "ref": req.get("ref")}
        c = self.need_conn()
        await self.send(c, frame)
        return {"conn": c.id, "frame": frame}

    async def cmd_push_batch(self, req):
        # {"frames":[{"event":E,"payload":P,"topic":T?},...]}: all sent back to back in one
        # burst (no await on the gateway between them), as a busy portal may.
        frames = req.get("frames")
        if not isinstance(frames, list) or not all(isinstance(f, dict) and isinstance(f.get("event"), str)
                                                   for f in frames):
            raise CtlError("push_batch needs frames: a list of {event, payload}")
        c = self.need_conn()
        for f in frames:
            await self.send(c, {"topic": f.get("topic", "gateway"), "event": f["event"],
                                "payload": f.get("payload", {}), "ref": f.get("ref")})
        return {"conn": c.id, "count": len(frames)}

    async def cmd_push_raw(self, req):
        text = req.get("text")
        if not isinstance(text, str):
            raise CtlError("push_raw needs a text string")
        c = self.need_conn()
        await self.send(c, text)
        return {"conn": c.id}

    @staticmethod
    def big_text(size, kind):
        """A Phoenix frame of exactly size bytes: its payload one long string ("pad") or an
        array of zeros ("values": half a JSON value per byte, the most a parser allocates)."""
        if kind == "pad":
            head, tail = '{"topic":"gateway","event":"fg_big","payload":{"pad":"', '"},"ref":null}'
            fill = size - len(head) - len(tail)
            return None if fill < 0 else head + "x" * fill + tail
        head, tail = '{"topic":"gateway","event":"fg_big","ref":null,"payload":[0', ']}'
        fill = size - len(head) - len(tail)
        if fill < 0:
            return None
        return head + ",0" * (fill // 2) + " " * (fill % 2) + tail

    async def cmd_push_big(self, req):
        # {"bytes":N,"kind":"pad"|"values","fragment":F}: one text message of exactly N bytes
        # (default 16 MiB) in one frame, or in fragments of F bytes. The gateway may refuse it
        # by closing the connection: the answer then says "closed" instead of failing.
        size = int(self.num(req, "bytes", 16 << 20))
        kind = req.get("kind", "pad")
        frag = int(self.num(req, "fragment", 0))
        if kind not in ("pad", "values") or size > 64 << 20:
            raise CtlError("push_big: kind is pad or values, bytes at most 64 MiB")
        text = self.big_text(size, kind)
        if text is None:
            raise CtlError("push_big: %d bytes cannot hold a frame" % size)
        c = self.need_conn()
        t0, closed = time.monotonic(), False
        try:
            if frag:
                await c.ws.send(text[i:i + frag] for i in range(0, len(text), frag))
            else:
                await c.ws.send(text)
        except ConnectionClosed:
            closed = True
        secs = time.monotonic() - t0
        rec = {"index": len(self.sent), "conn": c.id, "time": time.time(), "bytes": size,
               "text": "<%s frame of %d bytes>" % (kind, size), "topic": "gateway",
               "event": "fg_big", "payload": None, "ref": None}
        self.sent.append(rec)
        log("conn %d: TX %d-byte %s frame%s in %.2f s%s" % (
            c.id, size, kind, " in %d-byte fragments" % frag if frag else "", secs,
            ": the connection closed" if closed else ""))
        return {"conn": c.id, "bytes": size, "closed": closed or c.closed, "seconds": secs}

    async def cmd_flood(self, req):
        # {"rate":R,"seconds":S,"frames":[{event,payload,topic?},...]}: R*S frames, the list
        # cycled, paced at R a second (as fast as this process can when it cannot keep up);
        # "%N%" in a frame's JSON becomes the frame's number (unique refs). Frames are only
        # counted, not recorded one by one.
        rate = self.num(req, "rate", 10000)
        secs = self.num(req, "seconds", 3)
        frames = req.get("frames")
        if not rate or not isinstance(frames, list) or not frames or not all(
                isinstance(f, dict) and isinstance(f.get("event"), str) for f in frames):
            raise CtlError("flood needs a rate and frames: a list of {event, payload}")
        texts = [dumps({"topic": f.get("topic", "gateway"), "event": f["event"],
                        "payload": f.get("payload", {}), "ref": f.get("ref")}) for f in frames]
        numbered = ["%N%" in t for t in texts]
        total = int(rate * secs)
        c = self.need_conn()
        sent, closed, t0 = 0, False, time.monotonic()
        try:
            while sent < total:
                due = min(total, int(rate * (time.monotonic() - t0)) + 1)
                if sent >= due:
                    await asyncio.sleep(0.002)
                    continue
                while sent < due:
                    k = sent % len(texts)
                    await c.ws.send(texts[k].replace("%N%", str(sent)) if numbered[k] else texts[k])
                    sent += 1
        except ConnectionClosed:
            closed = True
        took = time.monotonic() - t0
        log("conn %d: flood of %d frames in %.2f s (%.0f/s)%s" % (
            c.id, sent, took, sent / took if took else 0, ": the connection closed" if closed else ""))
        return {"conn": c.id, "sent": sent, "seconds": took, "rate": sent / took if took else 0,
                "closed": closed}

    @staticmethod
    def frame_filter(req):
        event, topic, match = req.get("event"), req.get("topic"), req.get("match")
        conn = req.get("conn")
        if match is not None and not isinstance(match, dict):
            raise CtlError("match must be an object")

        def ok(f):
            if event is not None and f["event"] != event:
                return False
            if topic is not None and f["topic"] != topic:
                return False
            if conn is not None and f["conn"] != conn:
                return False
            if match:
                p = f["payload"]
                if not isinstance(p, dict) or any(k not in p or p[k] != v for k, v in match.items()):
                    return False
            return True
        return ok

    async def cmd_received(self, req):
        since = int(self.num(req, "since_index", 0))
        ok = self.frame_filter(req)
        return {"frames": [f for f in self.frames[since:] if ok(f)], "next_index": len(self.frames)}

    async def cmd_sent(self, req):
        since = int(self.num(req, "since_index", 0))
        ok = self.frame_filter(dict(req, match=None))
        out = [f for f in self.sent[since:] if ok(dict({"event": None, "topic": None}, **f))]
        return {"frames": out, "next_index": len(self.sent)}

    async def wait(self, pred, timeout, what):
        try:
            async with self.cond:
                await asyncio.wait_for(self.cond.wait_for(pred), timeout)
        except asyncio.TimeoutError:
            raise CtlError("timeout after %gs waiting for %s" % (timeout, what)) from None

    async def cmd_wait_for(self, req):
        since = int(self.num(req, "since_index", 0))
        timeout = self.num(req, "timeout", 10)
        ok = self.frame_filter(req)
        found = []

        def pred():
            for f in self.frames[since:]:
                if ok(f):
                    found.append(f)
                    return True
            return False
        await self.wait(pred, timeout, "frame event=%s" % req.get("event"))
        return {"frame": found[0], "next_index": len(self.frames)}

    async def cmd_wait_closed(self, req):
        timeout = self.num(req, "timeout", 10)
        cid = req.get("conn")
        if cid is None:
            if not self.conns:
                raise CtlError("no connection yet")
            cid = self.conns[-1].id
        if not isinstance(cid, int) or not 0 <= cid < len(self.conns):
            raise CtlError("no connection %r" % (cid,))
        conn = self.conns[cid]
        await self.wait(lambda: conn.closed, timeout, "connection %d to close" % cid)
        return {"close": conn.close}

    async def cmd_next_responses(self, req):
        lst = req.get("list")
        if not isinstance(lst, list):
            raise CtlError("next_responses needs a list")
        parsed = [parse_response_entry(e) for e in lst]
        if not req.get("append"):
            self.responses.clear()
        self.responses.extend(parsed)
        return {"pending_responses": list(self.responses)}

    async def cmd_close(self, req):
        code = req.get("code", 1000)
        reason = req.get("reason", "")
        if not isinstance(code, int) or isinstance(code, bool) or not isinstance(reason, str):
            raise CtlError("close needs an integer code and a string reason")
        if not (1000 <= code <= 1014 or 3000 <= code <= 4999) or code in (1004, 1005, 1006):
            raise CtlError("close code %d may not be sent (RFC 6455 7.4)" % code)
        c = self.need_conn()
        try:
            await c.ws.close(code, reason)
        except (ValueError, AssertionError, websockets.exceptions.ProtocolError) as e:
            raise CtlError("cannot close with code %r: %s" % (code, e)) from None
        await self.wait(lambda: c.closed, 5, "connection %d to close" % c.id)
        return {"close": c.close}

    async def cmd_drop(self, req):
        c = self.need_conn()
        c.ws.fg_dropped = True
        sock = c.ws.transport.get_extra_info("socket")
        if sock is not None:
            try:  # SO_LINGER 0: the close sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        c.ws.transport.abort()
        log("conn %d: dropped (TCP reset)" % c.id)
        await self.wait(lambda: c.closed, 5, "connection %d to close" % c.id)
        return {"close": c.close}

    async def cmd_set_init(self, req):
        if "payload" in req:
            self.init_payload = req["payload"]
        if "enabled" in req:
            self.init_enabled = bool(req["enabled"])
        return {"init_enabled": self.init_enabled, "payload": self.init_payload}

    async def cmd_heartbeat_replies(self, req):
        if not isinstance(req.get("enabled"), bool):
            raise CtlError("heartbeat_replies needs enabled: true|false")
        self.heartbeat_replies = req["enabled"]
        return {"enabled": self.heartbeat_replies}

    async def cmd_join_reply(self, req):
        mode = req.get("mode", "ok")
        if mode not in ("ok", "error", "none"):
            raise CtlError("join_reply mode must be ok, error or none")
        self.join_mode = mode
        self.join_delay = self.num(req, "delay", 0)
        self.join_reason = str(req.get("reason", "join crashed"))
        return {"mode": mode, "delay": self.join_delay, "reason": self.join_reason}

    async def cmd_reply_policy(self, req):
        mode = req.get("mode")
        if mode not in ("portal", "all_ok"):
            raise CtlError("reply_policy mode must be portal or all_ok")
        self.reply_policy = mode
        return {"mode": mode}

    async def cmd_unjoin(self, req):
        notify = req.get("notify")
        if notify not in (None, "phx_close", "phx_error"):
            raise CtlError("unjoin notify must be null, phx_close or phx_error")
        c = self.need_conn()
        c.joined = False
        if notify:
            await self.send(c, {"topic": "gateway", "event": notify, "ref": None, "payload": {}})
        return {"conn": c.id}

    async def cmd_flow_logs(self, req):
        since = int(self.num(req, "since_index", 0))
        ups = self.flow_uploads[since:]
        return {"uploads": ups, "next_index": len(self.flow_uploads),
                "records": [r for u in ups for r in u.get("flow_logs", [])]}

    async def cmd_flow_logs_responses(self, req):
        if not isinstance(req.get("list"), list):
            raise CtlError("flow_logs_responses needs a list")
        out = []
        for entry in req["list"]:
            e = parse_response_entry(entry)
            if e["kind"] != "status":
                raise CtlError("flow_logs_responses takes statuses, not %r" % (entry,))
            out.append(e)
        if not req.get("append"):
            self.ingest_responses.clear()
        self.ingest_responses.extend(out)
        return {"pending": list(self.ingest_responses)}

    async def cmd_quit(self, req):
        asyncio.get_running_loop().call_soon(self.stop_event.set)
        return {}

    # --- life cycle -------------------------------------------------------------------------

    async def start(self):
        self.cond = asyncio.Condition()
        self.stop_event = asyncio.Event()
        host, port = split_hostport(self.args.listen)
        tls = None
        cert_key = self.args.tls or ((self.args.tls_cert, self.args.tls_key)
                                     if self.args.tls_cert else None)
        if cert_key:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(cert_key[0], cert_key[1])
        proto = type("BoundPortalProtocol", (PortalProtocol,), {"portal": self})
        self.ws_server = await websockets.serve(
            self.ws_handler, host, port, ssl=tls, create_protocol=proto, ping_interval=None,
            compression=None, close_timeout=2, max_size=4 * 1024 * 1024,
            server_header="fastgate-fake-portal")
        self.port = self.ws_server.sockets[0].getsockname()[1]
        path = self.args.control
        if os.path.exists(path):
            os.unlink(path)
        self.ctl_server = await asyncio.start_unix_server(self.ctl_client, path=path,
                                                          limit=16 * 1024 * 1024)
        os.chmod(path, 0o600)
        log("listening %s://%s:%d control=%s v1=%s" % ("wss" if tls else "ws", host, self.port,
                                                         path, self.allow_v1))
        if self.args.port_file:
            tmp = self.args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % self.port)
            os.replace(tmp, self.args.port_file)

    async def shutdown(self):
        log("shutting down")
        self.ctl_server.close()
        self.ws_server.close()
        try:
            await asyncio.wait_for(self.ws_server.wait_closed(), 3)
        except asyncio.TimeoutError:
            pass
        try:
            os.unlink(self.args.control)
        except OSError:
            pass
        log("bye")


def own_origin(host):
    """The origin Phoenix's check_origin: :conn accepts: https://<Host>, without :443."""
    host = host or ""
    if host.endswith(":443"):
        host = host[:-4]
    return "https://" + host


def split_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit("fake_portal: --listen wants HOST:PORT or [V6]:PORT, got %r" % s)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT ([::1]:PORT), port 0 = any")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--control", required=True, help="Unix socket path of the control API")
    ap.add_argument("--token", default="test-token", help="expected gateway token")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve wss with this cert")
    ap.add_argument("--tls-cert", metavar="FILE", help="serve wss with this PEM certificate chain")
    ap.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert")
    ap.add_argument("--allow-v1", action="store_true", help="also accept /gateway/websocket")
    ap.add_argument("--init", metavar="FILE", help="JSON file with the init payload")
    ap.add_argument("--no-init", action="store_true", help="do not push init after a join")
    ap.add_argument("--no-ua-check", action="store_true", help="accept any User-Agent")
    ap.add_argument("--reply-all-ok", action="store_true",
                    help="answer every gateway message with phx_reply ok (default: as the portal)")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key) or (args.tls and args.tls_cert):
        ap.error("give --tls-cert and --tls-key together (or --tls CERT KEY)")
    portal = Portal(args)

    async def run():
        await portal.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, portal.stop_event.set)
        await portal.stop_event.wait()
        await portal.shutdown()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
