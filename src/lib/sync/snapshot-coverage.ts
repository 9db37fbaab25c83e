/**
 * What a remote snapshot must say before the inbox applies it: its coverage decodes, covers its
 * author's own chain up to the record before it, and names at no covered seq a record other than
 * the one this replica indexed there. Pure over the record and the index; the inbox authorises
 * the snapshot first and refuses it with the failure returned here.
 */
import { toBase64Url, toHex } from '../crypto/index.ts';
import { decodeSnapshotExt, prevNames, ZERO_HASH, type EnvelopeIndex, type ParsedRecord, type Result, type SnapshotExt } from '../protocol/index.ts';

export function checkedCoverage(r: ParsedRecord, index: EnvelopeIndex): Result<SnapshotExt> {
  const ext = decodeSnapshotExt(r.header.ext);
  if (!ext.ok) return ext;
  const author = toHex(r.header.author);
  const own = ext.value.coverage.find((c) => toHex(c.author) === author);
  if ((own?.seq ?? 0) !== r.header.seq - 1 || !prevNames(r.header.prev, own?.head ?? ZERO_HASH)) {
    return { ok: false, code: 'RECORD_BAD_CHAIN', message: "snapshot does not cover its author's own chain" };
  }
  for (const c of ext.value.coverage) {
    const seen = index.seqOwner(toHex(c.author), c.seq);
    if (seen !== undefined && seen !== toBase64Url(c.head)) {
      return { ok: false, code: 'RECORD_FORK', message: 'snapshot names another record at a covered seq' };
    }
  }
  return ext;
}
