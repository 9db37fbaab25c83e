/**
 * One tab at a time uses this device's vault (docs/decisions/0064). Two tabs share the device's
 * key and its IndexedDB copy, and y-indexeddb does not sync them live: both could seal the same
 * seq, and the relay would refuse one of them for good (RECORD_FORK), with what was typed in it.
 *
 * A Web Lock marks the tab that holds the vault. Another tab asks it to let go (a
 * BroadcastChannel message); the holder answers at once that it is letting go, closes its
 * session (its last edits sealed and stored), and only then releases the lock, which the other
 * tab was waiting for. A holder that does not answer at all within the timeout (a frozen tab)
 * loses the lock by force.
 */

const LET_GO = 'let-go';
const LETTING_GO = 'letting-go';

export interface TabClaimOptions {
  /** The browser's Web Locks (absent: no other tab can be told apart, every tab may use the vault). */
  readonly locks: LockManager | undefined;
  /** Reaches this origin's other tabs. */
  readonly channel: (() => BroadcastChannel) | undefined;
  /** Closes this tab's session; the lock is released once it resolves. */
  readonly letGo: () => Promise<void>;
  readonly name?: string;
  /** How long a holder may stay silent before the lock is taken by force (default 10 s). */
  readonly silentHolderMs?: number;
  /** How long a holder that answered may take to close (default 60 s). */
  readonly closingHolderMs?: number;
}

export class TabClaim {
  private readonly o: TabClaimOptions;
  private readonly name: string;
  /** Set while this tab holds the lock and is not handing it over. */
  private release: (() => void) | undefined;
  /** This tab's handover in progress (its session closing), if any. */
  private handingOver: Promise<void> | undefined;
  private claiming: Promise<boolean> | undefined;
  private channel: BroadcastChannel | undefined;
  private heardBack: (() => void) | undefined;
  /** The browser refused Web Locks to this page (a sandboxed frame): no guard, as without them. */
  private unguarded = false;

  constructor(o: TabClaimOptions) {
    this.o = o;
    this.name = o.name ?? 'fhv-vault-tab';
  }

  /** True while this tab holds the vault (false while it hands it over). */
  get held(): boolean {
    return this.release !== undefined || !this.o.locks || this.unguarded;
  }

  /** Holds the vault for this tab if no other tab does. True if this tab holds it now. */
  claim(): Promise<boolean> {
    // Web Locks are not re-entrant: a second request from this tab would find its own lock taken.
    return (this.claiming ??= this.claimOnce().finally(() => (this.claiming = undefined)));
  }

  private async claimOnce(): Promise<boolean> {
    await this.handingOver;
    if (this.held) return true;
    const locks = this.o.locks!;
    return new Promise<boolean>((answer) => {
      let answered = false;
      locks
        .request(this.name, { ifAvailable: true }, (lock) => {
          answered = true;
          if (!lock) return answer(false);
          return this.hold(() => answer(true));
        })
        .catch(() => {
          // Refused before it was decided (a sandboxed page): no guard, as without Web Locks.
          if (!answered) {
            this.unguarded = true;
            return answer(true);
          }
          this.lost();
        });
    });
  }

  /** Asks the tab holding the vault to let go, and holds it once that tab has closed its session. */
  async takeOver(): Promise<void> {
    await this.handingOver;
    if (this.held) return;
    const locks = this.o.locks!;
    const quiet = new AbortController();
    let silence = setTimeout(() => quiet.abort(), this.o.silentHolderMs ?? 10_000);
    // The holder answered: it is closing. A slow phone may take a while: wait longer, not for ever.
    this.heardBack = () => {
      clearTimeout(silence);
      silence = setTimeout(() => quiet.abort(), this.o.closingHolderMs ?? 60_000);
    };
    this.listen().postMessage(LET_GO);
    try {
      await new Promise<void>((done, fail) => {
        const granted = () => this.hold(done);
        locks.request(this.name, { signal: quiet.signal }, granted).catch((e: unknown) => {
          if (this.release) return this.lost();
          if (!quiet.signal.aborted) return fail(e);
          // Nobody answered (a frozen tab): take the lock from it.
          locks.request(this.name, { steal: true }, granted).catch((stolen: unknown) => (this.release ? this.lost() : fail(stolen)));
        });
      });
    } finally {
      clearTimeout(silence);
      this.heardBack = undefined;
    }
  }

  /** Holds the lock until it is handed over (or taken). */
  private hold(granted: () => void): Promise<void> {
    const released = new Promise<void>((r) => (this.release = r));
    this.listen();
    granted();
    return released;
  }

  private listen(): BroadcastChannel {
    if (!this.channel) {
      this.channel = this.o.channel!();
      this.channel.onmessage = (e) => {
        if (e.data === LETTING_GO) this.heardBack?.();
        else if (e.data === LET_GO && this.release) this.handOver(this.release);
      };
    }
    return this.channel;
  }

  /** Not held from now on (a second request is ignored); the lock goes once the session is closed. */
  private handOver(release: () => void): void {
    this.release = undefined;
    this.channel!.postMessage(LETTING_GO);
    this.handingOver = this.o
      .letGo()
      .catch(() => undefined)
      .finally(() => {
        this.handingOver = undefined;
        release();
      });
  }

  /** The lock was taken by force (this tab was silent): close as if asked. */
  private lost(): void {
    if (!this.release) return;
    this.release = undefined;
    this.handingOver = this.o
      .letGo()
      .catch(() => undefined)
      .finally(() => (this.handingOver = undefined));
  }
}
