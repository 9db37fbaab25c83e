/**
 * Connects an envelope doc to the relay with the stock Hocuspocus provider. The provider only
 * ever sees envelope data, so everything it sends is ciphertext and public membership data.
 *
 * The client gate (client-gate.ts): the provider syncs a private "wire" doc, never the envelope itself. Local
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
import { defaultEd25519Engine } from '../crypto/index.ts';
import { ClientGate, GATE_ORIGIN } from './client-gate.ts';
import { EarlyChecks } from './early-checks.ts';
import { Observable } from './observable.ts';
import { OwnWriting, sendOnlyOwnWriting } from './own-writing.ts';
import type { RelayConnectionOptions } from './relay-connection-options.ts';
import { reconnectDelays } from './refusals.ts';
import { RelaySocket } from './relay-socket.ts';
import { SocketAttachment } from './socket-attachment.ts';
import { StoreFirstQueue, type Unstored } from './store-first.ts';
import type { Connection } from './status.ts';

export type { RelayConnectionOptions } from './relay-connection-options.ts';

/** Transaction origin of the relay's changes the gate applies to the envelope (client-gate.ts). */
export { GATE_ORIGIN } from './client-gate.ts';
/** Origin of local envelope changes copied into the wire doc. */
const LOCAL_ORIGIN = Symbol('relay-local');

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
  /** Checks the relay's changes before they reach the envelope (client-gate.ts). */
  private readonly gate: ClientGate;
  /** Signature checks and openings started as messages arrive (early-checks.ts). */
  private readonly early: EarlyChecks;
  private readonly onEnvelopeUpdate: (update: Uint8Array, origin: unknown, doc: Y.Doc, tr: Y.Transaction) => void;
  private readonly onWireUpdate: (update: Uint8Array, origin: unknown) => void;
  /** The WebSocket this document's provider uses (possibly shared with other documents). */
  readonly socket: RelaySocket;
  private readonly ownsSocket: boolean;
  readonly provider: HocuspocusProvider;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the document is on the socket: wanted, refused, backing off (socket-attachment.ts). */
  private readonly attachment: SocketAttachment;
  private readonly detachers: Array<() => void> = [];
  /** What this device may send the relay: its own person's writing (own-writing.ts), if `ownKeys` were given. */
  private readonly ownWriting: OwnWriting | undefined;
  /** `sendThenWire` is applying a change this device already sent: not the relay's. */
  private applyingSent = false;
  /** Local changes waiting for the device's store to commit them (store-first.ts), if it commits late. */
  private storeFirst: StoreFirstQueue | undefined;

  constructor(o: RelayConnectionOptions) {
    this.envelope = o.envelope;
    this.ownWriting = o.ownKeys?.length ? new OwnWriting(this.wire, o.ownKeys, () => this.gate.index.membership) : undefined;
    const engine = o.engine ? Promise.resolve(o.engine) : defaultEd25519Engine();
    this.early = new EarlyChecks(engine, o.openAhead, () => this.destroyed);
    const initial = Y.encodeStateAsUpdate(o.envelope);
    this.gate = new ClientGate({
      docId: o.docId,
      envelope: o.envelope,
      wire: this.wire,
      initial,
      engine,
      now: o.now ?? Date.now,
      destroyed: () => this.destroyed,
      refused: (code) => this.refusedIncoming.set(code),
    });
    Y.applyUpdate(this.wire, initial, LOCAL_ORIGIN);
    // Local changes: into the wire at once (the provider sends them from there), and into the
    // gate index in order. The state before the change is kept: the envelope has it already.
    this.onEnvelopeUpdate = (update, origin, _doc, tr) => {
      if (origin === GATE_ORIGIN) return;
      if (tr.local) this.ownWriting?.wroteOn(o.envelope.clientID);
      this.gate.local(update, new Map(tr.beforeState));
      // Until the first catch-up, local changes stay out of the wire, so the provider does not
      // send them one by one ahead of what the relay holds: a document created offline must
      // reach the relay genesis first, or its records are refused (ENVELOPE_NO_GENESIS).
      if (!this.synced.value) this.heldBack.push(update);
      else if (this.storeFirst) this.storeFirst.push({ update, local: tr.local });
      else this.send([{ update, local: tr.local }]);
      this.countUnsynced();
    };
    o.envelope.on('update', this.onEnvelopeUpdate);
    // Remote changes: what integrating the relay's message changed in the wire, gated.
    this.onWireUpdate = (update, origin) => {
      if (origin !== this.provider || this.applyingSent) return;
      this.early.wireChanged(update);
      this.gate.incoming(update);
    };
    this.wire.on('update', this.onWireUpdate);
    const delay = reconnectDelays(o);
    this.ownsSocket = o.socket === undefined;
    this.socket =
      o.socket ??
      new RelaySocket({ url: o.url, connectTimeoutMs: o.connectTimeoutMs, minReconnectDelayMs: delay.minMs, maxReconnectDelayMs: o.maxReconnectDelayMs, random: o.random });
    this.attachment = new SocketAttachment({
      socket: this.socket,
      provider: () => this.provider,
      delay,
      connection: this.connection,
      synced: this.synced,
      refusal: this.refusal,
      destroyed: () => this.destroyed,
      // Not from inside the provider's own message or close handling, and only once the gate
      // has applied what the relay sent before refusing (its catch-up): destroying at once
      // dropped it now and then (refused-own's reloaded copy missed the owner's latest record).
      terminal: () => void this.gateIdle().then(() => this.destroy()),
    });
    // Not attached yet (connect() attaches): a provider on a shared socket authenticates as soon
    // as that socket opens, wanted or not.
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket.socket,
      name: o.name,
      document: this.wire,
      token: o.token,
      forceSyncInterval: o.antiEntropyMs ?? 30_000,
      // Before the provider applies the message to the wire (docs/decisions/0058).
      onMessage: ({ event }) => this.early.arriving(event.data),
      onSynced: ({ state }) => {
        if (!state) return;
        this.attachment.caughtUp();
        this.socket.succeeded();
        // Synced only once the gate has applied (or refused) everything received so far.
        void this.gateIdle().then(() => {
          if (this.destroyed || this.socket.status.value !== 'connected' || !this.provider.synced) return;
          this.synced.set(true);
        });
      },
      onUnsyncedChanges: ({ number }) => {
        this.sentUnacked = number;
        this.countUnsynced();
      },
      onAuthenticated: () => this.attachment.authenticated(),
      // The relay refused the token or closed this document, or the socket closed (socket-attachment.ts).
      onAuthenticationFailed: ({ reason }) => this.attachment.authenticationFailed(reason),
      onClose: ({ event }) => this.attachment.closed(event.reason),
    });
    if (this.ownWriting) sendOnlyOwnWriting(this.provider as unknown as Parameters<typeof sendOnlyOwnWriting>[0], this.ownWriting!);
    this.detachers.push(this.socket.status.subscribe(() => this.attachment.show()));
    // Caught up: the held local changes go into the wire as one update, which the provider
    // sends after what the relay holds (its normal update path, no provider internals).
    this.synced.subscribe((synced) => {
      if (!synced || this.heldBack.length === 0) return;
      const held: Unstored = { update: Y.mergeUpdates(this.heldBack), local: false };
      this.heldBack = [];
      // Held changes may be as new as the store's last commit: they wait for it like any other.
      if (this.storeFirst) this.storeFirst.push(held);
      else this.send([held]);
      this.countUnsynced();
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
   * Sends local changes only once `stored` (the device's store: everything it was given so far
   * is committed) resolves, in the order they were made (store-first.ts, decision 0063). For a
   * store that commits late (IndexedDB); one that commits at once needs none.
   */
  sendOnceStored(stored: () => Promise<void>): void {
    this.storeFirst = new StoreFirstQueue(stored, (ready) => this.released(ready), () => this.destroyed);
  }

  private released(ready: Unstored[]): void {
    // Disconnected meanwhile: they go with the next catch-up, ahead of what was held since.
    if (!this.synced.value) this.heldBack.unshift(...ready.map((c) => c.update));
    else this.send(ready);
    this.countUnsynced();
  }

  private send(changes: Unstored[]): void {
    for (const c of changes) {
      if (c.local) this.sendThenWire(c.update);
      else Y.applyUpdate(this.wire, c.update, LOCAL_ORIGIN);
    }
  }

  /** Sent and unacknowledged, held until the catch-up, or waiting for the store. */
  private countUnsynced(): void {
    this.unsynced.set(this.sentUnacked + this.heldBack.length + (this.storeFirst?.size ?? 0));
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

  /** Resolves once no gate job is queued or running. */
  gateIdle(): Promise<void> {
    return this.gate.idle();
  }

  /**
   * The network is back (the browser's "online" event): skip the rest of the back-off and try
   * now, if a connection is wanted (not after disconnect() or a terminal refusal).
   */
  reconnectNow(): void {
    this.attachment.reconnectNow();
  }

  /** The network is gone (the browser's "offline" event): the socket is dead even if it has not noticed. */
  networkLost(): void {
    if (!this.destroyed) this.socket.networkLost();
  }

  /** Connects (one attempt now, then reconnects with back-off until disconnect() or a terminal refusal). */
  async connect(): Promise<unknown> {
    if (this.destroyed) return;
    this.attachment.want();
    return this.socket.want(this);
  }

  disconnect(): void {
    this.attachment.unwant();
    this.socket.unwant(this);
    this.attachment.show();
    this.synced.set(false);
  }

  private destroyed = false;

  /** Ends every connection attempt for this document for good. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.attachment.stop();
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    this.envelope.off('update', this.onEnvelopeUpdate);
    this.wire.off('update', this.onWireUpdate);
    for (const d of this.detachers.splice(0)) d();
    this.attachment.detach(true);
    this.provider.destroy();
    this.socket.unwant(this);
    if (this.ownsSocket) this.socket.destroy();
    this.wire.destroy();
    this.connection.set('offline');
    this.synced.set(false);
  }
}
