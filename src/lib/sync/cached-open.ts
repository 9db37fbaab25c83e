/**
 * The background check after a profile opened from its plain-state cache (vault/plain-cache.ts,
 * docs/decisions/0020): while the stored envelope is verified record by record, every verified
 * update is also applied to a shadow doc; once all are in, the cache must be contained in it.
 * Anything the cache holds that no verified record does (a struct, a deletion) is a mismatch:
 * the cache is never trusted, only shown first.
 */
import * as Y from 'yjs';
import { hasPending } from './yjs-internals.ts';

/** What the open path applied from the cache, and the verified state it is checked against. */
export interface CachedPlain {
  /** Y.encodeStateAsUpdate (v1) of the plain doc when the cache was written. */
  readonly state: Uint8Array;
  /** Chain heads (hex author, seq) the cached state includes: every later record is the tail. */
  readonly coverage: readonly { readonly author: string; readonly seq: number }[];
}

/** True if applying `cached` to a copy of `verified` changes nothing: every struct and deletion in it is verified. */
export function cacheContainedIn(verified: Y.Doc, cached: Uint8Array): boolean {
  const probe = new Y.Doc({ gc: verified.gc });
  try {
    Y.applyUpdate(probe, Y.encodeStateAsUpdate(verified));
    let changed = false;
    probe.on('update', () => (changed = true));
    Y.applyUpdate(probe, cached);
    return !changed && !hasPending(probe);
  } catch {
    return false;
  } finally {
    probe.destroy();
  }
}

/** Outcome of the background check. */
export type CacheCheck = 'verified' | 'mismatch';
