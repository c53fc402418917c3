#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end, two workers: fastgate-dataplane with Workers = 2 on a two-queue
# net_af_packet port (the kernel's fanout spreads the clients over the queues) carries two
# wireguard-go clients' downloads while peers are added and removed at run time through
# `wg set` (every change republishes the tables under RCU). The established flows must
# complete unharmed, both workers must carry traffic, and — when the data plane was built
# with AddressSanitizer/UBSan (FG_DP_BIN pointing at such a build, as scripts/test.sh does) —
# no sanitizer report may appear. Prints "e2e-multicore: N passed, N failed". Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root

check() { fg_check "$@"; }

topo_up
sed -i 's/^Workers = 1/Workers = 2/' "$GW_CONF"
# Three lcores on two CPUs: the service lcore shares CPU 0, the two workers CPU 1 and 0.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
fg_bg "$GW_LOG" ip netns exec "$NS_G" env ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" \
	"$FG_DP_BIN" --lcores '0@0,1@1,2@0' --no-pci --no-huge --no-shconf --no-telemetry --iova-mode=va -m 128 \
	--vdev=net_af_packet0,iface=gx,qpairs=2 -- --config "$GW_CONF" --stats-file "$GW_STATS" --idle-sleep-us 20
GW_PID=$FG_LAST_PID
fg_wait_for -t 60 [ -S "$FG_WG_RUNDIR/$GW_TUN.sock" ] || { cat "$GW_LOG"; fg_fail "data plane did not start"; }
client_up 1
wg set "$GW_TUN" peer "$(cat "$FG_WORK/c2.pub")" allowed-ips 100.64.0.3/32,fd00:2021:1111::3/128
client_up 2
check "both clients reach the resource through a 2-worker data plane" bash -c \
	"ip netns exec $NS_C1 ping -c 2 -i 0.2 -W 6 -q $RES4 >/dev/null && ip netns exec $NS_C2 ping -c 2 -i 0.2 -W 6 -q $RES4 >/dev/null"

head -c 10000000 /dev/urandom >"$FG_WORK/10M"
SUM=$(fg_sha256 "$FG_WORK/10M")
# Slow the downloads so that they last while the peer table churns, and run three per client
# so the kernel's flow hashing has several flows to spread over the two queues.
ip netns exec "$NS_L" tc qdisc add dev l1 root tbf rate 40mbit burst 64kb latency 400ms
ip netns exec "$NS_L" tc qdisc add dev l2 root tbf rate 40mbit burst 64kb latency 400ms
DLS=()
for c in 1 2; do
	for j in 1 2 3; do
		port=$((21000 + c * 10 + j))
		fg_bg "$FG_WORK/srv$c$j.log" ip netns exec "$NS_R" timeout 120 socat -u "OPEN:$FG_WORK/10M" "TCP-LISTEN:$port,bind=$RES4,reuseaddr"
	done
done
listening() { # all six servers listen
	local l
	l=$(ip netns exec "$NS_R" ss -Hltn)
	for port in 21011 21012 21013 21021 21022 21023; do
		grep -q "$RES4:$port " <<<"$l" || return 1
	done
}
fg_wait_for -t 30 listening || fg_fail "the download servers did not start listening"
for c in 1 2; do
	ns=$NS_C1; [ "$c" = 2 ] && ns=$NS_C2
	for j in 1 2 3; do
		ip netns exec "$ns" timeout 120 socat -u "TCP:$RES4:$((21000 + c * 10 + j))" "CREATE:$FG_WORK/d$c$j" &
		DLS+=($!)
	done
done
ip netns exec "$NS_C1" ping -c 400 -i 0.02 -W 2 -q "$RES4" >"$FG_WORK/churn-ping.log" 2>&1 &
P1=$!

churn() {
	local i keys=() k
	for i in $(seq 150); do
		k=$(wg genkey | wg pubkey)
		keys+=("$k")
		wg set "$GW_TUN" peer "$k" allowed-ips "100.64.$((10 + i / 200)).$((i % 200 + 1))/32" endpoint "198.18.1.$((100 + i % 50)):51820"
		if [ "${#keys[@]}" -gt 20 ]; then
			wg set "$GW_TUN" peer "${keys[0]}" remove
			keys=("${keys[@]:1}")
		fi
	done
	for k in "${keys[@]}"; do wg set "$GW_TUN" peer "$k" remove; done
	[ "$(wg show "$GW_TUN" peers | wc -l)" = 2 ]
}
check "150 peers added and removed at run time (wg set) during the transfers" churn
downloads_ok() {
	local ok=0 pid f
	for pid in "${DLS[@]}"; do wait "$pid" || ok=1; done
	for f in "$FG_WORK"/d[12][123]; do
		[ "$(fg_sha256 "$f")" = "$SUM" ] || { echo "  $f differs"; ok=1; }
	done
	return $ok
}
check "six downloads (two clients x three) completed unharmed (SHA-256)" downloads_ok
wait "$P1" || true
check "a ping during the churn lost nothing" grep -q " 0% packet loss" "$FG_WORK/churn-ping.log"
gw_stats_refresh
both_workers() {
	local w
	# How the kernel's fanout (NIC side) and TUN queue selection (host side) spread the flows
	# is its choice: print it; require that the two workers together carried the downloads.
	for w in 0 1; do
		echo "  worker$w: decrypted $(gw_stat worker$w.decrypted), encrypted $(gw_stat worker$w.encrypted), handoffs $(gw_stat worker$w.handoffs)"
	done
	[ $(( $(gw_stat worker0.encrypted) + $(gw_stat worker1.encrypted) )) -gt 40000 ]
}
check "the two workers carried the downloads" both_workers
check "no sanitizer report, no ERROR" bash -c "! grep -qE 'ERROR: (Address|Undefined|Leak)Sanitizer|runtime error:' $GW_LOG && ! grep -qE ' ERROR fastgate' $GW_LOG"
stop_clean() {
	local t0=$SECONDS
	# A sanitizer build's exit includes LeakSanitizer's scan of the EAL's memory: give it time.
	FG_GRACE=60 fg_stop "$GW_PID"
	echo "  stopped after TERM in about $((SECONDS - t0)) s"
	grep -q "stopped" "$GW_LOG" && ! grep -qE 'Sanitizer|runtime error:' "$GW_LOG"
}
check "clean stop" stop_clean
echo "e2e-multicore: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
