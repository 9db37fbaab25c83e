/**
 * `vault share-link` and `vault revoke-link` end to end, as a user runs them against a real
 * relay: the printed link opens (with its passcode) to the profile's IPS, revoking it makes the
 * relay answer 404, and bad options are typed usage errors that echo nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSharedLink, ShlError } from '../../src/lib/vault/shl.ts';
import { CLI_TEST_TIMEOUT_MS, ok, vault } from '../cli/run-cli.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

const CANARY = 'Canary-Shl-Cli-4410';

describe('vault share-link / revoke-link', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const dir = tempDir('fhv-shl-cli-');
  let relay: Awaited<ReturnType<typeof testRelay>>;
  beforeAll(async () => {
    relay = await testRelay();
    await ok(dir.path, 'init');
    await ok(dir.path, 'create', 'mum', '--relay', relay.url);
    await ok(dir.path, 'set', 'mum', 'allergies', 'pen', JSON.stringify({ resourceType: 'AllergyIntolerance', code: { text: CANARY } }));
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay?.destroy();
    dir.remove();
  });

  it('prints a viewer link that opens to the IPS with the passcode, until it is revoked', async () => {
    const printed = JSON.parse(await ok(dir.path, 'share-link', 'mum', '--passcode', 'blue-7731', '--expires', '2d', '--label', 'For the clinic')) as Record<string, string>;
    expect(printed.link).toBe(`${relay.httpUrl}/shl#${printed.shlink}`);
    expect(printed.flag).toBe('P');
    expect(Date.parse(printed.expires!) - Date.now()).toBeGreaterThan(47 * 3_600_000);
    expect(Date.parse(printed.expires!) - Date.now()).toBeLessThanOrEqual(48 * 3_600_000);
    const opened = await openSharedLink(printed.link!, { recipient: 'test', passcode: 'blue-7731' });
    expect(opened.payload.label).toBe('For the clinic');
    expect(JSON.stringify(opened.files[0]!.json)).toContain(CANARY);

    expect(JSON.parse(await ok(dir.path, 'revoke-link', 'mum', printed.link!))).toEqual({ revoked: printed.id });
    const e = await openSharedLink(printed.link!, { recipient: 'test', passcode: 'blue-7731' }).catch((x: unknown) => x);
    expect((e as ShlError).code).toBe('SHL_NOT_FOUND');
  });

  it('bad options are usage errors that do not echo the values', async () => {
    for (const args of [
      ['--expires', '3 days'],
      ['--expires', '400d'],
      ['--passcode', 'p1'],
      ['--label', 'L'.repeat(81)],
    ]) {
      const r = await vault(dir.path, ['share-link', 'mum', ...args]);
      expect([r.code, r.error?.code], args.join(' ')).toEqual([2, 'CLI_USAGE']);
      expect(r.err).not.toContain(args[1]!.slice(0, 20));
    }
  });
});
