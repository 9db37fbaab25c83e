import { CodedError } from '../lib/errors.ts';

/** CLI errors (range 300-399 of src/lib/errors.ts): a stable code, a message that never echoes record content. */
export const CliErrors = {
  CLI_USAGE: 300,
  CLI_EXISTS: 301,
  CLI_NO_IDENTITY: 302,
  CLI_BAD_KEYRING: 303,
  CLI_UNKNOWN_PROFILE: 304,
  CLI_BAD_BUNDLE: 305,
  CLI_BAD_JSON: 306,
  CLI_NO_RELAY: 307,
  CLI_SYNC_FAILED: 308,
  CLI_INVITE: 309,
} as const;

export type CliErrorCode = keyof typeof CliErrors;

export class CliError extends CodedError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string) {
    super(code, CliErrors[code], message);
  }
}
