/**
 * Problems one replica saw in remote data or its own writes: shown to the user until they
 * (or a test) acknowledge them, never silently dropped. One entry per code and record key.
 */
import { toHex } from '../crypto/index.ts';
import { asSentence } from '../errors.ts';
import type { Failure, ParsedRecord, ProtocolErrorCode } from '../protocol/index.ts';
import type { SyncProblem } from './status.ts';

const MAX_PROBLEMS = 100;

/**
 * Refusals of remote records that are the rules working as meant, not something wrong: the
 * record is still refused (never applied), but nobody has anything to do, so it is no error.
 * - INVITE_EXPIRED: an invite accepted after its link's time (a clinician's session ending, a
 *   link opened too late). The person who opened it is told on their side.
 * - INVITE_USED: two devices raced for one single-use invite; one of them got it.
 */
export const EXPECTED_REFUSALS: ReadonlySet<ProtocolErrorCode> = new Set<ProtocolErrorCode>(['INVITE_EXPIRED', 'INVITE_USED']);

export class ProblemList {
  private list: SyncProblem[] = [];
  private expectedList: SyncProblem[] = [];
  private readonly changed: () => void;

  constructor(changed: () => void) {
    this.changed = changed;
  }

  get all(): readonly SyncProblem[] {
    return this.list;
  }

  /** Expected refusals seen (EXPECTED_REFUSALS): kept for diagnosis, never shown as errors. */
  get expected(): readonly SyncProblem[] {
    return this.expectedList;
  }

  report(reported: SyncProblem): void {
    const problem = { ...reported, message: asSentence(reported.message) };
    const seen = this.list.some((p) => p.code === problem.code && p.key === problem.key);
    if (!seen && this.list.length < MAX_PROBLEMS) this.list = [...this.list, problem];
    this.changed();
  }

  /** A remote record refused: its key and author (public, never content) go with the code. */
  refused(key: string, record: ParsedRecord | undefined, failure: Failure): void {
    if (EXPECTED_REFUSALS.has(failure.code)) {
      if (this.expectedList.length < MAX_PROBLEMS) this.expectedList = [...this.expectedList, { code: failure.code, key, message: failure.message }];
      return;
    }
    this.report({ code: failure.code, key, author: record ? toHex(record.header.author) : undefined, message: failure.message });
  }

  /**
   * A refusal that later facts overturned (a former member's record a snapshot then covered):
   * it was the rules judging too early, not something wrong, so it stops being shown.
   */
  withdraw(code: ProtocolErrorCode, key: string): void {
    const list = this.list.filter((p) => !(p.code === code && p.key === key));
    if (list.length === this.list.length) return;
    this.list = list;
    this.changed();
  }

  clear(): void {
    this.list = [];
    this.expectedList = [];
    this.changed();
  }
}
