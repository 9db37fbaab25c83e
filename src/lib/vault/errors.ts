import { CodedError } from '../errors.ts';
import { ShlErrors } from '../interop/shl/errors.ts';

/**
 * Errors of the vault facade (range 200-299 of src/lib/errors.ts): a stable `.code` for the UI
 * and CLI to branch on, and a human message that never echoes a secret, a key or record content.
 * Grouped by tens; numbers never change meaning, new codes take a free number in their group.
 * docs/errors.md gives each its recovery policy.
 */
export const VaultErrors = {
  // Identity, recovery and this device's key store (200-209).
  /** Also returned by crypto's decodeRecoveryCode: crypto may not import the vault, tests/errors.test.ts checks the two agree. */
  RECOVERY_MALFORMED: 200,
  RECOVERY_CHECKSUM: 201,
  VAULT_NOT_FOUND: 202,
  SESSION_NO_IDENTITY: 203,
  KEYSTORE_UNWRAP_FAILED: 204,
  /** The device certificate kept next to the wrapped keys does not decode. */
  KEYSTORE_BAD_CERT: 205,
  // Device links (210-219).
  LINK_MALFORMED: 210,
  LINK_EXPIRED: 211,
  LINK_USED: 212,
  /** A device asked to revoke itself (it must leave instead). */
  DEVICE_REVOKE_SELF: 213,
  // Invites (220-229).
  INVITE_MALFORMED: 220,
  INVITE_REFUSED: 221,
  INVITE_NO_KEY: 222,
  INVITE_TIMEOUT: 223,
  // Profiles and records (230-239).
  PROFILE_UNKNOWN: 230,
  RECORD_INVALID: 231,
  RECORD_NOT_FOUND: 232,
  RECORD_READ_ONLY: 233,
  /** An owner-only action (invite, session, members, devices, rotation) by someone who is not an owner. */
  NOT_OWNER: 234,
  // The relay (240-249).
  /** The relay did not answer (network down, or no catch-up in time). */
  RELAY_UNREACHABLE: 240,
  /** This device or profile has no relay URL at all, and the action needs one. */
  RELAY_NOT_CONFIGURED: 241,
  // Document files (250-259).
  BLOB_TAMPERED: 250,
  BLOB_NOT_FOUND: 251,
  BLOB_TOO_LARGE: 252,
  BLOB_REFUSED: 253,
  BLOB_UPLOAD_FAILED: 254,
  /** The relay answered a file download with an error other than 401/403/404. */
  BLOB_DOWNLOAD_FAILED: 255,
  /** The document record names no stored file (nothing to download). */
  BLOB_NOT_ATTACHED: 256,
  // SMART Health Links (290-298): the table is interop's (src/lib/interop/shl/errors.ts).
  ...ShlErrors,
  /** Opened from this device's plain-state cache, which did not match the verified records: reopen first. */
  PROFILE_REBUILD_NEEDED: 299,
} as const;

export type VaultErrorCode = keyof typeof VaultErrors;

export class VaultError extends CodedError<VaultErrorCode> {
  constructor(code: VaultErrorCode, message: string) {
    super(code, VaultErrors[code], message);
  }
}

/** A message for a person: the typed error's own text, or a fixed one (never an exception's raw text). */
export function describeError(e: unknown): string {
  if (e instanceof VaultError) return e.message;
  return 'Something went wrong on this device. Your data is unchanged; please try again.';
}
