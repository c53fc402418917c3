#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compares two fastgate-bench builds in one run, on the same machine and in the same minutes.

usage: bench/compare.py OLD_BENCH NEW_BENCH [--rounds N] [-- fastgate-bench options]

Runs OLD and NEW alternately N times (default 3) with the same options, each writing a CSV,
then prints one line per row: the best Mpps of each build over the rounds (the least
disturbed run of a shared machine), the fewest cycles per packet, and NEW's change in
percent. Alternating spreads the machine's drift over both builds; best-of-N discards the
rounds a neighbour disturbed. Exit 1 if a run fails.
"""
import csv
import os
import subprocess
import sys
import tempfile


def run(binary, opts, path):
    cmd = [binary, "--csv", path] + opts
    print("#", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"{binary} failed ({r.returncode})")


def rows(path):
    with open(path) as fh:
        for r in csv.DictReader(fh):
            key = (r["backend"], r["direction"], r["size"], r["peers"], r["workers"])
            yield key, float(r["mpps"]), float(r["cycles_per_packet"])


def main():
    args = sys.argv[1:]
    opts = []
    if "--" in args:
        i = args.index("--")
        args, opts = args[:i], args[i + 1:]
    rounds = 3
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    best = {}
    order = []
    with tempfile.TemporaryDirectory() as d:
        for n in range(rounds):
            for which, binary in (("old", args[0]), ("new", args[1])):
                path = os.path.join(d, f"{which}{n}.csv")
                run(binary, opts, path)
                for key, mpps, cyc in rows(path):
                    if key not in order:
                        order.append(key)
                    b = best.setdefault((which, key), [0.0, float("inf")])
                    b[0] = max(b[0], mpps)
                    b[1] = min(b[1], cyc)
    print(f"{'backend':<16} {'dir':<8} {'size':>5} {'peers':>5} {'wk':>2} "
          f"{'old Mpps':>9} {'new Mpps':>9} {'change':>7} {'old cyc':>8} {'new cyc':>8}")
    worst = None
    for key in order:
        o, n = best.get(("old", key)), best.get(("new", key))
        if not o or not n:
            continue
        ch = (n[0] / o[0] - 1) * 100 if o[0] else 0.0
        worst = ch if worst is None else min(worst, ch)
        print(f"{key[0]:<16} {key[1]:<8} {key[2]:>5} {key[3]:>5} {key[4]:>2} "
              f"{o[0]:>9.4f} {n[0]:>9.4f} {ch:>+6.1f}% {o[1]:>8.1f} {n[1]:>8.1f}")
    if worst is not None:
        print(f"slowest row change: {worst:+.1f}% (best of {rounds} alternating rounds each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
