/**
 * The app never signs what it may not: every owner operation of the vault facade refuses a
 * viewer and an editor with a typed error (NOT_OWNER) before anything is sealed or inserted into
 * the envelope, and a read-only member's writes are refused locally (RECORD_READ_ONLY). An owner
 * succeeds. A refused owner operation through the relay leaves the member's stored copy intact.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateBoxKeyPair, generateSigningKeyPair, toHex, type BoxKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role, type RoleCode } from '../../src/lib/protocol/index.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { createInvitation, startClinicianSession } from '../../src/lib/vault/invite.ts';
import { removeMemberByKey, revokeDeviceByKey } from '../../src/lib/vault/people.ts';
import { createPerson, enrollDevice, revokeDevice, type Device } from '../../src/lib/vault/person.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { DEVICE_LABELS_MAP } from '../../crdt-schemas/system.ts';

const cleanups = cleanupList();
const ORIGIN = 'https://vault.example';
const PHI = 'CANARY-PEANUT';

interface Keys {
  signer: SigningKeyPair;
  box: BoxKeyPair;
}
const keys = (): Keys => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const entry = (k: Keys, role: RoleCode, expiresAt = 0) => ({ publicKey: k.signer.publicKey, boxKey: k.box.publicKey, role, expiresAt });
const allergy = (id: string, text: string) => ({ id, schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text } });

/** Copies every envelope record `from` holds into `to` (what the relay would do) and waits until applied. */
async function deliver(from: Profile, ...to: Profile[]): Promise<void> {
  for (const p of to) {
    Y.applyUpdate(engineOf(p).envelopeDoc, Y.encodeStateAsUpdate(engineOf(from).envelopeDoc));
    await engineOf(p).sync.flush();
  }
}

/**
 * In memory, no relay: an owner; an editor and a viewer (single-key members); a second editor
 * who is a person with a certified device (for device revocation); a clinician whose access
 * already ended (for the expiry sweep). Everyone holds everything the owner wrote.
 */
async function household() {
  const owner = keys();
  const editor = keys();
  const viewer = keys();
  const expired = keys();
  const gran = createPerson();
  const granPhone = await enrollDevice(gran.person, { label: 'phone' });
  const identity = gran.person.identity;
  const o = await Profile.create({
    ...owner,
    members: [
      entry(editor, Role.editor),
      entry(viewer, Role.viewer),
      entry(expired, Role.clinician, Date.now() - 60_000),
      { publicKey: identity.signing.publicKey, boxKey: identity.box.publicKey, role: Role.editor, expiresAt: 0 },
    ],
  });
  cleanups.push(() => o.close());
  o.records.put('allergies', allergy('a1', PHI));
  await o.flush();
  const access = { docId: o.access.docId, epoch: 0, epochKeys: o.access.epochKeys };
  // Gran's phone certifies itself in the document (a `device` op it signs).
  const g = await Profile.open({ signer: granPhone.signing, box: granPhone.box, access });
  cleanups.push(() => g.close());
  await deliver(o, g);
  await engineOf(g).sync.appendMembership({ kind: 'device', cert: granPhone.cert });
  await deliver(g, o);
  const open = async (k: Keys) => {
    const p = await Profile.open({ ...k, access });
    cleanups.push(() => p.close());
    await deliver(o, p);
    return p;
  };
  const e = await open(editor);
  const v = await open(viewer);
  expect(o.role).toBe(Role.owner);
  expect(e.role).toBe(Role.editor);
  expect(v.role).toBe(Role.viewer);
  expect(v.records.list('allergies')).toHaveLength(1);
  return { owner: o, editor: e, viewer: v, ownerKey: owner.signer.publicKey, editorKey: editor.signer.publicKey, granPhone, granDevice: g };
}

type Household = Awaited<ReturnType<typeof household>>;

/** Every owner operation of the facade, as a caller would invoke it. */
const OWNER_OPS: Array<[string, (p: Profile, h: Household) => Promise<unknown>]> = [
  ['createInvitation (viewer)', (p) => createInvitation(p, { origin: ORIGIN, role: Role.viewer })],
  ['createInvitation (editor)', (p) => createInvitation(p, { origin: ORIGIN, role: Role.editor })],
  ['createInvitation (owner)', (p) => createInvitation(p, { origin: ORIGIN, role: Role.owner })],
  ['createInvitation (clinician, no history: rotates)', (p) => createInvitation(p, { origin: ORIGIN, role: Role.clinician })],
  ['startClinicianSession', (p) => startClinicianSession(p, { origin: ORIGIN, minutes: 30 })],
  ['startClinicianSession (may edit)', (p) => startClinicianSession(p, { origin: ORIGIN, minutes: 30, canEdit: true })],
  ['endExpiredAccess (session end)', (p) => p.endExpiredAccess()],
  ['addMember', (p) => p.addMember(entry(keys(), Role.editor))],
  ['addMember (clinician: rotates)', (p) => p.addMember(entry(keys(), Role.clinician, Date.now() + 3_600_000))],
  ['removeMember', (p, h) => p.removeMember(h.editorKey)],
  ['removeMemberByKey', (p, h) => removeMemberByKey(p, toHex(h.editorKey))],
  ['addMember to change a role (set role)', (p, h) => p.addMember({ publicKey: h.editorKey, role: Role.owner, expiresAt: 0 })],
  ['rotateKey', (p) => p.rotateKey()],
  ["revokeDevice (another member's device)", (p, h) => revokeDevice(p, h.granPhone as Device)],
  ["revokeDeviceByKey (another member's device)", (p, h) => revokeDeviceByKey(p, toHex(h.granPhone.signing.publicKey))],
];

/** What a refused operation must leave untouched. */
function footprint(p: Profile) {
  return {
    envelope: Y.encodeStateAsUpdate(engineOf(p).envelopeDoc),
    head: engineOf(p).sync.ownHead.seq,
    keys: [...p.heldKeys().keys()],
    membership: engineOf(p).sync.membershipVersion.value,
  };
}

async function expectRefused(p: Profile, op: () => Promise<unknown>, code: string) {
  const before = footprint(p);
  let envelopeUpdates = 0;
  const count = () => void envelopeUpdates++;
  engineOf(p).envelopeDoc.on('update', count);
  try {
    const err = await op().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code).toBe(code);
    expect((err as Error).message).not.toContain(PHI);
    await engineOf(p).sync.flush();
  } finally {
    engineOf(p).envelopeDoc.off('update', count);
  }
  const after = footprint(p);
  // Byte for byte: nothing sealed, nothing inserted, nothing deleted.
  expect(Buffer.from(after.envelope).equals(Buffer.from(before.envelope))).toBe(true);
  expect(envelopeUpdates).toBe(0);
  // Nothing queued to send, no own record signed, no stray epoch key, no local membership op.
  expect(engineOf(p).sync.state.value.queued).toBe(0);
  expect(p.status.value.pending).toBe(0);
  expect(p.status.value.problems).toEqual([]);
  expect(after.head).toBe(before.head);
  expect(after.keys).toEqual(before.keys);
  expect(after.membership).toBe(before.membership);
}

describe('owner operations refuse non-owners before anything is signed', () => {
  for (const [name, op] of OWNER_OPS) {
    it(`${name}: a viewer and an editor get NOT_OWNER and the envelope is unchanged; an owner succeeds`, async () => {
      const h = await household();
      await expectRefused(h.viewer, () => op(h.viewer, h), 'NOT_OWNER');
      await expectRefused(h.editor, () => op(h.editor, h), 'NOT_OWNER');
      // They still read everything the owner wrote.
      expect(h.viewer.records.list('allergies').map((a) => a.id)).toEqual(['a1']);
      expect(h.editor.records.list('allergies').map((a) => a.id)).toEqual(['a1']);

      const before = Y.encodeStateAsUpdate(engineOf(h.owner).envelopeDoc);
      await expect(op(h.owner, h)).resolves.not.toBeInstanceOf(Error);
      await engineOf(h.owner).sync.flush();
      if (name.startsWith('endExpiredAccess')) {
        // The owner's own expiry sweep (vault/expiry-sweep.ts) may have ended the session first.
        const live = [...h.owner.membershipState().members.values()];
        expect(live.some((m) => m.expiresAt !== 0 && m.expiresAt <= Date.now())).toBe(false);
        expect(engineOf(h.owner).sync.currentEpoch).toBeGreaterThan(0);
      } else expect(Buffer.from(Y.encodeStateAsUpdate(engineOf(h.owner).envelopeDoc)).equals(Buffer.from(before))).toBe(false);
      expect(h.owner.status.value.problems).toEqual([]);
      // What the owner signed is accepted by the other members' own checks.
      await deliver(h.owner, h.viewer);
      expect(h.viewer.status.value.problems).toEqual([]);
    });
  }

  it('a member may still revoke a device of their own identity (not an owner operation)', async () => {
    const h = await household();
    const before = engineOf(h.granDevice).sync.ownHead.seq;
    await revokeDevice(h.granDevice, h.granPhone);
    expect(engineOf(h.granDevice).sync.ownHead.seq).toBe(before + 1);
    expect(h.granDevice.status.value.problems).toEqual([]);
  });
});

describe('a profile keeps an owner', () => {
  it('the only owner removing itself is refused before anything is sealed (RECORD_LAST_OWNER); it stays owner', async () => {
    const h = await household();
    const before = Y.encodeStateVector(engineOf(h.owner).envelopeDoc);
    await expect(h.owner.removeMember(h.ownerKey)).rejects.toMatchObject({ code: 'RECORD_LAST_OWNER' });
    await expect(removeMemberByKey(h.owner, toHex(h.ownerKey))).rejects.toMatchObject({ code: 'RECORD_LAST_OWNER' });
    expect(Y.encodeStateVector(engineOf(h.owner).envelopeDoc)).toEqual(before);
    expect(h.owner.role).toBe(Role.owner);
  });
});

describe('a read-only member cannot write', () => {
  it('record put/remove, notes and system maps throw RECORD_READ_ONLY with the envelope unchanged', async () => {
    const h = await household();
    const v = h.viewer;
    await expectRefused(v, async () => v.records.put('allergies', allergy('v1', 'Latex')), 'RECORD_READ_ONLY');
    await expectRefused(v, async () => v.records.remove('allergies', 'a1'), 'RECORD_READ_ONLY');
    await expectRefused(v, async () => v.note('history').replace(0, 0, 'viewer typing'), 'RECORD_READ_ONLY');
    await expectRefused(v, async () => v.systemMap(DEVICE_LABELS_MAP).set('d', 'Phone'), 'RECORD_READ_ONLY');
    // Typing into a note as a read-only member is refused the same way: nothing changes, nothing is sealed.
    const before = Y.encodeStateAsUpdate(engineOf(v).envelopeDoc);
    expect(() => v.note('history').setText('viewer typing')).toThrowError(expect.objectContaining({ code: 'RECORD_READ_ONLY' }));
    await engineOf(v).sync.flush();
    expect(v.note('history').text).toBe('');
    expect(Buffer.from(Y.encodeStateAsUpdate(engineOf(v).envelopeDoc)).equals(Buffer.from(before))).toBe(true);
    expect(v.records.list('allergies').map((a) => a.id)).toEqual(['a1']);
    // An editor writes.
    h.editor.records.put('allergies', allergy('e1', 'Latex'));
    await engineOf(h.editor).sync.flush();
    expect(h.editor.status.value.problems).toEqual([]);
  });
});

describe('through the relay', () => {
  it("a viewer's refused clinician session leaves the relay and the viewer's stored copy intact across a reload", async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [owner, viewer] = [keys(), keys()];
    const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
    const o = await Profile.create({ ...owner, ...common, members: [entry(viewer, Role.viewer)] });
    cleanups.push(() => o.close());
    o.records.put('allergies', allergy('a1', PHI));
    o.records.put('demographics', { id: 'patient', schemaVersion: 1, resourceType: 'Patient', name: [{ text: 'Ana' }] });
    await o.flush();
    const access = { docId: o.access.docId, epoch: 0, epochKeys: o.access.epochKeys };
    const persistence = memoryPersistence();
    const v = await Profile.open({ ...viewer, ...common, access, persistence });
    await v.status.when((s) => s.synced && s.pending === 0);
    // Synced means the relay's records arrived; opening them finishes just after.
    await eventually(() => v.records.list('allergies').length === 1);
    const relayBefore = relay.store.dumpAll().map((u) => Buffer.from(u).toString('hex'));

    await expectRefused(v, () => startClinicianSession(v, { origin: ORIGIN, minutes: 30 }), 'NOT_OWNER');
    await expectRefused(v, () => createInvitation(v, { origin: ORIGIN, role: Role.viewer }), 'NOT_OWNER');
    expect(engineOf(v).connection!.refusal.value).toBeNull();
    expect(v.status.value.pending).toBe(0);
    await v.close();
    expect(relay.store.dumpAll().map((u) => Buffer.from(u).toString('hex'))).toEqual(relayBefore);

    // Reload from the device's stored copy, offline: every record is still there, no problems.
    const again = await Profile.open({ ...viewer, access, persistence, autoConnect: false });
    cleanups.push(() => again.close());
    await engineOf(again).sync.flush();
    expect(again.records.list('allergies').map((a) => a.id)).toEqual(['a1']);
    expect(again.records.list('demographics')).toHaveLength(1);
    expect(again.status.value.problems).toEqual([]);
  });
});
