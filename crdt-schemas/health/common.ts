/**
 * Building blocks shared by the health-record schemas (docs/decisions/0010): FHIR R4 data
 * types as zod schemas. Every object is loose, so fields written by a newer client survive a
 * round trip through an older one. Every CodeableConcept carries free text; codes are optional.
 */
import { z } from 'zod';

export const SNOMED = 'http://snomed.info/sct' as const;
export const LOINC = 'http://loinc.org' as const;
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm' as const;
export const CVX = 'http://hl7.org/fhir/sid/cvx' as const;
export const UCUM = 'http://unitsofmeasure.org' as const;

/** Free text typed by a person: never empty, bounded so one record cannot bloat the doc. */
export const FreeText = z.string().trim().min(1).max(4000);
export const ShortText = z.string().trim().min(1).max(200);

// FHIR R4 primitive patterns (hl7.org/fhir/R4/datatypes.html), instant made strict.
const DATE = /^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$/;
const DATE_TIME =
  /^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;
const INSTANT =
  /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;
const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?$/;

export const FhirDate = z.string().regex(DATE, 'must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)');
export const FhirDateTime = z.string().regex(DATE_TIME, 'must be a FHIR dateTime');
export const FhirInstant = z.string().regex(INSTANT, 'must be an instant with time zone');
export const FhirTime = z.string().regex(TIME, 'must be a time of day (HH:MM:SS)');
/** A member's Ed25519 public key, lowercase hex. */
export const MemberKeyHex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 32-byte key in lowercase hex');

export const Coding = z.looseObject({
  system: z.string().min(1).max(200).optional(),
  version: z.string().max(100).optional(),
  code: z.string().min(1).max(100).optional(),
  display: z.string().max(400).optional(),
});
export type Coding = z.infer<typeof Coding>;

/** A clinical concept: free text always, codes (SNOMED CT, LOINC, RxNorm, CVX) when known. */
export const Concept = z.looseObject({
  text: FreeText,
  coding: z.array(Coding).max(20).optional(),
});
export type Concept = z.infer<typeof Concept>;

/** A FHIR status CodeableConcept from a fixed code system (clinicalStatus and the like). */
export function statusConcept<const T extends readonly [string, ...string[]]>(system: string, codes: T) {
  return z.looseObject({
    coding: z.array(z.looseObject({ system: z.literal(system), code: z.enum(codes), display: z.string().max(400).optional() })).min(1).max(5),
    text: z.string().max(400).optional(),
  });
}

export const Quantity = z.looseObject({
  value: z.number().finite(),
  unit: z.string().min(1).max(50).optional(),
  system: z.literal(UCUM).optional(),
  code: z.string().min(1).max(50).optional(),
});
export type Quantity = z.infer<typeof Quantity>;

export const Period = z.looseObject({ start: FhirDateTime.optional(), end: FhirDateTime.optional() });

export const Annotation = z.looseObject({ text: FreeText, time: FhirDateTime.optional(), authorString: z.string().max(200).optional() });

/** A reference to another record of this profile (`<section>/<id>`) and/or a display name. */
export const Reference = z.looseObject({ reference: z.string().min(1).max(300).optional(), display: z.string().max(400).optional() });

export const ContactPoint = z.looseObject({
  system: z.enum(['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other']),
  value: z.string().trim().min(1).max(300),
  use: z.enum(['home', 'work', 'temp', 'old', 'mobile']).optional(),
  rank: z.int().positive().optional(),
});

export const HumanName = z.looseObject({
  text: ShortText,
  family: z.string().max(200).optional(),
  given: z.array(z.string().max(200)).max(10).optional(),
  use: z.enum(['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden']).optional(),
});

export const Address = z.looseObject({
  text: FreeText,
  line: z.array(z.string().max(200)).max(5).optional(),
  city: z.string().max(200).optional(),
  postalCode: z.string().max(40).optional(),
  country: z.string().max(100).optional(),
});

export const RecordId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');

/**
 * Where an imported record came from (FHIR Resource.meta, docs/decisions/0029): `source` is the
 * bundle's or resource's meta.source, else the imported file's name, and is shown with the record.
 */
export const RecordMeta = z.looseObject({
  source: z.string().min(1).max(400).optional(),
  versionId: z.string().min(1).max(64).optional(),
  lastUpdated: FhirInstant.optional(),
});

/**
 * App bookkeeping of an imported record (not FHIR; exports leave it out): the identity it was
 * imported under (`key`: source + resource type and id or business identifier), digests of the
 * source resource and of the record as imported (a record that no longer matches `recordDigest`
 * was edited on a device since), and, after a re-import met such an edit, the incoming version
 * waiting for a person to choose (`conflict`).
 */
export const ImportMark = z.looseObject({
  key: z.string().min(1).max(600),
  resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/),
  /** The resource's id in its source, when it had one. */
  sourceId: z.string().min(1).max(64).optional(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  recordDigest: z.string().regex(/^[0-9a-f]{64}$/),
  at: FhirInstant,
  conflict: z.looseObject({ digest: z.string().regex(/^[0-9a-f]{64}$/), at: FhirInstant, record: z.record(z.string(), z.unknown()) }).optional(),
});
export type ImportMark = z.infer<typeof ImportMark>;

/**
 * Fields every record has: its id (the key in a keyed section) and the schema version it was
 * written with; imported records also carry `meta` and `imported` (both optional, so no
 * migration: records written before them are valid as they are).
 */
export const recordBase = { id: RecordId, schemaVersion: z.int().min(1), meta: RecordMeta.optional(), imported: ImportMark.optional() };

// ---- versioning --------------------------------------------------------------------------------

export type Plain = Record<string, unknown>;
/** One step: turns a record of version `from` into one of `from + 1`. */
export type Migration = (data: Plain) => Plain;

export interface RecordKind<S extends z.ZodType = z.ZodType> {
  /** FHIR resourceType this record is shaped as, or an app name for records FHIR has no resource for. */
  readonly kind: string;
  readonly schema: S;
  readonly schemaVersion: number;
  /**
   * Brings `data` written with `fromVersion` up to `schemaVersion`. Records from a newer version
   * are returned unchanged (they are validated as they are, unknown fields kept); `undefined`
   * means there is no path from that version.
   */
  migrate(fromVersion: number, data: Plain): Plain | undefined;
}

export function defineKind<S extends z.ZodType>(o: {
  kind: string;
  schema: S;
  schemaVersion: number;
  /** steps[v] migrates v → v + 1 */
  migrations?: Readonly<Record<number, Migration>>;
}): RecordKind<S> {
  const steps = o.migrations ?? {};
  return {
    kind: o.kind,
    schema: o.schema,
    schemaVersion: o.schemaVersion,
    migrate(fromVersion, data) {
      let out = data;
      for (let v = fromVersion; v < o.schemaVersion; v++) {
        const step = steps[v];
        if (!step) return undefined;
        out = { ...step(out), schemaVersion: v + 1 };
      }
      return out;
    },
  };
}
