/**
 * Declarative record forms: one `SectionForm` per health-record section turns a record into the
 * values form inputs hold and back. Components import these types only; the specs live in the
 * sibling modules and are reached through `SECTION_FORMS` (./index.ts).
 */
import type { SectionName } from '../../vault/health.ts';

/**
 * `checkboxes` is a group of choices (value `string[]`), `tags` free-text chips (value `string[]`).
 * `number` inputs hold the text typed (parsed in `fromForm`), dates hold input-element values:
 * `date` "YYYY-MM-DD", `datetime` "YYYY-MM-DDTHH:MM" (local time), `time` "HH:MM".
 */
export type FieldKind = 'text' | 'textarea' | 'number' | 'date' | 'datetime' | 'time' | 'select' | 'checkbox' | 'checkboxes' | 'tags';

export interface FieldOption {
  readonly value: string;
  readonly label: string;
}

/** A path into a record, as in `SchemaIssue.path`. */
export type IssuePath = readonly (string | number)[];

export type FormValues = Record<string, string | boolean | string[]>;

export interface FieldSpec {
  readonly name: string;
  readonly label: string;
  readonly kind: FieldKind;
  readonly required?: boolean;
  /** For `select` and `checkboxes`; a function when the choices depend on other fields (vital → unit). */
  readonly options?: readonly FieldOption[] | ((values: FormValues) => readonly FieldOption[]);
  readonly help?: string;
  /** Shown after the input ("mmHg"). */
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  readonly placeholder?: string;
  readonly autocomplete?: string;
  /** Consecutive fields with the same group are drawn in one fieldset with this legend. */
  readonly group?: string;
  /** Hidden (and ignored by `fromForm`) when this returns false. */
  readonly visible?: (values: FormValues) => boolean;
  /** Record paths this field writes: schema issues under them belong to this field. */
  readonly paths?: readonly IssuePath[];
}

export interface FormContext {
  now: Date;
  /** The member's signing key, lowercase hex (the dose log's `by`). */
  by: string;
  newId: () => string;
}

export interface RecordSummary {
  title: string;
  subtitle?: string;
  badges?: string[];
  /** ISO date-time or date, for sorting. */
  when?: string;
}

export interface SectionForm {
  readonly section: SectionName;
  /** "Allergies" */
  readonly title: string;
  /** "allergy" */
  readonly singular: string;
  readonly fields: readonly FieldSpec[];
  /** Values of a new record; `now` fills date-time fields that default to the present (a journal entry's time). */
  empty(now?: Date): FormValues;
  /**
   * Values for editing `record` (a validated, so migrated, record). May hold keys that are no
   * field ("carried" values the form hands back to `fromForm`); keep them when submitting.
   */
  toForm(record: Record<string, unknown>): FormValues;
  /**
   * The record for `values`, not validated (run `validateRecord`). Keeps everything of `previous`
   * the form did not change, byte for byte: unknown fields, codes, precise timestamps.
   */
  fromForm(values: FormValues, ctx: FormContext, previous?: Record<string, unknown>): Record<string, unknown>;
  summary(record: Record<string, unknown>): RecordSummary;
  /** Messages for issues under paths no field writes (a document without its file). */
  readonly issueMessages?: readonly { readonly path: IssuePath; readonly message: string }[];
}
