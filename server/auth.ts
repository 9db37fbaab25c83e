/** Authentication: a signed, short-lived token from a member key (or the creator of a new doc). */
import type { Extension, onAuthenticatePayload } from '@hocuspocus/server';
import { bytesEqual, toHex, type Ed25519Engine } from '../src/lib/crypto/index.ts';
import { deriveDocId, Role, verifyAuthToken, type Principal } from '../src/lib/protocol/index.ts';
import type { RelayConfig } from './config.ts';
import { RelayRefusal } from './errors.ts';
import type { Registry } from './registry.ts';

export interface ConnectionContext {
  readonly author: string;
  readonly role: Principal;
}

export function authExtension(registry: Registry, config: RelayConfig, engine: Ed25519Engine): Extension {
  return {
    extensionName: 'fhv-auth',
    async onAuthenticate(data: onAuthenticatePayload): Promise<ConnectionContext> {
      const entry = registry.get(data.documentName);
      if (!entry) throw new RelayRefusal({ code: 'TOKEN_WRONG_DOC', message: 'not a document id' });
      const now = config.now();
      const token = await verifyAuthToken(data.token, {
        docId: entry.index.docId,
        now,
        engine,
        maxLifetimeMs: config.maxTokenLifetimeMs,
      });
      if (!token.ok) throw new RelayRefusal(token);
      const { author, genesisNonce } = token.value;
      let role = entry.index.membership.roleOf(author, now);
      const creatorOfNewDoc =
        !entry.index.membership.hasGenesis &&
        genesisNonce !== undefined &&
        bytesEqual(deriveDocId(author, genesisNonce), entry.index.docId);
      if (role === undefined && creatorOfNewDoc) role = Role.owner;
      if (role === undefined) throw new RelayRefusal({ code: 'TOKEN_NOT_MEMBER', message: 'not a current member' });
      // Every member may write something (viewers publish device certificates, invitees
      // accept); the write policy decides what, per record.
      data.connectionConfig.readOnly = false;
      return { author: toHex(author), role };
    },
  };
}
