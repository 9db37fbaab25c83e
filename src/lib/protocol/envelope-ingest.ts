/**
 * Folding changes another relay instance already accepted into this instance's index
 * (several relays sharing live documents through Redis, server/cluster.ts, decision 0048).
 * Such a change arrives as Yjs sync messages applied to the document directly: the origin
 * instance ran the write policy on it, this one only has to keep its index equal to what the
 * document now holds, judged on the effect (the map's current item for each changed key), not
 * on the bytes that carried it. The same rules as a rebuild from storage apply: a live value
 * that is not a valid record for its key, or a membership op the fold refuses, is quarantined
 * (its key stays used, nothing is indexed).
 */
import * as Y from 'yjs';
import { toHex } from '../crypto/index.ts';
import { ENVELOPE_MAP, indexLive, parseLive, personOf, type EnvelopeIndex, type QuarantinedRecord } from './envelope-index.ts';
import type { ParsedRecord } from './record.ts';

export interface IngestResult {
  readonly added: readonly ParsedRecord[];
  readonly removed: readonly string[];
  readonly quarantined: readonly QuarantinedRecord[];
}

/** The keys of the envelope map a transaction changed (what `afterTransaction` reports). */
export function changedEnvelopeKeys(doc: Y.Doc, transaction: Y.Transaction): string[] {
  const keys = transaction.changed.get(doc.getMap(ENVELOPE_MAP) as unknown as Y.AbstractType<Y.YEvent<any>>);
  return keys ? [...keys].filter((k): k is string => typeof k === 'string') : [];
}

/**
 * Brings `index` up to what `doc`'s envelope map now holds for `keys`: a live record not yet
 * indexed is added (membership ops in causal order, its clientID bound to its signer's person
 * if unbound, as the origin's policy bound it); an indexed record whose item is gone is removed;
 * an indexed record now held by another item (a map conflict) is pointed at that item.
 */
export function ingestIntegrated(index: EnvelopeIndex, doc: Y.Doc, keys: Iterable<string>): IngestResult {
  const map = doc.getMap(ENVELOPE_MAP) as unknown as { _map: Map<string, Y.Item> };
  const live: Array<{ record: ParsedRecord; item: { client: number; clock: number } }> = [];
  const removed: string[] = [];
  const quarantined: QuarantinedRecord[] = [];
  for (const key of new Set(keys)) {
    index.useKey(key);
    const item = map._map.get(key);
    if (!item || item.deleted || !(item.content instanceof Y.ContentBinary)) {
      if (index.has(key)) {
        index.remove(key);
        removed.push(key);
      }
      continue;
    }
    // Already indexed: the same record, but perhaps at another item now (a map conflict between
    // two instances' copies of it; see EnvelopeIndex.relocate).
    if (index.has(key)) {
      const record = index.recordOf(key)!;
      // Its clientID binds to the signer's person, as for a record first seen here.
      if (index.relocate(key, item.id) && index.ownerOfClient(item.id.client) === undefined) {
        index.bindClient(item.id.client, personOf(index.membership, toHex(record.header.author)));
      }
      continue;
    }
    const parsed = parseLive(key, item.content.content);
    if ('code' in parsed) quarantined.push(parsed);
    else live.push({ record: parsed.record, item: { client: item.id.client, clock: item.id.clock } });
  }
  const { added } = indexLive(index, live, quarantined);
  return { added, removed, quarantined };
}
