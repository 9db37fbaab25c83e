/** Procedures and surgeries (FHIR Procedure; SNOMED CT when known). */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirDateTime, Period, recordBase, Reference } from './common.ts';

export const ProcedureRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Procedure'),
  status: z.enum(['preparation', 'in-progress', 'not-done', 'on-hold', 'stopped', 'completed', 'entered-in-error', 'unknown']),
  code: Concept,
  performedDateTime: FhirDateTime.optional(),
  performedPeriod: Period.optional(),
  performer: z.array(z.looseObject({ actor: Reference })).max(10).optional(),
  location: Reference.optional(),
  reasonCode: z.array(Concept).max(10).optional(),
  bodySite: z.array(Concept).max(10).optional(),
  outcome: Concept.optional(),
  note: z.array(Annotation).max(50).optional(),
});
export type ProcedureRecord = z.infer<typeof ProcedureRecord>;

export const procedure = defineKind({ kind: 'Procedure', schema: ProcedureRecord, schemaVersion: 1 });
