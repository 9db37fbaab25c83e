/**
 * The profile's change history (`list:history`): the stored line, how one is appended in the
 * caller's transaction, and how lines are read with their proven author. Apart from records.ts
 * because it is one rule of its own: `by` is only a claim, the author is the signer whose
 * verified record carried the line (ProfileSync.authorOfClient).
 */
import type * as Y from 'yjs';
import { valuesWithClient } from '../sync/yjs-internals.ts';
import type { RecordsContext } from './records-types.ts';

export const HISTORY_ROOT = 'list:history';

/** 'import': one line per import (section `import`, id the source, `count` records). */
export type HistoryAction = 'add' | 'edit' | 'delete' | 'undo' | 'redo' | 'import';

export interface HistoryEntry {
  readonly section: string;
  readonly id: string;
  readonly action: HistoryAction;
  /** ISO time claimed by the author (inside their signed record). */
  readonly at: string;
  /** Hex signing key of the device that wrote it. */
  readonly author: string;
  /** 'signed': the author's own verified record carried it; 'snapshot': vouched for by a compaction snapshot; 'mismatch': claimed author differs. */
  readonly proof: 'signed' | 'snapshot' | 'mismatch';
  /** For an import line: how many records it wrote. */
  readonly count?: number;
}

interface StoredHistory {
  s: string;
  i: string;
  a: HistoryAction;
  t: string;
  b: string;
  /** Records written, on an import line. */
  n?: number;
}

/** The history lines `pick` keeps, oldest first, each with its proven author. */
export function historyWhere(c: RecordsContext, pick: (h: StoredHistory) => boolean): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  const arr = c.doc.getArray<StoredHistory>(HISTORY_ROOT);
  // Walk the items, not toArray(): each item's clientID names its proven author.
  for (const { client, values } of valuesWithClient(arr as Y.Array<unknown>)) {
    const author = c.authorOfClient(client);
    for (const h of values as StoredHistory[]) {
      if (!isStoredHistory(h) || !pick(h)) continue;
      const proof = author === undefined ? 'snapshot' : author === h.b ? 'signed' : 'mismatch';
      out.push({ section: h.s, id: h.i, action: h.a, at: h.t, author: author ?? h.b, proof, ...(typeof h.n === 'number' ? { count: h.n } : {}) });
    }
  }
  return out;
}

/** Appends one history line; the caller runs it inside the transaction of the change it records. */
export function noteHistory(c: RecordsContext, section: string, id: string, action: HistoryAction, count?: number): void {
  const entry: StoredHistory = { s: section, i: id, a: action, t: new Date(c.now()).toISOString(), b: c.me, ...(count === undefined ? {} : { n: count }) };
  c.doc.getArray<StoredHistory>(HISTORY_ROOT).push([entry]);
}

function isStoredHistory(h: unknown): h is StoredHistory {
  const o = h as StoredHistory | null;
  return !!o && typeof o.s === 'string' && typeof o.i === 'string' && typeof o.a === 'string' && typeof o.t === 'string' && typeof o.b === 'string';
}
