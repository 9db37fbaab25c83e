/**
 * What one replica knows about its envelope beyond the index: each author's verified chain
 * head, which records it has processed, held (a predecessor is missing) or set aside (no key
 * for their epoch yet), the audit entries it opened, and who wrote each Yjs clientID. Shared by
 * the inbox (remote records), the outbox (own records) and compaction; written only by them.
 */
import { fromHex } from '../crypto/index.ts';
import { EnvelopeIndex, type ChainHead as CoverageEntry, type ParsedRecord } from '../protocol/index.ts';
import { GENESIS_HEAD, type ChainHead } from './chain.ts';
import type { ChainPosition } from './chain-rules.ts';

export interface OpenedAudit {
  readonly author: string;
  readonly seq: number;
  /** The signed audit-entry bytes (protocol/audit.ts). */
  readonly entry: Uint8Array;
}

export class ReplicaState {
  readonly index: EnvelopeIndex;
  /** Keys done with: accepted, refused or covered. */
  readonly processed = new Set<string>();
  /** Keys this replica saw deleted by compaction: a later re-insert of one is a replay. */
  readonly compacted = new Set<string>();
  /** Records whose author's chain has a gap before them. */
  readonly held = new Map<string, ParsedRecord>();
  /**
   * Records that cannot be judged yet: no key for their epoch (retried when a lockbox arrives),
   * or no genesis (retried when it arrives; the relay can broadcast before the catch-up).
   */
  readonly awaitingKey = new Map<string, ParsedRecord>();
  /** Yjs clientID → hex signing key of the author whose verified record carried it. */
  readonly clientAuthors = new Map<number, string>();
  private readonly chains = new Map<string, ChainHead>();
  private readonly audit = new Map<string, OpenedAudit>();

  constructor(docId: Uint8Array) {
    this.index = new EnvelopeIndex(docId);
  }

  chainOf(authorHex: string): ChainHead {
    return this.chains.get(authorHex) ?? GENESIS_HEAD;
  }

  /** The author's next record was accepted. */
  advance(authorHex: string, seq: number, head: Uint8Array): void {
    this.chains.set(authorHex, { seq, head });
  }

  /** A snapshot covers the author up to `seq`: lift the head if it is behind. */
  lift(authorHex: string, seq: number, head: Uint8Array): void {
    if (this.chainOf(authorHex).seq < seq) this.chains.set(authorHex, { seq, head });
  }

  position(authorHex: string, key: string): ChainPosition {
    return { head: this.chainOf(authorHex), coveredSeq: this.index.coveredSeq(authorHex), seenCompacted: this.compacted.has(key) };
  }

  /** Every author's chain head: what a snapshot written now covers. */
  coverage(): CoverageEntry[] {
    const out: CoverageEntry[] = [];
    for (const [author, head] of this.chains) {
      if (head.seq > 0) out.push({ author: fromHex(author) as CoverageEntry['author'], seq: head.seq, head: head.head });
    }
    return out;
  }

  /** Records waiting for a predecessor or a key: while any are, the replica is not caught up. */
  get waiting(): number {
    return this.held.size + this.awaitingKey.size;
  }

  addAudit(key: string, entry: OpenedAudit): void {
    this.audit.set(key, entry);
  }

  /** Every audit entry this replica could open, grouped by author in chain order. */
  auditEntries(): Map<string, Uint8Array[]> {
    const out = new Map<string, Uint8Array[]>();
    for (const a of [...this.audit.values()].sort((x, y) => x.seq - y.seq)) {
      const list = out.get(a.author) ?? [];
      list.push(a.entry);
      out.set(a.author, list);
    }
    return out;
  }

  bindClients(clients: readonly number[], authorHex: string): void {
    for (const c of clients) this.clientAuthors.set(c, authorHex);
  }
}
