/**
 * Ed25519 behind one interface with three engines (WebCrypto, @noble/curves, tweetnacl).
 *
 * Whatever engine runs, `verifyDetached` first applies the checks tweetnacl lacks:
 * exact lengths, S < L (no malleable signatures) and no small-order public keys.
 * The engine is chosen by measurement (bench S0): WebCrypto where present, since it is
 * >50x tweetnacl in Node 24 and Chromium; noble as the pure-JS fallback.
 */
import { ed25519 as noble } from '@noble/curves/ed25519.js';
import nacl from 'tweetnacl';
import { toBase64Url, toHex } from './bytes.ts';
import { CryptoError } from './errors.ts';
import type { Signature, SigningPublicKey, SigningSecretKey } from './keys.ts';

export interface Ed25519Engine {
  readonly name: 'webcrypto' | 'noble' | 'tweetnacl' | 'node';
  sign(message: Uint8Array, secretKey: SigningSecretKey): Promise<Signature>;
  /** Raw engine verify; callers use `verifyDetached`, which adds the strictness checks. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: SigningPublicKey): Promise<boolean>;
}

/** Group order L, little-endian, for the S < L check. */
const L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/** True when the little-endian scalar S (signature bytes 32..63) is below L. */
export function isCanonicalScalar(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    const l = L[i]!;
    if (s < l) return true;
    if (s > l) return false;
  }
  return false; // S == L
}

const keyCheckCache = new Map<string, boolean>();

/** Rejects encodings that are not canonical points or are of small order (cached per key). */
export function isAcceptablePublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return false;
  const id = toHex(publicKey);
  let ok = keyCheckCache.get(id);
  if (ok === undefined) {
    try {
      const point = noble.Point.fromBytes(publicKey, false);
      ok = !point.isSmallOrder() && toHex(point.toBytes()) === id;
    } catch {
      ok = false; // not a point on the curve: decoding throws by design
    }
    if (keyCheckCache.size > 10_000) keyCheckCache.clear();
    keyCheckCache.set(id, ok);
  }
  return ok;
}

export async function verifyDetached(
  engine: Ed25519Engine,
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: SigningPublicKey,
): Promise<boolean> {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (!isCanonicalScalar(signature)) return false;
  if (!isAcceptablePublicKey(publicKey)) return false;
  return engine.verify(message, signature, publicKey);
}

export async function signDetached(
  engine: Ed25519Engine,
  message: Uint8Array,
  secretKey: SigningSecretKey,
): Promise<Signature> {
  if (secretKey.length !== 64) throw new CryptoError('CRYPTO_BAD_KEY_LENGTH', 'signing secret key must be 64 bytes');
  return engine.sign(message, secretKey);
}

export const tweetnaclEngine: Ed25519Engine = {
  name: 'tweetnacl',
  async sign(message, secretKey) {
    return nacl.sign.detached(message, secretKey) as Signature;
  },
  async verify(message, signature, publicKey) {
    return nacl.sign.detached.verify(message, signature, publicKey);
  },
};

export const nobleEngine: Ed25519Engine = {
  name: 'noble',
  async sign(message, secretKey) {
    return noble.sign(message, secretKey.subarray(0, 32)) as Signature;
  },
  async verify(message, signature, publicKey) {
    try {
      return noble.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false; // malformed point or scalar: noble throws, we answer "invalid"
    }
  },
};

/** Imported CryptoKeys are cached: importKey costs about as much as one verify. */
class KeyCache<K> {
  private readonly map = new Map<string, Promise<K>>();
  /** Keys whose import finished: an operation with one starts in the caller's turn, not a microtask later. */
  private readonly ready = new Map<string, K>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  /** The imported key if its import has finished. */
  peek(id: string): K | undefined {
    return this.ready.get(id);
  }
  get(id: string, make: () => Promise<K>): Promise<K> {
    let k = this.map.get(id);
    if (!k) {
      if (this.map.size >= this.limit) {
        const oldest = this.map.keys().next().value!;
        this.map.delete(oldest);
        this.ready.delete(oldest);
      }
      const made = make();
      k = made;
      this.map.set(id, made);
      made.then(
        (key) => {
          if (this.map.get(id) === made) this.ready.set(id, key);
        },
        () => undefined,
      );
    }
    return k;
  }
}

export function createWebCryptoEngine(subtle: SubtleCrypto = globalThis.crypto.subtle): Ed25519Engine {
  const publicKeys = new KeyCache<CryptoKey>(4096);
  const secretKeys = new KeyCache<CryptoKey>(64);
  return {
    name: 'webcrypto',
    async sign(message, secretKey) {
      const pk = secretKey.subarray(32, 64);
      const id = toHex(pk);
      // A key imported before: the signature starts now (its thread works while the caller goes on).
      const key =
        secretKeys.peek(id) ??
        (await secretKeys.get(id, () =>
          subtle.importKey(
            'jwk',
            { kty: 'OKP', crv: 'Ed25519', d: toBase64Url(secretKey.subarray(0, 32)), x: toBase64Url(pk) },
            { name: 'Ed25519' },
            false,
            ['sign'],
          ),
        ));
      return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key, message as BufferSource)) as Signature;
    },
    async verify(message, signature, publicKey) {
      try {
        const id = toHex(publicKey);
        const key =
          publicKeys.peek(id) ?? (await publicKeys.get(id, () => subtle.importKey('raw', publicKey as BufferSource, { name: 'Ed25519' }, false, ['verify'])));
        return await subtle.verify({ name: 'Ed25519' }, key, signature as BufferSource, message as BufferSource);
      } catch {
        return false; // key import rejects invalid points: that is an invalid signature, not a crash
      }
    },
  };
}

let probed: Promise<Ed25519Engine> | undefined;

/**
 * The fastest engine this runtime offers, probed once with a real sign+verify
 * (some browsers expose the Ed25519 name but not the algorithm).
 */
export function defaultEd25519Engine(): Promise<Ed25519Engine> {
  probed ??= (async () => {
    const subtle = globalThis.crypto?.subtle;
    if (subtle) {
      try {
        const engine = createWebCryptoEngine(subtle);
        const kp = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
        const msg = Uint8Array.of(1, 2, 3);
        const sig = await engine.sign(msg, kp.secretKey as SigningSecretKey);
        if (await engine.verify(msg, sig, kp.publicKey as SigningPublicKey)) return engine;
      } catch {
        // WebCrypto without Ed25519: fall through to the pure-JS engine.
      }
    }
    return nobleEngine;
  })();
  return probed;
}
