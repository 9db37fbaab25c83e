/**
 * A collaborative note bound to a textarea: local typing becomes minimal Y.Text edits, remote
 * edits move the local caret (transformIndex) instead of resetting it, and the caret is shared
 * in presence as position tokens that survive concurrent typing.
 */
import { transformIndex, type NoteChange, type NoteHandle, type PresenceEntry } from '../vault/app.ts';
import { Subscribed } from './subscribed.svelte.ts';

export interface RemoteCaret {
  readonly author: string;
  readonly name: string;
  readonly index: number;
}

type Cursor = { note: string; anchor: string; head: string };
const CARET_THROTTLE_MS = 120;

export class NoteState {
  readonly name: string;
  private readonly handle: NoteHandle;
  private readonly textSub: Subscribed<string>;
  private readonly publish: (cursor: Cursor) => void;
  private pending: Cursor | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(handle: NoteHandle, publish: (cursor: Cursor) => void) {
    this.handle = handle;
    this.name = handle.name;
    this.publish = publish;
    this.textSub = new Subscribed((n) => handle.onChange(n), () => handle.text);
  }

  get text(): string {
    return this.textSub.read();
  }

  /** The textarea's new value after local input, and where the caret ended up. */
  edit(value: string, selectionStart: number, selectionEnd: number): void {
    this.handle.setText(value);
    this.caret(selectionStart, selectionEnd);
  }

  /** Shares the caret (throttled: carets move with every key). */
  caret(selectionStart: number, selectionEnd: number): void {
    this.pending = { note: this.name, anchor: this.handle.cursorToken(selectionStart), head: this.handle.cursorToken(selectionEnd) };
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.pending) this.publish(this.pending);
    }, CARET_THROTTLE_MS);
  }

  /** Calls back on every change with its delta (the component keeps its caret in place). */
  listen(fn: (change: NoteChange) => void): () => void {
    return this.handle.onChange(fn);
  }

  /** Where a local caret goes after a remote change. */
  static moveCaret(index: number, change: NoteChange): number {
    return transformIndex(index, change.delta);
  }

  /** Other people's carets in this note, resolved to current indexes. */
  caretsOf(presence: readonly PresenceEntry[]): RemoteCaret[] {
    this.text; // re-resolve when the text changes
    const out: RemoteCaret[] = [];
    for (const p of presence) {
      if (p.cursor?.note !== this.name) continue;
      const index = this.handle.cursorIndex(p.cursor.head);
      if (index !== null) out.push({ author: p.author, name: p.name, index });
    }
    return out;
  }
}
