/**
 * The machinery behind every SectionForm: a form is a list of parts, each binding one or a few
 * fields to paths of the record. `fromForm` starts from a copy of the previous record and lets
 * only the parts whose values changed write; so everything else (fields of a newer client,
 * codes behind a free-text name, a timestamp's seconds, a second reaction the form does not
 * show) is kept exactly. Empty inputs remove their field, and containers left empty are pruned.
 */
import { SECTIONS, UCUM, type SectionName } from '../../vault/health.ts';
import { fhirTimeToInput, fhirToDateInput, fhirToLocalInput, localInputToFhir, timeInputToFhir, toLocalInput } from './dates.ts';
import type { FieldSpec, FormContext, FormValues, IssuePath, RecordSummary, SectionForm } from './types.ts';

export type Rec = Record<string, unknown>;
type Value = FormValues[string];

export const isRec = (x: unknown): x is Rec => typeof x === 'object' && x !== null && !Array.isArray(x);
export const str = (x: unknown): string => (typeof x === 'string' ? x : '');
export const text = (x: unknown): string | undefined => (isRec(x) && typeof x.text === 'string' ? x.text : undefined);

/** A deep copy of JSON-like data (works on reactive proxies, unlike structuredClone). */
export function clone<T>(x: T): T {
  if (Array.isArray(x)) return x.map(clone) as T;
  if (isRec(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, clone(v)])) as T;
  return x;
}

export function getIn(r: unknown, path: IssuePath): unknown {
  let cur = r;
  for (const k of path) {
    if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
    else if (isRec(cur) && typeof k === 'string') cur = cur[k];
    else return undefined;
  }
  return cur;
}

/** What a part writes with: `put` records the path so empty containers along it are pruned. */
export interface Writer {
  readonly ctx: FormContext;
  readonly previous: Rec | undefined;
  get(path: IssuePath): unknown;
  /** Sets the value at `path`, creating containers; `undefined` removes it. */
  put(path: IssuePath, value: unknown): void;
}

function writer(out: Rec, ctx: FormContext, previous: Rec | undefined, touched: IssuePath[]): Writer {
  return {
    ctx,
    previous,
    get: (path) => getIn(out, path),
    put(path, value) {
      touched.push(path);
      let cur: unknown = out;
      for (let i = 0; i < path.length - 1; i++) {
        const k = path[i]!;
        const container = cur as Record<string | number, unknown>;
        let next = container[k];
        const wantArray = typeof path[i + 1] === 'number';
        if (wantArray ? !Array.isArray(next) : !isRec(next)) {
          if (value === undefined) return; // nothing there to remove
          next = wantArray ? [] : {};
          container[k] = next;
        }
        cur = next;
      }
      const last = path[path.length - 1]!;
      if (Array.isArray(cur) && typeof last === 'number') {
        // A hole for now: indices of sibling parts stay put until pruning compacts the array.
        if (value === undefined && last >= cur.length) return;
        cur[last] = value;
      } else if (isRec(cur) && typeof last === 'string') {
        if (value === undefined) delete cur[last];
        else cur[last] = value;
      }
    },
  };
}

/** Compacts arrays and removes emptied containers along the touched paths, deepest first. */
function prune(out: Rec, touched: readonly IssuePath[]): void {
  const prefixes = new Map<string, IssuePath>();
  for (const p of touched) for (let n = 1; n <= p.length; n++) prefixes.set(JSON.stringify(p.slice(0, n)), p.slice(0, n));
  const ordered = [...prefixes.values()].sort((a, b) => b.length - a.length);
  for (const p of ordered) {
    const v = getIn(out, p);
    if (Array.isArray(v)) {
      const kept = v.filter((x) => x !== undefined);
      v.length = 0;
      v.push(...kept);
    }
    if ((Array.isArray(v) && v.length === 0) || (isRec(v) && Object.keys(v).length === 0)) {
      const parent = getIn(out, p.slice(0, -1));
      const k = p[p.length - 1]!;
      if (Array.isArray(parent) && typeof k === 'number') parent[k] = undefined;
      else if (isRec(parent) && typeof k === 'string') delete parent[k];
    }
  }
}

// ---- parts ---------------------------------------------------------------------------------------

export interface Part {
  readonly fields: readonly FieldSpec[];
  /** Values of every field of this part (blank when the record has none). */
  read(record: Rec): FormValues;
  write(values: FormValues, w: Writer): void;
}

/** How one field's input value maps to the value at its path. `old` is what is there now. */
export interface Codec {
  read(stored: unknown): Value;
  write(input: Value, old: unknown, w: Writer): unknown;
}

export function blank(field: FieldSpec): Value {
  return field.kind === 'checkbox' ? false : field.kind === 'tags' || field.kind === 'checkboxes' ? [] : '';
}

export const asString = (v: Value | undefined): string => (typeof v === 'string' ? v : '');
export const asList = (v: Value | undefined): string[] => (Array.isArray(v) ? v : typeof v === 'string' && v.trim() ? [v] : []);

/** One field at one path. */
export function field(spec: FieldSpec, path: IssuePath, codec: Codec): Part {
  const f: FieldSpec = { ...spec, paths: spec.paths ?? [path] };
  return {
    fields: [f],
    read: (r) => ({ [f.name]: codec.read(getIn(r, path)) }),
    write(values, w) {
      w.put(path, codec.write(values[f.name] ?? blank(f), w.get(path), w));
    },
  };
}

// ---- codecs ----------------------------------------------------------------------------------------

/** A string; trimmed, empty removes it. */
export const plain: Codec = {
  read: str,
  write: (v) => asString(v).trim() || undefined,
};

/** A Concept edited by its free text. A changed text drops codes that named the old one. */
export const concept: Codec = {
  read: (x) => text(x) ?? '',
  write(v, old) {
    const t = asString(v).trim();
    if (!t) return undefined;
    if (text(old) === t) return old;
    const { text: _t, coding: _c, ...rest } = isRec(old) ? old : {};
    return { ...rest, text: t };
  },
};

/** Concept[] edited as chips of free text; chips that were there keep their codes. */
export const conceptList: Codec = {
  read: (x) => (Array.isArray(x) ? x.map(text).filter((t): t is string => t !== undefined) : []),
  write(v, old) {
    const olds = Array.isArray(old) ? old : [];
    const list = asList(v).map((t) => t.trim()).filter(Boolean);
    return list.length ? list.map((t) => olds.find((c) => text(c) === t) ?? { text: t }) : undefined;
  },
};

/** string[] edited as chips. */
export const stringList: Codec = {
  read: (x) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []),
  write(v) {
    const list = asList(v).map((t) => t.trim()).filter(Boolean);
    return list.length ? list : undefined;
  },
};

/** A code from a choice; when the stored value is an array of codes, use `codes`. */
export const choice: Codec = plain;

/** string[] of codes (checkbox groups). Codes the form does not offer stay in the list. */
export const codes: Codec = stringList;

/** A FHIR status CodeableConcept from `system`. */
export function statusOf(system: string): Codec {
  return {
    read(x) {
      const coding = isRec(x) && Array.isArray(x.coding) ? x.coding : [];
      return str(coding.find((c) => isRec(c) && c.system === system)?.code);
    },
    write(v, old) {
      const code = asString(v);
      if (!code) return undefined;
      const { coding: _c, text: _t, ...rest } = isRec(old) ? old : {};
      return { ...rest, coding: [{ system, code }] };
    },
  };
}

/** A checkbox: unticking an unset box leaves it unset; unticking a set one stores false. */
export const flag: Codec = {
  read: (x) => x === true,
  write: (v, old) => (v === true ? true : old === undefined ? undefined : false),
};

/** Text typed as a number: "37,5" is 37.5; anything else NaN, which validation rejects. */
export function parseNumber(v: Value | undefined): number | undefined {
  const s = asString(v).trim().replace(/\s/g, '');
  if (!s) return undefined;
  if (!/^[-+]?(\d+([.,]\d*)?|[.,]\d+)(e[-+]?\d+)?$/i.test(s)) return Number.NaN;
  return Number(s.replace(',', '.'));
}
export const formatNumber = (x: unknown): string => (typeof x === 'number' && Number.isFinite(x) ? String(x) : '');

export const number: Codec = { read: formatNumber, write: (v) => parseNumber(v) };

/** A FHIR dateTime entered as a local date and time. */
export const dateTime: Codec = {
  read: fhirToLocalInput,
  write: (v) => {
    const s = asString(v).trim();
    return s ? localInputToFhir(s) : undefined;
  },
};

/** A FHIR date, or a dateTime entered as a date (onset, performed): the date as typed. */
export const date: Codec = { read: fhirToDateInput, write: (v) => asString(v).trim() || undefined };

/** FHIR times of day as "HH:MM" chips. */
export const times: Codec = {
  read: (x) => (Array.isArray(x) ? x.map(fhirTimeToInput).filter(Boolean) : []),
  write(v) {
    const list = asList(v).map(timeInputToFhir).filter(Boolean);
    return list.length ? [...new Set(list)].sort() : undefined;
  },
};

/** One entry of a ContactPoint[] by system (the first phone, the first email). */
export function telecom(system: 'phone' | 'email'): Codec {
  return {
    read: (x) => (Array.isArray(x) ? str((x.find((c) => isRec(c) && c.system === system) as Rec | undefined)?.value) : ''),
    write(v, old) {
      const list: unknown[] = Array.isArray(old) ? [...old] : [];
      const i = list.findIndex((c) => isRec(c) && c.system === system);
      const value = asString(v).trim();
      if (value) list[i < 0 ? list.length : i] = i < 0 ? { system, value } : { ...(list[i] as Rec), value };
      else if (i >= 0) list.splice(i, 1);
      return list.length ? list : undefined;
    },
  };
}

/** A HumanName edited by its full text; a changed name drops the parsed family/given parts. */
export const humanName: Codec = {
  read: (x) => text(x) ?? '',
  write(v, old) {
    const t = asString(v).trim();
    if (!t) return undefined;
    if (text(old) === t) return old;
    const { text: _t, family: _f, given: _g, ...rest } = isRec(old) ? old : {};
    return { ...rest, text: t };
  },
};

/** A Reference edited by its display name; a changed name drops the link to the old record. */
export const referenceName: Codec = {
  read: (x) => (isRec(x) ? str(x.display) : ''),
  write(v, old) {
    const t = asString(v).trim();
    if (!t) return undefined;
    if (isRec(old) && old.display === t) return old;
    const { display: _d, reference: _r, ...rest } = isRec(old) ? old : {};
    return { ...rest, display: t };
  },
};

/** A Concept from a short list: stored as its label text plus `system` code; read by code, else by text. */
export function codedChoice(options: readonly { value: string; label: string }[], system?: string): Codec {
  return {
    read(x) {
      if (!isRec(x)) return '';
      const coding = Array.isArray(x.coding) ? x.coding : [];
      const byCode = options.find((o) => coding.some((c) => isRec(c) && (!system || c.system === system) && c.code === o.value));
      if (byCode) return byCode.value;
      const t = str(x.text).trim().toLowerCase();
      return options.find((o) => o.label.toLowerCase() === t || o.value.toLowerCase() === t)?.value ?? '';
    },
    write(v, old) {
      const o = options.find((x) => x.value === asString(v));
      if (!o) return asString(v) ? { text: asString(v) } : undefined;
      const { text: _t, coding: _c, ...rest } = isRec(old) ? old : {};
      return system ? { ...rest, text: o.label, coding: [{ system, code: o.value, display: o.label }] } : { ...rest, text: o.label };
    },
  };
}

// ---- the form ----------------------------------------------------------------------------------------

export interface FormDef {
  section: SectionName;
  title: string;
  singular: string;
  resourceType?: string;
  /** The key of a one-record section (`patient`, `current`). */
  fixedId?: string;
  parts: readonly Part[];
  /** Initial values of a new record beyond blanks. */
  defaults?: (now: Date | undefined) => FormValues;
  /** Fields the schema requires that the form does not ask for, set when missing (after the parts). */
  complete?: (out: Rec, w: Writer) => void;
  summary(record: Rec): RecordSummary;
  issueMessages?: SectionForm['issueMessages'];
}

function same(a: Value | undefined, b: Value | undefined): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = asList(a), y = asList(b);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return (a === true) === (b === true);
  return (a ?? '') === (b ?? '');
}

export function defineForm(def: FormDef): SectionForm {
  const fields = def.parts.flatMap((p) => p.fields);
  const blanks = (): FormValues => Object.fromEntries(fields.map((f) => [f.name, blank(f)]));
  const version = SECTIONS[def.section].schemaVersion;
  return {
    section: def.section,
    title: def.title,
    singular: def.singular,
    fields,
    issueMessages: def.issueMessages,
    empty: (now) => ({ ...blanks(), ...def.defaults?.(now) }),
    toForm(record) {
      const values = blanks();
      for (const p of def.parts) Object.assign(values, p.read(record));
      return values;
    },
    fromForm(input, ctx, previous) {
      // Hidden fields count as empty: their stale values are not written.
      const values: FormValues = { ...input };
      for (const f of fields) if (f.visible && !f.visible(input)) values[f.name] = blank(f);
      const prev = previous ? clone(previous) : undefined;
      const prevVersion = typeof prev?.schemaVersion === 'number' ? prev.schemaVersion : 0;
      const head: Rec = {
        id: typeof prev?.id === 'string' ? prev.id : (def.fixedId ?? ctx.newId()),
        // A newer client's record keeps its version: its fields are all still there.
        schemaVersion: Math.max(version, prevVersion),
      };
      if (def.resourceType) head.resourceType = def.resourceType;
      const out: Rec = { ...head, ...prev, ...head };
      const touched: IssuePath[] = [];
      const w = writer(out, ctx, previous, touched);
      for (const part of def.parts) {
        if (prev) {
          const before = part.read(prev);
          if (part.fields.every((f) => same(before[f.name], values[f.name] ?? blank(f)))) continue;
        }
        part.write(values, w);
      }
      def.complete?.(out, w);
      prune(out, touched);
      return out;
    },
    summary: def.summary,
  };
}

// ---- shared field helpers ----------------------------------------------------------------------------

export const opts = (...pairs: (readonly [string, string])[]): readonly { value: string; label: string }[] => pairs.map(([value, label]) => ({ value, label }));

/** The first annotation's text (further notes are kept as they are). */
export function notePart(label = 'Notes', name = 'note'): Part {
  const path = ['note', 0];
  return field({ name, label, kind: 'textarea' }, path, {
    read: (x) => text(x) ?? '',
    write(v, old) {
      const t = asString(v).trim();
      if (!t) return undefined;
      if (text(old) === t) return old;
      return { ...(isRec(old) ? old : {}), text: t };
    },
  });
}

/** A datetime-local default of `now`, for fields that start at the present. */
export const nowInput = (now: Date | undefined): string => (now ? toLocalInput(now) : '');

export function labelOf(options: readonly { value: string; label: string }[], value: unknown): string | undefined {
  return options.find((o) => o.value === value)?.label;
}

/** A summary's `when`: the first string among the candidates. */
export const firstString = (...xs: unknown[]): string | undefined => xs.find((x): x is string => typeof x === 'string' && x !== '');

export const compact = (xs: (string | undefined | false)[]): string[] => xs.filter((x): x is string => typeof x === 'string' && x !== '');

/**
 * An amount and its unit, one Quantity at `path`: `{ value, unit, system: UCUM, code }`.
 * A unit without an amount is kept, so validation asks for the amount.
 */
export function quantityPart(amount: FieldSpec, unit: FieldSpec, path: IssuePath, units: readonly { value: string; label: string }[]): Part {
  const a: FieldSpec = { ...amount, paths: [path, [...path, 'value']] };
  const u: FieldSpec = { ...unit, options: unit.options ?? units, paths: [[...path, 'unit'], [...path, 'code'], [...path, 'system']] };
  return {
    fields: [a, u],
    read(r) {
      const q = getIn(r, path);
      return { [a.name]: isRec(q) ? formatNumber(q.value) : '', [u.name]: isRec(q) ? str(q.code) || str(q.unit) : '' };
    },
    write(values, w) {
      const value = parseNumber(values[a.name]);
      const code = asString(values[u.name]);
      if (value === undefined && !code) return w.put(path, undefined);
      const old = w.get(path);
      const { value: _v, unit: _u, system: _s, code: _c, ...rest } = isRec(old) ? old : {};
      const q: Rec = { ...rest };
      if (value !== undefined) q.value = value;
      if (code) Object.assign(q, { unit: units.find((x) => x.value === code)?.label ?? code, system: UCUM, code });
      w.put(path, q);
    },
  };
}
