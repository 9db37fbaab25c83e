/** Authentication: a signed, short-lived token from a member key (or the creator of a new doc). */
import type { Extension, onAuthenticatePayload } from '@hocuspocus/server';
import { bytesEqual, toHex, type Ed25519Engine, type SigningPublicKey } from '../src/lib/crypto/index.ts';
import { deriveDocId, fail, ok, Role, verifyAuthToken, type Principal, type Result } from '../src/lib/protocol/index.ts';
import type { RelayConfig } from './config.ts';
import { RelayRefusal } from './errors.ts';
import type { Registry } from './registry.ts';

export interface ConnectionContext {
  readonly author: string;
  readonly role: Principal;
}

export interface Authenticated {
  readonly author: SigningPublicKey;
  readonly role: Principal;
  /** No genesis yet: the key proved it created this document id (not a member of anything yet). */
  readonly creatorOfNewDoc: boolean;
}

/**
 * One check for every way in (WebSocket and the blob routes): the token names this document,
 * is unexpired and well signed, and its key has a principal here now.
 */
export async function authenticate(
  registry: Registry,
  config: RelayConfig,
  engine: Ed25519Engine,
  documentName: string,
  tokenText: string,
): Promise<Result<Authenticated>> {
  const entry = await registry.get(documentName);
  if (!entry) return fail('TOKEN_WRONG_DOC', 'not a document id');
  if (entry.erased) return fail('PROFILE_ERASED', 'an owner erased this profile');
  const now = config.now();
  const token = await verifyAuthToken(tokenText, {
    docId: entry.index.docId,
    now,
    engine,
    maxLifetimeMs: config.maxTokenLifetimeMs,
  });
  if (!token.ok) return token;
  const { author, genesisNonce } = token.value;
  const role = entry.index.membership.roleOf(author, now);
  if (role !== undefined) return ok({ author, role, creatorOfNewDoc: false });
  const creatorOfNewDoc =
    !entry.index.membership.hasGenesis &&
    genesisNonce !== undefined &&
    bytesEqual(deriveDocId(author, genesisNonce), entry.index.docId);
  if (creatorOfNewDoc) return ok({ author, role: Role.owner, creatorOfNewDoc });
  return fail('TOKEN_NOT_MEMBER', 'not a current member');
}

export function authExtension(registry: Registry, config: RelayConfig, engine: Ed25519Engine): Extension {
  return {
    extensionName: 'fhv-auth',
    async onAuthenticate(data: onAuthenticatePayload): Promise<ConnectionContext> {
      const result = await authenticate(registry, config, engine, data.documentName, data.token);
      if (!result.ok) throw new RelayRefusal(result).close;
      // Every member may write something (viewers publish device certificates, invitees
      // accept); the write policy decides what, per record.
      data.connectionConfig.readOnly = false;
      return { author: toHex(result.value.author), role: result.value.role };
    },
  };
}
