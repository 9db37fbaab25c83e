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

/**
 * When an entry no loaded document holds may be forgotten. Authentication (WebSocket, blob and
 * SHL routes, before any membership is known) and the erased route build entries for documents
 * that may never load: a stranger's refused token, a device fetching a file of a profile this
 * instance does not hold. Unload forgets only what loaded, so without this those entries stayed
 * for the life of the process, one per document name anyone asked about.
 */
export interface RegistryBounds {
  readonly now: () => number;
  /** An entry unused this long, for a document neither loaded nor loading, is dropped. */
  readonly idleMs: number;
  /** Whether a document is loaded or loading (its policy checks use the entry: never drop it). */
  readonly holds: (name: string) => boolean;
}

export class Registry {
  /** One build per document, shared by every caller that asks while it is being read. */
  private readonly docs = new Map<string, Promise<DocEntry>>();
  /** Builds that finished (one still being read is shared, never started again). */
  private readonly built = new WeakSet<Promise<DocEntry>>();
  /** When each entry was last asked for (only with bounds). */
  private readonly used = new Map<string, number>();
  private lastSweep = 0;
  private readonly store: RelayStore;
  private readonly onQuarantine: ((count: number, codes: string[]) => void) | undefined;
  /** Set once the server that loads documents exists (server/relay.ts); none: nothing is swept. */
  bounds: RegistryBounds | undefined;
  /**
   * Several instances (server/cluster.ts): whether this instance holds no loaded (or loading)
   * document of that name, so nothing keeps an entry of it current. Another instance may have
   * written to it since (a removal, an erasure): such an entry is rebuilt from the shared store on
   * every use. Before, an HTTP route (files, links, the erased route) built an entry once and kept
   * it: a member removed on another instance still got its files here (attack-cluster test).
   */
  private readonly detached: ((name: string) => boolean) | undefined;
  constructor(store: RelayStore, onQuarantine?: (count: number, codes: string[]) => void, detached?: (name: string) => boolean) {
    this.store = store;
    this.onQuarantine = onQuarantine;
    this.detached = detached;
  }

  /** Documents with an index held (or being built): what the relay keeps in memory per document. */
  get size(): number {
    return this.docs.size;
  }

  /** undefined when the name is not a valid document id; rejects if storage cannot be read. */
  async get(name: string): Promise<DocEntry | undefined> {
    const docId = docIdFromName(name);
    if (!docId) return undefined;
    this.touch(name);
    let entry = this.docs.get(name);
    if (entry && this.detached?.(name) && this.built.has(entry)) entry = undefined; // settled and possibly stale: read again
    if (!entry) {
      const building = this.build(name, docId);
      entry = building;
      this.docs.set(name, building);
      // A failed read is not remembered: the next connection tries again.
      building.then(() => this.built.add(building), () => this.docs.get(name) === building && this.docs.delete(name));
    }
    return entry;
  }

  /**
   * Drops a document's entry: the next `get` rebuilds it from storage. For a document instance
   * reset after a failed append (durable-ack.ts), whose index holds an update storage lacks.
   */
  forget(name: string): void {
    this.docs.delete(name);
    this.used.delete(name);
  }

  /**
   * Notes a use, and at most once per idle period drops the entries no loaded or loading
   * document holds that nobody asked for during a whole period. Runs on use, so the map can
   * only grow while it is swept: what it holds beyond the loaded documents is bounded by the
   * names asked for in the last two periods.
   */
  private touch(name: string): void {
    const b = this.bounds;
    if (!b) return;
    const now = b.now();
    this.used.set(name, now);
    if (now - this.lastSweep < b.idleMs) return;
    this.lastSweep = now;
    for (const [other, at] of this.used) if (now - at >= b.idleMs && !b.holds(other)) this.forget(other);
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
