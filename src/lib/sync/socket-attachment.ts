/**
 * Whether one document is on its relay socket (relay-socket.ts): wanted by its owner or not,
 * attached (it authenticates and syncs whenever the socket is open) or off it, and after a
 * refusal (refusals.ts) gone for good or back after a back-off; the socket and the other
 * documents on it are left as they are. Separate from relay-connection.ts, which syncs the
 * document: this only decides when the relay serves it, and what its status shows meanwhile.
 */
import type { HocuspocusProvider } from '@hocuspocus/provider';
import type { Observable } from './observable.ts';
import { classifyRefusal, freshTokenMayFix, reconnectDelay, type ReconnectDelays, type RefusalChannel } from './refusals.ts';
import type { RelaySocket } from './relay-socket.ts';
import type { Connection } from './status.ts';

export interface SocketAttachmentOptions {
  readonly socket: RelaySocket;
  /** The document's provider (made after this, so asked for when needed). */
  readonly provider: () => HocuspocusProvider;
  readonly delay: ReconnectDelays;
  readonly connection: Observable<Connection>;
  readonly synced: Observable<boolean>;
  readonly refusal: Observable<string | null>;
  readonly destroyed: () => boolean;
  /** A terminal refusal: the connection ends for good. */
  terminal(): void;
}

export class SocketAttachment {
  private readonly o: SocketAttachmentOptions;
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
  /** The relay's answer to the previous token, if it refused it (reset when one is accepted). */
  private lastAuthRefusal: string | null = null;

  constructor(o: SocketAttachmentOptions) {
    this.o = o;
  }

  /** The owner wants a connection (connect()): on the socket now. */
  want(): void {
    this.wanted = true;
    this.everWanted = true;
    this.clearRetry();
    this.attach();
    this.show();
  }

  /** The owner wants none (disconnect()): off the socket, telling the relay. */
  unwant(): void {
    this.wanted = false;
    this.clearRetry();
    this.detach(true);
  }

  /** The connection ends (destroy()): no connect from here on. */
  stop(): void {
    this.wanted = false;
    this.clearRetry();
  }

  /** A complete catch-up: the back-off starts over. */
  caughtUp(): void {
    this.failures = 0;
  }

  authenticated(): void {
    this.lastAuthRefusal = null;
  }

  /**
   * The relay refused the token. The socket stays open but this document is not served,
   * and nothing in the provider tries again: stop for good, or authenticate again later.
   */
  authenticationFailed(reason: string): void {
    const previous = this.lastAuthRefusal;
    this.lastAuthRefusal = reason;
    this.refused(reason, 'auth', previous);
  }

  /**
   * Also the relay closing this document (a CLOSE message, reason = stable code, socket
   * still open, the other documents on it untouched), and the socket closing (then the
   * shared socket reconnects, and each document authenticates again when it opens).
   */
  closed(reason: string): void {
    if (this.o.socket.socket.status === 'connected') this.refused(reason, 'close');
    else if (classifyRefusal(reason, 'close') === 'terminal') this.refused(reason, 'close');
  }

  /**
   * This document's state for the status: the socket's, except "offline" while not wanted and
   * "connecting" while it waits to authenticate again after a transient refusal.
   */
  show(): void {
    // Before the first connect() it stays "connecting", as before any socket existed.
    if (this.o.destroyed() || !this.everWanted) return;
    const socket = this.o.socket.status.value;
    if (socket !== 'connected') this.o.synced.set(false);
    this.o.connection.set(!this.wanted ? 'offline' : socket === 'connected' && !this.attached ? 'connecting' : socket);
  }

  /**
   * The network is back (the browser's "online" event): skip the rest of the back-off and try
   * now, if a connection is wanted (not after disconnect() or a terminal refusal).
   */
  reconnectNow(): void {
    if (this.o.destroyed() || !this.wanted) return;
    if (this.retryTimer !== undefined) {
      this.clearRetry();
      this.attach();
    }
    this.o.socket.reconnectNow();
  }

  /** Puts the provider on the socket: if it is open, this document authenticates and syncs now. */
  private attach(): void {
    if (this.attached || this.o.destroyed()) return;
    this.attached = true;
    this.o.provider().attach();
  }

  /** Takes the provider off the socket (`tellRelay`: the relay still serves it there, send CLOSE). */
  detach(tellRelay: boolean): void {
    if (!this.attached) return;
    this.attached = false;
    this.o.socket.detach(this.o.provider(), tellRelay);
    // The provider hears no socket close once detached: what it would have done then.
    this.o.provider().onClose();
  }

  /**
   * The relay refused this document (`reason`, on `channel`; see refusals.ts). Terminal: no
   * further connects, provider destroyed (and the socket, if no other document shares it),
   * `refusal` set. Transient: this document alone leaves the socket (the relay no longer serves
   * it there) and authenticates again after a back-off; the socket and the other documents on
   * it stay as they are.
   */
  private refused(reason: string, channel: RefusalChannel, previous: string | null = null): void {
    if (this.o.destroyed()) return;
    if (classifyRefusal(reason, channel, previous) === 'terminal') {
      this.wanted = false;
      // The relay already forgot this document on the socket: leave quietly (no CLOSE), now,
      // so nothing more of it arrives; what did is in the wire and goes through the gate.
      this.detach(false);
      this.o.refusal.set(reason);
      this.o.terminal();
      return;
    }
    // The relay already forgot this document on the socket: leave quietly (no CLOSE).
    this.detach(false);
    this.o.synced.set(false);
    this.show();
    if (!this.wanted || this.retryTimer !== undefined) return;
    // A stale token goes again at once: the fresh one may be accepted.
    const wait = freshTokenMayFix(reason, channel) ? 0 : reconnectDelay(this.failures++, this.o.delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.wanted || this.o.destroyed()) return;
      this.attach();
      this.show();
    }, wait);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
