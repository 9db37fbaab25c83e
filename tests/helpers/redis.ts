/**
 * A real redis-server for a test file (Debian's `redis-server`, installed by .ci/run), on a free
 * loopback port, no persistence. A server that cannot start throws: the test fails, never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from './postgres.ts';

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL); `start` brings it back on the same port, empty. */
  kill(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const failed = new Promise<never>((_, reject) => {
      child!.once('error', (e) => reject(new Error(`redis-server did not start (${e.message}); apt-get install redis-server (.ci/run does it)`)));
      child!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
    failed.catch(() => undefined);
    for (let i = 0; i < 100; i++) {
      if (await Promise.race([answersPing(port), failed])) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('redis-server did not answer PING within 10 s');
  };
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, destroy: kill };
}
