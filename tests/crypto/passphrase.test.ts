/** Passphrase-wrapped secrets (format v1): known answers, the tamper matrix and the read limits. */
import { scrypt } from '@noble/hashes/scrypt.js';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/lib/crypto/index.ts';
import {
  checkScryptParams,
  derivePassphraseKey,
  PASSPHRASE_LIMITS,
  sealWithPassphraseKey,
  unwrapSecret,
  WEAK_TEST_LIMITS,
  WEAK_TEST_SCRYPT,
  wrapSecret,
  type WrappedSecret,
} from '../../src/lib/crypto/passphrase.ts';
import { safetyCode } from '../../src/lib/crypto/safety-code.ts';
import vectors from '../vectors/passphrase-v1.json' with { type: 'json' };
import { hex } from './helpers.ts';

describe('passphrase-wrapped secrets v1', () => {
  it.each(vectors.rfc7914)('scrypt matches RFC 7914 (N=$N r=$r p=$p)', (v) => {
    expect(toHex(scrypt(v.passphrase, v.salt, { N: v.N, r: v.r, p: v.p, dkLen: v.dkLen }))).toBe(v.output);
  });

  for (const v of vectors.wrapped) {
    it(`known answer: ${v.name}`, () => {
      expect(toHex(derivePassphraseKey(v.passphrase, hex(v.salt), v.params))).toBe(v.key);
      const draws = [hex(v.salt), hex(v.nonce)];
      expect(wrapSecret(v.passphrase, utf8(v.plaintext), { params: v.params, random: () => draws.shift()! })).toEqual(v.wrapped);
      const opened = unwrapSecret(v.wrapped, v.passphrase, WEAK_TEST_LIMITS);
      expect(opened.ok && new TextDecoder().decode(opened.value.plaintext)).toBe(v.plaintext);
    });
  }

  it('the same passphrase typed composed or decomposed opens the file (NFKC)', () => {
    const v = vectors.wrapped[1]!;
    expect(v.passphrase).not.toBe(v.passphrase.normalize('NFC'));
    expect(unwrapSecret(v.wrapped, v.passphrase.normalize('NFC'), WEAK_TEST_LIMITS).ok).toBe(true);
  });

  it('a wrong passphrase is PASSPHRASE_WRONG', () => {
    const r = unwrapSecret(vectors.wrapped[0]!.wrapped, 'incorrect horse', WEAK_TEST_LIMITS);
    expect(r).toMatchObject({ ok: false, code: 'PASSPHRASE_WRONG' });
  });

  it('tamper matrix: every field edited gives its own refusal', () => {
    const good = vectors.wrapped[0]!.wrapped as WrappedSecret;
    const pass = vectors.wrapped[0]!.passphrase;
    const flip = (b64: string) => (b64[0] === 'A' ? 'B' : 'A') + b64.slice(1);
    const cases: Array<[string, unknown, string]> = [
      ['ciphertext bit', { ...good, ciphertext: flip(good.ciphertext) }, 'PASSPHRASE_WRONG'],
      ['nonce', { ...good, nonce: flip(good.nonce) }, 'PASSPHRASE_WRONG'],
      ['salt', { ...good, salt: flip(good.salt) }, 'PASSPHRASE_WRONG'],
      // A parameter is hashed into the key: raising it is a failed open, not a different key accepted.
      ['r raised', { ...good, r: 9 }, 'PASSPHRASE_WRONG'],
      ['N not a power of two', { ...good, N: 1000 }, 'PASSPHRASE_MALFORMED'],
      ['version', { ...good, v: 2 }, 'PASSPHRASE_MALFORMED'],
      ['scheme', { ...good, scheme: 'other' }, 'PASSPHRASE_MALFORMED'],
      ['kdf', { ...good, kdf: 'pbkdf2' }, 'PASSPHRASE_MALFORMED'],
      ['short nonce', { ...good, nonce: good.nonce.slice(0, 20) }, 'PASSPHRASE_MALFORMED'],
      ['short salt', { ...good, salt: 'AAAA' }, 'PASSPHRASE_MALFORMED'],
      ['non-base64 ciphertext', { ...good, ciphertext: '!!!' }, 'PASSPHRASE_MALFORMED'],
      ['truncated ciphertext', { ...good, ciphertext: good.ciphertext.slice(0, 8) }, 'PASSPHRASE_MALFORMED'],
      ['not an object', 'garbage', 'PASSPHRASE_MALFORMED'],
      ['null', null, 'PASSPHRASE_MALFORMED'],
    ];
    for (const [name, input, code] of cases) expect(unwrapSecret(input, pass, WEAK_TEST_LIMITS), name).toMatchObject({ ok: false, code });
  });

  it('a hostile file cannot demand huge memory or time: refused before scrypt runs', () => {
    const good = vectors.wrapped[0]!.wrapped;
    for (const params of [{ N: 2 ** 30, r: 8, p: 1 }, { N: 2 ** 20, r: 8, p: 1 }, { N: 2 ** 15, r: 64, p: 1 }, { N: 2 ** 15, r: 8, p: 1000 }]) {
      const started = performance.now();
      expect(unwrapSecret({ ...good, ...params }, 'x'), JSON.stringify(params)).toMatchObject({ ok: false, code: 'PASSPHRASE_LIMITS' });
      expect(performance.now() - started).toBeLessThan(50);
    }
  });

  it('production limits refuse the weak test cost; only the explicit test limits accept it', () => {
    const weak = wrapSecret('pw', utf8('secret'), { params: WEAK_TEST_SCRYPT });
    expect(unwrapSecret(weak, 'pw')).toMatchObject({ ok: false, code: 'PASSPHRASE_LIMITS' });
    expect(unwrapSecret(weak, 'pw', WEAK_TEST_LIMITS).ok).toBe(true);
    expect(checkScryptParams({ N: 2 ** 17, r: 8, p: 1 }, PASSPHRASE_LIMITS).ok).toBe(true);
  });

  it('a reused wrapping key seals with a fresh nonce each time', () => {
    const opened = unwrapSecret(vectors.wrapped[0]!.wrapped, vectors.wrapped[0]!.passphrase, WEAK_TEST_LIMITS);
    if (!opened.ok) throw new Error(opened.code);
    const a = sealWithPassphraseKey(opened.value.key, utf8('same'));
    const b = sealWithPassphraseKey(opened.value.key, utf8('same'));
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.salt).toBe(vectors.wrapped[0]!.wrapped.salt);
    expect(unwrapSecret(b, vectors.wrapped[0]!.passphrase, WEAK_TEST_LIMITS).ok).toBe(true);
  });
});

describe('safety code', () => {
  it.each(vectors.safetyCode)('known answer', (v) => {
    expect(safetyCode(hex(v.signingPublicKey), hex(v.boxPublicKey))).toBe(v.code);
  });

  it('changes when either key changes, and has four groups of five digits', () => {
    const v = vectors.safetyCode[0]!;
    const sign = hex(v.signingPublicKey);
    const box = hex(v.boxPublicKey);
    expect(v.code).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/);
    const sign2 = sign.slice();
    sign2[31]! ^= 1;
    const box2 = box.slice();
    box2[0]! ^= 1;
    expect(safetyCode(sign2, box)).not.toBe(v.code);
    expect(safetyCode(sign, box2)).not.toBe(v.code);
    // The keys are not interchangeable (domain order is fixed).
    expect(safetyCode(box, sign)).not.toBe(v.code);
  });
});
