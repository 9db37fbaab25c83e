/**
 * Resources an import could not map to a section (Claim, Goal, CarePlan, …), kept verbatim so
 * nothing is dropped (docs/decisions/0029): encrypted like every record, listed in the app and
 * returned by the full FHIR export. Bounded so one resource cannot bloat the doc.
 */
import { z } from 'zod';
import { defineKind, recordBase } from './common.ts';

/** The largest kept resource, as JSON text (larger ones are refused, per resource, on import). */
export const MAX_KEPT_RESOURCE_CHARS = 256 * 1024;

export const KeptResourceRecord = z.looseObject({
  ...recordBase,
  /** The FHIR resource as it was imported (its own id and resourceType inside). */
  resource: z
    .looseObject({ resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/, 'must be a FHIR resource type'), id: z.string().regex(/^[A-Za-z0-9.-]{1,64}$/, 'must be a FHIR id').optional() })
    .refine((r) => JSON.stringify(r).length <= MAX_KEPT_RESOURCE_CHARS, { message: `a kept resource is at most ${MAX_KEPT_RESOURCE_CHARS} characters of JSON` }),
});
export type KeptResourceRecord = z.infer<typeof KeptResourceRecord>;

export const keptResource = defineKind({ kind: 'KeptResource', schema: KeptResourceRecord, schemaVersion: 1 });
