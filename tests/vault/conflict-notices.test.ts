/**
 * Same-field concurrent edits between two real profiles over a relay (decision 0041): both
 * people get a notice with the value lost, and restoring it is an ordinary edit everyone sees.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const allergy = (text: string, extra: Record<string, unknown> = {}) => ({
  id: 'pen',
  schemaVersion: 1,
  resourceType: 'AllergyIntolerance',
  code: { text },
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
  ...extra,
});

async function pair() {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const [mum, son] = [device(), device()];
  const a = await Profile.create({ ...mum, relayUrl: relay.url, minReconnectDelayMs: 50, members: [{ publicKey: son.signer.publicKey, boxKey: son.box.publicKey, role: Role.editor, expiresAt: 0 }] });
  cleanups.push(() => a.close());
  const b = await Profile.open({ ...son, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
  cleanups.push(() => b.close());
  a.records.put('allergies', allergy('Penicillin'));
  await a.flush();
  await eventually(() => b.records.get('allergies', 'pen') !== undefined);
  return { a, b, mum, son };
}

const textOf = (p: Profile) => (p.records.get('allergies', 'pen') as { code: { text: string } } | undefined)?.code.text;

describe('conflict notices between two profiles', () => {
  for (const offline of ['a', 'b'] as const) {
    it(`both people see the lost value, and restoring it reaches both (${offline} edits offline)`, async () => {
      const { a, b, mum, son } = await pair();
      const away = offline === 'a' ? a : b;
      away.disconnect();
      a.records.put('allergies', allergy('Penicillin G'));
      b.records.put('allergies', allergy('Amoxicillin'));
      await (offline === 'a' ? b : a).flush();
      await away.connect();
      await a.flush();
      await b.flush();
      await eventually(() => textOf(a) === textOf(b) && a.conflicts.notices.value.length > 0 && b.conflicts.notices.value.length > 0);
      const kept = textOf(a)!;
      const lostBy = kept === 'Amoxicillin' ? a : b;
      const lostText = kept === 'Amoxicillin' ? 'Penicillin G' : 'Amoxicillin';
      const winner = lostBy === a ? b : a;
      const [mine] = lostBy.conflicts.notices.value;
      const [theirs] = winner.conflicts.notices.value;
      expect(mine).toMatchObject({ section: 'allergies', record: 'pen', field: 'code', lost: 'mine', lostValue: { text: lostText }, keptValue: { text: kept } });
      expect(theirs).toMatchObject({ section: 'allergies', record: 'pen', field: 'code', lost: 'theirs', lostValue: { text: lostText }, keptValue: { text: kept } });
      // Each names the other writer by signing key (history and the notice name the same person).
      expect(mine!.other).toBe(toHex((lostBy === a ? son : mum).signer.publicKey));
      expect(theirs!.other).toBe(toHex((lostBy === a ? mum : son).signer.publicKey));
      // The winner restores the other person's value: an ordinary edit, no new notice anywhere.
      winner.conflicts.restore(theirs!.id);
      expect(winner.conflicts.notices.value).toEqual([]);
      await winner.flush();
      await eventually(() => textOf(lostBy) === lostText);
      expect(textOf(winner)).toBe(lostText);
      expect(winner.records.history('allergies', 'pen').at(-1)).toMatchObject({ action: 'edit', author: toHex((winner === a ? mum : son).signer.publicKey) });
      expect(lostBy.conflicts.notices.value.map((n) => n.id)).toEqual([mine!.id]);
      lostBy.conflicts.dismiss(mine!.id);
      expect(lostBy.conflicts.notices.value).toEqual([]);
    });
  }

  it('sequential edits of one field, and concurrent edits of different fields, raise nothing', async () => {
    const { a, b } = await pair();
    b.records.put('allergies', allergy('Penicillin V'));
    await b.flush();
    await eventually(() => textOf(a) === 'Penicillin V');
    b.disconnect();
    a.records.put('allergies', allergy('Penicillin V', { criticality: 'high' }));
    b.records.put('allergies', allergy('Penicillin V', { category: ['medication'] }));
    await a.flush();
    await b.connect();
    await b.flush();
    await eventually(() => {
      const ra = a.records.get('allergies', 'pen') as Record<string, unknown> | undefined;
      return ra?.criticality === 'high' && Array.isArray(ra.category);
    });
    expect([...a.conflicts.notices.value, ...b.conflicts.notices.value]).toEqual([]);
  });
});
