/**
 * The relay's view of each envelope doc: an EnvelopeIndex (records, snapshot coverage,
 * membership) built from storage the first time a document is needed (authentication comes
 * before Hocuspocus loads the doc) and kept current by the policy extension.
 */
import { fromBase64Url } from '../src/lib/crypto/index.ts';
import { DOC_ID_LENGTH, EnvelopeIndex, rebuildEnvelopeIndex, SerialGate, type QuarantinedRecord } from '../src/lib/protocol/index.ts';
import type { SqliteEnvelopeLog } from '../src/lib/storage/sqlite-log.ts';

export interface DocEntry {
  readonly index: EnvelopeIndex;
  /** Serialises policy checks per document: checks are async, commits must not interleave. */
  readonly gate: SerialGate;
  /** Stored records the rebuild did not index (kept in the doc, never a reason to refuse members). */
  readonly quarantined: readonly QuarantinedRecord[];
}

export function docIdFromName(name: string): Uint8Array | undefined {
  try {
    const id = fromBase64Url(name);
    return id.length === DOC_ID_LENGTH ? id : undefined;
  } catch {
    return undefined;
  }
}

export class Registry {
  /** Persists the clientID owners an accepted update established (before the update is applied). */
  bindClients(name: string, bindings: ReadonlyArray<readonly [number, string]>): void {
    if (bindings.length > 0) this.store.bindClients(name, bindings);
  }

  private readonly docs = new Map<string, DocEntry>();
  private readonly store: SqliteEnvelopeLog;
  private readonly onQuarantine: ((count: number, codes: string[]) => void) | undefined;
  constructor(store: SqliteEnvelopeLog, onQuarantine?: (count: number, codes: string[]) => void) {
    this.store = store;
    this.onQuarantine = onQuarantine;
  }

  /** undefined when the name is not a valid document id. */
  get(name: string): DocEntry | undefined {
    let entry = this.docs.get(name);
    if (entry) return entry;
    const docId = docIdFromName(name);
    if (!docId) return undefined;
    const { index, quarantined, derivedOwners } = rebuildEnvelopeIndex(docId, this.store.load(name), this.store.clientOwners(name));
    this.bindClients(name, derivedOwners);
    // Counts and codes only: keys are random ids, but nothing about a record is worth a log line.
    if (quarantined.length > 0) this.onQuarantine?.(quarantined.length, [...new Set(quarantined.map((q) => q.code))]);
    entry = { index, gate: new SerialGate(), quarantined };
    this.docs.set(name, entry);
    return entry;
  }
}
