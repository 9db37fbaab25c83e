/** Padding, ext codecs, membership folding and relay tokens: round trips and rejections. */
import { describe, expect, it } from 'vitest';
import { createWebCryptoEngine, generateSigningKeyPair, seededRandom } from '../../src/lib/crypto/index.ts';
import {
  createAuthToken,
  decodeMembershipExt,
  decodeSnapshotExt,
  decodeUpdatePayload,
  deriveClientId,
  deriveDocId,
  encodeMembershipExt,
  encodeSnapshotExt,
  encodeUpdatePayload,
  MembershipView,
  pad,
  padmeLength,
  parseRecord,
  RecordType,
  Role,
  sealRecord,
  unpad,
  verifyAuthToken,
  ZERO_HASH,
} from '../../src/lib/protocol/index.ts';
import { createPrng, withSeed } from '../helpers/prng.ts';

const engine = createWebCryptoEngine();

describe('padding', () => {
  it('Padmé sizes are canonical, bounded and round-trip', async () => {
    await withSeed('tests/protocol/codecs.test.ts', 'Padmé', async (prng) => {
      for (let i = 0; i < 300; i++) {
        const n = prng.int(0, 70_000);
        const padded = pad(prng.bytes(n));
        expect(padded.length).toBe(padmeLength(n + 4));
        expect(padded.length).toBeGreaterThanOrEqual(Math.max(64, n + 4));
        if (n > 1000) expect(padded.length / (n + 4)).toBeLessThan(1.12);
        const back = unpad(padded);
        expect(back.ok && back.value.length).toBe(n);
      }
    });
  });

  it('rejects a declared length past the end, non-zero padding and a non-canonical size', () => {
    const padded = pad(new Uint8Array([1, 2, 3]));
    const long = padded.slice();
    new DataView(long.buffer).setUint32(0, 1000);
    expect(unpad(long)).toMatchObject({ ok: false, code: 'RECORD_BAD_PADDING' });
    const dirty = padded.slice();
    dirty[dirty.length - 1] = 1;
    expect(unpad(dirty)).toMatchObject({ ok: false, code: 'RECORD_BAD_PADDING' });
    expect(unpad(padded.subarray(0, padded.length - 1))).toMatchObject({ ok: false, code: 'RECORD_BAD_PADDING' });
  });
});

describe('ext codecs', () => {
  it('snapshot coverage round-trips sorted and rejects truncation and disorder', () => {
    const a = generateSigningKeyPair().publicKey;
    const b = generateSigningKeyPair().publicKey;
    const ext = encodeSnapshotExt({ prevSnapshot: ZERO_HASH, coverage: [{ author: a, seq: 5, head: new Uint8Array(32).fill(1) }, { author: b, seq: 9, head: new Uint8Array(32).fill(2) }] });
    const back = decodeSnapshotExt(ext);
    expect(back.ok && back.value.coverage.map((c) => c.seq).sort()).toEqual([5, 9]);
    for (let cut = 0; cut < ext.length; cut++) expect(decodeSnapshotExt(ext.subarray(0, cut)).ok).toBe(false);
    const swapped = ext.slice();
    swapped.set(ext.subarray(34 + 68, 34 + 136), 34);
    swapped.set(ext.subarray(34, 34 + 68), 34 + 68);
    expect(decodeSnapshotExt(swapped)).toMatchObject({ ok: false, code: 'RECORD_BAD_EXT' });
    expect(decodeSnapshotExt(new Uint8Array([...ext, 0]))).toMatchObject({ ok: false, code: 'RECORD_BAD_EXT' });
  });

  it('membership ops round-trip; unknown roles and trailing bytes are rejected', () => {
    const pk = generateSigningKeyPair().publicKey;
    for (const op of [
      { kind: 'genesis', nonce: new Uint8Array(16).fill(3), members: [{ publicKey: pk, role: Role.owner, expiresAt: 0 }] },
      { kind: 'set', member: { publicKey: pk, role: Role.viewer, expiresAt: 1_900_000_000_000 } },
      { kind: 'remove', publicKey: pk },
    ] as const) {
      const back = decodeMembershipExt(encodeMembershipExt({ ...op, clock: 42 }));
      expect(back.ok && back.value).toEqual({ ...op, clock: 42 });
    }
    const bad = encodeMembershipExt({ kind: 'set', member: { publicKey: pk, role: Role.viewer, expiresAt: 0 } });
    bad[69] = 99; // role byte: kind(1) + clock(4) + publicKey(32) + boxKey(32)
    expect(decodeMembershipExt(bad)).toMatchObject({ ok: false, code: 'RECORD_BAD_EXT' });
    expect(decodeMembershipExt(new Uint8Array([2, 0, 0, 0, 1, ...pk, 0])).ok).toBe(false);
    expect(decodeMembershipExt(new Uint8Array([7])).ok).toBe(false);
  });

  it('update payloads round-trip their sessions', () => {
    const p = decodeUpdatePayload(encodeUpdatePayload({ sessions: [1, 0xffffffff], update: new Uint8Array([9, 9]) }));
    expect(p.ok && p.value).toEqual({ sessions: [1, 0xffffffff], update: new Uint8Array([9, 9]) });
    expect(decodeUpdatePayload(new Uint8Array([2, 0, 0])).ok).toBe(false);
  });

  it('derived clientIDs are 52-bit, per author and per session', () => {
    const prng = createPrng(1);
    const doc = prng.bytes(16);
    const a = generateSigningKeyPair().publicKey;
    const b = generateSigningKeyPair().publicKey;
    const ids = new Set<number>();
    for (let s = 0; s < 200; s++) {
      const id = deriveClientId(doc, a, s);
      expect(Number.isSafeInteger(id) && id > 0 && id < 2 ** 52).toBe(true);
      ids.add(id);
    }
    expect(ids.size).toBe(200);
    expect(deriveClientId(doc, a, 5)).not.toBe(deriveClientId(doc, b, 5));
  });
});

describe('membership view', () => {
  it('folds genesis and owner changes deterministically whatever the arrival order; ignores non-owners', async () => {
    const owner = generateSigningKeyPair();
    const editor = generateSigningKeyPair();
    const nonce = new Uint8Array(16).fill(1);
    const docId = deriveDocId(owner.publicKey, nonce);
    const rnd = seededRandom(3);
    const mk = async (signer = owner, seq: number, op: Parameters<typeof encodeMembershipExt>[0]) => {
      const sealed = await sealRecord({ header: { type: RecordType.membership, docId, epoch: 0, author: signer.publicKey, seq, prev: ZERO_HASH, ext: encodeMembershipExt(op) }, payload: new Uint8Array(0), secretKey: signer.secretKey, engine, random: rnd });
      const parsed = parseRecord(sealed.bytes);
      if (!parsed.ok) throw new Error(parsed.code);
      return parsed.value;
    };
    const genesis = await mk(owner, 1, { kind: 'genesis', nonce, members: [{ publicKey: owner.publicKey, role: Role.owner, expiresAt: 0 }, { publicKey: editor.publicKey, role: Role.editor, expiresAt: 0 }] });
    const viewerAdd = await mk(owner, 2, { kind: 'set', member: { publicKey: generateSigningKeyPair().publicKey, role: Role.viewer, expiresAt: 5000 } });
    const editorTries = await mk(editor, 1, { kind: 'set', member: { publicKey: editor.publicKey, role: Role.owner, expiresAt: 0 } });

    const view = new MembershipView(docId);
    expect(view.check(viewerAdd)).toMatchObject({ ok: false, code: 'ENVELOPE_NO_GENESIS' });
    for (const r of [genesis, viewerAdd]) {
      const op = view.check(r);
      expect(op.ok).toBe(true);
      if (op.ok) view.add(r, op.value);
    }
    expect(view.check(editorTries)).toMatchObject({ ok: false, code: 'RECORD_NOT_ADMIN' });
    expect(view.roleOf(editor.publicKey, 0)).toBe(Role.editor);
    expect(view.members().size).toBe(3);
    const viewer = [...view.members().values()].find((m) => m.role === Role.viewer)!;
    expect(view.roleOf(viewer.publicKey, 4999)).toBe(Role.viewer);
    expect(view.roleOf(viewer.publicKey, 5000)).toBeUndefined(); // expired

    // A genesis that does not hash to the document id is refused.
    const other = new MembershipView(new Uint8Array(16));
    expect(other.check(genesis)).toMatchObject({ ok: false, code: 'RECORD_NOT_ADMIN' });
  });
});

describe('relay tokens', () => {
  it('verify for the right doc and time, and fail with their own codes otherwise', async () => {
    const kp = generateSigningKeyPair();
    const docId = new Uint8Array(16).fill(7);
    const now = 1_800_000_000_000;
    const token = await createAuthToken({ secretKey: kp.secretKey, docId, expiresAt: now + 60_000, engine });
    const o = { docId, now, engine, maxLifetimeMs: 600_000 };
    expect((await verifyAuthToken(token, o)).ok).toBe(true);
    expect(await verifyAuthToken(token, { ...o, now: now + 60_000 })).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
    expect(await verifyAuthToken(token, { ...o, docId: new Uint8Array(16) })).toMatchObject({ ok: false, code: 'TOKEN_WRONG_DOC' });
    expect(await verifyAuthToken(token, { ...o, maxLifetimeMs: 1000 })).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
    expect(await verifyAuthToken('###', o)).toMatchObject({ ok: false, code: 'TOKEN_MALFORMED' });
    expect(await verifyAuthToken(token.slice(0, -4), o)).toMatchObject({ ok: false, code: 'TOKEN_MALFORMED' });
    const flipped = token.slice(0, 60) + (token[60] === 'A' ? 'B' : 'A') + token.slice(61);
    expect((await verifyAuthToken(flipped, o)).ok).toBe(false);
  });
});
