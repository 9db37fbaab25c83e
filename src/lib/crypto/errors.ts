import { CodedError } from '../errors.ts';

/**
 * Crypto errors (range 1-99 of src/lib/errors.ts): programming or input-shape mistakes caught
 * before any key is used. Numbers never change meaning; docs/errors.md gives each its policy.
 * Messages never contain key or plaintext bytes.
 */
export const CryptoErrors = {
  CRYPTO_BAD_KEY_LENGTH: 1,
  CRYPTO_BAD_NONCE_LENGTH: 2,
  /** The X25519 shared secret is all zeros: the peer's box key is of low order. */
  CRYPTO_ZERO_SHARED_SECRET: 3,
} as const;

export type CryptoErrorCode = keyof typeof CryptoErrors;

export class CryptoError extends CodedError<CryptoErrorCode> {
  constructor(code: CryptoErrorCode, message: string) {
    super(code, CryptoErrors[code], `${code}: ${message}`);
  }
}
