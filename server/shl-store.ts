/**
 * SMART Health Links on the relay (docs/decisions/0031): per manifest id, the owner's profile,
 * the JWE (ciphertext made on the owner's device; the key never comes here), an optional
 * passcode's scrypt hash and salt with the attempts left, and an expiry; and the short-lived
 * file tickets a manifest hands out. A link that is revoked, expired or out of attempts keeps
 * only a tombstone (id, profile, state): its ciphertext, passcode hash and tickets are deleted at
 * once and the id is never served or reused.
 *
 * Two stores keep the same rules: a table beside the blobs in the relay's SQLite file
 * (storage/shl-table.ts, run by a worker of its own), the default; and PostgreSQL when
 * `DATABASE_URL` is set (storage/postgres-shl-store.ts), so every instance serves every link.
 * tests/server/shl-store-contract.test.ts runs one suite against both.
 */
import type { RelayConfig } from './config.ts';
import type { ShlApi } from './storage/shl-table.ts';
import type { NewLink, NewTicket, ShlState, ShlStore, StoredLink } from './storage/shl-types.ts';
import { openTableWorker } from './storage/table-client.ts';
import type { WorkerClient } from './storage/worker-rpc.ts';

export type { NewLink, NewTicket, ShlState, ShlStore, StoredLink } from './storage/shl-types.ts';

/** PostgreSQL when `DATABASE_URL` is set, else DATA_DIR's SQLite file; rejects with RELAY_STORAGE_FAILED. */
export async function openShlStore(config: Pick<RelayConfig, 'dataDir' | 'databaseUrl'>): Promise<ShlStore> {
  if (config.databaseUrl === undefined) return SqliteShlStore.open(config.dataDir);
  const { PostgresShlStore } = await import('./storage/postgres-shl-store.ts');
  return PostgresShlStore.open(config.databaseUrl);
}

/** Every statement runs in a table worker (storage/table-worker.ts), off the relay's event loop. */
export class SqliteShlStore implements ShlStore {
  private readonly worker: WorkerClient<ShlApi>;

  private constructor(worker: WorkerClient<ShlApi>) {
    this.worker = worker;
  }

  /** Resolves once its worker opened DATA_DIR's database (rejects with RELAY_STORAGE_FAILED if it cannot). */
  static async open(dataDir: string): Promise<SqliteShlStore> {
    return new SqliteShlStore(await openTableWorker<ShlApi>(dataDir, 'shl'));
  }

  insert(link: NewLink, now: number, maxActive: number): Promise<'created' | 'taken' | 'over-quota'> {
    return this.worker.ask('insert', { link, now, maxActive });
  }

  get(id: string): Promise<StoredLink | undefined> {
    return this.worker.ask('get', { id });
  }

  end(id: string, state: Exclude<ShlState, 'active'>): Promise<boolean> {
    return this.worker.ask('end', { id, state });
  }

  reserveAttempt(id: string): Promise<boolean> {
    return this.worker.ask('reserve', { id });
  }

  refundAttempt(id: string): Promise<void> {
    return this.worker.ask('refund', { id });
  }

  sweepExpired(now: number): Promise<number> {
    return this.worker.ask('sweep', { now });
  }

  issueTicket(ticket: NewTicket, now: number): Promise<void> {
    return this.worker.ask('ticket', { ticket, now });
  }

  ticketLink(hash: string, now: number): Promise<string | undefined> {
    return this.worker.ask('redeem', { hash, now });
  }

  dumpAll(): Promise<Array<Record<string, unknown>>> {
    return this.worker.ask('all', {});
  }

  ping(): Promise<void> {
    return this.worker.ask('ping', {});
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
