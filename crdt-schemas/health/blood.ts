/**
 * Blood type and organ donor status: one record per profile (key `current`). App-specific;
 * exported to FHIR as an Observation (LOINC 882-1, ABO and Rh group) and a donor statement.
 */
import { z } from 'zod';
import { Concept, defineKind, FhirDateTime, recordBase } from './common.ts';

export const BLOOD_RECORD_ID = 'current';
export const LOINC_ABO_RH = '882-1';

export const BloodAndDonorRecord = z.looseObject({
  ...recordBase,
  /** Free text as written on the card ("A Rh+"), SNOMED CT when known. */
  bloodGroup: Concept.optional(),
  abo: z.enum(['A', 'B', 'AB', 'O']).optional(),
  rh: z.enum(['positive', 'negative']).optional(),
  organDonor: z.enum(['yes', 'no', 'limited', 'unknown']),
  /** "Kidneys and corneas only", registry name, card number. */
  organDonorNote: z.string().max(4000).optional(),
  recordedDate: FhirDateTime.optional(),
});
export type BloodAndDonorRecord = z.infer<typeof BloodAndDonorRecord>;

export const bloodAndDonor = defineKind({ kind: 'BloodAndDonor', schema: BloodAndDonorRecord, schemaVersion: 1 });
