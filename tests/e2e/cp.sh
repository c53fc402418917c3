# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/e2e/cp.sh: the test portal and fastgate-controlplane on the topology of topo.sh,
# sourced after lib.sh and topo.sh (topo_up and gw_start done). Used by the control-plane
# end-to-end test and the demo. cp_setup defines the names; portal_start and cp_start run
# the processes in the gateway namespace; authorize / reject push portal messages. The test
# machines have no user fastgate: the control plane is started with --allow-root.

cp_setup() {
	CP_BIN=${FG_CP_BIN:-$FG_BUILD/controlplane/fastgate-controlplane}
	CTL_BIN=${FG_CTL_BIN:-$FG_BUILD/controlplane/ctl/fastgatectl}
	PY=/usr/bin/python3
	PORTAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../portal" && pwd)
	C1PUB=$(cat "$FG_WORK/c1.pub")
	GWPUB=$(cat "$FG_WORK/gw.pub")
	PSK=$(cat "$FG_WORK/c1.psk")
	TOKEN="fg-test-token-$FG_ID"
	GW_UUID=$(printf '%s' "$FG_ID" | sha256sum | sed -E 's/^(.{8})(.{4})(.{3})(.{3})(.{12}).*/\1-\2-4\3-8\4-\5/')
	PSOCK=$FG_WORK/portal.sock
	CPSOCK=$FG_WORK/cp.sock
	HPORT=$((20000 + RANDOM % 20000))
}

pctl() { "$PY" "$PORTAL_DIR/portalctl.py" "$PSOCK" "$@"; }
ctl() { FASTGATE_CTL_SOCKET=$CPSOCK "$CTL_BIN" "$@"; }

# The portal's init lists the authorizations it knows of, as the real portal does after a
# reconnect (an empty list would revoke everything).
cp_write_init() {
cat >"$FG_WORK/init.json" <<JSON
{"interface":{"ipv4":"100.64.0.1","ipv6":"fd00:2021:1111::1"},
 "config":{"ipv4_masquerade_enabled":true,"ipv6_masquerade_enabled":true},
 "account_slug":"acme","relays":[],
 "authorizations":[{"client_id":"client-1","resource_id":"res-cidr","expires_at":null}],
 "flow_logs":{}}
JSON
}
NPORTAL=0
# Optional settings: PORTAL_HOST (listen address, default 127.0.0.1; "[::1]" for IPv6) and
# PORTAL_TLS_CERT / PORTAL_TLS_KEY (serve wss with that certificate and key).
portal_start() { # [PORT]
	local tls=()
	[ -z "${PORTAL_TLS_CERT:-}" ] || tls=(--tls-cert "$PORTAL_TLS_CERT" --tls-key "$PORTAL_TLS_KEY")
	rm -f "$FG_WORK/portal.port"
	[ -f "$FG_WORK/init.json" ] || cp_write_init
	NPORTAL=$((NPORTAL + 1))
	fg_bg "$FG_WORK/portal$NPORTAL.log" ip netns exec "$NS_G" "$PY" "$PORTAL_DIR/fake_portal.py" \
		--listen "${PORTAL_HOST:-127.0.0.1}:${1:-0}" --port-file "$FG_WORK/portal.port" --control "$PSOCK" \
		--token "$TOKEN" --init "$FG_WORK/init.json" ${tls[@]+"${tls[@]}"}
	PORTAL_PID=$FG_LAST_PID
	fg_wait_for [ -s "$FG_WORK/portal.port" ] || fg_fail "the test portal did not start"
	PPORT=$(cat "$FG_WORK/portal.port")
}
NCP=0
# Extra env arguments come after the defaults, so FIREZONE_API_URL=wss://... overrides the
# ws://127.0.0.1 portal; CP_ARGS (an array, optional) adds command-line options. The clients
# here are plain wireguard-go peers with a static endpoint (no ICE) and the portal names no
# relays, so the control plane confirms authorizations without a relay allocation
# (FASTGATE_WITHOUT_RELAYS=1; test_ice_relay.sh runs the Firezone rule with coturn).
cp_start() { # [extra env...]
	NCP=$((NCP + 1))
	CPLOG=$FG_WORK/cp$NCP.log
	fg_bg "$CPLOG" ip netns exec "$NS_G" env FIREZONE_TOKEN="$TOKEN" FIREZONE_ID="$GW_UUID" \
		FIREZONE_NAME="fg-e2e-$FG_ID" FIREZONE_API_URL="ws://127.0.0.1:$PPORT" \
		HEALTH_CHECK_ADDR="127.0.0.1:$HPORT" FASTGATE_ID_FILE="$FG_WORK/gateway_id" \
		FASTGATE_WITHOUT_RELAYS="${FASTGATE_WITHOUT_RELAYS:-1}" "$@" \
		"$CP_BIN" --allow-root --dataplane-socket "$GW_CTL" --ctl-socket "$CPSOCK" ${CP_ARGS[@]+"${CP_ARGS[@]}"}
	CP_PID=$FG_LAST_PID
}
joined() { # waits for the join and the capabilities that follow it
	pctl wait_for "{\"event\":\"set_snownet_capabilities\",\"since_index\":${1:-0},\"timeout\":60}" >/dev/null
}
# Optional settings: AUTH_TYPE (default cidr; dns takes a pattern such as *.corp.test as
# the address), AUTH_CLIENT (default 1: client-N with cN.pub, cN.psk, 100.64.0.(N+1) and
# fd00:2021:1111::(N+1)), AUTH_INGEST_TOKEN (flow_logs_ingest_token, default x.y.z).
authorize() { # REF RESOURCE_ID ADDRESS FILTERS_JSON EXPIRES_JSON
	local n=${AUTH_CLIENT:-1} pub=$C1PUB psk=$PSK
	if [ "$n" != 1 ]; then
		pub=$(cat "$FG_WORK/c$n.pub") && psk=$(cat "$FG_WORK/c$n.psk") || return 1
	fi
	pctl push "{\"event\":\"create_authorization\",\"payload\":{\"ref\":\"$1\",
		\"resource\":{\"id\":\"$2\",\"type\":\"${AUTH_TYPE:-cidr}\",\"address\":\"$3\",\"name\":\"res $2\",\"filters\":$4},
		\"client\":{\"id\":\"client-$n\",\"public_key\":\"$pub\",\"preshared_key\":\"$psk\",
			\"ipv4\":\"100.64.0.$((n + 1))\",\"ipv6\":\"fd00:2021:1111::$((n + 1))\",\"version\":\"1.6.0\"},
		\"gateway_ice_credentials\":{\"username\":\"ejqt\",\"password\":\"zfjrrjdkbci42t2axyd45a\"},
		\"client_ice_credentials\":{\"username\":\"hgwh\",\"password\":\"j2fqufatn7xlrrvv6fsvea\"},
		\"expires_at\":$5,\"use_iceless\":false,\"flow_logs_ingest_token\":\"${AUTH_INGEST_TOKEN:-x.y.z}\",\"subject\":{}}}" >/dev/null &&
	pctl wait_for "{\"event\":\"authorization_created\",\"match\":{\"ref\":\"$1\"},\"timeout\":30}" >/dev/null
}
reject() { # RESOURCE_ID [CLIENT_N]
	pctl push "{\"event\":\"reject_access\",\"payload\":{\"client_id\":\"client-${2:-1}\",\"resource_id\":\"$1\"}}" >/dev/null
}
client_restart_session() { # the client drops its session (as a Firezone client does on Goodbye)
	wg set "$WG_C1" peer "$GWPUB" remove
	wg set "$WG_C1" peer "$GWPUB" preshared-key "$FG_WORK/c1.psk" endpoint "$GW_ADDR:51820" allowed-ips "$CLIENT_ALLOWED"
}
