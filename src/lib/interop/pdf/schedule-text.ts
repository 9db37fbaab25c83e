/**
 * A medication's structured schedule (FHIR Dosage.timing) in words for the visit summary: "2 times
 * a day", "every 8 hours", "at 08:00, 20:00", "morning, bedtime", "Mon, Thu", "as needed". The
 * dosage text the person wrote stays beside it; this is the part a clinician checks against it.
 */
import type { MedicationStatementRecord } from '../../../../crdt-schemas/health/index.ts';

type Dosage = NonNullable<MedicationStatementRecord['dosage']>[number];

const UNIT = { s: 'second', min: 'minute', h: 'hour', d: 'day', wk: 'week', mo: 'month', a: 'year' } as const;
const WHEN: Record<string, string> = {
  MORN: 'morning', NOON: 'noon', AFT: 'afternoon', EVE: 'evening', NIGHT: 'night', PHS: 'after sleep', HS: 'bedtime', WAKE: 'on waking',
  C: 'with meals', CM: 'with breakfast', CD: 'with lunch', CV: 'with dinner', AC: 'before meals', ACM: 'before breakfast', ACD: 'before lunch',
  ACV: 'before dinner', PC: 'after meals', PCM: 'after breakfast', PCD: 'after lunch', PCV: 'after dinner',
};

function one(d: Dosage): string {
  const r = d.timing?.repeat;
  const parts: string[] = [];
  if (r?.frequency !== undefined || r?.period !== undefined) {
    const unit = UNIT[r.periodUnit ?? 'd'];
    const period = r.period ?? 1;
    const every = period === 1 ? `a ${unit}` : `every ${formatNumber(period)} ${unit}s`;
    const times = r.frequency ?? 1;
    parts.push(times === 1 ? (period === 1 ? `once ${every}` : every) : `${times} times ${every}`);
  }
  if (r?.timeOfDay?.length) parts.push(`at ${r.timeOfDay.map((t) => t.slice(0, 5)).join(', ')}`);
  if (r?.when?.length) parts.push(r.when.map((w) => WHEN[w] ?? w).join(', '));
  if (r?.dayOfWeek?.length) parts.push(r.dayOfWeek.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(', '));
  if (d.asNeededBoolean) parts.push('as needed');
  return parts.join('; ');
}

const formatNumber = (n: number) => String(Number(n.toFixed(2)));

/** Every dosage's schedule, "; "-joined; '' when none is structured. */
export function scheduleText(m: Pick<MedicationStatementRecord, 'dosage'>): string {
  return (m.dosage ?? []).map(one).filter(Boolean).join(' / ');
}
