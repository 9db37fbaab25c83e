/** Demographics and emergency contacts: one FHIR Patient-shaped record per profile (key `patient`). */
import { z } from 'zod';
import { Address, Concept, ContactPoint, defineKind, FhirDate, HumanName, recordBase } from './common.ts';

export const PATIENT_RECORD_ID = 'patient';

export const EmergencyContact = z.looseObject({
  /** e.g. text "Mother", coding v2-0131 `C` (emergency contact) or v3 RoleCode `MTH`. */
  relationship: z.array(Concept).min(1).max(5),
  name: HumanName,
  telecom: z.array(ContactPoint).max(10).optional(),
  address: Address.optional(),
});

export const PatientRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Patient'),
  name: z.array(HumanName).min(1).max(5),
  birthDate: FhirDate.optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
  telecom: z.array(ContactPoint).max(10).optional(),
  address: z.array(Address).max(5).optional(),
  communication: z.array(z.looseObject({ language: Concept, preferred: z.boolean().optional() })).max(10).optional(),
  contact: z.array(EmergencyContact).max(20).optional(),
});
export type PatientRecord = z.infer<typeof PatientRecord>;

export const patient = defineKind({ kind: 'Patient', schema: PatientRecord, schemaVersion: 1 });
