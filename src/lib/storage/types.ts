import type * as Y from 'yjs';

/**
 * Keeps an envelope doc persisted on this device (ciphertext only): loads what is stored into
 * `envelope`, persists later updates, and returns a function that stops persisting.
 */
export type Persistence = (envelope: Y.Doc, name: string) => Promise<() => void> | (() => void);
