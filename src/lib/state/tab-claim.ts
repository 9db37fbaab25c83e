/**
 * One tab at a time uses this device's vault (docs/decisions/0064). Two tabs share the device's
 * key and its IndexedDB copy, and y-indexeddb does not sync them live: both could seal the same
 * seq, and the relay would refuse one of them for good (RECORD_FORK), with what was typed in it.
 *
 * A Web Lock marks the tab that holds the vault. Another tab asks it to let go (a
 * BroadcastChannel message), waits until that tab has closed its session (its last edits stored
 * and sent) and its lock is free, and takes over. A holder that does not answer in time (a
 * frozen tab) loses the lock by force.
 */

const LET_GO = 'let-go';

export interface TabClaimOptions {
  /** The browser's Web Locks (absent: no other tab can be told apart, every tab may use the vault). */
  readonly locks: LockManager | undefined;
  /** Reaches this origin's other tabs. */
  readonly channel: (() => BroadcastChannel) | undefined;
  /** Closes this tab's session; the lock is released once it resolves. */
  readonly letGo: () => Promise<void>;
  readonly name?: string;
  /** How long a holder may take to let go before the lock is taken by force (default 10 s). */
  readonly takeOverTimeoutMs?: number;
}

export class TabClaim {
  private readonly o: TabClaimOptions;
  private readonly name: string;
  private release: (() => void) | undefined;
  private channel: BroadcastChannel | undefined;

  constructor(o: TabClaimOptions) {
    this.o = o;
    this.name = o.name ?? 'fhv-vault-tab';
  }

  /** True while this tab holds the vault. */
  get held(): boolean {
    return this.release !== undefined || !this.o.locks;
  }

  /** Holds the vault for this tab if no other tab does. True if this tab holds it now. */
  async claim(): Promise<boolean> {
    if (this.held) return true;
    const locks = this.o.locks!;
    return new Promise<boolean>((answer) => {
      locks
        .request(this.name, { ifAvailable: true }, (lock) => {
          if (!lock) return answer(false);
          return this.hold(answer);
        })
        .catch(() => this.lost());
    });
  }

  /** Asks the tab holding the vault to let go, and holds it once that tab has closed its session. */
  async takeOver(): Promise<void> {
    if (this.held) return;
    const locks = this.o.locks!;
    this.listen().postMessage(LET_GO);
    const timeout = AbortSignal.timeout(this.o.takeOverTimeoutMs ?? 10_000);
    await new Promise<void>((done, fail) => {
      locks
        .request(this.name, { signal: timeout }, () => this.hold(() => done()))
        .catch((e: unknown) => {
          if (this.release) return this.lost();
          if (!timeout.aborted) return fail(e);
          // The holder did not answer (a frozen tab): take the lock from it.
          locks.request(this.name, { steal: true }, () => this.hold(() => done())).catch(() => this.lost());
        });
    });
  }

  /** Holds the lock until `letGo` ran after another tab asked for it (or the lock was taken). */
  private hold(answer: (held: true) => void): Promise<void> {
    const released = new Promise<void>((r) => (this.release = r));
    this.listen();
    answer(true);
    return released;
  }

  private listen(): BroadcastChannel {
    if (!this.channel) {
      this.channel = this.o.channel!();
      this.channel.onmessage = (e) => {
        if (e.data === LET_GO && this.release) void this.handOver();
      };
    }
    return this.channel;
  }

  private async handOver(): Promise<void> {
    const release = this.release;
    try {
      await this.o.letGo();
    } finally {
      this.release = undefined;
      release?.();
    }
  }

  /** The lock was taken by force: close as if asked. */
  private lost(): void {
    if (!this.release) return;
    this.release = undefined;
    void this.o.letGo();
  }
}
