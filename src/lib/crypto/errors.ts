/** Typed crypto errors: a stable code plus a message that never contains key or plaintext bytes. */
export type CryptoErrorCode =
  | 'CRYPTO_BAD_KEY_LENGTH'
  | 'CRYPTO_BAD_SIGNATURE_LENGTH'
  | 'CRYPTO_BAD_NONCE_LENGTH'
  | 'CRYPTO_SMALL_ORDER_KEY'
  | 'CRYPTO_ZERO_SHARED_SECRET'
  | 'CRYPTO_UNAVAILABLE';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'CryptoError';
    this.code = code;
  }
}
