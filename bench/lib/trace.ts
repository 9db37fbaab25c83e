/** Loads the automerge-paper editing trace (josephg/editing-traces, CC BY 4.0). */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type * as Y from 'yjs';
import { BENCH_DIR } from './common.ts';

export type Patch = [pos: number, numDeleted: number, insert: string];
export interface Trace {
  readonly startContent: string;
  readonly endContent: string;
  readonly txns: Array<{ time?: string; patches: Patch[] }>;
}

export function loadTrace(name = 'automerge-paper.json.gz'): Trace {
  return JSON.parse(gunzipSync(readFileSync(join(BENCH_DIR, 'data', name))).toString('utf8')) as Trace;
}

/** The text after applying the first `n` transactions to a plain string (ASCII: code points = UTF-16 units). */
export function replayString(trace: Trace, n: number): string {
  // A chunked array of strings would be faster, but the trace is ~260k ops on a ~100 KB text: fine.
  let s = trace.startContent;
  for (let i = 0; i < n; i++) {
    for (const [pos, del, ins] of trace.txns[i]!.patches) s = s.slice(0, pos) + ins + s.slice(pos + del);
  }
  return s;
}

/** Resolves when `text` (observed, not polled) equals `expected`. */
export function whenText(text: Y.Text, expected: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (text.length === expected.length && text.toString() === expected) {
        text.unobserve(check);
        resolve();
      }
    };
    text.observe(check);
    check();
  });
}
