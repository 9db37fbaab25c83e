/**
 * S7 (issue 14 item 4): catch-up and reconnect storm.
 *  (a) catch-up: a device offline through 30 days of a family's activity on a profile reconnects;
 *      time until synced and bytes on the wire both ways, against stock Hocuspocus and stock
 *      providers doing the same catch-up of the same edits on plain Y.Docs (lib/catchup.ts).
 *      Target: catch-up bytes <= 1.5x plaintext.
 *  (b) storm: 1,000 clients (200 profiles x 5 devices, real vault `Profile`s spread over client
 *      processes) synced, then every connection cut at once at the relay, and then the relay
 *      process killed and started again (same port, same data); time from the cut until each
 *      client is synced again, p50/p99/max, against stock Hocuspocus with stock providers
 *      (lib/storm.ts). Target: all synced within 5 s at p99.
 * The servers run in child processes of their own; the storm's clients in S7_PROCESSES child
 * processes (default 4), the catch-up's members in this process.
 * S7_PROFILES=n changes the storm's profile count (x 5 devices); BENCH_QUICK=1: 20 profiles, 5 days.
 */
import { cpus, loadavg } from 'node:os';
import { environment, fmtBytes, fmtMs, median, QUICK, round, writeResult, type BenchResult, type RatioRow } from './lib/common.ts';
import { catchup, type CatchupTrial } from './lib/catchup.ts';
import { storm, type StormRound } from './lib/storm.ts';

const DAYS = QUICK ? 5 : 30;
const WRITERS = 4;
const OFFLINE = 3;
const SEED = 7007;
const PROFILES = Number(process.env.S7_PROFILES ?? (QUICK ? 20 : 200));
const DEVICES = 5;
const PROCESSES = Number(process.env.S7_PROCESSES ?? (QUICK ? 2 : 4));
const STORM_TARGET_MS = 5_000;
const BYTES_TARGET = 1.5;

const bytesOf = (t: CatchupTrial) => t.up + t.down;

/** Where a storm round's time went: reaching an open socket, then catching up on it. */
const anatomy = (what: string, r: StormRound) =>
  `${what}: socket open p50 ${fmtMs(r.openedP50)} / p99 ${fmtMs(r.openedP99)} after the cut, open -> synced p50 ${fmtMs(r.openToSyncedP50)} / p99 ${fmtMs(r.openToSyncedP99)}; clients by attempts [${r.clientsByAttempts.join(', ')}]; accept-queue overflows ${r.listenOverflows}; CPU clients ${fmtMs(r.clientCpuMs)}, server ${fmtMs(r.serverCpuMs)}`;

function stormRows(what: string, ours: StormRound, peer: StormRound): RatioRow[] {
  const allBack = ours.back === ours.clients;
  return [
    { metric: `storm, ${what}: all ${ours.clients} synced again, p99`, ours: allBack ? fmtMs(ours.p99) : `${ours.back}/${ours.clients} back`, peer: fmtMs(peer.p99), ratio: round(ours.p99 / peer.p99, 2), target: '<= 5 s', met: allBack && ours.p99 <= STORM_TARGET_MS },
    { metric: `storm, ${what}: p50`, ours: fmtMs(ours.p50), peer: fmtMs(peer.p50), ratio: round(ours.p50 / peer.p50, 2), target: '(info)', met: null },
    { metric: `storm, ${what}: max`, ours: fmtMs(ours.max), peer: fmtMs(peer.max), ratio: round(ours.max / peer.max, 2), target: '(info)', met: null },
  ];
}

export async function runS7(): Promise<BenchResult> {
  const loadBefore = loadavg()[0]!;
  const c = await catchup({ days: DAYS, writers: WRITERS, offline: OFFLINE, seed: SEED });
  const encBytes = median(c.encrypted.map(bytesOf));
  const plainBytes = median(c.plain.map(bytesOf));
  const encMs = median(c.encrypted.map((t) => t.ms));
  const plainMs = median(c.plain.map((t) => t.ms));
  console.log(`  S7 catch-up after ${DAYS} days (${c.edits} edits): ${fmtBytes(encBytes)} vs ${fmtBytes(plainBytes)}, ${fmtMs(encMs)} vs ${fmtMs(plainMs)}`);
  const loadMid = loadavg()[0]!;
  const o = { profiles: PROFILES, devices: DEVICES, processes: PROCESSES };
  const enc = await storm('encrypted', o);
  const plain = await storm('plain', o);
  const result: BenchResult = {
    id: 'S7',
    title: 'S7 catch-up after 30 days offline; reconnect storm of 1,000 clients',
    env: environment(),
    rows: [
      { metric: `catch-up after ${DAYS} days offline: bytes on the wire, both ways (median of ${OFFLINE})`, ours: fmtBytes(encBytes), peer: fmtBytes(plainBytes), ratio: round(encBytes / plainBytes, 2), target: `<= ${BYTES_TARGET}x`, met: encBytes <= BYTES_TARGET * plainBytes },
      { metric: `catch-up after ${DAYS} days offline: reconnect -> synced (median of ${OFFLINE})`, ours: fmtMs(encMs), peer: fmtMs(plainMs), ratio: round(encMs / plainMs, 1), target: '(info)', met: null },
      ...stormRows('every connection dropped', enc.drop, plain.drop),
      ...stormRows('server process killed and restarted', enc.restart, plain.restart),
      { metric: 'storm: kill -> restarted server listening (info, inside the restart figures)', ours: fmtMs(enc.restart.restartMs!), peer: fmtMs(plain.restart.restartMs!), ratio: null, target: '(info)', met: null },
    ],
    notes: [
      `catch-up: ${WRITERS} members (owner + 3 editors, each a Profile with its own key and engine) make ${c.edits} seeded edits over ${DAYS} days (seed ${SEED}: vitals, doses, journal entries, medications, family-note lines; each edit flushed as its own record) while ${OFFLINE} devices are disconnected; each then reconnects alone through the counting proxy. Plaintext: the same plain-doc updates, as captured, applied on stock providers (each after its replica has the earlier edits), same day-0 state; the caught-up replicas of both sides hold the same plain state: ${c.sameContent}. History took ${fmtMs(c.historyMs)} on the encrypted side.`,
      `catch-up trials (encrypted): ${c.encrypted.map((t) => `${fmtMs(t.ms)} ${fmtBytes(bytesOf(t))} in ${t.frames} frames`).join('; ')}; plaintext: ${c.plain.map((t) => `${fmtMs(t.ms)} ${fmtBytes(bytesOf(t))} in ${t.frames} frames`).join('; ')}.`,
      `storm: ${enc.clients} encrypted clients (${PROFILES} profiles x ${DEVICES} devices, real Profiles, one WebSocket each, the app's default back-off) in ${enc.processes} client processes (${enc.clientRssMiB.join('/')} MiB resident), synced in ${fmtMs(enc.setupMs)}; plaintext ${plain.clients} stock providers likewise (${plain.clientRssMiB.join('/')} MiB), synced in ${fmtMs(plain.setupMs)}. Cut: the server destroys every TCP connection at once; restart: SIGKILL of the server process, a new one on the same port (relay: same SQLite data). Time from the cut or kill (the server's clock) until each client is synced again.`,
      `storm back in time (${120} s): encrypted drop ${enc.drop.back}/${enc.drop.clients}, restart ${enc.restart.back}/${enc.restart.clients}; plaintext drop ${plain.drop.back}/${plain.drop.clients}, restart ${plain.restart.back}/${plain.restart.clients}. Synced when collected: encrypted ${enc.drop.syncedAtEnd}/${enc.restart.syncedAtEnd}, plaintext ${plain.drop.syncedAtEnd}/${plain.restart.syncedAtEnd}.`,
      `Anatomy (TcpExtListenOverflows is machine-wide): ${anatomy('encrypted drop', enc.drop)}. ${anatomy('encrypted restart', enc.restart)}. ${anatomy('plaintext drop', plain.drop)}. ${anatomy('plaintext restart', plain.restart)}.`,
      `All ${enc.processes} client processes, the server process and this one share ${cpus().length} cores: the storm's figures include the clients' own CPU (1,000 devices are 1,000 machines in life). Machine load average (1 min) ${loadBefore.toFixed(1)} before, ${loadMid.toFixed(1)} after the catch-up, ${loadavg()[0]!.toFixed(1)} at the end.`,
    ],
    data: { catchup: c, storm: { encrypted: enc, plain } },
  };
  writeResult(result);
  return result;
}
