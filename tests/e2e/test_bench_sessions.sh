#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end, the bench-only fixed sessions (meson option bench_sessions, --bench-sessions):
#   1. a default build (FG_DP_BIN) refuses --bench-sessions at start-up: exit status 1 and an
#      error that names the meson option, before it touches any device;
#   2. the bench-sessions build (built into build-bench-sessions/ when missing, see
#      tests/e2e/benchsess.sh) with the sessions of fastgate-gen-pcaps' keys.txt takes, on a
#      DPDK net_pcap port, a data pcap whose data messages are repeated LAPS times in a row
#      (the same counters each lap, as a looping generator sends them): every message of
#      every lap must decrypt and reach the TUN (worker decrypted = TUN packets = messages
#      sent, no replay drop, no drop at all), for 1 and for 100 peers, and the log must hold
#      no ERROR or WARN. Part 2 needs the lap call of dataplane/worker/benchlap.h in
#      receive.c's admit_counter; without it every lap after the first is dropped as
#      replayed and the check fails.
# The data plane runs in a namespace of its own, where its TUN delivers the inner packets
# (100.64.1.x -> 100.64.0.1:5201) to a UDP socket that holds what fits its buffer; the
# kernel's side (the TUN's receive counter, which counts GRO super-packets, and the
# datagrams refused by the full socket) is printed, not checked. Prints PASS/FAIL lines and "e2e-bench-sessions: N passed, N failed".
# Needs root. Usage: test_bench_sessions.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
FG_BUILD=${FG_BUILD:-$(cd "$HERE/../.." && pwd)/build}
FG_DP_BIN=${FG_DP_BIN:-$FG_BUILD/dataplane/fastgate-dataplane}
LAPS=${FG_BENCH_LAPS:-3}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/benchsess.sh
. "$HERE/benchsess.sh"
fg_require_root
fg_need meson ninja ip
[ -x "$FG_DP_BIN" ] || fg_fail "no data plane binary at $FG_DP_BIN (build first)"

# --- 1. a default build refuses the option -------------------------------------------------

refuses_option() {
	local out st=0
	out=$("$FG_DP_BIN" --no-pci --no-huge --no-shconf --no-telemetry -- --config /nonexistent \
		--bench-sessions /nonexistent 2>&1) || st=$?
	printf '%s\n' "$out" >"$FG_WORK/refusal.log"
	[ "$st" = 1 ] || { echo "    exit status $st, expected 1: $out" >&2; return 1; }
	printf '%s\n' "$out" | grep -q 'ERROR .*--bench-sessions: .*meson -Dbench_sessions=true' ||
		{ echo "    no error naming the meson option: $out" >&2; return 1; }
	# Refused before the EAL: no DPDK line at all.
	! printf '%s\n' "$out" | grep -q 'EAL'
}
fg_check "a default build refuses --bench-sessions at start-up, naming meson -Dbench_sessions=true" refuses_option

# --- 2. laps of a data pcap decrypt in the bench-sessions build -----------------------------

bs_build
bs_pcaps --packets 4096
bs_conf
NS=$(fg_name bs)
fg_ns "$NS"

# run_laps PEERS: LAPS laps of data-64-pPEERS.pcap's data messages through net_pcap.
run_laps() {
	local peers=$1 per_lap pcap sent dec tun replay drops udp_before udp_after sink_pid tun_rx
	pcap=$FG_WORK/laps-p$peers.pcap
	per_lap=$(bs_data_only "$BS_PCAPS/data-64-p$peers.pcap" "$pcap" "$LAPS")
	sent=$((per_lap * LAPS))
	bs_sink "$NS"
	sink_pid=$BS_SINK_PID
	udp_before=$(bs_udp_refused "$NS")
	bs_dp_start "$NS" "net_pcap0,rx_pcap=$pcap,tx_pcap=/dev/null"
	# The port reads the whole file once the workers run: wait until every frame came in.
	# shellcheck disable=SC2016 # $1, $2 and s are awk's
	if ! fg_wait_for -t 60 sh -c 'kill -USR1 '"$BS_PID"' && sleep 0.3 && awk -v w='"$sent"' '\''$1 ~ /^worker[0-9]+\.nic_rx_packets$/ { s += $2 } END { exit !(s >= w) }'\'' '"$BS_STATS"; then
		echo "    the data plane received $(bs_stat "$BS_STATS" 'worker*.nic_rx_packets') of $sent frames" >&2
	fi
	bs_dump
	dec=$(bs_stat "$BS_STATS" 'worker*.decrypted')
	tun=$(bs_stat "$BS_STATS" 'worker*.tun_tx_packets')
	replay=$(bs_stat "$BS_STATS" drop.wg_replayed_counter)
	drops=$(awk '$1 ~ /^drop\./ && $2 > 0 { printf "%s %s; ", substr($1, 6), $2 }' "$BS_STATS")
	udp_after=$(bs_udp_refused "$NS")
	tun_rx=$(ip -n "$NS" -s -j link show dev "$BS_TUN" | /usr/bin/python3 -c 'import json, sys
s = json.load(sys.stdin)[0]["stats64"]["rx"]; print(s["packets"], s["dropped"])')
	echo "    p$peers: $LAPS laps of $per_lap data messages: sent $sent, decrypted $dec, to the TUN $tun," \
		"replay drops $replay; drops: ${drops:-none}; the kernel: TUN rx ${tun_rx% *} (dropped ${tun_rx#* })," \
		"UDP datagrams refused by the full sink socket $((udp_after - udp_before))"
	fg_stop "$BS_PID" "$sink_pid"
	fg_check_log_no_errors "$BS_LOG"
	if grep -E -n ' WARN ' "$BS_LOG" >&2; then
		echo "    the data plane logged a WARN" >&2
		return 1
	fi
	grep -q "fixed test sessions from $BS_PCAPS/keys.txt" "$BS_LOG" ||
		{ echo "    no start-up line about the bench sessions" >&2; return 1; }
	[ "$dec" = "$sent" ] && [ "$tun" = "$sent" ] && [ "$replay" = 0 ] && [ -z "$drops" ]
}
fg_check "bench sessions, 1 peer: $LAPS laps of data-64-p1 all decrypt (no replay drop)" run_laps 1
fg_check "bench sessions, 100 peers: $LAPS laps of data-64-p100 all decrypt (no replay drop)" run_laps 100

echo "e2e-bench-sessions: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" = 0 ]
