/**
 * One open profile's use of its plain-state cache (docs/decisions/0020): after a cached open,
 * the background load and check of the stored envelope, and what its outcome means for the
 * profile; and keeping the cache written (debounced, on close), whatever the open path.
 */
import type * as Y from 'yjs';
import type { Principal } from '../protocol/index.ts';
import { isWriterRole } from '../protocol/index.ts';
import type { PlainCacheStore } from '../storage/types.ts';
import type { ProfileSync } from '../sync/profile-sync.ts';
import { transactionChanged } from '../sync/yjs-internals.ts';
import { VaultError } from './errors.ts';
import { PlainCacheWriter, type PlainCacheOptions } from './plain-cache.ts';
import type { ProfileStatus } from './profile-status.ts';

interface ProfileCacheContext {
  readonly docId: Uint8Array;
  readonly plain: Y.Doc;
  readonly sync: ProfileSync;
  readonly status: ProfileStatus;
  readonly role: () => Principal | undefined;
  /** The profile's teardown list (the writer's listener and timers go with it). */
  readonly detachers: Array<() => void>;
}

export class ProfileCache {
  private writer: PlainCacheWriter | undefined;
  /** Loading and verifying the stored envelope after a cached open (undefined after a full open). */
  private background: Promise<void> | undefined;
  /** The device could write when the cache was written: edits queue while the check runs. */
  private cachedWriter = false;

  private readonly c: ProfileCacheContext;

  constructor(c: ProfileCacheContext) {
    this.c = c;
  }

  /** Keeps the cache written: after changes settle, and on close (`due`: write one once settled). */
  keep(store: PlainCacheStore, options: PlainCacheOptions, due: boolean): void {
    const { sync, plain } = this.c;
    const writer = new PlainCacheWriter({
      docId: this.c.docId,
      store,
      options,
      source: async () => {
        await sync.flush();
        const state = sync.cacheableState();
        return state && { ...state, writer: isWriterRole(this.c.role()) };
      },
    });
    this.writer = writer;
    // Not an 'update' listener: Yjs would encode every transaction's update for it, a whole
    // snapshot's on a catch-up, only to say that something changed.
    const onTransaction = (tr: Y.Transaction) => {
      if (transactionChanged(tr)) writer.changed();
    };
    plain.on('afterTransaction', onTransaction);
    this.c.detachers.push(() => plain.off('afterTransaction', onTransaction), () => writer.stop());
    if (due) writer.changed();
  }

  /**
   * After a cached open: in the next task (the caller shows the cached state first), `load`
   * brings in the stored envelope, then every record is verified and the cache checked against
   * them (ProfileSync.verifyCached). A mismatch is shown (SYNC_CACHE_MISMATCH), the cache deleted,
   * and nothing from this plain doc is sealed: it must be reopened from the envelope.
   */
  verifyInBackground(cachedWriter: boolean, load: () => Promise<void>): void {
    this.cachedWriter = cachedWriter;
    this.background = new Promise((resolve) => setTimeout(resolve, 0)).then(async () => {
      await load();
      const outcome = await this.c.sync.verifyCached();
      if (outcome === 'mismatch') {
        this.c.status.setCacheProblem({ code: 'SYNC_CACHE_MISMATCH', message: 'the copy saved on this device did not match its verified records; reopen the profile to load it from them' });
        await this.writer?.discard();
      } else {
        this.writer?.changed(); // the tail the cache did not cover is in now
      }
    });
  }

  /** Resolves once the stored records are verified (at once after a full open). */
  async whenVerified(): Promise<'verified' | 'mismatch'> {
    await this.background;
    return this.c.sync.cacheCheckOutcome ?? 'verified';
  }

  /** The background work is over, however it ended (close, flush and connect wait for it). */
  settled(): Promise<void> {
    return this.background?.catch(() => undefined) ?? Promise.resolve();
  }

  /**
   * What needs the engine (owner operations, the audit trail, an export) waits until the stored
   * records are verified; after a mismatch it is refused rather than run on unverified content.
   */
  async verifiedFirst(): Promise<void> {
    if ((await this.whenVerified()) === 'mismatch') throw new VaultError('PROFILE_REBUILD_NEEDED', 'this profile must be reopened from its verified records first');
  }

  /** While checked, whether edits may queue (the cache's word; never after a mismatch). */
  get writableWhileChecking(): boolean {
    return this.cachedWriter && this.c.sync.cacheCheckOutcome !== 'mismatch';
  }

  /** Writes the cache now if it changed; the size written (bytes). */
  async writeNow(): Promise<number> {
    await this.background;
    await this.writer?.writeNow();
    return this.writer?.lastWrittenBytes ?? 0;
  }
}
