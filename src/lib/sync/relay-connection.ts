/**
 * Connects an envelope doc to the relay with the stock Hocuspocus provider. The provider only
 * ever sees envelope data, so everything it sends is ciphertext and public membership data.
 *
 * The client gate: the provider syncs a private "wire" doc, never the envelope itself. Local
 * envelope changes are copied into the wire (and sent from there); what the relay sends lands in
 * the wire, and each resulting change is checked with the relay's own write policy
 * (`checkEnvelopeUpdate` in its replica scope: the effect invariants I1-I3; I4 needs the sender, which a client does not
 * know) against a gate index that tracks the envelope exactly. Only accepted changes reach the
 * envelope (origin GATE_ORIGIN). A refused one stays in the wire, so the relay does not resend it
 * forever, and is exposed in `refusedIncoming`: a broken or malicious relay can no longer erase
 * or displace records in the stored envelope.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { defaultEd25519Engine, type Ed25519Engine } from '../crypto/index.ts';
import { checkEnvelopeUpdate, rebuildEnvelopeIndex, type EnvelopeIndex, type EnvelopeLimits } from '../protocol/envelope.ts';
import { SerialGate } from '../protocol/serial.ts';
import { Observable } from './observable.ts';
import { hasPending } from './yjs-internals.ts';
import { classifyRefusal, freshTokenMayFix, reconnectDelay, type RefusalChannel } from './refusals.ts';
import type { Connection } from './status.ts';

export interface RelayConnectionOptions {
  /** ws:// or wss:// URL of the relay. */
  readonly url: string;
  /** Opaque document name: base64url of the doc id. */
  readonly name: string;
  readonly envelope: Y.Doc;
  /** The document id (the gate checks records against it). */
  readonly docId: Uint8Array;
  /** Signature engine for the gate (default: defaultEd25519Engine()). */
  readonly engine?: Ed25519Engine;
  /** Clock for membership checks in the gate (default Date.now). */
  readonly now?: () => number;
  /** Called for every (re)connect: tokens are short-lived. */
  readonly token: () => Promise<string>;
  /** Reconnect delay floor (tests use small values). */
  readonly minReconnectDelayMs?: number;
  /** One connection attempt (TCP + WebSocket handshake) gives up after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Reconnect delay cap (default 30 s). */
  readonly maxReconnectDelayMs?: number;
  /** Jitter source for reconnect delays, [0, 1) (default Math.random; tests pin it). */
  readonly random?: () => number;
  /** How long an unacknowledged change may wait before a full re-sync is forced. */
  readonly resyncAfterMs?: number;
  /** Anti-entropy: a state-vector exchange this often, healing any broadcast lost on the way. */
  readonly antiEntropyMs?: number;
}

/** Transaction origin of the relay's changes the gate applies to the envelope. */
export const GATE_ORIGIN = Symbol('relay-gate');
/** Origin of local envelope changes copied into the wire doc. */
const LOCAL_ORIGIN = Symbol('relay-local');

/**
 * The client applies no size limits of its own to what the relay forwards (those protect the
 * relay; a sync step 2 of a whole profile may exceed them): only the invariants.
 */
const CLIENT_LIMITS: EnvelopeLimits = { maxRecordBytes: Number.MAX_SAFE_INTEGER, maxUpdateBytes: Number.MAX_SAFE_INTEGER, maxStructs: Number.MAX_SAFE_INTEGER };

/** How long connect() waits for the previous socket to finish closing. */
const CLOSING_WAIT_MS = 3000;

/** Resolves when `p` does or after `ms`, whichever is first (the timer never outlives it). */
function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class RelayConnection {
  readonly connection = new Observable<Connection>('connecting');
  /** Envelope changes sent but not yet acknowledged, plus those held back until the catch-up. */
  readonly unsynced = new Observable<number>(0);
  private sentUnacked = 0;
  /** Local envelope changes kept out of the wire until the first catch-up. */
  private heldBack: Uint8Array[] = [];
  /** True after the first complete catch-up with the relay. */
  readonly synced = new Observable<boolean>(false);
  /** Why the relay refused us, if it did (a stable code, e.g. TOKEN_NOT_MEMBER). */
  readonly refusal = new Observable<string | null>(null);
  /**
   * The stable code of the latest change the relay sent that the gate refused (e.g.
   * ENVELOPE_KEY_EXISTS): it was not applied to the envelope. Stays set for this connection.
   */
  readonly refusedIncoming = new Observable<string | null>(null);
  /** The doc the provider syncs: the envelope's state plus whatever the relay sent, refused or not. */
  readonly wire = new Y.Doc();
  private readonly envelope: Y.Doc;
  private readonly gate = new SerialGate();
  private gateIndex: EnvelopeIndex;
  /** Gate jobs queued or running. */
  private gateJobs = 0;
  /** The relay's changes not yet decided on, in the order the wire integrated them. */
  private readonly remote: Uint8Array[] = [];
  /** Local envelope changes not yet committed to the gate index. */
  private localPending = 0;
  /** Local changes numbered as they happen; those up to `rebuiltThrough` are in a rebuilt index. */
  private localSeq = 0;
  private rebuiltThrough = 0;
  private readonly docId: Uint8Array;
  private readonly engine: Promise<Ed25519Engine>;
  private readonly now: () => number;
  private readonly onEnvelopeUpdate: (update: Uint8Array, origin: unknown, doc: Y.Doc, tr: Y.Transaction) => void;
  private readonly onWireUpdate: (update: Uint8Array, origin: unknown) => void;
  readonly socket: HocuspocusProviderWebsocket;
  readonly provider: HocuspocusProvider;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  /** The owner asked for a connection (connect() and no disconnect() since). */
  private wanted = false;
  /** Failed (re)connects since the last complete catch-up: the back-off exponent. */
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The next reconnect goes without delay (a stale token: the fresh one may be accepted). */
  private retryAtOnce = false;
  /** The relay's answer to the previous token, if it refused it (reset when one is accepted). */
  private lastAuthRefusal: string | null = null;
  private readonly delay: { minMs: number; maxMs: number; random: () => number };

  constructor(o: RelayConnectionOptions) {
    this.envelope = o.envelope;
    this.docId = o.docId;
    this.engine = o.engine ? Promise.resolve(o.engine) : defaultEd25519Engine();
    this.engine.catch(() => undefined);
    this.now = o.now ?? Date.now;
    const initial = Y.encodeStateAsUpdate(o.envelope);
    this.gateIndex = rebuildEnvelopeIndex(o.docId, initial).index;
    Y.applyUpdate(this.wire, initial, LOCAL_ORIGIN);
    // Local changes: into the wire at once (the provider sends them from there), and into the
    // gate index in order. The state before the change is kept: the envelope has it already.
    this.onEnvelopeUpdate = (update, origin, _doc, tr) => {
      if (origin === GATE_ORIGIN) return;
      const before = new Map(tr.beforeState);
      const seq = ++this.localSeq;
      this.localPending++;
      this.enqueue(() => this.commitLocal(update, before, seq));
      // Until the first catch-up, local changes stay out of the wire, so the provider does not
      // send them one by one ahead of what the relay holds: a document created offline must
      // reach the relay genesis first, or its records are refused (ENVELOPE_NO_GENESIS).
      if (this.synced.value) Y.applyUpdate(this.wire, update, LOCAL_ORIGIN);
      else {
        this.heldBack.push(update);
        this.unsynced.set(this.sentUnacked + this.heldBack.length);
      }
    };
    o.envelope.on('update', this.onEnvelopeUpdate);
    // Remote changes: what integrating the relay's message changed in the wire, gated.
    this.onWireUpdate = (update, origin) => {
      if (origin !== this.provider) return;
      this.remote.push(update);
      this.enqueue(() => this.pumpRemote());
    };
    this.wire.on('update', this.onWireUpdate);
    const minMs = o.minReconnectDelayMs ?? 1000;
    this.delay = { minMs, maxMs: Math.max(minMs, o.maxReconnectDelayMs ?? 30_000), random: o.random ?? Math.random };
    // This class owns reconnecting (see onSocketDown): the socket makes one attempt per
    // connect(), so its own retry loop (jitter from Math.random) never waits. `delay` is then
    // used only by its fixed-delay reconnect after an established connection closes, which
    // onSocketDown switches off; at the cap it could not fire before ours even if it were not.
    this.socket = new HocuspocusProviderWebsocket({
      url: o.url,
      autoConnect: false,
      maxAttempts: 1,
      // A relay that accepts the TCP connection and never answers must not hold connect() for ever.
      timeout: o.connectTimeoutMs ?? 10_000,
      delay: this.delay.maxMs,
      minDelay: this.delay.minMs,
      maxDelay: this.delay.maxMs,
    });
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: o.name,
      document: this.wire,
      token: o.token,
      forceSyncInterval: o.antiEntropyMs ?? 30_000,
      onSynced: ({ state }) => {
        if (!state) return;
        this.failures = 0;
        // Synced only once the gate has applied (or refused) everything received so far.
        void this.gateIdle().then(() => {
          if (this.destroyed || this.socket.status !== 'connected' || !this.provider.synced) return;
          this.synced.set(true);
        });
      },
      onUnsyncedChanges: ({ number }) => {
        this.sentUnacked = number;
        this.unsynced.set(number + this.heldBack.length);
      },
      onAuthenticated: () => {
        this.lastAuthRefusal = null;
      },
      // The relay refused the token. The socket stays open but this document is not served,
      // and nothing in the provider tries again: stop for good, or reconnect with back-off.
      onAuthenticationFailed: ({ reason }) => {
        const previous = this.lastAuthRefusal;
        this.lastAuthRefusal = reason;
        this.refused(reason, 'auth', previous);
      },
      // Also the relay closing this document (a CLOSE message, reason = stable code, socket
      // still open), and the socket closing (then the status handler reconnects).
      onClose: ({ event }) => {
        if (this.socket.status === 'connected') this.refused(event.reason, 'close');
        else if (classifyRefusal(event.reason, 'close') === 'terminal') this.refused(event.reason, 'close');
      },
    });
    this.socket.on('maxAttemptsFailed', () => this.onSocketDown());
    this.socket.on('status', ({ status }: { status: string }) => {
      if (this.destroyed) return;
      this.connection.set(status === 'connected' ? 'connected' : status === 'connecting' ? 'connecting' : 'offline');
      if (status !== 'connected') this.synced.set(false);
      if (status === 'disconnected') this.onSocketDown();
    });
    // Caught up: the held local changes go into the wire as one update, which the provider
    // sends after what the relay holds (its normal update path, no provider internals).
    this.synced.subscribe((synced) => {
      if (!synced || this.heldBack.length === 0) return;
      const held = Y.mergeUpdates(this.heldBack);
      this.heldBack = [];
      this.unsynced.set(this.sentUnacked);
      Y.applyUpdate(this.wire, held, LOCAL_ORIGIN);
    });
    this.provider.attach();
    // The provider counts sent-but-unacknowledged updates, but a message lost with a dropped
    // connection is never acknowledged and the count stays high. If changes stay unacknowledged
    // while connected, a forced re-sync (state vectors both ways) re-sends them and resets it.
    const resyncAfter = o.resyncAfterMs ?? 1500;
    const check = () => {
      this.resyncTimer = undefined;
      if (this.unsynced.value > 0 && this.connection.value === 'connected' && this.provider.isAuthenticated) {
        this.provider.forceSync();
        // forceSync() reports unsynced changes, and that subscriber below may already have
        // armed the next check: one timer chain, never two (they used to double every round).
        this.resyncTimer ??= setTimeout(check, resyncAfter);
      }
    };
    this.unsynced.subscribe((n) => {
      if (n > 0 && this.resyncTimer === undefined) this.resyncTimer = setTimeout(check, resyncAfter);
    });
  }

  private enqueue(job: () => Promise<void>): void {
    this.gateJobs++;
    void this.gate
      .run(job)
      .catch(() => undefined)
      .finally(() => this.gateJobs--);
  }

  /** Resolves once no gate job is queued or running. */
  async gateIdle(): Promise<void> {
    while (this.gateJobs > 0) await this.gate.idle();
  }

  /**
   * A local change (already in the envelope) into the gate index. One the policy refuses (it
   * did not come through any gate: e.g. written to the envelope directly) would leave the index
   * behind the envelope, so the index is rebuilt from the envelope as it is now, which also
   * covers every local change queued after this one.
   */
  private async commitLocal(update: Uint8Array, before: Map<number, number>, seq: number): Promise<void> {
    try {
      if (seq <= this.rebuiltThrough || this.destroyed) return;
      const verdict = await checkEnvelopeUpdate(update, this.gateIndex, {
        engine: await this.engine,
        now: this.now(),
        limits: CLIENT_LIMITS,
        scope: 'replica',
        stateOf: (client) => before.get(client) ?? 0,
      });
      if (verdict.ok) verdict.value.commit();
      else {
        this.gateIndex = rebuildEnvelopeIndex(this.docId, Y.encodeStateAsUpdate(this.envelope)).index;
        this.rebuiltThrough = this.localSeq;
      }
    } finally {
      this.localPending--;
      if (this.localPending === 0 && this.remote.length > 0) this.enqueue(() => this.pumpRemote());
    }
  }

  /**
   * The relay's changes, oldest first, checked against the gate index, which then equals the
   * envelope (no local change pending), and applied to the envelope only if accepted. If a
   * local change happened during a check, the check is redone after that change is committed
   * (commitLocal queues the next pump), so the relay's changes keep their order.
   *
   * While the wire holds structs or deletes Yjs could not integrate yet (a message lost or
   * reordered on the way), its changes so far may be part of one: e.g. a compaction's deletes
   * integrated before its snapshot, which waits for an earlier struct. Nothing is decided then;
   * once the wire is complete again (the next message, or anti-entropy), everything queued is
   * checked as one merged update, i.e. by its combined effect.
   */
  private async pumpRemote(): Promise<void> {
    while (this.remote.length > 0 && this.localPending === 0 && !this.destroyed) {
      if (hasPending(this.wire)) return;
      const taken = this.remote.length;
      const update = taken === 1 ? this.remote[0]! : Y.mergeUpdates(this.remote);
      const verdict = await checkEnvelopeUpdate(update, this.gateIndex, {
        engine: await this.engine,
        now: this.now(),
        limits: CLIENT_LIMITS,
        scope: 'replica',
        stateOf: (client) => Y.getState(this.envelope.store, client),
      });
      if (this.destroyed || this.localPending > 0) return;
      this.remote.splice(0, taken);
      if (!verdict.ok) {
        this.refusedIncoming.set(verdict.code);
        continue;
      }
      verdict.value.commit();
      Y.applyUpdate(this.envelope, update, GATE_ORIGIN);
    }
  }

  /**
   * The network is back (the browser's "online" event): skip the rest of the back-off and try
   * now, if a connection is wanted (not after disconnect() or a terminal refusal).
   */
  reconnectNow(): void {
    if (this.destroyed || !this.wanted || this.connection.value === 'connected') return;
    void this.connect();
  }

  /** Connects (one attempt now, then reconnects with back-off until disconnect() or a terminal refusal). */
  async connect(): Promise<unknown> {
    if (this.destroyed) return;
    this.wanted = true;
    this.clearRetry();
    // The provider ignores connect() while its previous socket is still closing. Bounded: a
    // socket told to disconnect while still connecting may never report "disconnected", and a
    // connect() that waits for it would hang for ever (seen once under load).
    await withTimeout(this.closing, CLOSING_WAIT_MS);
    if (this.destroyed || !this.wanted) return;
    return this.socket.connect();
  }

  private closing: Promise<void> = Promise.resolve();

  disconnect(): void {
    this.wanted = false;
    this.clearRetry();
    if (this.socket.status !== 'disconnected') {
      this.closing = new Promise<void>((resolve) => {
        const onStatus = ({ status }: { status: string }) => {
          if (status !== 'disconnected') return;
          this.socket.off('status', onStatus);
          resolve();
        };
        this.socket.on('status', onStatus);
      });
    }
    this.socket.disconnect();
    this.connection.set('offline');
    this.synced.set(false);
  }

  /**
   * The relay refused this document (`reason`, on `channel`; see refusals.ts). Terminal: no
   * further connects, provider and socket destroyed, `refusal` set. Transient: drop the socket
   * (the relay no longer serves this document on it) and reconnect with back-off.
   */
  private refused(reason: string, channel: RefusalChannel, previous: string | null = null): void {
    if (this.destroyed) return;
    if (classifyRefusal(reason, channel, previous) === 'terminal') {
      this.wanted = false;
      this.refusal.set(reason);
      // Not from inside the provider's own message or close handling, and only once the gate
      // has applied what the relay sent before refusing (its catch-up): destroying at once
      // dropped it now and then (refused-own's reloaded copy missed the owner's latest record).
      void this.gateIdle().then(() => this.destroy());
      return;
    }
    // The status handler sees the socket go down and schedules the reconnect.
    this.retryAtOnce = freshTokenMayFix(reason, channel);
    if (this.socket.status !== 'disconnected') this.socket.disconnect();
  }

  /**
   * The socket closed or an attempt failed: one reconnect with back-off, if still wanted. The
   * library would also reconnect by itself after a fixed delay (while its public
   * `shouldConnect` is true); `disconnect()` is its public way to say no, called while it is
   * still deciding (it emits the status before it checks `shouldConnect`). Should that order
   * change, its timer (`delay` = the cap) is cleared by our own socket.connect() first. Only
   * while disconnected: a late `maxAttemptsFailed` must not abort an attempt already started.
   */
  private onSocketDown(): void {
    if (this.destroyed) return;
    if (this.socket.status === 'disconnected') this.socket.disconnect();
    if (!this.wanted || this.retryTimer !== undefined) return;
    const wait = this.retryAtOnce ? 0 : reconnectDelay(this.failures, this.delay);
    if (!this.retryAtOnce) this.failures++;
    this.retryAtOnce = false;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.wanted && !this.destroyed) void this.socket.connect();
    }, wait);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private destroyed = false;

  /** Ends every connection attempt for this document for good. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.wanted = false;
    this.clearRetry();
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    this.envelope.off('update', this.onEnvelopeUpdate);
    this.wire.off('update', this.onWireUpdate);
    this.provider.destroy();
    this.socket.destroy();
    this.wire.destroy();
    this.connection.set('offline');
    this.synced.set(false);
  }
}
