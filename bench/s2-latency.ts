/**
 * S2: writer -> reader latency over loopback for single small edits (one character appended to a
 * note), one every ~25 ms so the writer's batch window never delays a seal. Latency runs from
 * the writer's edit call to the reader's plain doc emitting the change (observed, not polled).
 * Sides: (a) encrypted Profiles through the relay, (b) stock Hocuspocus with plain Y.Docs,
 * (c) a raw `ws` broadcast server (floor: one socket hop in, one out). No proxy on any side.
 * Targets: encrypted p50 <= plaintext p50 + 1.0 ms, p99 <= plaintext p99 + 2 ms. Also reported:
 * both sides against the raw floor, and the floor the three signature operations on every edit's
 * path set when run back to back (writer signs, relay verifies with node:crypto, reader verifies
 * with the writer's engine), measured in the same run on a record of the size an edit makes.
 */
import { loadavg } from 'node:os';
import { WebSocket } from 'ws';
import { environment, fmtMs, loadNote, now, QUICK, round, sleep, writeResult, type BenchResult } from './lib/common.ts';
import { encryptedPair, plainPair } from './lib/sides.ts';
import { drive, SPACING_MS, stats, WARMUP } from './lib/latency.ts';
import { startBenchServer, type Placement } from './lib/server-process.ts';
import { engineOf } from '../src/lib/vault/engine.ts';
import { createNodeCryptoEngine } from '../src/lib/crypto/ed25519-node.ts';
import { defaultEd25519Engine, generateSigningKeyPair, signDetached, verifyDetached } from '../src/lib/crypto/index.ts';
import { ENVELOPE_MAP } from '../src/lib/protocol/index.ts';

/** Latencies, and the size of the record the last edit made (for the signature floor). */
async function encryptedSide(count: number, server: Placement, o: { syncEngine?: boolean } = {}): Promise<{ latencies: number[]; recordBytes: number }> {
  // Info row only: each device on node:crypto's synchronous engine instead of WebCrypto (browsers
  // have only WebCrypto): what the two thread-pool round trips cost (docs/decisions/0055).
  const pair = await encryptedPair({ server, wrapEngine: o.syncEngine ? () => createNodeCryptoEngine() : undefined });
  try {
    const text = engineOf(pair.reader).plainDoc.getText('note:lat');
    const note = pair.writer.note('lat');
    let recordBytes = 0;
    const map = engineOf(pair.writer).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP);
    map.observe((event) => {
      for (const key of event.keysChanged) recordBytes = map.get(key)?.length ?? recordBytes;
    });
    const latencies = await drive(count, (i) => note.replace(i, 0, 'x'), (arrived) => text.observe(() => arrived(text.length)));
    return { latencies, recordBytes };
  } finally {
    await pair.close();
  }
}

async function plainSide(count: number, server: Placement): Promise<number[]> {
  const pair = await plainPair({ server });
  try {
    const w = pair.writer.getText('note:lat');
    const r = pair.reader.getText('note:lat');
    return await drive(count, (i) => w.insert(i, 'x'), (arrived) => r.observe(() => arrived(r.length)));
  } finally {
    await pair.close();
  }
}

/** The floor: a ws server that forwards each message to every other client, nothing else. */
async function rawSide(count: number, placement: Placement): Promise<number[]> {
  const server = await startBenchServer('raw', { placement });
  const url = server.url;
  const open = (ws: WebSocket) => new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j)));
  const writer = new WebSocket(url, { perMessageDeflate: false });
  const reader = new WebSocket(url, { perMessageDeflate: false });
  await Promise.all([open(writer), open(reader)]);
  // A Yjs-sized payload: one small update frame (32 bytes).
  try {
    return await drive(
      count,
      (i) => {
        const msg = new Uint8Array(32);
        new DataView(msg.buffer).setUint32(0, i + 1);
        writer.send(msg);
      },
      (arrived) => reader.on('message', (data) => arrived((data as Buffer).readUInt32BE(0))),
    );
  } finally {
    writer.terminate();
    reader.terminate();
    await server.close();
  }
}

/**
 * Sign (the clients' engine), verify on node:crypto (the relay's), verify on the clients' engine,
 * one after another, as on an edit's path; `recordBytes` is the size of an edit's record.
 * Straight to the engines (with the strictness checks), so no cache answers.
 */
async function signatureChain(count: number, recordBytes: number): Promise<number[]> {
  const client = await defaultEd25519Engine();
  const relay = createNodeCryptoEngine();
  const { publicKey, secretKey } = generateSigningKeyPair();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const message = new Uint8Array(recordBytes);
    new DataView(message.buffer).setUint32(0, i);
    const t = now();
    const signature = await signDetached(client, message, secretKey);
    if (!(await verifyDetached(relay, message, signature, publicKey)) || !(await verifyDetached(client, message, signature, publicKey))) throw new Error('signature chain: verify failed');
    out.push(now() - t);
    await sleep(SPACING_MS / 5);
  }
  return out.slice(WARMUP);
}

export async function runS2(): Promise<BenchResult> {
  const count = (QUICK ? 80 : 300) + WARMUP;
  // Each side's server runs in a child process of its own (lib/server-process.ts), as on its own
  // machine; writer and reader share this process, as two devices share nothing but are both
  // idle between edits here (bench/README.md says why one process for the clients).
  const loadBefore = loadavg()[0]!;
  const raw = stats(await rawSide(count, 'process'));
  console.log(`  S2 raw ws (server process): p50 ${fmtMs(raw.p50)}, p99 ${fmtMs(raw.p99)}`);
  const plain = stats(await plainSide(count, 'process'));
  console.log(`  S2 plaintext (server process): p50 ${fmtMs(plain.p50)}, p99 ${fmtMs(plain.p99)}`);
  const encrypted = await encryptedSide(count, 'process');
  const enc = stats(encrypted.latencies);
  console.log(`  S2 encrypted (server process): p50 ${fmtMs(enc.p50)}, p99 ${fmtMs(enc.p99)}`);
  // The old arrangement, for information: every party on this one event loop.
  const plainInline = stats(await plainSide(count, 'inline'));
  console.log(`  S2 plaintext (one process): p50 ${fmtMs(plainInline.p50)}, p99 ${fmtMs(plainInline.p99)}`);
  const encInline = stats((await encryptedSide(count, 'inline')).latencies);
  console.log(`  S2 encrypted (one process): p50 ${fmtMs(encInline.p50)}, p99 ${fmtMs(encInline.p99)}`);
  const encSync = stats((await encryptedSide(count, 'process', { syncEngine: true })).latencies);
  console.log(`  S2 encrypted, clients on node:crypto (server process): p50 ${fmtMs(encSync.p50)}, p99 ${fmtMs(encSync.p99)}`);
  const sigs = stats(await signatureChain(count, encrypted.recordBytes));
  console.log(`  S2 sign + 2 verifies in sequence (${encrypted.recordBytes} B): p50 ${fmtMs(sigs.p50)}, p99 ${fmtMs(sigs.p99)}`);
  const result: BenchResult = {
    id: 'S2',
    title: 'S2 writer -> reader latency, single edits over loopback',
    env: environment(),
    rows: [
      { metric: 'edit -> reader p50', ours: fmtMs(enc.p50), peer: fmtMs(plain.p50), ratio: round(enc.p50 / plain.p50, 2), target: '<= peer + 1.0 ms', met: enc.p50 <= plain.p50 + 1.0 },
      { metric: 'edit -> reader p99', ours: fmtMs(enc.p99), peer: fmtMs(plain.p99), ratio: round(enc.p99 / plain.p99, 2), target: '<= peer + 2 ms', met: enc.p99 <= plain.p99 + 2 },
      { metric: 'encrypted p50 vs raw ws broadcast floor', ours: fmtMs(enc.p50), peer: fmtMs(raw.p50), ratio: round(enc.p50 / raw.p50, 2), target: '(info)', met: null },
      { metric: 'encrypted p99 vs raw ws broadcast floor', ours: fmtMs(enc.p99), peer: fmtMs(raw.p99), ratio: round(enc.p99 / raw.p99, 2), target: '(info)', met: null },
      { metric: 'plaintext p50 vs raw ws broadcast floor', ours: fmtMs(plain.p50), peer: fmtMs(raw.p50), ratio: round(plain.p50 / raw.p50, 2), target: '(info)', met: null },
      { metric: 'plaintext p99 vs raw ws broadcast floor', ours: fmtMs(plain.p99), peer: fmtMs(raw.p99), ratio: round(plain.p99 / raw.p99, 2), target: '(info)', met: null },
      { metric: 'old arrangement (all parties in one process): edit -> reader p50', ours: fmtMs(encInline.p50), peer: fmtMs(plainInline.p50), ratio: round(encInline.p50 / plainInline.p50, 2), target: '(info)', met: null },
      { metric: 'old arrangement (all parties in one process): edit -> reader p99', ours: fmtMs(encInline.p99), peer: fmtMs(plainInline.p99), ratio: round(encInline.p99 / plainInline.p99, 2), target: '(info)', met: null },
      { metric: 'clients on node:crypto (synchronous, not in browsers) instead of WebCrypto: edit -> reader p50', ours: fmtMs(encSync.p50), peer: fmtMs(plain.p50), ratio: round(encSync.p50 / plain.p50, 2), target: '(info)', met: null },
      { metric: 'clients on node:crypto (synchronous, not in browsers) instead of WebCrypto: edit -> reader p99', ours: fmtMs(encSync.p99), peer: fmtMs(plain.p99), ratio: round(encSync.p99 / plain.p99, 2), target: '(info)', met: null },
      { metric: 'signature floor: sign + relay verify + reader verify in sequence, p50 (vs encrypted minus plaintext)', ours: fmtMs(sigs.p50), peer: fmtMs(enc.p50 - plain.p50), ratio: round(sigs.p50 / (enc.p50 - plain.p50), 2), target: '(info)', met: null },
    ],
    notes: [
      `${count - WARMUP} measured edits (after ${WARMUP} warm-up edits), one every ${SPACING_MS} ms; one character appended per edit.`,
      'Each side\'s server (relay, stock Hocuspocus Server, raw ws) runs alone in a child process; writer and reader share the benchmark process. Clients connect directly (no counting proxy); the relay uses its default config (each update committed to SQLite, WAL with synchronous=FULL from a worker thread, before it is acknowledged).',
      `Old arrangement (info rows): every party in one process; encrypted minus plaintext there p50 +${(encInline.p50 - plainInline.p50).toFixed(2)} ms, p99 +${(encInline.p99 - plainInline.p99).toFixed(2)} ms.`,
      `Encrypted minus plaintext: p50 +${(enc.p50 - plain.p50).toFixed(2)} ms, p99 +${(enc.p99 - plain.p99).toFixed(2)} ms; minus raw ws: p50 +${(enc.p50 - raw.p50).toFixed(2)} ms, p99 +${(enc.p99 - raw.p99).toFixed(2)} ms.`,
      loadNote(loadBefore),
      `Clients on node:crypto's synchronous Ed25519 (info rows; browsers have only WebCrypto): minus plaintext p50 +${(encSync.p50 - plain.p50).toFixed(2)} ms, p99 +${(encSync.p99 - plain.p99).toFixed(2)} ms; against WebCrypto in the clients p50 ${(encSync.p50 - enc.p50).toFixed(2)} ms: the two thread-pool round trips' share (docs/decisions/0055).`,
      `Signature floor: ${sigs.n} chains of sign (client engine) + verify (node:crypto, the relay) + verify (client engine) on a ${encrypted.recordBytes}-byte record, back to back after the edits, p50 ${fmtMs(sigs.p50)}, p99 ${fmtMs(sigs.p99)}.`,
    ],
    data: {
      spacingMs: SPACING_MS,
      warmup: WARMUP,
      encrypted: enc,
      plaintext: plain,
      rawWs: raw,
      inline: { encrypted: encInline, plaintext: plainInline },
      encryptedSyncEngine: encSync,
      signatureChain: { ...sigs, recordBytes: encrypted.recordBytes },
      deltaMs: { p50: round(enc.p50 - plain.p50, 3), p99: round(enc.p99 - plain.p99, 3) },
    },
  };
  writeResult(result);
  return result;
}
