import nacl from 'tweetnacl';
import { isAllZero } from './bytes.ts';
import { CryptoError } from './errors.ts';
import type { BoxPublicKey, BoxSecretKey, SymmetricKey } from './keys.ts';

/**
 * X25519 + HSalsa20 shared key (nacl.box.before), refusing an all-zero shared secret:
 * a low-order peer key would otherwise force a predictable key.
 */
export function boxSharedKey(peerPublicKey: BoxPublicKey, ownSecretKey: BoxSecretKey): SymmetricKey {
  const shared = nacl.scalarMult(ownSecretKey, peerPublicKey);
  if (isAllZero(shared)) {
    throw new CryptoError('CRYPTO_ZERO_SHARED_SECRET', 'peer box key is of low order');
  }
  return nacl.box.before(peerPublicKey, ownSecretKey) as SymmetricKey;
}

/** Raw X25519 (RFC 7748), exposed for known-answer tests. */
export function x25519(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  return nacl.scalarMult(scalar, point);
}
