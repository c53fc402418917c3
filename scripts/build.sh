#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/build.sh [BUILD_DIR]: installs missing Debian packages (scripts/deps.sh), then
# configures (once) and builds fastgate with meson/ninja into BUILD_DIR (default build/).
# With CI=true the build uses -Dwerror=true.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
"$ROOT/scripts/deps.sh"
if [ ! -f "$BUILD/build.ninja" ]; then
	opts=()
	[ "${CI:-}" = true ] && opts+=(-Dwerror=true)
	meson setup "${opts[@]}" "$BUILD" "$ROOT" >/dev/null
fi
ninja -C "$BUILD" -j"$(nproc)"
