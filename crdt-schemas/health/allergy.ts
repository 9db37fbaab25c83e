/** Allergies and intolerances (FHIR AllergyIntolerance; the profile is the implicit patient). */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirDateTime, recordBase, statusConcept } from './common.ts';

export const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
export const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

export const AllergyIntoleranceRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('AllergyIntolerance'),
  clinicalStatus: statusConcept(ALLERGY_CLINICAL, ['active', 'inactive', 'resolved']).optional(),
  verificationStatus: statusConcept(ALLERGY_VERIFICATION, ['unconfirmed', 'confirmed', 'refuted', 'entered-in-error']).optional(),
  type: z.enum(['allergy', 'intolerance']).optional(),
  category: z.array(z.enum(['food', 'medication', 'environment', 'biologic'])).max(4).optional(),
  criticality: z.enum(['low', 'high', 'unable-to-assess']).optional(),
  /** The substance: free text, SNOMED CT or RxNorm when known. */
  code: Concept,
  onsetDateTime: FhirDateTime.optional(),
  recordedDate: FhirDateTime.optional(),
  reaction: z
    .array(
      z.looseObject({
        manifestation: z.array(Concept).min(1).max(20),
        severity: z.enum(['mild', 'moderate', 'severe']).optional(),
        description: z.string().max(4000).optional(),
      }),
    )
    .max(20)
    .optional(),
  note: z.array(Annotation).max(50).optional(),
});
export type AllergyIntoleranceRecord = z.infer<typeof AllergyIntoleranceRecord>;

export const allergyIntolerance = defineKind({ kind: 'AllergyIntolerance', schema: AllergyIntoleranceRecord, schemaVersion: 1 });
