/**
 * A restore trusts the archive no more than the relay (docs/decisions/0033): each envelope goes
 * through the gate's envelope check and the profile's receive pipeline. An honest envelope comes
 * back readable and equal; a record by a non-member, an altered record, another document's
 * envelope or bytes that are no envelope are BACKUP_REJECTED. Verified envelopes stored on the
 * device open again, offline.
 */
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, toBase64Url, utf8 } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP } from '../../src/lib/protocol/index.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { envelopeRecordCount, envelopeState, storeEnvelope, verifyBackupDoc } from '../../src/lib/vault/backup.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { forgeRecord } from '../helpers/forge.ts';

const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const allergy = (id: string, text: string) => ({ id, schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text } });

async function ownedProfile() {
  const mum = device();
  const p = await Profile.create({ ...mum, persistence: memoryPersistence() });
  p.records.put('allergies', allergy('penicillin', 'Penicillin'));
  p.note('visits').replace(0, 0, 'Cardiology follow-up.');
  await p.flush();
  return { p, mum, name: toBase64Url(p.access.docId) };
}

async function rejectionOf(work: Promise<unknown>): Promise<string> {
  try {
    const v = (await work) as { profile: Profile };
    await v.profile.close();
    return 'accepted';
  } catch (e) {
    // The code, and the check that refused (named in the message).
    if (e instanceof VaultError) return `${e.code} ${/\(([^)]*)\)/.exec(e.message)?.[1] ?? ''}`;
    throw e;
  }
}

/** An envelope state with one more raw entry under `key`, as a hostile archive maker could write. */
function withEntry(state: Uint8Array, key: string, bytes: Uint8Array): Uint8Array {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  doc.getMap<Uint8Array>(ENVELOPE_MAP).set(key, bytes);
  return Y.encodeStateAsUpdate(doc);
}

describe('restoring a backed-up envelope', () => {
  it('an honest envelope verifies, reads the same, and once stored opens again offline', async () => {
    const { p, mum, name } = await ownedProfile();
    const state = envelopeState(p);
    const v = await verifyBackupDoc(name, state, { access: p.access, ...mum });
    expect(v.records).toBe(envelopeRecordCount(state));
    expect(v.profile.records.get('allergies', 'penicillin')).toEqual(p.records.get('allergies', 'penicillin'));
    expect(v.profile.toJSON()).toEqual(p.toJSON());
    await v.profile.close();
    const persistence = memoryPersistence();
    await storeEnvelope(persistence, name, v.update);
    const reopened = await Profile.open({ ...mum, access: p.access, persistence, autoConnect: false });
    expect(reopened.toJSON()).toEqual(p.toJSON());
    expect(reopened.note('visits').text).toBe('Cardiology follow-up.');
    await reopened.close();
    await p.close();
  });

  it('a member record waiting for a missing predecessor stays waiting, as on receipt (not a refusal)', async () => {
    const { p, mum, name } = await ownedProfile();
    const key = p.access.epochKeys.get(p.access.epoch)!;
    const later = await forgeRecord({ signer: mum.signer, docId: p.access.docId, key, seq: 50, prev: new Uint8Array(32).fill(9), epoch: p.access.epoch, session: 3, edit: (d) => d.getMap('allergies').set('y', 'later') });
    const state = withEntry(envelopeState(p), later.key, later.bytes);
    const v = await verifyBackupDoc(name, state, { access: p.access, ...mum });
    expect(v.waiting).toBe(1);
    expect(v.profile.toJSON()).toEqual(p.toJSON());
    await v.profile.close();
    await p.close();
  });

  it('a record by a non-member, an altered record, another document or non-envelope bytes: BACKUP_REJECTED', async () => {
    const { p, mum, name } = await ownedProfile();
    const state = envelopeState(p);
    const key = p.access.epochKeys.get(p.access.epoch)!;
    const stranger = generateSigningKeyPair();
    const forged = await forgeRecord({ signer: stranger, docId: p.access.docId, key, seq: 1, epoch: p.access.epoch, edit: (d) => d.getMap('allergies').set('x', 'forged') });
    expect(await rejectionOf(verifyBackupDoc(name, withEntry(state, forged.key, forged.bytes), { access: p.access, ...mum }))).toBe('BACKUP_REJECTED RECORD_NOT_MEMBER');

    // One record's ciphertext altered: same key in the map, different bytes.
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    const map = doc.getMap<Uint8Array>(ENVELOPE_MAP);
    const [victimKey, victim] = [...map.entries()].at(-1)!;
    const altered = victim.slice();
    altered[altered.length - 1]! ^= 1;
    const fresh = new Y.Doc();
    for (const [k, v] of map.entries()) fresh.getMap<Uint8Array>(ENVELOPE_MAP).set(k, k === victimKey ? altered : v);
    expect(await rejectionOf(verifyBackupDoc(name, Y.encodeStateAsUpdate(fresh), { access: p.access, ...mum }))).toBe('BACKUP_REJECTED RECORD_BAD_SIGNATURE');

    const other = await ownedProfile();
    expect(await rejectionOf(verifyBackupDoc(name, envelopeState(other.p), { access: p.access, ...mum }))).toBe('BACKUP_REJECTED no genesis');
    expect(await rejectionOf(verifyBackupDoc(name, utf8('not a yjs update at all'), { access: p.access, ...mum }))).toBe('BACKUP_REJECTED ENVELOPE_BAD_UPDATE');
    expect(await rejectionOf(verifyBackupDoc(name, Y.encodeStateAsUpdate(new Y.Doc()), { access: p.access, ...mum }))).toBe('BACKUP_REJECTED no genesis');
    // The name must be the access's document.
    expect(await rejectionOf(verifyBackupDoc(toBase64Url(other.p.access.docId), state, { access: p.access, ...mum }))).toBe('BACKUP_REJECTED document id');
    await other.p.close();
    await p.close();
  });
});
