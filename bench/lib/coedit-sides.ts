/**
 * N co-editing clients, one per author, for each side of S8, all behind one counting proxy that
 * runs with the server (in its child process by default: lib/server-process.ts):
 *  - encrypted: an owner Profile plus N-1 editor Profiles through the relay (server/relay.ts);
 *  - plaintext: N stock HocuspocusProviders on plain Y.Docs through a stock Hocuspocus Server.
 * Each side exposes the replicas' plain docs: the replay drives and observes only those.
 */
import { Worker } from 'node:worker_threads';
import * as Y from 'yjs';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { startBenchServer, type BenchServer, type Placement } from './server-process.ts';
import { deviceEngine } from './sides.ts';
import { within } from './common.ts';
import type { AuthorSetup } from './coedit-worker.ts';
import type { PlannedTxn } from './concurrent-trace.ts';

export interface CoeditSide {
  readonly docs: readonly Y.Doc[];
  /** The server (behind its counting proxy), where `placement` put it. */
  readonly server: BenchServer;
  /** With `clientsInWorkers`: the replicas live in worker threads (then `docs` is empty). */
  readonly remote?: RemoteAuthors;
  close(): Promise<void>;
}

export interface SideOptions {
  /** Where the server and its counting proxy run: a child process of their own (default) or this one. */
  readonly placement?: Placement;
  /** Each author's replica in a worker thread of its own (coedit-worker.ts) instead of this process. */
  readonly clientsInWorkers?: boolean;
}

/** `memoryDisk`: the relay's SQLite on /dev/shm (tmpfs: its fsync costs nothing), to see what durability adds. */
export async function encryptedAuthors(n: number, o: SideOptions & { batchWindowMs?: number; othersActiveMs?: number; memoryDisk?: boolean } = {}): Promise<CoeditSide> {
  const server = await startBenchServer('relay', { placement: o.placement, proxy: true, memoryDisk: o.memoryDisk });
  if (o.clientsInWorkers) return authorsInWorkers('encrypted', n, server, o);
  const signers = Array.from({ length: n }, () => generateSigningKeyPair());
  const common = { relayUrl: server.url, minReconnectDelayMs: 50, batchWindowMs: o.batchWindowMs, othersActiveMs: o.othersActiveMs };
  // Each author is its own device with its own engine: an engine remembers the signatures it
  // verified (protocol/record-signatures.ts), so a shared one would let readers skip every check.
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
  if (o.clientsInWorkers) return authorsInWorkers('plain', n, server, {});
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

/** One author's replica in a worker thread (coedit-worker.ts), seen from the benchmark. */
export interface RemoteReplica {
  readonly clientID: number;
  readonly state: Uint8Array;
  readonly stateVector: string;
  /** Sends the plan, then starts the author's replay; resolves once its text is endContent. */
  replay(o: { plan: PlannedTxn[]; agent: number; root: string; endContent: string }): Promise<{ doneAt: number; text: string; waited: number[] }>;
}

export interface RemoteAuthors {
  readonly replicas: readonly RemoteReplica[];
}

const WORKER = new URL('./coedit-worker.ts', import.meta.url);

function reply<T>(worker: Worker, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string } & T) => {
      if (m.type !== type) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(m);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

/**
 * Each author in a worker thread of its own, on `server` (its own process): as many event loops
 * as devices, the machine's cores shared among them and the server by the OS.
 */
async function authorsInWorkers(kind: AuthorSetup['kind'], n: number, server: BenchServer, o: { batchWindowMs?: number; othersActiveMs?: number }): Promise<CoeditSide> {
  const workers: Worker[] = [];
  const start = async (setup: AuthorSetup) => {
    const w = new Worker(WORKER, { workerData: setup });
    workers.push(w);
    return { worker: w, ready: await within(reply<{ access?: AuthorSetup['access'] }>(w, 'ready'), 30_000, 'author worker ready') };
  };
  try {
    if (kind === 'encrypted') {
      const signers = Array.from({ length: n }, () => generateSigningKeyPair());
      const owner = await start({ kind, url: server.url, signer: signers[0]!, editors: signers.slice(1).map((s) => s.publicKey), ...o });
      for (const signer of signers.slice(1)) await start({ kind, url: server.url, signer, access: owner.ready.access, ...o });
    } else {
      for (let i = 0; i < n; i++) await start({ kind, url: server.url });
    }
    const replicas: RemoteReplica[] = [];
    for (const w of workers) {
      const got = reply<{ clientID: number; state: Uint8Array; stateVector: string }>(w, 'state');
      w.postMessage({ type: 'state' });
      const s = await within(got, 10_000, 'author state');
      replicas.push({
        clientID: s.clientID,
        state: s.state,
        stateVector: s.stateVector,
        async replay(r) {
          const planned = reply(w, 'planned');
          w.postMessage({ type: 'plan', ...r });
          await within(planned, 60_000, 'author has the plan');
          const done = reply<{ doneAt: number; text: string; waited: number[] }>(w, 'done');
          w.postMessage({ type: 'go' });
          return done;
        },
      });
    }
    return {
      docs: [],
      server,
      remote: { replicas },
      async close() {
        for (const w of workers.reverse()) {
          const closed = reply(w, 'closed');
          w.postMessage({ type: 'close' });
          await within(closed, 15_000, 'author closed').catch(() => w.terminate());
        }
        await server.close();
      },
    };
  } catch (e) {
    for (const w of workers) await w.terminate();
    await server.close();
    throw e;
  }
}
