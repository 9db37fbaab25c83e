/**
 * HTTP plumbing of the SMART Health Link routes (server/shl.ts): CORS for the open routes,
 * bounded JSON bodies, and answers whose bodies are stable codes (never anything received).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProtocolErrorCode } from '../src/lib/protocol/index.ts';
import type { RelayErrorCode } from './errors.ts';
import { BASE_CSP, SECURITY_HEADERS } from './static.ts';

/** Any origin may POST a manifest or GET a file (the link is the credential, not a cookie). */
export const CORS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export function preflight(response: ServerResponse): void {
  response.writeHead(204, {
    ...headers(),
    ...CORS,
    'Access-Control-Allow-Methods': 'POST, GET',
    'Access-Control-Allow-Headers': 'Content-Type',
    'Access-Control-Max-Age': '600',
  });
  response.end();
}

export function originOf(request: IncomingMessage): string {
  const host = request.headers.host ?? 'localhost';
  const forwarded = String(request.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim();
  const tls = (request.socket as { encrypted?: boolean }).encrypted === true;
  return `${forwarded === 'https' || tls ? 'https' : 'http'}://${host}`;
}

export function readJson(request: IncomingMessage, max: number): Promise<unknown | 'too-large' | 'aborted'> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= max)) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        request.removeAllListeners('data');
        request.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
    request.on('error', () => resolve('aborted'));
    request.on('aborted', () => resolve('aborted'));
  });
}

export function headers(): Record<string, string> {
  return { ...SECURITY_HEADERS, 'Content-Security-Policy': BASE_CSP, 'Cache-Control': 'no-store' };
}

/** A relay code (RelayErrors), a protocol code (tokens) or OK: stable, never anything received. */
export type AnswerCode = RelayErrorCode | ProtocolErrorCode | 'OK';

export function refuse(request: IncomingMessage, response: ServerResponse, status: number, code: AnswerCode, extra: Record<string, string> = {}): void {
  const unread = (request.method === 'PUT' || request.method === 'POST') && !request.readableEnded;
  send(response, status, code, unread ? { ...extra, Connection: 'close' } : extra);
}

export function send(response: ServerResponse, status: number, code: AnswerCode, extra: Record<string, string> = {}): void {
  const body = Buffer.from(code);
  response.writeHead(status, { ...headers(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length), ...extra });
  response.end(body);
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  response.writeHead(status, { ...headers(), ...CORS, 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
  response.end(body);
}
