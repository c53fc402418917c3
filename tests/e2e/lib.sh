# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/e2e/lib.sh: helpers for fastgate's end-to-end tests and demo, sourced by bash
# scripts that run as root under `set -euo pipefail`. It creates network namespaces,
# veth links and wireguard-go peers with names unique to this run (FG_RUN, default the
# shell's PID), records every namespace, background PID and wireguard-go socket it
# creates, and removes exactly those on exit (trap). All state lives in the sourcing
# shell's globals; call the helpers from that shell, never inside $(...) (a subshell's
# records are lost). Test traffic rules: links in 198.18.0.0/15, tunnel addresses in
# 100.64.0.0/11 and fd00:2021:1111::/107, no default route in any namespace.
# Sourcing installs EXIT/INT/TERM traps (fg_cleanup); a script that needs its own exit
# work calls fg_cleanup from its trap instead.
# Settings (environment): FG_RUN (run id), FG_WORK (work directory, default
# /tmp/fastgate-e2e.<id>), FG_KEEP=1 (keep it), FG_GRACE (TERM->KILL seconds, 2),
# FG_WAIT_TIMEOUT (fg_wait_for default, 10 s), FG_WG_LOG_LEVEL (wireguard-go LOG_LEVEL).

# --- run identity and records ------------------------------------------------------------

FG_RUN=${FG_RUN:-$$}
# Interface names must stay below 16 bytes: "fg" + up to 6 id characters + a 7-byte suffix.
FG_ID=${FG_RUN//[^A-Za-z0-9]/}
[ "${#FG_ID}" -le 6 ] || FG_ID=${FG_ID:${#FG_ID}-6}
[ -n "$FG_ID" ] || { echo "FAIL: FG_RUN='$FG_RUN' has no letters or digits" >&2; exit 1; }
FG_WORK=${FG_WORK:-/tmp/fastgate-e2e.$FG_ID}
FG_GRACE=${FG_GRACE:-2}            # seconds between TERM and KILL in fg_cleanup
FG_WAIT_TIMEOUT=${FG_WAIT_TIMEOUT:-10}
FG_WG_RUNDIR=${FG_WG_RUNDIR:-/var/run/wireguard}
FG_LAST_PID=
FG_NS=()        # namespaces this run created
FG_PIDS=()      # background processes this run started
FG_WG_IFS=()    # wireguard-go interfaces this run started (their UAPI sockets)
FG_WORK_OWNED=0  # fg_cleanup removes FG_WORK only if this run created it

if [ ! -e "$FG_WORK" ]; then
	mkdir -p "$FG_WORK"
	FG_WORK_OWNED=1
fi

# --- messages ------------------------------------------------------------------------------

fg_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
fg_pass() { printf 'PASS: %s\n' "$*"; }
# fg_fail MESSAGE: print FAIL and exit 1 (the trap cleans up).
fg_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# fg_name SUFFIX: a machine-wide unique name for this run ("fg<id><suffix>", < 16 bytes).
fg_name() {
	local n="fg${FG_ID}$1"
	if [ "${#n}" -ge 16 ]; then
		fg_fail "fg_name: '$n' is longer than 15 bytes (suffix '$1' too long)"
	fi
	printf '%s\n' "$n"
}

# fg_need CMD...: fail clearly when a tool is missing.
fg_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fg_fail "missing '$c': run scripts/deps.sh"
	done
}

fg_require_root() {
	[ "$(id -u)" -eq 0 ] || fg_fail "must run as root (network namespaces, TUN devices)"
}

# --- processes -----------------------------------------------------------------------------

# fg_alive PID: the process exists and is not a zombie.
fg_alive() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

# fg_bg LOGFILE CMD...: start CMD in the background with stdout and stderr in LOGFILE and
# record its PID (in FG_LAST_PID too). `ip netns exec` execs, so the PID is the command.
fg_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	FG_LAST_PID=$!
	FG_PIDS+=("$FG_LAST_PID")
}

# fg_wait_for [-t SECONDS] CMD...: run CMD every 0.1 s until it succeeds (return 0) or
# the time is up (return 1). Default FG_WAIT_TIMEOUT seconds.
fg_wait_for() {
	local secs=$FG_WAIT_TIMEOUT
	if [ "${1:-}" = -t ]; then
		secs=$2
		shift 2
	fi
	local end=$((SECONDS + secs))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# fg_stop PID...: TERM, then KILL after FG_GRACE seconds; only PIDs this run recorded.
fg_stop() {
	local p known q deadline
	for p in "$@"; do
		known=0
		for q in "${FG_PIDS[@]}"; do
			[ "$q" = "$p" ] && known=1
		done
		[ "$known" = 1 ] || fg_fail "fg_stop: $p is not a process this run started"
		if fg_alive "$p"; then
			kill -TERM "$p" 2>/dev/null || true
		fi
	done
	deadline=$((SECONDS + FG_GRACE))
	for p in "$@"; do
		while fg_alive "$p" && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.1
		done
		if fg_alive "$p"; then
			fg_log "pid $p ignored TERM for ${FG_GRACE}s: KILL"
			kill -KILL "$p" 2>/dev/null || true
		fi
		wait "$p" 2>/dev/null || true
	done
}

# --- cleanup -------------------------------------------------------------------------------

# fg_cleanup: stop every recorded process, delete recorded namespaces, remove the UAPI
# sockets of our wireguard-go interfaces and the work directory if this run created it
# (kept with FG_KEEP=1).
# Idempotent; safe to call before exit to check that nothing is left.
fg_cleanup() {
	local p n live=()
	for p in "${FG_PIDS[@]}"; do
		fg_alive "$p" && live+=("$p")
	done
	if [ "${#live[@]}" -gt 0 ]; then
		fg_stop "${live[@]}"
	fi
	FG_PIDS=()
	for n in "${FG_NS[@]}"; do
		ip netns del "$n" 2>/dev/null || true
	done
	FG_NS=()
	for n in "${FG_WG_IFS[@]}"; do
		rm -f "$FG_WG_RUNDIR/$n.sock"
	done
	FG_WG_IFS=()
	if [ "$FG_WORK_OWNED" = 1 ] && [ "${FG_KEEP:-0}" != 1 ]; then
		rm -rf -- "$FG_WORK"
		FG_WORK_OWNED=0
	fi
}

fg__on_exit() {
	local rc=$?
	set +e
	fg_cleanup
	exit "$rc"
}
trap fg__on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- namespaces and links ------------------------------------------------------------------

# fg_ns NAME: create a namespace (fails if it exists: a name clash with another run), lo up.
fg_ns() {
	ip netns add "$1" || fg_fail "cannot create namespace $1 (exists already?)"
	FG_NS+=("$1")
	ip -n "$1" link set lo up
}

# fg__addr NS IF ADDR: add an IPv4 or IPv6 (nodad) address unless ADDR is "-".
fg__addr() {
	case $3 in
	-) ;;
	*:*) ip -n "$1" -6 addr add "$3" dev "$2" nodad ;;
	*) ip -n "$1" addr add "$3" dev "$2" ;;
	esac
}

# fg_veth [--dpdk 1|2]... NS1 IF1 ADDR1|- NS2 IF2 ADDR2|-
# A veth pair between two namespaces; "-" leaves an end without address. Checksum and
# segmentation offloads are off on both ends (else kernel UDP reaches AF_PACKET/DPDK with
# unfinished checksums). --dpdk N disables IPv6 on end N, the end a DPDK af_packet port
# takes, so the kernel sends no RS/MLD into it.
fg_veth() {
	local nov6_1=0 nov6_2=0
	while [ "${1:-}" = --dpdk ]; do
		case ${2:-} in
		1) nov6_1=1 ;;
		2) nov6_2=1 ;;
		*) fg_fail "fg_veth: --dpdk takes 1 or 2" ;;
		esac
		shift 2
	done
	[ "$#" -eq 6 ] || fg_fail "fg_veth: usage: [--dpdk 1|2] NS1 IF1 ADDR1|- NS2 IF2 ADDR2|-"
	local n1=$1 i1=$2 a1=$3 n2=$4 i2=$5 a2=$6 ns ifn
	ip link add "$i1" netns "$n1" type veth peer name "$i2" netns "$n2"
	[ "$nov6_1" = 0 ] || ip netns exec "$n1" sysctl -qw "net.ipv6.conf.$i1.disable_ipv6=1"
	[ "$nov6_2" = 0 ] || ip netns exec "$n2" sysctl -qw "net.ipv6.conf.$i2.disable_ipv6=1"
	fg__addr "$n1" "$i1" "$a1"
	fg__addr "$n2" "$i2" "$a2"
	for ns in "$n1:$i1" "$n2:$i2"; do
		ifn=${ns#*:}
		if ! ip netns exec "${ns%%:*}" ethtool -K "$ifn" tx off tso off gso off gro off \
			>/dev/null 2>&1; then
			fg_log "warning: ethtool could not turn offloads off on $ifn"
		fi
	done
	ip -n "$n1" link set "$i1" up
	ip -n "$n2" link set "$i2" up
}

# --- wireguard-go peers --------------------------------------------------------------------

# fg_wggo_start NS IFNAME: run `wireguard-go -f IFNAME` in NS (log in FG_WORK) and wait
# for its UAPI socket. Refuses a name whose socket exists: another process owns it.
fg_wggo_start() {
	local ns=$1 ifn=$2 sock="$FG_WG_RUNDIR/$2.sock"
	[ "${#ifn}" -lt 16 ] || fg_fail "fg_wggo_start: interface name '$ifn' too long"
	[ ! -e "$sock" ] || fg_fail "fg_wggo_start: $sock exists: '$ifn' belongs to another run"
	FG_WG_IFS+=("$ifn")
	fg_bg "$FG_WORK/wggo-$ifn.log" env LOG_LEVEL="${FG_WG_LOG_LEVEL:-error}" \
		ip netns exec "$ns" wireguard-go -f "$ifn"
	local pid=$FG_LAST_PID
	if ! fg_wait_for [ -S "$sock" ]; then
		cat "$FG_WORK/wggo-$ifn.log" >&2 || true
		fg_fail "wireguard-go $ifn in $ns: no UAPI socket after ${FG_WAIT_TIMEOUT}s"
	fi
	fg_alive "$pid" || fg_fail "wireguard-go $ifn in $ns exited"
	FG_LAST_PID=$pid
}

# fg_wg_keypair PREFIX: write PREFIX.key (mode 600) and PREFIX.pub.
fg_wg_keypair() {
	(umask 077 && wg genkey >"$1.key")
	wg pubkey <"$1.key" >"$1.pub"
}

# fg_wg_client NS IFNAME PRIVKEYFILE PEERPUB PSKFILE|- ENDPOINT|- ALLOWEDIPS ADDR4|- ADDR6|-
#              [LISTENPORT|- [KEEPALIVE]]
# Configure a running wireguard-go interface with one peer (`wg set`), its addresses, MTU
# 1280, a route per allowed IP, and bring it up. ALLOWEDIPS is comma separated; a /0 is
# refused (no default route in any namespace).
fg_wg_client() {
	[ "$#" -ge 9 ] || fg_fail "fg_wg_client: needs NS IFNAME PRIVKEYFILE PEERPUB PSKFILE|- ENDPOINT|- ALLOWEDIPS ADDR4|- ADDR6|- [LISTENPORT|- [KEEPALIVE]]"
	local ns=$1 ifn=$2 key=$3 pub=$4 psk=$5 ep=$6 aips=$7 a4=$8 a6=$9
	local port=${10:--} keepalive=${11:-}
	local args=(private-key "$key")
	[ "$port" = - ] || args+=(listen-port "$port")
	args+=(peer "$pub")
	[ "$psk" = - ] || args+=(preshared-key "$psk")
	[ "$ep" = - ] || args+=(endpoint "$ep")
	args+=(allowed-ips "$aips")
	[ -z "$keepalive" ] || args+=(persistent-keepalive "$keepalive")
	wg set "$ifn" "${args[@]}" || fg_fail "wg set $ifn failed"
	fg__addr "$ns" "$ifn" "$a4"
	fg__addr "$ns" "$ifn" "$a6"
	ip -n "$ns" link set "$ifn" mtu 1280 up
	local ip
	local -a nets
	IFS=, read -r -a nets <<<"$aips"
	for ip in "${nets[@]}"; do
		ip=${ip// /}
		case $ip in
		*/0) fg_fail "fg_wg_client: allowed IP $ip would be a default route" ;;
		*:*) ip -n "$ns" -6 route replace "$ip" dev "$ifn" ;;
		*) ip -n "$ns" route replace "$ip" dev "$ifn" ;;
		esac
	done
}

# --- checks --------------------------------------------------------------------------------

# fg_listening NS ADDR PORT [udp]: true when a socket in namespace NS listens on ADDR:PORT (TCP, or
# UDP with "udp"); for fg_wait_for, instead of sleeping after starting a server.
fg_listening() {
	local opt=-Hltn
	[ "${4:-}" = udp ] && opt=-Hlun
	ip netns exec "$1" ss "$opt" | awk -v a="$2:$3" -v b="[$2]:$3" '$4 == a || $4 == b { f = 1 } END { exit !f }'
}

# fg_sha256 FILE: print the file's SHA-256 in hex.
fg_sha256() {
	local sum
	sum=$(sha256sum -- "$1") || fg_fail "fg_sha256: cannot read $1"
	printf '%s\n' "${sum%% *}"
}

# fg_check_log_no_errors LOGFILE: fail (showing them) if LOGFILE holds an ERROR-level line,
# human ("<timestamp> ERROR target: message") or JSON ("level":"ERROR").
fg_check_log_no_errors() {
	local f=$1 hits
	[ -r "$f" ] || fg_fail "fg_check_log_no_errors: cannot read $f"
	hits=$(grep -E -n -e '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ +ERROR [^ ]+: ' \
		-e '"level" *: *"ERROR"' -- "$f" | head -n 20) || true
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" >&2
		fg_fail "$f logs ERROR lines (ERROR means a bug)"
	fi
}

# The end-to-end scripts' checks: fg_check NAME CMD... runs CMD and prints "PASS: NAME" or
# "FAIL: NAME", counting into FG_PASSED / FG_FAILED (the scripts print the totals).
FG_PASSED=0
FG_FAILED=0
fg_check() {
	local name=$1
	shift
	if "$@"; then
		echo "PASS: $name"
		FG_PASSED=$((FG_PASSED + 1))
	else
		echo "FAIL: $name"
		FG_FAILED=$((FG_FAILED + 1))
	fi
}
