#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/e2e/selftest.sh: exercises tests/e2e/lib.sh on its own, without fastgate: two
# namespaces joined by veth pairs (one prepared for a DPDK port), two wireguard-go peers
# that ping each other over IPv4 and IPv6 through the tunnel, the process, log and hash
# helpers, and finally that fg_cleanup leaves no namespace, process, socket or work
# directory behind. Run as root; prints PASS or FAIL and exits 0 or 1.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

fg_require_root
fg_need ip wireguard-go wg ping ethtool sha256sum

check() { # check DESCRIPTION CMD...: fail the self-test unless CMD succeeds
	local what=$1 out
	shift
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		fg_fail "$what"
	fi
	fg_log "ok: $what"
}

fails() { # fails CMD...: true if CMD fails (run in a subshell, so fg_fail only ends that)
	if ("$@") >/dev/null 2>&1; then
		return 1
	fi
	return 0
}

NA=$(fg_name a)
NB=$(fg_name b)
VA=$(fg_name va)
VB=$(fg_name vb)
DA=$(fg_name da)
DB=$(fg_name db)
WA=$(fg_name wa)
WB=$(fg_name wb)
W=$FG_WORK

# --- namespaces and links ------------------------------------------------------------------
fg_ns "$NA"
fg_ns "$NB"
fg_veth "$NA" "$VA" 198.18.10.1/24 "$NB" "$VB" 198.18.10.2/24
fg_veth --dpdk 1 "$NA" "$DA" - "$NB" "$DB" 198.18.11.2/24
check "name is unique and short ($VA)" test "${#VA}" -lt 16
check "fg_name refuses a name of 16 bytes or more" fails fg_name abcdefghijklmn
check "link between namespaces" ip netns exec "$NA" ping -c 1 -W 2 198.18.10.2
check "IPv6 off on the DPDK end" \
	test "$(ip netns exec "$NA" sysctl -n "net.ipv6.conf.$DA.disable_ipv6")" = 1
check "IPv6 on at the kernel end" \
	test "$(ip netns exec "$NB" sysctl -n "net.ipv6.conf.$DB.disable_ipv6")" = 0
check "DPDK end has no address" test -z "$(ip -n "$NA" -o addr show dev "$DA")"
for end in "$NA:$VA" "$NB:$VB" "$NA:$DA" "$NB:$DB"; do
	check "tx checksum offload off on ${end#*:}" \
		grep -q '^tx-checksumming: off' <(ip netns exec "${end%%:*}" ethtool -k "${end#*:}")
done
check "fg_ns refuses a namespace that exists" fails fg_ns "$NA"

# --- two wireguard-go peers ----------------------------------------------------------------
fg_wg_keypair "$W/a"
fg_wg_keypair "$W/b"
(umask 077 && wg genpsk >"$W/psk")
# The responder first, so the initiator's first handshake is not lost.
fg_wggo_start "$NB" "$WB"
PID_B=$FG_LAST_PID
fg_wggo_start "$NA" "$WA"
PID_A=$FG_LAST_PID
fg_wg_client "$NB" "$WB" "$W/b.key" "$(cat "$W/a.pub")" "$W/psk" - \
	100.64.0.1/32,fd00:2021:1111::1/128 100.64.0.2/32 fd00:2021:1111::2/128 51820
fg_wg_client "$NA" "$WA" "$W/a.key" "$(cat "$W/b.pub")" "$W/psk" 198.18.10.2:51820 \
	100.64.0.2/32,fd00:2021:1111::2/128 100.64.0.1/32 fd00:2021:1111::1/128 - 25
check "wireguard-go interface is up with MTU 1280" \
	grep -q 'mtu 1280' <(ip -n "$NA" link show dev "$WA")
check "route for the allowed IPs" grep -q "100.64.0.2 dev $WA" <(ip -n "$NA" route show)
check "ping over the tunnel (IPv4)" ip netns exec "$NA" ping -c 3 -i 0.2 -W 6 100.64.0.2
check "ping over the tunnel (IPv6)" ip netns exec "$NA" ping -6 -c 3 -i 0.2 -W 6 fd00:2021:1111::2
check "handshake seen by wg" \
	test "$(wg show "$WA" latest-handshakes | awk '{ print $2 }')" -gt 0
check "fg_wggo_start refuses a name in use" fails fg_wggo_start "$NA" "$WA"
check "the owner's socket survives" test -S "$FG_WG_RUNDIR/$WA.sock"
for ns in "$NA" "$NB"; do
	check "no default route in $ns" test -z "$(ip -n "$ns" route show default)"
	check "no IPv6 default route in $ns" test -z "$(ip -n "$ns" -6 route show default)"
done

# --- helpers -------------------------------------------------------------------------------
printf abc >"$W/abc"
check "fg_sha256" test "$(fg_sha256 "$W/abc")" = \
	ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
cat >"$W/good.log" <<'EOF'
2026-11-22T10:00:00.000001Z  INFO fastgate.main: started, no ERROR here
2026-11-22T10:00:00.000002Z  WARN kni: IPv6 disabled: ERROR-free warning
{"timestamp":"2026-11-22T10:00:00.000003Z","level":"INFO","message":"level ERROR is a word","target":"x"}
EOF
printf '2026-11-22T10:00:01.000000Z ERROR dataplane: bug\n' >"$W/bad-human.log"
printf '{"timestamp":"t","level":"ERROR","message":"bug","target":"x"}\n' >"$W/bad-json.log"
check "clean log passes" fg_check_log_no_errors "$W/good.log"
check "human ERROR line fails" fails fg_check_log_no_errors "$W/bad-human.log"
check "JSON ERROR line fails" fails fg_check_log_no_errors "$W/bad-json.log"
start=$SECONDS
check "fg_wait_for gives up" fails fg_wait_for -t 1 false
check "fg_wait_for gives up in time" test $((SECONDS - start)) -le 3
check "fg_wait_for succeeds" fg_wait_for -t 1 true

fg_bg "$W/sleep.log" sleep 100
PID_S=$FG_LAST_PID
fg_bg "$W/stubborn.log" bash -c 'trap "" TERM; exec sleep 100'
PID_T=$FG_LAST_PID
# TERM ignored (bit 15 of SigIgn) once the trap is in place.
term_ignored() { [ $((0x$(awk '/^SigIgn/ { print $2 }' "/proc/$PID_T/status") >> 14 & 1)) = 1 ]; }
fg_wait_for -t 10 term_ignored
FG_GRACE=1 fg_stop "$PID_S" "$PID_T"
check "fg_stop ends a process with TERM" bash -c "! kill -0 $PID_S 2>/dev/null"
check "fg_stop KILLs one that ignores TERM" bash -c "! kill -0 $PID_T 2>/dev/null"

# --- cleanup leaves nothing ----------------------------------------------------------------
fg_cleanup
for ns in "$NA" "$NB"; do
	check "namespace $ns removed" bash -c "! ip netns list | grep -qw '$ns'"
done
for ifn in "$WA" "$WB"; do
	check "socket of $ifn removed" test ! -e "$FG_WG_RUNDIR/$ifn.sock"
done
check "wireguard-go processes ended" bash -c "! kill -0 $PID_A 2>/dev/null && ! kill -0 $PID_B 2>/dev/null"
check "work directory removed" test ! -e "$W"
check "records emptied" test "${#FG_NS[@]}${#FG_PIDS[@]}${#FG_WG_IFS[@]}" = 000
fg_cleanup # idempotent
fg_pass "e2e lib selftest (run $FG_ID)"
