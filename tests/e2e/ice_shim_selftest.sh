#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Self-test of tests/e2e/ice_shim.mjs and tests/e2e/icetopo.sh, without fastgate: two
# wireguard-go peers, each behind an ICE shim (werift-ice 0.2.3), back to back through the
# icetopo topology (gateway G, router I, coturn T, NAT N, client C).
#
#   C: wireguard-go 100.64.0.2 <-> shim (controlling, --stun coturn)
#        ... ICE path chosen by the mode ...
#   G: shim (controlled, --turn coturn, kernel address 198.18.111.1) <-> wireguard-go 100.64.0.1
#
# The script plays the portal: it copies each shim's LOCAL candidate lines into the other's
# cands-in file. In each mode (host, srflx, relay) fresh shims are started (wireguard-go and
# coturn keep running), the nominated pair must have the mode's candidate types, and 10 MB go
# through the tunnel over TCP with a matching SHA-256 (rate reported). Then, in relay mode,
# coturn is restarted (allocations lost) and both shims get SIGUSR2 (ICE restart: client
# first, then the gateway stand-in with a new relay allocation); candidates are exchanged
# again (old ones invalidated) and 10 MB must go through again.
# Not part of the suite (no test_ prefix). Needs root. Prints PASS/FAIL lines and
# "ice-shim-selftest: N passed, N failed"; exits 77 when werift-ice cannot be installed.
# usage: ice_shim_selftest.sh [BUILD_DIR]   (werift-ice goes to BUILD_DIR/werift-npm unless
#        FG_WERIFT_DIR names a folder; FG_ICE_MB sets the transfer size, default 10)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FG_BUILD=${FG_BUILD:-$ROOT/build}
[ $# -ge 1 ] && FG_BUILD=$(mkdir -p "$1" && cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/icetopo.sh
. "$HERE/icetopo.sh"
fg_require_root
fg_need wireguard-go wg openssl nft python3 ss sha256sum
if ! icetopo_werift; then
	echo "SKIP: werift-ice 0.2.3 not available"
	exit 77
fi

W=$FG_WORK
MB=${FG_ICE_MB:-10}
WG_PORT=51820     # wireguard-go's listen port (both namespaces)
SHIM_PORT=51900   # the shims' datagram socket: wireguard-go's peer endpoint 127.0.0.1:51900
TCP_PORT=5201
C_UFRAG=cl$(openssl rand -hex 3)
C_PWD=$(openssl rand -hex 12)
G_UFRAG=gw$(openssl rand -hex 3)
G_PWD=$(openssl rand -hex 12)
T_START=$SECONDS

icetopo_up
icetopo_gw_kernel
icetopo_turn_start
gwturn_USER=''
icetopo_creds gwturn # sets gwturn_USER

# --- WireGuard: one wireguard-go per side, peer endpoint = its shim --------------------------
fg_wg_keypair "$W/wgc"
fg_wg_keypair "$W/wgg"
WG_C=$(fg_name iwc)
WG_G=$(fg_name iwg)
fg_wggo_start "$NS_C" "$WG_C"
fg_wg_client "$NS_C" "$WG_C" "$W/wgc.key" "$(cat "$W/wgg.pub")" - "127.0.0.1:$SHIM_PORT" \
	100.64.0.1/32 100.64.0.2/32 - "$WG_PORT" 5
fg_wggo_start "$NS_G" "$WG_G"
fg_wg_client "$NS_G" "$WG_G" "$W/wgg.key" "$(cat "$W/wgc.pub")" - "127.0.0.1:$SHIM_PORT" \
	100.64.0.2/32 100.64.0.1/32 - "$WG_PORT"

# --- the TCP transfer through the tunnel --------------------------------------------------------
cat >"$W/xfer.py" <<'PY'
import socket, sys, time
mode, host, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if mode == "recv":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(1)
    print("listening", flush=True)
    c, peer = s.accept()
    n = 0
    with open(path, "wb") as f:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            f.write(b)
            n += len(b)
    c.close()
    print("received", n, "from", peer[0], flush=True)
else:
    with open(path, "rb") as f:
        data = f.read()
    t0 = time.monotonic()
    c = socket.create_connection((host, port), timeout=60)
    c.settimeout(120)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    while c.recv(1 << 16):
        pass
    dt = time.monotonic() - t0
    print("RATE %d bytes in %.2f s = %.2f MB/s (%.1f Mbit/s)" % (len(data), dt, len(data) / dt / 1e6, len(data) * 8 / dt / 1e6), flush=True)
PY
head -c "$((MB * 1024 * 1024))" /dev/urandom >"$W/payload"
PAYLOAD_SUM=$(fg_sha256 "$W/payload")
XFER_N=0
RATES=()
tcp_listening() { ip netns exec "$NS_G" ss -Hltn "sport = :$TCP_PORT" | grep -q .; }
tunnel_up() { ip netns exec "$NS_C" ping -c 1 -W 1 100.64.0.1 >/dev/null 2>&1; }
# transfer LABEL: MB megabytes C -> G over TCP through the tunnel, SHA-256 compared.
transfer() {
	local label=$1 rpid line sum
	XFER_N=$((XFER_N + 1))
	rm -f "$W/recv-$XFER_N"
	fg_wait_for -t 30 tunnel_up || { echo "  tunnel: no ping reply 100.64.0.2 -> 100.64.0.1"; return 1; }
	fg_bg "$W/recv-$XFER_N.log" ip netns exec "$NS_G" python3 "$W/xfer.py" recv 100.64.0.1 "$TCP_PORT" "$W/recv-$XFER_N"
	rpid=$FG_LAST_PID
	fg_wait_for -t 10 tcp_listening || { echo "  receiver does not listen"; return 1; }
	if ! ip netns exec "$NS_C" timeout 180 python3 "$W/xfer.py" send 100.64.0.1 "$TCP_PORT" "$W/payload" \
		>"$W/send-$XFER_N.log" 2>&1; then
		cat "$W/send-$XFER_N.log"
		fg_stop "$rpid"
		return 1
	fi
	fg_wait_for -t 10 eval "! fg_alive $rpid" || true
	fg_stop "$rpid"
	line=$(grep '^RATE' "$W/send-$XFER_N.log")
	sum=$(fg_sha256 "$W/recv-$XFER_N")
	echo "  $label: $line"
	RATES+=("$label: ${line#RATE }")
	[ "$sum" = "$PAYLOAD_SUM" ] || { echo "  SHA-256 mismatch: $sum != $PAYLOAD_SUM"; return 1; }
}

# --- the shims ----------------------------------------------------------------------------------
RUN=0
C_PID='' G_PID='' C_LOG='' G_LOG='' C_IN='' G_IN=''
start_shims() { # start_shims: a fresh pair of shims for the current mode
	RUN=$((RUN + 1))
	C_LOG=$W/shim-c-$RUN.log
	G_LOG=$W/shim-g-$RUN.log
	C_IN=$W/cands-c-$RUN
	G_IN=$W/cands-g-$RUN
	: >"$C_IN"
	: >"$G_IN"
	icetopo_shim "$NS_G" "$G_LOG" --role controlled --local-ip "$ICE_GW_ADDR" \
		--ufrag "$G_UFRAG" --pwd "$G_PWD" --remote-ufrag "$C_UFRAG" --remote-pwd "$C_PWD" \
		--turn "$ICE_TURN_ADDR:$ICE_TURN_PORT" --turn-user "$gwturn_USER" --turn-pass-file "$W/gwturn.pass" \
		--wg-port "$WG_PORT" --listen-port "$SHIM_PORT" --cands-in "$G_IN"
	G_PID=$FG_LAST_PID
	icetopo_shim "$NS_C" "$C_LOG" --role controlling --local-ip "$ICE_CLIENT_ADDR" \
		--ufrag "$C_UFRAG" --pwd "$C_PWD" --remote-ufrag "$G_UFRAG" --remote-pwd "$G_PWD" \
		--stun "$ICE_TURN_ADDR:$ICE_TURN_PORT" \
		--wg-port "$WG_PORT" --listen-port "$SHIM_PORT" --cands-in "$C_IN"
	C_PID=$FG_LAST_PID
}
gathered() { [ "$(icetopo_gathered "$1")" -ge "$2" ]; }
selected_n() { grep -c '^SELECTED ' "$1" || true; }
selected() { [ "$(selected_n "$1")" -ge "$2" ]; }
# wait_gathered LOG N PID: the shim finished its Nth gathering (or the check fails).
wait_gathered() {
	fg_wait_for -t 20 gathered "$1" "$2" && return 0
	fg_alive "$3" || echo "  shim $3 exited"
	tail -n 20 "$1" | sed 's/^/    /'
	return 1
}
# forward FROMLOG N TOFILE: the Nth gathering's candidates of one shim to the other.
forward() { icetopo_locals "$1" "$2" >>"$3"; }
# invalidate FROMLOG N TOFILE: "-" lines for the Nth gathering's candidates.
invalidate() { icetopo_locals "$1" "$2" | sed 's/^/-/' >>"$3"; }
last_selected() { grep '^SELECTED ' "$1" | tail -n 1; }
# selected_is LOG LOCAL REMOTE TYPES: the latest SELECTED line goes from local address LOCAL
# to remote address REMOTE (IPs), the remote candidate's type one of TYPES (a|b). Which side
# learns the other as peer-reflexive first depends on who checks before the other has read
# its candidates (and on the NAT: a check that reaches N before the client's own packet
# leaves a conntrack entry that makes masquerade pick another port), so prflx is accepted;
# the addresses prove the path.
selected_is() {
	local l re
	l=$(last_selected "$1")
	re="^SELECTED ${2//./[.]}:[0-9]+ <-> ${3//./[.]}:[0-9]+ type ($4) after "
	[[ $l =~ $re ]]
}
show_selected() {
	echo "  client:  $(last_selected "$C_LOG")"
	echo "  gateway: $(last_selected "$G_LOG")"
}

# connect_mode MODE CLOCAL CREMOTE CTYPES GLOCAL GREMOTE GTYPES: switch the path, fresh
# shims, exchange candidates; both sides nominate the pair expected for MODE.
connect_mode() {
	local mode=$1
	if [ -n "$C_PID" ]; then fg_stop "$C_PID" "$G_PID"; fi
	icetopo_mode "$mode"
	start_shims
	wait_gathered "$G_LOG" 1 "$G_PID" && wait_gathered "$C_LOG" 1 "$C_PID" || return 1
	forward "$C_LOG" 1 "$G_IN"
	forward "$G_LOG" 1 "$C_IN"
	if ! fg_wait_for -t 30 selected "$C_LOG" 1 || ! fg_wait_for -t 30 selected "$G_LOG" 1; then
		echo "  no SELECTED within 30 s"
		tail -n 15 "$C_LOG" "$G_LOG" | sed 's/^/    /'
		return 1
	fi
	show_selected
	selected_is "$C_LOG" "$2" "$3" "$4" && selected_is "$G_LOG" "$5" "$6" "$7"
}

# --- 1-3. one mode after the other ----------------------------------------------------------------
# mode, then client: local remote types, then gateway: local remote types
for spec in "host $ICE_CLIENT_ADDR $ICE_GW_ADDR host|prflx $ICE_GW_ADDR $ICE_CLIENT_ADDR host|prflx" \
	"srflx $ICE_CLIENT_ADDR $ICE_GW_ADDR host|prflx $ICE_GW_ADDR $ICE_NAT_WAN srflx|prflx" \
	"relay $ICE_CLIENT_ADDR $ICE_TURN_ADDR relay|prflx $ICE_TURN_ADDR $ICE_NAT_WAN srflx|prflx"; do
	read -r mode cl cr ct gl gr gt <<<"$spec"
	fg_check "$mode mode: client nominates $cl -> $cr ($ct), gateway $gl -> $gr ($gt)" \
		connect_mode "$mode" "$cl" "$cr" "$ct" "$gl" "$gr" "$gt"
	fg_check "$mode mode: $MB MB through the WireGuard tunnel over ICE, SHA-256 equal" transfer "$mode"
done
cands_ok() {
	echo "  router I dropped $(icetopo_relay_drops) direct UDP packets between client and gateway"
	grep -q "^LOCAL candidate:[^ ]* 1 udp [0-9]* $ICE_NAT_WAN [0-9]* typ srflx" "$C_LOG" &&
		grep -q "^LOCAL candidate:[^ ]* 1 udp [0-9]* $ICE_TURN_ADDR [0-9]* typ relay" "$G_LOG"
}
fg_check "relay mode: the client has a srflx candidate (NAT wan), the gateway a relay candidate" cands_ok

# --- 4. relay mode: coturn restarted, ICE restart (SIGUSR2) on both sides ---------------------------
restart_ok() {
	local t0
	t0=$(date +%s%N)
	icetopo_turn_stop
	icetopo_turn_start
	# The client restarts first (its connection failed): new host port, new srflx.
	kill -USR2 "$C_PID"
	wait_gathered "$C_LOG" 2 "$C_PID" || return 1
	invalidate "$C_LOG" 1 "$G_IN"
	forward "$C_LOG" 2 "$G_IN"
	# The gateway stand-in re-allocates on the restarted coturn (new relayed port).
	kill -USR2 "$G_PID"
	wait_gathered "$G_LOG" 2 "$G_PID" || return 1
	invalidate "$G_LOG" 1 "$C_IN"
	forward "$G_LOG" 2 "$C_IN"
	if ! fg_wait_for -t 45 selected "$C_LOG" 2 || ! fg_wait_for -t 45 selected "$G_LOG" 2; then
		echo "  no new SELECTED after the restart"
		tail -n 15 "$C_LOG" "$G_LOG" | sed 's/^/    /'
		return 1
	fi
	echo "  nominated again $((($(date +%s%N) - t0) / 1000000)) ms after coturn was stopped"
	show_selected
	grep -q '^RESTART$' "$C_LOG" && grep -q '^RESTART$' "$G_LOG" &&
		grep -q '^INVALIDATED ' "$C_LOG" &&
		selected_is "$C_LOG" "$ICE_CLIENT_ADDR" "$ICE_TURN_ADDR" 'relay|prflx' &&
		selected_is "$G_LOG" "$ICE_TURN_ADDR" "$ICE_NAT_WAN" 'srflx|prflx' &&
		[ "$(icetopo_locals "$G_LOG" 1 | grep 'typ relay')" != "$(icetopo_locals "$G_LOG" 2 | grep 'typ relay')" ]
}
fg_check "relay mode, coturn restarted: SIGUSR2 restarts ICE on both shims, new relay candidate, nominated again" restart_ok
fg_check "after the restart: $MB MB through the tunnel again, SHA-256 equal" transfer "relay after restart"
stats_ok() { grep -q '^STATS tx [1-9][0-9]* rx [1-9][0-9]*$' "$C_LOG" && grep -q '^STATS tx [1-9][0-9]* rx [1-9][0-9]*$' "$G_LOG"; }
fg_check "STATS lines count datagrams both ways" fg_wait_for -t 8 stats_ok
# Consent (RFC 7675) after nomination: the PAIR lines count the binding requests each side
# received on its selected pair; they must keep rising (werift checks every 4-6 s).
pair_rx() { grep '^PAIR ' "$1" | tail -n 1 | sed -E 's/.* requests_rx ([0-9]+).*/\1/'; }
consent_ok() {
	local c0 g0
	c0=$(pair_rx "$C_LOG")
	g0=$(pair_rx "$G_LOG")
	echo "  binding requests received on the selected pair: client ${c0:-?}, gateway ${g0:-?}"
	[ -n "$c0" ] && [ -n "$g0" ] || return 1
	# shellcheck disable=SC2016 # expanded by eval
	fg_wait_for -t 15 eval '[ "$(pair_rx "$C_LOG")" -gt "$c0" ] && [ "$(pair_rx "$G_LOG")" -gt "$g0" ]' || return 1
	echo "  ... later: client $(pair_rx "$C_LOG"), gateway $(pair_rx "$G_LOG")"
}
fg_check "consent checks continue both ways after nomination" consent_ok
# shellcheck disable=SC2016 # expanded by eval
fg_check "the shims are still running" eval 'fg_alive "$C_PID" && fg_alive "$G_PID"'
term_ok() {
	kill -TERM "$C_PID" "$G_PID"
	wait "$C_PID" || return 1
	wait "$G_PID"
}
fg_check "the shims exit 0 on SIGTERM" term_ok

echo "--- rates"
printf '  %s\n' "${RATES[@]}"
echo "timing: whole self-test $((SECONDS - T_START)) s"
echo "ice-shim-selftest: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" = 0 ]
