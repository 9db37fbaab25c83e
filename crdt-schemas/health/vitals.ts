/**
 * Vital signs (FHIR Observation, category vital-signs), appended to `list:vitals`. Each reading
 * names its LOINC code, and the UCUM unit must be one that code allows (the table below).
 */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirDateTime, LOINC, Quantity, recordBase, statusConcept, UCUM } from './common.ts';
import { OBSERVATION_CATEGORY, OBSERVATION_STATUSES } from './lab.ts';
import { implausible, implausiblePressure, IMPLAUSIBLE } from './plausibility.ts';

export interface VitalSpec {
  readonly loinc: string;
  readonly display: string;
  /** UCUM codes accepted for this LOINC code; the first is the default. */
  readonly units: readonly [string, ...string[]];
  /**
   * The plausibility limits in the first unit, inclusive: no living person measures outside them,
   * so a reading outside is refused as a typing slip (plausibility.ts; generators draw from it).
   */
  readonly range: readonly [number, number];
}

export const VITALS = {
  systolic: { loinc: '8480-6', display: 'Systolic blood pressure', units: ['mm[Hg]'], range: [20, 300] },
  diastolic: { loinc: '8462-4', display: 'Diastolic blood pressure', units: ['mm[Hg]'], range: [10, 250] },
  heartRate: { loinc: '8867-4', display: 'Heart rate', units: ['/min'], range: [10, 300] },
  bodyWeight: { loinc: '29463-7', display: 'Body weight', units: ['kg', 'g', '[lb_av]'], range: [0.2, 700] },
  bodyHeight: { loinc: '8302-2', display: 'Body height', units: ['cm', 'm', '[in_i]'], range: [20, 280] },
  glucoseMass: { loinc: '2339-0', display: 'Glucose [Mass/volume] in Blood', units: ['mg/dL'], range: [5, 2000] },
  glucoseMoles: { loinc: '15074-8', display: 'Glucose [Moles/volume] in Blood', units: ['mmol/L'], range: [0.3, 110] },
  oxygenSaturation: { loinc: '2708-6', display: 'Oxygen saturation in Arterial blood', units: ['%'], range: [30, 100] },
  bodyTemperature: { loinc: '8310-5', display: 'Body temperature', units: ['Cel', '[degF]'], range: [25, 45] },
} as const satisfies Record<string, VitalSpec>;

/** The blood pressure panel: systolic and diastolic are its components, in mm[Hg]. */
export const BLOOD_PRESSURE_PANEL = { loinc: '85354-9', display: 'Blood pressure panel with all children optional' } as const;

export type VitalName = keyof typeof VITALS;
const BY_LOINC = new Map<string, VitalSpec>(Object.values(VITALS).map((v) => [v.loinc, v]));

const loincOf = (c: { coding?: { system?: string; code?: string }[] | undefined }): string | undefined =>
  c.coding?.find((x) => x.system === LOINC)?.code;

const Component = z.looseObject({ code: Concept, valueQuantity: Quantity });

export const VitalSignRecord = z
  .looseObject({
    ...recordBase,
    resourceType: z.literal('Observation'),
    status: z.enum(OBSERVATION_STATUSES),
    category: z.array(statusConcept(OBSERVATION_CATEGORY, ['vital-signs'])).max(3).optional(),
    code: Concept,
    effectiveDateTime: FhirDateTime,
    valueQuantity: Quantity.optional(),
    component: z.array(Component).max(10).optional(),
    note: z.array(Annotation).max(50).optional(),
  })
  .superRefine((r, ctx) => {
    const code = loincOf(r.code);
    const checkQuantity = (spec: VitalSpec, q: z.infer<typeof Quantity> | undefined, path: (string | number)[]) => {
      if (!q) return ctx.addIssue({ code: 'custom', path, message: `${spec.display} needs a value` });
      if (q.system !== UCUM || !q.code || !(spec.units as readonly string[]).includes(q.code)) {
        ctx.addIssue({ code: 'custom', path: [...path, 'code'], message: `unit must be a UCUM code allowed for LOINC ${spec.loinc}: ${spec.units.join(', ')}` });
        return;
      }
      const problem = implausible(spec, q);
      if (problem) ctx.addIssue({ code: 'custom', path: [...path, 'value'], message: problem.message, params: { code: problem.code } });
    };
    if (code === BLOOD_PRESSURE_PANEL.loinc) {
      const values: (number | undefined)[] = [];
      for (const part of [VITALS.systolic, VITALS.diastolic]) {
        const i = r.component?.findIndex((c) => loincOf(c.code) === part.loinc) ?? -1;
        if (i < 0) ctx.addIssue({ code: 'custom', path: ['component'], message: `a blood pressure reading needs a ${part.display} component` });
        else checkQuantity(part, r.component![i]!.valueQuantity, ['component', i, 'valueQuantity']);
        values.push(i < 0 ? undefined : r.component![i]!.valueQuantity?.value);
      }
      const pressure = implausiblePressure(values[0], values[1]);
      const dia = r.component?.findIndex((c) => loincOf(c.code) === VITALS.diastolic.loinc) ?? -1;
      if (pressure) ctx.addIssue({ code: 'custom', path: ['component', dia, 'valueQuantity', 'value'], message: pressure.message, params: { code: IMPLAUSIBLE } });
      return;
    }
    const spec = code === undefined ? undefined : BY_LOINC.get(code);
    if (!spec || spec === VITALS.systolic || spec === VITALS.diastolic) {
      ctx.addIssue({ code: 'custom', path: ['code', 'coding'], message: 'code needs a supported vital-sign LOINC coding' });
      return;
    }
    checkQuantity(spec, r.valueQuantity, ['valueQuantity']);
  });
export type VitalSignRecord = z.infer<typeof VitalSignRecord>;

export const vitalSign = defineKind({ kind: 'Observation', schema: VitalSignRecord, schemaVersion: 1 });
