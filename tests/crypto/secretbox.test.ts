import { describe, expect, it } from 'vitest';
import {
  SECRETBOX_NONCE_LENGTH,
  SECRETBOX_OVERHEAD,
  asBoxPublicKey,
  asBoxSecretKey,
  asSymmetricKey,
  boxSharedKey,
  secretboxOpen,
  secretboxSeal,
} from '../../src/lib/crypto/index.ts';
import vectors from '../vectors/secretbox.json' with { type: 'json' };
import { expectCryptoError, hex, toHexRef } from './helpers.ts';

type Kat = { key: string; nonce: string; plaintext: string; ciphertext: string };
const kats: Array<[string, Kat]> = [
  ['NaCl/libsodium firstkey, 131-byte message', vectors.nacl],
  ...vectors.random.map((v): [string, Kat] => [`tweetnacl-js secretbox.random #${v.index} (${v.plaintext.length / 2} bytes)`, v]),
];

describe('secretbox known answers (XSalsa20-Poly1305)', () => {
  it('has the classic NaCl vector and the tweetnacl-js random vectors', () => {
    expect(vectors.nacl.plaintext).toHaveLength(2 * 131);
    expect(vectors.nacl.ciphertext).toHaveLength(2 * (131 + SECRETBOX_OVERHEAD));
    expect(vectors.random.length).toBeGreaterThanOrEqual(20);
  });

  for (const [name, v] of kats) {
    it(`${name}: seal and open`, () => {
      const key = asSymmetricKey(hex(v.key));
      const sealed = secretboxSeal(hex(v.plaintext), hex(v.nonce), key);
      expect(toHexRef(sealed)).toBe(v.ciphertext);
      const opened = secretboxOpen(hex(v.ciphertext), hex(v.nonce), key);
      expect(opened).not.toBeNull();
      expect(toHexRef(opened!)).toBe(v.plaintext);
    });
  }

  it('NaCl box: boxSharedKey(bobpk, alicesk) seals to the libsodium box.c output', () => {
    const b = vectors.box;
    const key = boxSharedKey(asBoxPublicKey(hex(b.bobPublic)), asBoxSecretKey(hex(b.alicePrivate)));
    // The secretbox firstkey is crypto_box_beforenm(bobpk, alicesk).
    expect(toHexRef(key)).toBe(vectors.nacl.key);
    expect(toHexRef(secretboxSeal(hex(b.plaintext), hex(b.nonce), key))).toBe(b.ciphertext);
  });

  it('NaCl box: libsodium small_order_p is refused', () => {
    expectCryptoError(
      () => boxSharedKey(asBoxPublicKey(hex(vectors.box.smallOrderPublicKey)), asBoxSecretKey(hex(vectors.box.alicePrivate))),
      'CRYPTO_ZERO_SHARED_SECRET',
    );
  });
});

describe('secretbox authentication', () => {
  const v = vectors.nacl;
  const key = asSymmetricKey(hex(v.key));
  const nonce = hex(v.nonce);
  const ciphertext = hex(v.ciphertext);

  it('every single flipped bit in the ciphertext makes open return null', () => {
    let checked = 0;
    for (let byte = 0; byte < ciphertext.length; byte++) {
      for (const bit of [0, 3, 7]) {
        const tampered = Uint8Array.from(ciphertext);
        tampered[byte]! ^= 1 << bit;
        expect(secretboxOpen(tampered, nonce, key), `byte ${byte} bit ${bit}`).toBeNull();
        checked++;
      }
    }
    expect(checked).toBe(3 * 147);
  });

  it('a wrong key, a wrong nonce, a truncated or extended ciphertext give null', () => {
    const wrongKey = Uint8Array.from(key);
    wrongKey[0]! ^= 1;
    expect(secretboxOpen(ciphertext, nonce, asSymmetricKey(wrongKey))).toBeNull();
    const wrongNonce = Uint8Array.from(nonce);
    wrongNonce[23]! ^= 0x80;
    expect(secretboxOpen(ciphertext, wrongNonce, key)).toBeNull();
    expect(secretboxOpen(ciphertext.subarray(0, ciphertext.length - 1), nonce, key)).toBeNull();
    expect(secretboxOpen(new Uint8Array([...ciphertext, 0]), nonce, key)).toBeNull();
  });

  it('ciphertexts shorter than the tag give null instead of throwing', () => {
    for (let n = 0; n < SECRETBOX_OVERHEAD; n++) expect(secretboxOpen(new Uint8Array(n), nonce, key)).toBeNull();
  });

  it('an empty plaintext round-trips to exactly the 16-byte tag', () => {
    const sealed = secretboxSeal(new Uint8Array(0), nonce, key);
    expect(sealed).toHaveLength(SECRETBOX_OVERHEAD);
    expect(secretboxOpen(sealed, nonce, key)).toEqual(new Uint8Array(0));
  });
});

describe('secretbox nonce length', () => {
  const v = vectors.nacl;
  const key = asSymmetricKey(hex(v.key));
  for (const length of [0, 8, 12, 23, 25, 32]) {
    it(`${length}-byte nonce throws CRYPTO_BAD_NONCE_LENGTH on seal and open`, () => {
      expect(length).not.toBe(SECRETBOX_NONCE_LENGTH);
      const nonce = new Uint8Array(length);
      expectCryptoError(() => secretboxSeal(hex(v.plaintext), nonce, key), 'CRYPTO_BAD_NONCE_LENGTH');
      expectCryptoError(() => secretboxOpen(hex(v.ciphertext), nonce, key), 'CRYPTO_BAD_NONCE_LENGTH');
    });
  }
});
