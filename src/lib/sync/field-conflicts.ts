/**
 * Same-field concurrent edits (issue 13 item 4, docs/decisions/0041). Two people set the same
 * field of the same record without either seeing the other's value: Yjs keeps one (its map rule:
 * the write of the higher clientID), silently. This finds, in one remote transaction of the plain
 * doc, every field where that happened to a value of THIS device:
 * - 'mine': this device's value was the field's value, and a write that never saw it replaced it;
 * - 'theirs': a write that never saw this device's value arrived and lost to it.
 * Both people learn of it, each on their own device, when the other's write reaches them (also
 * when this device's write was not sent yet: it is in the doc either way).
 *
 * Pure over one transaction (read inside its `afterTransaction`, before Yjs clears deleted
 * contents). The values found are PHI: callers keep them in memory only and never log them.
 */
import * as Y from 'yjs';
import { mapKeyWrites, parentMapKey, type MapKeyWrite } from './yjs-internals.ts';

export interface FieldConflict {
  /** The root (section) the record sits in, its key there (record id) and the field. */
  readonly root: string;
  readonly record: string;
  readonly field: string;
  /** Whose value was lost: this device's ('mine') or the other writer's ('theirs'). */
  readonly lost: 'mine' | 'theirs';
  readonly lostValue: unknown;
  /** The value the field holds now. */
  readonly keptValue: unknown;
  /** Yjs clientID of the other writer (its author is known once its record was verified). */
  readonly otherClient: number;
}

export interface ConflictScope {
  /** Whether a Yjs clientID is this device's (this session's or an earlier one's). */
  readonly isOwn: (client: number) => boolean;
  /** Which roots hold records of field maps (keyed sections); others are not looked at. */
  readonly watches: (root: string) => boolean;
}

const sameId = (a: MapKeyWrite['origin'], b: MapKeyWrite): boolean => a !== null && a.client === b.client && a.clock === b.clock;

const sameJson = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The conflicts one field's writes show, if any (exported for the tests' edge cases). */
export function conflictOf(writes: readonly MapKeyWrite[], isOwn: (client: number) => boolean): Omit<FieldConflict, 'root' | 'record' | 'field'> | undefined {
  const last = writes[writes.length - 1];
  if (!last || last.deleted) return undefined; // removed: nothing holds a value to compare
  // The value before the transaction: the newest write that was there already and not deleted earlier.
  let before: MapKeyWrite | undefined;
  for (let i = writes.length - 1; i >= 0; i--) {
    const w = writes[i]!;
    if (w.added) continue;
    if (!w.deleted || w.deletedNow) before = w;
    break;
  }
  if (!before || !isOwn(before.client)) return undefined;
  const added = writes.filter((w) => w.added);
  if (last === before) {
    // This device's value stayed; a write that arrived now and never saw it lost to it.
    const theirs = added.filter((w) => !isOwn(w.client));
    const lost = theirs[theirs.length - 1];
    if (!lost || sameJson(lost.value, last.value)) return undefined;
    return { lost: 'theirs', lostValue: lost.value, keptValue: last.value, otherClient: lost.client };
  }
  // This device's value was replaced now: by a write made on top of it (not a conflict) or not.
  if (!last.added || isOwn(last.client) || added.some((w) => sameId(w.origin, before!))) return undefined;
  if (sameJson(before.value, last.value)) return undefined;
  return { lost: 'mine', lostValue: before.value, keptValue: last.value, otherClient: last.client };
}

/** Every same-field conflict a remote transaction of `doc` caused to this device's values. */
export function fieldConflicts(doc: Y.Doc, tr: Y.Transaction, scope: ConflictScope): FieldConflict[] {
  const out: FieldConflict[] = [];
  let rootNames: Map<unknown, string> | undefined;
  for (const [type, keys] of tr.changed) {
    if (!(type instanceof Y.Map)) continue;
    const at = parentMapKey(type);
    if (!at) continue;
    rootNames ??= new Map([...doc.share].map(([name, t]) => [t, name]));
    const root = rootNames.get(at.parent);
    if (root === undefined || !scope.watches(root)) continue;
    for (const field of keys) {
      if (field === null) continue;
      const c = conflictOf(mapKeyWrites(type, field, tr), scope.isOwn);
      if (c) out.push({ root, record: at.key, field, ...c });
    }
  }
  return out;
}
