/**
 * Runs the CLI as a child process, as a user would. The keyring KDF runs at the explicit test
 * cost (VAULT_TEST_WEAK_KDF=1, documented in README and decision 0018) so each call stays fast.
 */
import { execFile, spawn } from 'node:child_process';

const CLI = new URL('../../src/cli/vault.ts', import.meta.url).pathname;
export const PASSPHRASE = 'test passphrase, synthetic';
/**
 * Each CLI call is a Node process (~1 s on a loaded 2-core machine) and these tests make many:
 * room for that, far above what they take alone. Not a synchronisation wait: nothing sleeps.
 */
export const CLI_TEST_TIMEOUT_MS = 240_000;

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** The error line's content, if the command failed with one. */
  readonly error: { code: string; number: number | null; message: string; [k: string]: unknown } | undefined;
  readonly ms: number;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
}

function errorOf(stderr: string): CliResult['error'] {
  for (const line of stderr.trim().split('\n').reverse()) {
    try {
      const parsed = JSON.parse(line) as { error?: CliResult['error'] };
      if (parsed.error) return parsed.error;
    } catch {
      // not a JSON line (a stack trace would land here, and fail the tests that expect a typed error)
    }
  }
  return undefined;
}

export function vault(dir: string, args: readonly string[], o: RunOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const env: Record<string, string | undefined> = { ...process.env, VAULT_PASSPHRASE: PASSPHRASE, VAULT_TEST_WEAK_KDF: '1', ...o.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((resolve) => {
    // The 120 s limit is a safety net for a broken build, never what a test asserts on.
    execFile(process.execPath, ['--no-warnings', CLI, '--dir', dir, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, out: stdout.trim(), err: stderr.trim(), error: errorOf(stderr), ms: performance.now() - started });
    });
  });
}

/** Same, for a command expected to succeed: fails the test with the error line otherwise. */
export async function ok(dir: string, ...args: string[]): Promise<string> {
  const r = await vault(dir, args);
  if (r.code !== 0) throw new Error(`vault ${args[0]} exited ${r.code}: ${r.err}`);
  return r.out;
}

/** The member code `whoami` prints. */
export async function memberCode(dir: string): Promise<string> {
  return (JSON.parse(await ok(dir, 'whoami')) as { member: string }).member;
}

export { spawn, CLI };
