/**
 * The background check after a profile opened from its plain-state cache (vault/plain-cache.ts,
 * docs/decisions/0020): while the stored envelope is verified record by record, every verified
 * update is also applied to a shadow doc; once all are in, the cache must be contained in it.
 * Anything the cache holds that no verified record does (a struct, a deletion) is a mismatch:
 * the cache is never trusted, only shown first.
 */
import * as Y from 'yjs';
import { applyVerified, type VerifiedUpdate } from './apply.ts';
import { hasPending } from './yjs-internals.ts';

/** What the open path applied from the cache, and the verified state it is checked against. */
export interface CachedPlain {
  /** Y.encodeStateAsUpdate (v1) of the plain doc when the cache was written. */
  readonly state: Uint8Array;
  /** Chain heads (hex author, seq) the cached state includes: every later record is the tail. */
  readonly coverage: readonly { readonly author: string; readonly seq: number }[];
}

/**
 * True if applying `cached` to `verified` changes nothing: every struct and deletion in it is
 * verified. Consumes `verified` (the cache is applied to it; the shadow is thrown away after).
 */
export function cacheContainedIn(verified: Y.Doc, cached: Uint8Array): boolean {
  let changed = false;
  const onUpdate = () => (changed = true);
  verified.on('update', onUpdate);
  try {
    Y.applyUpdate(verified, cached);
    return !changed && !hasPending(verified);
  } catch {
    return false;
  } finally {
    verified.off('update', onUpdate);
  }
}

/** Outcome of the background check. */
export type CacheCheck = 'verified' | 'mismatch';

/**
 * One cached open's check: made when the cache is applied, started when the stored envelope is
 * loaded (the shadow doc is made then, nothing of it on the way to the first screen), finished
 * once every stored record went through the pipeline. A mismatch stays for the life of the engine.
 */
export class CachedOpenCheck {
  readonly cached: CachedPlain;
  readonly done: Promise<void>;
  private resolve: () => void = () => {};
  private shadow: Y.Doc | undefined;
  outcome: CacheCheck | undefined;

  constructor(cached: CachedPlain) {
    this.cached = cached;
    this.done = new Promise<void>((r) => (this.resolve = r));
  }

  start(): void {
    this.shadow ??= new Y.Doc({ guid: 'verified-shadow' });
  }

  /** A verified update the pipeline applied to the plain doc goes into the shadow too. */
  verified(update: VerifiedUpdate, origin: unknown): void {
    if (this.shadow && !this.outcome) applyVerified(this.shadow, update, origin);
  }

  finish(): CacheCheck {
    this.outcome = this.shadow && cacheContainedIn(this.shadow, this.cached.state) ? 'verified' : 'mismatch';
    this.end();
    return this.outcome;
  }

  /** Over (finished, or the engine destroyed): the shadow goes, waiters go on. */
  end(): void {
    this.shadow?.destroy();
    this.shadow = undefined;
    this.resolve();
  }
}
