import { CodedError } from '../../errors.ts';

/**
 * SMART Health Link errors of the device side (docs/decisions/0031). They sit at the end of the
 * vault range (src/lib/vault/errors.ts spreads this table into VaultErrors, so one number means
 * one thing); interop may not import the vault, hence the table lives here. Messages never carry
 * the link, its key, the passcode or anything decrypted.
 */
export const ShlErrors = {
  /** The text is not a conformant `shlink:/` payload (shape, key, url, flags, label, version). */
  SHL_MALFORMED: 290,
  /** The link's `exp` is past (checked before anything is fetched). */
  SHL_EXPIRED: 291,
  /** Flag P: a passcode is needed and none was given. */
  SHL_PASSCODE_REQUIRED: 292,
  /** The manifest server refused the passcode (401); `remainingAttempts` says how many are left. */
  SHL_PASSCODE_WRONG: 293,
  /** The manifest server answered 404: unknown, revoked, expired, or out of passcode attempts. */
  SHL_NOT_FOUND: 294,
  /** The JWE did not decrypt with the link's key, or its header is not dir/A256GCM. */
  SHL_DECRYPT_FAILED: 295,
  /** No file of a content type this viewer shows (application/fhir+json). */
  SHL_CONTENT_UNSUPPORTED: 296,
  /** The manifest or a file could not be fetched (network, timeout, a bad answer, over the size cap). */
  SHL_FETCH_FAILED: 297,
  /** The relay refused to store or revoke a link (not an owner, quota, no such link). */
  SHL_REFUSED: 298,
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
