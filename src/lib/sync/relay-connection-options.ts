/**
 * What a RelayConnection (relay-connection.ts) is built from: the relay and document, the keys
 * and clock its gate checks with, the shared socket or the settings of its own, and the hook
 * that opens the relay's records early. Its own module because the connection's options are a
 * contract with the vault, read apart from how the connection works.
 */
import type * as Y from 'yjs';
import type { Ed25519Engine } from '../crypto/index.ts';
import type { ParsedRecord } from '../protocol/record.ts';
import type { RelaySocket } from './relay-socket.ts';

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
