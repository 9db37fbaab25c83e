/**
 * hashWithDomain is SHA-256(len(domain) ‖ domain ‖ parts...), whichever implementation runs:
 * node:crypto in Node, noble in browsers. Both are checked against the definition computed in
 * one piece, on seeded random inputs (record ids, header hashes and clientIDs depend on it).
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, hashWithDomain, nobleHashWithDomain, seededRandom, toHex, utf8 } from '../../src/lib/crypto/index.ts';

const definition = (domain: string, ...parts: Uint8Array[]) => {
  const d = utf8(domain);
  return sha256(concatBytes(Uint8Array.of(d.length), d, ...parts));
};

describe('hashWithDomain', () => {
  it('equals the definition in both implementations, for any split of the input', () => {
    const seed = 20261202;
    const random = seededRandom(seed);
    for (let i = 0; i < 200; i++) {
      const sizes = [...random(4)].map((b) => (b * 9) % 1500);
      const parts = sizes.slice(0, 1 + (i % 4)).map((n) => random(n));
      const domain = `fhv/test/${i}`;
      const expected = toHex(definition(domain, ...parts));
      // seed ${seed}: rerun with `npx vitest run tests/crypto/hash.test.ts`
      expect(toHex(hashWithDomain(domain, ...parts)), `seed ${seed}, case ${i}`).toBe(expected);
      expect(toHex(nobleHashWithDomain(domain, ...parts)), `seed ${seed}, case ${i}`).toBe(expected);
    }
  });

  it('keeps domains apart and refuses one longer than 255 bytes', () => {
    const x = new Uint8Array([1, 2, 3]);
    expect(toHex(hashWithDomain('a', x))).not.toBe(toHex(hashWithDomain('b', x)));
    expect(toHex(hashWithDomain('', x))).toBe(toHex(definition('', x)));
    expect(() => hashWithDomain('d'.repeat(256), x)).toThrow(RangeError);
    expect(() => nobleHashWithDomain('e'.repeat(256), x)).toThrow(RangeError);
  });
});
