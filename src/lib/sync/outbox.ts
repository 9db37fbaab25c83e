/**
 * Local edits on their way to the envelope: queued plain-doc updates, sealed as one update
 * record. `flush()` is a promise over the work in flight, never a poll, and returns as soon as
 * nothing more can be sealed (no genesis yet, no key for the current epoch, no write access):
 * the edits stay queued, `blocked` says why, and the status shows them pending.
 *
 * When to seal (decision 0021): edits of one synchronous burst always join one record, and
 * edits made while a seal is in flight join the next one. Beyond that the batch window only
 * holds back a SOLO burst: while others are active (a remote record was applied within
 * `othersActiveMs`) every record goes out as soon as the one before it is sealed, since a
 * co-author waits for it; after a quiet period the first edit goes out at once either way.
 */
import type { ProblemList } from './problems.ts';

export type OutboxBlock =
  /** The membership log has not arrived yet (a device joining): edits wait for it. */
  | 'no-genesis'
  /** This device holds no key for the epoch records are sealed under now. */
  | 'no-key'
  /** This device's member may not write. */
  | 'read-only'
  /** Opened from the plain-state cache: nothing is sealed until the envelope is verified against it. */
  | 'verifying'
  /** Just opened: own records wait for the relay's first catch-up (catch-up-hold.ts), a few seconds at most. */
  | 'catching-up';

export interface OutboxContext {
  readonly now: () => number;
  /** Minimum spacing of records in a solo burst (nobody else active). */
  readonly batchWindowMs: number;
  /** Others count as active this long after a remote record was applied. */
  readonly othersActiveMs: number;
  readonly problems: ProblemList;
  /** Why nothing can be sealed now, if so. */
  blocked(): OutboxBlock | undefined;
  /**
   * Seals the updates (already merged) as one own record. Throws `OwnRecordRefused` if the
   * write policy refuses this device's record, anything else for a local failure.
   */
  seal(update: Uint8Array[], sessions: number[]): Promise<void>;
  /** The error a refused seal is reported with, or undefined if `e` is another failure. */
  refusal(e: unknown): { code: Parameters<ProblemList['report']>[0]['code'] } | undefined;
  /** After each sealed record (compaction may be due). */
  sealed(): Promise<void>;
  changed(): void;
}

export class Outbox {
  private readonly c: OutboxContext;
  private queue: Uint8Array[] = [];
  private sessions = new Set<number>();
  private session = 0;
  private inFlight: Promise<boolean> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private microtask = false;
  private lastSealAt = -Infinity;
  private lastRemoteAt = -Infinity;
  private sealedCount = 0;
  private stopped = false;
  /** Updates in the batch being sealed (taken off `queue` while its seal runs). */
  private sealing = 0;

  constructor(c: OutboxContext) {
    this.c = c;
  }

  /** Edits not yet in the envelope: queued, and the batch being sealed (still pending for the status). */
  get queued(): number {
    return this.queue.length + this.sealing;
  }

  /** Why queued edits cannot be sealed now (undefined when nothing is queued or they can). */
  get blocked(): OutboxBlock | undefined {
    return this.queue.length > 0 ? this.c.blocked() : undefined;
  }

  /** The Yjs session (clientID) edits are made under from now on. */
  useSession(session: number): void {
    this.session = session;
    this.sessions.add(session);
  }

  push(update: Uint8Array): void {
    this.queue.push(update);
    this.schedule();
    this.c.changed();
  }

  /** Whether another replica's record was applied within `othersActiveMs`. */
  get othersActive(): boolean {
    return this.c.now() - this.lastRemoteAt < this.c.othersActiveMs;
  }

  /** A remote record was applied: others are active, so a solo burst's wait is cut short. */
  remoteApplied(): void {
    this.lastRemoteAt = this.c.now();
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }

  /** Seal soon: at once after a quiet period or while others are active, else at the end of the batch window. */
  schedule(): void {
    if (this.inFlight || this.timer !== undefined || this.microtask || this.queue.length === 0 || this.stopped) return;
    const wait = this.othersActive ? 0 : this.lastSealAt + this.c.batchWindowMs - this.c.now();
    if (wait <= 0) {
      // A microtask, not a timer: updates of the same synchronous burst join this record.
      this.microtask = true;
      queueMicrotask(() => {
        this.microtask = false;
        void this.sealNow();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.sealNow();
      }, wait);
    }
  }

  /** Seals everything that can be sealed now; resolves once it is in the envelope. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer), (this.timer = undefined);
    for (;;) {
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      if (this.queue.length === 0) return;
      const before = this.sealedCount;
      await this.sealNow();
      if (this.sealedCount === before) return; // blocked or refused: kept queued, shown in status
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private async sealNow(): Promise<void> {
    if (this.inFlight) {
      await this.inFlight;
      return;
    }
    if (this.queue.length === 0 || this.stopped) return;
    const blocked = this.c.blocked();
    if (blocked === 'read-only') this.c.problems.report({ code: 'RECORD_NOT_WRITER', message: 'this device may not write to this profile; local changes are not shared' });
    if (blocked) return;
    const batch = this.sealBatch();
    this.inFlight = batch;
    const refused = await batch;
    if (refused) return; // retried when records arrive (a role may come back), not in a loop
    this.schedule();
    await this.c.sealed();
  }

  /** Seals the queue as one record; on failure puts it back. Resolves to whether it was refused. */
  private async sealBatch(): Promise<boolean> {
    this.lastSealAt = this.c.now();
    const updates = this.queue;
    const sessions = [...this.sessions];
    this.queue = [];
    this.sessions = new Set([this.session]);
    this.sealing = updates.length;
    try {
      await this.c.seal(updates, sessions);
      this.sealedCount++;
      return false;
    } catch (e) {
      // Refused by the write policy (a role this device lost), or a local crypto or storage
      // failure: keep the edits queued and tell the user.
      this.queue = updates.concat(this.queue);
      for (const s of sessions) this.sessions.add(s);
      const refusal = this.c.refusal(e);
      if (refusal) this.c.problems.report({ code: refusal.code, message: 'this device may not write to this profile; local changes are not shared' });
      else this.c.problems.report({ code: 'SYNC_SEAL_FAILED', message: `could not seal local changes: ${(e as Error).name}` });
      return refusal !== undefined;
    } finally {
      this.sealing = 0;
      this.inFlight = undefined;
      this.c.changed();
    }
  }
}
