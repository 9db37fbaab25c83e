/**
 * The WebCrypto engine starts an operation with a key it imported before in the caller's own
 * turn (docs/decisions/0055: the caller then works while the engine's thread signs or verifies),
 * and the cache never hands out a key for another public key, also after evictions. Seeded: key
 * pairs, messages and the order of calls come from the seed.
 */
import { describe, expect, it } from 'vitest';
import { createWebCryptoEngine, signingKeyPairFromSeed, verifyDetached, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { withSeed } from '../helpers/prng.ts';

const FILE = 'tests/crypto/webcrypto-key-cache.test.ts';

/** The real SubtleCrypto, counting the sign and verify operations it was asked for. */
function countingSubtle(): SubtleCrypto & { operations: number } {
  const real = globalThis.crypto.subtle;
  const counted = {
    operations: 0,
    importKey: real.importKey.bind(real),
    sign(...a: Parameters<SubtleCrypto['sign']>) {
      counted.operations++;
      return real.sign(...a);
    },
    verify(...a: Parameters<SubtleCrypto['verify']>) {
      counted.operations++;
      return real.verify(...a);
    },
  };
  return counted as unknown as SubtleCrypto & { operations: number };
}

describe('WebCrypto engine key cache', () => {
  it('with an imported key, sign and verify reach SubtleCrypto before the call returns', async () => {
    const subtle = countingSubtle();
    const engine = createWebCryptoEngine(subtle);
    const kp = signingKeyPairFromSeed(new Uint8Array(32).fill(9));
    const message = Uint8Array.of(1, 2, 3);
    const first = await engine.sign(message, kp.secretKey); // imports the key
    expect(await engine.verify(message, first, kp.publicKey)).toBe(true); // imports the public key
    const before = subtle.operations;
    const signing = engine.sign(message, kp.secretKey);
    const verifying = engine.verify(message, first, kp.publicKey);
    expect(subtle.operations).toBe(before + 2); // started synchronously, no microtask in between
    expect(await verifying).toBe(true);
    expect(await engine.verify(message, await signing, kp.publicKey)).toBe(true);
  });

  it('seeded: across evictions every verdict is the one a fresh engine gives', async () => {
    await withSeed(FILE, 'seeded: across evictions', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "seeded: across evictions"`);
      const engine = createWebCryptoEngine(); // 4096 public keys, 64 secret keys: 80 pairs evict secret keys
      const fresh = () => createWebCryptoEngine();
      const pairs: SigningKeyPair[] = Array.from({ length: 80 }, () => signingKeyPairFromSeed(prng.bytes(32)));
      for (let i = 0; i < 240; i++) {
        const signer = prng.pick(pairs);
        const claimed = prng.bool(0.8) ? signer : prng.pick(pairs);
        const message = prng.bytes(prng.int(0, 64));
        const signature = await engine.sign(message, signer.secretKey);
        const expected = await verifyDetached(fresh(), message, signature, claimed.publicKey);
        expect(await verifyDetached(engine, message, signature, claimed.publicKey), `call ${i}`).toBe(expected);
        expect(expected).toBe(claimed === signer || (claimed.publicKey.every((b, j) => b === signer.publicKey[j])));
      }
    });
  });
});
