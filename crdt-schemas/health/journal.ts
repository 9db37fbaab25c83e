/**
 * Symptom journal entries, appended to `list:journal`. App-specific (FHIR has no resource for a
 * patient diary; exported as Observations). Version 1 renamed v0's fields, which is the
 * migration every other kind will copy:
 *   v0 { symptom: string, intensity, time, notes?, triggers? }
 *   v1 { symptom: Concept, severity, at, notes?, triggers? }
 */
import { z } from 'zod';
import { Concept, defineKind, FhirDateTime, type Plain, recordBase } from './common.ts';

export const SymptomJournalEntry = z.looseObject({
  ...recordBase,
  /** The symptom: free text always, SNOMED CT when known. */
  symptom: Concept,
  /** 0 none … 10 worst imaginable. */
  severity: z.int().min(0).max(10),
  at: FhirDateTime,
  notes: z.string().max(4000).optional(),
  triggers: z.array(z.string().trim().min(1).max(200)).max(20).optional(),
});
export type SymptomJournalEntry = z.infer<typeof SymptomJournalEntry>;

function v0ToV1(data: Plain): Plain {
  const { intensity, time, symptom, ...rest } = data;
  return { ...rest, symptom: typeof symptom === 'string' ? { text: symptom } : symptom, severity: intensity, at: time };
}

export const symptomJournal = defineKind({ kind: 'SymptomJournalEntry', schema: SymptomJournalEntry, schemaVersion: 1, migrations: { 0: v0ToV1 } });
