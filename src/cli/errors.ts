import { CodedError } from '../lib/errors.ts';

/**
 * CLI errors (range 300-399 of src/lib/errors.ts): a stable code, a message that never echoes
 * record content. Numbers never change meaning and are never reused: a retired code keeps its line.
 */
export const CliErrors = {
  CLI_USAGE: 300,
  CLI_EXISTS: 301,
  CLI_NO_IDENTITY: 302,
  /** The keyring file is missing parts, not JSON, or of an unknown version. */
  CLI_BAD_KEYRING: 303,
  CLI_UNKNOWN_PROFILE: 304,
  CLI_BAD_BUNDLE: 305,
  CLI_BAD_JSON: 306,
  CLI_NO_RELAY: 307,
  /** The relay refused this device, or sync ended with problems (printed in the status). */
  CLI_SYNC_FAILED: 308,
  /** Retired: invite errors now print their own code (INVITE_*). Kept so 309 is never reused. */
  CLI_INVITE: 309,
  /** A bug: anything that is not a typed error (only its name is printed). */
  CLI_INTERNAL: 310,
  /** Another process holds this device directory. */
  CLI_LOCKED: 311,
  /** The relay answered but did not finish in --timeout. */
  CLI_TIMEOUT: 312,
  /** No connection to the relay within --timeout. */
  CLI_RELAY_UNREACHABLE: 313,
  /** The connection to the relay dropped before the command finished. */
  CLI_RELAY_LOST: 314,
  /** --relay is not a ws:// or wss:// URL. */
  CLI_BAD_RELAY: 315,
  /** Wrong passphrase, or the keyring's sealed part was altered (the two cannot be told apart). */
  CLI_BAD_PASSPHRASE: 316,
  /** No VAULT_PASSPHRASE and no terminal to ask on. */
  CLI_NO_PASSPHRASE: 317,
  /** The local store is unreadable, or lost data the keyring says it had. */
  CLI_DAMAGED_STORE: 318,
  /** This device's role does not allow the command (a viewer's write, a non-owner's sharing change). */
  CLI_NOT_ALLOWED: 319,
  /** This device holds no key for the profile's current epoch: it cannot read or write it. */
  CLI_NO_KEY: 320,
  /** Not a health-record section (see README for the list). */
  CLI_UNKNOWN_SECTION: 321,
  /** An audit chain failed verification (details on stderr). */
  CLI_AUDIT_BROKEN: 322,
  /** No member or device with that key in this profile. */
  CLI_UNKNOWN_MEMBER: 323,
  /** `export --format` is not json, fhir, ips, csv or pdf. */
  EXPORT_UNKNOWN_FORMAT: 324,
  /** Retired: pdf export is built (issue 12 item 4). Kept so 325 is never reused. */
  EXPORT_NOT_AVAILABLE: 325,
  /** `export --format csv --section` is not vitals, labs, doses or journal. */
  EXPORT_UNKNOWN_LOG: 326,
  /** `--out` could not be written (its errno code only). */
  EXPORT_WRITE_FAILED: 327,
  /** `export --format pdf` without --out while stdout is a terminal: binary is never written there. */
  EXPORT_BINARY_TO_TERMINAL: 328,
  /** `export --format pdf --pdf` is not visit or emergency. */
  EXPORT_UNKNOWN_PDF: 329,
  /** `backup` without --code-file while stdout is not a terminal: the recovery code is never written to a pipe or log. */
  BACKUP_CODE_NOWHERE: 335,
  /** `backup --code-file` could not create the file, or `restore --code-file` could not read it (its errno code only). */
  BACKUP_CODE_FILE_FAILED: 336,
} as const;

export type CliErrorCode = keyof typeof CliErrors;

export class CliError extends CodedError<CliErrorCode> {
  /** Extra structured detail that is safe to print (schema issue paths, never values). */
  readonly detail: Record<string, unknown> | undefined;
  constructor(code: CliErrorCode, message: string, detail?: Record<string, unknown>) {
    super(code, CliErrors[code], message);
    this.detail = detail;
  }
}

export interface ErrorReport {
  readonly code: string;
  /** The code's stable number; null for a layer whose errors do not carry numbers yet. */
  readonly number: number | null;
  readonly message: string;
  readonly [extra: string]: unknown;
}

/**
 * The one line a failed command prints on stderr. Any error with a string `code` (CodedError,
 * and the vault, invite and record errors) keeps its own code and number; anything else is a bug
 * and prints only its name (a message could carry content).
 */
export function errorReport(e: unknown): ErrorReport {
  if (e instanceof CliError) return { code: e.code, number: e.number, message: e.message, ...e.detail };
  const coded = e as { code?: unknown; number?: unknown; message?: unknown; issues?: unknown; reason?: unknown } | null;
  if (e instanceof Error && typeof coded?.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(coded.code)) {
    return {
      code: coded.code,
      number: typeof coded.number === 'number' ? coded.number : null,
      message: e.message,
      ...(Array.isArray(coded.issues) && coded.issues.length > 0 ? { issues: coded.issues } : {}),
      ...(typeof coded.reason === 'string' ? { reason: coded.reason } : {}),
    };
  }
  return { code: 'CLI_INTERNAL', number: CliErrors.CLI_INTERNAL, message: `internal error (${e instanceof Error ? e.name : typeof e})` };
}

/** Exit status: 2 for usage errors (as getopt tools do), 1 for everything else. */
export const exitCodeOf = (r: ErrorReport): number => (r.code === 'CLI_USAGE' ? 2 : 1);
