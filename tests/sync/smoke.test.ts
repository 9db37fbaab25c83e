import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { insertNote, setField } from '../helpers/raw-edits.ts';

describe('two devices through the relay', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('syncs a field and a note both ways', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const a = await Profile.create({ signer: alice, relayUrl: relay.url, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }], minReconnectDelayMs: 50 });
    cleanups.push(() => a.close());
    setField(a, 'allergies', 'penicillin', { severity: 'high' });
    await a.flush();
    const b = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => b.close());
    await b.status.when((s) => s.synced);
    await engineOf(b).sync.flush();
    expect(b.getField('allergies', 'penicillin')).toEqual({ severity: 'high' });
    insertNote(b, 'visit', 0, 'BP normal');
    await b.flush();
    await eventually(() => a.readNote('visit') === 'BP normal');
    expect(a.readNote('visit')).toBe('BP normal');
    expect(a.status.value.state).toBe('synced');
  });
});
