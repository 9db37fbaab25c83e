/**
 * Terminal refusals stop reconnects; transient failures reconnect with back-off. Against a real
 * relay on a loopback port: every WebSocket upgrade and every token the relay checks is counted
 * at the relay, per key.
 *
 * Where a test must show that nothing happens, it watches a short window (QUIET_MS) after the
 * refusal. With the 50 ms reconnect floor used here, a client that still reconnects, even with
 * full back-off, makes at least 4 attempts in that window (50 + 50 + 100 + 200 + 400 ms), and the
 * pre-fix client made dozens; a stopped one makes none.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Extension, onAuthenticatePayload } from '@hocuspocus/server';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { fromBase64Url, generateBoxKeyPair, generateSigningKeyPair, nobleEngine, toBase64Url, toHex, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken, ENVELOPE_MAP, ProtocolErrors, Role } from '../../src/lib/protocol/index.ts';
import { classifyRefusal, endsAccess, reconnectDelay } from '../../src/lib/sync/refusals.ts';
import { RelayConnection } from '../../src/lib/sync/relay-connection.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const cleanups = cleanupList();
const QUIET_MS = 1500;
const quietWindow = () => new Promise((r) => setTimeout(r, QUIET_MS));

type Relay = Awaited<ReturnType<typeof testRelay>>;

/** Counts, at the relay, upgrades, open sockets and token checks per key (hex), with times. */
function watch(relay: Relay) {
  const w = { upgrades: 0, open: new Set<Socket>(), auths: new Map<string, number[]>() };
  relay.server.httpServer.on('upgrade', (_req, socket: Socket) => {
    w.upgrades++;
    w.open.add(socket);
    socket.on('close', () => w.open.delete(socket));
  });
  // First in the chain, so it sees every token, including those the auth extension refuses.
  const counter: Extension = {
    extensionName: 'test-auth-counter',
    async onAuthenticate({ token }: onAuthenticatePayload) {
      const author = toHex(fromBase64Url(token).subarray(0, 32));
      w.auths.set(author, [...(w.auths.get(author) ?? []), Date.now()]);
    },
  };
  relay.server.hocuspocus.configuration.extensions.unshift(counter);
  return { ...w, authsBy: (key: Uint8Array) => w.auths.get(toHex(key))?.length ?? 0, timesOf: (key: Uint8Array) => w.auths.get(toHex(key)) ?? [] };
}

const person = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

async function family(relay: Relay, bobExpiresAt = 0) {
  const [alice, bob] = [person(), person()];
  const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
  const a = await Profile.create({
    ...common,
    signer: alice.signer,
    box: alice.box,
    members: [{ publicKey: bob.signer.publicKey, boxKey: bob.box.publicKey, role: Role.editor, expiresAt: bobExpiresAt }],
  });
  cleanups.push(() => a.close());
  setField(a, 'conditions', 'asthma', 'mild');
  await a.flush();
  return { alice, bob, a, common };
}

/** A raw connection (no Profile) to `docId` as `signer`; `tokenAt` picks each token's expiry. */
function rawConnection(relay: { url: string }, signer: SigningKeyPair, docId: Uint8Array, o: { resyncAfterMs?: number; tokenAt?: (call: number) => number } = {}) {
  const envelope = new Y.Doc();
  let calls = 0;
  const conn = new RelayConnection({
    url: relay.url,
    name: toBase64Url(docId),
    docId,
    envelope,
    engine: nobleEngine,
    minReconnectDelayMs: 50,
    random: () => 0, // pinned jitter: delays 50, 50, 100, 200, 400, 800 ms...
    resyncAfterMs: o.resyncAfterMs,
    token: () => createAuthToken({ secretKey: signer.secretKey, docId, expiresAt: o.tokenAt?.(calls++) ?? Date.now() + 60_000, engine: nobleEngine }),
  });
  cleanups.push(() => conn.destroy());
  return { conn, envelope, tokenCalls: () => calls };
}

describe('terminal refusals stop reconnects', () => {
  it("a removed member's open tab: refused on its reconnect, it stops (no further connects, socket closed, offline, refusal shown)", async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const w = watch(relay);
    const { bob, a, common } = await family(relay);
    const b = await Profile.open({ ...common, signer: bob.signer, box: bob.box, access: a.access });
    cleanups.push(() => b.close());
    await b.status.when((s) => s.synced);
    // The tab is offline (laptop asleep) while an owner removes Bob; then it comes back.
    b.disconnect();
    await a.removeMember(bob.signer.publicKey);
    await a.flush();
    await b.connect();
    expect(await engineOf(b).connection!.refusal.when((r) => r !== null, 10_000)).toBe('TOKEN_NOT_MEMBER');
    const refusedAt = w.authsBy(bob.signer.publicKey);
    // Its socket is closed (only Alice's stays open) and the state says so.
    await eventually(() => w.open.size === 1, 5_000, () => `open sockets: ${w.open.size}`);
    expect(engineOf(b).connection!.connection.value).toBe('offline');
    expect(b.status.value.state).toBe('error');
    expect(b.status.value.problems.map((p) => p.code)).toContain('TOKEN_NOT_MEMBER');
    const upgrades = w.upgrades;
    await quietWindow();
    expect(w.authsBy(bob.signer.publicKey) - refusedAt).toBeLessThanOrEqual(1);
    expect(w.upgrades - upgrades).toBeLessThanOrEqual(1);
    // A later connect() on the refused connection does nothing either.
    await b.connect();
    expect(w.upgrades - upgrades).toBeLessThanOrEqual(1);
  });

  it('the same with the resync timer at full speed: the refused document no longer floods the relay into reconnect storms', async () => {
    // Before the fix, the refused document stayed attached on an open socket: its resync check
    // doubled its own timers every round, each sending to a document the relay no longer served,
    // until the relay's unauthenticated queue overflowed and reset the socket; the library then
    // reconnected after a fixed delay and everything began again (1.3 attempts/s in a browser).
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const w = watch(relay);
    const { bob, a } = await family(relay);
    const c = rawConnection(relay, bob.signer, a.access.docId, { resyncAfterMs: 20 });
    await c.conn.connect();
    await c.conn.synced.when(Boolean, 10_000);
    c.conn.disconnect();
    await a.removeMember(bob.signer.publicKey);
    await a.flush();
    await c.conn.connect();
    expect(await c.conn.refusal.when((r) => r !== null, 10_000)).toBe('TOKEN_NOT_MEMBER');
    const refusedAt = w.authsBy(bob.signer.publicKey);
    await quietWindow();
    expect(w.authsBy(bob.signer.publicKey) - refusedAt, 'token checks after the refusal').toBeLessThanOrEqual(1);
    expect(c.conn.connection.value).toBe('offline');
    await eventually(() => w.open.size === 1, 5_000, () => `open sockets: ${w.open.size}`);
  });

  for (const [name, expectCode] of [
    ['removed while connected (the relay closes the document)', 'TOKEN_NOT_MEMBER'],
    ['membership expired while connected (the relay closes at expiry)', 'TOKEN_EXPIRED'],
  ] as const) {
    it(`${name}: refusal ${expectCode}, then no further connects`, async () => {
      const relay = await testRelay();
      cleanups.push(() => relay.destroy());
      const w = watch(relay);
      const expiring = expectCode === 'TOKEN_EXPIRED';
      const { bob, a, common } = await family(relay, expiring ? Date.now() + 1500 : 0);
      const b = await Profile.open({ ...common, signer: bob.signer, box: bob.box, access: a.access });
      cleanups.push(() => b.close());
      await b.status.when((s) => s.synced);
      if (!expiring) {
        await a.removeMember(bob.signer.publicKey);
        await a.flush();
      }
      expect(await engineOf(b).connection!.refusal.when((r) => r !== null, 10_000)).toBe(expectCode);
      const refusedAt = w.authsBy(bob.signer.publicKey);
      await eventually(() => w.open.size === 1, 5_000, () => `open sockets: ${w.open.size}`);
      await quietWindow();
      expect(w.authsBy(bob.signer.publicKey) - refusedAt).toBeLessThanOrEqual(1);
      expect(engineOf(b).connection!.connection.value).toBe('offline');
      expect(b.status.value.state).toBe('error');
    });
  }
  it('a clock off by more than a token lifetime (a fresh token refused as TOKEN_EXPIRED again) stops after that second attempt', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const w = watch(relay);
    const { bob, a } = await family(relay);
    const c = rawConnection(relay, bob.signer, a.access.docId, { tokenAt: () => Date.now() - 3_600_000 });
    await c.conn.connect();
    expect(await c.conn.refusal.when((r) => r !== null, 10_000)).toBe('TOKEN_EXPIRED');
    expect(w.authsBy(bob.signer.publicKey)).toBe(2);
    await quietWindow();
    expect(w.authsBy(bob.signer.publicKey)).toBe(2);
    expect(c.conn.connection.value).toBe('offline');
  });
});

describe('transient failures reconnect with back-off', () => {
  it('a stale token (TOKEN_EXPIRED at authentication) is retried with a fresh token, and syncs', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const w = watch(relay);
    const { bob, a } = await family(relay);
    // The first token is stale (signed long before it was sent); every later one is fresh.
    const c = rawConnection(relay, bob.signer, a.access.docId, { tokenAt: (call) => (call === 0 ? Date.now() - 1000 : Date.now() + 60_000) });
    const refusals: (string | null)[] = [];
    c.conn.refusal.subscribe((r) => refusals.push(r));
    await c.conn.connect();
    await c.conn.synced.when(Boolean, 10_000);
    expect(refusals).toEqual([null]); // never shown as a refusal: not terminal
    expect(c.tokenCalls()).toBe(2);
    expect(w.authsBy(bob.signer.publicKey)).toBe(2);
    expect(c.envelope.getMap(ENVELOPE_MAP).size).toBeGreaterThan(0);
  });

  it('a document closed by the relay with a transient code (RELAY_RATE_LIMITED) reconnects with growing delays, and syncs', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const w = watch(relay);
    const { bob, a } = await family(relay);
    // Bob's first four document connections are closed at their first message, as the budget
    // extension does when a member's bucket is empty.
    let closes = 0;
    const bobHex = toHex(bob.signer.publicKey);
    relay.server.hocuspocus.configuration.extensions.unshift({
      extensionName: 'test-rate-limit',
      async beforeHandleMessage({ context }) {
        if ((context as { author?: string }).author !== bobHex || closes >= 4) return;
        closes++;
        throw { code: 4000 + (ProtocolErrors.RELAY_RATE_LIMITED % 1000), reason: 'RELAY_RATE_LIMITED' };
      },
    } satisfies Extension);
    const c = rawConnection(relay, bob.signer, a.access.docId);
    const refusals: (string | null)[] = [];
    c.conn.refusal.subscribe((r) => refusals.push(r));
    await c.conn.connect();
    await c.conn.synced.when(Boolean, 15_000);
    expect(closes).toBe(4);
    expect(refusals).toEqual([null]);
    const times = w.timesOf(bob.signer.publicKey);
    expect(times).toHaveLength(5);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Pinned jitter: 50, 50, 100, 200 ms (plus a round trip each); a fixed delay would stay at 50.
    expect(gaps[3]!).toBeGreaterThanOrEqual(180);
    expect(gaps[3]!).toBeGreaterThan(2 * gaps[0]!);
  });

  it('a relay restart: the client retries with growing delays while it is down, then reconnects and syncs', async () => {
    const dataDir = tempDir('fhv-relay-');
    cleanups.push(() => dataDir.remove());
    let relay = await testRelay({ dataDir: dataDir.path });
    const port = relay.port;
    let relayUp = true;
    cleanups.push(() => (relayUp ? relay.destroy() : undefined));
    const { bob, a } = await family(relay);
    const c = rawConnection(relay, bob.signer, a.access.docId);
    await c.conn.connect();
    await c.conn.synced.when(Boolean, 10_000);

    a.disconnect(); // only Bob's connection knocks on the port while the relay is down
    relayUp = false;
    await relay.destroy();
    // While the relay restarts, something accepts TCP on its port and drops every connection
    // (a proxy with nothing behind it): each attempt is seen here, with its time.
    const attempts: number[] = [];
    const standIn: NetServer = createServer((socket) => {
      attempts.push(Date.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => standIn.listen(port, '127.0.0.1', resolve));
    await eventually(() => attempts.length >= 5, 10_000);
    await new Promise<void>((resolve) => standIn.close(() => resolve()));
    expect(c.conn.refusal.value).toBeNull();
    expect(c.conn.connection.value).not.toBe('connected');
    const gaps = attempts.slice(1, 5).map((t, i) => t - attempts[i]!);
    // Growing delays; a fixed 50 ms delay would give four gaps of about 50 ms.
    expect(gaps[3]!).toBeGreaterThanOrEqual(2 * Math.min(...gaps));
    expect(gaps[3]!).toBeGreaterThanOrEqual(150);

    relay = await testRelay({ dataDir: dataDir.path, port });
    relayUp = true;
    await c.conn.synced.when(Boolean, 15_000);
    await a.connect();
    setField(a, 'conditions', 'after-restart', 'yes');
    await a.flush();
    await a.status.when((s) => s.state === 'synced', 15_000);
    // Bob's raw connection holds everything the relay holds (Alice's post-restart record included).
    await eventually(() => c.envelope.getMap(ENVELOPE_MAP).size === engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).size, 10_000);
    expect(c.conn.refusal.value).toBeNull();
  });
});

describe('the refusal table (src/lib/sync/refusals.ts)', () => {
  it('removal and membership expiry are terminal and end access; a stale token at authentication is not', () => {
    expect(classifyRefusal('TOKEN_NOT_MEMBER', 'auth')).toBe('terminal');
    expect(classifyRefusal('TOKEN_NOT_MEMBER', 'close')).toBe('terminal');
    expect(classifyRefusal('TOKEN_EXPIRED', 'close')).toBe('terminal'); // revocation.ts: the member's time ran out
    expect(classifyRefusal('TOKEN_EXPIRED', 'auth')).toBe('transient'); // the token's own expiry: a fresh one is signed per attempt
    expect(classifyRefusal('TOKEN_EXPIRED', 'auth', 'TOKEN_EXPIRED')).toBe('terminal'); // ...and refused again: the clock is off
    expect(classifyRefusal('TOKEN_EXPIRED', 'auth', 'RELAY_RATE_LIMITED')).toBe('transient');
    expect(endsAccess('TOKEN_NOT_MEMBER')).toBe(true);
    expect(endsAccess('TOKEN_EXPIRED')).toBe(true);
    expect(endsAccess('RECORD_NOT_WRITER')).toBe(false);
    expect(endsAccess(null)).toBe(false);
  });

  it('a token that cannot improve on retry is terminal; a rate limit is transient', () => {
    for (const code of ['TOKEN_MALFORMED', 'TOKEN_BAD_SIGNATURE', 'TOKEN_WRONG_DOC']) {
      expect(classifyRefusal(code, 'auth')).toBe('terminal');
    }
    expect(classifyRefusal('RELAY_RATE_LIMITED', 'close')).toBe('transient');
  });

  it('an update that does not continue what the relay has (an earlier one was lost) is transient: the reconnect re-syncs', () => {
    expect(classifyRefusal('ENVELOPE_GAP', 'close')).toBe('transient');
    expect(classifyRefusal('ENVELOPE_DELETE_UNKNOWN', 'close')).toBe('transient');
  });

  it('write-policy refusals are terminal (the reconnect would resend the same data); every protocol code is classified', () => {
    for (const code of ['RECORD_NOT_WRITER', 'RECORD_NOT_MEMBER', 'ENVELOPE_BAD_STRUCT', 'ENVELOPE_DELETE_NOT_COVERED', 'RECORD_REPLAY']) {
      expect(classifyRefusal(code, 'close')).toBe('terminal');
    }
    for (const code of Object.keys(ProtocolErrors)) {
      expect(['terminal', 'transient']).toContain(classifyRefusal(code, 'close'));
      expect(['terminal', 'transient']).toContain(classifyRefusal(code, 'auth'));
    }
  });

  it('a close without a stable code is transient (network, relay restart, Hocuspocus reasons)', () => {
    for (const reason of [undefined, null, '', 'Reset Connection', 'Server closed the connection', 'Unauthorized', 'forced', 'toString']) {
      expect(classifyRefusal(reason, 'close')).toBe('transient');
      expect(classifyRefusal(reason, 'auth')).toBe('transient');
    }
  });

  it('reconnect delays grow exponentially from the floor, are capped, and jitter within [base/2, base]', () => {
    const o = (random: number) => ({ minMs: 1000, maxMs: 30_000, random: () => random });
    expect([0, 1, 2, 3, 4, 5, 6, 10, 1000].map((n) => reconnectDelay(n, o(0.999999)))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => reconnectDelay(n, o(0)))).toEqual([1000, 1000, 2000, 4000, 8000, 15_000, 15_000]);
    for (let n = 0; n < 12; n++) {
      const d = reconnectDelay(n, o(Math.random()));
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(30_000);
    }
  });
});
