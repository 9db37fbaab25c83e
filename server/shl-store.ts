/**
 * SMART Health Links on the relay (docs/decisions/0031): per manifest id, the owner's profile,
 * the JWE (ciphertext made on the owner's device; the key never comes here), an optional
 * passcode's scrypt hash and salt with the attempts left, and an expiry. A link that is revoked,
 * expired or out of attempts keeps only a tombstone (id, profile, state): its ciphertext and
 * passcode hash are deleted at once and the id is never served or reused. A table beside the
 * blobs in the relay's SQLite file (storage/shl-table.ts), run by a worker of its own.
 */
import type { NewLink, ShlApi, ShlState, StoredLink } from './storage/shl-table.ts';
import { openTableWorker } from './storage/table-client.ts';
import type { WorkerClient } from './storage/worker-rpc.ts';

export type { NewLink, ShlState, StoredLink } from './storage/shl-table.ts';

/** Every statement runs in a table worker (storage/table-worker.ts), off the relay's event loop. */
export class ShlStore {
  private readonly worker: WorkerClient<ShlApi>;

  private constructor(worker: WorkerClient<ShlApi>) {
    this.worker = worker;
  }

  /** Resolves once its worker opened DATA_DIR's database (rejects with RELAY_STORAGE_FAILED if it cannot). */
  static async open(dataDir: string): Promise<ShlStore> {
    return new ShlStore(await openTableWorker<ShlApi>(dataDir, 'shl'));
  }

  /** Stores a new link if the profile has fewer than `maxActive` live ones; 'taken' if the id exists. */
  insert(link: NewLink, now: number, maxActive: number): Promise<'created' | 'taken' | 'over-quota'> {
    return this.worker.ask('insert', { link, now, maxActive });
  }

  get(id: string): Promise<StoredLink | undefined> {
    return this.worker.ask('get', { id });
  }

  /** Ends an active link (its ciphertext and passcode hash are deleted); false if it was not active. */
  end(id: string, state: Exclude<ShlState, 'active'>): Promise<boolean> {
    return this.worker.ask('end', { id, state });
  }

  /** Takes one passcode attempt before checking a guess; false when none is left. */
  reserveAttempt(id: string): Promise<boolean> {
    return this.worker.ask('reserve', { id });
  }

  /** Gives back the attempt of a guess that was right. */
  refundAttempt(id: string): Promise<void> {
    return this.worker.ask('refund', { id });
  }

  /** Ends every link whose expiry is past; returns how many. */
  sweepExpired(now: number): Promise<number> {
    return this.worker.ask('sweep', { now });
  }

  /** Every row, for canary scans in tests. */
  dumpAll(): Promise<Array<Record<string, unknown>>> {
    return this.worker.ask('all', {});
  }

  /** Resolves once the worker answered (readiness: a dead worker makes /readyz 503). */
  ping(): Promise<void> {
    return this.worker.ask('ping', {});
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
