/**
 * Prometheus metrics (prom-client), off unless `METRICS_PORT` is set: then served as text on
 * their own loopback port (`GET /metrics`), never on the public one. They count, they never
 * name: no document, member, token or address is a label, so a scrape reveals how busy the
 * relay is and nothing about whom it serves. The only label is a refusal's stable code,
 * limited to the codes the relay has (anything else counts as OTHER), so a client cannot grow
 * the series.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection, Extension } from '@hocuspocus/server';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ProtocolErrors } from '../src/lib/protocol/errors.ts';
import { RelayErrors } from './errors.ts';
import { delegateStore, type RelayStore } from './storage/relay-store.ts';

const KNOWN_CODES = new Set([...Object.keys(ProtocolErrors), ...Object.keys(RelayErrors)]);

/** What the relay reports about itself at scrape time. */
export interface RelayGauges {
  connections(): number;
  documents(): number;
}

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly messagesIn = this.counter('fhv_messages_in_total', 'WebSocket document messages received');
  private readonly bytesIn = this.counter('fhv_bytes_in_total', 'Bytes of WebSocket document messages received');
  private readonly messagesOut = this.counter('fhv_messages_out_total', 'WebSocket messages sent');
  private readonly bytesOut = this.counter('fhv_bytes_out_total', 'Bytes of WebSocket messages sent');
  private readonly blobBytesIn = this.counter('fhv_blob_bytes_stored_total', 'Encrypted file bytes stored');
  private readonly blobBytesOut = this.counter('fhv_blob_bytes_served_total', 'Encrypted file bytes served');
  private readonly refusals = new Counter({ name: 'fhv_refusals_total', help: 'Refusals by stable code', labelNames: ['code'], registers: [this.registry] });
  private readonly storageSeconds = new Histogram({
    name: 'fhv_storage_seconds',
    help: 'Storage latency by operation (append: until durable)',
    labelNames: ['op'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(gauges: RelayGauges) {
    new Gauge({ name: 'fhv_connections', help: 'Open document connections', registers: [this.registry], collect() { this.set(gauges.connections()); } });
    new Gauge({ name: 'fhv_documents_loaded', help: 'Documents loaded in memory', registers: [this.registry], collect() { this.set(gauges.documents()); } });
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }

  refused(code: string): void {
    this.refusals.inc({ code: KNOWN_CODES.has(code) ? code : 'OTHER' });
  }

  blobBytes(direction: 'stored' | 'served', bytes: number): void {
    (direction === 'stored' ? this.blobBytesIn : this.blobBytesOut).inc(bytes);
  }

  /** Counts every document message in and every message out (wrapping `Connection.send`). */
  extension(): Extension {
    const counted = new WeakSet<Connection>();
    return {
      extensionName: 'fhv-metrics',
      connected: async ({ connection }) => {
        if (counted.has(connection)) return;
        counted.add(connection);
        const send = connection.send.bind(connection);
        connection.send = (message: Uint8Array) => {
          this.messagesOut.inc();
          this.bytesOut.inc(message.byteLength);
          return send(message);
        };
      },
      beforeHandleMessage: async ({ update }) => {
        this.messagesIn.inc();
        this.bytesIn.inc(update.byteLength);
      },
    };
  }

  /** The store with each operation's latency observed (append until durable, load, fold). */
  timed(store: RelayStore): RelayStore {
    const time = <T>(op: string, run: () => Promise<T>): Promise<T> => {
      const stop = this.storageSeconds.startTimer({ op });
      return run().finally(() => stop());
    };
    return {
      ...delegateStore(store),
      load: (name) => time('load', () => store.load(name)),
      append: (name, update, bindings) => time('append', () => store.append(name, update, bindings)),
      fold: (name, state, rows, now) => time('fold', () => store.fold(name, state, rows, now)),
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** `GET /metrics` on its own port; everything else 404. Resolves once listening. */
export async function serveMetrics(metrics: RelayMetrics, port: number, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://localhost').pathname !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      return;
    }
    metrics.text().then(
      (text) => response.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' }).end(text),
      () => response.writeHead(500, { 'Content-Type': 'text/plain' }).end('METRICS_FAILED'),
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
