/**
 * SMART Health Links on the relay's HTTP port (docs/decisions/0031, docs/protocol.md §7b):
 *   PUT    /shl/profile/<doc>/<id>   an owner stores a link's JWE {jwe, exp?, passcode?}   (Bearer)
 *   DELETE /shl/profile/<doc>/<id>   an owner revokes it: 404 for everyone afterwards      (Bearer)
 *   POST   /shl/<id>                 the manifest {recipient, passcode?, embeddedLengthMax?} (open)
 *   GET    /shl/<id>/file/<ticket>   a file too long to embed, for a short-lived ticket     (open)
 * The relay stores ciphertext made on the owner's device; the key is only in the link. The
 * passcode is kept as a scrypt hash, and wrong guesses spend a lifetime budget: at zero the
 * link is dead (its ciphertext deleted). The open endpoints answer any origin (CORS: any
 * conformant viewer may open a link) and are budgeted per link and overall. Nothing here logs
 * a path, an id, a recipient or a body.
 */
import type { Extension, onRequestPayload } from '@hocuspocus/server';
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ed25519Engine } from '../src/lib/crypto/index.ts';
import { toBase64Url } from '../src/lib/crypto/index.ts';
import { Role } from '../src/lib/protocol/index.ts';
import { authenticate } from './auth.ts';
import { pathOf } from './blobs.ts';
import type { RelayConfig } from './config.ts';
import type { Registry } from './registry.ts';
import type { ShlStore, StoredLink } from './shl-store.ts';
import { CORS, headers, originOf, preflight, readJson, refuse, send, sendJson } from './shl-http.ts';

export interface ShlLimits {
  /** Wrong passcodes a link survives in its lifetime. */
  readonly passcodeAttempts: number;
  /** Live links per profile. */
  readonly linksPerProfile: number;
  /** Largest manifest request body (open endpoint). */
  readonly maxRequestBytes: number;
  /** Manifest and file requests for one link: burst, and refill per second. */
  readonly perLinkBurst: number;
  readonly perLinkPerSecond: number;
  /** Every open SHL request together (unknown ids included): burst, refill per second. */
  readonly globalBurst: number;
  readonly globalPerSecond: number;
  /** How long a file ticket (location URL) stays valid. */
  readonly ticketMs: number;
}

export const DEFAULT_SHL_LIMITS: ShlLimits = {
  passcodeAttempts: 10,
  linksPerProfile: 100,
  maxRequestBytes: 4096,
  perLinkBurst: 30,
  perLinkPerSecond: 0.5,
  globalBurst: 600,
  globalPerSecond: 50,
  ticketMs: 5 * 60_000,
};

const OWNER_ROUTE = /^\/shl\/profile\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/;
const MANIFEST_ROUTE = /^\/shl\/([A-Za-z0-9_-]{43})$/;
const FILE_ROUTE = /^\/shl\/([A-Za-z0-9_-]{43})\/file\/([A-Za-z0-9_-]{43})$/;
/** Five base64url parts, empty encrypted key (alg dir): the shape, not the content, is checked. */
const COMPACT_DIR_JWE = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const SCRYPT = { N: 1 << 14, r: 8, p: 1 } as const;
const MAX_PASSCODE_LENGTH = 256;
const MAX_BUCKETS = 50_000;

export interface ShlExtensionOptions {
  readonly registry: Registry;
  readonly config: RelayConfig;
  readonly engine: Ed25519Engine;
  /** The links' table (opened by the relay; closed when the server is destroyed). */
  readonly store: ShlStore;
  readonly limits?: Partial<ShlLimits>;
}

export interface ShlExtension extends Extension {
  readonly store: ShlStore;
}

export function shlExtension(o: ShlExtensionOptions): ShlExtension {
  const limits = { ...DEFAULT_SHL_LIMITS, ...o.limits };
  const store = o.store;
  const ctx: Ctx = { ...o, limits, buckets: new Map() };
  return {
    extensionName: 'fhv-shl',
    store,
    async onRequest({ request, response }: onRequestPayload): Promise<void> {
      const pathname = pathOf(request);
      // /shl itself is the viewer page (server/static.ts); the API lives below it.
      if (!pathname.startsWith('/shl/')) return;
      try {
        await handle(ctx, request, response, pathname);
      } catch (error) {
        o.config.logger('error', 'shl_request_failed', { code: (error as NodeJS.ErrnoException)?.code ?? 'error' });
        if (!response.headersSent) send(response, 500, 'SHL_RELAY_FAILED');
        else response.destroy();
      }
      throw null; // handled: stop the static extension and Hocuspocus's default response
    },
    async onDestroy() {
      await store.close();
    },
  };
}

interface Ctx extends ShlExtensionOptions {
  readonly limits: ShlLimits;
  readonly store: ShlStore;
  readonly buckets: Map<string, { tokens: number; at: number }>;
}

async function handle(c: Ctx, request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
  const owner = OWNER_ROUTE.exec(pathname);
  if (owner) return handleOwner(c, request, response, owner[1]!, owner[2]!);
  const manifest = MANIFEST_ROUTE.exec(pathname);
  const file = FILE_ROUTE.exec(pathname);
  if (!manifest && !file) return refuse(request, response, 404, 'SHL_UNKNOWN', CORS);
  if (request.method === 'OPTIONS') return preflight(response);
  const method = manifest ? 'POST' : 'GET';
  if (request.method !== method) return refuse(request, response, 405, 'SHL_BAD_METHOD', { ...CORS, Allow: `${method}, OPTIONS` });
  const id = (manifest ?? file)![1]!;
  if (!take(c, 'all', c.limits.globalBurst, c.limits.globalPerSecond) || !take(c, id, c.limits.perLinkBurst, c.limits.perLinkPerSecond)) {
    return refuse(request, response, 429, 'SHL_RATE_LIMITED', { ...CORS, 'Retry-After': '10' });
  }
  const link = await live(c, id);
  if (file) return serveFile(c, request, response, link, file[2]!);
  const body = await readJson(request, c.limits.maxRequestBytes);
  if (body === 'too-large') return refuse(request, response, 413, 'SHL_BODY_TOO_LARGE', CORS);
  if (body === 'aborted') return;
  if (!link) return send(response, 404, 'SHL_UNKNOWN', CORS);
  const ask = body as { recipient?: unknown; passcode?: unknown; embeddedLengthMax?: unknown } | undefined;
  if (typeof ask?.recipient !== 'string' || ask.recipient.length === 0) return send(response, 400, 'SHL_RELAY_BAD_REQUEST', CORS);
  if (ask.embeddedLengthMax !== undefined && !(typeof ask.embeddedLengthMax === 'number' && ask.embeddedLengthMax >= 0)) {
    return send(response, 400, 'SHL_RELAY_BAD_REQUEST', CORS);
  }
  if (link.passcodeHash) {
    const verdict = await checkPasscode(c, link, ask.passcode);
    if (verdict !== 'ok') return verdict === 'dead' ? send(response, 404, 'SHL_UNKNOWN', CORS) : sendJson(response, 401, { code: 'SHL_PASSCODE_REFUSED', remainingAttempts: verdict.left });
  }
  const jwe = (await c.store.get(id))?.jwe;
  if (!jwe) return send(response, 404, 'SHL_UNKNOWN', CORS);
  const max = typeof ask.embeddedLengthMax === 'number' ? ask.embeddedLengthMax : Infinity;
  const entry = jwe.length <= max ? { embedded: jwe } : { location: `${originOf(request)}/shl/${id}/file/${await ticket(c, link)}` };
  sendJson(response, 200, { files: [{ contentType: 'application/fhir+json', ...entry }] });
}

/** The link if it is active now; an expired one is ended (ciphertext deleted) on the way. */
async function live(c: Ctx, id: string): Promise<StoredLink | undefined> {
  const link = await c.store.get(id);
  if (!link || link.state !== 'active') return undefined;
  if (link.expiresAt !== undefined && link.expiresAt <= c.config.now()) {
    await c.store.end(id, 'expired');
    return undefined;
  }
  return link;
}

/**
 * An attempt is reserved before the (slow) hash is computed and given back only for a right
 * passcode, so concurrent guesses can never spend more than the lifetime budget.
 */
async function checkPasscode(c: Ctx, link: StoredLink, passcode: unknown): Promise<'ok' | 'dead' | { left: number }> {
  if (!(await c.store.reserveAttempt(link.id))) {
    await c.store.end(link.id, 'exhausted');
    return 'dead';
  }
  const right = typeof passcode === 'string' && passcode.length <= MAX_PASSCODE_LENGTH && timingSafeEqual(await hashPasscode(passcode, link.passcodeSalt!), link.passcodeHash!);
  if (right) {
    await c.store.refundAttempt(link.id);
    return (await live(c, link.id)) ? 'ok' : 'dead';
  }
  const left = (await c.store.get(link.id))?.attemptsLeft ?? 0;
  if (left <= 0) await c.store.end(link.id, 'exhausted');
  return { left };
}

export function hashPasscode(passcode: string, salt: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    scrypt(passcode.normalize('NFC'), salt, 32, SCRYPT, (error, key) => (error ? reject(error) : resolve(new Uint8Array(key)))),
  );
}

async function serveFile(c: Ctx, request: IncomingMessage, response: ServerResponse, link: StoredLink | undefined, ticketId: string): Promise<void> {
  if (!link?.jwe || (await c.store.ticketLink(ticketHash(ticketId), c.config.now())) !== link.id) return send(response, 404, 'SHL_UNKNOWN', CORS);
  const body = Buffer.from(link.jwe);
  response.writeHead(200, { ...headers(), ...CORS, 'Content-Type': 'application/jose', 'Content-Length': String(body.length) });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/**
 * A file location's ticket: 256 random bits, valid `ticketMs`, for this link only. The store keeps
 * its SHA-256, so whoever reads the table (or a backup of it) cannot fetch with it; with
 * PostgreSQL any instance redeems a ticket another handed out.
 */
async function ticket(c: Ctx, link: StoredLink): Promise<string> {
  const now = c.config.now();
  const t = toBase64Url(randomBytes(32));
  await c.store.issueTicket({ hash: ticketHash(t), id: link.id, doc: link.doc, until: now + c.limits.ticketMs }, now);
  return t;
}

function ticketHash(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}

/** A token bucket on the relay's clock; the oldest buckets are forgotten past MAX_BUCKETS. */
function take(c: Ctx, key: string, burst: number, perSecond: number): boolean {
  const now = c.config.now();
  const b = c.buckets.get(key) ?? { tokens: burst, at: now };
  // A clock that steps back (NTP, tests) refills nothing rather than draining the bucket.
  b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * perSecond);
  b.at = Math.max(b.at, now);
  c.buckets.delete(key);
  if (c.buckets.size >= MAX_BUCKETS) c.buckets.delete(c.buckets.keys().next().value!);
  c.buckets.set(key, b);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

// ---- owner routes ------------------------------------------------------------------------------

async function handleOwner(c: Ctx, request: IncomingMessage, response: ServerResponse, doc: string, id: string): Promise<void> {
  if (request.method !== 'PUT' && request.method !== 'DELETE') return refuse(request, response, 405, 'SHL_BAD_METHOD', { Allow: 'PUT, DELETE' });
  const bearer = /^Bearer ([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? '');
  if (!bearer) return refuse(request, response, 401, 'TOKEN_MALFORMED', { 'WWW-Authenticate': 'Bearer' });
  const auth = await authenticate(c.registry, c.config, c.engine, doc, bearer[1]!);
  if (!auth.ok) return refuse(request, response, auth.code === 'TOKEN_NOT_MEMBER' ? 403 : 401, auth.code);
  // Sharing a profile outside the family is an owner's decision, as inviting is.
  if (auth.value.creatorOfNewDoc || auth.value.role !== Role.owner) return refuse(request, response, 403, 'SHL_NOT_OWNER');
  const existing = await c.store.get(id);
  if (existing && existing.doc !== doc) return refuse(request, response, 404, 'SHL_UNKNOWN');
  if (request.method === 'DELETE') {
    if (!existing) return send(response, 404, 'SHL_UNKNOWN');
    await c.store.end(id, 'revoked');
    return send(response, 200, 'OK');
  }
  const body = await readJson(request, c.config.maxBlobBytes + c.limits.maxRequestBytes);
  if (body === 'too-large') return refuse(request, response, 413, 'SHL_BODY_TOO_LARGE');
  if (body === 'aborted') return;
  const put = body as { jwe?: unknown; exp?: unknown; passcode?: unknown } | undefined;
  const now = c.config.now();
  const valid =
    typeof put?.jwe === 'string' &&
    COMPACT_DIR_JWE.test(put.jwe) &&
    (put.exp === undefined || (typeof put.exp === 'number' && put.exp * 1000 > now)) &&
    (put.passcode === undefined || (typeof put.passcode === 'string' && put.passcode.length > 0 && put.passcode.length <= MAX_PASSCODE_LENGTH));
  if (!valid) return send(response, 400, 'SHL_RELAY_BAD_REQUEST');
  await c.store.sweepExpired(now);
  const salt = randomBytes(16);
  const passcode = typeof put.passcode === 'string' ? { hash: await hashPasscode(put.passcode, salt), salt, attempts: c.limits.passcodeAttempts } : undefined;
  const result = await c.store.insert({ id, doc, jwe: put.jwe as string, passcode, expiresAt: typeof put.exp === 'number' ? put.exp * 1000 : undefined }, now, c.limits.linksPerProfile);
  if (result === 'taken') return send(response, 409, 'SHL_ID_TAKEN');
  if (result === 'over-quota') return send(response, 507, 'SHL_QUOTA_EXCEEDED');
  send(response, 201, 'OK');
}
