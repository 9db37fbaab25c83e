/**
 * A profile's sync status, the one truth the UI and CLI show: what the engine reports (queued
 * edits, gaps, problems), what the relay connection says (connected, acknowledged, refused, a
 * refused incoming change), the expiry sweep's failure, and whether the current catch-up was
 * verified and applied, not only received, and whether a profile opened from its plain-state
 * cache has been verified against its stored records yet (state 'verifying' until then). Own records the relay has not confirmed survive a
 * reload through a device-local counter (pending stays true after an offline reload).
 */
import { asSentence } from '../errors.ts';
import type { DocMeta } from '../storage/types.ts';
import { Observable } from '../sync/observable.ts';
import type { ProfileSync } from '../sync/profile-sync.ts';
import { endsAccess, isProtocolErrorCode } from '../sync/refusals.ts';
import type { RelayConnection } from '../sync/relay-connection.ts';
import { summarize, type SyncProblem, type SyncStatus } from '../sync/status.ts';

const ACKED_KEY = 'acked-own-seq';

/**
 * The relay's refusal as one problem. A write-policy refusal (RECORD_*, ENVELOPE_*: the relay
 * refused records this device sent; the connection stops for good, see sync/refusals.ts) keeps
 * its own code, once, even if the engine already reported the same code; anything else (a token
 * refused, access ended) keeps its own code too; RELAY_REFUSED only for a reason that is no code.
 */
function refusalProblem(refusal: string, local: readonly SyncProblem[]): SyncProblem[] {
  if (isProtocolErrorCode(refusal) && !endsAccess(refusal) && /^(RECORD|ENVELOPE)_/.test(refusal)) {
    if (local.some((p) => p.code === refusal && p.key === undefined)) return [];
    return [{ code: refusal, message: `The relay refused changes from this device (${refusal}). They stay on this device only, and syncing stopped.` }];
  }
  return [{ code: isProtocolErrorCode(refusal) ? refusal : 'RELAY_REFUSED', message: `The relay refused this device (${refusal}).` }];
}

export class ProfileStatus {
  readonly status: Observable<SyncStatus>;
  private readonly sync: ProfileSync;
  private connection: RelayConnection | undefined;
  private readonly detachers: Array<() => void> = [];
  /** The current connection's catch-up has been verified and applied by the engine. */
  private caughtUp = false;
  private sweepProblem: SyncProblem | undefined;
  /** A problem with this device's plain-state cache (unreadable, or not matching the verified records). */
  private cacheProblem: SyncProblem | undefined;
  /** Own chain length the relay had confirmed (undefined: this store keeps no such value). */
  private ackedOwnSeq: number | undefined;
  /** The browser said it lost the network ("offline" event) and has not said "online" since. */
  private browserOffline = false;
  /** What the person changed since the relay last had everything (edit-count.ts names). */
  private readonly edited = new Set<string>();

  /** The browser said it lost the network and has not said "online" since (read by the catch-up hold). */
  get offlineByBrowser(): boolean {
    return this.browserOffline;
  }

  constructor(sync: ProfileSync, connection: RelayConnection | undefined) {
    this.sync = sync;
    this.connection = connection;
    this.status = new Observable(this.compute());
    this.detachers.push(sync.state.subscribe(this.update));
    if (connection) this.attachConnection(connection);
  }

  /** Follows the relay connection (a cached open makes it once the envelope is loaded). */
  attachConnection(connection: RelayConnection): void {
    this.connection = connection;
    this.detachers.push(connection.connection.subscribe(this.update), connection.unsynced.subscribe(this.update), connection.refusal.subscribe(this.update), connection.refusedIncoming.subscribe(this.update));
    // "Synced" once the catch-up is also verified and applied, not only received: a screen
    // that reads right after it sees the relay's records (roles included), not a fold in flight.
    this.detachers.push(
      connection.synced.subscribe((synced) => {
        this.caughtUp = false;
        this.update();
        if (synced) void this.sync.drain().then(() => {
          this.caughtUp = connection.synced.value;
          this.update();
        });
      }),
    );
  }

  /** The expiry sweep's problem, or undefined once a sweep succeeded. */
  setSweepProblem(problem: SyncProblem | undefined): void {
    this.sweepProblem = problem && { ...problem, message: asSentence(problem.message) };
    this.update();
  }

  /** The plain-state cache's problem (kept until the person acknowledges problems by reopening). */
  setCacheProblem(problem: SyncProblem | undefined): void {
    this.cacheProblem = problem && { ...problem, message: asSentence(problem.message) };
    this.update();
  }

  /**
   * Own records the relay has not confirmed, across reloads: the device remembers how far its
   * own chain was when the relay last had everything, so "pending N" survives an offline reload.
   */
  async trackAcknowledged(meta: DocMeta): Promise<void> {
    const c = this.connection;
    if (!c) return;
    const stored = Number(await meta.get(ACKED_KEY));
    this.ackedOwnSeq = Number.isSafeInteger(stored) ? stored : 0;
    this.detachers.push(
      this.status.subscribe((s) => {
        const seq = this.sync.ownHead.seq;
        if (!s.synced || s.pending > 0 || c.connection.value !== 'connected' || seq === this.ackedOwnSeq) return;
        this.ackedOwnSeq = seq;
        void meta.set(ACKED_KEY, seq).catch(() => undefined);
      }),
    );
    this.update();
  }

  /**
   * The browser's word on the network: "offline" shows offline at once, whatever the socket
   * still believes (a dead socket is noticed only by its 30 s check, and an emulated offline
   * network may leave a WebSocket open); "online" hands the word back to the connection.
   */
  setBrowserOnline(online: boolean): void {
    if (this.browserOffline === !online) return;
    this.browserOffline = !online;
    this.update();
  }

  /** Things the person changed on this device (counted until the relay has them all). */
  noteEdits(names: readonly string[]): void {
    if (names.length === 0) return;
    for (const n of names) this.edited.add(n);
    this.update();
  }

  destroy(): void {
    for (const d of this.detachers.splice(0)) d();
  }

  private readonly update = (): void => {
    let next = this.compute();
    // Everything the person did is with the relay: the next change starts a new count.
    if (next.pending === 0 && this.edited.size > 0 && this.status.value.pending > 0) {
      this.edited.clear();
      next = this.compute();
    }
    this.status.set(next);
  };

  private compute(): SyncStatus {
    const local = this.sync.state.value;
    const c = this.connection;
    const refusal = c?.refusal.value;
    let problems = refusal ? [...local.problems, ...refusalProblem(refusal, local.problems)] : local.problems;
    if (this.sweepProblem) problems = [...problems, this.sweepProblem];
    if (this.cacheProblem) problems = [...problems, this.cacheProblem];
    const refusedIncoming = c?.refusedIncoming.value;
    if (refusedIncoming && isProtocolErrorCode(refusedIncoming)) {
      problems = [
        ...problems,
        { code: refusedIncoming, message: `The relay sent changes that break the envelope rules (${refusedIncoming}). This device refused them and kept its copy.` },
      ];
    }
    if (c?.synced.value && this.caughtUp && this.sync.genesisMissing) {
      problems = [...problems, { code: 'ENVELOPE_NO_GENESIS' as const, message: 'The relay sent records of this profile without its first record (its genesis).' }];
    }
    // Before the first catch-up, own records sealed since the relay last had everything count
    // too (they may have been sealed offline in an earlier session).
    const unconfirmed = c && !c.synced.value && this.ackedOwnSeq !== undefined ? Math.max(0, this.sync.ownHead.seq - this.ackedOwnSeq) : 0;
    return summarize({
      connection: c && !this.browserOffline ? c.connection.value : 'offline',
      edits: this.edited.size,
      pending: local.queued + Math.max(c ? c.unsynced.value : 0, unconfirmed),
      gaps: local.gaps,
      problems,
      synced: c ? c.synced.value && this.caughtUp : false,
      verifying: local.verifying,
    });
  }
}
