/**
 * Advance directives (FHIR Consent, scope `adr`, docs/decisions/0037): that a living will, a
 * do-not-resuscitate order or a health care power of attorney exists, what kind, since when,
 * and where it is kept. The IPS's "Advance Directives" section (LOINC 42348-3) lists them.
 */
import { z } from 'zod';
import { Concept, defineKind, FhirDateTime, Period, recordBase, statusConcept } from './common.ts';

export const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const CONSENT_STATUSES = ['draft', 'proposed', 'active', 'rejected', 'inactive', 'entered-in-error'] as const;
/** LOINC 42348-3 Advance directives (the IPS section), 75320-2 Advance directive (a document of one). */
export const ADVANCE_DIRECTIVE_LOINC = ['42348-3', '75320-2'] as const;

/**
 * The policy rule of a directive that names none (FHIR ppc-1 wants a policy or a rule): it is the
 * person's own, held by them. Text only, no code claimed; the import and the export both use it,
 * so a directive read back from our own export is the same record.
 */
export const PATIENT_HELD_POLICY = { text: 'Advance directive held by the patient' } as const;

export const AdvanceDirectiveRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Consent'),
  status: z.enum(CONSENT_STATUSES),
  /** Always an advance directive: consent scope `adr`. */
  scope: statusConcept(CONSENT_SCOPE, ['adr']),
  /** What kind: "Living will", "Do not resuscitate", LOINC 75320-2 when known. */
  category: z.array(Concept).min(1).max(5),
  /** When it was signed or recorded. */
  dateTime: FhirDateTime.optional(),
  /** The rule or law it follows, when known (FHIR ppc-1 needs this or `policy` on export). */
  policyRule: Concept.optional(),
  policy: z.array(z.looseObject({ authority: z.string().min(1).max(400).optional(), uri: z.string().min(1).max(400).optional() })).max(5).optional(),
  /** What it says, in short, and for how long: provision type permit/deny, its period and codes. */
  provision: z
    .looseObject({
      type: z.enum(['deny', 'permit']).optional(),
      period: Period.optional(),
      code: z.array(Concept).max(10).optional(),
    })
    .optional(),
});
export type AdvanceDirectiveRecord = z.infer<typeof AdvanceDirectiveRecord>;

export const advanceDirective = defineKind({ kind: 'Consent', schema: AdvanceDirectiveRecord, schemaVersion: 1 });
