/**
 * The profile overview as a caregiver reads it at a glance: critical allergies first, active
 * alerts and conditions, current medications with today's doses, the latest vital signs and
 * lab results with out-of-range flags, and who changed what lately. A pure read model over the
 * profile's validated records (no Yjs here, no Svelte): the same records and `now` give the
 * same overview, so it is tested without a browser.
 */
import type { HistoryEntry, SectionName, SectionRecord } from '../vault/app.ts';
import { ACTIVE_CONDITION_STATUSES, LOINC, type LabResultRecord, type VitalSignRecord } from '../vault/health.ts';
import { fhirSpan } from './fhir-time.ts';
import { describeFlag, labFlag, vitalReadings, type RangeFlag } from './ranges.ts';
import { dosesForDay, type DoseSlot } from './schedule.ts';
import { RECORD_SECTIONS } from './sections.ts';

export type { SectionName };

/** What the overview needs of a profile (ProfileState has it). */
export interface OverviewSource {
  list<S extends SectionName>(section: S): SectionRecord<S>[];
  recent(limit?: number): HistoryEntry[];
  nameOf(key: string): string;
}

export interface AllergyLine {
  readonly id: string;
  readonly substance: string;
  /** High criticality or a severe reaction: shown first and marked. */
  readonly critical: boolean;
  /** "High criticality", "Severe reaction": why it is critical, in words. */
  readonly why?: string;
  /** "Allergy · medication": type and categories. */
  readonly kind?: string;
  /** Reactions ("Hives, wheezing") with the description when one was written. */
  readonly reactions?: string;
}

export interface ConditionLine {
  readonly id: string;
  readonly name: string;
  readonly since?: string;
}

export interface MedicationLine {
  readonly id: string;
  readonly name: string;
  readonly dosage?: string;
  /** What it is taken for. */
  readonly reason?: string;
  readonly asNeeded: boolean;
  /** Today's scheduled doses of this medicine, by time. */
  readonly today: readonly DoseSlot[];
}

export interface MeasurementLine {
  /** Stable per kind: a vital's LOINC code, 'blood-pressure', or 'lab:…'. */
  readonly key: string;
  readonly label: string;
  /** "150/95 mmHg", "7.2 %". */
  readonly value: string;
  /** The reading's date-time as recorded (FHIR), for <time>. */
  readonly at?: string;
  readonly flag?: RangeFlag;
  /** "High: above the adult range 90–120 mmHg"; absent when in range or no range is known. */
  readonly flagText?: string;
  /** Which section the record is in, for the link. */
  readonly section: 'list:vitals' | 'lab-results';
}

export interface ChangeLine {
  readonly who: string;
  readonly verb: string;
  readonly section: SectionName | string;
  readonly at: string;
}

export interface Overview {
  readonly allergies: readonly AllergyLine[];
  readonly alerts: readonly string[];
  readonly conditions: readonly ConditionLine[];
  readonly medications: readonly MedicationLine[];
  readonly vitals: readonly MeasurementLine[];
  /** The latest result of each lab test. */
  readonly labs: readonly MeasurementLine[];
  readonly recent: readonly ChangeLine[];
  /** Record sections with nothing recorded: the compact "add" row. */
  readonly empty: readonly SectionName[];
  /** Record sections with something recorded, with their counts. */
  readonly counts: readonly { readonly section: SectionName; readonly count: number }[];
}

const VERB: Record<string, string> = { add: 'added', edit: 'changed', delete: 'deleted', undo: 'undid', redo: 'redid' };

export function overview(p: OverviewSource, now: Date, recentLimit = 6): Overview {
  const birthDate = p.list('demographics')[0]?.birthDate;
  const medications = p.list('medications');
  const slots = dosesForDay(medications, p.list('list:doses'), now);
  const counts = RECORD_SECTIONS.map((section) => ({ section, count: p.list(section).length }));
  return {
    allergies: allergyLines(p.list('allergies')),
    alerts: p
      .list('alerts')
      .filter((f) => f.status === 'active')
      .map((f) => f.code.text),
    conditions: p
      .list('conditions')
      .filter((c) => c.clinicalStatus.coding.some((x) => (ACTIVE_CONDITION_STATUSES as readonly string[]).includes(x.code)))
      .map((c) => ({ id: c.id, name: c.code.text, ...(c.onsetDateTime ? { since: c.onsetDateTime } : {}) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    medications: medications
      .filter((m) => m.status === 'active')
      .map((m) => {
        const reason = m.reasonCode?.map((r) => r.text).join(', ');
        const dosage = m.dosage?.map((d) => d.text).join('; ');
        return {
          id: m.id,
          name: m.medicationCodeableConcept.text,
          ...(dosage ? { dosage } : {}),
          ...(reason ? { reason } : {}),
          asNeeded: (m.dosage ?? []).some((d) => d.asNeededBoolean === true),
          today: slots.filter((s) => s.medicationId === m.id),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
    vitals: latestVitals(p.list('list:vitals'), birthDate),
    labs: latestLabs(p.list('lab-results')),
    recent: p.recent(recentLimit).map((h) => ({ who: p.nameOf(h.author), verb: VERB[h.action] ?? h.action, section: h.section, at: h.at })),
    empty: counts.filter((c) => c.count === 0).map((c) => c.section),
    counts: counts.filter((c) => c.count > 0),
  };
}

type Allergy = SectionRecord<'allergies'>;

/** Active allergies (an allergy without a status counts), critical ones first, then by name. */
export function allergyLines(allergies: readonly Allergy[]): AllergyLine[] {
  return allergies
    .filter((a) => !a.clinicalStatus || a.clinicalStatus.coding.some((c) => c.code === 'active'))
    .filter((a) => !a.verificationStatus?.coding.some((c) => c.code === 'refuted' || c.code === 'entered-in-error'))
    .map((a): AllergyLine => {
      const high = a.criticality === 'high';
      const severe = (a.reaction ?? []).some((r) => r.severity === 'severe');
      const why = [high && 'High criticality', severe && 'Severe reaction'].filter(Boolean).join(' · ');
      const kind = [a.type === 'intolerance' ? 'Intolerance' : a.type === 'allergy' ? 'Allergy' : '', ...(a.category ?? [])].filter(Boolean).join(' · ');
      const reactions = (a.reaction ?? [])
        .map((r) => [r.manifestation.map((m) => m.text).join(', '), r.description].filter(Boolean).join(': '))
        .filter(Boolean)
        .join('; ');
      return { id: a.id, substance: a.code.text, critical: high || severe, ...(why ? { why } : {}), ...(kind ? { kind } : {}), ...(reactions ? { reactions } : {}) };
    })
    .sort((a, b) => Number(b.critical) - Number(a.critical) || a.substance.localeCompare(b.substance));
}

const SKIPPED = new Set(['entered-in-error', 'cancelled']);
const timeOf = (when: string | undefined): number => fhirSpan(when)?.start ?? -Infinity;
const loincOf = (c: { coding?: { system?: string; code?: string }[] }): string | undefined => c.coding?.find((x) => x.system === LOINC && x.code)?.code;
const num = (v: number): string => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(v);

/** Display names and units of each vital's first unit. */
const VITAL_TEXT: Readonly<Record<string, { label: string; unit: string }>> = {
  '85354-9': { label: 'Blood pressure', unit: 'mmHg' },
  '8867-4': { label: 'Heart rate', unit: 'bpm' },
  '29463-7': { label: 'Weight', unit: 'kg' },
  '8302-2': { label: 'Height', unit: 'cm' },
  '2339-0': { label: 'Blood sugar', unit: 'mg/dL' },
  '15074-8': { label: 'Blood sugar', unit: 'mmol/L' },
  '2708-6': { label: 'Oxygen saturation', unit: '%' },
  '8310-5': { label: 'Temperature', unit: '°C' },
};

/** The latest reading of each vital (blood pressure as one line), with the worst flag of its numbers. */
export function latestVitals(vitals: readonly VitalSignRecord[], birthDate?: string): MeasurementLine[] {
  const latest = new Map<string, VitalSignRecord>();
  for (const r of vitals) {
    if (SKIPPED.has(r.status)) continue;
    const code = loincOf(r.code);
    if (!code || !VITAL_TEXT[code]) continue;
    const prev = latest.get(code);
    if (!prev || timeOf(r.effectiveDateTime) >= timeOf(prev.effectiveDateTime)) latest.set(code, r);
  }
  const out: MeasurementLine[] = [];
  for (const [code, r] of latest) {
    const readings = vitalReadings(r, birthDate);
    if (readings.length === 0) continue;
    const text = VITAL_TEXT[code]!;
    const value = `${readings.map((x) => num(x.value)).join('/')} ${text.unit}`;
    const flagged = readings.find((x) => x.flag);
    const flagText = flagged?.flag ? `${readings.length > 1 ? `${flagged.label} ` : ''}${describeFlag(flagged.flag, text.unit)}` : undefined;
    out.push({
      key: code === '85354-9' ? 'blood-pressure' : code,
      label: text.label,
      value,
      at: r.effectiveDateTime,
      section: 'list:vitals',
      ...(flagged?.flag ? { flag: flagged.flag, flagText: flagText! } : {}),
    });
  }
  return out.sort((a, b) => a.label.localeCompare(b.label) || a.key.localeCompare(b.key));
}

/** The latest result of each test (by LOINC code, else its text), flagged against its own range. */
export function latestLabs(labs: readonly LabResultRecord[]): MeasurementLine[] {
  const latest = new Map<string, LabResultRecord>();
  for (const r of labs) {
    if (SKIPPED.has(r.status)) continue;
    const code = loincOf(r.code);
    const key = `lab:${code ? `loinc:${code}` : `text:${r.code.text.trim().toLowerCase()}`}`;
    const prev = latest.get(key);
    if (!prev || timeOf(r.effectiveDateTime ?? r.issued) >= timeOf(prev.effectiveDateTime ?? prev.issued)) latest.set(key, r);
  }
  return [...latest]
    .map(([key, r]): MeasurementLine => {
      const q = r.valueQuantity;
      const unit = q?.unit ?? q?.code ?? '';
      const value = q ? `${num(q.value)}${unit ? ` ${unit}` : ''}` : (r.valueString ?? r.valueCodeableConcept?.text ?? '');
      const flag = labFlag(r);
      const at = r.effectiveDateTime ?? r.issued;
      return { key, label: r.code.text, value, section: 'lab-results', ...(at ? { at } : {}), ...(flag ? { flag, flagText: describeFlag(flag, unit) } : {}) };
    })
    .sort((a, b) => Number(!!b.flag) - Number(!!a.flag) || a.label.localeCompare(b.label));
}
