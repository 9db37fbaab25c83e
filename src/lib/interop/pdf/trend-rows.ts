/**
 * Vitals and lab trends as summary rows: the latest reading, the one before, which way it moved,
 * and whether the latest falls outside its reference range. The input has the shape of the app's
 * trend read model (src/lib/state/trends.ts, `TrendGroup`: unit conversion, skipped statuses and
 * ranges are decided there), restated because interop may not import the state layer.
 */
export interface TrendRangeContent {
  low?: number;
  high?: number;
}

export interface TrendGroupContent {
  title: string;
  unit: string;
  series: readonly { label: string; points: readonly { t: number; v: number }[]; referenceRange?: TrendRangeContent }[];
  referenceRange?: TrendRangeContent;
}

export type Direction = 'rising' | 'falling' | 'steady' | 'first reading';

export interface TrendRow {
  title: string;
  unit: string;
  latest: string;
  /** Calendar day of the latest reading on the device's calendar (YYYY-MM-DD). */
  latestOn: string;
  previous?: string;
  direction: Direction;
  /** 'high' or 'low' when the latest reading is outside the range; absent when inside or no range. */
  outOfRange?: 'high' | 'low';
  /** "60–100", "≤ 5.6", "≥ 40": the range the flag was judged by. */
  range?: string;
}

/** At most two decimals, no trailing zeros: converted units (lb → kg) give long fractions. */
export const formatValue = (v: number): string => String(Number(v.toFixed(2)));

const pad = (n: number) => String(n).padStart(2, '0');
/** Local calendar day: the trend model places day-only readings at local midnight. */
export const localDay = (t: number): string => {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
};

function rangeText(r: TrendRangeContent | undefined): string | undefined {
  if (!r || (r.low === undefined && r.high === undefined)) return undefined;
  if (r.low !== undefined && r.high !== undefined) return `${formatValue(r.low)}–${formatValue(r.high)}`;
  return r.low !== undefined ? `≥ ${formatValue(r.low)}` : `≤ ${formatValue(r.high!)}`;
}

/** One row per series with at least one reading (blood pressure gives systolic and diastolic). */
export function trendRows(groups: readonly TrendGroupContent[]): TrendRow[] {
  const rows: TrendRow[] = [];
  for (const g of groups) {
    for (const s of g.series) {
      const points = [...s.points].sort((a, b) => a.t - b.t);
      const last = points.at(-1);
      if (!last) continue;
      const before = points.at(-2);
      const range = s.referenceRange ?? g.referenceRange;
      const row: TrendRow = {
        title: g.series.length > 1 ? `${g.title}, ${s.label.toLowerCase()}` : g.title,
        unit: g.unit,
        latest: formatValue(last.v),
        latestOn: localDay(last.t),
        direction: directionOf(before?.v, last.v),
      };
      if (before) row.previous = formatValue(before.v);
      if (range?.high !== undefined && last.v > range.high) row.outOfRange = 'high';
      else if (range?.low !== undefined && last.v < range.low) row.outOfRange = 'low';
      const text = rangeText(range);
      if (text) row.range = text;
      rows.push(row);
    }
  }
  return rows;
}

/** Compared as displayed: a change hidden by rounding is no change to the reader. */
function directionOf(previous: number | undefined, latest: number): Direction {
  if (previous === undefined) return 'first reading';
  const a = Number(previous.toFixed(2));
  const b = Number(latest.toFixed(2));
  return b > a ? 'rising' : b < a ? 'falling' : 'steady';
}
