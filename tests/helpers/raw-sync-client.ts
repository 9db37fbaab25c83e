/**
 * A raw Hocuspocus client speaking the wire protocol by hand, as an attacker with a valid token
 * would: it sends any update bytes it likes (no local Y.Doc integrates them first) and records
 * how the relay answered: authenticated, refused or closed with a stable code, the updates it
 * sent, and its acknowledgements (the SyncStatus message Hocuspocus sends once it applied an
 * update; `onAck` runs synchronously as each arrives, so a test can act at that moment, e.g.
 * kill the relay). Every wait wakes on messages, not on a timer, and has a timeout.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { nobleEngine, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken } from '../../src/lib/protocol/index.ts';

const MSG_SYNC = 0;
const MSG_AUTH = 2;
const MSG_CLOSE = 7;
const MSG_SYNC_STATUS = 8;
const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;
const AUTHENTICATED = 2;

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: no answer in ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RawSyncClientOptions {
  readonly url: string;
  readonly name: string;
  readonly docId: Uint8Array;
  readonly signer: SigningKeyPair;
  /** Token time (default now). */
  readonly now?: number;
  /** For the creator of a document that has no genesis yet. */
  readonly genesisNonce?: Uint8Array;
  readonly timeoutMs?: number;
}

export class RawSyncClient {
  closeReason: string | null = null;
  authenticated = false;
  /** WebSocket pings the server sent (answered by the ws library with a pong). */
  pings = 0;
  /** Positive SyncStatus messages (acknowledgements) received so far. */
  acked = 0;
  onAck: ((acked: number) => void) | undefined;
  /** Updates the relay sent (sync step 2 and broadcasts). */
  readonly received: Uint8Array[] = [];
  private readonly step2s: Uint8Array[] = [];
  private barriers = 0;
  private readonly waiters = new Set<() => void>();
  private readonly ws: WebSocket;
  private readonly name: string;
  private readonly timeoutMs: number;

  private constructor(ws: WebSocket, name: string, timeoutMs: number) {
    this.ws = ws;
    this.name = name;
    this.timeoutMs = timeoutMs;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      this.receive(new Uint8Array(data));
      this.wake();
    });
    ws.on('close', () => {
      this.closeReason ??= 'SOCKET_CLOSED';
      this.wake();
    });
    ws.on('error', () => undefined); // a killed relay resets the socket; 'close' follows
    ws.on('ping', () => this.pings++);
  }

  /** Connects and authenticates; resolves either way (check `authenticated` / `closeReason`). */
  static connect(url: string, name: string, docId: Uint8Array, signer: SigningKeyPair, now = Date.now(), genesisNonce?: Uint8Array): Promise<RawSyncClient> {
    return RawSyncClient.open({ url, name, docId, signer, now, genesisNonce });
  }

  static async open(o: RawSyncClientOptions): Promise<RawSyncClient> {
    const timeoutMs = o.timeoutMs ?? 10_000;
    const ws = new WebSocket(o.url);
    const c = new RawSyncClient(ws, o.name, timeoutMs);
    await within(
      new Promise<void>((ok, fail) => {
        ws.once('open', () => ok());
        ws.once('error', fail);
      }),
      timeoutMs,
      'connect',
    );
    const token = await createAuthToken({ secretKey: o.signer.secretKey, docId: o.docId, expiresAt: (o.now ?? Date.now()) + 60_000, engine: nobleEngine, genesisNonce: o.genesisNonce });
    c.frame(MSG_AUTH, (e) => {
      encoding.writeVarUint(e, 0); // token
      encoding.writeVarString(e, token);
    });
    await c.until(() => c.authenticated || c.closeReason !== null, 'authentication');
    return c;
  }

  /** Sends one update (one SyncStatus answers it if the relay takes it). */
  sendUpdate(update: Uint8Array): void {
    this.frame(MSG_SYNC, (e) => {
      encoding.writeVarUint(e, SYNC_UPDATE);
      encoding.writeVarUint8Array(e, update);
    });
  }

  /** Resolves once `n` more acknowledgements than now arrived. */
  acks(n: number): Promise<void> {
    const target = this.acked + n;
    return this.until(() => this.acked >= target, `${n} acknowledgement(s)`);
  }

  /**
   * Resolves once the relay handled everything sent before (it answers a sync step 1 in order),
   * or the relay closed this document. Returns the close reason, if any.
   */
  async barrier(): Promise<string | null> {
    const n = ++this.barriers;
    this.askState();
    await this.until(() => this.step2s.length >= n || this.closeReason !== null, `barrier ${n}`);
    return this.closeReason;
  }

  /** The relay's whole document: its answer to a sync step 1 with an empty state vector. */
  async serverState(): Promise<Uint8Array> {
    const before = this.step2s.length;
    this.barriers++;
    this.askState();
    await this.until(() => this.step2s.length > before, 'sync step 2');
    return this.step2s[this.step2s.length - 1]!;
  }

  /** The relay's full state as it sent it (the last sync step 2 answers an empty state vector). */
  latestState(): Uint8Array {
    return Y.mergeUpdates(this.received);
  }

  /** Resolves once the socket closed (the relay went away). */
  closed(): Promise<void> {
    return this.until(() => this.ws.readyState === WebSocket.CLOSED, 'socket close');
  }

  close(): void {
    this.ws.close();
  }

  private askState(): void {
    this.frame(MSG_SYNC, (e) => {
      encoding.writeVarUint(e, SYNC_STEP_1);
      encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
    });
  }

  private until(predicate: () => boolean, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    let check: () => void = () => undefined;
    const reached = new Promise<void>((ok) => {
      check = () => {
        if (predicate()) ok();
      };
      this.waiters.add(check);
    });
    return within(reached, this.timeoutMs, what).finally(() => this.waiters.delete(check));
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }

  private receive(bytes: Uint8Array): void {
    const d = decoding.createDecoder(bytes);
    decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type === MSG_AUTH) {
      if (decoding.readVarUint(d) === AUTHENTICATED) this.authenticated = true;
      else this.closeReason = decoding.readVarString(d);
    } else if (type === MSG_SYNC_STATUS) {
      if (decoding.readVarUint(d) === 1) {
        this.acked++;
        this.onAck?.(this.acked);
      }
    } else if (type === MSG_SYNC) {
      const sub = decoding.readVarUint(d);
      if (sub === SYNC_STEP_2 || sub === SYNC_UPDATE) {
        const update = decoding.readVarUint8Array(d);
        this.received.push(update);
        if (sub === SYNC_STEP_2) this.step2s.push(update);
      }
    } else if (type === MSG_CLOSE) this.closeReason = decoding.readVarString(d);
  }

  private frame(type: number, body: (e: encoding.Encoder) => void): void {
    const e = encoding.createEncoder();
    encoding.writeVarString(e, this.name);
    encoding.writeVarUint(e, type);
    body(e);
    this.ws.send(encoding.toUint8Array(e));
  }
}
