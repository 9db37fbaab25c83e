/** Persistence in memory only (guests, tests): survives closing and reopening a document, not the process. */
import * as Y from 'yjs';
import type { Persistence, PlainCacheStore } from './types.ts';

export function memoryPersistence(): Persistence & { erase(names: readonly string[]): Promise<void> } {
  const stored = new Map<string, Uint8Array[]>();
  const values = new Map<string, string | number>();
  const caches = new Map<string, Uint8Array>();
  const persist = (envelope: Y.Doc, name: string) => {
    const updates = stored.get(name) ?? [];
    stored.set(name, updates);
    if (updates.length) Y.applyUpdate(envelope, Y.mergeUpdates(updates), 'persistence');
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (origin !== 'persistence') updates.push(update);
    };
    envelope.on('update', onUpdate);
    const meta = { get: async (key: string) => values.get(`${name}/${key}`), set: async (key: string, value: string | number) => void values.set(`${name}/${key}`, value) };
    return Object.assign(() => envelope.off('update', onUpdate), { meta });
  };
  const plainCache = (name: string): PlainCacheStore => ({
    read: async () => caches.get(name),
    write: async (sealed) => void caches.set(name, sealed),
    clear: async () => void caches.delete(name),
  });
  /** Deletes the named documents' copies and caches (what a browser's erase does to IndexedDB). */
  const erase = async (names: readonly string[]) => {
    for (const name of names) {
      stored.delete(name);
      caches.delete(name);
      for (const key of [...values.keys()]) if (key.startsWith(`${name}/`)) values.delete(key);
    }
  };
  return Object.assign(persist, { plainCache, erase });
}
