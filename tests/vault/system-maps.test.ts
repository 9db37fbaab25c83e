/**
 * The vault's own data (a person's profiles, device links, labels, names) is written only
 * through validated system maps: an invalid value is a typed error that writes nothing, and an
 * invalid value another replica wrote reads as absent (never cast into a LinkRecord).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { DEVICE_LABELS_MAP, DEVICE_LINKS_MAP, PROFILES_MAP } from '../../crdt-schemas/system.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { setField } from '../helpers/raw-edits.ts';

const profiles: Profile[] = [];
afterEach(async () => {
  for (const p of profiles.splice(0)) await p.close();
});

describe('system maps', () => {
  it('an invalid value is RECORD_INVALID and writes nothing; a valid one round-trips', async () => {
    const p = await Profile.create({ signer: generateSigningKeyPair() });
    profiles.push(p);
    const links = p.systemMap(DEVICE_LINKS_MAP);
    const before = engineOf(p).plainDoc.getMap('device-links').size;
    for (const bad of [{ expiresAt: -1, usedBy: null }, { expiresAt: 1, usedBy: 'not hex!' }, { expiresAt: 1 }, 'plain string']) {
      expect(() => links.set('l1', bad as never)).toThrowError(expect.objectContaining({ code: 'RECORD_INVALID' }));
    }
    expect(engineOf(p).plainDoc.getMap('device-links').size).toBe(before);
    links.set('l1', { expiresAt: 5, usedBy: null });
    expect(links.get('l1')).toEqual({ expiresAt: 5, usedBy: null });
    expect(() => p.systemMap(DEVICE_LABELS_MAP).set('d', '')).toThrowError(expect.objectContaining({ code: 'RECORD_INVALID' }));
    expect(() => p.systemMap(PROFILES_MAP).set('x', { name: 'Mum', relationship: 'mother', docId: 'bad id!', role: 'owner', epoch: 0, epochKeys: {} })).toThrowError(
      expect.objectContaining({ code: 'RECORD_INVALID' }),
    );
  });

  it('a value another replica wrote in the wrong shape reads as absent', async () => {
    const p = await Profile.create({ signer: generateSigningKeyPair() });
    profiles.push(p);
    setField(p, 'device-links', 'l2', { expiresAt: 'tomorrow', usedBy: 7 });
    setField(p, 'device-links', 'l3', { expiresAt: 9, usedBy: 'abcd' });
    const links = p.systemMap(DEVICE_LINKS_MAP);
    expect(links.get('l2')).toBeUndefined();
    expect(links.entries()).toEqual([['l3', { expiresAt: 9, usedBy: 'abcd' }]]);
  });
});
