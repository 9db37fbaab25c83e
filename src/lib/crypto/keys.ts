import nacl from 'tweetnacl';
import { CryptoError } from './errors.ts';
import type { RandomSource } from './random.ts';
import { secureRandom } from './random.ts';

/**
 * Key kinds are branded so a box key can never be passed where a signing key is expected.
 * Construct them only through the `as*` checkers or the generators below.
 */
export type SigningPublicKey = Uint8Array & { readonly __brand: 'SigningPublicKey' };
/** 64 bytes, tweetnacl layout: seed(32) ‖ public key(32). */
export type SigningSecretKey = Uint8Array & { readonly __brand: 'SigningSecretKey' };
export type BoxPublicKey = Uint8Array & { readonly __brand: 'BoxPublicKey' };
export type BoxSecretKey = Uint8Array & { readonly __brand: 'BoxSecretKey' };
export type SymmetricKey = Uint8Array & { readonly __brand: 'SymmetricKey' };
export type Signature = Uint8Array & { readonly __brand: 'Signature' };

export interface SigningKeyPair {
  readonly publicKey: SigningPublicKey;
  readonly secretKey: SigningSecretKey;
}
export interface BoxKeyPair {
  readonly publicKey: BoxPublicKey;
  readonly secretKey: BoxSecretKey;
}

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CryptoError('CRYPTO_BAD_KEY_LENGTH', `${what} must be ${length} bytes`);
  }
}

export function asSigningPublicKey(b: Uint8Array): SigningPublicKey {
  checkLength(b, 32, 'signing public key');
  return b as SigningPublicKey;
}
export function asSigningSecretKey(b: Uint8Array): SigningSecretKey {
  checkLength(b, 64, 'signing secret key');
  return b as SigningSecretKey;
}
export function asBoxPublicKey(b: Uint8Array): BoxPublicKey {
  checkLength(b, 32, 'box public key');
  return b as BoxPublicKey;
}
export function asBoxSecretKey(b: Uint8Array): BoxSecretKey {
  checkLength(b, 32, 'box secret key');
  return b as BoxSecretKey;
}
export function asSymmetricKey(b: Uint8Array): SymmetricKey {
  checkLength(b, 32, 'symmetric key');
  return b as SymmetricKey;
}

export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  checkLength(seed, 32, 'signing seed');
  const kp = nacl.sign.keyPair.fromSeed(seed);
  return { publicKey: kp.publicKey as SigningPublicKey, secretKey: kp.secretKey as SigningSecretKey };
}

export function generateSigningKeyPair(random: RandomSource = secureRandom): SigningKeyPair {
  return signingKeyPairFromSeed(random(32));
}

export function boxKeyPairFromSecretKey(secretKey: Uint8Array): BoxKeyPair {
  checkLength(secretKey, 32, 'box secret key');
  const kp = nacl.box.keyPair.fromSecretKey(secretKey);
  return { publicKey: kp.publicKey as BoxPublicKey, secretKey: kp.secretKey as BoxSecretKey };
}

export function generateBoxKeyPair(random: RandomSource = secureRandom): BoxKeyPair {
  return boxKeyPairFromSecretKey(random(32));
}

export function generateSymmetricKey(random: RandomSource = secureRandom): SymmetricKey {
  return random(32) as SymmetricKey;
}

export const signingSeed = (sk: SigningSecretKey): Uint8Array => sk.subarray(0, 32);
export const signingPublicKeyOf = (sk: SigningSecretKey): SigningPublicKey => sk.subarray(32, 64) as SigningPublicKey;
