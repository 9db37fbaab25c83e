/** The pure chain decisions (sync/chain-rules.ts), one case per branch, plus a seeded sweep. */
import { describe, expect, it } from 'vitest';
import { RecordType } from '../../src/lib/protocol/index.ts';
import { chainStep, type ChainPosition } from '../../src/lib/sync/chain-rules.ts';
import { withSeed } from '../helpers/prng.ts';

const h = (n: number) => new Uint8Array(32).fill(n);
const at = (seq: number, coveredSeq = 0, seenCompacted = false): ChainPosition => ({ head: { seq, head: h(seq) }, coveredSeq, seenCompacted });

describe('chainStep', () => {
  it('decides each case', () => {
    expect(chainStep({ type: RecordType.update, seq: 5, prev: h(3) }, at(3)).kind).toBe('wait');
    expect(chainStep({ type: RecordType.update, seq: 4, prev: h(3) }, at(3)).kind).toBe('next');
    expect(chainStep({ type: RecordType.update, seq: 4, prev: h(9) }, at(3))).toMatchObject({ kind: 'reject', code: 'RECORD_BAD_CHAIN' });
    expect(chainStep({ type: RecordType.update, seq: 2, prev: h(1) }, at(3, 3)).kind).toBe('covered');
    expect(chainStep({ type: RecordType.update, seq: 2, prev: h(1) }, at(3, 3, true))).toMatchObject({ kind: 'reject', code: 'RECORD_REPLAY' });
    expect(chainStep({ type: RecordType.update, seq: 2, prev: h(1) }, at(3, 1))).toMatchObject({ kind: 'reject', code: 'RECORD_FORK' });
    for (const kept of [RecordType.audit, RecordType.membership, RecordType.lockbox, 9]) {
      expect(chainStep({ type: kept, seq: 2, prev: h(1) }, at(3, 3)).kind).toBe('covered-kept');
    }
  });

  it('format v3 records name their predecessor by the first 16 bytes of its id; anything else is RECORD_BAD_CHAIN', () => {
    const head = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const position: ChainPosition = { head: { seq: 3, head }, coveredSeq: 0, seenCompacted: false };
    expect(chainStep({ type: RecordType.update, seq: 4, prev: head.slice(0, 16) }, position).kind).toBe('next');
    const lastByteOff = head.slice(0, 16);
    lastByteOff[15]! ^= 1;
    expect(chainStep({ type: RecordType.update, seq: 4, prev: lastByteOff }, position)).toMatchObject({ kind: 'reject', code: 'RECORD_BAD_CHAIN' });
    expect(chainStep({ type: RecordType.update, seq: 4, prev: head.slice(16) }, position)).toMatchObject({ kind: 'reject', code: 'RECORD_BAD_CHAIN' });
    // Only the two lengths the formats use: a 20-byte prefix is not a prev of any version.
    expect(chainStep({ type: RecordType.update, seq: 4, prev: head.slice(0, 20) }, position)).toMatchObject({ kind: 'reject', code: 'RECORD_BAD_CHAIN' });
    // The first record of a chain: 16 zero bytes follow the zero head.
    const fresh: ChainPosition = { head: { seq: 0, head: new Uint8Array(32) }, coveredSeq: 0, seenCompacted: false };
    expect(chainStep({ type: RecordType.update, seq: 1, prev: new Uint8Array(16) }, fresh).kind).toBe('next');
  });

  const sweep = 'a seeded sweep: only the next seq on the right predecessor advances, and nothing ahead is ever refused';
  it(sweep, () => withSeed('tests/sync/chain-rules.test.ts', sweep, async (prng) => {
    for (let i = 0; i < 2000; i++) {
      const headSeq = prng.int(0, 20);
      const covered = prng.int(0, headSeq);
      const seq = prng.int(1, 25);
      const prev = h(prng.int(0, 25));
      const type = prng.pick([RecordType.update, RecordType.audit, RecordType.membership, 9]);
      const step = chainStep({ type, seq, prev }, at(headSeq, covered, prng.bool()));
      const why = `case ${i}`;
      if (seq > headSeq + 1) expect(step.kind, why).toBe('wait');
      if (step.kind === 'next') expect(seq === headSeq + 1 && prev.every((b, j) => b === h(headSeq)[j]), why).toBe(true);
      if (step.kind === 'covered' || step.kind === 'covered-kept') expect(seq <= covered, why).toBe(true);
    }
  }));
});
