/**
 * Probe (not a benchmark; writes no result file): the relay's longest event-loop stall while it
 * holds many connections and members store and fetch large document files and SMART Health
 * Links (issue 14, decision 0054). The relay runs in a child process of its own with
 * perf_hooks.monitorEventLoopDelay; this process opens the connections (idle WebSockets beside
 * one member's live Profile that keeps editing) and makes the requests. Run it against this
 * tree and against an older one to compare (same machine, same run, back to back):
 *   git archive <commit> | tar -x -C /tmp/before && ln -s $PWD/node_modules /tmp/before/
 *   node bench/probe-stalls.ts [connections=1000] [files=6] [MB=20] [root=.]   (root: the tree whose relay runs)
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Stats {
  readonly maxMs: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

if (process.argv[2] === '--relay-child') await relayChild(process.argv[3]!);
else await probe();

/** The child: the relay of `root`, its event loop watched; answers {type:'stats'} and resets. */
async function relayChild(root: string): Promise<void> {
  const { startRelay } = (await import(pathToFileURL(join(root, 'server/relay.ts')).href)) as typeof import('../server/relay.ts');
  const { DEFAULT_BUDGETS } = (await import(pathToFileURL(join(root, 'server/config.ts')).href)) as typeof import('../server/config.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'fhv-stalls-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir, quiet: true, logger: () => undefined, budgets: { ...DEFAULT_BUDGETS, blobBytesPerProfile: 4 * 1024 ** 3 } });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') {
      const ms = (ns: number) => ns / 1e6;
      process.send!({ type: 'stats', stats: { maxMs: ms(delay.max), p99Ms: ms(delay.percentile(99)), meanMs: ms(delay.mean) } satisfies Stats });
      delay.reset();
    } else if (m.type === 'close') {
      void relay.destroy().then(() => (rmSync(dataDir, { recursive: true, force: true }), process.exit(0)));
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', url: relay.url, httpUrl: relay.httpUrl });
}

async function probe(): Promise<void> {
  const [connections = 1000, files = 6, mb = 20] = process.argv.slice(2, 5).map(Number);
  const root = resolve(process.argv[5] ?? join(fileURLToPath(import.meta.url), '../..'));
  const { generateSigningKeyPair, nobleEngine, toBase64Url } = await import('../src/lib/crypto/index.ts');
  const { createAuthToken } = await import('../src/lib/protocol/index.ts');
  const { Profile } = await import('../src/lib/vault/profile.ts');

  const child = fork(fileURLToPath(import.meta.url), ['--relay-child', root], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(type: string) => new Promise<T>((ok) => child.once('message', (m: { type: string } & T) => (m.type === type ? ok(m) : undefined)));
  const { url, httpUrl } = await next<{ url: string; httpUrl: string }>('ready');
  const stats = async () => (child.send({ type: 'stats' }), (await next<{ stats: Stats }>('stats')).stats);

  const owner = generateSigningKeyPair();
  const profile = await Profile.create({ signer: owner, relayUrl: url });
  await profile.flush();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < connections; i++) {
    const ws = new WebSocket(url);
    ws.onerror = () => undefined;
    sockets.push(ws);
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;

  const auth = async () => ({ Authorization: `Bearer ${await createAuthToken({ secretKey: owner.secretKey, docId: profile.access.docId, expiresAt: Date.now() + 600_000, engine: nobleEngine })}` });
  const note = profile.note('stalls');
  let editing = true;
  const edits = (async () => {
    for (let i = 0; editing; i++) {
      note.replace(i, 0, 'x');
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  await stats(); // start, connections: not what is measured
  const idle = await (async () => (await new Promise((r) => setTimeout(r, 2000)), stats()))();
  const t0 = performance.now();
  for (let i = 0; i < files; i++) {
    const body = randomBytes(mb * 1024 * 1024);
    const id = toBase64Url(createHash('sha256').update(body).digest());
    const at = `${httpUrl}/blobs/${profile.name}/${id}`;
    const put = await fetch(at, { method: 'PUT', headers: await auth(), body, signal: AbortSignal.timeout(120_000) });
    if (put.status !== 201) throw new Error(`PUT answered ${put.status}`);
    const got = await fetch(at, { headers: await auth(), signal: AbortSignal.timeout(120_000) });
    if ((await got.arrayBuffer()).byteLength !== body.length) throw new Error('GET returned another length');
  }
  const transferMs = performance.now() - t0;
  const busy = await stats();
  editing = false;
  await edits;

  const fmt = (s: Stats) => `max ${s.maxMs.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, mean ${s.meanMs.toFixed(1)} ms`;
  console.log(`relay tree: ${root}`);
  console.log(`${open}/${connections} idle WebSockets open, one member editing every 20 ms`);
  console.log(`relay event-loop delay, 2 s idle:                         ${fmt(idle)}`);
  console.log(`relay event-loop delay, ${files} x ${mb} MB PUT+GET (${(transferMs / 1000).toFixed(1)} s): ${fmt(busy)}`);

  for (const s of sockets) s.close();
  await profile.close().catch(() => undefined);
  child.send({ type: 'close' });
  await new Promise((r) => child.once('exit', r));
}
