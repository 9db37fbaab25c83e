/**
 * A copy that falls behind the relay on its own chain (decision 0065): `first` (open, with a
 * relay, on `store`) writes a record its store keeps and one its store then loses, the relay
 * holding both (an OS crash under relaxed durability, a restored backup). Waits for the catch-up
 * first, so its edits are sealed, not queued for a genesis still on its way, and settles the
 * store around the loss, so the counts are of what the store really committed.
 */
import { engineOf } from '../../src/lib/vault/engine.ts';
import type { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from './eventually.ts';
import type { LateStore } from './late-store.ts';
import { insertNote } from './raw-edits.ts';

export async function fallBehindTheRelay(
  first: Profile,
  store: LateStore,
  o: { name: string; reader?: Profile; beforeTheLoss?: () => Promise<void> },
): Promise<{ relayHead: number }> {
  await first.status.when((s) => s.synced);
  insertNote(first, 'journal', 0, 'kept. ');
  await first.flush();
  await o.beforeTheLoss?.();
  await store.settled();
  const kept = store.committed(o.name);
  insertNote(first, 'journal', 0, 'the store lost this, the relay has it. ');
  await first.flush();
  if (o.reader) await eventually(() => o.reader!.readNote('journal').includes('the relay has it.'));
  const relayHead = engineOf(first).sync.ownHead.seq;
  await first.close();
  await store.settled();
  store.rollBack(o.name, kept);
  return { relayHead };
}
