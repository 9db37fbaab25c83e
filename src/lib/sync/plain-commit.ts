/**
 * Committing a PlainGroup (plain-group.ts): its updates applied to the plain doc as one, and its
 * records indexed, their chains advanced and marked processed, in one synchronous step. Separate
 * from inbox.ts, which decides what joins a group and when it commits; this is the commit alone,
 * including how a merged update Yjs rejects is taken apart again.
 */
import type { RecordTypeCode } from '../protocol/index.ts';
import { mergeVerified } from './apply.ts';
import type { InboxContext } from './inbox-context.ts';
import type { PlainGroup, PlainItem } from './plain-group.ts';
import type { RecordRefusals } from './record-refusals.ts';

/**
 * Applies the group's updates as one and commits its records (plain-group.ts), in one
 * synchronous step. If Yjs rejects the merged update, each is applied alone to find the one
 * it rejects; an author's records after a refused one go back to wait, as they would have.
 */
export function commitPlain(group: PlainGroup, c: Pick<InboxContext, 'state' | 'apply' | 'applied'>, refusals: Pick<RecordRefusals, 'refuse'>): void {
  if (group.size === 0) return;
  const { state } = c;
  const items = group.take();
  for (const item of items) state.bindClients(item.clients, item.author);
  const done = (item: PlainItem) => {
    state.index.add(item.record, undefined);
    state.advance(item.author, item.record.header.seq, item.record.id);
    state.processed.add(item.key);
    c.applied({ author: item.author, type: item.record.header.type as RecordTypeCode, seq: item.record.header.seq });
  };
  const all = c.apply(mergeVerified(items.map((i) => i.update)));
  if (all.ok) return items.forEach(done);
  if (items.length === 1) return refusals.refuse(items[0]!.key, items[0]!.record, all);
  const refused = new Set<string>();
  for (const item of items) {
    if (refused.has(item.author)) {
      state.held.set(item.key, item.record);
      continue;
    }
    const applied = c.apply(item.update);
    if (applied.ok) done(item);
    else {
      refused.add(item.author);
      refusals.refuse(item.key, item.record, applied);
    }
  }
}
