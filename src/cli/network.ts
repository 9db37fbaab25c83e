/**
 * The CLI's network waits. Every one has the command's deadline (--timeout) and ends in a typed
 * error: CLI_RELAY_UNREACHABLE (never connected), CLI_RELAY_LOST (connected, then dropped),
 * CLI_TIMEOUT (connected, did not finish), CLI_SYNC_FAILED (the relay refused). A CLI run is
 * short-lived, so a dropped connection fails at once instead of waiting for the reconnect loop.
 */
import type { Profile } from '../lib/vault/profile.ts';
import { CliError } from './errors.ts';

type SyncStatus = Profile['status']['value'];

export class Deadline {
  private readonly end: number;
  readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
    this.end = Date.now() + ms;
  }

  remaining(): number {
    return Math.max(0, this.end - Date.now());
  }

  /** Settles with `work`, or fails with CLI_TIMEOUT at the deadline (the work is abandoned; the process exits after). */
  race<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CliError('CLI_TIMEOUT', `${what} did not finish within ${this.ms / 1000} s (--timeout)`)), this.remaining());
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

function refusalError(p: Profile, s: SyncStatus): CliError {
  const refusal = p.refusal.value ?? undefined;
  return new CliError('CLI_SYNC_FAILED', refusal ? `the relay refused this device (${refusal})` : 'sync stopped with problems (see status)', {
    ...(refusal ? { reason: refusal } : {}),
    problems: s.problems.map((x) => x.code),
  });
}

/** Waits until `done(status)` holds; a drop after the connection was up is CLI_RELAY_LOST. */
export function waitForStatus(p: Profile, deadline: Deadline, what: string, done: (s: SyncStatus) => boolean): Promise<SyncStatus> {
  return new Promise((resolve, reject) => {
    let everConnected = p.status.value.connection === 'connected';
    let stop: (() => void) | undefined;
    let finished = false;
    const finish = (f: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      queueMicrotask(() => stop?.());
      f();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            everConnected
              ? new CliError('CLI_TIMEOUT', `${what} did not finish within ${deadline.ms / 1000} s (--timeout)`)
              : new CliError('CLI_RELAY_UNREACHABLE', `could not reach the relay within ${deadline.ms / 1000} s (--timeout)`),
          ),
        ),
      deadline.remaining(),
    );
    stop = p.status.subscribe((s) => {
      if (s.connection === 'connected') everConnected = true;
      if (done(s)) return finish(() => resolve(s));
      // A refusal ends the connection for good; other problems end the wait once caught up
      // (before that, bad remote records are dropped and syncing goes on).
      if (p.refusal.value || (s.state === 'error' && s.synced)) return finish(() => reject(refusalError(p, s)));
      if (everConnected && s.connection !== 'connected') finish(() => reject(new CliError('CLI_RELAY_LOST', `the connection to the relay dropped during ${what}`)));
    });
  });
}

/** Connects and waits for the first complete catch-up with the relay. */
export async function connectAndCatchUp(p: Profile, deadline: Deadline): Promise<SyncStatus> {
  // Not awaited: the provider's connect() promise may never settle while the relay is unreachable.
  p.connect().catch(() => undefined);
  return waitForStatus(p, deadline, 'the catch-up with the relay', (s) => s.synced && s.connection === 'connected');
}

/** Seals local edits and waits until the relay acknowledged all of them. */
export async function pushAll(p: Profile, deadline: Deadline): Promise<SyncStatus> {
  // flush() seals, then waits for the relay with a plain timeout: its outcome is judged by
  // waitForStatus below, which names it (lost, timed out, refused).
  await deadline.race(p.flush(deadline.remaining()).catch(() => undefined), 'sealing local changes');
  return waitForStatus(p, deadline, 'sending changes to the relay', (s) => s.synced && s.pending === 0 && s.connection === 'connected');
}
