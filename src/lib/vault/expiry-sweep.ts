/**
 * Ends time-limited access when its time is up, on any owner's device (app or CLI), without a
 * UI timer: one timeout at the next expiry, re-armed whenever membership changes. The relay
 * already refuses an expired member; the sweep removes them and rotates the key (one owner
 * transaction), so their keys open nothing written afterwards. A failed sweep is a problem in
 * the profile's status, retried a minute later, never swallowed.
 */
import type { SyncProblem } from '../sync/status.ts';
import { isCodedError } from '../errors.ts';

export interface ExpirySweepContext {
  isOwner(): boolean;
  /** The next time a member's access ends (undefined: none is time-limited). */
  nextExpiry(): number | undefined;
  now(): number;
  /** Removes every expired member and rotates; resolves to how many. */
  sweep(): Promise<number>;
  /** The sweep's problem (or undefined once a sweep succeeded). */
  report(problem: SyncProblem | undefined): void;
}

const RETRY_MS = 60_000;
/** setTimeout's largest delay; a later expiry re-arms when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class ExpirySweep {
  private readonly c: ExpirySweepContext;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private stopped = false;
  /** Armed only once started: the open decides when (profile.ts, decision 0065). */
  private started = false;

  constructor(c: ExpirySweepContext) {
    this.c = c;
  }

  /** Arms from now on (nothing after `stop`). */
  start(): void {
    this.started = true;
    this.arm();
  }

  /** Arms the timer for the next expiry (after every membership change); nothing before `start`. */
  arm(delayMs?: number): void {
    if (this.stopped || this.running || !this.started) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.c.isOwner()) return;
    const next = this.c.nextExpiry();
    if (next === undefined && delayMs === undefined) return;
    const delay = delayMs ?? Math.max(0, next! - this.c.now());
    this.timer = setTimeout(() => void this.run(), Math.min(delay, MAX_DELAY_MS));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.stopped || !this.c.isOwner()) return;
    const next = this.c.nextExpiry();
    if (next !== undefined && next > this.c.now()) return this.arm(); // woke early (a capped delay)
    this.running = true;
    let retry: number | undefined;
    try {
      await this.c.sweep();
      this.c.report(undefined);
    } catch (e) {
      this.c.report({ code: 'SYNC_SWEEP_FAILED', message: `an ended session could not be closed yet (${isCodedError(e) ? e.code : 'error'}); retrying in a minute` });
      retry = RETRY_MS;
    } finally {
      this.running = false;
    }
    this.arm(retry);
  }
}
