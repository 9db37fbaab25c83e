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
import { HocuspocusProvider } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { defaultEd25519Engine, type Ed25519Engine } from '../crypto/index.ts';
import { checkEnvelopeUpdate, rebuildEnvelopeIndex, startVerifyingUpdate, type EnvelopeIndex, type EnvelopeLimits } from '../protocol/envelope.ts';
import { readVarBytes, readVarUint } from '../protocol/hocuspocus-frames.ts';
import type { ParsedRecord } from '../protocol/record.ts';
import { SerialGate } from '../protocol/serial.ts';
import { Observable } from './observable.ts';
import { OwnWriting, sendOnlyOwnWriting } from './own-writing.ts';
import { hasPending } from './yjs-internals.ts';
import { classifyRefusal, freshTokenMayFix, reconnectDelay, reconnectDelays, type ReconnectDelays, type RefusalChannel } from './refusals.ts';
import { RelaySocket } from './relay-socket.ts';
import type { Connection } from './status.ts';

export interface RelayConnectionOptions {
  /** ws:// or wss:// URL of the relay. */
  readonly url: string;
  /** Opaque document name: base64url of the doc id. */
  readonly name: string;
  readonly envelope: Y.Doc;
  /** The document id (the gate checks records against it). */
  readonly docId: Uint8Array;
  /**
   * The signing keys this device holds: the one it writes records with and the one its tokens
   * are signed with (a device key and its identity's). What it sends the relay then leaves out
   * structs on clientIDs of other people's records (own-writing.ts, decision 0026): required for
   * every device that connects to a relay forwarding while it stores. Absent: everything.
   */
  readonly ownKeys?: readonly Uint8Array[];
  /** Signature engine for the gate (default: defaultEd25519Engine()). */
  readonly engine?: Ed25519Engine;
  /** Clock for membership checks in the gate (default Date.now). */
  readonly now?: () => number;
  /** Called for every (re)connect: tokens are short-lived. */
  readonly token: () => Promise<string>;
  /**
   * The WebSocket to share with the device's other documents on this relay (relay-socket.ts).
   * Without one, this connection has its own, made from the options below.
   */
  readonly socket?: RelaySocket;
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
  /**
   * Called with each record of a small update the relay sends, parsed as the message arrives and
   * while its signature check runs: the sync engine opens it meanwhile (docs/decisions/0058).
   * Nothing is decided by it; the gate and the sync engine check every record as before.
   */
  readonly openAhead?: (record: ParsedRecord) => void;
}

/** Transaction origin of the relay's changes the gate applies to the envelope. */
export const GATE_ORIGIN = Symbol('relay-gate');
/** Origin of local envelope changes copied into the wire doc. */
const LOCAL_ORIGIN = Symbol('relay-local');

/** Hocuspocus's MessageType.Sync and y-protocols' messageYjsSyncStep2 / messageYjsUpdate. */
const MESSAGE_SYNC = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

/** The envelope update a relay message carries (a sync step 2 or update), if it carries one. */
function updateIn(data: unknown): Uint8Array | undefined {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
  if (bytes === undefined) return undefined;
  try {
    const r = { bytes, pos: 0 };
    readVarBytes(r); // the document name
    if (readVarUint(r) !== MESSAGE_SYNC) return undefined;
    const type = readVarUint(r);
    return type === SYNC_STEP_2 || type === SYNC_UPDATE ? readVarBytes(r) : undefined;
  } catch {
    return undefined; // the provider reports what it cannot read
  }
}

/**
 * The client applies no size limits of its own to what the relay forwards (those protect the
 * relay; a sync step 2 of a whole profile may exceed them): only the invariants.
 */
const CLIENT_LIMITS: EnvelopeLimits = { maxRecordBytes: Number.MAX_SAFE_INTEGER, maxUpdateBytes: Number.MAX_SAFE_INTEGER, maxStructs: Number.MAX_SAFE_INTEGER };

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
  /** The engine once known (its signature checks start as the relay's updates arrive). */
  private engineNow: Ed25519Engine | undefined;
  private readonly now: () => number;
  private readonly onEnvelopeUpdate: (update: Uint8Array, origin: unknown, doc: Y.Doc, tr: Y.Transaction) => void;
  private readonly onWireUpdate: (update: Uint8Array, origin: unknown) => void;
  /** The WebSocket this document's provider uses (possibly shared with other documents). */
  readonly socket: RelaySocket;
  private readonly ownsSocket: boolean;
  readonly provider: HocuspocusProvider;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  /** The owner asked for a connection (connect() and no disconnect() since). */
  private wanted = false;
  /** connect() was called at least once. */
  private everWanted = false;
  /** The provider is on the socket (it authenticates and syncs whenever the socket opens). */
  private attached = false;
  /** Refusals of this document since its last complete catch-up: its back-off exponent. */
  private failures = 0;
  /** A transient refusal's wait before this document authenticates again (the socket stays up). */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly detachers: Array<() => void> = [];
  /** The relay's answer to the previous token, if it refused it (reset when one is accepted). */
  private lastAuthRefusal: string | null = null;
  private readonly delay: ReconnectDelays;
  /** What this device may send the relay: its own person's writing (own-writing.ts), if `ownKeys` were given. */
  private readonly ownWriting: OwnWriting | undefined;
  private readonly openAhead: ((record: ParsedRecord) => void) | undefined;
  /** `sendThenWire` is applying a change this device already sent: not the relay's. */
  private applyingSent = false;
  /** The message being applied had its records' checks started on arrival (`arriving`). */
  private checksStarted = false;

  constructor(o: RelayConnectionOptions) {
    this.envelope = o.envelope;
    this.docId = o.docId;
    this.ownWriting = o.ownKeys?.length ? new OwnWriting(this.wire, o.ownKeys, () => this.gateIndex.membership) : undefined;
    this.openAhead = o.openAhead;
    this.engine = o.engine ? Promise.resolve(o.engine) : defaultEd25519Engine();
    this.engine.then((e) => (this.engineNow = e)).catch(() => undefined);
    this.now = o.now ?? Date.now;
    const initial = Y.encodeStateAsUpdate(o.envelope);
    this.gateIndex = rebuildEnvelopeIndex(o.docId, initial).index;
    Y.applyUpdate(this.wire, initial, LOCAL_ORIGIN);
    // Local changes: into the wire at once (the provider sends them from there), and into the
    // gate index in order. The state before the change is kept: the envelope has it already.
    this.onEnvelopeUpdate = (update, origin, _doc, tr) => {
      if (origin === GATE_ORIGIN) return;
      if (tr.local) this.ownWriting?.wroteOn(o.envelope.clientID);
      const before = new Map(tr.beforeState);
      const seq = ++this.localSeq;
      this.localPending++;
      this.enqueue(() => this.commitLocal(update, before, seq));
      // Until the first catch-up, local changes stay out of the wire, so the provider does not
      // send them one by one ahead of what the relay holds: a document created offline must
      // reach the relay genesis first, or its records are refused (ENVELOPE_NO_GENESIS).
      if (this.synced.value && tr.local) this.sendThenWire(update);
      else if (this.synced.value) Y.applyUpdate(this.wire, update, LOCAL_ORIGIN);
      else {
        this.heldBack.push(update);
        this.unsynced.set(this.sentUnacked + this.heldBack.length);
      }
    };
    o.envelope.on('update', this.onEnvelopeUpdate);
    // Remote changes: what integrating the relay's message changed in the wire, gated.
    this.onWireUpdate = (update, origin) => {
      if (origin !== this.provider || this.applyingSent) return;
      // Its signatures are checked meanwhile, before the gate gets to it (docs/decisions/0055),
      // started when the message arrived (decision 0058) unless that could not be done then.
      const started = this.checksStarted;
      this.checksStarted = false;
      if (this.engineNow && !started) startVerifyingUpdate(update, this.engineNow);
      this.remote.push(update);
      this.enqueue(() => this.pumpRemote());
    };
    this.wire.on('update', this.onWireUpdate);
    this.delay = reconnectDelays(o);
    this.ownsSocket = o.socket === undefined;
    this.socket =
      o.socket ??
      new RelaySocket({ url: o.url, connectTimeoutMs: o.connectTimeoutMs, minReconnectDelayMs: this.delay.minMs, maxReconnectDelayMs: o.maxReconnectDelayMs, random: o.random });
    // Not attached yet (connect() attaches): a provider on a shared socket authenticates as soon
    // as that socket opens, wanted or not.
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket.socket,
      name: o.name,
      document: this.wire,
      token: o.token,
      forceSyncInterval: o.antiEntropyMs ?? 30_000,
      // Before the provider applies the message to the wire (docs/decisions/0058).
      onMessage: ({ event }) => this.arriving(event.data),
      onSynced: ({ state }) => {
        if (!state) return;
        this.failures = 0;
        this.socket.succeeded();
        // Synced only once the gate has applied (or refused) everything received so far.
        void this.gateIdle().then(() => {
          if (this.destroyed || this.socket.status.value !== 'connected' || !this.provider.synced) return;
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
      // and nothing in the provider tries again: stop for good, or authenticate again later.
      onAuthenticationFailed: ({ reason }) => {
        const previous = this.lastAuthRefusal;
        this.lastAuthRefusal = reason;
        this.refused(reason, 'auth', previous);
      },
      // Also the relay closing this document (a CLOSE message, reason = stable code, socket
      // still open, the other documents on it untouched), and the socket closing (then the
      // shared socket reconnects, and each document authenticates again when it opens).
      onClose: ({ event }) => {
        if (this.socket.socket.status === 'connected') this.refused(event.reason, 'close');
        else if (classifyRefusal(event.reason, 'close') === 'terminal') this.refused(event.reason, 'close');
      },
    });
    if (this.ownWriting) sendOnlyOwnWriting(this.provider as unknown as Parameters<typeof sendOnlyOwnWriting>[0], this.ownWriting!);
    this.detachers.push(this.socket.status.subscribe(() => this.showConnection()));
    // Caught up: the held local changes go into the wire as one update, which the provider
    // sends after what the relay holds (its normal update path, no provider internals).
    this.synced.subscribe((synced) => {
      if (!synced || this.heldBack.length === 0) return;
      const held = Y.mergeUpdates(this.heldBack);
      this.heldBack = [];
      this.unsynced.set(this.sentUnacked);
      Y.applyUpdate(this.wire, held, LOCAL_ORIGIN);
    });
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

  /**
   * A message from the relay, before the provider applies it to the wire: the signature checks of
   * the records its update carries start now, and the sync engine opens them meanwhile
   * (docs/decisions/0058). Decides nothing: the wire's change goes through the gate as before,
   * whose `verifyRecord` waits for these checks' answers.
   */
  private arriving(data: unknown): void {
    this.checksStarted = false;
    const engine = this.engineNow;
    if (engine === undefined || this.destroyed) return;
    try {
      const update = updateIn(data);
      if (update === undefined) return;
      const records = startVerifyingUpdate(update, engine);
      this.checksStarted = true;
      if (this.openAhead) for (const record of records) this.openAhead(record);
    } catch {
      // Work ahead only: a throw here must never keep the provider from applying the message.
    }
  }

  /**
   * A change this device made in a local envelope transaction, into the wire. Such a transaction
   * only writes structs on the envelope's own clientID (always sent, own-writing.ts) and deletes,
   * all new to the wire, so the wire would re-emit the same change: the provider sends the
   * envelope's update first, through the same handler (counted as unsynced, filtered by
   * `sendOnlyOwnWriting` as ever), and the wire integrates it after, as already sent. The frame
   * leaves without waiting for the wire to decode, integrate and encode it again
   * (docs/decisions/0058). Other changes (loaded from storage, written without a transaction of
   * this device) go through the wire first, as before.
   */
  private sendThenWire(update: Uint8Array): void {
    try {
      this.provider.documentUpdateHandler(update, LOCAL_ORIGIN);
    } finally {
      // In the wire whatever the send did, as when the wire's own event sent it.
      this.applyingSent = true;
      try {
        // The provider's own update handler skips its own origin: nothing is sent twice.
        Y.applyUpdate(this.wire, update, this.provider);
      } finally {
        this.applyingSent = false;
      }
    }
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
   * This document's state for the status: the socket's, except "offline" while not wanted and
   * "connecting" while it waits to authenticate again after a transient refusal.
   */
  private showConnection(): void {
    // Before the first connect() it stays "connecting", as before any socket existed.
    if (this.destroyed || !this.everWanted) return;
    const socket = this.socket.status.value;
    if (socket !== 'connected') this.synced.set(false);
    this.connection.set(!this.wanted ? 'offline' : socket === 'connected' && !this.attached ? 'connecting' : socket);
  }

  /**
   * The network is back (the browser's "online" event): skip the rest of the back-off and try
   * now, if a connection is wanted (not after disconnect() or a terminal refusal).
   */
  reconnectNow(): void {
    if (this.destroyed || !this.wanted) return;
    if (this.retryTimer !== undefined) {
      this.clearRetry();
      this.attach();
    }
    this.socket.reconnectNow();
  }

  /** The network is gone (the browser's "offline" event): the socket is dead even if it has not noticed. */
  networkLost(): void {
    if (!this.destroyed) this.socket.networkLost();
  }

  /** Connects (one attempt now, then reconnects with back-off until disconnect() or a terminal refusal). */
  async connect(): Promise<unknown> {
    if (this.destroyed) return;
    this.wanted = true;
    this.everWanted = true;
    this.clearRetry();
    this.attach();
    this.showConnection();
    return this.socket.want(this);
  }

  disconnect(): void {
    this.wanted = false;
    this.clearRetry();
    this.detach(true);
    this.socket.unwant(this);
    this.showConnection();
    this.synced.set(false);
  }

  /** Puts the provider on the socket: if it is open, this document authenticates and syncs now. */
  private attach(): void {
    if (this.attached || this.destroyed) return;
    this.attached = true;
    this.provider.attach();
  }

  /** Takes the provider off the socket (`tellRelay`: the relay still serves it there, send CLOSE). */
  private detach(tellRelay: boolean): void {
    if (!this.attached) return;
    this.attached = false;
    this.socket.detach(this.provider, tellRelay);
    // The provider hears no socket close once detached: what it would have done then.
    this.provider.onClose();
  }

  /**
   * The relay refused this document (`reason`, on `channel`; see refusals.ts). Terminal: no
   * further connects, provider destroyed (and the socket, if no other document shares it),
   * `refusal` set. Transient: this document alone leaves the socket (the relay no longer serves
   * it there) and authenticates again after a back-off; the socket and the other documents on
   * it stay as they are.
   */
  private refused(reason: string, channel: RefusalChannel, previous: string | null = null): void {
    if (this.destroyed) return;
    if (classifyRefusal(reason, channel, previous) === 'terminal') {
      this.wanted = false;
      // The relay already forgot this document on the socket: leave quietly (no CLOSE), now,
      // so nothing more of it arrives; what did is in the wire and goes through the gate.
      this.detach(false);
      this.refusal.set(reason);
      // Not from inside the provider's own message or close handling, and only once the gate
      // has applied what the relay sent before refusing (its catch-up): destroying at once
      // dropped it now and then (refused-own's reloaded copy missed the owner's latest record).
      void this.gateIdle().then(() => this.destroy());
      return;
    }
    // The relay already forgot this document on the socket: leave quietly (no CLOSE).
    this.detach(false);
    this.synced.set(false);
    this.showConnection();
    if (!this.wanted || this.retryTimer !== undefined) return;
    // A stale token goes again at once: the fresh one may be accepted.
    const wait = freshTokenMayFix(reason, channel) ? 0 : reconnectDelay(this.failures++, this.delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.wanted || this.destroyed) return;
      this.attach();
      this.showConnection();
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
    for (const d of this.detachers.splice(0)) d();
    this.detach(true);
    this.provider.destroy();
    this.socket.unwant(this);
    if (this.ownsSocket) this.socket.destroy();
    this.wire.destroy();
    this.connection.set('offline');
    this.synced.set(false);
  }
}
