/**
 * Learning of erasures without opening each profile (decision 0035, amended 2026-12-02): on
 * start and whenever the device's connection to the relay comes back, a device asks the relay's
 * `GET /erased/<doc>` for every profile it holds (a token signed by the person's identity, which
 * the tombstone lists when it was a member). A 200 carries the owner's signed order, which the
 * caller then verifies against its own copy (`confirmErasure`) before dropping anything: the relay
 * alone still cannot make a device drop a profile. A 204 (not erased), a 403 (not a member then),
 * a 429 (budget spent) or no answer leave everything as it is; the next sweep asks again.
 */
import { fromBase64Url, type Ed25519Engine, type SigningKeyPair } from '../crypto/index.ts';
import { createAuthToken } from '../protocol/index.ts';

/** What a relay answered for one profile. */
export type ErasureProbe = { readonly docId: string; readonly erased: true; readonly record: Uint8Array } | { readonly docId: string; readonly erased: false };

export interface SweepOptions {
  readonly relayUrl: string;
  readonly signer: SigningKeyPair;
  readonly engine: Ed25519Engine;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** Per request. */
  readonly timeoutMs?: number;
}

/** The relay's HTTP(S) base from its WebSocket URL. */
export function httpBaseOf(relayUrl: string): string {
  const ws = new URL(relayUrl);
  return `${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}${ws.pathname.replace(/\/+$/, '')}`;
}

/** One request per profile, one at a time (the relay budgets them per key and per address). */
export async function probeErasures(docIds: readonly string[], o: SweepOptions): Promise<ErasureProbe[]> {
  const now = o.now ?? Date.now;
  const out: ErasureProbe[] = [];
  for (const docId of docIds) {
    let id: Uint8Array;
    try {
      id = fromBase64Url(docId);
    } catch {
      continue;
    }
    try {
      const token = await createAuthToken({ secretKey: o.signer.secretKey, docId: id, expiresAt: now() + 60_000, engine: o.engine });
      const response = await (o.fetch ?? fetch)(`${httpBaseOf(o.relayUrl)}/erased/${docId}`, {
        headers: { Authorization: `Bearer ${token}` },
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      });
      if (response.status === 200) out.push({ docId, erased: true, record: new Uint8Array(await response.arrayBuffer()) });
      else {
        await response.arrayBuffer().catch(() => undefined);
        out.push({ docId, erased: false });
        // Budget spent: the rest waits for the next sweep.
        if (response.status === 429) break;
      }
    } catch {
      // Offline or no answer in time: nothing is known; the next sweep asks again.
      break;
    }
  }
  return out;
}

/**
 * Runs `sweep` each time `status` turns connected (the first connect after start included), at
 * most once per `minIntervalMs` (a flapping network must not spend the relay's budget) and never
 * two at once. Returns the unsubscribe.
 */
export function sweepOnConnect(
  status: { subscribe(fn: (s: { connection: string }) => void): () => void },
  sweep: () => Promise<unknown>,
  o: { now?: () => number; minIntervalMs?: number } = {},
): () => void {
  const now = o.now ?? Date.now;
  const minIntervalMs = o.minIntervalMs ?? 30_000;
  let last: number | undefined;
  let running = false;
  let wasConnected = false;
  return status.subscribe((s) => {
    const connected = s.connection === 'connected';
    const turnedOn = connected && !wasConnected;
    wasConnected = connected;
    if (!turnedOn || running || (last !== undefined && now() - last < minIntervalMs)) return;
    last = now();
    running = true;
    void sweep()
      .catch(() => undefined)
      .finally(() => (running = false));
  });
}
