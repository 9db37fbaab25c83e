/**
 * Issue 12's CLI commands against a relay that is down, black-holes TCP (accepts, never answers)
 * or answers the WebSocket but black-holes HTTP (threat model claim 92). The network commands
 * (share-link, revoke-link, erase) end within --timeout with a typed error, print nothing on
 * stdout (no success line), and keep the profile; the local ones (import, export, backup,
 * restore) need no relay and finish, successfully, while it is down.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, ok, vault } from './run-cli.ts';

/** Node startup, module loading and the keyring on a loaded 2-core machine: well above what we measured, well below a hang. */
const STARTUP_SLACK_MS = 15_000;
const NETWORK_ERRORS = ['CLI_RELAY_UNREACHABLE', 'CLI_RELAY_LOST', 'CLI_TIMEOUT'];
const FIXTURE = new URL('../fixtures/fhir/synthea-style-transaction.json', import.meta.url).pathname;
const SOME_ID = 'A'.repeat(43);

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

describe('issue 12 CLI commands with the relay down or black-holing', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const phone = tempDir('fhv-rn-');
  const files = tempDir('fhv-rn-files-');
  const held = new Set<Socket>();
  // Accepts TCP connections and never answers.
  const blackhole = createServer((s) => held.add(s));
  // Passes WebSocket upgrades to the relay; holds every other HTTP request for ever.
  const httpHole = createServer((client) => {
    held.add(client);
    client.once('data', (first) => {
      if (!/^upgrade:\s*websocket/im.test(first.toString('latin1'))) return; // held, never answered
      const upstream = createConnection(relay.port, '127.0.0.1', () => {
        upstream.write(first);
        client.pipe(upstream).pipe(client);
      });
      held.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  let down = '';
  let hole = '';
  let wsOnly = '';

  beforeAll(async () => {
    relay = await testRelay();
    hole = `ws://127.0.0.1:${await listen(blackhole)}`;
    wsOnly = `ws://127.0.0.1:${await listen(httpHole)}`;
    const closed = createServer();
    down = `ws://127.0.0.1:${await listen(closed)}`;
    await new Promise<void>((r) => closed.close(() => r()));
    await ok(phone.path, 'init');
    await ok(phone.path, 'create', 'mum', '--relay', relay.url);
    await ok(phone.path, 'set', 'mum', 'allergies', 'latex', '{"resourceType":"AllergyIntolerance","code":{"text":"Latex"}}');
    await ok(phone.path, 'sync', 'mum');
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    for (const s of held) s.destroy();
    await Promise.all([blackhole, httpHole].map((s) => new Promise<void>((r) => s.close(() => r()))));
    await relay.destroy();
    phone.remove();
    files.remove();
  });

  const NETWORK_COMMANDS: Record<string, string[]> = {
    'share-link': ['share-link', 'mum', '--expires', '1d'],
    'revoke-link': ['revoke-link', 'mum', SOME_ID],
    erase: ['erase', 'mum', '--confirm', 'mum'],
  };

  it('share-link, revoke-link and erase: a typed error within --timeout, no success line, the profile kept (relay down, TCP black hole)', async () => {
    for (const [where, url] of [
      ['down', down],
      ['black hole', hole],
    ] as const) {
      for (const [name, args] of Object.entries(NETWORK_COMMANDS)) {
        const r = await vault(phone.path, [...args, '--relay', url, '--timeout', '2']);
        const ctx = `${name}, relay ${where}`;
        expect(r.code, ctx).toBe(1);
        expect(NETWORK_ERRORS, ctx).toContain(r.error?.code);
        expect(r.out, ctx).toBe('');
        expect(r.ms, ctx).toBeLessThan(2_000 + STARTUP_SLACK_MS);
      }
    }
    // Nothing was dropped or erased: the copy is here and the relay still serves it.
    expect(JSON.parse(await ok(phone.path, 'get', 'mum', 'allergies', 'latex'))).toMatchObject({ code: { text: 'Latex' } });
    expect(JSON.parse(await ok(phone.path, 'sync', 'mum'))).toMatchObject({ state: 'synced' });
  });

  it('share-link and revoke-link when the WebSocket works but HTTP is black-holed: CLI_TIMEOUT, not the 20 s HTTP timeout', async () => {
    for (const name of ['share-link', 'revoke-link']) {
      const r = await vault(phone.path, [...NETWORK_COMMANDS[name]!, '--relay', wsOnly, '--timeout', '4']);
      expect(r.code, name).toBe(1);
      expect(r.error?.code, `${name}: ${r.err}`).toBe('CLI_TIMEOUT');
      expect(r.out, name).toBe('');
      expect(r.ms, name).toBeLessThan(4_000 + STARTUP_SLACK_MS);
    }
  });

  it('import, export, backup and restore need no relay: they finish while it is down', async () => {
    await relay.destroy();
    const imported = JSON.parse(await ok(phone.path, 'import', 'mum', FIXTURE, '--force')) as { resources: number };
    expect(imported.resources).toBeGreaterThan(10);
    // Regression: stdout into a pipe was cut at a 64 KiB boundary by process.exit (exit 0); the
    // piped export must be the whole bundle, as --out writes it (ids and times differ per export).
    const piped = await ok(phone.path, 'export', 'mum', '--format', 'fhir');
    expect(piped.length).toBeGreaterThan(65_536);
    await ok(phone.path, 'export', 'mum', '--format', 'fhir', '--out', join(files.path, 'mum.json'));
    const entries = (text: string) => (JSON.parse(text) as { entry: unknown[] }).entry.length;
    expect(entries(piped)).toBe(entries(readFileSync(join(files.path, 'mum.json'), 'utf8')));
    expect(piped).toContain('Latex');
    const archive = join(files.path, 'b.fhvbackup');
    await ok(phone.path, 'backup', '--out', archive, '--code-file', join(files.path, 'code'));
    expect(existsSync(archive)).toBe(true);
    const fresh = join(files.path, 'fresh');
    await ok(fresh, 'restore', archive, '--code-file', join(files.path, 'code'));
    expect(JSON.parse(await ok(fresh, 'get', 'mum', 'allergies', 'latex'))).toMatchObject({ code: { text: 'Latex' } });
  });
});
