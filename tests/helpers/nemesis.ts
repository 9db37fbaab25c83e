/**
 * A WebSocket proxy in front of the relay that misbehaves on purpose: it duplicates and
 * reorders Yjs update frames (both directions), can cut every connection, and records every
 * frame it relays so tests can scan them for plaintext.
 */
import type { WebSocket } from 'ws';
import * as decoding from 'lib0/decoding';
import type { Prng } from './prng.ts';
import { sendIfOpen, startWsProxy, type Forward } from './ws-proxy.ts';

export interface NemesisOptions {
  readonly target: string;
  readonly prng: Prng;
  readonly duplicate?: number;
  readonly reorder?: number;
}

export interface Nemesis {
  readonly url: string;
  /** Every frame relayed, both directions. */
  readonly frames: Uint8Array[];
  /** Closes every open connection (clients reconnect by themselves). */
  cutAll(): void;
  close(): Promise<void>;
  stats: { duplicated: number; reordered: number };
}

/** Hocuspocus frame: varString document name, varUint type (0 = sync), varUint sync type (2 = update). */
function isYjsUpdate(frame: Uint8Array): boolean {
  try {
    const d = decoding.createDecoder(frame);
    decoding.readVarString(d);
    return decoding.readVarUint(d) === 0 && decoding.readVarUint(d) === 2;
  } catch {
    return false;
  }
}

export async function startNemesis(o: NemesisOptions): Promise<Nemesis> {
  const frames: Uint8Array[] = [];
  const stats = { duplicated: 0, reordered: 0 };

  /** One direction of one connection: holds at most one update back to reorder it. */
  const pipe = (to: WebSocket): Forward => {
    let held: Uint8Array | undefined;
    let heldTimer: ReturnType<typeof setTimeout> | undefined;
    const send = (b: Uint8Array) => sendIfOpen(to, b);
    const release = () => {
      if (heldTimer) clearTimeout(heldTimer);
      heldTimer = undefined;
      if (held) send(held);
      held = undefined;
    };
    return (frame) => {
      frames.push(frame);
      if (isYjsUpdate(frame)) {
        if (!held && o.prng.bool(o.reorder ?? 0)) {
          held = frame;
          stats.reordered++;
          heldTimer = setTimeout(release, 30);
          return;
        }
        send(frame);
        if (o.prng.bool(o.duplicate ?? 0)) {
          send(frame);
          stats.duplicated++;
        }
        release(); // the held frame now arrives after a later one
        return;
      }
      send(frame);
    };
  };

  const proxy = await startWsProxy({ target: o.target, pipe });
  return { url: proxy.url, frames, stats, cutAll: proxy.cutAll, close: proxy.close };
}

/** Counts occurrences of each canary (as UTF-8 bytes) in a set of buffers. */
export function scanForCanaries(buffers: readonly Uint8Array[], canaries: readonly string[]): Map<string, number> {
  const hits = new Map<string, number>();
  for (const canary of canaries) {
    const needle = Buffer.from(canary, 'utf8');
    let n = 0;
    for (const b of buffers) {
      const hay = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) n++;
    }
    hits.set(canary, n);
  }
  return hits;
}
