/**
 * Refusing a remote record: it counts as processed (never tried again), is shown in the problem
 * list, and is kept if a later snapshot can make the refusal wrong (leaver-refusals.ts); once
 * such a snapshot arrives the refusal is withdrawn. Separate from inbox.ts so that every refusal
 * takes this one path, whichever step of the inbox refused.
 */
import { effectInSnapshot, type Failure, type ParsedRecord } from '../protocol/index.ts';
import { LeaverRefusals } from './leaver-refusals.ts';
import type { ProblemList } from './problems.ts';
import type { ReplicaState } from './replica-state.ts';

export class RecordRefusals {
  private readonly state: ReplicaState;
  private readonly problems: ProblemList;
  /** Refusals a later snapshot can make wrong (leaver-refusals.ts). */
  private readonly leavers = new LeaverRefusals();

  constructor(state: ReplicaState, problems: ProblemList) {
    this.state = state;
    this.problems = problems;
  }

  refuse(key: string, r: ParsedRecord | undefined, failure: Failure): void {
    this.state.processed.add(key);
    this.problems.refused(key, r, failure);
    if (r) this.leavers.keep(key, r, failure, (author) => this.state.index.membership.formerRole(author));
  }

  /**
   * A snapshot moved coverage: a leaver's record it now covers was refused too early. The
   * refusal is withdrawn; a record whose effect the snapshot carries is done, any other (an
   * audit entry) goes back to its chain to be folded as covered.
   */
  reconsiderLeavers(): void {
    const { state } = this;
    for (const [key, r] of this.leavers.takeCovered((author) => state.index.coveredSeq(author))) {
      this.problems.withdraw('RECORD_NOT_MEMBER', key);
      if (effectInSnapshot(r.header.type)) continue;
      state.processed.delete(key);
      state.held.set(key, r);
    }
  }
}
