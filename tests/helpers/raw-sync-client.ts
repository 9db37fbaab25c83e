/**
 * A raw Hocuspocus client speaking the wire protocol by hand, as an attacker with a valid token
 * would: it sends any update bytes it likes (no local Y.Doc integrates them first) and records
 * how the relay answered (authenticated, refused, closed with a stable code).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { nobleEngine, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken } from '../../src/lib/protocol/index.ts';
import { eventually } from './eventually.ts';

const MSG_SYNC = 0;
const MSG_AUTH = 2;
const MSG_CLOSE = 7;
const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

export class RawSyncClient {
  closeReason: string | null = null;
  authenticated = false;
  /** Updates the relay sent (sync step 2 and broadcasts). */
  readonly received: Uint8Array[] = [];
  private step2s = 0;
  private barriers = 0;
  private readonly ws: WebSocket;
  private readonly name: string;

  private constructor(ws: WebSocket, name: string) {
    this.ws = ws;
    this.name = name;
    ws.on('message', (data: Buffer) => this.receive(new Uint8Array(data)));
    ws.on('close', () => (this.closeReason ??= 'SOCKET_CLOSED'));
  }

  /** Connects and authenticates; resolves either way (check `authenticated` / `closeReason`). */
  static async connect(url: string, name: string, docId: Uint8Array, signer: SigningKeyPair, now = Date.now(), genesisNonce?: Uint8Array): Promise<RawSyncClient> {
    const ws = new WebSocket(url);
    const c = new RawSyncClient(ws, name);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const token = await createAuthToken({ secretKey: signer.secretKey, docId, expiresAt: now + 60_000, engine: nobleEngine, genesisNonce });
    c.frame(MSG_AUTH, (e) => {
      encoding.writeVarUint(e, 0); // token
      encoding.writeVarString(e, token);
    });
    await eventually(() => c.authenticated || c.closeReason !== null, 10_000);
    return c;
  }

  private receive(bytes: Uint8Array): void {
    const d = decoding.createDecoder(bytes);
    decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type === MSG_AUTH) {
      if (decoding.readVarUint(d) === 2) this.authenticated = true;
      else this.closeReason = decoding.readVarString(d);
    } else if (type === MSG_SYNC) {
      const sub = decoding.readVarUint(d);
      if (sub === SYNC_STEP_2 || sub === SYNC_UPDATE) this.received.push(decoding.readVarUint8Array(d));
      if (sub === SYNC_STEP_2) this.step2s++;
    } else if (type === MSG_CLOSE) this.closeReason = decoding.readVarString(d);
  }

  private frame(type: number, body: (e: encoding.Encoder) => void): void {
    const e = encoding.createEncoder();
    encoding.writeVarString(e, this.name);
    encoding.writeVarUint(e, type);
    body(e);
    this.ws.send(encoding.toUint8Array(e));
  }

  sendUpdate(update: Uint8Array): void {
    this.frame(MSG_SYNC, (e) => {
      encoding.writeVarUint(e, SYNC_UPDATE);
      encoding.writeVarUint8Array(e, update);
    });
  }

  /**
   * Resolves once the relay handled everything sent before (it answers a sync step 1 in order),
   * or the relay closed this document. Returns the close reason, if any.
   */
  async barrier(): Promise<string | null> {
    const n = ++this.barriers;
    this.frame(MSG_SYNC, (e) => {
      encoding.writeVarUint(e, SYNC_STEP_1);
      encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
    });
    await eventually(() => this.step2s >= n || this.closeReason !== null, 10_000, () => `barrier ${n}`);
    return this.closeReason;
  }

  /** The relay's full state as it sent it (the last sync step 2 answers an empty state vector). */
  latestState(): Uint8Array {
    return Y.mergeUpdates(this.received);
  }

  close(): void {
    this.ws.close();
  }
}
