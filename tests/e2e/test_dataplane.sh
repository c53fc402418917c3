#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: real wireguard-go clients reach a resource through fastgate-dataplane on a
# DPDK net_af_packet port, and the resource reaches them back through the host TUN.
# Checks ping both ways over inner IPv4 and IPv6, 10 MB TCP transfers both ways with
# SHA-256, two clients at once (the second added with `wg set` at run time), roaming in
# the middle of a transfer, a forced re-handshake with a new PSK, `wg show`, `wg set ...
# remove`, and hostile traffic dropped and counted while a legitimate ping runs.
# Prints one PASS/FAIL line per check, the measured transfer rates, and
# "e2e-dataplane: N passed, N failed". Needs root. Usage: test_dataplane.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root
[ -x "$FG_DP_BIN" ] || fg_fail "no data plane binary at $FG_DP_BIN (build first)"

check() { fg_check "$@"; }

topo_up
gw_start
client_up 1
C1PUB=$(cat "$FG_WORK/c1.pub")
C2PUB=$(cat "$FG_WORK/c2.pub")
head -c 10000000 /dev/urandom >"$FG_WORK/10M"
SUM=$(fg_sha256 "$FG_WORK/10M")

# Capture the client's datagrams for the replay check.
fg_bg "$FG_WORK/tcpdump.log" ip netns exec "$NS_L" tcpdump -i l1 -U -w "$FG_WORK/c1.pcap" -c 400 udp port 51820
TCPDUMP_PID=$FG_LAST_PID
fg_wait_for -t 20 grep -q "listening on" "$FG_WORK/tcpdump.log" || fg_fail "tcpdump did not start"

pings() { # pings NS DST: 3 echoes, the first may wait for a handshake
	ip netns exec "$1" ping -c 3 -i 0.2 -W 6 -q "$2" >/dev/null
}
check "ping client -> resource (inner IPv4)" pings "$NS_C1" "$RES4"
check "ping client -> resource (inner IPv6)" pings "$NS_C1" "$RES6"
check "ping resource -> client (inner IPv4)" pings "$NS_R" 100.64.0.2
check "ping resource -> client (inner IPv6)" pings "$NS_R" fd00:2021:1111::2
check "ping client -> gateway tunnel address" pings "$NS_C1" 100.64.0.1
check "ICMP echo to the data plane's uplink address (answered by DPDK)" pings "$NS_C1" "$GW_ADDR"
check "ICMPv6 echo to the data plane's IPv6 uplink address (ND + echo by DPDK)" pings "$NS_C1" "$GW_ADDR6"

# upload NS SRCFILE OUT PORT: TCP from a client namespace to the resource; prints Mbit/s
upload() {
	local ns=$1 src=$2 out=$3 PORT=$4 t0 t1 pid
	rm -f "$out"
	fg_bg "$out.srv.log" ip netns exec "$NS_R" timeout 90 socat -u "TCP-LISTEN:$PORT,bind=$RES4,reuseaddr" "CREATE:$out"
	pid=$FG_LAST_PID
	fg_wait_for -t 20 fg_listening "$NS_R" "$RES4" "$PORT" || return 1
	t0=$(date +%s.%N)
	ip netns exec "$ns" timeout 90 socat -u "OPEN:$src" "TCP:$RES4:$PORT" || return 1
	wait "$pid" || return 1
	t1=$(date +%s.%N)
	echo "$t0 $t1 $(stat -c %s "$src")" | awk '{ printf "%.0f\n", $3 * 8 / ($2 - $1) / 1e6 }'
}
# download NS SRCFILE OUT PORT: TCP from the resource to a client namespace; prints Mbit/s
download() {
	local ns=$1 src=$2 out=$3 PORT=$4 t0 t1 pid
	rm -f "$out"
	fg_bg "$out.srv.log" ip netns exec "$NS_R" timeout 90 socat -u "OPEN:$src" "TCP-LISTEN:$PORT,bind=$RES4,reuseaddr"
	pid=$FG_LAST_PID
	fg_wait_for -t 20 fg_listening "$NS_R" "$RES4" "$PORT" || return 1
	t0=$(date +%s.%N)
	ip netns exec "$ns" timeout 90 socat -u "TCP:$RES4:$PORT" "CREATE:$out" || return 1
	wait "$pid" || true
	t1=$(date +%s.%N)
	echo "$t0 $t1 $(stat -c %s "$src")" | awk '{ printf "%.0f\n", $3 * 8 / ($2 - $1) / 1e6 }'
}
same() { [ -f "$1" ] && [ "$(fg_sha256 "$1")" = "$SUM" ]; }

UP=$(upload "$NS_C1" "$FG_WORK/10M" "$FG_WORK/up.out" 20001 || echo 0)
check "10 MB TCP client -> resource, SHA-256 matches ($UP Mbit/s)" same "$FG_WORK/up.out"
DOWN=$(download "$NS_C1" "$FG_WORK/10M" "$FG_WORK/down.out" 20002 || echo 0)
check "10 MB TCP resource -> client, SHA-256 matches ($DOWN Mbit/s)" same "$FG_WORK/down.out"
echo "RATE upload_mbit=$UP download_mbit=$DOWN"

# --- wg show -----------------------------------------------------------------------------------
wg_show_ok() {
	local dump line
	dump=$(wg show "$GW_TUN" dump) || return 1
	line=$(printf '%s\n' "$dump" | awk -v k="$C1PUB" '$1 == k')
	[ -n "$line" ] || return 1
	# public-key psk endpoint allowed-ips latest-handshake rx tx keepalive
	set -- $line
	[ "$5" -gt 0 ] && [ "$6" -gt 10000000 ] && [ "$7" -gt 10000000 ] && [ "$2" != "(none)" ]
}
check "wg show lists the peer with handshake time and byte counters" wg_show_ok
wg show "$GW_TUN"

# --- a second client added at run time, both transferring at once -----------------------------
wg set "$GW_TUN" peer "$C2PUB" allowed-ips 100.64.0.3/32,fd00:2021:1111::3/128
client_up 2 "[$GW_ADDR6]:51820" 51999
check "client 2 (added with wg set, IPv6 outer) pings the resource" pings "$NS_C2" "$RES4"
check "wg show: client 2's endpoint is its IPv6 address" bash -c "wg show $GW_TUN endpoints | grep -q '\[2001:2:0:1::3\]:51999'"
two_at_once() {
	local r1 r2
	download "$NS_C1" "$FG_WORK/10M" "$FG_WORK/two1.out" 20003 >"$FG_WORK/two1.rate" &
	r1=$!
	download "$NS_C2" "$FG_WORK/10M" "$FG_WORK/two2.out" 20004 >"$FG_WORK/two2.rate" &
	r2=$!
	wait "$r1" && wait "$r2" && same "$FG_WORK/two1.out" && same "$FG_WORK/two2.out"
}
check "two clients download 10 MB at once, both SHA-256 match" two_at_once
echo "RATE two_clients_mbit=$(cat "$FG_WORK/two1.rate" 2>/dev/null)+$(cat "$FG_WORK/two2.rate" 2>/dev/null)"

# --- hostile traffic while a legitimate ping runs ------------------------------------------------
fg_stop "$TCPDUMP_PID" || true
gw_stats_refresh
cp "$GW_STATS" "$FG_WORK/before.stats"
hostile_run() {
	local ping_pid k ok=0
	ip netns exec "$NS_C1" ping -c 100 -i 0.02 -W 2 -q "$RES4" >"$FG_WORK/hostile-ping.log" 2>&1 &
	ping_pid=$!
	for k in truncated oversized wrongtype unknownindex badmac1 garbage; do
		ip netns exec "$NS_C2" /usr/bin/python3 "$HERE/hostile.py" "$GW_ADDR" 51820 "$k" 200 >/dev/null || ok=1
	done
	ip netns exec "$NS_C2" /usr/bin/python3 "$HERE/hostile.py" "$GW_ADDR" 51820 replay 200 "$FG_WORK/c1.pcap" >"$FG_WORK/replay.log" || ok=1
	wait "$ping_pid" || ok=1
	return $ok
}
check "legitimate ping loses nothing during a hostile flood" hostile_run

# --- replay protection survives a PSK update (the portal re-sends the PSK with every
# authorization): a captured initiation replayed from another address is refused -----------------
# Replays the capture's initiations and reports whether one more was refused. A replay that
# meets the gateway under load (the hostile flood just before) gets a cookie reply instead,
# which proves nothing: it is sent again until one is refused as a replay.
replay_refused() { # INVALID_BEFORE
	ip netns exec "$NS_C2" /usr/bin/python3 "$HERE/hostile.py" "$GW_ADDR" 51820 replayinit 2 \
		"$FG_WORK/c1.pcap" | grep -q '^sent [1-9]' || return 1
	gw_stats_refresh
	[ "$(gw_stat drop.handshake_invalid)" -gt "$1" ]
}
replay_after_psk() {
	local before after inv_before inv_after ep_before
	gw_stats_refresh
	before=$(gw_stat handshakes_responded)
	inv_before=$(gw_stat drop.handshake_invalid)
	ep_before=$(wg show "$GW_TUN" endpoints | awk -v k="$C1PUB" '$1 == k { print $2 }')
	wg set "$GW_TUN" peer "$C1PUB" preshared-key "$FG_WORK/c1.psk" || return 1
	fg_wait_for -t 60 replay_refused "$inv_before" || { echo "replayed initiations not refused"; return 1; }
	gw_stats_refresh
	after=$(gw_stat handshakes_responded)
	inv_after=$(gw_stat drop.handshake_invalid)
	echo "responded $before -> $after, invalid $inv_before -> $inv_after, endpoint $ep_before"
	[ "$after" = "$before" ] || return 1
	wg show "$GW_TUN" endpoints | grep -q "$C1PUB[[:space:]]*$ep_before\$" || return 1
	pings "$NS_C1" "$RES4"
}
check "replayed initiation refused after a PSK update (endpoint stays, no handshake)" replay_after_psk
gw_stats_refresh
grew() { # grew COUNTER MIN: the counter rose by at least MIN since before.stats
	local a b
	a=$(awk -v k="$1" '$1 == k { print $2 }' "$FG_WORK/before.stats")
	b=$(gw_stat "$1")
	[ $((b - a)) -ge "$2" ] || { echo "  $1: $a -> $b (wanted +$2)"; return 1; }
}
check "truncated and oversized handshake messages counted (wg_bad_length)" grew drop.wg_bad_length 350
check "wrong message types counted (wg_bad_type)" grew drop.wg_bad_type 200
check "unknown receiver indexes counted" grew drop.wg_unknown_receiver_index 200
bad_mac1() {
	local a b
	a=$(awk '$1 == "drop.handshake_bad_mac1" || $1 == "drop.handshake_queue_full" { s += $2 } END { print s }' "$FG_WORK/before.stats")
	b=$(awk '$1 == "drop.handshake_bad_mac1" || $1 == "drop.handshake_queue_full" { s += $2 } END { print s }' "$GW_STATS")
	[ $((b - a)) -ge 200 ]
}
check "initiations with a bad MAC1 counted" bad_mac1
check "replayed data messages counted (wg_replayed_counter)" grew drop.wg_replayed_counter 150
check "data plane alive after hostile traffic" fg_alive "$GW_PID"
check "ping still works after hostile traffic" pings "$NS_C1" "$RES4"

# --- a handshake flood: cookie replies under load, a real client still gets through ----------------
under_load() {
	local before flood ok=0
	gw_stats_refresh
	before=$(gw_stat cookies_sent)
	ip netns exec "$NS_C2" /usr/bin/python3 "$HERE/hostile.py" "$GW_ADDR" 51820 mac1flood 150000 \
		"$(cat "$FG_WORK/gw.pub")" >/dev/null &
	flood=$!
	flooding() { gw_stats_refresh; [ "$(gw_stat cookies_sent)" -gt "$before" ]; }
	fg_wait_for -t 20 flooding || { echo "  the flood did not start"; kill "$flood"; return 1; }
	# client 1 drops its session and must handshake during the flood: wireguard-go gets a
	# cookie reply, retries with MAC2, and is admitted
	wg set "$WG_C1" peer "$(cat "$FG_WORK/gw.pub")" remove
	wg set "$WG_C1" peer "$(cat "$FG_WORK/gw.pub")" preshared-key "$FG_WORK/c1.psk" \
		endpoint "$GW_ADDR:51820" allowed-ips "198.18.2.0/24,2001:2:0:2::/64,100.64.0.1/32,fd00:2021:1111::1/128"
	ip netns exec "$NS_C1" ping -c 1 -W 15 -q "$RES4" >/dev/null || ok=1
	wait "$flood" || ok=1
	gw_stats_refresh
	echo "  cookies sent: $before -> $(gw_stat cookies_sent), queue-full drops: $(gw_stat drop.handshake_queue_full)"
	[ "$(gw_stat cookies_sent)" -gt "$before" ] && return $ok
}
check "handshake flood: cookie replies sent, a real client still completes a handshake" under_load
check "ping works after the flood" pings "$NS_C1" "$RES4"

# --- roaming in the middle of a transfer -----------------------------------------------------------
roam_run() {
	local pid
	# 20 Mbit/s toward client 1 makes the 10 MB download last about 4 s.
	ip netns exec "$NS_L" tc qdisc add dev l1 root tbf rate 20mbit burst 64kb latency 400ms
	# keep the new address when the old primary one goes
	ip netns exec "$NS_C1" sysctl -qw net.ipv4.conf.c1.promote_secondaries=1
	download "$NS_C1" "$FG_WORK/10M" "$FG_WORK/roam.out" 20005 >"$FG_WORK/roam.rate" &
	pid=$!
	# Roam once the download is under way (1 MB of 10 in).
	fg_wait_for -t 30 bash -c "[ \$(stat -c %s '$FG_WORK/roam.out' 2>/dev/null || echo 0) -gt 1000000 ]" ||
		{ echo "  the download did not start"; return 1; }
	ip -n "$NS_C1" addr add 198.18.1.12/24 dev c1
	ip -n "$NS_C1" addr del 198.18.1.2/24 dev c1
	wait "$pid" || return 1
	ip netns exec "$NS_L" tc qdisc del dev l1 root
	same "$FG_WORK/roam.out" && wg show "$GW_TUN" endpoints | grep -q "198.18.1.12:"
}
check "client 1 changes address mid-download: transfer completes, endpoint follows" roam_run

# --- forced re-handshake: new PSK on both ends, the client restarts its session -------------------
rehandshake() {
	local before after
	gw_stats_refresh
	before=$(gw_stat handshakes_responded)
	(umask 077 && wg genpsk >"$FG_WORK/new.psk")
	wg set "$GW_TUN" peer "$C1PUB" preshared-key "$FG_WORK/new.psk"
	wg set "$WG_C1" peer "$(cat "$FG_WORK/gw.pub")" remove
	wg set "$WG_C1" peer "$(cat "$FG_WORK/gw.pub")" preshared-key "$FG_WORK/new.psk" \
		endpoint "$GW_ADDR:51820" allowed-ips "198.18.2.0/24,2001:2:0:2::/64,100.64.0.1/32,fd00:2021:1111::1/128"
	pings "$NS_C1" "$RES4" || return 1
	gw_stats_refresh
	after=$(gw_stat handshakes_responded)
	[ "$after" -gt "$before" ]
}
check "forced re-handshake with a new PSK, traffic continues" rehandshake

# --- the gateway initiates: a peer with an endpoint and no session, the client cannot initiate ----
gateway_initiates() {
	local got
	wg set "$GW_TUN" peer "$C2PUB" remove
	wg set "$GW_TUN" peer "$C2PUB" allowed-ips 100.64.0.3/32,fd00:2021:1111::3/128 endpoint 198.18.1.3:51999
	wg set "$WG_C2" peer "$(cat "$FG_WORK/gw.pub")" remove
	wg set "$WG_C2" peer "$(cat "$FG_WORK/gw.pub")" allowed-ips "$CLIENT_ALLOWED"
	# the first echo starts the handshake (ARP for 198.18.1.3 first); later ones get through
	got=$(ip netns exec "$NS_R" ping -c 6 -i 0.5 -W 2 100.64.0.3 | awk '/received/ { print $4 }')
	echo "  $got of 6 echoes answered"
	[ "${got:-0}" -ge 3 ] && wg show "$WG_C2" endpoints | grep -q "198.18.1.1:51820"
}
check "gateway-initiated handshake (ARP-resolved endpoint), resource reaches client 2" gateway_initiates
keepalive() {
	local a b
	gw_stats_refresh
	a=$(gw_stat keepalives_sent)
	wg set "$GW_TUN" peer "$C2PUB" persistent-keepalive 1
	sleep 3.5
	gw_stats_refresh
	b=$(gw_stat keepalives_sent)
	wg set "$GW_TUN" peer "$C2PUB" persistent-keepalive 0
	echo "  keepalives sent: $a -> $b"
	[ $((b - a)) -ge 3 ]
}
check "persistent keepalive every second" keepalive

# --- wg set ... remove cuts a peer's traffic -----------------------------------------------------
removed_cut() {
	wg set "$GW_TUN" peer "$C2PUB" remove
	! ip netns exec "$NS_C2" ping -c 3 -i 0.3 -W 1 -q "$RES4" >/dev/null 2>&1 &&
		pings "$NS_C1" "$RES4" && ! wg show "$GW_TUN" peers | grep -q "$C2PUB"
}
check "wg set remove cuts that peer, the other keeps working" removed_cut

gw_stats_refresh
echo "--- data plane counters (non-zero)"
grep -v ' 0$' "$GW_STATS" | sed 's/^/  /'
ctl_hostile() {
	/usr/bin/python3 "$HERE/ctl_hostile.py" "$GW_CTL" >"$FG_WORK/ctl_hostile.out" 2>&1 ||
		{ cat "$FG_WORK/ctl_hostile.out"; return 1; }
	tail -n 1 "$FG_WORK/ctl_hostile.out" | sed 's/^/  /'
}
check "hostile control-socket messages: refused, the socket survives" ctl_hostile
check "data plane logged no ERROR" fg_check_log_no_errors "$GW_LOG"
echo "  AEAD backend of this run: $(gw_stat aead_backend)"
# FG_TUN_IO=io_uring / sqpoll (topo.sh: [Host] TunIo): the transfers above went through the
# worker's ring, one submission per pass, not a system call per packet.
tun_ring_used() {
	local sqes enters pkts
	gw_stats_refresh
	sqes=$(gw_stat worker0.tun_uring_sqes)
	enters=$(gw_stat worker0.tun_uring_enters)
	pkts=$(( $(gw_stat worker0.tun_tx_packets) + $(gw_stat worker0.tun_rx_packets) ))
	echo "  TUN I/O $(gw_stat tun_io): $sqes requests, $enters io_uring_enter calls," \
		"$pkts TUN packets, $(gw_stat worker0.tun_uring_errors) failed completions"
	[ "$(gw_stat tun_io)" = "$FG_TUN_IO" ] && [ "$sqes" -gt 0 ] && [ "$enters" -lt "$pkts" ] &&
		grep -q "TUN I/O: io_uring" "$GW_LOG"
}
case ${FG_TUN_IO:-} in
io_uring | sqpoll) check "TunIo = $FG_TUN_IO: the TUN traffic went through the worker's ring" tun_ring_used ;;
esac
stop_clean() {
	# A sanitizer build on a busy machine takes seconds to shut down: a clean stop, not a hang.
	FG_GRACE=60 fg_stop "$GW_PID"
	! ip -n "$NS_G" link show "$GW_TUN" >/dev/null 2>&1 && [ ! -e "$FG_WG_RUNDIR/$GW_TUN.sock" ] &&
		grep -q "stopped" "$GW_LOG"
}
check "SIGTERM: clean stop, TUN and UAPI socket removed" stop_clean

# --- a bad configuration is refused with FILE:LINE, in both log formats ------------------------
bad_config() {
	local out st=0
	sed 's/^ListenPort = 51820/ListenPort = 99999/' "$GW_CONF" >"$FG_WORK/bad.conf"
	out=$(ip netns exec "$NS_G" "$FG_DP_BIN" -l 0 --no-pci --no-huge --no-shconf --no-telemetry \
		--iova-mode=va -m 64 --vdev=net_af_packet0,iface=gx -- --config "$FG_WORK/bad.conf" 2>&1) || st=$?
	echo "$out" | grep -E "ERROR" | sed 's/^/  /'
	[ "$st" -ne 0 ] && echo "$out" | grep -q "bad.conf:[0-9]*: .*99999" || return 1
	out=$(FIREZONE_LOG_FORMAT=json "$FG_DP_BIN" -l 0 --no-pci --no-huge --no-shconf --no-telemetry \
		--iova-mode=va -m 64 -- --config "$FG_WORK/bad.conf" 2>&1) || st=$?
	echo "$out" | grep '"level":"ERROR"' | grep -q 'bad.conf:[0-9]*: '
}
check "bad configuration refused, FILE:LINE named (human and JSON logs)" bad_config
echo "e2e-dataplane: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
