#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: the control plane's /metrics on HEALTH_CHECK_ADDR, read by a real consumer
# (Debian's python3-prometheus-client, through tests/e2e/metrics_check.py). The data plane,
# the control plane, the test portal and a wireguard-go client run in namespaces (topo.sh,
# cp.sh). Checks the text's format, naming and Content-Type; the control plane's own figures
# (build info, portal connected, clients, authorizations as the portal sent them, ICE agents
# as fastgatectl shows them); the data plane's (info, peers, decrypted/encrypted packets,
# bytes and handshakes moving with traffic through the tunnel, per-lcore load figures);
# many concurrent scrapes, stalled readers and partial requests not stalling the loop
# (/healthz answers meanwhile); no ERROR or WARN logged; and, last, the data plane going
# away: fastgate_dataplane_up 0, its families left out, the endpoint still answering.
# Prints PASS/FAIL lines and "e2e-metrics: N passed, N failed". Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root
# shellcheck source=tests/e2e/cp.sh
. "$HERE/cp.sh"
fg_need curl ping wg wireguard-go
/usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null ||
	fg_fail "missing python3-prometheus-client: run scripts/deps.sh"

check() { fg_check "$@"; }

TOPO_STATIC_PEER=0 topo_up
gw_start
cp_setup
[ -x "$CP_BIN" ] && [ -x "$CTL_BIN" ] || fg_fail "build first: no $CP_BIN or $CTL_BIN"
portal_start
cp_start
joined || fg_fail "the control plane did not join the test portal"

MC=$HERE/metrics_check.py
URL=http://127.0.0.1:$HPORT/metrics
N=0
# scrape: one GET /metrics from the gateway's namespace into $FG_WORK/mN (headers in mN.hdr);
# LAST names the file.
scrape() {
	N=$((N + 1))
	LAST=$FG_WORK/m$N
	ip netns exec "$NS_G" curl -sS --max-time 10 -D "$LAST.hdr" -o "$LAST" "$URL"
}
mval() { "$PY" "$MC" value "$@"; }
# is FILE NAME WANT [LABEL=VALUE]...: the sum of NAME's samples is WANT.
is() {
	local f=$1 name=$2 want=$3 got
	shift 3
	got=$(mval "$f" "$name" "$@")
	[ "$got" = "$want" ] || { echo "  $name $*: $got, want $want"; return 1; }
}
# scraped_is NAME WANT [LABEL=VALUE]...: a new scrape says so (for fg_wait_for).
scraped_is() { scrape && is "$LAST" "$@" >/dev/null; }

# --- the text and the control plane's own figures ----------------------------------------------
check "/metrics answers, and the data plane's counters come within 30 s (fastgate_dataplane_up 1)" \
	fg_wait_for -t 30 scraped_is fastgate_dataplane_up 1
check "the text parses (prometheus_client), every family has HELP and TYPE, names follow the conventions, Content-Type 0.0.4" \
	"$PY" "$MC" validate "$LAST" "$LAST.hdr"
version_ok() {
	local cpv dpv aead
	cpv=$("$CP_BIN" --version | awk '{ print $2 }')
	dpv=$(ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["dataplane"]["version"])')
	aead=$(ctl --json stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["aead"])')
	echo "  control plane $cpv, data plane $dpv, aead $aead"
	is "$LAST" fastgate_build_info 1 "version=$cpv" &&
		is "$LAST" fastgate_dataplane_info 1 "version=$dpv" "aead=$aead" &&
		grep -q "aead $aead" "$GW_LOG"
}
check "fastgate_build_info and fastgate_dataplane_info carry the versions and AEAD backend fastgatectl shows" version_ok
portal_connected() { is "$LAST" fastgate_portal_state 1 state=connected && is "$LAST" fastgate_portal_state 1; }
check "the portal state is connected (and only that one)" portal_connected
connected_since() {
	local v now
	v=$(mval "$LAST" fastgate_portal_connected_since_seconds)
	now=$(date +%s)
	echo "  connected since $v (now $now)"
	[ "$v" != none ] && [ "$v" -le "$now" ] && [ $((now - v)) -lt 600 ]
}
check "fastgate_portal_connected_since_seconds is a recent unix time" connected_since
none_yet() { is "$LAST" fastgate_clients 0 && is "$LAST" fastgate_authorizations 0; }
check "no clients or authorizations before the portal sends any" none_yet

# --- authorizations as the portal sent them -----------------------------------------------------
authorize r1 res-cidr "198.18.2.0/24" "[]" null || fg_fail "create_authorization res-cidr"
authorize r2 res-host "198.18.2.2/32" "[]" null || fg_fail "create_authorization res-host"
# The (client, resource) pairs the portal authorized and did not take back, from what it sent.
portal_auths() {
	pctl sent | "$PY" -c '
import json, sys
held = set()
for f in json.load(sys.stdin)["frames"]:
    p = f.get("payload") or {}
    if f.get("event") == "create_authorization":
        held.add((p["client"]["id"], p["resource"]["id"]))
    elif f.get("event") == "reject_access":
        held.discard((p["client_id"], p["resource_id"]))
print(len(held))'
}
auths_match() {
	local want
	want=$(portal_auths)
	echo "  the portal sent $want authorization(s)"
	[ "$want" = 2 ] && fg_wait_for -t 10 scraped_is fastgate_authorizations "$want" &&
		is "$LAST" fastgate_authorizations "$want" type=cidr && is "$LAST" fastgate_clients 1 &&
		is "$LAST" fastgate_resources 2
}
check "fastgate_authorizations, _clients, _resources match what the portal sent" auths_match
# The data plane's figures come from the copy refreshed every second: waited for.
check "the data plane's peer shows in fastgate_dataplane_peers (within 10 s)" \
	fg_wait_for -t 10 scraped_is fastgate_dataplane_peers 1
# An agent may change state between the two looks: compared again until they agree.
ice_match() {
	local states s
	states=$(ctl --json ice | "$PY" -c 'import json,sys; print(" ".join(a["state"] for a in json.load(sys.stdin)["agents"]))')
	scrape || return 1
	echo "  fastgatectl ice: agents in state(s) '$states'"
	[ -n "$states" ] && is "$LAST" fastgate_ice_agents "$(wc -w <<<"$states")" && is "$LAST" fastgate_relays 0 || return 1
	for s in $states; do
		is "$LAST" fastgate_ice_agents "$(grep -o -w "$s" <<<"$states" | wc -l)" "state=$s" || return 1
	done
}
check "fastgate_ice_agents by state as fastgatectl ice shows them; no relays (the portal named none)" \
	fg_wait_for -t 10 ice_match
reject res-host
check "reject_access: fastgate_authorizations follows (1)" fg_wait_for -t 10 scraped_is fastgate_authorizations 1

# --- traffic through the tunnel moves the data plane's counters -------------------------------------
scrape
BEFORE=$LAST
client_up 1
PINGS=50
traffic() {
	ip netns exec "$NS_C1" ping -c "$PINGS" -i 0.02 -s 1000 -W 5 -q "$RES4" >"$FG_WORK/ping.log" 2>&1
	grep -q " 0% packet loss" "$FG_WORK/ping.log" || { cat "$FG_WORK/ping.log"; return 1; }
}
check "$PINGS pings of 1000 bytes through the tunnel, none lost" traffic
# moved NAME MIN [LABEL=VALUE]...: a new scrape shows NAME at least MIN above BEFORE.
moved() { scrape && "$PY" "$MC" moved "$BEFORE" "$LAST" "$@"; }
check "decrypted packets moved by at least $PINGS (within 10 s: the copy is refreshed every second)" \
	fg_wait_for -t 10 moved fastgate_lcore_decrypted_packets_total "$PINGS"
counters_moved() {
	local bytes=$((PINGS * 1000)) ok=0
	moved fastgate_lcore_decrypted_packets_total "$PINGS" || ok=1
	moved fastgate_lcore_encrypted_packets_total "$PINGS" || ok=1
	moved fastgate_lcore_packets_total "$PINGS" interface=nic direction=rx || ok=1
	moved fastgate_lcore_bytes_total "$bytes" interface=nic direction=rx || ok=1
	moved fastgate_lcore_bytes_total "$bytes" interface=nic direction=tx || ok=1
	moved fastgate_lcore_bytes_total "$bytes" interface=tun direction=tx || ok=1
	moved fastgate_lcore_bytes_total "$bytes" interface=tun direction=rx || ok=1
	return $ok
}
# Counters only grow: once a scrape shows them moved, the last one (printed) does too.
settled() { fg_wait_for -t 10 "$@" || true; "$@"; }
check "encrypted packets, NIC and TUN bytes both ways moved with the traffic" settled counters_moved
handshakes_moved() {
	moved fastgate_dataplane_handshakes_responded_total 1 && moved fastgate_dataplane_handshakes_completed_total 1
}
check "the client's handshake: responded and completed handshakes moved" settled handshakes_moved
check "the text after traffic still parses and follows the conventions" "$PY" "$MC" validate "$LAST" "$LAST.hdr"
load_ok() {
	local l tsc
	for l in service worker0; do
		if [ "$(mval "$LAST" fastgate_lcore_polls_total lcore=$l)" = none ] ||
			[ "$(mval "$LAST" fastgate_lcore_busy_polls_total lcore=$l)" = none ]; then
			echo "  no polls for lcore $l"
			return 1
		fi
	done
	tsc=$(mval "$LAST" fastgate_lcore_seconds_total)
	echo "  polls: $(mval "$LAST" fastgate_lcore_polls_total), busy: $(mval "$LAST" fastgate_lcore_busy_polls_total), seconds: $tsc"
	# with tsc_hz known, both seconds families are there (else both are left out)
	if [ "$tsc" = none ]; then
		[ "$(mval "$LAST" fastgate_lcore_busy_seconds_total)" = none ]
	else
		[ "$(mval "$LAST" fastgate_lcore_busy_seconds_total)" != none ]
	fi
}
check "per-lcore load figures (polls, busy polls; seconds when the data plane gives tsc_hz) for the service lcore and worker0" load_ok
# The data plane runs with -m 128 (topo.sh): the DPDK heap is 128 MiB, allocated and free
# add up to it, and fastgatectl stats (a fresh STATS_REPLY) shows the same heap.
heap_ok() {
	local size alloc free largest ctlheap
	size=$(mval "$LAST" fastgate_dpdk_heap_size_bytes)
	alloc=$(mval "$LAST" fastgate_dpdk_heap_bytes state=allocated)
	free=$(mval "$LAST" fastgate_dpdk_heap_bytes state=free)
	largest=$(mval "$LAST" fastgate_dpdk_heap_largest_free_bytes)
	echo "  /metrics: $alloc bytes allocated, $free free (largest block $largest) of $size"
	ctlheap=$(ctl --json stats | "$PY" -c 'import json,sys; h=json.load(sys.stdin)["heap"]; print(h["total"], h["allocated"] + h["free"] == h["total"] and 0 < h["largest_free"] <= h["free"])')
	echo "  fastgatectl stats --json: heap total and consistency: $ctlheap"
	ctl stats | grep -qx 'dpdk heap' || { echo "  fastgatectl stats shows no dpdk heap section"; return 1; }
	[ "$size" = 134217728 ] && [ "$ctlheap" = "134217728 True" ] &&
		"$PY" -c 'import sys; s, a, f, l = map(int, sys.argv[1:]); sys.exit(not (0 < a and a + f == s and 0 < l <= f))' \
			"$size" "$alloc" "$free" "$largest"
}
check "the DPDK heap: fastgate_dpdk_heap_* and fastgatectl stats show the 128 MiB of -m 128, allocated + free = total" heap_ok

# --- hostile clients: many scrapes, stalled readers, partial requests --------------------------------
scrape
S0=$(mval "$LAST" fastgate_metrics_scrapes_total)
check "40 concurrent scrapes, 80 stalled readers, 8 partial requests: /healthz answers within 5 s meanwhile, every answer whole" \
	ip netns exec "$NS_G" "$PY" "$MC" hostile 127.0.0.1 "$HPORT" --scrapes 40 --stalled 80 --partial 8
after_hostile() {
	local s1 refused
	scrape && "$PY" "$MC" validate "$LAST" "$LAST.hdr" >/dev/null || return 1
	s1=$(mval "$LAST" fastgate_metrics_scrapes_total)
	refused=$(mval "$LAST" fastgate_metrics_scrapes_refused_total)
	echo "  scrapes counted: $S0 -> $s1, refused (503): $refused"
	# this scrape, and the 120 of the hostile run but those refused as too many
	[ "$s1" -ge $((S0 + 1 + 120 - refused)) ] && fg_alive "$CP_PID"
}
check "afterwards /metrics still answers whole; every scrape was counted" after_hostile

# --- logs: nothing above INFO in a normal scenario ----------------------------------------------------
no_warn() { # LOG
	local hits
	hits=$(grep -E -n '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ +(ERROR|WARN) ' "$1" | head -n 10) || true
	[ -z "$hits" ] || { echo "$hits" | sed 's/^/  /'; return 1; }
}
check "no ERROR or WARN in the control plane's log" no_warn "$CPLOG"
check "no ERROR in the data plane's log" fg_check_log_no_errors "$GW_LOG"

# --- the data plane goes away: up 0, its families left out, the endpoint answers at once ------------
fg_stop "$GW_PID"
dp_gone() { scraped_is fastgate_dataplane_up 0 && is "$LAST" fastgate_lcore_decrypted_packets_total none; }
check "the data plane stopped: fastgate_dataplane_up 0 and its families left out (within 10 s)" fg_wait_for -t 10 dp_gone
cp_families_stay() { "$PY" "$MC" validate "$LAST" "$LAST.hdr" && is "$LAST" fastgate_portal_state 1 state=connected; }
check "... the text still parses, the control plane's families stay" cp_families_stay

echo "e2e-metrics: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
