/**
 * Typed errors of the vault facade: a stable `.code` for the UI and CLI to branch on, and a
 * human message that never echoes a secret, a key or record content.
 */
export type VaultErrorCode =
  | 'RECOVERY_MALFORMED'
  | 'RECOVERY_CHECKSUM'
  | 'LINK_MALFORMED'
  | 'LINK_EXPIRED'
  | 'LINK_USED'
  | 'VAULT_NOT_FOUND'
  | 'PROFILE_UNKNOWN'
  | 'INVITE_MALFORMED'
  | 'INVITE_REFUSED'
  | 'INVITE_NO_KEY'
  | 'INVITE_TIMEOUT'
  | 'KEYSTORE_UNWRAP_FAILED'
  | 'RECORD_INVALID'
  | 'RECORD_NOT_FOUND'
  | 'RECORD_READ_ONLY'
  /** An owner-only action (invite, session, members, devices, rotation) by someone who is not an owner. */
  | 'NOT_OWNER'
  | 'RELAY_UNREACHABLE'
  | 'SESSION_NO_IDENTITY'
  | 'BLOB_TAMPERED'
  | 'BLOB_NOT_FOUND'
  | 'BLOB_TOO_LARGE'
  | 'BLOB_REFUSED'
  | 'BLOB_UPLOAD_FAILED';

export class VaultError extends Error {
  readonly code: VaultErrorCode;
  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
  }
}
