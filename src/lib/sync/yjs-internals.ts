/**
 * The only Yjs internals this project reads, each behind one function. Yjs does not export
 * these as API, so the version is pinned to 13.6.x (package.json `~`) and
 * tests/sync/yjs-internals.test.ts fails if a release renames or changes any of them.
 */
import * as Y from 'yjs';

/**
 * Whether the doc holds structs or deletes it could not integrate yet (a missing dependency):
 * `store.pendingStructs` / `store.pendingDs`. The client gate decides nothing while they exist.
 */
export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

/**
 * Whether the doc holds structs of this clientID (`store.clients`): what Y.encodeStateVector
 * reads, without encoding and decoding it (a new session's clientID is checked at every open).
 */
export function usesClient(doc: Y.Doc, client: number): boolean {
  return doc.store.clients.has(client);
}

/** The root type a (possibly nested) shared type sits in: follows `_item.parent`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Yjs types its shared types' events as any
type SharedType = Y.AbstractType<any>;

export function rootOf(type: SharedType): SharedType {
  let t = type;
  while (t._item?.parent instanceof Y.AbstractType) t = t._item.parent as SharedType;
  return t;
}

/**
 * The live JSON values of an array with the clientID of the item that holds each (history
 * names its proven author by it): walks `_start` … `right`, reading `ContentAny` items.
 */
export function* valuesWithClient(arr: Y.Array<unknown>): Generator<{ client: number; values: readonly unknown[] }> {
  let item = arr._start;
  while (item) {
    if (!item.deleted && item.content instanceof Y.ContentAny) yield { client: item.id.client, values: item.content.arr };
    item = item.right;
  }
}

/** One write to a map key as Yjs keeps it (one Item of the key's chain). */
export interface MapKeyWrite {
  readonly client: number;
  readonly clock: number;
  /** The write this one was made on top of (what the writer saw as the key's value), if any. */
  readonly origin: { readonly client: number; readonly clock: number } | null;
  /** Added by this transaction (its clock is at or past the transaction's before-state). */
  readonly added: boolean;
  /** Deleted now (overwritten or removed). */
  readonly deleted: boolean;
  /** Deleted by this transaction (it was the live value before it, or was added and lost). */
  readonly deletedNow: boolean;
  /** The JSON value written; undefined for a nested type (a record's field map) or a delete. */
  readonly value: unknown;
}

/**
 * The writes to one key of a map, oldest (leftmost) first, as seen inside a transaction: read
 * from the key's Item chain (`_map`, `left`, `origin`, `content`). Only meaningful before the
 * transaction's cleanup (its `afterTransaction` event): after it, deleted contents are gone.
 */
export function mapKeyWrites(map: Y.Map<unknown>, key: string, tr: Y.Transaction): MapKeyWrite[] {
  const out: MapKeyWrite[] = [];
  let item: Y.Item | null = (map as unknown as { _map: Map<string, Y.Item> })._map.get(key) ?? null;
  while (item) {
    const content = item.content;
    out.push({
      client: item.id.client,
      clock: item.id.clock,
      origin: item.origin ? { client: item.origin.client, clock: item.origin.clock } : null,
      added: item.id.clock >= (tr.beforeState.get(item.id.client) ?? 0),
      deleted: item.deleted,
      deletedNow: item.deleted && Y.isDeleted(tr.deleteSet, item.id),
      value: content instanceof Y.ContentAny ? content.arr[content.arr.length - 1] : undefined,
    });
    item = item.left;
  }
  return out.reverse();
}

/** The map a nested type sits in directly, and its key there (a record's field map → its section map and id). */
export function parentMapKey(type: SharedType): { parent: SharedType; key: string } | undefined {
  const item = type._item;
  if (!item || !(item.parent instanceof Y.AbstractType) || item.parentSub === null) return undefined;
  return { parent: item.parent as SharedType, key: item.parentSub };
}

/**
 * Whether `tr` changed the document: added structs or deleted any. Exactly when Yjs would emit
 * an 'update' for it, without encoding that update.
 */
export function transactionChanged(tr: Y.Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true;
  for (const [client, clock] of tr.afterState) if (tr.beforeState.get(client) !== clock) return true;
  return false;
}
