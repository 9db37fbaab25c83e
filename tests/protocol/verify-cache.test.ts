/**
 * verifyRecord answers a record it already verified (same engine, same id, same signature bytes)
 * without a second signature check, and never anything else: a changed signature, bytes changed
 * after the first check, another engine, or an earlier failure are all checked afresh.
 */
import { describe, expect, it } from 'vitest';
import { createWebCryptoEngine, seededRandom, signingKeyPairFromSeed, generateSymmetricKey, type Ed25519Engine } from '../../src/lib/crypto/index.ts';
import { parseRecord, RecordType, sealRecord, verifyRecord, ZERO_HASH, type ParsedRecord } from '../../src/lib/protocol/index.ts';

const rnd = seededRandom(7);
const alice = signingKeyPairFromSeed(new Uint8Array(32).fill(3));
const docId = new Uint8Array(16).fill(4);
const key = generateSymmetricKey(rnd);

/** An engine that counts the signature checks it is asked for. */
function counting(inner: Ed25519Engine): Ed25519Engine & { verifies: number } {
  const engine = {
    name: inner.name,
    verifies: 0,
    sign: (m: Uint8Array, k: Parameters<Ed25519Engine['sign']>[1]) => inner.sign(m, k),
    verify(m: Uint8Array, s: Uint8Array, p: Parameters<Ed25519Engine['verify']>[2]) {
      engine.verifies++;
      return inner.verify(m, s, p);
    },
  };
  return engine;
}

/**
 * Sealed on a device of its own: the engine that signs a record remembers it as verified
 * (tests/protocol/own-signature.test.ts), and these tests are about records from others.
 */
const signingDevice = createWebCryptoEngine();

async function record(seq: number, _reader?: Ed25519Engine): Promise<Uint8Array> {
  const engine = signingDevice;
  const header = { type: RecordType.update, docId, epoch: 0, author: alice.publicKey, seq, prev: ZERO_HASH, ext: new Uint8Array(0) };
  return (await sealRecord({ header, payload: new Uint8Array([1, 2, 3]), key, secretKey: alice.secretKey, engine, random: rnd })).bytes;
}

function parsed(bytes: Uint8Array): ParsedRecord {
  const r = parseRecord(bytes);
  if (!r.ok) throw new Error(r.code);
  return r.value;
}

describe('verifyRecord, once per record', () => {
  it('a second copy of a verified record (a replica gate, then its sync engine) costs no second check', async () => {
    const engine = counting(createWebCryptoEngine());
    const bytes = await record(1, engine);
    expect((await verifyRecord(parsed(bytes), engine)).ok).toBe(true);
    expect((await verifyRecord(parsed(bytes.slice()), engine)).ok).toBe(true);
    expect(engine.verifies).toBe(1);
  });

  it('the same header and body with another signature is checked, and refused', async () => {
    const engine = counting(createWebCryptoEngine());
    const bytes = await record(2, engine);
    expect((await verifyRecord(parsed(bytes), engine)).ok).toBe(true);
    const forged = bytes.slice();
    forged[forged.length - 40]! ^= 1; // inside S, still below L
    const result = await verifyRecord(parsed(forged), engine);
    expect(result.ok || result.code).toBe('RECORD_BAD_SIGNATURE');
    expect(engine.verifies).toBe(2);
  });

  it('bytes changed under a parsed record after its check are checked again, and refused', async () => {
    const engine = counting(createWebCryptoEngine());
    const bytes = await record(3, engine);
    const r = parsed(bytes);
    expect((await verifyRecord(r, engine)).ok).toBe(true);
    bytes[30]! ^= 1; // the author key, under the same ParsedRecord (its id now stale)
    const result = await verifyRecord(r, engine);
    expect(result.ok || result.code).toBe('RECORD_BAD_SIGNATURE');
    expect(engine.verifies).toBe(2);
  });

  it('another engine does not take the first engine\'s word', async () => {
    const engine = createWebCryptoEngine();
    const bytes = await record(4, engine);
    expect((await verifyRecord(parsed(bytes), engine)).ok).toBe(true);
    const refusing: Ed25519Engine = { name: 'noble', sign: engine.sign, verify: async () => false };
    const result = await verifyRecord(parsed(bytes), refusing);
    expect(result.ok || result.code).toBe('RECORD_BAD_SIGNATURE');
  });

  it('a failure is not remembered: the record is checked again each time', async () => {
    const engine = counting(createWebCryptoEngine());
    const bytes = await record(5, engine);
    const broken = bytes.slice();
    broken[broken.length - 64]! ^= 1; // R: a well-formed signature that does not verify
    for (let i = 0; i < 2; i++) expect((await verifyRecord(parsed(broken), engine)).ok).toBe(false);
    expect(engine.verifies).toBe(2);
    for (let i = 0; i < 2; i++) expect((await verifyRecord(parsed(bytes), engine)).ok).toBe(true);
    expect(engine.verifies).toBe(3);
  });
});
