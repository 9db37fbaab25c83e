import { describe, expect, it } from 'vitest';
import {
  asBoxPublicKey,
  asBoxSecretKey,
  boxKeyPairFromSecretKey,
  boxSharedKey,
  x25519,
} from '../../src/lib/crypto/index.ts';
import vectors from '../vectors/x25519-rfc7748.json' with { type: 'json' };
import { expectCryptoError, hex, toHexRef } from './helpers.ts';

const BASE = hex('09' + '00'.repeat(31));
const P = 2n ** 255n - 19n;

function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

describe('X25519 RFC 7748 section 5.2', () => {
  vectors.section5_2.forEach((v, i) => {
    it(`vector ${i + 1}`, () => {
      expect(toHexRef(x25519(hex(v.scalar), hex(v.u)))).toBe(v.output);
    });
  });

  it('iterated: after 1 and 1000 iterations', () => {
    let k = hex(vectors.section5_2_iterated.start);
    let u = hex(vectors.section5_2_iterated.start);
    for (let i = 1; i <= 1000; i++) {
      const r = x25519(k, u);
      u = k;
      k = r;
      const expected = (vectors.section5_2_iterated.after as Record<string, string>)[String(i)];
      if (expected !== undefined) expect(toHexRef(k), `after ${i}`).toBe(expected);
    }
    expect(toHexRef(k)).toBe(vectors.section5_2_iterated.after['1000']);
  });
});

describe('X25519 RFC 7748 section 6.1 (Alice and Bob)', () => {
  const v = vectors.section6_1;

  it('public keys are X25519(private, 9)', () => {
    expect(toHexRef(x25519(hex(v.alicePrivate), BASE))).toBe(v.alicePublic);
    expect(toHexRef(x25519(hex(v.bobPrivate), BASE))).toBe(v.bobPublic);
    expect(toHexRef(boxKeyPairFromSecretKey(hex(v.alicePrivate)).publicKey)).toBe(v.alicePublic);
    expect(toHexRef(boxKeyPairFromSecretKey(hex(v.bobPrivate)).publicKey)).toBe(v.bobPublic);
  });

  it('both sides reach the shared secret K', () => {
    expect(toHexRef(x25519(hex(v.alicePrivate), hex(v.bobPublic)))).toBe(v.sharedSecret);
    expect(toHexRef(x25519(hex(v.bobPrivate), hex(v.alicePublic)))).toBe(v.sharedSecret);
  });

  it('boxSharedKey is symmetric and is not the raw X25519 output', () => {
    const ab = boxSharedKey(asBoxPublicKey(hex(v.bobPublic)), asBoxSecretKey(hex(v.alicePrivate)));
    const ba = boxSharedKey(asBoxPublicKey(hex(v.alicePublic)), asBoxSecretKey(hex(v.bobPrivate)));
    expect(toHexRef(ab)).toBe(toHexRef(ba));
    expect(ab).toHaveLength(32);
    expect(toHexRef(ab)).not.toBe(v.sharedSecret); // HSalsa20 is applied on top (checked by KAT in secretbox.test.ts)
  });
});

describe('boxSharedKey refuses low-order peer keys', () => {
  const own = asBoxSecretKey(hex(vectors.section6_1.alicePrivate));
  const lowOrder: Array<[string, Uint8Array]> = [
    ['all-zero public key (u = 0)', new Uint8Array(32)],
    ['u = 1', le32(1n)],
    ['u = p (non-canonical 0)', le32(P)],
    ['u = p + 1 (non-canonical 1)', le32(P + 1n)],
    ...vectors.lowOrder.cases.map((c): [string, Uint8Array] => [c.name, hex(c.public)]),
  ];

  for (const [name, pk] of lowOrder) {
    it(`${name}: X25519 gives all zeros and boxSharedKey throws CRYPTO_ZERO_SHARED_SECRET`, () => {
      expect(toHexRef(x25519(own, pk))).toBe('00'.repeat(32));
      expectCryptoError(() => boxSharedKey(asBoxPublicKey(pk), own), 'CRYPTO_ZERO_SHARED_SECRET');
    });
  }

  it('the Wycheproof null-shared-key case also fails with its own private key', () => {
    const c = vectors.lowOrder.cases[0]!;
    expect(toHexRef(x25519(hex(c.private), hex(c.public)))).toBe('00'.repeat(32));
    expectCryptoError(
      () => boxSharedKey(asBoxPublicKey(hex(c.public)), asBoxSecretKey(hex(c.private))),
      'CRYPTO_ZERO_SHARED_SECRET',
    );
  });

  it('key-length checks throw CRYPTO_BAD_KEY_LENGTH', () => {
    expectCryptoError(() => asBoxPublicKey(new Uint8Array(31)), 'CRYPTO_BAD_KEY_LENGTH');
    expectCryptoError(() => asBoxSecretKey(new Uint8Array(33)), 'CRYPTO_BAD_KEY_LENGTH');
  });
});
