/**
 * N co-editing clients, one per author, for each side of S8, all behind one counting proxy:
 *  - encrypted: an owner Profile plus N-1 editor Profiles through the relay (server/relay.ts);
 *  - plaintext: N stock HocuspocusProviders on plain Y.Docs through a stock Hocuspocus Server.
 * Each side exposes the replicas' plain docs: the replay drives and observes only those.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Server } from '@hocuspocus/server';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { startRelay } from '../../server/relay.ts';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { startCountingProxy, type CountingProxy } from './proxy.ts';
import { deviceEngine } from './sides.ts';
import { within } from './common.ts';

export interface CoeditSide {
  readonly docs: readonly Y.Doc[];
  readonly proxy: CountingProxy;
  close(): Promise<void>;
}

/** `memoryDisk`: the relay's SQLite on /dev/shm (tmpfs: its fsync costs nothing), to see what durability adds. */
export async function encryptedAuthors(n: number, o: { batchWindowMs?: number; othersActiveMs?: number; memoryDisk?: boolean } = {}): Promise<CoeditSide> {
  if (o.memoryDisk && !existsSync('/dev/shm')) throw new Error('no /dev/shm on this machine');
  const dataDir = mkdtempSync(join(o.memoryDisk ? '/dev/shm' : tmpdir(), 'fhv-bench-coedit-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir, quiet: true });
  const proxy = await startCountingProxy(relay.url);
  const signers = Array.from({ length: n }, () => generateSigningKeyPair());
  const common = { relayUrl: proxy.url, minReconnectDelayMs: 50, batchWindowMs: o.batchWindowMs, othersActiveMs: o.othersActiveMs };
  // Each author is its own device with its own engine: an engine remembers the signatures it
  // verified (protocol/record.ts), so a shared one would let readers skip every check.
  const owner = await Profile.create({
    ...common,
    engine: await deviceEngine(),
    signer: signers[0]!,
    members: signers.slice(1).map((s) => ({ publicKey: s.publicKey, role: Role.editor, expiresAt: 0 })),
  });
  await within(owner.flush(), 15_000, 'owner genesis reaches the relay');
  const profiles = [owner];
  for (const signer of signers.slice(1)) {
    const p = await Profile.open({ ...common, engine: await deviceEngine(), signer, access: owner.access });
    await within(p.status.when((s) => s.synced), 15_000, 'editor synced');
    await engineOf(p).sync.flush();
    profiles.push(p);
  }
  return {
    docs: profiles.map((p) => engineOf(p).plainDoc),
    proxy,
    async close() {
      for (const p of profiles.reverse()) await p.close().catch(() => {});
      await proxy.close();
      await relay.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function syncedProvider(url: string, name: string, document: Y.Doc): Promise<HocuspocusProvider> {
  return new Promise((resolve) => {
    const provider: HocuspocusProvider = new HocuspocusProvider({
      url,
      name,
      document,
      onSynced: ({ state }) => {
        if (state) resolve(provider);
      },
    });
  });
}

export async function plainAuthors(n: number): Promise<CoeditSide> {
  const server = new Server({ port: 0, quiet: true, stopOnSignals: false });
  await server.listen();
  const proxy = await startCountingProxy(`ws://127.0.0.1:${server.address.port}`);
  const docs = Array.from({ length: n }, () => new Y.Doc());
  const providers: HocuspocusProvider[] = [];
  for (const doc of docs) providers.push(await within(syncedProvider(proxy.url, 'bench-coedit', doc), 15_000, 'plain author synced'));
  return {
    docs,
    proxy,
    async close() {
      for (const p of providers) p.destroy();
      await proxy.close();
      await server.destroy();
      for (const d of docs) d.destroy();
    },
  };
}
