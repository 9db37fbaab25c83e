/**
 * The relay: stock Hocuspocus plus small extensions (auth, policy, persistence, static app).
 * It stores and forwards envelope docs only; it holds no keys and never sees plaintext.
 */
import { Server } from '@hocuspocus/server';
import { createNodeCryptoEngine } from '../src/lib/crypto/ed25519-node.ts';
import { authExtension } from './auth.ts';
import { awarenessExtension } from './awareness.ts';
import { blobExtension, BlobStore } from './blobs.ts';
import { budgetExtension } from './budgets.ts';
import { defaultConfig, type RelayConfig } from './config.ts';
import { persistenceExtension } from './persistence.ts';
import { policyExtension } from './policy.ts';
import { eraseDocumentOn, erasedRouteExtension, type EraseOptions, type ErasedRouteLimits } from './erase.ts';
import { Registry } from './registry.ts';
import { expiryExtension } from './revocation.ts';
import { logRefusalsOf, refusalLog } from './log.ts';
import { shlExtension } from './shl.ts';
import { staticExtension } from './static.ts';
import { noEchoExtension } from './no-echo.ts';
import { unloadGuardExtension } from './unload-guard.ts';
import { durableAckExtension, resetDocument } from './durable-ack.ts';
import type { RelayStorageError } from './errors.ts';
import type { RelayStore } from './storage/relay-store.ts';
import { SqliteRelayStore } from './storage/sqlite-relay-store.ts';

export interface Relay {
  readonly server: Server;
  /** Envelope docs: written from a worker thread while forwarded, each durable before it is acknowledged. */
  readonly storage: RelayStore;
  /**
   * Resolves if storage stops working while the relay runs (its worker died): nothing can be
   * stored or acknowledged any more, so the process should exit and be restarted.
   */
  readonly storageLost: Promise<RelayStorageError>;
  /** Encrypted document files (a sibling table in the same SQLite file). */
  readonly blobs: BlobStore;
  readonly config: RelayConfig;
  /** ws://127.0.0.1:PORT (Hocuspocus reports 0.0.0.0; clients need a connectable address). */
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
  destroy(): Promise<void>;
}

/** For tests only: what the relay is built on beyond its config. */
export interface RelayInternals {
  /**
   * Puts something between the relay and its SQLite store (tests hold or fail appends with it,
   * tests/helpers/held-store.ts). The relay closes what this returns.
   */
  readonly wrapStorage?: (store: SqliteRelayStore) => RelayStore;
  /** Budgets of `GET /erased/<doc>` (server/erase.ts); tests lower them. */
  readonly erasedRouteLimits?: Partial<ErasedRouteLimits>;
}

export async function startRelay(overrides: Partial<RelayConfig> = {}, internals: RelayInternals = {}): Promise<Relay> {
  const config = defaultConfig(overrides);
  // OpenSSL directly: same checks, no thread-pool hop per verify (docs/decisions/0003).
  const engine = createNodeCryptoEngine();
  const sqlite = await SqliteRelayStore.open(config.dataDir);
  const storage: RelayStore = internals.wrapStorage?.(sqlite) ?? sqlite;
  const blobs = new BlobStore(config.dataDir);
  const registry = new Registry(storage, (count, codes) => {
    if (!config.quiet) console.warn(`[relay] ${count} stored record(s) quarantined on rebuild: ${codes.join(', ')}`);
  });
  const refusals = refusalLog({ now: config.now, intervalMs: config.budgets.refusalLogIntervalMs });
  const persistence = persistenceExtension(storage, config, {
    onWriteFailed: (document, e) => {
      if (!config.quiet) console.error(`[relay] ${e.code}: a document is reset after a failed write`);
      resetDocument(document, registry);
    },
  });
  // A reset instance (failed write) must unload as soon as its last connection is gone.
  const unloadGuard = unloadGuardExtension(config.now, undefined, (document) => persistence.failed(document));
  const erasure: EraseOptions = { registry, store: storage, config, engine, limits: internals.erasedRouteLimits };
  const server = new Server({
    port: config.port,
    address: config.host,
    quiet: config.quiet,
    stopOnSignals: false,
    debounce: config.storeDebounceMs,
    maxDebounce: config.storeDebounceMs * 5,
    websocketOptions: { maxPayload: config.maxFrameBytes },
    extensions: [
      budgetExtension(config, refusals),
      logRefusalsOf(authExtension(registry, config, engine), refusals),
      logRefusalsOf(policyExtension(registry, config, engine, persistence, eraseDocumentOn(erasure)), refusals),
      expiryExtension(registry, config),
      awarenessExtension(config),
      unloadGuard,
      noEchoExtension(),
      durableAckExtension(persistence),
      persistence,
      erasedRouteExtension(erasure),
      blobExtension({ store: blobs, registry, config, engine }),
      shlExtension({ registry, config, engine }),
      staticExtension(config.staticDir),
    ],
  });
  erasure.hocuspocus = server.hocuspocus;
  // Track raw sockets: closing the HTTP server leaves upgraded WebSockets open, and a relay
  // that shuts down must drop its clients so they reconnect elsewhere.
  const sockets = new Set<import('node:net').Socket>();
  server.httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  try {
    await server.listen();
  } catch (e) {
    await storage.close();
    blobs.close();
    throw e;
  }
  const port = server.address.port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return {
    server,
    storage,
    storageLost: sqlite.whenLost(),
    blobs,
    config,
    port,
    url: `ws://${host}:${port}`,
    httpUrl: `http://${host}:${port}`,
    async destroy() {
      unloadGuard.release();
      refusals.flush();
      const stopped = server.destroy();
      // Documents whose unload the guard deferred have no connection left to trigger it.
      for (const doc of server.hocuspocus.documents.values()) void server.hocuspocus.unloadDocument(doc);
      await stopped;
      for (const socket of sockets) socket.destroy();
      // Hocuspocus folded every document on unload; close() finishes any write still queued.
      await storage.close();
      blobs.close();
    },
  };
}
