/** The deletion rule shared by clients and relay: what a snapshot may remove. */
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, type SigningPublicKey } from '../../src/lib/crypto/index.ts';
import { RecordType, snapshotCovers, type ParsedRecord, type SnapshotExt } from '../../src/lib/protocol/index.ts';

const a = generateSigningKeyPair().publicKey;
const b = generateSigningKeyPair().publicKey;
const head = new Uint8Array(32);
const ext = (...c: Array<[SigningPublicKey, number]>): SnapshotExt => ({ prevSnapshot: head, coverage: c.map(([author, seq]) => ({ author, seq, head })) });
const record = (type: number, author: SigningPublicKey, seq: number) => ({ header: { type, author, seq } }) as unknown as ParsedRecord;

describe('compaction rule', () => {
  it('an update is covered up to the seq the snapshot names for its author', () => {
    expect(snapshotCovers(ext([a, 5]), record(RecordType.update, a, 5), undefined)).toBe(true);
    expect(snapshotCovers(ext([a, 5]), record(RecordType.update, a, 6), undefined)).toBe(false);
    expect(snapshotCovers(ext([a, 5]), record(RecordType.update, b, 1), undefined)).toBe(false);
  });

  it('an older snapshot is replaced only if its coverage and the older snapshot itself are covered', () => {
    // Older snapshot by b at seq 4 covering a<=3, b<=3.
    const older = ext([a, 3], [b, 3]);
    const olderRecord = record(RecordType.snapshot, b, 4);
    expect(snapshotCovers(ext([a, 9], [b, 4]), olderRecord, older)).toBe(true);
    // Dominates the older coverage but not the older snapshot's own link in b's chain.
    expect(snapshotCovers(ext([a, 9], [b, 3]), olderRecord, older)).toBe(false);
    expect(snapshotCovers(ext([a, 2], [b, 9]), olderRecord, older)).toBe(false);
    expect(snapshotCovers(older, olderRecord, older)).toBe(false);
  });

  it('membership, lockbox and audit records are never compacted', () => {
    for (const type of [RecordType.membership, RecordType.lockbox, RecordType.audit]) {
      expect(snapshotCovers(ext([a, 100]), record(type, a, 1), undefined)).toBe(false);
    }
  });
});
