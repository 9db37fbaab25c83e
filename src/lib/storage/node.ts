/** Node persistence (CLI, tests, benchmarks): one SQLite file per device directory. */
import { SqliteEnvelopeLog } from './sqlite-log.ts';
import type { Persistence } from './types.ts';

export interface NodePersistence {
  readonly persistence: Persistence;
  readonly log: SqliteEnvelopeLog;
  close(): void;
}

export function sqlitePersistence(dataDir: string): NodePersistence {
  const log = new SqliteEnvelopeLog(dataDir);
  return {
    log,
    persistence: (envelope, name) => log.attach(envelope, name),
    close: () => log.close(),
  };
}
