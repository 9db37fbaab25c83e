/**
 * The FHIR conformance checks are types (crdt-schemas/health/fhir.ts; tsc runs them in
 * `npm run lint`). Here: the checker bites on a non-conforming shape, and the records carry
 * the resourceType their FHIR type expects.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Encounter, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FHIR_CONFORMANCE, type Conforms } from '../../crdt-schemas/health/fhir.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { SECTIONS, SECTION_NAMES } from '../../crdt-schemas/health/sections.ts';
import type { EncounterRecord } from '../../crdt-schemas/health/encounter.ts';
import { createPrng } from '../helpers/prng.ts';

// Compile-time: a wrong enum value or a missing required field does not conform.
// @ts-expect-error gender 'x' is not a FHIR administrative gender
const badGender: Conforms<{ resourceType: 'Patient'; gender: 'x' }, Patient> = true;
// @ts-expect-error Encounter.class is required in R4
const noClass: Conforms<Omit<EncounterRecord, 'class'>, Encounter> = true;
const good: Conforms<EncounterRecord, Encounter> = true;

describe('FHIR R4 shape', () => {
  it('the type-level checks hold and can fail', () => {
    expect([badGender, noClass, good]).toEqual([true, true, true]);
    expect(Object.values(FHIR_CONFORMANCE).every((v) => v === true)).toBe(true);
    expect(Object.keys(FHIR_CONFORMANCE)).toHaveLength(17);
  });

  it('every FHIR-shaped record has the resourceType of its kind', () => {
    const prng = createPrng(8);
    const appOnly = new Set(['DoseLogEntry', 'SymptomJournalEntry', 'BloodAndDonor', 'KeptResource']);
    for (const s of SECTION_NAMES) {
      const kind = SECTIONS[s].kind;
      // The care team holds people and places (decision 0037): its kind names the people.
      const allowed = s === 'care-team' ? ['Practitioner', 'Organization', 'Location'] : [appOnly.has(kind) ? undefined : kind];
      for (let i = 0; i < (s === 'care-team' ? 20 : 1); i++) expect(allowed).toContain((generateRecord(s, prng.next) as { resourceType?: string }).resourceType);
    }
  });

  it('crdt-schemas imports @medplum/fhirtypes for types only', () => {
    const dir = resolve(import.meta.dirname, '../../crdt-schemas/health');
    let typeImports = 0;
    for (const f of readdirSync(dir)) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const m of src.matchAll(/import\s+(type\s+)?[^'"]*?from\s+['"]@medplum\/fhirtypes['"]/g)) {
        expect(m[1], `${f} must use import type`).toBeDefined();
        typeImports++;
      }
    }
    expect(typeImports).toBeGreaterThan(0);
  });
});
