/** Problems and conditions, active or past (FHIR Condition). */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirDateTime, recordBase, statusConcept } from './common.ts';

export const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
/** Active conditions; the rest (inactive, remission, resolved) are past. */
export const ACTIVE_CONDITION_STATUSES = ['active', 'recurrence', 'relapse'] as const;

export const ConditionRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Condition'),
  clinicalStatus: statusConcept(CONDITION_CLINICAL, ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved']),
  verificationStatus: statusConcept(CONDITION_VERIFICATION, ['unconfirmed', 'provisional', 'differential', 'confirmed', 'refuted', 'entered-in-error']).optional(),
  /** The condition: free text, SNOMED CT (or ICD-10) when known. */
  code: Concept,
  severity: Concept.optional(),
  bodySite: z.array(Concept).max(10).optional(),
  onsetDateTime: FhirDateTime.optional(),
  abatementDateTime: FhirDateTime.optional(),
  recordedDate: FhirDateTime.optional(),
  note: z.array(Annotation).max(50).optional(),
});
export type ConditionRecord = z.infer<typeof ConditionRecord>;

export const condition = defineKind({ kind: 'Condition', schema: ConditionRecord, schemaVersion: 1 });
