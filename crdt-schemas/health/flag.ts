/** Alerts worth showing first: "on anticoagulants", "DNR on file" (FHIR Flag). */
import { z } from 'zod';
import { Concept, defineKind, Period, recordBase } from './common.ts';

export const FlagRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Flag'),
  status: z.enum(['active', 'inactive', 'entered-in-error']),
  category: z.array(Concept).max(5).optional(),
  /** The alert: free text always, SNOMED CT when known. */
  code: Concept,
  period: Period.optional(),
});
export type FlagRecord = z.infer<typeof FlagRecord>;

export const flag = defineKind({ kind: 'Flag', schema: FlagRecord, schemaVersion: 1 });
