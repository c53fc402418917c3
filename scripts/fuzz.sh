#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/fuzz.sh [TARGET [SECONDS]]: builds the libFuzzer harnesses of tests/fuzz/ with
# clang, AddressSanitizer and UBSan (build-fuzz/), then runs TARGET (default: every harness)
# for SECONDS each (default 60). A crash leaves its input in build-fuzz/fuzz-artifacts/ and
# exits non-zero. Needs clang (Debian package clang), installed when missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FG_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
target=${1:-all}
secs=${2:-60}
"$ROOT/scripts/deps.sh"
if ! command -v clang >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang >/dev/null
fi
if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link "$BUILD" "$ROOT" >/dev/null
fi
ninja -C "$BUILD" -j"$(nproc)" >/dev/null
mkdir -p "$BUILD/fuzz-artifacts"
rc=0
for exe in "$BUILD"/tests/fuzz/fuzz_*; do
	[ -x "$exe" ] || continue
	name=$(basename "$exe")
	name=${name#fuzz_}
	[ "$target" = all ] || [ "$target" = "$name" ] || continue
	mkdir -p "$BUILD/fuzz-corpus/$name"
	echo "fuzz $name: ${secs}s"
	# -detect_leaks=0: the service state lives in DPDK memory (mmap), which LeakSanitizer does
	# not scan, so what it points to looks leaked.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$exe" -detect_leaks=0 -max_total_time="$secs" -artifact_prefix="$BUILD/fuzz-artifacts/$name-" \
		"$BUILD/fuzz-corpus/$name" 2>"$BUILD/fuzz-artifacts/$name.log" || {
		rc=1
		tail -n 40 "$BUILD/fuzz-artifacts/$name.log"
	}
	tail -n 1 "$BUILD/fuzz-artifacts/$name.log"
done
exit $rc
