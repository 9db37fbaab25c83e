/**
 * What a supervisor and a load balancer ask the relay (docs/operations.md "Health"):
 *   - `GET /healthz`, liveness: the event loop answers. Never touches storage, so a slow disk
 *     does not get a working relay killed.
 *   - `GET /readyz`, readiness: storage answered a trivial read within `timeoutMs`, and the
 *     relay is not draining. 503 with a stable code otherwise, so new clients go elsewhere.
 * Both answer with no body a client could learn anything from beyond up / not up.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Extension, onRequestPayload } from '@hocuspocus/server';
import { pathOf } from './blobs.ts';
import { BASE_CSP, SECURITY_HEADERS } from './static.ts';
import type { RelayStore } from './storage/relay-store.ts';

export interface HealthOptions {
  readonly store: Pick<RelayStore, 'ping'>;
  /** How long readiness waits for storage. */
  readonly timeoutMs: number;
  /** True once a graceful shutdown began. */
  readonly draining: () => boolean;
}

/** 'ready', or the stable code of why not. Never rejects, never waits past `timeoutMs`. */
export async function readiness(o: HealthOptions): Promise<'ready' | 'RELAY_DRAINING' | 'RELAY_NOT_READY'> {
  if (o.draining()) return 'RELAY_DRAINING';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), o.timeoutMs)));
  try {
    const answered = await Promise.race([o.store.ping().then(() => true, () => false), timeout]);
    return answered && !o.draining() ? 'ready' : o.draining() ? 'RELAY_DRAINING' : 'RELAY_NOT_READY';
  } finally {
    clearTimeout(timer);
  }
}

export function healthExtension(o: HealthOptions): Extension {
  return {
    extensionName: 'fhv-health',
    async onRequest({ request, response }: onRequestPayload): Promise<void> {
      const path = pathOf(request);
      if (path !== '/healthz' && path !== '/readyz') return;
      if (path === '/healthz') reply(request, response, 200, 'ok');
      else {
        const state = await readiness(o);
        reply(request, response, state === 'ready' ? 200 : 503, state);
      }
      throw null; // handled: stop the static extension and Hocuspocus's default response
    },
  };
}

function reply(request: IncomingMessage, response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
    'Content-Security-Policy': BASE_CSP,
  });
  response.end(request.method === 'HEAD' ? undefined : text);
}
