/**
 * Pins decision 0058 against the installed Hocuspocus provider: a record the relay forwards has
 * its signature check started as the message arrives (before the wire doc holds it), is checked
 * by the engine once, and is opened while that check runs; the inbox then uses that opening.
 * If the provider stopped telling us about a message before applying it, or the plumbing from
 * the relay connection to the inbox broke, this fails (the edit would still arrive, later).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebCryptoEngine, generateSigningKeyPair, type Ed25519Engine } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, Role } from '../../src/lib/protocol/index.ts';
import { OpenedAhead } from '../../src/lib/sync/opened-ahead.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { setField } from '../helpers/raw-edits.ts';

describe('a forwarded record is checked and opened as it arrives', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('verify starts before the wire integrates the message, once per record, and the inbox uses the opening done meanwhile', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const a = await Profile.create({ signer: alice, relayUrl: relay.url, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }], minReconnectDelayMs: 50 });
    cleanups.push(() => a.close());
    await a.flush();
    const events: string[] = [];
    const inner = createWebCryptoEngine();
    const engine: Ed25519Engine = {
      name: inner.name,
      sign: (m, k) => inner.sign(m, k),
      verify(m, s, p) {
        events.push('verify');
        return inner.verify(m, s, p);
      },
    };
    const b = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50, engine });
    cleanups.push(() => b.close());
    await b.status.when((s) => s.synced);
    await engineOf(b).sync.flush();
    // A map observer runs while the wire's transaction closes, before any 'update' handler.
    engineOf(b).connection!.wire.getMap(ENVELOPE_MAP).observe(() => events.push('wire'));
    const take = vi.spyOn(OpenedAhead.prototype, 'take');
    cleanups.push(() => take.mockRestore());
    events.length = 0;

    setField(a, 'allergies', 'latex', 'severe');
    await a.flush();
    await eventually(() => b.getField('allergies', 'latex') === 'severe');
    // One record forwarded: its one engine check started before the wire held it.
    expect(events).toEqual(['verify', 'wire']);
    // The inbox took the opening made while the check ran (not undefined: not opened afresh).
    expect(take.mock.results.some((r) => r.type === 'return' && r.value?.ok === true)).toBe(true);
  });
});
