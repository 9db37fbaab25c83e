/**
 * FHIR R4 data types read from untrusted JSON into the shapes the profile's schemas take
 * (crdt-schemas/health/common.ts). Each helper returns undefined for what it cannot read: the
 * section's schema then decides whether the record stands without it. Nothing here throws.
 */
import { UCUM } from '../../../../crdt-schemas/health/common.ts';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const objects = (v: unknown): Json[] => arr(v).filter(isObject);

/** Drops undefined fields and empty arrays, so optional schema fields are absent rather than empty. */
export function clean<T extends Json>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as T;
}

/** `v` if it is one of `allowed`. */
export function oneOf<const T extends string>(v: unknown, allowed: readonly T[]): T | undefined {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}

export function coding(v: unknown): Json | undefined {
  if (!isObject(v)) return undefined;
  const c = clean({ system: str(v.system), version: str(v.version), code: str(v.code), display: str(v.display) });
  return Object.keys(c).length > 0 ? c : undefined;
}

/** A CodeableConcept with the free text the schemas require: its text, else a coding's display or code. */
export function concept(v: unknown): Json | undefined {
  if (!isObject(v)) return undefined;
  const codings = arr(v.coding).map(coding).filter((c): c is Json => c !== undefined);
  const text = str(v.text) ?? codings.map((c) => str(c.display) ?? str(c.code)).find((t) => t !== undefined);
  if (text === undefined) return undefined;
  return clean({ text: text.trim(), coding: codings.length > 0 ? codings : undefined });
}

export const concepts = (v: unknown): Json[] => arr(v).map(concept).filter((c): c is Json => c !== undefined);

/** A status CodeableConcept: only the codings of the one system the schema allows. */
export function statusConcept(v: unknown, system: string): Json | undefined {
  if (!isObject(v)) return undefined;
  const codings = objects(v.coding)
    .filter((c) => c.system === system && str(c.code) !== undefined)
    .map((c) => clean({ system, code: c.code, display: str(c.display) }));
  return codings.length > 0 ? clean({ coding: codings, text: str(v.text) }) : undefined;
}

export function quantity(v: unknown): Json | undefined {
  if (!isObject(v) || num(v.value) === undefined) return undefined;
  // The schema allows UCUM only as a system: another system's code means nothing without it.
  const ucum = v.system === UCUM;
  return clean({ value: v.value, unit: str(v.unit) ?? (ucum ? str(v.code) : undefined), system: ucum ? UCUM : undefined, code: ucum ? str(v.code) : undefined });
}

export function period(v: unknown): Json | undefined {
  if (!isObject(v)) return undefined;
  const p = clean({ start: str(v.start), end: str(v.end) });
  return Object.keys(p).length > 0 ? p : undefined;
}

export function humanName(v: unknown): Json | undefined {
  if (!isObject(v)) return undefined;
  const given = arr(v.given).filter((g): g is string => typeof g === 'string');
  const family = str(v.family);
  const text = str(v.text) ?? [...arr(v.prefix).filter((p): p is string => typeof p === 'string'), ...given, family ?? ''].join(' ').trim();
  if (!text) return undefined;
  return clean({ text, family, given: given.length > 0 ? given : undefined, use: str(v.use) });
}

export const humanNames = (v: unknown): Json[] => arr(v).map(humanName).filter((n): n is Json => n !== undefined);

export function contactPoints(v: unknown): Json[] {
  return objects(v)
    .filter((c) => str(c.system) !== undefined && str(c.value) !== undefined)
    .map((c) => clean({ system: c.system, value: c.value, use: str(c.use), rank: num(c.rank) }));
}

export function address(v: unknown): Json | undefined {
  if (!isObject(v)) return undefined;
  const line = arr(v.line).filter((l): l is string => typeof l === 'string');
  const city = str(v.city);
  const postalCode = str(v.postalCode);
  const country = str(v.country);
  const text = str(v.text) ?? [...line, city, str(v.state), postalCode, country].filter((x) => x !== undefined).join(', ');
  if (!text) return undefined;
  return clean({ text, line: line.length > 0 ? line : undefined, city, postalCode, country });
}

export const addresses = (v: unknown): Json[] => arr(v).map(address).filter((a): a is Json => a !== undefined);

export function annotations(v: unknown): Json[] {
  return objects(v)
    .filter((a) => str(a.text) !== undefined)
    .map((a) => clean({ text: (a.text as string).trim(), time: str(a.time), authorString: str(a.authorString) }));
}

/** A dateTime from a choice of [x] forms: the dateTime itself, else a period's start. */
export function dateTimeOf(r: Json, prefix: string): string | undefined {
  return str(r[`${prefix}DateTime`]) ?? (isObject(r[`${prefix}Period`]) ? str((r[`${prefix}Period`] as Json).start) : undefined);
}
