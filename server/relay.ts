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
import { Registry } from './registry.ts';
import { expiryExtension } from './revocation.ts';
import { logRefusalsOf, refusalLog } from './log.ts';
import { staticExtension } from './static.ts';
import { unloadGuardExtension } from './unload-guard.ts';
import { SqliteEnvelopeLog } from '../src/lib/storage/sqlite-log.ts';

export interface Relay {
  readonly server: Server;
  readonly store: SqliteEnvelopeLog;
  /** Encrypted document files (a sibling table in the same SQLite file). */
  readonly blobs: BlobStore;
  readonly config: RelayConfig;
  /** ws://127.0.0.1:PORT (Hocuspocus reports 0.0.0.0; clients need a connectable address). */
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
  destroy(): Promise<void>;
}

export async function startRelay(overrides: Partial<RelayConfig> = {}): Promise<Relay> {
  const config = defaultConfig(overrides);
  // OpenSSL directly: same checks, no thread-pool hop per verify (docs/decisions/0003).
  const engine = createNodeCryptoEngine();
  const store = new SqliteEnvelopeLog(config.dataDir);
  const blobs = new BlobStore(config.dataDir);
  const registry = new Registry(store, (count, codes) => {
    if (!config.quiet) console.warn(`[relay] ${count} stored record(s) quarantined on rebuild: ${codes.join(', ')}`);
  });
  const unloadGuard = unloadGuardExtension(config.now);
  const refusals = refusalLog({ now: config.now, intervalMs: config.budgets.refusalLogIntervalMs });
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
      logRefusalsOf(policyExtension(registry, config, engine), refusals),
      expiryExtension(registry, config),
      awarenessExtension(config),
      unloadGuard,
      persistenceExtension(store, config),
      blobExtension({ store: blobs, registry, config, engine }),
      staticExtension(config.staticDir),
    ],
  });
  // Track raw sockets: closing the HTTP server leaves upgraded WebSockets open, and a relay
  // that shuts down must drop its clients so they reconnect elsewhere.
  const sockets = new Set<import('node:net').Socket>();
  server.httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await server.listen();
  const port = server.address.port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return {
    server,
    store,
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
      store.close();
      blobs.close();
    },
  };
}
