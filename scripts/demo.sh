#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/demo.sh: fastgate's main job on an embedded default. Builds if needed, creates a
# throw-away topology in network namespaces (a wireguard-go client, a LAN, the gateway
# namespace where fastgate-dataplane drives a veth through DPDK's net_af_packet, and a
# resource behind the gateway's TUN), starts the test portal and fastgate-controlplane,
# has the portal authorize the client for the resource, downloads a file over HTTP through
# the tunnel, prints fastgatectl, `wg show` and the counters, revokes the authorization, and
# removes everything on exit (or Ctrl-C). Needs root.
#
# usage: scripts/demo.sh [--size MB] [--hold]   (--hold: keep running until Ctrl-C)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE_MB=50
HOLD=0
while [ $# -gt 0 ]; do
	case $1 in
	--size) SIZE_MB=$2; shift 2 ;;
	--hold) HOLD=1; shift ;;
	-h | --help) sed -n '3,12p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (namespaces, TUN, AF_PACKET)" >&2; exit 1; }
"$ROOT/scripts/build.sh" "$ROOT/build" >/dev/null
FG_BUILD=$ROOT/build
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$ROOT/tests/e2e/topo.sh"
# shellcheck source=tests/e2e/cp.sh
. "$ROOT/tests/e2e/cp.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Topology (namespaces of this run, removed on exit)"
TOPO_STATIC_PEER=0 topo_up
cat <<TXT
  client   $NS_C1: wireguard-go $WG_C1, tunnel 100.64.0.2, LAN 198.18.1.2
  LAN      $NS_L: a bridge
  gateway  $NS_G: fastgate-dataplane on net_af_packet(gx), uplink 198.18.1.1:51820,
           TUN $GW_TUN 100.64.0.1 -> kernel routing -> 198.18.2.1
  resource $NS_R: HTTP server on 198.18.2.2:8080
TXT

say "Host set-up in the gateway namespace, as Firezone's init script does: forwarding + masquerade"
# The resource gets no route back to 100.64.0.0/11: replies find the client through the
# masquerade on the gateway host, exactly as on a real gateway.
ip -n "$NS_R" route del 100.64.0.0/11 via 198.18.2.1
ip netns exec "$NS_G" nft -f - <<NFT
table ip fastgate_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 100.64.0.0/11 oifname "gr" masquerade
	}
}
NFT
echo "  sysctl net.ipv4.ip_forward=1; nft: ip saddr 100.64.0.0/11 oifname gr masquerade"

say "Starting fastgate-dataplane (log: $GW_LOG)"
gw_start
grep -E 'fastgate\.(main|port)' "$GW_LOG" | sed 's/^/  /'

say "Starting the test portal and fastgate-controlplane (log: $FG_WORK/cp1.log)"
cp_setup
portal_start
cp_start
joined || fg_fail "the control plane did not join the portal"
grep -E 'fastgate\.(cp|portal|gateway)' "$CPLOG" | sed 's/^/  /'

say "Starting the wireguard-go client and the resource's HTTP server"
client_up 1
mkdir -p "$FG_WORK/www"
head -c $((SIZE_MB * 1000000)) /dev/urandom >"$FG_WORK/www/blob"
fg_bg "$FG_WORK/http.log" ip netns exec "$NS_R" /usr/bin/python3 -m http.server 8080 --bind 198.18.2.2 \
	--directory "$FG_WORK/www"
fg_wait_for ip netns exec "$NS_R" bash -c 'exec 3<>/dev/tcp/198.18.2.2/8080' || fg_fail "HTTP server did not start"

say "Before any authorization the gateway refuses the client"
ip netns exec "$NS_C1" ping -c 1 -W 2 198.18.2.2 | sed 's/^/  /' || true

say "The portal authorizes client-1 for 198.18.2.0/24 (TCP 8080 and ICMP): create_authorization"
authorize r1 res-cidr "198.18.2.0/24" \
	'[{"protocol":"tcp","port_range_start":8080,"port_range_end":8080},{"protocol":"icmp"}]' null ||
	fg_fail "no authorization_created"
echo "  the gateway answered authorization_created {\"ref\":\"r1\"}"

say "ping through the tunnel (the first echo waits for the WireGuard handshake)"
ip netns exec "$NS_C1" ping -c 3 -i 0.3 -W 6 198.18.2.2 | sed 's/^/  /'

say "HTTP download of $SIZE_MB MB from the resource through the tunnel"
ip netns exec "$NS_C1" curl -sS -o "$FG_WORK/blob.got" \
	-w '  %{size_download} bytes in %{time_total} s = %{speed_download} bytes/s\n' http://198.18.2.2:8080/blob
if [ "$(fg_sha256 "$FG_WORK/blob.got")" = "$(fg_sha256 "$FG_WORK/www/blob")" ]; then
	echo "  SHA-256 matches"
else
	fg_fail "downloaded file differs"
fi

say "fastgatectl status / peers / resources"
ctl status | sed 's/^/  /'
echo
ctl peers | sed 's/^/  /'
echo
ctl resources | sed 's/^/  /'

say "wg show $GW_TUN   (stock wg talking to the data plane's UAPI socket)"
wg show "$GW_TUN" | sed 's/^/  /'

say "Data plane counters (SIGUSR1 -> $GW_STATS, non-zero lines)"
gw_stats_refresh
grep -v ' 0$' "$GW_STATS" | sed 's/^/  /'

say "The portal revokes the authorization (reject_access): Goodbye, and the client is cut"
reject res-cidr
sleep 0.5
ip netns exec "$NS_C1" ping -c 2 -i 0.3 -W 1 198.18.2.2 | tail -n 2 | sed 's/^/  /' || true
echo "  goodbyes sent by the data plane: $(gw_stats_refresh && gw_stat goodbyes_sent)"

if [ "$HOLD" = 1 ]; then
	say "Running; try: ip netns exec $NS_C1 ping 198.18.2.2   |   wg show $GW_TUN   (Ctrl-C to stop)"
	while fg_alive "$GW_PID"; do sleep 1; done
fi
say "Stopping (SIGTERM): the control plane closes the WebSocket with 1000; the data plane removes its TUN and sockets"
fg_stop "$CP_PID"
fg_stop "$GW_PID"
tail -n 2 "$GW_LOG" | sed 's/^/  /'
