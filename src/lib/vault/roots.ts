/** Which root types of a doc a transaction changed, by name (cheap: called for every transaction). */
import type * as Y from 'yjs';
import { rootOf } from '../sync/yjs-internals.ts';


const names = new WeakMap<Y.Doc, { size: number; byType: Map<unknown, string> }>();

export function changedRoots(doc: Y.Doc, tr: Y.Transaction): Set<string> {
  let cached = names.get(doc);
  if (!cached || cached.size !== doc.share.size) {
    cached = { size: doc.share.size, byType: new Map([...doc.share].map(([n, t]) => [t, n])) };
    names.set(doc, cached);
  }
  const out = new Set<string>();
  for (const changed of tr.changed.keys()) {
    // A nested type (a record's field map) belongs to the root it sits in.
    const name = cached.byType.get(rootOf(changed));
    if (name !== undefined) out.add(name);
  }
  return out;
}
