/**
 * `GET /erased/<doc>` under attack (decision 0035, amended 2026-12-02; threat model 68, 90):
 * only a key that acted for a member when the profile was erased gets the signed order; a removed
 * member, a stranger, a token for another document are refused with typed codes; budgets per
 * address and per key hold; a seeded property run over hostile tokens, paths and methods never
 * gets a 500 and never another document's tombstone.
 */
import { describe, expect, it } from 'vitest';
import { defaultEd25519Engine, fromBase64Url, generateBoxKeyPair, generateSigningKeyPair, toBase64Url, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken, Role } from '../../src/lib/protocol/index.ts';
import { eraseProfile } from '../../src/lib/vault/erase.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import type { ErasedRouteLimits } from '../../server/erase.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { setField } from '../helpers/raw-edits.ts';
import { testRelay } from '../helpers/relay.ts';

const FILE = 'tests/server/erased-route.test.ts';
const cleanups = cleanupList();
const person = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

/** A relay whose clock can be frozen (budgets are judged on it), and two erased profiles. */
async function world(limits: Partial<ErasedRouteLimits> = {}) {
  let frozen: number | undefined;
  const relay = await testRelay({ now: () => frozen ?? Date.now() }, { erasedRouteLimits: limits });
  cleanups.push(() => relay.destroy());
  const engine = await defaultEd25519Engine();
  const open = async (who: ReturnType<typeof person>, access?: Profile['access']) => {
    const common = { ...who, relayUrl: relay.url, minReconnectDelayMs: 50 };
    const profile = access ? await Profile.open({ ...common, access }) : await Profile.create(common);
    cleanups.push(() => profile.close().catch(() => undefined));
    return profile;
  };
  const [owner, editor, removed, otherOwner, stranger] = [person(), person(), person(), person(), person()];
  const a = await open(owner);
  setField(a, 'allergies', 'peanut', 'severe');
  await a.addMember({ publicKey: editor.signer.publicKey, boxKey: editor.box.publicKey, role: Role.editor, expiresAt: 0 });
  await a.addMember({ publicKey: removed.signer.publicKey, boxKey: removed.box.publicKey, role: Role.viewer, expiresAt: 0 });
  await a.flush();
  await a.removeMember(removed.signer.publicKey);
  await a.flush();
  const b = await open(otherOwner);
  setField(b, 'allergies', 'cat', 'mild');
  await b.flush();
  await eraseProfile(a, { expectedName: 'x', typedName: 'x' });
  await eraseProfile(b, { expectedName: 'y', typedName: 'y' });
  // The relay erases once the erase record is durable and acknowledged: its tombstone follows.
  await eventually(() => relay.store.load(a.name) === undefined && relay.store.load(b.name) === undefined);
  const tombA = (await relay.storage.tombstone(a.name))!;
  const tombB = (await relay.storage.tombstone(b.name))!;
  expect(tombA && tombB).toBeTruthy();
  const token = (who: SigningKeyPair, docName: string, lifetimeMs = 60_000) =>
    createAuthToken({ secretKey: who.secretKey, docId: fromBase64Url(docName), expiresAt: Date.now() + lifetimeMs, engine });
  const get = (docName: string, bearer?: string, method = 'GET') =>
    fetch(`${relay.httpUrl}/erased/${docName}`, { method, headers: bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` } });
  return {
    relay,
    a,
    b,
    tombA,
    tombB,
    owner,
    editor,
    removed,
    otherOwner,
    stranger,
    token,
    get,
    freeze: (at: number) => (frozen = at),
    advance: (ms: number) => (frozen = (frozen ?? Date.now()) + ms),
  };
}

describe('GET /erased/<doc>', () => {
  it('gives the order to members at erasure only: owner and editor yes; removed member, stranger, another doc no', async () => {
    const w = await world();
    const body = async (r: Response) => new Uint8Array(await r.arrayBuffer());
    for (const who of [w.owner, w.editor]) {
      const r = await w.get(w.a.name, await w.token(who.signer, w.a.name));
      expect(r.status).toBe(200);
      expect(await body(r)).toEqual(w.tombA.record);
    }
    const removed = await w.get(w.a.name, await w.token(w.removed.signer, w.a.name));
    expect([removed.status, await removed.text()]).toEqual([403, 'ERASE_NOT_A_MEMBER']);
    const stranger = await w.get(w.a.name, await w.token(w.stranger.signer, w.a.name));
    expect([stranger.status, await stranger.text()]).toEqual([403, 'ERASE_NOT_A_MEMBER']);
    // B's owner asking for A (a valid token for A from a key of B): refused; and a token for B on A's path: wrong doc.
    const cross = await w.get(w.a.name, await w.token(w.otherOwner.signer, w.a.name));
    expect([cross.status, await cross.text()]).toEqual([403, 'ERASE_NOT_A_MEMBER']);
    const wrongDoc = await w.get(w.a.name, await w.token(w.owner.signer, w.b.name));
    expect([wrongDoc.status, await wrongDoc.text()]).toEqual([401, 'TOKEN_WRONG_DOC']);
    const own = await w.get(w.b.name, await w.token(w.otherOwner.signer, w.b.name));
    expect(await body(own)).toEqual(w.tombB.record);
    // A document that was not erased: 204 (not an error: devices ask on every connect), whatever the key.
    const live = toBase64Url(new Uint8Array(16).fill(7));
    const notErased = await w.get(live, await w.token(w.owner.signer, live));
    expect([notErased.status, await notErased.text()]).toEqual([204, '']);
    // The tombstone keeps 32-byte digests, never the members' keys.
    expect(w.tombA.members.length).toBe(2 * 32);
    expect(Buffer.from(w.tombA.members).indexOf(Buffer.from(w.editor.signer.publicKey))).toBe(-1);
  }, 60_000);

  it('budgets hold: per address before any signature check, then per key (429 ERASE_RATE_LIMITED)', async () => {
    const w = await world({ perAddressBurst: 6, perAddressPerSecond: 1, perKeyBurst: 3, perKeyPerSecond: 0.1 });
    w.freeze(Date.now());
    const tokenOwner = await w.token(w.owner.signer, w.a.name);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await w.get(w.a.name, tokenOwner)).status);
    // Three for the owner's key, the fourth over its key budget.
    expect(statuses).toEqual([200, 200, 200, 429]);
    // The editor's key has its own budget, but the address has two left: garbage spends them too.
    expect((await w.get(w.a.name, await w.token(w.editor.signer, w.a.name))).status).toBe(200);
    expect((await w.get(w.a.name, 'garbage')).status).toBe(401);
    const over = await w.get(w.a.name, await w.token(w.editor.signer, w.a.name));
    expect([over.status, over.headers.get('retry-after'), await over.text()]).toEqual([429, '10', 'ERASE_RATE_LIMITED']);
    // Time refills the address (1/s) but the owner's key only at 0.1/s.
    w.advance(3_000);
    expect((await w.get(w.a.name, tokenOwner)).status).toBe(429);
    w.advance(10_000);
    expect((await w.get(w.a.name, tokenOwner)).status).toBe(200);
  }, 60_000);

  it("seeded: hostile tokens, paths and methods never get a 500 nor another document's tombstone", async () => {
    await withSeed(FILE, 'seeded: hostile', async (prng: Prng) => {
      const w = await world({ perAddressBurst: 1e6, perKeyBurst: 1e6, globalBurst: 1e6 });
      const members = [w.owner.signer, w.editor.signer];
      const everyone = [...members, w.removed.signer, w.otherOwner.signer, w.stranger.signer];
      const docs = [w.a.name, w.b.name, toBase64Url(prng.bytes(16)), toBase64Url(prng.bytes(15)), toBase64Url(prng.bytes(17)), '..%2F' + w.a.name, w.a.name + '/x', ''];
      for (let i = 0; i < 120; i++) {
        const doc = prng.pick(docs);
        const tokenDoc = prng.bool(0.7) ? doc : prng.pick(docs);
        const who = prng.pick(everyone);
        let bearer: string | undefined;
        switch (prng.int(0, 5)) {
          case 0:
            bearer = undefined;
            break;
          case 1:
            bearer = toBase64Url(prng.bytes(prng.int(0, 200)));
            break;
          case 2: {
            // A valid token with one byte flipped.
            const t = fromBase64Url(await w.token(who, w.a.name).catch(() => 'AA'));
            const at = prng.int(0, t.length - 1);
            t[at] = t[at]! ^ (1 << prng.int(0, 7));
            bearer = toBase64Url(t);
            break;
          }
          case 3:
            bearer = await w.token(who, /^[A-Za-z0-9_-]{22}$/.test(tokenDoc) && fromBase64Url(tokenDoc).length === 16 ? tokenDoc : w.b.name, prng.pick([60_000, 10 * 60 * 60_000, -1_000]));
            break;
          default:
            bearer = /^[A-Za-z0-9_-]{22}$/.test(tokenDoc) && fromBase64Url(tokenDoc).length === 16 ? await w.token(who, tokenDoc) : prng.word();
        }
        const method = prng.pick(['GET', 'GET', 'GET', 'POST', 'DELETE', 'PUT']);
        const r = await fetch(`${w.relay.httpUrl}/erased/${doc}`, { method, headers: bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` } });
        const bytes = new Uint8Array(await r.arrayBuffer());
        const ctx = `request ${i}: ${method} doc=${doc === w.a.name ? 'A' : doc === w.b.name ? 'B' : doc}`;
        expect([200, 204, 401, 403, 404], ctx).toContain(r.status);
        if (r.status === 200) {
          // Only the path's own tombstone, only to a member of that document, only by GET.
          expect(method, ctx).toBe('GET');
          const own = doc === w.a.name ? w.tombA : doc === w.b.name ? w.tombB : undefined;
          expect(own, ctx).toBeDefined();
          expect(bytes, ctx).toEqual(own!.record);
          const allowed = doc === w.a.name ? members : [w.otherOwner.signer];
          expect(allowed.includes(who), ctx).toBe(true);
        }
      }
    });
  }, 120_000);
});
