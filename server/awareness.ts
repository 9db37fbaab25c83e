/**
 * Awareness filter: the only awareness content the relay passes on is the opaque presence blob
 * ({ p: string } of bounded size) or an empty state. Anything else, such as a buggy client
 * putting a name in cleartext, is dropped, so plaintext never travels through awareness.
 */
import type { Extension } from '@hocuspocus/server';
import { MAX_PRESENCE_CHARS } from '../src/lib/protocol/index.ts';

export function isAllowedAwarenessState(state: Record<string, unknown> | null): boolean {
  if (state === null) return true;
  const keys = Object.keys(state);
  if (keys.length === 0) return true;
  return keys.length === 1 && typeof state.p === 'string' && state.p.length <= MAX_PRESENCE_CHARS && /^[A-Za-z0-9_-]*$/.test(state.p);
}

export function awarenessExtension(): Extension {
  return {
    extensionName: 'fhv-awareness',
    async beforeHandleAwareness({ states }) {
      for (const [clientId, state] of states) if (!isAllowedAwarenessState(state)) states.delete(clientId);
    },
  };
}
