#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/bench.sh [BUILD_DIR] [fastgate-bench options...]: builds fastgate (scripts/build.sh),
# installs gnuplot-nox when it is missing, prints the CPU model and the date, and runs
# fastgate-bench: the worker-only matrix (decrypt and encrypt; 64, 512, 1420 and IMIX; 1, 100
# and 10,000 peers; 1 and 2 workers; 2 s a row) and, as root, the host-path rows in a private
# network namespace (decrypt-tcp, decrypt-udp, encrypt-tcp, encrypt-udp through the daemon's
# own TUN into kernel sockets). Writes bench/results.csv and bench/throughput.png (throughput
# against size, one line per row kind). Extra options go to fastgate-bench (e.g. --seconds 5,
# --aead libsodium, --tun-io syscall,io_uring,sqpoll, --before-after). Needs no hugepages;
# root for the host-path rows and for apt-get.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	BUILD=$1
	shift
fi
"$ROOT/scripts/build.sh" "$BUILD"
if ! command -v gnuplot >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y gnuplot-nox >/dev/null ||
			echo "bench.sh: gnuplot-nox could not be installed: no PNG" >&2
	else
		echo "bench.sh: gnuplot is missing (apt-get install gnuplot-nox): no PNG" >&2
	fi
fi
echo "bench.sh: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPU(s); $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$BUILD/bench/fastgate-bench" --csv "$ROOT/bench/results.csv" --plot "$ROOT/bench/throughput.png" "$@"
