/**
 * Relay budgets (server/budgets.ts, server/log.ts), against a real relay on a loopback port: a
 * member who floods a document with messages or bytes is closed with RELAY_RATE_LIMITED while
 * other members keep syncing; a member within budget is never closed; reconnecting does not
 * refill a budget; strangers' refusals are logged once per interval, not once per attempt.
 * Raw WebSocket clients speak the Hocuspocus wire format directly, so they can send what the
 * provider never would. Every step waits for the relay's own answers (acks, close messages).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { generateSigningKeyPair, nobleEngine, toBase64Url, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken, Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { DEFAULT_BUDGETS, type RelayBudgets } from '../../server/config.ts';
import { jsonLogger, refusalLog, type RelayLogger } from '../../server/log.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

type TestRelay = Awaited<ReturnType<typeof testRelay>>;

const SYNC = 0;
const AUTH = 2;
const CLOSE = 7;
const SYNC_STATUS = 8;
const SYNC_UPDATE = 2;
const AUTH_TOKEN = 0;
const AUTH_DENIED = 1;
const AUTH_OK = 2;
/** A Yjs (v1) update that changes nothing: what the attacker flooded the relay with. */
const EMPTY_UPDATE = Uint8Array.of(0, 0);

/** One document connection over its own WebSocket, speaking the Hocuspocus protocol by hand. */
class RawMember {
  acks = 0;
  closedWith: string | null = null;
  denied: string | null = null;
  private authenticated = false;
  private readonly waiters = new Set<() => void>();

  private readonly ws: WebSocket;
  private readonly name: string;

  private constructor(ws: WebSocket, name: string) {
    this.ws = ws;
    this.name = name;
    ws.on('message', (data: Buffer) => this.onMessage(new Uint8Array(data)));
    ws.on('close', () => this.notify());
  }

  /** Connects and authenticates (or is denied: `denied` then holds the reason). */
  static async open(url: string, name: string, token: string): Promise<RawMember> {
    const ws = new WebSocket(url);
    const member = new RawMember(ws, name);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const e = encoding.createEncoder();
    encoding.writeVarString(e, name);
    encoding.writeVarUint(e, AUTH);
    encoding.writeVarUint(e, AUTH_TOKEN);
    encoding.writeVarString(e, token);
    ws.send(encoding.toUint8Array(e));
    await member.until(() => member.authenticated || member.denied !== null);
    return member;
  }

  /** A frame of exactly `frameBytes` (when given) carrying `update`; what follows the update is ignored by the relay. */
  updateFrame(update: Uint8Array, frameBytes?: number): Uint8Array {
    const e = encoding.createEncoder();
    encoding.writeVarString(e, this.name);
    encoding.writeVarUint(e, SYNC);
    encoding.writeVarUint(e, SYNC_UPDATE);
    encoding.writeVarUint8Array(e, update);
    const head = encoding.toUint8Array(e);
    if (frameBytes === undefined) return head;
    if (frameBytes < head.length) throw new Error('frame too small');
    const frame = new Uint8Array(frameBytes);
    frame.set(head);
    return frame;
  }

  send(frame: Uint8Array, times = 1): void {
    for (let i = 0; i < times; i++) this.ws.send(frame);
  }

  /** Resolves once `predicate` holds, re-checked on every message from the relay. */
  until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`not reached in ${timeoutMs} ms (acks ${this.acks}, closed ${this.closedWith})`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  untilAcks(n: number): Promise<void> {
    return this.until(() => this.acks >= n || this.closedWith !== null).then(() => {
      if (this.closedWith !== null) throw new Error(`closed with ${this.closedWith} after ${this.acks} acks, expected ${n}`);
    });
  }

  untilClosed(): Promise<string> {
    return this.until(() => this.closedWith !== null).then(() => this.closedWith!);
  }

  close(): void {
    this.ws.terminate();
  }

  private onMessage(bytes: Uint8Array): void {
    const d = decoding.createDecoder(bytes);
    decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type === SYNC_STATUS) this.acks++;
    else if (type === CLOSE) this.closedWith = decoding.readVarString(d);
    else if (type === AUTH) {
      const sub = decoding.readVarUint(d);
      if (sub === AUTH_OK) this.authenticated = true;
      else if (sub === AUTH_DENIED) this.denied = decoding.readVarString(d);
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

describe('relay budgets', () => {
  let relay: TestRelay | undefined;
  const cleanup: Array<() => unknown> = [];
  let clock = Date.now();

  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await relay?.destroy();
    relay = undefined;
    vi.restoreAllMocks();
  });

  /** A relay, a profile created by alice with bob and carol as editors, and a token maker. */
  async function setup(o: { budgets?: Partial<RelayBudgets>; fakeClock?: boolean; logger?: RelayLogger } = {}) {
    clock = Date.now();
    relay = await testRelay({ budgets: { ...DEFAULT_BUDGETS, ...o.budgets }, ...(o.fakeClock ? { now: () => clock } : {}), ...(o.logger ? { logger: o.logger } : {}) });
    const [alice, bob, carol] = [0, 1, 2].map(() => generateSigningKeyPair()) as [SigningKeyPair, SigningKeyPair, SigningKeyPair];
    const a = await Profile.create({
      signer: alice,
      relayUrl: relay.url,
      minReconnectDelayMs: 50,
      members: [
        { publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 },
        { publicKey: carol.publicKey, role: Role.editor, expiresAt: 0 },
      ],
    });
    cleanup.push(() => a.close());
    setField(a, 'conditions', 'asthma', true);
    await a.flush();
    const name = toBase64Url(a.access.docId);
    const token = (who: SigningKeyPair) =>
      createAuthToken({ secretKey: who.secretKey, docId: a.access.docId, expiresAt: Date.now() + 60_000, engine: nobleEngine });
    const raw = async (who: SigningKeyPair) => {
      const m = await RawMember.open(relay!.url, name, await token(who));
      cleanup.push(() => m.close());
      return m;
    };
    return { a, alice, bob, carol, raw, name, relay };
  }

  it('closes a member flooding 20,000 empty updates with RELAY_RATE_LIMITED (default budgets) while another member syncs', async () => {
    const { a, bob, carol, raw } = await setup();
    const flooder = await raw(bob);
    expect(flooder.denied).toBeNull();
    const frame = flooder.updateFrame(EMPTY_UPDATE);
    flooder.send(frame, 20_000);

    // Meanwhile carol, an honest editor, writes and alice receives it.
    const c = await Profile.open({ signer: carol, access: a.access, relayUrl: relay!.url, minReconnectDelayMs: 50 });
    cleanup.push(() => c.close());
    await c.status.when((s) => s.synced, 10_000);
    setField(c, 'meds', 'inhaler', { dose: '2 puffs' });
    await c.flush();
    await eventually(() => JSON.stringify(engineOf(a).plainDoc.getMap('meds').toJSON()).includes('2 puffs'), 10_000);

    expect(await flooder.untilClosed()).toBe('RELAY_RATE_LIMITED');
    // Most of the flood was never processed: the relay stopped at the budget.
    expect(flooder.acks).toBeLessThanOrEqual(DEFAULT_BUDGETS.messageBurst + DEFAULT_BUDGETS.messagesPerSecond * 5);
    expect(engineOf(c).connection!.refusal.value).toBeNull();
    expect(engineOf(a).connection!.refusal.value).toBeNull();
  });

  it('never closes a member within its message budget; one message over it closes, and reconnecting does not refill it', async () => {
    const { bob, raw } = await setup({ fakeClock: true, budgets: { messagesPerSecond: 10, messageBurst: 20 } });
    const m = await raw(bob);
    const frame = m.updateFrame(EMPTY_UPDATE);
    m.send(frame, 20); // the whole burst at once
    await m.untilAcks(20);
    for (let second = 1; second <= 5; second++) {
      clock += 1000;
      m.send(frame, 10); // exactly the sustained rate
      await m.untilAcks(20 + 10 * second);
    }
    expect(m.closedWith).toBeNull();
    // The budget is spent: one more message in the same instant is refused.
    m.send(frame);
    expect(await m.untilClosed()).toBe('RELAY_RATE_LIMITED');
    expect(m.acks).toBe(70);
    // The same member on a fresh connection has the same (empty) budget...
    const again = await raw(bob);
    again.send(frame);
    expect(await again.untilClosed()).toBe('RELAY_RATE_LIMITED');
    // ...which refills with time.
    clock += 1000;
    const later = await raw(bob);
    later.send(frame, 10);
    await later.untilAcks(10);
    expect(later.closedWith).toBeNull();
  });

  it('never closes a member within its byte budget; a frame over it closes the connection', async () => {
    const { bob, raw } = await setup({ fakeClock: true, budgets: { messagesPerSecond: 1000, messageBurst: 1000, bytesPerSecond: 10_000, byteBurst: 40_000 } });
    const m = await raw(bob);
    m.send(m.updateFrame(EMPTY_UPDATE, 10_000), 4); // the whole byte burst
    await m.untilAcks(4);
    clock += 1000;
    m.send(m.updateFrame(EMPTY_UPDATE, 9_000)); // 10,000 refilled, 1,000 left
    await m.untilAcks(5);
    expect(m.closedWith).toBeNull();
    m.send(m.updateFrame(EMPTY_UPDATE, 1_001));
    expect(await m.untilClosed()).toBe('RELAY_RATE_LIMITED');
    expect(m.acks).toBe(5);
  });

  it('default budgets let an honest heavy session through: a 5,000-record import, then 500 edits one by one', async () => {
    const { a, carol } = await setup();
    const c = await Profile.open({ signer: carol, access: a.access, relayUrl: relay!.url, minReconnectDelayMs: 50 });
    cleanup.push(() => c.close());
    await c.status.when((s) => s.synced, 10_000);
    for (let i = 0; i < 5000; i++) setField(c, 'conditions', `imported-${i}`, { name: `condition ${i}`, since: '2020-01-01', notes: 'n'.repeat(100) });
    await c.flush();
    for (let i = 0; i < 500; i++) {
      setField(c, 'meds', `m-${i}`, { dose: `${i} mg` });
      await new Promise((r) => setImmediate(r));
    }
    await c.flush();
    await eventually(() => engineOf(a).plainDoc.getMap('meds').size === 500 && engineOf(a).plainDoc.getMap('conditions').size >= 5000, 20_000);
    expect(engineOf(c).connection!.refusal.value).toBeNull();
    expect(engineOf(a).connection!.refusal.value).toBeNull();
  });

  it("logs strangers' refused logins once per interval, with no token in the line", async () => {
    const lines: string[] = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    }
    // The relay's own JSON log and anything Hocuspocus prints land in the same list.
    const { name } = await setup({ logger: jsonLogger((l) => lines.push(l)) });
    const stranger = generateSigningKeyPair();
    const tokens: string[] = [];
    for (let i = 0; i < 30; i++) {
      const t = await createAuthToken({ secretKey: stranger.secretKey, docId: Buffer.from(name, 'base64url'), expiresAt: Date.now() + 60_000, engine: nobleEngine });
      tokens.push(t);
      const m = await RawMember.open(relay!.url, name, t);
      cleanup.push(() => m.close());
      expect(m.denied).toBe('TOKEN_NOT_MEMBER');
    }
    const refusals = lines.filter((l) => l.includes('TOKEN_NOT_MEMBER'));
    expect(refusals).toHaveLength(1);
    expect(lines.filter((l) => tokens.some((t) => l.includes(t)))).toEqual([]);
  });
});

describe('refusal log', () => {
  it('prints one JSON line per reason per interval, then the count it suppressed; never the raw reason of a stranger', () => {
    let now = 1_000_000;
    const lines: string[] = [];
    const counted: string[] = [];
    const logger = jsonLogger((l) => lines.push(l), () => now);
    const log = refusalLog({ now: () => now, intervalMs: 60_000, logger, counted: (c) => counted.push(c) });
    const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).map(({ t: _t, ...rest }) => rest);
    for (let i = 0; i < 1000; i++) log('TOKEN_NOT_MEMBER');
    log('TOKEN_EXPIRED');
    expect(parsed()).toEqual([
      { level: 'warn', event: 'refused', code: 'TOKEN_NOT_MEMBER' },
      { level: 'warn', event: 'refused', code: 'TOKEN_EXPIRED' },
    ]);
    expect(JSON.parse(lines[0]!).t).toBe(new Date(1_000_000).toISOString());
    now += 59_999;
    log('TOKEN_NOT_MEMBER');
    expect(lines).toHaveLength(2);
    now += 1;
    log('TOKEN_NOT_MEMBER');
    expect(parsed()[2]).toEqual({ level: 'warn', event: 'refused', code: 'TOKEN_NOT_MEMBER', suppressed: 1000, seconds: 60 });
    log('eyJhbGciOi.secret-token-text');
    expect(parsed()[3]).toEqual({ level: 'warn', event: 'refused', code: 'OTHER' });
    log('TOKEN_NOT_MEMBER');
    log.flush();
    expect(parsed().slice(4)).toEqual([{ level: 'warn', event: 'refused', code: 'TOKEN_NOT_MEMBER', suppressed: 1, seconds: 0 }]);
    // Every refusal is counted (the metrics), logged or not, and a stranger's text never is.
    expect(counted).toHaveLength(1000 + 1 + 2 + 1 + 1);
    expect(counted).not.toContain('eyJhbGciOi.secret-token-text');
    expect(lines.join('\n')).not.toContain('secret-token-text');
  });
});
