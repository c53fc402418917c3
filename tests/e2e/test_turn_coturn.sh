#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end, interop: fastgate's TURN client (controlplane/relay, driven over a kernel UDP
# socket by tests/interop/turn_client.c) against coturn from Debian, with Firezone-style
# credentials: coturn runs `use-auth-secret` with a secret made for this run, and the
# "portal" (this script) hands the client username `<expiry>:<random>` and password
# base64(HMAC-SHA1(secret, username)).
#
#   client (turn_client on :51820) --198.18.91.0/24-- relay (coturn :3478, relays from
#   198.18.92.1) --198.18.92.0/24-- peer (coturn's turnutils_peer, a UDP echo)
#
# The relay namespace does not forward, so the client reaches the peer only through coturn.
# Checks: BINDING gives the client's address as coturn sees it (past an SNAT in the client's
# namespace that moves :51820 to :40000); ALLOCATE is answered 401,
# then the authenticated ALLOCATE gives a relayed address; REFRESH comes before the expiry
# (coturn's max-allocate-lifetime is short); CHANNEL-BIND to the peer, ChannelData echoed
# byte-exact at several sizes; coturn restarted (killed by PID, started again with the same
# secret): the client sees the allocation gone and allocates again, data flows again; new
# credentials from a "portal update": the old allocation released (REFRESH lifetime 0) and
# a new one made; a wrong password fails cleanly; no ERROR in the client's logs.
# Prints PASS/FAIL lines and "e2e-turn-coturn: N passed, N failed". Needs root.
# usage: test_turn_coturn.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FG_BUILD=${FG_BUILD:-$ROOT/build}
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
fg_require_root

DRV=$FG_BUILD/tests/unit/relay/turn_client
[ -x "$DRV" ] || fg_fail "build first: no $DRV"
if ! command -v turnserver >/dev/null || ! command -v turnutils_peer >/dev/null; then
	fg_log "installing coturn"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q coturn >/dev/null ||
		fg_fail "apt-get install coturn failed"
fi
fg_need turnserver turnutils_peer openssl ss base64 nft

LIFETIME=16                     # coturn's max-allocate-lifetime: REFRESH every 8 s
NS_C=$(fg_name tc)
NS_R=$(fg_name tr)
NS_P=$(fg_name tp)
CLIENT=198.18.91.2
RELAY=198.18.91.1
RELAYED_IP=198.18.92.1
PEER_IP=198.18.92.2
PEER=$PEER_IP:7000
W=$FG_WORK
SECRET=$(openssl rand -hex 24)
T_START=$SECONDS

fg_ns "$NS_C"
fg_ns "$NS_R"
fg_ns "$NS_P"
fg_veth "$NS_C" "$(fg_name c0)" "$CLIENT/24" "$NS_R" "$(fg_name r0)" "$RELAY/24"
fg_veth "$NS_R" "$(fg_name r1)" "$RELAYED_IP/24" "$NS_P" "$(fg_name p0)" "$PEER_IP/24"
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=0
# A NAT in front of the client's WireGuard port: coturn sees :51820 as :$NAT_PORT, so the
# server-reflexive address can only have come from coturn.
NAT_PORT=40000
ip netns exec "$NS_C" nft -f - <<NFT || fg_fail "nft: cannot set up the client's SNAT"
table ip fgturn {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr $CLIENT udp sport 51820 snat to $CLIENT:$NAT_PORT
	}
}
NFT

# --- coturn --------------------------------------------------------------------------------
# Secrets live in files of this run's work directory (mode 600), never on a command line.
umask 077
cat >"$W/turnserver.conf" <<CONF
listening-ip=$RELAY
relay-ip=$RELAYED_IP
listening-port=3478
min-port=49152
max-port=49252
realm=firezone
server-name=firezone
use-auth-secret
static-auth-secret=$SECRET
max-allocate-lifetime=$LIFETIME
fingerprint
no-tls
no-dtls
no-cli
no-tcp-relay
no-rfc5780
no-stun-backward-compatibility
no-multicast-peers
denied-peer-ip=0.0.0.0-255.255.255.255
allowed-peer-ip=$PEER_IP
userdb=$W/turndb
pidfile=$W/turnserver.pid
log-file=stdout
simple-log
verbose
CONF
TURN_PID=
TURN_RUNS=0
turn_listening() { ip netns exec "$NS_R" ss -Hlun "sport = :3478" | grep -q .; }
turn_start() {
	TURN_RUNS=$((TURN_RUNS + 1))
	fg_bg "$W/coturn-$TURN_RUNS.log" ip netns exec "$NS_R" turnserver -c "$W/turnserver.conf"
	TURN_PID=$FG_LAST_PID
	fg_wait_for -t 20 turn_listening || {
		tail -n 20 "$W/coturn-$TURN_RUNS.log" >&2
		fg_fail "coturn does not listen on $RELAY:3478"
	}
}

# The portal's credentials for a relay: username <expiry>:<random>, password
# base64(HMAC-SHA1(secret, username)) (coturn's REST API scheme, as Firezone's portal).
creds() { # creds NAME: sets NAME_USER and writes $W/NAME.pass
	local u
	u="$(($(date +%s) + 3600)):$(openssl rand -hex 8)"
	printf '%s' "$u" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64 >"$W/$1.pass"
	printf -v "$1_USER" '%s' "$u"
}

# --- the driver ----------------------------------------------------------------------------
# Commands go to its stdin through a FIFO held open here (fd 7, read-write: no EOF, no
# SIGPIPE); each prints "ok NAME" when done, "FAIL: ..." and exits 1 at its deadline.
DRV_PID=
DRV_LOG=
DRV_OKS=0
drv_start() { # drv_start NAME PORT USER PASSFILE
	local fifo=$W/$1.ctl
	DRV_LOG=$W/$1.log
	DRV_OKS=0
	mkfifo "$fifo"
	exec 7<>"$fifo"
	ip netns exec "$NS_C" "$DRV" --local "$CLIENT:$2" --relay "$RELAY:3478" --user "$3" \
		--password-file "$4" <"$fifo" >"$DRV_LOG" 2>&1 7>&- &
	DRV_PID=$!
	FG_PIDS+=("$DRV_PID")
}
drv_oks() { grep -c '^\[ *[0-9.]*\] ok ' "$DRV_LOG" || true; }
drv() { # drv CMD...: one command, until done (false if the driver failed or exited)
	local want=$((DRV_OKS + 1)) end=$((SECONDS + 120))
	printf '%s\n' "$*" >&7
	while [ "$(drv_oks)" -lt "$want" ]; do
		if ! fg_alive "$DRV_PID" || [ "$SECONDS" -ge "$end" ]; then
			grep '^FAIL' "$DRV_LOG" >&2 || true
			return 1
		fi
		sleep 0.1
	done
	DRV_OKS=$want
}
drv_stop() { # quit, and the exit status must be 0
	local st=0
	drv quit || true
	wait "$DRV_PID" || st=$?
	exec 7>&-
	[ "$st" = 0 ] || fg_log "turn_client exited $st"
	return "$st"
}
has() { grep -E -q -- "$1" "$DRV_LOG"; }
# has_after A B: a line matching B comes after the first line matching A.
has_after() { awk -v a="$1" -v b="$2" '!s && $0 ~ a { s = 1; next } s && $0 ~ b { f = 1 } END { exit !f }' "$DRV_LOG"; }

fg_bg "$W/peer.log" ip netns exec "$NS_P" turnutils_peer -L "$PEER_IP" -p 7000
peer_listening() { ip netns exec "$NS_P" ss -Hlun "sport = :7000" | grep -q .; }
fg_wait_for -t 10 peer_listening || fg_fail "turnutils_peer does not listen on $PEER"
turn_start
T_UP=$SECONDS

# --- 1. BINDING, ALLOCATE with 401, REFRESH ---------------------------------------------------
creds A
drv_start main 51820 "$A_USER" "$W/A.pass"
drv timeout 30 || true
srflx_ok() { drv wait allocations 1 && has "\] srflx $CLIENT:$NAT_PORT$"; }
fg_check "BINDING: srflx $CLIENT:$NAT_PORT, the client's :51820 as coturn sees it past the NAT" srflx_ok
alloc_ok() {
	has_after 'tx ALLOCATE$' 'rx ALLOCATE error 401 ' &&
		has_after 'rx ALLOCATE error 401 ' 'tx ALLOCATE \(authenticated\)' &&
		has "\] relayed $RELAYED_IP:[0-9]+$"
}
fg_check "ALLOCATE -> 401 (realm, nonce) -> authenticated ALLOCATE -> relayed $RELAYED_IP:port" alloc_ok
refresh_ok() {
	local left
	drv timeout $((LIFETIME + 10)) && drv wait refreshes 1 && drv timeout 30 || return 1
	left=$(grep -E -o 'refreshed: lifetime [0-9]+ s, -?[0-9.]+ s before' "$DRV_LOG" | head -n1 |
		awk '{ print $5 }')
	echo "  first REFRESH ${left}s before expiry (lifetime $LIFETIME s)"
	awk -v l="$left" 'BEGIN { exit !(l > 0) }' && ! has 'allocation lost' &&
		grep -q "refreshed, .*lifetime=$LIFETIME$" "$W/coturn-1.log"
}
fg_check "REFRESH before the ${LIFETIME}s lifetime runs out, allocation kept" refresh_ok

# --- 2. CHANNEL-BIND and ChannelData through coturn --------------------------------------------
SIZES="1 3 4 5 148 1000 1400"
chan_ok() { drv bind "$PEER" && has "channel 0x4[0-9a-f]{3} bound to $PEER$"; }
fg_check "CHANNEL-BIND to the echo peer $PEER" chan_ok
echo_ok() { # echo_ok: every size comes back byte-exact; sizes counted since the last mark
	local before after
	before=$(grep -c 'data echoed' "$DRV_LOG" || true)
	drv echo "$PEER" "$SIZES" || return 1
	after=$(grep -c 'data echoed' "$DRV_LOG" || true)
	[ $((after - before)) -eq "$(wc -w <<<"$SIZES")" ]
}
fg_check "ChannelData echoed byte-exact through the relay ($SIZES bytes)" echo_ok
chan_echo_ok() { chan_ok && echo_ok; }
# fg_check_log_no_errors exits on a hit: in a subshell, it fails the check instead.
no_errors() { (fg_check_log_no_errors "$1"); }

# --- 3. coturn restarted ---------------------------------------------------------------------
T0=$SECONDS
fg_stop "$TURN_PID"
turn_start
restart_ok() {
	drv timeout 45 && drv wait lost 1 && drv wait allocations 2 && drv timeout 30 || return 1
	has_after 'allocation lost' "\] reallocated, relayed $RELAYED_IP:[0-9]+$" &&
		{ has 'rx REFRESH error 437' || has 'no answer'; }
}
fg_check "coturn restarted: allocation lost (REFRESH 437), allocated again" restart_ok
echo "  noticed and allocated again $((SECONDS - T0)) s after the restart"
fg_check "after the restart: channel bound again, data echoed" chan_echo_ok

# --- 4. new credentials from a portal update ------------------------------------------------
creds B
newcreds_ok() {
	drv creds "$B_USER" "$(cat "$W/B.pass")" && drv wait deletes 1 && drv wait allocations 3 ||
		return 1
	has_after 'portal update: new credentials' 'tx REFRESH lifetime=0 \(authenticated\)' &&
		has_after 'released the old allocation' '\] reallocated, relayed' &&
		grep -q "new, realm=<firezone>, username=<$B_USER>" "$W/coturn-$TURN_RUNS.log" &&
		! has 'rx REFRESH error 441'
}
fg_check "new credentials: old allocation released (REFRESH lifetime 0), new one made" newcreds_ok
fg_check "with the new credentials: channel bound, data echoed" chan_echo_ok
drv state || true
fg_check "the client exits cleanly" drv_stop
MAIN_LOG=$DRV_LOG
fg_check "no ERROR in the client's log" no_errors "$MAIN_LOG"

# --- 5. wrong password -------------------------------------------------------------------------
creds C
printf 'not-the-password\n' >"$W/C.pass"
drv_start wrong 51821 "$C_USER" "$W/C.pass"
wrong_ok() {
	drv wait failed 1 && has 'allocation failed: credentials refused \(401\)' &&
		has 'WARN relay: relay coturn: giving up: credentials refused' && ! has '\] relayed '
}
fg_check "wrong password: ALLOCATE refused (401), the relay given up with a clear warning" wrong_ok
fg_check "wrong password: the client exits cleanly" drv_stop
fg_check "wrong password: no ERROR in the client's log" no_errors "$DRV_LOG"

fg_check "coturn still running" fg_alive "$TURN_PID"
echo "--- turn_client (main) observations"
grep -v -E '\] (tx|rx) ' "$MAIN_LOG" | sed 's/^/    /'
echo "timing: coturn up after $((T_UP - T_START)) s, whole test $((SECONDS - T_START)) s"
echo "e2e-turn-coturn: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" = 0 ]
