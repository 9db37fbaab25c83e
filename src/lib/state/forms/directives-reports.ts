/**
 * Forms for advance directives (FHIR Consent, scope adr) and diagnostic reports (docs/decisions/0037).
 * A report's links to its results come from an import and are carried unchanged by an edit.
 */
import { CONSENT_SCOPE, PATIENT_HELD_POLICY } from '../../vault/health.ts';
import { choice, compact, concept, date, defineForm, field, firstString, getIn, labelOf, opts, plain, text, type Rec } from './bind.ts';
import type { SectionForm } from './types.ts';

const CONSENT_STATUS = opts(['active', 'In force'], ['inactive', 'No longer in force'], ['draft', 'Being prepared'], ['proposed', 'Proposed'], ['rejected', 'Refused'], ['entered-in-error', 'Entered in error']);

export const advanceDirectivesForm: SectionForm = defineForm({
  section: 'advance-directives',
  title: 'Advance directives',
  singular: 'advance directive',
  resourceType: 'Consent',
  parts: [
    field({ name: 'kind', label: 'What kind', kind: 'text', required: true, placeholder: 'e.g. Living will, Do not resuscitate' }, ['category', 0], concept),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: CONSENT_STATUS }, ['status'], choice),
    field({ name: 'signed', label: 'Signed on', kind: 'date' }, ['dateTime'], date),
    field({ name: 'start', label: 'From', kind: 'date', group: 'Applies' }, ['provision', 'period', 'start'], date),
    field({ name: 'end', label: 'Until', kind: 'date', group: 'Applies' }, ['provision', 'period', 'end'], date),
  ],
  defaults: () => ({ status: 'active' }),
  complete: (out) => {
    out.scope ??= { coding: [{ system: CONSENT_SCOPE, code: 'adr' }] };
    if (out.policy === undefined) out.policyRule ??= { ...PATIENT_HELD_POLICY };
  },
  summary: (r: Rec) => ({
    title: text(getIn(r, ['category', 0])) ?? 'Advance directive',
    badges: compact([r.status !== 'active' && labelOf(CONSENT_STATUS, r.status)]),
    when: firstString(r.dateTime, getIn(r, ['provision', 'period', 'start'])),
  }),
});

const REPORT_STATUS = opts(['final', 'Final'], ['preliminary', 'Preliminary'], ['partial', 'Partial'], ['amended', 'Amended'], ['corrected', 'Corrected'], ['registered', 'Registered'], ['cancelled', 'Cancelled'], ['entered-in-error', 'Entered in error'], ['unknown', 'Unknown']);

export const diagnosticReportsForm: SectionForm = defineForm({
  section: 'diagnostic-reports',
  title: 'Test reports',
  singular: 'test report',
  resourceType: 'DiagnosticReport',
  parts: [
    field({ name: 'report', label: 'Test or panel', kind: 'text', required: true, placeholder: 'e.g. Basic metabolic panel' }, ['code'], concept),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: REPORT_STATUS }, ['status'], choice),
    field({ name: 'date', label: 'Date', kind: 'date' }, ['effectiveDateTime'], date),
    field({ name: 'conclusion', label: 'Conclusion', kind: 'textarea' }, ['conclusion'], plain),
  ],
  defaults: () => ({ status: 'final' }),
  summary: (r: Rec) => {
    const results = Array.isArray(r.result) ? r.result.length : 0;
    return {
      title: text(r.code) ?? 'Test report',
      subtitle: results > 0 ? `${results} result${results === 1 ? '' : 's'}` : undefined,
      badges: compact([r.status !== 'final' && labelOf(REPORT_STATUS, r.status)]),
      when: firstString(r.effectiveDateTime, r.issued),
    };
  },
});
