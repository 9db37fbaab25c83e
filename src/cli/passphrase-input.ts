/**
 * Where the keyring passphrase comes from: VAULT_PASSPHRASE (scripts, CI), else a prompt without
 * echo when stdin is a terminal, else a typed error (never a silent default passphrase).
 *
 * VAULT_TEST_WEAK_KDF=1 lowers the KDF cost to WEAK_TEST_SCRYPT for new keyrings and accepts it
 * on read: for tests only (documented in README and docs/decisions/0018), and announced on
 * stderr every time so it is never silent.
 */
import {
  DEFAULT_SCRYPT,
  PASSPHRASE_LIMITS,
  WEAK_TEST_LIMITS,
  WEAK_TEST_SCRYPT,
  type PassphraseLimits,
  type ScryptParams,
} from '../lib/crypto/passphrase.ts';
import { CliError } from './errors.ts';

export interface KdfPolicy {
  readonly params: ScryptParams;
  readonly limits: PassphraseLimits;
}

export function kdfPolicy(env: NodeJS.ProcessEnv): KdfPolicy {
  if (env.VAULT_TEST_WEAK_KDF !== '1') return { params: DEFAULT_SCRYPT, limits: PASSPHRASE_LIMITS };
  process.stderr.write(`${JSON.stringify({ warning: 'VAULT_TEST_WEAK_KDF=1: keyring KDF cost lowered for tests; never use it for real data' })}\n`);
  return { params: WEAK_TEST_SCRYPT, limits: WEAK_TEST_LIMITS };
}

export async function readPassphrase(env: NodeJS.ProcessEnv, prompt: string): Promise<string> {
  const fromEnv = env.VAULT_PASSPHRASE;
  if (fromEnv !== undefined) {
    if (fromEnv === '') throw new CliError('CLI_NO_PASSPHRASE', 'VAULT_PASSPHRASE is empty');
    return fromEnv;
  }
  if (!process.stdin.isTTY) throw new CliError('CLI_NO_PASSPHRASE', 'no passphrase: set VAULT_PASSPHRASE or run in a terminal');
  const typed = await promptHidden(prompt);
  if (typed === '') throw new CliError('CLI_NO_PASSPHRASE', 'an empty passphrase is not accepted');
  return typed;
}

/** Reads one line from the terminal in raw mode, echoing nothing; Ctrl-C aborts. */
export function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (err?: CliError) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new CliError('CLI_NO_PASSPHRASE', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
