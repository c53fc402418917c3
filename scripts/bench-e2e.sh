#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/bench-e2e.sh [BUILD_DIR]: end-to-end TCP throughput through a WireGuard gateway,
# fastgate-dataplane beside a wireguard-go gateway, in one run on one topology
# (tests/e2e/topo.sh: two wireguard-go clients on a bridge, the gateway in namespace G,
# the resource namespace R behind it).
#   1. fastgate-dataplane on net_af_packet (started as topo.sh's gw_start does, one worker,
#      --idle-sleep-us $FG_IDLE_US, default 0: pure polling);
#   2. a wireguard-go interface in G with the same private key, listening on 198.18.1.1:51820
#      through the kernel (the G-side veth gets 198.18.1.1/24), 100.64.0.0/11 routed into it.
# For each: iperf3 TCP from client 1 to the resource (198.18.2.2) and back (-R), 1 and 4
# streams (-P 4), $BENCH_SECONDS (8) s each. Records Gbit/s (iperf3 -J, receiver side) and
# the gateway's CPU over the run from /proc/<pid>/stat and, for fastgate, per thread (worker
# lcore, service lcore), plus the whole machine's busy CPU. Prints a table with the ratio
# fastgate / wireguard-go per row and writes bench/e2e-results.csv (BENCH_CSV overrides).
# Prints figures only, asserts nothing. Needs root; uses the existing build (no rebuild).
# Settings: FG_IDLE_US (0), BENCH_SECONDS (8), BENCH_CSV, plus lib.sh's FG_RUN, FG_KEEP.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
	FG_BUILD=$(cd "$1" && pwd)
	export FG_BUILD
fi
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$ROOT/tests/e2e/topo.sh"
fg_require_root
fg_need iperf3 jq wireguard-go wg ethtool
[ -x "$FG_DP_BIN" ] || fg_fail "no data plane binary at $FG_DP_BIN (build first: scripts/build.sh)"

SECS=${BENCH_SECONDS:-8}
CSV=${BENCH_CSV:-$ROOT/bench/e2e-results.csv}
FG_IDLE_US=${FG_IDLE_US:-0}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
PORT=5201
RESULTS=()  # "gateway direction streams gbps gw_cpu worker_cpu service_cpu system_cpu"

# --- CPU accounting ----------------------------------------------------------------------------

# cpu_ticks PID: "total worker service" utime+stime ticks; worker = threads named *worker*
# (DPDK's lcore threads), service = the main thread (the service lcore for fastgate).
cpu_ticks() {
	local pid=$1 total=0 worker=0 service=0 t line rest comm ticks
	for t in /proc/"$pid"/task/*; do
		line=$(cat "$t/stat" 2>/dev/null) || continue
		comm=${line#*(}
		comm=${comm%)*}
		rest=${line##*) }
		# after "comm) ": state(3) ... utime is field 14, stime 15 -> 12th and 13th here
		ticks=$(awk '{ print $12 + $13 }' <<<"$rest")
		total=$((total + ticks))
		if [ "${t##*/}" = "$pid" ]; then
			service=$((service + ticks))
		elif [[ $comm == *worker* ]]; then
			worker=$((worker + ticks))
		fi
	done
	echo "$total $worker $service"
}

# sys_ticks: "busy total" jiffies of the whole machine (/proc/stat, all CPUs).
sys_ticks() {
	awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6; exit }' /proc/stat
}

# --- one measurement ---------------------------------------------------------------------------

# measure GATEWAY PID DIR STREAMS: run iperf3 from client 1, record one RESULTS row.
measure() {
	local gw=$1 pid=$2 dir=$3 streams=$4 args=(-c "$RES4" -p "$PORT" -t "$SECS" -J)
	local c0 c1 s0 s1 t0 t1 json gbps
	[ "$dir" = down ] && args+=(-R)
	[ "$streams" -gt 1 ] && args+=(-P "$streams")
	c0=$(cpu_ticks "$pid"); s0=$(sys_ticks); t0=$(date +%s.%N)
	json=$FG_WORK/iperf-$gw-$dir-$streams.json
	ip netns exec "$NS_C1" timeout $((SECS + 20)) iperf3 "${args[@]}" >"$json" 2>&1 || true
	t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); s1=$(sys_ticks)
	gbps=$(jq -r '(.end.sum_received.bits_per_second // empty) / 1e9' "$json" 2>/dev/null || true)
	if [ -z "$gbps" ]; then
		fg_log "iperf3 $gw $dir P$streams failed: $(jq -r '.error // empty' "$json" 2>/dev/null || head -c 200 "$json")"
		gbps=NA
	fi
	RESULTS+=("$(awk -v gw="$gw" -v dir="$dir" -v p="$streams" -v g="$gbps" -v hz="$HZ" \
		-v n="$NCPU" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" '
		function pct(d) { return sprintf("%.0f", 100 * d / hz / (t1 - t0)) }
		BEGIN {
			split(c0, a, " "); split(c1, b, " "); split(s0, x, " "); split(s1, y, " ")
			sys = sprintf("%.0f", 100 * n * (y[1] - x[1]) / (y[2] - x[2]))
			w = gw == "fastgate" ? pct(b[2] - a[2]) : "-"
			s = gw == "fastgate" ? pct(b[3] - a[3]) : "-"
			if (g != "NA") g = sprintf("%.3f", g)
			print gw, dir, p, g, pct(b[1] - a[1]), w, s, sys
		}')")
	fg_log "$gw $dir P$streams: ${RESULTS[-1]}"
}

run_matrix() { # run_matrix GATEWAY PID
	local dir p
	for dir in up down; do
		for p in 1 4; do
			measure "$1" "$2" "$dir" "$p"
		done
	done
}

warm_up() { # handshakes for both clients, then a path check
	ip netns exec "$NS_C1" ping -c 3 -i 0.2 -W 6 -q "$RES4" >/dev/null ||
		fg_fail "client 1 cannot reach the resource through $1"
	ip netns exec "$NS_C2" ping -c 2 -i 0.2 -W 6 -q "$RES4" >/dev/null ||
		fg_fail "client 2 cannot reach the resource through $1"
}

clients_up() {
	client_up 1
	C1_PID=$FG_LAST_PID
	client_up 2
	C2_PID=$FG_LAST_PID
}

# --- topology, resource server -----------------------------------------------------------------

fg_log "topology (run $FG_ID), ${SECS}s per measurement, $NCPU CPUs"
topo_up
fg_bg "$FG_WORK/iperf3-server.log" ip netns exec "$NS_R" iperf3 -s -B "$RES4" -p "$PORT"
fg_wait_for bash -c "ip netns exec '$NS_R' ss -ltnH 'sport = :$PORT' | grep -q LISTEN" ||
	fg_fail "iperf3 server did not listen"

# --- 1. fastgate-dataplane ---------------------------------------------------------------------

# shellcheck disable=SC2119 # gw_start reads FG_IDLE_US (set above) for --idle-sleep-us
gw_start
wg set "$GW_TUN" peer "$(cat "$FG_WORK/c2.pub")" allowed-ips 100.64.0.3/32,fd00:2021:1111::3/128
clients_up
warm_up fastgate
fg_log "fastgate-dataplane pid $GW_PID: threads $(cat /proc/"$GW_PID"/task/*/comm | tr '\n' ' ')"
run_matrix fastgate "$GW_PID"
fg_stop "$C1_PID" "$C2_PID" "$GW_PID"
fg_check_log_no_errors "$GW_LOG" || true
fg_wait_for [ ! -e "$FG_WG_RUNDIR/$GW_TUN.sock" ] || fg_log "warning: $GW_TUN.sock still there"

# --- 2. wireguard-go gateway -------------------------------------------------------------------

WG_GW=$(fg_name wg)
ip -n "$NS_G" addr add "$GW_ADDR/24" dev gx
fg_wggo_start "$NS_G" "$WG_GW"
WGGW_PID=$FG_LAST_PID
wg set "$WG_GW" private-key "$FG_WORK/gw.key" listen-port 51820 \
	peer "$(cat "$FG_WORK/c1.pub")" preshared-key "$FG_WORK/c1.psk" \
	allowed-ips 100.64.0.2/32,fd00:2021:1111::2/128 \
	peer "$(cat "$FG_WORK/c2.pub")" allowed-ips 100.64.0.3/32,fd00:2021:1111::3/128
ip -n "$NS_G" addr add 100.64.0.1/32 dev "$WG_GW"
ip -n "$NS_G" -6 addr add fd00:2021:1111::1/128 dev "$WG_GW" nodad
ip -n "$NS_G" link set "$WG_GW" mtu 1280 up
ip -n "$NS_G" route add 100.64.0.0/11 dev "$WG_GW"
ip -n "$NS_G" -6 route add fd00:2021:1111::/107 dev "$WG_GW"
clients_up
warm_up wireguard-go
run_matrix wireguard-go "$WGGW_PID"

# --- report ------------------------------------------------------------------------------------

REPORT=$(printf '%s\n' "${RESULTS[@]}" | awk '
	{ key = $2 " " $3; row[NR] = $0; if ($1 == "fastgate") fg[key] = $4; else wg[key] = $4 }
	END {
		for (i = 1; i <= NR; i++) {
			split(row[i], f, " "); key = f[2] " " f[3]
			r = (fg[key] != "NA" && wg[key] != "NA" && wg[key] > 0) ? sprintf("%.2f", fg[key] / wg[key]) : "NA"
			print row[i], r
		}
	}')
{
	echo "gateway,direction,streams,gbit_s,gateway_cpu_pct,worker_cpu_pct,service_cpu_pct,system_cpu_pct,ratio_fastgate_wggo"
	awk '{ $1 = $1; gsub(/ /, ","); print }' <<<"$REPORT"
} >"$CSV"

echo
echo "End to end, iperf3 TCP from client 1 (wireguard-go), ${SECS}s each; CPU % of one core;"
echo "up = client -> resource, down = resource -> client (-R); system = all $NCPU CPUs busy"
printf '%-13s %-5s %7s %8s %8s %7s %8s %7s %15s\n' gateway dir streams Gbit/s gw-CPU% worker% service% sys% fastgate/wg-go
awk '{ printf "%-13s %-5s %7s %8s %8s %7s %8s %7s %15s\n", $1, ($2 == "up" ? "c->r" : "r->c"), $3, $4, $5, $6, $7, $8, $9 }' <<<"$REPORT"
echo "CSV: $CSV"
