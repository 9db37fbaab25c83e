/**
 * Command-line parsing: strict (an unknown option is a CLI_USAGE error, never a stack trace),
 * and the small parsers every command shares (roles, member codes, timeouts, relay URLs).
 */
import { parseArgs } from 'node:util';
import { asBoxPublicKey, asSigningPublicKey, fromBase64Url, fromHex, toBase64Url, type BoxPublicKey, type SigningPublicKey } from '../lib/crypto/index.ts';
import { Role, type RoleName } from '../lib/vault/app.ts';
import { CliError } from './errors.ts';

export interface CliArgs {
  readonly command: string | undefined;
  readonly args: readonly string[];
  readonly dir: string;
  readonly relay: string | undefined;
  readonly members: readonly string[];
  readonly minutes: string | undefined;
  readonly origin: string | undefined;
  readonly append: string | undefined;
  /** `import`: import even if the file's patient differs from the profile's person; `restore`: move an existing vault aside first. */
  readonly force: boolean;
  /** export: --format, --out, --section (src/cli/commands/export.ts), --pdf (pdf-export.ts); backup: --out. */
  readonly format: string | undefined;
  readonly out: string | undefined;
  readonly section: string | undefined;
  readonly pdf: string | undefined;
  /** share-link: --passcode, --expires, --label (src/cli/commands/shl.ts). */
  readonly passcode: string | undefined;
  readonly expires: string | undefined;
  readonly label: string | undefined;
  /** erase: the profile's alias typed again (src/cli/commands/erase.ts). */
  readonly confirm: string | undefined;
  /** backup: where the recovery code goes (a new 0600 file); restore: where it is read from. */
  readonly codeFile: string | undefined;
  readonly timeoutMs: number;
}

/** Network commands give up after this long unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT_S = 20;
const MAX_TIMEOUT_S = 3600;

/**
 * The CLI has no short options, so a word starting with one dash is an argument, never an option:
 * profile names and codes are base64url and start with '-' one time in 64 (`vault join mum -Ab…`
 * was refused as an unknown option `-A`). Such words go through parseArgs as placeholders.
 */
const DASH_WORD = /^-[^-]/;
const placeholder = (i: number) => `\u0000${i}`;

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliArgs {
  const dashWords = argv.filter((a) => DASH_WORD.test(a));
  const restore = (a: string): string => (a.startsWith('\u0000') ? (dashWords[Number(a.slice(1))] ?? a) : a);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.map((a) => (DASH_WORD.test(a) ? placeholder(dashWords.indexOf(a)) : a)),
      allowPositionals: true,
      strict: true,
      options: {
        dir: { type: 'string' },
        relay: { type: 'string' },
        member: { type: 'string', multiple: true },
        minutes: { type: 'string' },
        origin: { type: 'string' },
        append: { type: 'string' },
        timeout: { type: 'string' },
        force: { type: 'boolean' },
        format: { type: 'string' },
        out: { type: 'string' },
        section: { type: 'string' },
        pdf: { type: 'string' },
        passcode: { type: 'string' },
        expires: { type: 'string' },
        label: { type: 'string' },
        confirm: { type: 'string' },
        'code-file': { type: 'string' },
      },
    });
  } catch (e) {
    // node:util's message names the option, never a value.
    throw new CliError('CLI_USAGE', (e as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const values = Object.fromEntries(Object.entries(parsed.values).map(([k, v]) => [k, Array.isArray(v) ? v.map(restore) : typeof v === 'string' ? restore(v) : v])) as typeof parsed.values;
  const [command, ...args] = parsed.positionals.map(restore);
  return {
    command,
    args,
    dir: values.dir ?? env.VAULT_DIR ?? './.vault',
    relay: values.relay === undefined ? undefined : parseRelayUrl(values.relay),
    members: values.member ?? [],
    minutes: values.minutes,
    origin: values.origin,
    append: values.append,
    force: values.force === true,
    format: values.format,
    out: values.out,
    section: values.section,
    pdf: values.pdf,
    passcode: values.passcode,
    expires: values.expires,
    label: values.label,
    confirm: values.confirm,
    codeFile: values['code-file'],
    timeoutMs: parseTimeout(values.timeout),
  };
}

/** The positional arguments after the command: at least `min`, at most `max`. */
export function need(a: CliArgs, min: number, usage: string, max = min): string[] {
  if (a.args.length < min) throw new CliError('CLI_USAGE', `usage: vault ${usage}`);
  if (a.args.length > max) throw new CliError('CLI_USAGE', `too many arguments; usage: vault ${usage}`);
  return [...a.args];
}

function parseTimeout(s: string | undefined): number {
  if (s === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_S) throw new CliError('CLI_USAGE', `--timeout is a number of seconds between 0 and ${MAX_TIMEOUT_S}`);
  return Math.round(n * 1000);
}

/** Only ws:// and wss:// URLs with a host; checked before anything is saved. */
export function parseRelayUrl(s: string): string {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new CliError('CLI_BAD_RELAY', 'the relay URL must look like ws://host:port or wss://host');
  }
  if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || !url.hostname || url.username || url.password || url.search || url.hash) {
    throw new CliError('CLI_BAD_RELAY', 'the relay URL must look like ws://host:port or wss://host (no credentials, query or fragment)');
  }
  return s.replace(/\/$/, '');
}

export function parseRole(name: string | undefined): (typeof Role)[RoleName] {
  if (!name || !Object.hasOwn(Role, name)) throw new CliError('CLI_USAGE', `role must be one of: ${Object.keys(Role).join(', ')}`);
  return Role[name as RoleName];
}

/**
 * What `whoami` prints for another device to add this one: both public keys in one string,
 * `m1.<base64url(signing ‖ box)>`. A bare 64-hex signing key is still accepted (that member then
 * gets no lockbox and needs an access bundle: the fallback).
 */
export interface MemberCode {
  readonly publicKey: SigningPublicKey;
  readonly boxKey: BoxPublicKey | undefined;
}

const MEMBER_PREFIX = 'm1.';

export function formatMemberCode(publicKey: Uint8Array, boxKey: Uint8Array): string {
  const both = new Uint8Array(64);
  both.set(publicKey, 0);
  both.set(boxKey, 32);
  return MEMBER_PREFIX + toBase64Url(both);
}

export function parseMemberCode(s: string | undefined): MemberCode {
  const bad = () => new CliError('CLI_USAGE', 'a member is the "member" code printed by "vault whoami" (or a 64-hex signing key)');
  if (!s) throw bad();
  try {
    if (s.startsWith(MEMBER_PREFIX)) {
      const both = fromBase64Url(s.slice(MEMBER_PREFIX.length));
      if (both.length !== 64) throw bad();
      return { publicKey: asSigningPublicKey(both.slice(0, 32)), boxKey: asBoxPublicKey(both.slice(32)) };
    }
    if (!/^[0-9a-f]{64}$/i.test(s)) throw bad();
    return { publicKey: asSigningPublicKey(fromHex(s)), boxKey: undefined };
  } catch {
    throw bad();
  }
}

/** `--member CODE:ROLE` (the code contains no colon). */
export function parseMemberWithRole(s: string): MemberCode & { role: (typeof Role)[RoleName] } {
  const i = s.lastIndexOf(':');
  if (i < 0) throw new CliError('CLI_USAGE', '--member takes CODE:ROLE (CODE from "vault whoami")');
  return { ...parseMemberCode(s.slice(0, i)), role: parseRole(s.slice(i + 1)) };
}
