/**
 * Awareness (presence) at the relay: filtered, owned and bounded.
 *
 * - Content: the only awareness content passed on is the opaque presence blob ({ p: string } of
 *   bounded size) or an empty state. Anything else, such as a buggy client putting a name in
 *   cleartext, is dropped, so plaintext never travels through awareness.
 * - Ownership: a client id belongs to the first connection that announces it on that document.
 *   Another connection's entry for it (a new state or a removal) is dropped. A connection owns at
 *   most `presence.maxEntriesPerConnection` ids; closing it releases them (Hocuspocus removes
 *   their states and tells the others).
 * - Size and rate: states over `presence.maxStateBytes` are dropped; awareness messages beyond
 *   `presence.maxUpdatesPerSecond` per connection (token bucket on `config.now`) are dropped whole.
 *   A message larger than a connection's whole allowance can never be honest: it is refused
 *   (PRESENCE_TOO_LARGE, the connection is closed) from its raw size, before anything decodes it.
 *
 * How Hocuspocus 4 handles an awareness message (MessageReceiver, MessageType.Awareness):
 * `beforeHandleMessage` gets the raw frame first; then the update is decoded in full into a scratch
 * Awareness, `beforeHandleAwareness` gets that scratch's `states` map, and only what is left in the
 * map is re-encoded, applied to the document awareness and broadcast. So deleting an entry from
 * the map drops it, but the decode of every entry has already happened: the size check must be in
 * `beforeHandleMessage`. The map also holds the scratch Awareness's own client id (state {},
 * clock 0) and never holds removals, so ownership is decided from our own decode of the raw
 * update (bounded by the size check) and the map is filtered against that allow-list.
 * Only public hooks are used; tests/server/presence-limits.test.ts fails if these semantics change.
 */
import type { Connection, Document, Extension } from '@hocuspocus/server';
import { MAX_PRESENCE_CHARS } from '../src/lib/protocol/index.ts';
import type { PresenceLimits, RelayConfig } from './config.ts';
import { RelayRefusal } from './errors.ts';

/** Hocuspocus wire message type of an awareness update (MessageType.Awareness). */
const MESSAGE_AWARENESS = 1;

export function isAllowedAwarenessState(state: Record<string, unknown> | null): boolean {
  if (state === null) return true;
  const keys = Object.keys(state);
  if (keys.length === 0) return true;
  return keys.length === 1 && typeof state.p === 'string' && state.p.length <= MAX_PRESENCE_CHARS && /^[A-Za-z0-9_-]*$/.test(state.p);
}

/**
 * Largest awareness message (whole frame) a connection may send: all its ids with the largest
 * states, plus framing. Removal-only messages (an honest provider's timeouts) are ~12 bytes an entry.
 */
export function maxAwarenessMessageBytes(limits: PresenceLimits): number {
  return limits.maxEntriesPerConnection * (limits.maxStateBytes + 24) + 1024;
}

interface AwarenessEntry {
  readonly clientId: number;
  /** Bytes of the JSON state on the wire. */
  readonly stateBytes: number;
  readonly removal: boolean;
}

/**
 * Minimal reader for lib0's encoding (varUint: LEB128, 7 bits a byte; varString and
 * varUint8Array: varUint length, then bytes); the server layer does not import lib0.
 */
class FrameReader {
  private pos = 0;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  varUint(): number {
    let n = 0;
    for (let shift = 1; ; shift *= 128) {
      if (this.pos >= this.bytes.length) throw new RangeError('awareness frame truncated');
      const b = this.bytes[this.pos++]!;
      n += (b & 0x7f) * shift;
      if (n > Number.MAX_SAFE_INTEGER) throw new RangeError('awareness frame: integer too large');
      if (b < 0x80) return n;
    }
  }
  bytesOf(): Uint8Array {
    const len = this.varUint();
    if (this.pos + len > this.bytes.length) throw new RangeError('awareness frame truncated');
    return this.bytes.subarray(this.pos, (this.pos += len));
  }
}

const NULL_JSON = [0x6e, 0x75, 0x6c, 0x6c]; // "null"

/** Whether a Hocuspocus frame (address, then message type) is an awareness message. */
function isAwarenessFrame(frame: Uint8Array): boolean {
  const r = new FrameReader(frame);
  r.bytesOf(); // document address
  return r.varUint() === MESSAGE_AWARENESS;
}

/** Reads the entries of a Hocuspocus awareness frame, without parsing the states. */
export function readAwarenessFrame(frame: Uint8Array): AwarenessEntry[] | null {
  const r = new FrameReader(frame);
  r.bytesOf(); // document address
  if (r.varUint() !== MESSAGE_AWARENESS) return null;
  const update = new FrameReader(r.bytesOf());
  const count = update.varUint();
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = update.varUint();
    update.varUint(); // clock
    const json = update.bytesOf(); // the state's JSON, UTF-8
    entries.push({ clientId, stateBytes: json.length, removal: json.length === 4 && NULL_JSON.every((b, j) => json[j] === b) });
  }
  return entries;
}

interface ConnectionState {
  tokens: number;
  last: number;
  /** Client ids this connection owns on its document. */
  readonly owned: Set<number>;
  /** Ids of the awareness message being handled that passed the raw checks (set per message). */
  allowed: Set<number> | null;
}

export function awarenessExtension(config: Pick<RelayConfig, 'presence' | 'now'>): Extension {
  const limits = config.presence;
  const maxFrame = maxAwarenessMessageBytes(limits);
  const connections = new WeakMap<Connection, ConnectionState>();
  const owners = new WeakMap<Document, Map<number, Connection>>();

  const stateOf = (connection: Connection): ConnectionState => {
    let s = connections.get(connection);
    if (!s) connections.set(connection, (s = { tokens: limits.maxUpdatesPerSecond, last: config.now(), owned: new Set(), allowed: null }));
    return s;
  };
  const ownersOf = (document: Document): Map<number, Connection> => {
    let m = owners.get(document);
    if (!m) owners.set(document, (m = new Map()));
    return m;
  };
  /** The live owner of `clientId`, releasing a binding whose connection has left the document. */
  const ownerOf = (document: Document, clientId: number): Connection | undefined => {
    const m = ownersOf(document);
    const owner = m.get(clientId);
    if (owner && !document.hasConnection(owner)) {
      m.delete(clientId);
      connections.get(owner)?.owned.delete(clientId);
      return undefined;
    }
    return owner;
  };
  const takeToken = (s: ConnectionState): boolean => {
    const now = config.now();
    const elapsed = Math.max(0, now - s.last);
    s.last = Math.max(s.last, now);
    s.tokens = Math.min(limits.maxUpdatesPerSecond, s.tokens + (elapsed * limits.maxUpdatesPerSecond) / 1000);
    if (s.tokens < 1) return false;
    s.tokens -= 1;
    return true;
  };

  return {
    extensionName: 'fhv-awareness',

    async beforeHandleMessage({ connection, document, update }) {
      // Cheap prefix check first: only awareness frames are ours.
      if (!isAwarenessFrame(update)) return;
      if (update.length > maxFrame) throw new RelayRefusal({ code: 'PRESENCE_TOO_LARGE', message: 'awareness message over the per-connection allowance' }).close;
      const s = stateOf(connection);
      s.allowed = new Set();
      if (!document.hasConnection(connection) || !takeToken(s)) return;
      for (const e of readAwarenessFrame(update) ?? []) {
        if (e.stateBytes > limits.maxStateBytes) continue;
        const owner = ownerOf(document, e.clientId);
        if (owner === connection) s.allowed.add(e.clientId);
        else if (owner === undefined && !e.removal && s.owned.size < limits.maxEntriesPerConnection) s.allowed.add(e.clientId);
      }
    },

    async beforeHandleAwareness({ states, connection, document }) {
      const s = connection ? connections.get(connection) : undefined;
      const allowed = s?.allowed ?? new Set<number>();
      if (s) s.allowed = null;
      for (const [clientId, state] of states) {
        if (!isAllowedAwarenessState(state)) states.delete(clientId);
        // Server-side awareness (no connection) is trusted; only the content filter applies.
        else if (!connection) continue;
        else if (!s || !allowed.has(clientId)) states.delete(clientId);
        else if (!s.owned.has(clientId)) {
          // Re-checked here: the cap counts ids bound by earlier entries of this same message.
          if (s.owned.size >= limits.maxEntriesPerConnection || ownerOf(document, clientId) !== undefined) states.delete(clientId);
          else {
            s.owned.add(clientId);
            ownersOf(document).set(clientId, connection);
          }
        }
      }
    },

    async onDisconnect({ document }) {
      // Hocuspocus has removed the closed connection and its states; release its ids.
      const m = owners.get(document);
      if (!m) return;
      for (const clientId of [...m.keys()]) ownerOf(document, clientId);
    },
  };
}
