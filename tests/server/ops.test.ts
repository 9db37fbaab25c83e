/**
 * Operations (docs/operations.md, issue 14 item 3): liveness and readiness, Prometheus metrics
 * on their own port with no names in them, JSON log lines, and a graceful shutdown that folds
 * every document before the process exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { readiness } from '../../server/ops.ts';
import { jsonLogger } from '../../server/log.ts';
import { ENVELOPE_DB_FILE } from '../../src/lib/storage/sqlite-log.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { RawSyncClient, within } from '../helpers/raw-sync-client.ts';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function get(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

async function relayWith(...args: Parameters<typeof testRelay>): Promise<TestRelay> {
  const relay = await testRelay(...args);
  cleanup.push(() => relay.destroy());
  return relay;
}

describe('health', () => {
  it('/healthz answers while storage is stuck; /readyz says RELAY_NOT_READY until storage answers', async () => {
    let stuck = false;
    const relay = await relayWith({ readyTimeoutMs: 150 }, {
      wrapStorage: (store) => Object.assign(Object.create(store), {
        ping: () => (stuck ? new Promise<void>(() => undefined) : store.ping()),
        close: () => store.close(),
      }),
    });
    const ready = await get(`${relay.httpUrl}/readyz`);
    expect([ready.status, ready.body]).toEqual([200, 'ready']);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(ready.headers.get('x-content-type-options')).toBe('nosniff');
    stuck = true;
    expect(await get(`${relay.httpUrl}/readyz`)).toMatchObject({ status: 503, body: 'RELAY_NOT_READY' });
    expect(await get(`${relay.httpUrl}/healthz`)).toMatchObject({ status: 200, body: 'ok' });
    stuck = false;
    expect(await get(`${relay.httpUrl}/readyz`)).toMatchObject({ status: 200, body: 'ready' });
  });

  it('readiness: a rejecting store is not ready, a draining relay never is, and nothing waits past the timeout', async () => {
    const never = { ping: () => new Promise<void>(() => undefined) };
    expect(await readiness({ store: { ping: () => Promise.reject(new Error('disk')) }, timeoutMs: 1_000, draining: () => false })).toBe('RELAY_NOT_READY');
    expect(await readiness({ store: { ping: () => Promise.resolve() }, timeoutMs: 1_000, draining: () => true })).toBe('RELAY_DRAINING');
    expect(await readiness({ store: never, timeoutMs: 20, draining: () => false })).toBe('RELAY_NOT_READY');
    let draining = false;
    const late = readiness({ store: { ping: () => new Promise<void>((r) => setTimeout(() => ((draining = true), r()), 10)) }, timeoutMs: 1_000, draining: () => draining });
    expect(await late).toBe('RELAY_DRAINING'); // a shutdown that began while storage answered wins
  });
});

describe('metrics', () => {
  it('are off unless a port is set, and never on the public port', async () => {
    const relay = await relayWith();
    expect(relay.metricsUrl).toBeUndefined();
    const r = await get(`${relay.httpUrl}/metrics`);
    expect(r.body).not.toContain('fhv_');
  });

  it('count connections, messages, bytes, storage latency and refusals by code, and name no document or member', async () => {
    const relay = await relayWith({ metricsPort: 0 });
    expect(relay.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const profile = await Profile.create({ signer: alice, relayUrl: relay.url, members: [{ publicKey: bob.publicKey, role: Role.viewer, expiresAt: 0 }] });
    cleanup.push(() => profile.close());
    insertNote(profile, 'journal', 0, 'metrics canary line');
    await profile.flush();
    await profile.status.when((s) => s.synced, 15_000);
    // A stranger's refused login is counted under its code.
    const stranger = await RawSyncClient.connect(relay.url, profile.name, profile.access.docId, generateSigningKeyPair());
    cleanup.push(() => stranger.close());
    expect(stranger.closeReason).toBe('TOKEN_NOT_MEMBER');

    const text = (await get(relay.metricsUrl!)).body;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('fhv_connections')).toBeGreaterThanOrEqual(1);
    expect(value('fhv_documents_loaded')).toBeGreaterThanOrEqual(1);
    expect(value('fhv_messages_in_total')).toBeGreaterThan(0);
    expect(value('fhv_bytes_in_total')).toBeGreaterThan(value('fhv_messages_in_total'));
    expect(value('fhv_bytes_out_total')).toBeGreaterThan(0);
    expect(value('fhv_storage_seconds_count{op="append"}')).toBeGreaterThanOrEqual(1);
    expect(value('fhv_refusals_total{code="TOKEN_NOT_MEMBER"}')).toBe(1);
    for (const secret of [profile.name, toHex(alice.publicKey), toHex(bob.publicKey), 'metrics canary line']) expect(text).not.toContain(secret);
  });
});

describe('logs', () => {
  it('are JSON lines of events and codes, never a document name or key', async () => {
    const lines: string[] = [];
    const relay = await relayWith({ logger: jsonLogger((l) => lines.push(l)) });
    const alice = generateSigningKeyPair();
    const profile = await Profile.create({ signer: alice, relayUrl: relay.url, members: [] });
    cleanup.push(() => profile.close());
    await profile.flush();
    const stranger = generateSigningKeyPair();
    const intruder = await RawSyncClient.connect(relay.url, profile.name, profile.access.docId, stranger);
    cleanup.push(() => intruder.close());
    expect(intruder.closeReason).toBe('TOKEN_NOT_MEMBER');
    expect(lines.map((l) => JSON.parse(l).code)).toContain('TOKEN_NOT_MEMBER');
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(entry).slice(0, 3)).toEqual(['t', 'level', 'event']);
      expect(line).not.toContain(profile.name);
      expect(line).not.toContain(toHex(stranger.publicKey));
    }
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM folds every document, closes its clients and exits 0 with JSON log lines', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhv-shutdown-'));
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../server/main.ts')], {
      // A long fold debounce: only the shutdown itself can have folded the log.
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RELAY_QUIET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => child.exitCode === null && child.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await within(new Promise<string>((ok) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /on http:\/\/([\d.]+:\d+)/.exec(out);
        if (m) ok(`ws://${m[1]}`);
      });
    }), 30_000, 'relay start');
    const profile = await Profile.create({ signer: generateSigningKeyPair(), relayUrl: url, members: [] });
    cleanup.push(() => profile.close());
    insertNote(profile, 'journal', 0, 'before shutdown');
    await profile.flush();
    await profile.status.when((s) => s.synced, 15_000);

    const exit = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    child.kill('SIGTERM');
    expect(await within(exit, 30_000, 'graceful exit')).toBe(0);
    await profile.status.when((s) => s.connection !== 'connected', 15_000); // closed by the relay, not left hanging

    const db = new DatabaseSync(join(dataDir, ENVELOPE_DB_FILE), { readOnly: true });
    try {
      const logged = db.prepare('SELECT COUNT(*) AS n FROM updates WHERE name = ?').get(profile.name) as { n: number };
      const folded = db.prepare('SELECT length(state) AS n FROM documents WHERE name = ?').get(profile.name) as { n: number } | undefined;
      expect(logged.n).toBe(0);
      expect(folded?.n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    const events = stderr.trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(expect.arrayContaining(['listening', 'shutdown_started', 'shutdown_done']));
    expect(stderr).not.toContain(profile.name);
  });
});
