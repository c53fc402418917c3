#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: a Firezone-style client reaches fastgate over ICE on direct, server-reflexive
# and relayed paths, with peers nobody here wrote:
#   - relay: coturn from Debian (use-auth-secret; the "portal" hands out Firezone-style
#     credentials `<expiry>:<random>` / base64(HMAC-SHA1(secret, username)), realm firezone);
#   - client: wireguard-go whose datagrams ride werift-ice 0.2.3 (npm) in the controlling
#     role (tests/e2e/ice_shim.mjs), candidates exchanged through the test portal;
#   - gateway: fastgate-dataplane on a DPDK net_af_packet port and fastgate-controlplane
#     (FASTGATE_WITHOUT_RELAYS=0: the Firezone rule), its own TURN allocation on coturn.
# Topology: tests/e2e/icetopo.sh (a router, a NAT namespace with nftables masquerade, rules
# that drop direct UDP between client and gateway for the relayed path); the resource is a
# namespace behind the gateway's TUN.
# Scenarios, in order: the allocation; client candidates before the authorization (stored,
# given to the agent it creates) and after it; the host path; hostile STUN while traffic
# flows; the server-reflexive path behind the NAT; the relayed path through fastgate's own
# allocation with direct UDP dropped; 10 MB both ways with SHA-256 and the rate on each path;
# coturn restarted mid-transfer (437, a new allocation and relay candidate, traffic back);
# relay credentials changed in `init` after a portal restart (the allocation replaced); the
# relay omitted from relays_presence while unreachable (probe, removal), the last relay gone
# (no_relays, confirmations withheld) and back (confirmed again); no ERROR in any log.
# Prints PASS/FAIL lines, "RATE path=... upload_mbit=... download_mbit=..." and
# "e2e-ice-relay: N passed, N failed". Needs root, coturn (installed from Debian if missing),
# node/npm with werift-ice (skipped, exit 77, when it cannot be installed).
# usage: test_ice_relay.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FG_BUILD=${FG_BUILD:-$ROOT/build}
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/icetopo.sh
. "$HERE/icetopo.sh"
# shellcheck source=tests/e2e/cp.sh
. "$HERE/cp.sh"
fg_require_root

FG_DP_BIN=${FG_DP_BIN:-$FG_BUILD/dataplane/fastgate-dataplane}
[ -x "$FG_DP_BIN" ] || fg_fail "build first: no $FG_DP_BIN"
if ! command -v turnserver >/dev/null; then
	fg_log "installing coturn"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q coturn >/dev/null || fg_fail "apt-get install coturn failed"
fi
fg_need turnserver socat wireguard-go wg nft openssl
if ! icetopo_werift; then
	echo "SKIP: werift-ice could not be installed (node/npm or the registry missing)"
	exit 77
fi
check() { fg_check "$@"; }

# --- topology, coturn, gateway ---------------------------------------------------------------
ICE_TURN_LIFETIME=30          # REFRESH every 15 s: a coturn restart is seen within that
icetopo_up
icetopo_turn_start
icetopo_creds r1
if [ -n "${FG_ICE_PCAP:-}" ]; then   # debugging: coturn's traffic, both sides
	fg_bg "$FG_WORK/coturn.tcpdump.log" ip netns exec "$NS_T" tcpdump -i any -U -w "$FG_WORK/coturn.pcap" udp
fi

NS_R=$(fg_name ir)
fg_ns "$NS_R"
fg_veth "$NS_G" "$(fg_name igr)" 198.18.120.1/24 "$NS_R" "$(fg_name irr)" 198.18.120.2/24
ip -n "$NS_R" route add 100.64.0.0/11 via 198.18.120.1
ip netns exec "$NS_G" sysctl -qw net.ipv4.ip_forward=1
RES4=198.18.120.2

fg_wg_keypair "$FG_WORK/gw"
fg_wg_keypair "$FG_WORK/c1"
(umask 077 && wg genpsk >"$FG_WORK/c1.psk")
GW_TUN=$(fg_name it0)
GW_CONF=$FG_WORK/gateway.conf
GW_LOG=$FG_WORK/gateway.log
GW_CTL=/var/run/fastgate/$GW_TUN.ctl
(umask 077 && cat >"$GW_CONF") <<CONF
[Interface]
PrivateKey = $(cat "$FG_WORK/gw.key")
ListenPort = 51820
Address = 100.64.0.1/32
MTU = 1280

[Uplink]
Address = $ICE_GW_ADDR/24
Gateway = $ICE_GW_NEXTHOP

[Dataplane]
Workers = 1
MbufCount = 8191

[Host]
Name = $GW_TUN
Route = 100.64.0.0/11
CONF
fg_bg "$GW_LOG" ip netns exec "$NS_G" "$FG_DP_BIN" -l "${FG_LCORES:-0,1}" --no-pci --no-huge --no-shconf \
	--no-telemetry --iova-mode=va -m 128 "--vdev=net_af_packet0,iface=$ICE_GX" -- --config "$GW_CONF" \
	--idle-sleep-us 20
GW_PID=$FG_LAST_PID
fg_wait_for -t 30 [ -S "$GW_CTL" ] || { cat "$GW_LOG" >&2; fg_fail "the data plane did not open its control socket"; }

# The portal: init names relay r1 with the run's credentials.
cp_setup
AUTHS='[]'      # init's authorizations: the portal lists what it authorized (none at first)
write_init() { # write_init NAME: init.json with relay r1 and credentials NAME
	local user pass exp=$(($(date +%s) + 3600))
	user=$(cat "$FG_WORK/$1.user")
	pass=$(cat "$FG_WORK/$1.pass")
	(umask 077 && cat >"$FG_WORK/init.json") <<JSON
{"interface":{"ipv4":"100.64.0.1","ipv6":"fd00:2021:1111::1"},
 "config":{"ipv4_masquerade_enabled":true,"ipv6_masquerade_enabled":true},
 "account_slug":"acme",
 "relays":[{"id":"r1","type":"turn","addr":"$ICE_TURN_ADDR:$ICE_TURN_PORT","username":"$user","password":"$pass","expires_at":$exp}],
 "authorizations":$AUTHS,"flow_logs":{}}
JSON
}
write_init r1
portal_start
cp_start FASTGATE_WITHOUT_RELAYS=0
joined || fg_fail "the control plane did not join the portal"

relays_json() { ctl --json relays; }
allocated() { # allocated [NTH]: the relay holds an allocation, its NTH (default 1) so far
	relays_json | "$PY" -c '
import json, sys
r = json.load(sys.stdin); n = int(sys.argv[1])
ok = r["allocation"] and r["counters"]["allocations"] >= n and any(x["relayed"] for x in r["relays"])
sys.exit(0 if ok else 1)' "${1:-1}"
}
check "fastgate allocates on coturn (srflx and relayed addresses, fastgatectl relays)" fg_wait_for -t 40 allocated
relays_json | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["relays"][0]; print("  relay", r["id"], r["state"], "srflx", r["srflx"], "relayed", r["relayed"], "rtt", r["rtt_ms"], "ms")' || true
ALLOCS=1

# --- the client: wireguard-go behind werift-ice ---------------------------------------------
WG_C=$(fg_name iwc)
WG_PORT=$((30000 + $$ % 10000))
SHIM_PORT=$((WG_PORT + 1))
CANDS=$FG_WORK/gw-candidates.txt
: >"$CANDS"
fg_wggo_start "$NS_C" "$WG_C"
fg_wg_client "$NS_C" "$WG_C" "$FG_WORK/c1.key" "$GWPUB" "$FG_WORK/c1.psk" "127.0.0.1:$SHIM_PORT" \
	"198.18.120.0/24,100.64.0.1/32" 100.64.0.2/32 - "$WG_PORT"
SHIM_LOG=$FG_WORK/shim.log
icetopo_shim "$NS_C" "$SHIM_LOG" --role controlling --local-ip "$ICE_CLIENT_ADDR" --ufrag hgwh \
	--pwd j2fqufatn7xlrrvv6fsvea --remote-ufrag ejqt --remote-pwd zfjrrjdkbci42t2axyd45a \
	--stun "$ICE_TURN_ADDR:$ICE_TURN_PORT" --wg-port "$WG_PORT" --listen-port "$SHIM_PORT" \
	--cands-in "$CANDS" --port $((SHIM_PORT + 1))
SHIM_PID=$FG_LAST_PID

gathered() { [ "$(icetopo_gathered "$SHIM_LOG")" -ge "$1" ]; }
selected() { [ "$(grep -c '^SELECTED ' "$SHIM_LOG" || true)" -ge "$1" ]; }
# The client's candidates of its latest gathering, as the portal forwards them.
push_client_candidates() { # [invalidate]
	local ev=ice_candidates
	[ "${1:-}" = invalidate ] && ev=invalidate_ice_candidates
	icetopo_locals "$SHIM_LOG" | "$PY" -c '
import json, sys
lines = [l.strip() for l in sys.stdin if l.strip()]
print(json.dumps({"event": sys.argv[1], "payload": {"client_id": "client-1", "candidates": lines}}))' "$ev" |
		pctl push - >/dev/null
}
# The gateway's signalled candidates, new since the last call, into the shim's input file.
sync_gw_candidates() {
	"$PY" - "$PSOCK" "$CANDS" "$FG_WORK/gwc.idx" "$PORTAL_DIR" <<'PY'
import sys
sys.path.insert(0, sys.argv[4])
from portalctl import PortalCtl
sock, cands, idxf = sys.argv[1:4]
try:
    idx = int(open(idxf).read())
except (OSError, ValueError):
    idx = 0
r = PortalCtl(sock).call("received", since_index=idx)
with open(cands, "a") as f:
    for fr in r["frames"]:
        p = fr.get("payload") or {}
        if fr["event"] in ("broadcast_ice_candidates", "broadcast_invalidated_ice_candidates") \
                and p.get("client_ids") == ["client-1"]:
            for c in p.get("candidates", []):
                f.write(("-" if "invalidated" in fr["event"] else "") + c + "\n")
open(idxf, "w").write(str(r["next_index"]))
PY
}
# Waits for the Nth SELECTED line of the shim, passing on the gateway's candidates meanwhile.
nominated_n() { sync_gw_candidates && selected "$1"; }
ice_json() { ctl --json ice; }
gw_path() { # gw_path TYPE [REMOTE_TYPE_RE]: the gateway's agent nominated a TYPE path
	ice_json | "$PY" -c '
import json, re, sys
a = [x for x in json.load(sys.stdin)["agents"] if x["client_id"] == "client-1"]
n = a and a[0].get("nominated")
ok = bool(n) and n["type"] == sys.argv[1] and re.fullmatch(sys.argv[2], n["remote_type"])
if n: print("  gateway:", n["type"], n["local"], "(%s)" % n["local_type"], "<->", n["remote"], "(%s)" % n["remote_type"], "wireguard endpoint", n["wireguard_endpoint"])
sys.exit(0 if ok else 1)' "$1" "${2:-.*}"
}

check "the client's candidates come before the authorization" fg_wait_for -t 30 gathered 1
push_client_candidates
agent_waiting() { ice_json | grep -q '"state":"waiting"'; }
check "candidates without an authorization are kept for it (fastgatectl ice: waiting)" fg_wait_for -t 10 agent_waiting
check "create_authorization is confirmed with a relay allocation" authorize a1 res-r "198.18.120.0/24" "[]" null
gw_signalled() { # the gateway's broadcast carries host and relay candidates for client-1
	pctl received '{"event":"broadcast_ice_candidates"}' | "$PY" -c '
import json, sys
fr = json.load(sys.stdin)["frames"]
lines = [c for f in fr if f["payload"]["client_ids"] == ["client-1"] for c in f["payload"]["candidates"]]
for l in lines: print("  gateway candidate:", l)
ok = any(" typ host" in l and sys.argv[1] + " 51820" in l for l in lines) and any(" typ relay" in l for l in lines)
sys.exit(0 if ok else 1)' "$ICE_GW_ADDR"
}
check "broadcast_ice_candidates: host (uplink:51820) and relayed (coturn) candidates" fg_wait_for -t 20 gw_signalled
check "ICE nominates a pair (werift-ice controlling, fastgate controlled)" fg_wait_for -t 60 nominated_n 1
grep '^SELECTED' "$SHIM_LOG" | tail -n 1 | sed 's/^/  client: /'
check "host path: the gateway's agent nominated a direct pair to the client's host candidate" \
	fg_wait_for -t 20 gw_path direct host

# --- transfers ---------------------------------------------------------------------------------
head -c 10000000 /dev/urandom >"$FG_WORK/10M"
SUM=$(fg_sha256 "$FG_WORK/10M")
listening() { ip netns exec "$NS_R" ss -Hltn "sport = :$1" | grep -q .; }
rate() { echo "$1 $2 $3" | awk '{ printf "%.0f\n", $3 * 8 / ($2 - $1) / 1e6 }'; }
upload() { # upload OUT PORT: prints Mbit/s
	local out=$1 port=$2 t0 t1 pid
	rm -f "$out"
	fg_bg "$out.srv.log" ip netns exec "$NS_R" timeout 150 socat -u "TCP-LISTEN:$port,bind=$RES4,reuseaddr" "CREATE:$out"
	pid=$FG_LAST_PID
	fg_wait_for -t 10 listening "$port" || return 1
	t0=$(date +%s.%N)
	ip netns exec "$NS_C" timeout 150 socat -u "OPEN:$FG_WORK/10M" "TCP:$RES4:$port,connect-timeout=20" || return 1
	wait "$pid" || return 1
	t1=$(date +%s.%N)
	rate "$t0" "$t1" "$(stat -c %s "$FG_WORK/10M")"
}
download() { # download OUT PORT: prints Mbit/s
	local out=$1 port=$2 t0 t1 pid
	rm -f "$out"
	fg_bg "$out.srv.log" ip netns exec "$NS_R" timeout 150 socat -u "OPEN:$FG_WORK/10M" "TCP-LISTEN:$port,bind=$RES4,reuseaddr"
	pid=$FG_LAST_PID
	fg_wait_for -t 10 listening "$port" || return 1
	t0=$(date +%s.%N)
	ip netns exec "$NS_C" timeout 150 socat -u "TCP:$RES4:$port,connect-timeout=20" "CREATE:$out" || return 1
	wait "$pid" || true
	t1=$(date +%s.%N)
	rate "$t0" "$t1" "$(stat -c %s "$FG_WORK/10M")"
}
same() { [ -f "$1" ] && [ "$(fg_sha256 "$1")" = "$SUM" ]; }
tunnel_up() { ip netns exec "$NS_C" ping -c 1 -W 2 -q "$RES4" >/dev/null; }
PORTN=21000
transfer_both() { # transfer_both PATHNAME
	local up down
	PORTN=$((PORTN + 2))
	fg_wait_for -t 60 tunnel_up || true
	up=$(upload "$FG_WORK/up-$1" "$PORTN" || echo 0)
	check "$1 path: 10 MB client -> resource, SHA-256 matches ($up Mbit/s)" same "$FG_WORK/up-$1"
	down=$(download "$FG_WORK/down-$1" $((PORTN + 1)) || echo 0)
	check "$1 path: 10 MB resource -> client, SHA-256 matches ($down Mbit/s)" same "$FG_WORK/down-$1"
	echo "RATE path=$1 upload_mbit=$up download_mbit=$down"
}
transfer_both host

# --- hostile STUN while traffic flows ------------------------------------------------------------
agent_counter() { # agent_counter NAME: one counter of client-1's agent (0 when absent)
	ice_json | "$PY" -c '
import json, sys
a = [x for x in json.load(sys.stdin)["agents"] if x["client_id"] == "client-1"]
print((a[0].get("counters") or {}).get(sys.argv[1], 0) if a else 0)' "$1"
}
conn_counter() { ice_json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"; }
hostile_stun() {
	local port=$((PORTN + 2)) dl_pid ok=0 u0 m0 a0 x0
	PORTN=$((PORTN + 2))
	u0=$(agent_counter rx_unauthenticated); m0=$(conn_counter unmatched)
	a0=$(agent_counter rx_unknown_attr); x0=$(agent_counter rx_bad_request)
	rm -f "$FG_WORK/down-hostile"
	fg_bg "$FG_WORK/hostile.srv.log" ip netns exec "$NS_R" timeout 150 socat -u "OPEN:$FG_WORK/10M" "TCP-LISTEN:$port,bind=$RES4,reuseaddr"
	fg_wait_for -t 10 listening "$port" || return 1
	ip netns exec "$NS_C" timeout 150 socat -u "TCP:$RES4:$port,connect-timeout=20" "CREATE:$FG_WORK/down-hostile" &
	dl_pid=$!
	FG_PIDS+=("$dl_pid")
	ip netns exec "$NS_C" "$PY" "$HERE/stun_hostile.py" "$ICE_GW_ADDR" 51820 ejqt hgwh || ok=1
	wait "$dl_pid" || ok=1
	same "$FG_WORK/down-hostile" || { echo "  the transfer beside the hostile STUN differs"; ok=1; }
	echo "  counters: rx_unauthenticated $u0 -> $(agent_counter rx_unauthenticated)," \
		"rx_unknown_attr $a0 -> $(agent_counter rx_unknown_attr), rx_bad_request $x0 -> $(agent_counter rx_bad_request)," \
		"unmatched $m0 -> $(conn_counter unmatched)"
	[ "$(agent_counter rx_unauthenticated)" -gt "$u0" ] || ok=1
	[ "$(agent_counter rx_unknown_attr)" -gt "$a0" ] || ok=1
	[ "$(agent_counter rx_bad_request)" -gt "$x0" ] || ok=1
	[ "$(conn_counter unmatched)" -gt "$m0" ] || ok=1
	fg_alive "$CP_PID" || ok=1
	return $ok
}
check "hostile STUN (bad integrity, bad fingerprint, truncated, unknown attributes) counted and dropped; a 10 MB transfer beside it intact" hostile_stun

# --- server-reflexive: the client behind a NAT ---------------------------------------------
restart_client_ice() { # the client's network changed: it gathers again and restarts ICE
	local g
	g=$(icetopo_gathered "$SHIM_LOG")
	kill -USR2 "$SHIM_PID"
	fg_wait_for -t 30 gathered $((g + 1)) || return 1
	push_client_candidates
}
icetopo_mode srflx
N_SEL=$(grep -c '^SELECTED ' "$SHIM_LOG" || true)
restart_client_ice
check "srflx: the client's new candidates after the authorization; ICE nominates again behind the NAT" fg_wait_for -t 60 nominated_n $((N_SEL + 1))
grep '^SELECTED' "$SHIM_LOG" | tail -n 1 | sed 's/^/  client: /'
check "srflx path: direct pair to the client's NAT address (srflx or prflx)" \
	fg_wait_for -t 20 gw_path direct 'srflx|prflx'
transfer_both srflx

# --- relayed: direct UDP dropped, only fastgate's allocation on coturn remains ----------------
icetopo_mode relay
N_SEL=$(grep -c '^SELECTED ' "$SHIM_LOG" || true)
restart_client_ice
check "relay: ICE nominates again with direct UDP dropped" fg_wait_for -t 90 nominated_n $((N_SEL + 1))
grep '^SELECTED' "$SHIM_LOG" | tail -n 1 | sed 's/^/  client: /'
check "relayed path: the gateway's relayed candidate on coturn, WireGuard via a channel" \
	fg_wait_for -t 20 gw_path relayed
transfer_both relayed

# --- coturn restarted mid-transfer ----------------------------------------------------------------
old_relay_withdrawn() { sync_gw_candidates && grep -q '^-.* typ relay' "$CANDS"; }
# The relay's current relayed address has reached the client as a candidate.
new_relay_signalled() {
	local addr
	addr=$(relays_json | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["relays"]; print(r[0]["relayed"][0].replace(":", " ") if r and r[0]["relayed"] else "none")')
	sync_gw_candidates && grep -q "^candidate:.* $addr typ relay" "$CANDS"
}
relay_restart() {
	local port=$((PORTN + 2)) dl_pid ok=0 n_sel t0
	PORTN=$((PORTN + 2))
	rm -f "$FG_WORK/down-restart"
	fg_bg "$FG_WORK/restart.srv.log" ip netns exec "$NS_R" timeout 200 socat -u "OPEN:$FG_WORK/10M" "TCP-LISTEN:$port,bind=$RES4,reuseaddr"
	fg_wait_for -t 10 listening "$port" || return 1
	ip netns exec "$NS_C" timeout 200 socat -u "TCP:$RES4:$port,connect-timeout=20" "CREATE:$FG_WORK/down-restart" &
	dl_pid=$!
	FG_PIDS+=("$dl_pid")
	fg_wait_for -t 20 bash -c "[ \$(stat -c %s '$FG_WORK/down-restart' 2>/dev/null || echo 0) -gt 100000 ]" || true
	n_sel=$(grep -c '^SELECTED ' "$SHIM_LOG" || true)
	t0=$(date +%s.%N)
	icetopo_turn_stop
	icetopo_turn_start
	ALLOCS=$((ALLOCS + 1))
	fg_wait_for -t 60 allocated "$ALLOCS" || { echo "  no new allocation after the restart"; ok=1; }
	relays_json | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("  after the restart: relayed", r["relays"][0]["relayed"], "allocations", r["counters"]["allocations"], "lost", r["counters"]["allocations_lost"])'
	# The gateway signals its new relayed candidate (and withdraws the old one); the
	# client's path is gone, so it restarts ICE as a Firezone client does.
	fg_wait_for -t 20 old_relay_withdrawn || { echo "  the old relay candidate was not withdrawn"; ok=1; }
	fg_wait_for -t 20 new_relay_signalled || { echo "  the new relay candidate was not signalled"; ok=1; }
	kill -USR2 "$SHIM_PID"
	fg_wait_for -t 90 nominated_n $((n_sel + 1)) || { echo "  no new nomination"; ok=1; }
	echo "  relayed path back $(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }') s after coturn was stopped (REFRESH every 15 s)"
	wait "$dl_pid" || ok=1
	same "$FG_WORK/down-restart" || { echo "  the transfer across the restart differs"; ok=1; }
	gw_path relayed || ok=1
	return $ok
}
check "coturn restarted mid-transfer: 437, new allocation, new relay candidate, the transfer completes" relay_restart

# --- new credentials in init after a portal restart -------------------------------------------
new_creds() {
	local ok=0 n_sel
	icetopo_creds r1b
	AUTHS='[{"client_id":"client-1","resource_id":"res-r","expires_at":null}]'
	write_init r1b
	fg_stop "$PORTAL_PID"
	rm -f "$FG_WORK/gwc.idx"       # a new portal process counts its frames from 0
	portal_start "$PPORT"
	joined || return 1
	ALLOCS=$((ALLOCS + 1))
	fg_wait_for -t 60 allocated "$ALLOCS" || { echo "  no new allocation"; ok=1; }
	relays_json | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["relays"][0]
print("  relay username now", r["username"][:12] + "...", "state", r["state"])
sys.exit(0 if r["username"] == sys.argv[1] else 1)' "$(cat "$FG_WORK/r1b.user")" || ok=1
	n_sel=$(grep -c '^SELECTED ' "$SHIM_LOG" || true)
	fg_wait_for -t 20 new_relay_signalled || { echo "  the new relay candidate was not signalled"; ok=1; }
	kill -USR2 "$SHIM_PID"
	fg_wait_for -t 90 nominated_n $((n_sel + 1)) || { echo "  no new nomination"; ok=1; }
	fg_wait_for -t 30 tunnel_up || ok=1
	return $ok
}
check "relay credentials changed in init (portal restarted): the allocation is replaced, traffic back" new_creds

# --- candidate changes while the portal is away ---------------------------------------------------
held_signals() { ice_json | "$PY" -c '
import json, sys
a = [x for x in json.load(sys.stdin)["agents"] if x["client_id"] == "client-1"]
print(a[0].get("held_signals", 0) if a else 0)'; }
no_held() { [ "$(held_signals)" = 0 ]; }
held_then_flushed() {
	local ok=0 n_sel
	fg_stop "$PORTAL_PID"
	icetopo_turn_stop
	icetopo_turn_start
	ALLOCS=$((ALLOCS + 1))
	fg_wait_for -t 60 allocated "$ALLOCS" || { echo "  no new allocation"; ok=1; }
	echo "  held while the portal is away: $(held_signals) candidate change(s)"
	[ "$(held_signals)" -gt 0 ] || ok=1
	rm -f "$FG_WORK/gwc.idx"
	portal_start "$PPORT"
	joined || return 1
	fg_wait_for -t 20 new_relay_signalled || { echo "  the new relay candidate was not flushed"; ok=1; }
	fg_wait_for -t 10 no_held || { echo "  signals still held after the rejoin"; ok=1; }
	n_sel=$(grep -c '^SELECTED ' "$SHIM_LOG" || true)
	kill -USR2 "$SHIM_PID"
	fg_wait_for -t 90 nominated_n $((n_sel + 1)) || { echo "  no new nomination"; ok=1; }
	fg_wait_for -t 30 tunnel_up || ok=1
	return $ok
}
check "candidate changes while the portal is away are held, flushed after the rejoin" held_then_flushed

# --- relay omitted while unreachable, last relay gone, back ---------------------------------------
presence() { # presence CONNECTED_JSON
	pctl push "{\"event\":\"relays_presence\",\"payload\":{\"disconnected_ids\":[],\"connected\":$1}}" >/dev/null
}
no_relays_idx=0
relay_gone() {
	local ok=0 idx
	idx=$(pctl received '{"since_index":0}' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["next_index"])')
	icetopo_turn_stop
	presence '[]'
	# probed with REFRESH, removed after 10 s without an answer: the last one -> no_relays
	pctl wait_for "{\"event\":\"no_relays\",\"since_index\":$idx,\"timeout\":60}" >/dev/null || { echo "  no no_relays"; ok=1; }
	grep -q 'relay r1 went away' "$CPLOG" || { echo "  no WARN about the relay's removal"; ok=1; }
	no_relays_idx=$idx
	return $ok
}
check "relay omitted from relays_presence while unreachable: probed, removed, last one gone -> no_relays" relay_gone
withheld() {
	local idx
	idx=$(pctl received '{"since_index":0}' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["next_index"])')
	pctl push "{\"event\":\"create_authorization\",\"payload\":{\"ref\":\"a-none\",
		\"resource\":{\"id\":\"res-2\",\"type\":\"cidr\",\"address\":\"198.18.121.0/24\",\"name\":\"r2\",\"filters\":[]},
		\"client\":{\"id\":\"client-1\",\"public_key\":\"$C1PUB\",\"preshared_key\":\"$PSK\",
			\"ipv4\":\"100.64.0.2\",\"ipv6\":\"fd00:2021:1111::2\",\"version\":\"1.6.0\"},
		\"gateway_ice_credentials\":{\"username\":\"ejqt\",\"password\":\"zfjrrjdkbci42t2axyd45a\"},
		\"client_ice_credentials\":{\"username\":\"hgwh\",\"password\":\"j2fqufatn7xlrrvv6fsvea\"},
		\"expires_at\":null,\"use_iceless\":false,\"subject\":{}}}" >/dev/null
	fg_wait_for -t 20 grep -q 'res-2 not confirmed: no relay allocation' "$CPLOG" || return 1
	! pctl received "{\"event\":\"authorization_created\",\"match\":{\"ref\":\"a-none\"},\"since_index\":$idx}" |
		grep -q a-none
}
check "without a relay allocation an authorization is withheld (no authorization_created)" withheld
relay_back() {
	local u p exp=$(($(date +%s) + 3600))
	icetopo_turn_start
	u=$(cat "$FG_WORK/r1b.user"); p=$(cat "$FG_WORK/r1b.pass")
	presence "[{\"id\":\"r1\",\"type\":\"turn\",\"addr\":\"$ICE_TURN_ADDR:$ICE_TURN_PORT\",\"username\":\"$u\",\"password\":\"$p\",\"expires_at\":$exp}]"
	fg_wait_for -t 60 bash -c "FASTGATE_CTL_SOCKET=$CPSOCK $CTL_BIN --json relays | grep -q '\"allocation\":true'" || return 1
	authorize a-back res-r "198.18.120.0/24" "[]" null
}
check "the relay back in relays_presence: allocated again, authorizations confirmed again" relay_back

# --- logs ----------------------------------------------------------------------------------------
for f in "$FG_WORK"/cp*.log; do
	check "no ERROR in $(basename "$f")" fg_check_log_no_errors "$f"
done
check "no ERROR in the data plane's log" fg_check_log_no_errors "$GW_LOG"
fg_alive "$GW_PID" && fg_alive "$CP_PID" || FG_FAILED=$((FG_FAILED + 1))
echo "e2e-ice-relay: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
