/**
 * A readable view of a shared FHIR document (the IPS a link carries) for the viewer: who it is
 * about, and each Composition section's title with its narrative as plain text lines. The
 * narrative is XHTML from a stranger: it is never rendered as markup, only reduced to text
 * (tags dropped, the common entities decoded), so nothing in it can run or load in the page.
 * A section without narrative lists its entries' resource types; anything else that is not a
 * document Bundle is shown as one line naming its resource type.
 */

export interface IpsView {
  readonly title: string;
  readonly date: string | undefined;
  readonly patient: { readonly name: string; readonly birthDate: string | undefined; readonly gender: string | undefined } | undefined;
  readonly sections: ReadonlyArray<{ readonly title: string; readonly lines: readonly string[] }>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const MAX_LINES = 500;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** XHTML narrative → text lines: block ends become line breaks, cells are separated, tags go. */
export function narrativeLines(xhtml: string): string[] {
  const text = xhtml
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|li|tr|h[1-6]|div|table|ul|ol)\s*>/gi, '\n')
    .replace(/<\/t[dh]\s*>/gi, ' · ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
  return text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').replace(/( · )+$/, '').trim())
    .filter((l) => l !== '')
    .slice(0, MAX_LINES);
}

function nameOf(patient: Json): string {
  const names = Array.isArray(patient.name) ? patient.name.filter(isObject) : [];
  const n = names[0];
  if (!n) return 'Unnamed';
  const given = Array.isArray(n.given) ? n.given.filter((g): g is string => typeof g === 'string').join(' ') : '';
  return str(n.text) ?? (`${given} ${str(n.family) ?? ''}`.trim() || 'Unnamed');
}

export function ipsView(resource: unknown): IpsView {
  if (!isObject(resource)) return { title: 'Shared record', date: undefined, patient: undefined, sections: [] };
  const entries = resource.resourceType === 'Bundle' && Array.isArray(resource.entry) ? resource.entry.filter(isObject) : [];
  const resources = entries.map((e) => ({ fullUrl: str(e.fullUrl), resource: isObject(e.resource) ? e.resource : undefined }));
  const composition = resources.find((r) => r.resource?.resourceType === 'Composition')?.resource;
  if (!composition) {
    return { title: `Shared ${str(resource.resourceType) ?? 'record'}`, date: undefined, patient: undefined, sections: [{ title: 'Content', lines: [`A ${str(resource.resourceType) ?? 'FHIR'} resource`] }] };
  }
  const byRef = (ref: unknown): Json | undefined => {
    const target = isObject(ref) ? str(ref.reference) : undefined;
    return target ? resources.find((r) => r.fullUrl === target || (r.resource && `${r.resource.resourceType}/${r.resource.id}` === target))?.resource : undefined;
  };
  const subject = byRef(composition.subject);
  const sections = (Array.isArray(composition.section) ? composition.section.filter(isObject) : []).map((s) => {
    const title = str(s.title) ?? str((s.code as Json | undefined)?.text) ?? 'Section';
    const div = isObject(s.text) ? str(s.text.div) : undefined;
    const fromEntries = (Array.isArray(s.entry) ? s.entry : []).map((ref) => str(byRef(ref)?.resourceType) ?? 'Entry');
    return { title, lines: div ? narrativeLines(div) : fromEntries.length ? fromEntries : ['No information'] };
  });
  return {
    title: str(composition.title) ?? 'Shared health summary',
    date: str(composition.date),
    patient: subject ? { name: nameOf(subject), birthDate: str(subject.birthDate), gender: str(subject.gender) } : undefined,
    sections,
  };
}
