/** Persistence in memory only (guests, tests): survives closing and reopening a document, not the process. */
import * as Y from 'yjs';
import type { Persistence } from './types.ts';

export function memoryPersistence(): Persistence {
  const stored = new Map<string, Uint8Array[]>();
  return (envelope, name) => {
    const updates = stored.get(name) ?? [];
    stored.set(name, updates);
    if (updates.length) Y.applyUpdate(envelope, Y.mergeUpdates(updates), 'persistence');
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (origin !== 'persistence') updates.push(update);
    };
    envelope.on('update', onUpdate);
    return () => envelope.off('update', onUpdate);
  };
}
