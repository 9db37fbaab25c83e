/**
 * The relay's view of each envelope doc: an EnvelopeIndex (records, snapshot coverage,
 * membership) built from storage the first time a document is needed (authentication comes
 * before Hocuspocus loads the doc) and kept current by the policy extension.
 */
import { fromBase64Url } from '../src/lib/crypto/index.ts';
import { DOC_ID_LENGTH, EnvelopeIndex, RecordType, rebuildEnvelopeIndex, SerialGate, type QuarantinedRecord } from '../src/lib/protocol/index.ts';
import type { Extension } from '@hocuspocus/server';
import { tombstoneOf } from './erase-members.ts';
import type { RelayStore, Tombstone } from './storage/relay-store.ts';

export interface DocEntry {
  readonly index: EnvelopeIndex;
  /** Serialises policy checks per document: checks are async, commits must not interleave. */
  readonly gate: SerialGate;
  /** Stored records the rebuild did not index (kept in the doc, never a reason to refuse members). */
  readonly quarantined: readonly QuarantinedRecord[];
  /** Set once an owner erased the document (decision 0035): every request for it is refused. */
  erased?: Tombstone;
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
  /** One build per document, shared by every caller that asks while it is being read. */
  private readonly docs = new Map<string, Promise<DocEntry>>();
  private readonly store: RelayStore;
  private readonly onQuarantine: ((count: number, codes: string[]) => void) | undefined;
  constructor(store: RelayStore, onQuarantine?: (count: number, codes: string[]) => void) {
    this.store = store;
    this.onQuarantine = onQuarantine;
  }

  /** Documents with an index held (or being built): what the relay keeps in memory per document. */
  get size(): number {
    return this.docs.size;
  }

  /** undefined when the name is not a valid document id; rejects if storage cannot be read. */
  async get(name: string): Promise<DocEntry | undefined> {
    const docId = docIdFromName(name);
    if (!docId) return undefined;
    let entry = this.docs.get(name);
    if (!entry) {
      entry = this.build(name, docId);
      this.docs.set(name, entry);
      // A failed read is not remembered: the next connection tries again.
      entry.catch(() => this.docs.delete(name));
    }
    return entry;
  }

  /**
   * Drops a document's entry: the next `get` rebuilds it from storage. For a document instance
   * reset after a failed append (durable-ack.ts), whose index holds an update storage lacks.
   */
  forget(name: string): void {
    this.docs.delete(name);
  }

  /** Marks a loaded document erased at once, before its rows are deleted (server/erase.ts). */
  async markErased(name: string, tombstone: Tombstone): Promise<void> {
    const entry = await this.get(name);
    if (entry) entry.erased = tombstone;
  }

  private async build(name: string, docId: Uint8Array): Promise<DocEntry> {
    const erased = await this.store.tombstone(name);
    if (erased) return { index: new EnvelopeIndex(docId), gate: new SerialGate(), quarantined: [], erased };
    const [stored, owners] = await Promise.all([this.store.load(name), this.store.clientOwners(name)]);
    const { index, quarantined, derivedOwners } = rebuildEnvelopeIndex(docId, stored?.state, owners);
    // An erase the relay took but did not finish (a crash in between): finish it now.
    for (const [, record] of index.entries()) {
      if (record.header.type !== RecordType.erase) continue;
      const tombstone = tombstoneOf(index, record);
      await this.store.erase(name, tombstone);
      return { index: new EnvelopeIndex(docId), gate: new SerialGate(), quarantined: [], erased: tombstone };
    }
    // Owners derived from records stored before bindings were kept: persisted once, like new ones.
    await this.store.bindClients(name, derivedOwners);
    // Counts and codes only: keys are random ids, but nothing about a record is worth a log line.
    if (quarantined.length > 0) this.onQuarantine?.(quarantined.length, [...new Set(quarantined.map((q) => q.code))]);
    return { index, gate: new SerialGate(), quarantined };
  }
}

/**
 * Bounds the registry by what is loaded: once a document unloads (its last connection gone),
 * its index is dropped and the next connection rebuilds it from storage. With several
 * instances (server/cluster.ts) this is also what keeps an index from going stale while
 * another instance writes to a document this one does not hold.
 */
export function registryExtension(registry: Registry): Extension {
  return {
    extensionName: 'fhv-registry',
    async afterUnloadDocument({ documentName, instance }) {
      if (!instance.documents.has(documentName)) registry.forget(documentName);
    },
  };
}
