/**
 * The app lock's record, kept inside this device's stored record (storage/device-store.ts) so the
 * keys it re-wraps and the lock itself are saved in one write. What each field means and why is
 * vault/app-lock.ts's business (docs/decisions/0043); storage only keeps it.
 */
export interface SealedBytes {
  readonly iv: string;
  readonly ct: string;
}

/** Keys wrapped under a secret only the passkey's PRF output opens (a real key lock). */
export interface PasskeyLockRecord {
  readonly v: 1;
  readonly kind: 'passkey';
  /** The WebAuthn credential id (base64url). */
  readonly credentialId: string;
  /** The PRF input (base64url, 32 bytes). */
  readonly salt: string;
  /** The lock secret, AES-GCM under a key derived from the PRF output. */
  readonly sealed: SealedBytes;
  readonly idleMinutes: number;
}

/** A UI lock: the keys stay under the non-extractable device key; the PIN only gates the screen. */
export interface PinLockRecord {
  readonly v: 1;
  readonly kind: 'pin';
  /** HMAC-SHA-256 key, non-extractable. */
  readonly pinKey: CryptoKey;
  readonly salt: string;
  readonly tag: string;
  readonly idleMinutes: number;
  /** Wrong PINs in a row, and until when the next try is refused (ms since epoch; 0 = none). */
  readonly failures: number;
  readonly pausedUntil: number;
}

export type LockRecord = PasskeyLockRecord | PinLockRecord;
