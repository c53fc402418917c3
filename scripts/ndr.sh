#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/ndr.sh: RFC 2544-style no-drop rate (NDR) of the decrypt path of the real
# fastgate-dataplane, driven by a real generator: tcpreplay replays a data pcap of
# fastgate-gen-pcaps (its data messages only, in a loop) into one end of a veth pair, and
# the data plane's port is DPDK's net_pcap on the other end (iface=, which libpcap opens
# non-blocking). The data plane is the bench-sessions build (meson -Dbench_sessions=true,
# built into build-bench-sessions/ when missing), started with --bench-sessions keys.txt so
# the generator's sessions decrypt, lap after lap. Its TUN delivers the inner packets
# (100.64.1.x -> 100.64.0.1:5201) to the kernel, where a UDP socket bound to that address
# holds them (so no ICMP port-unreachable goes back through the tunnel); the kernel's
# UDP counters are printed beside the data plane's.
#
# For each size: the generator's own top rate, alone (no data plane on the other end); then
# a binary search over the offered rate, each trial TRIAL seconds at a fixed rate
# (tcpreplay --pps). A trial passes when every packet the generator sent (its own
# "Successful packets") was decrypted and written to the TUN (the data plane's worker
# counters, deltas around the trial); the NDR is the highest rate that passed. Every
# trial prints what was lost where: before the worker (veth / AF_PACKET ring, sent -
# received), each worker drop counter that moved, and decrypted but not delivered. A
# result within 5 % of the generator's own top rate is labelled generator-bound: the
# data plane was not the limit.
#
# usage: scripts/ndr.sh [--smoke] [--sizes 64,512,1420] [--peers 1|100] [--trial S]
#                       [--steps N] [--packets N]
#   --smoke     CI: size 64, 1 s trials, 2 search steps (checks the harness, not a figure)
#   --sizes     inner IP sizes of the data pcaps (64, 512, 1420, imix), default 64,512,1420
#   --peers     the pcap's peers, 1 or 100 (default 100)
#   --trial S   seconds per trial (default 10; RFC 2544 asks for 60 in published figures)
#   --steps N   binary-search trials per size after the first (default 6)
#   --packets N data messages per pcap lap (default 4096: at most 4096 counters per peer and
#               lap, inside the replay window, see dataplane/worker/benchlap.h)
# Settings (environment): FG_BENCH_BUILD_DIR, FG_LCORES (the data plane's, 0,1: the worker
# on CPU 1), FG_GEN_CPU (the CPU tcpreplay is pinned to, 0), lib.sh's FG_RUN, FG_KEEP.
# Needs root, tcpreplay and python3. Prints the table and "ndr: done".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=64,512,1420
PEERS=100
TRIAL=10
STEPS=6
PACKETS=4096
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SIZES=64 TRIAL=1 STEPS=2; shift ;;
	--sizes) SIZES=$2; shift 2 ;;
	--peers) PEERS=$2; shift 2 ;;
	--trial) TRIAL=$2; shift 2 ;;
	--steps) STEPS=$2; shift 2 ;;
	--packets) PACKETS=$2; shift 2 ;;
	-h | --help) sed -n 's/^# \{0,1\}//; /^usage:/,/^Settings/p' "$0"; exit 0 ;;
	*) echo "ndr.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
case "$TRIAL$STEPS$PACKETS" in *[!0-9]*) echo "ndr.sh: --trial, --steps and --packets take whole numbers" >&2; exit 2 ;; esac
case $PEERS in 1 | 100) ;; *) echo "ndr.sh: --peers is 1 or 100" >&2; exit 2 ;; esac

# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/benchsess.sh
. "$ROOT/tests/e2e/benchsess.sh"
fg_require_root
fg_need tcpreplay taskset ethtool meson ninja
[ -x /usr/bin/python3 ] || fg_fail "needs Debian's /usr/bin/python3"

fg_log "building the bench-sessions data plane in $BS_BUILD"
bs_build
bs_pcaps --packets "$PACKETS"
bs_conf
NS=$(fg_name nd)
VG=$(fg_name ndg)   # the data plane's end (net_pcap)
VT=$(fg_name ndt)   # the generator's end (tcpreplay)
fg_ns "$NS"
fg_veth --dpdk 1 "$NS" "$VG" - "$NS" "$VT" -
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$VT.disable_ipv6=1"

# replay PCAP RATE SECONDS: tcpreplay into VT (RATE "top" = as fast as it can); sets
# SENT (its successful packets), FAILED, and RATED (its own pps).
replay() {
	local rate=(--pps="$2") out
	[ "$2" = top ] && rate=(--topspeed)
	out=$(ip netns exec "$NS" taskset -c "${FG_GEN_CPU:-0}" tcpreplay -i "$VT" "${rate[@]}" --preload-pcap --loop=0 --duration="$3" "$1" 2>&1) ||
		{ printf '%s\n' "$out" >&2; fg_fail "tcpreplay failed"; }
	SENT=$(printf '%s\n' "$out" | awk '/Successful packets:/ { print $3 }')
	FAILED=$(printf '%s\n' "$out" | awk '/Failed packets:/ { print $3 }')
	RATED=$(printf '%s\n' "$out" | awk '/^Rated:/ { for (i = 1; i <= NF; i++) if ($i == "pps") print int($(i - 1)) }')
	if [ -z "$SENT" ] || [ -z "$RATED" ]; then
		printf '%s\n' "$out" >&2
		fg_fail "cannot read tcpreplay's counts"
	fi
}

# settled: the worker's received count no longer moves (a trial's tail has drained).
settled() {
	local a b
	bs_dump
	a=$(bs_stat "$BS_STATS" 'worker*.nic_rx_packets')
	sleep 0.5
	bs_dump
	b=$(bs_stat "$BS_STATS" 'worker*.nic_rx_packets')
	[ "$a" = "$b" ]
}

# trial PCAP RATE: one trial; PASS (0) when nothing was lost. Prints one line.
trial() {
	local before=$FG_WORK/before.stats after=$FG_WORK/after.stats rx dec tun lost drops
	fg_wait_for -t 30 settled || fg_fail "the data plane's counters do not settle"
	cp "$BS_STATS" "$before"
	replay "$1" "$2" "$TRIAL"
	fg_wait_for -t 30 settled || fg_fail "the data plane's counters do not settle after the trial"
	cp "$BS_STATS" "$after"
	rx=$(($(bs_stat "$after" 'worker*.nic_rx_packets') - $(bs_stat "$before" 'worker*.nic_rx_packets')))
	dec=$(($(bs_stat "$after" 'worker*.decrypted') - $(bs_stat "$before" 'worker*.decrypted')))
	tun=$(($(bs_stat "$after" 'worker*.tun_tx_packets') - $(bs_stat "$before" 'worker*.tun_tx_packets')))
	drops=$(bs_drops "$before" "$after" | tr '\n' ';' | sed 's/;$//; s/;/; /g')
	lost=$((SENT - tun))
	printf '  %5s B  offered %8d pps (tcpreplay %8d pps): sent %9d, failed %d, received %9d (lost before the worker %d), decrypted %9d, to the TUN %9d, lost %d%s -> %s\n' \
		"$SIZE" "$2" "$RATED" "$SENT" "$FAILED" "$rx" $((SENT - rx)) "$dec" "$tun" "$lost" \
		"${drops:+; drops: $drops}" "$([ "$lost" = 0 ] && [ "$FAILED" = 0 ] && echo pass || echo FAIL)"
	# Any loss at or after the worker makes the data plane the limit at this rate.
	[ $((SENT - rx)) -ge "$lost" ] || UPSTREAM_ONLY=0
	[ "$lost" = 0 ] && [ "$FAILED" = 0 ]
}

RESULTS=()
for SIZE in ${SIZES//,/ }; do
	PCAP=$FG_WORK/data-$SIZE-p$PEERS-only.pcap
	[ -f "$BS_PCAPS/data-$SIZE-p$PEERS.pcap" ] || fg_fail "no $BS_PCAPS/data-$SIZE-p$PEERS.pcap (sizes: 64, 512, 1420, imix)"
	PER_LAP=$(bs_data_only "$BS_PCAPS/data-$SIZE-p$PEERS.pcap" "$PCAP")
	# The inner IP bytes of one lap (inner size per message; imix from the pcap's records).
	INNER=$(/usr/bin/python3 - "$PCAP" "$SIZE" <<'EOF'
import struct, sys
sizes = {"64": 64, "512": 512, "1420": 1420}
with open(sys.argv[1], 'rb') as f:
    f.read(24)
    n = total = 0
    while True:
        rec = f.read(16)
        if len(rec) < 16:
            break
        length = struct.unpack('<IIII', rec)[2]
        f.read(length)
        n += 1
        # imix: 7:4:1 of 64/576/1420 in the generator's order (k % 12)
        k = (n - 1) % 12
        total += sizes.get(sys.argv[2], 64 if k < 7 else 576 if k < 11 else 1420)
print(total / n)
EOF
)
	fg_log "size $SIZE: $PER_LAP data messages per lap; the generator alone, $TRIAL s at top speed"
	replay "$PCAP" top "$TRIAL"
	GEN_MAX=$RATED
	fg_log "size $SIZE: generator alone $GEN_MAX pps; starting the data plane"
	bs_sink "$NS"
	SINK_PID=$BS_SINK_PID
	bs_dp_start "$NS" "net_pcap0,iface=$VG" --idle-sleep-us 0
	udp0=$(bs_udp_refused "$NS")
	lo=0 hi=$GEN_MAX best=0 trials=0 UPSTREAM_ONLY=1
	# First the generator's top rate as a fixed rate: passing it means generator-bound.
	# The NDR is the rate the generator achieved in the best passing trial (tcpreplay's own
	# figure), which on a busy machine can be below the rate asked for.
	if trial "$PCAP" "$hi"; then
		best=$RATED
	else
		for _ in $(seq "$STEPS"); do
			mid=$(((lo + hi) / 2))
			[ "$mid" -gt 0 ] || break
			trials=$((trials + 1))
			if trial "$PCAP" "$mid"; then lo=$mid best=$RATED; else hi=$mid; fi
		done
	fi
	trials=$((trials + 1))
	fg_log "size $SIZE: the kernel refused $(($(bs_udp_refused "$NS") - udp0)) UDP datagrams at the full sink socket (the rest of what the TUN took is in its buffer)"
	fg_check_log_no_errors "$BS_LOG"
	fg_stop "$BS_PID" "$SINK_PID"
	label=dataplane
	[ "$UPSTREAM_ONLY" = 1 ] && label="test bed: every loss before the worker (veth, net_pcap)"
	[ "$best" -gt 0 ] && [ $((best * 100)) -ge $((GEN_MAX * 95)) ] && label=generator-bound
	RESULTS+=("$(/usr/bin/python3 -c "import sys; b, g, i = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print('%6s  %8.3f  %8.2f  %6s  %8.3f  %s' % (sys.argv[4], b / 1e6, b * i * 8 / 1e9, sys.argv[5], g / 1e6, sys.argv[6]))" \
		"$best" "$GEN_MAX" "$INNER" "$SIZE" "$trials" "$label")")
done

echo
echo "NDR, decrypt, fastgate-dataplane (bench-sessions build, 1 worker, aead $(awk '$1 == "aead_backend" { print $2 }' "$BS_STATS" 2>/dev/null)"\
	"net_pcap on a veth, p$PEERS, $TRIAL s trials, zero loss), generator tcpreplay $(tcpreplay --version 2>&1 | awk 'NR == 1 { print $3 }')"
echo "  size  NDR Mpps  inner Gbit/s  trials  gen. alone Mpps  limit"
for r in "${RESULTS[@]}"; do
	echo "  $r"
done
echo "ndr: done"
