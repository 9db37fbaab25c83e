/**
 * The relay's view of each envelope doc: an EnvelopeIndex (records, snapshot coverage,
 * membership) built from storage the first time a document is needed (authentication comes
 * before Hocuspocus loads the doc) and kept current by the policy extension.
 */
import * as Y from 'yjs';
import { fromBase64Url } from '../src/lib/crypto/index.ts';
import {
  DOC_ID_LENGTH,
  ENVELOPE_MAP,
  EnvelopeIndex,
  parseRecord,
  compareForMembership,
  RecordType,
  SerialGate,
  type ParsedRecord,
} from '../src/lib/protocol/index.ts';
import type { SqliteEnvelopeLog } from '../src/lib/storage/sqlite-log.ts';

export interface DocEntry {
  readonly index: EnvelopeIndex;
  /** Serialises policy checks per document: checks are async, commits must not interleave. */
  readonly gate: SerialGate;
}

export function docIdFromName(name: string): Uint8Array | undefined {
  try {
    const id = fromBase64Url(name);
    return id.length === DOC_ID_LENGTH ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Rebuilds an index from a trusted envelope state (the relay verified each record on the way in). */
export function indexFromState(docId: Uint8Array, state: Uint8Array | undefined): EnvelopeIndex {
  const index = new EnvelopeIndex(docId);
  if (!state) return index;
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  const map = doc.getMap<Uint8Array>(ENVELOPE_MAP);
  // Membership first so later entries see the owners that signed them.
  const items = [...map._map.values()].filter((item) => !item.deleted);
  const parsed = items
    .map((item) => ({ item, record: parseRecord((item.content as Y.ContentBinary).content) }))
    .filter((x) => x.record.ok)
    .map((x) => ({ item: x.item, record: (x.record as { value: ParsedRecord }).value }))
    .sort((a, b) => compareForMembership(a.record, b.record));
  for (const { item, record } of parsed) {
    const op = record.header.type === RecordType.membership ? index.membership.check(record) : undefined;
    index.add(record, { client: item.id.client, clock: item.id.clock }, op?.ok ? op.value : undefined);
  }
  doc.destroy();
  return index;
}


export class Registry {
  private readonly docs = new Map<string, DocEntry>();
  private readonly store: SqliteEnvelopeLog;
  constructor(store: SqliteEnvelopeLog) {
    this.store = store;
  }

  /** undefined when the name is not a valid document id. */
  get(name: string): DocEntry | undefined {
    let entry = this.docs.get(name);
    if (entry) return entry;
    const docId = docIdFromName(name);
    if (!docId) return undefined;
    entry = { index: indexFromState(docId, this.store.load(name)), gate: new SerialGate() };
    this.docs.set(name, entry);
    return entry;
  }
}
