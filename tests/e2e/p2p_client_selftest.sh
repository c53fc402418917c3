#!/bin/bash
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2119 # the topo.sh / cp.sh helpers take optional arguments
#
# Self-test of tests/e2e/p2p_client.py, the client side of Firezone's p2p control protocol.
# Part 1, without fastgate: two wireguard-go peers back to back (A plays the client, B the
# gateway), "::/128" in both peers' AllowedIPs. The packets p2p_client writes must come out of
# the other end byte for byte as the Firezone layout says (built here independently with
# printf), DomainStatus must come back to a waiting send-assigned-ips, without ::/128
# wireguard-go must drop them, and the odd kinds of send-raw must leave as built.
# Part 2, with a build directory that holds fastgate: the topology of topo.sh with the data
# plane, the test portal and the control plane: the gateway's Goodbye (the last resource
# rejected) reaches `wait-event --event 2`, and the client's Goodbye removes its peer.
# Not part of the suite (no test_ prefix). Needs root. Prints PASS/FAIL lines and
# "p2p-client-selftest: N passed, N failed".
# usage: p2p_client_selftest.sh [BUILD_DIR]   (part 2 is skipped when BUILD_DIR lacks fastgate)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FG_BUILD=${FG_BUILD:-$ROOT/build}
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
fg_require_root
fg_need wireguard-go wg ip
PY=/usr/bin/python3
check() { fg_check "$@"; }

# --- part 1: wireguard-go <-> wireguard-go -------------------------------------------------
NS_A=$(fg_name pa)
NS_B=$(fg_name pb)
WG_A=$(fg_name pwa)
WG_B=$(fg_name pwb)
fg_ns "$NS_A"
fg_ns "$NS_B"
fg_veth "$NS_A" pa0 198.18.7.2/24 "$NS_B" pb0 198.18.7.1/24
fg_wg_keypair "$FG_WORK/a"
fg_wg_keypair "$FG_WORK/b"
fg_wggo_start "$NS_A" "$WG_A"
fg_wggo_start "$NS_B" "$WG_B"
fg_wg_client "$NS_B" "$WG_B" "$FG_WORK/b.key" "$(cat "$FG_WORK/a.pub")" - - 100.64.0.2/32 100.64.0.1/32 - 51820
wg set "$WG_B" peer "$(cat "$FG_WORK/a.pub")" allowed-ips 100.64.0.2/32,::/128
fg_wg_client "$NS_A" "$WG_A" "$FG_WORK/a.key" "$(cat "$FG_WORK/b.pub")" - 198.18.7.1:51820 100.64.0.1/32 100.64.0.2/32 -
wg set "$WG_A" peer "$(cat "$FG_WORK/b.pub")" allowed-ips 100.64.0.1/32,::/128
ip netns exec "$NS_A" ping -c 1 -W 6 -q 100.64.0.1 >/dev/null || fg_fail "the wireguard-go pair does not talk"

RES=8a7f0000-0000-4000-8000-000000000011
IPS=100.90.0.1,100.90.0.2,100.90.0.3,100.90.0.4,fd00:2021:1111::1:1,fd00:2021:1111::1:2,fd00:2021:1111::1:3,fd00:2021:1111::1:4
# The expected packet, built without p2p_client: the IPv6 header (version 6, payload length,
# next header 0xff, hop limit 0, :: to ::), the 8-byte header [0 x 8], serde's JSON.
BODY="{\"resource\":\"$RES\",\"domain\":\"app.corp.test\",\"proxy_ips\":[\"100.90.0.1\",\"100.90.0.2\",\"100.90.0.3\",\"100.90.0.4\",\"fd00:2021:1111::1:1\",\"fd00:2021:1111::1:2\",\"fd00:2021:1111::1:3\",\"fd00:2021:1111::1:4\"]}"
hexof() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
ZERO16=$(printf '%032d' 0)  # one address, 16 zero bytes
EXPECT=$(printf '60000000%04xff00%s%s' $((8 + ${#BODY})) "$ZERO16" "$ZERO16")0000000000000000$(hexof "$BODY")

# The AF_PACKET socket names the interface, which exists only inside its namespace.
# Listeners are started with --ready-file: the sender waits for it (no fixed sleeps).
RF=$FG_WORK/ready
ready_wait() { fg_wait_for -t 20 [ -e "$RF" ] || echo "  (the listener never said it was ready)"; rm -f "$RF"; }
P2P=(ip netns exec "$NS_A" "$PY" "$HERE/p2p_client.py")
P2PB=(ip netns exec "$NS_B" "$PY" "$HERE/p2p_client.py")
got_layout() {
	local out pid
	"${P2PB[@]}" wait-event --iface "$WG_B" --event 0 --timeout 10 --ready-file "$RF" >"$FG_WORK/b.out" &
	pid=$!
	ready_wait
	"${P2P[@]}" send-assigned-ips --iface "$WG_A" --resource "$RES" --domain app.corp.test --proxy-ips "$IPS"
	wait "$pid" || return 1
	out=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["packet"])' "$FG_WORK/b.out")
	[ "$out" = "$EXPECT" ] || { echo "  got    $out"; echo "  expect $EXPECT"; return 1; }
	echo "  $((${#EXPECT} / 2)) bytes, as Firezone lays them out"
}
check "AssignedIps crosses wireguard-go byte for byte in Firezone's layout" got_layout

STATUS="{\"resource\":\"$RES\",\"domain\":\"app.corp.test\",\"status\":\"Active\"}"
STATUS_HEX=$(printf '60000000%04xff00%s%s' $((8 + ${#STATUS})) "$ZERO16" "$ZERO16")0100000000000000$(hexof "$STATUS")
round_trip() {
	local pid out
	# B answers the first AssignedIps with DomainStatus, as the gateway does
	( "${P2PB[@]}" wait-event --iface "$WG_B" --event 0 --timeout 10 --ready-file "$RF" >/dev/null &&
		"${P2PB[@]}" send-raw --iface "$WG_B" --hex "$STATUS_HEX" 2>/dev/null ) &
	pid=$!
	ready_wait
	out=$("${P2P[@]}" send-assigned-ips --iface "$WG_A" --resource "$RES" --domain app.corp.test \
		--proxy-ips "$IPS" --wait 10 --resend 1) || { wait "$pid"; return 1; }
	wait "$pid" || return 1
	[ "$out" = "$STATUS" ] || { echo "  got $out"; return 1; }
	echo "  $out"
}
check "send-assigned-ips --wait prints the DomainStatus the other end sends back" round_trip

other_status_ignored() {
	local pid st=0
	# a DomainStatus for another domain, then the one waited for
	local other="{\"resource\":\"$RES\",\"domain\":\"other.corp.test\",\"status\":\"Active\"}"
	local other_hex
	other_hex=$(printf '60000000%04xff00%s%s' $((8 + ${#other})) "$ZERO16" "$ZERO16")0100000000000000$(hexof "$other")
	"${P2P[@]}" wait-domain-status --iface "$WG_A" --resource "$RES" --domain APP.corp.test. --timeout 10 \
		--ready-file "$RF" >"$FG_WORK/a.out" &
	pid=$!
	ready_wait
	"${P2PB[@]}" send-raw --iface "$WG_B" --hex "$other_hex" 2>/dev/null
	"${P2PB[@]}" send-raw --iface "$WG_B" --hex "$STATUS_HEX" 2>/dev/null
	wait "$pid" || st=1
	[ "$st" = 0 ] && [ "$(cat "$FG_WORK/a.out")" = "$STATUS" ]
}
check "wait-domain-status skips other domains, compares names without case or final dot" other_status_ignored

raw_kinds() {
	local k pid out len bad=0
	ip -n "$NS_A" link set "$WG_A" mtu 1420
	ip -n "$NS_B" link set "$WG_B" mtu 1420
	for k in truncated short-header wrong-event unknown-event oversized bad-json three-ips goodbye hop-limit reserved; do
		"${P2PB[@]}" wait-event --iface "$WG_B" --raw --timeout 5 --ready-file "$RF" >"$FG_WORK/raw.out" &
		pid=$!
		ready_wait
		"${P2P[@]}" send-raw --iface "$WG_A" --kind "$k" 2>/dev/null
		if ! wait "$pid"; then
			echo "  $k: nothing arrived"
			bad=1
			continue
		fi
		out=$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["len"], j["packet"][12:14], j["packet"][14:16], j["packet"][80:96])' "$FG_WORK/raw.out")
		echo "  $k: len next-header hop-limit p2p-header = $out"
		len=${out%% *}
		case $k in
		truncated) [ "$len" = 44 ] || bad=1 ;;
		short-header) [ "$len" = 47 ] || bad=1 ;;
		oversized) [ "$len" = 1400 ] || bad=1 ;;
		wrong-event) [[ $out == *" ff 00 01"* ]] || bad=1 ;;
		unknown-event) [[ $out == *" ff 00 ee"* ]] || bad=1 ;;
		hop-limit) [[ $out == *" ff 40 00"* ]] || bad=1 ;;
		reserved) [[ $out == *" 0001020304050607" ]] || bad=1 ;;
		goodbye) [ "$len" = 48 ] || bad=1 ;;
		esac
	done
	ip -n "$NS_A" link set "$WG_A" mtu 1280
	ip -n "$NS_B" link set "$WG_B" mtu 1280
	return $bad
}
check "send-raw's kinds leave as built (a length lie is wireguard-go's to drop, so not here)" raw_kinds

no_unspecified() {
	local pid st=0
	wg set "$WG_A" peer "$(cat "$FG_WORK/b.pub")" allowed-ips 100.64.0.1/32
	"${P2PB[@]}" wait-event --iface "$WG_B" --raw --timeout 2 --ready-file "$RF" >/dev/null &
	pid=$!
	ready_wait
	"${P2P[@]}" send-assigned-ips --iface "$WG_A" --resource "$RES" --domain app.corp.test --proxy-ips "$IPS" 2>/dev/null || true
	wait "$pid" && st=1
	wg set "$WG_A" peer "$(cat "$FG_WORK/b.pub")" allowed-ips 100.64.0.1/32,::/128
	return $st
}
check "without ::/128 in the gateway peer's AllowedIPs wireguard-go sends nothing" no_unspecified

# --- part 2: against fastgate ---------------------------------------------------------------
if [ ! -x "$FG_BUILD/dataplane/fastgate-dataplane" ] || [ ! -x "$FG_BUILD/controlplane/fastgate-controlplane" ]; then
	echo "SKIP: part 2 (no fastgate in $FG_BUILD)"
else
	# shellcheck source=tests/e2e/topo.sh
	. "$HERE/topo.sh"
	# shellcheck source=tests/e2e/cp.sh
	. "$HERE/cp.sh"
	CLIENT_ALLOWED=$CLIENT_ALLOWED,::/128
	TOPO_STATIC_PEER=0 topo_up
	gw_start
	cp_setup
	portal_start
	cp_start
	joined || fg_fail "the control plane did not join the portal"
	client_up 1
	P2P1=(ip netns exec "$NS_C1" "$PY" "$HERE/p2p_client.py")
	authorize r1 res-cidr "198.18.2.0/24" "[]" null
	ip netns exec "$NS_C1" ping -c 1 -W 6 -q "$RES4" >/dev/null || true
	gateway_goodbye() {
		local pid out
		"${P2P1[@]}" wait-event --iface "$WG_C1" --event 2 --timeout 15 --ready-file "$RF" >"$FG_WORK/gb.out" &
		pid=$!
		ready_wait
		reject res-cidr
		wait "$pid" || return 1
		out=$(cat "$FG_WORK/gb.out")
		echo "  $out"
		"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); p=j["packet"]
assert j["len"] == 0 and p == "60000000" + "0008" + "ff00" + "0" * 64 + "02" + "00" * 7, p' "$FG_WORK/gb.out"
	}
	check "the gateway's Goodbye (last resource rejected) reaches wait-event, in Firezone's layout" gateway_goodbye
	client_goodbye() {
		authorize r2 res-cidr "198.18.2.0/24" "[]" null
		client_restart_session
		ip netns exec "$NS_C1" ping -c 1 -W 6 -q "$RES4" >/dev/null || return 1
		gw_stats_refresh
		local g0
		g0=$(gw_stat goodbyes_received)
		"${P2P1[@]}" send-raw --iface "$WG_C1" --kind goodbye 2>/dev/null
		fg_wait_for -t 10 bash -c "! wg show $GW_TUN peers | grep -q '$C1PUB'" || return 1
		gw_stats_refresh
		echo "  goodbyes_received $g0 -> $(gw_stat goodbyes_received)"
		[ "$(gw_stat goodbyes_received)" -gt "$g0" ]
	}
	check "the client's Goodbye makes the gateway remove the peer" client_goodbye
fi

echo "p2p-client-selftest: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
