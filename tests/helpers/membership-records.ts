/** Signed membership records built by hand, for tests of the membership rules and the policy. */
import { nobleEngine, seededRandom, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { encodeMembershipExt, parseRecord, RecordType, sealRecord, ZERO_HASH, type MembershipOp, type ParsedRecord } from '../../src/lib/protocol/index.ts';

/** One membership record by `author` at `seq` (randomness seeded by seq: the same inputs give the same bytes). */
export async function membershipRecord(docId: Uint8Array, author: SigningKeyPair, seq: number, op: MembershipOp & { clock: number }, prev: Uint8Array = ZERO_HASH): Promise<ParsedRecord> {
  const sealed = await sealRecord({
    header: { type: RecordType.membership, docId, epoch: 0, author: author.publicKey, seq, prev, ext: encodeMembershipExt(op) },
    payload: new Uint8Array(0),
    secretKey: author.secretKey,
    engine: nobleEngine,
    random: seededRandom(seq),
  });
  const parsed = parseRecord(sealed.bytes);
  if (!parsed.ok) throw new Error(parsed.code);
  return parsed.value;
}
