/**
 * Encrypted document files (docs/decisions/0015), on the relay's HTTP port:
 *   PUT /blobs/<doc>/<id>   a writer (owner, editor) stores a body whose SHA-256 is <id>
 *   GET /blobs/<doc>/<id>   any member reads it back
 * The body is ciphertext sealed on a device with a per-file key that lives only in the encrypted
 * profile: the relay sees sizes and ids, never contents, names or keys. Authorization is the
 * WebSocket token (`Authorization: Bearer`), checked by the same function. Bodies are counted
 * while they stream in and refused past `maxBlobBytes`. Each profile (document) holds at most
 * `budgets.blobBytesPerProfile` bytes in `budgets.blobsPerProfile` files: a new file past either
 * is refused (507 BLOB_QUOTA_EXCEEDED) and nothing of it is stored. Nothing here logs a path or a body.
 */
import type { Extension, onRequestPayload } from '@hocuspocus/server';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileStore } from './storage/file-store.ts';
import { toBase64Url, type Ed25519Engine } from '../src/lib/crypto/index.ts';
import { INVITEE, isWriterRole, type ProtocolErrorCode } from '../src/lib/protocol/index.ts';
import { authenticate } from './auth.ts';
import type { RelayConfig } from './config.ts';
import type { RelayErrorCode } from './errors.ts';
import type { Registry } from './registry.ts';
import { BASE_CSP, SECURITY_HEADERS } from './static.ts';

/** base64url document name (16 bytes) and base64url SHA-256 (32 bytes), nothing else. */
const ROUTE = /^\/blobs\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/;

/** Whether (doc, id) is a file address the routes take (a files backup holds nothing else). */
export const isFileAddress = (doc: string, id: string): boolean => ROUTE.test(`/blobs/${doc}/${id}`);

export interface BlobExtensionOptions {
  readonly store: FileStore;
  readonly registry: Registry;
  readonly config: RelayConfig;
  readonly engine: Ed25519Engine;
  /** Counts encrypted file bytes stored and served (server/metrics.ts). */
  readonly onBytes?: (direction: 'stored' | 'served', bytes: number) => void;
}

/** Handles /blobs/...; every other request falls through to the next extension (the static app). */
export function blobExtension(o: BlobExtensionOptions): Extension {
  return {
    extensionName: 'fhv-blobs',
    async onRequest({ request, response }: onRequestPayload): Promise<void> {
      const pathname = pathOf(request);
      if (pathname !== '/blobs' && !pathname.startsWith('/blobs/')) return;
      try {
        await handle(o, request, response, pathname);
      } catch (error) {
        o.config.logger('error', 'blob_request_failed', { code: (error as NodeJS.ErrnoException)?.code ?? 'error' });
        if (!response.headersSent) send(response, 500, 'BLOB_RELAY_FAILED');
        else response.destroy();
      }
      throw null; // handled: stop the static extension and Hocuspocus's default response
    },
  };
}

/** The request's path, or '/' when its URL does not parse (no route matches it then). */
export function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/';
  }
}

async function handle(o: BlobExtensionOptions, request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
  const write = request.method === 'PUT';
  const read = request.method === 'GET' || request.method === 'HEAD';
  if (!write && !read) return refuse(request, response, 405, 'BLOB_BAD_METHOD', { Allow: 'GET, HEAD, PUT' });
  const route = ROUTE.exec(pathname);
  if (!route) return refuse(request, response, 404, 'BLOB_BAD_PATH');
  const [, doc, id] = route as unknown as [string, string, string];

  const bearer = /^Bearer ([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? '');
  if (!bearer) return refuse(request, response, 401, 'TOKEN_MALFORMED', { 'WWW-Authenticate': 'Bearer' });
  const auth = await authenticate(o.registry, o.config, o.engine, doc, bearer[1]!);
  if (!auth.ok) {
    const status = auth.code === 'TOKEN_NOT_MEMBER' ? 403 : auth.code === 'PROFILE_ERASED' ? 410 : 401;
    return refuse(request, response, status, auth.code, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
  }
  // Files belong to members: not to an invite key, nor to a creator whose genesis is not there yet.
  const { role, creatorOfNewDoc } = auth.value;
  if (creatorOfNewDoc || role === INVITEE) return refuse(request, response, 403, 'TOKEN_NOT_MEMBER');

  if (read) {
    const data = await o.store.get(doc, id);
    if (!data) return send(response, 404, 'BLOB_UNKNOWN_ID');
    response.writeHead(200, {
      ...headers(),
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(data.length),
      'Content-Disposition': 'attachment',
    });
    response.end(request.method === 'HEAD' ? undefined : data);
    if (request.method !== 'HEAD') o.onBytes?.('served', data.length);
    return;
  }

  if (!isWriterRole(role)) return refuse(request, response, 403, 'RECORD_NOT_WRITER');
  const max = o.config.maxBlobBytes;
  const declared = request.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= max)) return refuse(request, response, 413, 'BLOB_BODY_TOO_LARGE');
  const quota = { bytes: o.config.budgets.blobBytesPerProfile, files: o.config.budgets.blobsPerProfile };
  // Refused before the body is read when its declared size cannot fit (a re-upload always may).
  if (!(await o.store.has(doc, id)) && !(await o.store.fits(doc, declared === undefined ? 0 : Number(declared), quota))) {
    return refuse(request, response, 507, 'BLOB_QUOTA_EXCEEDED');
  }
  const body = await readBody(request, max);
  if (body === 'too-large') return refuse(request, response, 413, 'BLOB_BODY_TOO_LARGE');
  if (body === 'aborted') return;
  if (body.data.length === 0) return refuse(request, response, 400, 'BLOB_EMPTY');
  if (toBase64Url(body.sha256) !== id) return send(response, 400, 'BLOB_ID_MISMATCH');
  const stored = await o.store.putWithinQuota(doc, id, body.data, o.config.now(), quota);
  if (stored === 'over-quota') return send(response, 507, 'BLOB_QUOTA_EXCEEDED');
  if (stored === 'created') o.onBytes?.('stored', body.data.length);
  send(response, stored === 'created' ? 201 : 200, 'OK');
}

/**
 * The body, hashed as it arrives; stops collecting at `max` bytes (what follows is discarded
 * unread, and the connection closes after the 413).
 */
function readBody(request: IncomingMessage, max: number): Promise<{ data: Buffer; sha256: Uint8Array } | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        chunks.length = 0;
        request.resume(); // discard the rest without keeping it
        resolve('too-large');
        return;
      }
      hash.update(chunk);
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ data: Buffer.concat(chunks, size), sha256: hash.digest() });
    };
    const onAbort = () => {
      cleanup();
      resolve('aborted');
    };
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onAbort);
      request.off('aborted', onAbort);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onAbort);
    request.on('aborted', onAbort);
  });
}

function headers(): Record<string, string> {
  return { ...SECURITY_HEADERS, 'Content-Security-Policy': BASE_CSP, 'Cache-Control': 'private, no-store' };
}

/** A refusal before (or instead of) reading a request body: the connection is not reused. */
function refuse(request: IncomingMessage, response: ServerResponse, status: number, code: AnswerCode, extra: Record<string, string> = {}): void {
  const unread = request.method === 'PUT' && !request.readableEnded;
  send(response, status, code, unread ? { ...extra, Connection: 'close' } : extra);
}

/** An answer's body: a relay code (RelayErrors), a protocol code (tokens, roles) or OK. */
type AnswerCode = RelayErrorCode | ProtocolErrorCode | 'OK';

/** Bodies of every answer but a blob are a stable code (never the path or anything received). */
function send(response: ServerResponse, status: number, code: AnswerCode, extra: Record<string, string> = {}): void {
  const body = Buffer.from(code);
  response.writeHead(status, {
    ...headers(),
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.length),
    ...extra,
  });
  response.end(body);
}
