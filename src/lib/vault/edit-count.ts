/**
 * What one local transaction changed, as a person counts changes (issue 13: "16 changes saved"
 * for one typed line): a record of a keyed section, a note, an entry of a log, an entry of a
 * system map. Keystrokes in one note, or the fields of one record, are one change; the history
 * line written with every edit and the name a member writes on open are not changes of theirs.
 */
import * as Y from 'yjs';
import { MEMBER_NAMES_MAP } from '../../../crdt-schemas/system.ts';
import { parentMapKey, rootOf } from '../sync/yjs-internals.ts';
import { HISTORY_ROOT } from './records.ts';

const NOT_COUNTED = new Set([HISTORY_ROOT, MEMBER_NAMES_MAP.root]);

/** Root type -> its name, rebuilt only when a root is added (roots are never removed): once per keystroke was a map of every root. */
const rootNamesOf = new WeakMap<Y.Doc, { size: number; names: Map<unknown, string> }>();

function rootNames(doc: Y.Doc): Map<unknown, string> {
  let known = rootNamesOf.get(doc);
  if (known?.size !== doc.share.size) {
    known = { size: doc.share.size, names: new Map<unknown, string>([...doc.share].map(([n, t]) => [t, n])) };
    rootNamesOf.set(doc, known);
  }
  return known.names;
}

/**
 * Stable names of the things `tr` changed (the same record twice gives the same name). `seq`
 * numbers log entries, which have no name of their own.
 */
export function editsOf(doc: Y.Doc, tr: Y.Transaction, seq: () => number): string[] {
  const names = rootNames(doc);
  const out = new Set<string>();
  for (const [type, keys] of tr.changed) {
    const root = names.get(rootOf(type));
    if (root === undefined || NOT_COUNTED.has(root)) continue;
    if (type instanceof Y.Text) {
      out.add(root);
    } else if (type instanceof Y.Array && type === rootOf(type)) {
      // A log entry added or replaced: one change per transaction on that log.
      out.add(`${root}#${seq()}`);
    } else if (type === rootOf(type)) {
      for (const k of keys) if (k !== null) out.add(`${root}/${k}`);
    } else {
      // A nested type: the record (field map) it belongs to, one level under the root.
      let t = type;
      let at = parentMapKey(t);
      while (at && at.parent !== rootOf(type)) {
        t = at.parent;
        at = parentMapKey(t);
      }
      out.add(at ? `${root}/${at.key}` : root);
    }
  }
  return [...out];
}
