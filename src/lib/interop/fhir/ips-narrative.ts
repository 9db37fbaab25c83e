/**
 * Narrative for IPS sections (FHIR Narrative: an XHTML div): one line per entry, built from the
 * entry's own coded text. Everything from a record is escaped, so a note cannot inject markup.
 */
import type { Json } from './export-source.ts';

const XHTML = 'http://www.w3.org/1999/xhtml';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export interface Narrative {
  readonly status: 'generated';
  readonly div: string;
}

/** A section's narrative: a list of its entries' summaries, or a sentence saying it is empty. */
export function sectionNarrative(lines: readonly string[], empty: string): Narrative {
  const body = lines.length === 0 ? `<p>${escapeXml(empty)}</p>` : `<ul>${lines.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>`;
  return { status: 'generated', div: `<div xmlns="${XHTML}">${body}</div>` };
}

const text = (c: unknown): string | undefined => {
  const concept = c as { text?: string; coding?: { display?: string; code?: string }[] } | undefined;
  return concept?.text ?? concept?.coding?.[0]?.display ?? concept?.coding?.[0]?.code;
};
const statusOf = (c: unknown): string | undefined => (c as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code;
const quantity = (q: unknown): string | undefined => {
  const v = q as { value?: number; unit?: string; code?: string } | undefined;
  return v?.value === undefined ? undefined : `${v.value} ${v.unit ?? v.code ?? ''}`.trim();
};
const join = (head: string | undefined, ...details: (string | undefined)[]): string => {
  const rest = details.filter((d): d is string => !!d);
  return `${head ?? 'unnamed'}${rest.length ? ` (${rest.join(', ')})` : ''}`;
};

/** One line for a resource in a section's narrative: what it is, then its status and date. */
export function summaryOf(r: Json): string {
  switch (r.resourceType) {
    case 'Condition':
      return join(text(r.code), statusOf(r.clinicalStatus), r.onsetDateTime ? `since ${String(r.onsetDateTime)}` : undefined);
    case 'AllergyIntolerance':
      return join(text(r.code), r.criticality ? `criticality ${String(r.criticality)}` : undefined, ...((r.reaction as { manifestation: unknown[] }[] | undefined) ?? []).flatMap((x) => x.manifestation.map(text)));
    case 'MedicationStatement':
      return join(text(r.medicationCodeableConcept), String(r.status), ...((r.dosage as { text?: string }[] | undefined) ?? []).map((d) => d.text));
    case 'Immunization':
      return join(text(r.vaccineCode), String(r.status), String(r.occurrenceDateTime));
    case 'Observation':
      return join(text(r.code), quantity(r.valueQuantity) ?? (r.valueString as string | undefined) ?? text(r.valueCodeableConcept) ?? componentValues(r), r.effectiveDateTime as string | undefined);
    case 'Procedure':
      return join(text(r.code), String(r.status), r.performedDateTime as string | undefined);
    case 'DeviceUseStatement':
      return join((r.device as { display?: string }).display, String(r.status));
    case 'Flag':
      return join(text(r.code), String(r.status));
    case 'Consent': {
      const period = (r.provision as { period?: { start?: string; end?: string } } | undefined)?.period;
      return join(text((r.category as unknown[])[0]), String(r.status), r.dateTime ? `signed ${String(r.dateTime)}` : undefined, period?.end ? `until ${period.end}` : undefined);
    }
    case 'DiagnosticReport':
      return join(text(r.code), String(r.status), (r.effectiveDateTime as string | undefined) ?? (r.issued as string | undefined), r.conclusion as string | undefined);
    default:
      return String(r.resourceType);
  }
}

function componentValues(r: Json): string | undefined {
  const parts = ((r.component as { code: unknown; valueQuantity?: unknown }[] | undefined) ?? []).map((c) => `${text(c.code) ?? ''} ${quantity(c.valueQuantity) ?? ''}`.trim());
  return parts.length ? parts.join(' / ') : undefined;
}
