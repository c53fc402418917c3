#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""portalctl.py: client for fake_portal.py's JSON-lines control socket.

As a library (standard library only, any Python 3):
    from portalctl import PortalCtl, PortalError
    ctl = PortalCtl("/tmp/portal.sock")
    ctl.call("push", event="reject_access", payload={...})   # raises PortalError if ok=false
    ctl.request({"cmd": "status"})                            # the raw response, never raises on ok=false

As a CLI for bash tests:
    portalctl.py SOCKET COMMAND [JSON-ARGS | -]
prints the response as one JSON line; exit 0 when "ok" is true, 1 when the portal answered
an error, 2 on usage or connection problems. JSON-ARGS is an object merged into the request
("-" reads it from stdin), e.g.  portalctl.py /tmp/p.sock wait_for '{"event":"phx_join","timeout":5}'
"""

import json
import socket
import sys


class PortalError(Exception):
    """The portal answered {"ok": false, "error": ...}; .response holds the whole answer."""

    def __init__(self, response):
        super().__init__(response.get("error", "error"))
        self.response = response


class PortalCtl:
    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self.sock = None
        self.buf = b""

    def _connect(self):
        if self.sock is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            s.connect(self.path)
            self.sock = s

    def request(self, req):
        """Sends one request object; returns the response object."""
        self._connect()
        wait = req.get("timeout", 0)
        wait = wait if isinstance(wait, (int, float)) and not isinstance(wait, bool) else 0
        self.sock.settimeout(self.timeout + wait)
        self.sock.sendall((json.dumps(req) + "\n").encode())
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                self.close()
                raise ConnectionError("fake portal closed the control connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def call(self, cmd, **args):
        """Runs COMMAND with keyword arguments; returns the response or raises PortalError."""
        resp = self.request(dict(args, cmd=cmd))
        if not resp.get("ok"):
            raise PortalError(resp)
        return resp

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv):
    if len(argv) not in (3, 4) or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: portalctl.py SOCKET COMMAND [JSON-ARGS | -]\n")
        return 2
    path, cmd = argv[1], argv[2]
    args = {}
    if len(argv) == 4:
        text = sys.stdin.read() if argv[3] == "-" else argv[3]
        try:
            args = json.loads(text)
        except ValueError as e:
            sys.stderr.write("portalctl: bad JSON arguments: %s\n" % e)
            return 2
        if not isinstance(args, dict):
            sys.stderr.write("portalctl: JSON arguments must be an object\n")
            return 2
    try:
        with PortalCtl(path) as ctl:
            resp = ctl.request(dict(args, cmd=cmd))
    except (OSError, ValueError) as e:
        sys.stderr.write("portalctl: %s: %s\n" % (path, e))
        return 2
    print(json.dumps(resp))
    if not resp.get("ok"):
        sys.stderr.write("portalctl: %s: %s\n" % (cmd, resp.get("error")))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
