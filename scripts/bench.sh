#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/bench.sh [BUILD_DIR] [fastgate-bench options...]: builds fastgate (scripts/build.sh),
# installs gnuplot-nox when it is missing, runs fastgate-bench's full matrix (decrypt and
# encrypt; 64, 512, 1420 and IMIX; 1, 100 and 10,000 peers; 1 and 2 workers; 2 s a row) and
# writes bench/results.csv and bench/throughput.png. Extra options go to fastgate-bench
# (e.g. --seconds 5, --aead libsodium). Needs no hugepages, no root except for apt-get.
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
exec "$BUILD/bench/fastgate-bench" --csv "$ROOT/bench/results.csv" --plot "$ROOT/bench/throughput.png" "$@"
