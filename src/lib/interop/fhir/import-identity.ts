/**
 * Who an imported resource is, and whether it changed (docs/decisions/0029). Identity is the
 * source plus the resource's type and id (else its first business identifier, else its
 * content), so the same file imported twice lands on the same records; the record id is a hash
 * of that identity, so ids from two sources never collide and nothing of the source shows in it.
 */
import { hashWithDomain, toHex, utf8 } from '../../crypto/index.ts';
import { isObject, objects, str, type Json } from './import-values.ts';

/** JSON text with object keys sorted, so equal content has one digest whatever the key order. */
export function canonicalJson(v: unknown): string {
  const out: string[] = [];
  writeCanonical(v, out);
  return out.join('');
}

// Appends to one array of parts: string concatenation per level was most of a plan's time (S9).
function writeCanonical(v: unknown, out: string[]): void {
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      writeCanonical(v[i], out);
    }
    out.push(']');
  } else if (isObject(v)) {
    out.push('{');
    let first = true;
    for (const k of Object.keys(v).sort()) {
      if (v[k] === undefined) continue;
      out.push(first ? '' : ',', JSON.stringify(k), ':');
      first = false;
      writeCanonical(v[k], out);
    }
    out.push('}');
  } else {
    out.push(JSON.stringify(v) ?? 'null');
  }
}

export const digestOf = (v: unknown): string => toHex(hashWithDomain('fhv-import-digest', utf8(canonicalJson(v))));

/** The identity key of a resource from `source`. */
export function identityOf(source: string, resource: Json): string {
  const type = resource.resourceType as string;
  if (typeof resource.id === 'string') return `${source}|${type}/${resource.id}`;
  const id = objects(resource.identifier).find((i) => str(i.value) !== undefined);
  if (id) return `${source}|${type}|${str(id.system) ?? ''}|${id.value as string}`;
  return `${source}|${type}#${digestOf(resource)}`;
}

/** The profile record id for an identity: 32 hex characters, the same on every device. */
export const recordIdOf = (key: string): string => toHex(hashWithDomain('fhv-import-id', utf8(key))).slice(0, 32);

/** A family name as compared for a patient match: letters only, lower case, accents removed. */
export function normalisedFamily(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const n = name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^\p{L}]/gu, '');
  return n === '' ? undefined : n;
}

/**
 * Whether an incoming Patient is another person than the profile's: birth dates both known and
 * different (compared to the shorter precision), or normalised family names both known and different.
 */
export function patientMismatch(existing: Json | undefined, incoming: Json): boolean {
  if (!existing) return false;
  const a = str(existing.birthDate);
  const b = str(incoming.birthDate);
  if (a !== undefined && b !== undefined) {
    const n = Math.min(a.length, b.length);
    if (a.slice(0, n) !== b.slice(0, n)) return true;
  }
  const familyOf = (p: Json) => normalisedFamily(objects(p.name).map((x) => str(x.family)).find((f) => f !== undefined));
  const fa = familyOf(existing);
  const fb = familyOf(incoming);
  return fa !== undefined && fb !== undefined && fa !== fb;
}
