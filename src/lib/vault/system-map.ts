/**
 * A typed, validated view of one of the plain doc's system maps (crdt-schemas/system.ts): the
 * only way the vault writes anything that is not a health record or a note.
 */
import type * as Y from 'yjs';
import type { SystemMapDef } from '../../../crdt-schemas/system.ts';
import { VaultError } from './errors.ts';

export class SystemMap<T> {
  private readonly map: Y.Map<unknown>;
  private readonly def: SystemMapDef<T>;
  private readonly canWrite: () => void;

  constructor(doc: Y.Doc, def: SystemMapDef<T>, requireWriter: () => void) {
    this.map = doc.getMap(def.root);
    this.def = def;
    this.canWrite = requireWriter;
  }

  /** The value, if present and valid (one another replica wrote invalid reads as absent). */
  get(key: string): T | undefined {
    const parsed = this.def.schema.safeParse(this.map.get(key));
    return parsed.success ? parsed.data : undefined;
  }

  entries(): Array<[string, T]> {
    const out: Array<[string, T]> = [];
    for (const key of this.map.keys()) {
      const value = this.get(key);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  /** Writes a valid value; an invalid one is a typed error and writes nothing. */
  set(key: string, value: T): void {
    this.canWrite();
    const parsed = this.def.schema.safeParse(value);
    if (!parsed.success) throw new VaultError('RECORD_INVALID', `not a valid ${this.def.root} entry`);
    const doc = this.map.doc;
    if (doc) doc.transact(() => this.map.set(key, parsed.data));
    else this.map.set(key, parsed.data);
  }

  /** Removes an entry (an erased profile leaving the person's vault). */
  delete(key: string): void {
    this.canWrite();
    const doc = this.map.doc;
    if (doc) doc.transact(() => this.map.delete(key));
    else this.map.delete(key);
  }
}
