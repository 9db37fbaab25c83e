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
  // Names and leaving a profile (206-209, docs/decisions/0038).
  /** A name, label or nickname that is empty once trimmed: nothing was written. */
  NAME_EMPTY: 206,
  /** A name, label or nickname longer than its limit: nothing was written. */
  NAME_TOO_LONG: 207,
  /** The only owner of a profile asked to leave it (it would be left with nobody to manage it). */
  LEAVE_LAST_OWNER: 208,
  /** Leaving needs the relay to take the departure before this device drops its copy. */
  LEAVE_NOT_SENT: 209,
  // Device links (210-219).
  LINK_MALFORMED: 210,
  LINK_EXPIRED: 211,
  LINK_USED: 212,
  /** A device asked to revoke itself (it must leave instead). */
  DEVICE_REVOKE_SELF: 213,
  // Joining from an invite on a device (214-219; docs/decisions/0039).
  /** A guest (memory-only keys) was offered an invite whose access never ends: it would leave a member nobody can use. */
  GUEST_NEEDS_SESSION: 214,
  // Invites (220-229).
  INVITE_MALFORMED: 220,
  INVITE_REFUSED: 221,
  INVITE_NO_KEY: 222,
  INVITE_TIMEOUT: 223,
  // Record content (224-229; issue 13).
  /**
   * A vital sign outside what a living person can measure (crdt-schemas/health/plausibility.ts):
   * the typed `code` of a schema issue inside RECORD_INVALID, at the value's path.
   */
  VITAL_IMPLAUSIBLE: 224,
  // Profiles and records (230-239).
  PROFILE_UNKNOWN: 230,
  RECORD_INVALID: 231,
  RECORD_NOT_FOUND: 232,
  RECORD_READ_ONLY: 233,
  /** An owner-only action (invite, session, members, devices, rotation) by someone who is not an owner. */
  NOT_OWNER: 234,
  /** A download or export asked in a memory-only guest session, which promises to keep nothing on the device. */
  EXPORT_GUEST: 235,
  // The relay (240-249).
  /** The relay did not answer (network down, or no catch-up in time). */
  RELAY_UNREACHABLE: 240,
  /** This device or profile has no relay URL at all, and the action needs one. */
  RELAY_NOT_CONFIGURED: 241,
  // Privacy outside the encrypted store (242-245, docs/decisions/0042).
  /** This device's sealed name and label do not open (another key, a flipped byte, another format). */
  DEVICE_NAMES_UNREADABLE: 242,
  // The app lock (246-249, 257-259; docs/decisions/0043).
  /** The passkey's PRF output does not open this device's keys (another passkey, or a damaged lock). */
  LOCK_WRONG_KEY: 246,
  /** This browser or passkey does not offer the PRF extension: no passkey lock is possible with it. */
  LOCK_NO_PRF: 247,
  /** The PIN typed is not this device's PIN. */
  LOCK_WRONG_PIN: 248,
  /** Too many wrong PINs in a row: the next try is refused for a while. */
  LOCK_PIN_PAUSED: 249,
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
  /** This device's keys are locked: unlock first (app lock, 246-249). */
  APP_LOCKED: 257,
  /** The passkey prompt was cancelled, timed out, or the authenticator refused. */
  LOCK_PASSKEY_FAILED: 258,
  /** A PIN too short or not digits, or an idle time out of range: nothing changed. */
  LOCK_SETTING_INVALID: 259,
  // Imports of FHIR R4 files (260-279, docs/decisions/0029): whole-file refusals (260-266, the
  // profile is unchanged) and per-resource `rejected` codes (267-273, the rest is imported).
  IMPORT_NOT_JSON: 260,
  IMPORT_NOT_FHIR: 261,
  IMPORT_FHIR_VERSION: 262,
  IMPORT_TOO_LARGE: 263,
  IMPORT_UNSUPPORTED_BUNDLE: 264,
  IMPORT_PATIENT_MISMATCH: 265,
  IMPORT_MULTIPLE_PATIENTS: 266,
  IMPORT_RESOURCE_INVALID: 267,
  IMPORT_BROKEN_REFERENCE: 268,
  IMPORT_NO_RESOURCE: 269,
  IMPORT_DUPLICATE: 270,
  IMPORT_UNSUPPORTED_REQUEST: 271,
  IMPORT_OTHER_PATIENT: 272,
  IMPORT_NOT_A_RESOURCE: 273,
  // Resolving an import conflict (274-276, docs/decisions/0037).
  /** The record holds no incoming version waiting beside a device's edit. */
  IMPORT_NO_CONFLICT: 274,
  /** The waiting version is not the one the person chose from (a later import replaced it): nothing changed. */
  IMPORT_CONFLICT_CHANGED: 275,
  // Erasing a profile everywhere (274-279, docs/decisions/0035).
  /** Erasing a profile is for its owners. */
  ERASE_NOT_OWNER: 277,
  /** The confirmation typed does not match the profile's name: nothing was erased. */
  ERASE_CONFIRM_MISMATCH: 278,
  /** The relay refused the profile as erased but gave no tombstone that verifies here: the copy is kept. */
  ERASE_UNCONFIRMED: 279,
  // Backups (290-298, docs/decisions/0033).
  /** The file does not start with the backup magic. */
  BACKUP_NOT_AN_ARCHIVE: 290,
  /** A backup format version or KDF this build does not read. */
  BACKUP_VERSION: 291,
  /** The recovery code is not the one this backup was made with. */
  BACKUP_WRONG_CODE: 292,
  /** Cut short, altered, reordered or extended: nothing was restored. */
  BACKUP_DAMAGED: 293,
  /** A restore where a vault already exists, without --force. */
  BACKUP_VAULT_EXISTS: 294,
  /** The archive opened, but its records failed the checks every received record passes: nothing was restored. */
  BACKUP_REJECTED: 295,
  /** The erase order was sealed, but the relay did not confirm it stored it (offline, cut, timed out): the copy is kept; the next sync sends it. */
  ERASE_NOT_STORED: 296,
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
