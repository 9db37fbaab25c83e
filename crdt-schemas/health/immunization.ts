/** Immunizations (FHIR Immunization; vaccine codes from CVX when known). */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirDate, FhirDateTime, Quantity, recordBase, Reference } from './common.ts';

export const ImmunizationRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Immunization'),
  status: z.enum(['completed', 'entered-in-error', 'not-done']),
  vaccineCode: Concept,
  occurrenceDateTime: FhirDateTime,
  lotNumber: z.string().max(100).optional(),
  expirationDate: FhirDate.optional(),
  site: Concept.optional(),
  route: Concept.optional(),
  doseQuantity: Quantity.optional(),
  performer: z.array(z.looseObject({ actor: Reference })).max(5).optional(),
  protocolApplied: z.array(z.looseObject({ doseNumberPositiveInt: z.int().positive().optional(), seriesDosesPositiveInt: z.int().positive().optional() })).max(5).optional(),
  note: z.array(Annotation).max(50).optional(),
});
export type ImmunizationRecord = z.infer<typeof ImmunizationRecord>;

export const immunization = defineKind({ kind: 'Immunization', schema: ImmunizationRecord, schemaVersion: 1 });
