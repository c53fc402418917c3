#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: fastgate-controlplane logs in to the test portal over wss (issue 8, point 2).
# The test makes a throw-away CA and certificates; the gateway namespace resolves the name
# portal.test to 127.0.0.1 through /etc/netns/<ns>/hosts, which `ip netns exec` mounts over
# /etc/hosts. Checks: login through a private CA (--ca-file, FASTGATE_CA_FILE) with no
# Origin header and the portal's name as Host; OpenSSL's default trust store (here pointed
# at the test CA with SSL_CERT_FILE) is used without a CA file; a wrong CA and a wrong host
# name are refused with a WARN naming the cause, retried every second before the first
# join and given up after 15 s as the Rust gateway does, and retried with exponential
# back-off (no exit) after a join; an IPv6-literal URL gets "Host: [::1]" and its address
# is checked against the certificate. No ERROR or WARN in the successful scenarios.
# Prints PASS/FAIL lines and "e2e-portal-tls: N passed, N failed". Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root
fg_need openssl
# shellcheck source=tests/e2e/cp.sh
. "$HERE/cp.sh"

check() { fg_check "$@"; }

# The hosts file of the gateway namespace: ours alone (the namespace name is unique), removed
# on exit after the namespaces.
ETC_NETNS=
on_exit() {
	local rc=$?
	set +e
	fg_cleanup
	[ -z "$ETC_NETNS" ] || rm -rf -- "$ETC_NETNS"
	exit "$rc"
}
trap on_exit EXIT

TOPO_STATIC_PEER=0 topo_up
ETC_NETNS=/etc/netns/$NS_G
[ ! -e "$ETC_NETNS" ] || { ETC_NETNS=; fg_fail "/etc/netns/$NS_G exists: another run's?"; }
mkdir -p "$ETC_NETNS"
printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.1 portal.test\n' >"$ETC_NETNS/hosts"
FG_AEAD=libsodium gw_start
cp_setup
[ -x "$CP_BIN" ] || fg_fail "build first: no $CP_BIN"

# --- a throw-away PKI: two CAs, a certificate for portal.test and ::1, one for other.test ---
PKI=$FG_WORK/pki
mkdir -p "$PKI"
mkca() { # NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=fastgate test CA $1 $FG_ID" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$PKI/$1.key" -out "$PKI/$1.pem" 2>/dev/null
}
mkcert() { # NAME CA SAN
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
		-keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$PKI/$1.ext" &&
	openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.pem" -CAkey "$PKI/$2.key" -set_serial "$RANDOM$RANDOM" \
		-days 1 -extfile "$PKI/$1.ext" -out "$PKI/$1.pem" 2>/dev/null
}
if ! { mkca ca && mkca otherca && mkcert portal ca "DNS:portal.test,IP:::1" && mkcert other ca "DNS:other.test"; }; then
	fg_fail "openssl could not make the test certificates"
fi
chmod 644 "$PKI"/*.pem

# --- helpers ----------------------------------------------------------------------------------
tls_portal() { # CERT [PORT]: a wss portal with that certificate (and key)
	PORTAL_TLS_CERT=$PKI/$1.pem PORTAL_TLS_KEY=$PKI/$1.key portal_start "${2:-0}"
}
no_warn() { # LOG: no WARN or ERROR line
	local hits
	hits=$(grep -E '^[^ ]+ +(WARN|ERROR) ' "$1" | head -5) || true
	[ -z "$hits" ] || { printf '%s\n' "$hits" | sed 's/^/  /'; return 1; }
}
handshake() { # PY-EXPR on h (the last upgrade request the portal saw)
	pctl status | "$PY" -c "import json, sys; h = json.load(sys.stdin)['last_handshake'] or {}
print('  headers seen:', {k: v for k, v in h.get('headers', {}).items() if k != 'x-authorization'})
sys.exit(0 if ($1) else 1)"
}
retries() { # LOG CAUSE: how many reconnects the log shows for that cause
	grep -c "portal: TLS certificate verify failed: $2.*; reconnecting in" "$1" || true
}
refused_and_retrying() { # LOG CAUSE: WARN names the cause, >= 3 retries, still running
	local warn
	fg_wait_for -t 8 bash -c "[ \$(grep -c 'portal: TLS certificate verify failed: $2.*; reconnecting in' '$1') -ge 3 ]" ||
		return 1
	warn=$(grep -E "^[^ ]+ +WARN fastgate.portal: portal .* refused: TLS certificate verify failed: $2" "$1" | head -1) ||
		return 1
	echo "  $warn"
	fg_alive "$CP_PID" &&
		pctl status | "$PY" -c 'import json, sys; sys.exit(json.load(sys.stdin)["attempts"] != 0)'
}
stop_all() {
	fg_stop "$CP_PID" "$PORTAL_PID"
}

# --- 1. a private CA with FASTGATE_CA_FILE: login, no Origin, Host is the portal's name --------
tls_portal portal
cp_start FIREZONE_API_URL="wss://portal.test:$PPORT" FASTGATE_CA_FILE="$PKI/ca.pem"
check "wss login through a private CA (FASTGATE_CA_FILE)" joined
check "the upgrade has no Origin header and Host: portal.test" \
	handshake "'origin' not in h['headers'] and h['headers'].get('host') == 'portal.test' and h['result'] == 'accept'"
check "fastgatectl status shows the wss URL, connected" \
	bash -c "FASTGATE_CTL_SOCKET=$CPSOCK $CTL_BIN --json status | grep -q 'wss://portal.test:$PPORT/gateway/v2/websocket'"
stop_all
check "no WARN or ERROR in the control plane's log (private CA)" no_warn "$CPLOG"

# --- 2. no CA file: OpenSSL's default trust store (SSL_CERT_FILE points it at the test CA) -----
tls_portal portal
cp_start FIREZONE_API_URL="wss://portal.test:$PPORT" SSL_CERT_FILE="$PKI/ca.pem"
check "without a CA file the default trust store is used (SSL_CERT_FILE)" joined
stop_all
check "no WARN or ERROR in the control plane's log (default store)" no_warn "$CPLOG"

# --- 3. a wrong CA (--ca-file): refused, retried every second, given up after 15 s -------------
tls_portal portal
CP_ARGS=(--ca-file "$PKI/otherca.pem")
cp_start FIREZONE_API_URL="wss://portal.test:$PPORT"
CP_ARGS=()
check "wrong CA: refused with a WARN naming the cause, retried (>= 3), still running" \
	refused_and_retrying "$CPLOG" "unable to get local issuer certificate"
gave_up() { # before any join the Rust gateway retries every second for 15 s, then exits 1
	local st=0
	fg_wait_for -t 20 bash -c "! kill -0 $CP_PID 2>/dev/null || grep -q '^State:.*zombie' /proc/$CP_PID/status" || return 1
	wait "$CP_PID" || st=$?
	echo "  exit $st after $(retries "$CPLOG" "unable to get local issuer certificate") retries"
	[ "$st" = 1 ] && grep -q "gave up reconnecting to the portal (last error: TLS certificate verify failed: unable to get local issuer certificate" "$CPLOG" &&
		[ "$(retries "$CPLOG" "unable to get local issuer certificate")" -ge 10 ]
}
check "wrong CA before any join: retried every second for 15 s, then gave up (exit 1), as Rust" gave_up
stop_all

# --- 4. a certificate for another name: refused with "hostname mismatch", retried -------------
tls_portal other
cp_start FIREZONE_API_URL="wss://portal.test:$PPORT" FASTGATE_CA_FILE="$PKI/ca.pem"
check "wrong host name: refused with a WARN naming the cause, retried (>= 3), still running" \
	refused_and_retrying "$CPLOG" "hostname mismatch"
stop_all

# --- 5. after a join: a bad certificate is retried with back-off and never gives up -----------
tls_portal portal
PORT5=$PPORT
cp_start FIREZONE_API_URL="wss://portal.test:$PORT5" FASTGATE_CA_FILE="$PKI/ca.pem"
check "joined (before the certificate changes)" joined
fg_stop "$PORTAL_PID"
tls_portal other "$PORT5"
backoff_ok() {
	local delays
	# At least three retries, the last of them after a back-off over 2 s.
	grown() {
		[ "$(retries "$CPLOG" "hostname mismatch")" -ge 3 ] &&
			grep "portal: TLS certificate verify failed: hostname mismatch" "$CPLOG" |
			sed -nE 's/.*reconnecting in ([0-9.]+) s$/\1/p' | tail -n 1 | awk '{ exit !($1 > 2.0) }'
	}
	fg_wait_for -t 60 grown
	delays=$(grep "portal: TLS certificate verify failed: hostname mismatch" "$CPLOG" |
		sed -nE 's/.*reconnecting in ([0-9.]+) s$/\1/p' | tr '\n' ' ')
	echo "  delays after the join: $delays"
	fg_alive "$CP_PID" && [ "$(retries "$CPLOG" "hostname mismatch")" -ge 3 ] &&
		[ "$(grep -c 'refused: TLS certificate verify failed: hostname mismatch' "$CPLOG")" = 1 ] &&
		echo "$delays" | awk '{ exit !($NF > 2.0) }'
}
check "after a join: hostname mismatch retried with growing back-off past 15 s, one WARN, no exit" backoff_ok
fg_stop "$PORTAL_PID"
tls_portal portal "$PORT5"
# The next attempt may be one back-off step away (up to ~18 s at this point).
rejoined() { pctl wait_for '{"event":"set_snownet_capabilities","timeout":40}' >/dev/null; }
check "the right certificate again: joins again" rejoined
stop_all

# --- 6. an IPv6 literal: Host [::1], the address checked against the certificate -------------
PORTAL_HOST="[::1]" tls_portal portal
cp_start FIREZONE_API_URL="wss://[::1]:$PPORT" FASTGATE_CA_FILE="$PKI/ca.pem"
v6_ok() { joined && handshake "h['headers'].get('host') == '[::1]' and h['remote'][0] == '::1' and 'origin' not in h['headers']"; }
check "wss://[::1]: login, Host: [::1] (brackets), from ::1" v6_ok
stop_all
check "no WARN or ERROR in the control plane's log (IPv6)" no_warn "$CPLOG"
PORTAL_HOST="[::1]" tls_portal other
cp_start FIREZONE_API_URL="wss://[::1]:$PPORT" FASTGATE_CA_FILE="$PKI/ca.pem"
check "wss://[::1] with a certificate without IP ::1: refused (IP address mismatch), retried" \
	refused_and_retrying "$CPLOG" "IP address mismatch"
stop_all

echo "e2e-portal-tls: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" = 0 ]
