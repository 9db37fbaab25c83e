/**
 * One process at a time per device directory. Two processes on one store each seal records on
 * the same author chain from the same head: one of them forks the chain, the relay refuses every
 * later record of the device, and writes are lost while both report success (issue 10).
 *
 * The lock is `<dir>/lock`, created exclusively (O_EXCL) with the holder's pid. A second process
 * fails at once with CLI_LOCKED rather than waiting: a holder may legitimately keep the lock for
 * a whole network timeout, a script learns immediately and decides itself whether to retry, and
 * nothing sits blocked behind a passphrase prompt in another terminal. A lock whose pid is no
 * longer alive (a crash, kill -9) is stale and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors.ts';

export interface DirLock {
  release(): void;
}

const lockFile = (dir: string): string => join(dir, 'lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  writeSync(fd, String(process.pid));
  closeSync(fd);
  return true;
}

export function lockDir(dir: string): DirLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = lockFile(dir);
  if (!tryCreate(file)) {
    const holder = holderOf(file);
    // A lock file without a pid is one being written this instant: treat it as held.
    if (holder === undefined || alive(holder)) {
      throw new CliError('CLI_LOCKED', `another vault process${holder ? ` (pid ${holder})` : ''} is using ${dir}; try again when it has finished`);
    }
    // Stale: its holder died. Move it aside (atomic) and check that what moved is the dead
    // holder's lock, not one a concurrent recoverer just created; then race for the exclusive create.
    const aside = `${file}.stale.${process.pid}`;
    try {
      renameSync(file, aside);
    } catch {
      throw new CliError('CLI_LOCKED', `another vault process is using ${dir}; try again when it has finished`);
    }
    if (holderOf(aside) !== holder) {
      renameSync(aside, file);
      throw new CliError('CLI_LOCKED', `another vault process is using ${dir}; try again when it has finished`);
    }
    rmSync(aside, { force: true });
    if (!tryCreate(file)) throw new CliError('CLI_LOCKED', `another vault process is using ${dir}; try again when it has finished`);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (holderOf(file) === process.pid) rmSync(file, { force: true });
  };
  // process.exit() skips finally blocks; the lock goes with the process either way.
  process.on('exit', release);
  return { release };
}
