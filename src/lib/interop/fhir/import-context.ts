/** What a mapper sees besides its resource, and what it returns (docs/decisions/0029). */
import type { SectionName } from '../../../../crdt-schemas/health/sections.ts';
import type { ReferenceIndex } from './import-read.ts';
import { clean, humanName, isObject, str, type Json } from './import-values.ts';

export type RejectCode = 'IMPORT_RESOURCE_INVALID' | 'IMPORT_BROKEN_REFERENCE' | 'IMPORT_OTHER_PATIENT';

export type Mapped =
  | { readonly kind: 'record'; readonly section: SectionName; readonly body: Json }
  | { readonly kind: 'kept' }
  /** Its content went into another record (a Medication into its statement, a RelatedPerson into the Patient's contacts). */
  | { readonly kind: 'folded' }
  | { readonly kind: 'reject'; readonly code: RejectCode };

export interface MapContext {
  readonly index: ReferenceIndex;
  /** The record a resource of the file becomes, as `<section>/<id>`, if it becomes one. */
  recordRef(resource: Json): string | undefined;
  /** Whether `resource` is referred to as a medication by a statement or request of the file. */
  isReferencedMedication(resource: Json): boolean;
}

/**
 * A reference as the profile keeps it: `<section>/<id>` when its target became a record of
 * this import, and a display name (the reference's own, else the target's name) when there is one.
 */
export function profileReference(ref: unknown, from: Json, ctx: MapContext): Json | undefined {
  if (!isObject(ref)) return undefined;
  const target = ctx.index.resolve(ref, from);
  const reference = target.kind === 'found' && target.entry ? ctx.recordRef(target.resource) : undefined;
  const display = str(ref.display) ?? (target.kind === 'found' ? nameOf(target.resource) : undefined);
  const out = clean({ reference, display });
  return Object.keys(out).length > 0 ? out : undefined;
}

function nameOf(r: Json): string | undefined {
  if (typeof r.name === 'string') return str(r.name);
  return Array.isArray(r.name) ? (humanName(r.name[0])?.text as string | undefined) : undefined;
}
