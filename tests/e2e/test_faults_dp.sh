#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end, the data plane's half of the fault matrix (issue 12): what fastgate-dataplane
# does when the host under it fails, on the topology of topo.sh (a wireguard-go client, the
# data plane on a DPDK net_af_packet port in its namespace, a resource behind the TUN).
# Each check starts a data plane of its own and a fresh WireGuard session, breaks one
# thing while traffic runs, and checks the log for exactly the lines the fault should give
# (and no ERROR besides), the exit code or the recovery, and the traffic:
#   1. stats file, disk full: the data plane writes its stats file every second into a
#      tiny tmpfs (its own mount namespace), which is then filled: one WARN however many
#      dumps fail, pings through the tunnel unaffected, one INFO when space is freed and
#      the file is written again (with the count of failed dumps).
#   2. stats file, read-only: the same tmpfs remounted read-only, then read-write again.
#   3. uplink link down, then up: one WARN naming the port and its interface within
#      seconds, the resource's packets to the client dropped as port_link_down meanwhile,
#      one INFO when it is back, and pings through the tunnel flow again without a
#      restart; the stats show port0.link_downs 1.
#   4. TUN deleted (`ip link del`) during a ping flood: one ERROR naming the TUN, exit
#      code 4 within seconds, an orderly shutdown (no crash, no hang, no sanitizer report).
#   5. uplink interface deleted during a ping flood: one ERROR naming the port and its
#      interface, exit code 3 within seconds, an orderly shutdown.
# In 4 and 5 the kernel takes the interface down before it deletes it: the data plane
# holds a "link down" WARN back for 200 ms to see whether a deletion follows, but on a
# loaded machine the two may still come further apart, so one such WARN is tolerated.
# Prints one PASS/FAIL line per check, the detection times, and
# "e2e-faults-dp: N passed, N failed". Needs root. Usage: test_faults_dp.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root
fg_need unshare nsenter mount dd wg wireguard-go
[ -x "$FG_DP_BIN" ] || fg_fail "no data plane binary at $FG_DP_BIN (build first)"

topo_up
STATSDIR=$FG_WORK/statsfs
mkdir -p "$STATSDIR"
GW_PUB=$(cat "$FG_WORK/gw.pub")
DP_N=0
GW_PID=

# --- the data plane ----------------------------------------------------------------------

# dp_start [--statsfs] [ARGS...]: a fresh data plane in NS_G, its log in GW_LOG (one per
# start). --statsfs: its own mount namespace with a 256 KiB tmpfs on STATSDIR, where it
# writes its stats file every second (GW_STATS then names the file inside).
dp_start() {
	local wrap=() eal
	eal=(-l "${FG_LCORES:-0,1}" --no-pci --no-huge --no-shconf --no-telemetry --iova-mode=va
		-m 128 "--vdev=net_af_packet0,iface=gx")
	DP_N=$((DP_N + 1))
	GW_LOG=$FG_WORK/gateway-$DP_N.log
	GW_STATS=$FG_WORK/gateway-$DP_N.stats
	if [ "${1:-}" = --statsfs ]; then
		shift
		GW_STATS=$STATSDIR/gateway.stats
		# unshare execs, and sh execs the data plane: GW_PID is the data plane itself.
		# shellcheck disable=SC2016 # expanded by that sh
		wrap=(unshare -m --propagation private sh -c
			'mount -t tmpfs -o size=256k,mode=0755 fgstats "$1" && shift && exec "$@"' sh "$STATSDIR")
		set -- --stats-interval 1 "$@"
	fi
	# A socket left by an earlier data plane of ours that did not get to remove it.
	rm -f "$FG_WG_RUNDIR/$GW_TUN.sock"
	fg_bg "$GW_LOG" ip netns exec "$NS_G" env FASTGATE_AEAD="${FG_AEAD:-auto}" "${wrap[@]}" "$FG_DP_BIN" \
		"${eal[@]}" -- --config "$GW_CONF" --stats-file "$GW_STATS" --idle-sleep-us "${FG_IDLE_US:-20}" "$@"
	GW_PID=$FG_LAST_PID
	if ! fg_wait_for -t 30 grep -q 'fastgate-dataplane .* running' "$GW_LOG"; then
		cat "$GW_LOG" >&2
		fg_fail "data plane $DP_N did not start"
	fi
	fg_alive "$GW_PID" || { cat "$GW_LOG" >&2; fg_fail "data plane $DP_N exited"; }
}

# dp_exited: the data plane has exited (a zombie until dp_reap).
dp_exited() {
	! kill -0 "$GW_PID" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$GW_PID/stat" 2>/dev/null)" = Z ]
}
# dp_reap: DP_RC = the exit status of the data plane that has exited (a child of this
# shell: never call it in a subshell).
dp_reap() {
	DP_RC=0
	wait "$GW_PID" 2>/dev/null || DP_RC=$?
	GW_PID=
}
# dp_stop_clean: TERM; it exits within 30 s (the shutdown alone takes seconds on a loaded
# machine or under ASan) with status 0, and its log has no ERROR.
dp_stop_clean() {
	kill -TERM "$GW_PID"
	if ! fg_wait_for -t 30 dp_exited; then
		fg_stop "$GW_PID"
		GW_PID=
		fail_because "the data plane ignored TERM for 30 s"
		return 1
	fi
	dp_reap
	[ "$DP_RC" = 0 ] || fail_because "exit code $DP_RC after TERM" || return 1
	! grep -E '^[0-9]{4}-[^ ]+ +ERROR ' "$GW_LOG" >&2 || fail_because "ERROR lines in $GW_LOG"
}

# in_dp CMD...: CMD in the data plane's mount namespace (where its stats tmpfs is).
in_dp() {
	nsenter -t "$GW_PID" -m -- "$@"
}

# client_fresh: a new session between client 1 and the data plane just started (the old
# data plane's keys are gone with it; wireguard-go would wait 15 s to notice).
CLIENT_UP=0
client_fresh() {
	if [ "$CLIENT_UP" = 0 ]; then
		client_up 1
		CLIENT_UP=1
		return
	fi
	wg set "$WG_C1" peer "$GW_PUB" remove
	wg set "$WG_C1" peer "$GW_PUB" preshared-key "$FG_WORK/c1.psk" endpoint "$GW_ADDR:51820" \
		allowed-ips "$CLIENT_ALLOWED"
}

# pings NS DST: 3 echoes answered (the first may wait for a handshake).
pings() {
	ip netns exec "$1" ping -c 3 -i 0.2 -W 6 -q "$2" >/dev/null 2>&1
}
# ping_once NS DST: one echo within 1 s.
ping_once() {
	ip netns exec "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

# --- the log -----------------------------------------------------------------------------

log_mark() { wc -l <"$GW_LOG"; }
# has_since MARK PATTERN: a line after MARK matches.
has_since() { tail -n +"$(($1 + 1))" "$GW_LOG" | grep -q -E -e "$2"; }
# log_since MARK [LEVEL]: the log's lines after line MARK (of that level only).
log_since() {
	local lines
	lines=$(tail -n +"$(($1 + 1))" "$GW_LOG")
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$lines" | grep -E "^[0-9]{4}-[^ ]+ +$2 " || true
	else
		printf '%s\n' "$lines"
	fi
}
# count PATTERN TEXT: lines of TEXT matching the extended regex.
count() { printf '%s\n' "$2" | grep -c -E -e "$1" || true; }
# expect_only WHAT TEXT PATTERN...: every non-empty line of TEXT matches one of the
# patterns, each pattern exactly once.
expect_only() {
	local what=$1 text=$2 p n ok=0 line matched
	shift 2
	for p in "$@"; do
		n=$(count "$p" "$text")
		if [ "$n" != 1 ]; then
			echo "  $what: $n line(s) match '$p', expected 1" >&2
			ok=1
		fi
	done
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		matched=0
		for p in "$@"; do
			printf '%s\n' "$line" | grep -q -E -e "$p" && matched=1
		done
		if [ "$matched" = 0 ]; then
			echo "  $what: unexpected line: $line" >&2
			ok=1
		fi
	done <<<"$text"
	return $ok
}
# no_crash: no sanitizer report, no DPDK panic in the log.
no_crash() {
	! grep -q -E 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|PANIC|Segmentation fault' "$GW_LOG"
}
# ms_since T0: milliseconds since T0 (date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# logged_ms_after T0 PATTERN: milliseconds from T0 (date +%s%N) to the log's timestamp of
# the first line matching PATTERN (what the data plane took to notice).
logged_ms_after() {
	local ts
	ts=$(grep -m 1 -E -e "$2" "$GW_LOG" | cut -d ' ' -f 1) || return 1
	echo $((($(date -d "$ts" +%s%N) - $1) / 1000000))
}
# stat_in FILE NAME: one counter of a stats file.
stat_in() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# dump_stats: a fresh stats file from the running data plane (SIGUSR1) into GW_STATS.
dump_stats() {
	rm -f "$GW_STATS"
	kill -USR1 "$GW_PID"
	fg_wait_for -t 5 [ -s "$GW_STATS" ]
}

# decrypted_at_least N: the data plane's worker0.decrypted (a fresh dump) is N or more.
decrypted_at_least() {
	dump_stats && [ "$(stat_in "$GW_STATS" worker0.decrypted)" -ge "$1" ]
}

fail_because() {
	echo "  $*" >&2
	return 1
}

# --- 1 and 2: the stats file's disk full, then read-only ------------------------------------

STATS_WARN=' +WARN fastgate\.stats: stats file .*: cannot write it: '
STATS_INFO=' +INFO fastgate\.stats: stats file .*: written again after '

# statsfile_fault NAME BREAK_CMD REPAIR_CMD ERRNO_TEXT: the shared body of checks 1 and 2.
statsfile_fault() {
	local name=$1 break_cmd=$2 repair_cmd=$3 why=$4 mark t0 failed text
	fg_alive "$GW_PID" || fail_because "data plane not running" || return 1
	fg_wait_for -t 10 in_dp test -s "$GW_STATS" || fail_because "$name: no stats file written" || return 1
	mark=$(log_mark)
	t0=$(date +%s%N)
	in_dp sh -c "$break_cmd" || fail_because "$name: cannot break the disk ($break_cmd)" || return 1
	fg_wait_for -t 10 grep -q -E "${STATS_WARN}$why" "$GW_LOG" ||
		fail_because "$name: no WARN '$why'" || return 1
	echo "TIME stats_${name}_warn_ms=$(logged_ms_after "$t0" "${STATS_WARN}$why")"
	# Forwarding goes on while dumps keep failing: 10 echoes over 3 s, each periodic dump
	# (1 s) and the two asked for with SIGUSR1 failing meanwhile.
	kill -USR1 "$GW_PID"
	ip netns exec "$NS_C1" ping -c 10 -i 0.3 -W 2 -q "$RES4" >"$FG_WORK/stats-$name-ping.log" 2>&1 ||
		fail_because "$name: pings through the tunnel failed while the disk was broken: $(tail -n 2 "$FG_WORK/stats-$name-ping.log")" || return 1
	kill -USR1 "$GW_PID"
	in_dp sh -c "$repair_cmd" || fail_because "$name: cannot repair the disk ($repair_cmd)" || return 1
	fg_wait_for -t 10 has_since "$mark" "$STATS_INFO" ||
		fail_because "$name: no INFO 'written again' after the repair" || return 1
	text=$(log_since "$mark")
	failed=$(printf '%s\n' "$text" | sed -n -E 's/.*written again after ([0-9]+) failed dump.*/\1/p')
	[ "${failed:-0}" -ge 4 ] || fail_because "$name: only ${failed:-0} dump(s) failed (expected >= 4)" || return 1
	echo "  $name: $failed dumps failed, one WARN" >&2
	expect_only "$name WARN/ERROR lines" "$(log_since "$mark" WARN; log_since "$mark" ERROR)" "${STATS_WARN}$why" ||
		return 1
	expect_only "$name INFO lines" "$(log_since "$mark" INFO)" "$STATS_INFO" || return 1
	# The file is whole again and counts what failed.
	in_dp cat "$GW_STATS" >"$FG_WORK/stats-$name.copy" || fail_because "$name: cannot read the stats file" || return 1
	[ "$(stat_in "$FG_WORK/stats-$name.copy" statsfile_failures)" -ge "$failed" ] ||
		fail_because "$name: statsfile_failures is not >= $failed" || return 1
	pings "$NS_C1" "$RES4" || fail_because "$name: pings failed after the repair" || return 1
	fg_alive "$GW_PID" && no_crash
}

check_stats_full() {
	statsfile_fault full "dd if=/dev/zero of='$STATSDIR/fill' bs=4k 2>/dev/null; test -s '$STATSDIR/fill'" \
		"rm -f '$STATSDIR/fill'" 'No space left on device'
}
check_stats_readonly() {
	statsfile_fault readonly "mount -o remount,ro '$STATSDIR'" "mount -o remount,rw '$STATSDIR'" \
		'Read-only file system' && dp_stop_clean
}

dp_start --statsfs
client_fresh
pings "$NS_C1" "$RES4" || { cat "$GW_LOG" >&2; fg_fail "no ping through the tunnel before any fault"; }
fg_check "stats file on a full disk: one WARN, forwarding unaffected, INFO when written again" check_stats_full
fg_check "stats file on a read-only disk: one WARN, forwarding unaffected, INFO when written again" check_stats_readonly

# --- 3: the uplink's link down, then up -----------------------------------------------------

LINK_WARN=' +WARN fastgate\.link: port 0 \(iface gx\): link down'
LINK_INFO=' +INFO fastgate\.link: port 0 \(iface gx\): link up again after '

check_link_flap() {
	local mark t0 text
	mark=$(log_mark)
	t0=$(date +%s%N)
	ip -n "$NS_G" link set gx down
	fg_wait_for -t 10 grep -q -E "$LINK_WARN" "$GW_LOG" || fail_because "no WARN 'link down'" || return 1
	echo "TIME link_down_warn_ms=$(logged_ms_after "$t0" "$LINK_WARN")"
	# The fault is real: nothing crosses. The resource's echoes toward the client reach the
	# data plane through the TUN and are dropped, counted.
	! ping_once "$NS_C1" "$RES4" || fail_because "a ping crossed a link that is down" || return 1
	! ip netns exec "$NS_R" ping -c 3 -i 0.2 -W 1 -q 100.64.0.2 >/dev/null 2>&1 ||
		fail_because "the resource reached the client over a link that is down" || return 1
	fg_alive "$GW_PID" || fail_because "the data plane exited on link down" || return 1
	t0=$(date +%s%N)
	ip -n "$NS_G" link set gx up
	fg_wait_for -t 10 grep -q -E "$LINK_INFO" "$GW_LOG" || fail_because "no INFO 'link up again'" || return 1
	echo "TIME link_up_info_ms=$(logged_ms_after "$t0" "$LINK_INFO")"
	# Traffic flows again through the same session, nothing restarted.
	t0=$(date +%s%N)
	fg_wait_for -t 20 ping_once "$NS_C1" "$RES4" || fail_because "no ping through the tunnel after link up" || return 1
	echo "TIME link_up_first_ping_ms=$(ms_since "$t0")"
	pings "$NS_C1" "$RES4" && pings "$NS_R" 100.64.0.2 || fail_because "pings lost after link up" || return 1
	dump_stats || fail_because "no stats file" || return 1
	[ "$(stat_in "$GW_STATS" port0.link_downs)" = 1 ] && [ "$(stat_in "$GW_STATS" port0.link_up)" = 1 ] ||
		fail_because "stats: port0.link_downs $(stat_in "$GW_STATS" port0.link_downs), port0.link_up $(stat_in "$GW_STATS" port0.link_up)" || return 1
	[ "$(stat_in "$GW_STATS" drop.port_link_down)" -ge 3 ] ||
		fail_because "stats: drop.port_link_down $(stat_in "$GW_STATS" drop.port_link_down), expected >= 3" || return 1
	text=$(log_since "$mark")
	expect_only "WARN/ERROR lines" "$(log_since "$mark" WARN; log_since "$mark" ERROR)" "$LINK_WARN" || return 1
	expect_only "fastgate.link INFO lines" "$(log_since "$mark" INFO | grep 'fastgate\.link' || true)" "$LINK_INFO" ||
		return 1
	fg_alive "$GW_PID" && no_crash && dp_stop_clean
}

dp_start
client_fresh
pings "$NS_C1" "$RES4" || { cat "$GW_LOG" >&2; fg_fail "no ping through the tunnel before link down"; }
fg_check "uplink link down then up: WARN, drops counted, INFO, traffic flows again, no restart" check_link_flap

# --- 4 and 5: the TUN, then the uplink's interface, deleted during a ping flood ----------------

# deleted_fault NAME DEL_CMD CODE ERROR_PATTERN [ALLOWED_WARN]: delete while 0.02 s pings
# run; the ERROR logged within 5 s, exactly one ERROR, then the orderly shutdown and the exit
# code (within 30 s: the shutdown alone takes seconds on a loaded machine or under ASan).
deleted_fault() {
	local name=$1 del_cmd=$2 code=$3 err=$4 warn=${5:-} mark t0 ms detect rc flood text
	mark=$(log_mark)
	fg_bg "$FG_WORK/$name-flood.log" ip netns exec "$NS_C1" ping -i 0.02 -c 1000 -W 1 -q "$RES4"
	flood=$FG_LAST_PID
	# Traffic runs both ways through the tunnel: 25 echoes decrypted (about half a second).
	fg_wait_for -t 15 decrypted_at_least 25 || fail_because "$name: no traffic before the fault" || return 1
	t0=$(date +%s%N)
	$del_cmd || fail_because "$name: '$del_cmd' failed" || return 1
	if ! fg_wait_for -t 30 dp_exited; then
		kill "$flood" 2>/dev/null || true
		fail_because "$name: the data plane still runs 30 s after the deletion"
		return 1
	fi
	ms=$(ms_since "$t0")
	kill "$flood" 2>/dev/null || true
	wait "$flood" 2>/dev/null || true
	dp_reap
	rc=$DP_RC
	detect=$(logged_ms_after "$t0" "$err") || detect=none
	echo "TIME ${name}_error_logged_ms=$detect ${name}_exit_ms=$ms exit_code=$rc"
	[ "$detect" != none ] && [ "$detect" -le 5000 ] || fail_because "$name: ERROR logged after ${detect} ms" || return 1
	[ "$rc" = "$code" ] || fail_because "$name: exit code $rc, expected $code" || return 1
	text=$(log_since "$mark" ERROR)
	expect_only "$name ERROR lines" "$text" "$err" || return 1
	# The whole log: no other ERROR since the start.
	[ "$(grep -c -E '^[0-9]{4}-[^ ]+ +ERROR ' "$GW_LOG")" = 1 ] || fail_because "$name: other ERROR lines" || return 1
	if [ -n "$warn" ]; then
		[ "$(count "$warn" "$(log_since "$mark" WARN)")" -le 1 ] &&
			[ "$(log_since "$mark" WARN | grep -v -c -E -e "$warn" || true)" = 0 ] ||
			fail_because "$name: unexpected WARN lines: $(log_since "$mark" WARN)" || return 1
		[ -z "$(log_since "$mark" WARN)" ] || echo "  $name: the link-down WARN came before the deletion's ERROR (tolerated)" >&2
	else
		[ -z "$(log_since "$mark" WARN)" ] || fail_because "$name: unexpected WARN lines: $(log_since "$mark" WARN)" || return 1
	fi
	grep -q -E "INFO fastgate\.main: stopped \(exit code $code: " "$GW_LOG" ||
		fail_because "$name: no orderly shutdown in the log" || return 1
	no_crash
}

check_tun_deleted() {
	deleted_fault tun_deleted "ip -n $NS_G link del $GW_TUN" 4 \
		" +ERROR fastgate\.link: TUN $GW_TUN: interface deleted; stopping \(exit code 4\)" \
		" +WARN fastgate\.link: TUN $GW_TUN: link down "
}
check_uplink_deleted() {
	deleted_fault uplink_deleted "ip -n $NS_G link del gx" 3 \
		' +ERROR fastgate\.link: port 0 \(iface gx\): interface deleted; stopping \(exit code 3\)' "$LINK_WARN"
}

dp_start
client_fresh
fg_check "TUN deleted under traffic: one ERROR naming it, exit code 4 within seconds" check_tun_deleted

dp_start
client_fresh
fg_check "uplink interface deleted under traffic: one ERROR naming it, exit code 3 within seconds" check_uplink_deleted

echo "e2e-faults-dp: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" = 0 ]
