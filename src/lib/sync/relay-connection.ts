/**
 * Connects an envelope doc to the relay with the stock Hocuspocus provider. The provider only
 * ever sees the envelope doc, so everything it sends is ciphertext and public membership data.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type * as Y from 'yjs';
import { Observable } from './observable.ts';
import type { Connection } from './status.ts';

export interface RelayConnectionOptions {
  /** ws:// or wss:// URL of the relay. */
  readonly url: string;
  /** Opaque document name: base64url of the doc id. */
  readonly name: string;
  readonly envelope: Y.Doc;
  /** Called for every (re)connect: tokens are short-lived. */
  readonly token: () => Promise<string>;
  /** Reconnect delay floor (tests use small values). */
  readonly minReconnectDelayMs?: number;
  /** How long an unacknowledged change may wait before a full re-sync is forced. */
  readonly resyncAfterMs?: number;
  /** Anti-entropy: a state-vector exchange this often, healing any broadcast lost on the way. */
  readonly antiEntropyMs?: number;
}

export class RelayConnection {
  readonly connection = new Observable<Connection>('connecting');
  /** Envelope changes sent but not yet acknowledged, plus those held back until the catch-up. */
  readonly unsynced = new Observable<number>(0);
  private sentUnacked = 0;
  private heldBack = 0;
  /** True after the first complete catch-up with the relay. */
  readonly synced = new Observable<boolean>(false);
  /** Why the relay refused us, if it did (a stable code, e.g. TOKEN_NOT_MEMBER). */
  readonly refusal = new Observable<string | null>(null);
  readonly socket: HocuspocusProviderWebsocket;
  readonly provider: HocuspocusProvider;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: RelayConnectionOptions) {
    this.socket = new HocuspocusProviderWebsocket({
      url: o.url,
      autoConnect: false,
      delay: o.minReconnectDelayMs ?? 1000,
      minDelay: o.minReconnectDelayMs ?? 1000,
      maxDelay: 30_000,
    });
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: o.name,
      document: o.envelope,
      token: o.token,
      forceSyncInterval: o.antiEntropyMs ?? 30_000,
      onSynced: ({ state }) => {
        if (state) this.synced.set(true);
      },
      onUnsyncedChanges: ({ number }) => {
        this.sentUnacked = number;
        this.unsynced.set(number + this.heldBack);
      },
      onAuthenticationFailed: ({ reason }) => this.refusal.set(reason),
      // The relay refuses per document with a CLOSE message whose reason is a stable error code.
      // The provider would keep sending for a document the relay closed (and the relay would
      // queue it as unauthenticated): stop this connection and let the user act.
      onClose: ({ event }) => {
        if (event.reason && /^[A-Z_]+$/.test(event.reason) && this.refusal.value === null) {
          this.refusal.set(event.reason);
          queueMicrotask(() => this.destroy());
        }
      },
    });
    this.socket.on('status', ({ status }: { status: string }) => {
      this.connection.set(status === 'connected' ? 'connected' : status === 'connecting' ? 'connecting' : 'offline');
      if (status !== 'connected') this.synced.set(false);
    });
    // Until the first catch-up, local changes are not sent one by one: they reach the relay in
    // this client's sync step 2, after what the relay holds. A document created offline must
    // arrive genesis first, or the relay refuses its records (ENVELOPE_NO_GENESIS).
    const provider = this.provider as unknown as { boundDocumentUpdateHandler: (u: Uint8Array, origin: unknown) => void };
    const send = provider.boundDocumentUpdateHandler;
    o.envelope.off('update', send);
    provider.boundDocumentUpdateHandler = (update, origin) => {
      if (origin === this.provider) return;
      if (this.synced.value) return send(update, origin);
      this.heldBack++;
      this.unsynced.set(this.sentUnacked + this.heldBack);
    };
    o.envelope.on('update', provider.boundDocumentUpdateHandler);
    this.synced.subscribe((synced) => {
      if (!synced || this.heldBack === 0) return;
      this.heldBack = 0;
      // Held changes travel in the sync step 2 that follows; a forced sync makes sure of it.
      this.provider.forceSync();
      this.unsynced.set(this.sentUnacked);
    });
    this.provider.attach();
    // The provider counts sent-but-unacknowledged updates, but a message lost with a dropped
    // connection is never acknowledged and the count stays high. If changes stay unacknowledged
    // while connected, a forced re-sync (state vectors both ways) re-sends them and resets it.
    const resyncAfter = o.resyncAfterMs ?? 1500;
    const check = () => {
      this.resyncTimer = undefined;
      if (this.unsynced.value > 0 && this.connection.value === 'connected') {
        this.provider.forceSync();
        this.resyncTimer = setTimeout(check, resyncAfter);
      }
    };
    this.unsynced.subscribe((n) => {
      if (n > 0 && this.resyncTimer === undefined) this.resyncTimer = setTimeout(check, resyncAfter);
    });
  }

  async connect(): Promise<unknown> {
    if (this.destroyed) return;
    // The provider ignores connect() while its previous socket is still closing.
    await this.closing;
    return this.socket.connect();
  }

  private closing: Promise<void> = Promise.resolve();

  disconnect(): void {
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

  private destroyed = false;

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    this.provider.destroy();
    this.socket.destroy();
    this.connection.set('offline');
  }
}
