#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end, the control plane's half of the fault matrix (issue 12): the test portal,
# fastgate-controlplane and fastgate-dataplane with a wireguard-go client (topo.sh, cp.sh),
# one check per fault, each with traffic through the tunnel and the logs read for what the
# fault should say:
#   1. loss and reordering: 20 % loss, 5 ms delay and 25 % of the datagrams sent ahead of
#      the delayed ones (netem's "loss 20% delay 5ms reorder 25%", done by impair.py, a UDP
#      relay in the client's namespace, since the kernel may lack sch_netem) between the
#      client and the gateway; a 10 MB TCP upload through the tunnel to the resource keeps
#      its SHA-256, and the data plane's replay window drops none of the reordered datagrams.
#   2. the data plane killed (SIGKILL) and started again under a running control plane: the
#      control plane says it lost the socket, reconnects, pushes its client and resources
#      again (one INFO line), and the client's next handshake brings traffic back without
#      an operator, within a deadline.
#   3. portal frames: a single 16 MiB frame (a WARN naming the 8 MiB limit, the connection
#      reset, a join again after backoff); an 8 MB frame of JSON values under the size limit
#      (refused by the value bound, the connection kept); a flood of 10,000 messages a second
#      for 3 s, valid, unknown and 300 create_authorization (all 300 confirmed, in order, the
#      connection kept). The control plane's peak memory (VmHWM) stays within 64 MiB of its
#      resident size before, it does not crash, and pings through the tunnel lose nothing.
#   4. the wall clock, +1 h and -1 h: both processes run under libfaketime (the wall clock
#      from a file, monotonic clocks real). A resource expiring in 30 minutes stops at once
#      when the clock jumps +1 h (the data plane logs the step, the control plane drops the
#      authorization); back at +0 a fresh one survives a -1 h jump; an unexpiring resource
#      keeps answering through both jumps, without a handshake storm, a portal reconnect or
#      a heartbeat gap, and the control plane's uptime stays sane.
# Then: no ERROR in any log. Prints PASS/FAIL lines and "e2e-faults-cp: N passed, N failed".
# Needs root and libfaketime (Debian package faketime).
# Usage: test_faults_cp.sh [BUILD_DIR]; FG_FAULTS="1 3" runs only those checks.
# About a minute on an idle 2-core machine.
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
fg_need wg wireguard-go socat sha256sum nft
FAULTS=${FG_FAULTS:-1 2 3 4}
FAKETIME_LIB=${FG_FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}
RES_EXP=198.18.2.3 # a second address of the resource namespace: the expiring resource

TOPO_STATIC_PEER=0 topo_up
ip -n "$NS_R" addr add "$RES_EXP/24" dev rr
cp_setup
[ -x "$CP_BIN" ] && [ -x "$CTL_BIN" ] || fg_fail "build first: no $CP_BIN or $CTL_BIN"
# The portal's init names the one authorization that lasts (res-cidr, the resource's first
# address); the expiring ones of check 4 come and go by create_authorization.
cat >"$FG_WORK/init.json" <<JSON
{"interface":{"ipv4":"100.64.0.1","ipv6":"fd00:2021:1111::1"},
 "config":{"ipv4_masquerade_enabled":true,"ipv6_masquerade_enabled":true},
 "account_slug":"acme","relays":[],
 "authorizations":[{"client_id":"client-1","resource_id":"res-cidr","expires_at":null}],
 "flow_logs":{}}
JSON

# --- both processes under libfaketime ----------------------------------------------------------
# The wall clock of both processes is the real one plus the offset in CLOCK_FILE, read again
# at most every second; CLOCK_MONOTONIC and the TSC stay real. libfaketime goes first in
# LD_PRELOAD, ahead of an ASan build's runtime (then loaded as the binary's dependency): the
# runtime's own clock_gettime calls then reach libc directly; through libfaketime, its first
# one (inside ASan's allocator lock, from a library constructor) reads the offset file with
# fopen, whose malloc waits on that lock for ever. ASan's link-order check is off for that.
CLOCK_FILE=$FG_WORK/faketime.offset
echo "+0" >"$CLOCK_FILE"
FAKE_ENV=()
if [ -r "$FAKETIME_LIB" ]; then
	FAKE_ENV=(LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$CLOCK_FILE" FAKETIME_CACHE_DURATION=1
		FAKETIME_DONT_FAKE_MONOTONIC=1)
else
	fg_log "no $FAKETIME_LIB (Debian package faketime): check 4 will fail"
fi
SAN_OPTS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0"
# An ASan control plane keeps freed memory in quarantine (256 MiB by default), which would
# hide what the process itself holds: a small one for the memory check.
CP_SAN_OPTS="$SAN_OPTS:quarantine_size_mb=16"

DP_N=0
# dp_start: a data plane in NS_G (topo.sh's gw_start with the clock environment), its log
# in GW_LOG (one per start). The sockets a killed one left behind are removed first.
dp_start() {
	local eal=(-l "${FG_LCORES:-0,1}" --no-pci --no-huge --no-shconf --no-telemetry --iova-mode=va
		-m 128 "--vdev=net_af_packet0,iface=gx")
	local env=(FASTGATE_AEAD="${FG_AEAD:-auto}" ASAN_OPTIONS="$SAN_OPTS" ${FAKE_ENV[@]+"${FAKE_ENV[@]}"})
	DP_N=$((DP_N + 1))
	GW_LOG=$FG_WORK/gateway-$DP_N.log
	rm -f "$FG_WG_RUNDIR/$GW_TUN.sock" "$GW_CTL"
	fg_bg "$GW_LOG" ip netns exec "$NS_G" env "${env[@]}" "$FG_DP_BIN" "${eal[@]}" -- --config "$GW_CONF" \
		--stats-file "$GW_STATS" --idle-sleep-us "${FG_IDLE_US:-20}"
	GW_PID=$FG_LAST_PID
	if ! fg_wait_for -t 30 [ -S "$FG_WG_RUNDIR/$GW_TUN.sock" ]; then
		cat "$GW_LOG" >&2
		fg_fail "data plane did not open its UAPI socket"
	fi
	fg_alive "$GW_PID" || { cat "$GW_LOG" >&2; fg_fail "data plane exited"; }
}
cp_start_faked() { cp_start ASAN_OPTIONS="$CP_SAN_OPTS" ${FAKE_ENV[@]+"${FAKE_ENV[@]}"}; }

dp_start
portal_start
cp_start_faked
joined || fg_fail "the control plane did not join the portal"
client_up 1
authorize r0 res-cidr "$RES4/32" "[]" null || fg_fail "no authorization_created for res-cidr"

ping_ok() { ip netns exec "$NS_C1" ping -c 2 -i 0.2 -W 6 -q "${1:-$RES4}" >/dev/null 2>&1; }
ping_one() { ip netns exec "$NS_C1" ping -c 1 -W 1 -q "${1:-$RES4}" >/dev/null 2>&1; }
ping_fails() { ! ip netns exec "$NS_C1" ping -c 2 -i 0.2 -W 1 -q "${1:-$RES4}" >/dev/null 2>&1; }
fg_wait_for -t 30 ping_ok || fg_fail "no traffic through the tunnel after the authorization"
next_index() { pctl received | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["next_index"])'; }
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
since_line() { # FILE LINE PATTERN: PATTERN in FILE after its first LINE lines
	tail -n "+$(($2 + 1))" "$1" | grep -q -- "$3"
}
# probe_start: from the client to the resource, one ping after another (each waiting up to 3 s for
# its answer, 0.1 s apart) until probe_stop, which says how many went unanswered (0: ok).
probe_start() {
	rm -f "$FG_WORK/probe.stop" "$FG_WORK/probe.result"
	(
		sent=0 lost=0
		while [ ! -e "$FG_WORK/probe.stop" ]; do
			sent=$((sent + 1))
			ip netns exec "$NS_C1" ping -c 1 -W 3 -q "$RES4" >/dev/null 2>&1 || lost=$((lost + 1))
			sleep 0.1
		done
		echo "$sent $lost" >"$FG_WORK/probe.result"
	) &
	PROBE_PID=$!
	FG_PIDS+=("$PROBE_PID")
}
probe_stop() {
	local sent lost
	: >"$FG_WORK/probe.stop"
	wait "$PROBE_PID" || true
	read -r sent lost <"$FG_WORK/probe.result" || return 1
	echo "  pings through the tunnel meanwhile: $sent sent, $lost unanswered"
	[ "$sent" -gt 0 ] && [ "$lost" = 0 ]
}

# --- 1. loss and reordering ---------------------------------------------------------------------
# The project's VMs have no sch_netem, so netem's "loss 20% delay 5ms reorder 25%" is done by
# impair.py, a UDP relay in the client's namespace that the client's endpoint points at:
# every datagram of the tunnel crosses it, impaired on the way to the gateway as netem on the
# client's egress would (FG_IMPAIR_BOTH=1: the answers too).
head -c 10000000 /dev/urandom >"$FG_WORK/10M"
SUM=$(fg_sha256 "$FG_WORK/10M")
IMPAIR_PORT=$((40000 + RANDOM % 10000))
loss_reorder() {
	local out=$FG_WORK/lossy.out port=20011 t0 t1 srv relay st=0 r0 r1
	rm -f "$out" "$FG_WORK/impair.ready" "$FG_WORK/impair.json"
	fg_bg "$FG_WORK/impair.log" ip netns exec "$NS_C1" "$PY" "$HERE/impair.py" --listen "127.0.0.1:$IMPAIR_PORT" \
		--to "$GW_ADDR:51820" --loss 0.2 --delay-ms 5 --reorder 0.25 ${FG_IMPAIR_BOTH:+--both} --seed "$RANDOM" \
		--ready-file "$FG_WORK/impair.ready" --stats-file "$FG_WORK/impair.json"
	relay=$FG_LAST_PID
	fg_wait_for [ -e "$FG_WORK/impair.ready" ] || { echo "  impair.py did not start"; return 1; }
	# The gateway's datagrams straight to wireguard-go's port are dropped meanwhile: one
	# that is still on its way to the old endpoint would make wireguard-go roam back to the
	# direct path (the relay's own socket has another port).
	ip netns exec "$NS_C1" nft -f - <<NFT || { echo "  nft failed"; return 1; }
table inet fg_impair {
	chain in {
		type filter hook input priority 0;
		ip saddr $GW_ADDR udp sport 51820 udp dport $(wg show "$WG_C1" listen-port) drop
	}
}
NFT
	wg set "$WG_C1" peer "$GWPUB" endpoint "127.0.0.1:$IMPAIR_PORT"
	gw_stats_refresh
	r0=$(gw_stat drop.wg_replayed_counter)
	fg_bg "$out.srv.log" ip netns exec "$NS_R" timeout 200 socat -u "TCP-LISTEN:$port,bind=$RES4,reuseaddr" "CREATE:$out"
	srv=$FG_LAST_PID
	fg_wait_for -t 20 bash -c "ip netns exec $NS_R ss -ltn | grep -q '$RES4:$port '" || true
	t0=$(date +%s.%N)
	ip netns exec "$NS_C1" timeout 190 socat -u "OPEN:$FG_WORK/10M" "TCP:$RES4:$port" || st=1
	wait "$srv" || st=1
	t1=$(date +%s.%N)
	gw_stats_refresh
	r1=$(gw_stat drop.wg_replayed_counter)
	fg_stop "$relay"
	ip netns exec "$NS_C1" nft delete table inet fg_impair || st=1
	wg set "$WG_C1" peer "$GWPUB" endpoint "$GW_ADDR:51820"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "  10 MB in %.1f s (%.2f Mbit/s) through 20 %% loss and reordering\n", b - a, 80 / (b - a) }'
	echo "  relay: $(cat "$FG_WORK/impair.json" 2>/dev/null)"
	echo "  replayed-counter drops in the data plane during the transfer: $((r1 - r0))"
	# The impairment happened (about a fifth lost, hundreds overtaken), and nothing that
	# reached the data plane was refused as a replay.
	"$PY" -c '
import json, sys
c = json.load(open(sys.argv[1]))["to"]
sys.exit(0 if c["in"] > 7000 and 0.15 < c["dropped"] / c["in"] < 0.25 and c["overtaken"] > 100 else 1)' \
		"$FG_WORK/impair.json" || { echo "  the relay did not impair the traffic as asked"; st=1; }
	[ "$st" = 0 ] || echo "  the transfer failed"
	[ -f "$out" ] && [ "$(fg_sha256 "$out")" = "$SUM" ] || { echo "  the SHA-256 differs"; st=1; }
	[ "$r1" = "$r0" ] || { echo "  reordered datagrams were dropped as replays"; st=1; }
	if ! fg_wait_for -t 30 ping_ok; then
		echo "  no traffic on the direct path afterwards:"
		{ wg show "$WG_C1"; wg show "$GW_TUN" endpoints; ip netns exec "$NS_C1" nft list ruleset; tail -n 5 "$GW_LOG"; } |
			sed 's/^/    /'
		st=1
	fi
	return $st
}
case " $FAULTS " in *" 1 "*)
	fg_check "loss 20 % + reordering on the client link: 10 MB TCP through the tunnel, SHA-256 intact, no reordered packet dropped" loss_reorder ;;
esac

# --- 2. the data plane restarted under a running control plane -----------------------------------
dp_restart() {
	local lines t0 t1 old=$GW_PID
	ping_ok || { echo "  no traffic before the restart"; return 1; }
	lines=$(wc -l <"$CPLOG")
	kill -KILL "$old"
	wait "$old" 2>/dev/null || true
	fg_wait_for -t 15 since_line "$CPLOG" "$lines" "WARN.*data plane control socket lost" ||
		{ echo "  the control plane did not notice"; return 1; }
	t0=$SECONDS
	dp_start
	fg_wait_for -t 30 since_line "$CPLOG" "$lines" "connected to the data plane" ||
		{ echo "  the control plane did not reconnect"; return 1; }
	fg_wait_for -t 30 since_line "$CPLOG" "$lines" "data plane synchronised: 1 client(s) and 1 resource(s) pushed again" ||
		{ echo "  no re-sync line"; return 1; }
	fg_wait_for -t 10 bash -c "wg show $GW_TUN peers | grep -q '$C1PUB'" ||
		{ echo "  the client's peer is not back in the data plane"; return 1; }
	# The client still holds the old session: wireguard-go hears nothing back for 15 s
	# (keepalive + rekey timeout) and initiates again.
	fg_wait_for -t 60 ping_one || { echo "  traffic did not resume within 60 s"; return 1; }
	t1=$SECONDS
	echo "  control plane: $(tail -n "+$((lines + 1))" "$CPLOG" | grep -E "lost|connected to the data plane|synchronised" | sed -E 's/^[^ ]+ //' | tr '\n' '|')"
	echo "  traffic back $((t1 - t0)) s after the data plane started again"
	ping_ok && ctl resources | grep -q "res-cidr"
}
case " $FAULTS " in *" 2 "*)
	fg_check "data plane SIGKILLed and restarted: the control plane re-provisions it, traffic resumes without an operator" dp_restart ;;
esac

# --- 3. portal frames: 16 MiB, a JSON value bomb, a flood ---------------------------------------
flood_frames() { # the flood's frame list: 100 frames, one of them a create_authorization
	"$PY" - "$C1PUB" "$PSK" "$RES4" <<'PY'
import json, sys
pub, psk, res = sys.argv[1:4]
auth = {"event": "create_authorization", "payload": {
    "ref": "flood-%N%",
    "resource": {"id": "res-cidr", "type": "cidr", "address": res + "/32", "name": "res res-cidr", "filters": []},
    "client": {"id": "client-1", "public_key": pub, "preshared_key": psk, "ipv4": "100.64.0.2",
               "ipv6": "fd00:2021:1111::2", "version": "1.6.0"},
    "gateway_ice_credentials": {"username": "ejqt", "password": "zfjrrjdkbci42t2axyd45a"},
    "client_ice_credentials": {"username": "hgwh", "password": "j2fqufatn7xlrrvv6fsvea"},
    "expires_at": None, "use_iceless": False, "flow_logs_ingest_token": "x.y.z", "subject": {}}}
frames = [auth]
for i in range(1, 100):
    if i % 10 == 0:
        frames.append({"event": "resource_updated", "payload": {"id": "res-cidr", "type": "cidr",
                       "address": res + "/32", "name": "r", "filters": []}})
    elif i % 3 == 0:
        frames.append({"event": "access_authorization_expiry_updated",
                       "payload": {"client_id": "client-1", "resource_id": "res-cidr", "expires_at": None}})
    elif i % 3 == 1:
        frames.append({"event": "fg_future_event_%d" % (i % 7), "payload": {"n": "%N%", "x": [1, 2, 3]}})
    else:
        frames.append({"event": "invalidate_ice_candidates", "payload": {"client_id": "nobody",
                       "candidates": ["candidate:1 1 udp 1694498559 198.18.1.99 47717 typ srflx"]}})
print(json.dumps({"rate": 10000, "seconds": 3, "frames": frames, "timeout": 60}))
PY
}
portal_frames() {
	local rss0 hwm since lines r conn n st=0
	rss0=$(mem_kb "$CP_PID" VmRSS)
	lines=$(wc -l <"$CPLOG")
	probe_start
	# (a) 16 MiB in one frame: refused past 8 MiB, the connection reset, joined again.
	since=$(next_index)
	r=$(pctl push_big '{"bytes":16777216,"timeout":60}') || { echo "  push_big failed: $r"; st=1; }
	echo "  16 MiB frame: $(echo "$r" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("closed by the gateway" if r["closed"] else "taken whole", "after %.2f s" % r["seconds"])')"
	fg_wait_for -t 10 since_line "$CPLOG" "$lines" "WARN.*portal frame over the 8 MiB limit" ||
		{ echo "  no WARN naming the limit"; st=1; }
	joined "$since" || { echo "  no join after the reset"; st=1; }
	echo "  control plane: $(tail -n "+$((lines + 1))" "$CPLOG" | grep -E "frame over|reconnecting in|joined" | sed -E 's/^[^ ]+ //' | tr '\n' '|')"
	# (b) 8 MB of "[0,0,0..." under the size limit: refused by the value bound, connection kept.
	conn=$(pctl status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["current"]["conn"])')
	pctl push_big '{"bytes":8000000,"kind":"values","timeout":60}' >/dev/null || st=1
	fg_wait_for -t 10 since_line "$CPLOG" "$lines" "WARN.*malformed frame.*more than 524288 JSON values" ||
		{ echo "  the value bomb was not refused by the value bound"; st=1; }
	# (c) the flood: every create_authorization confirmed, in order, on the same connection.
	since=$(next_index)
	r=$(flood_frames | pctl flood -) || { echo "  flood failed: $r"; st=1; }
	echo "  flood: $(echo "$r" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("%d messages in %.2f s (%.0f/s)%s" % (r["sent"], r["seconds"], r["rate"], ", the connection closed" if r["closed"] else ""))')"
	confirmed() { # all 300 authorization_created of the flood, in order
		pctl received "{\"event\":\"authorization_created\",\"since_index\":$since}" | "$PY" -c '
import json, sys
refs = [f["payload"]["ref"] for f in json.load(sys.stdin)["frames"] if str(f["payload"].get("ref", "")).startswith("flood-")]
sys.exit(0 if refs == ["flood-%d" % i for i in range(0, 30000, 100)] else 1)'
	}
	fg_wait_for -t 60 confirmed || { echo "  not every create_authorization of the flood was confirmed in order"; st=1; }
	n=$(pctl received "{\"event\":\"phx_join\",\"since_index\":$since}" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["frames"]))')
	[ "$n" = 0 ] && [ "$(pctl status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["current"]["conn"])')" = "$conn" ] ||
		{ echo "  the connection was reset during the flood or the value bomb"; st=1; }
	hwm=$(mem_kb "$CP_PID" VmHWM)
	echo "  control plane memory: VmRSS $((rss0 / 1024)) MiB before, VmHWM $((hwm / 1024)) MiB after (bound: +64 MiB)"
	[ $((hwm - rss0)) -lt $((64 * 1024)) ] || { echo "  peak memory over the bound"; st=1; }
	fg_alive "$CP_PID" || { echo "  the control plane died"; st=1; }
	probe_stop || { echo "  pings through the tunnel were lost"; st=1; }
	return $st
}
case " $FAULTS " in *" 3 "*)
	fg_check "portal frames: 16 MiB frame reset and rejoined, value bomb refused, 10,000 msg/s flood handled; memory bounded, clients served" portal_frames ;;
esac

# --- 4. the wall clock: +1 h, -1 h ----------------------------------------------------------
set_clock() { echo "$1" >"$CLOCK_FILE.tmp" && mv "$CLOCK_FILE.tmp" "$CLOCK_FILE"; }
heartbeat_gaps() { # SINCE T0: the longest time without a heartbeat to the portal from T0 until
	# now, the heartbeats received since frame SINCE included (s)
	pctl received "{\"event\":\"heartbeat\",\"since_index\":$1}" | "$PY" -c '
import json, sys, time
t = [float(sys.argv[1])] + [f["time"] for f in json.load(sys.stdin)["frames"]] + [time.time()]
print("%.1f" % max(b - a for a, b in zip(t, t[1:])))' "$2"
}
clock_jumps() {
	local exp lines conns since hs0 hs1 hi0 hi1 t0 t_start gap up st=0
	[ "${#FAKE_ENV[@]}" -gt 0 ] || { echo "  no libfaketime"; return 1; }
	t_start=$(date +%s.%N)
	lines=$(wc -l <"$GW_LOG")
	conns=$(pctl status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["connections"])')
	since=$(next_index)
	gw_stats_refresh
	hs0=$(gw_stat handshakes_responded)
	hi0=$(gw_stat handshakes_initiated)
	probe_start # to the unexpiring resource, across both jumps
	# +1 h: an authorization that expires in 30 minutes ends at once.
	exp=$(($(date +%s) + 1800))
	authorize rc1 res-exp "$RES_EXP/32" "[]" "$exp" || { echo "  no authorization"; return 1; }
	fg_wait_for -t 20 ping_ok "$RES_EXP" || { echo "  res-exp not reachable before the jump"; return 1; }
	set_clock "+3600"
	t0=$(date +%s.%N)
	fg_wait_for -t 15 ping_fails "$RES_EXP" || { echo "  res-exp still reachable 15 s after +1 h"; st=1; }
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "  +1 h: access to the resource expiring in 30 min ended %.1f s after the jump (probe included)\n", b - a }'
	since_line "$GW_LOG" "$lines" "WARN.*wall clock stepped by +3600" || { echo "  the data plane did not log the step"; st=1; }
	fg_wait_for -t 10 bash -c "! FASTGATE_CTL_SOCKET=$CPSOCK $CTL_BIN resources | grep -q res-exp" ||
		{ echo "  the control plane still lists the expired authorization"; st=1; }
	# Back to +0, a fresh authorization, then -1 h: access goes on.
	set_clock "+0"
	fg_wait_for -t 10 bash -c "[ \$(tail -n +$((lines + 1)) $GW_LOG | grep -c 'wall clock stepped by -3600') -ge 1 ]" ||
		{ echo "  the data plane did not see the clock back"; st=1; }
	exp=$(($(date +%s) + 1800))
	authorize rc2 res-exp "$RES_EXP/32" "[]" "$exp" || { echo "  no second authorization"; st=1; }
	fg_wait_for -t 30 ping_ok "$RES_EXP" || { echo "  res-exp not reachable again"; st=1; }
	set_clock "-3600"
	fg_wait_for -t 10 bash -c "[ \$(tail -n +$((lines + 1)) $GW_LOG | grep -c 'wall clock stepped by -3600') -ge 2 ]" ||
		{ echo "  the data plane did not log the -1 h step"; st=1; }
	ip netns exec "$NS_C1" ping -c 20 -i 0.2 -W 2 -q "$RES_EXP" >"$FG_WORK/minus.log" 2>&1 &&
		grep -q " 0% packet loss" "$FG_WORK/minus.log" || { echo "  -1 h ended access: $(grep transmitted "$FG_WORK/minus.log")"; st=1; }
	ctl resources | grep -q res-exp || { echo "  the control plane lost the authorization at -1 h"; st=1; }
	up=$(ctl --json status | "$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["uptime_s"]))')
	echo "  -1 h: access goes on; control plane uptime ${up} s"
	"$PY" -c 'import sys; sys.exit(0 if 0 <= int(sys.argv[1]) < 3000 else 1)' "$up" ||
		{ echo "  the uptime followed the wall clock"; st=1; }
	set_clock "+0"
	probe_stop || { echo "  the unexpiring resource lost pings across the jumps"; st=1; }
	gw_stats_refresh
	hs1=$(gw_stat handshakes_responded)
	hi1=$(gw_stat handshakes_initiated)
	gap=$(heartbeat_gaps "$since" "$t_start")
	echo "  handshakes during the jumps: $((hs1 - hs0)) answered, $((hi1 - hi0)) initiated by the gateway; largest heartbeat gap ${gap} s; portal connections $conns -> $(pctl status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["connections"])')"
	[ $((hs1 - hs0 + hi1 - hi0)) -le 2 ] || { echo "  a handshake storm"; st=1; }
	awk -v g="$gap" 'BEGIN { exit !(g <= 12) }' || { echo "  heartbeats stopped or stalled"; st=1; }
	[ "$(pctl status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["connections"])')" = "$conns" ] ||
		{ echo "  the control plane reconnected to the portal"; st=1; }
	return $st
}
case " $FAULTS " in *" 4 "*)
	fg_check "wall clock +1 h ends an authorization expiring in 30 min at once, -1 h keeps a fresh one; timers, heartbeats and sessions unaffected" clock_jumps ;;
esac

# --- the logs ------------------------------------------------------------------------------------
no_errors() {
	local f
	for f in "$FG_WORK"/cp[0-9]*.log "$FG_WORK"/gateway-[0-9]*.log; do
		fg_check_log_no_errors "$f" || return 1
	done
}
fg_check "no ERROR in the control plane's or the data planes' logs" no_errors
fg_alive "$CP_PID" || echo "  the control plane is gone"
echo "e2e-faults-cp: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
