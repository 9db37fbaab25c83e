/** CLI errors: a stable code and a message that never echoes record content. */
export type CliErrorCode =
  | 'CLI_USAGE'
  | 'CLI_EXISTS'
  | 'CLI_NO_IDENTITY'
  | 'CLI_BAD_KEYRING'
  | 'CLI_UNKNOWN_PROFILE'
  | 'CLI_BAD_BUNDLE'
  | 'CLI_BAD_JSON'
  | 'CLI_NO_RELAY'
  | 'CLI_SYNC_FAILED'
  | 'CLI_INVITE';

export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
