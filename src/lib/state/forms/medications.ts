/** Forms for medications (with a simple schedule) and the dose log. */
import {
  asString,
  choice,
  codes,
  compact,
  concept,
  conceptList,
  date,
  dateTime,
  defineForm,
  field,
  firstString,
  flag,
  getIn,
  labelOf,
  notePart,
  nowInput,
  number,
  opts,
  plain,
  quantityPart,
  str,
  text,
  times,
  type Part,
} from './bind.ts';
import type { FieldOption, FieldSpec, FormValues, SectionForm } from './types.ts';

const STATUS = opts(
  ['active', 'Taking it'],
  ['intended', 'Going to start'],
  ['on-hold', 'Paused'],
  ['completed', 'Finished the course'],
  ['stopped', 'Stopped'],
  ['not-taken', 'Not taking it'],
  ['unknown', 'Unknown'],
  ['entered-in-error', 'Entered in error'],
);

/** UCUM codes for a dose; braces are UCUM annotations (a tablet is `{tbl}`). */
export const DOSE_UNITS = opts(
  ['{tbl}', 'tablet'],
  ['{capsule}', 'capsule'],
  ['mg', 'mg'],
  ['ug', 'microgram'],
  ['g', 'g'],
  ['mL', 'mL'],
  ['[drp]', 'drop'],
  ['{puff}', 'puff'],
  ['{spray}', 'spray'],
  ['[iU]', 'unit (IU)'],
);

/** The Timing events a family uses; others already stored stay as they are. */
const WHEN = opts(['WAKE', 'On waking'], ['MORN', 'Morning'], ['NOON', 'Noon'], ['AFT', 'Afternoon'], ['EVE', 'Evening'], ['NIGHT', 'Night'], ['HS', 'At bedtime'], ['AC', 'Before meals'], ['C', 'With meals'], ['PC', 'After meals']);
const DAYS = opts(['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun']);
const PERIOD_UNIT = opts(['h', 'hours'], ['d', 'days'], ['wk', 'weeks'], ['mo', 'months']);

const dosage = (...rest: (string | number)[]) => ['dosage', 0, ...rest];
const repeat = (key: string) => dosage('timing', 'repeat', key);
const SCHEDULE = 'Dose and schedule';

export const medicationsForm: SectionForm = defineForm({
  section: 'medications',
  title: 'Medications',
  singular: 'medication',
  resourceType: 'MedicationStatement',
  parts: [
    field({ name: 'medication', label: 'Medicine', kind: 'text', required: true, placeholder: 'e.g. Metformin 500 mg tablet' }, ['medicationCodeableConcept'], concept),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: STATUS }, ['status'], choice),
    field(
      { name: 'dose', label: 'How to take it', kind: 'textarea', group: SCHEDULE, placeholder: 'e.g. 1 tablet twice a day with food', help: 'Needed when any schedule detail is filled in.', paths: [dosage('text'), dosage()] },
      dosage('text'),
      plain,
    ),
    quantityPart(
      { name: 'doseAmount', label: 'Amount per dose', kind: 'number', group: SCHEDULE, min: 0, step: 0.25 },
      { name: 'doseUnit', label: 'Unit', kind: 'select', group: SCHEDULE },
      dosage('doseAndRate', 0, 'doseQuantity'),
      DOSE_UNITS,
    ),
    field({ name: 'frequency', label: 'Times', kind: 'number', group: SCHEDULE, min: 1, max: 48, step: 1, help: 'e.g. 2 times every 1 day' }, repeat('frequency'), number),
    field({ name: 'period', label: 'Every', kind: 'number', group: SCHEDULE, min: 0, step: 1 }, repeat('period'), number),
    field({ name: 'periodUnit', label: 'Period', kind: 'select', group: SCHEDULE, options: PERIOD_UNIT }, repeat('periodUnit'), choice),
    field({ name: 'route', label: 'How it is taken', kind: 'text', group: SCHEDULE, placeholder: 'e.g. by mouth, inhaled' }, dosage('route'), concept),
    field({ name: 'timesOfDay', label: 'Times of day', kind: 'tags', group: SCHEDULE, placeholder: 'HH:MM, e.g. 08:00', help: '24-hour clock.' }, repeat('timeOfDay'), times),
    field({ name: 'when', label: 'When', kind: 'checkboxes', group: SCHEDULE, options: WHEN }, repeat('when'), codes),
    field({ name: 'dayOfWeek', label: 'Only on', kind: 'checkboxes', group: SCHEDULE, options: DAYS }, repeat('dayOfWeek'), codes),
    field({ name: 'asNeeded', label: 'Only when needed', kind: 'checkbox', group: SCHEDULE }, dosage('asNeededBoolean'), flag),
    field({ name: 'start', label: 'Started', kind: 'date' }, ['effectivePeriod', 'start'], date),
    field({ name: 'end', label: 'Ended', kind: 'date' }, ['effectivePeriod', 'end'], date),
    field({ name: 'reason', label: 'Taken for', kind: 'tags', placeholder: 'e.g. blood pressure' }, ['reasonCode'], conceptList),
    notePart(),
  ],
  defaults: () => ({ status: 'active' }),
  summary(r) {
    const dose = str(getIn(r, ['dosage', 0, 'text']));
    const clock = getIn(r, ['dosage', 0, 'timing', 'repeat', 'timeOfDay']);
    return {
      title: text(r.medicationCodeableConcept) ?? 'Medication',
      subtitle: dose || undefined,
      badges: compact([
        r.status !== 'active' && labelOf(STATUS, r.status),
        getIn(r, ['dosage', 0, 'asNeededBoolean']) === true && 'As needed',
        ...(Array.isArray(clock) ? clock.map((t) => str(t).slice(0, 5)) : []),
      ]),
      when: firstString(getIn(r, ['effectivePeriod', 'start'])),
    };
  },
});

// ---- dose log ----------------------------------------------------------------------------------------

const DOSE_STATUS = opts(['taken', 'Taken'], ['skipped', 'Skipped']);

export interface MedicationChoice {
  readonly id: string;
  readonly name: string;
}

/**
 * The dose-log form, choosing among `medications` (the profile's medication records). The
 * entry's `medication` name is copied from the choice, so the log reads on its own later; an
 * entry whose medication is gone keeps it as the one extra choice.
 */
export function doseForm(medications: readonly MedicationChoice[]): SectionForm {
  const choices = (values: FormValues): readonly FieldOption[] => {
    const list = medications.map((m) => ({ value: m.id, label: m.name }));
    const id = asString(values.medicationId);
    if (id && !medications.some((m) => m.id === id)) list.push({ value: id, label: asString(values.medication) || 'A medicine no longer listed' });
    return list;
  };
  const medicationField: FieldSpec = { name: 'medicationId', label: 'Medicine', kind: 'select', required: true, options: choices, paths: [['medicationId'], ['medication']] };
  const medicationPart: Part = {
    fields: [medicationField],
    // `medication` is carried (no field of its own): the name shown for an unlisted id.
    read: (r) => ({ medicationId: str(r.medicationId), medication: text(r.medication) ?? '' }),
    write(values, w) {
      const id = asString(values.medicationId);
      w.put(['medicationId'], id || undefined);
      const name = medications.find((m) => m.id === id)?.name ?? asString(values.medication).trim();
      if (name && name !== text(w.get(['medication']))) w.put(['medication'], { text: name });
    },
  };
  return defineForm({
    section: 'list:doses',
    title: 'Dose log',
    singular: 'dose',
    parts: [
      medicationPart,
      field({ name: 'status', label: 'Taken or skipped', kind: 'select', required: true, options: DOSE_STATUS }, ['status'], choice),
      field({ name: 'at', label: 'Time', kind: 'datetime', required: true }, ['at'], dateTime),
      field({ name: 'scheduledFor', label: 'Was due at', kind: 'datetime' }, ['scheduledFor'], dateTime),
      field({ name: 'reason', label: 'Reason for skipping', kind: 'text' }, ['reason'], plain),
      field({ name: 'note', label: 'Notes', kind: 'textarea' }, ['note'], plain),
    ],
    defaults: (now) => ({ status: 'taken', at: nowInput(now), ...(medications.length === 1 ? { medicationId: medications[0]!.id } : {}) }),
    complete(out, w) {
      if (out.by === undefined) w.put(['by'], w.ctx.by);
    },
    summary: (r) => ({
      title: text(r.medication) ?? 'Dose',
      subtitle: labelOf(DOSE_STATUS, r.status),
      badges: compact([r.status === 'skipped' && 'Skipped']),
      when: firstString(r.at),
    }),
  });
}
