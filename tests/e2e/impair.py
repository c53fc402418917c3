#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/impair.py: a lossy, reordering UDP relay for the fault tests
(tests/e2e/test_faults_cp.sh), stdlib only: netem's "loss L delay D reorder R" in user
space, for kernels built without sch_netem. It runs in the client's namespace; the
WireGuard client's endpoint points at --listen, and each datagram goes on to --to from a
socket of its own (the gateway sees the relay's address as the client's endpoint, as after
a roam). The answers come back to the last client address seen.

usage:
  impair.py --listen IP:PORT --to IP:PORT [--loss 0.2] [--delay-ms 5] [--reorder 0.25]
            [--both] [--seed N] [--ready-file F] [--stats-file F]
Each datagram towards --to (and back as well with --both) is dropped with probability
--loss; of the rest, a share --reorder is sent at once and the others --delay-ms later, so
that the immediate ones overtake the delayed ones sent before them (netem's reorder). F is
created once both sockets are bound. On SIGTERM it writes its counters as one JSON line to
the stats file (and stdout): per direction, datagrams in, dropped, delayed, sent at once,
and "overtaken" (a datagram sent after one that was received after it). Exit status 2 on a
usage or socket error.
"""

import argparse
import asyncio
import json
import random
import signal
import socket
import sys


def hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want IP:PORT, got %r" % s)
    return host.strip("[]"), int(port)


class Direction:
    """One direction's impairment and counters."""

    def __init__(self, name, args, rng, impaired):
        self.name = name
        self.loss = args.loss if impaired else 0.0
        self.delay = args.delay_ms / 1000.0 if impaired else 0.0
        self.reorder = args.reorder if impaired else 1.0
        self.rng = rng
        self.seq = 0             # datagrams received in this direction
        self.last_sent = -1      # the highest received number sent so far
        self.c = {"in": 0, "dropped": 0, "delayed": 0, "immediate": 0, "overtaken": 0}

    def send(self, loop, out, data, addr):
        n = self.seq
        self.seq += 1
        self.c["in"] += 1
        if self.rng.random() < self.loss:
            self.c["dropped"] += 1
            return

        def emit():
            if n < self.last_sent:
                self.c["overtaken"] += 1
            self.last_sent = max(self.last_sent, n)
            try:
                out.sendto(data, addr)
            except OSError:
                pass
        if self.delay and self.rng.random() >= self.reorder:
            self.c["delayed"] += 1
            loop.call_later(self.delay, emit)
        else:
            self.c["immediate"] += 1
            emit()


class Relay:
    def __init__(self, args):
        self.args = args
        rng = random.Random(args.seed)
        self.up = Direction("to", args, rng, True)
        self.down = Direction("back", args, rng, args.both)
        self.client = None
        self.front = self.back = None

    async def run(self):
        loop = asyncio.get_running_loop()
        relay = self

        class Front(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                relay.client = addr
                relay.up.send(loop, relay.back, data, relay.args.to)

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                if relay.client is not None and addr[:2] == relay.args.to:
                    relay.down.send(loop, relay.front, data, relay.client)

        fam = socket.AF_INET6 if ":" in self.args.listen[0] else socket.AF_INET
        ftr, _ = await loop.create_datagram_endpoint(Front, local_addr=self.args.listen, family=fam)
        fam = socket.AF_INET6 if ":" in self.args.to[0] else socket.AF_INET
        btr, _ = await loop.create_datagram_endpoint(Back, family=fam,
                                                     local_addr=("::" if fam == socket.AF_INET6 else "0.0.0.0", 0))
        self.front, self.back = ftr, btr
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if self.args.ready_file:
            open(self.args.ready_file, "w").close()
        await stop.wait()
        ftr.close()
        btr.close()
        line = json.dumps({"to": self.up.c, "back": self.down.c})
        if self.args.stats_file:
            with open(self.args.stats_file, "w") as f:
                f.write(line + "\n")
        print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=hostport, required=True)
    ap.add_argument("--to", type=hostport, required=True)
    ap.add_argument("--loss", type=float, default=0.2)
    ap.add_argument("--delay-ms", type=float, default=5.0)
    ap.add_argument("--reorder", type=float, default=0.25)
    ap.add_argument("--both", action="store_true", help="impair the answers too")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ready-file")
    ap.add_argument("--stats-file")
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return 2 if e.code else 0
    if not (0 <= args.loss < 1 and 0 <= args.reorder <= 1 and args.delay_ms >= 0):
        sys.stderr.write("impair.py: --loss in [0,1), --reorder in [0,1], --delay-ms >= 0\n")
        return 2
    try:
        asyncio.run(Relay(args).run())
    except OSError as e:
        sys.stderr.write("impair.py: %s\n" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
