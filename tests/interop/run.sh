#!/bin/bash
# SPDX-License-Identifier: MIT
# Interop proof of fastgate's WireGuard core (dataplane/wg) against a real wireguard-go.
# Usage: run.sh PATH/TO/wg_udp_peer   (builds nothing; meson passes the binary)
#
# Two namespaces joined by a veth (198.18.77.0/24): wireguard-go in "a" with tunnel
# address 100.64.0.1, wg_udp_peer (our core over a kernel UDP socket) in "b" as
# 100.64.0.2. Checks, in order:
#   1. wireguard-go initiates: `ping` from a to 100.64.0.2 succeeds (our responder
#      answers every echo request inside the tunnel);
#   2. we initiate: wg_udp_peer completes a handshake with wireguard-go, pings
#      100.64.0.1 through it and gets the replies;
#   3. negative control: with a wrong PSK our initiator must NOT get through;
#   4. cookies: our responder, acting as if under load, answers wireguard-go's
#      initiation with a cookie reply; wireguard-go's retry must carry a mac2 we accept;
#   5. the other way: decoy initiations put wireguard-go under load, it answers ours
#      with a cookie reply, we consume it and our retry with mac2 gets through.
# Needs root, ip, wireguard-go and wg; exits 77 (meson: skipped) without them.
# Names carry $$ so parallel runs do not collide; everything is removed by the EXIT trap
# and processes are killed by their recorded PIDs only.
set -u

BIN=${1:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "usage: $0 PATH/TO/wg_udp_peer" >&2
	exit 2
fi
BIN=$(readlink -f "$BIN")
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: wg-interop needs root (network namespaces)"
	exit 77
fi
for c in ip wg wireguard-go ping; do
	if ! command -v "$c" >/dev/null; then
		echo "SKIP: wg-interop needs $c"
		exit 77
	fi
done

NSA=fgwgia$$
NSB=fgwgib$$
IFA=fgwga$$          # wireguard-go's interface: unique machine-wide (UAPI socket path)
VA=fgva$$
VB=fgvb$$
LINK_A=198.18.77.1
LINK_B=198.18.77.2
TUN_A=100.64.0.1
TUN_B=100.64.0.2
WG_PORT=51820
FLOODS=${FG_WG_INTEROP_FLOODS:-2000 6000 15000}   # decoys per initiation, check 5
WORK=$(mktemp -d /tmp/fg-wg-interop.XXXXXX)
PIDS=()
NSS=()
FAILED=0

cleanup() {
	local p n
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
	for n in "${NSS[@]:-}"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM   # so that a timeout (SIGTERM from meson) still cleans up

log() { printf '[wg-interop] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; FAILED=1; }
dump() { log "--- $1"; sed 's/^/    /' "$2" >&2 || true; }

mkns() {
	ip netns add "$1" || exit 1
	NSS+=("$1")
	ip -n "$1" link set lo up
}

mkns "$NSA"
mkns "$NSB"
ip link add "$VA" netns "$NSA" type veth peer name "$VB" netns "$NSB" || exit 1
ip -n "$NSA" addr add "$LINK_A/24" dev "$VA"
ip -n "$NSB" addr add "$LINK_B/24" dev "$VB"
ip -n "$NSA" link set "$VA" up
ip -n "$NSB" link set "$VB" up

umask 077
wg genkey >"$WORK/a.key"; wg pubkey <"$WORK/a.key" >"$WORK/a.pub"
wg genkey >"$WORK/b.key"; wg pubkey <"$WORK/b.key" >"$WORK/b.pub"
wg genpsk >"$WORK/psk"
wg genpsk >"$WORK/wrong.psk"
A_PUB=$(cat "$WORK/a.pub")
B_PUB=$(cat "$WORK/b.pub")

ip netns exec "$NSA" wireguard-go -f "$IFA" >"$WORK/wg-go.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "/var/run/wireguard/$IFA.sock" ] && break; sleep 0.1; done
if [ ! -S "/var/run/wireguard/$IFA.sock" ]; then
	dump wireguard-go "$WORK/wg-go.log"
	echo "FAIL: wg-interop: wireguard-go did not start"
	exit 1
fi
wg set "$IFA" listen-port "$WG_PORT" private-key "$WORK/a.key" \
	peer "$B_PUB" preshared-key "$WORK/psk" endpoint "$LINK_B:51900" allowed-ips "$TUN_B/32"
ip -n "$NSA" addr add "$TUN_A/32" peer "$TUN_B/32" dev "$IFA"
ip -n "$NSA" link set "$IFA" mtu 1420 up

peer() { # peer LOG ARGS... : run wg_udp_peer in namespace b, in the background
	local logf=$1; shift
	ip netns exec "$NSB" "$BIN" --private-key-file "$WORK/b.key" --peer-public "$A_PUB" \
		--address "$TUN_B" --peer-address "$TUN_A" "$@" >"$logf" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

# 1. wireguard-go initiates, we respond.
log "1/5 wireguard-go -> wg_udp_peer (we are the responder)"
peer "$WORK/resp.log" --mode responder --listen "$LINK_B:51900" --psk-file "$WORK/psk" \
	--count 3 --timeout 30
RESP_PID=$LAST_PID
sleep 0.2
if ip netns exec "$NSA" ping -c 3 -i 0.3 -W 6 "$TUN_B" >"$WORK/ping.log" 2>&1; then
	log "ping through wireguard-go to our responder: ok"
else
	fail "ping from wireguard-go's side got no replies"
	dump ping "$WORK/ping.log"
fi
if wait "$RESP_PID"; then
	log "responder: $(tail -n1 "$WORK/resp.log")"
else
	fail "responder did not answer 3 echo requests"
fi
dump "wg_udp_peer (responder)" "$WORK/resp.log"

# 2. we initiate to wireguard-go.
log "2/5 wg_udp_peer -> wireguard-go (we are the initiator)"
peer "$WORK/init.log" --mode initiator --listen "$LINK_B:51901" \
	--endpoint "$LINK_A:$WG_PORT" --psk-file "$WORK/psk" --count 3 --timeout 20
if wait "$LAST_PID"; then
	log "initiator: $(tail -n1 "$WORK/init.log")"
else
	fail "our initiator got no echo replies through wireguard-go"
fi
dump "wg_udp_peer (initiator)" "$WORK/init.log"
ENDPOINT=$(wg show "$IFA" endpoints | awk '{print $2}')
if [ "$ENDPOINT" != "$LINK_B:51901" ]; then
	fail "wireguard-go did not learn our initiator's endpoint (has '$ENDPOINT')"
fi

# 3. negative control: a wrong PSK must not get through.
log "3/5 negative control: initiator with the wrong PSK"
peer "$WORK/neg.log" --mode initiator --listen "$LINK_B:51902" \
	--endpoint "$LINK_A:$WG_PORT" --psk-file "$WORK/wrong.psk" --count 1 --timeout 3
if wait "$LAST_PID"; then
	fail "an initiator with the wrong PSK got through"
	dump "wg_udp_peer (wrong psk)" "$WORK/neg.log"
elif ! grep -q 'response refused' "$WORK/neg.log"; then
	fail "wrong-PSK run failed for another reason than a refused response"
	dump "wg_udp_peer (wrong psk)" "$WORK/neg.log"
else
	log "wrong PSK refused: ok"
fi

# 4. we are a responder under load: wireguard-go must consume our cookie reply and come
#    back with a valid mac2 (its retry comes after its 5 s rekey timeout).
log "4/5 cookie: our responder demands mac2; wireguard-go must use our cookie"
wg set "$IFA" peer "$B_PUB" remove
wg set "$IFA" peer "$B_PUB" preshared-key "$WORK/psk" endpoint "$LINK_B:51903" \
	allowed-ips "$TUN_B/32"
peer "$WORK/load.log" --mode responder --listen "$LINK_B:51903" --psk-file "$WORK/psk" \
	--under-load --count 2 --timeout 25
LOAD_PID=$LAST_PID
sleep 0.2
if ! ip netns exec "$NSA" ping -c 2 -i 0.5 -w 20 "$TUN_B" >"$WORK/ping2.log" 2>&1; then
	fail "ping through the cookie exchange got no replies"
	dump ping "$WORK/ping2.log"
fi
if ! wait "$LOAD_PID"; then
	fail "responder under load did not answer 2 echo requests"
elif ! grep -q 'sent cookie reply' "$WORK/load.log" ||
	! grep -q 'initiation with valid mac2' "$WORK/load.log"; then
	fail "the handshake under load did not go through cookie reply + mac2"
else
	log "wireguard-go consumed our cookie reply and sent a valid mac2: ok"
fi
dump "wg_udp_peer (under load)" "$WORK/load.log"

# 5. wireguard-go under load: we flood it with decoy initiations (valid mac1, garbage
#    inside) right before ours, so it answers ours with a cookie reply; we must consume
#    it and come back with a mac2 that wireguard-go accepts. Whether a flood of a given
#    size loads wireguard-go depends on the machine's speed, so an attempt whose
#    handshake went through without a cookie is repeated with a bigger flood.
log "5/5 cookie: wireguard-go under load sends us a cookie reply"
COOKIE_OK=0
for FLOOD in $FLOODS; do
	wg set "$IFA" peer "$B_PUB" remove
	wg set "$IFA" peer "$B_PUB" preshared-key "$WORK/psk" allowed-ips "$TUN_B/32"
	peer "$WORK/flood.log" --mode initiator --listen "$LINK_B:51904" \
		--endpoint "$LINK_A:$WG_PORT" --psk-file "$WORK/psk" --flood "$FLOOD" \
		--count 2 --timeout 20
	if ! wait "$LAST_PID"; then
		fail "our initiator did not get through wireguard-go under load (flood $FLOOD)"
		break
	fi
	if grep -q 'cookie reply stored' "$WORK/flood.log" &&
		grep -q 'sent initiation with mac2' "$WORK/flood.log"; then
		COOKIE_OK=1
		log "flood $FLOOD: consumed wireguard-go's cookie reply, our mac2 was accepted: ok"
		break
	fi
	log "flood $FLOOD did not put wireguard-go under load (no cookie reply); more"
done
dump "wg_udp_peer (flooding initiator)" "$WORK/flood.log"
if [ "$FAILED" = 0 ] && [ "$COOKIE_OK" != 1 ]; then
	fail "wireguard-go never sent us a cookie reply (floods: $FLOODS)"
fi

if [ "$FAILED" != 0 ]; then
	dump wireguard-go "$WORK/wg-go.log"
	echo "FAIL: wg-interop"
	exit 1
fi
echo "PASS: wg-interop (wireguard-go <-> fastgate core, both directions)"
exit 0
