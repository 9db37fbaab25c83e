/**
 * The relay: stock Hocuspocus plus small extensions (auth, policy, persistence, static app).
 * It stores and forwards envelope docs only; it holds no keys and never sees plaintext.
 */
import { Server, type Hocuspocus } from '@hocuspocus/server';
import { createNodeCryptoEngine } from '../src/lib/crypto/ed25519-node.ts';
import { authExtension } from './auth.ts';
import { awarenessExtension } from './awareness.ts';
import { blobExtension } from './blobs.ts';
import { budgetExtension } from './budgets.ts';
import { defaultConfig, type RelayConfig } from './config.ts';
import { persistenceExtension } from './persistence.ts';
import { policyExtension } from './policy.ts';
import { eraseDocumentOn, erasedRouteExtension, type EraseOptions, type ErasedRouteLimits } from './erase.ts';
import { Registry, registryExtension } from './registry.ts';
import { expiryExtension } from './revocation.ts';
import { logRefusalsOf, refusalLog } from './log.ts';
import { RelayMetrics, serveMetrics } from './metrics.ts';
import { healthExtension } from './ops.ts';
import { shlExtension } from './shl.ts';
import { openShlStore } from './shl-store.ts';
import { staticExtension } from './static.ts';
import { noEchoExtension } from './no-echo.ts';
import { unloadGuardExtension } from './unload-guard.ts';
import { durableAckExtension, resetDocument } from './durable-ack.ts';
import type { RelayStorageError } from './errors.ts';
import type { RelayStore } from './storage/relay-store.ts';
import { erasingFiles, openFileStore, openRelayStore } from './storage/open-store.ts';
import { journaling } from './erasure-journal.ts';
import type { FileStore } from './storage/file-store.ts';

export interface Relay {
  readonly server: Server;
  /** Envelope docs (SQLite from a worker thread, or PostgreSQL): each durable before it is acknowledged. */
  readonly storage: RelayStore;
  /**
   * Resolves if storage stops working while the relay runs (its worker died): nothing can be
   * stored or acknowledged any more, so the process should exit and be restarted.
   */
  readonly storageLost: Promise<RelayStorageError>;
  /** Encrypted document files (DATA_DIR's SQLite file, or S3 with BLOB_STORE). */
  readonly blobs: FileStore;
  readonly config: RelayConfig;
  /** Each document's record index (benchmarks and tests read its size). */
  readonly registry: Registry;
  /** ws://127.0.0.1:PORT (Hocuspocus reports 0.0.0.0; clients need a connectable address). */
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
  /** http://127.0.0.1:PORT/metrics when `metricsPort` is set. */
  readonly metricsUrl: string | undefined;
  /**
   * Graceful shutdown: `/readyz` turns 503 at once, then every document is folded and stored,
   * every client is closed (they reconnect elsewhere), and storage is closed.
   */
  destroy(): Promise<void>;
}

/** For tests only: what the relay is built on beyond its config. */
export interface RelayInternals {
  /**
   * Puts something between the relay and its SQLite store (tests hold or fail appends with it,
   * tests/helpers/held-store.ts). The relay closes what this returns.
   */
  readonly wrapStorage?: (store: RelayStore) => RelayStore;
  /** Budgets of `GET /erased/<doc>` (server/erase.ts); tests lower them. */
  readonly erasedRouteLimits?: Partial<ErasedRouteLimits>;
}

/** Pending connections the kernel may queue for accept (it caps this at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

export async function startRelay(overrides: Partial<RelayConfig> = {}, internals: RelayInternals = {}): Promise<Relay> {
  const config = defaultConfig(overrides);
  // OpenSSL directly: same checks, no thread-pool hop per verify (docs/decisions/0003).
  const engine = createNodeCryptoEngine();
  const log = config.logger;
  /** The Hocuspocus instance, once it exists (metrics, resets and the registry ask about its documents). */
  let hocuspocus: Hocuspocus | undefined;
  const metrics = new RelayMetrics({ connections: () => hocuspocus?.getConnectionsCount() ?? 0, documents: () => hocuspocus?.getDocumentsCount() ?? 0 });
  // One after another: each store's worker sets WAL mode and creates its tables in the same
  // file, and opened side by side one could find the database locked (CI, revocation.test.ts).
  const opened = await openRelayStore(config);
  const blobs = await openFileStore(config).catch(async (e: unknown) => {
    await opened.store.close().catch(() => undefined);
    throw e;
  });
  const links = await openShlStore(config).catch(async (e: unknown) => {
    await Promise.all([opened.store.close(), blobs.close()]).catch(() => undefined);
    throw e;
  });
  const erasing = erasingFiles(internals.wrapStorage?.(opened.store) ?? opened.store, blobs);
  const storage: RelayStore = metrics.timed(config.erasureJournal === undefined ? erasing : journaling(erasing, config.erasureJournal, log));
  // With other instances writing (REDIS_URL), an entry of a document not loaded here goes stale.
  const detached = config.redisUrl === undefined ? undefined : (name: string) => !(hocuspocus?.documents.has(name) || hocuspocus?.loadingDocuments.has(name));
  const registry = new Registry(storage, (count, codes) => log('warn', 'records_quarantined', { count, codes: codes.join(',') }), detached);
  const refusals = refusalLog({ now: config.now, intervalMs: config.budgets.refusalLogIntervalMs, logger: log, counted: (code) => metrics.refused(code) });
  const persistence = persistenceExtension(storage, config, {
    onWriteFailed: (document, e) => {
      log('error', 'document_reset', { code: e.code });
      if (hocuspocus) resetDocument(document, registry, hocuspocus);
    },
  });
  let draining = false;
  // A reset instance (failed write) must unload as soon as its last connection is gone.
  const unloadGuard = unloadGuardExtension(config.now, undefined, (document) => persistence.failed(document), (document) => persistence.appending(document));
  const erasure: EraseOptions = { registry, store: storage, config, engine, limits: internals.erasedRouteLimits };
  const onErase = eraseDocumentOn(erasure);
  // Imported only when configured (the Redis extension and ioredis take ~0.3 s to load).
  const cluster = config.redisUrl === undefined ? undefined : (await import('./cluster.ts')).cluster({ redisUrl: config.redisUrl, registry, config, onErase });
  const ready = { ping: async () => void (await Promise.all([storage.ping(), blobs.ping(), links.ping(), cluster?.ping()])) };
  const server = new Server({
    port: config.port,
    address: config.host,
    quiet: config.quiet,
    stopOnSignals: false,
    debounce: config.storeDebounceMs,
    maxDebounce: config.storeDebounceMs * 5,
    websocketOptions: { maxPayload: config.maxFrameBytes },
    extensions: [
      healthExtension({ store: ready, timeoutMs: config.readyTimeoutMs, draining: () => draining }),
      metrics.extension(),
      budgetExtension(config, refusals),
      logRefusalsOf(authExtension(registry, config, engine), refusals),
      logRefusalsOf(policyExtension(registry, config, engine, persistence, onErase), refusals),
      expiryExtension(registry, config),
      awarenessExtension(config),
      unloadGuard,
      noEchoExtension(),
      durableAckExtension(persistence),
      persistence,
      registryExtension(registry),
      ...(cluster?.extensions ?? []),
      erasedRouteExtension(erasure),
      blobExtension({ store: blobs, registry, config, engine, onBytes: (direction, n) => metrics.blobBytes(direction, n) }),
      shlExtension({ registry, config, engine, store: links }),
      staticExtension(config.staticDir, log),
    ],
  });
  erasure.hocuspocus = server.hocuspocus;
  stopPingSweep(server);
  const instance = server.hocuspocus;
  hocuspocus = instance;
  registry.bounds = { now: config.now, idleMs: config.registryIdleMs, holds: (name) => instance.documents.has(name) || instance.loadingDocuments.has(name) || instance.unloadingDocuments.has(name) };
  // Track raw sockets: closing the HTTP server leaves upgraded WebSockets open, and a relay
  // that shuts down must drop its clients so they reconnect elsewhere.
  const sockets = new Set<import('node:net').Socket>();
  server.httpServer.on('connection', (socket) => {
    // Shutting down: a client reconnecting at once must not keep the server open.
    if (draining) return void socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A reconnect storm (every device of a family service coming back at once) overflowed Node's
  // default accept queue of 511: the kernel dropped the rest and their SYN retries came 1 s and
  // 3 s later (S7, decision 0051). Hocuspocus listens without a backlog; ask for the kernel's cap.
  const listen = server.httpServer.listen.bind(server.httpServer) as (options: object, callback: () => void) => unknown;
  (server.httpServer as unknown as { listen: typeof listen }).listen = (options, callback) => listen({ ...options, backlog: LISTEN_BACKLOG }, callback);
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  try {
    await server.listen();
    if (config.metricsPort !== undefined) metricsServer = await serveMetrics(metrics, config.metricsPort, config.metricsHost);
  } catch (e) {
    await server.destroy().catch(() => undefined);
    await storage.close();
    await blobs.close();
    await links.close();
    throw e;
  }
  const port = server.address.port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return {
    server,
    storage,
    storageLost: opened.lost,
    blobs,
    config,
    registry,
    port,
    url: `ws://${host}:${port}`,
    httpUrl: `http://${host}:${port}`,
    metricsUrl: metricsServer && `http://${config.metricsHost === '0.0.0.0' ? '127.0.0.1' : config.metricsHost}:${metricsServer.port}/metrics`,
    async destroy() {
      draining = true;
      unloadGuard.release();
      refusals.flush();
      // Hocuspocus closes each document connection, but a client multiplexing documents on one
      // socket re-opens them on it at once, and the server waits for every document to unload:
      // drop the sockets too (an acknowledgement still in flight is lost; the client resends).
      const stopped = server.destroy();
      for (const socket of sockets) socket.destroy();
      // Documents whose unload the guard deferred have no connection left to trigger it.
      for (const doc of server.hocuspocus.documents.values()) void server.hocuspocus.unloadDocument(doc);
      await stopped;
      // Hocuspocus folded every document on unload; close() finishes any write still queued.
      await storage.close();
      await blobs.close();
      if (metricsServer) await new Promise((resolve) => metricsServer!.server.close(resolve));
    },
  };
}

/**
 * crossws, Hocuspocus 4's WebSocket layer, pings every socket in one synchronous loop every
 * 30 s (its `idleTimeout`, which Hocuspocus does not pass through): at 10,000 connections a
 * third of a second in which no edit is read, the whole of S3's p99 tail (decision 0050,
 * amendment of 19:45). It adds nothing here: Hocuspocus ends a connection silent for its
 * `timeout` on a timer of its own per connection (pings do not count as messages), and the
 * vault's clients ask for a sync every 30 s, which keeps the path warm both ways. The adapter's
 * close() before any connection stops only that sweep (it closes the peers it has: none yet);
 * upgrades go on as before.
 */
function stopPingSweep(server: Server): void {
  const adapter = (server as unknown as { crossws?: { close?: () => Promise<void>; peers?: Map<string, Set<unknown>> } }).crossws;
  if (typeof adapter?.close !== 'function' || !(adapter.peers instanceof Map)) throw new Error('@hocuspocus/server changed: its crossws adapter is not where server/relay.ts expects it');
  if ([...adapter.peers.values()].some((peers) => peers.size > 0)) throw new Error('stopPingSweep must run before the relay takes a connection');
  void adapter.close();
}
