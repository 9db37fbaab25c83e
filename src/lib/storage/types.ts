import type * as Y from 'yjs';

/** Small device-local values kept beside a document (never synced; no record content). */
export interface DocMeta {
  get(key: string): Promise<unknown>;
  set(key: string, value: string | number): Promise<void>;
}

/**
 * Stops persisting; may also offer the document's device-local values, and, for a store that
 * commits after the change event returns (IndexedDB), `stored`: resolves once every change it
 * was given so far is committed (the relay gets them only then: sync/store-first.ts).
 */
export type Detach = (() => void) & { readonly meta?: DocMeta; readonly stored?: () => Promise<void> };

/**
 * Where one document's sealed plain-state cache lives on this device (vault/plain-cache.ts
 * seals it; this only keeps bytes). Kept beside the document's envelope copy, so whatever
 * erases that copy erases the cache too.
 */
export interface PlainCacheStore {
  read(): Promise<Uint8Array | undefined>;
  write(sealed: Uint8Array): Promise<void>;
  clear(): Promise<void>;
}

/**
 * Keeps an envelope doc persisted on this device (ciphertext only): loads what is stored into
 * `envelope`, persists later updates, and returns a function that stops persisting. A store
 * that can also keep a sealed plain-state cache per document offers `plainCache` (read before
 * the envelope is loaded: that is the point of it).
 */
export type Persistence = ((envelope: Y.Doc, name: string) => Promise<Detach> | Detach) & {
  readonly plainCache?: (name: string) => PlainCacheStore;
};
