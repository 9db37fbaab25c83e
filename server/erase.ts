/**
 * Erasure at the relay (decision 0035). Once the policy accepted and applied an owner's erase
 * record (server/policy.ts marks the document erased first, so nothing else is taken for it):
 *   1. storage erases the document in one transaction: the tombstone (name, erasedAt, the erase
 *      record) goes in; the log, folded state, clientID owners, files and links go out; the WAL
 *      is checkpointed (storage/erase-sql.ts);
 *   2. every connection to the document is closed with PROFILE_ERASED (4179), and the in-memory
 *      document is unloaded (its fold is a no-op for an erased name);
 *   3. from then on authentication (WebSocket and files) answers PROFILE_ERASED (auth.ts).
 * A device that was offline learns it on its next connect, then asks `GET /erased/<doc>` with a
 * token for that document to get the signed erase record and verify it against its own copy.
 */
import type { Document, Extension, Hocuspocus, onRequestPayload } from '@hocuspocus/server';
import type { ServerResponse } from 'node:http';
import type { Ed25519Engine } from '../src/lib/crypto/index.ts';
import { verifyAuthToken, type ParsedRecord } from '../src/lib/protocol/index.ts';
import { pathOf } from './blobs.ts';
import type { RelayConfig } from './config.ts';
import { closeCodeOf, type RelayErrorCode } from './errors.ts';
import { docIdFromName, type Registry } from './registry.ts';
import type { RelayStore } from './storage/relay-store.ts';
import type { ProtocolErrorCode } from '../src/lib/protocol/index.ts';

const ROUTE = /^\/erased\/([A-Za-z0-9_-]{22})$/;

export interface EraseOptions {
  readonly registry: Registry;
  readonly store: RelayStore;
  readonly config: RelayConfig;
  readonly engine: Ed25519Engine;
  /** The Hocuspocus instance, to unload the erased document (set once the server exists). */
  hocuspocus?: Hocuspocus;
}

/** What the policy calls after an erase record was applied. */
export function eraseDocumentOn(o: EraseOptions): (document: Document, record: ParsedRecord) => Promise<void> {
  return async (document) => {
    const entry = await o.registry.get(document.name);
    const tombstone = entry?.erased;
    if (!tombstone) return;
    try {
      await o.store.erase(document.name, tombstone);
    } catch {
      // The document stays refused in memory; the erase record is in its log, so a restart's
      // rebuild sees it and erases again (eraseOnRebuild).
      if (!o.config.quiet) console.error('[relay] RELAY_STORAGE_FAILED: an erasure waits for the next start');
    }
    for (const connection of document.getConnections()) connection.close({ code: closeCodeOf('PROFILE_ERASED'), reason: 'PROFILE_ERASED' });
    if (o.hocuspocus) void o.hocuspocus.unloadDocument(document);
  };
}

/** `GET /erased/<doc>`: the signed erase record of an erased document, for any valid token for it. */
export function erasedRouteExtension(o: EraseOptions): Extension {
  return {
    extensionName: 'fhv-erased',
    async onRequest({ request, response }: onRequestPayload): Promise<void> {
      const pathname = pathOf(request);
      if (!pathname.startsWith('/erased/')) return;
      try {
        const route = ROUTE.exec(pathname);
        const docId = route ? docIdFromName(route[1]!) : undefined;
        if (!route || !docId || request.method !== 'GET') return send(response, 404, 'ERASE_NO_TOMBSTONE');
        const bearer = /^Bearer ([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? '');
        if (!bearer) return send(response, 401, 'TOKEN_MALFORMED');
        // Any key may ask (the members are gone with the document): the record names only the
        // document, the owner's public key and a time, which every former member already knew.
        const token = await verifyAuthToken(bearer[1]!, { docId, now: o.config.now(), engine: o.engine, maxLifetimeMs: o.config.maxTokenLifetimeMs });
        if (!token.ok) return send(response, 401, token.code);
        const tombstone = (await o.registry.get(route[1]!))?.erased;
        if (!tombstone) return send(response, 404, 'ERASE_NO_TOMBSTONE');
        response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'private, no-store', 'Content-Length': String(tombstone.record.length) });
        response.end(tombstone.record);
      } catch {
        if (!response.headersSent) send(response, 500, 'BLOB_RELAY_FAILED');
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw null; // handled: stop the other extensions and Hocuspocus's default response
      }
    },
  };
}

function send(response: ServerResponse, status: number, code: RelayErrorCode | ProtocolErrorCode): void {
  const body = Buffer.from(code);
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store' });
  response.end(body);
}
