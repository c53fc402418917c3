#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: fastgate-dataplane's commands on DPDK's telemetry socket, read with the stock
# client /usr/bin/dpdk-telemetry.py (Debian dpdk-dev). The data plane runs with telemetry on
# (no --no-telemetry), under an EAL file prefix of this run's own; a wireguard-go client sends
# traffic and more peers come through the UAPI (wg set). Checks the command list, /fastgate/peers
# (keys, endpoints, handshakes, bytes, allowed IPs; paging past one page), /fastgate/stats
# (counters and each lcore's load moved, busy <= all, the ~1 s window filled), /ethdev/stats,0,
# null answers to bad parameters, the same load figures in the stats file, no WARN or ERROR
# logged, and that a clean stop removes the socket. The runtime directory
# /var/run/dpdk/<prefix> is removed on exit. Prints PASS/FAIL lines and
# "e2e-telemetry: N passed, N failed". Needs root. Usage: test_telemetry.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root
fg_need wg python3
[ -x "$FG_DP_BIN" ] || fg_fail "no data plane binary at $FG_DP_BIN (build first)"
TEL_PY=${FG_TELEMETRY_PY:-/usr/bin/dpdk-telemetry.py}
[ -r "$TEL_PY" ] || fg_fail "no $TEL_PY: run scripts/deps.sh (package dpdk-dev)"
PY=/usr/bin/python3

check() { fg_check "$@"; }

# The EAL's runtime directory (root, no RUNTIME_DIRECTORY): where the socket lives.
PREFIX=$(fg_name tel)
TEL_DIR=/var/run/dpdk/$PREFIX
[ ! -e "$TEL_DIR" ] || fg_fail "$TEL_DIR exists: the prefix belongs to another run"
on_exit() {
	local rc=$?
	set +e
	fg_cleanup
	rm -rf -- "$TEL_DIR"
	exit "$rc"
}
trap on_exit EXIT

topo_up
# As gw_start (topo.sh), with telemetry on and a file prefix of this run.
fg_bg "$GW_LOG" ip netns exec "$NS_G" env -u RUNTIME_DIRECTORY "$FG_DP_BIN" -l "${FG_LCORES:-0,1}" \
	--no-pci --no-huge --no-shconf --file-prefix "$PREFIX" --iova-mode=va -m 128 \
	"--vdev=net_af_packet0,iface=gx" -- --config "$GW_CONF" --stats-file "$GW_STATS" \
	--idle-sleep-us "${FG_IDLE_US:-20}"
GW_PID=$FG_LAST_PID
if ! fg_wait_for -t 30 [ -S "$FG_WG_RUNDIR/$GW_TUN.sock" ]; then
	cat "$GW_LOG" >&2
	fg_fail "data plane did not open its UAPI socket"
fi
fg_alive "$GW_PID" || { cat "$GW_LOG" >&2; fg_fail "data plane exited"; }
C1PUB=$(cat "$FG_WORK/c1.pub")
C2PUB=$(cat "$FG_WORK/c2.pub")

# tel CMD...: the commands through dpdk-telemetry.py, one JSON answer per line.
tel() {
	printf '%s\n' "$@" | env -u RUNTIME_DIRECTORY "$PY" "$TEL_PY" -f "$PREFIX"
}
# tel_py CMD CODE [ARGS]: CODE runs with r, the answer's value, and argv; true when it exits 0.
# The answer must be one JSON line naming the command (without its parameter).
tel_py() {
	local cmd=$1 code=$2
	shift 2
	tel "$cmd" | "$PY" -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert len(lines) == 1, lines
a = json.loads(lines[0])
name = sys.argv[1].split(",")[0]
assert list(a) == [name], a
r = a[name]
argv = sys.argv[2:]
'"$code" "$cmd" "$@"
}

check "the telemetry socket is in the EAL's runtime directory" \
	fg_wait_for -t 20 [ -S "$TEL_DIR/dpdk_telemetry.v2" ]
check "the command list has /fastgate/stats and /fastgate/peers" tel_py / '
assert "/fastgate/stats" in r and "/fastgate/peers" in r and "/ethdev/stats" in r, r'
check "/help names the peers command's parameter" tel_py /help,/fastgate/peers '
assert "slot" in r["/fastgate/peers"], r'

# --- peers ----------------------------------------------------------------------------------
# peer_of: p, the peer with key argv[0]; exactly one.
PEER_OF='
ps = [p for p in r.get("peers", {}).values() if p["public_key"] == argv[0]]
assert len(ps) == 1, r
p = ps[0]'
check "/fastgate/peers: the configured peer, its allowed IPs, no handshake yet" tel_py /fastgate/peers "$PEER_OF"'
assert r["total"] == 1 and r["start"] == 0 and "next" not in r, r
assert p["allowed_ips_count"] == 2 and sorted(p["allowed_ips"]) == ["100.64.0.2/32", "fd00:2021:1111::2/128"], p
assert p["latest_handshake"] == 0 and p["rx_bytes"] == 0 and "endpoint" not in p, p' "$C1PUB"

client_up 1
pings() { ip netns exec "$NS_C1" ping -c "${2:-3}" -i 0.2 -W 6 -q "$1" >/dev/null; }
check "client 1 pings the resource through the gateway" pings "$RES4"
wg set "$GW_TUN" peer "$C2PUB" endpoint 198.18.1.3:51820 allowed-ips 100.64.0.3/32,fd00:2021:1111::3/128
check "/fastgate/peers: client 1 with its endpoint, latest handshake and bytes" tel_py /fastgate/peers "$PEER_OF"'
import time
assert r["total"] == 2, r
assert p["endpoint"].startswith("198.18.1.2:"), p
assert abs(p["latest_handshake"] - time.time()) < 600, p
assert p["rx_bytes"] > 0 and p["tx_bytes"] > 0, p' "$C1PUB"
check "/fastgate/peers: the peer added through the UAPI" tel_py /fastgate/peers "$PEER_OF"'
assert p["endpoint"] == "198.18.1.3:51820" and p["latest_handshake"] == 0, p
assert p["allowed_ips_count"] == 2 and "100.64.0.3/32" in p["allowed_ips"], p' "$C2PUB"
echo "  $(tel /fastgate/peers)"

# --- stats and load -------------------------------------------------------------------------
# Checks one lcore's load figures (l) against each other, since the start and in the window.
# Busy counts are above 0 and at most their totals; the ratios (ppm) are what they say.
LOAD_OK='
def load_ok(l, sfx):
    for part, whole, ratio in (("busy_polls", "polls", "busy_ratio"), ("busy_cycles", "cycles", "work_ratio")):
        a, b, q = l[part + sfx], l[whole + sfx], l[ratio + sfx + "_ppm"]
        assert 0 < a <= b and abs(q - a * 1e6 / b) <= 1, (sfx, l)
'
check "/fastgate/stats: backend, peers, handshakes, counters and the worker's load" tel_py /fastgate/stats "$LOAD_OK"'
assert r["aead"] and r["workers"] == 1 and r["peers"] == 2 and r["tsc_hz"] > 0, r
assert r["handshakes_completed"] + r["handshakes_responded"] > 0 and r["uptime_s"] >= 0, r
w = r["lcores"]["worker0"]
assert set(r["lcores"]) == {"service", "worker0"}, r
assert w["nic_rx_packets"] > 0 and w["decrypted"] > 0 and w["encrypted"] > 0, w
load_ok(w, "")
assert r["lcores"]["service"]["polls"] > 0, r
assert all(v > 0 for v in r.get("drops", {}).values()), r'
# The last complete window (about a second, later than the start) saw traffic: pinged until
# one did.
window_busy() {
	pings "$RES4" 4 || return 1
	tel_py /fastgate/stats "$LOAD_OK"'
w = r["lcores"]["worker0"]
load_ok(w, "_1s")
assert 0.9 * r["tsc_hz"] <= w["cycles_1s"] <= 10 * r["tsc_hz"], w'
}
check "/fastgate/stats: the ~1 s window of the worker saw the traffic" fg_wait_for -t 60 window_busy
echo "  $(tel /fastgate/stats)"
check "/ethdev/stats,0: the port's packets moved" tel_py /ethdev/stats,0 '
assert r["ipackets"] > 0 and r["opackets"] > 0, r'
bad_params() {
	local out
	out=$(tel /fastgate/peers,abc /fastgate/peers,-1 /fastgate/peers,99999999999 /fastgate/stats,1) || return 1
	[ "$out" = "$(printf '%s\n' '{"/fastgate/peers": null}' '{"/fastgate/peers": null}' \
		'{"/fastgate/peers": null}' '{"/fastgate/stats": null}')" ]
}
check "bad parameters answer null" bad_params

# --- paging: 20 peers are two pages -----------------------------------------------------------
more=()
for i in $(seq 1 18); do
	more+=(peer "$(wg genkey | wg pubkey)" allowed-ips "100.64.1.$i/32")
done
wg set "$GW_TUN" "${more[@]}"
pages() {
	local first next
	first=$(tel /fastgate/peers) || return 1
	next=$(printf '%s\n' "$first" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["/fastgate/peers"]["next"])') ||
		return 1
	{ printf '%s\n' "$first"; tel "/fastgate/peers,$next"; } | "$PY" -c '
import json, sys
a, b = [json.loads(l)["/fastgate/peers"] for l in sys.stdin.read().splitlines()]
assert a["total"] == b["total"] == 20, (a, b)
assert len(a["peers"]) == 16 and len(b["peers"]) == 4 and "next" not in b, (a, b)
assert b["start"] == a["next"] and all(int(s) < a["next"] <= int(t) for s in a["peers"] for t in b["peers"]), (a, b)
keys = {p["public_key"] for p in list(a["peers"].values()) + list(b["peers"].values())}
assert len(keys) == 20 and set(sys.argv[1:]) <= keys, keys' "$C1PUB" "$C2PUB"
}
check "/fastgate/peers: 20 peers in two pages (16, then 4 from \"next\"), each once" pages

# --- several clients at once (a telemetry thread each), while the client pings ---------------
concurrent() {
	local i pids=() ok=0 ping_pid
	ip netns exec "$NS_C1" ping -c 20 -i 0.05 -W 2 -q "$RES4" >/dev/null 2>&1 &
	ping_pid=$!
	for i in 1 2 3 4; do
		for _ in $(seq 1 10); do printf '%s\n' /fastgate/stats /fastgate/peers /fastgate/peers,16; done |
			env -u RUNTIME_DIRECTORY "$PY" "$TEL_PY" -f "$PREFIX" >"$FG_WORK/conc$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || ok=1; done
	wait "$ping_pid" || ok=1
	cat "$FG_WORK"/conc[1-4].out | "$PY" -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert len(lines) == 120, len(lines)
for l in lines:
    (k, v), = json.loads(l).items()
    assert v is not None and (k != "/fastgate/peers" or v["total"] == 20), l' || ok=1
	return $ok
}
check "4 clients at once, 30 commands each, during traffic: every answer complete" concurrent

# --- the stats file carries the same figures ------------------------------------------------
stats_file_load() {
	gw_stats_refresh
	local p b c bc
	p=$(gw_stat worker0.polls) b=$(gw_stat worker0.busy_polls) c=$(gw_stat worker0.cycles)
	bc=$(gw_stat worker0.busy_cycles)
	[ "$(gw_stat tsc_hz)" -gt 0 ] && [ "$p" -gt 0 ] && [ "$b" -gt 0 ] && [ "$b" -le "$p" ] &&
		[ "$c" -gt 0 ] && [ "$bc" -le "$c" ] && [ "$(gw_stat worker0.cycles_1s)" -gt 0 ] &&
		[ "$(gw_stat service.polls_1s)" -gt 0 ]
}
check "stats file: tsc_hz and each lcore's load, since start and over the window" stats_file_load

# --- a clean stop --------------------------------------------------------------------------
check "data plane logged no ERROR" fg_check_log_no_errors "$GW_LOG"
no_warn() { ! grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ +WARN ' "$GW_LOG"; }
check "data plane logged no WARN" no_warn
stop_clean() {
	FG_GRACE=60 fg_stop "$GW_PID"
	grep -q "stopped" "$GW_LOG" && [ ! -e "$TEL_DIR/dpdk_telemetry.v2" ]
}
check "SIGTERM: clean stop, the telemetry socket removed" stop_clean
echo "e2e-telemetry: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" -eq 0 ]
