#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End to end: the installation and the systemd units (issue 14), without touching this
# machine's system. scripts/install.sh stages an installation from the build directory under
# a temporary DESTDIR (meson install, systemd-sysusers and systemd-tmpfiles with --root over
# a copy of this host's passwd and group, the hugepages sysctl file, systemctl --root
# enable); every file lands with its owner and mode. systemd-analyze verify accepts both
# installed units without a warning (against the staged binaries: --root) and
# systemd-analyze security --offline=true scores them (the control plane below 3); the
# dependencies are the documented ones. PID 1 here is not systemd, so the units cannot be
# started: their ExecStart= lines are run by hand the way systemd would run them, with their
# EnvironmentFile=/Environment=/UnsetEnvironment= (tests/e2e/unit_sandbox.py), user, groups,
# capability bounding set, no_new_privs, umask and the token as a credential directory
# (LoadCredential=), under strace: the data plane (root, three capabilities, supplementary
# group fastgate) and the control plane (user fastgate, no capability) connect, the control
# plane joins the test portal and provisions a wireguard-go client whose pings cross the
# data plane, an operator in the group fastgate runs fastgatectl and others cannot, and each
# strace log is checked against its unit's sandbox (system calls, socket families, the paths
# written, devices, /proc). Then --uninstall removes what the install put there and keeps
# the configuration. Prints PASS/FAIL lines and "e2e-install: N passed, N failed". Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -ge 1 ] && FG_BUILD=$(cd "$1" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/e2e/topo.sh
. "$HERE/topo.sh"
fg_require_root
# shellcheck source=tests/e2e/cp.sh
. "$HERE/cp.sh"
fg_need meson ninja systemd-analyze systemd-sysusers systemd-tmpfiles systemctl setpriv strace \
	unshare python3 wg
[ -f "$FG_BUILD/build.ninja" ] || fg_fail "build first: $FG_BUILD is not a meson build directory"

check() { fg_check "$@"; }
SANDBOX=$HERE/unit_sandbox.py
# has UNITFILE KEY VALUE: one of KEY's values is VALUE (grep reads it all: no SIGPIPE to the
# writer under pipefail).
has() { "$SANDBOX" get "$1" "$2" | grep -Fx -- "$3" >/dev/null; }
STAGE=$FG_WORK/stage
DP_UNIT_NAME=fastgate-dataplane.service
CP_UNIT_NAME=fastgate-controlplane.service

# --- the staged installation ---------------------------------------------------------------
# A system's accounts to add to, as on a real host (passwd and group only: no hashes copied).
mkdir -p "$STAGE/etc"
cp /etc/passwd /etc/group "$STAGE/etc/"
stage() {
	"$ROOT/scripts/install.sh" --build-dir "$FG_BUILD" --destdir "$STAGE" --no-deps --no-build \
		--hugepages 64 >"$FG_WORK/install.log" 2>&1 || { sed 's/^/  /' "$FG_WORK/install.log"; return 1; }
}
check "scripts/install.sh --destdir stages the installation (meson install, sysusers, tmpfiles, enable)" stage

# installed NAME: the path (without DESTDIR) meson installs NAME to.
installed() {
	meson introspect --installed "$FG_BUILD" | python3 -c '
import json, sys
hits = [d for d in json.load(sys.stdin).values() if d.endswith("/" + sys.argv[1])]
print(hits[0] if hits else "")' "$1"
}
BINDIR=$(dirname "$(installed bin/fastgate-dataplane)")
CONFDIR=$(dirname "$(installed fastgate/fastgate.conf.example)")
UNITDIR=$(dirname "$(installed "system/$DP_UNIT_NAME")")
DPU=$STAGE$UNITDIR/$DP_UNIT_NAME
CPU=$STAGE$UNITDIR/$CP_UNIT_NAME
# mode_of PATH: "MODE OWNER:GROUP" with names from the staged accounts.
mode_of() {
	local m u g
	read -r m u g < <(stat -c '%a %u %g' "$1") || return 1
	u=$(awk -F: -v id="$u" '$3 == id { print $1; exit }' "$STAGE/etc/passwd")
	g=$(awk -F: -v id="$g" '$3 == id { print $1; exit }' "$STAGE/etc/group")
	echo "$m $u:$g"
}
files_landed() {
	local f want got bad=0
	while read -r f want; do
		got=$(mode_of "$STAGE$f" 2>/dev/null) || got=missing
		if [ "$got" != "$want" ]; then
			echo "  $f: $got, want $want"
			bad=1
		fi
	done <<EOF
$BINDIR/fastgate-dataplane 755 root:root
$BINDIR/fastgate-controlplane 755 root:root
$BINDIR/fastgatectl 755 root:root
$CONFDIR/fastgate.conf.example 644 root:root
$CONFDIR/dataplane.env.example 644 root:root
$CONFDIR/controlplane.env.example 644 root:root
$CONFDIR/dataplane.env 644 root:root
$CONFDIR/controlplane.env 644 root:root
$(installed doc/fastgate/README.md) 644 root:root
$UNITDIR/$DP_UNIT_NAME 644 root:root
$UNITDIR/$CP_UNIT_NAME 644 root:root
$(installed sysusers.d/fastgate.conf) 644 root:root
$(installed tmpfiles.d/fastgate.conf) 644 root:root
/run/fastgate 1770 root:fastgate
/run/wireguard 755 root:root
/run/dpdk 700 root:root
/var/lib/fastgate 750 fastgate:fastgate
/etc/sysctl.d/60-fastgate-hugepages.conf 644 root:root
EOF
	[ ! -e "$STAGE$CONFDIR/fastgate.conf" ] || { echo "  fastgate.conf installed (its example holds published keys)"; bad=1; }
	grep -qx 'vm.nr_hugepages = 64' "$STAGE/etc/sysctl.d/60-fastgate-hugepages.conf" || bad=1
	for u in "$DP_UNIT_NAME" "$CP_UNIT_NAME"; do
		[ "$(readlink "$STAGE/etc/systemd/system/multi-user.target.wants/$u")" = "$UNITDIR/$u" ] ||
			{ echo "  $u not enabled"; bad=1; }
	done
	grep -q '^fastgate:x:[0-9]*:[0-9]*:.*:/var/lib/fastgate:/usr/sbin/nologin$' "$STAGE/etc/passwd" ||
		{ echo "  no system user fastgate"; bad=1; }
	[ "$bad" = 0 ]
}
check "every file lands with its mode and owner: programs, examples, env files, units, sysusers.d, tmpfiles.d, directories, sysctl, enabled" files_landed
FG_UID=$(awk -F: '$1 == "fastgate" { print $3 }' "$STAGE/etc/passwd")
FG_GID=$(awk -F: '$1 == "fastgate" { print $3 }' "$STAGE/etc/group")
[ -n "$FG_UID" ] && [ -n "$FG_GID" ] || fg_fail "no user or group fastgate in the staged accounts"

again_keeps_config() { # a second install keeps what the administrator changed
	echo "# changed" >>"$STAGE$CONFDIR/dataplane.env"
	stage && tail -n 1 "$STAGE$CONFDIR/dataplane.env" | grep -qx '# changed'
}
check "installing again keeps the environment files" again_keeps_config
paths_follow_prefix() {
	[ "$("$SANDBOX" get "$DPU" ExecStart | awk '{ print $1 }')" = "$BINDIR/fastgate-dataplane" ] &&
		[ "$("$SANDBOX" get "$CPU" ExecStart | awk '{ print $1 }')" = "$BINDIR/fastgate-controlplane" ] &&
		has "$DPU" EnvironmentFile "$CONFDIR/dataplane.env" &&
		has "$CPU" LoadCredential "FIREZONE_TOKEN:$CONFDIR/token"
}
check "the units name the installed programs and $CONFDIR (configure_file follows the prefix)" paths_follow_prefix

# --- systemd-analyze -----------------------------------------------------------------------
# verify --root checks ExecStart= against the staged programs, and resolves the units the two
# depend on (multi-user.target, network-online.target, ...) inside the root: those come from
# this host.
mkdir -p "$STAGE/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$STAGE/usr/lib/systemd/"
verify_clean() {
	local out
	out=$(cd / && systemd-analyze verify --root="$STAGE" "$DPU" "$CPU" 2>&1) || { echo "$out" | sed 's/^/  /'; return 1; }
	[ -z "$out" ] || { echo "$out" | sed 's/^/  /'; return 1; }
}
check "systemd-analyze verify: both installed units, no error and no warning" verify_clean
verify_catches() { # the same check sees a misspelt key and a missing program
	local u=$STAGE$UNITDIR/fastgate-typo.service out
	sed 's/^ProtectSystem=strict$/ProtectSytem=strict/' "$CPU" >"$u"
	mv "$STAGE$BINDIR/fastgate-controlplane" "$FG_WORK/cp.moved"
	out=$(cd / && systemd-analyze verify --root="$STAGE" "$u" 2>&1) || true
	mv "$FG_WORK/cp.moved" "$STAGE$BINDIR/fastgate-controlplane"
	rm -f "$u"
	echo "$out" | grep -q "Unknown key 'ProtectSytem'" && echo "$out" | grep -q "is not executable"
}
check "systemd-analyze verify reports a misspelt key and a missing program (the check can fail)" verify_catches

exposure() { # exposure UNITFILE: systemd-analyze's overall exposure level
	(cd / && systemd-analyze security --offline=true --no-pager "$1" 2>/dev/null) |
		sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p'
}
DP_SCORE=$(exposure "$DPU")
CP_SCORE=$(exposure "$CPU")
echo "exposure (systemd-analyze security --offline=true): $DP_UNIT_NAME $DP_SCORE, $CP_UNIT_NAME $CP_SCORE"
below() { [ -n "$1" ] && python3 -c "import sys; sys.exit(0 if float('$1') < $2 else 1)"; }
check "systemd-analyze security: $CP_UNIT_NAME exposure ${CP_SCORE:-none} (below 3)" below "$CP_SCORE" 3
check "systemd-analyze security: $DP_UNIT_NAME exposure ${DP_SCORE:-none} (below 5: root with three capabilities)" below "$DP_SCORE" 5

dependencies() {
	local dep
	has "$CPU" Wants "$DP_UNIT_NAME" && has "$CPU" After "$DP_UNIT_NAME" || return 1
	for dep in Requires BindsTo PartOf Requisite; do
		! has "$CPU" "$dep" "$DP_UNIT_NAME" || { echo "  $CP_UNIT_NAME $dep=$DP_UNIT_NAME"; return 1; }
	done
	! grep -q fastgate-controlplane "$DPU" || { echo "  the data plane's unit names the control plane"; return 1; }
}
check "dependencies: the control plane Wants= and After= the data plane, nothing binds them (a restart of either leaves the other running)" dependencies

# --- the units' ExecStart= run by hand ------------------------------------------------------
# Paths the units name, found under the staging directory.
MAPS=()
for p in "$BINDIR" "$CONFDIR" /run/fastgate /var/lib/fastgate; do MAPS+=(--map "$p=$STAGE$p"); done
# bounding PREFIX UNIT: setpriv's --bounding-set from CapabilityBoundingSet= (empty: none).
bounding() {
	local caps
	caps=$("$SANDBOX" get "$1" CapabilityBoundingSet | tr '[:upper:]' '[:lower:]' | sed 's/^cap_/+/' | paste -sd, -)
	echo "-all${caps:+,$caps}"
}

TOPO_STATIC_PEER=0 topo_up
cp_setup
# The administrator's part: the configuration, the EAL arguments of this namespace test
# (the net_af_packet port, no hugepages), the token, the control plane's settings. The
# environment file's FIREZONE_TOKEN is wrong on purpose: the unit must drop it for the
# credential.
(umask 077 && cp "$GW_CONF" "$STAGE$CONFDIR/fastgate.conf")
cat >"$STAGE$CONFDIR/dataplane.env" <<EOF
# the install test's data plane
FASTGATE_EAL_ARGS=-l ${FG_LCORES:-0,1} --no-pci --no-huge --no-shconf --no-telemetry --iova-mode=va -m 128 --vdev=net_af_packet0,iface=gx
FASTGATE_DATAPLANE_ARGS=--idle-sleep-us 1000
EOF
(umask 077 && printf '%s\n' "$TOKEN" >"$STAGE$CONFDIR/token")
portal_start
cat >"$STAGE$CONFDIR/controlplane.env" <<EOF
FIREZONE_API_URL=ws://127.0.0.1:$PPORT
FIREZONE_ID=$GW_UUID
FIREZONE_NAME=fg-e2e-$FG_ID
HEALTH_CHECK_ADDR=127.0.0.1:$HPORT
FASTGATE_WITHOUT_RELAYS=1
FIREZONE_TOKEN=not-the-token
EOF

# The data plane: root with the unit's bounding set, its supplementary group, no_new_privs and
# umask, inside a mount namespace where /etc/passwd and /etc/group are the staged ones (for
# --ctl-group fastgate); strace follows it from its execve on.
mapfile -t DP_ARGV < <("$SANDBOX" argv "$DPU" "${MAPS[@]}")
mapfile -t DP_ENV < <("$SANDBOX" env "$DPU" "${MAPS[@]}")
DP_ENV+=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
DP_GROUPS=$("$SANDBOX" get "$DPU" SupplementaryGroups | sed "s/^fastgate$/$FG_GID/" | paste -sd, -)
[ "$("$SANDBOX" get "$DPU" NoNewPrivileges)" = yes ] || fg_fail "$DP_UNIT_NAME: no NoNewPrivileges=yes"
UMASK_DP=$("$SANDBOX" get "$DPU" UMask)
# shellcheck disable=SC2016 # expanded by those shells
fg_bg "$FG_WORK/dp.log" unshare -m --propagation private bash -c '
	mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group || exit 1
	shift 2
	exec "$@"' _ "$STAGE/etc/passwd" "$STAGE/etc/group" \
	ip netns exec "$NS_G" strace -f -y -s 4096 -qq -o "$FG_WORK/dp.trace" \
	setpriv --groups "$DP_GROUPS" --bounding-set "$(bounding "$DPU")" --inh-caps -all --no-new-privs \
	bash -c 'cd / && umask "$1" && shift && exec env -i "$@"' _ "$UMASK_DP" "${DP_ENV[@]}" "${DP_ARGV[@]}"
DP_STRACE=$FG_LAST_PID
# child_exe PARENT EXE: the PID of PARENT's child running EXE.
child_exe() {
	local c
	for c in $(pgrep -P "$1"); do
		[ "$(readlink "/proc/$c/exe")" = "$2" ] && { echo "$c"; return 0; }
	done
	return 1
}
dp_up() { DP_PID=$(child_exe "$DP_STRACE" "$STAGE$BINDIR/fastgate-dataplane") && [ -S "$STAGE/run/fastgate/tun-firezone.ctl" ]; }
if ! fg_wait_for -t 60 dp_up; then
	cat "$FG_WORK/dp.log" >&2
	fg_fail "the data plane's ExecStart= did not open its control socket"
fi
FG_PIDS+=("$DP_PID")
dp_privileges() {
	local st
	st=$(cat "/proc/$DP_PID/status")
	mode_of "$STAGE/run/fastgate/tun-firezone.ctl" | grep -qx '660 root:fastgate' &&
		echo "$st" | grep -qx 'CapBnd:[[:space:]]*0000000000007000' &&
		echo "$st" | grep -qx 'CapEff:[[:space:]]*0000000000001000' &&
		echo "$st" | grep -qx 'NoNewPrivs:[[:space:]]*1' &&
		echo "$st" | grep -qE "^Groups:.*\\b$FG_GID\\b" &&
		grep -q "capabilities dropped in [0-9]* thread(s): kept cap_net_admin" "$FG_WORK/dp.log"
}
check "data plane as its unit runs it: capabilities bounded to net_admin, net_raw, ipc_lock (net_admin kept), no_new_privs, its control socket root:fastgate 0660" dp_privileges

# The control plane: the user fastgate, no capability, no_new_privs, the unit's umask; the
# token in a credential directory readable by that user alone, as LoadCredential= makes it.
CREDS=$FG_WORK/credentials
mkdir -m 0700 "$CREDS"
"$SANDBOX" get "$CPU" LoadCredential | while IFS=: read -r id path; do
	install -m 0400 -o "$FG_UID" -g "$FG_GID" "$STAGE$path" "$CREDS/$id"
done
chown "$FG_UID:$FG_GID" "$CREDS"
chmod 0500 "$CREDS"
mapfile -t CP_ARGV < <("$SANDBOX" argv "$CPU" "${MAPS[@]}")
mapfile -t CP_ENV < <("$SANDBOX" env "$CPU" "${MAPS[@]}")
CP_ENV+=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "HOME=$STAGE/var/lib/fastgate"
	USER=fastgate LOGNAME=fastgate "CREDENTIALS_DIRECTORY=$CREDS")
[ "$("$SANDBOX" get "$CPU" User)" = fastgate ] && [ "$("$SANDBOX" get "$CPU" Group)" = fastgate ] ||
	fg_fail "$CP_UNIT_NAME: not User=fastgate Group=fastgate"
[ "$("$SANDBOX" get "$CPU" NoNewPrivileges)" = yes ] || fg_fail "$CP_UNIT_NAME: no NoNewPrivileges=yes"
token_not_in_env() { ! printf '%s\n' "${CP_ENV[@]}" | grep -q '^FIREZONE_TOKEN='; }
check "UnsetEnvironment= drops a FIREZONE_TOKEN from controlplane.env (the credential is the token)" token_not_in_env
CPLOG=$FG_WORK/cp.log
# shellcheck disable=SC2016 # expanded by that shell
fg_bg "$CPLOG" ip netns exec "$NS_G" strace -f -y -s 4096 -qq -o "$FG_WORK/cp.trace" \
	setpriv --reuid "$FG_UID" --regid "$FG_GID" --clear-groups --bounding-set "$(bounding "$CPU")" \
	--inh-caps -all --no-new-privs \
	bash -c 'cd / && umask "$1" && shift && exec env -i "$@"' _ "$("$SANDBOX" get "$CPU" UMask)" \
	"${CP_ENV[@]}" "${CP_ARGV[@]}"
CP_STRACE=$FG_LAST_PID
cp_up() { CP_PID=$(child_exe "$CP_STRACE" "$STAGE$BINDIR/fastgate-controlplane"); }
fg_wait_for -t 30 cp_up || { cat "$CPLOG" >&2; fg_fail "the control plane's ExecStart= did not start"; }
FG_PIDS+=("$CP_PID")
cp_joined() {
	joined && grep -q "connected to the data plane" "$CPLOG" &&
		grep -qx "Uid:[[:space:]]*${FG_UID}[[:space:]]*${FG_UID}[[:space:]]*${FG_UID}[[:space:]]*${FG_UID}" "/proc/$CP_PID/status" &&
		grep -qx 'CapBnd:[[:space:]]*0000000000000000' "/proc/$CP_PID/status"
}
check "control plane as user fastgate without capabilities: reaches the data plane's socket, the token from the credential logs in" cp_joined

# An operator: another user in the group fastgate; a user outside it is refused.
as_user() { # as_user UID GID GROUPS|"" CMD...
	local u=$1 g=$2 groups=(--clear-groups)
	[ -z "$3" ] || groups=(--groups "$3")
	shift 3
	setpriv --reuid "$u" --regid "$g" "${groups[@]}" --bounding-set -all --inh-caps -all --no-new-privs "$@"
}
ctl_as_operator() {
	as_user 65534 65534 "$FG_GID" env FASTGATE_CTL_SOCKET="$STAGE/run/fastgate/controlplane.sock" \
		"$STAGE$BINDIR/fastgatectl" --json status |
		"$PY" -c 'import json,sys; d=json.load(sys.stdin)["dataplane"]; assert d["connected"] and d["responding"], d'
}
check "fastgatectl status as an operator in the group fastgate: the data plane connected and responding" ctl_as_operator
others_refused() {
	local out
	out=$(as_user 65534 65534 "" env FASTGATE_CTL_SOCKET="$STAGE/run/fastgate/controlplane.sock" \
		"$STAGE$BINDIR/fastgatectl" status 2>&1) && return 1
	echo "$out" | grep -qi "permission denied" || { echo "  $out"; return 1; }
	as_user 65534 65534 "" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except PermissionError:
    sys.exit(0)
sys.exit(1)' "$STAGE/run/fastgate/tun-firezone.ctl"
}
check "a user outside the group fastgate reaches neither socket (permission denied)" others_refused

traffic() {
	authorize r-install res-cidr 198.18.2.0/24 '[]' null && client_up 1 &&
		ip netns exec "$NS_C1" ping -c 3 -i 0.2 -W 6 -q "$RES4" >/dev/null
}
check "an authorized wireguard-go client pings the resource through the data plane" traffic
stats_file() {
	rm -f "$STAGE/run/fastgate/tun-firezone.stats"
	kill -USR1 "$DP_PID"
	fg_wait_for -t 10 [ -s "$STAGE/run/fastgate/tun-firezone.stats" ] &&
		mode_of "$STAGE/run/fastgate/tun-firezone.stats" | grep -qx '644 root:root'
}
check "SIGUSR1 (systemctl kill -s USR1) writes the stats file in /run/fastgate (root's; the 1770 directory keeps others out)" stats_file

# stop PID STRACE_PID: SIGTERM, as systemctl stop does; the status is the program's (strace
# exits with it).
stop() {
	local st=0
	kill -TERM "$1"
	wait "$2" || st=$?
	return "$st"
}
cp_stops() { stop "$CP_PID" "$CP_STRACE"; }
dp_stops() { stop "$DP_PID" "$DP_STRACE"; }
check "control plane: SIGTERM, exit 0" cp_stops
check "data plane: SIGTERM, exit 0" dp_stops
no_warn() {
	local bad
	bad=$(grep -E ' (WARN|ERROR) ' "$FG_WORK/dp.log" "$CPLOG") || true
	[ -z "$bad" ] || { echo "$bad" | sed 's/^/  /'; return 1; }
}
check "no WARN or ERROR in either log" no_warn
sandbox() { # sandbox UNITFILE TRACE
	local out st=0
	out=$("$SANDBOX" check "$1" "$2" "${MAPS[@]}") || st=$?
	echo "$out" | sed 's/^/  /'
	return "$st"
}
check "strace of the data plane within its unit's sandbox (SystemCallFilter, RestrictAddressFamilies, ReadWritePaths, DeviceAllow, MemoryDenyWriteExecute)" \
	sandbox "$DPU" "$FG_WORK/dp.trace"
check "strace of the control plane within its unit's sandbox (also PrivateDevices, ProcSubset=pid)" \
	sandbox "$CPU" "$FG_WORK/cp.trace"
sandbox_catches() { # the data plane's trace against the control plane's stricter unit
	local out
	out=$("$SANDBOX" check "$CPU" "$FG_WORK/dp.trace" "${MAPS[@]}") && return 1
	echo "$out" | grep -q 'socket(AF_PACKET) outside RestrictAddressFamilies=' &&
		echo "$out" | grep -q 'system call capset is outside SystemCallFilter=' &&
		echo "$out" | grep -q 'mkdir /run/wireguard: outside ReadWritePaths=' &&
		echo "$out" | grep -q 'device /dev/net/tun not allowed'
}
check "the sandbox check flags the data plane's trace under the control plane's unit (the check can fail)" sandbox_catches

# --- uninstall -----------------------------------------------------------------------------
uninstall() {
	local f
	"$ROOT/scripts/install.sh" --uninstall --build-dir "$FG_BUILD" --destdir "$STAGE" \
		>"$FG_WORK/uninstall.log" 2>&1 || { sed 's/^/  /' "$FG_WORK/uninstall.log"; return 1; }
	for f in "$BINDIR/fastgate-dataplane" "$BINDIR/fastgate-controlplane" "$BINDIR/fastgatectl" \
		"$UNITDIR/$DP_UNIT_NAME" "$UNITDIR/$CP_UNIT_NAME" "$(installed sysusers.d/fastgate.conf)" \
		"$(installed tmpfiles.d/fastgate.conf)" "$CONFDIR/fastgate.conf.example" \
		/etc/sysctl.d/60-fastgate-hugepages.conf \
		"/etc/systemd/system/multi-user.target.wants/$DP_UNIT_NAME" \
		"/etc/systemd/system/multi-user.target.wants/$CP_UNIT_NAME"; do
		[ ! -e "$STAGE$f" ] && [ ! -L "$STAGE$f" ] || { echo "  $f left"; return 1; }
	done
	for f in fastgate.conf token dataplane.env controlplane.env; do
		[ -f "$STAGE$CONFDIR/$f" ] || { echo "  $CONFDIR/$f removed"; return 1; }
	done
}
check "scripts/install.sh --uninstall: programs, units, entries, examples, sysctl and links gone; configuration and token kept" uninstall

fg_check_log_no_errors "$FG_WORK/dp.log"
echo "e2e-install: $FG_PASSED passed, $FG_FAILED failed"
[ "$FG_FAILED" = 0 ]
