/**
 * A device sends the relay only its own person's writing (docs/decisions/0026).
 *
 * The relay forwards an accepted update while it is still being stored, and acknowledges it to
 * its author only once it is durable. A relay crash in between loses a record some peers
 * already hold. Its author resends it (it was never acknowledged); a peer must not, because the
 * relay takes structs on a clientID only from the person who owns it (invariant I4) and refuses
 * the peer's whole message, finally, with ENVELOPE_CLIENT_NOT_OWNED. So whatever this device
 * sends the relay (its answer to the relay's sync step 1, its updates) leaves out every struct on
 * an envelope clientID that carries a record signed by another person. Everything else it holds
 * came from the relay, which either still has it or lost it unacknowledged, and then its author
 * resends it.
 *
 * Which clientIDs are another person's: envelope clientIDs are random per envelope doc (one
 * device, one open), so the only proof of whose they are is a live record on them, signed by a
 * key whose person (a certified device acts for its identity, §6.1) is someone else. A clientID
 * is attributed the first time it is needed and the answer kept (a clientID never changes
 * hands; its person is looked up again each time, since a device certificate may arrive later).
 * A clientID with no live record (every record on it compacted) is not attributed and is sent:
 * it is this device's own (an earlier open's records compacted before they were acknowledged,
 * which the relay must receive before the compaction's deletes), or another's that the relay
 * holds already (then nothing of it is in a diff), except in the case decision 0026 lists.
 * Delete sets are sent whole: a delete of an item the relay lacks is ENVELOPE_DELETE_UNKNOWN,
 * which is transient. What this device itself wrote (a local transaction's clientID) is always
 * sent, whoever's records that clientID also holds: if it is not its own, the relay refuses it
 * visibly (I4) instead of the write being dropped here unseen.
 */
import type { Encoder } from 'lib0/encoding';
import * as Y from 'yjs';
import { toHex } from '../crypto/index.ts';
import { personOf } from '../protocol/envelope-index.ts';
import type { MembershipView } from '../protocol/membership.ts';
import { parseRecord } from '../protocol/record.ts';
import { encoderBytes, encoderOf, frame, readVarBytes, readVarUint, type FrameReader } from '../protocol/hocuspocus-frames.ts';

export class OwnWriting {
  /** clientID → hex signing key of a live record found on it. */
  private readonly authors = new Map<number, string>();
  /** ClientIDs this device wrote on in a local transaction: never filtered. */
  private readonly written = new Set<number>();
  private readonly doc: Y.Doc;
  private readonly ownKeys: readonly string[];
  private readonly membership: () => MembershipView;

  /**
   * `doc`: what this device holds (the relay connection's wire doc); `ownKeys`: the signing keys
   * it holds (the one it writes with, the one it authenticates with: a device key and its
   * identity's), whose persons are its own; `membership`: the current membership fold (device
   * certificates).
   */
  constructor(doc: Y.Doc, ownKeys: readonly Uint8Array[], membership: () => MembershipView) {
    this.doc = doc;
    this.ownKeys = ownKeys.map(toHex);
    this.membership = membership;
  }

  /** This device wrote on `client` (a local transaction of the envelope). */
  wroteOn(client: number): void {
    this.written.add(client);
  }

  /** `update` without its structs on clientIDs attributed to another person (delete set whole). */
  filter(update: Uint8Array): Uint8Array {
    const membership = this.membership();
    const mine = new Set(this.ownKeys.flatMap((k) => [k, personOf(membership, k)]));
    let foreign: Map<number, number> | undefined;
    // parseUpdateMeta, not encodeStateVectorFromUpdate: the latter omits clients whose structs
    // in the update do not start at clock 0, i.e. every client a diff continues.
    for (const [client, end] of Y.parseUpdateMeta(update).to) {
      if (this.written.has(client)) continue;
      const author = this.authorOf(client);
      if (author === undefined || mine.has(author) || mine.has(personOf(membership, author))) continue;
      (foreign ??= new Map()).set(client, end);
    }
    // Raising a client's clock to its end in the update leaves none of its structs in the diff.
    return foreign === undefined ? update : Y.diffUpdate(update, Y.encodeStateVector(foreign));
  }

  /** The signer of a live record on `client`, if the doc holds one. */
  private authorOf(client: number): string | undefined {
    const known = this.authors.get(client);
    if (known !== undefined) return known;
    for (const struct of this.doc.store.clients.get(client) ?? []) {
      if (!(struct instanceof Y.Item) || struct.deleted || !(struct.content instanceof Y.ContentBinary)) continue;
      const parsed = parseRecord(struct.content.content, Number.MAX_SAFE_INTEGER);
      if (!parsed.ok) continue;
      const author = toHex(parsed.value.header.author);
      this.authors.set(client, author);
      return author;
    }
    return undefined;
  }

  /**
   * A provider message's bytes with `filter` applied if it is a sync step 2 (the provider's
   * answer to the relay's step 1: [varString name][varUint 0 sync][varUint 1 step 2][varUint8Array
   * update]); any other message as it is.
   */
  filterMessage(message: Uint8Array): Uint8Array {
    const r: FrameReader = { bytes: message, pos: 0 };
    const name = readVarBytes(r);
    if (readVarUint(r) !== MESSAGE_SYNC || readVarUint(r) !== SYNC_STEP_2) return message;
    const update = readVarBytes(r);
    const filtered = this.filter(update);
    return filtered === update ? message : frame([name, MESSAGE_SYNC, SYNC_STEP_2, filtered]);
  }
}

/** Hocuspocus's MessageType.Sync and y-protocols' messageYjsSyncStep2. */
const MESSAGE_SYNC = 0;
const SYNC_STEP_2 = 1;

/** The shape of HocuspocusProvider.send (v4): a message class and its arguments. */
type ProviderSend = (message: never, args: { encoder?: Encoder; update?: Uint8Array } & Record<string, unknown>) => void;

/**
 * Makes `provider` send only own writing: its replies (a sync step 2 answering the relay's step
 * 1, built by y-protocols into `args.encoder`) and its updates (`args.update`) pass `filter`.
 * tests/sync/own-writing.test.ts pins this against the installed provider.
 */
export function sendOnlyOwnWriting(provider: { send: ProviderSend }, own: OwnWriting): void {
  const send = provider.send.bind(provider);
  provider.send = (message, args) => {
    if (args?.encoder !== undefined) {
      const bytes = encoderBytes(args.encoder);
      const filtered = own.filterMessage(bytes);
      if (filtered !== bytes) return send(message, { ...args, encoder: encoderOf(filtered) });
    } else if (args?.update instanceof Uint8Array) {
      return send(message, { ...args, update: own.filter(args.update) });
    }
    return send(message, args);
  };
}
