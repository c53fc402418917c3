#!/bin/bash
# SPDX-License-Identifier: MIT
# Interop proof of fastgate's ICE agent (controlplane/ice, controlled role) against
# werift-ice 0.2.3 (npm, pure TypeScript) as the controlling agent, as TESTBED.md §5 plans.
# Usage: ice_werift.sh PATH/TO/ice_udp_agent   (builds nothing; meson passes the binary)
#
# Both agents run on loopback (127.0.0.1, ports picked from the PID). Two runs:
#   1. werift-ice is given our host candidate line, we are given none: we learn its address
#      as peer-reflexive from its checks, answer, check back, follow its USE-CANDIDATE, and
#      the application data it sends over the selected pair reaches us;
#   2. both are given the other's candidate line (werift's "LOCAL candidate:" output is fed
#      to our agent through the portal's line form).
# werift-ice is installed with npm into a cache folder beside the binary the first time;
# without node/npm, or when the install fails (no registry), the test exits 77 (skipped).
# Processes are killed by their recorded PIDs only.
set -u

BIN=${1:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "usage: $0 PATH/TO/ice_udp_agent" >&2
	exit 2
fi
BIN=$(readlink -f "$BIN")
for c in node npm; do
	if ! command -v "$c" >/dev/null; then
		echo "SKIP: ice-werift needs $c"
		exit 77
	fi
done
NPM_DIR=${FG_WERIFT_DIR:-$(dirname "$BIN")/werift-npm}
if [ ! -d "$NPM_DIR/node_modules/werift-ice" ]; then
	mkdir -p "$NPM_DIR"
	if ! (cd "$NPM_DIR" && { [ -f package.json ] || npm init -y >/dev/null 2>&1; } &&
	      timeout 180 npm install --no-audit --no-fund werift-ice@0.2.3 >/dev/null 2>&1); then
		echo "SKIP: npm install werift-ice@0.2.3 failed (no registry?)"
		exit 77
	fi
fi
TMP=$(mktemp -d /tmp/fg-ice-werift.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# werift-ice as the controlling agent (the script of TESTBED.md §5, with loopback allowed).
cat > "$NPM_DIR/fg_werift_ice.mjs" <<'JSEOF'
// usage: node fg_werift_ice.mjs LOCAL_IP LOCAL_PORT UFRAG PWD R_UFRAG R_PWD "candidate:..." SECONDS
import { Connection, Candidate } from "werift-ice";
const [lip, lport, ufrag, pwd, rufrag, rpwd, rcand, secs = "10"] = process.argv.slice(2);
const conn = new Connection(true, {
  useIpv4: true, useIpv6: false, portRange: [Number(lport), Number(lport)],
  interfaceAddresses: { udp4: lip },
});
conn.localUsername = ufrag;
conn.localPassword = pwd;
conn.setRemoteParams({ iceLite: false, usernameFragment: rufrag, password: rpwd });
conn.stateChanged.subscribe((s) => console.log("STATE", s));
await conn.gatherCandidates();
for (const c of conn.localCandidates) console.log("LOCAL candidate:" + c.toSdp());
if (rcand) await conn.addRemoteCandidate(Candidate.fromSdp(rcand.replace(/^a=/, "").replace(/^candidate:/, "")));
await conn.addRemoteCandidate(undefined);
const t0 = Date.now();
const timer = setTimeout(() => { console.log("TIMEOUT"); process.exit(1); }, Number(secs) * 1000);
await conn.connect();
const p = conn.nominated;
console.log("SELECTED", p.localCandidate.host + ":" + p.localCandidate.port, "<->",
            p.remoteCandidate.host + ":" + p.remoteCandidate.port, "after", Date.now() - t0, "ms");
let n = 0;
const iv = setInterval(() => conn.send(Buffer.from("werift-" + ++n)), 200);
setTimeout(async () => { clearInterval(iv); clearTimeout(timer); await conn.close(); console.log("DONE sent", n); process.exit(0); }, 2000);
JSEOF

GW_PORT=$((20000 + $$ % 20000))
CL_PORT=$((GW_PORT + 1))
rc=0

run() {   # NAME, then whether our agent is given werift's candidate
	local name=$1 give=$2 ours cl_line
	PIDS=()
	# werift's candidate first (no socket needed to know it: host on the given port)
	cl_line="candidate:1 1 udp 2130706431 127.0.0.1 $CL_PORT typ host"
	if [ "$give" = yes ]; then
		"$BIN" 127.0.0.1 "$GW_PORT" 10 "$cl_line" > "$TMP/$name.gw" 2>&1 &
	else
		"$BIN" 127.0.0.1 "$GW_PORT" 10 > "$TMP/$name.gw" 2>&1 &
	fi
	PIDS+=($!)
	for _ in $(seq 50); do grep -q '^candidate ' "$TMP/$name.gw" && break; sleep 0.05; done
	ours=$(sed -n 's/^candidate //p' "$TMP/$name.gw" | head -n1)
	(cd "$NPM_DIR" && timeout 15 node fg_werift_ice.mjs 127.0.0.1 "$CL_PORT" hgwh j2fqufatn7xlrrvv6fsvea \
		ejqt zfjrrjdkbci42t2axyd45a "$ours" 8) > "$TMP/$name.cl" 2>&1 &
	PIDS+=($!)
	wait "${PIDS[0]}"
	local gw_rc=$?
	wait "${PIDS[1]}"
	echo "-- $name: fastgate (controlled)"; cat "$TMP/$name.gw"
	echo "-- $name: werift-ice (controlling)"; cat "$TMP/$name.cl"
	if [ $gw_rc -ne 0 ] || ! grep -q '^nominated ' "$TMP/$name.gw" || ! grep -q '^SELECTED' "$TMP/$name.cl"; then
		echo "FAIL: $name"
		rc=1
	else
		echo "PASS: $name"
	fi
	GW_PORT=$((GW_PORT + 2))
	CL_PORT=$((CL_PORT + 2))
}

run prflx no
run signalled yes
exit $rc
