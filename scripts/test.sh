#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/test.sh: the whole test suite. Installs missing Debian packages, builds, then runs
# the CUnit and in-process DPDK suites (meson test) and the end-to-end tests in network
# namespaces against real peers (wireguard-go, coturn: every tests/e2e/test_*.sh). Needs root
# (namespaces, TUN, AF_PACKET).
# Prints one line per suite and a closing "tests: N passed, N failed".
#
# The end-to-end tests run against AddressSanitizer/UBSan builds of both processes
# (build-asan/: fastgate-dataplane, fastgate-controlplane, fastgatectl); a sanitizer report of
# any process a test started (written under test-logs/sanitizer/TEST/) fails that test.
#
# usage: scripts/test.sh [--unit-only] [--e2e NAME]... [--under-load] [--no-sanitize]
#   --unit-only    only the CUnit and in-process suites
#   --e2e NAME     only the end-to-end test tests/e2e/NAME.sh (repeatable; no unit suites)
#   --under-load   the whole run while stress-ng keeps every core busy (stress-ng --cpu N)
#   --no-sanitize  the end-to-end tests against the plain build instead
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FG_BUILD_DIR:-$ROOT/build}
LOGS=${FG_TEST_LOGS:-$BUILD/test-logs}
unit_only=0
under_load=0
sanitize=1
only_e2e=()
while [ $# -gt 0 ]; do
	arg=$1
	shift
	case $arg in
	--unit-only) unit_only=1 ;;
	--e2e)
		[ -f "$ROOT/tests/e2e/${1:-none}.sh" ] || { echo "scripts/test.sh: --e2e needs a test name (tests/e2e/NAME.sh)" >&2; exit 2; }
		only_e2e+=("$1")
		shift
		;;
	--under-load) under_load=1 ;;
	--no-sanitize) sanitize=0 ;;
	-h | --help) sed -n 's/^# \{0,1\}//; /^usage:/,/--no-sanitize/p' "$0"; exit 0 ;;
	*) echo "scripts/test.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "scripts/test.sh: run as root (network namespaces, TUN devices, AF_PACKET)" >&2
	exit 1
fi
"$ROOT/scripts/build.sh" "$BUILD" || { echo "tests: 0 passed, 1 failed"; exit 1; }
mkdir -p "$LOGS"
if [ "$under_load" = 1 ]; then
	command -v stress-ng >/dev/null || { echo "scripts/test.sh: --under-load needs stress-ng (scripts/deps.sh)" >&2; exit 1; }
	# Its own session, so the workers it forks go with it; stopped by PID on exit.
	setsid stress-ng --cpu "$(nproc)" --timeout 0 >"$LOGS/stress-ng.log" 2>&1 &
	LOAD_PID=$!
	trap 'kill -TERM -- -"$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null' EXIT
	echo "load: stress-ng --cpu $(nproc) (pid $LOAD_PID) for the whole run"
fi
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
[ "${#only_e2e[@]}" = 0 ] && meson test -C "$BUILD" --no-rebuild --print-errorlogs >"$LOGS/meson-test.log" 2>&1
while read -r line; do
	name=$(printf '%s\n' "$line" | sed -E 's/^ *[0-9]+\/[0-9]+ +(([^ ]+ \/ )?[^ ]+) .*/\1/')
	case $line in
	*" OK "*) record "unit $name" 0 "$LOGS/meson-test.log" ;;
	*" SKIP "*) echo "SKIP unit $name" ;;
	*) record "unit $name" 1 "$BUILD/meson-logs/testlog.txt" ;;
	esac
done < <([ "${#only_e2e[@]}" = 0 ] && grep -E '^ *[0-9]+/[0-9]+ ' "$LOGS/meson-test.log")

if [ "$unit_only" = 0 ]; then
	BIN=$BUILD
	if [ "$sanitize" = 1 ]; then
		BIN=${FG_ASAN_BUILD_DIR:-$ROOT/build-asan}
		if [ ! -f "$BIN/build.ninja" ]; then
			meson setup -Db_sanitize=address,undefined -Db_lundef=false -Dtests=false "$BIN" "$ROOT" \
				>"$LOGS/asan-setup.log" 2>&1 || cat "$LOGS/asan-setup.log"
		fi
		if ninja -C "$BIN" -j"$(nproc)" dataplane/fastgate-dataplane controlplane/fastgate-controlplane \
			controlplane/ctl/fastgatectl >"$LOGS/asan-build.log" 2>&1; then
			record "build both processes with ASan/UBSan" 0 "$LOGS/asan-build.log"
		else
			record "build both processes with ASan/UBSan" 1 "$LOGS/asan-build.log"
		fi
	fi
	# test_bench_sessions also needs the bench-only build of the data plane (meson
	# -Dbench_sessions=true, tests/e2e/benchsess.sh), which no other test ever runs.
	BENCH_BUILD=${FG_BENCH_BUILD_DIR:-$ROOT/build-bench-sessions}
	if [ "${#only_e2e[@]}" = 0 ] || [[ " ${only_e2e[*]} " == *" test_bench_sessions "* ]]; then
		bench_opts=(-Dbench_sessions=true -Dtests=false)
		[ "${CI:-}" = true ] && bench_opts+=(-Dwerror=true)
		if { [ -f "$BENCH_BUILD/build.ninja" ] ||
			meson setup "${bench_opts[@]}" "$BENCH_BUILD" "$ROOT" >"$LOGS/bench-sessions-setup.log" 2>&1; } &&
			ninja -C "$BENCH_BUILD" -j"$(nproc)" dataplane/fastgate-dataplane pktgen-profiles/fastgate-gen-pcaps \
				>"$LOGS/bench-sessions-build.log" 2>&1; then
			record "build the bench-sessions data plane" 0 "$LOGS/bench-sessions-build.log"
		else
			record "build the bench-sessions data plane" 1 "$LOGS/bench-sessions-build.log"
		fi
	fi
	for t in "$ROOT"/tests/e2e/test_*.sh; do
		n=$(basename "$t" .sh)
		if [ "${#only_e2e[@]}" -gt 0 ] && [[ " ${only_e2e[*]} " != *" $n "* ]]; then
			continue
		fi
		san=$LOGS/sanitizer/$n
		rm -rf "$san"
		mkdir -p "$san"
		# Reports go to files (one per process) that survive the test's own clean-up.
		ASAN_OPTIONS="log_path=$san/asan:${FG_ASAN_OPTIONS:-detect_leaks=1}" \
			UBSAN_OPTIONS="log_path=$san/ubsan:print_stacktrace=1" \
			FG_BUILD=$BUILD FG_BENCH_BUILD_DIR=$BENCH_BUILD FG_DP_BIN=$BIN/dataplane/fastgate-dataplane FG_CP_BIN=$BIN/controlplane/fastgate-controlplane \
			FG_CTL_BIN=$BIN/controlplane/ctl/fastgatectl timeout 900 "$t" "$BUILD" >"$LOGS/$n.log" 2>&1
		st=$?
		grep -E '^(PASS|FAIL|RATE)' "$LOGS/$n.log" | sed 's/^/    /'
		if [ -n "$(ls -A "$san")" ]; then
			echo "    FAIL: sanitizer reports: $(ls "$san" | tr '\n' ' ')"
			head -n 30 "$san"/* | sed 's/^/    /' >>"$LOGS/$n.log"
			st=1
		fi
		record "e2e $n" "$st" "$LOGS/$n.log"
	done
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
