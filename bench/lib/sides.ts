/**
 * The two sides every network benchmark compares, each behind the same counting proxy:
 *  - encrypted: writer Profile -> proxy -> relay (server/relay.ts) -> proxy -> reader Profile;
 *  - plaintext: two stock HocuspocusProviders on plain Y.Docs -> proxy -> stock Hocuspocus Server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Server } from '@hocuspocus/server';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { startRelay } from '../../server/relay.ts';
import { createWebCryptoEngine, defaultEd25519Engine, generateSigningKeyPair, type Ed25519Engine } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { startCountingProxy, type CountingProxy } from './proxy.ts';
import { within } from './common.ts';
import { startBenchServer, type BenchServer, type Placement } from './server-process.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';

export interface EncryptedPair {
  readonly writer: Profile;
  readonly reader: Profile;
  readonly proxy: CountingProxy;
  close(): Promise<void>;
}

/**
 * Each device gets its own engine instance, as on separate machines: an engine remembers the
 * records it verified (docs/decisions/0022), and a reader sharing the writer's instance would
 * find every record already verified by the writer's own gate.
 */
export async function deviceEngine(): Promise<Ed25519Engine> {
  const chosen = await defaultEd25519Engine();
  return chosen.name === 'webcrypto' ? createWebCryptoEngine() : { ...chosen };
}

/**
 * With `direct`, clients connect straight to the relay (no counting proxy hop; `proxy` is then
 * absent). With `server`, the relay runs where it says (bench/lib/server-process.ts: its own
 * process, or inline) and clients connect to it directly; without, inline behind the proxy.
 */
export async function encryptedPair(o: PairOptions = {}): Promise<EncryptedPair> {
  if (o.server) return encryptedPairOn(await startBenchServer('relay', { placement: o.server }), o);
  const dataDir = mkdtempSync(join(tmpdir(), 'fhv-bench-relay-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir, quiet: true });
  const proxy = o.direct ? undefined : await startCountingProxy(relay.url);
  const pair = await encryptedPairOn({ url: proxy?.url ?? relay.url, placement: 'inline', counts: async () => ({ ...proxy!.counts }), reset: async () => proxy?.reset(), close: async () => {} }, o);
  return {
    ...pair,
    proxy: proxy!,
    async close() {
      await pair.close();
      await proxy?.close();
      await relay.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface PairOptions {
  readonly batchWindowMs?: number;
  readonly compactEvery?: number;
  readonly direct?: boolean;
  readonly server?: Placement;
  /** Probes only: wraps each device's engine (bench/probe-edit-stages.ts times its calls). */
  readonly wrapEngine?: (engine: Ed25519Engine, device: 'writer' | 'reader') => Ed25519Engine;
}

async function encryptedPairOn(server: BenchServer, o: PairOptions): Promise<EncryptedPair> {
  const alice = generateSigningKeyPair();
  const bob = generateSigningKeyPair();
  const common = { relayUrl: server.url, minReconnectDelayMs: 50, batchWindowMs: o.batchWindowMs, compactEvery: o.compactEvery };
  const engineFor = async (device: 'writer' | 'reader') => (o.wrapEngine ?? ((e) => e))(await deviceEngine(), device);
  const writer = await Profile.create({ ...common, engine: await engineFor('writer'), signer: alice, members: [{ publicKey: bob.publicKey, role: Role.viewer, expiresAt: 0 }] });
  await within(writer.flush(), 15_000, 'writer genesis reaches the relay');
  const reader = await Profile.open({ ...common, engine: await engineFor('reader'), signer: bob, access: writer.access });
  await within(reader.status.when((s) => s.synced), 15_000, 'reader synced');
  await engineOf(reader).sync.flush();
  return {
    writer,
    reader,
    proxy: undefined!,
    async close() {
      await reader.close().catch(() => {});
      await writer.close().catch(() => {});
      await server.close();
    },
  };
}

export interface PlainPair {
  readonly writer: Y.Doc;
  readonly reader: Y.Doc;
  readonly writerProvider: HocuspocusProvider;
  readonly readerProvider: HocuspocusProvider;
  readonly proxy: CountingProxy;
  close(): Promise<void>;
}

function syncedProvider(url: string, name: string, document: Y.Doc, flushDelay: number | false): Promise<HocuspocusProvider> {
  return new Promise((resolve) => {
    const provider: HocuspocusProvider = new HocuspocusProvider({
      url,
      name,
      document,
      flushDelay,
      onSynced: ({ state }) => {
        if (state) resolve(provider);
      },
    });
  });
}

/**
 * With `direct`, no counting proxy (`proxy` is then absent). With `server`, the stock Server runs
 * where it says (as encryptedPair's relay) and clients connect to it directly. `flushDelay`
 * (provider batching window) defaults to the stock setting: off, one message per update.
 */
export async function plainPair(o: { flushDelay?: number | false; direct?: boolean; server?: Placement } = {}): Promise<PlainPair> {
  const placed = o.server ? await startBenchServer('hocuspocus', { placement: o.server }) : undefined;
  const server = placed ? undefined : new Server({ port: 0, quiet: true, stopOnSignals: false });
  await server?.listen();
  const serverUrl = placed?.url ?? `ws://127.0.0.1:${server!.address.port}`;
  const proxy = o.direct || placed ? undefined : await startCountingProxy(serverUrl);
  const url = proxy?.url ?? serverUrl;
  const writer = new Y.Doc();
  const reader = new Y.Doc();
  const name = 'bench-doc';
  const writerProvider = await within(syncedProvider(url, name, writer, o.flushDelay ?? false), 15_000, 'plain writer synced');
  const readerProvider = await within(syncedProvider(url, name, reader, o.flushDelay ?? false), 15_000, 'plain reader synced');
  return {
    writer,
    reader,
    writerProvider,
    readerProvider,
    proxy: proxy!,
    async close() {
      readerProvider.destroy();
      writerProvider.destroy();
      await proxy?.close();
      await server?.destroy();
      await placed?.close();
      writer.destroy();
      reader.destroy();
    },
  };
}
