#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end, portal-conformance points of issue 8 that the real portal or a real client
# exercise: the data plane runs without a PrivateKey (portal mode) and makes a new key at
# every start, reported at login and kept across a control-plane restart (adoption); a burst
# of 500 create_authorization is answered in full and in order; a resource with 500 filters
# is authorized and enforced, and survives adoption; a client's p2p Goodbye removes its peer
# at once while the control plane keeps its authorizations, and a new authorization brings
# the client back. Prints PASS/FAIL lines and "e2e-cp-conformance: N passed, N failed".
# Needs root.
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

check() { fg_check "$@"; }

TOPO_STATIC_PEER=0 topo_up
# Portal mode: no PrivateKey in the data plane's configuration.
sed -i '/^PrivateKey/d' "$GW_CONF"
CONF_SUM=$(fg_sha256 "$GW_CONF")
gw_start
cp_setup
[ -x "$CP_BIN" ] && [ -x "$CTL_BIN" ] || fg_fail "build first: no $CP_BIN or $CTL_BIN"
ping_ok() { ip netns exec "$NS_C1" ping -c 2 -i 0.2 -W 6 -q "${1:-$RES4}" >/dev/null 2>&1; }
next_index() { pctl received | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("next_index", 0))'; }
login_key() { # the public_key query of the newest login
	pctl status | "$PY" -c '
import json, sys
q = (json.load(sys.stdin).get("last_handshake") or {}).get("query", {})
v = q.get("public_key", "")
print(v[0] if isinstance(v, list) else v)'
}

portal_start
cp_start
check "the control plane joins with a data plane that has no PrivateKey" joined
KEY1=$(login_key)
key_fresh() {
	echo "  login public_key $KEY1"
	[ "${#KEY1}" -eq 44 ] && [ "$KEY1" != "$(cat "$FG_WORK/gw.pub")" ] &&
		grep -q "made a new key for this run (public $KEY1)" "$GW_LOG" &&
		[ "$(fg_sha256 "$GW_CONF")" = "$CONF_SUM" ] && ! grep -q PrivateKey "$GW_CONF"
}
check "portal mode: a key made in memory at start is the one reported at login (config untouched)" key_fresh
# The client learns the gateway's key from the portal, as a Firezone client does.
printf '%s\n' "$KEY1" >"$FG_WORK/gw.pub"
GWPUB=$KEY1

# --- 500 create_authorization in one burst ---------------------------------------------------
burst() {
	local since out
	since=$(next_index)
	"$PY" - "$C1PUB" "$PSK" <<'PY' | pctl push_batch - >/dev/null || return 1
import json, sys
pub, psk = sys.argv[1], sys.argv[2]
frames = []
for i in range(500):
    frames.append({"event": "create_authorization", "payload": {
        "ref": "burst-%03d" % i,
        "resource": {"id": "burst-%03d" % i, "type": "cidr", "name": "b",
                     "address": "10.%d.%d.0/24" % (200 + i // 256, i % 256), "filters": []},
        "client": {"id": "client-1", "public_key": pub, "preshared_key": psk,
                   "ipv4": "100.64.0.2", "ipv6": "fd00:2021:1111::2", "version": "1.6.0"},
        "gateway_ice_credentials": {"username": "ejqt", "password": "zfjrrjdkbci42t2axyd45a"},
        "client_ice_credentials": {"username": "hgwh", "password": "j2fqufatn7xlrrvv6fsvea"},
        "expires_at": None, "use_iceless": False, "flow_logs_ingest_token": "x.y.z", "subject": {}}})
print(json.dumps({"frames": frames}))
PY
	pctl wait_for "{\"event\":\"authorization_created\",\"match\":{\"ref\":\"burst-499\"},\"since_index\":$since,\"timeout\":60}" >/dev/null ||
		{ echo "  burst-499 never answered"; }
	out=$(pctl received "{\"event\":\"authorization_created\",\"since_index\":$since}")
	echo "$out" | "$PY" -c '
import json, sys
refs = [f["payload"].get("ref") for f in json.load(sys.stdin)["frames"]]
want = ["burst-%03d" % i for i in range(500)]
print("  %d authorization_created, in order: %s" % (len(refs), refs == want))
sys.exit(0 if refs == want else 1)'
}
check "500 create_authorization in one burst: 500 authorization_created, in order" burst
check "no queue-full warning in the control plane's log" bash -c "! grep -E 'WARN.*(dropped|full)' '$CPLOG'"
drop_burst() { # reject them again (the client keeps res-cidr below)
	"$PY" - <<'PY' | pctl push_batch - >/dev/null
import json
print(json.dumps({"frames": [{"event": "reject_access", "payload": {"client_id": "client-1",
    "resource_id": "burst-%03d" % i}} for i in range(500)]}))
PY
}

# --- a resource with 500 filters ---------------------------------------------------------------
FILTERS=$("$PY" -c '
import json
f = [{"protocol": "udp", "port_range_start": 1000 + 2 * i, "port_range_end": 1000 + 2 * i} for i in range(499)]
f.append({"protocol": "icmp"})
print(json.dumps(f))')
check "create_authorization with 500 filters is answered" authorize r-many res-cidr "198.18.2.0/24" "$FILTERS" null
drop_burst
client_up 1
check "the client reaches the resource through the 500-filter policy (ICMP is the 500th)" ping_ok
many_filters_dp() { # the data plane holds all of them (fastgatectl shows the control plane's copy)
	ctl --json resources | "$PY" -c '
import json, sys
r = [x for x in json.load(sys.stdin)["resources"] if x["resource_id"] == "res-cidr"]
n = len(r[0]["filters"]) if r else -1
print("  res-cidr: %d filters" % n)
sys.exit(0 if n == 500 else 1)'
}
check "the control plane lists all 500 filters" many_filters_dp

# --- a control plane restart: same key (the data plane's), clients and filters adopted ------------
cp_restart() {
	local since ok=0
	kill -USR2 "$CP_PID"
	fg_wait_for -t 5 bash -c "! kill -0 $CP_PID 2>/dev/null" || ok=1
	since=$(next_index)
	cp_start
	joined "$since" || ok=1
	[ "$(login_key)" = "$KEY1" ] || { echo "  the new control plane logged in with another key"; ok=1; }
	grep -q "adopted 1 client" "$CPLOG" || { echo "  no adoption line"; ok=1; }
	many_filters_dp || ok=1
	ping_ok || ok=1
	return $ok
}
check "control plane restart: same key at login, the client and its 500 filters adopted" cp_restart

# --- the client's Goodbye ----------------------------------------------------------------------
goodbye() {
	local g0
	gw_stats_refresh; g0=$(gw_stat goodbyes_received)
	wg show "$GW_TUN" peers | grep -q "$C1PUB" || { echo "  no peer before the Goodbye"; return 1; }
	# Reference §4.2: IPv6 from :: to ::, next header 0xFF, hop limit 0, payload [2, 0 x 7].
	# The client routes :: into the tunnel (as a Firezone client does for p2p control).
	wg set "$WG_C1" peer "$GWPUB" allowed-ips "$CLIENT_ALLOWED,::/128"
	ip netns exec "$NS_C1" "$PY" - "$WG_C1" <<'PY'
import socket, struct, sys
body = bytes([2, 0, 0, 0, 0, 0, 0, 0])
hdr = struct.pack("!IHBB", 6 << 28, len(body), 0xFF, 0) + bytes(16) + bytes(16)
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86DD))
s.sendto(hdr + body, (sys.argv[1], 0x86DD))
PY
	fg_wait_for -t 3 bash -c "! wg show '$GW_TUN' peers | grep -q '$C1PUB'" ||
		{ echo "  the peer is still there"; return 1; }
	gw_stats_refresh
	[ "$(gw_stat goodbyes_received)" -gt "$g0" ] || { echo "  goodbyes_received not counted"; return 1; }
	echo "  peer removed; goodbyes_received $(gw_stat goodbyes_received)"
}
check "a client's Goodbye removes its peer at once (counted as goodbyes_received)" goodbye
check "the control plane keeps the client's authorizations after its Goodbye" bash -c \
	"FASTGATE_CTL_SOCKET=$CPSOCK $CTL_BIN resources | grep -q 198.18.2.0/24 && grep -q 'client-1 said Goodbye' '$CPLOG'"
back_after_goodbye() {
	authorize r-back res-back "198.18.2.2/32" "[]" null || return 1
	client_restart_session
	ping_ok
}
check "a new authorization after the Goodbye brings the client back (re-handshake)" back_after_goodbye

# --- the variable-length resource on the wire, against hostile framing ---------------------------
ctl_hostile() {
	"$PY" "$HERE/ctl_hostile.py" "$GW_CTL" >"$FG_WORK/ctl_hostile.out" 2>&1 ||
		{ grep FAIL "$FG_WORK/ctl_hostile.out" | head -10; return 1; }
	tail -1 "$FG_WORK/ctl_hostile.out" | sed 's/^/  /'
}
check "ctl_hostile.py: resources whose size disagrees with n_filters are refused, 1000 filters accepted" ctl_hostile

# --- a new data plane: a new key ---------------------------------------------------------------
new_key() {
	local since key2
	fg_stop "$CP_PID" "$GW_PID"
	gw_start
	since=$(next_index)
	cp_start
	joined "$since" || return 1
	key2=$(login_key)
	echo "  first start $KEY1, second start $key2"
	[ "${#key2}" -eq 44 ] && [ "$key2" != "$KEY1" ]
}
check "each data plane start makes a new key, reported at the next login" new_key

no_warn() {
	local f
	for f in "$FG_WORK"/cp[0-9]*.log "$GW_LOG"; do
		fg_check_log_no_errors "$f" || return 1
		if grep -E ' WARN ' "$f" | grep -v 'did not answer in time' | head -5 | grep -q .; then
			grep -E ' WARN ' "$f" | head -5 | sed 's/^/  /'
			return 1
		fi
	done
}
check "no ERROR or WARN in the logs" no_warn
echo "e2e-cp-conformance: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
