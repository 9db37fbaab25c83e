/**
 * S3's client process (forked by scale-clients.ts): many raw WebSocket clients speaking
 * Hocuspocus's frames directly (no provider, no Y.Doc), so one process holds thousands of
 * authenticated connections. Every socket carries one document: it authenticates (a real
 * member token signed here for the relay; any string for stock Hocuspocus, which checks none),
 * asks for the document's state (SyncStep1 with an empty state vector, as a fresh provider does)
 * and, for a document's creator, sends its first update and waits for the server's
 * acknowledgement; from then on it keeps the connection alive as the vault's client does. Writers then send their pre-made edit updates on a schedule and the other
 * sockets of the same document (same process, same clock) time their arrival.
 * IPC (advanced serialization, so byte arrays pass as they are):
 *   {type:'open', url, sockets: SocketSpec[]} -> {type:'opened', ok, failed, errors}
 *   {type:'edits', periodMs, durationMs}      -> {type:'edited', latencies, arrivals, sent, missing, dropped, cpuShare, loop}
 *   (arrivals: [doc, edit index, sent, arrived] on the machine-wide monotonic clock, loop-watch.ts;
 *   loop: this process's event-loop delay, collections and stalls over the edit phase)
 *   {type:'close', docs?: number[]}           -> {type:'closed', closed}  (without docs: exit)
 */
import { WebSocket } from 'ws';
import { createNodeCryptoEngine } from '../../src/lib/crypto/ed25519-node.ts';
import { utf8, type SigningSecretKey } from '../../src/lib/crypto/index.ts';
import { createAuthToken } from '../../src/lib/protocol/index.ts';
import { frame, readVarBytes, readVarUint } from '../../src/lib/protocol/hocuspocus-frames.ts';
import { loopWatch, toHr } from './loop-watch.ts';

export interface SocketSpec {
  /** Index of the document in the run (all sockets of a document live in one process). */
  readonly doc: number;
  readonly name: string;
  /** Relay only: the member key the token is signed with, and the doc id it names. */
  readonly secret?: Uint8Array;
  readonly docId?: Uint8Array;
  /** The creator's token carries the genesis nonce (the document does not exist yet). */
  readonly genesisNonce?: Uint8Array;
  /** Sent once authenticated; the socket is open when the server acknowledged it. */
  readonly initial?: Uint8Array;
  /** A writer's edit updates, sent one per period during the edit phase. */
  readonly edits?: readonly Uint8Array[];
  /** The document's state vector after 0, 1, ... edits (scale-fixtures.ts stateVectors). */
  readonly stateVectors: readonly Uint8Array[];
}

// Hocuspocus message types and sub-types (@hocuspocus/common, @hocuspocus/server).
const SYNC = 0;
const AUTH = 2;
const SYNC_STATUS = 8;
const STEP1 = 0;
const STEP2 = 1;
const UPDATE = 2;
const AUTH_TOKEN = 0;
const AUTH_DENIED = 1;
const AUTHENTICATED = 2;
const OPEN_TIMEOUT_MS = 120_000;
const PARALLEL = 32;
const TOKEN_LIFETIME_MS = 9 * 60_000;
/**
 * Stock Hocuspocus (4.7) closes a connection that sent nothing for 60 s (its `timeout`); real
 * clients never go that quiet: the vault's connection asks for a sync every 30 s
 * (relay-connection.ts forceSyncInterval), the stock provider renews its awareness every 15 s.
 * Every socket here, on both sides, sends what the vault's does: a SyncStep1 with the document's
 * current state vector (answered with an empty diff), every 30 s from a random start.
 */
const KEEPALIVE_MS = 30_000;

interface Client {
  readonly spec: SocketSpec;
  readonly ws: WebSocket;
  /** Closed on the parent's request (not a drop). */
  closing: boolean;
}

const engine = createNodeCryptoEngine();
const clients: Client[] = [];
const byDoc = new Map<number, Client[]>();
/** Edits sent per document so far (all of a document's sockets are in this process). */
const editsSent = new Map<number, number>();
/** Edit in flight per document: when it was sent and how many peers still have to see it. */
const inFlight = new Map<number, { sentAt: number; k: number; waiting: number }>();
let latencies: number[] = [];
let arrivals: [doc: number, k: number, sent: number, arrived: number][] = [];
const watch = loopWatch();
/** Sockets that closed without being asked to, by close code and reason. */
const dropped = new Map<string, number>();

const send = (m: unknown) => process.send!(m);

async function tokenOf(spec: SocketSpec): Promise<string> {
  if (!spec.secret || !spec.docId) return 'bench';
  return createAuthToken({ secretKey: spec.secret as SigningSecretKey, docId: spec.docId, expiresAt: Date.now() + TOKEN_LIFETIME_MS, genesisNonce: spec.genesisNonce, engine });
}

/** Opens one socket; resolves once it is authenticated, synced and (creator) acknowledged. */
async function openOne(url: string, spec: SocketSpec): Promise<void> {
  const token = await tokenOf(spec);
  const name = utf8(spec.name);
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    let authenticated = false;
    let synced = false;
    let acked = spec.initial === undefined;
    const timer = setTimeout(() => fail(new Error('open timed out')), OPEN_TIMEOUT_MS);
    const done = () => {
      if (!authenticated || !synced || !acked) return;
      clearTimeout(timer);
      ws.off('error', fail);
      resolve();
    };
    function fail(e: Error): void {
      clearTimeout(timer);
      ws.terminate();
      reject(e);
    }
    ws.once('error', fail);
    ws.once('close', (code, reason) => fail(new Error(`closed ${code} ${reason.toString().slice(0, 60)}`)));
    ws.once('open', () => {
      ws.send(frame([name, AUTH, AUTH_TOKEN, utf8(token)]));
      ws.send(frame([name, SYNC, STEP1, Uint8Array.of(0)]));
    });
    ws.on('message', (data: Buffer) => {
      const r = { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos: 0 };
      readVarBytes(r);
      const type = readVarUint(r);
      if (type === AUTH) {
        const sub = readVarUint(r);
        if (sub === AUTH_DENIED) return fail(new Error(`denied ${new TextDecoder().decode(readVarBytes(r)).slice(0, 60)}`));
        if (sub === AUTHENTICATED && !authenticated) {
          authenticated = true;
          if (spec.initial) ws.send(frame([name, SYNC, UPDATE, spec.initial]));
        }
      } else if (type === SYNC) {
        const sub = readVarUint(r);
        if (sub === STEP2) synced = true;
        else if (sub === UPDATE) arrived(spec.doc);
      } else if (type === SYNC_STATUS && authenticated && spec.initial) acked = true;
      done();
    });
  });
  ws.removeAllListeners('close');
  const client = { spec, ws, closing: false };
  const keepalive = () => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const sv = spec.stateVectors[Math.min(editsSent.get(spec.doc) ?? 0, spec.stateVectors.length - 1)]!;
    ws.send(frame([name, SYNC, STEP1, sv]));
  };
  const first = setTimeout(() => {
    keepalive();
    const every = setInterval(keepalive, KEEPALIVE_MS);
    ws.once('close', () => clearInterval(every));
  }, Math.random() * KEEPALIVE_MS);
  ws.once('close', () => clearTimeout(first));
  // A socket the server closes (or that fails) after opening: counted by reason, never thrown.
  ws.on('error', () => undefined);
  ws.on('close', (code, reason) => {
    if (client.closing) return;
    const key = `${code} ${reason.toString().slice(0, 60)}`.trim();
    dropped.set(key, (dropped.get(key) ?? 0) + 1);
  });
  clients.push(client);
  byDoc.set(spec.doc, [...(byDoc.get(spec.doc) ?? []), client]);
}

function arrived(doc: number): void {
  const edit = inFlight.get(doc);
  if (!edit) return;
  const t = performance.now();
  latencies.push(t - edit.sentAt);
  arrivals.push([doc, edit.k, toHr(edit.sentAt), toHr(t)]);
  if (--edit.waiting === 0) inFlight.delete(doc);
}

async function openAll(url: string, specs: SocketSpec[]): Promise<void> {
  let next = 0;
  let ok = 0;
  const errors = new Map<string, number>();
  const lane = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      try {
        await openOne(url, spec);
        ok++;
      } catch (e) {
        const key = (e as Error).message;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  send({ type: 'opened', ok, failed: specs.length - ok, errors: Object.fromEntries(errors) });
}

/** Each writer sends its edits one period apart, starting at a random point of the first period. */
async function runEdits(periodMs: number, durationMs: number): Promise<void> {
  latencies = [];
  arrivals = [];
  watch.start();
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  let sent = 0;
  let expected = 0;
  const timers: Promise<void>[] = [];
  for (const client of clients) {
    const edits = client.spec.edits;
    if (!edits || edits.length === 0) continue;
    const peers = (byDoc.get(client.spec.doc) ?? []).filter((c) => c !== client && c.ws.readyState === WebSocket.OPEN).length;
    if (peers === 0) continue;
    const offset = Math.random() * periodMs;
    const name = utf8(client.spec.name);
    for (let k = 0; k < edits.length && offset + k * periodMs < durationMs; k++) {
      const update = edits[k]!;
      timers.push(
        new Promise((r) =>
          setTimeout(() => {
            // A late arrival of the previous edit would be mistaken for this one: never overlap.
            inFlight.set(client.spec.doc, { sentAt: performance.now(), k, waiting: peers });
            editsSent.set(client.spec.doc, k + 1);
            client.ws.send(frame([name, SYNC, UPDATE, update]));
            sent++;
            expected += peers;
            r();
          }, offset + k * periodMs),
        ),
      );
    }
  }
  await Promise.all(timers);
  // The last edits' arrivals: wait until none is in flight, or 10 s.
  const end = performance.now() + 10_000;
  while (inFlight.size > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
  const cpu = process.cpuUsage(cpuBefore);
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - startedAt);
  send({ type: 'edited', latencies, arrivals, loop: watch.stop(), sent, missing: expected - latencies.length, dropped: Object.fromEntries(dropped), cpuShare });
}

/** Closes every socket of the given documents (the rest stay open). */
function closeDocs(docs: number[]): void {
  let closed = 0;
  for (const doc of docs) {
    for (const c of byDoc.get(doc) ?? []) {
      c.closing = true;
      c.ws.close();
      closed++;
      clients.splice(clients.indexOf(c), 1);
    }
    byDoc.delete(doc);
  }
  send({ type: 'closed', closed });
}

process.on('message', (m: { type: string; url?: string; sockets?: SocketSpec[]; periodMs?: number; durationMs?: number; docs?: number[] }) => {
  if (m.type === 'open') void openAll(m.url!, m.sockets!);
  else if (m.type === 'edits') void runEdits(m.periodMs!, m.durationMs!);
  else if (m.type === 'close' && m.docs) closeDocs(m.docs);
  else if (m.type === 'close') {
    for (const c of clients) c.ws.terminate();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
