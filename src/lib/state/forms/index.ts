/**
 * One declarative form per health-record section, and the mapping of schema issues back to the
 * fields that produced them. Messages are built from the schema's fixed texts and constants,
 * never from the values entered (they are health data).
 */
import type { SchemaIssue, SectionName } from '../../vault/health.ts';
import { allergiesForm, alertsForm, conditionsForm, devicesForm, proceduresForm } from './clinical.ts';
import { advanceDirectivesForm, diagnosticReportsForm } from './directives-reports.ts';
import { journalForm } from './journal.ts';
import { keptForm } from './kept.ts';
import { doseForm, medicationsForm } from './medications.ts';
import { labResultsForm, vitalsForm } from './observations.ts';
import { bloodDonorForm, careTeamForm, demographicsForm, documentsForm, immunizationsForm, visitsForm } from './person.ts';
import type { FieldSpec, FormValues, IssuePath, SectionForm } from './types.ts';

export type * from './types.ts';
export { doseForm, type MedicationChoice } from './medications.ts';
export { localInputToFhir, fhirToLocalInput, toFhirDateTime, toLocalInput } from './dates.ts';

export const SECTION_FORMS: Readonly<Record<SectionName, SectionForm>> = {
  demographics: demographicsForm,
  allergies: allergiesForm,
  conditions: conditionsForm,
  medications: medicationsForm,
  immunizations: immunizationsForm,
  'lab-results': labResultsForm,
  'diagnostic-reports': diagnosticReportsForm,
  procedures: proceduresForm,
  devices: devicesForm,
  alerts: alertsForm,
  'advance-directives': advanceDirectivesForm,
  'blood-donor': bloodDonorForm,
  visits: visitsForm,
  'care-team': careTeamForm,
  documents: documentsForm,
  kept: keptForm,
  'list:vitals': vitalsForm,
  // Without medications to choose from; the dose page uses doseForm(the profile's medications).
  'list:doses': doseForm([]),
  'list:journal': journalForm,
};

/** The key of issues that belong to no field. */
export const FORM_ERROR = '_form';

const startsWith = (path: IssuePath, prefix: IssuePath): boolean => prefix.length <= path.length && prefix.every((k, i) => path[i] === k);

/**
 * The field an issue path belongs to: the field writing the deepest enclosing path, else (for a
 * missing container, like `name` when the name was left empty) the first field writing inside it.
 */
export function fieldForPath(form: SectionForm, path: IssuePath): FieldSpec | undefined {
  let best: FieldSpec | undefined;
  let depth = -1;
  for (const f of form.fields) {
    for (const p of f.paths ?? []) {
      if (p.length > depth && startsWith(path, p)) {
        best = f;
        depth = p.length;
      }
    }
  }
  if (best || path.length === 0) return best;
  return form.fields.find((f) => (f.paths ?? []).some((p) => startsWith(p, path)));
}

const isEmpty = (v: FormValues[string] | undefined): boolean => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

/** A message a person understands for a schema issue's (fixed) message. */
export function friendlyMessage(message: string, field?: FieldSpec): string {
  let m: RegExpMatchArray | null;
  if (message === 'expected number' || message === 'expected nan') return field?.kind === 'number' ? 'Enter a number' : 'Required';
  if (message === 'expected int') return 'Enter a whole number';
  if (message.startsWith('expected one of ')) return 'Choose one of the options';
  if (message.startsWith('expected ')) return 'Required';
  if (message === 'too small: length must be >= 1') return 'Required';
  if (message === 'too small: items must be >= 1') return 'Add at least one';
  if ((m = /^too big: length must be <=? (\d+)$/.exec(message))) return `Too long: at most ${m[1]} characters`;
  if ((m = /^too big: items must be <=? (\d+)$/.exec(message))) return `Too many: at most ${m[1]}`;
  if ((m = /^too small: must be >= (-?[\d.e+]+)$/.exec(message))) return `Must be at least ${m[1]}`;
  if ((m = /^too small: must be > (-?[\d.e+]+)$/.exec(message))) return `Must be more than ${m[1]}`;
  if ((m = /^too big: must be <= (-?[\d.e+]+)$/.exec(message))) return `Must be at most ${m[1]}`;
  if ((m = /^too big: must be < (-?[\d.e+]+)$/.exec(message))) return `Must be less than ${m[1]}`;
  if (message.startsWith('must be a FHIR date ')) return 'Enter a date';
  if (message === 'must be a FHIR dateTime' || message === 'must be an instant with time zone') return field?.kind === 'date' ? 'Enter a date' : 'Enter a date and time';
  if (message.startsWith('must be a time of day')) return 'Enter times as HH:MM (24-hour clock)';
  if (message.startsWith('unit must be a UCUM code')) return 'Choose a unit';
  if (message.endsWith(' needs a value') || message.startsWith('a lab result needs ')) return 'Required';
  if (message === 'matches none of the allowed shapes') return 'Not a valid value';
  // Plausibility (crdt-schemas/health/plausibility.ts): its own sentence, limits and unit included.
  if ((m = /^implausible: (.+)$/.exec(message))) return `Not possible: ${m[1]}.`;
  return message;
}

/**
 * Schema issues as `{ field name: message }`, one message per field (the first), for showing next
 * to the inputs; issues no field wrote go under `_form`. Pass the submitted `values` to tell
 * "Required" (left empty) from "Enter a number" and to skip hidden fields.
 */
export function fieldErrors(issues: readonly SchemaIssue[], form: SectionForm, values?: FormValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    let field = fieldForPath(form, issue.path);
    if (field && values && field.visible && !field.visible(values)) field = undefined;
    const key = field?.name ?? FORM_ERROR;
    if (out[key] !== undefined) continue;
    if (field) {
      out[key] = values && isEmpty(values[field.name]) ? 'Required' : friendlyMessage(issue.message, field);
    } else {
      const custom = form.issueMessages?.find((m) => startsWith(issue.path, m.path));
      const where = issue.path.filter((k) => typeof k === 'string').join(' › ');
      out[key] = custom?.message ?? `This ${form.singular} could not be saved${where ? ` (${where})` : ''}: ${friendlyMessage(issue.message).toLowerCase()}`;
    }
  }
  return out;
}
