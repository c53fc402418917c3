// SPDX-License-Identifier: MIT
//
// tests/e2e/ice_shim.mjs: a real ICE agent nobody here wrote (werift-ice 0.2.3, npm, pure
// TypeScript) carrying wireguard-go's UDP datagrams over the candidate pair ICE nominated:
// the Firezone client's side of an end-to-end ICE test (controlling), or a stand-in gateway
// for the self-test (controlled).
//
// usage: node ice_shim.mjs --role controlling|controlled --local-ip IP --ufrag U --pwd P
//          --remote-ufrag RU --remote-pwd RP [--stun IP:PORT]
//          [--turn IP:PORT --turn-user U --turn-pass-file F]
//          --wg-port N --listen-port N --cands-in FILE [--port N]
//
// werift-ice is found as the bare module "werift-ice" next to this file (copied into the
// npm cache folder), else in $FG_WERIFT_DIR/node_modules, else in ./node_modules of the
// working directory (cd to the cache folder and run this file by its path).
//
// stdout, one line each (flushed: stdout is a file or pipe, written synchronously):
//   LOCAL candidate:<sdp>       each local candidate, after gathering (host, srflx, relay)
//   GATHERED <n>                after the LOCAL lines of one gathering
//   REMOTE <sdp> / INVALIDATED <sdp> / IGNORED <line> (<why>)   cands-in lines as taken
//   STATE <state>               werift's connection state changes
//   SELECTED <lip:lport> <-> <rip:rport> type <remote type> after <ms> ms
//   STATS tx N rx N             every 5 s: datagrams wireguard-go -> ICE, ICE -> wireguard-go
//   PAIR <l> <-> <r> requests_tx N responses_rx N requests_rx N consent_tx N state S
//                               every 5 s once nominated: werift's counters of the selected
//                               pair (requests_rx rising = the peer's consent checks arrive)
//   RESTART                     on SIGUSR2, before the new LOCAL lines
//   WARN ... / FATAL ...        (FATAL on stderr, then exit 1)
//
// cands-in FILE: remote candidates, one a line, appended by the test ("candidate:..." or
// "a=candidate:..." or the bare SDP attribute value); polled every 100 ms. A line "-<cand>"
// invalidates that candidate: it is dropped from the list used on the next restart (werift
// cannot remove a candidate from a live Connection; the line is logged as INVALIDATED).
//
// SIGUSR2: ICE restart from this side (a Firezone client does this when its connection
// fails): the Connection is closed, a new one made with the same credentials, the remote
// candidates (minus the invalidated ones, plus any new ones) given again, and connect()
// run again; the WireGuard datagram socket stays open throughout. SIGTERM: exit 0.
//
// werift-ice 0.2.3 facts this relies on (lib/ice/src/ice.js):
// * options: stunServer/turnServer are [host, port] tuples, turnUsername, turnPassword,
//   turnTransport "udp"|"tcp"|"tls", portRange [lo, hi], interfaceAddresses {udp4: ip},
//   additionalHostAddresses [ip]. Without stunServer the constructor falls back to
//   stun.l.google.com:19302: the shim clears conn.stunServer when --stun is not given.
// * host addresses: werift takes every interface address and filters by
//   interfaceAddresses only when one matches (else keeps them all, e.g. for 127.0.0.1); the
//   shim turns useIpv4/useIpv6 off and names --local-ip in additionalHostAddresses, so the
//   one IPv4 address it is given is the only host candidate, bound to that address.
// * the nominated pair is conn.nominated (a CandidatePair) once connect() resolves.
// * connect() without end-of-candidates (addRemoteCandidate(undefined)) keeps scheduling
//   checks every 20 ms until a pair is nominated, so remote candidates may be added before
//   or after connect() starts (trickle); the shim never signals end-of-candidates.
// * after connect() werift runs RFC 7675 consent checks on the nominated pair every
//   5 s +-20 % (both roles); 30 s without a valid response -> state "failed" and send()
//   drops data. Its own restart() makes new credentials, hence a new Connection here.
// * the TURN socket uses the same portRange as the host socket: with --port and --turn the
//   shim gives the range [port, port+15] (host candidate usually on port).

import { createRequire } from "node:module";
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

function out(line) {
  process.stdout.write(line + "\n");
}
function fatal(msg) {
  process.stderr.write("FATAL " + msg + "\n");
  process.exit(1);
}

// --- arguments ---------------------------------------------------------------------------
const KNOWN = new Set([
  "role", "local-ip", "ufrag", "pwd", "remote-ufrag", "remote-pwd", "stun", "turn",
  "turn-user", "turn-pass-file", "wg-port", "listen-port", "cands-in", "port",
]);
const args = {};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) fatal(`unexpected argument '${a}'`);
    const k = a.slice(2);
    if (!KNOWN.has(k)) fatal(`unknown flag --${k}`);
    if (i + 1 >= argv.length) fatal(`--${k} needs a value`);
    args[k] = argv[++i];
  }
  for (const k of ["role", "local-ip", "ufrag", "pwd", "remote-ufrag", "remote-pwd",
                   "wg-port", "listen-port", "cands-in"]) {
    if (args[k] === undefined) fatal(`--${k} is required`);
  }
  if (!["controlling", "controlled"].includes(args.role)) fatal("--role: controlling|controlled");
  if (args.turn && (!args["turn-user"] || !args["turn-pass-file"])) {
    fatal("--turn needs --turn-user and --turn-pass-file");
  }
}
function hostPort(s, flag) {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(s);
  if (!m) fatal(`--${flag}: want IPv4:PORT, got '${s}'`);
  return [m[1], Number(m[2])];
}
function portNum(s, flag) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fatal(`--${flag}: bad port '${s}'`);
  return n;
}
const controlling = args.role === "controlling";
const localIp = args["local-ip"];
const wgPort = portNum(args["wg-port"], "wg-port");
const listenPort = portNum(args["listen-port"], "listen-port");
const fixedPort = args.port !== undefined ? portNum(args.port, "port") : undefined;
const stun = args.stun ? hostPort(args.stun, "stun") : undefined;
const turn = args.turn ? hostPort(args.turn, "turn") : undefined;
let turnPass;
if (turn) {
  try {
    turnPass = fs.readFileSync(args["turn-pass-file"], "utf8").trim();
  } catch (e) {
    fatal(`--turn-pass-file: ${e.message}`);
  }
}
const candsIn = args["cands-in"];
{
  const mine = Object.values(os.networkInterfaces()).flat()
    .filter((i) => i && (i.family === "IPv4" || i.family === 4)).map((i) => i.address);
  if (!mine.includes(localIp)) fatal(`--local-ip ${localIp} is on no interface here`);
}

// --- werift-ice --------------------------------------------------------------------------
async function loadWerift() {
  try {
    return await import("werift-ice");
  } catch (_) {
    /* not beside this file: look where we were told */
  }
  const dirs = [process.env.FG_WERIFT_DIR, process.cwd()].filter(Boolean);
  for (const d of dirs) {
    try {
      return createRequire(path.join(path.resolve(d), "noop.js"))("werift-ice");
    } catch (_) {
      /* next */
    }
  }
  fatal(`werift-ice not found (beside ${import.meta.url}, in $FG_WERIFT_DIR, or in ${process.cwd()})`);
}
const werift = await loadWerift();
const { Connection, Candidate } = werift;
{
  let v = "?";
  try {
    const req = createRequire(path.join(path.resolve(process.env.FG_WERIFT_DIR || process.cwd()), "noop.js"));
    v = req("werift-ice/package.json").version;
  } catch (_) {
    /* version unknown */
  }
  out(`# werift-ice ${v}, role ${args.role}, local ${localIp}, wg 127.0.0.1:${wgPort}, listen 127.0.0.1:${listenPort}`);
}

// --- remote candidates from the cands-in file ---------------------------------------------
// remotes: sdp (no prefix) -> { sdp, invalid }; order kept by insertion.
const remotes = new Map();
function stripPrefix(s) {
  return s.trim().replace(/^a=/, "").replace(/^candidate:/, "");
}
function parseCand(sdp) {
  try {
    return Candidate.fromSdp(sdp);
  } catch (e) {
    return undefined;
  }
}
let fileOffset = 0;
let partial = "";
function pollCands() {
  let buf;
  try {
    const fd = fs.openSync(candsIn, "r");
    try {
      const st = fs.fstatSync(fd);
      if (st.size < fileOffset) { // truncated: start over
        fileOffset = 0;
        partial = "";
      }
      if (st.size === fileOffset) return;
      buf = Buffer.alloc(st.size - fileOffset);
      const n = fs.readSync(fd, buf, 0, buf.length, fileOffset);
      buf = buf.subarray(0, n);
      fileOffset += n;
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if (e.code !== "ENOENT") out(`WARN cands-in ${candsIn}: ${e.message}`);
    return;
  }
  const text = partial + buf.toString("utf8");
  const lines = text.split("\n");
  partial = lines.pop(); // an unfinished last line waits for its newline
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("-")) {
      const sdp = stripPrefix(line.slice(1));
      const r = remotes.get(sdp);
      if (r) r.invalid = true;
      else remotes.set(sdp, { sdp, invalid: true });
      out(`INVALIDATED ${sdp}`);
      continue;
    }
    const sdp = stripPrefix(line);
    const c = parseCand(sdp);
    if (!c) {
      out(`IGNORED ${line} (not a candidate)`);
      continue;
    }
    if (!["host", "srflx", "relay"].includes(c.type)) {
      out(`IGNORED ${line} (type ${c.type})`);
      continue;
    }
    const known = remotes.get(sdp);
    if (known && !known.invalid) continue;
    remotes.set(sdp, { sdp, invalid: false });
    out(`REMOTE ${sdp}`);
    if (session && session.ready) {
      session.conn.addRemoteCandidate(parseCand(sdp)).catch((e) => out(`WARN addRemoteCandidate: ${e.message}`));
    }
  }
}

// --- the WireGuard datagram socket ---------------------------------------------------------
let tx = 0;
let rx = 0;
let txDropped = 0;
const wg = dgram.createSocket("udp4");
wg.on("error", (e) => fatal(`wg socket: ${e.message}`));
wg.on("message", (msg) => {
  const s = session;
  if (!s || !s.conn.nominated || s.conn.state === "closed") {
    txDropped++;
    return;
  }
  tx++;
  s.conn.send(msg).catch(() => txDropped++);
});
await new Promise((resolve) => wg.bind({ port: listenPort, address: "127.0.0.1" }, resolve));
function toWg(data) {
  rx++;
  wg.send(data, wgPort, "127.0.0.1");
}
setInterval(() => {
  out(`STATS tx ${tx} rx ${rx}`);
  const p = session && session.conn.nominated;
  if (p) {
    out(`PAIR ${p.localCandidate.host}:${p.localCandidate.port} <-> ${p.remoteCandidate.host}:${p.remoteCandidate.port}` +
        ` requests_tx ${p.requestsSent} responses_rx ${p.responsesReceived} requests_rx ${p.requestsReceived}` +
        ` consent_tx ${p.consentRequestsSent} state ${session.conn.state}`);
  }
}, 5000);

// --- ICE sessions ---------------------------------------------------------------------------
let session;
let generation = 0;

function iceOptions() {
  const o = {
    useIpv4: false, // see the header: additionalHostAddresses is the only host address
    useIpv6: false,
    additionalHostAddresses: [localIp],
    interfaceAddresses: { udp4: localIp },
  };
  if (fixedPort !== undefined) o.portRange = [fixedPort, turn ? Math.min(fixedPort + 15, 65535) : fixedPort];
  if (stun) o.stunServer = stun;
  if (turn) {
    o.turnServer = turn;
    o.turnUsername = args["turn-user"];
    o.turnPassword = turnPass;
    o.turnTransport = "udp";
  }
  return o;
}

async function startSession() {
  const gen = ++generation;
  const conn = new Connection(controlling, iceOptions());
  if (!stun) conn.stunServer = undefined; // else werift asks stun.l.google.com
  conn.localUsername = args.ufrag;
  conn.localPassword = args.pwd;
  conn.setRemoteParams({ iceLite: false, usernameFragment: args["remote-ufrag"], password: args["remote-pwd"] });
  const s = { gen, conn, ready: false };
  session = s;
  conn.stateChanged.subscribe((st) => {
    if (session === s) out(`STATE ${st}`);
  });
  conn.onData.subscribe((data) => {
    if (session === s) toWg(data);
  });
  await conn.gatherCandidates();
  if (session !== s) return;
  const locals = conn.localCandidates.filter((c) => c.host && c.port);
  for (const c of locals) out(`LOCAL candidate:${c.toSdp()}`);
  out(`GATHERED ${locals.length}`);
  if (!locals.some((c) => c.type === "host")) out("WARN no host candidate");
  if (stun && !locals.some((c) => c.type === "srflx")) out(`WARN no srflx candidate from ${stun.join(":")}`);
  if (turn && !locals.some((c) => c.type === "relay")) out(`WARN no relay candidate from ${turn.join(":")}`);
  pollCands();
  for (const r of remotes.values()) {
    if (!r.invalid) await conn.addRemoteCandidate(parseCand(r.sdp));
  }
  s.ready = true;
  const t0 = Date.now();
  try {
    await conn.connect();
  } catch (e) {
    if (session === s && conn.state !== "closed") out(`WARN connect: ${e.message}`);
    return;
  }
  if (session !== s) return;
  const p = conn.nominated;
  if (!p) {
    out("WARN connect returned without a nominated pair");
    return;
  }
  out(`SELECTED ${p.localCandidate.host}:${p.localCandidate.port} <-> ${p.remoteCandidate.host}:${p.remoteCandidate.port} type ${p.remoteCandidate.type} after ${Date.now() - t0} ms`);
}

function run(promise) {
  promise.catch((e) => fatal(`ICE: ${e && e.stack ? e.stack : e}`));
}

let restarting = false;
let restartAgain = false;
async function restart() {
  if (restarting) {
    restartAgain = true;
    return;
  }
  restarting = true;
  try {
    do {
      restartAgain = false;
      const old = session;
      session = undefined;
      if (old) await old.conn.close();
      out("RESTART");
      run(startSession());
    } while (restartAgain);
  } finally {
    restarting = false;
  }
}

process.on("SIGUSR2", () => run(restart()));
process.on("SIGTERM", async () => {
  const s = session;
  session = undefined;
  try {
    if (s) await Promise.race([s.conn.close(), new Promise((r) => setTimeout(r, 1000))]);
  } finally {
    process.exit(0);
  }
});
process.on("SIGINT", () => process.exit(0));
process.on("uncaughtException", (e) => fatal(`uncaught: ${e && e.stack ? e.stack : e}`));
process.on("unhandledRejection", (e) => out(`WARN unhandled rejection: ${e && e.message ? e.message : e}`));

setInterval(pollCands, 100);
run(startSession());
