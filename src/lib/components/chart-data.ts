/**
 * Pure data shaping for TrendChart: kept out of the component so it can be unit-tested without a
 * DOM, and so the chart, the accessible table and the aria-label summary all read the same numbers.
 */

export type PointFlag = 'high' | 'low';

export interface TrendPoint {
  /** Milliseconds since the epoch. */
  t: number;
  v: number;
  /** Outside its range (decided by the state layer's ranges.ts; drawn and written, never only coloured). */
  flag?: PointFlag;
}
export interface TrendSeries {
  label: string;
  points: readonly TrendPoint[];
}
export interface ReferenceRange {
  low?: number;
  high?: number;
}

/** uPlot's AlignedData shape: one shared, ascending x array, then one y array per series. */
export type Aligned = [xs: number[], ...ys: (number | null)[][]];

/**
 * Merges every series onto one sorted timeline (uPlot needs a single x array), with `null` where
 * a series has no reading at that instant. Non-finite times or values are dropped. Two readings of
 * one series at the same millisecond cannot both be drawn: the later one in input order wins,
 * which is what a re-saved or re-synced reading means.
 */
export function alignSeries(series: readonly TrendSeries[]): Aligned {
  const perSeries = series.map((s) => {
    const m = new Map<number, number>();
    for (const p of s.points) if (Number.isFinite(p.t) && Number.isFinite(p.v)) m.set(p.t, p.v);
    return m;
  });
  const xs = [...new Set(perSeries.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  return [xs, ...perSeries.map((m) => xs.map((t) => m.get(t) ?? null))];
}

/** Each series' flags on the aligned timeline (null: in range, no range, or no reading), same rules as alignSeries. */
export function alignFlags(series: readonly TrendSeries[], xs: readonly number[]): (PointFlag | null)[][] {
  return series.map((s) => {
    const m = new Map<number, PointFlag | null>();
    for (const p of s.points) if (Number.isFinite(p.t) && Number.isFinite(p.v)) m.set(p.t, p.flag ?? null);
    return xs.map((t) => m.get(t) ?? null);
  });
}

/** Table rows, newest first (what people look for), one cell per series, with its flag. */
export function tableRows(aligned: Aligned, flags: (PointFlag | null)[][] = []): { t: number; values: (number | null)[]; flags: (PointFlag | null)[] }[] {
  const [xs, ...ys] = aligned;
  return xs.map((t, i) => ({ t, values: ys.map((y) => y[i] ?? null), flags: ys.map((_, s) => flags[s]?.[i] ?? null) })).reverse();
}

/** How many readings (instants) have a flagged value, for the sentence under the chart. */
export function flaggedCount(flags: (PointFlag | null)[][]): number {
  const n = Math.max(0, ...flags.map((f) => f.length));
  let count = 0;
  for (let i = 0; i < n; i++) if (flags.some((f) => f[i])) count++;
  return count;
}

export const FLAG_WORD: Readonly<Record<PointFlag, string>> = { high: 'High', low: 'Low' };

/**
 * Y-axis limits: the data plus the reference bounds (a lab value is read against its range, so
 * the band must be on screen), padded so points do not sit on the frame. A flat series gets a
 * visible span instead of uPlot's zero-height scale.
 */
export function yRange(min: number | null, max: number | null, ref?: ReferenceRange): [number, number] {
  const vals = [min, max, ref?.low, ref?.high].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (vals.length === 0) return [0, 1];
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const pad = hi > lo ? (hi - lo) * 0.1 : Math.max(1, Math.abs(lo) * 0.05);
  return [lo - pad, hi + pad];
}

const HALF_DAY = 12 * 3600_000;
/** X-axis limits: a single reading gets a day around it, otherwise the time scale collapses. */
export function xRange(min: number | null, max: number | null): [number, number] {
  if (min == null || max == null) return [0, 1];
  return max > min ? [min, max] : [min - HALF_DAY, max + HALF_DAY];
}

export interface FormatOptions {
  locale?: string;
  timeZone?: string;
}

export function formatValue(v: number, unit: string, o: FormatOptions = {}): string {
  const n = new Intl.NumberFormat(o.locale, { maximumFractionDigits: 2 }).format(v);
  return unit ? `${n} ${unit}` : n;
}

export function formatDate(t: number, o: FormatOptions = {}): string {
  return new Intl.DateTimeFormat(o.locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: o.timeZone }).format(t);
}

export function formatDateTime(t: number, o: FormatOptions = {}): string {
  return new Intl.DateTimeFormat(o.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: o.timeZone }).format(t);
}

/**
 * One sentence for the figure's aria-label, e.g. "Weight, 12 readings, latest 71.2 kg on
 * 3 Nov 2026". Several series (systolic + diastolic) count readings per instant and name each
 * latest value, since a blood-pressure reading is one event with two numbers.
 */
export function summarize(title: string, unit: string, series: readonly TrendSeries[], ref?: ReferenceRange, o: FormatOptions = {}): string {
  const [xs, ...ys] = alignSeries(series);
  const last = xs.length - 1;
  if (last < 0) return `${title}, no readings yet`;
  const count = `${xs.length} ${xs.length === 1 ? 'reading' : 'readings'}`;
  const flags = alignFlags(series, xs);
  const latest = ys
    .map((y, i) => ({ label: series[i]!.label, v: y[last], flag: flags[i]![last] }))
    .filter((c): c is { label: string; v: number; flag: PointFlag | null } => c.v != null)
    .map((c) => `${ys.length > 1 ? `${c.label} ` : ''}${formatValue(c.v, unit, o)}${c.flag ? ` (${FLAG_WORD[c.flag].toLowerCase()})` : ''}`)
    .join(', ');
  let s = `${title}, ${count}, latest ${latest} on ${formatDate(xs[last]!, o)}`;
  const range = describeRange(ref, unit, o);
  if (range) s += `, reference range ${range}`;
  const outside = flaggedCount(flags);
  if (outside > 0) s += `, ${outside} ${outside === 1 ? 'reading' : 'readings'} outside the range`;
  return s;
}

/** "3.5–5 mmol/L", "below 200 mg/dL", "above 60 mL/min", or '' when there is no usable bound. */
export function describeRange(ref: ReferenceRange | undefined, unit: string, o: FormatOptions = {}): string {
  const num = (v: number) => new Intl.NumberFormat(o.locale, { maximumFractionDigits: 2 }).format(v);
  const low = Number.isFinite(ref?.low) ? ref!.low! : undefined;
  const high = Number.isFinite(ref?.high) ? ref!.high! : undefined;
  const u = unit ? ` ${unit}` : '';
  if (low != null && high != null) return `${num(Math.min(low, high))}–${num(Math.max(low, high))}${u}`;
  if (high != null) return `below ${num(high)}${u}`;
  if (low != null) return `above ${num(low)}${u}`;
  return '';
}
