/** Lab results (FHIR Observation, category laboratory; test codes from LOINC when known). */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirDateTime, Quantity, recordBase, statusConcept } from './common.ts';

export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const OBSERVATION_STATUSES = ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'] as const;

export const LabResultRecord = z
  .looseObject({
    ...recordBase,
    resourceType: z.literal('Observation'),
    status: z.enum(OBSERVATION_STATUSES),
    category: z.array(statusConcept(OBSERVATION_CATEGORY, ['laboratory'])).max(3).optional(),
    /** The test: free text ("HbA1c"), LOINC when known. */
    code: Concept,
    effectiveDateTime: FhirDateTime.optional(),
    issued: FhirDateTime.optional(),
    valueQuantity: Quantity.optional(),
    valueString: z.string().trim().min(1).max(4000).optional(),
    valueCodeableConcept: Concept.optional(),
    interpretation: z.array(Concept).max(5).optional(),
    referenceRange: z
      .array(z.looseObject({ low: Quantity.optional(), high: Quantity.optional(), text: z.string().max(400).optional() }))
      .max(5)
      .optional(),
    performer: z.array(z.looseObject({ display: z.string().max(400).optional(), reference: z.string().max(300).optional() })).max(5).optional(),
    note: z.array(Annotation).max(50).optional(),
  })
  .refine((r) => r.valueQuantity !== undefined || r.valueString !== undefined || r.valueCodeableConcept !== undefined, {
    message: 'a lab result needs valueQuantity, valueString or valueCodeableConcept',
    path: ['valueQuantity'],
  });
export type LabResultRecord = z.infer<typeof LabResultRecord>;

export const labResult = defineKind({ kind: 'Observation', schema: LabResultRecord, schemaVersion: 1 });
