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
