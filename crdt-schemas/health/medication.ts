/** Medications with their schedule (FHIR MedicationStatement, Dosage.timing). */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirTime, Period, Quantity, recordBase } from './common.ts';

export const TIMING_EVENTS = ['MORN', 'NOON', 'AFT', 'EVE', 'NIGHT', 'PHS', 'HS', 'WAKE', 'C', 'CM', 'CD', 'CV', 'AC', 'ACM', 'ACD', 'ACV', 'PC', 'PCM', 'PCD', 'PCV'] as const;

/** When to take it: `frequency` times per `period` `periodUnit`, and/or at fixed times of day. */
export const Timing = z.looseObject({
  repeat: z.looseObject({
    frequency: z.int().min(1).max(48).optional(),
    period: z.number().positive().max(1000).optional(),
    periodUnit: z.enum(['s', 'min', 'h', 'd', 'wk', 'mo', 'a']).optional(),
    timeOfDay: z.array(FhirTime).max(24).optional(),
    when: z.array(z.enum(TIMING_EVENTS)).max(10).optional(),
    dayOfWeek: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).max(7).optional(),
    boundsPeriod: Period.optional(),
  }),
});

export const Dosage = z.looseObject({
  /** "1 tablet twice a day with food": always present, the schedule below is the structured part. */
  text: z.string().trim().min(1).max(4000),
  timing: Timing.optional(),
  asNeededBoolean: z.boolean().optional(),
  route: Concept.optional(),
  doseAndRate: z.array(z.looseObject({ doseQuantity: Quantity.optional() })).max(5).optional(),
});

export const MedicationStatementRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('MedicationStatement'),
  status: z.enum(['active', 'completed', 'entered-in-error', 'intended', 'stopped', 'on-hold', 'unknown', 'not-taken']),
  /** The medicine: free text, RxNorm when known. */
  medicationCodeableConcept: Concept,
  effectivePeriod: Period.optional(),
  dosage: z.array(Dosage).max(10).optional(),
  reasonCode: z.array(Concept).max(10).optional(),
  note: z.array(Annotation).max(50).optional(),
});
export type MedicationStatementRecord = z.infer<typeof MedicationStatementRecord>;

export const medicationStatement = defineKind({ kind: 'MedicationStatement', schema: MedicationStatementRecord, schemaVersion: 1 });
