/**
 * Local envelope changes wait for the device's own store before they reach the relay
 * (docs/decisions/0063). A store that commits after the change (IndexedDB: its transactions end
 * on their own time, and a page that reloads or closes meanwhile can lose them) could otherwise
 * leave the relay holding an own record this device no longer has. The next open then sealed
 * the same seq again, and the relay refused the device for good (RECORD_FORK or
 * ENVELOPE_KEY_EXISTS: the e2e co-editing test, CI of stop 23). Sent only once stored, a record
 * the store lost never left the device either, so the next open continues the chain the relay
 * holds.
 *
 * Stores that commit before the change event returns (SQLite, memory) need none of this: the
 * connection sends at once without one.
 */

export interface Unstored {
  readonly update: Uint8Array;
  /** Made by a local transaction of this device (sent ahead of the wire), else through the wire. */
  readonly local: boolean;
}

export class StoreFirstQueue {
  private readonly waiting: Unstored[] = [];
  private draining = false;
  private readonly stored: () => Promise<void>;
  private readonly release: (ready: Unstored[]) => void;
  private readonly stopped: () => boolean;

  /**
   * @param stored resolves once everything the store was given so far is committed (a failed
   *   commit rejects: the changes are released anyway, so the relay keeps what the device could not).
   * @param release takes the changes the store committed, in the order they were made.
   */
  constructor(stored: () => Promise<void>, release: (ready: Unstored[]) => void, stopped: () => boolean) {
    this.stored = stored;
    this.release = release;
    this.stopped = stopped;
  }

  /** Changes made but not yet committed by the store. */
  get size(): number {
    return this.waiting.length;
  }

  push(change: Unstored): void {
    this.waiting.push(change);
    void this.drain();
  }

  /** One commit wait at a time; whatever arrived during it waits for the next one. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const covered = this.waiting.length;
        await this.stored().catch(() => undefined);
        if (this.stopped()) return;
        // One at a time, so a change that fails to go out (a provider error) holds back none after it.
        for (const change of this.waiting.splice(0, covered)) {
          try {
            this.release([change]);
          } catch {
            // A local change is in the wire whatever its send did (sendThenWire): a re-sync carries it.
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
