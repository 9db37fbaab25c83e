import nacl from 'tweetnacl';
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  asSigningPublicKey,
  asSigningSecretKey,
  isAcceptablePublicKey,
  isCanonicalScalar,
  signDetached,
  signingKeyPairFromSeed,
  verifyDetached,
} from '../../src/lib/crypto/index.ts';
import rfc8032 from '../vectors/ed25519-rfc8032.json' with { type: 'json' };
import wycheproof from '../vectors/ed25519-wycheproof.json' with { type: 'json' };
import { engines, hex, toHexRef } from './helpers.ts';

const ENGINES = engines();
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

function leToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigIntToLe(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  if (n !== 0n) throw new Error('does not fit');
  return out;
}

/** Both raw-engine answers and wrapper answers for one (message, signature, key). */
async function wrapperResults(msg: Uint8Array, sig: Uint8Array, pk: Uint8Array): Promise<boolean[]> {
  return Promise.all(ENGINES.map((e) => verifyDetached(e, msg, sig, asSigningPublicKey(pk))));
}

describe('Ed25519 RFC 8032 section 7.1 vectors', () => {
  it('has the five section 7.1 vectors', () => {
    expect(rfc8032.vectors.map((v) => v.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)']);
  });

  for (const v of rfc8032.vectors) {
    describe(v.name, () => {
      const seed = hex(v.secretKey);
      const pk = hex(v.publicKey);
      const msg = hex(v.message);
      const sig = hex(v.signature);

      it('derives the public key from the seed', () => {
        const kp = signingKeyPairFromSeed(seed);
        expect(toHexRef(kp.publicKey)).toBe(v.publicKey);
        expect(toHexRef(kp.secretKey)).toBe(v.secretKey + v.publicKey);
      });

      for (const engine of ENGINES) {
        it(`${engine.name}: signs to the RFC signature and verifies it`, async () => {
          const sk = asSigningSecretKey(new Uint8Array([...seed, ...pk]));
          const produced = await signDetached(engine, msg, sk);
          expect(toHexRef(produced)).toBe(v.signature);
          expect(await verifyDetached(engine, msg, sig, asSigningPublicKey(pk))).toBe(true);
        });

        it(`${engine.name}: rejects the RFC signature on a modified message and a modified signature`, async () => {
          const otherMsg = msg.length === 0 ? Uint8Array.of(0) : Uint8Array.from(msg, (b, i) => (i === 0 ? b ^ 1 : b));
          expect(await verifyDetached(engine, otherMsg, sig, asSigningPublicKey(pk))).toBe(false);
          const otherSig = Uint8Array.from(sig);
          otherSig[10]! ^= 0x40;
          expect(await verifyDetached(engine, msg, otherSig, asSigningPublicKey(pk))).toBe(false);
        });
      }
    });
  }
});

describe('Ed25519 Wycheproof vectors (C2SP/wycheproof testvectors_v1/ed25519_test.json subset)', () => {
  it('covers every invalid case of the upstream file and at least 40 cases', () => {
    expect(wycheproof.tests.length).toBeGreaterThanOrEqual(40);
    const invalid = wycheproof.tests.filter((t) => t.result === 'invalid').map((t) => t.tcId);
    const expected = [...Array.from({ length: 61 }, (_, i) => i + 10), 85, 151];
    expect(invalid).toEqual(expected);
  });

  for (const t of wycheproof.tests) {
    const label = `tcId ${t.tcId} [${t.result}] ${t.flags.join(',')}${t.comment ? `: ${t.comment.slice(0, 60)}` : ''}`;
    it(label, async () => {
      const results = await wrapperResults(hex(t.msg), hex(t.sig), hex(t.pk));
      const byEngine = Object.fromEntries(ENGINES.map((e, i) => [e.name, results[i]]));
      // All engines must agree whatever the expected result is ('acceptable' included).
      expect(new Set(results).size, JSON.stringify(byEngine)).toBe(1);
      if (t.result === 'valid') expect(byEngine).toEqual({ tweetnacl: true, noble: true, webcrypto: true });
      if (t.result === 'invalid') expect(byEngine).toEqual({ tweetnacl: false, noble: false, webcrypto: false });
    });
  }

  it('raw tweetnacl accepts exactly the S >= L cases, which the wrapper rejects', () => {
    const rawAccepted = wycheproof.tests
      .filter((t) => t.result === 'invalid' && t.sig.length === 128)
      .filter((t) => nacl.sign.detached.verify(hex(t.msg), hex(t.sig), hex(t.pk)))
      .map((t) => t.tcId);
    expect(rawAccepted).toEqual([63, 64, 65, 66, 85]);
    for (const id of rawAccepted) {
      const t = wycheproof.tests.find((x) => x.tcId === id)!;
      expect(isCanonicalScalar(hex(t.sig))).toBe(false);
    }
  });
});

describe('signature malleability: S replaced by S + L', () => {
  for (const v of rfc8032.vectors) {
    it(`${v.name}: raw tweetnacl accepts S + L, verifyDetached rejects it on every engine`, async () => {
      const pk = hex(v.publicKey);
      const msg = hex(v.message);
      const sig = hex(v.signature);
      const s = leToBigInt(sig.subarray(32));
      expect(s < L).toBe(true);
      const malleated = new Uint8Array(64);
      malleated.set(sig.subarray(0, 32));
      malleated.set(bigIntToLe(s + L, 32), 32);
      expect(toHexRef(malleated)).not.toBe(v.signature);

      expect(nacl.sign.detached.verify(msg, sig, pk)).toBe(true);
      expect(nacl.sign.detached.verify(msg, malleated, pk)).toBe(true);
      expect(isCanonicalScalar(sig)).toBe(true);
      expect(isCanonicalScalar(malleated)).toBe(false);
      expect(await wrapperResults(msg, malleated, pk)).toEqual([false, false, false]);
      expect(await wrapperResults(msg, sig, pk)).toEqual([true, true, true]);
    });
  }

  it('isCanonicalScalar draws the line exactly at L', () => {
    const withS = (s: bigint): Uint8Array => {
      const sig = new Uint8Array(64);
      sig.set(bigIntToLe(s, 32), 32);
      return sig;
    };
    expect(isCanonicalScalar(withS(0n))).toBe(true);
    expect(isCanonicalScalar(withS(L - 1n))).toBe(true);
    expect(isCanonicalScalar(withS(L))).toBe(false);
    expect(isCanonicalScalar(withS(L + 1n))).toBe(false);
    expect(isCanonicalScalar(withS(2n ** 256n - 1n))).toBe(false);
  });
});

/**
 * Edwards25519 arithmetic in BigInt, only to construct the small-order points independently
 * of the libraries under test: -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19).
 */
const mod = (a: bigint): bigint => ((a % P) + P) % P;
function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  base = mod(base);
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % P;
    base = (base * base) % P;
    exp >>= 1n;
  }
  return result;
}
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);
function sqrt(a: bigint): bigint | undefined {
  a = mod(a);
  const r = pow(a, (P + 3n) / 8n);
  if (mod(r * r) === a) return r;
  const r2 = mod(r * SQRT_M1);
  if (mod(r2 * r2) === a) return r2;
  return undefined;
}
type Pt = { x: bigint; y: bigint };
const onCurve = ({ x, y }: Pt): boolean => mod(-x * x + y * y) === mod(1n + D * x * x * y * y);
function add(a: Pt, b: Pt): Pt {
  const t = mod(D * a.x * b.x * a.y * b.y);
  return { x: mod((a.x * b.y + a.y * b.x) * inv(1n + t)), y: mod((a.y * b.y + a.x * b.x) * inv(1n - t)) };
}
const isIdentity = (p: Pt): boolean => p.x === 0n && p.y === 1n;
function encode({ x, y }: Pt): string {
  const bytes = bigIntToLe(y, 32);
  if (x & 1n) bytes[31]! |= 0x80;
  return toHexRef(bytes);
}
function smallOrderPoints(): Pt[] {
  const points: Pt[] = [
    { x: 0n, y: 1n }, // identity
    { x: 0n, y: P - 1n }, // order 2
    { x: SQRT_M1, y: 0n }, // order 4
    { x: mod(-SQRT_M1), y: 0n },
  ];
  // Order 8: 2P has y = 0, i.e. y^2 = -x^2, so d x^4 - 2 x^2 - 1 = 0: x^2 = (1 ± sqrt(1 + d)) / d.
  const s = sqrt(1n + D)!;
  for (const x2 of [mod((1n + s) * inv(D)), mod((1n - s) * inv(D))]) {
    const x = sqrt(x2);
    const y = sqrt(-x2);
    if (x === undefined || y === undefined) continue;
    for (const px of [x, mod(-x)]) for (const py of [y, mod(-y)]) points.push({ x: px, y: py });
  }
  return points;
}

describe('small-order and non-canonical public keys', () => {
  const points = smallOrderPoints();
  const encodings = points.map(encode);

  it('the independently computed points are the 8 points of the torsion subgroup', () => {
    expect(points).toHaveLength(8);
    expect(new Set(encodings).size).toBe(8);
    for (const p of points) {
      expect(onCurve(p)).toBe(true);
      let q = p;
      for (let i = 1; i < 8; i++) q = add(q, p);
      expect(isIdentity(q)).toBe(true); // 8P = O
    }
    expect(encodings).toContain('01' + '00'.repeat(31)); // the identity: y = 1
    expect(encodings).toContain('ec' + 'ff'.repeat(30) + '7f'); // y = p - 1
    expect(encodings).toContain('00'.repeat(32)); // y = 0, x even
    expect(encodings).toContain('00'.repeat(31) + '80'); // y = 0, x odd
    expect(new Set(encodings)).toEqual(new Set(ED25519_TORSION_SUBGROUP)); // agrees with noble's table
  });

  // Non-canonical encodings of small-order points: y >= p, or x = 0 with the sign bit set.
  const nonCanonicalSmallOrder = [
    'ee' + 'ff'.repeat(30) + '7f', // y = p + 1 ≡ 1: identity
    'ed' + 'ff'.repeat(30) + '7f', // y = p ≡ 0: order 4
    'ee' + 'ff'.repeat(31), // y = p + 1 with the sign bit set
    '01' + '00'.repeat(30) + '80', // identity with the sign of x set
    'ec' + 'ff'.repeat(31), // y = p - 1 (x = 0) with the sign bit set
  ];

  for (const key of [...encodings, ...nonCanonicalSmallOrder]) {
    it(`refuses small-order key ${key.slice(0, 8)}…${key.slice(-4)}, even with a signature raw tweetnacl accepts`, async () => {
      const pk = hex(key);
      expect(isAcceptablePublicKey(pk)).toBe(false);
      // R = identity, S = 0 satisfies [S]B = R + [k]A whenever [k]A = O, i.e. for about one message in 8.
      const sig = new Uint8Array(64);
      sig[0] = 1;
      let forged: Uint8Array | undefined;
      for (let i = 0; i < 256 && !forged; i++) {
        const msg = Uint8Array.of(i);
        if (nacl.sign.detached.verify(msg, sig, pk)) forged = msg;
      }
      expect(forged, 'raw tweetnacl accepts a forged signature for some message').toBeDefined();
      expect(await wrapperResults(forged!, sig, pk)).toEqual([false, false, false]);
    });
  }

  // Non-canonical encodings y + p of ordinary points (the y < 19 that lie on the curve).
  const ordinaryPoints: Pt[] = [];
  for (let y = 2n; y < 19n; y++) {
    const x = sqrt(mod((y * y - 1n) * inv(D * y * y + 1n)));
    if (x !== undefined) ordinaryPoints.push({ x, y });
  }
  const nonCanonicalOrdinary = ordinaryPoints.map(({ y }) => toHexRef(bigIntToLe(y + P, 32)));

  it('found non-canonical encodings of ordinary points', () => {
    expect(ordinaryPoints.length).toBeGreaterThan(0);
    for (const p of ordinaryPoints) {
      expect(onCurve(p)).toBe(true);
      let q = p;
      for (let i = 1; i < 8; i++) q = add(q, p);
      expect(isIdentity(q)).toBe(false); // not of small order
    }
  });

  for (const key of nonCanonicalOrdinary) {
    it(`refuses the non-canonical encoding ${key.slice(0, 8)}…${key.slice(-4)} (y + p)`, async () => {
      const pk = hex(key);
      expect(isAcceptablePublicKey(pk)).toBe(false);
      const v = rfc8032.vectors[0]!;
      expect(await wrapperResults(hex(v.message), hex(v.signature), pk)).toEqual([false, false, false]);
    });
  }

  it('accepts an ordinary canonical key', () => {
    expect(isAcceptablePublicKey(hex(rfc8032.vectors[0]!.publicKey))).toBe(true);
  });
});

describe('length checks', () => {
  it('signDetached refuses a secret key that is not 64 bytes', async () => {
    for (const engine of ENGINES) {
      await expect(signDetached(engine, Uint8Array.of(1), new Uint8Array(32) as never)).rejects.toMatchObject({
        code: 'CRYPTO_BAD_KEY_LENGTH',
      });
    }
  });

  it('verifyDetached answers false, without throwing, for wrong signature and key lengths', async () => {
    const v = rfc8032.vectors[1]!;
    const sig = hex(v.signature);
    const pk = hex(v.publicKey);
    for (const engine of ENGINES) {
      expect(await verifyDetached(engine, hex(v.message), sig.subarray(0, 63), asSigningPublicKey(pk))).toBe(false);
      expect(await verifyDetached(engine, hex(v.message), sig, pk.subarray(0, 31) as never)).toBe(false);
    }
  });
});
