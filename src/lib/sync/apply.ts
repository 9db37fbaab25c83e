/**
 * Turning a verified, opened record into a Yjs update that may be applied: payload decoding,
 * clientID binding and a guarded decode, so malformed Yjs bytes never reach the plain doc.
 */
import * as Y from 'yjs';
import type { SigningPublicKey } from '../crypto/index.ts';
import { decodeUpdatePayload, deriveClientId, fail, ok, type OpenedRecord, type Result } from '../protocol/index.ts';

declare const applicableBrand: unique symbol;
/** A Yjs updateV2 from a verified record whose structs all belong to its signer. */
export type VerifiedUpdate = Uint8Array & { readonly [applicableBrand]: true };

/** The update and the clientIDs its author owns in it (what history uses to name who wrote what). */
export interface OwnedUpdate {
  readonly update: VerifiedUpdate;
  readonly clients: readonly number[];
}

export function toVerifiedUpdate(opened: OpenedRecord, docId: Uint8Array): Result<OwnedUpdate> {
  return ownedUpdateOf(opened.payload, opened.record.header.author, docId) as Result<OwnedUpdate>;
}

/**
 * What `toVerifiedUpdate` decides about an update record's payload by `author`, without the brand:
 * sync/opened-ahead.ts computes it while the record's signature is checked and brands it only
 * once that check passed.
 */
export function ownedUpdateOf(payloadBytes: Uint8Array, author: SigningPublicKey, docId: Uint8Array): Result<{ update: Uint8Array; clients: readonly number[] }> {
  const payload = decodeUpdatePayload(payloadBytes);
  if (!payload.ok) return payload;
  const owned = new Set(payload.value.sessions.map((s) => deriveClientId(docId, author, s)));
  let clients: Iterable<number>;
  try {
    // Decodes every struct: malformed bytes throw here, before anything touches the plain doc.
    clients = Y.parseUpdateMetaV2(payload.value.update).from.keys();
  } catch {
    return fail('RECORD_BAD_UPDATE', 'record holds malformed Yjs data');
  }
  for (const client of clients) {
    if (!owned.has(client)) return fail('RECORD_CLIENTID_NOT_OWNED', 'update uses a clientID of another signer');
  }
  return ok({ update: payload.value.update, clients: [...owned] });
}

/** A snapshot's state may hold anyone's structs: its signer vouches for it as a whole. */
export function snapshotUpdate(opened: OpenedRecord): Result<VerifiedUpdate> {
  try {
    Y.parseUpdateMetaV2(opened.payload);
  } catch {
    return fail('RECORD_BAD_UPDATE', 'snapshot holds malformed Yjs data');
  }
  return ok(opened.payload as VerifiedUpdate);
}

/** Applies a verified update; a throw inside Yjs is reported, never propagated. */
/**
 * Updates each verified on its own, as one update: what each vouches for, nothing more. One
 * apply of it integrates structs whose dependencies sit in another of them in one pass.
 */
export function mergeVerified(updates: readonly VerifiedUpdate[]): VerifiedUpdate {
  return (updates.length === 1 ? updates[0]! : Y.mergeUpdatesV2(updates as readonly Uint8Array[] as Uint8Array[])) as VerifiedUpdate;
}

export function applyVerified(doc: Y.Doc, update: VerifiedUpdate, origin: unknown): Result<void> {
  try {
    Y.applyUpdateV2(doc, update, origin);
    return ok(undefined);
  } catch {
    return fail('RECORD_BAD_UPDATE', 'Yjs rejected the update');
  }
}

export const clientIdFor = (docId: Uint8Array, author: SigningPublicKey, session: number): number =>
  deriveClientId(docId, author, session);
