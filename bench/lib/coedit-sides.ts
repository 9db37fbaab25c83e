/**
 * N co-editing clients, one per author, for each side of S8, all behind one counting proxy that
 * runs with the server (in its child process by default: lib/server-process.ts):
 *  - encrypted: an owner Profile plus N-1 editor Profiles through the relay (server/relay.ts);
 *  - plaintext: N stock HocuspocusProviders on plain Y.Docs through a stock Hocuspocus Server.
 * Each side exposes the replicas' plain docs: the replay drives and observes only those.
 */
import * as Y from 'yjs';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { startBenchServer, type BenchServer, type Placement } from './server-process.ts';
import { deviceEngine } from './sides.ts';
import { within } from './common.ts';

export interface CoeditSide {
  readonly docs: readonly Y.Doc[];
  /** The server (behind its counting proxy), where `placement` put it. */
  readonly server: BenchServer;
  close(): Promise<void>;
}

export interface SideOptions {
  /** Where the server and its counting proxy run: a child process of their own (default) or this one. */
  readonly placement?: Placement;
}

/** `memoryDisk`: the relay's SQLite on /dev/shm (tmpfs: its fsync costs nothing), to see what durability adds. */
export async function encryptedAuthors(n: number, o: SideOptions & { batchWindowMs?: number; othersActiveMs?: number; memoryDisk?: boolean } = {}): Promise<CoeditSide> {
  const server = await startBenchServer('relay', { placement: o.placement, proxy: true, memoryDisk: o.memoryDisk });
  const signers = Array.from({ length: n }, () => generateSigningKeyPair());
  const common = { relayUrl: server.url, minReconnectDelayMs: 50, batchWindowMs: o.batchWindowMs, othersActiveMs: o.othersActiveMs };
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
    server,
    async close() {
      for (const p of profiles.reverse()) await p.close().catch(() => {});
      await server.close();
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

export async function plainAuthors(n: number, o: SideOptions = {}): Promise<CoeditSide> {
  const server = await startBenchServer('hocuspocus', { placement: o.placement, proxy: true });
  const docs = Array.from({ length: n }, () => new Y.Doc());
  const providers: HocuspocusProvider[] = [];
  for (const doc of docs) providers.push(await within(syncedProvider(server.url, 'bench-coedit', doc), 15_000, 'plain author synced'));
  return {
    docs,
    server,
    async close() {
      for (const p of providers) p.destroy();
      await server.close();
      for (const d of docs) d.destroy();
    },
  };
}
