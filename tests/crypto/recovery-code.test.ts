/**
 * Recovery codes: round trips, Crockford input rules, typo detection rate, typed failures that
 * never echo the input. The format is checked against an independent BigInt + node:crypto oracle.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../src/lib/crypto/index.ts';
// Direct module import until src/lib/crypto/index.ts re-exports it.
import {
  decodeRecoveryCode,
  deriveRecoveryKey,
  encodeRecoveryCode,
  RECOVERY_CODE_CHARS,
  RECOVERY_MESSAGES,
} from '../../src/lib/crypto/recovery-code.ts';
import { withSeed } from '../helpers/prng.ts';
import { toHexRef } from './helpers.ts';

const FILE = 'tests/crypto/recovery-code.test.ts';
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** H(domain, x) = SHA-256(len(domain) ‖ domain ‖ x), computed with node:crypto. */
function refHash(domain: string, data: Uint8Array): Uint8Array {
  const d = Buffer.from(domain, 'utf8');
  return new Uint8Array(createHash('sha256').update(Uint8Array.of(d.length)).update(d).update(data).digest());
}

/** Independent encoder: one big integer, shifted left by the 3 pad bits, printed in base 32. */
function refEncode(secret: Uint8Array): string {
  const data = [...secret, ...refHash('fhv/recovery/v1', secret).subarray(0, 2)];
  let n = 0n;
  for (const b of data) n = (n << 8n) | BigInt(b);
  n <<= 3n;
  let s = '';
  for (let i = 0; i < 55; i++) {
    s = ALPHABET[Number(n & 31n)] + s;
    n >>= 5n;
  }
  return s.match(/.{1,4}/g)!.join('-');
}

const strip = (code: string) => code.replace(/-/g, '');
const decodeOk = (text: string): Uint8Array => {
  const r = decodeRecoveryCode(text);
  if (!r.ok) throw new Error(`expected a valid code, got ${r.code}`);
  return r.value;
};

describe('recovery code format', () => {
  it('matches the reference encoding and round-trips (seeded)', async () => {
    await withSeed(FILE, 'reference encoding', async (prng) => {
      const secrets: Uint8Array[] = [new Uint8Array(32), new Uint8Array(32).fill(255)];
      for (let i = 0; i < 300; i++) secrets.push(prng.bytes(32));
      for (const secret of secrets) {
        const code = encodeRecoveryCode(secret);
        expect(code).toBe(refEncode(secret));
        expect(code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{3}$/);
        expect(strip(code)).toHaveLength(RECOVERY_CODE_CHARS);
        expect(toHexRef(decodeOk(code))).toBe(toHexRef(secret));
      }
    });
  });

  it('derives the backup key as H("fhv/recovery-key/v1", secret), distinct from the checksum hash', async () => {
    await withSeed(FILE, 'derive key', async (prng) => {
      const secret = prng.bytes(32);
      const key = deriveRecoveryKey(secret);
      expect(key).toHaveLength(32);
      expect(toHexRef(key)).toBe(toHexRef(refHash('fhv/recovery-key/v1', secret)));
      expect(toHexRef(key)).not.toBe(toHexRef(refHash('fhv/recovery/v1', secret)));
      const other = secret.slice();
      other[0]! ^= 1;
      expect(toHexRef(deriveRecoveryKey(other))).not.toBe(toHexRef(key));
    });
  });

  it('refuses secrets that are not 32 bytes', () => {
    for (const n of [0, 16, 31, 33, 64]) {
      expect(() => encodeRecoveryCode(new Uint8Array(n))).toThrow(CryptoError);
      expect(() => deriveRecoveryKey(new Uint8Array(n))).toThrow(CryptoError);
    }
  });
});

describe('recovery code input rules', () => {
  it('accepts lower case, spaces, line breaks, missing or extra dashes, and I/L/O aliases', async () => {
    await withSeed(FILE, 'input variants', async (prng) => {
      for (let round = 0; round < 200; round++) {
        const secret = prng.bytes(32);
        const code = encodeRecoveryCode(secret);
        const chars = strip(code);
        const variants = [
          code.toLowerCase(),
          chars,
          chars.toLowerCase(),
          code.replace(/-/g, ' '),
          `  ${code.replace(/-/g, ' - ')}\n`,
          chars.match(/.{1,5}/g)!.join('--'),
          chars.match(/.{1,11}/g)!.join('\n'),
          // random mixed case
          [...code].map((c) => (prng.bool() ? c.toLowerCase() : c)).join(''),
          // every 1 typed as I, i, L or l and every 0 as O or o
          [...code].map((c) => (c === '1' ? prng.pick(['I', 'i', 'L', 'l']) : c === '0' ? prng.pick(['O', 'o']) : c)).join(''),
        ];
        for (const v of variants) expect(toHexRef(decodeOk(v))).toBe(toHexRef(secret));
      }
      // Make sure the alias case was really exercised, not vacuous.
      const withOnesAndZeros = encodeRecoveryCode(new Uint8Array(32)); // all zero secret: many '0'
      expect(withOnesAndZeros).toContain('0');
      expect(toHexRef(decodeOk(withOnesAndZeros.replace(/0/g, 'o')))).toBe(toHexRef(new Uint8Array(32)));
    });
  });

  it('wrong length and illegal characters are RECOVERY_MALFORMED', async () => {
    await withSeed(FILE, 'malformed', async (prng) => {
      const code = strip(encodeRecoveryCode(prng.bytes(32)));
      const tooShort = [
        '',
        '   ',
        '----',
        code.slice(0, RECOVERY_CODE_CHARS - 1),
        code.slice(1),
        code.slice(0, 20),
      ];
      const tooLong = [code + '0', code + code, prng.pick(ALPHABET.split('')) + code];
      for (const t of [...tooShort, ...tooLong]) {
        const r = decodeRecoveryCode(t);
        expect(r.ok).toBe(false);
        expect(!r.ok && r.code).toBe('RECOVERY_MALFORMED');
        expect(!r.ok && r.message).toBe(RECOVERY_MESSAGES.wrongLength);
      }
      // 'U' is excluded by Crockford; punctuation, non-ASCII look-alikes and astral characters too.
      for (const bad of ['U', 'u', '_', '.', '+', '=', '*', 'é', 'Ｏ', 'О' /* Cyrillic */, '😀', '\u0000']) {
        const pos = prng.int(0, code.length - 1);
        for (const t of [code.slice(0, pos) + bad + code.slice(pos + 1), code.slice(0, pos) + bad + code.slice(pos)]) {
          const r = decodeRecoveryCode(t);
          expect(r.ok).toBe(false);
          expect(!r.ok && r.code).toBe('RECOVERY_MALFORMED');
          expect(!r.ok && r.message).toBe(RECOVERY_MESSAGES.illegalCharacter);
        }
      }
    });
  });
});

describe('recovery code typo detection', () => {
  it('catches ≥ 99% of single-character substitutions and adjacent transpositions (measured)', async () => {
    await withSeed(FILE, 'typo rate', async (prng) => {
      let substitutions = 0;
      let caughtSubstitutions = 0;
      let transpositions = 0;
      let caughtTranspositions = 0;
      for (let round = 0; round < 40; round++) {
        const secret = prng.bytes(32);
        const chars = strip(encodeRecoveryCode(secret));
        for (let pos = 0; pos < chars.length; pos++) {
          for (const c of ALPHABET) {
            if (c === chars[pos]) continue;
            substitutions++;
            const r = decodeRecoveryCode(chars.slice(0, pos) + c + chars.slice(pos + 1));
            if (!r.ok && r.code === 'RECOVERY_CHECKSUM') caughtSubstitutions++;
            else expect(r.ok, 'a typo may only be missed by decoding to a different secret').toBe(true);
            if (r.ok) expect(toHexRef(r.value)).not.toBe(toHexRef(secret));
          }
          if (pos + 1 < chars.length && chars[pos] !== chars[pos + 1]) {
            transpositions++;
            const r = decodeRecoveryCode(chars.slice(0, pos) + chars[pos + 1] + chars[pos] + chars.slice(pos + 2));
            if (!r.ok && r.code === 'RECOVERY_CHECKSUM') caughtTranspositions++;
          }
        }
      }
      expect(substitutions).toBe(40 * 55 * 31);
      const subRate = caughtSubstitutions / substitutions;
      const transRate = caughtTranspositions / transpositions;
      console.info(
        `recovery code: ${caughtSubstitutions}/${substitutions} substitutions (${(subRate * 100).toFixed(3)}%), ` +
          `${caughtTranspositions}/${transpositions} transpositions (${(transRate * 100).toFixed(3)}%) caught`,
      );
      expect(subRate).toBeGreaterThanOrEqual(0.99);
      expect(transRate).toBeGreaterThanOrEqual(0.99);
    });
  });

  it('a non-zero pad in the last character is a checksum failure, not a silent alias', async () => {
    await withSeed(FILE, 'pad bits', async (prng) => {
      const secret = prng.bytes(32);
      const chars = strip(encodeRecoveryCode(secret));
      const last = ALPHABET.indexOf(chars.at(-1)!);
      expect(last & 7).toBe(0);
      for (let pad = 1; pad < 8; pad++) {
        const r = decodeRecoveryCode(chars.slice(0, -1) + ALPHABET[last | pad]);
        expect(!r.ok && r.code).toBe('RECOVERY_CHECKSUM');
      }
    });
  });
});

describe('recovery code failure messages', () => {
  it('never echo the input: a fixed text per failure, with no digits or upper-case letters', async () => {
    await withSeed(FILE, 'messages', async (prng) => {
      const seen = new Set<string>();
      for (let round = 0; round < 300; round++) {
        const chars = strip(encodeRecoveryCode(prng.bytes(32)));
        const pos = prng.int(0, chars.length - 1);
        const inputs = [
          chars.slice(0, pos) + prng.pick(ALPHABET.replace(chars[pos]!, '').split('')) + chars.slice(pos + 1),
          chars.slice(0, pos),
          chars.slice(0, pos) + 'U' + chars.slice(pos + 1),
          chars.toLowerCase().slice(0, pos) + '#' + chars.toLowerCase().slice(pos),
        ];
        for (const input of inputs) {
          const r = decodeRecoveryCode(input);
          if (r.ok) continue; // a missed substitution (p ≈ 2^-16) decodes; nothing to check then
          seen.add(r.message);
          expect(r.message).not.toMatch(/[0-9A-Z]/);
          for (let i = 0; i + 4 <= input.length; i++) expect(r.message).not.toContain(input.slice(i, i + 4).toUpperCase());
        }
      }
      expect([...seen].sort()).toEqual(Object.values(RECOVERY_MESSAGES).sort());
    });
  });
});
