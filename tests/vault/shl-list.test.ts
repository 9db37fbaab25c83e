/**
 * The profile's SMART Health Link list counts only owners' word (decision 0031, amended
 * 2026-12-02; threat model claim 70). Through the real relay, an editor and a viewer forge, in a
 * seeded order: revocation marks and past expiries in the map (through the validating facade
 * and as raw Yjs values), deleted entries, invented links in the map and in their own audit
 * records. Every device's list (the forgers' own included) keeps the owner's link active with the
 * owner's expiry and lists nothing invented; an owner's revocation then counts, on every device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, generateBoxKeyPair, generateSigningKeyPair, toBase64Url } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { healthLinks, revokeLink, shareLink } from '../../src/lib/vault/shl.ts';
import { HEALTH_LINKS_MAP } from '../../crdt-schemas/system.ts';
import { eventually } from '../helpers/eventually.ts';
import { createPrng, testSeed, type Prng } from '../helpers/prng.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

const FILE = 'tests/vault/shl-list.test.ts';
const DAY = 86_400_000;

type Forgery = (p: Profile, id: string, prng: Prng) => Promise<void> | void;

const rawSet = (p: Profile, id: string, value: unknown) => {
  const doc = engineOf(p).plainDoc;
  doc.transact(() => doc.getMap<unknown>(HEALTH_LINKS_MAP.root).set(id, value));
};

/** What an editor or a viewer may try. Map writes from a viewer never leave its device (read-only); audit records do. */
const FORGERIES: Record<string, Forgery> = {
  'map: revoked mark (facade)': (p, id) => {
    const listed = p.systemMap(HEALTH_LINKS_MAP).get(id);
    p.systemMap(HEALTH_LINKS_MAP).set(id, { label: listed?.label ?? 'x', createdAt: 1, expiresAt: 0, passcode: false, revokedAt: 5 });
  },
  'map: expiry in the past (raw)': (p, id) => rawSet(p, id, { label: 'clinic', createdAt: 1, expiresAt: 1, passcode: false, revokedAt: null }),
  'map: garbage value (raw)': (p, id, prng) => rawSet(p, id, prng.pick([42, 'revoked', null, { revokedAt: 1 }, [1, 2, 3]])),
  'map: delete the entry (raw)': (p, id) => {
    const doc = engineOf(p).plainDoc;
    doc.transact(() => doc.getMap(HEALTH_LINKS_MAP.root).delete(id));
  },
  'map: invent a link (raw)': (p, _id, prng) => rawSet(p, toBase64Url(prng.bytes(32)), { label: 'fake', createdAt: 2, expiresAt: 0, passcode: false, revokedAt: null }),
  'audit: revoke the link': (p, id) => p.audit('export', fromBase64Url(id), 'shl revoked'),
  'audit: invent a link': (p, _id, prng) => p.audit('export', prng.bytes(32), 'shl exp=0'),
  'audit: re-make the link with an expiry in the past': (p, id) => p.audit('export', fromBase64Url(id), 'shl exp=1'),
};

describe('the health link list folds only owners’ word', () => {
  let relay: TestRelay;
  const [owner, editor, viewer] = [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()];
  let profiles: { owner: Profile; editor: Profile; viewer: Profile };

  beforeAll(async () => {
    relay = await testRelay();
    const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
    const o = await Profile.create({
      ...common,
      signer: owner,
      box: generateBoxKeyPair(),
      members: [
        { publicKey: editor.publicKey, role: Role.editor, expiresAt: 0 },
        { publicKey: viewer.publicKey, role: Role.viewer, expiresAt: 0 },
      ],
    });
    await o.flush();
    const e = await Profile.open({ ...common, signer: editor, access: o.accessBundle() });
    const v = await Profile.open({ ...common, signer: viewer, access: o.accessBundle() });
    await Promise.all([e.status.when((s) => s.synced), v.status.when((s) => s.synced)]);
    profiles = { owner: o, editor: e, viewer: v };
  }, 60_000);

  afterAll(async () => {
    for (const p of Object.values(profiles ?? {})) await p.close().catch(() => undefined);
    await relay?.destroy();
  });

  it('seeded: forged marks from an editor and a viewer never revoke, expire, hide or invent a link; an owner’s revocation counts', async () => {
    const seed = testSeed();
    const prng = createPrng(seed);
    const rerun = `seed ${seed}; rerun: TEST_SEED=${seed} npx vitest run ${FILE}`;
    console.log(`shl-list: ${rerun}`);
    const now = Date.now();
    const made = await shareLink(profiles.owner, { expiresInMs: 30 * DAY, label: 'For the clinic' });
    const id = made.manifestId;
    const expiresAt = made.payload.exp! * 1000;
    const auditCount = (p: Profile) => [...engineOf(p).sync.auditEntries().values()].reduce((n, l) => n + l.length, 0);

    // Every device first holds the owner's link (map entry and audit record): the forgeries are judged against that.
    for (const [who, p] of Object.entries(profiles)) {
      await eventually(() => healthLinks(p, now).length === 1, 20_000, () => `${who} never listed the owner's link; ${rerun}`);
    }

    const names = Object.keys(FORGERIES);
    const plan = Array.from({ length: 6 }, () => ({ who: prng.pick(['editor', 'viewer'] as const), what: prng.pick(names) }));
    for (const step of plan) {
      const forger = profiles[step.who];
      const before = auditCount(profiles.owner);
      await (async () => FORGERIES[step.what]!(forger, id, prng))().catch(() => undefined); // a viewer's facade write is refused locally (it throws at once)
      // A viewer's map write is never sealed (read-only device): nothing to wait for then.
      if (step.who === 'editor' || step.what.startsWith('audit')) await forger.flush(10_000).catch(() => undefined);
      // What was sent arrived (an audit record): wait for it, so the assertions judge it.
      if (step.what.startsWith('audit')) await eventually(() => auditCount(profiles.owner) > before, 20_000, () => `${step.who} ${step.what}; ${rerun}`);
      for (const [who, p] of Object.entries(profiles)) {
        const list = healthLinks(p, now);
        const ctx = `after ${step.who} "${step.what}", ${who}'s list; ${rerun}`;
        expect(list.map((l) => l.id), ctx).toEqual([id]);
        expect(list[0], ctx).toMatchObject({ status: 'active', expiresAt, passcode: false, revokedAt: null });
      }
    }

    // The owner revokes: that mark counts everywhere, whatever the map held.
    await revokeLink(profiles.owner, id);
    await profiles.owner.flush();
    for (const [who, p] of Object.entries(profiles)) {
      await eventually(() => healthLinks(p, now)[0]?.status === 'revoked', 20_000, () => `${who}; ${rerun}`);
      expect(healthLinks(p, now).map((l) => l.id)).toEqual([id]);
    }
  }, 180_000);
});
