/**
 * Guarantee 3: any bit flipped, or field swapped between two valid records, is rejected before
 * anything is applied; each kind of tampering gives its own error code. Run for format v2 (the
 * header hash bound inside the plaintext) and v3 (decision 0028: the header bound by the
 * per-record key), which must refuse the same tampering.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createWebCryptoEngine,
  generateSymmetricKey,
  seededRandom,
  signingKeyPairFromSeed,
  type SymmetricKey,
} from '../../src/lib/crypto/index.ts';
import {
  openRecord,
  prevLength,
  RecordVersion,
  parseRecord,
  RecordType,
  sealRecord,
  verifyRecord,
  ZERO_HASH,
  type ProtocolErrorCode,
  type RecordHeader,
  type RecordVersionCode,
} from '../../src/lib/protocol/index.ts';

const engine = createWebCryptoEngine();
const rnd = seededRandom(42);
const alice = signingKeyPairFromSeed(new Uint8Array(32).fill(1));
const mallory = signingKeyPairFromSeed(new Uint8Array(32).fill(2));
const docId = new Uint8Array(16).fill(9);
const key = generateSymmetricKey(rnd);

const header = (over: Partial<RecordHeader> = {}): RecordHeader => ({
  type: RecordType.update,
  docId,
  epoch: 0,
  author: alice.publicKey,
  seq: 3,
  prev: new Uint8Array(32).fill(5),
  ext: new Uint8Array(0),
  ...over,
});

let version: RecordVersionCode = RecordVersion.v3;

async function seal(h: RecordHeader, payload: Uint8Array, signer = alice, k: SymmetricKey = key) {
  return (await sealRecord({ header: h, payload, key: k, secretKey: signer.secretKey, engine, random: rnd, version })).bytes;
}

const headerLengthOf = (bytes: Uint8Array): number => {
  const parsed = parseRecord(bytes);
  if (!parsed.ok) throw new Error(parsed.code);
  return parsed.value.headerBytes.length;
};

/** The whole receive pipeline; returns the first failure code or 'ok'. */
async function pipeline(bytes: Uint8Array, k: SymmetricKey = key): Promise<ProtocolErrorCode | 'ok'> {
  const parsed = parseRecord(bytes);
  if (!parsed.ok) return parsed.code;
  const verified = await verifyRecord(parsed.value, engine);
  if (!verified.ok) return verified.code;
  const opened = openRecord(verified.value, k);
  return opened.ok ? 'ok' : opened.code;
}

describe.each([RecordVersion.v2, RecordVersion.v3])('record tamper matrix, format v%i', (v) => {
  const v3 = v === RecordVersion.v3;
  beforeEach(() => {
    version = v;
  });

  it('a valid record passes and round-trips its payload', async () => {
    const payload = new TextEncoder().encode('allergy: penicillin');
    const bytes = await seal(header(), payload);
    const parsed = parseRecord(bytes);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const verified = await verifyRecord(parsed.value, engine);
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    const opened = openRecord(verified.value, key);
    expect(opened.ok && new TextDecoder().decode(opened.value.payload)).toBe('allergy: penicillin');
  });

  it('every single-bit flip anywhere in the record is rejected', async () => {
    const bytes = await seal(header(), new TextEncoder().encode('BP 120/80'));
    const codes = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = bytes.slice();
        t[i]! ^= 1 << bit;
        const code = await pipeline(t);
        if (code === 'ok') accepted++;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    expect(accepted).toBe(0);
    // Structural fields fail parsing with their own code; everything else fails the signature.
    expect(codes.get('RECORD_BAD_MAGIC')).toBe(16);
    // A flip that lands on another valid version (v2 <-> v3, v3 -> v1) parses under that
    // layout and fails later (the version byte is signed); every other flip is refused as such.
    expect(codes.get('RECORD_BAD_VERSION')).toBe(v3 ? 6 : 7);
    expect(codes.get('RECORD_UNKNOWN_TYPE')).toBeGreaterThan(0);
    // v2's bodyLen field and v3's extLen (which moves where its body starts) give length errors.
    expect((codes.get('RECORD_BAD_LENGTH') ?? 0) + (codes.get('RECORD_TRUNCATED') ?? 0)).toBeGreaterThan(0);
    if (!v3) expect(codes.get('RECORD_BAD_LENGTH')).toBeGreaterThan(0);
    expect(codes.get('RECORD_BAD_SIGNATURE')).toBeGreaterThan(bytes.length * 8 - 200);
  });

  it('field swaps between two valid records are rejected', async () => {
    const a = await seal(header(), new Uint8Array([1, 2, 3]));
    const b = await seal(header({ seq: 4, epoch: 1, prev: ZERO_HASH, docId: new Uint8Array(16).fill(8), author: mallory.publicKey }), new Uint8Array([4, 5, 6]), mallory);
    const fields: Array<[string, number, number]> = [
      ['docId', 4, 20],
      ['epoch', 20, 24],
      ['author', 24, 56],
      ['seq', 56, 60],
      ['prev', 60, 60 + prevLength(v)],
    ];
    for (const [name, from, to] of fields) {
      expect(a.subarray(from, to), name).not.toEqual(b.subarray(from, to));
      const t = a.slice();
      t.set(b.subarray(from, to), from);
      expect(await pipeline(t), name).toBe('RECORD_BAD_SIGNATURE');
    }
    const bodyStart = headerLengthOf(a);
    expect(headerLengthOf(b)).toBe(bodyStart);
    const swapBody = a.slice();
    swapBody.set(b.subarray(bodyStart, b.length - 64), bodyStart);
    expect(await pipeline(swapBody)).toBe('RECORD_BAD_SIGNATURE');
    const swapSig = a.slice();
    swapSig.set(b.subarray(b.length - 64), a.length - 64);
    expect(await pipeline(swapSig)).toBe('RECORD_BAD_SIGNATURE');
    const swapType = a.slice();
    swapType[3] = RecordType.snapshot;
    expect(await pipeline(swapType)).toBe('RECORD_BAD_SIGNATURE');
  });

  it('a member who re-signs stolen ciphertext under its own header is caught by the bound header (v2 hash, v3 key)', async () => {
    const victim = await seal(header(), new TextEncoder().encode('diagnosis'));
    const v = parseRecord(victim);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    // Mallory keeps Alice's nonce‖ciphertext but signs it as her own record.
    const forgedHeader = victim.slice(0, v.value.headerBytes.length);
    forgedHeader.set(mallory.publicKey, 24);
    const body = v.value.body;
    const sig = await engine.sign(new Uint8Array([...new TextEncoder().encode('fhv/record-sig/v1'), ...forgedHeader, ...body]), mallory.secretKey);
    const forged = new Uint8Array([...forgedHeader, ...body, ...sig]);
    // v3: the key is derived from the header, so under Mallory's header the MAC fails.
    expect(await pipeline(forged)).toBe(v3 ? 'RECORD_DECRYPT_FAILED' : 'RECORD_HEADER_MISMATCH');
  });

  it('the author re-signing its own ciphertext under another seq of its header is caught', async () => {
    const original = await seal(header(), new TextEncoder().encode('diagnosis'));
    const o = parseRecord(original);
    if (!o.ok) throw new Error(o.code);
    const moved = original.slice(0, o.value.headerBytes.length);
    new DataView(moved.buffer).setUint32(56, 9);
    const sig = await engine.sign(new Uint8Array([...new TextEncoder().encode('fhv/record-sig/v1'), ...moved, ...o.value.body]), alice.secretKey);
    const forged = new Uint8Array([...moved, ...o.value.body, ...sig]);
    expect(await pipeline(forged)).toBe(v3 ? 'RECORD_DECRYPT_FAILED' : 'RECORD_HEADER_MISMATCH');
  });

  it('sealing the same header and payload twice never reuses a nonce: the bodies differ', async () => {
    const a = await seal(header(), new TextEncoder().encode('same'));
    const b = await seal(header(), new TextEncoder().encode('same'));
    const start = headerLengthOf(a);
    const nonce = v3 ? 16 : 24;
    expect(a.subarray(start, start + nonce)).not.toEqual(b.subarray(start, start + nonce));
    expect(a.subarray(start + nonce, a.length - 64)).not.toEqual(b.subarray(start + nonce, b.length - 64));
  });

  it('the wrong epoch key fails to decrypt, and a truncated record fails to parse', async () => {
    const bytes = await seal(header(), new Uint8Array([7]));
    expect(await pipeline(bytes, generateSymmetricKey(rnd))).toBe('RECORD_DECRYPT_FAILED');
    expect(await pipeline(bytes.subarray(0, 50))).toBe('RECORD_TRUNCATED');
    // v2 declares its body length; v3's body ends where the signature starts, so a short
    // record moves one body byte into the signature and the signature fails.
    expect(await pipeline(bytes.subarray(0, bytes.length - 1))).toBe(v3 ? 'RECORD_BAD_SIGNATURE' : 'RECORD_BAD_LENGTH');
    expect(await pipeline(new Uint8Array(0))).toBe('RECORD_TRUNCATED');
  });

  it('a cleartext type never verifies as a sealed one', async () => {
    const membership = await sealRecord({
      header: header({ type: RecordType.membership, ext: new Uint8Array([2, ...alice.publicKey]) }),
      payload: new Uint8Array(0),
      secretKey: alice.secretKey,
      engine,
      random: rnd,
    });
    const t = membership.bytes.slice();
    t[3] = RecordType.update;
    expect(await pipeline(t)).toBe('RECORD_BAD_LENGTH'); // a sealed type must have a body
  });
});
