/**
 * The health-record sections of a profile's plain doc, keyed by root name (layout v1: keyed
 * records in a Y.Map per section, logs in `list:*` arrays), and the one entry point that checks
 * a record before it is written or after it is decrypted or imported.
 *
 * Errors carry paths and fixed messages only: never the value, which is health data.
 */
import type { z } from 'zod';
import { rootKind, type RootKind } from '../layout.ts';
import { advanceDirective } from './advance-directive.ts';
import { allergyIntolerance } from './allergy.ts';
import { bloodAndDonor } from './blood.ts';
import { practitioner } from './care-team.ts';
import type { Plain, RecordKind } from './common.ts';
import { condition } from './condition.ts';
import { device } from './device.ts';
import { diagnosticReport } from './diagnostic-report.ts';
import { documentReference } from './document.ts';
import { doseLog } from './dose.ts';
import { encounter } from './encounter.ts';
import { flag } from './flag.ts';
import { immunization } from './immunization.ts';
import { keptResource } from './kept.ts';
import { symptomJournal } from './journal.ts';
import { labResult } from './lab.ts';
import { medicationStatement } from './medication.ts';
import { patient } from './patient.ts';
import { procedure } from './procedure.ts';
import { vitalSign } from './vitals.ts';

export const SECTIONS = {
  demographics: patient,
  allergies: allergyIntolerance,
  conditions: condition,
  medications: medicationStatement,
  immunizations: immunization,
  'lab-results': labResult,
  /** Panels and studies grouping lab results, as links to their records (docs/decisions/0037). */
  'diagnostic-reports': diagnosticReport,
  procedures: procedure,
  devices: device,
  alerts: flag,
  /** FHIR Consent with scope adr (docs/decisions/0037). */
  'advance-directives': advanceDirective,
  'blood-donor': bloodAndDonor,
  visits: encounter,
  'care-team': practitioner,
  documents: documentReference,
  /** Imported resources that map to no section (docs/decisions/0029). */
  kept: keptResource,
  // Logs: layout.ts listRoot(name), spelled out so the names stay literal types.
  'list:vitals': vitalSign,
  'list:doses': doseLog,
  'list:journal': symptomJournal,
} as const satisfies Record<string, RecordKind>;

export type SectionName = keyof typeof SECTIONS;
export type SectionRecord<S extends SectionName> = z.infer<(typeof SECTIONS)[S]['schema']>;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];
/** Where the generic profile facade's appendToList(name) lands for each log. */
export const LOG_SECTIONS = { vitals: 'list:vitals', doses: 'list:doses', journal: 'list:journal' } as const satisfies Record<string, SectionName>;

export function isSection(name: string): name is SectionName {
  return Object.hasOwn(SECTIONS, name);
}

/** Y type of a section's root, from its name alone (layout.ts). */
export function sectionKind(name: SectionName): RootKind {
  return rootKind(name);
}

export interface SchemaIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** A typed reason some refinements give (VITAL_IMPLAUSIBLE: plausibility.ts), for callers to branch on. */
  readonly code?: string;
}

export type ValidationResult<T = Plain> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: 'SCHEMA_INVALID' | 'SCHEMA_UNKNOWN_SECTION'; readonly issues: readonly SchemaIssue[] };

/**
 * Checks `value` as a record of `section`. Older records are migrated first (a record without
 * `schemaVersion` is version 0); records from a newer version are checked as they are. Fields the
 * schema does not know are kept. The returned value is a new object: the caller's is not changed.
 */
export function validateRecord<S extends SectionName>(section: S, value: unknown): ValidationResult<SectionRecord<S>>;
export function validateRecord(section: string, value: unknown): ValidationResult;
export function validateRecord(section: string, value: unknown): ValidationResult {
  if (!isSection(section)) return { ok: false, code: 'SCHEMA_UNKNOWN_SECTION', issues: [{ path: [], message: 'not a health-record section' }] };
  const kind: RecordKind = SECTIONS[section];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid([{ path: [], message: 'expected an object' }]);
  const declared = (value as Plain).schemaVersion;
  const from = declared === undefined ? 0 : declared;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 0) return invalid([{ path: ['schemaVersion'], message: 'expected a non-negative integer' }]);
  const migrated = kind.migrate(from, value as Plain);
  if (!migrated) return invalid([{ path: ['schemaVersion'], message: `no migration from version ${from} to ${kind.schemaVersion}` }]);
  const parsed = kind.schema.safeParse(migrated);
  if (parsed.success) return { ok: true, value: parsed.data as Plain };
  return invalid(parsed.error.issues.map(describe));
}

function invalid(issues: SchemaIssue[]): ValidationResult {
  return { ok: false, code: 'SCHEMA_INVALID', issues };
}

/** A message built from the issue's kind and the schema's own constants, never from the input. */
function describe(issue: z.core.$ZodIssue): SchemaIssue {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p.description) : p));
  const code = issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : undefined;
  return code ? { path, message: messageOf(issue), code } : { path, message: messageOf(issue) };
}

function messageOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `too small: ${issue.origin === 'string' ? 'length ' : issue.origin === 'array' ? 'items ' : ''}must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return `too big: ${issue.origin === 'string' ? 'length ' : issue.origin === 'array' ? 'items ' : ''}must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_format':
      // Our regexes carry fixed messages; zod's own formats are named by format.
      return issue.format === 'regex' ? issue.message : `invalid ${issue.format}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'matches none of the allowed shapes';
    case 'custom':
      // Only our refinements raise these, with fixed messages.
      return issue.message;
    default:
      return issue.code;
  }
}
