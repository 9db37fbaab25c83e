/**
 * Records refused only because their author had left and no snapshot covered them yet (threat
 * model 24c). A replica can see a removal or revocation before the snapshot that covers the
 * leaver's last records (they come in separate updates); once such a snapshot arrives those
 * records count, as on a replica that got the snapshot first (cold-replica seed 1892610758), so
 * their refusals are provisional. Kept here until then; the inbox withdraws them.
 */
import { toHex } from '../crypto/index.ts';
import { recordTypeRule, type Failure, type ParsedRecord } from '../protocol/index.ts';

/** Refusals kept for reconsideration at most (each holds the record). */
export const MAX_LEAVER_REFUSALS = 256;

export class LeaverRefusals {
  private readonly records = new Map<string, ParsedRecord>();

  get size(): number {
    return this.records.size;
  }

  /**
   * Keeps a refusal a later snapshot could make wrong: a non-member's record (not a membership
   * record, which its own rules judge) by a key that once held a role. Past MAX_LEAVER_REFUSALS a
   * refusal stays final, as before (a flood of a leaver's records holds no more memory).
   */
  keep(key: string, r: ParsedRecord, failure: Failure, formerRole: (author: Uint8Array) => unknown): void {
    const provisional = failure.code === 'RECORD_NOT_MEMBER' && recordTypeRule(r.header.type)?.writers !== 'membership-rules' && formerRole(r.header.author) !== undefined;
    if (provisional && this.records.size < MAX_LEAVER_REFUSALS) this.records.set(key, r);
  }

  /** The kept records a snapshot now covers (`coveredSeq` per author), no longer kept. */
  takeCovered(coveredSeq: (authorHex: string) => number): Array<[string, ParsedRecord]> {
    const covered: Array<[string, ParsedRecord]> = [];
    for (const [key, r] of this.records) {
      if (r.header.seq > coveredSeq(toHex(r.header.author))) continue;
      this.records.delete(key);
      covered.push([key, r]);
    }
    return covered;
  }
}
