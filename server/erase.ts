/**
 * Erasure at the relay (decision 0035). Once the policy accepted and applied an owner's erase
 * record (server/policy.ts marks the document erased first, so nothing else is taken for it):
 *   1. storage erases the document in one transaction: the tombstone (name, erasedAt, the erase
 *      record) goes in; the log, folded state, clientID owners, files and links go out; the WAL
 *      is checkpointed (storage/erase-sql.ts);
 *   2. every connection to the document is closed with PROFILE_ERASED (4179), and the in-memory
 *      document is unloaded (its fold is a no-op for an erased name);
 *   3. from then on authentication (WebSocket and files) answers PROFILE_ERASED (auth.ts).
 * A device that was offline learns it on its next connect (or its start-up check), then asks
 * `GET /erased/<doc>` with a token for that document, from a key that was a member's when the
 * profile was erased, to get the signed erase record and verify it against its own copy.
 */
import type { Document, Extension, Hocuspocus, onRequestPayload } from '@hocuspocus/server';
import type { ServerResponse } from 'node:http';
import { toHex, type Ed25519Engine } from '../src/lib/crypto/index.ts';
import { verifyAuthToken, type ParsedRecord } from '../src/lib/protocol/index.ts';
import { pathOf } from './blobs.ts';
import { addressBudgetName, TokenBucket } from './budgets.ts';
import { wasMember } from './erase-members.ts';
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
  /** Budgets of the erased route (tests lower them); DEFAULT_ERASED_ROUTE_LIMITS otherwise. */
  readonly limits?: Partial<ErasedRouteLimits>;
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
      o.config.logger('error', 'erasure_deferred', { code: 'RELAY_STORAGE_FAILED' });
    }
    for (const connection of document.getConnections()) connection.close({ code: closeCodeOf('PROFILE_ERASED'), reason: 'PROFILE_ERASED' });
    if (o.hocuspocus) void o.hocuspocus.unloadDocument(document);
  };
}

/**
 * Budgets of `GET /erased/<doc>` (token buckets on the relay's clock). Every request first takes
 * one from its address's bucket and from the relay-wide bucket, before any signature is checked
 * (a verify is the costly step); a request with a valid token then takes one from its key's
 * bucket. A device asks once per erased profile it holds, on start and on reconnect.
 */
export interface ErasedRouteLimits {
  readonly perAddressBurst: number;
  readonly perAddressPerSecond: number;
  readonly perKeyBurst: number;
  readonly perKeyPerSecond: number;
  readonly globalBurst: number;
  readonly globalPerSecond: number;
  /** Addresses and keys remembered at once; past it, full buckets are forgotten, and if none is, the request is refused (never an unbounded map). */
  readonly maxTracked: number;
}

/**
 * Honest use: every device asks about every profile it holds each time its vault connects (a
 * page load, a reconnect), with one key per person, and a family often shares one address (NAT).
 * 10 per key ran dry for a person with a dozen profiles who reloaded once (the overview e2e saw
 * 429s). Each answer costs one signature check (~0.1 ms), so these stay cheap to serve.
 */
export const DEFAULT_ERASED_ROUTE_LIMITS: ErasedRouteLimits = {
  perAddressBurst: 300,
  perAddressPerSecond: 5,
  perKeyBurst: 200,
  perKeyPerSecond: 2,
  globalBurst: 300,
  globalPerSecond: 20,
  maxTracked: 10_000,
};

/** Buckets by name, bounded: full buckets (indistinguishable from new ones) are dropped when the map is full. */
class BucketTable {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly rate: number;
  private readonly burst: number;
  private readonly max: number;
  constructor(rate: number, burst: number, max: number) {
    this.rate = rate;
    this.burst = burst;
    this.max = max;
  }

  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.max) for (const [k, b] of this.buckets) if (b.isFull(now)) this.buckets.delete(k);
      if (this.buckets.size >= this.max) return false;
      this.buckets.set(key, (bucket = new TokenBucket(this.rate, this.burst, now)));
    }
    return bucket.take(1, now);
  }
}

/**
 * `GET /erased/<doc>`: the signed erase record of an erased document, for a valid token for it
 * from a key that acted for a member when it was erased (the tombstone keeps hashes of those
 * keys, server/erase-members.ts). Removed members, revoked devices and strangers: 403.
 */
export function erasedRouteExtension(o: EraseOptions): Extension {
  const limits = { ...DEFAULT_ERASED_ROUTE_LIMITS, ...o.limits };
  const global = new TokenBucket(limits.globalPerSecond, limits.globalBurst, o.config.now());
  const byAddress = new BucketTable(limits.perAddressPerSecond, limits.perAddressBurst, limits.maxTracked);
  const byKey = new BucketTable(limits.perKeyPerSecond, limits.perKeyBurst, limits.maxTracked);
  const limited = (response: ServerResponse) => send(response, 429, 'ERASE_RATE_LIMITED', { 'Retry-After': '10' });
  return {
    extensionName: 'fhv-erased',
    async onRequest({ request, response }: onRequestPayload): Promise<void> {
      const pathname = pathOf(request);
      if (!pathname.startsWith('/erased/')) return;
      try {
        const now = o.config.now();
        // Charged before anything else, a malformed request included: nothing here is free to ask.
        if (!byAddress.take(addressBudgetName(request.socket.remoteAddress), now) || !global.take(1, now)) return limited(response);
        const route = ROUTE.exec(pathname);
        const docId = route ? docIdFromName(route[1]!) : undefined;
        if (!route || !docId || request.method !== 'GET') return send(response, 404, 'ERASE_NO_TOMBSTONE');
        const bearer = /^Bearer ([A-Za-z0-9_-]{1,4096})$/.exec(request.headers.authorization ?? '');
        if (!bearer) return send(response, 401, 'TOKEN_MALFORMED');
        const token = await verifyAuthToken(bearer[1]!, { docId, now, engine: o.engine, maxLifetimeMs: o.config.maxTokenLifetimeMs });
        if (!token.ok) return send(response, 401, token.code);
        if (!byKey.take(toHex(token.value.author), now)) return limited(response);
        const tombstone = (await o.registry.get(route[1]!))?.erased;
        // Not erased: 204, not an error. Devices ask about every profile they hold on each
        // connect (erase-sweep.ts), and a browser logs every 4xx answer as a console error.
        if (!tombstone) {
          response.writeHead(204, { 'Cache-Control': 'no-store' });
          return void response.end();
        }
        if (!wasMember(docId, tombstone, token.value.author)) return send(response, 403, 'ERASE_NOT_A_MEMBER');
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

function send(response: ServerResponse, status: number, code: RelayErrorCode | ProtocolErrorCode, extra: Record<string, string> = {}): void {
  const body = Buffer.from(code);
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store', ...extra });
  response.end(body);
}
