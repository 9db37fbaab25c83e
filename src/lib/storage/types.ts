import type * as Y from 'yjs';

/** Small device-local values kept beside a document (never synced; no record content). */
export interface DocMeta {
  get(key: string): Promise<unknown>;
  set(key: string, value: string | number): Promise<void>;
}

/** Stops persisting; may also offer the document's device-local values. */
export type Detach = (() => void) & { readonly meta?: DocMeta };

/**
 * Keeps an envelope doc persisted on this device (ciphertext only): loads what is stored into
 * `envelope`, persists later updates, and returns a function that stops persisting.
 */
export type Persistence = (envelope: Y.Doc, name: string) => Promise<Detach> | Detach;
