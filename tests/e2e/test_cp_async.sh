#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: the control plane's loop never waits on the data plane (issue 8, point 3).
# The data plane is stopped (SIGSTOP) for 5 s around the moment a heartbeat falls due; during
# the stall a create_authorization arrives and fastgatectl asks for status. The portal must
# get its heartbeat on time, status must answer within 2 s (saying the data plane is not
# responding), and the authorization is confirmed once its request's 3 s budget ran out (the
# documented behaviour: the control plane holds it and the data plane applies it when it
# resumes). Then the data plane serves again, and a portal URL with a host name (localhost,
# resolved in the control plane's resolver thread) logs in. The only WARN allowed is the
# timeout of that one stalled request. Prints PASS/FAIL lines and "e2e-cp-async: N passed,
# N failed". Needs root.
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
# A stopped data plane ignores TERM: let it go on before the cleanup stops it.
GW_PID=
cont_then_cleanup() {
	local rc=$?
	set +e   # under -e a failing run's (exit 1) below would end the trap before the cleanup
	[ -n "$GW_PID" ] && kill -CONT "$GW_PID" 2>/dev/null
	(exit "$rc")
	fg__on_exit
}
trap cont_then_cleanup EXIT

TOPO_STATIC_PEER=0 topo_up
FG_AEAD=libsodium gw_start
cp_setup
[ -x "$CP_BIN" ] && [ -x "$CTL_BIN" ] || fg_fail "build first: no $CP_BIN or $CTL_BIN"
now() { date +%s.%N; }
# Times (Unix s) of the heartbeats the portal received since frame index $1.
hb_times() {
	pctl received "{\"event\":\"heartbeat\",\"topic\":\"phoenix\",\"since_index\":${1:-0}}" |
		"$PY" -c 'import json,sys; [print("%.3f" % f["time"]) for f in json.load(sys.stdin)["frames"]]'
}
next_index() { pctl received | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("next_index", 0))'; }

portal_start
cp_start
check "control plane joins the portal" joined
check "authorization before the stall is confirmed" authorize r-before res-cidr 198.18.2.0/24 '[]' null

# --- the data plane stalls for 5 s -------------------------------------------------------------
STALL_S=5
stall() {
	local since t_hb t_stop t_cont st_out t0 t1 ok=0
	since=$(next_index)
	pctl wait_for "{\"event\":\"heartbeat\",\"since_index\":$since,\"timeout\":15}" >/dev/null || return 1
	t_hb=$(hb_times "$since" | tail -n 1)
	# The next heartbeat falls due 10 s after this one: inside the stall.
	sleep 6
	kill -STOP "$GW_PID"
	t_stop=$(now)
	pctl push "{\"event\":\"create_authorization\",\"payload\":{\"ref\":\"r-stall\",
		\"resource\":{\"id\":\"res-stall\",\"type\":\"cidr\",\"address\":\"198.18.3.0/24\",\"name\":\"stall\",\"filters\":[]},
		\"client\":{\"id\":\"client-1\",\"public_key\":\"$C1PUB\",\"preshared_key\":\"$PSK\",
			\"ipv4\":\"100.64.0.2\",\"ipv6\":\"fd00:2021:1111::2\",\"version\":\"1.6.0\"},
		\"gateway_ice_credentials\":{\"username\":\"ejqt\",\"password\":\"zfjrrjdkbci42t2axyd45a\"},
		\"client_ice_credentials\":{\"username\":\"hgwh\",\"password\":\"j2fqufatn7xlrrvv6fsvea\"},
		\"expires_at\":null,\"use_iceless\":false,\"flow_logs_ingest_token\":\"x.y.z\",\"subject\":{}}}" >/dev/null
	sleep 0.5
	t0=$(now)
	st_out=$(timeout 3 env FASTGATE_CTL_SOCKET="$CPSOCK" "$CTL_BIN" --json status) || ok=1
	t1=$(now)
	echo "  status during the stall took $("$PY" -c "print('%.2f' % ($t1 - $t0))") s"
	"$PY" -c "import sys; sys.exit(0 if $t1 - $t0 < 2.0 else 1)" || ok=1
	echo "$st_out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin)["dataplane"]; assert d["connected"] and d["responding"] is False, d' || ok=1
	# Again later in the stall: the loop is still free.
	sleep 1.5
	timeout 2 env FASTGATE_CTL_SOCKET="$CPSOCK" "$CTL_BIN" --json status >/dev/null || ok=1
	"$PY" -c "import time; time.sleep(max(0, $t_stop + $STALL_S - time.time()))"
	kill -CONT "$GW_PID"
	t_cont=$(now)
	echo "  data plane stopped for $("$PY" -c "print('%.2f' % ($t_cont - $t_stop))") s"
	[ "$ok" = 0 ] || { echo "  fastgatectl status did not answer in time during the stall"; return 1; }
	# Heartbeats: one during the stall, none late (10 s period, 0.5 s tick).
	hb_times "$since" | "$PY" -c "
import sys
t = [float(x) for x in sys.stdin.read().split()]
print('  heartbeats at +' + ', +'.join('%.2f' % (x - $t_hb) for x in t))
gaps = [b - a for a, b in zip(t, t[1:])]
assert any($t_stop <= x <= $t_cont for x in t), 'no heartbeat during the stall'
assert gaps and max(gaps) <= 11.0, 'a heartbeat came late: gaps %s' % gaps
"
}
check "data plane stalled ${STALL_S} s: heartbeats on time, fastgatectl status answers within 2 s" stall
stall_confirmed() {
	pctl wait_for '{"event":"authorization_created","match":{"ref":"r-stall"},"timeout":10}' >/dev/null &&
		grep -q "WARN fastgate.state: resource res-stall: the data plane did not answer in time" "$CPLOG"
}
check "the authorization sent during the stall is confirmed after its 3 s budget (WARN logged)" stall_confirmed
after_stall() {
	authorize r-after res-after 198.18.4.0/24 '[]' null &&
		ctl --json status | "$PY" -c 'import json,sys; d=json.load(sys.stdin)["dataplane"]; assert d["responding"] and d["peers"] >= 1' &&
		ctl --json peers | "$PY" -c "import json,sys; assert any(x['public_key']=='$C1PUB' for x in json.load(sys.stdin)['peers'])" &&
		ctl --json resources | grep -q '198.18.3.0/24' &&
		ctl --json stats | "$PY" -c 'import json,sys; assert "drops" in json.load(sys.stdin)'
}
check "after the stall: authorizations, status, peers and stats answered by the data plane" after_stall
warn_ok() {
	local bad
	bad=$(grep -E ' (WARN|ERROR) ' "$CPLOG" | grep -v "resource res-stall: the data plane did not answer in time" |
		grep -v "client client-1: the data plane did not answer in time") || true
	[ -z "$bad" ] || { echo "$bad" | sed 's/^/  /'; return 1; }
}
check "no ERROR or WARN besides the stalled request's timeout" warn_ok

# --- a portal URL with a host name: resolved off the loop -------------------------------------
resolver() {
	local since
	fg_stop "$CP_PID"
	since=$(next_index)
	cp_start FIREZONE_API_URL="ws://localhost:$PPORT"
	joined "$since" && grep -q "localhost" "$CPLOG" && ! grep -E ' (WARN|ERROR) ' "$CPLOG"
}
check "a portal host name (localhost) is resolved and logs in, without WARN or ERROR" resolver

fg_stop "$CP_PID"
fg_check_log_no_errors "$GW_LOG"
echo "e2e-cp-async: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" = 0 ]
