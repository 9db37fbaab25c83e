/**
 * Problems one replica saw in remote data or its own writes: shown to the user until they
 * (or a test) acknowledge them, never silently dropped. One entry per code and record key.
 */
import { toHex } from '../crypto/index.ts';
import type { Failure, ParsedRecord } from '../protocol/index.ts';
import type { SyncProblem } from './status.ts';

const MAX_PROBLEMS = 100;

export class ProblemList {
  private list: SyncProblem[] = [];
  private readonly changed: () => void;

  constructor(changed: () => void) {
    this.changed = changed;
  }

  get all(): readonly SyncProblem[] {
    return this.list;
  }

  report(problem: SyncProblem): void {
    const seen = this.list.some((p) => p.code === problem.code && p.key === problem.key);
    if (!seen && this.list.length < MAX_PROBLEMS) this.list = [...this.list, problem];
    this.changed();
  }

  /** A remote record refused: its key and author (public, never content) go with the code. */
  refused(key: string, record: ParsedRecord | undefined, failure: Failure): void {
    this.report({ code: failure.code, key, author: record ? toHex(record.header.author) : undefined, message: failure.message });
  }

  clear(): void {
    this.list = [];
    this.changed();
  }
}
