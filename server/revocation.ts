/**
 * Revocation and expiry at the relay: Hocuspocus keeps an authenticated connection open until
 * it reconnects, so the relay closes connections itself when a member is removed, demoted from
 * writer, or reaches its expiry. Their next token is refused (auth.ts).
 */
import type { Connection, Document, Extension } from '@hocuspocus/server';
import { fromHex } from '../src/lib/crypto/index.ts';
import { isWriterRole, type EnvelopeIndex } from '../src/lib/protocol/index.ts';
import type { ConnectionContext } from './auth.ts';
import { closeCodeOf } from './errors.ts';
import type { RelayConfig } from './config.ts';
import type { Registry } from './registry.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

function closeAs(connection: Connection, code: 'TOKEN_NOT_MEMBER' | 'TOKEN_EXPIRED'): void {
  connection.close({ code: closeCodeOf(code), reason: code });
}

/** Closes every connection whose member is gone or lost write access. */
export function enforceMembership(document: Document, index: EnvelopeIndex, now: number): void {
  for (const connection of document.getConnections()) {
    const ctx = connection.context as ConnectionContext | undefined;
    if (!ctx?.author) continue;
    const role = index.membership.roleOf(fromHex(ctx.author), now);
    if (role === undefined) closeAs(connection, 'TOKEN_NOT_MEMBER');
    else if (isWriterRole(ctx.role) && !isWriterRole(role)) closeAs(connection, 'TOKEN_NOT_MEMBER');
  }
}

export function expiryExtension(registry: Registry, config: RelayConfig): Extension {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  return {
    extensionName: 'fhv-expiry',
    async connected({ connection, documentName, context, socketId }) {
      const ctx = context as ConnectionContext;
      const expiresAt = registry.get(documentName)?.index.membership.expiryOf(fromHex(ctx.author));
      if (!expiresAt) return;
      const arm = () => {
        const left = expiresAt - config.now();
        if (left <= 0) return closeAs(connection, 'TOKEN_EXPIRED');
        // Re-checked at least every expiryCheckMs: a timer alone would fire late after the
        // machine slept or the clock was set forward.
        timers.set(`${socketId}/${documentName}`, setTimeout(arm, Math.min(left, config.expiryCheckMs, MAX_TIMER_MS)));
      };
      arm();
    },
    async onDisconnect({ socketId, documentName }) {
      const key = `${socketId}/${documentName}`;
      clearTimeout(timers.get(key));
      timers.delete(key);
    },
  };
}
