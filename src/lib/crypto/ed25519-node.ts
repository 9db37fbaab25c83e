/**
 * Ed25519 on node:crypto (OpenSSL), synchronous. A single WebCrypto call in Node also runs
 * synchronously, but with more overhead per call (measured ~113 µs vs 200–280 µs per verify);
 * WebCrypto wins only when many calls overlap. For the relay and Node clients; browsers use
 * WebCrypto. Same strictness wrapper as every engine (`verifyDetached`).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { toHex } from './bytes.ts';
import type { Ed25519Engine } from './ed25519.ts';
import type { Signature } from './keys.ts';

// DER prefixes of PKCS#8 / SPKI Ed25519 keys (RFC 8410): prefix ‖ 32 raw bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function cached<K>(limit: number): (id: string, make: () => K) => K {
  const map = new Map<string, K>();
  return (id, make) => {
    let k = map.get(id);
    if (k === undefined) {
      if (map.size >= limit) map.delete(map.keys().next().value!);
      k = make();
      map.set(id, k);
    }
    return k;
  };
}

export function createNodeCryptoEngine(): Ed25519Engine {
  const publicKeys = cached<KeyObject | null>(4096);
  const secretKeys = cached<KeyObject>(64);
  return {
    name: 'node',
    async sign(message, secretKey) {
      const key = secretKeys(toHex(secretKey.subarray(32)), () =>
        createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' }),
      );
      return new Uint8Array(sign(null, message, key)) as Signature;
    },
    async verify(message, signature, publicKey) {
      const key = publicKeys(toHex(publicKey), () => {
        try {
          return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
        } catch {
          return null; // not a point: every signature under it is invalid
        }
      });
      return key !== null && verify(null, message, key, signature);
    },
  };
}
