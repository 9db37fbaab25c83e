/**
 * A same-field conflict notice in words (decision 0041): which record and field, the value lost
 * and the value kept, and who the other person is. Pure: the notice component renders it.
 * The values are PHI: they are shown on screen, never put in titles, URLs or logs.
 */
import type { ConflictNotice, SectionName } from '../vault/app.ts';
import { SECTION_FORMS } from './forms/index.ts';

export interface ConflictView {
  readonly id: number;
  readonly lost: 'mine' | 'theirs';
  /** "the substance of the allergy “Penicillin”" */
  readonly what: string;
  readonly lostText: string;
  readonly keptText: string;
  readonly other: string;
  /** The restore button's words. */
  readonly restoreLabel: string;
}

/** A stored field value as a person reads it: text as is, a coded concept by its text, lists joined. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined || v === '') return '(empty)';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.text === 'string') return o.text;
    if (typeof o.display === 'string') return o.display;
    if (Array.isArray(o.coding)) return valueText(o.coding);
    if (typeof o.value === 'number' || typeof o.value === 'string') return `${o.value}${typeof o.unit === 'string' ? ` ${o.unit}` : ''}`;
    if (Array.isArray(o.manifestation)) return valueText(o.manifestation);
    return Object.values(o).map(valueText).join(', ');
  }
  return String(v);
}

/** The form's label of the field that writes this record key, else the key in words. */
export function fieldLabel(section: SectionName, field: string): string {
  const form = SECTION_FORMS[section];
  const spec = form?.fields.find((f) => f.name === field || f.paths?.some((p) => p[0] === field));
  if (spec) return spec.label;
  const words = field.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function conflictView(n: ConflictNotice, o: { readonly record: Record<string, unknown> | undefined; readonly nameOf: (key: string) => string }): ConflictView {
  const form = SECTION_FORMS[n.section];
  const title = o.record ? form?.summary(o.record).title : undefined;
  const what = `the ${fieldLabel(n.section, n.field).toLowerCase()} of ${form ? `the ${form.singular}` : 'a record'}${title ? ` “${title}”` : ''}`;
  const other = n.other ? o.nameOf(n.other) : 'someone else';
  return {
    id: n.id,
    lost: n.lost,
    what,
    lostText: valueText(n.lostValue),
    keptText: valueText(n.keptValue),
    other,
    restoreLabel: n.lost === 'mine' ? 'Put my value back' : `Use ${other}'s value`,
  };
}
