/** The care team: doctors, nurses, therapists, pharmacists (FHIR Practitioner). */
import { z } from 'zod';
import { Address, Concept, ContactPoint, defineKind, HumanName, recordBase } from './common.ts';

export const PractitionerRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Practitioner'),
  active: z.boolean().optional(),
  name: z.array(HumanName).min(1).max(5),
  telecom: z.array(ContactPoint).max(10).optional(),
  address: z.array(Address).max(5).optional(),
  /** Role or speciality as free text ("Cardiologist"), SNOMED CT when known. */
  qualification: z.array(z.looseObject({ code: Concept })).max(10).optional(),
});
export type PractitionerRecord = z.infer<typeof PractitionerRecord>;

export const practitioner = defineKind({ kind: 'Practitioner', schema: PractitionerRecord, schemaVersion: 1 });
