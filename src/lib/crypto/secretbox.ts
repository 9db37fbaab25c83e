import nacl from 'tweetnacl';
import { CryptoError } from './errors.ts';
import type { SymmetricKey } from './keys.ts';

export const SECRETBOX_NONCE_LENGTH = 24;
export const SECRETBOX_OVERHEAD = 16;

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== SECRETBOX_NONCE_LENGTH) {
    throw new CryptoError('CRYPTO_BAD_NONCE_LENGTH', 'secretbox nonce must be 24 bytes');
  }
}

/** XSalsa20-Poly1305. Not key-committing and without associated data: callers bind context (see protocol). */
export function secretboxSeal(plaintext: Uint8Array, nonce: Uint8Array, key: SymmetricKey): Uint8Array {
  checkNonce(nonce);
  return nacl.secretbox(plaintext, nonce, key);
}

/** Returns null when authentication fails; never throws on attacker-controlled bytes of the right lengths. */
export function secretboxOpen(ciphertext: Uint8Array, nonce: Uint8Array, key: SymmetricKey): Uint8Array | null {
  checkNonce(nonce);
  if (ciphertext.length < SECRETBOX_OVERHEAD) return null;
  return nacl.secretbox.open(ciphertext, nonce, key);
}
