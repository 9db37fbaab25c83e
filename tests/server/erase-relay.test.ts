/**
 * Erasure through the real relay (decision 0035): an owner erases a profile; the relay's SQLite
 * files keep no byte of its records, files or members (raw scan of the files), only the
 * tombstone; live and offline member devices learn it, verify the signed order and drop their
 * copies; every later request for the profile is refused with PROFILE_ERASED.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, toHex, utf8 } from '../../src/lib/crypto/index.ts';
import * as Y from 'yjs';
import { ENVELOPE_MAP, Role } from '../../src/lib/protocol/index.ts';
import { uploadBlob } from '../../src/lib/vault/blobs.ts';
import { confirmErasure, eraseProfile } from '../../src/lib/vault/erase.ts';
import { sqlitePersistence } from '../../src/lib/vault/node.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { setField } from '../helpers/raw-edits.ts';
import { testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();
const person = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const CANARY = 'CANARY-erase-7f3a9c';

/** Every file of a data dir (the database, its WAL and shared memory), concatenated. */
function rawFiles(dir: string, base = 'relay.sqlite'): Buffer {
  return Buffer.concat([base, `${base}-wal`, `${base}-shm`].map((f) => join(dir, f)).filter(existsSync).map((f) => readFileSync(f)));
}

const contains = (hay: Buffer, needle: Uint8Array): boolean => hay.indexOf(Buffer.from(needle)) >= 0;

/** Distinct 32-byte slices of `bytes`, as canaries for a raw scan (ciphertext that must be gone). */
function slices(bytes: Uint8Array, n = 4): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const at = Math.floor(((bytes.length - 32) * i) / Math.max(1, n - 1));
    out.push(bytes.slice(at, at + 32));
  }
  return out;
}

async function world() {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const dir = (tag: string) => mkdtempSync(join(tmpdir(), `fhv-erase-${tag}-`));
  const open = async (who: ReturnType<typeof person>, access: Profile['access'] | undefined, tag: string, existing?: string) => {
    const d = existing ?? dir(tag);
    const store = sqlitePersistence(d);
    const common = { ...who, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 };
    const profile = access ? await Profile.open({ ...common, access }) : await Profile.create(common);
    cleanups.push(async () => {
      await profile.close().catch(() => undefined);
      store.close();
    });
    return { profile, store, dir: d };
  };
  const [owner, editor, viewer] = [person(), person(), person()];
  const a = await open(owner, undefined, 'owner');
  setField(a.profile, 'allergies', 'peanut', CANARY);
  await a.profile.addMember({ publicKey: editor.signer.publicKey, boxKey: editor.box.publicKey, role: Role.editor, expiresAt: 0 });
  await a.profile.addMember({ publicKey: viewer.signer.publicKey, boxKey: viewer.box.publicKey, role: Role.viewer, expiresAt: 0 });
  await a.profile.flush();
  const blob = await uploadBlob(a.profile, utf8(`${CANARY} scan of a letter`), { title: 'letter', contentType: 'text/plain' });
  const b = await open(editor, a.profile.access, 'editor');
  const c = await open(viewer, a.profile.access, 'viewer');
  await eventually(() => b.profile.getField('allergies', 'peanut') === CANARY && c.profile.getField('allergies', 'peanut') === CANARY);
  setField(b.profile, 'allergies', 'cat', 'mild'); // the editor owns a clientID at the relay too
  await b.profile.flush();
  return { relay, a, b, c, owner, editor, viewer, blob, open };
}

describe('erasing a profile everywhere', () => {
  it('leaves no record, file or member of the profile in the relay files; members drop their copies; later requests are refused', async () => {
    const { relay, a, b, c, owner, editor, viewer, open } = await world();
    const name = a.profile.name;
    // What must be gone: the stored envelope, the file's ciphertext, the members' keys.
    const envelope = new Y.Doc();
    Y.applyUpdate(envelope, relay.store.load(name)!);
    // Records are stored as binary contents, byte for byte: a slice of each must be found raw.
    const records = [...envelope.getMap<Uint8Array>(ENVELOPE_MAP).values()];
    // Two 16-byte pieces of each record's signature: a row long enough for SQLite overflow pages
    // can split one piece at a page boundary (a 4-byte page pointer in between), not both.
    const piecesOf = (r: Uint8Array) => [r.slice(r.length - 64, r.length - 48), r.slice(r.length - 16)];
    const recordNeedles = records.flatMap(piecesOf);
    const blobRow = new DatabaseSync(join(relay.dataDir, 'relay.sqlite'), { readOnly: true });
    const blobCipher = (blobRow.prepare('SELECT data FROM blobs WHERE doc = ?').get(name) as { data: Uint8Array }).data;
    blobRow.close();
    const needles = [...recordNeedles, ...slices(blobCipher), editor.signer.publicKey, viewer.signer.publicKey, utf8(toHex(editor.signer.publicKey))];
    const before = rawFiles(relay.dataDir);
    // The scan sees each record (one piece of it at least), each file slice and each member key before.
    expect(records.filter((r) => !piecesOf(r).some((n) => contains(before, n))).length).toBe(0);
    expect(needles.slice(recordNeedles.length).filter((n) => !contains(before, n)).length).toBe(0);

    // The viewer is offline when it happens.
    await c.profile.close();
    c.store.close();

    // A non-owner cannot, and a wrong confirmation sends nothing.
    await expect(eraseProfile(b.profile, { expectedName: 'mum', typedName: 'mum' })).rejects.toMatchObject({ code: 'ERASE_NOT_OWNER' });
    await expect(eraseProfile(a.profile, { expectedName: 'mum', typedName: 'mun' })).rejects.toMatchObject({ code: 'ERASE_CONFIRM_MISMATCH' });

    await eraseProfile(a.profile, { expectedName: 'mum', typedName: 'mum' });
    // The relay erases once the erase record is durable and acknowledged (decision 0026): the
    // owner's acknowledgement may arrive just before the rows go.
    await eventually(() => b.profile.refusal.value === 'PROFILE_ERASED');
    const tombstone = await relay.storage.tombstone(name);
    expect(tombstone).toBeDefined();

    // The live editor is closed out with the typed code, verifies the order and drops its copy.
    await eventually(() => b.profile.refusal.value === 'PROFILE_ERASED');
    const seenByB = await confirmErasure(b.profile);
    expect(seenByB.by).toBe(toHex(owner.signer.publicKey));
    await b.profile.close();
    b.store.log.erase(name);
    expect(b.store.log.documentNames()).not.toContain(name);
    for (const n of recordNeedles) expect(contains(rawFiles(b.dir), n)).toBe(false);

    // The offline viewer learns it on its next connect, from the refusal and the tombstone.
    const c2 = await open(viewer, a.profile.access, 'viewer', c.dir);
    await eventually(() => c2.profile.refusal.value === 'PROFILE_ERASED');
    const seenByC = await confirmErasure(c2.profile);
    expect(seenByC.erasedAt).toBe(seenByB.erasedAt);
    await c2.profile.close();
    c2.store.log.erase(name);
    for (const n of recordNeedles) expect(contains(rawFiles(c.dir), n)).toBe(false);

    // The relay's files: no byte of the envelope, the file or the members; SQL sees only the tombstone.
    await eventually(() => relay.store.load(name) === undefined);
    const raw = rawFiles(relay.dataDir);
    for (const n of needles) expect(contains(raw, n)).toBe(false);
    const db = new DatabaseSync(join(relay.dataDir, 'relay.sqlite'), { readOnly: true });
    const count = (sql: string) => Number((db.prepare(sql).get(name) as { n: number }).n);
    expect(count('SELECT COUNT(*) AS n FROM updates WHERE name = ?')).toBe(0);
    expect(count('SELECT COUNT(*) AS n FROM documents WHERE name = ?')).toBe(0);
    expect(count('SELECT COUNT(*) AS n FROM client_owners WHERE name = ?')).toBe(0);
    expect(count('SELECT COUNT(*) AS n FROM blobs WHERE doc = ?')).toBe(0);
    expect(count('SELECT COUNT(*) AS n FROM tombstones WHERE name = ?')).toBe(1);
    db.close();

    // Files for it answer 410 PROFILE_ERASED; a new connection of the owner itself is refused.
    const token = await a.profile.relayToken();
    const res = await fetch(`${relay.httpUrl}/blobs/${name}/${'A'.repeat(43)}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(410);
    expect(await res.text()).toBe('PROFILE_ERASED');
    await eventually(() => a.profile.refusal.value === 'PROFILE_ERASED');
  }, 60_000);
});
