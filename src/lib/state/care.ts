/**
 * What a carer looks at, derived from a profile's records: key allergies and alerts, today's
 * doses (and recording them), the emergency card, vitals and lab trends. Functions over the
 * profile state, so screens and the overview compute them the same way.
 */
import type { SectionName, SectionRecord } from '../vault/app.ts';
import { emergencyCard as buildCard, type EmergencyCardData } from './emergency.ts';
import { toFhirDateTime } from './fhir-time.ts';
import { asNeeded, doseEntry, dosesForDay, type AsNeededMedication, type DoseSlot } from './schedule.ts';
import { labTrends as buildLabTrends, vitalTrends as buildVitalTrends, type TrendGroup } from './trends.ts';

/** The part of ProfileState these need. */
export interface CareSource {
  list<S extends SectionName>(section: S): SectionRecord<S>[];
  put(section: SectionName, record: object): boolean;
  readonly me: string;
}

/** Active allergies by name (the overview's first warning). */
export const keyAllergies = (p: CareSource): string[] =>
  p
    .list('allergies')
    .filter((a) => !a.clinicalStatus?.coding?.some((c) => c.code !== 'active'))
    .map((a) => a.code.text);

export const activeAlerts = (p: CareSource): string[] =>
  p
    .list('alerts')
    .filter((f) => f.status === 'active')
    .map((f) => f.code.text);

export const doseSlots = (p: CareSource, now: Date): DoseSlot[] => dosesForDay(p.list('medications'), p.list('list:doses'), now);

/** Doses due or overdue now (the overview's badge). */
export const dosesNeedingAttention = (p: CareSource, now: Date): number =>
  doseSlots(p, now).filter((s) => s.state === 'due' || s.state === 'overdue').length;

export const asNeededMedications = (p: CareSource, now = new Date()): AsNeededMedication[] => asNeeded(p.list('medications'), now);

export function recordDose(p: CareSource, slot: DoseSlot, status: 'taken' | 'skipped', now = new Date()): boolean {
  return p.put('list:doses', doseEntry(slot, status, { by: p.me, now, newId: () => crypto.randomUUID() }));
}

/** An as-needed dose taken now. */
export function recordAsNeeded(p: CareSource, medicationId: string, now = new Date()): boolean {
  const med = asNeededMedications(p, now).find((m) => m.medicationId === medicationId);
  if (!med) return false;
  const at = toFhirDateTime(now);
  return recordDose(p, { ...med, scheduledFor: at, time: at.slice(11, 16), state: 'due' }, 'taken', now);
}

export const emergencyCard = (p: CareSource, now: Date): EmergencyCardData =>
  buildCard(
    {
      demographics: p.list('demographics')[0],
      allergies: p.list('allergies'),
      conditions: p.list('conditions'),
      medications: p.list('medications'),
      blood: p.list('blood-donor')[0],
      alerts: p.list('alerts'),
      careTeam: p.list('care-team'),
      devices: p.list('devices'),
    },
    now,
  );

export const vitalTrends = (p: CareSource): TrendGroup[] => buildVitalTrends(p.list('list:vitals'));
export const labTrends = (p: CareSource): TrendGroup[] => buildLabTrends(p.list('lab-results'));
