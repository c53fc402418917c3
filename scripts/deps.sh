#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/deps.sh: installs the Debian 12 packages fastgate needs to build and to run its
# tests (CUnit, in-process DPDK and end-to-end tests against real peers), and nothing else.
# Idempotent: it asks dpkg-query which packages are missing and runs apt-get (update, then
# install --no-install-recommends) only for those. Runs as root, or through sudo when
# that exists. No state; safe to run any number of times.
#
# usage: scripts/deps.sh [--check] [--build-only] [--peers] [--fuzz]
#   --check  list missing packages and exit 1 if any, install nothing
#   --build-only  only what building fastgate needs (scripts/install.sh), no test packages
#   --peers  also the relay peer of the later end-to-end tests
#            (coturn; the DNS peers dnsmasq-base and dnsutils are test packages)
#   --fuzz   also clang with its libFuzzer/sanitizer runtimes and llvm-cov (scripts/fuzz.sh)
set -euo pipefail

BUILD=(
	build-essential
	pkg-config
	meson
	ninja-build
	libdpdk-dev
	dpdk-dev
	libsodium-dev
	libb2-dev
	libipsec-mb-dev
	libcjson-dev
	libwebsockets-dev
	libssl-dev
	zlib1g-dev
	libc-ares-dev
	libcunit1-dev
	liburing-dev
)
TEST=(
	wireguard-go
	wireguard-tools
	iproute2
	iputils-ping
	ethtool
	socat
	nftables
	tcpdump
	tcpreplay
	curl
	python3
	python3-websockets
	python3-prometheus-client
	openssl
	netcat-openbsd
	iperf3
	procps
	conntrack
	util-linux
	coreutils
	shellcheck
	dnsmasq-base
	dnsutils
	stress-ng
	faketime
	strace
	systemd
)
PEERS=(
	coturn
)
FUZZ=(
	clang
	libclang-rt-14-dev
	llvm
)

check_only=0
build_only=0
want=("${BUILD[@]}" "${TEST[@]}")
for arg in "$@"; do
	case $arg in
	--check) check_only=1 ;;
	--build-only) build_only=1 ;;
	--peers) want+=("${PEERS[@]}") ;;
	--fuzz) want+=("${FUZZ[@]}") ;;
	-h | --help)
		sed -n 's/^# \{0,1\}//; /^usage:/,/llvm-cov/p' "$0"
		exit 0
		;;
	*)
		echo "deps.sh: unknown option '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

die() {
	echo "deps.sh: $*" >&2
	exit 1
}

# installed PKG: true when dpkg says the package is fully installed.
installed() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
	[ "$st" = installed ]
}

# --build-only: the build packages alone (a gateway host needs no test peers). Otherwise the
# ICE tests' client agent (werift-ice) comes from npm: Node.js and npm from Debian, unless
# a Node.js with its npm is installed already (e.g. from another repository, whose package
# would conflict with Debian's npm).
if [ "$build_only" = 1 ]; then
	want=("${BUILD[@]}")
elif ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	want+=(nodejs npm)
fi

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian 12"
missing=()
for p in "${want[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps.sh: all ${#want[@]} packages are installed"
	exit 0
fi
echo "deps.sh: missing: ${missing[*]}"
[ "$check_only" = 0 ] || exit 1

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run as root to install ${missing[*]}"
	SUDO=(sudo)
fi
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

echo "deps.sh: apt-get update"
"${APT[@]}" update >/dev/null || die "apt-get update failed (network or sources.list?)"
echo "deps.sh: installing ${missing[*]}"
if ! "${APT[@]}" install --no-install-recommends "${missing[@]}"; then
	die "apt-get install failed for: ${missing[*]}"
fi

still=()
for p in "${missing[@]}"; do
	installed "$p" || still+=("$p")
done
[ "${#still[@]}" -eq 0 ] || die "still not installed after apt-get: ${still[*]}"
echo "deps.sh: installed ${#missing[@]} packages"
