/**
 * What an export reads and what it is given (docs/decisions/0030): the profile's validated read
 * model (ProfileRecords satisfies `ExportSource`), a clock and a UUID source. Pure: no yjs, no
 * randomness or time of its own, so the same inputs give the same bundle.
 */
import type { SectionName, SectionRecord } from '../../../../crdt-schemas/health/index.ts';

export type Json = Record<string, unknown>;

/** A FHIR resource as JSON: what kept (unmapped, imported verbatim) resources are. */
export interface FhirJson extends Json {
  readonly resourceType: string;
}

export interface ExportSource {
  /** Valid, migrated records of a section (invalid ones are skipped by the read model). */
  list<S extends SectionName>(section: S): readonly SectionRecord<S>[];
  /**
   * Resources an import kept verbatim because they map to no section (issue 12, "nothing is
   * dropped"). Optional so the export works before that section exists; the profile adapter
   * fills it in with one line once it does.
   */
  kept?(): readonly FhirJson[];
}

export interface ExportClock {
  /** Milliseconds since the epoch: the Bundle's timestamp and the Composition's date. */
  readonly now: () => number;
  /** A fresh RFC 4122 UUID, lowercase: fullUrls (`urn:uuid:`), resource ids, the Bundle identifier. */
  readonly uuid: () => string;
}

/** Identifier system naming a record of this vault (`<section>/<id>`), so an import of our own export finds the record again. */
export const RECORD_IDENTIFIER_SYSTEM = 'urn:fhv:record';
/** Identifier system of a member's signing key (hex): who logged a dose. */
export const MEMBER_KEY_SYSTEM = 'urn:fhv:member-key';
export const DATA_ABSENT_REASON = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

export const urn = (uuid: string): string => `urn:uuid:${uuid}`;

/**
 * A FHIR date or dateTime as milliseconds for ordering: a partial date counts as its first
 * instant (UTC); an unparseable one sorts first.
 */
export function instantOf(v: unknown): number {
  const s = String(v);
  const t = Date.parse(s.length === 4 ? `${s}-01-01` : s.length === 7 ? `${s}-01` : s);
  return Number.isNaN(t) ? -Infinity : t;
}
