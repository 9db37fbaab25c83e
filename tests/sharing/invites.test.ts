/** Invites and live clinician sessions through the real relay. */
import { describe, expect, it } from 'vitest';
import { concatBytes, generateBoxKeyPair, generateSigningKeyPair, seededRandom, signDetached, toHex, utf8, type SigningKeyPair, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import { createWebCryptoEngine } from '../../src/lib/crypto/index.ts';
import {
  certifyDevice,
  encodeMembershipExt,
  ENVELOPE_MAP,
  inviteKeysFromSecret,
  openRecord,
  parseRecord,
  recordKey,
  recordKeyOfId,
  RecordType,
  Role,
  sealRecord,
  verifyRecord,
  ZERO_HASH,
  type MemberEntry,
  type MembershipOp,
} from '../../src/lib/protocol/index.ts';
import { acceptInvitation, createInvitation, InviteError, parseInviteLink, startClinicianSession } from '../../src/lib/vault/invite.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { sendIfOpen, startWsProxy } from '../helpers/ws-proxy.ts';
import * as Y from 'yjs';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { insertNote, setField } from '../helpers/raw-edits.ts';

const cleanups = cleanupList();
const ORIGIN = 'https://vault.example';
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

async function setup(relayConfig: Parameters<typeof testRelay>[0] = {}) {
  const relay = await testRelay(relayConfig);
  cleanups.push(() => relay.destroy());
  const owner = device();
  const a = await Profile.create({ ...owner, relayUrl: relay.url, minReconnectDelayMs: 50 });
  cleanups.push(() => a.close());
  setField(a, 'allergies', 'peanut', 'anaphylaxis');
  insertNote(a, 'history', 0, 'childhood asthma');
  await a.flush();
  return { relay, a, owner };
}

async function expectInviteError(p: Promise<unknown>, code: string) {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InviteError);
  expect((err as InviteError).code).toBe(code);
  expect((err as Error).message).not.toMatch(/peanut|asthma/);
}

describe('invites', () => {
  it('a relative accepts once with its own keys; the link is refused afterwards', async () => {
    const { relay, a } = await setup();
    const inv = await createInvitation(a, { origin: ORIGIN, role: Role.editor });
    expect(inv.link).toMatch(/^https:\/\/vault\.example\/#\/join\/[\w-]{22}\.[\w-]{43}$/);
    const sister = device();
    const s = await acceptInvitation(inv.link, { ...sister, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => s.close());
    await eventually(() => s.getField('allergies', 'peanut') === 'anaphylaxis');
    expect(s.readNote('history')).toBe('childhood asthma'); // full member: history included
    setField(s, 'allergies', 'latex', 'mild');
    await s.flush();
    await eventually(() => a.getField('allergies', 'latex') === 'mild');
    expect(engineOf(a).sync.index.membership.roleOf(sister.signer.publicKey, Date.now())).toBe(Role.editor);

    const thief = device();
    await expectInviteError(acceptInvitation(inv.link, { ...thief, relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 5000 }), 'INVITE_REFUSED');
    expect(engineOf(a).sync.index.membership.roleOf(thief.signer.publicKey, Date.now())).toBeUndefined();
  });

  it('an expired invite and a forged invite are refused; a malformed link is a typed error', async () => {
    let skew = 0; // the relay's clock, ahead of real time by this much
    const { relay, a } = await setup({ now: () => Date.now() + skew });
    let clock = Date.now();
    const inv = await createInvitation(a, { origin: ORIGIN, role: Role.viewer, validForMs: 500, now: () => clock });
    skew = 700;
    clock = Date.now();
    await expectInviteError(acceptInvitation(inv.link, { ...device(), relayUrl: relay.url, timeoutMs: 5000 }), 'INVITE_REFUSED');
    const forged = inv.link.replace(/\.[\w-]{43}$/, '.' + 'A'.repeat(42) + 'E');
    await expectInviteError(acceptInvitation(forged, { ...device(), relayUrl: relay.url, timeoutMs: 5000 }), 'INVITE_REFUSED');
    await expectInviteError(acceptInvitation('https://vault.example/#/join/nope', { ...device(), relayUrl: relay.url }), 'INVITE_MALFORMED');
  });
});

describe('live clinician session', () => {
  it('the clinician joins from the link, sees live changes and no history, may add notes, and is cut off at the end', async () => {
    const { relay, a } = await setup();
    const base = Date.now();
    const sessionMs = 2500;
    const inv = await startClinicianSession(a, { origin: ORIGIN, minutes: 1, canEdit: true, now: () => base - 60_000 + sessionMs });
    expect(engineOf(a).sync.currentEpoch).toBe(1); // rotated: the session starts a fresh epoch
    const dr = device();
    const c = await acceptInvitation(inv.link, { ...dr, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => c.close());
    await eventually(() => c.getField('allergies', 'peanut') === 'anaphylaxis'); // current state, via the snapshot
    expect([...c.heldKeys().keys()]).toEqual([1]); // no key to the older records
    setField(a, 'vitals', 'bp', '128/82'); // live
    await a.flush();
    await eventually(() => c.getField('vitals', 'bp') === '128/82');
    insertNote(c, 'visit', 0, 'Refill inhaler.');
    await c.flush();
    await eventually(() => a.readNote('visit') === 'Refill inhaler.');

    // The session ends: the relay drops the clinician, the owner's device sweeps it (on its own,
    // vault/expiry-sweep.ts, or when asked; never twice) and rotates once.
    expect(await engineOf(c).connection!.refusal.when((r) => r !== null, 10_000)).toBe('TOKEN_EXPIRED');
    await a.endExpiredAccess();
    await a.flush();
    await eventually(() => engineOf(a).sync.currentEpoch === 2);
    expect(await a.endExpiredAccess()).toBe(0);
    expect(engineOf(a).sync.currentEpoch).toBe(2);
    setField(a, 'vitals', 'bp', '140/90');
    await a.flush();
    // Every key the clinician held fails on everything sealed after the session.
    const engine = createWebCryptoEngine();
    let checked = 0;
    for (const state of relay.store.dumpAll()) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, state);
      for (const bytes of doc.getMap<Uint8Array>(ENVELOPE_MAP).values()) {
        const r = parseRecord(bytes);
        if (!r.ok || r.value.header.epoch < 2 || r.value.header.type !== RecordType.update && r.value.header.type !== RecordType.snapshot) continue;
        const v = await verifyRecord(r.value, engine);
        if (!v.ok) continue;
        for (const key of c.heldKeys().values()) expect(openRecord(v.value, key as SymmetricKey).ok).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(c.getField('vitals', 'bp')).toBe('128/82');

    // The owner's audit trail shows the whole session, every device chain verified.
    await eventually(() => engineOf(a).sync.auditEntries().size === 2);
    const trail = await a.auditTrail();
    expect(trail.chains.every((ch) => ch.ok)).toBe(true);
    expect(trail.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['session-start', 'join', 'clinician-view', 'session-end']));
    const joined = trail.events.find((e) => e.kind === 'join')!;
    expect(joined.actor).toBe(Buffer.from(dr.signer.publicKey).toString('hex'));
  });
});

describe('concurrent owners', () => {
  it('two owners who revoke and add at the same time end with the same membership everywhere', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [mum, dad, gran, aunt, uncle] = [device(), device(), device(), device(), device()];
    const entry = (d: ReturnType<typeof device>, role: (typeof Role)[keyof typeof Role]) => ({ publicKey: d.signer.publicKey, boxKey: d.box.publicKey, role, expiresAt: 0 });
    const m = await Profile.create({ ...mum, relayUrl: relay.url, minReconnectDelayMs: 50, members: [entry(dad, Role.owner), entry(gran, Role.editor), entry(aunt, Role.viewer)] });
    cleanups.push(() => m.close());
    await m.flush();
    const d = await Profile.open({ ...dad, access: m.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    const g = await Profile.open({ ...gran, access: m.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => d.close(), () => g.close());
    await d.status.when((s) => s.synced);
    await g.status.when((s) => s.synced);
    await eventually(() => engineOf(d).sync.index.membership.members().size === 4 && engineOf(g).sync.index.membership.members().size === 4);
    // Both owners act while cut off from each other.
    m.disconnect();
    d.disconnect();
    await m.removeMember(aunt.signer.publicKey);
    await d.addMember(entry(uncle, Role.editor));
    await engineOf(d).sync.appendMembership({ kind: 'set', member: entry(aunt, Role.editor) }); // dad promotes the aunt mum removed
    await m.connect();
    await d.connect();
    await m.flush();
    await d.flush();
    const view = (p: Profile) =>
      JSON.stringify(
        [...engineOf(p).sync.index.membership.members().values()].map((e) => [Buffer.from(e.publicKey).toString('hex'), e.role]).sort(),
      );
    await eventually(() => view(m) === view(d) && view(d) === view(g), 10_000, () => [view(m), view(d), view(g)].join('\n'));
    expect(engineOf(m).sync.index.membership.roleOf(uncle.signer.publicKey, Date.now())).toBe(Role.editor);
    expect(engineOf(m).sync.currentEpoch).toBe(engineOf(g).sync.currentEpoch);
  });
});

// ---- an accept binds its holder only ------------------------------------------------------

const engine = createWebCryptoEngine();

/** The accept proof as docs/protocol.md §6.1 specifies it (built from the spec, not the code). */
function proofOver(docId: Uint8Array, inviteKey: Uint8Array, m: MemberEntry, by: SigningKeyPair): Promise<Uint8Array> {
  const tail = new Uint8Array(7);
  tail[0] = m.role;
  new DataView(tail.buffer).setUint16(1, Math.floor(m.expiresAt / 2 ** 32));
  new DataView(tail.buffer).setUint32(3, m.expiresAt >>> 0);
  const message = concatBytes(utf8('fhv/invite-accept/v1'), docId, inviteKey, m.publicKey, m.boxKey ?? new Uint8Array(32), tail);
  return signDetached(engine, message, by.secretKey);
}

/** A hostile invitee's client: the invitee half of acceptInvitation, writing whatever accept it likes. */
async function asInviteHolder(link: string, relayUrl: string) {
  const { docId, secret } = parseInviteLink(link);
  const keys = inviteKeysFromSecret(secret);
  const p = await Profile.open({ relayUrl, minReconnectDelayMs: 50, signer: keys.signing, box: keys.box, access: { docId, epoch: 0, epochKeys: new Map() } });
  cleanups.push(() => p.close());
  await p.status.when((s) => s.synced, 10_000);
  await engineOf(p).sync.flush();
  const granted = engineOf(p).sync.index.membership.invite(keys.signing.publicKey)!;
  expect(granted).toBeDefined();
  return {
    docId,
    inviteKey: keys.signing.publicKey,
    granted,
    /** Writes `op` and returns the relay's refusal code (null if it took it). */
    async send(op: MembershipOp): Promise<string | null> {
      await engineOf(p).sync.appendMembership(op);
      await engineOf(p).sync.flush();
      const c = engineOf(p).connection!;
      await Promise.race([c.refusal.when((r) => r !== null, 10_000), p.status.when((s) => s.pending === 0 && s.synced, 10_000)]);
      return c.refusal.value;
    },
  };
}

/** The relay must not have closed this profile's connection, and must still take its writes. */
async function expectStillWriting(p: Profile, field: string) {
  // No wait: the relay drops demoted members as it takes a membership change, before any later message, so the write below is the barrier.
  expect(engineOf(p).connection!.refusal.value).toBeNull();
  setField(p, 'vitals', field, 'ok');
  await p.flush(5000);
  expect(p.status.value.pending).toBe(0);
  expect(engineOf(p).connection!.refusal.value).toBeNull();
}

describe('an accept binds its holder only', () => {
  it("an accept naming the owner's key is refused: she stays owner and connected", async () => {
    const { relay, a, owner } = await setup();
    const inv = await createInvitation(a, { origin: ORIGIN, role: Role.viewer });
    const holder = await asInviteHolder(inv.link, relay.url);
    const m: MemberEntry = { publicKey: owner.signer.publicKey, boxKey: generateBoxKeyPair().publicKey, role: holder.granted.role, expiresAt: holder.granted.memberExpiresAt };
    // The holder cannot sign for her key: it signs the proof itself.
    const refusal = await holder.send({ kind: 'accept', member: m, proof: await proofOver(holder.docId, holder.inviteKey, m, generateSigningKeyPair()) } as MembershipOp);
    expect(refusal).toBe('INVITE_KEY_TAKEN');
    expect(engineOf(a).sync.index.membership.roleOf(owner.signer.publicKey, Date.now())).toBe(Role.owner);
    await expectStillWriting(a, 'after-attack');
    // A second device of the owner, opened now from the relay's copy, sees her as owner.
    const again = await Profile.open({ ...owner, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => again.close());
    await again.status.when((s) => s.synced, 10_000);
    await eventually(() => again.getField('vitals', 'after-attack') === 'ok');
    expect(engineOf(again).sync.index.membership.roleOf(owner.signer.publicKey, Date.now())).toBe(Role.owner);
  });

  it('an accept naming an existing member (same role too) or a pending invite key is refused', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [mum, gran] = [device(), device()];
    const a = await Profile.create({ ...mum, relayUrl: relay.url, minReconnectDelayMs: 50, members: [{ publicKey: gran.signer.publicKey, boxKey: gran.box.publicKey, role: Role.viewer, expiresAt: 0 }] });
    cleanups.push(() => a.close());
    await a.flush();
    const inv = await createInvitation(a, { origin: ORIGIN, role: Role.viewer });
    const other = await createInvitation(a, { origin: ORIGIN, role: Role.editor });
    const otherKey = inviteKeysFromSecret(parseInviteLink(other.link).secret).signing;
    for (const target of [gran.signer, otherKey]) {
      const holder = await asInviteHolder(inv.link, relay.url);
      const m: MemberEntry = { publicKey: target.publicKey, boxKey: generateBoxKeyPair().publicKey, role: Role.viewer, expiresAt: 0 };
      // Even with a valid proof by the named key.
      expect(await holder.send({ kind: 'accept', member: m, proof: await proofOver(holder.docId, holder.inviteKey, m, target) } as MembershipOp)).toBe('INVITE_KEY_TAKEN');
    }
    expect(engineOf(a).sync.index.membership.roleOf(gran.signer.publicKey, Date.now())).toBe(Role.viewer);
    // The link still works for its holder's own key.
    const sister = device();
    const s = await acceptInvitation(inv.link, { ...sister, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => s.close());
    expect(s.role).toBe(Role.viewer);
  });

  it('an accept without a valid proof by the key it binds is refused by the relay', async () => {
    const { relay, a } = await setup();
    const inv = await createInvitation(a, { origin: ORIGIN, role: Role.editor });
    const holder = await asInviteHolder(inv.link, relay.url);
    const victim = generateSigningKeyPair();
    const m: MemberEntry = { publicKey: victim.publicKey, boxKey: generateBoxKeyPair().publicKey, role: holder.granted.role, expiresAt: holder.granted.memberExpiresAt };
    expect(await holder.send({ kind: 'accept', member: m, proof: await proofOver(holder.docId, holder.inviteKey, m, generateSigningKeyPair()) } as MembershipOp)).toBe('INVITE_BAD_PROOF');
    expect(engineOf(a).sync.index.membership.roleOf(victim.publicKey, Date.now())).toBeUndefined();
  });

  it('of two concurrent accepts of one link exactly one wins; the other is told INVITE_USED at once', async () => {
    const { relay, a } = await setup();
    const inv = await createInvitation(a, { origin: ORIGIN, role: Role.editor });
    const [one, two] = [device(), device()];
    // Both accepts reach the relay together: the proxy holds each until it has both.
    const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
    const keys = [hex(one.signer.publicKey), hex(two.signer.publicKey)];
    const held = new Map<string, Array<() => void>>();
    let released = 0;
    const proxy = await startWsProxy({
      target: relay.url,
      pipe: (to, direction) => (frame) => {
        const k = direction === 'up' && released === 0 ? keys.find((key) => Buffer.from(frame).toString('hex').includes(key)) : undefined;
        if (!k) return sendIfOpen(to, frame);
        held.set(k, [...(held.get(k) ?? []), () => sendIfOpen(to, frame)]);
        if (held.size < 2) return;
        released = Date.now();
        for (const sends of held.values()) for (const send of sends) send();
      },
    });
    cleanups.push(() => proxy.close());
    const outcomes = await Promise.allSettled(
      [one, two].map(async (d) => {
        try {
          return await acceptInvitation(inv.link, { ...d, relayUrl: proxy.url, minReconnectDelayMs: 50, timeoutMs: 15_000 });
        } catch (e) {
          (e as { at?: number }).at = Date.now();
          throw e;
        }
      }),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(released).toBeGreaterThan(0);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    cleanups.push(() => (won[0] as PromiseFulfilledResult<Profile>).value.close());
    const err = (lost[0] as PromiseRejectedResult).reason as InviteError & { at: number };
    expect(err).toBeInstanceOf(InviteError);
    expect(err.reason).toBe('INVITE_USED');
    expect(err.at - released).toBeLessThan(3000); // promptly, not after the 15 s timeout
    const winner = outcomes[0]!.status === 'fulfilled' ? one : two;
    const loser = winner === one ? two : one;
    await eventually(() => engineOf(a).sync.index.membership.roleOf(winner.signer.publicKey, Date.now()) === Role.editor);
    expect(engineOf(a).sync.index.membership.roleOf(loser.signer.publicKey, Date.now())).toBeUndefined();
  });

  it('a device certificate for a non-member throwaway key is refused by the relay and not kept', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [mum, dad] = [device(), device()];
    const a = await Profile.create({ ...mum, relayUrl: relay.url, minReconnectDelayMs: 50, members: [{ publicKey: dad.signer.publicKey, boxKey: dad.box.publicKey, role: Role.editor, expiresAt: 0 }] });
    cleanups.push(() => a.close());
    await a.flush();
    const d = await Profile.open({ ...dad, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => d.close());
    await d.status.when((s) => s.synced, 10_000);
    // A member's connection carries a certificate signed by and for throwaway keys.
    const identity = generateSigningKeyPair();
    const throwaway = generateSigningKeyPair();
    const cert = await certifyDevice({ identity, device: throwaway.publicKey, deviceBox: generateBoxKeyPair().publicKey, issuedAt: Date.now(), engine });
    const sealed = await sealRecord({
      header: { type: RecordType.membership, docId: a.access.docId, epoch: 0, author: identity.publicKey, seq: 1, prev: ZERO_HASH, ext: encodeMembershipExt({ kind: 'device', cert, clock: engineOf(d).sync.index.membership.nextClock }) },
      payload: new Uint8Array(0),
      secretKey: identity.secretKey,
      engine,
      random: seededRandom(1),
    });
    const parsed = parseRecord(sealed.bytes);
    if (!parsed.ok) throw new Error(parsed.code);
    engineOf(d).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP).set(recordKey(parsed.value), sealed.bytes);
    expect(await engineOf(d).connection!.refusal.when((r) => r !== null, 10_000)).toBe('RECORD_NOT_MEMBER');
    await expectStillWriting(a, 'after-cert');
    expect(engineOf(a).sync.index.membership.state().devices.has(toHex(throwaway.publicKey))).toBe(false);
    // Stored after the refusal: the owner's last record (written after it) is in the store.
    const last = recordKeyOfId(engineOf(a).sync.ownHead.head);
    await eventually(() => relay.store.dumpAll().some((state) => { const doc = new Y.Doc(); Y.applyUpdate(doc, state); return doc.getMap(ENVELOPE_MAP).has(last); }), 5_000);
    for (const state of relay.store.dumpAll()) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, state);
      expect(doc.getMap(ENVELOPE_MAP).has(recordKey(parsed.value))).toBe(false);
    }
  });
});
