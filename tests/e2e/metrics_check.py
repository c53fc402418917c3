#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/metrics_check.py: the /metrics end-to-end test's reader (tests/e2e/test_metrics.sh).
It parses the control plane's text with a real consumer, Debian's python3-prometheus-client
(prometheus_client.parser.text_string_to_metric_families), and checks the format and naming
rules on the raw lines besides, since that parser is lax.

usage:
  metrics_check.py validate FILE [HEADERS]
      Parses FILE; checks every family has HELP and TYPE (counter or gauge), once, before its
      samples; names are fastgate_[a-z0-9_]+ in base units; counters and only counters end in
      _total; label names are valid; no series twice. HEADERS (curl -D) must say 200 and
      Content-Type text/plain; version=0.0.4; charset=utf-8. Prints a summary line.
  metrics_check.py value FILE NAME [LABEL=VALUE]...
      Prints the sum of NAME's samples whose labels include those given ("none" if none).
  metrics_check.py moved BEFORE AFTER NAME MIN [LABEL=VALUE]...
      Exit 0 iff NAME (summed as above) grew by at least MIN from BEFORE to AFTER.
  metrics_check.py hostile HOST PORT [--scrapes N] [--stalled N] [--partial N]
      While N stalled readers (tiny receive buffer, request sent, nothing read) and N
      partial requests hold connections, and N scrapes run at once: /healthz must answer
      within 5 s, every scrape must be a whole parseable text (or a 503 that says why);
      then the stalled readers read their answers, which must be whole too. Prints a
      summary; exit 0 iff all held.
Exit status 1 when a check fails, 2 on a usage error.
"""
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAME_RE = re.compile(r"^fastgate_[a-z0-9_]+$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Prometheus' base units: seconds and bytes, never their multiples.
BAD_UNITS = re.compile(r"_(ms|us|ns|msec|millis|milliseconds|microseconds|minutes|hours|days|kb|mb|gb|kib|mib|"
                       r"kilobytes|megabytes|bits)(_|$)")
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def fail(msg):
    print("metrics_check: " + msg)
    sys.exit(1)


def check_raw(text):
    """The line-level rules; returns a list of problems."""
    problems, families, series = [], {}, set()
    current, helped = None, set()
    if not text.endswith("\n"):
        problems.append("the text does not end with a newline")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in families or name in helped:
                problems.append("line %d: family %s again" % (n, name))
            helped.add(name)
            current = None
            if len(line.split(" ", 3)) < 4 or not line.split(" ", 3)[3].strip():
                problems.append("line %d: %s has an empty HELP" % (n, name))
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4:
                problems.append("line %d: bad TYPE line" % n)
                continue
            name, typ = parts[2], parts[3]
            if name not in helped:
                problems.append("line %d: TYPE of %s without its HELP first" % (n, name))
            if name in families:
                problems.append("line %d: TYPE of %s again" % (n, name))
            if typ not in ("counter", "gauge"):
                problems.append("line %d: %s is a %s" % (n, name, typ))
            if not NAME_RE.match(name):
                problems.append("line %d: name %s is not fastgate_[a-z0-9_]+" % (n, name))
            if BAD_UNITS.search(name):
                problems.append("line %d: %s is not in base units" % (n, name))
            if (typ == "counter") != name.endswith("_total"):
                problems.append("line %d: %s: counters and only counters end in _total" % (n, name))
            families[name] = typ
            current = name
        elif line.startswith("#"):
            problems.append("line %d: a comment that is neither HELP nor TYPE" % n)
        else:
            m = SAMPLE_RE.match(line)
            if not m:
                problems.append("line %d: not a sample: %r" % (n, line))
                continue
            name, labels, value = m.group(1), m.group(3) or "", m.group(4)
            if name != current:
                problems.append("line %d: sample %s outside its family (%s)" % (n, name, current))
            pairs = LABEL_PAIR_RE.findall(labels)
            if "".join('%s="%s"%s' % p for p in pairs) != labels:
                problems.append("line %d: labels do not parse: %r" % (n, labels))
            names = [p[0] for p in pairs]
            if len(set(names)) != len(names) or any(not LABEL_RE.match(x) or x.startswith("__") for x in names):
                problems.append("line %d: bad label names %r" % (n, names))
            key = (name, tuple(sorted((p[0], p[1]) for p in pairs)))
            if key in series:
                problems.append("line %d: series %r twice" % (n, key))
            series.add(key)
            try:
                v = float(value)
            except ValueError:
                problems.append("line %d: value %r" % (n, value))
                continue
            if families.get(name) == "counter" and (v < 0 or v != v):
                problems.append("line %d: counter %s is %r" % (n, name, value))
    return problems, families, len(series)


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, list(text_string_to_metric_families(text))


def validate(path, headers=None):
    text, fams = parse(path)
    problems, raw_families, nseries = check_raw(text)
    for fam in fams:
        if fam.type not in ("counter", "gauge"):
            problems.append("family %s parsed as %s (no TYPE?)" % (fam.name, fam.type))
        if not fam.documentation:
            problems.append("family %s parsed without HELP" % fam.name)
    if len(fams) != len(raw_families):
        problems.append("the parser saw %d families, the text declares %d" % (len(fams), len(raw_families)))
    if headers:
        with open(headers, encoding="latin-1", newline="") as f:
            h = f.read()
        status = h.split("\r\n", 1)[0]
        if " 200" not in status:
            problems.append("status line %r" % status)
        ct = [x.split(":", 1)[1].strip() for x in h.split("\r\n") if x.lower().startswith("content-type:")]
        if ct != [CONTENT_TYPE]:
            problems.append("Content-Type %r" % ct)
    for p in problems[:30]:
        print("  " + p)
    print("  %d families, %d series, %d bytes" % (len(fams), nseries, len(text.encode())))
    return not problems


def value(path, name, want):
    _, fams = parse(path)
    total, found = 0.0, False
    for fam in fams:
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
                total += s.value
                found = True
    return total if found else None


def labels_of(args):
    out = {}
    for a in args:
        if "=" not in a:
            print("metrics_check: bad label %r" % a)
            sys.exit(2)
        k, v = a.split("=", 1)
        out[k] = v
    return out


# ---- hostile clients ---------------------------------------------------------------------------

def http_get(host, port, path, timeout):
    """(status, body text) of one GET on its own connection."""
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (host, port, path), timeout=timeout) as r:
            return r.status, r.read().decode("utf-8"), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), e.headers.get("Content-Type")


def whole_answer(status, body, ctype, where):
    """'ok', 'busy' or a problem."""
    if status == 503 and "too many" in body:
        return "busy"
    if status != 200:
        return "%s: status %s" % (where, status)
    if ctype != CONTENT_TYPE:
        return "%s: Content-Type %r" % (where, ctype)
    problems, fams, _ = check_raw(body)
    if problems or "fastgate_build_info" not in fams:
        return "%s: %s" % (where, problems[:3] or "no fastgate_build_info")
    list(text_string_to_metric_families(body))
    return "ok"


def read_response(sock, deadline):
    """A whole HTTP/1.x response from sock: (status, headers dict, body) or a problem string."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            return "closed before the headers (%d bytes)" % len(data)
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)}
    if "content-length" not in headers:
        return "no Content-Length"
    need = int(headers["content-length"])
    while len(body) < need:
        if time.monotonic() > deadline:
            return "body cut at %d of %d bytes" % (len(body), need)
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            return "closed at %d of %d bytes" % (len(body), need)
        body += chunk
    return status, headers, body[:need]


def hostile(host, port, scrapes, stalled, partial):
    problems = []
    request = ("GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode()
    held = []
    for _ in range(partial):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"GET /metr")
        held.append(s)
    slow = []
    for _ in range(stalled):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.settimeout(5)
        s.connect((host, port))
        s.sendall(request)
        slow.append(s)
    results = [None] * scrapes

    def one(i):
        try:
            results[i] = whole_answer(*http_get(host, port, "/metrics", 30), where="scrape %d" % i)
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            results[i] = "scrape %d: %r" % (i, e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(scrapes)]
    for t in threads:
        t.start()
    # While all of that is held: the loop still answers at once.
    for k in range(3):
        t0 = time.monotonic()
        try:
            st, body, _ = http_get(host, port, "/healthz", 5)
            if st != 200 or body != "ok\n":
                problems.append("/healthz %d: %s %r" % (k, st, body))
        except Exception as e:  # noqa: BLE001
            problems.append("/healthz %d: no answer within 5 s: %r" % (k, e))
        print("  /healthz answered in %.3f s while %d scrapes, %d stalled readers, %d partial requests were held"
              % (time.monotonic() - t0, scrapes, stalled, partial))
    deadline = time.monotonic() + 60
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        problems.append("scrapes still running after 60 s")
    busy = sum(1 for r in results if r == "busy")
    problems += [r for r in results if r not in ("ok", "busy")]
    # The stalled readers read now: whole answers (or a 503 that says why).
    slow_ok = slow_busy = 0
    deadline = time.monotonic() + 30
    for i, s in enumerate(slow):
        try:
            r = read_response(s, deadline)
        except Exception as e:  # noqa: BLE001
            r = "%r" % e
        if isinstance(r, str):
            problems.append("stalled reader %d: %s" % (i, r))
            continue
        st, headers, body = r
        w = whole_answer(st, body.decode("utf-8", "replace"), headers.get("content-type"), "stalled reader %d" % i)
        if w == "ok":
            slow_ok += 1
        elif w == "busy":
            slow_busy += 1
        else:
            problems.append(w)
        s.close()
    for s in held:
        s.close()
    print("  scrapes: %d whole, %d busy (503); stalled readers: %d whole, %d busy (503)"
          % (scrapes - busy - len([r for r in results if r not in ("ok", "busy")]), busy, slow_ok, slow_busy))
    for p in problems[:20]:
        print("  " + p)
    return not problems


def main(argv):
    if len(argv) >= 2 and argv[0] == "validate":
        return 0 if validate(argv[1], argv[2] if len(argv) > 2 else None) else 1
    if len(argv) >= 2 and argv[0] == "value":
        v = value(argv[1], argv[2], labels_of(argv[3:]))
        print("none" if v is None else ("%d" % v if v == int(v) else "%r" % v))
        return 0
    if len(argv) >= 5 and argv[0] == "moved":
        want = labels_of(argv[5:])
        a, b = value(argv[1], argv[3], want), value(argv[2], argv[3], want)
        print("  %s%s: %s -> %s (want +%s)" % (argv[3], want or "", a, b, argv[4]))
        return 0 if a is not None and b is not None and b - a >= float(argv[4]) else 1
    if len(argv) >= 3 and argv[0] == "hostile":
        opts = {"--scrapes": 40, "--stalled": 80, "--partial": 8}
        rest = argv[3:]
        while rest:
            if rest[0] not in opts or len(rest) < 2:
                print(__doc__)
                return 2
            opts[rest[0]] = int(rest[1])
            rest = rest[2:]
        return 0 if hostile(argv[1], int(argv[2]), opts["--scrapes"], opts["--stalled"], opts["--partial"]) else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
