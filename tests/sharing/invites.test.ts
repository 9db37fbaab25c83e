/** Invites and live clinician sessions through the real relay. */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import { createWebCryptoEngine } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, openRecord, parseRecord, RecordType, Role, verifyRecord } from '../../src/lib/protocol/index.ts';
import { acceptInvitation, createInvitation, InviteError, startClinicianSession } from '../../src/lib/vault/invite.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import * as Y from 'yjs';

const cleanups = cleanupList();
const ORIGIN = 'https://vault.example';
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

async function setup() {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const owner = device();
  const a = await Profile.create({ ...owner, relayUrl: relay.url, minReconnectDelayMs: 50 });
  cleanups.push(() => a.close());
  a.setField('allergies', 'peanut', 'anaphylaxis');
  a.insertNote('history', 0, 'childhood asthma');
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
    s.setField('allergies', 'latex', 'mild');
    await s.flush();
    await eventually(() => a.getField('allergies', 'latex') === 'mild');
    expect(a.sync.index.membership.roleOf(sister.signer.publicKey, Date.now())).toBe(Role.editor);

    const thief = device();
    await expectInviteError(acceptInvitation(inv.link, { ...thief, relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 5000 }), 'INVITE_REFUSED');
    expect(a.sync.index.membership.roleOf(thief.signer.publicKey, Date.now())).toBeUndefined();
  });

  it('an expired invite and a forged invite are refused; a malformed link is a typed error', async () => {
    const { relay, a } = await setup();
    let clock = Date.now();
    const inv = await createInvitation(a, { origin: ORIGIN, role: Role.viewer, validForMs: 500, now: () => clock });
    await new Promise((r) => setTimeout(r, 700));
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
    expect(a.sync.currentEpoch).toBe(1); // rotated: the session starts a fresh epoch
    const dr = device();
    const c = await acceptInvitation(inv.link, { ...dr, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => c.close());
    await eventually(() => c.getField('allergies', 'peanut') === 'anaphylaxis'); // current state, via the snapshot
    expect([...c.heldKeys().keys()]).toEqual([1]); // no key to the older records
    a.setField('vitals', 'bp', '128/82'); // live
    await a.flush();
    await eventually(() => c.getField('vitals', 'bp') === '128/82');
    c.insertNote('visit', 0, 'Refill inhaler.');
    await c.flush();
    await eventually(() => a.readNote('visit') === 'Refill inhaler.');

    // The session ends: the relay drops the clinician, an owner device rotates.
    expect(await c.connection!.refusal.when((r) => r !== null, 10_000)).toBe('TOKEN_EXPIRED');
    expect(await a.endExpiredAccess()).toBe(1);
    await a.flush();
    expect(a.sync.currentEpoch).toBe(2);
    a.setField('vitals', 'bp', '140/90');
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
    await eventually(() => a.sync.auditEntries().size === 2);
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
    await eventually(() => d.sync.index.membership.members().size === 4 && g.sync.index.membership.members().size === 4);
    // Both owners act while cut off from each other.
    m.disconnect();
    d.disconnect();
    await m.removeMember(aunt.signer.publicKey);
    await d.addMember(entry(uncle, Role.editor));
    await d.sync.appendMembership({ kind: 'set', member: entry(aunt, Role.editor) }); // dad promotes the aunt mum removed
    await m.connect();
    await d.connect();
    await m.flush();
    await d.flush();
    const view = (p: Profile) =>
      JSON.stringify(
        [...p.sync.index.membership.members().values()].map((e) => [Buffer.from(e.publicKey).toString('hex'), e.role]).sort(),
      );
    await eventually(() => view(m) === view(d) && view(d) === view(g), 10_000, () => [view(m), view(d), view(g)].join('\n'));
    expect(m.sync.index.membership.roleOf(uncle.signer.publicKey, Date.now())).toBe(Role.editor);
    expect(m.sync.currentEpoch).toBe(g.sync.currentEpoch);
  });
});
