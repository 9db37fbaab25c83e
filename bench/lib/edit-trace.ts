/**
 * S3 only: when each edit reached a server's Hocuspocus connection and when the server handed
 * the forwarded update frames to the peers' sockets (machine-wide monotonic clock, loop-watch.ts
 * hrMs). Patches the installed Connection.handleMessage and Connection.send, as relay-trace.ts
 * does; changes nothing the server does, and costs a frame-header read per message only while on.
 * Per document name, in arrival order: [received, first send, last send, sends].
 */
import { Connection } from '@hocuspocus/server';
import { readVarBytes, readVarUint } from '../../src/lib/protocol/hocuspocus-frames.ts';
import { hrMs } from './loop-watch.ts';

export type EditTrace = [received: number, firstSend: number, lastSend: number, sends: number];

const SYNC = 0;
const UPDATE = 2;
let on = false;
let edits = new Map<string, EditTrace[]>();
const decoder = new TextDecoder();

/** The document name of a sync-update frame, else undefined. */
function updateOf(bytes: Uint8Array): string | undefined {
  try {
    const r = { bytes, pos: 0 };
    const name = readVarBytes(r);
    if (readVarUint(r) !== SYNC || readVarUint(r) !== UPDATE) return undefined;
    const s = decoder.decode(name);
    const cut = s.indexOf('\0');
    return cut === -1 ? s : s.slice(0, cut);
  } catch {
    return undefined;
  }
}

let installed = false;
/**
 * Patches the prototype; call before any connection opens (the relay's budgets extension binds
 * each connection's handleMessage when it connects). Off until startEditTrace.
 */
export function installEditTrace(): void {
  if (installed) return;
  installed = true;
  const proto = Connection.prototype as unknown as { handleMessage(d: Uint8Array): void; send(m: Uint8Array): void };
  const handle = proto.handleMessage;
  proto.handleMessage = function (d) {
    if (on) {
      const t = hrMs();
      const name = updateOf(d);
      if (name !== undefined) edits.set(name, [...(edits.get(name) ?? []), [t, 0, 0, 0]]);
    }
    return handle.call(this, d);
  };
  const send = proto.send;
  proto.send = function (m) {
    const r = send.call(this, m);
    if (on) {
      const name = updateOf(m);
      const e = name === undefined ? undefined : edits.get(name)?.at(-1);
      if (e) {
        const t = hrMs();
        if (e[3] === 0) e[1] = t;
        e[2] = t;
        e[3]++;
      }
    }
    return r;
  };
}

export function startEditTrace(): void {
  installEditTrace();
  edits = new Map();
  on = true;
}

export function stopEditTrace(): Record<string, EditTrace[]> {
  on = false;
  return Object.fromEntries(edits);
}
