/** Which refusals a later snapshot may withdraw (sync/leaver-refusals.ts), and the bound on them. */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/crypto/index.ts';
import { RecordType, type Failure, type ParsedRecord } from '../../src/lib/protocol/index.ts';
import { LeaverRefusals, MAX_LEAVER_REFUSALS } from '../../src/lib/sync/leaver-refusals.ts';

const LEAVER = new Uint8Array(32).fill(1);
const STRANGER = new Uint8Array(32).fill(2);
const record = (author: Uint8Array, seq: number, type: number = RecordType.update) => ({ header: { author, seq, type } }) as unknown as ParsedRecord;
const notMember: Failure = { ok: false, code: 'RECORD_NOT_MEMBER', message: 'record signed by a non-member' };
const formerRole = (author: Uint8Array) => (toHex(author) === toHex(LEAVER) ? 1 : undefined);

describe('leavers’ refusals', () => {
  it('keeps only a former member’s non-membership record refused as RECORD_NOT_MEMBER', () => {
    const kept = new LeaverRefusals();
    kept.keep('a', record(LEAVER, 3), notMember, formerRole);
    kept.keep('b', record(STRANGER, 3), notMember, formerRole); // never a member: final
    kept.keep('c', record(LEAVER, 4), { ok: false, code: 'RECORD_BAD_CHAIN', message: 'x' }, formerRole); // another cause: final
    kept.keep('d', record(LEAVER, 5, RecordType.membership), notMember, formerRole); // judged by membership rules: final
    kept.keep('e', record(LEAVER, 6, RecordType.audit), notMember, formerRole);
    expect(kept.size).toBe(2);
    // A snapshot covering the leaver up to seq 5 makes the first count; the audit entry at 6 stays kept.
    expect(kept.takeCovered((a) => (a === toHex(LEAVER) ? 5 : 0)).map(([k]) => k)).toEqual(['a']);
    expect(kept.size).toBe(1);
    expect(kept.takeCovered(() => 6).map(([k]) => k)).toEqual(['e']);
    expect(kept.takeCovered(() => 1_000)).toEqual([]);
  });

  it(`keeps at most ${MAX_LEAVER_REFUSALS}: a flood of a leaver's records holds no more memory`, () => {
    const kept = new LeaverRefusals();
    for (let i = 0; i < MAX_LEAVER_REFUSALS + 50; i++) kept.keep(`k${i}`, record(LEAVER, i + 1), notMember, formerRole);
    expect(kept.size).toBe(MAX_LEAVER_REFUSALS);
    expect(kept.takeCovered(() => Number.MAX_SAFE_INTEGER)).toHaveLength(MAX_LEAVER_REFUSALS);
  });
});
