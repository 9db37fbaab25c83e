/**
 * One WebSocket per device for all its profiles (src/lib/sync/relay-socket.ts, decision 0024),
 * against a real relay on a loopback port. Every WebSocket upgrade is counted at the relay, so
 * "one socket" is measured, not assumed. What must hold per document on a shared socket: each
 * converges; a refusal of one document (terminal or transient) leaves the others syncing on the
 * same socket; a forged update on one is refused for that one only; clientID binding is per
 * document (the relay's index of the document, never the socket).
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { RelaySockets } from '../../src/lib/sync/relay-socket.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { setField } from '../helpers/raw-edits.ts';
import type { RelayBudgets } from '../../server/config.ts';
import { DEFAULT_BUDGETS } from '../../server/config.ts';

const cleanups = cleanupList();
type Relay = Awaited<ReturnType<typeof testRelay>>;

/** Counts WebSocket upgrades and open sockets at the relay. */
function countSockets(relay: Relay) {
  const w = { upgrades: 0, open: new Set<Socket>() };
  relay.server.httpServer.on('upgrade', (_req, socket: Socket) => {
    w.upgrades++;
    w.open.add(socket);
    socket.on('close', () => w.open.delete(socket));
  });
  return w;
}

const fieldOf = (p: Profile, section: string, key: string) => engineOf(p).plainDoc.getMap(section).get(key);

async function setup(o: { budgets?: Partial<RelayBudgets> } = {}) {
  const relay = await testRelay({ quiet: true, ...(o.budgets ? { budgets: { ...DEFAULT_BUDGETS, ...o.budgets } } : {}) });
  cleanups.push(() => relay.destroy());
  const sockets = countSockets(relay);
  const owner = generateSigningKeyPair();
  const device = generateSigningKeyPair();
  /** The owner's side: each profile created on its own socket (the default without a pool). */
  const create = async () => {
    const p = await Profile.create({ signer: owner, relayUrl: relay.url, minReconnectDelayMs: 50, members: [{ publicKey: device.publicKey, role: Role.editor, expiresAt: 0 }] });
    cleanups.push(() => p.close());
    await p.flush();
    return p;
  };
  /** The device's side: one pool, so one socket for all its profiles. */
  const pool = new RelaySockets({ minReconnectDelayMs: 50 });
  cleanups.push(() => pool.destroy());
  const open = async (of: Profile, signer: SigningKeyPair = device) => {
    const p = await Profile.open({ signer, access: of.access, relayUrl: relay.url, relaySocket: pool.for(relay.url), minReconnectDelayMs: 50 });
    cleanups.push(() => p.close());
    await p.status.when((s) => s.synced, 10_000);
    return p;
  };
  return { relay, sockets, owner, device, create, open, pool };
}

describe('one WebSocket per device', () => {
  it('five profiles over one socket converge both ways; the device opens exactly one socket', async () => {
    const { sockets, create, open } = await setup();
    const owned: Profile[] = [];
    for (let i = 0; i < 5; i++) owned.push(await create());
    const before = sockets.upgrades;
    const mine: Profile[] = [];
    for (const p of owned) mine.push(await open(p));
    expect(sockets.upgrades - before).toBe(1);
    owned.forEach((p, i) => setField(p, 'conditions', 'from-owner', `owner ${i}`));
    mine.forEach((p, i) => setField(p, 'meds', 'from-device', `device ${i}`));
    await eventually(
      () => owned.every((p, i) => fieldOf(p, 'meds', 'from-device') === `device ${i}`) && mine.every((p, i) => fieldOf(p, 'conditions', 'from-owner') === `owner ${i}`),
      15_000,
    );
    expect(sockets.upgrades - before).toBe(1);
    // Closing one profile leaves the socket to the others (it closes with the last one).
    await mine[0]!.close();
    setField(owned[1]!, 'conditions', 'after-close', 'still here');
    await eventually(() => fieldOf(mine[1]!, 'conditions', 'after-close') === 'still here', 10_000);
    expect(sockets.upgrades - before).toBe(1);
  });

  it('a forged update on one profile is refused for that profile only; clientID binding is per document', async () => {
    const { relay, sockets, create, open } = await setup();
    const [ownerA, ownerB] = [await create(), await create()];
    const before = sockets.upgrades;
    const [a, b] = [await open(ownerA), await open(ownerB)];
    // The owner's envelope clientID in A is bound to the owner in A.
    const ownersClient = engineOf(ownerA).envelopeDoc.clientID;
    // In B nobody used that number: the device may take it there (binding is per document).
    engineOf(b).envelopeDoc.clientID = ownersClient;
    setField(b, 'meds', 'on-borrowed-number', 'accepted in B');
    await b.flush(10_000);
    await eventually(() => fieldOf(ownerB, 'meds', 'on-borrowed-number') === 'accepted in B', 10_000);
    expect(relay.store.clientOwners(ownerB.name).some(([c]) => c === ownersClient)).toBe(true);
    // In A the same number is the owner's: the device's record on it is a forgery there.
    engineOf(a).envelopeDoc.clientID = ownersClient;
    setField(a, 'meds', 'forged', 'refused in A');
    expect(await engineOf(a).connection!.refusal.when((r) => r !== null, 10_000)).toBe('ENVELOPE_CLIENT_NOT_OWNED');
    // B on the same socket is untouched: it keeps syncing both ways, and no socket was replaced.
    expect(engineOf(b).connection!.refusal.value).toBeNull();
    setField(ownerB, 'conditions', 'after-refusal', 'owner');
    setField(b, 'conditions', 'device-after-refusal', 'device');
    await eventually(() => fieldOf(b, 'conditions', 'after-refusal') === 'owner' && fieldOf(ownerB, 'conditions', 'device-after-refusal') === 'device', 10_000);
    expect(sockets.upgrades - before).toBe(1);
    expect(b.status.value.connection).toBe('connected');
    // The relay kept nothing of the forgery.
    expect(fieldOf(ownerA, 'meds', 'forged')).toBeUndefined();
    expect(relay.store.clientOwners(ownerA.name).filter(([c]) => c === ownersClient).length).toBe(1);
  });

  it('a removed member is refused on one profile (terminal) while its other profile keeps syncing on the same socket', async () => {
    const { sockets, create, open, device } = await setup();
    const [ownerA, ownerB] = [await create(), await create()];
    const before = sockets.upgrades;
    const [a, b] = [await open(ownerA), await open(ownerB)];
    await ownerA.removeMember(device.publicKey);
    expect(await engineOf(a).connection!.refusal.when((r) => r !== null, 10_000)).toBe('TOKEN_NOT_MEMBER');
    setField(ownerB, 'conditions', 'after-removal', 'still shared');
    await eventually(() => fieldOf(b, 'conditions', 'after-removal') === 'still shared', 10_000);
    setField(b, 'meds', 'device-after-removal', 'sent');
    await eventually(() => fieldOf(ownerB, 'meds', 'device-after-removal') === 'sent', 10_000);
    expect(sockets.upgrades - before).toBe(1);
    expect(a.status.value.connection).toBe('offline');
  });

  it('a rate-limited profile (transient) authenticates again on the same socket; the other profile never stops', async () => {
    // Budgets are per document and member: the flood in A spends A's alone.
    const { sockets, create, open } = await setup({ budgets: { messagesPerSecond: 20, messageBurst: 20 } });
    const [ownerA, ownerB] = [await create(), await create()];
    const before = sockets.upgrades;
    const [a, b] = [await open(ownerA), await open(ownerB)];
    const seen: string[] = [];
    const stop = engineOf(a).connection!.connection.subscribe((c) => seen.push(c));
    cleanups.push(() => void stop());
    for (let i = 0; i < 60; i++) {
      setField(a, 'meds', `m-${i}`, i);
      await engineOf(a).sync.flush();
    }
    setField(b, 'conditions', 'during-flood', 'b');
    await eventually(() => fieldOf(ownerB, 'conditions', 'during-flood') === 'b', 10_000);
    // A was closed by the relay (not for good) and came back: everything arrives.
    await eventually(() => engineOf(ownerA).plainDoc.getMap('meds').size === 60, 20_000);
    expect(seen).toContain('connecting');
    expect(engineOf(a).connection!.refusal.value).toBeNull();
    expect(engineOf(b).connection!.refusal.value).toBeNull();
    expect(sockets.upgrades - before).toBe(1);
  });
});
