# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/e2e/icetopo.sh: a topology for end-to-end ICE tests, sourced after lib.sh (all
# namespaces, processes and files are recorded there and removed by its trap).
#
#   G (gateway)                 I (router, forwarding)          T (coturn)
#   $ICE_GX  198.18.111.1 ---- 198.18.111.254  198.18.112.254 ---- 198.18.112.1:3478
#   (DPDK net_af_packet port:  198.18.113.254                       relays from 198.18.112.1
#    no kernel address)              |
#                              198.18.113.1 (wan)  N (NAT)  198.18.114.254 (lan) ---- C (client)
#                                                                                  198.18.114.2
#
# Every namespace reaches 198.18.0.0/15 through its router-side neighbour; none has a default
# route. The gateway's uplink is the veth end $ICE_GX in G, made for a DPDK net_af_packet port
# (IPv6 off, no kernel address): the gateway's uplink address is $ICE_GW_ADDR/24, next hop
# $ICE_GW_NEXTHOP. icetopo_gw_kernel gives that address to the kernel instead (for tests that
# run a kernel-socket stand-in gateway in G).
#
# Functions:
#   icetopo_up          namespaces NS_G NS_I NS_T NS_N NS_C (fg_name ig/ii/it/in/ic), links,
#                       addresses, routes, forwarding in I and N, coturn's config with a
#                       secret made for this run (ICE_TURN_SECRET_FILE, mode 600); then
#                       `icetopo_mode host`. Does not start coturn.
#   icetopo_gw_kernel   kernel address $ICE_GW_ADDR/24 on $ICE_GX and the route to
#                       198.18.0.0/15 via $ICE_GW_NEXTHOP in G (only where no DPDK port
#                       takes $ICE_GX).
#   icetopo_turn_start  start coturn in T (use-auth-secret, realm firezone, listening on
#                       $ICE_TURN_ADDR:$ICE_TURN_PORT, relay-ip $ICE_TURN_ADDR, relay ports
#                       49152-49999, peers allowed in 198.18.0.0/15 only, allocations at most
#                       ICE_TURN_LIFETIME s (default 120)); waits until it listens. Sets
#                       ICE_TURN_PID (recorded in FG_PIDS), log $FG_WORK/ice-coturn-<n>.log.
#                       Can be called again after icetopo_turn_stop (same secret).
#   icetopo_turn_stop   stop coturn by its PID (TERM, then KILL).
#   icetopo_creds NAME  Firezone-style relay credentials from the secret: username
#                       <expiry>:<random> in $FG_WORK/NAME.user, password
#                       base64(HMAC-SHA1(secret, username)) in $FG_WORK/NAME.pass (mode 600);
#                       also sets NAME_USER.
#   icetopo_mode MODE   switch the path between C and G while everything keeps running:
#                         host   N routes only (no NAT); I routes 198.18.114.0/24 via N: the
#                                client's host candidate is reachable from G.
#                         srflx  N masquerades 198.18.114.0/24 going out its wan (nftables
#                                table ip fgicenat); I has no route to 198.18.114.0/24.
#                         relay  srflx, and I drops UDP between 198.18.113.0/24 and
#                                198.18.111.0/24 both ways (table ip fgicedrop): client and
#                                gateway reach each other only through coturn.
#                       Each switch flushes conntrack in N and I (stale NAT mappings) when the
#                       conntrack tool exists (installed from Debian's `conntrack` if
#                       missing; otherwise a warning and no flush). Sets ICE_MODE.
#   icetopo_relay_drops UDP packets router I dropped between C's and G's sides since the
#                       last `icetopo_mode relay` (0 in the other modes).
#   icetopo_werift      make sure werift-ice 0.2.3 is installed (npm) in ICE_WERIFT_DIR
#                       (default $FG_WERIFT_DIR, else $FG_BUILD/werift-npm); returns 1 (no
#                       exit) when node/npm are missing or the install fails, so the caller
#                       may skip.
#   icetopo_shim NS LOG ARGS...   run tests/e2e/ice_shim.mjs (werift-ice) in NS with ARGS
#                       (see the shim's header), stdout+stderr in LOG; FG_LAST_PID is its PID.
#   icetopo_locals LOG [N]        the LOCAL candidate lines ("candidate:...") of gathering N
#                       (1 = the first; default: the latest GATHERED one) of a shim's log.
#   icetopo_gathered LOG          how many gatherings the shim has finished (GATHERED lines).
#
# Variables: ICE_GX ICE_GW_ADDR ICE_GW_NEXTHOP ICE_TURN_ADDR ICE_TURN_PORT ICE_NAT_WAN
# ICE_CLIENT_ADDR ICE_MODE ICE_TURN_PID ICE_TURN_SECRET_FILE ICE_WERIFT_DIR ICE_SHIM.

ICE_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ICE_SHIM=$ICE_HERE/ice_shim.mjs
ICE_GW_ADDR=198.18.111.1
ICE_GW_NEXTHOP=198.18.111.254
ICE_TURN_ADDR=198.18.112.1
ICE_TURN_PORT=3478
ICE_NAT_WAN=198.18.113.1
ICE_CLIENT_ADDR=198.18.114.2
ICE_MODE=
ICE_TURN_PID=
ICE_TURN_RUNS=0
ICE_CONNTRACK=

icetopo_up() {
	NS_G=$(fg_name ig)
	NS_I=$(fg_name ii)
	NS_T=$(fg_name it)
	NS_N=$(fg_name in)
	NS_C=$(fg_name ic)
	ICE_GX=$(fg_name igx)
	ICE_N_WAN=$(fg_name inw)
	local n
	for n in "$NS_G" "$NS_I" "$NS_T" "$NS_N" "$NS_C"; do fg_ns "$n"; done
	fg_veth --dpdk 1 "$NS_G" "$ICE_GX" - "$NS_I" "$(fg_name iig)" "$ICE_GW_NEXTHOP/24"
	fg_veth "$NS_T" "$(fg_name itt)" "$ICE_TURN_ADDR/24" "$NS_I" "$(fg_name iit)" 198.18.112.254/24
	fg_veth "$NS_N" "$ICE_N_WAN" "$ICE_NAT_WAN/24" "$NS_I" "$(fg_name iin)" 198.18.113.254/24
	fg_veth "$NS_C" "$(fg_name icc)" "$ICE_CLIENT_ADDR/24" "$NS_N" "$(fg_name inl)" 198.18.114.254/24
	ip netns exec "$NS_I" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$NS_N" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_T" route add 198.18.0.0/15 via 198.18.112.254
	ip -n "$NS_N" route add 198.18.0.0/15 via 198.18.113.254
	ip -n "$NS_C" route add 198.18.0.0/15 via 198.18.114.254

	# coturn's configuration; the secret lives in files of this run (mode 600).
	ICE_TURN_SECRET_FILE=$FG_WORK/ice-turn.secret
	(umask 077 && openssl rand -hex 24 >"$ICE_TURN_SECRET_FILE") ||
		fg_fail "icetopo_up: cannot make the TURN secret (openssl)"
	(umask 077 && cat >"$FG_WORK/ice-turnserver.conf") <<CONF
listening-ip=$ICE_TURN_ADDR
relay-ip=$ICE_TURN_ADDR
listening-port=$ICE_TURN_PORT
min-port=49152
max-port=49999
realm=firezone
server-name=firezone
use-auth-secret
static-auth-secret=$(cat "$ICE_TURN_SECRET_FILE")
max-allocate-lifetime=${ICE_TURN_LIFETIME:-120}
fingerprint
no-tls
no-dtls
no-cli
no-tcp-relay
no-rfc5780
no-stun-backward-compatibility
no-multicast-peers
denied-peer-ip=0.0.0.0-255.255.255.255
allowed-peer-ip=198.18.0.0-198.19.255.255
userdb=$FG_WORK/ice-turndb
pidfile=$FG_WORK/ice-turnserver.pid
log-file=stdout
simple-log
$([ "${ICE_TURN_VERBOSE:-1}" = 1 ] && echo verbose)
CONF
	icetopo_mode host
}

icetopo_gw_kernel() {
	ip -n "$NS_G" addr add "$ICE_GW_ADDR/24" dev "$ICE_GX"
	ip -n "$NS_G" route add 198.18.0.0/15 via "$ICE_GW_NEXTHOP"
}

# --- coturn ----------------------------------------------------------------------------------

icetopo__turn_listening() {
	ip netns exec "$NS_T" ss -Hlun "sport = :$ICE_TURN_PORT" | grep -q .
}

icetopo_turn_start() {
	if ! command -v turnserver >/dev/null; then
		fg_log "installing coturn"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q coturn >/dev/null ||
			fg_fail "apt-get install coturn failed"
	fi
	[ -z "$ICE_TURN_PID" ] || ! fg_alive "$ICE_TURN_PID" ||
		fg_fail "icetopo_turn_start: coturn runs already (pid $ICE_TURN_PID)"
	ICE_TURN_RUNS=$((ICE_TURN_RUNS + 1))
	fg_bg "$FG_WORK/ice-coturn-$ICE_TURN_RUNS.log" \
		ip netns exec "$NS_T" turnserver -c "$FG_WORK/ice-turnserver.conf"
	ICE_TURN_PID=$FG_LAST_PID
	if ! fg_wait_for -t 20 icetopo__turn_listening; then
		tail -n 20 "$FG_WORK/ice-coturn-$ICE_TURN_RUNS.log" >&2
		fg_fail "coturn does not listen on $ICE_TURN_ADDR:$ICE_TURN_PORT"
	fi
	fg_alive "$ICE_TURN_PID" || fg_fail "coturn exited (log $FG_WORK/ice-coturn-$ICE_TURN_RUNS.log)"
}

icetopo_turn_stop() {
	[ -n "$ICE_TURN_PID" ] || return 0
	fg_stop "$ICE_TURN_PID"
	ICE_TURN_PID=
	fg_wait_for -t 5 eval '! icetopo__turn_listening' || fg_log "warning: port $ICE_TURN_PORT still bound"
}

icetopo_creds() {
	local u
	u="$(($(date +%s) + 3600)):$(openssl rand -hex 8)"
	(umask 077 && printf '%s' "$u" >"$FG_WORK/$1.user" &&
		printf '%s' "$u" | openssl dgst -sha1 -hmac "$(cat "$ICE_TURN_SECRET_FILE")" -binary |
		base64 >"$FG_WORK/$1.pass") || fg_fail "icetopo_creds: openssl failed"
	printf -v "$1_USER" '%s' "$u"
}

# --- path modes --------------------------------------------------------------------------------

icetopo__nft_del() { # NS TABLE: delete an ip table if it exists
	if ip netns exec "$1" nft list table ip "$2" >/dev/null 2>&1; then
		ip netns exec "$1" nft delete table ip "$2"
	fi
}

icetopo__flush_conntrack() {
	if [ -z "$ICE_CONNTRACK" ]; then
		if command -v conntrack >/dev/null; then
			ICE_CONNTRACK=1
		elif DEBIAN_FRONTEND=noninteractive apt-get install -y -q conntrack >/dev/null 2>&1 &&
			command -v conntrack >/dev/null; then
			ICE_CONNTRACK=1
		else
			ICE_CONNTRACK=0
			fg_log "warning: no conntrack tool (apt-get install conntrack failed): mode switches do not flush NAT state"
		fi
	fi
	[ "$ICE_CONNTRACK" = 1 ] || return 0
	ip netns exec "$NS_N" conntrack -F >/dev/null 2>&1 || true
	ip netns exec "$NS_I" conntrack -F >/dev/null 2>&1 || true
}

icetopo_mode() {
	local mode=$1
	case $mode in
	host | srflx | relay) ;;
	*) fg_fail "icetopo_mode: host|srflx|relay, not '$mode'" ;;
	esac
	icetopo__nft_del "$NS_N" fgicenat
	icetopo__nft_del "$NS_I" fgicedrop
	if [ "$mode" = host ]; then
		ip -n "$NS_I" route replace 198.18.114.0/24 via "$ICE_NAT_WAN"
	else
		ip -n "$NS_I" route del 198.18.114.0/24 2>/dev/null || true
		ip netns exec "$NS_N" nft -f - <<NFT || fg_fail "icetopo_mode: nft (NAT in $NS_N)"
table ip fgicenat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$ICE_N_WAN" ip saddr 198.18.114.0/24 masquerade
	}
}
NFT
	fi
	if [ "$mode" = relay ]; then
		ip netns exec "$NS_I" nft -f - <<NFT || fg_fail "icetopo_mode: nft (drop in $NS_I)"
table ip fgicedrop {
	chain forward_udp {
		type filter hook forward priority filter; policy accept;
		ip saddr 198.18.113.0/24 ip daddr 198.18.111.0/24 meta l4proto udp counter drop
		ip saddr 198.18.111.0/24 ip daddr 198.18.113.0/24 meta l4proto udp counter drop
	}
}
NFT
	fi
	icetopo__flush_conntrack
	# shellcheck disable=SC2034 # for the sourcing script
	ICE_MODE=$mode
}

icetopo_relay_drops() {
	ip netns exec "$NS_I" nft list table ip fgicedrop 2>/dev/null |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# --- werift-ice and the shim ---------------------------------------------------------------------

icetopo_werift() {
	local dir=${FG_WERIFT_DIR:-${FG_BUILD:-$ICE_HERE/../../build}/werift-npm} v
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		fg_log "icetopo_werift: node and npm are needed"
		return 1
	fi
	mkdir -p "$dir"
	ICE_WERIFT_DIR=$(cd "$dir" && pwd)
	v=$(cd "$ICE_WERIFT_DIR" && node -p 'require("werift-ice/package.json").version' 2>/dev/null) || v=
	[ "$v" = 0.2.3 ] && return 0
	fg_log "installing werift-ice@0.2.3 into $ICE_WERIFT_DIR"
	(cd "$ICE_WERIFT_DIR" && { [ -f package.json ] || npm init -y >/dev/null 2>&1; } &&
		timeout 180 npm install --no-audit --no-fund --save-exact werift-ice@0.2.3 >/dev/null 2>&1) || {
		fg_log "icetopo_werift: npm install werift-ice@0.2.3 failed (no registry?)"
		return 1
	}
}

icetopo_shim() {
	local ns=$1 log=$2
	shift 2
	[ -n "${ICE_WERIFT_DIR:-}" ] || icetopo_werift || fg_fail "icetopo_shim: no werift-ice"
	fg_bg "$log" ip netns exec "$ns" env FG_WERIFT_DIR="$ICE_WERIFT_DIR" node "$ICE_SHIM" "$@"
}

icetopo_gathered() {
	grep -c '^GATHERED ' "$1" 2>/dev/null || true
}

icetopo_locals() {
	awk -v want="${2:-0}" '
		/^GATHERED / { g++; if (want == 0 || g == want) { out = cur } cur = ""; next }
		/^LOCAL / { cur = cur substr($0, 7) "\n" }
		END { printf "%s", out }' "$1"
}
