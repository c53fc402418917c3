#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/test.sh: the whole test suite. Installs missing Debian packages, builds, then runs
# the CUnit and in-process DPDK suites (meson test) and the end-to-end tests in network
# namespaces against real peers (wireguard-go, coturn: every tests/e2e/test_*.sh). Needs root
# (namespaces, TUN, AF_PACKET).
# Prints one line per suite and a closing "tests: N passed, N failed".
#
# usage: scripts/test.sh [--unit-only]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FG_BUILD_DIR:-$ROOT/build}
LOGS=${FG_TEST_LOGS:-$BUILD/test-logs}
unit_only=0
[ "${1:-}" = --unit-only ] && unit_only=1

if [ "$(id -u)" != 0 ]; then
	echo "scripts/test.sh: run as root (network namespaces, TUN devices, AF_PACKET)" >&2
	exit 1
fi
"$ROOT/scripts/build.sh" "$BUILD" || { echo "tests: 0 passed, 1 failed"; exit 1; }
mkdir -p "$LOGS"
passed=0
failed=0
record() { # record NAME STATUS LOG
	if [ "$2" = 0 ]; then
		echo "PASS $1"; passed=$((passed + 1))
	else
		echo "FAIL $1 (log: $3)"; failed=$((failed + 1))
		tail -n 30 "$3" | sed 's/^/    /'
	fi
}

# Unit and in-process suites: one line each.
meson test -C "$BUILD" --no-rebuild --print-errorlogs >"$LOGS/meson-test.log" 2>&1
while read -r line; do
	name=$(printf '%s\n' "$line" | sed -E 's/^ *[0-9]+\/[0-9]+ +(([^ ]+ \/ )?[^ ]+) .*/\1/')
	case $line in
	*" OK "*) record "unit $name" 0 "$LOGS/meson-test.log" ;;
	*" SKIP "*) echo "SKIP unit $name" ;;
	*) record "unit $name" 1 "$BUILD/meson-logs/testlog.txt" ;;
	esac
done < <(grep -E '^ *[0-9]+/[0-9]+ ' "$LOGS/meson-test.log")

if [ "$unit_only" = 0 ]; then
	# The multi-core test runs a data plane built with AddressSanitizer and UBSan.
	ASAN_BUILD=${FG_ASAN_BUILD_DIR:-$ROOT/build-asan}
	if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
		meson setup -Db_sanitize=address,undefined -Db_lundef=false -Dtests=false "$ASAN_BUILD" "$ROOT" \
			>"$LOGS/asan-setup.log" 2>&1 || { cat "$LOGS/asan-setup.log"; }
	fi
	if ninja -C "$ASAN_BUILD" -j"$(nproc)" dataplane/fastgate-dataplane >"$LOGS/asan-build.log" 2>&1; then
		record "build data plane with ASan/UBSan" 0 "$LOGS/asan-build.log"
	else
		record "build data plane with ASan/UBSan" 1 "$LOGS/asan-build.log"
	fi
	for t in "$ROOT"/tests/e2e/test_*.sh; do
		n=$(basename "$t" .sh)
		dp_bin=$BUILD/dataplane/fastgate-dataplane
		[ "$n" = test_multicore ] && dp_bin=$ASAN_BUILD/dataplane/fastgate-dataplane
		FG_BUILD=$BUILD FG_DP_BIN=$dp_bin timeout 600 "$t" "$BUILD" >"$LOGS/$n.log" 2>&1
		st=$?
		grep -E '^(PASS|FAIL|RATE)' "$LOGS/$n.log" | sed 's/^/    /'
		record "e2e $n" "$st" "$LOGS/$n.log"
	done
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
