/**
 * The server side of a network benchmark: our relay, a stock Hocuspocus Server, or the raw `ws`
 * broadcast floor, optionally behind the counting proxy. bench/lib/server-process.ts runs one
 * either in a child process of its own (server-child.ts) or in the caller's process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { Server } from '@hocuspocus/server';
import { startRelay } from '../../server/relay.ts';
import { installRelayTrace, writeRelayTrace } from './relay-trace.ts';
import { startCountingProxy, type CountingProxy } from './proxy.ts';

export type ServerKind = 'relay' | 'hocuspocus' | 'raw';
export interface ServerOptions {
  /** Put the counting proxy in front (S8's bytes on the wire); clients then connect to it. */
  readonly proxy?: boolean;
  /** Relay only: its SQLite on /dev/shm (tmpfs, fsync free). */
  readonly memoryDisk?: boolean;
  /** Listen on this port (a restarted server takes its predecessor's; S7). Default: any free port. */
  readonly port?: number;
  /** Relay only: keep the data here (not removed on close), so a restarted relay finds it (S7). */
  readonly dataDir?: string;
  /** Relay only: store envelopes in this PostgreSQL database (DATABASE_URL; S4). */
  readonly databaseUrl?: string;
  /** Relay: share live documents with other instances through this Redis (REDIS_URL); stock Hocuspocus: with its Redis extension (S4). */
  readonly redisUrl?: string;
}

/** What a server holds now: documents loaded, connections, and (relay) record indexes kept. */
export interface ServerStats {
  readonly documents: number;
  readonly connections: number;
  readonly indexed?: number;
}

/** `dropAll` cuts every open connection at the TCP level, as a network drop would (S7's storm). */
export type Started = { url: string; stats?(): ServerStats; close(): Promise<void>; dropAll(): number };

/** Every socket an HTTP server accepted, so they can all be destroyed at once. */
function trackSockets(httpServer: import('node:http').Server): () => number {
  const sockets = new Set<import('node:net').Socket>();
  httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () => {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    sockets.clear();
    return n;
  };
}

async function startRaw(o: ServerOptions): Promise<Started> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: o.port ?? 0, perMessageDeflate: false });
  await new Promise<void>((r) => server.once('listening', () => r()));
  server.on('connection', (socket) => {
    socket.on('message', (data, binary) => {
      for (const other of server.clients) if (other !== socket && other.readyState === WebSocket.OPEN) other.send(data, { binary });
    });
  });
  const address = server.address();
  return {
    url: `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    dropAll() {
      const n = server.clients.size;
      for (const c of server.clients) c.terminate();
      return n;
    },
    async close() {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function startHocuspocus(o: ServerOptions): Promise<Started> {
  const redis = o.redisUrl === undefined ? [] : [new (await import('@hocuspocus/extension-redis')).Redis({ host: new URL(o.redisUrl).hostname, port: Number(new URL(o.redisUrl).port) })];
  const server = new Server({ port: o.port ?? 0, quiet: true, stopOnSignals: false, extensions: redis });
  const trace = installRelayTrace(server);
  const dropAll = trackSockets(server.httpServer);
  await server.listen();
  return {
    url: `ws://127.0.0.1:${server.address.port}`,
    dropAll,
    stats: () => ({ documents: server.hocuspocus.getDocumentsCount(), connections: server.hocuspocus.getConnectionsCount() }),
    close: () => {
      writeRelayTrace(trace);
      return server.destroy();
    },
  };
}

async function startOurRelay(o: ServerOptions): Promise<Started> {
  if (o.memoryDisk && !existsSync('/dev/shm')) throw new Error('no /dev/shm on this machine');
  const dataDir = o.dataDir ?? mkdtempSync(join(o.memoryDisk ? '/dev/shm' : tmpdir(), 'fhv-bench-relay-'));
  // Probe only: BENCH_RELAY_STORE_DEBOUNCE_MS sets how long a document is quiet before its log folds.
  const debounce = Number(process.env.BENCH_RELAY_STORE_DEBOUNCE_MS);
  const relay = await startRelay({ port: o.port ?? 0, host: '127.0.0.1', dataDir, quiet: true, databaseUrl: o.databaseUrl, redisUrl: o.redisUrl, ...(debounce > 0 ? { storeDebounceMs: debounce } : {}) });
  const trace = installRelayTrace(relay.server, relay.storage as never);
  return {
    url: relay.url,
    dropAll: trackSockets(relay.server.httpServer),
    stats: () => ({ documents: relay.server.hocuspocus.getDocumentsCount(), connections: relay.server.hocuspocus.getConnectionsCount(), indexed: relay.registry.size }),
    async close() {
      writeRelayTrace(trace);
      await relay.destroy();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface StartedServer {
  readonly url: string;
  readonly proxy: CountingProxy | undefined;
  /** Cuts every client connection at once (behind the proxy: the server's side of each); returns how many. */
  dropAll(): number;
  stats(): ServerStats;
  close(): Promise<void>;
}

export async function startServer(kind: ServerKind, o: ServerOptions = {}): Promise<StartedServer> {
  const started = kind === 'relay' ? await startOurRelay(o) : kind === 'hocuspocus' ? await startHocuspocus(o) : await startRaw(o);
  const proxy = o.proxy ? await startCountingProxy(started.url) : undefined;
  return {
    url: proxy?.url ?? started.url,
    proxy,
    dropAll: () => started.dropAll(),
    stats: () => started.stats?.() ?? { documents: 0, connections: 0 },
    async close() {
      await proxy?.close();
      await started.close();
    },
  };
}
