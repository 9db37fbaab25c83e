/**
 * A record this process signs is remembered as verified by the engine that signed it (its
 * replica's relay gate then spends no WebCrypto verify on it, docs/decisions/0027), and only
 * when that verify could not fail: the author is the signing key's public half and that half is
 * the one its seed derives. Anything else, another engine, or the remembered record's bytes
 * changed, is verified as before and refused when the signature does not hold.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, createWebCryptoEngine, generateSymmetricKey, seededRandom, signingKeyPairFromSeed, type Ed25519Engine, type SigningSecretKey } from '../../src/lib/crypto/index.ts';
import { nobleEngine } from '../../src/lib/crypto/ed25519.ts';
import { parseRecord, RecordType, sealRecord, verifyRecord, ZERO_HASH, type ParsedRecord } from '../../src/lib/protocol/index.ts';

const rnd = seededRandom(27);
const alice = signingKeyPairFromSeed(new Uint8Array(32).fill(5));
const bob = signingKeyPairFromSeed(new Uint8Array(32).fill(6));
const docId = new Uint8Array(16).fill(8);
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

async function seal(seq: number, engine: Ed25519Engine, secretKey: SigningSecretKey, author = alice.publicKey): Promise<Uint8Array> {
  const header = { type: RecordType.update, docId, epoch: 0, author, seq, prev: ZERO_HASH, ext: new Uint8Array(0) };
  return (await sealRecord({ header, payload: new Uint8Array([seq]), key, secretKey, engine, random: rnd })).bytes;
}

function parsed(bytes: Uint8Array): ParsedRecord {
  const r = parseRecord(bytes);
  if (!r.ok) throw new Error(r.code);
  return r.value;
}

describe('own records: verified by construction, and only then', () => {
  it('the engine that signed a record answers for it without a check; another engine checks it', async () => {
    const signer = counting(createWebCryptoEngine());
    const bytes = await seal(1, signer, alice.secretKey);
    expect((await verifyRecord(parsed(bytes), signer)).ok).toBe(true);
    expect(signer.verifies).toBe(0);
    const other = counting(createWebCryptoEngine());
    expect((await verifyRecord(parsed(bytes), other)).ok).toBe(true);
    expect(other.verifies).toBe(1);
  });

  it('a signing key whose public half its seed does not derive is not trusted: its record is checked and refused', async () => {
    // Alice's seed with Bob's public half, claiming Bob: the signature is Alice's, not Bob's.
    const mixed = concatBytes(alice.secretKey.subarray(0, 32), bob.publicKey) as SigningSecretKey;
    const signer = counting(nobleEngine);
    const bytes = await seal(2, signer, mixed, bob.publicKey);
    const result = await verifyRecord(parsed(bytes), signer);
    expect(result.ok || result.code).toBe('RECORD_BAD_SIGNATURE');
    expect(signer.verifies).toBe(1);
  });

  it('a record whose author is not the signing key is checked and refused', async () => {
    const signer = counting(createWebCryptoEngine());
    const bytes = await seal(3, signer, alice.secretKey, bob.publicKey);
    const result = await verifyRecord(parsed(bytes), signer);
    expect(result.ok || result.code).toBe('RECORD_BAD_SIGNATURE');
    expect(signer.verifies).toBe(1);
  });

  it('an own record changed after it was signed is checked and refused', async () => {
    const signer = counting(createWebCryptoEngine());
    const bytes = await seal(4, signer, alice.secretKey);
    const forged = bytes.slice();
    forged[forged.length - 40]! ^= 1; // inside S, still below L: same id, other signature
    expect((await verifyRecord(parsed(forged), signer)).ok).toBe(false);
    const body = bytes.slice();
    body[body.length - 70]! ^= 1; // the sealed body: another id
    expect((await verifyRecord(parsed(body), signer)).ok).toBe(false);
    expect(signer.verifies).toBe(2);
  });
});
