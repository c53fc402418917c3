#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/install.sh: installs fastgate on a Debian 12 host, or stages the same installation
# under a directory (--destdir) without touching the system. The steps: the build packages
# (scripts/deps.sh --build-only), a meson build (build-install/ in the source tree unless
# --build-dir), `meson install` (the three programs, the configuration examples, the
# systemd units, the sysusers.d and tmpfiles.d entries), the user and group fastgate
# (systemd-sysusers), /run/fastgate, /run/wireguard, /run/dpdk and /var/lib/fastgate
# (systemd-tmpfiles), 2 MiB hugepages reserved through /etc/sysctl.d, then the units enabled
# (systemctl enable), not started unless --start. Staged (--destdir or DESTDIR), each step
# works inside that directory: systemd-sysusers, systemd-tmpfiles and systemctl with --root,
# the sysctl file written but not applied. Idempotent: an existing configuration is kept.
# Needs root, except to stage.
#
# usage: scripts/install.sh [options]
#   --prefix DIR      where the programs and units go (default /usr/local: /usr/local/bin,
#                     /usr/local/lib/systemd/system, searched by systemd)
#   --sysconfdir DIR  the configuration's parent (default /etc: /etc/fastgate)
#   --destdir DIR     stage under DIR instead of / (also the DESTDIR environment variable)
#   --build-dir DIR   the meson build directory (default build-install/ in the source tree;
#                     one that exists is reconfigured only for an explicit --prefix or
#                     --sysconfdir)
#   --no-deps         do not run scripts/deps.sh
#   --no-build        install what the build directory holds, without building
#   --hugepages N     2 MiB hugepages reserved at boot (vm.nr_hugepages in
#                     /etc/sysctl.d/60-fastgate-hugepages.conf; default 1024; 0: none)
#   --no-enable       do not enable the units
#   --start           start both units now (a running systemd only)
#   --uninstall       undo an install made from the same build directory: the units
#                     stopped and disabled, every file meson installed removed (its install
#                     log, `ninja uninstall`), the sysctl file removed; the configuration
#                     (/etc/fastgate), /var/lib/fastgate and the user fastgate are kept
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UNITS=(fastgate-dataplane.service fastgate-controlplane.service)
SYSCTL_FILE=/etc/sysctl.d/60-fastgate-hugepages.conf
SYSCTL_MARK="# written by fastgate's scripts/install.sh"

prefix=
sysconfdir=
destdir=${DESTDIR:-}
build=$ROOT/build-install
deps=1
do_build=1
hugepages=1024
enable=1
start=0
uninstall=0

die() {
	echo "install.sh: $*" >&2
	exit 1
}
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
	arg=$1
	shift
	case $arg in
	--prefix | --sysconfdir | --destdir | --build-dir | --hugepages)
		[ $# -gt 0 ] || die "$arg needs a value"
		case $arg in
		--prefix) prefix=$1 ;;
		--sysconfdir) sysconfdir=$1 ;;
		--destdir) destdir=$1 ;;
		--build-dir) build=$1 ;;
		--hugepages) hugepages=$1 ;;
		esac
		shift
		;;
	--no-deps) deps=0 ;;
	--no-build) do_build=0 ;;
	--no-enable) enable=0 ;;
	--start) start=1 ;;
	--uninstall) uninstall=1 ;;
	-h | --help)
		sed -n 's/^# \{0,1\}//; /^usage:/,/the user fastgate are kept/p' "$0"
		exit 0
		;;
	*) die "unknown option '$arg' (try --help)" ;;
	esac
done
[[ $hugepages =~ ^[0-9]+$ ]] || die "--hugepages $hugepages: not a number of pages"
for d in "$prefix" "$sysconfdir"; do
	[ -z "$d" ] || [ "${d#/}" != "$d" ] || die "$d: --prefix and --sysconfdir take absolute paths"
done
if [ -n "$destdir" ]; then
	mkdir -p "$destdir"
	destdir=$(cd "$destdir" && pwd)
	[ "$destdir" != / ] || destdir=
fi
[ -n "$destdir" ] || [ "$(id -u)" = 0 ] || die "run as root (or stage with --destdir DIR)"
build=$(mkdir -p "$(dirname "$build")" && cd "$(dirname "$build")" && pwd)/$(basename "$build")

# systemd running as PID 1: daemon-reload, start and stop make sense (not when staging).
live_systemd() { [ -z "$destdir" ] && [ -d /run/systemd/system ]; }
systemctl_root() {
	if [ -n "$destdir" ]; then
		systemctl --root="$destdir" "$@"
	elif live_systemd; then
		systemctl "$@"
	else
		systemctl --root=/ "$@"
	fi
}

# installed NAME: where meson installs the file named NAME (its path without DESTDIR), from
# the build directory's introspection; the first match.
installed() {
	meson introspect --installed "$build" | python3 -c '
import json, sys
for dst in json.load(sys.stdin).values():
    if dst.endswith("/" + sys.argv[1]):
        print(dst)
        break
else:
    sys.exit(1)
' "$1" || die "the build in $build installs no $1"
}

if [ "$uninstall" = 1 ]; then
	[ -f "$build/meson-logs/install-log.txt" ] || die "no install log in $build/meson-logs: nothing installed from $build"
	if live_systemd; then
		systemctl disable --now "${UNITS[@]}" || true
	else
		systemctl_root disable "${UNITS[@]}" >/dev/null 2>&1 || true
	fi
	say "removing what meson installed (ninja -C $build uninstall)"
	ninja -C "$build" uninstall >/dev/null || die "ninja uninstall failed"
	if [ -f "$destdir$SYSCTL_FILE" ] && grep -qxF "$SYSCTL_MARK" "$destdir$SYSCTL_FILE"; then
		rm -f "$destdir$SYSCTL_FILE"
		say "removed $destdir$SYSCTL_FILE (the hugepages stay reserved until the next boot)"
	fi
	live_systemd && systemctl daemon-reload
	say "uninstalled. Kept: the configuration (the directory fastgate under the sysconfdir:"
	say "  fastgate.conf, token, dataplane.env, controlplane.env), /var/lib/fastgate and the"
	say "  user and group fastgate (userdel fastgate removes them)."
	exit 0
fi

# --- build and install -------------------------------------------------------------------
if [ "$deps" = 1 ]; then
	"$ROOT/scripts/deps.sh" --build-only
fi
for c in meson ninja python3 systemd-sysusers systemd-tmpfiles systemctl; do
	command -v "$c" >/dev/null 2>&1 || die "missing '$c' (scripts/deps.sh installs meson and ninja; systemd the rest)"
done
if [ ! -f "$build/build.ninja" ]; then
	[ "$do_build" = 1 ] || die "--no-build, but $build is not a meson build directory"
	say "configuring $build"
	meson setup --prefix "${prefix:-/usr/local}" --sysconfdir "${sysconfdir:-/etc}" --localstatedir /var \
		-Dtests=false "$build" "$ROOT" >/dev/null || die "meson setup failed"
elif [ -n "$prefix$sysconfdir" ]; then
	opts=()
	[ -z "$prefix" ] || opts+=(--prefix "$prefix")
	[ -z "$sysconfdir" ] || opts+=(--sysconfdir "$sysconfdir")
	meson configure "${opts[@]}" "$build" >/dev/null || die "meson configure failed"
fi
if [ "$do_build" = 1 ]; then
	say "building in $build"
	ninja -C "$build" >/dev/null || die "the build failed (ninja -C $build)"
fi
inst=(meson install -C "$build" --no-rebuild)
[ -z "$destdir" ] || inst+=(--destdir "$destdir")
say "installing${destdir:+ under $destdir}"
"${inst[@]}" >"$build/meson-logs/install-stdout.txt" 2>&1 || {
	cat "$build/meson-logs/install-stdout.txt" >&2
	die "meson install failed"
}
sysusers=$(installed sysusers.d/fastgate.conf)
tmpfiles=$(installed tmpfiles.d/fastgate.conf)
confdir=$(dirname "$(installed fastgate/fastgate.conf.example)")

# The user and group, then the directories they own.
if [ -n "$destdir" ]; then
	systemd-sysusers --root="$destdir" || die "systemd-sysusers failed"
	systemd-tmpfiles --create --root="$destdir" || die "systemd-tmpfiles failed"
else
	systemd-sysusers "$sysusers" || die "systemd-sysusers failed"
	systemd-tmpfiles --create "$tmpfiles" || die "systemd-tmpfiles failed"
fi
getent_root() { # getent_root DATABASE NAME: the entry, in the staging root's files if staged
	if [ -n "$destdir" ]; then
		grep -m1 "^$2:" "$destdir/etc/$1" 2>/dev/null
	else
		getent "$1" "$2"
	fi
}
getent_root passwd fastgate >/dev/null || die "no user fastgate after systemd-sysusers"
getent_root group fastgate >/dev/null || die "no group fastgate after systemd-sysusers"
say "user and group fastgate; /run/fastgate, /run/wireguard, /run/dpdk and /var/lib/fastgate"

# Hugepages: reserved at boot through sysctl.d, and now on a live host.
if [ "$hugepages" -gt 0 ]; then
	f=$destdir$SYSCTL_FILE
	mkdir -p "$(dirname "$f")"
	if [ -f "$f" ] && ! grep -qxF "$SYSCTL_MARK" "$f"; then
		say "keeping $f (not ours)"
	else
		printf '%s\n# 2 MiB hugepages for fastgate-dataplane (DPDK), reserved at boot.\nvm.nr_hugepages = %s\n' \
			"$SYSCTL_MARK" "$hugepages" >"$f"
		say "wrote $f: vm.nr_hugepages = $hugepages ($((hugepages * 2)) MiB)"
		if [ -z "$destdir" ]; then
			sysctl -q -p "$f" || say "warning: sysctl -p $f failed; the pages come at the next boot"
			got=$(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)
			[ "${got:-0}" -ge "$hugepages" ] ||
				say "warning: only ${got:-0} hugepages reserved now (memory fragmented); all of them after a reboot"
		fi
	fi
fi

if live_systemd; then
	systemctl daemon-reload
fi
if [ "$enable" = 1 ]; then
	if ! systemctl_root enable "${UNITS[@]}" 2>&1 | sed 's/^/install.sh: /'; then
		die "systemctl enable failed"
	fi
fi
if [ "$start" = 1 ]; then
	live_systemd || die "--start: no running systemd here${destdir:+ (staged under $destdir)}"
	systemctl start "${UNITS[@]}"
	say "started ${UNITS[*]}"
fi

cat <<EOF
install.sh: done. Before the units run:
  - write $confdir/fastgate.conf from fastgate.conf.example, with your own PrivateKey
    (or none: portal mode) and no example [Peer]; chmod 600 it
  - set the EAL arguments in $confdir/dataplane.env (the NIC bound to vfio-pci)
  - put the portal token in $confdir/token (chmod 600, owner root) and the rest of
    the control plane's settings in $confdir/controlplane.env
  - systemctl start fastgate-controlplane (it starts the data plane)
Each unit is skipped (not failed) at boot until its file exists (fastgate.conf, token).
EOF
