/**
 * A collaborative note (Y.Text at `note:<name>`) as the state layer sees it: plain strings in,
 * deltas out, cursors as opaque tokens (Yjs relative positions, base64url) that stay attached
 * to the same character while others type. Presence carries the tokens, encrypted and signed.
 */
import * as Y from 'yjs';
import { fromBase64Url, toBase64Url } from '../crypto/index.ts';
import { noteRoot } from '../../../crdt-schemas/layout.ts';
import { REMOTE_ORIGIN } from '../sync/profile-sync.ts';
import { LOCAL_ORIGIN } from './records.ts';

export type TextDelta = ReadonlyArray<{ insert?: string; delete?: number; retain?: number }>;

export interface NoteChange {
  readonly text: string;
  readonly delta: TextDelta;
  /** True for edits that arrived from other members (verified records). */
  readonly remote: boolean;
}

export class NoteHandle {
  readonly name: string;
  private readonly doc: Y.Doc;
  private readonly ytext: Y.Text;
  /** Throws a typed RECORD_READ_ONLY for a member who may not write. */
  private readonly requireWriter: () => void;

  constructor(doc: Y.Doc, name: string, requireWriter: () => void) {
    this.doc = doc;
    this.name = name;
    this.ytext = doc.getText(noteRoot(name));
    this.requireWriter = requireWriter;
  }

  get text(): string {
    return this.ytext.toString();
  }

  /** The Y type, for the undo scope only (vault-internal). */
  get type(): Y.Text {
    return this.ytext;
  }

  /** Replaces `deleteCount` characters at `index` with `insert`, as one local edit (a read-only member: RECORD_READ_ONLY, nothing changes). */
  replace(index: number, deleteCount: number, insert: string): void {
    this.requireWriter();
    this.doc.transact(() => {
      if (deleteCount > 0) this.ytext.delete(index, deleteCount);
      if (insert) this.ytext.insert(index, insert);
    }, LOCAL_ORIGIN);
  }

  /** Turns the textarea's new value into the smallest replace (common prefix and suffix kept). */
  setText(next: string): void {
    const prev = this.text;
    if (prev === next) return;
    let start = 0;
    while (start < prev.length && start < next.length && prev[start] === next[start]) start++;
    let endPrev = prev.length;
    let endNext = next.length;
    while (endPrev > start && endNext > start && prev[endPrev - 1] === next[endNext - 1]) {
      endPrev--;
      endNext--;
    }
    this.replace(start, endPrev - start, next.slice(start, endNext));
  }

  onChange(fn: (change: NoteChange) => void): () => void {
    const observer = (event: Y.YTextEvent, tr: Y.Transaction) =>
      fn({ text: this.text, delta: event.delta as TextDelta, remote: tr.origin === REMOTE_ORIGIN });
    this.ytext.observe(observer);
    return () => this.ytext.unobserve(observer);
  }

  /** An opaque token for a caret position that survives concurrent edits. */
  cursorToken(index: number): string {
    return toBase64Url(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(this.ytext, index)));
  }

  /** Where a token points now, or null if it is not of this note (or malformed). */
  cursorIndex(token: string): number | null {
    try {
      const abs = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64Url(token)), this.doc);
      return abs && abs.type === this.ytext ? abs.index : null;
    } catch {
      return null;
    }
  }
}

/**
 * Where a caret at `index` (in the text before the delta) is after it. An insert exactly at the
 * caret does not push it: the caret stays after this person's own last character, so two people
 * typing at the same spot write two runs of text, not one interleaved jumble.
 */
export function transformIndex(index: number, delta: TextDelta): number {
  let pos = 0; // position in the text before the delta
  let out = index;
  for (const op of delta) {
    if (pos > index) break;
    if (op.retain !== undefined) pos += op.retain;
    else if (op.insert !== undefined) {
      if (pos < index) out += op.insert.length;
    }
    else if (op.delete !== undefined) {
      out -= Math.max(0, Math.min(op.delete, index - pos));
      pos += op.delete;
    }
  }
  return Math.max(0, out);
}
