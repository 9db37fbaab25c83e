/** Persistence in memory only (guests, tests): survives closing and reopening a document, not the process. */
import * as Y from 'yjs';
import type { Persistence } from './types.ts';

export function memoryPersistence(): Persistence {
  const stored = new Map<string, Uint8Array[]>();
  const values = new Map<string, string | number>();
  return (envelope, name) => {
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
}
