/**
 * Plausibility limits for vital signs: the one place that says which readings cannot be true of a
 * living person (a diastolic pressure of 300 mmHg is a typing slip, not a measurement). The
 * limits are each vital's `range` in vitals.ts (its first unit); a reading in another allowed
 * unit is converted first, so 154 lb passes and 1540 kg does not.
 *
 * Deliberately generous: these catch impossible values only. Whether a possible value is
 * worrying is the reference ranges' job (src/lib/state/ranges.ts), which flags and never refuses.
 *
 * Issues carry the fixed code VITAL_IMPLAUSIBLE (docs/errors.md 224) and a message built from
 * the limits alone, never from the value typed.
 */
import type { Quantity } from './common.ts';

/** What the limits need of a vital's spec (vitals.ts VitalSpec has it; named here so vitals.ts can import this module). */
export interface LimitSpec {
  readonly display: string;
  readonly units: readonly [string, ...string[]];
  readonly range: readonly [number, number];
}

export const IMPLAUSIBLE = 'VITAL_IMPLAUSIBLE' as const;

/** Each allowed non-default UCUM unit to and from its vital's first unit (kg, cm, Cel). */
const CONVERSIONS: Readonly<Record<string, { toFirst: (v: number) => number; fromFirst: (v: number) => number }>> = {
  '[lb_av]': { toFirst: (v) => v * 0.45359237, fromFirst: (v) => v / 0.45359237 },
  g: { toFirst: (v) => v / 1000, fromFirst: (v) => v * 1000 },
  '[in_i]': { toFirst: (v) => v * 2.54, fromFirst: (v) => v / 2.54 },
  m: { toFirst: (v) => v * 100, fromFirst: (v) => v / 100 },
  '[degF]': { toFirst: (v) => ((v - 32) * 5) / 9, fromFirst: (v) => (v * 9) / 5 + 32 },
};

/** `v` (in UCUM `unit`, one the spec allows) in the spec's first unit; undefined for a unit it does not allow. */
export function toFirstUnit(spec: LimitSpec, v: number, unit: string | undefined): number | undefined {
  if (unit === spec.units[0]) return v;
  if (unit === undefined || !(spec.units as readonly string[]).includes(unit)) return undefined;
  const c = CONVERSIONS[unit];
  return c ? c.toFirst(v) : undefined;
}

/** `v` in the spec's first unit expressed in `unit` (one the spec allows). */
export function fromFirstUnit(spec: LimitSpec, v: number, unit: string): number {
  const c = unit === spec.units[0] ? undefined : CONVERSIONS[unit];
  return c ? c.fromFirst(v) : v;
}

/** The spec's limits expressed in `unit` (rounded to 1 decimal for the message). */
export function limitsIn(spec: LimitSpec, unit: string): readonly [number, number] {
  const conv = (v: number) => Math.round(fromFirstUnit(spec, v, unit) * 10) / 10;
  return [conv(spec.range[0]), conv(spec.range[1])];
}

/** Human names of UCUM codes for messages ("mmHg", not "mm[Hg]"). */
const UNIT_TEXT: Readonly<Record<string, string>> = { 'mm[Hg]': 'mmHg', '/min': 'per minute', '[lb_av]': 'lb', '[in_i]': 'in', Cel: '°C', '[degF]': '°F' };
export const unitText = (code: string): string => UNIT_TEXT[code] ?? code;

export interface PlausibilityProblem {
  readonly code: typeof IMPLAUSIBLE;
  readonly message: string;
}

/**
 * Why `q` cannot be a reading of `spec`, or undefined when it can (or when its unit is not one
 * the spec allows: the unit check reports that). Limits are inclusive.
 */
export function implausible(spec: LimitSpec, q: Quantity | undefined): PlausibilityProblem | undefined {
  if (!q || !Number.isFinite(q.value)) return undefined;
  const unit = q.code ?? spec.units[0];
  const v = toFirstUnit(spec, q.value, unit);
  if (v === undefined) return undefined;
  // A hair of tolerance so a limit typed in another unit (e.g. 113 °F for 45 °C) is not refused by rounding.
  const eps = 1e-9 * Math.max(1, Math.abs(spec.range[1]));
  if (v >= spec.range[0] - eps && v <= spec.range[1] + eps) return undefined;
  const [lo, hi] = limitsIn(spec, unit);
  return { code: IMPLAUSIBLE, message: `implausible: ${spec.display.toLowerCase()} must be between ${lo} and ${hi} ${unitText(unit)}` };
}

/** A blood pressure whose diastolic is not below its systolic cannot be true. */
export function implausiblePressure(systolic: number | undefined, diastolic: number | undefined): PlausibilityProblem | undefined {
  if (systolic === undefined || diastolic === undefined || !Number.isFinite(systolic) || !Number.isFinite(diastolic)) return undefined;
  return diastolic < systolic ? undefined : { code: IMPLAUSIBLE, message: 'implausible: the diastolic (lower) pressure must be below the systolic (upper) one' };
}
