/**
 * The erase order in the write policy (decision 0035): only a current owner's, well formed, for
 * this document, at an unused seq. A device verifies the relay's tombstone against its own fold
 * the same way (`verifyTombstone`), so a relay cannot make it drop a profile.
 */
import { describe, expect, it } from 'vitest';
import { createWebCryptoEngine, generateBoxKeyPair, generateSigningKeyPair, seededRandom, toHex, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import {
  authorizeRecord,
  deriveDocId,
  encodeEraseExt,
  EnvelopeIndex,
  parseRecord,
  RecordType,
  Role,
  sealRecord,
  verifyTombstone,
  ZERO_HASH,
  type MemberEntry,
  type ParsedRecord,
  type RoleCode,
} from '../../src/lib/protocol/index.ts';
import { membershipRecord } from '../helpers/membership-records.ts';
import { withSeed } from '../helpers/prng.ts';

const engine = createWebCryptoEngine();
const NOW = 1_000_000;
const entry = (k: SigningKeyPair, role: RoleCode, expiresAt = 0): MemberEntry => ({ publicKey: k.publicKey, boxKey: generateBoxKeyPair().publicKey, role, expiresAt });

async function eraseRecord(docId: Uint8Array, author: SigningKeyPair, seq: number, ext = encodeEraseExt({ erasedAt: NOW })): Promise<ParsedRecord> {
  const sealed = await sealRecord({
    header: { type: RecordType.erase, docId, epoch: 0, author: author.publicKey, seq, prev: ZERO_HASH, ext },
    payload: new Uint8Array(0),
    secretKey: author.secretKey,
    engine,
    random: seededRandom(seq),
  });
  const parsed = parseRecord(sealed.bytes);
  if (!parsed.ok) throw new Error(parsed.code);
  return parsed.value;
}

async function family() {
  const [owner, coOwner, editor, viewer, clinician, stranger, expired] = Array.from({ length: 7 }, () => generateSigningKeyPair());
  const nonce = new Uint8Array(16).fill(7);
  const docId = deriveDocId(owner!.publicKey, nonce);
  const index = new EnvelopeIndex(docId);
  const genesis = await membershipRecord(docId, owner!, 1, {
    kind: 'genesis',
    clock: 0,
    nonce,
    members: [entry(owner!, Role.owner), entry(coOwner!, Role.owner), entry(editor!, Role.editor), entry(viewer!, Role.viewer), entry(clinician!, Role.clinician), entry(expired!, Role.owner, NOW - 1)],
  });
  const g = await authorizeRecord(genesis, index, { engine, now: NOW });
  if (!g.ok) throw new Error(g.code);
  index.add(genesis, undefined, g.value);
  return { docId, index, owner: owner!, coOwner: coOwner!, editor: editor!, viewer: viewer!, clinician: clinician!, stranger: stranger!, expired: expired! };
}

const verdictOf = async (record: ParsedRecord, index: EnvelopeIndex) => {
  const v = await authorizeRecord(record, index, { engine, now: NOW });
  return v.ok ? 'ok' : v.code;
};

describe('the erase order in the write policy', () => {
  it('any current owner may erase; editors, viewers, clinicians, strangers and expired owners may not', async () => {
    const f = await family();
    expect(await verdictOf(await eraseRecord(f.docId, f.owner, 2), f.index)).toBe('ok');
    expect(await verdictOf(await eraseRecord(f.docId, f.coOwner, 1), f.index)).toBe('ok');
    for (const k of [f.editor, f.viewer, f.clinician]) expect(await verdictOf(await eraseRecord(f.docId, k, 1), f.index)).toBe('RECORD_NOT_ADMIN');
    expect(await verdictOf(await eraseRecord(f.docId, f.stranger, 1), f.index)).toBe('RECORD_NOT_MEMBER');
    expect(await verdictOf(await eraseRecord(f.docId, f.expired, 1), f.index)).toBe('RECORD_NOT_MEMBER');
  });

  it('an order for another document, a malformed one and one at a used seq are refused', async () => {
    const f = await family();
    const other = deriveDocId(f.owner.publicKey, new Uint8Array(16).fill(8));
    expect(await verdictOf(await eraseRecord(other, f.owner, 2), f.index)).toBe('RECORD_WRONG_DOC');
    expect(await verdictOf(await eraseRecord(f.docId, f.owner, 2, new Uint8Array(5)), f.index)).toBe('ERASE_MALFORMED');
    expect(await verdictOf(await eraseRecord(f.docId, f.owner, 2, new Uint8Array(7)), f.index)).toBe('ERASE_MALFORMED');
    // seq 1 is the owner's genesis: a second record there is a fork (a replayed or re-signed order).
    expect(await verdictOf(await eraseRecord(f.docId, f.owner, 1), f.index)).toBe('RECORD_FORK');
  });

  it('a device accepts a tombstone only if its own fold says an owner signed it for this document', async () => {
    const f = await family();
    expect((await verifyTombstone((await eraseRecord(f.docId, f.owner, 2)).bytes, f.index, engine)).ok).toBe(true);
    for (const bad of [await eraseRecord(f.docId, f.editor, 1), await eraseRecord(deriveDocId(f.owner.publicKey, new Uint8Array(16)), f.owner, 2)]) {
      const v = await verifyTombstone(bad.bytes, f.index, engine);
      expect(v.ok ? 'ok' : v.code).toBe('ERASE_TOMBSTONE_INVALID');
    }
    // Not an erase at all (the owner's own genesis handed back as a "tombstone").
    const genesisBytes = [...f.index.entries()][0]![1].bytes;
    const v = await verifyTombstone(genesisBytes, f.index, engine);
    expect(v.ok ? 'ok' : v.code).toBe('ERASE_TOMBSTONE_INVALID');
  });

  it('property: hostile erase orders (random signer, doc, seq, ext, flipped byte) pass only as an owner\'s well-formed order', async () => {
    await withSeed('tests/protocol/erase-policy.test.ts', 'hostile erase orders', async (prng) => {
      const f = await family();
      const signers = [f.owner, f.coOwner, f.editor, f.viewer, f.clinician, f.stranger, f.expired];
      const owners = new Set([toHex(f.owner.publicKey), toHex(f.coOwner.publicKey)]);
      for (let i = 0; i < 60; i++) {
        const signer = prng.pick(signers);
        const otherDoc = prng.bool(0.2);
        const docId = otherDoc ? prng.bytes(16) : f.docId;
        const extLen = prng.pick([6, 6, 6, 0, 5, 7, 12]);
        const ext = extLen === 6 ? encodeEraseExt({ erasedAt: prng.int(0, 2 ** 40) }) : prng.bytes(extLen);
        const seq = prng.int(1, 4);
        const record = await eraseRecord(docId, signer, seq, ext);
        let bytes = record.bytes;
        const flip = prng.bool(0.2);
        if (flip) {
          bytes = bytes.slice();
          const at = prng.int(0, bytes.length - 1);
          bytes[at] = bytes[at]! ^ (1 << prng.int(0, 7));
        }
        const parsed = parseRecord(bytes);
        const verdict = parsed.ok ? await verdictOf(parsed.value, f.index) : parsed.code;
        const ownerSeqTaken = toHex(signer.publicKey) === toHex(f.owner.publicKey) && seq === 1;
        const shouldPass = !flip && !otherDoc && extLen === 6 && owners.has(toHex(signer.publicKey)) && !ownerSeqTaken;
        expect(verdict === 'ok', `case ${i}: ${verdict}`).toBe(shouldPass);
      }
    });
  });
});
