/**
 * Own records wait for the relay's first catch-up after an open (docs/decisions/0065).
 *
 * A device's chain (its seq numbers) continues from the head its own stored copy knows. That copy
 * can be behind what the relay holds of the same chain: a browser store that called a write
 * committed and then lost it in a crash (IndexedDB's relaxed durability), a device restored from
 * an older backup, a store copied from elsewhere. Sealing before the catch-up then reuses a seq
 * the relay already has, and the relay refuses the device for good (RECORD_FORK or
 * ENVELOPE_KEY_EXISTS), with everything typed after it. Waiting for the catch-up brings the lost
 * records back first, so the next record continues the chain the relay holds.
 *
 * The hold is bounded: it ends when the catch-up is applied, when the relay refuses, when the
 * relay socket goes down or an attempt fails, or the browser says the network is gone (no
 * catch-up is coming now), and after `ms` at the latest, counted from asking the relay
 * (vault/profile.ts and profile-wiring.ts wire these). A close waits for it, then seals what was
 * typed: never dropped. Edits meanwhile stay queued, counted as pending and shown as such.
 */

/**
 * The longest own records wait after an open. Catch-ups here take tens of milliseconds (S7, S11)
 * and the reconnect storm's p99 under 2.5 s; beyond this a relay that answers so slowly is
 * treated as one that does not answer.
 */
export const CATCH_UP_HOLD_MS = 5_000;

export class CatchUpHold {
  private holding = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private done: (() => void) | undefined;
  private over: Promise<void> = Promise.resolve();
  private readonly onRelease: () => void;

  constructor(onRelease: () => void) {
    this.onRelease = onRelease;
  }

  /** Own records are being held now. */
  get active(): boolean {
    return this.holding;
  }

  /**
   * Holds own records (nothing if already holding) until `release`, or the timer `bound` sets
   * (set apart, so it counts from when the relay is asked, not from the open).
   */
  start(): void {
    if (this.holding) return;
    this.holding = true;
    this.over = new Promise((resolve) => (this.done = resolve));
  }

  /** Ends the hold `ms` from now at the latest (nothing if not holding). */
  bound(ms: number): void {
    if (!this.holding) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), ms);
  }

  /** Ends the hold (nothing if not holding); queued edits are sealed from now on. */
  release(): void {
    if (!this.holding) return;
    this.holding = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.done?.();
    this.onRelease();
  }

  /** Resolves once the hold is over (at once when not holding). */
  released(): Promise<void> {
    return this.holding ? this.over : Promise.resolve();
  }
}
