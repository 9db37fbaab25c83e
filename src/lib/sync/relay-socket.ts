/**
 * One WebSocket to a relay, shared by every document a device syncs there (Hocuspocus
 * multiplexing: each document has its own provider, token, authentication, sync and refusals; the
 * relay keys auth, budgets, clientID binding and refusals by document connection, never by
 * socket, and closes a refused document with a CLOSE message while the socket stays open).
 *
 * This class owns the socket's life: it connects while at least one document wants it, and
 * reconnects with back-off when it drops. Documents (RelayConnection) own what is theirs:
 * refusals, re-authentication, the client gate. `RelaySockets` hands out one per relay URL.
 */
import { HocuspocusProviderWebsocket, type HocuspocusProvider } from '@hocuspocus/provider';
import { Observable } from './observable.ts';
import { reconnectDelay, reconnectDelays, type ReconnectDelays } from './refusals.ts';
import type { Connection } from './status.ts';

export interface RelaySocketOptions {
  /** ws:// or wss:// URL of the relay. */
  readonly url: string;
  /** One connection attempt (TCP + WebSocket handshake) gives up after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Reconnect delay floor (default 1 s; tests use small values). */
  readonly minReconnectDelayMs?: number;
  /** Reconnect delay cap (default 30 s). */
  readonly maxReconnectDelayMs?: number;
  /** Jitter source for reconnect delays, [0, 1) (default Math.random; tests pin it). */
  readonly random?: () => number;
}

/** How long a connect waits for the previous socket to finish closing. */
const CLOSING_WAIT_MS = 3000;
/**
 * After the browser says the network is back, the first attempt often fails: the "online" event
 * comes a few tens of milliseconds before connections go through (S11). The attempts right after
 * it back off from this floor instead of the usual one (100, 200, 400, 800 ms), and only for
 * EAGER_ATTEMPTS failures; then the usual back-off applies. Bounded per device and triggered by
 * its own network, not by a relay outage, so it adds no herd on a relay restart.
 */
const EAGER_FLOOR_MS = 100;
const EAGER_ATTEMPTS = 4;

/** Resolves when `p` does or after `ms`, whichever is first (the timer never outlives it). */
function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class RelaySocket {
  readonly url: string;
  readonly socket: HocuspocusProviderWebsocket;
  /** The socket's state as the documents should show it (offline at once when the browser says so). */
  readonly status = new Observable<Connection>('offline');
  /**
   * Counts each time the socket went down or an attempt to bring it up failed (a WebSocket that
   * did not open, or closed). Its state passes through "offline" on the way up, so that state is
   * no such sign; this is (the vault's catch-up hold ends on it: sync/catch-up-hold.ts).
   */
  readonly downs = new Observable<number>(0);
  /** Documents that want a connection now. */
  private readonly users = new Set<object>();
  /** Failed (re)connects since a document last caught up: the back-off exponent. */
  private failures = 0;
  /** Failed attempts left that use the eager floor (set by reconnectNow). */
  private eager = 0;
  /** The attempt under way was started by reconnectNow (its next calls leave it alone). */
  private attemptFromReconnect = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> = Promise.resolve();
  private readonly delay: ReconnectDelays;
  private destroyed = false;

  constructor(o: RelaySocketOptions) {
    this.url = o.url;
    this.delay = reconnectDelays(o);
    // This class owns reconnecting (see onDown): the socket makes one attempt per connect(), so
    // its own retry loop (jitter from Math.random) never waits. `delay` is then used only by its
    // fixed-delay reconnect after an established connection closes, which onDown switches off;
    // at the cap it could not fire before ours even if it were not.
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
    this.socket.on('maxAttemptsFailed', () => this.onDown());
    this.socket.on('status', ({ status }: { status: string }) => {
      if (this.destroyed) return;
      this.status.set(status === 'connected' ? 'connected' : status === 'connecting' ? 'connecting' : 'offline');
      if (status !== 'connecting') this.attemptFromReconnect = false;
      if (status === 'disconnected') this.onDown();
    });
  }

  /** Some document wants a connection. */
  get wanted(): boolean {
    return this.users.size > 0;
  }

  /** `user` wants a connection: one attempt now unless the socket is up or trying (then back-off). */
  async want(user: object): Promise<unknown> {
    if (this.destroyed) return;
    this.users.add(user);
    if (this.socket.status !== 'disconnected') return;
    this.clearRetry();
    // The socket ignores connect() while its previous WebSocket is still closing. Bounded: a
    // socket told to disconnect while still connecting may never report "disconnected", and a
    // connect() that waits for it would hang for ever (seen once under load).
    await withTimeout(this.closing, CLOSING_WAIT_MS);
    if (this.destroyed || !this.wanted || this.socket.status !== 'disconnected') return;
    return this.socket.connect();
  }

  /** `user` no longer wants a connection; the socket closes once no document wants it. */
  unwant(user: object): void {
    this.users.delete(user);
    if (this.users.size > 0 || this.destroyed) return;
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
    this.status.set('offline');
  }

  /**
   * The network is back (the browser's "online" event): skip the rest of the back-off and try
   * now; an attempt started while offline (which may hang until its timeout) is replaced.
   */
  reconnectNow(): void {
    if (this.destroyed || !this.wanted || this.socket.status === 'connected') return;
    // Every open profile hears the same "online" event: the first call's attempt is the one.
    // Restarting it for each (the library drops the attempt under way) cost a socket each.
    if (this.socket.status === 'connecting' && this.attemptFromReconnect) return;
    this.attemptFromReconnect = true;
    this.clearRetry();
    this.failures = 0;
    this.eager = EAGER_ATTEMPTS;
    void this.socket.connect();
  }

  /**
   * The browser says the network is gone ("offline" event): the WebSocket is dead even if it
   * has not noticed (no close arrives without a network; the provider's own check takes 30 s).
   * Closed now, as a real close would be, so nothing shows
   * "connected" meanwhile; reconnecting goes on with back-off, and at once on reconnectNow().
   */
  networkLost(): void {
    if (this.destroyed || this.socket.status === 'disconnected') return;
    // The library's own forced close (what its dead-socket check does), then what a real close
    // tells each provider on the socket.
    this.socket.onClose({ event: { code: 4408, reason: 'offline' } as CloseEvent });
    for (const provider of this.socket.configuration.providerMap.values()) provider.onClose();
  }

  /** A document caught up: the socket works, so back-off starts again from the floor. */
  succeeded(): void {
    this.failures = 0;
    this.eager = 0;
  }

  /**
   * A provider leaves the socket. `tellRelay`: send the CLOSE message, which only makes sense
   * while the relay serves the document on this open socket. Otherwise it is left out: queued
   * for a later socket it would reach the relay before the document's next authentication, be
   * held with it, and close the document again right after it is accepted.
   */
  detach(provider: HocuspocusProvider, tellRelay: boolean): void {
    if (!tellRelay || this.socket.status !== 'connected') this.socket.configuration.providerMap.delete(provider.effectiveName);
    provider.detach();
  }

  /**
   * The socket closed or an attempt failed: one reconnect with back-off, if still wanted. The
   * library would also reconnect by itself after a fixed delay (while its public
   * `shouldConnect` is true); `disconnect()` is its public way to say no, called while it is
   * still deciding (it emits the status before it checks `shouldConnect`). Should that order
   * change, its timer (`delay` = the cap) is cleared by our own socket.connect() first. Only
   * while disconnected: a late `maxAttemptsFailed` must not abort an attempt already started.
   */
  private onDown(): void {
    if (this.destroyed) return;
    this.downs.set(this.downs.value + 1);
    if (this.socket.status === 'disconnected') this.socket.disconnect();
    if (!this.wanted || this.retryTimer !== undefined) return;
    const wait =
      this.eager > 0
        ? reconnectDelay(EAGER_ATTEMPTS - this.eager--, { ...this.delay, minMs: Math.min(EAGER_FLOOR_MS, this.delay.minMs) })
        : reconnectDelay(this.failures++, this.delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.wanted && !this.destroyed) void this.socket.connect();
    }, wait);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.users.clear();
    this.clearRetry();
    this.socket.destroy();
    this.status.set('offline');
  }
}

/** One RelaySocket per relay URL: what a session's profiles share. */
export class RelaySockets {
  private readonly sockets = new Map<string, RelaySocket>();
  private readonly options: Omit<RelaySocketOptions, 'url'>;

  constructor(options: Omit<RelaySocketOptions, 'url'> = {}) {
    this.options = options;
  }

  for(url: string): RelaySocket {
    let s = this.sockets.get(url);
    if (!s) {
      s = new RelaySocket({ ...this.options, url });
      this.sockets.set(url, s);
    }
    return s;
  }

  /** The network is back: every socket tries now. */
  reconnectNow(): void {
    for (const s of this.sockets.values()) s.reconnectNow();
  }

  /** The network is gone: every socket is closed now (and reconnects with back-off). */
  networkLost(): void {
    for (const s of this.sockets.values()) s.networkLost();
  }

  destroy(): void {
    for (const s of this.sockets.values()) s.destroy();
    this.sockets.clear();
  }
}
