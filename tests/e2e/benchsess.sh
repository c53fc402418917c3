# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/e2e/benchsess.sh: what tests/e2e/test_bench_sessions.sh and scripts/ndr.sh share,
# sourced after lib.sh: the bench-sessions build of the data plane (meson -Dbench_sessions=true),
# the generator's pcaps and keys.txt, a data-only (and lapped) copy of a data pcap, the
# gateway.conf with a TUN name unique to the run, a data plane started on a net_pcap port
# with --bench-sessions, and its counters (SIGUSR1, the stats file).
# Exposes: BS_BUILD (bench-sessions build dir), BS_DP_BIN, BS_GEN_BIN, BS_PCAPS (pcaps and
# keys.txt), BS_CONF, BS_TUN, BS_PID, BS_LOG, BS_STATS.

BS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BS_BUILD=${FG_BENCH_BUILD_DIR:-$BS_ROOT/build-bench-sessions}
BS_DP_BIN=${FG_BENCH_DP_BIN:-$BS_BUILD/dataplane/fastgate-dataplane}
BS_GEN_BIN=${FG_GEN_PCAPS_BIN:-$BS_BUILD/pktgen-profiles/fastgate-gen-pcaps}

# bs_build: configures BS_BUILD (bench_sessions on, no tests) when it has no build.ninja, and
# builds the data plane and the pcap generator there (no-op when up to date). Skipped when
# FG_BENCH_DP_BIN names a binary already.
bs_build() {
	if [ -n "${FG_BENCH_DP_BIN:-}" ] && [ -x "$FG_BENCH_DP_BIN" ] && [ -x "$BS_GEN_BIN" ]; then
		return 0
	fi
	if [ ! -f "$BS_BUILD/build.ninja" ]; then
		meson setup -Dbench_sessions=true -Dtests=false "$BS_BUILD" "$BS_ROOT" >"$FG_WORK/bs-setup.log" 2>&1 ||
			{ cat "$FG_WORK/bs-setup.log" >&2; fg_fail "meson setup $BS_BUILD failed"; }
	fi
	grep -q -- '-DFG_BENCH_SESSIONS=1' "$BS_BUILD/build.ninja" ||
		fg_fail "$BS_BUILD is not a bench_sessions build (meson configure -Dbench_sessions=true $BS_BUILD)"
	ninja -C "$BS_BUILD" -j"$(nproc)" dataplane/fastgate-dataplane pktgen-profiles/fastgate-gen-pcaps \
		>"$FG_WORK/bs-build.log" 2>&1 || { tail -n 30 "$FG_WORK/bs-build.log" >&2; fg_fail "building $BS_BUILD failed"; }
}

# bs_pcaps [GEN ARGS...]: the generator's pcaps, gateway.conf and keys.txt in BS_PCAPS.
bs_pcaps() {
	BS_PCAPS=$FG_WORK/pcaps
	mkdir -p "$BS_PCAPS"
	"$BS_GEN_BIN" "$@" "$BS_PCAPS" >"$FG_WORK/gen-pcaps.log" 2>&1 ||
		{ cat "$FG_WORK/gen-pcaps.log" >&2; fg_fail "fastgate-gen-pcaps failed"; }
}

# bs_data_only IN OUT [LAPS]: OUT gets IN's data messages (WireGuard type 4) only, LAPS times
# over (default 1), in file order: the initiations that open each data pcap would be
# handshakes, not traffic to decrypt. Prints the data messages in one lap.
bs_data_only() {
	/usr/bin/python3 - "$1" "$2" "${3:-1}" <<'EOF'
import struct, sys
src, dst, laps = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, 'rb') as f:
    hdr = f.read(24)
    frames = []
    while True:
        rec = f.read(16)
        if len(rec) < 16:
            break
        length = struct.unpack('<IIII', rec)[2]
        frame = f.read(length)
        # Ethernet 14 + IPv4 20 + UDP 8: the WireGuard type is byte 42.
        if len(frame) > 42 and frame[12:14] == b'\x08\x00' and frame[23] == 17 and frame[42] == 4:
            frames.append(rec + frame)
with open(dst, 'wb') as f:
    f.write(hdr)
    for _ in range(laps):
        for fr in frames:
            f.write(fr)
print(len(frames))
EOF
}

# bs_conf: BS_CONF, the generator's gateway.conf with the TUN named BS_TUN (unique to the run).
bs_conf() {
	BS_TUN=$(fg_name tbs)
	BS_CONF=$FG_WORK/gateway.conf
	sed "s/^Name = tun-fgpktgen\$/Name = $BS_TUN/" "$BS_PCAPS/gateway.conf" >"$BS_CONF"
	chmod 600 "$BS_CONF"   # it holds the (public, test) gateway key: the data plane warns otherwise
	grep -q "^Name = $BS_TUN\$" "$BS_CONF" || fg_fail "gateway.conf of the generator has no [Host] Name line"
}

# bs_dp_start NS VDEV [DP ARGS...]: the bench-sessions data plane in NS (service lcore and one
# worker, no huge pages) on the net_pcap port VDEV, with the sessions of BS_PCAPS/keys.txt;
# waits for its "running" line. BS_PID, BS_LOG, BS_STATS.
bs_dp_start() {
	local ns=$1 vdev=$2
	shift 2
	BS_LOG=$FG_WORK/dataplane.log
	BS_STATS=$FG_WORK/dataplane.stats
	fg_bg "$BS_LOG" ip netns exec "$ns" "$BS_DP_BIN" -l "${FG_LCORES:-0,1}" --no-pci --no-huge --no-shconf \
		--no-telemetry --iova-mode=va -m 128 "--vdev=$vdev" -- --config "$BS_CONF" --stats-file "$BS_STATS" \
		--uapi-dir "$FG_WORK" --ctl-socket "$FG_WORK/dp.ctl" --bench-sessions "$BS_PCAPS/keys.txt" "$@"
	BS_PID=$FG_LAST_PID
	if ! fg_wait_for -t 60 grep -q 'fastgate-dataplane .* running' "$BS_LOG"; then
		cat "$BS_LOG" >&2
		fg_fail "the bench-sessions data plane did not start"
	fi
}

# bs_sink NS: a UDP socket on port 5201 (any address) in NS that never reads: the inner
# packets' destination, 100.64.0.1:5201, is the TUN's own address, and without a socket the
# kernel would answer each with an ICMP port-unreachable back through the tunnel. Started
# before the data plane (the TUN's address does not exist yet). BS_SINK_PID.
bs_sink() {
	rm -f "$FG_WORK/sink.log"
	fg_bg "$FG_WORK/sink.log" ip netns exec "$1" /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("0.0.0.0", 5201))
print("bound", flush=True)
time.sleep(86400)'
	# shellcheck disable=SC2034 # for the scripts that source this file
	BS_SINK_PID=$FG_LAST_PID
	fg_wait_for -t 10 grep -q bound "$FG_WORK/sink.log" || fg_fail "the UDP sink did not start"
}

# bs_udp_refused NS: the UDP datagrams the kernel of NS refused at a full socket (InErrors):
# with the sink never reading, what reached it is these plus what its buffer holds
# (InDatagrams counts only what is read).
bs_udp_refused() {
	# shellcheck disable=SC2016 # awk's fields
	ip netns exec "$1" awk '/^Udp:/ { n++ } /^Udp:/ && n == 2 { print $4 }' /proc/net/snmp
}

# bs_dump: a fresh stats file from the running data plane (SIGUSR1).
bs_dump() {
	rm -f "$BS_STATS"
	kill -USR1 "$BS_PID"
	fg_wait_for -t 10 [ -s "$BS_STATS" ] || fg_fail "no stats file after SIGUSR1"
}

# bs_stat FILE KEY: a counter of a stats file (0 when absent); KEY may be a workerN.* sum
# written as "worker*.NAME".
bs_stat() {
	case $2 in
	'worker*.'*) awk -v k="${2#worker\*.}" '$1 ~ /^worker[0-9]+\./ { n = $1; sub(/^worker[0-9]+\./, "", n); if (n == k) s += $2 } END { print s + 0 }' "$1" ;;
	*) awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1" ;;
	esac
}

# bs_drops BEFORE AFTER: "name delta" for every drop counter that moved between two dumps.
bs_drops() {
	awk 'NR == FNR { if ($1 ~ /^drop\./) b[$1] = $2; next }
	     $1 ~ /^drop\./ && $2 - b[$1] > 0 { printf "%s %d\n", substr($1, 6), $2 - b[$1] }' "$1" "$2"
}
