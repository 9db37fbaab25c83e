/**
 * The inbox's verdicts on a remote record: its signature, then its authorisation against the
 * replica's index as the relay took it (`replica: true`). The inbox checks a batch's signatures
 * all at once and consumes each result when it authorises that record; a record retried later
 * (it waited for a key or the genesis) is checked then. Separate from inbox.ts, which decides
 * when each record is judged and in what order; this is how.
 */
import { authorizeRecord, recordKey, verifyRecord, type Failure, type MembershipOp, type ParsedRecord, type Result, type VerifiedRecord } from '../protocol/index.ts';
import type { InboxContext } from './inbox-context.ts';

export type Verdict = { ok: true; record: VerifiedRecord; op: MembershipOp | undefined } | { ok: false; failure: Failure };

export class RecordVerdicts {
  /** Signature results of the batch being processed, consumed when each record is authorised. */
  private readonly verified = new Map<string, Result<VerifiedRecord>>();

  private readonly c: Pick<InboxContext, 'state' | 'engine' | 'now'>;

  constructor(c: Pick<InboxContext, 'state' | 'engine' | 'now'>) {
    this.c = c;
  }

  /** Keeps a batch's signature results (`results[i]` is `batch[i]`'s). */
  remember(batch: readonly ParsedRecord[], results: readonly Result<VerifiedRecord>[]): void {
    batch.forEach((r, i) => this.verified.set(recordKey(r), results[i]!));
  }

  /** The batch's signature result for this record (consumed), or a check now for one retried later. */
  async signatureOf(r: ParsedRecord): Promise<Result<VerifiedRecord>> {
    const key = recordKey(r);
    const verified = this.verified.get(key) ?? (await verifyRecord(r, this.c.engine));
    this.verified.delete(key);
    return verified;
  }

  async authorize(r: ParsedRecord): Promise<Verdict> {
    const verified = await this.signatureOf(r);
    if (!verified.ok) return { ok: false, failure: verified };
    const verdict = await authorizeRecord(r, this.c.state.index, { engine: this.c.engine, now: this.c.now(), verified, replica: true });
    return verdict.ok ? { ok: true, record: verified.value, op: verdict.value } : { ok: false, failure: verdict };
  }
}
