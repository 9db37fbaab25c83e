/** Test factories: a real relay on a loopback port with its own temp data dir, torn down by the caller. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay, type RelayInternals } from '../../server/relay.ts';
import type { RelayConfig } from '../../server/config.ts';
import { SqliteEnvelopeLog } from '../../src/lib/storage/sqlite-log.ts';

export interface TestRelay extends Relay {
  readonly dataDir: string;
  /** What the relay has committed, read synchronously for assertions (see `storedEnvelopes`). */
  readonly store: StoredEnvelopes;
}

export async function testRelay(overrides: Partial<RelayConfig> = {}, internals: RelayInternals = {}): Promise<TestRelay> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'fhv-relay-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir, storeDebounceMs: 50, ...overrides }, internals);
  return {
    ...relay,
    dataDir,
    store: storedEnvelopes(dataDir),
    async destroy() {
      await relay.destroy();
    },
  };
}

/** A read-only view of a relay data dir's envelope log. */
export interface StoredEnvelopes {
  /** A document's folded state merged with its logged updates. */
  load(name: string): Uint8Array | undefined;
  clientOwners(name: string): Array<[number, string]>;
  /** Every stored document, for canary scans. */
  dumpAll(): Uint8Array[];
}

/**
 * Reads what the relay committed (it writes from a worker thread; in WAL mode a reader sees
 * every committed transaction, and the relay acknowledges an update only after its commit).
 * Each call opens its own read-only connection, so it also works before a start or after a stop.
 */
export function storedEnvelopes(dataDir: string): StoredEnvelopes {
  const read = <T>(f: (log: SqliteEnvelopeLog) => T): T => {
    const log = new SqliteEnvelopeLog(dataDir, { readOnly: true });
    try {
      return f(log);
    } finally {
      log.close();
    }
  };
  return {
    load: (name) => read((log) => log.load(name)),
    clientOwners: (name) => read((log) => log.clientOwners(name)),
    dumpAll: () => read((log) => log.dumpAll()),
  };
}

export function tempDir(prefix = 'fhv-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
