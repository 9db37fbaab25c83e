/** Argument parsing: words that start with one dash are arguments (base64url names and codes). */
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.ts';
import { CliError } from '../../src/cli/errors.ts';

describe('parseCli', () => {
  it('takes a profile name starting with a dash as an argument, in place', () => {
    const a = parseCli(['join', 'mum', '-AbCdEfGhIjKlMnOpQrStUv', '--relay', 'ws://127.0.0.1:1'], {});
    expect(a.command).toBe('join');
    expect(a.args).toEqual(['mum', '-AbCdEfGhIjKlMnOpQrStUv']);
    expect(a.relay).toBe('ws://127.0.0.1:1');
  });

  it('takes an option value starting with a dash, and keeps repeated dash words apart', () => {
    const a = parseCli(['note', 'mum', 'visits', '--append', '-5 mg since Monday', '--member', '-x:viewer', '--member', '-y:editor'], {});
    expect(a.append).toBe('-5 mg since Monday');
    expect(a.members).toEqual(['-x:viewer', '-y:editor']);
    expect(a.args).toEqual(['mum', 'visits']);
  });

  it('still refuses an unknown long option with a usage error', () => {
    expect(() => parseCli(['sync', 'mum', '--nope'], {})).toThrow(CliError);
  });
});
