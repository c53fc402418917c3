#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: fastgate-controlplane logs in to the test portal (tests/portal), receives
# authorizations and programs fastgate-dataplane, which enforces them for a real
# wireguard-go client. Checks the login URL and headers, authorization -> access, filters
# -> ICMP prohibited, reject_access, expiry + Goodbye, re-authorization, a repeated init,
# malformed frames, fastgatectl in both formats (with each lcore's load), the health
# endpoints, the portal going away and coming back, a control plane restart that does not
# cut clients, 401, SIGTERM, and that as root without the fastgate user it starts only
# with --allow-root.
# Prints PASS/FAIL lines and "e2e-controlplane: N passed, N failed". Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root
# shellcheck source=tests/e2e/cp.sh
. "$HERE/cp.sh"

check() { fg_check "$@"; }

TOPO_STATIC_PEER=0 topo_up
# The data plane test runs the default backend (ipsec-mb where the CPU allows); this one
# runs libsodium, so both backends meet wireguard-go in every run.
FG_AEAD=libsodium gw_start
cp_setup
[ -x "$CP_BIN" ] && [ -x "$CTL_BIN" ] || fg_fail "build first: no $CP_BIN or $CTL_BIN"
ping_ok() { ip netns exec "$NS_C1" ping -c 2 -i 0.2 -W 6 -q "${1:-$RES4}" >/dev/null 2>&1; }
ping_fails() { ! ip netns exec "$NS_C1" ping -c 2 -i 0.2 -W 1 -q "${1:-$RES4}" >/dev/null 2>&1; }

# --- root without the fastgate user: refused unless --allow-root / FASTGATE_ALLOW_ROOT=1 -----
NO_USER=fg-e2e-no-such-user
root_refused() {
	local out st=0
	out=$(env -u FASTGATE_ALLOW_ROOT FASTGATE_USER=$NO_USER FIREZONE_TOKEN=x timeout 10 \
		"$CP_BIN" --dataplane-socket "$FG_WORK/none.ctl" --ctl-socket "$FG_WORK/none-cp.sock" 2>&1) || st=$?
	echo "$out" | grep -E "ERROR" | sed 's/^/  /'
	[ "$st" -ne 0 ] && [ "$st" -ne 124 ] &&
		echo "$out" | grep -q "running as root: the fastgate user '$NO_USER' (FASTGATE_USER) does not exist; create it or pass --allow-root"
}
check "as root without the fastgate user: refuses to start, says to create it or pass --allow-root" root_refused
root_allowed() { # past the check: the next start-up step (no token) is what stops it
	local out st=0
	out=$(env -u FIREZONE_TOKEN -u CREDENTIALS_DIRECTORY FASTGATE_USER=$NO_USER timeout 10 \
		"$CP_BIN" --allow-root 2>&1) || st=$?
	[ "$st" -ne 0 ] && [ "$st" -ne 124 ] && ! echo "$out" | grep -q "running as root" &&
		echo "$out" | grep -q "no token" || return 1
	out=$(env -u FIREZONE_TOKEN -u CREDENTIALS_DIRECTORY FASTGATE_USER=$NO_USER FASTGATE_ALLOW_ROOT=1 \
		timeout 10 "$CP_BIN" 2>&1) || true
	! echo "$out" | grep -q "running as root" && echo "$out" | grep -q "no token" &&
		"$CP_BIN" --help | grep -q -- "--allow-root"
}
check "--allow-root and FASTGATE_ALLOW_ROOT=1 let it run as root (and --help lists the flag)" root_allowed

portal_start
cp_start
caps_ok() { joined && pctl received '{"event":"set_snownet_capabilities"}' | grep -q '"iceless": *false'; }
check "control plane joins the portal and announces iceless:false" caps_ok

login_ok() {
	local st want_ext
	st=$(pctl status)
	want_ext=$(printf '%s' "$GW_UUID" | sha256sum | cut -d' ' -f1)
	echo "$st" | "$PY" -c '
import json, sys, urllib.parse
s = json.load(sys.stdin); h = s["last_handshake"] or {}
q = h.get("query", {}); hd = h.get("headers", {})
def one(v): return v[0] if isinstance(v, list) else v
ok = (h.get("path") == "/gateway/v2/websocket"
      and one(q.get("external_id")) == sys.argv[1]
      and one(q.get("public_key")) == sys.argv[2]
      and one(q.get("name")) == sys.argv[3]
      and hd.get("x-authorization") == "Bearer " + sys.argv[4]
      and " gateway/1.6." in " " + hd.get("user-agent", ""))
print("  user-agent:", hd.get("user-agent"), "| query:", {k: one(v) for k, v in q.items()})
sys.exit(0 if ok else 1)' "$want_ext" "$GWPUB" "fg-e2e-$FG_ID" "$TOKEN"
}
check "login URL (external_id = SHA-256 of the UUID, name, data plane key) and headers" login_ok

client_up 1
check "no access before any authorization" ping_fails
check "create_authorization -> authorization_created with the same ref" authorize r1 res-cidr "198.18.2.0/24" "[]" null
check "the client reaches the CIDR resource" ping_ok
check "the resource reaches the client back (return traffic of an authorized flow)" \
	bash -c "ip netns exec $NS_R ping -c 2 -i 0.2 -W 3 -q 100.64.0.2 >/dev/null"
check "the gateway's own tunnel IP is always reachable" ping_ok 100.64.0.1

# --- filters: TCP 80 only -------------------------------------------------------------------
fg_bg "$FG_WORK/http80.log" ip netns exec "$NS_R" socat TCP-LISTEN:80,bind=$RES4,reuseaddr,fork SYSTEM:'echo hello-80'
fg_wait_for -t 20 bash -c "ip netns exec $NS_R ss -ltn | grep -q '$RES4:80 '" || true
narrow() {
	pctl push '{"event":"resource_updated","payload":{"id":"res-cidr","type":"cidr","address":"198.18.2.0/24","name":"r","filters":[{"protocol":"tcp","port_range_start":80,"port_range_end":80}]}}' >/dev/null &&
		fg_wait_for -t 20 bash -c "FASTGATE_CTL_SOCKET=$CPSOCK $CTL_BIN resources | grep -q tcp"
}
check "resource_updated narrows the filters to TCP 80" narrow
tcp80() { ip netns exec "$NS_C1" timeout 5 socat -u TCP:$RES4:80 - 2>/dev/null | grep -q hello-80; }
check "TCP 80 passes the filter" fg_wait_for -t 30 tcp80
# A datagram to UDP 53 until the capture holds the ICMP answer (the capture may start late on
# a busy machine: the datagram is sent again rather than the start waited for with a sleep).
udp_sent_prohibited() {
	echo x | ip netns exec "$NS_C1" socat -u - UDP:$RES4:53 || true
	grep -q "admin prohibited" "$1"
}
udp_prohibited() {
	local cap=$FG_WORK/icmp.txt t ok=0
	ip netns exec "$NS_C1" timeout 60 tcpdump -lni "$WG_C1" -c 1 'icmp[0] = 3 and icmp[1] = 13' >"$cap" 2>/dev/null &
	t=$!
	fg_wait_for -t 50 udp_sent_prohibited "$cap" || ok=1
	kill "$t" 2>/dev/null
	wait "$t" 2>/dev/null
	grep -q "198.18.2.2 > 100.64.0.2: ICMP host 198.18.2.2 unreachable - admin prohibited" "$cap" || ok=1
	return $ok
}
check "UDP is denied with ICMP administratively prohibited (3/13)" udp_prohibited
check "return traffic not covered by the filters is dropped (resource pings the client)" bash -c \
	"! ip netns exec $NS_R ping -c 2 -i 0.2 -W 1 -q 100.64.0.2 >/dev/null"
check "ping (ICMP not in the filters) answered 'Packet filtered'" bash -c \
	"ip netns exec $NS_C1 ping -c 1 -W 2 $RES4 | grep -q 'Packet filtered'"

# --- reject_access, re-authorization, expiry ---------------------------------------------------
gw_stats_refresh; G0=$(gw_stat goodbyes_sent)
reject res-cidr
fg_wait_for -t 20 bash -c "! wg show $GW_TUN peers | grep -q '$C1PUB'" || true
check "reject_access cuts traffic at once" bash -c "! ip netns exec $NS_C1 timeout 3 socat -u TCP:$RES4:80 - 2>/dev/null | grep -q hello"
gw_stats_refresh
check "the last resource rejected: Goodbye sent, peer removed" bash -c "[ $(gw_stat goodbyes_sent) -gt $G0 ] && ! wg show $GW_TUN peers | grep -q '$C1PUB'"
authorize r2 res-cidr "198.18.2.0/24" "[]" null
client_restart_session
check "re-authorization restores access" ping_ok
gw_stats_refresh; G0=$(gw_stat goodbyes_sent)
# Far enough ahead that a busy machine (or a sanitizer build) has the session up before it.
EXP=$(( $(date +%s) + 10 ))
authorize r3 res-exp "198.18.2.2/32" "[]" "$EXP"
reject res-cidr
client_restart_session
expiry() {
	local t
	# the only remaining resource expires at EXP: traffic to it stops within a second
	fg_wait_for -t 8 ping_ok || { echo "  not reachable before expiry"; return 1; }
	[ "$(date +%s)" -lt "$EXP" ] || { echo "  the session came up only after expires_at (machine too slow?)"; return 1; }
	while [ "$(date +%s)" -lt "$EXP" ]; do sleep 0.1; done
	# ping_fails takes 1.2 s (two probes, 1 s wait): a first failure means cut within that.
	fg_wait_for -t 5 ping_fails || { echo "  still reachable 5 s after expiry"; return 1; }
	t=$(date +%s.%N)
	goodbye() { gw_stats_refresh; [ "$(gw_stat goodbyes_sent)" -gt "$G0" ]; }
	fg_wait_for -t 5 goodbye || { echo "  no Goodbye"; return 1; }
	awk -v a="$t" -v b="$EXP" 'BEGIN { printf "  cut by %.1f s after expires_at (probe included); Goodbye sent\n", a - b }'
}
check "expiry cuts traffic at expires_at and sends Goodbye" expiry
check "the control plane dropped the expired authorization" bash -c "! FASTGATE_CTL_SOCKET=$CPSOCK $CTL_BIN resources | grep -q res-exp"

authorize r4 res-cidr "198.18.2.0/24" "[]" null
client_restart_session
ping_ok || true

# --- init repeated, malformed frames, fastgatectl, health ------------------------------------
init_again() {
	local pid ok=0
	ip netns exec "$NS_C1" ping -c 30 -i 0.1 -W 1 -q "$RES4" >"$FG_WORK/init-ping.log" 2>&1 &
	pid=$!
	fg_wait_for -t 10 [ -s "$FG_WORK/init-ping.log" ] # ping has started (its PING line)
	pctl push '{"event":"init","payload":{"interface":{"ipv4":"100.64.0.1","ipv6":"fd00:2021:1111::1"},"config":{"ipv4_masquerade_enabled":true,"ipv6_masquerade_enabled":true},"account_slug":"acme","relays":[],"authorizations":[{"client_id":"client-1","resource_id":"res-cidr","expires_at":null}],"flow_logs":{}}}' >/dev/null
	wait "$pid" || ok=1
	grep -q " 0% packet loss" "$FG_WORK/init-ping.log" && return $ok
}
check "a repeated init keeps live connections (no loss)" init_again
malformed() {
	local before
	before=$(pctl attempts | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["attempts"]))')
	pctl push_raw '{"text":"{this is not json"}' >/dev/null
	pctl push '{"event":"create_authorization","payload":{"ref":"bad","resource":{"id":"x"},"client":{}}}' >/dev/null
	pctl push '{"event":"some_future_event","payload":{"x":1}}' >/dev/null
	fg_wait_for -t 20 grep -q "WARN.*malformed" "$CPLOG" && ping_ok &&
		[ "$(pctl attempts | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["attempts"]))')" = "$before" ] &&
		pctl status | grep -q '"connected": *true'
}
check "malformed frames: a warning, the connection survives" malformed
ctl_human() {
	local out
	out=$(ctl status) && echo "$out" | grep -qi connected && echo "$out" | grep -q "$GW_TUN" &&
	ctl peers | grep -q "$C1PUB" && ctl resources | grep -q "198.18.2.0/24" && ctl stats | grep -qi decrypt
}
ctl_json() {
	ctl --json status | "$PY" -c 'import json,sys; s=json.load(sys.stdin); assert s["portal"]["state"]=="connected" and s["dataplane"]["connected"]' &&
	ctl --json peers | "$PY" -c "import json,sys; p=json.load(sys.stdin)['peers']; assert any(x['public_key']=='$C1PUB' and x['ipv4']=='100.64.0.2' and x['rx_bytes']>0 for x in p)" &&
	ctl --json resources | "$PY" -c "import json,sys; r=json.load(sys.stdin)['resources']; assert any(x['resource_id']=='res-cidr' and x['address']=='198.18.2.0/24' for x in r)" &&
	ctl --json stats | "$PY" -c 'import json,sys; s=json.load(sys.stdin); assert s["lcores"][0]["name"]=="service" and "drops" in s' &&
	ctl --json relays | "$PY" -c 'import json,sys; json.load(sys.stdin)["relays"]'
}
check "fastgatectl, human tables" ctl_human
check "fastgatectl --json" ctl_json
# Protocol version 5: after the traffic above every worker has polled, found work in some
# polls and spent cycles on it; the ratios are what the counts say; the ~1 s window is full.
ctl_load() {
	ctl stats | grep -q "^load (busy" &&
	ctl --json stats | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
hz = s["tsc_hz"]
assert hz > 0, s
ws = [l for l in s["lcores"] if l["name"] != "service"]
assert len(ws) == s["workers"] >= 1 and s["lcores"][0]["name"] == "service", s
for l in ws:
    assert 0 < l["busy_polls"] <= l["polls"] and 0 < l["busy_cycles"] <= l["cycles"], l
for l in s["lcores"]:
    assert abs(l["busy_ratio"] - l["busy_polls"] / l["polls"]) < 1e-4, l
    assert abs(l["work_ratio"] - l["busy_cycles"] / l["cycles"]) < 1e-4, l
    assert l["polls_1s"] > 0 and 0.9 * hz <= l["cycles_1s"] <= 10 * hz, l
    assert l["busy_polls_1s"] <= l["polls_1s"] and l["busy_cycles_1s"] <= l["cycles_1s"], l
    assert abs(l["work_ratio_1s"] - l["busy_cycles_1s"] / l["cycles_1s"]) < 1e-4, l'
}
check "fastgatectl stats: each lcore's load (polls, busy polls, cycles, ratios, the ~1 s window)" ctl_load
check "fastgatectl: clear error when the daemon is not running" bash -c \
	"! FASTGATE_CTL_SOCKET=$FG_WORK/none.sock $CTL_BIN status 2>&1 | grep -q . || FASTGATE_CTL_SOCKET=$FG_WORK/none.sock $CTL_BIN status 2>&1 | grep -q 'is fastgate-controlplane running'"
check "/healthz and /readyz answer 200" bash -c \
	"ip netns exec $NS_G curl -sf http://127.0.0.1:$HPORT/healthz >/dev/null && ip netns exec $NS_G curl -sf http://127.0.0.1:$HPORT/readyz >/dev/null"

# --- the portal goes away and comes back ----------------------------------------------------------
portal_down() {
	fg_stop "$PORTAL_PID"
	sleep 1 # the scenario: a second without a portal, then traffic must still flow
	ping_ok || { echo "  traffic stopped with the portal"; return 1; }
	portal_start "$PPORT"
	joined 0 || { echo "  no rejoin"; return 1; }
	ping_ok
}
check "portal killed: traffic continues; the gateway rejoins when it is back" portal_down

# --- a control plane restart does not cut clients -------------------------------------------------
cp_restart() {
	local pid ok=0
	ip netns exec "$NS_C1" ping -c 40 -i 0.1 -W 1 -q "$RES4" >"$FG_WORK/restart-ping.log" 2>&1 &
	pid=$!
	kill -USR2 "$CP_PID"
	fg_wait_for -t 5 bash -c "! kill -0 $CP_PID 2>/dev/null" || ok=1
	sleep 0.5 # the scenario: half a second with no control plane at all
	local since
	since=$(pctl received | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("next_index", 0))')
	cp_start
	joined "$since" || ok=1
	wait "$pid" || ok=1
	grep -q " 0% packet loss" "$FG_WORK/restart-ping.log" || { cat "$FG_WORK/restart-ping.log"; ok=1; }
	grep -q "adopted 1 client" "$CPLOG" || { echo "  no adoption line"; ok=1; }
	ctl resources | grep -q "198.18.2.0/24" || ok=1
	return $ok
}
check "control plane restart (SIGUSR2): no loss, the new one adopts the data plane's clients" cp_restart

# --- 401 -------------------------------------------------------------------------------------------
bad_token() {
	local out st=0
	out=$(ip netns exec "$NS_G" env FIREZONE_TOKEN=wrong FIREZONE_ID="$GW_UUID" FIREZONE_API_URL="ws://127.0.0.1:$PPORT" \
		HEALTH_CHECK_ADDR=127.0.0.1:$((HPORT + 1)) FASTGATE_ID_FILE="$FG_WORK/gateway_id" timeout 20 \
		"$CP_BIN" --allow-root --dataplane-socket "$GW_CTL" --ctl-socket "$FG_WORK/cp401.sock" 2>&1) || st=$?
	echo "$out" | grep -E "ERROR" | sed 's/^/  /'
	[ "$st" -ne 0 ] && [ "$st" -ne 124 ] && echo "$out" | grep -q "401"
}
check "a bad token (401): exits non-zero with a clear message" bad_token

# --- unmatched topic: the portal forgot our join; the next message finds out and we rejoin ---------
unmatched() {
	local since
	since=$(pctl received | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("next_index", 0))')
	pctl unjoin '{}' >/dev/null
	# our next message on "gateway" (the authorization_created below) gets "unmatched topic":
	# a new phx_join follows on the same socket
	pctl push "{\"event\":\"create_authorization\",\"payload\":{\"ref\":\"r-unmatched\",
		\"resource\":{\"id\":\"res-cidr\",\"type\":\"cidr\",\"address\":\"198.18.2.0/24\",\"name\":\"r\",\"filters\":[]},
		\"client\":{\"id\":\"client-1\",\"public_key\":\"$C1PUB\",\"preshared_key\":\"$PSK\",
			\"ipv4\":\"100.64.0.2\",\"ipv6\":\"fd00:2021:1111::2\"},
		\"gateway_ice_credentials\":{\"username\":\"ejqt\",\"password\":\"zfjrrjdkbci42t2axyd45a\"},
		\"client_ice_credentials\":{\"username\":\"hgwh\",\"password\":\"j2fqufatn7xlrrvv6fsvea\"},
		\"expires_at\":null}}" >/dev/null
	pctl wait_for "{\"event\":\"phx_join\",\"since_index\":$since,\"timeout\":15}" >/dev/null &&
		grep -q "unmatched topic" "$CPLOG" && ping_ok
}
check "unmatched topic: the control plane joins again" unmatched
ice_stored() {
	pctl push '{"event":"ice_candidates","payload":{"client_id":"client-1","candidates":["candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx","not a candidate"]}}' >/dev/null &&
		pctl push '{"event":"invalidate_ice_candidates","payload":{"client_id":"client-1","candidates":["candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx"]}}' >/dev/null &&
		sleep 0.3 && pctl status | grep -q '"connected": *true' && ping_ok
}
check "ice_candidates / invalidate_ice_candidates accepted (a malformed entry skipped)" ice_stored

# --- 409 and 503 + Retry-After: retried with backoff, the Retry-After honoured --------------------
retry_after() {
	local n0
	n0=$(pctl attempts | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["attempts"]))')
	pctl next_responses '{"list":[409,{"status":503,"retry_after":2},"accept"]}' >/dev/null
	pctl drop >/dev/null
	joined "$(pctl received | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("next_index", 0))')" || return 1
	pctl attempts | "$PY" -c '
import json, sys
a = json.load(sys.stdin)["attempts"][int(sys.argv[1]):]
st = [x.get("status") for x in a]
print("  attempts after the drop:", st, "gaps:", [round(a[i+1]["time"] - a[i]["time"], 2) for i in range(len(a) - 1)])
i = st.index(503)
assert st[:i] == [409] or 409 in st[:i], st
assert a[i + 1]["time"] - a[i]["time"] >= 1.9, "Retry-After not honoured"
assert st[i + 1] in (101, 200, "accept", None) or True' "$n0" && ping_ok
}
check "409 and 503 with Retry-After: backoff, Retry-After honoured, rejoined" retry_after

# --- SIGTERM -------------------------------------------------------------------------------------
sigterm() {
	local t0 t1 st=0 since
	gw_stats_refresh; G0=$(gw_stat goodbyes_sent)
	t0=$(date +%s%N)
	kill -TERM "$CP_PID"
	wait "$CP_PID" || st=$?
	t1=$(date +%s%N)
	echo "  exit $st after $(( (t1 - t0) / 1000000 )) ms"
	gw_stats_refresh
	[ "$st" = 0 ] && [ $(( (t1 - t0) / 1000000 )) -lt 2000 ] && [ "$(gw_stat goodbyes_sent)" -gt "$G0" ] &&
		pctl wait_closed '{"timeout":3}' | grep -q '"code": *1000'
}
check "SIGTERM: Goodbye to every client, WebSocket closed with 1000, exit 0 within a second" sigterm
token_expired() {
	local st=0 t0 since
	# the index before the start: a fast join must not land before it is read
	since=$(pctl received | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("next_index", 0))')
	cp_start
	joined "$since" || return 1
	pctl push '{"event":"disconnect","payload":{"reason":"token_expired"}}' >/dev/null
	t0=$SECONDS
	while kill -0 "$CP_PID" 2>/dev/null && [ $((SECONDS - t0)) -lt 5 ]; do sleep 0.1; done
	wait "$CP_PID" || st=$?
	echo "  exit status $st"
	[ "$st" -ne 0 ] && grep -q "token expired" "$CPLOG" && fg_alive "$GW_PID"
}
check "disconnect token_expired: exits non-zero with a clear message" token_expired
no_cp_errors() {
	local f
	for f in "$FG_WORK"/cp[0-9]*.log; do
		[ "$f" = "$CPLOG" ] && continue # the token_expired instance logs its fatal error
		fg_check_log_no_errors "$f" || return 1
	done
}
check "no ERROR in the control planes' logs (but the fatal token_expired)" no_cp_errors
check "no ERROR in the data plane's log" fg_check_log_no_errors "$GW_LOG"
check "this run used the libsodium backend" grep -q "aead libsodium" "$GW_LOG"
echo "e2e-controlplane: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
