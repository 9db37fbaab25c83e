/**
 * S8 byte breakdown (issue 11, info): replays S8's synthetic 3-author trace (or friendsforever
 * with `S8_TRACE=ff`) once on each side, like S8, through a proxy that classifies every frame
 * (bench/lib/wire-breakdown.ts) instead of only counting it, and prints where the bytes go.
 *   node bench/s8-bytes.ts            # synthetic, 12,000 txns
 *   S8_TRACE=ff node bench/s8-bytes.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Server } from '@hocuspocus/server';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { startRelay } from '../server/relay.ts';
import { generateSigningKeyPair, secretboxOpen } from '../src/lib/crypto/index.ts';
import { HASH_LENGTH, NONCE_LENGTH, NONCE_V3_LENGTH, recordKeyFor, RecordVersion, Role } from '../src/lib/protocol/index.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { engineOf } from '../src/lib/vault/engine.ts';
import { sendIfOpen, startWsProxy } from '../tests/helpers/ws-proxy.ts';
import { deviceEngine } from './lib/sides.ts';
import { within, QUICK } from './lib/common.ts';
import { loadConcurrentTrace, syntheticTurnTaking, tracePrefix } from './lib/concurrent-trace.ts';
import { WireBreakdown } from './lib/wire-breakdown.ts';
import { replayForProfile } from './s8-coedit.ts';
import type { CoeditSide } from './lib/coedit-sides.ts';
import type { BenchServer } from './lib/server-process.ts';

/** The server's proxy, in this process (the breakdown needs every frame here), as S8's replay expects a server. */
async function tappingProxy(target: string, tap: WireBreakdown): Promise<BenchServer> {
  const counts = { up: 0, down: 0, framesUp: 0, framesDown: 0 };
  const proxy = await startWsProxy({
    target,
    wsOptions: { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 },
    pipe: (to, direction) => (frame) => {
      if (direction === 'up') (counts.up += frame.byteLength), counts.framesUp++;
      else (counts.down += frame.byteLength), counts.framesDown++;
      tap.frame(frame, direction);
      sendIfOpen(to, frame);
    },
  });
  return {
    url: proxy.url,
    placement: 'inline',
    counts: async () => ({ ...counts }),
    async reset() {
      counts.up = counts.down = counts.framesUp = counts.framesDown = 0;
      tap.reset();
    },
    close: proxy.close,
  };
}

async function encrypted(n: number, tap: WireBreakdown, keyHolder: { open?: (epoch: number) => Uint8Array | undefined }): Promise<CoeditSide> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fhv-bench-bytes-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir, quiet: true });
  const proxy = await tappingProxy(relay.url, tap);
  const signers = Array.from({ length: n }, () => generateSigningKeyPair());
  const common = { relayUrl: proxy.url, minReconnectDelayMs: 50 };
  const owner = await Profile.create({ ...common, engine: await deviceEngine(), signer: signers[0]!, members: signers.slice(1).map((s) => ({ publicKey: s.publicKey, role: Role.editor, expiresAt: 0 })) });
  await within(owner.flush(), 15_000, 'owner genesis');
  keyHolder.open = (epoch) => engineOf(owner).sync.keys.get(epoch);
  const profiles = [owner];
  for (const signer of signers.slice(1)) {
    const p = await Profile.open({ ...common, engine: await deviceEngine(), signer, access: owner.access });
    await within(p.status.when((s) => s.synced), 15_000, 'editor synced');
    await engineOf(p).sync.flush();
    profiles.push(p);
  }
  return {
    docs: profiles.map((p) => engineOf(p).plainDoc),
    server: proxy,
    async close() {
      for (const p of profiles.reverse()) await p.close().catch(() => {});
      await proxy.close();
      await relay.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function plain(n: number, tap: WireBreakdown): Promise<CoeditSide> {
  const server = new Server({ port: 0, quiet: true, stopOnSignals: false });
  await server.listen();
  const proxy = await tappingProxy(`ws://127.0.0.1:${server.address.port}`, tap);
  const docs = Array.from({ length: n }, () => new Y.Doc());
  const providers = await Promise.all(
    docs.map(
      (document) =>
        new Promise<HocuspocusProvider>((resolve) => {
          const p: HocuspocusProvider = new HocuspocusProvider({ url: proxy.url, name: 'bench-coedit', document, onSynced: ({ state }) => state && resolve(p) });
        }),
    ),
  );
  return {
    docs,
    server: proxy,
    async close() {
      for (const p of providers) p.destroy();
      await proxy.close();
      await server.destroy();
    },
  };
}

const trace =
  process.env.S8_TRACE === 'ff'
    ? QUICK
      ? tracePrefix(loadConcurrentTrace('friendsforever.json.gz'), 4000)
      : loadConcurrentTrace('friendsforever.json.gz')
    : syntheticTurnTaking({ seed: 8008, agents: 3, txns: QUICK ? 3000 : 12_000, meanTurn: 12 });

const plainTap = new WireBreakdown();
const p = await plain(trace.numAgents, plainTap);
const pr = await replayForProfile(p, trace).finally(() => p.close());
console.log(`plaintext: ${pr.bytes} B (${pr.bytesUp} up, ${pr.bytesDown} down) in ${pr.frames} frames, ${Math.round(pr.ms)} ms`);
console.log(plainTap.table());

const keys: { open?: (epoch: number) => Uint8Array | undefined } = {};
const encTap = new WireBreakdown((r) => {
  const key = keys.open?.(r.header.epoch);
  if (!key) return null;
  if (r.version === RecordVersion.v3) {
    const nonce = new Uint8Array(24);
    nonce.set(r.body.subarray(0, NONCE_V3_LENGTH));
    return secretboxOpen(r.body.subarray(NONCE_V3_LENGTH), nonce, recordKeyFor(key as never, r.headerBytes));
  }
  const opened = secretboxOpen(r.body.subarray(NONCE_LENGTH), r.body.subarray(0, NONCE_LENGTH), key as never);
  // What follows the in-plaintext bound header hash (format v1/v2): len ‖ payload ‖ zeros.
  return opened ? opened.subarray(HASH_LENGTH) : null;
});
const e = await encrypted(trace.numAgents, encTap, keys);
const er = await replayForProfile(e, trace).finally(() => e.close());
console.log(`encrypted: ${er.bytes} B (${er.bytesUp} up, ${er.bytesDown} down) in ${er.frames} frames, ${Math.round(er.ms)} ms; ratio ${(er.bytes / pr.bytes).toFixed(3)}`);
console.log(encTap.table());
process.exit(0);
