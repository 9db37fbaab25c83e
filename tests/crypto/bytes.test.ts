import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  bytesEqual,
  concatBytes,
  fromBase64Url,
  fromHex,
  fromUtf8,
  isAllZero,
  seededRandom,
  toBase64Url,
  toHex,
  utf8,
} from '../../src/lib/crypto/index.ts';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('seededRandom', () => {
  it('is deterministic per seed and differs between seeds', () => {
    expect(seededRandom(42)(64)).toEqual(seededRandom(42)(64));
    expect(toHex(seededRandom(42)(64))).not.toBe(toHex(seededRandom(43)(64)));
    expect(isAllZero(seededRandom(1)(64))).toBe(false);
  });
});

describe('base64url', () => {
  it('round-trips every length 0..100 and matches node:buffer', () => {
    const random = seededRandom(0x5eed);
    for (let length = 0; length <= 100; length++) {
      for (let rep = 0; rep < 3; rep++) {
        const bytes = random(length);
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(text).toHaveLength(Math.ceil((4 * length) / 3));
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(fromBase64Url(text)).toEqual(bytes);
      }
    }
  });

  it('uses - and _ (not + and /) and no padding', () => {
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(fromBase64Url('-_8')).toEqual(Uint8Array.of(0xfb, 0xff));
    expect(toBase64Url(Uint8Array.of(0))).toBe('AA');
  });

  it('rejects non-canonical trailing bits (one byte string, one encoding)', () => {
    const random = seededRandom(7);
    let rejected = 0;
    for (let length = 1; length <= 40; length++) {
      if (length % 3 === 0) continue; // no spare bits to abuse
      const bytes = random(length);
      const text = toBase64Url(bytes);
      const spareBits = length % 3 === 1 ? 4 : 2;
      const last = B64URL.indexOf(text.at(-1)!);
      for (let flip = 1; flip < 1 << spareBits; flip++) {
        const altered = text.slice(0, -1) + B64URL[last ^ flip]!;
        // node:buffer decodes it leniently to the same bytes; we must not.
        expect(Buffer.from(altered, 'base64url')).toEqual(Buffer.from(bytes));
        expect(() => fromBase64Url(altered), altered).toThrow(TypeError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('rejects impossible lengths, padding, the standard alphabet and non-ASCII', () => {
    for (const bad of ['A', 'AAAAA', 'AA==', 'AA=', '+w', '/w', 'A A', 'AA\n', 'é0', 'A\u0000']) {
      expect(() => fromBase64Url(bad), JSON.stringify(bad)).toThrow(TypeError);
    }
    expect(fromBase64Url('')).toEqual(new Uint8Array(0));
  });
});

describe('hex', () => {
  it('round-trips random bytes and matches node:buffer', () => {
    const random = seededRandom(99);
    for (let length = 0; length <= 64; length++) {
      const bytes = random(length);
      const text = toHex(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('hex'));
      expect(fromHex(text)).toEqual(bytes);
      expect(fromHex(text.toUpperCase())).toEqual(bytes);
    }
    expect(toHex(Uint8Array.of(0, 1, 0xab, 0xff))).toBe('0001abff');
  });

  it('rejects odd lengths and non-hex characters', () => {
    for (const bad of ['0', 'abc', 'zz', '0x00', ' 00', '0g', '-1']) {
      expect(() => fromHex(bad), bad).toThrow(TypeError);
    }
  });
});

describe('bytesEqual, isAllZero, concatBytes, utf8', () => {
  it('bytesEqual is true only for identical contents', () => {
    const a = seededRandom(5)(48);
    expect(bytesEqual(a, Uint8Array.from(a))).toBe(true);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    for (let i = 0; i < a.length; i++) {
      const b = Uint8Array.from(a);
      b[i]! ^= 0x01;
      expect(bytesEqual(a, b), `differs at ${i}`).toBe(false);
    }
    expect(bytesEqual(a, a.subarray(0, 47))).toBe(false);
    expect(bytesEqual(a.subarray(0, 47), a)).toBe(false);
  });

  it('isAllZero', () => {
    expect(isAllZero(new Uint8Array(32))).toBe(true);
    expect(isAllZero(new Uint8Array(0))).toBe(true);
    const b = new Uint8Array(32);
    b[31] = 0x80;
    expect(isAllZero(b)).toBe(false);
  });

  it('concatBytes', () => {
    expect(concatBytes(Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3))).toEqual(Uint8Array.of(1, 2, 3));
    expect(concatBytes()).toEqual(new Uint8Array(0));
  });

  it('utf8 round-trips and refuses invalid UTF-8', () => {
    const s = 'Blutdruck 120/80 — ✓ 🩺';
    expect(fromUtf8(utf8(s))).toBe(s);
    expect(utf8(s)).toEqual(new Uint8Array(Buffer.from(s, 'utf8')));
    expect(() => fromUtf8(Uint8Array.of(0xc3, 0x28))).toThrow();
  });
});
