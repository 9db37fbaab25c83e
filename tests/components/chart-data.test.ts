/**
 * TrendChart's data shaping: the chart, its table and its aria-label all come from these
 * functions, so the alignment and the wording are checked here rather than in a DOM.
 */
import { describe, expect, it } from 'vitest';
import {
  alignFlags,
  alignSeries,
  flaggedCount,
  describeRange,
  formatDateTime,
  summarize,
  tableRows,
  xRange,
  yRange,
  type TrendSeries,
} from '../../src/lib/components/chart-data.ts';

const GB = { locale: 'en-GB', timeZone: 'UTC' };
const day = (d: number) => Date.UTC(2026, 10, d, 8, 0); // d November 2026, 08:00 UTC

describe('alignSeries', () => {
  it('merges timelines with nulls where a series has no reading', () => {
    const series: TrendSeries[] = [
      { label: 'Systolic', points: [{ t: 1000, v: 120 }, { t: 3000, v: 118 }] },
      { label: 'Diastolic', points: [{ t: 2000, v: 79 }, { t: 3000, v: 77 }] },
    ];
    expect(alignSeries(series)).toEqual([
      [1000, 2000, 3000],
      [120, null, 118],
      [null, 79, 77],
    ]);
  });

  it('sorts out-of-order points and keeps each value with its own time', () => {
    const series: TrendSeries[] = [{ label: 'Weight', points: [{ t: 30, v: 3 }, { t: 10, v: 1 }, { t: 20, v: 2 }] }];
    expect(alignSeries(series)).toEqual([
      [10, 20, 30],
      [1, 2, 3],
    ]);
  });

  it('a duplicate timestamp in one series keeps the later reading; across series it is one instant', () => {
    const series: TrendSeries[] = [
      { label: 'A', points: [{ t: 5, v: 1 }, { t: 5, v: 2 }] },
      { label: 'B', points: [{ t: 5, v: 9 }] },
    ];
    expect(alignSeries(series)).toEqual([[5], [2], [9]]);
  });

  it('drops non-finite times and values', () => {
    const series: TrendSeries[] = [{ label: 'A', points: [{ t: Number.NaN, v: 1 }, { t: 1, v: Number.POSITIVE_INFINITY }, { t: 2, v: 4 }] }];
    expect(alignSeries(series)).toEqual([[2], [4]]);
  });

  it('empty input gives an empty timeline with one (empty) column per series', () => {
    expect(alignSeries([])).toEqual([[]]);
    expect(alignSeries([{ label: 'Weight', points: [] }])).toEqual([[], []]);
  });

  it('a series without readings next to one with readings is all nulls', () => {
    expect(alignSeries([{ label: 'A', points: [{ t: 1, v: 1 }] }, { label: 'B', points: [] }])).toEqual([[1], [1], [null]]);
  });
});

describe('tableRows', () => {
  it('lists instants newest first with one cell per series', () => {
    const aligned = alignSeries([
      { label: 'Sys', points: [{ t: 1, v: 120 }, { t: 2, v: 121 }] },
      { label: 'Dia', points: [{ t: 2, v: 80 }] },
    ]);
    expect(tableRows(aligned)).toEqual([
      { t: 2, values: [121, 80], flags: [null, null] },
      { t: 1, values: [120, null], flags: [null, null] },
    ]);
  });

  it('carries each flagged reading into its cell, counts flagged instants, and says so in the summary', () => {
    const series = [
      { label: 'Sys', points: [{ t: 1, v: 118 }, { t: 2, v: 150, flag: 'high' as const }] },
      { label: 'Dia', points: [{ t: 1, v: 50, flag: 'low' as const }, { t: 2, v: 95, flag: 'high' as const }] },
    ];
    const aligned = alignSeries(series);
    const flags = alignFlags(series, aligned[0]);
    expect(tableRows(aligned, flags).map((r) => r.flags)).toEqual([
      ['high', 'high'],
      [null, 'low'],
    ]);
    expect(flaggedCount(flags)).toBe(2);
    expect(flaggedCount(alignFlags([{ label: 'x', points: [{ t: 1, v: 1 }] }], [1]))).toBe(0);
    const s = summarize('Blood pressure', 'mmHg', series, undefined, { locale: 'en-GB', timeZone: 'UTC' });
    expect(s).toContain('latest Sys 150 mmHg (high), Dia 95 mmHg (high)');
    expect(s).toContain('2 readings outside the range');
  });
});

describe('scale ranges', () => {
  it('y includes the reference bounds, padded by 10% of the span', () => {
    const close = ([a, b]: [number, number], [x, y]: [number, number]) => {
      expect(a).toBeCloseTo(x, 9);
      expect(b).toBeCloseTo(y, 9);
    };
    close(yRange(4, 5, { low: 3, high: 7 }), [2.6, 7.4]);
    close(yRange(70, 72), [69.8, 72.2]);
    close(yRange(4, 5, { high: 4.5 }), [3.9, 5.1]); // a bound inside the data changes nothing
  });

  it('y gives a flat series a visible span, and an empty one a harmless default', () => {
    expect(yRange(100, 100)).toEqual([95, 105]);
    expect(yRange(0, 0)).toEqual([-1, 1]);
    expect(yRange(null, null)).toEqual([0, 1]);
  });

  it('x widens a single reading to a day around it', () => {
    expect(xRange(day(3), day(3))).toEqual([day(3) - 12 * 3600_000, day(3) + 12 * 3600_000]);
    expect(xRange(day(1), day(3))).toEqual([day(1), day(3)]);
  });
});

describe('summary for the aria-label', () => {
  const weights = (n: number): TrendSeries => ({
    label: 'Weight',
    points: Array.from({ length: n }, (_, i) => ({ t: day(3 - (n - 1 - i)), v: 70 + i / 10 })),
  });

  it('one series: count, latest value with unit and date', () => {
    const s = weights(12);
    (s.points as { t: number; v: number }[])[11]!.v = 71.2;
    expect(summarize('Weight', 'kg', [s], undefined, GB)).toBe('Weight, 12 readings, latest 71.2 kg on 3 Nov 2026');
  });

  it('singular reading, and no readings', () => {
    expect(summarize('Weight', 'kg', [weights(1)], undefined, GB)).toBe('Weight, 1 reading, latest 70 kg on 3 Nov 2026');
    expect(summarize('Weight', 'kg', [{ label: 'Weight', points: [] }], undefined, GB)).toBe('Weight, no readings yet');
    expect(summarize('Weight', 'kg', [], undefined, GB)).toBe('Weight, no readings yet');
  });

  it('several series: readings counted per instant, each latest value named', () => {
    const bp: TrendSeries[] = [
      { label: 'Systolic', points: [{ t: day(1), v: 125 }, { t: day(2), v: 121 }] },
      { label: 'Diastolic', points: [{ t: day(1), v: 82 }, { t: day(2), v: 79 }] },
    ];
    expect(summarize('Blood pressure', 'mmHg', bp, { high: 130 }, GB)).toBe(
      'Blood pressure, 2 readings, latest Systolic 121 mmHg, Diastolic 79 mmHg on 2 Nov 2026, reference range below 130 mmHg',
    );
  });

  it('describes reference ranges, whatever order the bounds come in', () => {
    expect(describeRange({ low: 3.5, high: 5 }, 'mmol/L', GB)).toBe('3.5–5 mmol/L');
    expect(describeRange({ low: 5, high: 3.5 }, 'mmol/L', GB)).toBe('3.5–5 mmol/L');
    expect(describeRange({ low: 60 }, 'mL/min', GB)).toBe('above 60 mL/min');
    expect(describeRange({ high: 200 }, '', GB)).toBe('below 200');
    expect(describeRange({}, 'kg', GB)).toBe('');
    expect(describeRange(undefined, 'kg', GB)).toBe('');
  });

  it('table dates carry the time, for several readings a day', () => {
    expect(formatDateTime(day(3), GB)).toBe('3 Nov 2026, 08:00');
  });
});
