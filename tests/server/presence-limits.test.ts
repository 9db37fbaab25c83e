/**
 * Presence (awareness) at the relay is owned and bounded, against a real relay on a loopback port.
 * Raw WebSocket clients speak the Hocuspocus wire protocol directly, so they can send what a
 * misbehaving member could: another client's id, removals of it, floods, oversized states, bursts.
 * A raw client's `barrier()` (sync step 1, await the step 2 reply) proves the relay has processed
 * everything that connection sent before it: Hocuspocus handles one connection's messages in order.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { generateSigningKeyPair, nobleEngine, toBase64Url, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken, Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { maxAwarenessMessageBytes, readAwarenessFrame } from '../../server/awareness.ts';
import { DEFAULT_PRESENCE_LIMITS, type RelayConfig } from '../../server/config.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';

type TestRelay = Awaited<ReturnType<typeof testRelay>>;
type State = Record<string, unknown> | null;
type Entry = readonly [clientId: number, clock: number, state: State];

const MSG_SYNC = 0;
const MSG_AWARENESS = 1;
const MSG_AUTH = 2;
const MSG_CLOSE = 7;

function awarenessUpdate(entries: readonly Entry[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, entries.length);
  for (const [id, clock, state] of entries) {
    encoding.writeVarUint(e, id);
    encoding.writeVarUint(e, clock);
    encoding.writeVarString(e, JSON.stringify(state));
  }
  return encoding.toUint8Array(e);
}

function decodeUpdate(update: Uint8Array): Entry[] {
  const d = decoding.createDecoder(update);
  const n = decoding.readVarUint(d);
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push([decoding.readVarUint(d), decoding.readVarUint(d), JSON.parse(decoding.readVarString(d)) as State]);
  return out;
}

class RawClient {
  /** Awareness updates received, raw (decoded on demand: a flood must not be decoded by the test). */
  readonly awarenessFrames: Uint8Array[] = [];
  closeReason: string | null = null;
  private step2s = 0;
  private barriers = 0;
  private authenticated = false;

  readonly ws: WebSocket;
  readonly name: string;

  private constructor(ws: WebSocket, name: string) {
    this.ws = ws;
    this.name = name;
    ws.on('message', (data: Buffer) => this.receive(new Uint8Array(data)));
  }

  static async connect(url: string, name: string, docId: Uint8Array, signer: SigningKeyPair): Promise<RawClient> {
    const ws = new WebSocket(url);
    const c = new RawClient(ws, name);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const token = await createAuthToken({ secretKey: signer.secretKey, docId, expiresAt: Date.now() + 60_000, engine: nobleEngine });
    c.frame(MSG_AUTH, (e) => {
      encoding.writeVarUint(e, 0); // AuthMessageType.Token
      encoding.writeVarString(e, token);
    });
    await eventually(() => c.authenticated || c.closeReason !== null, 10_000);
    if (!c.authenticated) throw new Error(`not authenticated: ${c.closeReason}`);
    return c;
  }

  private receive(bytes: Uint8Array): void {
    const d = decoding.createDecoder(bytes);
    decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type === MSG_AUTH) {
      const sub = decoding.readVarUint(d);
      if (sub === 2) this.authenticated = true;
      else this.closeReason = decoding.readVarString(d);
    } else if (type === MSG_AWARENESS) this.awarenessFrames.push(decoding.readVarUint8Array(d));
    else if (type === MSG_SYNC && decoding.readVarUint(d) === 1) this.step2s++;
    else if (type === MSG_CLOSE) this.closeReason = decoding.readVarString(d);
  }

  frame(type: number, body: (e: encoding.Encoder) => void): void {
    const e = encoding.createEncoder();
    encoding.writeVarString(e, this.name);
    encoding.writeVarUint(e, type);
    body(e);
    this.sendBytes(encoding.toUint8Array(e));
  }

  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  awarenessFrame(entries: readonly Entry[]): Uint8Array {
    const e = encoding.createEncoder();
    encoding.writeVarString(e, this.name);
    encoding.writeVarUint(e, MSG_AWARENESS);
    encoding.writeVarUint8Array(e, awarenessUpdate(entries));
    return encoding.toUint8Array(e);
  }

  sendAwareness(...entries: Entry[]): void {
    this.sendBytes(this.awarenessFrame(entries));
  }

  /** Resolves once the relay has handled everything this connection sent before. */
  async barrier(): Promise<void> {
    const n = ++this.barriers;
    this.frame(MSG_SYNC, (e) => {
      encoding.writeVarUint(e, 0); // sync step 1
      encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
    });
    await eventually(() => this.step2s >= n, 10_000, () => `barrier ${n}, close: ${this.closeReason}`);
  }

  /** Every (clientId, state) received, in order. */
  history(): Entry[] {
    return this.awarenessFrames.flatMap(decodeUpdate);
  }

  /** Current view: the latest state per client id, removals applied. */
  view(): Map<number, State> {
    const m = new Map<number, State>();
    for (const [id, , state] of this.history()) {
      if (state === null) m.delete(id);
      else m.set(id, state);
    }
    return m;
  }

  /** The states ever received for `id` (`p` values; null for a removal). */
  seen(id: number): Array<unknown> {
    return this.history()
      .filter(([i]) => i === id)
      .map(([, , s]) => (s === null ? null : s.p));
  }

  close(): void {
    this.ws.close();
  }
}

const p = (id: number, clock: number, value: string): Entry => [id, clock, { p: value }];

describe('presence limits at the relay', () => {
  let relay: TestRelay;
  let name: string;
  let docId: Uint8Array;
  let bob: SigningKeyPair, carol: SigningKeyPair, dave: SigningKeyPair, erin: SigningKeyPair;
  let clock: number;
  const clients: RawClient[] = [];

  async function setup(overrides: Partial<RelayConfig> = {}) {
    clock = Date.now();
    relay = await testRelay({ now: () => clock, ...overrides });
    const alice = generateSigningKeyPair();
    [bob, carol, dave, erin] = [0, 1, 2, 3].map(() => generateSigningKeyPair()) as [SigningKeyPair, SigningKeyPair, SigningKeyPair, SigningKeyPair];
    const a = await Profile.create({
      signer: alice,
      relayUrl: relay.url,
      minReconnectDelayMs: 60_000,
      members: [bob, carol, dave, erin].map((k) => ({ publicKey: k.publicKey, role: Role.editor, expiresAt: 0 })),
    });
    await a.flush();
    docId = a.access.docId;
    name = toBase64Url(docId);
    await a.close();
  }

  async function raw(signer: SigningKeyPair): Promise<RawClient> {
    const c = await RawClient.connect(relay.url, name, docId, signer);
    clients.push(c);
    return c;
  }

  /** What the relay holds (and would send to a newcomer): client id -> state. */
  const relayStates = () => relay.server.hocuspocus.documents.get(name)?.awareness.getStates() ?? new Map<number, State>();

  beforeEach(() => {
    clients.length = 0;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await relay?.destroy();
  });

  it('a member cannot take over, remove or overwrite another connection\'s client id; closing releases it', async () => {
    await setup();
    const [a, b, c] = [await raw(bob), await raw(carol), await raw(dave)];
    a.sendAwareness(p(1001, 1, 'Alice'));
    await eventually(() => (c.view().get(1001) as { p: string } | undefined)?.p === 'Alice');

    b.sendAwareness(p(1001, 7, 'Mallory'));
    b.sendAwareness([1001, 8, null]);
    b.sendAwareness(p(1001, 9, 'Mallory2'), p(2002, 1, 'Bob'));
    await b.barrier();
    // B's own id, sent in the same message and after, is relayed: anything relayed before it arrived.
    await eventually(() => (c.view().get(2002) as { p: string } | undefined)?.p === 'Bob');
    expect(relayStates().get(1001)).toEqual({ p: 'Alice' });
    expect(c.view().get(1001)).toEqual({ p: 'Alice' });
    expect(c.seen(1001)).toEqual(['Alice']);
    // A newcomer gets the relay's current awareness: still A's state.
    const d = await raw(erin);
    await eventually(() => d.view().has(2002));
    expect(d.view().get(1001)).toEqual({ p: 'Alice' });

    // The owner may still update it.
    a.sendAwareness(p(1001, 2, 'Alice2'));
    await eventually(() => (c.view().get(1001) as { p: string } | undefined)?.p === 'Alice2');

    // Closing A removes its state and releases the id; then it can be claimed again.
    a.close();
    await eventually(() => !c.view().has(1001) && !relayStates().has(1001));
    b.sendAwareness(p(1001, 20, 'Bob2'));
    await eventually(() => (c.view().get(1001) as { p: string } | undefined)?.p === 'Bob2');
    expect(c.seen(1001)).toEqual(['Alice', 'Alice2', null, 'Bob2']);
  });

  it('a 300,000-id awareness message is refused before decoding: no memory growth, nothing broadcast', async () => {
    await setup();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const [a, b, c] = [await raw(bob), await raw(carol), await raw(dave)];
    a.sendAwareness(p(1_000_001, 1, 'Alice'));
    await eventually(() => c.view().has(1_000_001));
    const flood = b.awarenessFrame(Array.from({ length: 300_000 }, (_, i): Entry => [i + 1, 1, {}]));
    expect(flood.length).toBeGreaterThan(2_000_000);
    const framesBefore = c.awarenessFrames.length;

    gc();
    const before = process.memoryUsage();
    b.sendBytes(flood);
    // Processed: either refused (closed) or acknowledged by a barrier behind it.
    await Promise.race([eventually(() => b.closeReason !== null, 30_000), b.barrier().catch(() => undefined)]);
    const relaySize = relayStates().size;
    gc();
    const after = process.memoryUsage();
    const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
    console.log(
      `flood ${mb(flood.length)} MB: heapUsed ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MB (+${mb(after.heapUsed - before.heapUsed)}), rss ${mb(before.rss)} -> ${mb(after.rss)} MB`,
    );

    // A later update from A reaches C: anything broadcast for the flood would have come before it.
    a.sendAwareness(p(1_000_001, 2, 'Alice2'));
    await eventually(() => (c.view().get(1_000_001) as { p: string } | undefined)?.p === 'Alice2');
    const since = c.awarenessFrames.slice(framesBefore);
    expect(since.reduce((n, f) => n + f.length, 0), 'bytes broadcast after the flood').toBeLessThan(1024);
    expect(since.flatMap(decodeUpdate).map(([id]) => id)).toEqual([1_000_001]);
    expect(relaySize).toBe(1);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(50 * 2 ** 20);
    expect(after.rss - before.rss, 'rss growth (the decode of 300,000 entries alone adds ~60 MB)').toBeLessThan(50 * 2 ** 20);
    expect(b.closeReason).toBe('PRESENCE_TOO_LARGE');
  });

  it('one connection owns at most maxEntriesPerConnection client ids (default 8)', async () => {
    await setup();
    expect(DEFAULT_PRESENCE_LIMITS.maxEntriesPerConnection).toBe(8);
    const [b, c, d] = [await raw(carol), await raw(dave), await raw(erin)];
    const ids = Array.from({ length: 10 }, (_, i) => 3001 + i);
    b.sendAwareness(...ids.map((id) => p(id, 1, `s${id}`)));
    await b.barrier();
    expect([...relayStates().keys()].sort()).toEqual(ids.slice(0, 8));
    await eventually(() => c.view().size === 8);
    b.sendAwareness(p(3011, 1, 'late'), p(3001, 2, 'again'));
    await b.barrier();
    await eventually(() => (c.view().get(3001) as { p: string } | undefined)?.p === 'again');
    expect(relayStates().has(3011)).toBe(false);
    expect(c.seen(3009)).toEqual([]);
    expect(c.seen(3011)).toEqual([]);
    // The cap is per connection: another one may still claim an id B was refused.
    d.sendAwareness(p(3011, 1, 'dave'));
    await eventually(() => (c.view().get(3011) as { p: string } | undefined)?.p === 'dave');
  });

  it('awareness messages over maxUpdatesPerSecond (default 10) are dropped until the clock moves', async () => {
    await setup();
    expect(DEFAULT_PRESENCE_LIMITS.maxUpdatesPerSecond).toBe(10);
    const [b, c] = [await raw(carol), await raw(dave)];
    for (let i = 1; i <= 15; i++) b.sendAwareness(p(4001, i, `s${i}`));
    await b.barrier();
    expect(relayStates().get(4001)).toEqual({ p: 's10' });
    await eventually(() => c.seen(4001).includes('s10'));
    // Frozen clock: still no token.
    b.sendAwareness(p(4001, 16, 's16'));
    await b.barrier();
    expect(relayStates().get(4001)).toEqual({ p: 's10' });
    // 100 ms refills one update.
    clock += 100;
    b.sendAwareness(p(4001, 17, 's17'));
    b.sendAwareness(p(4001, 18, 's18'));
    await b.barrier();
    await eventually(() => c.seen(4001).includes('s17'));
    expect(relayStates().get(4001)).toEqual({ p: 's17' });
    clock += 1000;
    b.sendAwareness(p(4001, 19, 's19'));
    await eventually(() => c.seen(4001).includes('s19'));
    const seen = c.seen(4001);
    for (const dropped of ['s11', 's12', 's13', 's14', 's15', 's16', 's18']) expect(seen).not.toContain(dropped);
  });

  it('states over maxStateBytes are dropped (and do not bind the id)', async () => {
    await setup({ presence: { ...DEFAULT_PRESENCE_LIMITS, maxStateBytes: 512 } });
    expect(DEFAULT_PRESENCE_LIMITS.maxStateBytes).toBe(4096);
    const [b, c, d] = [await raw(carol), await raw(dave), await raw(erin)];
    // Both pass the content filter ({ p: base64url } up to 4096 chars); only the byte limit differs.
    b.sendAwareness(p(5001, 1, 'a'.repeat(600)), p(5002, 1, 'b'.repeat(400)));
    await b.barrier();
    expect(relayStates().has(5001)).toBe(false);
    expect(relayStates().get(5002)).toEqual({ p: 'b'.repeat(400) });
    await eventually(() => c.view().has(5002));
    expect(c.seen(5001)).toEqual([]);
    d.sendAwareness(p(5001, 1, 'dave'));
    await eventually(() => (c.view().get(5001) as { p: string } | undefined)?.p === 'dave');
  });

  it("the relay's raw frame reader agrees with lib0's encoding", () => {
    const frame = (entries: Entry[]) => {
      const e = encoding.createEncoder();
      encoding.writeVarString(e, 'doc\u0000session');
      encoding.writeVarUint(e, MSG_AWARENESS);
      encoding.writeVarUint8Array(e, awarenessUpdate(entries));
      return encoding.toUint8Array(e);
    };
    const ids = [0, 127, 128, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER];
    const entries: Entry[] = ids.map((id, i) => [id, 2 ** 31 + i, i % 2 ? null : { p: 'é'.repeat(i) }]);
    expect(readAwarenessFrame(frame(entries))).toEqual(
      entries.map(([clientId, , state]) => ({ clientId, stateBytes: Buffer.byteLength(JSON.stringify(state)), removal: state === null })),
    );
    const full = frame(entries);
    expect(() => readAwarenessFrame(full.subarray(0, full.length - 1))).toThrow(RangeError);
    const sync = encoding.createEncoder();
    encoding.writeVarString(sync, 'doc');
    encoding.writeVarUint(sync, MSG_SYNC);
    expect(readAwarenessFrame(encoding.toUint8Array(sync))).toBeNull();
    // The default allowance: 8 ids of 4 KiB, about 33 KB; the 2 MB flood is 60 times that.
    expect(maxAwarenessMessageBytes(DEFAULT_PRESENCE_LIMITS)).toBeLessThan(40_000);
  });
});
