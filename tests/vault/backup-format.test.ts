/**
 * The backup container (docs/decisions/0033): round trips over chunk boundaries, the known-answer
 * vectors (also recomputed here from the spec with noble and tweetnacl directly), a wrong secret,
 * and the tamper matrix: every byte flipped, every truncation, appended bytes, chunks dropped or
 * swapped. Each must fail with its typed error and return nothing.
 */
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, nobleHashWithDomain, seededRandom, toHex, utf8 } from '../../src/lib/crypto/index.ts';
import { BACKUP_HEADER_LENGTH, openArchive, sealArchive } from '../../src/lib/vault/backup-format.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import vectors from '../vectors/backup-v1.json' with { type: 'json' };

const SECRET = new Uint8Array(32).fill(7);
const BODY = utf8('synthetic backup body: nothing about a real person, long enough for several chunks.');

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof VaultError) return e.code;
    throw e;
  }
  return 'opened';
}

describe('backup container v1', () => {
  it('round-trips bodies of every length around the chunk size (seeded)', () => {
    const seed = 20261202;
    console.log(`seed ${seed}; rerun: npx vitest run tests/vault/backup-format.test.ts`);
    const random = seededRandom(seed);
    for (const chunkSize of [1, 7, 16, 64]) {
      for (const length of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 3 * chunkSize + 5].filter((n) => n >= 0)) {
        const body = random(length);
        const seen: number[] = [];
        const archive = sealArchive(SECRET, body, { chunkSize, random, progress: (done) => seen.push(done) });
        expect(openArchive(SECRET, archive)).toEqual(body);
        expect(seen.at(-1)).toBe(length);
      }
    }
  });

  it('matches the known-answer vectors, and the spec recomputed independently', () => {
    for (const v of vectors.vectors) {
      const draws = [fromHex(v.salt), fromHex(v.noncePrefix)];
      const archive = sealArchive(fromHex(v.secret), fromHex(v.body), { chunkSize: v.chunkSize, random: () => draws.shift()! });
      expect(toHex(archive), v.name).toBe(v.archive);
      expect(toHex(openArchive(fromHex(v.secret), fromHex(v.archive))), v.name).toBe(v.body);
      // From the spec, not from the implementation: header, key, then each chunk.
      const secret = fromHex(v.secret);
      const salt = fromHex(v.salt);
      const header = concatBytes(utf8('FHVBAK'), new Uint8Array([0, 1, 0, 0]), be32(v.chunkSize), salt, fromHex(v.noncePrefix), nobleHashWithDomain('fhv/backup-check/v1', secret, salt).slice(0, 16));
      const key = nobleHashWithDomain('fhv/backup-key/v1', secret, header);
      const body = fromHex(v.body);
      const count = Math.max(1, Math.ceil(body.length / v.chunkSize));
      const parts = [header];
      for (let i = 0; i < count; i++) {
        const nonce = concatBytes(fromHex(v.noncePrefix), be32(i), new Uint8Array([i === count - 1 ? 1 : 0]));
        const sealed = nacl.secretbox(body.subarray(i * v.chunkSize, (i + 1) * v.chunkSize), nonce, key);
        parts.push(be32(sealed.length), sealed);
      }
      expect(toHex(concatBytes(...parts)), v.name).toBe(v.archive);
    }
  });

  it('a wrong secret is BACKUP_WRONG_CODE; not an archive, another version: their own codes', () => {
    const archive = sealArchive(SECRET, BODY);
    expect(codeOf(() => openArchive(new Uint8Array(32).fill(8), archive))).toBe('BACKUP_WRONG_CODE');
    expect(codeOf(() => openArchive(SECRET, utf8('{"not":"a backup"}')))).toBe('BACKUP_NOT_AN_ARCHIVE');
    expect(codeOf(() => openArchive(SECRET, new Uint8Array(0)))).toBe('BACKUP_NOT_AN_ARCHIVE');
    const v2 = archive.slice();
    v2[7] = 2;
    expect(codeOf(() => openArchive(SECRET, v2))).toBe('BACKUP_VERSION');
  });

  it('tamper matrix: every byte flipped, every truncation, extensions, dropped and swapped chunks fail typed', () => {
    const archive = sealArchive(SECRET, BODY, { chunkSize: 32, random: seededRandom(1) });
    const expected = (i: number): string[] => {
      if (i < 6) return ['BACKUP_NOT_AN_ARCHIVE'];
      if (i < 10) return ['BACKUP_VERSION'];
      if (i < 14) return ['BACKUP_DAMAGED']; // chunk size: a different header, so a different key
      if (i < 30) return ['BACKUP_WRONG_CODE']; // salt: the check value no longer matches
      if (i < 49) return ['BACKUP_DAMAGED']; // nonce prefix
      if (i < BACKUP_HEADER_LENGTH) return ['BACKUP_WRONG_CODE']; // the check value itself
      return ['BACKUP_DAMAGED'];
    };
    for (let i = 0; i < archive.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = archive.slice();
        bad[i]! ^= mask;
        expect(expected(i), `byte ${i} ^ ${mask}`).toContain(codeOf(() => openArchive(SECRET, bad)));
      }
    }
    for (let n = 0; n < archive.length; n++) {
      expect(codeOf(() => openArchive(SECRET, archive.subarray(0, n))), `cut at ${n}`).toBe(n < 6 ? 'BACKUP_NOT_AN_ARCHIVE' : 'BACKUP_DAMAGED');
    }
    expect(codeOf(() => openArchive(SECRET, concatBytes(archive, new Uint8Array([0]))))).toBe('BACKUP_DAMAGED');
    expect(codeOf(() => openArchive(SECRET, concatBytes(archive, archive.subarray(BACKUP_HEADER_LENGTH))))).toBe('BACKUP_DAMAGED');
    // Chunks of 32 plaintext bytes: each is 4 + 48 bytes on file.
    const chunks: Uint8Array[] = [];
    for (let at = BACKUP_HEADER_LENGTH; at < archive.length; at += 52) chunks.push(archive.subarray(at, Math.min(archive.length, at + 52)));
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    const header = archive.subarray(0, BACKUP_HEADER_LENGTH);
    const swapped = concatBytes(header, chunks[1]!, chunks[0]!, ...chunks.slice(2));
    const dropped = concatBytes(header, chunks[0]!, ...chunks.slice(2));
    const lastDropped = concatBytes(header, ...chunks.slice(0, -1));
    for (const bad of [swapped, dropped, lastDropped]) expect(codeOf(() => openArchive(SECRET, bad))).toBe('BACKUP_DAMAGED');
  });
});

function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
