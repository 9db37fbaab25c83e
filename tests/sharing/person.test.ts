/**
 * People, devices and the family vault through the real relay: identity and recovery code,
 * device certificates, the per-person vault (multi-device, recovery on a fresh device),
 * one-time device links, and revoking one lost device alone.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  createWebCryptoEngine,
  generateBoxKeyPair,
  generateSigningKeyPair,
  seededRandom,
  toBase64Url,
  toHex,
  type SymmetricKey,
} from '../../src/lib/crypto/index.ts';
import { identityFromSeed, Role, verifyDeviceCert } from '../../src/lib/protocol/index.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { createDeviceLink, joinWithLink, linkStatus, readDeviceLink } from '../../src/lib/vault/device-link.ts';
import { createPerson, enrollDevice, openAsDevice, restorePerson, revokeDevice, VaultError } from '../../src/lib/vault/person.ts';
import { PersonVault, vaultAccess } from '../../src/lib/vault/person-vault.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { forgeRecord, inject } from '../helpers/forge.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const engine = createWebCryptoEngine();
const cleanups = cleanupList();

async function relay() {
  const r = await testRelay();
  cleanups.push(() => r.destroy());
  return r;
}

/** A device directory with its own SQLite file, removed after the test. */
function deviceStore() {
  const dir = tempDir('fhv-device-');
  const store = sqlitePersistence(dir.path);
  cleanups.push(() => dir.remove(), () => store.close());
  return { dir, persistence: store.persistence };
}

function typedError(fn: () => unknown): VaultError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VaultError) return e;
    throw e;
  }
  throw new Error('expected a VaultError');
}

async function rejected(p: Promise<unknown>): Promise<VaultError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VaultError) return e;
    throw e;
  }
  throw new Error('expected a VaultError');
}

/** A person with a phone that created the vault, listing two family profiles with data. */
async function family(relayUrl: string) {
  const { person, recoveryCode } = createPerson({ random: seededRandom(9001) });
  const phone = await enrollDevice(person, { label: 'phone', random: seededRandom(1), engine });
  const vault = await PersonVault.open({ person, device: phone, relayUrl, persistence: deviceStore().persistence, create: true, minReconnectDelayMs: 50 });
  cleanups.push(() => vault.close());
  const profiles = [];
  for (const [name, relationship, condition] of [['Mia', 'daughter', 'asthma'], ['Grandpa Joe', 'father', 'hypertension']] as const) {
    const p = await Profile.create({ signer: person.identity.signing, box: person.identity.box, relayUrl, minReconnectDelayMs: 50, random: seededRandom(name.length) });
    cleanups.push(() => p.close());
    setField(p, 'conditions', condition, 'diagnosed 2021');
    await p.flush();
    await vault.addProfile({ name, relationship, access: p.access, role: 'owner' });
    profiles.push(p);
  }
  return { person, recoveryCode, phone, vault, profiles };
}

describe('person identity', () => {
  it('the recovery code re-derives the same identity; bad codes give typed errors', () => {
    const { person, recoveryCode } = createPerson({ random: seededRandom(42) });
    expect(recoveryCode).toMatch(/^([0-9A-Z]{4}-){13}[0-9A-Z]{3}$/);
    const restored = restorePerson(recoveryCode.toLowerCase().replaceAll('-', ' '));
    expect(toHex(restored.identity.signing.publicKey)).toBe(toHex(person.identity.signing.publicKey));
    expect(toHex(restored.identity.box.publicKey)).toBe(toHex(person.identity.box.publicKey));
    const other = createPerson({ random: seededRandom(43) });
    expect(toHex(other.person.identity.signing.publicKey)).not.toBe(toHex(person.identity.signing.publicKey));

    const flipped = recoveryCode.slice(0, 5) + (recoveryCode[5] === 'A' ? 'B' : 'A') + recoveryCode.slice(6);
    expect(typedError(() => restorePerson(flipped)).code).toBe('RECOVERY_CHECKSUM');
    expect(typedError(() => restorePerson(recoveryCode.slice(0, -2))).code).toBe('RECOVERY_MALFORMED');
    expect(typedError(() => restorePerson(recoveryCode.replace(/.$/, 'U'))).code).toBe('RECOVERY_MALFORMED');
    expect(typedError(() => restorePerson(flipped)).message).not.toContain(flipped.slice(0, 4));
  });

  it('each device has its own keys and a certificate signed by the identity', async () => {
    const { person } = createPerson({ random: seededRandom(7) });
    const a = await enrollDevice(person, { label: 'phone', random: seededRandom(1), engine });
    const b = await enrollDevice(person, { label: 'laptop', random: seededRandom(2), engine });
    expect(toHex(a.signing.publicKey)).not.toBe(toHex(b.signing.publicKey));
    expect(toHex(a.box.publicKey)).not.toBe(toHex(b.box.publicKey));
    expect(toHex(a.cert.identity)).toBe(toHex(person.identity.signing.publicKey));
    expect(toHex(a.cert.device)).toBe(toHex(a.signing.publicKey));
    expect(await verifyDeviceCert(a.cert, engine)).toBe(true);
    const stranger = identityFromSeed(new Uint8Array(32).fill(5));
    expect(await verifyDeviceCert({ ...a.cert, identity: stranger.signing.publicKey }, engine)).toBe(false);
  });
});

describe('family vault', () => {
  it('a second device of the same person sees the same list, and its additions reach the first', async () => {
    const r = await relay();
    const { person, phone, vault } = await family(r.url);
    expect(vault.listProfiles().map((e) => e.name)).toEqual(['Grandpa Joe', 'Mia']);
    const tablet = await enrollDevice(person, { label: 'tablet', random: seededRandom(3), engine });
    const second = await PersonVault.open({ person, device: tablet, relayUrl: r.url, persistence: deviceStore().persistence, minReconnectDelayMs: 50 });
    cleanups.push(() => second.close());
    expect(second.listProfiles()).toEqual(vault.listProfiles());
    // Both devices are certified in the vault and write under their own keys.
    const devices = engineOf(second.profile).sync.index.membership.state().devices;
    expect([...devices.keys()].sort()).toEqual([toHex(phone.signing.publicKey), toHex(tablet.signing.publicKey)].sort());
    const p = await Profile.create({ signer: person.identity.signing, box: person.identity.box, random: seededRandom(21) });
    cleanups.push(() => p.close());
    await second.addProfile({ name: 'Sam', relationship: 'partner', access: p.access, role: 'owner' });
    await eventually(() => vault.listProfiles().some((e) => e.name === 'Sam'));
    expect(vault.accessFor(p.access.docId).epochKeys.get(0)).toEqual(p.access.epochKeys.get(0));
    expect(vault.profile.status.value.problems).toEqual([]);
    expect(() => vault.accessFor(new Uint8Array(16))).toThrow(VaultError);
  });

  it('the vault id and key are re-derived from the seed alone', () => {
    const { person } = createPerson({ random: seededRandom(11) });
    const again = vaultAccess({ identity: identityFromSeed(person.identity.seed.slice()) });
    const first = vaultAccess(person);
    expect(toBase64Url(again.docId)).toBe(toBase64Url(first.docId));
    expect(again.epochKeys.get(0)).toEqual(first.epochKeys.get(0));
    expect(toBase64Url(vaultAccess(createPerson({ random: seededRandom(12) }).person).docId)).not.toBe(toBase64Url(first.docId));
  });
});

describe('recovery', () => {
  it('a fresh device with only the recovery code restores the list, the keys and the data', async () => {
    const r = await relay();
    const { recoveryCode, vault, profiles } = await family(r.url);
    await vault.close();
    const fresh = tempDir('fhv-device-');
    cleanups.push(() => fresh.remove());
    expect(readdirSync(fresh.path)).toEqual([]); // no local state at all
    const person = restorePerson(recoveryCode);
    const device = await enrollDevice(person, { label: 'new phone', random: seededRandom(77), engine });
    const store = sqlitePersistence(fresh.path);
    cleanups.push(() => store.close());
    const restored = await PersonVault.open({ person, device, relayUrl: r.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    cleanups.push(() => restored.close());
    expect(restored.listProfiles().map((e) => [e.name, e.relationship, e.role])).toEqual([
      ['Grandpa Joe', 'father', 'owner'],
      ['Mia', 'daughter', 'owner'],
    ]);
    const mia = restored.listProfiles().find((e) => e.name === 'Mia')!;
    const access = restored.accessFor(mia.docId);
    expect(access.epochKeys.get(0)).toEqual(profiles[0]!.access.epochKeys.get(0));
    const reopened = await Profile.open({ signer: person.identity.signing, box: person.identity.box, access, relayUrl: r.url, minReconnectDelayMs: 50 });
    cleanups.push(() => reopened.close());
    await eventually(() => reopened.getField('conditions', 'asthma') === 'diagnosed 2021');
  });

  it('a wrong code fails with a typed error and creates no files and no connection', async () => {
    const r = await relay();
    const { recoveryCode } = await family(r.url);
    const connectionsBefore = r.server.hocuspocus.getConnectionsCount();
    const fresh = tempDir('fhv-device-');
    cleanups.push(() => fresh.remove());
    const wrong = recoveryCode.replace(/^(....-)(.)/, (_, a: string, c: string) => a + (c === '7' ? '8' : '7'));
    const attempt = async () => {
      const person = restorePerson(wrong); // throws here: nothing below runs
      return PersonVault.open({ person, device: await enrollDevice(person, { label: 'x', engine }), relayUrl: r.url, persistence: sqlitePersistence(fresh.path).persistence });
    };
    expect((await rejected(attempt())).code).toBe('RECOVERY_CHECKSUM');
    expect(readdirSync(fresh.path)).toEqual([]);
    expect(r.server.hocuspocus.getConnectionsCount()).toBe(connectionsBefore);
  });
});

describe('device linking', () => {
  it('a laptop joins with a one-time link, sees the same list; reuse, expiry and tampering give typed errors', async () => {
    const r = await relay();
    const { vault, phone } = await family(r.url);
    const t0 = Date.now();
    const link = await createDeviceLink(vault, { origin: 'https://vault.example/', relayUrl: r.url, ttlMs: 600_000, random: seededRandom(5) });
    expect(link.url).toMatch(/^https:\/\/vault\.example\/#\/link\/[A-Za-z0-9_-]+$/);
    expect(link.url).not.toContain(toBase64Url(vault.person.identity.seed));
    expect(linkStatus(vault, link.linkId)).toEqual({ expiresAt: link.expiresAt, usedBy: null });

    const laptop = await joinWithLink(link.url, { label: 'laptop', persistence: deviceStore().persistence, random: seededRandom(6), engine, minReconnectDelayMs: 50 });
    cleanups.push(() => laptop.vault.close());
    expect(laptop.vault.listProfiles()).toEqual(vault.listProfiles());
    expect(toHex(laptop.person.identity.signing.publicKey)).toBe(toHex(vault.person.identity.signing.publicKey));
    expect(toHex(laptop.device.signing.publicKey)).not.toBe(toHex(phone.signing.publicKey));
    // The phone sees who used the link.
    await eventually(() => linkStatus(vault, link.linkId)?.usedBy === toHex(laptop.device.signing.publicKey));

    // A second use of the same link is refused.
    const thief = joinWithLink(link.url, { label: 'thief', persistence: deviceStore().persistence, random: seededRandom(22), engine, minReconnectDelayMs: 50 });
    expect((await rejected(thief)).code).toBe('LINK_USED');

    // After its expiry: refused before any storage or connection.
    const later = () => link.expiresAt + 1;
    const connections = r.server.hocuspocus.getConnectionsCount();
    const certified = engineOf(vault.profile).sync.index.membership.state().devices.size;
    expect(typedError(() => readDeviceLink(link.url, later())).code).toBe('LINK_EXPIRED');
    expect((await rejected(joinWithLink(link.url, { label: 'late', now: later, random: seededRandom(23), engine, minReconnectDelayMs: 50 }))).code).toBe('LINK_EXPIRED');
    expect(r.server.hocuspocus.getConnectionsCount()).toBe(connections);
    expect(engineOf(vault.profile).sync.index.membership.state().devices.size).toBe(certified);
    expect(link.expiresAt).toBeGreaterThanOrEqual(t0 + 600_000);

    // A damaged link is malformed, not a crash.
    const tail = link.url.at(-5) === 'A' ? 'B' : 'A';
    expect(typedError(() => readDeviceLink(link.url.slice(0, -5) + tail + link.url.slice(-4))).code).toBe('LINK_MALFORMED');
    expect(typedError(() => readDeviceLink('https://vault.example/#/other')).code).toBe('LINK_MALFORMED');
  });
});

describe('revoking a lost device alone', () => {
  it("after device B is revoked its writes are rejected, device A keeps working, and B gets no key for the new epoch", async () => {
    const r = await relay();
    const common = { relayUrl: r.url, minReconnectDelayMs: 50 };
    const alice = { signer: generateSigningKeyPair(seededRandom(100)), box: generateBoxKeyPair(seededRandom(101)) };
    const { person } = createPerson({ random: seededRandom(102) });
    const owner = await Profile.create({
      ...common,
      signer: alice.signer,
      box: alice.box,
      random: seededRandom(103),
      members: [{ publicKey: person.identity.signing.publicKey, boxKey: person.identity.box.publicKey, role: Role.editor, expiresAt: 0 }],
    });
    cleanups.push(() => owner.close());
    setField(owner, 'conditions', 'asthma', 'mild');
    await owner.flush();

    const devA = await enrollDevice(person, { label: 'phone', random: seededRandom(104), engine });
    const devB = await enrollDevice(person, { label: 'old tablet', random: seededRandom(105), engine });
    const a = await openAsDevice({ ...common, person, device: devA, access: owner.access });
    const b = await openAsDevice({ ...common, person, device: devB, access: owner.access });
    cleanups.push(() => a.close(), () => b.close());
    await eventually(() => a.getField('conditions', 'asthma') === 'mild' && b.getField('conditions', 'asthma') === 'mild');

    // Records written by either device are accepted by the owner.
    setField(a, 'meds', 'inhaler', 'from phone');
    setField(b, 'meds', 'spacer', 'from tablet');
    await a.flush();
    await b.flush();
    await eventually(() => owner.getField('meds', 'inhaler') === 'from phone' && owner.getField('meds', 'spacer') === 'from tablet', 10_000, () => JSON.stringify({ o: owner.status.value, a: a.status.value, b: b.status.value, ar: engineOf(a).connection!.refusal.value, br: engineOf(b).connection!.refusal.value, devs: [...engineOf(owner).sync.index.membership.state().devices.keys()] }));
    expect(engineOf(owner).sync.index.membership.roleOf(devB.signing.publicKey, Date.now())).toBe(Role.editor);

    const beforeRevocation = Y.encodeStateAsUpdate(engineOf(owner).envelopeDoc);
    // The phone revokes the tablet alone.
    await revokeDevice(a, devB);
    await eventually(() => engineOf(owner).sync.index.membership.roleOf(devB.signing.publicKey, Date.now()) === undefined);
    expect(engineOf(owner).sync.index.membership.roleOf(devA.signing.publicKey, Date.now())).toBe(Role.editor);
    await engineOf(b).connection!.refusal.when((x) => x !== null, 10_000);

    // B's new writes are rejected by other clients.
    const headB = engineOf(owner).sync.chainOf(toHex(devB.signing.publicKey));
    const forged = await forgeRecord({
      signer: devB.signing,
      docId: owner.access.docId,
      key: owner.heldKeys().get(0) as SymmetricKey,
      seq: headB.seq + 1,
      prev: headB.head,
      edit: (d) => d.getMap('conditions').set('asthma', 'cured (forged)'),
    });
    // Offline replicas of the owner's and A's view (injecting into a live envelope would make
    // that client forward the bad record, and the relay would close its connection).
    const state = Y.encodeStateAsUpdate(engineOf(owner).envelopeDoc);
    for (const [signer, box] of [[alice.signer, alice.box], [devA.signing, devA.box]] as const) {
      const target = await Profile.open({ signer, box, access: owner.access, engine });
      cleanups.push(() => target.close());
      Y.applyUpdate(engineOf(target).envelopeDoc, beforeRevocation);
      await engineOf(target).sync.flush();
      expect(target.getField('meds', 'spacer')).toBe('from tablet');
      Y.applyUpdate(engineOf(target).envelopeDoc, state);
      await engineOf(target).sync.flush();
      expect(target.status.value.problems).toEqual([]);
      inject(engineOf(target).envelopeDoc, forged.key, forged.bytes);
      await engineOf(target).sync.flush();
      expect(target.status.value.problems.filter((p) => p.key === forged.key).map((p) => p.code)).toEqual(['RECORD_NOT_MEMBER']);
      expect(target.getField('conditions', 'asthma')).toBe('mild');
    }

    // A keeps working.
    setField(a, 'meds', 'steroid', 'after revocation');
    await a.flush();
    await eventually(() => owner.getField('meds', 'steroid') === 'after revocation');

    // The owner rotates: A receives the new key by lockbox to its device box key, B nothing.
    const epoch = await owner.rotateKey();
    await owner.flush();
    expect(epoch).toBe(1);
    await eventually(() => a.heldKeys().has(1));
    expect(a.heldKeys().get(1)).toEqual(owner.heldKeys().get(1));
    expect(b.heldKeys().has(1)).toBe(false);
    setField(owner, 'conditions', 'new', 'epoch 1 data');
    await owner.flush();
    await eventually(() => a.getField('conditions', 'new') === 'epoch 1 data');
    expect(b.getField('conditions', 'new')).toBeUndefined();
    // B's edits from before the revocation live on in the owner's rotation snapshot.
    const late = await Profile.open({ signer: devA.signing, box: devA.box, access: { ...owner.access, epochKeys: owner.heldKeys() as Map<number, SymmetricKey> }, engine });
    cleanups.push(() => late.close());
    Y.applyUpdate(engineOf(late).envelopeDoc, Y.encodeStateAsUpdate(engineOf(owner).envelopeDoc));
    await engineOf(late).sync.flush();
    expect(late.getField('meds', 'spacer')).toBe('from tablet');
    expect(late.getField('conditions', 'new')).toBe('epoch 1 data');
  });
});
