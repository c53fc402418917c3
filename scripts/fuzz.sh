#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/fuzz.sh SECONDS [NAME...]: builds the libFuzzer harnesses of tests/fuzz/ with clang,
# AddressSanitizer and UBSan (build-fuzz/, meson option -Dfuzz=true), then runs each harness
# (or only the NAMEs given) for SECONDS, as many at once as there are cores. Each starts from
# its seed corpus tests/fuzz/corpus/NAME/ plus what earlier runs found (build-fuzz/fuzz-corpus/
# NAME/, never written back into the source tree). Installs clang from Debian when missing.
#
# Prints one line per harness:
#   PASS fuzz NAME: 15 s, 812345 execs, cov 1234, ft 5678, corpus 210
#   FAIL fuzz NAME: crash, input build-fuzz/fuzz-artifacts/NAME-crash-<sha1>
# and a closing "fuzz: N passed, N failed"; exits 1 when any failed. A crash's input should be
# kept as tests/fuzz/corpus/NAME/crash-<what> once fixed, so the seed test replays it.
#
# FG_FUZZ_COVERAGE=1 also builds the harnesses with source-based coverage (build-fuzz-cov/)
# and prints, per harness, the line coverage of each project file it reaches, measured over
# the corpus the run ended with (llvm-cov from Debian's llvm package).
#
# Environment: FG_FUZZ_BUILD_DIR (build-fuzz), FG_FUZZ_JOBS (nproc), FG_FUZZ_LOGS (its
# fuzz-logs/).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FG_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${FG_FUZZ_JOBS:-$(nproc)}
LOGS=${FG_FUZZ_LOGS:-$BUILD/fuzz-logs}
COVERAGE=${FG_FUZZ_COVERAGE:-0}

usage() { sed -n 's/^# \{0,1\}//; /^scripts\/fuzz.sh/,/^$/p' "$0" | head -n 8; }
case ${1:-} in
'' | -h | --help) usage; [ -n "${1:-}" ]; exit $? ;;
esac
secs=$1
shift
case $secs in
*[!0-9]* | 0) echo "fuzz.sh: SECONDS must be a positive integer, not '$secs'" >&2; exit 2 ;;
esac

"$ROOT/scripts/deps.sh" --fuzz >/dev/null || { echo "fuzz.sh: cannot install clang (scripts/deps.sh --fuzz)" >&2; exit 1; }

# setup DIR EXTRA_C_ARGS EXTRA_LINK_ARGS: a clang build of the harnesses in DIR.
setup() {
	[ -f "$1/build.ninja" ] && return 0
	CC=clang meson setup -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args="-fsanitize=fuzzer-no-link $2" -Dc_link_args="$3" "$1" "$ROOT" >"$LOGS.setup-$(basename "$1").log" 2>&1 ||
		{ cat "$LOGS.setup-$(basename "$1").log" >&2; return 1; }
}
mkdir -p "$(dirname "$LOGS")"
setup "$BUILD" "" "" || { echo "fuzz: 0 passed, 1 failed"; exit 1; }
mkdir -p "$LOGS" "$BUILD/fuzz-artifacts" "$BUILD/fuzz-corpus"
# fuzz_targets: the harnesses' ninja targets (only they and what they link are built).
fuzz_targets() { ninja -C "$1" -t targets all 2>/dev/null | sed -nE 's|^(tests/fuzz/fuzz_[A-Za-z0-9_]+): .*|\1|p'; }
ninja -C "$BUILD" build.ninja >"$LOGS/build.log" 2>&1 # reconfigures when meson.build changed
# shellcheck disable=SC2046
if ! ninja -C "$BUILD" -j"$(nproc)" $(fuzz_targets "$BUILD") >>"$LOGS/build.log" 2>&1; then
	tail -n 40 "$LOGS/build.log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

names=()
for exe in "$BUILD"/tests/fuzz/fuzz_*; do
	if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then continue; fi
	n=$(basename "$exe")
	n=${n#fuzz_}
	if [ $# -gt 0 ]; then
		want=0
		for w in "$@"; do [ "$w" = "$n" ] && want=1; done
		[ "$want" = 1 ] || continue
	fi
	names+=("$n")
done
if [ $# -gt 0 ] && [ "${#names[@]}" -ne $# ]; then
	echo "fuzz.sh: unknown harness among: $* (have: $(cd "$BUILD/tests/fuzz" && ls fuzz_* | sed 's/^fuzz_//' | tr '\n' ' '))" >&2
	exit 2
fi

# run_one NAME: fuzzes one harness for $secs; leaves NAME.log and NAME.rc in $LOGS.
run_one() {
	local n=$1 seeds="$ROOT/tests/fuzz/corpus/$1"
	mkdir -p "$BUILD/fuzz-corpus/$n"
	[ -d "$seeds" ] || seeds=
	# -detect_leaks=0: the data plane's state lives in DPDK memory (mmap), which
	# LeakSanitizer does not scan, so what it points to looks leaked.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		timeout -k 10 $((secs + 120)) "$BUILD/tests/fuzz/fuzz_$n" -detect_leaks=0 -max_total_time="$secs" \
		-print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/$n-" \
		"$BUILD/fuzz-corpus/$n" ${seeds:+"$seeds"} >"$LOGS/$n.log" 2>&1
	echo $? >"$LOGS/$n.rc"
}

# Run the harnesses, JOBS at a time.
running=()
for n in "${names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	run_one "$n" &
	running+=($!)
done
wait

passed=0
failed=0
for n in "${names[@]}"; do
	log=$LOGS/$n.log
	rc=$(cat "$LOGS/$n.rc" 2>/dev/null || echo 99)
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
	cov=$(printf '%s\n' "$done_line" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
	ft=$(printf '%s\n' "$done_line" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
	corp=$(printf '%s\n' "$done_line" | sed -nE 's/.* corp: ([0-9]+).*/\1/p')
	if [ "$rc" = 0 ] && [ -n "$execs" ]; then
		echo "PASS fuzz $n: ${secs} s, ${execs} execs, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
		passed=$((passed + 1))
	else
		art=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
		why=crash
		grep -q 'ERROR: libFuzzer: timeout' "$log" && why=timeout
		grep -q 'out-of-memory' "$log" && why=out-of-memory
		[ -n "$art" ] || why="exit $rc"
		echo "FAIL fuzz $n: $why${art:+, input $art} (log: $log)"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -n 5 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done

if [ "$COVERAGE" = 1 ]; then
	COV=$BUILD-cov
	# shellcheck disable=SC2046
	if ! { setup "$COV" "-fprofile-instr-generate -fcoverage-mapping" "-fprofile-instr-generate" &&
		ninja -C "$COV" build.ninja >"$LOGS/build-cov.log" 2>&1 &&
		ninja -C "$COV" -j"$(nproc)" $(fuzz_targets "$COV") >>"$LOGS/build-cov.log" 2>&1; }; then
		tail -n 20 "$LOGS/build-cov.log"
		echo "fuzz.sh: coverage build failed" >&2
	fi
	for n in "${names[@]}"; do
		exe=$COV/tests/fuzz/fuzz_$n
		[ -x "$exe" ] || continue
		rm -f "$LOGS/$n.profraw"
		seeds="$ROOT/tests/fuzz/corpus/$n"
		[ -d "$seeds" ] || seeds=
		LLVM_PROFILE_FILE="$LOGS/$n.profraw" ASAN_OPTIONS=detect_leaks=0 "$exe" -detect_leaks=0 -runs=0 \
			"$BUILD/fuzz-corpus/$n" ${seeds:+"$seeds"} >"$LOGS/$n.cov.log" 2>&1
		llvm-profdata merge -sparse "$LOGS/$n.profraw" -o "$LOGS/$n.profdata" 2>/dev/null || continue
		# One line per project file the harness reaches (not the harness, not DPDK's headers).
		llvm-cov report "$exe" -instr-profile="$LOGS/$n.profdata" 2>/dev/null |
			awk -v n="$n" -v root="$ROOT/" '$1 ~ /\.c$/ && $1 !~ /tests\/fuzz\// {
				f = $1; sub(root, "", f); printf "COV fuzz %s: %s lines %s of %s (%s)\n", n, f, $8 - $9, $8, $10 }'
	done
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
