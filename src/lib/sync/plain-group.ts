/**
 * The remote updates one pass of the inbox found ready, applied to the plain doc together.
 *
 * Why: the inbox takes each author's records in chain order, which is not causal order across
 * authors. Applied one at a time, a record whose Yjs structs build on another author's later
 * record stays pending in Yjs, which merges the whole pending set again on every later apply:
 * a full open of a profile whose members wrote in turns grew with the square of the records
 * (bench/README.md S13, members). One update made of all of them integrates in one pass.
 *
 * The group changes no state: chain heads move, and records count as processed, only when the
 * inbox commits it, synchronously with the apply (plain-commit.ts `commitPlain`). So nothing, such as
 * a snapshot this device writes, ever sees a head whose content is not in the plain doc. While
 * it collects, `position` answers as if it were committed, so an author's next record can join;
 * a record of another kind (audit, membership) moves its author's chain at once, so the group is
 * committed first if it holds that author's records.
 */
import type { ParsedRecord } from '../protocol/index.ts';
import type { VerifiedUpdate } from './apply.ts';
import type { ChainHead } from './chain.ts';
import type { ChainPosition } from './chain-rules.ts';
import type { ReplicaState } from './replica-state.ts';

export interface PlainItem {
  readonly key: string;
  readonly record: ParsedRecord;
  readonly author: string;
  readonly update: VerifiedUpdate;
  /** ClientIDs the record gives its author (bound before the structs land). */
  readonly clients: readonly number[];
}

export class PlainGroup {
  private items: PlainItem[] = [];
  private readonly heads = new Map<string, ChainHead>();

  get size(): number {
    return this.items.length;
  }

  /** A record authorised, opened and decoded, its author's next after the group's own. */
  add(item: PlainItem): void {
    this.items.push(item);
    this.heads.set(item.author, { seq: item.record.header.seq, head: item.record.id });
  }

  /** Whether the group holds records of this author (its chain head is not committed yet). */
  holds(author: string): boolean {
    return this.heads.has(author);
  }

  /** Where the author's chain stands once the group is committed. */
  position(state: ReplicaState, author: string, key: string): ChainPosition {
    const at = state.position(author, key);
    const head = this.heads.get(author);
    return head === undefined ? at : { ...at, head };
  }

  /** Every item, in the order they were added (each author's in chain order); the group is empty after. */
  take(): PlainItem[] {
    const items = this.items;
    this.items = [];
    this.heads.clear();
    return items;
  }
}
