/**
 * The PDF content builders as pure functions, without rendering: trend rows (latest, previous,
 * direction, out-of-range), schedules in words, and the document definitions' sections.
 */
import { describe, expect, it } from 'vitest';
import type { EmergencyCardContent } from '../../src/lib/interop/pdf/card-content.ts';
import { emergencyCardDocument } from '../../src/lib/interop/pdf/emergency-card.ts';
import { NONE_RECORDED } from '../../src/lib/interop/pdf/layout.ts';
import { scheduleText } from '../../src/lib/interop/pdf/schedule-text.ts';
import { trendRows, type TrendGroupContent } from '../../src/lib/interop/pdf/trend-rows.ts';
import { visitSummaryDocument, type VisitSummaryInput } from '../../src/lib/interop/pdf/visit-summary.ts';

const day = (d: string) => new Date(`${d}T12:00:00`).getTime();
const EMPTY_CARD: EmergencyCardContent = { name: '', allergies: [], conditions: [], medications: [], devices: [], alerts: [], contacts: [] };
const EMPTY: VisitSummaryInput = { card: EMPTY_CARD, medications: [], immunizations: [], vitals: [], labs: [] };

/** Every string anywhere in a document definition, in order. */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => (k === 'style' || k === 'layout' || k === 'styles' ? [] : strings(v)));
  return [];
}

describe('trend rows', () => {
  const group = (points: [string, number][], referenceRange?: TrendGroupContent['referenceRange']): TrendGroupContent => ({
    title: 'Heart rate',
    unit: 'bpm',
    series: [{ label: 'Heart rate', points: points.map(([d, v]) => ({ t: day(d), v })) }],
    ...(referenceRange ? { referenceRange } : {}),
  });

  it('latest and previous by time whatever the input order, with the direction between them', () => {
    const [row] = trendRows([group([['2026-11-25', 72], ['2026-10-01', 90], ['2026-11-01', 80]], { low: 60, high: 100 })]);
    expect(row).toEqual({ title: 'Heart rate', unit: 'bpm', latest: '72', latestOn: '2026-11-25', previous: '80', direction: 'falling', range: '60–100' });
    expect(trendRows([group([['2026-11-01', 80], ['2026-11-02', 81]])])[0]!.direction).toBe('rising');
    expect(trendRows([group([['2026-11-01', 80]])])[0]).toEqual({ title: 'Heart rate', unit: 'bpm', latest: '80', latestOn: '2026-11-01', direction: 'first reading' });
  });

  it('a change hidden by rounding to two decimals is steady; long fractions are rounded', () => {
    const [row] = trendRows([group([['2026-11-01', 70.3049], ['2026-11-02', 70.3012]])]);
    expect([row!.latest, row!.previous, row!.direction]).toEqual(['70.3', '70.3', 'steady']);
  });

  it('out of range: above high, below low, on the bound is inside; one-sided ranges read ≥ / ≤', () => {
    expect(trendRows([group([['2026-11-01', 101]], { low: 60, high: 100 })])[0]!.outOfRange).toBe('high');
    expect(trendRows([group([['2026-11-01', 59]], { low: 60, high: 100 })])[0]!.outOfRange).toBe('low');
    expect(trendRows([group([['2026-11-01', 100]], { low: 60, high: 100 })])[0]!.outOfRange).toBeUndefined();
    expect(trendRows([group([['2026-11-01', 30]], { low: 40 })])[0]).toMatchObject({ outOfRange: 'low', range: '≥ 40' });
    expect(trendRows([group([['2026-11-01', 3]], { high: 5.6 })])[0]).toMatchObject({ range: '≤ 5.6' });
    expect(trendRows([group([['2026-11-01', 3]])])[0]!.outOfRange).toBeUndefined();
  });

  it('a group of several series gives one row per series, each judged by its own range', () => {
    const bp: TrendGroupContent = {
      title: 'Blood pressure',
      unit: 'mmHg',
      series: [
        { label: 'Systolic', points: [{ t: day('2026-11-01'), v: 125 }], referenceRange: { low: 90, high: 120 } },
        { label: 'Diastolic', points: [{ t: day('2026-11-01'), v: 78 }], referenceRange: { low: 60, high: 80 } },
        { label: 'Empty', points: [] },
      ],
    };
    expect(trendRows([bp]).map((r) => [r.title, r.outOfRange])).toEqual([
      ['Blood pressure, systolic', 'high'],
      ['Blood pressure, diastolic', undefined],
    ]);
  });
});

describe('schedules in words', () => {
  const s = (repeat: object, extra: object = {}) => scheduleText({ dosage: [{ text: 'x', timing: { repeat }, ...extra }] as never });
  it('frequency per period, times of day, events, weekdays, as needed', () => {
    expect(s({ frequency: 2, period: 1, periodUnit: 'd' })).toBe('2 times a day');
    expect(s({ frequency: 1, period: 1, periodUnit: 'd' })).toBe('once a day');
    expect(s({ frequency: 1, period: 8, periodUnit: 'h' })).toBe('every 8 hours');
    expect(s({ frequency: 3, period: 2, periodUnit: 'wk' })).toBe('3 times every 2 weeks');
    expect(s({ timeOfDay: ['08:00:00', '20:30:00'] })).toBe('at 08:00, 20:30');
    expect(s({ when: ['MORN', 'HS'] })).toBe('morning, bedtime');
    expect(s({ frequency: 1, period: 1, periodUnit: 'wk', dayOfWeek: ['mon', 'thu'] })).toBe('once a week; Mon, Thu');
    expect(s({}, { asNeededBoolean: true })).toBe('as needed');
    expect(scheduleText({})).toBe('');
    expect(scheduleText({ dosage: [{ text: 'as written only' }] as never })).toBe('');
  });
});

describe('document definitions', () => {
  it('an empty profile: every section of the visit summary says "None recorded"; the same input gives the same definition', () => {
    const doc = visitSummaryDocument(EMPTY, '2026-12-02');
    expect(strings(doc.content).filter((t) => t === NONE_RECORDED)).toHaveLength(6);
    expect(JSON.stringify(visitSummaryDocument(EMPTY, '2026-12-02'))).toBe(JSON.stringify(doc));
    expect(doc.info?.title).toBe('Visit summary');
  });

  it('the visit summary lists what it is given, the person in the header and never in the metadata', () => {
    const card: EmergencyCardContent = {
      ...EMPTY_CARD,
      name: 'Zoë Test',
      birthDate: '1980-04-15',
      allergies: [{ substance: 'Peanut', reactions: ['Hives'], severity: 'moderate', criticality: 'low', unconfirmed: true }],
      conditions: [{ text: 'Asthma', detail: 'mild' }],
      medications: [{ id: 'm1', name: 'Salbutamol', dose: '2 puffs', asNeeded: true }],
    };
    const doc = visitSummaryDocument({ ...EMPTY, card, medications: [{ id: 'm1', dosage: [{ text: '2 puffs', asNeededBoolean: true }] }] }, '2026-12-02');
    const text = strings(doc.content);
    for (const s of ['Zoë Test', '1980-04-15', 'Peanut', 'Hives', 'moderate', 'low criticality, unconfirmed', 'Asthma', 'mild', 'Salbutamol', '2 puffs', 'as needed']) expect(text).toContain(s);
    expect(text.filter((t) => t === NONE_RECORDED)).toHaveLength(3);
    expect(JSON.stringify(doc.info)).not.toContain('Zoë');
  });

  it('the emergency card lists contacts and the family doctor; an empty card says "None recorded" in each section', () => {
    expect(strings(emergencyCardDocument(EMPTY_CARD, '2026-12-02').content).filter((t) => t === NONE_RECORDED)).toHaveLength(6);
    const doc = emergencyCardDocument({ ...EMPTY_CARD, contacts: [{ name: 'Ana', relationship: 'Sister', phone: '+1 555' }], primaryCare: { name: 'Dr Lee', phone: '+1 556' } }, '2026-12-02');
    const text = strings(doc.content);
    for (const s of ['Ana', 'Sister', '+1 555', 'Dr Lee', 'Family doctor', '+1 556']) expect(text).toContain(s);
  });
});
