/**
 * A real relay in a child process for the rune-state tests: the runes project runs with the
 * browser conditions, under which the relay's SQLite worker cannot start in-process.
 * `startChildRelay()` spawns Node on server/relay.ts (port 0, a temp data dir) and resolves with
 * its ws:// and http:// URLs once it listens.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = `
import { startRelay } from ${JSON.stringify(resolve('server/relay.ts'))};
const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir: process.env.DATA_DIR, storeDebounceMs: 50 });
console.log('READY ' + relay.url + ' ' + relay.httpUrl);
process.stdin.on('end', async () => { await relay.destroy(); process.exit(0); });
process.stdin.resume();
`;

export interface ChildRelay {
  readonly url: string;
  readonly httpUrl: string;
  stop(): Promise<void>;
}

export function startChildRelay(): Promise<ChildRelay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fhv-relay-child-'));
  // A file, not --eval: the relay's worker thread inherits the process's flags.
  const script = join(dataDir, 'start-relay.mjs');
  writeFileSync(script, SCRIPT);
  const child = spawn(process.execPath, [script], { env: { ...process.env, DATA_DIR: dataDir }, stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = () =>
    new Promise<void>((done) => {
      child.once('exit', () => {
        rmSync(dataDir, { recursive: true, force: true });
        done();
      });
      child.stdin.end();
    });
  return new Promise((ok, fail) => {
    let out = '';
    child.once('exit', (code) => fail(new Error(`the relay exited (${code})`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /READY (\S+) (\S+)/.exec(out);
      if (ready) ok({ url: ready[1]!, httpUrl: ready[2]!, stop });
    });
  });
}
