/**
 * Attacking the relay's operations surface (decision 0046) with hostile input, on the real
 * process (`server/main.ts`, JSON logs on stderr, metrics on their own port): a member sending
 * seeded hostile updates whose map keys carry canaries, strangers with fuzzed tokens and document
 * names, HTTP requests with fuzzed paths, queries and headers. Whatever happens, every stderr line
 * is one JSON object of our fields, and no log line, metrics scrape or health answer carries a
 * document name, a member key, a token or any canary (threat model 98).
 * Seeded: TEST_SEED=<n> npx vitest run tests/server/attack-ops.test.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { generateSigningKeyPair, toBase64Url, toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { jsonLogger, routeLibraryConsole } from '../../server/log.ts';
import libraryLines from '../fixtures/attack/library-console.json' with { type: 'json' };
import { encodeRawUpdate } from '../fuzz/raw-update.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { RawSyncClient, within } from '../helpers/raw-sync-client.ts';

const FILE = 'tests/server/attack-ops.test.ts';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function startProcess(): Promise<{ ws: string; http: string; metrics: string; stderr: () => string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fhv-attack-ops-'));
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../server/main.ts')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RELAY_QUIET: '', METRICS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(() => child.exitCode === null && child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const { http, metrics } = await within(
    new Promise<{ http: string; metrics: string }>((ok) => {
      const poll = setInterval(() => {
        const line = stderr.split('\n').find((l) => l.includes('"listening"'));
        if (!line) return;
        clearInterval(poll);
        const entry = JSON.parse(line) as { url: string; metrics: string };
        ok({ http: entry.url, metrics: entry.metrics });
      }, 20);
    }),
    30_000,
    'relay start',
  );
  return { ws: http.replace(/^http/, 'ws'), http, metrics, stderr: () => stderr };
}

/** Any string a client could send: canaries among control characters, quotes, unicode, paths. */
function hostileText(prng: Prng, canary: string): string {
  const parts = [canary, '../', '%2e%2e/', '"', "'", '\n', '\r\n', '\u0000', 'é', '🩺', '{"event":"x"}', '<script>', ' ', '=', '\\', prng.word()];
  return Array.from({ length: prng.int(1, 5) }, () => prng.pick(parts)).join('') + canary;
}

/** A raw authentication frame with any token for any document name; resolves when the relay answers or closes. */
async function rawAuth(url: string, documentName: string, token: string): Promise<void> {
  const ws = new WebSocket(url);
  cleanup.push(() => ws.terminate());
  await within(new Promise<void>((ok, fail) => (ws.once('open', () => ok()), ws.once('error', fail))), 10_000, 'connect');
  const e = encoding.createEncoder();
  encoding.writeVarString(e, documentName);
  encoding.writeVarUint(e, 2); // auth
  encoding.writeVarUint(e, 0); // token
  encoding.writeVarString(e, token);
  ws.send(encoding.toUint8Array(e));
  await within(new Promise<void>((ok) => (ws.once('message', () => ok()), ws.once('close', () => ok()))), 10_000, 'auth answer');
  ws.terminate();
}

async function request(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return { status: 0, body: '' }; // a header fetch itself refuses to send: nothing reached the relay
  }
}

describe('library console lines (fixture tests/fixtures/attack/library-console.json)', () => {
  it('become one coded event each, or nothing for a refusal already counted; never their text', () => {
    const lines: string[] = [];
    let now = 0;
    const routed = routeLibraryConsole(jsonLogger((l) => lines.push(l), () => now), () => now, 60_000);
    for (const { args, expect: kind } of libraryLines.lines) {
      now += 120_000; // past the rate limit's interval: each line logs
      const before = lines.length;
      routed.error(...args);
      if (kind === null) expect(lines.length, JSON.stringify(args)).toBe(before);
      else expect(JSON.parse(lines.at(-1)!), JSON.stringify(args)).toMatchObject({ level: 'warn', event: 'library_console', code: kind });
    }
    expect(lines.join('\n')).not.toContain('DOCNAMECANARY');
    // Rate-limited per kind: a flood is one line and a count.
    const flood = lines.length;
    for (let i = 0; i < 1000; i++) routed.warn('Hocuspocus: closing connection x: unauthenticated message queue size limit exceeded for "DOCNAMECANARY"');
    expect(lines.length - flood).toBe(1);
  });
});

describe('the relay process under hostile input', () => {
  it('logs only JSON lines of our fields and codes; logs, metrics and health name nothing a client sent', { timeout: 180_000 }, async () => {
    await withSeed(FILE, 'logs only JSON lines', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "logs only JSON lines"`);
      const relay = await startProcess();
      const owner = generateSigningKeyPair();
      const viewer = generateSigningKeyPair();
      const profile = await Profile.create({ signer: owner, relayUrl: relay.ws, members: [{ publicKey: viewer.publicKey, role: Role.viewer, expiresAt: 0 }] });
      cleanup.push(() => profile.close());
      await profile.flush();
      await profile.status.when((s) => s.synced, 15_000);
      const canaries: string[] = [];
      const canary = () => {
        const c = `PHICANARY${prng.int(100_000, 999_999)}`;
        canaries.push(c);
        return c;
      };
      const secrets = () => [profile.name, toHex(owner.publicKey), toHex(viewer.publicKey), toBase64Url(owner.publicKey), toBase64Url(viewer.publicKey), ...canaries];

      // A member's refused updates: random bytes, and placeholders under keys that are canaries.
      for (let i = 0; i < 12; i++) {
        const member = await RawSyncClient.connect(relay.ws, profile.name, profile.access.docId, viewer);
        cleanup.push(() => member.close());
        expect(member.authenticated).toBe(true);
        const key = hostileText(prng, canary());
        member.sendUpdate(
          prng.bool(0.3)
            ? prng.bytes(prng.int(1, 64))
            : encodeRawUpdate([{ client: prng.int(1, 2 ** 32 - 1), clock: prng.pick([0, 0, 3]), structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: key, content: prng.bool() ? { kind: 'deleted', len: 1 } : { kind: 'string', text: hostileText(prng, canary()) } }] }], []),
        );
        // Mostly refused (and closed); a placeholder on a fresh clientID is taken (finding 98b).
        await member.barrier();
      }
      // Strangers: fuzzed tokens for fuzzed and real document names.
      for (let i = 0; i < 10; i++) {
        const name = prng.bool() ? profile.name : hostileText(prng, canary());
        await rawAuth(relay.ws, name, prng.bool() ? hostileText(prng, canary()) : `${canary()}${toBase64Url(prng.bytes(prng.int(0, 200)))}`);
      }
      // HTTP: every route with fuzzed paths, queries and headers.
      const routes = ['/blobs/', '/erased/', '/shl/', '/healthz/', '/readyz/', '/', '/metrics/'];
      for (let i = 0; i < 30; i++) {
        const path = `${prng.pick(routes)}${encodeURIComponent(hostileText(prng, canary()))}${prng.bool() ? `?q=${encodeURIComponent(canary())}` : ''}`;
        const headers: Record<string, string> = { authorization: `Bearer ${canary()}${prng.word()}`, 'x-forwarded-for': canary(), 'user-agent': canary(), cookie: `s=${canary()}` };
        await request(`${relay.http}${path}`, { method: prng.pick(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']), headers, body: undefined });
      }
      // Health answers the word or the code, whatever the request looked like.
      for (const path of ['/healthz', '/readyz']) {
        for (let i = 0; i < 4; i++) {
          const r = await request(`${relay.http}${path}?${encodeURIComponent(canary())}`, { headers: { 'x-probe': canary() } });
          expect(r.status).toBe(200);
          expect(r.body).toBe(path === '/healthz' ? 'ok' : 'ready');
        }
      }

      const metrics = (await request(relay.metrics)).body;
      expect(metrics).toContain('fhv_refusals_total');
      for (const label of metrics.matchAll(/(\w+)="([^"]*)"/g)) {
        expect(label[1], `label ${label[0]}`).toMatch(/^(code|op|le)$/);
        expect(label[2], `label ${label[0]}`).toMatch(/^([A-Z][A-Z0-9_]*|load|append|fold|[\d.e+-]+|\+Inf)$/);
      }
      const stderr = relay.stderr();
      const lines = stderr.split('\n').filter((l) => l !== '');
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`a stderr line that is not JSON: ${line.slice(0, 160)}`);
        }
        expect(Object.keys(entry).slice(0, 3), line).toEqual(['t', 'level', 'event']);
        for (const v of Object.values(entry)) expect(['string', 'number', 'boolean'], line).toContain(typeof v);
      }
      for (const secret of secrets()) {
        expect(stderr, `the log carries ${secret.slice(0, 12)}`).not.toContain(secret);
        expect(metrics, `metrics carry ${secret.slice(0, 12)}`).not.toContain(secret);
      }
    });
  });
});
