/**
 * Observations (docs/decisions/0029): vital signs with a LOINC code the vitals log knows (blood
 * pressure as one panel with its components) go to `list:vitals`; laboratory results with a
 * value to `lab-results`; the rest (BMI, surveys, social history, panels without a value) is kept.
 */
import { LOINC } from '../../../../crdt-schemas/health/common.ts';
import { OBSERVATION_CATEGORY } from '../../../../crdt-schemas/health/lab.ts';
import type { SectionName } from '../../../../crdt-schemas/health/sections.ts';
import { BLOOD_PRESSURE_PANEL, VITALS } from '../../../../crdt-schemas/health/vitals.ts';
import { profileReference, type MapContext } from './import-context.ts';
import { annotations, clean, concept, concepts, dateTimeOf, isObject, objects, quantity, str, type Json } from './import-values.ts';

const VITAL_CODES = new Set<string>([BLOOD_PRESSURE_PANEL.loinc, ...Object.values(VITALS).filter((v) => v !== VITALS.systolic && v !== VITALS.diastolic).map((v) => v.loinc)]);

const categoriesOf = (r: Json): string[] =>
  objects(r.category).flatMap((c) => objects(c.coding).filter((x) => x.system === OBSERVATION_CATEGORY && typeof x.code === 'string').map((x) => x.code as string));
const loincOf = (c: unknown): string | undefined => (isObject(c) ? objects(c.coding).find((x) => x.system === LOINC && typeof x.code === 'string')?.code as string | undefined : undefined);

export function observationSection(r: Json): Extract<SectionName, 'list:vitals' | 'lab-results'> | undefined {
  const categories = categoriesOf(r);
  const code = loincOf(r.code);
  if (code !== undefined && VITAL_CODES.has(code) && (categories.length === 0 || categories.includes('vital-signs'))) return 'list:vitals';
  const hasValue = isObject(r.valueQuantity) || typeof r.valueString === 'string' || isObject(r.valueCodeableConcept);
  if (categories.includes('laboratory') && hasValue) return 'lab-results';
  return undefined;
}

export function mapObservation(r: Json, section: 'list:vitals' | 'lab-results', ctx: MapContext): Json {
  const category = section === 'list:vitals' ? 'vital-signs' : 'laboratory';
  const common = {
    resourceType: 'Observation',
    status: str(r.status),
    category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: category }] }],
    code: concept(r.code),
    effectiveDateTime: dateTimeOf(r, 'effective'),
    note: annotations(r.note),
  };
  if (section === 'list:vitals') {
    return clean({
      ...common,
      valueQuantity: quantity(r.valueQuantity),
      component: objects(r.component)
        .map((c) => clean({ code: concept(c.code), valueQuantity: quantity(c.valueQuantity) }))
        .filter((c) => c.code !== undefined && c.valueQuantity !== undefined),
    });
  }
  return clean({
    ...common,
    issued: str(r.issued),
    valueQuantity: quantity(r.valueQuantity),
    valueString: str(r.valueString),
    valueCodeableConcept: concept(r.valueCodeableConcept),
    interpretation: concepts(r.interpretation),
    referenceRange: objects(r.referenceRange).map((rr) => clean({ low: quantity(rr.low), high: quantity(rr.high), text: str(rr.text) })).filter((rr) => Object.keys(rr).length > 0),
    performer: objects(r.performer)
      .map((p) => profileReference(p, r, ctx))
      .filter((p): p is Json => p !== undefined),
  });
}
