import { CodedError } from '../../errors.ts';

/**
 * SMART Health Link errors of the device side (docs/decisions/0031). They sit at the end of the
 * vault range (src/lib/vault/errors.ts spreads this table into VaultErrors, so one number means
 * one thing); interop may not import the vault, hence the table lives here. Messages never carry
 * the link, its key, the passcode or anything decrypted.
 */
export const ShlErrors = {
  /** The text is not a conformant `shlink:/` payload (shape, key, url, flags, label, version). */
  SHL_MALFORMED: 280,
  /** The link's `exp` is past (checked before anything is fetched). */
  SHL_EXPIRED: 281,
  /** Flag P: a passcode is needed and none was given. */
  SHL_PASSCODE_REQUIRED: 282,
  /** The manifest server refused the passcode (401); `remainingAttempts` says how many are left. */
  SHL_PASSCODE_WRONG: 283,
  /** The manifest server answered 404: unknown, revoked, expired, or out of passcode attempts. */
  SHL_NOT_FOUND: 284,
  /** The JWE did not decrypt with the link's key, or its header is not dir/A256GCM. */
  SHL_DECRYPT_FAILED: 285,
  /** No file of a content type this viewer shows (application/fhir+json). */
  SHL_CONTENT_UNSUPPORTED: 286,
  /** The manifest or a file could not be fetched (network, timeout, a bad answer, over the size cap). */
  SHL_FETCH_FAILED: 287,
  /** The relay refused to store or revoke a link (not an owner, quota, no such link). */
  SHL_REFUSED: 288,
} as const;

export type ShlErrorCode = keyof typeof ShlErrors;

export class ShlError extends CodedError<ShlErrorCode> {
  /** Set with SHL_PASSCODE_WRONG: attempts the server still allows for this link. */
  readonly remainingAttempts: number | undefined;
  constructor(code: ShlErrorCode, message: string, remainingAttempts?: number) {
    super(code, ShlErrors[code], message);
    this.remainingAttempts = remainingAttempts;
  }
}
