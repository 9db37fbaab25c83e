/** Visits: GP appointments, ER trips, hospital stays (FHIR Encounter). */
import { z } from 'zod';
import { Coding, Concept, defineKind, Period, recordBase, Reference } from './common.ts';

/** v3 ActCode classes a family records: ambulatory, emergency, inpatient, home health, virtual. */
export const ENCOUNTER_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export const EncounterRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Encounter'),
  status: z.enum(['planned', 'arrived', 'triaged', 'in-progress', 'onleave', 'finished', 'cancelled', 'entered-in-error', 'unknown']),
  class: Coding.extend({ system: z.literal(ENCOUNTER_CLASS), code: z.enum(['AMB', 'EMER', 'IMP', 'HH', 'VR', 'OBSENC', 'SS']) }),
  /** What the visit was: free text always ("annual check-up"). */
  type: z.array(Concept).min(1).max(5),
  period: Period.optional(),
  /** Who was seen: references into `care-team` (`care-team/<id>`) and/or names. */
  participant: z.array(z.looseObject({ individual: Reference })).max(20).optional(),
  reasonCode: z.array(Concept).max(10).optional(),
  serviceProvider: Reference.optional(),
  location: z.array(z.looseObject({ location: Reference })).max(5).optional(),
});
export type EncounterRecord = z.infer<typeof EncounterRecord>;

export const encounter = defineKind({ kind: 'Encounter', schema: EncounterRecord, schemaVersion: 1 });
