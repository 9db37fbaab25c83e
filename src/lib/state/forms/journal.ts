/** The symptom journal form. */
import { compact, concept, dateTime, defineForm, field, firstString, nowInput, number, plain, stringList, text } from './bind.ts';
import type { SectionForm } from './types.ts';

export const journalForm: SectionForm = defineForm({
  section: 'list:journal',
  title: 'Symptom journal',
  singular: 'journal entry',
  parts: [
    field({ name: 'symptom', label: 'Symptom', kind: 'text', required: true, placeholder: 'e.g. Headache' }, ['symptom'], concept),
    field({ name: 'severity', label: 'Severity', kind: 'number', required: true, min: 0, max: 10, step: 1, help: '0 = none, 10 = worst imaginable' }, ['severity'], number),
    field({ name: 'at', label: 'When', kind: 'datetime', required: true }, ['at'], dateTime),
    field({ name: 'triggers', label: 'Possible triggers', kind: 'tags', placeholder: 'e.g. stress, coffee' }, ['triggers'], stringList),
    field({ name: 'notes', label: 'Notes', kind: 'textarea' }, ['notes'], plain),
  ],
  defaults: (now) => ({ at: nowInput(now) }),
  summary: (r) => ({
    title: text(r.symptom) ?? 'Symptom',
    subtitle: typeof r.severity === 'number' ? `Severity ${r.severity}/10` : undefined,
    badges: compact(Array.isArray(r.triggers) ? r.triggers.map((t) => (typeof t === 'string' ? t : undefined)) : []),
    when: firstString(r.at),
  }),
});
